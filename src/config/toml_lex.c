/*
 * toml_lex.c - TOML 1.0.0 tokens: positions and messages, white space, comments, keys
 * and strings (basic, literal, multi-line; escapes).  Follows the ABNF of
 * toml.io/en/v1.0.0 (toml.abnf); scalar values are in toml_scalar.c.
 *
 * Every function works on one struct toml_parser (one thread at a time) and reports
 * problems through toml_err_at() as "NAME:LINE:COL: message".  The input has already
 * been checked to be valid UTF-8, so multi-byte characters are copied as they are.
 */
#include "config/toml_int.h"

#include <inttypes.h>
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
	size_t max = cap > 16 ? cap - 16 : 0;

	size_t i = 0;

	buf_init(&b, cap);
	buf_putc(&b, '"');
	for (; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		/* stop at a character boundary so that the message stays UTF-8 */
		if (b.len >= max && (c & 0xC0) != 0x80)
			break;
		if (c == '"' || c == '\\')
			buf_printf(&b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			buf_printf(&b, "\\u%04x", c);
		else
			buf_putc(&b, (char)c);
	}
	if (i < len)
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

#define ESCAPES "\\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX"

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
		if (c > 0x20 && c < 0x7f)
			return toml_err_at(
			        p, at, "invalid escape \\%c in string; valid escapes are " ESCAPES,
			        c);
		char what[32];
		toml_describe(p, p->pos + 1, what, sizeof(what));
		return toml_err_at(
		        p, at,
		        "invalid escape: backslash followed by %s; valid escapes are " ESCAPES,
		        what);
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
int
toml_string(struct toml_parser *p, struct buf *out, bool *multi)
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
			rc = toml_string(p, &b, &ml);
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
