/*
 * toml_lex.c - TOML 1.0.0 tokens: positions and messages, white space, comments, keys,
 * strings (basic, literal, multi-line; escapes), integers, floats, booleans and the four
 * date-time kinds.  Follows the ABNF of toml.io/en/v1.0.0 (toml.abnf).
 *
 * Every function works on one struct toml_parser (one thread at a time) and reports
 * problems through toml_err_at() as "NAME:LINE:COL: message".  The input has already
 * been checked to be valid UTF-8, so multi-byte characters are copied as they are.
 */
#include "config/toml_int.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/xalloc.h"

/* ---------------------------------------------------------------- positions, errors */

/*
 * Line and column of byte off.  Columns count characters (not UTF-8 continuation
 * bytes).  Amortized linear for increasing offsets; an earlier offset rescans.
 */
void
toml_pos(struct toml_parser *p, size_t off, unsigned *line, unsigned *col)
{
	if (off > p->len)
		off = p->len;
	if (off < p->cur_off || p->cur_line == 0) {
		p->cur_off = p->bom;
		p->cur_line = 1;
		p->cur_col = 1;
	}
	for (size_t i = p->cur_off; i < off; i++) {
		unsigned char c = (unsigned char)p->s[i];
		if (c == '\n') {
			p->cur_line++;
			p->cur_col = 1;
		} else if ((c & 0xC0) != 0x80) {
			p->cur_col++;
		}
	}
	p->cur_off = off;
	*line = p->cur_line;
	*col = p->cur_col;
}

int
toml_err_at(struct toml_parser *p, size_t off, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	unsigned line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	toml_pos(p, off, &line, &col);
	return err_set(p->e, ERR_INVALID, "%s:%u:%u: %s", p->name, line, col, msg);
}

