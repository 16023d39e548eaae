/*
 * rjson.c - strict JSON parser into an arena.  See rjson.h.
 *
 * RFC 8259 sections 2-8 (grammar, strings, numbers), RFC 7493 section 2 (I-JSON: UTF-8,
 * no duplicate names, no lone surrogates), RFC 3629 (UTF-8).  Recursive descent with a
 * depth cap; arrays and objects collect their children on a scratch stack and are
 * copied into the arena when complete.  Not thread-safe per document.
 */
#include "report/rjson.h"

#include <float.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/xalloc.h"

struct rjson_chunk {
	struct rjson_chunk *next;
	size_t size, used;
	_Alignas(max_align_t) unsigned char data[];
};

struct parser {
	const char *p, *end, *start;
	unsigned depth, max_depth;
	struct rjson_doc *doc;
	size_t arena_max;
	struct err *e;
	int rc;
	/* scratch stacks for the children of open arrays and objects */
	struct rjson *vals;
	size_t n_vals, cap_vals;
	struct rjson_member *mems;
	size_t n_mems, cap_mems;
};

enum { CHUNK_MIN = 64 * 1024 };

static void *
arena_alloc(struct parser *ps, size_t n)
{
	struct rjson_doc *d = ps->doc;
	struct rjson_chunk *c = d->chunks;

	n = (n + 15) & ~(size_t)15;
	if (d->arena_used + n > ps->arena_max)
		return NULL;
	if (c == NULL || c->size - c->used < n) {
		size_t size = n > CHUNK_MIN ? n : CHUNK_MIN;
		c = xmalloc(sizeof(*c) + size);
		c->size = size;
		c->used = 0;
		c->next = d->chunks;
		d->chunks = c;
	}
	void *r = c->data + c->used;
	c->used += n;
	d->arena_used += n;
	return r;
}

/* Records the first error with the line and column of the current position. */
static int
perr(struct parser *ps, int code, const char *what)
{
	if (ps->rc != 0)
		return ps->rc;
	if (code == ERR_TOOBIG && ps->depth > ps->max_depth) {
		ps->rc = err_set(ps->e, code, "report: JSON nested deeper than %u levels",
		                 ps->max_depth);
		return ps->rc;
	}
	unsigned line = 1, col = 1;
	for (const char *q = ps->start; q < ps->p && q < ps->end; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	ps->rc = err_set(ps->e, code, "not JSON: %s (line %u, column %u)", what, line, col);
	return ps->rc;
}

static void
skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
		ps->p++;
}

static int parse_value(struct parser *ps, struct rjson *out);

static int
hex4(const char *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Parses a string at ps->p (on the opening quote) into the arena. */
static int
parse_string(struct parser *ps, const char **s_out, size_t *len_out)
{
	const char *p = ps->p + 1, *end = ps->end;
	const char *run = p;

	/* fast path: printable ASCII without escapes */
	while (p < end && (unsigned char)*p >= 0x20 && *p != '"' && *p != '\\' &&
	       (unsigned char)*p < 0x80)
		p++;
	if (p < end && *p == '"') {
		size_t n = (size_t)(p - run);
		char *o = arena_alloc(ps, n + 1);
		if (o == NULL)
			return perr(ps, ERR_TOOBIG, "document needs too much memory");
		memcpy(o, run, n);
		o[n] = '\0';
		*s_out = o;
		*len_out = n;
		ps->p = p + 1;
		return 0;
	}
	/* general path: find the closing quote first (output is never longer) */
	const char *q = p;
	while (q < end && *q != '"') {
		if (*q == '\\')
			q++;
		q++;
	}
	if (q >= end) {
		ps->p = end;
		return perr(ps, ERR_INVALID, "unterminated string");
	}
	char *o = arena_alloc(ps, (size_t)(q - run) + 1);
	size_t n = (size_t)(p - run);
	if (o == NULL)
		return perr(ps, ERR_TOOBIG, "document needs too much memory");
	memcpy(o, run, n);
	while (p < q) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20) {
			ps->p = p;
			return perr(ps, ERR_INVALID, "control character in string");
		}
		if (c >= 0x80) {
			size_t want = c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
			if (want == 0 || (size_t)(q - p) < want || !utf8_valid(p, want)) {
				ps->p = p;
				return perr(ps, ERR_INVALID, "invalid UTF-8 in string");
			}
			memcpy(o + n, p, want);
			n += want;
			p += want;
			continue;
		}
		if (c != '\\') {
			o[n++] = (char)c;
			p++;
			continue;
		}
		ps->p = p;
		char x = p[1];
		p += 2;
		switch (x) {
		case '"':
		case '\\':
		case '/':
			o[n++] = x;
			break;
		case 'b':
			o[n++] = '\b';
			break;
		case 'f':
			o[n++] = '\f';
			break;
		case 'n':
			o[n++] = '\n';
			break;
		case 'r':
			o[n++] = '\r';
			break;
		case 't':
			o[n++] = '\t';
			break;
		case 'u': {
			uint32_t cp, lo;
			if (q - p < 4 || hex4(p, &cp) != 0)
				return perr(ps, ERR_INVALID, "invalid \\u escape");
			p += 4;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (q - p < 6 || p[0] != '\\' || p[1] != 'u' ||
				    hex4(p + 2, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
					return perr(ps, ERR_INVALID,
					            "lone surrogate in \\u escape");
				p += 6;
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
				return perr(ps, ERR_INVALID, "lone surrogate in \\u escape");
			}
			if (cp == 0)
				return perr(ps, ERR_INVALID, "\\u0000 is not allowed");
			n += utf8_encode(cp, o + n);
			break;
		}
		default:
			return perr(ps, ERR_INVALID, "invalid escape");
		}
	}
	o[n] = '\0';
	*s_out = o;
	*len_out = n;
	ps->p = q + 1;
	return 0;
}

