/*
 * mime_decode.c - transfer decodings (base64, quoted-printable) and RFC 2047
 * encoded-word decoding for display.  See mime.h.
 *
 * RFCs: 2045 section 6 (base64 ignoring characters outside the alphabet,
 * quoted-printable with soft line breaks), 2047 (B and Q encoded-words in utf-8,
 * us-ascii and iso-8859-1; others left as they are).  Every output goes to a capped
 * buffer.  No I/O; thread-safe.
 */
#include "mail/mime.h"

#include <string.h>

#include "mail/mime_int.h"
#include "util/base64.h"
#include "util/str.h"

/* ------------------------------------------------------------------ decoders */

struct chunk {
	struct buf *out;
	char b[4096];
	size_t n;
	int rc;
};

static void
chunk_put(struct chunk *c, char ch)
{
	if (c->n == sizeof c->b) {
		if (c->rc == 0)
			c->rc = buf_append(c->out, c->b, c->n);
		c->n = 0;
	}
	c->b[c->n++] = ch;
}

static int
chunk_flush(struct chunk *c)
{
	if (c->rc == 0 && c->n)
		c->rc = buf_append(c->out, c->b, c->n);
	c->n = 0;
	return c->rc;
}

int
mime_decode_base64(struct span in, struct buf *out)
{
	struct chunk c = { .out = out };
	uint32_t acc = 0;
	int nbits = 0;
	for (size_t i = 0; i < in.len && c.rc == 0; i++) {
		unsigned char ch = (unsigned char)in.p[i];
		if (ch == '=')
			break; /* padding ends the data */
		int v = base64_char_value(ch);
		if (v < 0)
			continue; /* white space, line breaks, garbage */
		acc = (acc << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			chunk_put(&c, (char)((acc >> nbits) & 0xff));
		}
	}
	return chunk_flush(&c);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
mime_decode_qp(struct span in, struct buf *out)
{
	struct chunk c = { .out = out };
	size_t i = 0;
	while (i < in.len && c.rc == 0) {
		char ch = in.p[i];
		if (ch == '=') {
			int h1 = i + 1 < in.len ? hexval(in.p[i + 1]) : -1;
			int h2 = i + 2 < in.len ? hexval(in.p[i + 2]) : -1;
			if (h1 >= 0 && h2 >= 0) {
				chunk_put(&c, (char)(h1 * 16 + h2));
				i += 3;
				continue;
			}
			/* soft line break: '=' [WSP] (CRLF / LF / end) */
			size_t k = i + 1;
			while (k < in.len && is_wsp(in.p[k]))
				k++;
			if (k == in.len) {
				i = k;
				continue;
			}
			if (in.p[k] == '\n' ||
			    (in.p[k] == '\r' && k + 1 < in.len && in.p[k + 1] == '\n')) {
				i = k + (in.p[k] == '\r' ? 2 : 1);
				continue;
			}
			chunk_put(&c, '='); /* malformed: keep literally */
			i++;
			continue;
		}
		if (is_wsp(ch)) {
			/* trailing white space on a line is dropped (RFC 2045 6.7 rule 3) */
			size_t k = i;
			while (k < in.len && is_wsp(in.p[k]))
				k++;
			if (k == in.len || in.p[k] == '\n' || in.p[k] == '\r') {
				i = k;
				continue;
			}
			for (; i < k; i++)
				chunk_put(&c, in.p[i]);
			continue;
		}
		chunk_put(&c, ch);
		i++;
	}
	return chunk_flush(&c);
}

int
mime_part_decode(const struct mime_msg *m, size_t part, struct buf *out)
{
	if (part >= m->nparts || m->parts[part].container)
		return ERR_INVALID;
	const struct mime_part *p = &m->parts[part];
	switch (p->cte) {
	case MIME_CTE_BASE64:
		return mime_decode_base64(p->body, out);
	case MIME_CTE_QP:
		return mime_decode_qp(p->body, out);
	default:
		return buf_append(out, p->body.p, p->body.len);
	}
}

/* ------------------------------------------------------------------ RFC 2047 */

enum charset { CS_UTF8, CS_LATIN1, CS_UNKNOWN };

static enum charset
charset_of(struct span cs)
{
	/* RFC 2231 section 5: charset*language */
	const char *star = memchr(cs.p, '*', cs.len);
	if (star)
		cs.len = (size_t)(star - cs.p);
	if (span_eq_nocase(cs, SPAN_LIT("utf-8")) || span_eq_nocase(cs, SPAN_LIT("utf8")) ||
	    span_eq_nocase(cs, SPAN_LIT("us-ascii")) || span_eq_nocase(cs, SPAN_LIT("ascii")))
		return CS_UTF8;
	if (span_eq_nocase(cs, SPAN_LIT("iso-8859-1")) ||
	    span_eq_nocase(cs, SPAN_LIT("iso8859-1")) || span_eq_nocase(cs, SPAN_LIT("latin1")))
		return CS_LATIN1;
	return CS_UNKNOWN;
}

/* Appends bytes in charset cs to out as UTF-8 (invalid UTF-8 becomes U+FFFD). */
static int
append_as_utf8(struct buf *out, const char *p, size_t n, enum charset cs)
{
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0;) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x80) {
			rc = buf_putc(out, (char)c);
			i++;
		} else if (cs == CS_LATIN1) {
			char u[4];
			size_t k = utf8_encode(c, u);
			rc = buf_append(out, u, k);
			i++;
		} else {
			size_t ok = utf8_valid_prefix(p + i, n - i);
			if (ok > 0) {
				rc = buf_append(out, p + i, ok);
				i += ok;
			} else {
				rc = buf_append(out, "\xef\xbf\xbd", 3);
				i++;
			}
		}
	}
	return rc;
}

