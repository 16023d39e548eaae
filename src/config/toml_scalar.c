/*
 * toml_scalar.c - TOML 1.0.0 scalar values: integers (decimal, 0x, 0o, 0b; underscores
 * between digits; 64-bit range), floats (fraction, exponent, inf, nan), booleans, strings
 * (via toml_string()) and the four date-time kinds of RFC 3339 as TOML restricts them
 * (toml.io/en/v1.0.0 "Integer", "Float", "Offset Date-Time" ... "Local Time").
 *
 * Works on one struct toml_parser (one thread at a time); errors through toml_err_at().
 */
#include "config/toml_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/xalloc.h"

/* ---------------------------------------------------------------- numbers */

/*
 * Digits of base at t[*i..n) with underscores only between digits.  Returns the number
 * of digits read (0 when none) or -1 for a misplaced underscore.
 */
static int
scan_digits(const char *t, size_t n, size_t *i, int base)
{
	int count = 0;
	bool prev_digit = false;

	while (*i < n) {
		int c = (unsigned char)t[*i];
		int d = hex_val(c);
		if (d >= 0 && d < base) {
			count++;
			prev_digit = true;
		} else if (c == '_') {
			if (!prev_digit || *i + 1 >= n || hex_val(t[*i + 1]) < 0 ||
			    hex_val(t[*i + 1]) >= base)
				return -1;
			prev_digit = false;
		} else {
			break;
		}
		(*i)++;
	}
	return count;
}

/* Shortest text that reads back as f, always with a '.' or exponent. */
static char *
float_text(double f, size_t *len)
{
	char tmp[40];

	if (isnan(f)) {
		str_copy(tmp, sizeof(tmp), "nan");
	} else if (isinf(f)) {
		str_copy(tmp, sizeof(tmp), f < 0 ? "-inf" : "inf");
	} else {
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(tmp, sizeof(tmp), "%.*g", prec, f);
			if (strtod(tmp, NULL) == f)
				break;
		}
		if (strpbrk(tmp, ".e") == NULL) {
			size_t l = strlen(tmp);
			memcpy(tmp + l, ".0", 3);
		}
	}
	*len = strlen(tmp);
	return xstrndup(tmp, *len);
}

/* The number token, quoted, for a message (only built on errors). */
static const char *
num_tok(const char *t, size_t n, char *out)
{
	toml_repr(t, n, out, 64);
	return out;
}

