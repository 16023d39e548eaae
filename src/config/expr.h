/*
 * expr.h - Stalwart's configuration expression language: compile once, evaluate often.
 *
 * Syntax (see ../shared/spec/stalwart-config.md):
 *   literals    'single quoted' or "double quoted" strings with \' \" \\ \n \t \r
 *               escapes; integers (64-bit) and decimals (1.5); true, false;
 *               lists [a, b, ...]
 *   variables   names given by the key's context (rcpt_domain, mx, remote_ip, ...)
 *   operators   by precedence, lowest first:  ||   &&   == != < <= > >=   + -   * /
 *               unary ! and -; parentheses.  All binary operators are left-associative.
 *   functions   config_get(key), key_get(store, key), is_empty(x), contains(list|str, x),
 *               starts_with(s, p), ends_with(s, p), lower(s), upper(s),
 *               concat(a, b, ...), parent_domain(name) (our extension: "mx.example.org"
 *               -> "example.org"; names with fewer than three labels are returned as is)
 *
 * Bare constants: when EXPR_BARE is given and the whole (trimmed) text is one word of
 * the characters [A-Za-z0-9_.-] starting with a letter, that is not `true`/`false` and
 * not one of the context's variable names, the expression is the constant string
 * itself.  So `send = "daily"` is the string "daily" while `"rcpt_domain"` is the
 * variable.  Every other text must parse as an expression; an identifier that is
 * neither a variable nor a function is then a syntax error ("unknown variable").
 *
 * Semantics: `+` concatenates when either side is a string (numbers and booleans are
 * formatted, e.g. 'a' + 1 = "a1"); otherwise it adds numbers.  Integer arithmetic that
 * overflows, division by zero, and operators on lists are evaluation errors.
 * Comparisons compare numbers numerically, strings bytewise, anything else by its text.
 * Truth: false, 0, 0.0, "" and [] are false; everything else is true.  A variable the
 * evaluation context does not supply evaluates to "".
 *
 * Caps: source length EXPR_MAX_LEN bytes, nesting depth EXPR_MAX_DEPTH, any string
 * value EXPR_MAX_STRING bytes, any list EXPR_MAX_LIST items.  Nothing here aborts on
 * input; every failure is a return code and a message.
 *
 * Thread safety: a compiled struct expr is immutable; several threads may evaluate it
 * at once as long as their callbacks are thread-safe.
 */
#ifndef TLSRPTD_CONFIG_EXPR_H
#define TLSRPTD_CONFIG_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

enum {
	EXPR_MAX_LEN = 4096,
	EXPR_MAX_DEPTH = 64, /* parentheses count twice: about 30 levels */
	EXPR_MAX_STRING = 65536,
	EXPR_MAX_LIST = 256,
};

enum expr_type {
	EXPR_STRING,
	EXPR_INTEGER,
	EXPR_FLOAT,
	EXPR_BOOL,
	EXPR_LIST,
};

/* A value.  Owns its memory: release with expr_value_clear(). */
struct expr_value {
	enum expr_type type;
	union {
		struct {
			char *p; /* NUL-terminated, p[len] == '\0' */
			size_t len;
		} s;
		int64_t i;
		double f;
		bool b;
		struct {
			struct expr_value *items;
			size_t n;
		} list;
	} u;
};

/* Frees what v owns and leaves it the empty string (safe to clear twice). */
void expr_value_clear(struct expr_value *v);
/* Sets v (which must hold nothing) to a copy of s[0..len). */
void expr_value_set_string(struct expr_value *v, const char *s, size_t len);
/* Deep copy of src into dst (which must hold nothing). */
void expr_value_copy(struct expr_value *dst, const struct expr_value *src);
/*
 * Appends the text form of v to b: strings as they are, numbers in decimal, booleans
 * as true/false, lists as ["a", 1] (strings quoted, \" and \\ escaped).
 * Returns 0 or BUF_ETOOBIG.
 */
int expr_value_format(const struct expr_value *v, struct buf *b);
/* The truth value of v (see above). */
bool expr_value_truthy(const struct expr_value *v);

/* Compile flags. */
enum {
	EXPR_BARE = 1, /* accept a bare word as a constant string (see above) */
};

/* What a key's expression may refer to, given at compile time. */
struct expr_opts {
	const char *const *vars; /* variable names the context provides */
	size_t nvars;
	unsigned flags; /* EXPR_BARE */
};

/* A variable's value at evaluation time. */
struct expr_var {
	const char *name;
	const char *value;
};

/*
 * The evaluation context.  config_get and key_get may be NULL (the functions then
 * evaluate to "").  They fill *out (which holds nothing on entry) and return 0, or
 * return a negative code with a message in e.
 */
struct expr_env {
	const struct expr_var *vars;
	size_t nvars;
	int (*config_get)(void *arg, const char *key, struct expr_value *out, struct err *e);
	int (*key_get)(void *arg, const char *store, const char *key, struct expr_value *out,
	               struct err *e);
	void *arg;
};

struct expr;

/*
 * Compiles src[0..len) (need not be NUL-terminated).  opts may be NULL (no variables,
 * no bare constants).  On success returns 0 and *out (caller frees with expr_free).
 * On failure returns ERR_INVALID (or ERR_TOOBIG) and e->msg reads
 * "expression column N: message" where N is the 1-based byte column in src.
 */
int expr_compile(const char *src, size_t len, const struct expr_opts *opts, struct expr **out,
                 struct err *e);
void expr_free(struct expr *x);

/* True when the expression refers to no variable (it may call config_get/key_get). */
bool expr_is_constant(const struct expr *x);
/* True when the expression is a bare constant or a literal. */
bool expr_is_literal(const struct expr *x);

/*
 * Evaluates x.  On success returns 0 and fills *out (which must hold nothing; caller
 * clears it).  On failure returns a negative code, *out holds nothing, and e->msg says
 * why ("division by zero", ...).  Never aborts.
 */
int expr_eval(const struct expr *x, const struct expr_env *env, struct expr_value *out,
              struct err *e);

#endif
