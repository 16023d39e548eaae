/*
 * mime.c - zero-copy MIME parser: header fields, multipart structure, Content-Type
 * parameters.  See mime.h.  Decodings are in mime_decode.c, the fields a report
 * receiver reads in mime_fields.c, the report locator in its own file.
 *
 * RFCs: 5322 section 2.2 (header fields, folding), 2045 sections 5-6 (Content-Type,
 * Content-Transfer-Encoding, base64, quoted-printable), 2046 section 5.1 (multipart
 * boundaries: the line ending before a delimiter belongs to the delimiter), 2047
 * (encoded-words), 2231 (parameter continuations and charsets), 2183 (filename).
 *
 * The parser follows OpenSMTPD's rfc5322.c in spirit: hard caps on everything, errors
 * instead of guesses where a cap is hit, tolerance everywhere else (bare LF, missing
 * closing delimiter, header lines without a colon start the body).  Recursion depth is
 * bounded by max_depth.  Nothing here does I/O; functions are thread-safe on distinct
 * objects.
 */
#include "mail/mime.h"

#include <stdlib.h>
#include <string.h>

#include "mail/mime_int.h"
#include "util/str.h"
#include "util/xalloc.h"

void
mime_limits_default(struct mime_limits *l)
{
	l->max_message = 64u << 20;
	l->max_headers = 1000;
	l->max_name = 1024;
	l->max_value = 64u << 10;
	l->max_parts = 100;
	l->max_depth = 10;
	l->headers_only = false;
}

/* ------------------------------------------------------------------ small helpers */

/* Line number (1-based) of byte p in the message, for error messages. */
static size_t
line_of(const struct mime_msg *m, const char *p)
{
	size_t n = 1;
	for (const char *q = m->raw.p; q < p && q < m->raw.p + m->raw.len; q++)
		if (*q == '\n')
			n++;
	return n;
}

/* End of the line starting at s[pos]: index of '\n' + 1, or s.len. Sets *content_end. */
static size_t
line_end(struct span s, size_t pos, size_t *content_end)
{
	const char *nl = memchr(s.p + pos, '\n', s.len - pos);
	size_t end = nl ? (size_t)(nl - s.p) : s.len;
	size_t ce = end;
	if (ce > pos && nl && s.p[ce - 1] == '\r')
		ce--;
	if (content_end)
		*content_end = ce;
	return nl ? end + 1 : s.len;
}

/* Strips a trailing CRLF or LF. */
static struct span
strip_eol(struct span s)
{
	if (s.len && s.p[s.len - 1] == '\n')
		s.len--;
	if (s.len && s.p[s.len - 1] == '\r')
		s.len--;
	return s;
}