/*
 * Tries to read an encoded-word at v[i]; on success appends its decoding to out and
 * returns the index after it, else returns 0.
 */
static size_t
encoded_word(struct span v, size_t i, struct buf *out, int *rc)
{
	if (i + 1 >= v.len || v.p[i] != '=' || v.p[i + 1] != '?')
		return 0;
	size_t cs0 = i + 2, k = cs0;
	while (k < v.len && v.p[k] != '?' && !is_fws(v.p[k]))
		k++;
	if (k + 2 >= v.len || v.p[k] != '?' || k == cs0)
		return 0;
	struct span cs = span_make(v.p + cs0, k - cs0);
	char enc = ascii_lower(v.p[k + 1]);
	if ((enc != 'b' && enc != 'q') || v.p[k + 2] != '?')
		return 0;
	size_t t0 = k + 3, t = t0;
	while (t + 1 < v.len && !(v.p[t] == '?' && v.p[t + 1] == '=')) {
		if (is_fws(v.p[t]))
			return 0;
		t++;
	}
	if (t + 1 >= v.len)
		return 0;
	enum charset c = charset_of(cs);
	if (c == CS_UNKNOWN)
		return 0;
	struct span text = span_make(v.p + t0, t - t0);
	struct buf tmp;
	buf_init(&tmp, text.len + 4);
	int r;
	if (enc == 'b') {
		r = mime_decode_base64(text, &tmp);
	} else {
		r = 0;
		for (size_t j = 0; j < text.len && r == 0; j++) {
			char ch = text.p[j];
			if (ch == '_') {
				r = buf_putc(&tmp, ' ');
			} else if (ch == '=' && j + 2 < text.len && hexval(text.p[j + 1]) >= 0 &&
			           hexval(text.p[j + 2]) >= 0) {
				r = buf_putc(&tmp, (char)(hexval(text.p[j + 1]) * 16 +
				                          hexval(text.p[j + 2])));
				j += 2;
			} else {
				r = buf_putc(&tmp, ch);
			}
		}
	}
	if (r == 0)
		*rc = append_as_utf8(out, buf_cstr(&tmp), tmp.len, c);
	buf_clear(&tmp);
	return r == 0 ? t + 2 : 0;
}

int
mime_decode_words(struct span v, struct buf *out)
{
	struct buf un;
	buf_init(&un, v.len + 1);
	int rc = mime_unfold(v, &un);
	struct span s = buf_span(&un);
	bool last_word = false;
	size_t i = 0;
	while (i < s.len && rc == 0) {
		/* white space run: dropped if between two encoded-words */
		if (is_wsp(s.p[i])) {
			size_t k = i;
			while (k < s.len && is_wsp(s.p[k]))
				k++;
			if (last_word && k < s.len) {
				struct buf probe;
				buf_init(&probe, s.len);
				int prc = 0;
				size_t after = encoded_word(s, k, &probe, &prc);
				buf_clear(&probe);
				if (after) {
					i = k;
					continue;
				}
			}
			rc = buf_append(out, s.p + i, k - i);
			i = k;
			last_word = false;
			continue;
		}
		size_t after = encoded_word(s, i, out, &rc);
		if (after) {
			i = after;
			last_word = true;
			continue;
		}
		/* a run of non-space text */
		size_t k = i + 1;
		while (k < s.len && !is_wsp(s.p[k]) &&
		       !(s.p[k] == '=' && k + 1 < s.len && s.p[k + 1] == '?'))
			k++;
		rc = append_as_utf8(out, s.p + i, k - i, CS_UTF8);
		i = k;
		last_word = false;
	}
	buf_clear(&un);
	return rc;
}

int
mime_subject(const struct mime_msg *m, struct buf *out)
{
	long h = mime_header_find(m, 0, "Subject");
	if (h < 0)
		return ERR_NOTFOUND;
	return mime_decode_words(m->hdrs[h].value, out);
}