static int
parse_number(struct parser *ps, struct rjson *out)
{
	const char *p = ps->p, *start = p, *end = ps->end;
	bool neg = false, is_int = true;

	if (p < end && *p == '-') {
		neg = true;
		p++;
	}
	if (p >= end || *p < '0' || *p > '9')
		return perr(ps, ERR_INVALID, "invalid number");
	if (*p == '0') {
		p++;
	} else {
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && *p == '.') {
		is_int = false;
		p++;
		if (p >= end || *p < '0' || *p > '9')
			return perr(ps, ERR_INVALID, "invalid number");
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		is_int = false;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			return perr(ps, ERR_INVALID, "invalid number");
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	size_t len = (size_t)(p - start);
	if (is_int) {
		uint64_t v = 0;
		for (const char *d = start + neg; d < p; d++) {
			uint64_t digit = (uint64_t)(*d - '0');
			if (v > (UINT64_MAX - digit) / 10)
				return perr(ps, ERR_INVALID, "integer too big");
			v = v * 10 + digit;
		}
		if ((!neg && v > (uint64_t)INT64_MAX) || (neg && v > (uint64_t)INT64_MAX + 1))
			return perr(ps, ERR_INVALID, "integer too big");
		out->type = RJSON_INT;
		out->u.i = neg ? (int64_t)(0 - v) : (int64_t)v;
	} else {
		/* strtod wants a terminated string; long numbers go to the heap */
		char small[64];
		char *tmp = len < sizeof(small) ? small : xmalloc(len + 1);
		memcpy(tmp, start, len);
		tmp[len] = '\0';
		out->type = RJSON_REAL;
		out->u.d = strtod(tmp, NULL);
		if (tmp != small)
			free(tmp);
		if (out->u.d > DBL_MAX || out->u.d < -DBL_MAX)
			return perr(ps, ERR_INVALID, "real number overflow");
	}
	ps->p = p;
	return 0;
}

static int
push_val(struct parser *ps, const struct rjson *v)
{
	if (ps->n_vals == ps->cap_vals) {
		ps->cap_vals = ps->cap_vals ? ps->cap_vals * 2 : 256;
		ps->vals = xrealloc(ps->vals, ps->cap_vals * sizeof(*ps->vals));
	}
	ps->vals[ps->n_vals++] = *v;
	return 0;
}

static int
push_mem(struct parser *ps, const struct rjson_member *m)
{
	if (ps->n_mems == ps->cap_mems) {
		ps->cap_mems = ps->cap_mems ? ps->cap_mems * 2 : 256;
		ps->mems = xrealloc(ps->mems, ps->cap_mems * sizeof(*ps->mems));
	}
	ps->mems[ps->n_mems++] = *m;
	return 0;
}

static int
cmp_member(const void *a, const void *b)
{
	const struct rjson_member *x = *(const struct rjson_member *const *)a;
	const struct rjson_member *y = *(const struct rjson_member *const *)b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);

	return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* The first member whose name repeats an earlier one, or NULL. */
static const struct rjson_member *
find_duplicate(const struct rjson_member *m, size_t n)
{
	if (n <= 16) {
		for (size_t i = 1; i < n; i++)
			for (size_t k = 0; k < i; k++)
				if (m[i].key_len == m[k].key_len &&
				    memcmp(m[i].key, m[k].key, m[i].key_len) == 0)
					return &m[i];
		return NULL;
	}
	const struct rjson_member **v = xmalloc(n * sizeof(*v));
	const struct rjson_member *dup = NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = &m[i];
	qsort(v, n, sizeof(*v), cmp_member);
	for (size_t i = 1; i < n && dup == NULL; i++)
		if (cmp_member(&v[i - 1], &v[i]) == 0)
			dup = v[i];
	free(v);
	return dup;
}

static int
parse_array(struct parser *ps, struct rjson *out)
{
	size_t base = ps->n_vals;

	ps->p++; /* [ */
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
	} else {
		for (;;) {
			struct rjson v;
			if (parse_value(ps, &v) != 0)
				return ps->rc;
			push_val(ps, &v);
			skip_ws(ps);
			if (ps->p < ps->end && *ps->p == ',') {
				ps->p++;
				continue;
			}
			if (ps->p < ps->end && *ps->p == ']') {
				ps->p++;
				break;
			}
			return perr(ps, ERR_INVALID, "expected ',' or ']'");
		}
	}
	size_t n = ps->n_vals - base;
	struct rjson *a = NULL;
	if (n > 0) {
		a = arena_alloc(ps, n * sizeof(*a));
		if (a == NULL)
			return perr(ps, ERR_TOOBIG, "document needs too much memory");
		memcpy(a, ps->vals + base, n * sizeof(*a));
	}
	ps->n_vals = base;
	out->type = RJSON_ARRAY;
	out->n = n;
	out->u.a = a;
	return 0;
}