static bool
is_token_char(char c)
{
	unsigned char u = (unsigned char)c;
	if (u <= 32 || u >= 127)
		return false;
	return strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

size_t
mime_skip_cfws(struct span v, size_t i)
{
	while (i < v.len) {
		if (is_fws(v.p[i])) {
			i++;
		} else if (v.p[i] == '(') {
			int depth = 0;
			while (i < v.len) {
				if (v.p[i] == '\\' && i + 1 < v.len) {
					i += 2;
					continue;
				}
				if (v.p[i] == '(')
					depth++;
				else if (v.p[i] == ')' && --depth == 0) {
					i++;
					break;
				}
				i++;
			}
		} else {
			break;
		}
	}
	return i;
}

/* ------------------------------------------------------------------ header access */

long
mime_header_next(const struct mime_msg *m, size_t part, const char *name, long prev)
{
	if (part >= m->nparts)
		return -1;
	const struct mime_part *p = &m->parts[part];
	struct span want = span_cstr(name);
	size_t start = prev < 0 ? p->hdr_first : (size_t)prev + 1;
	for (size_t i = start; i < p->hdr_first + p->hdr_count; i++)
		if (span_eq_nocase(m->hdrs[i].name, want))
			return (long)i;
	return -1;
}

long
mime_header_find(const struct mime_msg *m, size_t part, const char *name)
{
	return mime_header_next(m, part, name, -1);
}

int
mime_unfold(struct span v, struct buf *out)
{
	v = span_trim(v);
	size_t start = out->len;
	for (size_t i = 0; i < v.len; i++) {
		char c = v.p[i];
		if (c == '\r' || c == '\n')
			continue;
		if (buf_putc(out, c) != 0) {
			out->len = start;
			if (out->data)
				out->data[start] = '\0';
			return BUF_ETOOBIG;
		}
	}
	return 0;
}

int
mime_header_get(const struct mime_msg *m, const char *name, struct buf *out)
{
	long h = mime_header_find(m, 0, name);
	if (h < 0)
		return ERR_NOTFOUND;
	return mime_unfold(m->hdrs[h].value, out);
}

/* ------------------------------------------------------------------ parameters */

/* Appends the value at v[*i] (quoted-string or token) to out[*olen..cap). */
static int
param_copy_value(struct span v, size_t *i, char *out, size_t cap, size_t *olen, bool pct)
{
	int rc = 0;
	size_t k = *i;
#define PUT(ch)                                                                                    \
	do {                                                                                       \
		if (*olen + 1 < cap)                                                               \
			out[(*olen)++] = (ch);                                                     \
		else                                                                               \
			rc = ERR_TOOBIG;                                                           \
	} while (0)
	if (k < v.len && v.p[k] == '"') {
		k++;
		while (k < v.len && v.p[k] != '"') {
			char c = v.p[k];
			if (c == '\\' && k + 1 < v.len) {
				PUT(v.p[k + 1]);
				k += 2;
				continue;
			}
			if (c != '\r' && c != '\n')
				PUT(c);
			k++;
		}
		if (k < v.len)
			k++;
	} else {
		while (k < v.len && v.p[k] != ';' && !is_fws(v.p[k])) {
			char c = v.p[k];
			if (pct && c == '%' && k + 2 < v.len) {
				char hex[3] = { v.p[k + 1], v.p[k + 2], 0 };
				char *end;
				unsigned long b = strtoul(hex, &end, 16);
				if (end == hex + 2) {
					PUT((char)b);
					k += 3;
					continue;
				}
			}
			PUT(c);
			k++;
		}
	}
#undef PUT
	out[*olen] = '\0';
	*i = k;
	return rc;
}

/* Position just after the first ';' outside quotes, or v.len. */
static size_t
params_start(struct span v)
{
	bool q = false;
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] == '"')
			q = !q;
		else if (v.p[i] == '\\' && q)
			i++;
		else if (v.p[i] == ';' && !q)
			return i + 1;
	}
	return v.len;
}

/*
 * Walks the parameters; for each one calls back with the attribute and the position
 * of its value.  Returns when cb returns non-zero (that value) or at the end (0).
 */
typedef int (*param_cb)(void *ctx, struct span attr, struct span v, size_t valpos);

static int
params_walk(struct span v, param_cb cb, void *ctx)
{
	size_t i = params_start(v);
	while (i < v.len) {
		i = mime_skip_cfws(v, i);
		size_t a0 = i;
		while (i < v.len && v.p[i] != '=' && v.p[i] != ';' && !is_fws(v.p[i]))
			i++;
		struct span attr = span_make(v.p + a0, i - a0);
		i = mime_skip_cfws(v, i);
		if (i < v.len && v.p[i] == '=') {
			i = mime_skip_cfws(v, i + 1);
			int rc = cb(ctx, attr, v, i);
			if (rc)
				return rc;
			/* skip the value */
			if (i < v.len && v.p[i] == '"') {
				i++;
				while (i < v.len && v.p[i] != '"') {
					if (v.p[i] == '\\')
						i++;
					i++;
				}
				i++;
			}
		}
		while (i < v.len && v.p[i] != ';')
			i++;
		if (i < v.len)
			i++;
	}
	return 0;
}

#define PARAM_SECTIONS 32

struct param_find {
	struct span name;
	size_t plain; /* valpos + 1 of name=, 0 if absent */
	size_t ext;   /* valpos + 1 of name*= */
	size_t sec[PARAM_SECTIONS];
	bool sec_ext[PARAM_SECTIONS];
};

static int
param_find_cb(void *ctx, struct span attr, struct span v, size_t valpos)
{
	struct param_find *f = ctx;
	(void)v;
	if (attr.len < f->name.len || !span_eq_nocase(span_sub(attr, 0, f->name.len), f->name))
		return 0;
	struct span rest = span_sub(attr, f->name.len, attr.len);
	if (rest.len == 0) {
		if (!f->plain)
			f->plain = valpos + 1;
	} else if (rest.len == 1 && rest.p[0] == '*') {
		if (!f->ext)
			f->ext = valpos + 1;
	} else if (rest.p[0] == '*') {
		/* name*N or name*N* */
		struct span num = span_sub(rest, 1, rest.len - 1);
		bool ext = false;
		if (num.len && num.p[num.len - 1] == '*') {
			ext = true;
			num.len--;
		}
		uint64_t n;
		if (str_to_u64(num, &n) == 0 && n < PARAM_SECTIONS && !f->sec[n]) {
			f->sec[n] = valpos + 1;
			f->sec_ext[n] = ext;
		}
	}
	return 0;
}

