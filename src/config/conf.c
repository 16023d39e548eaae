/*
 * conf.c - loading the configuration: TOML (Stalwart's flattening) -> the key table in
 * conf_table.c -> typed, validated, immutable struct conf.  See conf.h for the rules.
 *
 * Loading collects every error (one line each) instead of stopping at the first.  The
 * value conversions and %{file:}% / %{env:}% substitution are in conf_value.c; typed
 * getters, expression evaluation and the dump are in conf_get.c.
 *
 * Thread safety: conf_parse/conf_load build a private struct; after they return the
 * struct conf is never modified.
 */
#include "config/conf.h"

#include "config/conf_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/toml.h"
#include "util/str.h"
#include "util/xalloc.h"

/* lookup.<store>.<key>: free-form strings read by key_get(). */
static const struct conf_key lookup_key = {
	"lookup.*.*", CONF_MACRO, NULL, 0, 0, NULL, NULL, NULL, 0, "lookup table entry"
};

/* ------------------------------------------------------------------ errors */

void
conf_error(struct loader *ld, unsigned line, const char *key, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		(void)buf_printf(&ld->errs, "%s:%u: %s: %s\n", ld->c->name, line, key, msg);
	else
		(void)buf_printf(&ld->errs, "%s: %s: %s\n", ld->c->name, key, msg);
	ld->nerr++;
}

/* ------------------------------------------------------------------ matching keys */

/*
 * Matches pattern (with one `*` segment) against the start of key.  Returns the length
 * of key consumed, or 0.  *id receives the span of the `*` segment.  An id may contain
 * dots, as Stalwart's default signer ids do (`rsa-example.org`): the shortest id after
 * which the rest of the pattern matches wins.
 */
static size_t
pattern_prefix(const char *pattern, const char *key, struct span *id)
{
	const char *star = strchr(pattern, '*');
	size_t pre = star ? (size_t)(star - pattern) : strlen(pattern);

	if (strncmp(pattern, key, pre) != 0)
		return 0;
	if (star == NULL)
		return pre;
	const char *start = key + pre, *rest = star + 1;
	size_t rlen = strlen(rest);
	for (const char *k = start; *k; k++) {
		if (k == start || (k[0] != '.' && k[1] != '\0'))
			continue;
		/* candidate id [start, k) when *k is '.', or the whole tail */
		const char *end = *k == '.' ? k : k + 1;
		if (strncmp(end, rest, rlen) == 0) {
			*id = span_make(start, (size_t)(end - start));
			return (size_t)(end - key) + rlen;
		}
	}
	return 0;
}

static bool
parse_index(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;

	if (n == 0 || n > 6)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* The table key flat belongs to, with the part and item index; NULL when none. */
static const struct conf_key *
match_key(const char *flat, size_t *base_len, enum conf_part *part, unsigned *index)
{
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		struct span id;
		size_t n = pattern_prefix(k->name, flat, &id);
		if (n == 0)
			continue;
		const char *rest = flat + n;
		*base_len = n;
		*index = 0;
		if (*rest == '\0') {
			*part = PART_PLAIN;
			return k;
		}
		if (*rest != '.' || (k->type != CONF_LIST && k->type != CONF_EXPR))
			continue;
		rest++;
		const char *dot = strchr(rest, '.');
		size_t dlen = dot ? (size_t)(dot - rest) : strlen(rest);
		if (!parse_index(rest, dlen, index))
			continue;
		if (dot == NULL) {
			*part = PART_ITEM;
			return k;
		}
		if (k->type != CONF_EXPR)
			continue;
		if (strcmp(dot, ".if") == 0)
			*part = PART_IF;
		else if (strcmp(dot, ".then") == 0)
			*part = PART_THEN;
		else if (strcmp(dot, ".else") == 0)
			*part = PART_ELSE;
		else
			continue;
		return k;
	}
	return NULL;
}

static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[128];

	if (la >= 127 || lb >= 127)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The known key closest to an unknown one (within 3 edits), or "" when none. */
static void
suggest(const char *flat, char *out, size_t cap)
{
	size_t best = 4;

	out[0] = '\0';
	for (size_t i = 0; i < conf_nkeys; i++) {
		char cand[128];
		const char *p = conf_keys[i].name, *star = strchr(p, '*');
		if (star) {
			/* put the operator's id in place of the `*` */
			size_t pre = (size_t)(star - p);
			if (strncmp(flat, p, pre) != 0)
				continue;
			const char *id = flat + pre, *end = strchr(id, '.');
			if (end == NULL)
				continue;
			snprintf(cand, sizeof(cand), "%.*s%.*s%s", (int)pre, p, (int)(end - id), id,
			         star + 1);
		} else {
			str_copy(cand, sizeof(cand), p);
		}
		size_t d = edit_distance(flat, cand);
		if (d < best) {
			best = d;
			str_copy(out, cap, cand);
		}
	}
}