static int
lex_number(struct toml_parser *p, struct toml_value *v, size_t start, size_t end)
{
	const char *t = p->s + start;
	size_t n = end - start;
	size_t i = 0;
	bool neg = false;
	char tok[64];

	if (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-';
		i = 1;
	}
	if (n - i == 3 && (memcmp(t + i, "inf", 3) == 0 || memcmp(t + i, "nan", 3) == 0)) {
		v->type = TOML_FLOAT;
		v->f = t[i] == 'i' ? (neg ? -INFINITY : INFINITY) : NAN;
		return 0;
	}
	if (i == 0 && n > 1 && t[0] == '0' && (t[1] == 'x' || t[1] == 'o' || t[1] == 'b')) {
		int base = t[1] == 'x' ? 16 : t[1] == 'o' ? 8 : 2;
		uint64_t u = 0;
		size_t j = 2;
		int nd = scan_digits(t, n, &j, base);
		if (nd < 0)
			return toml_err_at(p, start,
			                   "misplaced underscore in %s: underscores must be "
			                   "between digits",
			                   num_tok(t, n, tok));
		if (nd == 0 || j != n)
			return toml_err_at(p, start, "invalid %s integer %s",
			                   base == 16  ? "hexadecimal"
			                   : base == 8 ? "octal"
			                               : "binary",
			                   num_tok(t, n, tok));
		for (size_t k = 2; k < n; k++) {
			if (t[k] == '_')
				continue;
			uint64_t d = (uint64_t)hex_val(t[k]);
			if (u > ((uint64_t)INT64_MAX - d) / (uint64_t)base)
				return toml_err_at(p, start, "integer %s does not fit in 64 bits",
				                   num_tok(t, n, tok));
			u = u * (uint64_t)base + d;
		}
		v->type = TOML_INTEGER;
		v->i = (int64_t)u;
		return 0;
	}
	if (n - i > 1 && t[i] == '0' && strchr("xobXOB", t[i + 1]) != NULL)
		return toml_err_at(p, start,
		                   i > 0 ? "invalid integer %s: hexadecimal, octal and binary "
		                           "integers cannot have a sign"
		                         : "invalid integer %s: the prefix must be 0x, 0o or 0b",
		                   num_tok(t, n, tok));
	size_t int_start = i;
	int nd = scan_digits(t, n, &i, 10);
	if (nd < 0)
		return toml_err_at(p, start,
		                   "misplaced underscore in %s: underscores must be between digits",
		                   num_tok(t, n, tok));
	if (nd == 0)
		return toml_err_at(p, start, "invalid value %s (strings must be quoted)",
		                   num_tok(t, n, tok));
	if (nd > 1 && t[int_start] == '0')
		return toml_err_at(p, start, "leading zeros are not allowed in %s",
		                   num_tok(t, n, tok));
	bool is_float = false;
	if (i < n && t[i] == '.') {
		i++;
		is_float = true;
		nd = scan_digits(t, n, &i, 10);
		if (nd <= 0)
			return toml_err_at(p, start,
			                   nd < 0 ? "misplaced underscore in %s"
			                          : "invalid float %s: expected digits after \".\"",
			                   num_tok(t, n, tok));
	}
	if (i < n && (t[i] == 'e' || t[i] == 'E')) {
		i++;
		is_float = true;
		if (i < n && (t[i] == '+' || t[i] == '-'))
			i++;
		nd = scan_digits(t, n, &i, 10);
		if (nd <= 0)
			return toml_err_at(
			        p, start,
			        nd < 0 ? "misplaced underscore in %s"
			               : "invalid float %s: expected digits in the exponent",
			        num_tok(t, n, tok));
	}
	if (i != n)
		return toml_err_at(p, start, "invalid number %s", num_tok(t, n, tok));
	if (!is_float) {
		uint64_t u = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
		for (size_t k = int_start; k < n; k++) {
			if (t[k] == '_')
				continue;
			uint64_t d = (uint64_t)(t[k] - '0');
			if (u > (lim - d) / 10)
				return toml_err_at(p, start, "integer %s does not fit in 64 bits",
				                   num_tok(t, n, tok));
			u = u * 10 + d;
		}
		v->type = TOML_INTEGER;
		v->i = neg ? (u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u) : (int64_t)u;
		return 0;
	}
	char *clean = xmalloc(n + 1);
	size_t m = 0;
	for (size_t k = 0; k < n; k++)
		if (t[k] != '_')
			clean[m++] = t[k];
	clean[m] = '\0';
	v->f = strtod(clean, NULL);
	free(clean);
	if (isinf(v->f))
		return toml_err_at(p, start, "float %s is out of range", num_tok(t, n, tok));
	v->type = TOML_FLOAT;
	return 0;
}

/* ---------------------------------------------------------------- date-times */

static bool
digits_at(const struct toml_parser *p, size_t off, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (!is_digit(peek_at(p, off + k)))
			return false;
	return true;
}

static int
num_at(const struct toml_parser *p, size_t off, size_t n)
{
	int v = 0;
	for (size_t k = 0; k < n; k++)
		v = v * 10 + (p->s[off + k] - '0');
	return v;
}