/* Skips "charset'lang'" of an RFC 2231 extended value that is not quoted. */
static size_t
skip_charset_lang(struct span v, size_t i)
{
	size_t k = i, quotes = 0;
	while (k < v.len && v.p[k] != ';' && !is_fws(v.p[k])) {
		if (v.p[k] == '\'' && ++quotes == 2)
			return k + 1;
		k++;
	}
	return i;
}

int
mime_param(struct span value, const char *name, char *out, size_t cap)
{
	struct param_find f;
	memset(&f, 0, sizeof f);
	f.name = span_cstr(name);
	if (cap == 0)
		return ERR_TOOBIG;
	out[0] = '\0';
	params_walk(value, param_find_cb, &f);
	size_t olen = 0, i;
	if (f.plain) {
		i = f.plain - 1;
		return param_copy_value(value, &i, out, cap, &olen, false);
	}
	if (f.ext) {
		i = skip_charset_lang(value, f.ext - 1);
		return param_copy_value(value, &i, out, cap, &olen, true);
	}
	if (!f.sec[0])
		return -1;
	int rc = 0;
	for (size_t s = 0; s < PARAM_SECTIONS && f.sec[s]; s++) {
		i = f.sec[s] - 1;
		if (s == 0 && f.sec_ext[0])
			i = skip_charset_lang(value, i);
		int r = param_copy_value(value, &i, out, cap, &olen, f.sec_ext[s]);
		if (r)
			rc = r;
	}
	return rc;
}

/* Parses "type/subtype" of a Content-Type value into lower-case out; false if invalid. */
static bool
parse_media_type(struct span v, char out[MIME_TYPE_MAX])
{
	size_t i = mime_skip_cfws(v, 0), o = 0;
	size_t t0 = i;
	while (i < v.len && is_token_char(v.p[i]))
		i++;
	if (i == t0)
		return false;
	size_t t1 = i;
	i = mime_skip_cfws(v, i);
	if (i >= v.len || v.p[i] != '/')
		return false;
	i = mime_skip_cfws(v, i + 1);
	size_t s0 = i;
	while (i < v.len && is_token_char(v.p[i]))
		i++;
	if (i == s0 || (t1 - t0) + (i - s0) + 2 > MIME_TYPE_MAX)
		return false;
	for (size_t k = t0; k < t1; k++)
		out[o++] = ascii_lower(v.p[k]);
	out[o++] = '/';
	for (size_t k = s0; k < i; k++)
		out[o++] = ascii_lower(v.p[k]);
	out[o] = '\0';
	return true;
}

static enum mime_cte
parse_cte(struct span v)
{
	v = span_trim(v);
	size_t n = 0;
	while (n < v.len && is_token_char(v.p[n]))
		n++;
	v.len = n;
	if (span_eq_nocase(v, SPAN_LIT("7bit")) || v.len == 0)
		return MIME_CTE_7BIT;
	if (span_eq_nocase(v, SPAN_LIT("8bit")))
		return MIME_CTE_8BIT;
	if (span_eq_nocase(v, SPAN_LIT("binary")))
		return MIME_CTE_BINARY;
	if (span_eq_nocase(v, SPAN_LIT("quoted-printable")))
		return MIME_CTE_QP;
	if (span_eq_nocase(v, SPAN_LIT("base64")))
		return MIME_CTE_BASE64;
	return MIME_CTE_OTHER;
}

/* ------------------------------------------------------------------ the parser */

static int parse_entity(struct mime_msg *m, struct span raw, int parent, unsigned depth,
                        struct err *e);

