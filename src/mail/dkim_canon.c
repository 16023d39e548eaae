/*
 * dkim_canon.c - DKIM canonicalization (RFC 6376 section 3.4) shared by the signer and
 * the verifier: simple and relaxed header and body forms, the streamed body hash, and
 * the tag-list parser (section 3.2).
 *
 * Messages stored with bare LF line endings are read as if every LF were CRLF, so a
 * message saved by an MTA to disk still verifies.  Relaxed body canonicalization of an
 * empty body is the empty string (RFC 6376 erratum 3192); simple of an empty body is
 * one CRLF.  Pure; thread-safe.
 */
#include "mail/dkim.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <string.h>

#include "util/str.h"

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

const char *
mdkim_alg_name(enum mdkim_alg a)
{
	return a == MDKIM_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256";
}

/* ------------------------------------------------------------ headers */

int
mdkim_canon_header(enum mdkim_canon c, struct span raw, struct buf *out)
{
	/* strip the final line ending; it is added back as CRLF */
	if (raw.len && raw.p[raw.len - 1] == '\n')
		raw.len--;
	if (raw.len && raw.p[raw.len - 1] == '\r')
		raw.len--;
	size_t start = out->len;
	int rc = 0;
	if (c == MDKIM_SIMPLE) {
		for (size_t i = 0; i < raw.len && rc == 0; i++) {
			if (raw.p[i] == '\n' && (i == 0 || raw.p[i - 1] != '\r'))
				rc = buf_putc(out, '\r');
			if (rc == 0)
				rc = buf_putc(out, raw.p[i]);
		}
	} else {
		const char *colon = memchr(raw.p, ':', raw.len);
		size_t nlen = colon ? (size_t)(colon - raw.p) : raw.len;
		while (nlen && is_wsp(raw.p[nlen - 1]))
			nlen--;
		for (size_t i = 0; i < nlen && rc == 0; i++)
			rc = buf_putc(out, ascii_lower(raw.p[i]));
		if (rc == 0)
			rc = buf_putc(out, ':');
		size_t i = colon ? (size_t)(colon - raw.p) + 1 : raw.len;
		bool pending_sp = false, any = false;
		for (; i < raw.len && rc == 0; i++) {
			char ch = raw.p[i];
			if (ch == '\r' || ch == '\n')
				continue; /* unfold */
			if (is_wsp(ch)) {
				pending_sp = any;
				continue;
			}
			if (pending_sp)
				rc = buf_putc(out, ' ');
			pending_sp = false;
			any = true;
			if (rc == 0)
				rc = buf_putc(out, ch);
		}
	}
	if (rc == 0)
		rc = buf_append(out, "\r\n", 2);
	if (rc) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return rc;
}

/* ------------------------------------------------------------ body */

typedef int (*sink_fn)(void *ctx, const char *p, size_t n);

/* Canonicalizes body line by line into sink (pending empty lines are held back). */
static int
canon_body(enum mdkim_canon c, struct span body, sink_fn sink, void *ctx)
{
	size_t pos = 0, empties = 0;
	bool any = false;
	char line[4096];
	int rc = 0;
	while (pos < body.len && rc == 0) {
		const char *nl = memchr(body.p + pos, '\n', body.len - pos);
		size_t end = nl ? (size_t)(nl - body.p) : body.len;
		size_t ce = end;
		if (nl && ce > pos && body.p[ce - 1] == '\r')
			ce--;
		struct span l = span_make(body.p + pos, ce - pos);
		pos = nl ? end + 1 : body.len;
		if (c == MDKIM_RELAXED) {
			/* trailing WSP dropped, inner runs reduced to one SP */
			while (l.len && is_wsp(l.p[l.len - 1]))
				l.len--;
		}
		if (l.len == 0) {
			empties++;
			continue;
		}
		for (; empties > 0 && rc == 0; empties--)
			rc = sink(ctx, "\r\n", 2);
		any = true;
		if (c == MDKIM_SIMPLE) {
			if (rc == 0)
				rc = sink(ctx, l.p, l.len);
		} else {
			size_t n = 0;
			bool sp = false;
			for (size_t i = 0; i < l.len && rc == 0; i++) {
				if (is_wsp(l.p[i])) {
					sp = true;
					continue;
				}
				if (n + 2 > sizeof line) {
					rc = sink(ctx, line, n);
					n = 0;
				}
				if (sp)
					line[n++] = ' ';
				sp = false;
				line[n++] = l.p[i];
			}
			if (rc == 0 && n)
				rc = sink(ctx, line, n);
		}
		if (rc == 0)
			rc = sink(ctx, "\r\n", 2);
	}
	if (rc == 0 && !any && c == MDKIM_SIMPLE)
		rc = sink(ctx, "\r\n", 2);
	return rc;
}