static int
days_in_month(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

/* hh:mm:ss[.frac] at *q; advances *q. */
static int
lex_time(struct toml_parser *p, size_t start, size_t *q)
{
	size_t o = *q;
	if (!digits_at(p, o, 2) || peek_at(p, o + 2) != ':' || !digits_at(p, o + 3, 2))
		return toml_err_at(p, start, "invalid time: expected hh:mm:ss");
	if (peek_at(p, o + 5) != ':' || !digits_at(p, o + 6, 2))
		return toml_err_at(p, start,
		                   "invalid time: expected hh:mm:ss (seconds are required)");
	int h = num_at(p, o, 2), mi = num_at(p, o + 3, 2), s = num_at(p, o + 6, 2);
	if (h > 23)
		return toml_err_at(p, start, "invalid time: hour %02d is not 00-23", h);
	if (mi > 59)
		return toml_err_at(p, start, "invalid time: minute %02d is not 00-59", mi);
	if (s > 60)
		return toml_err_at(p, start, "invalid time: second %02d is not 00-60", s);
	o += 8;
	if (peek_at(p, o) == '.') {
		o++;
		if (!is_digit(peek_at(p, o)))
			return toml_err_at(p, start, "invalid time: expected digits after \".\"");
		while (is_digit(peek_at(p, o)))
			o++;
	}
	*q = o;
	return 0;
}

static int
lex_datetime(struct toml_parser *p, struct toml_value *v, size_t start)
{
	size_t q = start;
	bool has_date = false, has_time = false, has_off = false;

	if (digits_at(p, q, 4) && peek_at(p, q + 4) == '-') {
		if (!digits_at(p, q + 5, 2) || peek_at(p, q + 7) != '-' ||
		    !digits_at(p, q + 8, 2) || is_digit(peek_at(p, q + 10)))
			return toml_err_at(p, start, "invalid date: expected YYYY-MM-DD");
		int y = num_at(p, q, 4), m = num_at(p, q + 5, 2), d = num_at(p, q + 8, 2);
		if (m < 1 || m > 12)
			return toml_err_at(p, start, "invalid date: month %02d is not 01-12", m);
		if (d < 1 || d > days_in_month(y, m))
			return toml_err_at(p, start,
			                   "invalid date: day %02d is not 01-%02d for %04d-%02d", d,
			                   days_in_month(y, m), y, m);
		has_date = true;
		q += 10;
		int c = peek_at(p, q);
		if (c == 'T' || c == 't' ||
		    (c == ' ' && digits_at(p, q + 1, 2) && peek_at(p, q + 3) == ':')) {
			q++;
			if (lex_time(p, start, &q) != 0)
				return ERR_INVALID;
			has_time = true;
		}
	} else {
		if (lex_time(p, start, &q) != 0)
			return ERR_INVALID;
		has_time = true;
	}
	if (has_date && has_time) {
		int c = peek_at(p, q);
		if (c == 'Z' || c == 'z') {
			q++;
			has_off = true;
		} else if (c == '+' || c == '-') {
			if (!digits_at(p, q + 1, 2) || peek_at(p, q + 3) != ':' ||
			    !digits_at(p, q + 4, 2))
				return toml_err_at(
				        p, start,
				        "invalid date-time: expected a time offset like +hh:mm");
			int oh = num_at(p, q + 1, 2), om = num_at(p, q + 4, 2);
			if (oh > 23 || om > 59)
				return toml_err_at(p, start,
				                   "invalid date-time: offset %.6s out of range",
				                   p->s + q);
			q += 6;
			has_off = true;
		}
	}
	v->type = has_off                ? TOML_DATETIME
	          : has_date && has_time ? TOML_DATETIME_LOCAL
	          : has_date             ? TOML_DATE_LOCAL
	                                 : TOML_TIME_LOCAL;
	p->pos = q;
	return 0;
}

/* ---------------------------------------------------------------- scalars */

/*
 * A string, number, boolean or date-time at p->pos (not an array or inline table):
 * sets v's type, value, text and raw text.
 */
int
toml_scalar(struct toml_parser *p, struct toml_value *v)
{
	size_t start = p->pos;
	int c = peek(p);
	char what[64];

	if (c == '"' || c == '\'') {
		struct buf b;
		bool ml;
		buf_init(&b, p->len);
		int rc = toml_string(p, &b, &ml);
		if (rc == 0) {
			v->type = TOML_STRING;
			v->text = buf_steal(&b, &v->text_len);
		}
		buf_clear(&b);
		return rc;
	}
	if ((digits_at(p, start, 4) && peek_at(p, start + 4) == '-') ||
	    (digits_at(p, start, 2) && peek_at(p, start + 2) == ':')) {
		if (lex_datetime(p, v, start) != 0)
			return ERR_INVALID;
		v->raw = xstrndup(p->s + start, p->pos - start);
		v->text = xstrndup(p->s + start, p->pos - start);
		v->text_len = p->pos - start;
		return 0;
	}
	size_t end = start;
	while (end < p->len && (is_bare(p->s[end]) || p->s[end] == '+' || p->s[end] == '.'))
		end++;
	if (end == start) {
		toml_describe(p, start, what, sizeof(what));
		return toml_err_at(p, start,
		                   "expected a value (string, number, boolean, date-time, array or "
		                   "inline table), found %s",
		                   what);
	}
	size_t n = end - start;
	if ((n == 4 && memcmp(p->s + start, "true", 4) == 0) ||
	    (n == 5 && memcmp(p->s + start, "false", 5) == 0)) {
		v->type = TOML_BOOL;
		v->b = n == 4;
	} else if (is_digit(c) || c == '+' || c == '-' || c == 'i' || c == 'n') {
		if (lex_number(p, v, start, end) != 0)
			return ERR_INVALID;
	} else {
		toml_repr(p->s + start, n, what, sizeof(what));
		return toml_err_at(p, start, "invalid value %s (strings must be quoted)", what);
	}
	p->pos = end;
	v->raw = xstrndup(p->s + start, n);
	if (v->type == TOML_INTEGER) {
		char tmp[24];
		snprintf(tmp, sizeof(tmp), "%" PRId64, v->i);
		v->text_len = strlen(tmp);
		v->text = xstrndup(tmp, v->text_len);
	} else if (v->type == TOML_FLOAT) {
		v->text = float_text(v->f, &v->text_len);
	} else {
		v->text_len = n;
		v->text = xstrndup(p->s + start, n);
	}
	return 0;
}