static int
parse_object(struct parser *ps, struct rjson *out)
{
	size_t base = ps->n_mems;
	const char *open = ps->p;

	ps->p++; /* { */
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
	} else {
		for (;;) {
			struct rjson_member m;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != '"')
				return perr(ps, ERR_INVALID, "expected a member name");
			if (parse_string(ps, &m.key, &m.key_len) != 0)
				return ps->rc;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return perr(ps, ERR_INVALID, "expected ':'");
			ps->p++;
			if (parse_value(ps, &m.value) != 0)
				return ps->rc;
			push_mem(ps, &m);
			skip_ws(ps);
			if (ps->p < ps->end && *ps->p == ',') {
				ps->p++;
				continue;
			}
			if (ps->p < ps->end && *ps->p == '}') {
				ps->p++;
				break;
			}
			return perr(ps, ERR_INVALID, "expected ',' or '}'");
		}
	}
	size_t n = ps->n_mems - base;
	const struct rjson_member *dup = n > 1 ? find_duplicate(ps->mems + base, n) : NULL;
	if (dup != NULL) {
		char what[96];
		snprintf(what, sizeof(what), "duplicate member name \"%.40s\"", dup->key);
		ps->p = open;
		return perr(ps, ERR_INVALID, what);
	}
	struct rjson_member *o = NULL;
	if (n > 0) {
		o = arena_alloc(ps, n * sizeof(*o));
		if (o == NULL)
			return perr(ps, ERR_TOOBIG, "document needs too much memory");
		memcpy(o, ps->mems + base, n * sizeof(*o));
	}
	ps->n_mems = base;
	out->type = RJSON_OBJECT;
	out->n = n;
	out->u.o = o;
	return 0;
}

static bool
literal(struct parser *ps, const char *word, size_t n)
{
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return false;
	ps->p += n;
	return true;
}

static int
parse_value(struct parser *ps, struct rjson *out)
{
	int rc;

	skip_ws(ps);
	memset(out, 0, sizeof(*out));
	if (ps->p >= ps->end)
		return perr(ps, ERR_INVALID, "unexpected end of input");
	switch (*ps->p) {
	case '{':
	case '[':
		if (++ps->depth > ps->max_depth)
			return perr(ps, ERR_TOOBIG, "nested too deeply");
		rc = *ps->p == '{' ? parse_object(ps, out) : parse_array(ps, out);
		ps->depth--;
		return rc;
	case '"':
		out->type = RJSON_STRING;
		return parse_string(ps, &out->u.s, &out->n);
	case 't':
		if (!literal(ps, "true", 4))
			break;
		out->type = RJSON_TRUE;
		return 0;
	case 'f':
		if (!literal(ps, "false", 5))
			break;
		out->type = RJSON_FALSE;
		return 0;
	case 'n':
		if (!literal(ps, "null", 4))
			break;
		out->type = RJSON_NULL;
		return 0;
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return parse_number(ps, out);
		break;
	}
	return perr(ps, ERR_INVALID, "invalid token");
}

int
rjson_parse(struct span in, unsigned max_depth, struct rjson_doc *doc, struct err *e)
{
	struct parser ps = { 0 };

	memset(doc, 0, sizeof(*doc));
	ps.p = ps.start = in.p ? in.p : "";
	ps.end = ps.p + in.len;
	ps.max_depth = max_depth;
	ps.doc = doc;
	ps.arena_max = in.len * 32 + CHUNK_MIN;
	ps.e = e;
	/* a UTF-8 byte order mark is not JSON text (RFC 8259 section 8.1: MUST NOT add) */
	if (parse_value(&ps, &doc->root) == 0) {
		skip_ws(&ps);
		if (ps.p != ps.end)
			perr(&ps, ERR_INVALID, "end of input expected");
	}
	free(ps.vals);
	free(ps.mems);
	if (ps.rc != 0) {
		rjson_free(doc);
		return ps.rc;
	}
	return 0;
}

void
rjson_free(struct rjson_doc *doc)
{
	struct rjson_chunk *c = doc->chunks;

	while (c != NULL) {
		struct rjson_chunk *next = c->next;
		free(c);
		c = next;
	}
	memset(doc, 0, sizeof(*doc));
}

const struct rjson *
rjson_get(const struct rjson *v, const char *key)
{
	if (v == NULL || v->type != RJSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->u.o[i].key, key) == 0)
			return &v->u.o[i].value;
	return NULL;
}
