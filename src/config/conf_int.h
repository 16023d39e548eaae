/*
 * conf_int.h - internals shared by conf.c (loading), conf_value.c (conversions,
 * substitution) and conf_get.c (getters, evaluation, dump).  Not for other modules.
 */
#ifndef TLSRPTD_CONFIG_CONF_INT_H
#define TLSRPTD_CONFIG_CONF_INT_H

#include "config/conf.h"
#include "config/toml.h"

struct conf_branch {
	struct expr *cond, *value;
	unsigned line, then_line;
};

/* One effective key: a table key, an instance of an <id> key, or a lookup entry. */
struct conf_item {
	const struct conf_key *key;
	char *name;
	char *display;  /* value text for conf_dump (original text, before substitution) */
	bool set;       /* given in the file */
	bool has_value; /* given or defaulted */
	unsigned line;  /* of the first entry in the file; 0 for defaults */
	char *str;      /* strings, paths, enums, lookups: the substituted text */
	int64_t num;    /* integers, sizes (bytes), durations (ms), modes, booleans */
	char **list;    /* lists */
	size_t nlist;
	struct expr *expr;     /* expressions: the single value given */
	struct expr *def_expr; /* expressions: the compiled default */
	struct conf_branch *br;
	size_t nbr;
	struct expr *otherwise;
	bool has_else;
	unsigned else_line;
};

struct conf_group {
	char *prefix; /* "signature." */
	char *name;   /* "signature" */
	char **ids;
	unsigned *lines;
	size_t n;
};

struct conf {
	char *name;
	struct conf_item *items;
	size_t n, cap;
	char hostname[256];
	struct conf_group *groups;
	size_t ngroups;
};

enum conf_part { PART_PLAIN, PART_ITEM, PART_IF, PART_THEN, PART_ELSE };

struct raw_entry {
	const struct toml_flat *f;
	enum conf_part part;
	unsigned index;
};

/* The flat entries of one key, in document order. */
struct raw {
	const struct conf_key *key;
	char *name;
	struct raw_entry *e;
	size_t n, cap;
};

struct loader {
	struct conf *c;
	const struct toml_doc *doc;
	struct buf errs;
	size_t nerr;
	struct raw *raws;
	size_t nraws;
};

/* Records one error "FILE:LINE: KEY: message" (line 0: "FILE: KEY: message"). */
void conf_error(struct loader *ld, unsigned line, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* conf_value.c */
/* A bound of k as text in its unit ("10ms", "1gb", "64"). */
void conf_format_bound(const struct conf_key *k, int64_t v, char *out, size_t cap);
const char *conf_type_msg(const struct conf_key *k, char *tmp, size_t cap);
int conf_scalar_text(struct loader *ld, const char *key, const struct toml_flat *f, char **src,
                     size_t *len);
void conf_compile(struct loader *ld, const struct conf_key *k, const char *name, unsigned line,
                  const char *src, size_t len, struct expr **out);
void conf_set_default(struct loader *ld, struct conf_item *it);
void conf_set_scalar(struct loader *ld, struct conf_item *it, const struct toml_flat *f);
void conf_set_list(struct loader *ld, struct conf_item *it, const struct raw *r);
void conf_display(struct conf_item *it, const struct raw *r);
int conf_read_file(const char *path, struct buf *out, struct err *e);

/* conf_get.c */
struct conf_item *conf_item_find(const struct conf *c, const char *name);
int conf_item_eval(const struct conf *c, const struct conf_item *it, const struct expr *x,
                   const struct expr_var *vars, size_t nvars, int depth, struct expr_value *out,
                   struct err *e);
void conf_check_exprs(struct loader *ld);

#endif