/* A quoted, escaped rendering of s[0..len) for messages: "a.b", "x\"y", "\u0001". */
void
toml_repr(const char *s, size_t len, char *out, size_t cap)
{
	struct buf b;
	size_t max = cap > 8 ? cap - 8 : 0;

	buf_init(&b, cap);
	buf_putc(&b, '"');
	for (size_t i = 0; i < len && b.len < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			buf_printf(&b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			buf_printf(&b, "\\u%04x", c);
		else
			buf_putc(&b, (char)c);
	}
	if (b.len >= max && len > 0)
		buf_append_str(&b, "...");
	buf_putc(&b, '"');
	str_copy(out, cap, buf_cstr(&b));
	buf_clear(&b);
}

/* What is at off, for "found X" in messages. */
void
toml_describe(struct toml_parser *p, size_t off, char *out, size_t cap)
{
	if (off >= p->len) {
		str_copy(out, cap, "end of file");
		return;
	}
	unsigned char c = (unsigned char)p->s[off];
	if (c == '\n' || (c == '\r' && off + 1 < p->len && p->s[off + 1] == '\n'))
		str_copy(out, cap, "end of line");
	else if (c < 0x20 || c == 0x7f)
		snprintf(out, cap, "control character U+%04X", c);
	else if (c < 0x80)
		snprintf(out, cap, "\"%c\"", c);
	else {
		size_t n = 1;
		while (off + n < p->len && ((unsigned char)p->s[off + n] & 0xC0) == 0x80 && n < 4)
			n++;
		snprintf(out, cap, "\"%.*s\"", (int)n, p->s + off);
	}
}

static int
peek(const struct toml_parser *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int
peek_at(const struct toml_parser *p, size_t off)
{
	return off < p->len ? (unsigned char)p->s[off] : -1;
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool
is_bare(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
	       c == '-';
}

/* Control characters TOML forbids in strings and comments (tab is allowed). */
static bool
is_control(int c)
{
	return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

/* ---------------------------------------------------------------- white space, comments */

void
toml_skip_ws(struct toml_parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
		p->pos++;
}

/* At '#': consumes the comment up to (not including) the line end. */
int
toml_comment(struct toml_parser *p)
{
	p->pos++;
	while (p->pos < p->len) {
		int c = peek(p);
		if (c == '\n')
			break;
		if (c == '\r' && peek_at(p, p->pos + 1) == '\n')
			break;
		if (is_control(c))
			return toml_err_at(p, p->pos, "control character U+%04X in comment", c);
		p->pos++;
	}
	return 0;
}

/*
 * After a value or header: optional white space and comment, then a line end or the
 * end of the file.  `after` names what came before, for the message.
 */
int
toml_eol(struct toml_parser *p, const char *after)
{
	char what[32];

	toml_skip_ws(p);
	if (peek(p) == '#' && toml_comment(p) != 0)
		return ERR_INVALID;
	if (p->pos >= p->len)
		return 0;
	if (p->s[p->pos] == '\n') {
		p->pos++;
		return 0;
	}
	if (p->s[p->pos] == '\r' && peek_at(p, p->pos + 1) == '\n') {
		p->pos += 2;
		return 0;
	}
	if (p->s[p->pos] == '\r')
		return toml_err_at(p, p->pos, "carriage return not followed by a line feed");
	toml_describe(p, p->pos, what, sizeof(what));
	return toml_err_at(p, p->pos, "expected a line end after %s, found %s", after, what);
}

/* ---------------------------------------------------------------- strings */

static int
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

/* At '\\' inside a basic string: appends the decoded escape. */
static int
lex_escape(struct toml_parser *p, struct buf *out, bool multi)
{
	size_t at = p->pos;
	int c = peek_at(p, p->pos + 1);
	int nhex = 0;

	switch (c) {
	case 'b':
		buf_putc(out, '\b');
		break;
	case 't':
		buf_putc(out, '\t');
		break;
	case 'n':
		buf_putc(out, '\n');
		break;
	case 'f':
		buf_putc(out, '\f');
		break;
	case 'r':
		buf_putc(out, '\r');
		break;
	case '"':
		buf_putc(out, '"');
		break;
	case '\\':
		buf_putc(out, '\\');
		break;
	case 'u':
		nhex = 4;
		break;
	case 'U':
		nhex = 8;
		break;
	default:
		if (multi) {
			/* line-ending backslash: "\" [ws] newline, then skip ws and newlines */
			size_t q = p->pos + 1;
			while (q < p->len && (p->s[q] == ' ' || p->s[q] == '\t'))
				q++;
			if (peek_at(p, q) == '\n' ||
			    (peek_at(p, q) == '\r' && peek_at(p, q + 1) == '\n')) {
				while (q < p->len) {
					int d = p->s[q];
					if (d == ' ' || d == '\t' || d == '\n')
						q++;
					else if (d == '\r' && peek_at(p, q + 1) == '\n')
						q += 2;
					else
						break;
				}
				p->pos = q;
				return 0;
			}
		}
		if (c < 0 || c == '\n' || c == '\r')
			return toml_err_at(
			        p, at, "backslash at the end of a line in a single-line string");
		char what[32];
		toml_describe(p, p->pos + 1, what, sizeof(what));
		return toml_err_at(
		        p, at,
		        "invalid escape \\%s in string; valid escapes are \\b \\t \\n \\f "
		        "\\r \\\" \\\\ \\uXXXX \\UXXXXXXXX",
		        c < 0x80 && c > 0x20 ? (char[2]){ (char)c, 0 } : what);
	}
	if (nhex == 0) {
		p->pos += 2;
		return 0;
	}
	uint32_t cp = 0;
	for (int i = 0; i < nhex; i++) {
		int h = hex_val(peek_at(p, p->pos + 2 + (size_t)i));
		if (h < 0)
			return toml_err_at(p, at, "invalid \\%c escape: expected %d hex digits", c,
			                   nhex);
		cp = cp * 16 + (uint32_t)h;
	}
	char enc[4];
	size_t n = cp <= 0x10FFFF ? utf8_encode(cp, enc) : 0;
	if (n == 0)
		return toml_err_at(p, at, "\\%c%0*" PRIX32 " is not a Unicode scalar value", c,
		                   nhex, cp);
	buf_append(out, enc, n);
	p->pos += 2 + (size_t)nhex;
	return 0;
}

/* Counts the run of quote characters q at p->pos. */
static size_t
quote_run(const struct toml_parser *p, char q)
{
	size_t n = 0;
	while (p->pos + n < p->len && p->s[p->pos + n] == q)
		n++;
	return n;
}

/*
 * At the opening quote of any string form: decodes it into out (reset first).
 * *multi is set when it was a multi-line form.
 */
static int
lex_string(struct toml_parser *p, struct buf *out, bool *multi)
{
	size_t open = p->pos;
	char q = p->s[p->pos];
	bool basic = q == '"';
	bool ml = quote_run(p, q) >= 3;
	const char *kind = basic ? (ml ? "multi-line string" : "string")
	                         : (ml ? "multi-line literal string" : "literal string");

	buf_reset(out);
	*multi = ml;
	p->pos += ml ? 3 : 1;
	if (ml) {
		/* a newline right after the opening delimiter is trimmed */
		if (peek(p) == '\n')
			p->pos++;
		else if (peek(p) == '\r' && peek_at(p, p->pos + 1) == '\n')
			p->pos += 2;
	}
	for (;;) {
		int c = peek(p);
		if (c < 0)
			return toml_err_at(p, open, "unterminated %s: missing closing %s", kind,
			                   ml ? (basic ? "\"\"\"" : "'''") : (basic ? "\"" : "'"));
		if (c == q) {
			if (!ml) {
				p->pos++;
				return 0;
			}
			size_t n = quote_run(p, q);
			if (n < 3) {
				buf_append(out, p->s + p->pos, n);
				p->pos += n;
				continue;
			}
			if (n > 5)
				return toml_err_at(
				        p, p->pos + 5,
				        "too many quotes at the end of a %s; escape them", kind);
			buf_append(out, p->s + p->pos, n - 3);
			p->pos += n;
			return 0;
		}
		if (c == '\\' && basic) {
			if (lex_escape(p, out, ml) != 0)
				return ERR_INVALID;
			continue;
		}
		if (c == '\n' || (c == '\r' && peek_at(p, p->pos + 1) == '\n')) {
			if (!ml)
				return toml_err_at(
				        p, open,
				        "unterminated %s: missing closing %s before the end of "
				        "the line",
				        kind, basic ? "\"" : "'");
			/* CRLF in the file is LF in the value, on every platform */
			buf_putc(out, '\n');
			p->pos += c == '\n' ? 1 : 2;
			continue;
		}
		if (c == '\r')
			return toml_err_at(p, p->pos,
			                   "carriage return not followed by a line feed in %s",
			                   kind);
		if (is_control(c))
			return basic ? toml_err_at(p, p->pos,
			                           "control character U+%04X in %s; write it as "
			                           "\\u%04X",
			                           c, kind, c)
			             : toml_err_at(p, p->pos, "control character U+%04X in %s", c,
			                           kind);
		/* copy a run of ordinary bytes at once */
		size_t start = p->pos;
		while (p->pos < p->len) {
			int d = (unsigned char)p->s[p->pos];
			if (d == q || (d == '\\' && basic) || is_control(d))
				break;
			p->pos++;
		}
		if (buf_append(out, p->s + start, p->pos - start) != 0)
			return toml_err_at(p, start, "string too long");
	}
}

/* ---------------------------------------------------------------- keys */

void
toml_keypath_clear(struct toml_keypath *kp)
{
	for (size_t i = 0; i < kp->n; i++)
		free(kp->v[i].s);
	free(kp->v);
	kp->v = NULL;
	kp->n = kp->cap = 0;
}

static void
keypath_add(struct toml_parser *p, struct toml_keypath *kp, const char *s, size_t len, size_t off)
{
	if (kp->n == kp->cap) {
		kp->cap = kp->cap ? kp->cap * 2 : 4;
		kp->v = xrealloc(kp->v, kp->cap * sizeof(*kp->v));
	}
	kp->v[kp->n].s = xmalloc(len + 1);
	memcpy(kp->v[kp->n].s, s, len);
	kp->v[kp->n].s[len] = '\0';
	kp->v[kp->n].len = len;
	kp->v[kp->n].off = off;
	toml_pos(p, off, &kp->v[kp->n].line, &kp->v[kp->n].col);
	kp->n++;
}

/*
 * A simple or dotted key at p->pos (leading white space allowed); stops after the
 * white space that follows it.
 */
int
toml_key(struct toml_parser *p, struct toml_keypath *kp)
{
	char what[32];
	struct buf b;
	int rc = 0;

	buf_init(&b, p->len);
	for (;;) {
		toml_skip_ws(p);
		size_t off = p->pos;
		int c = peek(p);
		if (is_bare(c)) {
			while (is_bare(peek(p)))
				p->pos++;
			keypath_add(p, kp, p->s + off, p->pos - off, off);
		} else if (c == '"' || c == '\'') {
			bool ml;
			if (quote_run(p, (char)c) >= 3) {
				rc = toml_err_at(p, off, "a multi-line string cannot be a key");
				break;
			}
			rc = lex_string(p, &b, &ml);
			if (rc != 0)
				break;
			keypath_add(p, kp, buf_cstr(&b), b.len, off);
		} else {
			toml_describe(p, off, what, sizeof(what));
			rc = toml_err_at(p, off,
			                 kp->n == 0 ? "expected a key, found %s"
			                            : "expected a key after \".\", found %s",
			                 what);
			break;
		}
		if (kp->n > p->max_depth) {
			rc = toml_err_at(p, off, "key has more than %u parts (nesting limit)",
			                 p->max_depth);
			break;
		}
		toml_skip_ws(p);
		if (peek(p) != '.')
			break;
		p->pos++;
	}
	buf_clear(&b);
	return rc;
}

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
	errno = 0;
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
		int rc = lex_string(p, &b, &ml);
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