/* Appends one header field; checks the caps. */
static int
add_header(struct mime_msg *m, struct span raw_field, size_t colon, struct err *e)
{
	struct mime_header h;
	h.raw = raw_field;
	h.name = span_make(raw_field.p, colon);
	while (h.name.len && is_wsp(h.name.p[h.name.len - 1]))
		h.name.len--; /* obsolete "Subject :" */
	struct span rest = strip_eol(raw_field);
	h.value = span_sub(rest, colon + 1, rest.len);
	if (h.name.len > m->lim.max_name)
		return err_set(e, ERR_TOOBIG,
		               "line %zu: header field name longer than %zu bytes (cap)",
		               line_of(m, raw_field.p), m->lim.max_name);
	if (h.value.len > m->lim.max_value)
		return err_set(e, ERR_TOOBIG,
		               "line %zu: header field %.*s longer than %zu bytes (cap)",
		               line_of(m, raw_field.p), (int)(h.name.len > 64 ? 64 : h.name.len),
		               h.name.p, m->lim.max_value);
	if (m->nhdrs >= m->lim.max_headers)
		return err_set(e, ERR_TOOBIG, "line %zu: more than %zu header fields (cap)",
		               line_of(m, raw_field.p), m->lim.max_headers);
	if ((m->nhdrs & (m->nhdrs - 1)) == 0 || m->nhdrs == 0)
		m->hdrs = xreallocarray(m->hdrs, m->nhdrs ? m->nhdrs * 2 : 16, sizeof *m->hdrs);
	m->hdrs[m->nhdrs++] = h;
	return 0;
}

/*
 * Reads the header block at the start of raw.  Returns 0 and sets *body_off to the
 * first byte of the body.  A line without a colon (or starting with white space before
 * any field) ends the header block and belongs to the body.
 */
static int
parse_headers(struct mime_msg *m, struct span raw, bool top, size_t *hdr_end, size_t *body_off,
              struct err *e)
{
	size_t pos = 0;
	/* an mbox "From " separator line in front of a message */
	if (top && raw.len >= 5 && memcmp(raw.p, "From ", 5) == 0)
		pos = line_end(raw, 0, NULL);
	while (pos < raw.len) {
		size_t ce;
		size_t next = line_end(raw, pos, &ce);
		if (ce == pos) { /* blank line: end of the header block */
			*hdr_end = pos;
			*body_off = next;
			return 0;
		}
		if (is_wsp(raw.p[pos])) {
			break; /* continuation without a field: treat as body */
		}
		const char *colon = memchr(raw.p + pos, ':', ce - pos);
		if (colon == NULL || colon == raw.p + pos)
			break;
		size_t cpos = (size_t)(colon - raw.p) - pos;
		if (cpos > m->lim.max_name)
			return err_set(e, ERR_TOOBIG,
			               "line %zu: header field name longer than %zu bytes (cap)",
			               line_of(m, raw.p + pos), m->lim.max_name);
		/* continuation lines */
		size_t end = next;
		while (end < raw.len && is_wsp(raw.p[end])) {
			/* a whitespace-only line followed by nothing is still folding (obs-FWS) */
			end = line_end(raw, end, NULL);
			if (end - pos > m->lim.max_value + m->lim.max_name + 2)
				return err_set(e, ERR_TOOBIG,
				               "line %zu: header field longer than %zu bytes (cap)",
				               line_of(m, raw.p + pos), m->lim.max_value);
		}
		int rc = add_header(m, span_make(raw.p + pos, end - pos), cpos, e);
		if (rc)
			return rc;
		pos = end;
	}
	*hdr_end = pos;
	*body_off = pos;
	return 0;
}

/* Start of the next delimiter line "--boundary" at or after from; sets *after, *close. */
static const char *
find_delimiter(struct span body, size_t from, struct span delim, size_t *after, bool *close)
{
	while (from < body.len) {
		const char *hit = memmem(body.p + from, body.len - from, delim.p, delim.len);
		if (hit == NULL)
			return NULL;
		size_t off = (size_t)(hit - body.p);
		from = off + 1;
		if (off != 0 && body.p[off - 1] != '\n')
			continue;
		size_t k = off + delim.len;
		bool is_close = false;
		if (k + 1 < body.len + 1 && k + 2 <= body.len && body.p[k] == '-' &&
		    body.p[k + 1] == '-') {
			is_close = true;
			k += 2;
		}
		/* the rest of the line must be transport padding */
		size_t ce;
		size_t next = line_end(body, k, &ce);
		bool pad = true;
		for (size_t j = k; j < ce; j++)
			if (!is_wsp(body.p[j]))
				pad = false;
		if (!pad && !is_close)
			continue;
		*after = next;
		*close = is_close;
		return hit;
	}
	return NULL;
}

