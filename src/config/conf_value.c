/*
 * conf_value.c - converting configuration values to their table types: strings, sizes
 * (1024-based units), durations, booleans, enums, octal modes, lists and expressions;
 * %{file:/path}% and %{env:NAME}% substitution; the display text of conf_dump.
 *
 * Every failure is reported through conf_error() and loading goes on, so that all
 * errors of a file are shown at once.
 *
 * Thread safety: used only while one loader builds its private struct conf.
 */
#include "config/conf_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/xalloc.h"

const char *
conf_type_msg(const struct conf_key *k, char *tmp, size_t cap)
{
	switch (k->type) {
	case CONF_STRING:
	case CONF_PATH:
	case CONF_MACRO:
		return "expected a string";
	case CONF_INTEGER:
		return "expected an integer";
	case CONF_SIZE:
		return "expected a size such as 512, 64kb, 25mb or 1gb";
	case CONF_DURATION:
		return "expected a duration such as 100ms, 30s, 5m, 1h or 7d";
	case CONF_BOOL:
		return "expected true or false";
	case CONF_ENUM:
		snprintf(tmp, cap, "expected %s", k->choices);
		return tmp;
	case CONF_MODE:
		return "expected an octal mode such as \"0660\"";
	case CONF_LIST:
		return "expected a list of strings";
	case CONF_EXPR:
		return "expected an expression";
	}
	return "invalid value";
}

/* ------------------------------------------------------------------ substitution */

/*
 * Replaces every %{file:/path}% and %{env:NAME}% in in[0..len).  Returns 0 and a
 * NUL-terminated *out (caller frees), or -1 after reporting the error.
 */
static int
substitute(struct loader *ld, const char *key, unsigned line, const char *in, size_t len,
           char **out, size_t *outlen)
{
	struct buf b;
	size_t i = 0;

	buf_init(&b, CONF_MAX_FILE);
	while (i < len) {
		const char *open = NULL;
		for (size_t j = i; j + 1 < len; j++) {
			if (in[j] == '%' && in[j + 1] == '{') {
				open = in + j;
				break;
			}
		}
		if (open == NULL) {
			(void)buf_append(&b, in + i, len - i);
			break;
		}
		(void)buf_append(&b, in + i, (size_t)(open - (in + i)));
		const char *body = open + 2, *close = NULL;
		for (const char *p = body; p + 1 < in + len; p++) {
			if (p[0] == '}' && p[1] == '%') {
				close = p;
				break;
			}
		}
		if (close == NULL) {
			conf_error(
			        ld, line, key,
			        "unterminated %%{ (expected %%{file:/path}%% or %%{env:NAME}%%)");
			buf_clear(&b);
			return -1;
		}
		size_t blen = (size_t)(close - body);
		char arg[1024];
		if (blen >= 5 && memcmp(body, "file:", 5) == 0 && blen - 5 < sizeof(arg)) {
			struct buf fb;
			struct err fe = { 0 };
			memcpy(arg, body + 5, blen - 5);
			arg[blen - 5] = '\0';
			buf_init(&fb, CONF_MAX_FILE);
			if (conf_read_file(arg, &fb, &fe) != 0) {
				conf_error(ld, line, key, "%s", fe.msg);
				buf_clear(&fb);
				buf_clear(&b);
				return -1;
			}
			while (fb.len > 0 &&
			       (fb.data[fb.len - 1] == '\n' || fb.data[fb.len - 1] == '\r'))
				fb.len--;
			int rc = buf_append(&b, fb.data ? fb.data : "", fb.len);
			buf_clear(&fb);
			if (rc) {
				conf_error(ld, line, key, "value longer than %d bytes",
				           CONF_MAX_FILE);
				buf_clear(&b);
				return -1;
			}
		} else if (blen >= 4 && memcmp(body, "env:", 4) == 0 && blen - 4 < sizeof(arg)) {
			memcpy(arg, body + 4, blen - 4);
			arg[blen - 4] = '\0';
			const char *v = getenv(arg);
			if (v == NULL) {
				conf_error(ld, line, key, "environment variable %s is not set",
				           arg);
				buf_clear(&b);
				return -1;
			}
			if (buf_append_str(&b, v)) {
				conf_error(ld, line, key, "value longer than %d bytes",
				           CONF_MAX_FILE);
				buf_clear(&b);
				return -1;
			}
		} else {
			conf_error(ld, line, key,
			           "unknown substitution %%{%.*s}%% (expected %%{file:/path}%% or "
			           "%%{env:NAME}%%)",
			           (int)(blen > 60 ? 60 : blen), body);
			buf_clear(&b);
			return -1;
		}
		i = (size_t)(close + 2 - in);
	}
	*out = buf_steal(&b, outlen);
	return 0;
}