static struct raw *
raw_get(struct loader *ld, const struct conf_key *k, const char *flat, size_t base_len)
{
	for (size_t i = 0; i < ld->nraws; i++)
		if (strlen(ld->raws[i].name) == base_len &&
		    strncmp(ld->raws[i].name, flat, base_len) == 0)
			return &ld->raws[i];
	ld->raws = xreallocarray(ld->raws, ld->nraws + 1, sizeof(*ld->raws));
	struct raw *r = &ld->raws[ld->nraws++];
	memset(r, 0, sizeof(*r));
	r->key = k;
	r->name = xstrndup(flat, base_len);
	return r;
}

static void
classify(struct loader *ld, const struct toml_flat *f)
{
	size_t base_len;
	enum conf_part part;
	unsigned index;
	const struct conf_key *k;

	if (f->type == TOML_TABLE)
		return; /* an empty table: nothing to read */
	if (strncmp(f->key, "lookup.", 7) == 0) {
		const char *store = f->key + 7, *dot = strchr(store, '.');
		if (dot && dot > store && dot[1] != '\0') {
			struct raw *r = raw_get(ld, &lookup_key, f->key, strlen(f->key));
			r->e = xreallocarray(r->e, r->n + 1, sizeof(*r->e));
			r->e[r->n++] = (struct raw_entry){ f, PART_PLAIN, 0 };
		}
		return;
	}
	k = match_key(f->key, &base_len, &part, &index);
	if (k == NULL) {
		if (conf_key_is_ours(f->key)) {
			char hint[128];
			suggest(f->key, hint, sizeof(hint));
			if (hint[0])
				conf_error(ld, f->line, f->key, "unknown key (did you mean %s?)",
				           hint);
			else
				conf_error(ld, f->line, f->key, "unknown key");
		}
		return;
	}
	struct raw *r = raw_get(ld, k, f->key, base_len);
	r->e = xreallocarray(r->e, r->n + 1, sizeof(*r->e));
	r->e[r->n++] = (struct raw_entry){ f, part, index };
}

/* ------------------------------------------------------------------ building items */

static struct conf_item *
item_add(struct conf *c, const struct conf_key *k, const char *name)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->items = xreallocarray(c->items, c->cap, sizeof(*c->items));
	}
	struct conf_item *it = &c->items[c->n++];
	memset(it, 0, sizeof(*it));
	it->key = k;
	it->name = xstrdup(name);
	return it;
}

