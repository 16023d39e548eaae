/*
 * toml.h - TOML 1.0.0 parser: a typed tree and the flattened Stalwart view.
 *
 * toml_parse() reads a whole document from memory and either returns a new document or
 * fails with "NAME:LINE:COLUMN: message" (1-based line and column, columns counted in
 * characters).  The document is immutable once returned and may be read from several
 * threads at once; it owns every string it hands out, which live until toml_free().
 *
 * Two views of one document:
 *   - the typed tree (toml_doc_root() and the toml_value_* accessors): tables keep the
 *     insertion order of their keys; scalars keep their decoded value and text;
 *   - the flat view (toml_flat_*): Stalwart's dialect, an ordered list of dotted keys
 *     ("report.tls.aggregate.send", "sign.0000", "send.0001.else") to scalar texts.
 *     Table header names are lower-cased, keys are kept as written, array items get
 *     4-digit indices, empty arrays and tables produce no entry.  Two TOML keys that
 *     flatten to the same dotted key are an error.
 */
#ifndef TLSRPTD_CONFIG_TOML_H
#define TLSRPTD_CONFIG_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

enum toml_type {
	TOML_STRING,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_DATETIME,       /* offset date-time: 1979-05-27T07:32:00Z */
	TOML_DATETIME_LOCAL, /* 1979-05-27T07:32:00 */
	TOML_DATE_LOCAL,     /* 1979-05-27 */
	TOML_TIME_LOCAL,     /* 07:32:00 */
	TOML_ARRAY,
	TOML_TABLE
};

struct toml_doc;   /* opaque */
struct toml_value; /* opaque: one node of the typed tree, owned by its document */

/*
 * Caps.  max_size: largest input accepted (default 4 MiB).  max_depth: deepest nesting
 * of the tree (arrays, inline tables and tables, counted from the root; default 128,
 * at most TOML_MAX_DEPTH so that the bounded recursion stays small).  A zero field means
 * its default.
 */
struct toml_limits {
	size_t max_size;
	unsigned max_depth;
};

#define TOML_DEFAULT_MAX_SIZE ((size_t)4 * 1024 * 1024)
#define TOML_DEFAULT_MAX_DEPTH 128u
#define TOML_MAX_DEPTH 1000u

/*
 * Parses data[0..len).  name is used in error messages (e.g. the file path; NULL gives
 * "<input>").  lim may be NULL (defaults).  On success *out is a new document (free
 * with toml_free) and 0 is returned; on failure a negative code (ERR_INVALID, or
 * ERR_TOOBIG for an input over max_size), *out is NULL and e->msg is
 * "NAME:LINE:COL: message" ("NAME: message" for the size cap).  Never aborts on input.
 */
int toml_parse(const char *name, const char *data, size_t len, const struct toml_limits *lim,
               struct toml_doc **out, struct err *e);

/*
 * Like toml_parse() but builds only the typed tree: the flat view stays empty and keys
 * that would collide once flattened (e.g. [A] and [a]) are accepted, as TOML allows.
 * For tools that need plain TOML (the toml-test decoder).
 */
int toml_parse_tree(const char *name, const char *data, size_t len, const struct toml_limits *lim,
                    struct toml_doc **out, struct err *e);

/* Frees the document and everything it handed out.  NULL is a no-op. */
void toml_free(struct toml_doc *doc);

/* The name given to toml_parse() (owned by doc). */
const char *toml_doc_name(const struct toml_doc *doc);

/* ---------------------------------------------------------------- flat view */

struct toml_flat {
	const char *key;     /* dotted, e.g. "report.tls.aggregate.send", "sign.0000" */
	const char *value;   /* NUL-terminated text; owned by the doc */
	size_t value_len;    /* strings may contain NUL via \u0000 */
	enum toml_type type; /* a scalar type, never ARRAY/TABLE */
	unsigned line, col;  /* 1-based position of the value in the file */
};

/*
 * Value texts: strings decoded; integers in decimal ("26214400" for 0x1900000);
 * floats normalized ("1.5", "3.0", "1e+100", "inf", "-inf", "nan"); booleans
 * "true"/"false"; date-times as written.
 */
size_t toml_flat_count(const struct toml_doc *doc);
/* Entry i (0 <= i < count) in document order; the pointer lives as long as doc. */
const struct toml_flat *toml_flat_at(const struct toml_doc *doc, size_t i);
/* The entry with this exact dotted key, or NULL. */
const struct toml_flat *toml_flat_find(const struct toml_doc *doc, const char *key);

/* ---------------------------------------------------------------- typed tree */

/*
 * Nodes are owned by the document and live until toml_free().  toml_value_type() and
 * toml_value_pos() need a non-NULL node; the other accessors accept NULL.
 */

/* The root table. */
const struct toml_value *toml_doc_root(const struct toml_doc *doc);

enum toml_type toml_value_type(const struct toml_value *v);
/* 1-based position of the value (for tables: of the header or key that created it). */
void toml_value_pos(const struct toml_value *v, unsigned *line, unsigned *col);
/* Number of entries of a table or items of an array; 0 for scalars. */
size_t toml_value_count(const struct toml_value *v);
/* Item i of an array or the value of entry i of a table (insertion order), or NULL. */
const struct toml_value *toml_value_at(const struct toml_value *v, size_t i);
/* Key of entry i of a table (decoded; may contain NUL, see *len), or NULL. */
const char *toml_value_key(const struct toml_value *v, size_t i, size_t *len);
/* The value under key (exact bytes, one segment, not dotted) in table v, or NULL. */
const struct toml_value *toml_value_get(const struct toml_value *v, const char *key,
                                        size_t key_len);
/*
 * Scalar text as in the flat view (see above), NUL-terminated, length in *len (may be
 * NULL).  NULL for arrays and tables.
 */
const char *toml_value_text(const struct toml_value *v, size_t *len);
/* Scalar text exactly as written in the file (numbers, booleans, date-times); strings
 * give their decoded text.  NULL for arrays and tables. */
const char *toml_value_raw(const struct toml_value *v);
int64_t toml_value_int(const struct toml_value *v);  /* 0 unless TOML_INTEGER */
double toml_value_float(const struct toml_value *v); /* 0 unless TOML_FLOAT */
bool toml_value_bool(const struct toml_value *v);    /* false unless TOML_BOOL */

/* "string", "integer", ..., "table": the name used in messages. */
const char *toml_type_name(enum toml_type t);

#endif