int
conf_scalar_text(struct loader *ld, const char *key, const struct toml_flat *f, char **src,
                 size_t *len)
{
	*src = NULL;
	*len = 0;
	if (f->type == TOML_ARRAY || f->type == TOML_TABLE) {
		conf_error(ld, f->line, key, "expected a single value, not an array or table");
		return -1;
	}
	if (memchr(f->value, '\0', f->value_len)) {
		conf_error(ld, f->line, key, "value contains a NUL character");
		return -1;
	}
	if (f->type != TOML_STRING) {
		*src = xstrndup(f->value, f->value_len);
		*len = f->value_len;
		return 0;
	}
	return substitute(ld, key, f->line, f->value, f->value_len, src, len);
}

void
conf_compile(struct loader *ld, const struct conf_key *k, const char *name, unsigned line,
             const char *src, size_t len, struct expr **out)
{
	const char *vars[8];
	size_t nvars = 0;
	struct err e = { 0 };
	char tmp[128];

	str_copy(tmp, sizeof(tmp), k->vars ? k->vars : "");
	for (char *p = tmp; *p && nvars < 8;) {
		vars[nvars++] = p;
		char *sp = strchr(p, ' ');
		if (sp == NULL)
			break;
		*sp = '\0';
		p = sp + 1;
	}
	const struct expr_opts opts = { vars, nvars, EXPR_BARE };
	expr_free(*out);
	*out = NULL;
	if (expr_compile(src, len, &opts, out, &e) != 0)
		conf_error(ld, line, name, "%s", e.msg);
}

/* ------------------------------------------------------------------ scalars */

static int
parse_number_unit(const char *s, size_t n, uint64_t *num, const char **unit)
{
	size_t i = 0;

	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == 0 || str_to_u64(span_make(s, i), num) != 0)
		return -1;
	*unit = s + i;
	return 0;
}

static int
parse_size(const char *s, size_t n, int64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = {
		{ "", 1 },
		{ "b", 1 },
		{ "k", 1024 },
		{ "kb", 1024 },
		{ "m", 1024 * 1024 },
		{ "mb", 1024 * 1024 },
		{ "g", 1024 * 1024 * 1024 },
		{ "gb", 1024 * 1024 * 1024 },
	};
	uint64_t v;
	const char *unit;

	if (parse_number_unit(s, n, &v, &unit))
		return -1;
	size_t ulen = n - (size_t)(unit - s);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strlen(units[i].unit) == ulen &&
		    span_eq_nocase(span_make(unit, ulen), span_cstr(units[i].unit))) {
			uint64_t r;
			if (__builtin_mul_overflow(v, units[i].mult, &r) || r > INT64_MAX)
				return -1;
			*out = (int64_t)r;
			return 0;
		}
	}
	return -1;
}

static int
parse_duration(const char *s, size_t n, int64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = {
		{ "ms", 1 },      { "s", 1000 },     { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 }, { "w", 7 * 86400000ULL },
	};
	uint64_t v;
	const char *unit;

	if (parse_number_unit(s, n, &v, &unit))
		return -1;
	size_t ulen = n - (size_t)(unit - s);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strlen(units[i].unit) == ulen && memcmp(unit, units[i].unit, ulen) == 0) {
			uint64_t r;
			if (__builtin_mul_overflow(v, units[i].mult, &r) || r > INT64_MAX)
				return -1;
			*out = (int64_t)r;
			return 0;
		}
	}
	return -1;
}