static int
sink_buf(void *ctx, const char *p, size_t n)
{
	return buf_append(ctx, p, n);
}

static int
sink_md(void *ctx, const char *p, size_t n)
{
	return EVP_DigestUpdate(ctx, p, n) == 1 ? 0 : ERR_BADSTATE;
}

int
mdkim_canon_body(enum mdkim_canon c, struct span body, struct buf *out)
{
	return canon_body(c, body, sink_buf, out);
}

int
mdkim_body_hash(enum mdkim_canon c, struct span body, unsigned char out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int len = 0;
	int rc = ERR_BADSTATE;
	if (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    canon_body(c, body, sink_md, md) == 0 && EVP_DigestFinal_ex(md, out, &len) == 1 &&
	    len == 32)
		rc = 0;
	EVP_MD_CTX_free(md);
	return rc;
}

/* ------------------------------------------------------------ tag lists */

static bool
is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int
mdkim_tags_parse(struct span text, struct mdkim_tags *out, struct err *e)
{
	size_t i = 0;
	out->n = 0;
	while (i <= text.len) {
		/* one tag-spec up to ';' or the end */
		const char *semi = memchr(text.p + i, ';', text.len - i);
		size_t end = semi ? (size_t)(semi - text.p) : text.len;
		struct span spec = span_make(text.p + i, end - i);
		size_t k = 0;
		while (k < spec.len && is_fws(spec.p[k]))
			k++;
		if (k == spec.len) { /* empty tag-spec */
			if (!semi)
				break;
			i = end + 1;
			continue;
		}
		size_t n0 = k;
		if (!is_alpha(spec.p[k]))
			return err_set(e, ERR_INVALID,
			               "tag name must start with a letter at \"%.*s\"",
			               (int)(spec.len - k > 20 ? 20 : spec.len - k), spec.p + k);
		while (k < spec.len && (is_alpha(spec.p[k]) ||
		                        (spec.p[k] >= '0' && spec.p[k] <= '9') || spec.p[k] == '_'))
			k++;
		struct span name = span_make(spec.p + n0, k - n0);
		while (k < spec.len && is_fws(spec.p[k]))
			k++;
		if (k >= spec.len || spec.p[k] != '=')
			return err_set(e, ERR_INVALID, "tag %.*s: expected '='",
			               (int)(name.len > 32 ? 32 : name.len), name.p);
		k++;
		struct span raw = span_make(spec.p + k, spec.len - k);
		struct span val = raw;
		while (val.len && is_fws(val.p[0])) {
			val.p++;
			val.len--;
		}
		while (val.len && is_fws(val.p[val.len - 1]))
			val.len--;
		for (size_t j = 0; j < val.len; j++) {
			unsigned char ch = (unsigned char)val.p[j];
			if (is_fws((char)ch))
				continue;
			if (ch < 0x21 || ch > 0x7e)
				return err_set(e, ERR_INVALID, "tag %.*s: invalid character 0x%02x",
				               (int)(name.len > 32 ? 32 : name.len), name.p, ch);
		}
		for (size_t t = 0; t < out->n; t++)
			if (span_eq(out->t[t].name, name))
				return err_set(e, ERR_INVALID, "tag %.*s appears twice",
				               (int)(name.len > 32 ? 32 : name.len), name.p);
		if (out->n >= MDKIM_MAX_TAGS)
			return err_set(e, ERR_INVALID, "more than %d tags", MDKIM_MAX_TAGS);
		out->t[out->n].name = name;
		out->t[out->n].value = val;
		out->t[out->n].raw = raw;
		out->n++;
		if (!semi)
			break;
		i = end + 1;
	}
	return 0;
}

const struct mdkim_tag *
mdkim_tags_get(const struct mdkim_tags *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (span_eq_cstr(t->t[i].name, name))
			return &t->t[i];
	return NULL;
}