/* Expression keys: one value, a TOML array (a list constant) or an if/then/else block. */
static void
build_expr(struct loader *ld, struct conf_item *it, const struct raw *r)
{
	const struct raw_entry *e0 = &r->e[0];

	it->line = e0->f->line;
	if (e0->part == PART_PLAIN) {
		char *src = NULL;
		size_t len = 0;
		if (conf_scalar_text(ld, it->name, e0->f, &src, &len) == 0) {
			conf_compile(ld, it->key, it->name, e0->f->line, src, len, &it->expr);
			free(src);
		}
		return;
	}
	if (e0->part == PART_ITEM) {
		/* sign = ["rsa", "ed25519"]: the list constant, written as an expression */
		struct buf src;
		buf_init(&src, EXPR_MAX_LEN);
		(void)buf_putc(&src, '[');
		for (size_t i = 0; i < r->n; i++) {
			const struct toml_flat *f = r->e[i].f;
			if (r->e[i].part != PART_ITEM || f->type != TOML_STRING) {
				conf_error(ld, f->line, r->name, "expected a list of strings");
				buf_clear(&src);
				return;
			}
			(void)buf_append_str(&src, i ? ", '" : "'");
			for (size_t j = 0; j < f->value_len; j++) {
				if (f->value[j] == '\'' || f->value[j] == '\\')
					(void)buf_putc(&src, '\\');
				(void)buf_putc(&src, f->value[j]);
			}
			(void)buf_putc(&src, '\'');
		}
		if (buf_putc(&src, ']') == 0)
			conf_compile(ld, it->key, it->name, it->line, src.data, src.len, &it->expr);
		else
			conf_error(ld, it->line, it->name, "list longer than %d bytes",
			           EXPR_MAX_LEN);
		buf_clear(&src);
		return;
	}

	/* if/then/else: group the entries by index, in index order */
	unsigned max_index = 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->e[i].index > max_index)
			max_index = r->e[i].index;
	if (max_index > 255) {
		conf_error(ld, it->line, it->name, "too many if/then/else branches (max 256)");
		return;
	}
	it->br = xcalloc(max_index + 1, sizeof(*it->br));
	for (unsigned idx = 0; idx <= max_index; idx++) {
		const struct toml_flat *fi = NULL, *ft = NULL, *fe = NULL;
		for (size_t i = 0; i < r->n; i++) {
			if (r->e[i].index != idx)
				continue;
			if (r->e[i].part == PART_IF)
				fi = r->e[i].f;
			else if (r->e[i].part == PART_THEN)
				ft = r->e[i].f;
			else if (r->e[i].part == PART_ELSE)
				fe = r->e[i].f;
		}
		char where[160];
		snprintf(where, sizeof(where), "%s.%04u", it->name, idx);
		if (fi == NULL && ft == NULL && fe == NULL) {
			continue;
		} else if (fe && (fi || ft)) {
			conf_error(ld, fe->line, where,
			           "'else' cannot be combined with 'if'/'then'");
		} else if (fe) {
			if (idx != max_index)
				conf_error(ld, fe->line, where, "'else' must be the last branch");
			char *src = NULL;
			size_t len = 0;
			char name[176];
			snprintf(name, sizeof(name), "%s.else", where);
			if (conf_scalar_text(ld, name, fe, &src, &len) == 0) {
				conf_compile(ld, it->key, name, fe->line, src, len, &it->otherwise);
				it->has_else = true;
				it->else_line = fe->line;
				free(src);
			}
		} else if (fi == NULL || ft == NULL) {
			const struct toml_flat *f = fi ? fi : ft;
			conf_error(ld, f->line, where,
			           fi ? "'if' without 'then'" : "'then' without 'if'");
		} else {
			struct conf_branch *b = &it->br[it->nbr++];
			char *src = NULL;
			size_t len = 0;
			char name[176];
			b->line = fi->line;
			b->then_line = ft->line;
			snprintf(name, sizeof(name), "%s.if", where);
			if (conf_scalar_text(ld, name, fi, &src, &len) == 0) {
				conf_compile(ld, it->key, name, fi->line, src, len, &b->cond);
				free(src);
			}
			snprintf(name, sizeof(name), "%s.then", where);
			if (conf_scalar_text(ld, name, ft, &src, &len) == 0) {
				conf_compile(ld, it->key, name, ft->line, src, len, &b->value);
				free(src);
			}
		}
	}
}

/*
 * The line of an empty array written for dotted key name (`sign = []`), or 0.  The flat
 * view has no entry for empty arrays, so the typed tree is asked: table names compare
 * case-insensitively as in the flat view, the last segment exactly.
 */
static unsigned
empty_array_in(const struct toml_value *v, const char *name, int depth)
{
	const char *dot = strchr(name, '.');
	size_t seg = dot ? (size_t)(dot - name) : strlen(name);

	if (depth > 16)
		return 0;
	/* [Report] and [report] are two TOML tables but one Stalwart key prefix: try each */
	for (size_t i = 0; i < toml_value_count(v); i++) {
		size_t klen = 0;
		const char *key = toml_value_key(v, i, &klen);
		const struct toml_value *next = toml_value_at(v, i);
		if (key == NULL || next == NULL || klen != seg)
			continue;
		if (dot == NULL) {
			unsigned line = 0, col = 0;
			if (memcmp(key, name, seg) != 0 || toml_value_type(next) != TOML_ARRAY ||
			    toml_value_count(next) != 0)
				continue;
			toml_value_pos(next, &line, &col);
			return line ? line : 1;
		}
		if (span_eq_nocase(span_make(key, klen), span_make(name, seg))) {
			unsigned line = empty_array_in(next, dot + 1, depth + 1);
			if (line)
				return line;
		}
	}
	return 0;
}

/*
 * The line of an empty array written for dotted key name (`sign = []`), or 0.  The flat
 * view has no entry for empty arrays, so the typed tree is asked: table names compare
 * case-insensitively as in the flat view, the last segment exactly.
 */
