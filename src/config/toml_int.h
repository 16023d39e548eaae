/*
 * toml_int.h - internals shared by toml_lex.c, toml_parse.c and toml_doc.c.
 * Not for use outside src/config/toml*.c.
 */
#ifndef TLSRPTD_CONFIG_TOML_INT_H
#define TLSRPTD_CONFIG_TOML_INT_H

#include "config/toml.h"

#include "util/buf.h"
#include "util/hash.h"

/* Table flags (see toml_parse.c for the rules they enforce). */
enum {
	TN_EXPLICIT = 1, /* defined by a [header] */
	TN_DOTTED = 2,   /* created or extended by dotted keys in section `section` */
	TN_FROZEN = 4,   /* inline table or static array: immutable */
	TN_AOT = 8,      /* array created by [[header]] */
};

struct toml_entry {
	char *key; /* decoded, NUL-terminated (may contain NUL) */
	size_t klen;
	struct toml_value *val;
};

struct toml_value {
	enum toml_type type;
	unsigned flags;
	unsigned line, col;
	unsigned depth;   /* 0 for the root */
	unsigned section; /* for TN_DOTTED */
	/* scalars */
	char *text; /* flat text, NUL-terminated */
	size_t text_len;
	char *raw; /* as written (NULL for strings: text is used) */
	int64_t i;
	double f;
	bool b;
	/* containers */
	size_t n, cap;
	struct toml_value **items; /* arrays */
	struct toml_entry **ents;  /* tables */
	struct hmap index;         /* tables with many keys */
};

struct toml_doc {
	char *name;
	struct toml_value *root;
	struct toml_value **nodes; /* every node, for freeing without recursion */
	size_t nnodes, capnodes;
	struct toml_flat *flat;
	size_t nflat, capflat;
	struct hmap flat_index; /* items: (void *)(index + 1) */
};

struct toml_parser {
	const char *name;
	const char *s;
	size_t len;
	size_t pos;
	size_t max_size;
	unsigned max_depth;
	struct err *e;
	struct toml_doc *doc;
	unsigned section;       /* id of the current table section */
	unsigned ids;           /* last id given to a section or inline table */
	struct toml_value *cur; /* table of the current section */
	struct buf prefix;      /* flat key of the current section */
	struct buf key;         /* flat key being built */
	bool no_flat;           /* toml_parse_tree(): no flat view */
	size_t flat_bytes, flat_max;
	/* monotonic position cursor */
	size_t cur_off;
	unsigned cur_line, cur_col;
	size_t bom;
};

/* One key segment (decoded) and where it starts. */
struct toml_seg {
	char *s;
	size_t len;
	size_t off;
	unsigned line, col;
};

struct toml_keypath {
	struct toml_seg *v;
	size_t n, cap;
};

/* Character helpers. */
static inline int
peek(const struct toml_parser *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static inline int
peek_at(const struct toml_parser *p, size_t off)
{
	return off < p->len ? (unsigned char)p->s[off] : -1;
}

static inline bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static inline bool
is_bare(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
	       c == '-';
}

/* Control characters TOML forbids in strings and comments (tab is allowed). */
static inline bool
is_control(int c)
{
	return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

static inline int
hex_val(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* toml_lex.c */
int toml_err_at(struct toml_parser *p, size_t off, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void toml_pos(struct toml_parser *p, size_t off, unsigned *line, unsigned *col);
void toml_describe(struct toml_parser *p, size_t off, char *out, size_t cap);
void toml_repr(const char *s, size_t len, char *out, size_t cap);
void toml_skip_ws(struct toml_parser *p);
int toml_comment(struct toml_parser *p);
int toml_eol(struct toml_parser *p, const char *after);
int toml_key(struct toml_parser *p, struct toml_keypath *kp);
int toml_string(struct toml_parser *p, struct buf *out, bool *multi);
void toml_keypath_clear(struct toml_keypath *kp);

/* toml_scalar.c */
int toml_scalar(struct toml_parser *p, struct toml_value *v);

/* toml_doc.c */
struct toml_value *toml_node_new(struct toml_doc *doc, enum toml_type t, unsigned depth);
struct toml_entry *toml_table_find(const struct toml_value *t, const char *k, size_t klen);
void toml_table_add(struct toml_value *t, const char *k, size_t klen, struct toml_value *v);
void toml_array_add(struct toml_value *a, struct toml_value *v);
int toml_flatten(struct toml_parser *p, const struct toml_value *v);

#endif