void
conf_format_bound(const struct conf_key *k, int64_t v, char *out, size_t cap)
{
	static const struct {
		const char *unit;
		int64_t mult;
	} sizes[] = { { "gb", 1LL << 30 }, { "mb", 1LL << 20 }, { "kb", 1LL << 10 } },
	  times[] = { { "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 } };

	if (k->type == CONF_SIZE || k->type == CONF_DURATION) {
		bool size = k->type == CONF_SIZE;
		size_t n = size ? 3 : 4;
		for (size_t i = 0; v != 0 && i < n; i++) {
			int64_t m = size ? sizes[i].mult : times[i].mult;
			if (v % m == 0) {
				snprintf(out, cap, "%" PRId64 "%s", v / m,
				         size ? sizes[i].unit : times[i].unit);
				return;
			}
		}
		snprintf(out, cap, "%" PRId64 "%s", v, size ? " bytes" : "ms");
		return;
	}
	snprintf(out, cap, "%" PRId64, v);
}

/* Converts text to the key's type into it; returns 0 or -1 after reporting. */
static int
convert(struct loader *ld, struct conf_item *it, unsigned line, const char *s, size_t n,
        enum toml_type tt)
{
	const struct conf_key *k = it->key;
	char tmp[160];
	int bad = 0;
	int64_t v = 0;

	switch (k->type) {
	case CONF_STRING:
	case CONF_PATH:
	case CONF_MACRO:
		if (tt != TOML_STRING && k->type != CONF_MACRO) {
			bad = 1;
			break;
		}
		it->str = xstrndup(s, n);
		break;
	case CONF_ENUM: {
		bad = 1;
		const char *c = k->choices;
		while (tt == TOML_STRING && c && *c) {
			const char *bar = strchr(c, '|');
			size_t cl = bar ? (size_t)(bar - c) : strlen(c);
			if (cl == n && memcmp(c, s, n) == 0) {
				bad = 0;
				break;
			}
			c = bar ? bar + 1 : NULL;
		}
		if (!bad)
			it->str = xstrndup(s, n);
		break;
	}
	case CONF_INTEGER:
		bad = (tt != TOML_INTEGER && tt != TOML_STRING) || str_to_i64(span_make(s, n), &v);
		break;
	case CONF_SIZE:
		bad = (tt != TOML_INTEGER && tt != TOML_STRING) || parse_size(s, n, &v);
		break;
	case CONF_DURATION:
		bad = tt != TOML_STRING || parse_duration(s, n, &v);
		break;
	case CONF_BOOL:
		if ((tt == TOML_BOOL || tt == TOML_STRING) && n == 4 && memcmp(s, "true", 4) == 0)
			v = 1;
		else if ((tt == TOML_BOOL || tt == TOML_STRING) && n == 5 &&
		         memcmp(s, "false", 5) == 0)
			v = 0;
		else
			bad = 1;
		break;
	case CONF_MODE:
		bad = tt != TOML_STRING || n == 0 || n > 4;
		for (size_t i = 0; !bad && i < n; i++) {
			if (s[i] < '0' || s[i] > '7')
				bad = 1;
			else
				v = v * 8 + (s[i] - '0');
		}
		bad = bad || v > 0777;
		break;
	case CONF_LIST:
	case CONF_EXPR:
		bad = 1; /* handled elsewhere */
		break;
	}
	if (bad) {
		conf_error(ld, line, it->name, "%s", conf_type_msg(k, tmp, sizeof(tmp)));
		return -1;
	}
	it->num = v;
	if ((k->type == CONF_INTEGER || k->type == CONF_SIZE || k->type == CONF_DURATION) &&
	    (k->min != 0 || k->max != 0) && (v < k->min || v > k->max)) {
		char lo[32], hi[32];
		conf_format_bound(k, k->min, lo, sizeof(lo));
		conf_format_bound(k, k->max, hi, sizeof(hi));
		conf_error(ld, line, it->name, "must be between %s and %s", lo, hi);
		return -1;
	}
	if (k->validate && it->str) {
		struct expr_value ev = { .type = EXPR_STRING };
		struct err e = { 0 };
		ev.u.s.p = it->str;
		ev.u.s.len = strlen(it->str);
		if (k->validate(&ev, &e) != 0) {
			conf_error(ld, line, it->name, "%s", e.msg);
			return -1;
		}
	}
	return 0;
}

void
conf_set_scalar(struct loader *ld, struct conf_item *it, const struct toml_flat *f)
{
	char *s = NULL;
	size_t n = 0;

	if (conf_scalar_text(ld, it->name, f, &s, &n) != 0)
		return;
	(void)convert(ld, it, f->line, s, n, f->type);
	free(s);
}

static void
list_add(struct conf_item *it, const char *s, size_t n)
{
	it->list = xreallocarray(it->list, it->nlist + 1, sizeof(*it->list));
	it->list[it->nlist++] = xstrndup(s, n);
}

void
conf_set_default(struct loader *ld, struct conf_item *it)
{
	const struct conf_key *k = it->key;

	if (k->def == NULL)
		return;
	it->has_value = true;
	if (k->type == CONF_EXPR)
		return; /* def_expr is compiled by the caller */
	if (k->type == CONF_LIST) {
		const char *p = k->def;
		while (*p) {
			const char *comma = strchr(p, ',');
			struct span s =
			        span_trim(span_make(p, comma ? (size_t)(comma - p) : strlen(p)));
			if (s.len)
				list_add(it, s.p, s.len);
			if (comma == NULL)
				break;
			p = comma + 1;
		}
		return;
	}
	enum toml_type tt = TOML_STRING;
	if (k->type == CONF_BOOL)
		tt = TOML_BOOL;
	(void)convert(ld, it, 0, k->def, strlen(k->def), tt);
}

void
conf_set_list(struct loader *ld, struct conf_item *it, const struct raw *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct toml_flat *f = r->e[i].f;
		char *s = NULL;
		size_t n = 0;
		if (f->type == TOML_ARRAY && f->value_len == 0)
			continue; /* an empty array */
		if (f->type != TOML_STRING) {
			conf_error(ld, f->line, it->name, "expected a list of strings");
			return;
		}
		if (conf_scalar_text(ld, it->name, f, &s, &n) != 0)
			return;
		if (r->e[i].part == PART_PLAIN && n == 0) {
			free(s);
			continue; /* "" is the empty list */
		}
		if (it->key->validate) {
			/* a list key's validator checks each item */
			struct expr_value ev = { .type = EXPR_STRING };
			struct err e = { 0 };
			ev.u.s.p = s;
			ev.u.s.len = n;
			if (it->key->validate(&ev, &e) != 0) {
				conf_error(ld, f->line, it->name, "%s", e.msg);
				free(s);
				return;
			}
		}
		list_add(it, s, n);
		free(s);
	}
}

/* ------------------------------------------------------------------ display */

static void
quote(struct buf *b, const char *s, size_t n)
{
	(void)buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			(void)buf_printf(b, "\\%c", c);
		else if (c == '\n')
			(void)buf_append_str(b, "\\n");
		else if (c == '\t')
			(void)buf_append_str(b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			(void)buf_printf(b, "\\u%04x", c);
		else
			(void)buf_putc(b, (char)c);
	}
	(void)buf_putc(b, '"');
}

static void
display_flat(struct buf *b, const struct toml_flat *f)
{
	if (f->type == TOML_STRING)
		quote(b, f->value, f->value_len);
	else if (f->type == TOML_ARRAY)
		(void)buf_append_str(b, "[]");
	else
		(void)buf_append(b, f->value, f->value_len);
}

void
conf_display(struct conf_item *it, const struct raw *r)
{
	struct buf b;

	buf_init(&b, 65536);
	if (r->e[0].part == PART_PLAIN) {
		display_flat(&b, r->e[0].f);
	} else if (r->e[0].part == PART_ITEM) {
		(void)buf_putc(&b, '[');
		for (size_t i = 0; i < r->n; i++) {
			if (i)
				(void)buf_append_str(&b, ", ");
			display_flat(&b, r->e[i].f);
		}
		(void)buf_putc(&b, ']');
	} else {
		unsigned last = (unsigned)-1;
		(void)buf_putc(&b, '[');
		for (size_t i = 0; i < r->n; i++) {
			static const char *const names[] = { "", "", "if", "then", "else" };
			if (r->e[i].index != last) {
				(void)buf_append_str(&b, last == (unsigned)-1 ? "{ " : " }, { ");
				last = r->e[i].index;
			} else {
				(void)buf_append_str(&b, ", ");
			}
			(void)buf_printf(&b, "%s = ", names[r->e[i].part]);
			display_flat(&b, r->e[i].f);
		}
		(void)buf_append_str(&b, " }]");
	}
	free(it->display);
	it->display = buf_steal(&b, NULL);
}