static unsigned
empty_array_line(const struct toml_doc *doc, const char *name)
{
	return empty_array_in(toml_doc_root(doc), name, 0);
}

static void
build_item(struct loader *ld, const struct conf_key *k, const char *name, const struct raw *r)
{
	struct conf_item *it = item_add(ld->c, k, name);
	char tmp[160];
	unsigned empty_line;

	if (k->type == CONF_EXPR && k->def)
		conf_compile(ld, k, name, 0, k->def, strlen(k->def), &it->def_expr);
	if (r == NULL && (k->type == CONF_LIST || k->type == CONF_EXPR) &&
	    (empty_line = empty_array_line(ld->doc, name)) != 0) {
		/* an explicit [] is the empty list, not "use the default" */
		it->set = true;
		it->has_value = true;
		it->line = empty_line;
		it->display = xstrdup("[]");
		if (k->type == CONF_EXPR)
			conf_compile(ld, k, name, empty_line, "[]", 2, &it->expr);
		return;
	}
	if (r == NULL) {
		conf_set_default(ld, it);
		return;
	}
	it->set = true;
	it->has_value = true;
	it->line = r->e[0].f->line;
	conf_display(it, r);
	if (k->type == CONF_EXPR) {
		build_expr(ld, it, r);
		return;
	}
	if (k->type == CONF_LIST) {
		conf_set_list(ld, it, r);
		return;
	}
	if (r->e[0].part != PART_PLAIN) {
		conf_error(ld, it->line, name, "%s", conf_type_msg(k, tmp, sizeof(tmp)));
		return;
	}
	conf_set_scalar(ld, it, r->e[0].f);
}

/* The id groups: for each `<id>` pattern prefix, the ids found in the file. */
static void
collect_ids(struct loader *ld)
{
	struct conf *c = ld->c;

	for (size_t i = 0; i < ld->nraws; i++) {
		const struct raw *r = &ld->raws[i];
		const char *star = strchr(r->key->name, '*');
		if (star == NULL || r->key == &lookup_key)
			continue;
		size_t pre = (size_t)(star - r->key->name);
		/* r->name is the matched base key: prefix, id, then the rest of the pattern */
		const char *id = r->name + pre;
		size_t idlen = strlen(id) - strlen(star + 1);
		struct conf_group *g = NULL;
		for (size_t j = 0; j < c->ngroups; j++)
			if (strlen(c->groups[j].prefix) == pre &&
			    strncmp(c->groups[j].prefix, r->key->name, pre) == 0)
				g = &c->groups[j];
		if (g == NULL) {
			c->groups = xreallocarray(c->groups, c->ngroups + 1, sizeof(*c->groups));
			g = &c->groups[c->ngroups++];
			memset(g, 0, sizeof(*g));
			g->prefix = xstrndup(r->key->name, pre);
			/* the public group name has no trailing dot */
			g->name = xstrndup(r->key->name, pre - 1);
		}
		bool seen = false;
		for (size_t j = 0; j < g->n && !seen; j++)
			seen = strlen(g->ids[j]) == idlen && strncmp(g->ids[j], id, idlen) == 0;
		if (!seen) {
			g->ids = xreallocarray(g->ids, g->n + 1, sizeof(*g->ids));
			g->lines = xreallocarray(g->lines, g->n + 1, sizeof(*g->lines));
			g->ids[g->n] = xstrndup(id, idlen);
			g->lines[g->n] = r->e[0].f->line;
			g->n++;
		}
	}
}

static const struct raw *
raw_find(const struct loader *ld, const char *name)
{
	for (size_t i = 0; i < ld->nraws; i++)
		if (strcmp(ld->raws[i].name, name) == 0)
			return &ld->raws[i];
	return NULL;
}