static int
parse_multipart(struct mime_msg *m, size_t self, struct span body, const char *boundary,
                unsigned depth, struct err *e)
{
	char dbuf[260];
	size_t blen = strlen(boundary);
	dbuf[0] = '-';
	dbuf[1] = '-';
	memcpy(dbuf + 2, boundary, blen);
	struct span delim = span_make(dbuf, blen + 2);

	size_t after;
	bool close;
	const char *d = find_delimiter(body, 0, delim, &after, &close);
	if (d == NULL || close)
		return 0; /* no parts: stays a leaf */
	m->parts[self].container = true;
	for (;;) {
		size_t start = after, next_after;
		bool next_close;
		const char *nd = find_delimiter(body, start, delim, &next_after, &next_close);
		size_t end = nd ? (size_t)(nd - body.p) : body.len;
		/* the line ending before the delimiter belongs to the delimiter */
		if (nd) {
			if (end > start && body.p[end - 1] == '\n')
				end--;
			if (end > start && body.p[end - 1] == '\r')
				end--;
		}
		if (end < start)
			end = start;
		int rc = parse_entity(m, span_make(body.p + start, end - start), (int)self,
		                      depth + 1, e);
		if (rc)
			return rc;
		if (nd == NULL || next_close)
			break;
		after = next_after;
	}
	return 0;
}

static int
parse_entity(struct mime_msg *m, struct span raw, int parent, unsigned depth, struct err *e)
{
	if (depth > m->lim.max_depth)
		return err_set(e, ERR_TOOBIG, "line %zu: MIME parts nested deeper than %u (cap)",
		               line_of(m, raw.p), m->lim.max_depth);
	if (m->nparts >= m->lim.max_parts)
		return err_set(e, ERR_TOOBIG, "line %zu: more than %zu MIME parts (cap)",
		               line_of(m, raw.p), m->lim.max_parts);
	if ((m->nparts & (m->nparts - 1)) == 0 || m->nparts == 0)
		m->parts = xreallocarray(m->parts, m->nparts ? m->nparts * 2 : 8, sizeof *m->parts);
	size_t self = m->nparts++;
	struct mime_part *p = &m->parts[self];
	memset(p, 0, sizeof *p);
	p->raw = raw;
	p->parent = parent;
	p->depth = depth;
	p->hdr_first = m->nhdrs;

	size_t hdr_end = 0, body_off = 0;
	int rc = parse_headers(m, raw, depth == 0, &hdr_end, &body_off, e);
	p = &m->parts[self];
	if (rc)
		return rc;
	p->hdr_count = m->nhdrs - p->hdr_first;
	p->headers = span_make(raw.p, hdr_end);
	p->body = span_sub(raw, body_off, raw.len);
	str_copy(p->type, sizeof p->type, "text/plain");
	p->cte = MIME_CTE_7BIT;

	long h = mime_header_find(m, self, "Content-Type");
	struct span ctv = h >= 0 ? m->hdrs[h].value : SPAN_LIT("");
	if (h >= 0 && !parse_media_type(ctv, p->type))
		str_copy(p->type, sizeof p->type, "text/plain");
	h = mime_header_find(m, self, "Content-Transfer-Encoding");
	if (h >= 0)
		p->cte = parse_cte(m->hdrs[h].value);

	if (m->lim.headers_only)
		return 0;
	if (strncmp(p->type, "multipart/", 10) == 0) {
		char boundary[256];
		if (mime_param(ctv, "boundary", boundary, sizeof boundary) != 0 ||
		    boundary[0] == '\0' || strlen(boundary) > 200)
			return 0; /* unusable boundary: a leaf the locator may still sniff */
		return parse_multipart(m, self, p->body, boundary, depth, e);
	}
	if (strcmp(p->type, "message/rfc822") == 0 && p->cte != MIME_CTE_BASE64 &&
	    p->cte != MIME_CTE_QP && p->body.len > 0) {
		m->parts[self].container = true;
		return parse_entity(m, p->body, (int)self, depth + 1, e);
	}
	return 0;
}

int
mime_parse(struct mime_msg *m, struct span raw, const struct mime_limits *lim, struct err *e)
{
	memset(m, 0, sizeof *m);
	m->raw = raw;
	if (lim)
		m->lim = *lim;
	else
		mime_limits_default(&m->lim);
	if (raw.len > m->lim.max_message)
		return err_set(e, ERR_TOOBIG, "message of %zu bytes is larger than %zu bytes (cap)",
		               raw.len, m->lim.max_message);
	int rc = parse_entity(m, raw, -1, 0, e);
	if (rc)
		return rc;
	if (m->parts[0].hdr_count == 0)
		return err_set(e, ERR_INVALID, "no header fields");
	return 0;
}

void
mime_msg_clear(struct mime_msg *m)
{
	free(m->hdrs);
	free(m->parts);
	memset(m, 0, sizeof *m);
}
