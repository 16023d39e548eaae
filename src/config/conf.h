/*
 * conf.h - the loaded configuration: one declarative table of keys (conf_table.c),
 * loading from TOML (Stalwart dialect), typed getters and expression evaluation.
 *
 * Loading reads the file, flattens it (toml.h), matches every key against conf_keys[],
 * converts and validates each value, substitutes %{file:/path}% and %{env:NAME}%,
 * compiles expressions, evaluates the constant ones to validate them, and runs the
 * cross-key checks.  EVERY error is collected, one line each, in the form
 *   FILE:LINE: KEY: message
 * ("tlsrptd.toml:12: report.tls.aggregate.send: expected hourly|daily|weekly|never");
 * loading fails when there is any.  Keys of the sections we own that the table does not
 * know are errors with a "did you mean" hint; keys of other Stalwart subsystems
 * (server.listener.*, queue.*, storage.*, ...) are ignored.
 *
 * Types: durations are a number and a unit (100ms, 30s, 5m, 1h, 1d, 7d, 2w); sizes are a
 * number of bytes with an optional 1024-based unit (512, 1kb, 25mb, 1gb; k, m, g too);
 * booleans true/false; modes octal strings ("0660").  The substituted text of a
 * %{file:}% has its trailing CR/LF removed.
 *
 * The loaded struct conf is immutable: any number of threads may read it at once.
 * Reload builds a new one and swaps it in.  Note: loading does I/O (the file, %{file}%,
 * gethostname); evaluation and getters do none.
 */
#ifndef TLSRPTD_CONFIG_CONF_H
#define TLSRPTD_CONFIG_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/expr.h"
#include "report/window.h"
#include "util/buf.h"
#include "util/err.h"

enum conf_type {
	CONF_STRING,
	CONF_PATH,     /* a file system path (a string) */
	CONF_INTEGER,  /* int64 within [min, max] */
	CONF_SIZE,     /* bytes within [min, max] */
	CONF_DURATION, /* milliseconds within [min, max] */
	CONF_BOOL,
	CONF_ENUM,  /* one of choices ("a|b|c") */
	CONF_MODE,  /* octal permission bits, at most 0777 */
	CONF_LIST,  /* TOML array of strings (or one string) */
	CONF_EXPR,  /* an expression, possibly an if/then/else block */
	CONF_MACRO, /* internal: free-form (lookup.<store>.<key>) */
};

enum {
	CONF_F_SECRET = 1,   /* printed as <hidden>, never logged */
	CONF_F_REQUIRED = 2, /* in a <id> group: must be given when the group exists */
};

/*
 * One key.  name may hold one `*` segment standing for an id chosen by the operator
 * (signature.*.domain).  def is the default as source text (NULL: none; for lists,
 * items separated by ", "); min/max bound integers, sizes (bytes) and durations (ms),
 * ignored when both are 0.  vars: the variables an expression key may use, separated
 * by spaces.  validate checks a converted value (for an expression key, the value of
 * each constant branch; for a list, each item) and writes a message without key or
 * line into e.
 */
struct conf_key {
	const char *name;
	enum conf_type type;
	const char *def;
	int64_t min, max;
	const char *choices;
	const char *vars;
	int (*validate)(const struct expr_value *v, struct err *e);
	unsigned flags;
	const char *desc;
};

/* THE table (conf_table.c), and the number of entries. */
extern const struct conf_key conf_keys[];
extern const size_t conf_nkeys;

/*
 * True when key belongs to a section we own (unknown keys there are errors); false for
 * keys of other subsystems, which are ignored.
 */
bool conf_key_is_ours(const char *key);

struct conf;

/* Caps for loading. */
enum {
	CONF_MAX_FILE = 1 << 20,     /* the configuration file, and each %{file:}% */
	CONF_MAX_ERRORS_TEXT = 65536 /* the collected error text */
};

/*
 * Loads configuration text data[0..len) named name (used in messages).  On success
 * returns 0 and *out (caller frees with conf_free).  On failure returns ERR_INVALID,
 * *out = NULL, every error is appended to errs (one line each, '\n'-terminated; errs may
 * be NULL) and e->msg holds the first one.
 */
int conf_parse(const char *name, const char *data, size_t len, struct conf **out, struct buf *errs,
               struct err *e);
/* Like conf_parse on the contents of the file at path (name = path). */
int conf_load(const char *path, struct conf **out, struct buf *errs, struct err *e);
void conf_free(struct conf *c);

/* The file name given when loading. */
const char *conf_name(const struct conf *c);

/*
 * Typed getters for keys of the matching type (full names, e.g. "signature.rsa.domain").
 * A key that is not in the table or has another type is a programming error: the getters
 * then return NULL / 0 / false.  Strings live as long as c; conf_str returns NULL for
 * a key with no value and no default.
 */
const char *conf_str(const struct conf *c, const char *key);
int64_t conf_int(const struct conf *c, const char *key); /* integers and modes */
uint64_t conf_size(const struct conf *c, const char *key);
int64_t conf_duration_ms(const struct conf *c, const char *key);
bool conf_bool(const struct conf *c, const char *key);
const char *conf_enum(const struct conf *c, const char *key);
/* Items of a list key; *n receives the count.  The array lives as long as c. */
const char *const *conf_list(const struct conf *c, const char *key, size_t *n);
/* True when the key was given in the file (not defaulted). */
bool conf_is_set(const struct conf *c, const char *key);

/*
 * The ids of a `<id>` group, e.g. conf_ids(c, "signature", &n) lists "rsa", "ed25519"
 * for [signature.rsa] and [signature.ed25519], in file order.  Lives as long as c.
 */
const char *const *conf_ids(const struct conf *c, const char *group, size_t *n);

/*
 * Evaluates expression key `key` with the variables vars[0..nvars) (e.g. rcpt_domain):
 * the first if whose condition is true gives the value, else the else branch, else the
 * default.  Returns 0 and fills *out (caller clears with expr_value_clear), ERR_NOTFOUND
 * when the key has no value and no default, or another negative code with a message.
 */
int conf_eval(const struct conf *c, const char *key, const struct expr_var *vars, size_t nvars,
              struct expr_value *out, struct err *e);
/* The value as a string (numbers and booleans formatted; a list is an error).  Caller frees *out. */
int conf_eval_string(const struct conf *c, const char *key, const struct expr_var *vars,
                     size_t nvars, char **out, struct err *e);
/*
 * The value as a list of strings (a string is a one-item list, "" an empty one).
 * Caller frees with conf_strv_free(*items, *n).
 */
int conf_eval_list(const struct conf *c, const char *key, const struct expr_var *vars, size_t nvars,
                   char ***items, size_t *n, struct err *e);
void conf_strv_free(char **items, size_t n);
/* report.tls.aggregate.send for the given variables (false means never). */
int conf_eval_send(const struct conf *c, const struct expr_var *vars, size_t nvars,
                   enum window_period *out, struct err *e);

/*
 * Appends every effective value to out, one per line in table order: `key = value`,
 * `  # default` after defaulted values, secrets as <hidden>, keys with no value as
 * `# key is not set`.  Returns 0 or BUF_ETOOBIG.
 */
int conf_dump(const struct conf *c, struct buf *out);

/*
 * Appends the reference of every key of the table (name, type, bounds, description,
 * default), as TOML comments.  Returns 0 or BUF_ETOOBIG.
 */
int conf_describe(struct buf *out);

#endif