static void
build_all(struct loader *ld)
{
	struct conf *c = ld->c;

	collect_ids(ld);
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		const char *star = strchr(k->name, '*');
		if (star == NULL) {
			build_item(ld, k, k->name, raw_find(ld, k->name));
			continue;
		}
		size_t pre = (size_t)(star - k->name);
		if (i > 0 && strncmp(conf_keys[i - 1].name, k->name, pre + 1) == 0)
			continue; /* the group was built with its first key */
		const struct conf_group *g = NULL;
		for (size_t j = 0; j < c->ngroups; j++)
			if (strncmp(c->groups[j].prefix, k->name, pre) == 0 &&
			    strlen(c->groups[j].prefix) == pre)
				g = &c->groups[j];
		if (g == NULL)
			continue;
		for (size_t id = 0; id < g->n; id++) {
			for (size_t j = i;
			     j < conf_nkeys && strncmp(conf_keys[j].name, k->name, pre + 1) == 0;
			     j++) {
				char name[256];
				snprintf(name, sizeof(name), "%s%s%s", g->prefix, g->ids[id],
				         conf_keys[j].name + pre + 1);
				const struct raw *r = raw_find(ld, name);
				if (r == NULL && (conf_keys[j].flags & CONF_F_REQUIRED)) {
					char group[160];
					snprintf(group, sizeof(group), "%s%s", g->prefix,
					         g->ids[id]);
					conf_error(ld, g->lines[id], name,
					           "missing (required in [%s])", group);
				}
				build_item(ld, &conf_keys[j], name, r);
			}
		}
	}
	for (size_t i = 0; i < ld->nraws; i++) {
		const struct raw *r = &ld->raws[i];
		if (r->key != &lookup_key)
			continue;
		struct conf_item *it = item_add(c, &lookup_key, r->name);
		it->set = true;
		it->has_value = true;
		it->line = r->e[0].f->line;
		conf_display(it, r);
		conf_set_scalar(ld, it, r->e[0].f);
	}
}

/* Checks between keys. */
static void
check_cross(struct loader *ld)
{
	const struct conf *c = ld->c;
	const struct conf_item *backend = conf_item_find(c, "store.backend");
	const struct conf_item *url = conf_item_find(c, "store.url");
	const struct conf_item *cert = conf_item_find(c, "web.tls-cert");
	const struct conf_item *key = conf_item_find(c, "web.tls-key");
	const struct conf_item *user = conf_item_find(c, "delivery.relay-user");
	const struct conf_item *pass = conf_item_find(c, "delivery.relay-password");

	if (backend && backend->str && strcmp(backend->str, "postgresql") == 0 &&
	    (url == NULL || !url->has_value || url->str[0] == '\0'))
		conf_error(ld, backend->line, "store.url",
		           "required when store.backend is postgresql");
	if (cert && key && cert->set != key->set) {
		const struct conf_item *given = cert->set ? cert : key;
		conf_error(ld, given->line, cert->set ? "web.tls-key" : "web.tls-cert",
		           "required when %s is set", given->name);
	}
	if (pass && user && pass->set && !user->set)
		conf_error(ld, pass->line, "delivery.relay-user",
		           "required when delivery.relay-password is set");
	/* LMTP: report mail that should be kept needs somewhere to go */
	const struct conf_item *lmtp = conf_item_find(c, "lmtp.listen");
	const struct conf_item *fwd = conf_item_find(c, "report.analysis.forward");
	const struct conf_item *md = conf_item_find(c, "lmtp.forward-maildir");
	if (lmtp && lmtp->str && lmtp->str[0] && fwd && fwd->num &&
	    (md == NULL || !md->has_value || md->str[0] == '\0'))
		conf_error(ld, lmtp->line, "lmtp.forward-maildir",
		           "required when lmtp.listen is set and report.analysis.forward is true "
		           "(the Maildir that keeps report mail); or set report.analysis.forward "
		           "= false to only analyse it");
}

/* ------------------------------------------------------------------ load */

struct err_line {
	const char *p;
	size_t len;
	unsigned long line; /* 0 (no line) sorts last */
	size_t seq;
};

static int
err_line_cmp(const void *a, const void *b)
{
	const struct err_line *x = a, *y = b;
	unsigned long lx = x->line ? x->line : (unsigned long)-1;
	unsigned long ly = y->line ? y->line : (unsigned long)-1;

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Puts the error lines in file order (by line number; stable), so that the operator
 * reads them top to bottom whatever check found them.
 */
static void
sort_errors(struct buf *errs)
{
	struct err_line *lines = NULL;
	size_t n = 0;
	const char *p = buf_cstr(errs), *end = p + errs->len;
	struct buf sorted;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		struct err_line l = { p, len, 0, n };
		/* "NAME:LINE: ..." - the number after the first ':' that is followed by digits */
		for (const char *q = p; q < p + len; q++) {
			if (*q == ':' && q + 1 < p + len && q[1] >= '0' && q[1] <= '9') {
				unsigned long v = 0;
				const char *r = q + 1;
				while (r < p + len && *r >= '0' && *r <= '9' && v < 100000000)
					v = v * 10 + (unsigned long)(*r++ - '0');
				if (r < p + len && *r == ':') {
					l.line = v;
					break;
				}
			}
		}
		lines = xreallocarray(lines, n + 1, sizeof(*lines));
		lines[n++] = l;
		p += len;
	}
	qsort(lines, n, sizeof(*lines), err_line_cmp);
	buf_init(&sorted, errs->max);
	for (size_t i = 0; i < n; i++)
		(void)buf_append(&sorted, lines[i].p, lines[i].len);
	free(lines);
	buf_clear(errs);
	*errs = sorted;
}

int
conf_parse(const char *name, const char *data, size_t len, struct conf **out, struct buf *errs,
           struct err *e)
{
	static const struct toml_limits limits = { CONF_MAX_FILE, 32 };
	struct loader ld = { 0 };
	struct toml_doc *doc = NULL;
	struct err te = { 0 };
	int rc;

	*out = NULL;
	ld.c = xcalloc(1, sizeof(*ld.c));
	ld.c->name = xstrdup(name);
	if (gethostname(ld.c->hostname, sizeof(ld.c->hostname) - 1) != 0 || !ld.c->hostname[0])
		str_copy(ld.c->hostname, sizeof(ld.c->hostname), "localhost");
	buf_init(&ld.errs, CONF_MAX_ERRORS_TEXT);

	rc = toml_parse(name, data, len, &limits, &doc, &te);
	if (rc) {
		(void)buf_printf(&ld.errs, "%s\n", te.msg);
		ld.nerr++;
	} else {
		ld.doc = doc;
		for (size_t i = 0; i < toml_flat_count(doc); i++)
			classify(&ld, toml_flat_at(doc, i));
		build_all(&ld);
		conf_check_exprs(&ld);
		check_cross(&ld);
	}

	for (size_t i = 0; i < ld.nraws; i++) {
		free(ld.raws[i].name);
		free(ld.raws[i].e);
	}
	free(ld.raws);
	toml_free(doc);

	if (ld.nerr > 0) {
		sort_errors(&ld.errs);
		const char *all = buf_cstr(&ld.errs);
		const char *nl = strchr(all, '\n');
		err_set(e, ERR_INVALID, "%.*s", (int)(nl ? nl - all : (ptrdiff_t)strlen(all)), all);
		if (errs)
			(void)buf_append(errs, ld.errs.data, ld.errs.len);
		buf_clear(&ld.errs);
		conf_free(ld.c);
		return ERR_INVALID;
	}
	buf_clear(&ld.errs);
	*out = ld.c;
	return 0;
}

int
conf_load(const char *path, struct conf **out, struct buf *errs, struct err *e)
{
	struct buf data;
	int rc;

	*out = NULL;
	buf_init(&data, CONF_MAX_FILE);
	rc = conf_read_file(path, &data, e);
	if (rc) {
		if (errs)
			(void)buf_printf(errs, "%s\n", e ? e->msg : path);
		buf_clear(&data);
		return rc;
	}
	rc = conf_parse(path, buf_cstr(&data), data.len, out, errs, e);
	buf_clear(&data);
	return rc;
}

int
conf_read_file(const char *path, struct buf *out, struct err *e)
{
	char chunk[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_set(e, ERR_IO, "cannot read %s: %s", path, strerror(errno));
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			close(fd);
			return err_set(e, ERR_IO, "cannot read %s: %s", path, strerror(saved));
		}
		if (n == 0)
			break;
		if (buf_append(out, chunk, (size_t)n) != 0) {
			close(fd);
			return err_set(e, ERR_TOOBIG, "cannot read %s: larger than %zu bytes", path,
			               out->max);
		}
	}
	close(fd);
	return 0;
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		struct conf_item *it = &c->items[i];
		free(it->name);
		free(it->display);
		free(it->str);
		conf_strv_free(it->list, it->nlist);
		expr_free(it->expr);
		expr_free(it->def_expr);
		expr_free(it->otherwise);
		for (size_t j = 0; j < it->nbr; j++) {
			expr_free(it->br[j].cond);
			expr_free(it->br[j].value);
		}
		free(it->br);
	}
	free(c->items);
	for (size_t i = 0; i < c->ngroups; i++) {
		conf_strv_free(c->groups[i].ids, c->groups[i].n);
		free(c->groups[i].lines);
		free(c->groups[i].prefix);
		free(c->groups[i].name);
	}
	free(c->groups);
	free(c->name);
	free(c);
}
