/*
 * dkim_parse.c - DKIM-Signature field (RFC 6376 section 3.5) and key record (section
 * 3.6.1) parsers with the RFC 8301 / RFC 8463 / RFC 8460 rules: rsa-sha256 and
 * ed25519-sha256 only, key service types.  Untrusted input: every field is bounded and
 * every error names the tag.  Pure; thread-safe.
 */
#include "mail/dkim.h"

#include <string.h>

#include "util/base64.h"
#include "util/str.h"

static bool
is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

#define TAGFMT(t) (int)((t)->value.len > 40 ? 40 : (t)->value.len), (t)->value.p

/* Decodes a base64 tag value (FWS allowed) into out[0..cap). */
static int
b64_tag(const struct mdkim_tag *t, unsigned char *out, size_t cap, size_t *len)
{
	struct buf b;
	buf_init(&b, cap);
	int rc = base64_decode(&b, t->value);
	if (rc == 0) {
		memcpy(out, b.data ? b.data : "", b.len);
		*len = b.len;
	}
	buf_clear(&b);
	return rc;
}

/* Copies a domain-ish value (no FWS inside, [A-Za-z0-9._-]) lower-cased into out. */
static bool
copy_name(struct span v, char *out, size_t cap, bool lower)
{
	if (v.len == 0 || v.len >= cap)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		char c = v.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_'))
			return false;
		out[i] = lower ? ascii_lower(c) : c;
	}
	out[v.len] = '\0';
	return true;
}

static bool
parse_i64(struct span v, int64_t *out)
{
	uint64_t u;
	if (v.len == 0 || v.len > 12 || str_to_u64(v, &u) != 0)
		return false;
	*out = (int64_t)u;
	return true;
}

int
mdkim_sig_parse(struct span value, struct mdkim_sig *s, struct err *e)
{
	struct mdkim_tags tags;
	memset(s, 0, sizeof *s);
	if (mdkim_tags_parse(value, &tags, e) != 0)
		return err_prefix(e, "DKIM-Signature");
	static const char *const required[] = { "v", "a", "b", "bh", "d", "h", "s" };
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (mdkim_tags_get(&tags, required[i]) == NULL)
			return err_set(e, ERR_INVALID,
			               "DKIM-Signature: missing required tag %s=", required[i]);
	const struct mdkim_tag *t = mdkim_tags_get(&tags, "v");
	if (!span_eq_cstr(t->value, "1"))
		return err_set(e, ERR_INVALID, "DKIM-Signature: unsupported version v=%.*s",
		               TAGFMT(t));
	t = mdkim_tags_get(&tags, "a");
	if (span_eq_nocase(t->value, SPAN_LIT("rsa-sha256")))
		s->alg = MDKIM_RSA_SHA256;
	else if (span_eq_nocase(t->value, SPAN_LIT("ed25519-sha256")))
		s->alg = MDKIM_ED25519_SHA256;
	else if (span_eq_nocase(t->value, SPAN_LIT("rsa-sha1")))
		return err_set(e, ERR_INVALID,
		               "DKIM-Signature: a=rsa-sha1 is not accepted (RFC 8301)");
	else
		return err_set(e, ERR_INVALID, "DKIM-Signature: unknown algorithm a=%.*s",
		               TAGFMT(t));
	t = mdkim_tags_get(&tags, "b");
	if (b64_tag(t, s->b, sizeof s->b, &s->b_len) != 0 || s->b_len == 0)
		return err_set(e, ERR_INVALID, "DKIM-Signature: b= is not valid base64");
	s->b_raw = t->raw;
	t = mdkim_tags_get(&tags, "bh");
	if (b64_tag(t, s->bh, sizeof s->bh, &s->bh_len) != 0 || s->bh_len != 32)
		return err_set(e, ERR_INVALID,
		               "DKIM-Signature: bh= is not a base64 SHA-256 digest");
	t = mdkim_tags_get(&tags, "d");
	if (!copy_name(t->value, s->d, sizeof s->d, true))
		return err_set(e, ERR_INVALID, "DKIM-Signature: invalid domain d=%.*s", TAGFMT(t));
	t = mdkim_tags_get(&tags, "s");
	if (!copy_name(t->value, s->s, sizeof s->s, false))
		return err_set(e, ERR_INVALID, "DKIM-Signature: invalid selector s=%.*s",
		               TAGFMT(t));
	/* h=: colon-separated names with FWS around them */
	t = mdkim_tags_get(&tags, "h");
	bool from = false;
	size_t i = 0;
	struct span hv = t->value;
	while (i <= hv.len) {
		const char *colon = memchr(hv.p + i, ':', hv.len - i);
		size_t end = colon ? (size_t)(colon - hv.p) : hv.len;
		struct span n = span_make(hv.p + i, end - i);
		while (n.len && is_fws(n.p[0])) {
			n.p++;
			n.len--;
		}
		while (n.len && is_fws(n.p[n.len - 1]))
			n.len--;
		if (n.len == 0)
			return err_set(e, ERR_INVALID, "DKIM-Signature: empty header name in h=");
		for (size_t k = 0; k < n.len; k++)
			if ((unsigned char)n.p[k] <= 32 || n.p[k] == 127)
				return err_set(e, ERR_INVALID,
				               "DKIM-Signature: bad header name in h=");
		if (s->nh >= MDKIM_MAX_H)
			return err_set(e, ERR_INVALID,
			               "DKIM-Signature: more than %d names in h=", MDKIM_MAX_H);
		s->h[s->nh++] = n;
		if (span_eq_nocase(n, SPAN_LIT("from")))
			from = true;
		if (!colon)
			break;
		i = end + 1;
	}
	if (!from)
		return err_set(e, ERR_INVALID, "DKIM-Signature: h= does not include From");
	/* c= */
	s->hc = s->bc = MDKIM_SIMPLE;
	t = mdkim_tags_get(&tags, "c");
	if (t) {
		struct span v = t->value, hcv = v, bcv = SPAN_LIT("simple");
		const char *slash = memchr(v.p, '/', v.len);
		if (slash) {
			hcv = span_make(v.p, (size_t)(slash - v.p));
			bcv = span_make(slash + 1, v.len - hcv.len - 1);
		}
		struct span cv[2] = { hcv, bcv };
		enum mdkim_canon *cp[2] = { &s->hc, &s->bc };
		for (int k = 0; k < 2; k++) {
			if (span_eq_nocase(cv[k], SPAN_LIT("simple")))
				*cp[k] = MDKIM_SIMPLE;
			else if (span_eq_nocase(cv[k], SPAN_LIT("relaxed")))
				*cp[k] = MDKIM_RELAXED;
			else
				return err_set(e, ERR_INVALID,
				               "DKIM-Signature: unknown canonicalization c=%.*s",
				               TAGFMT(t));
		}
	}
	t = mdkim_tags_get(&tags, "q");
	if (t && memmem(t->value.p, t->value.len, "dns/txt", 7) == NULL)
		return err_set(e, ERR_INVALID, "DKIM-Signature: unsupported query method q=%.*s",
		               TAGFMT(t));
	t = mdkim_tags_get(&tags, "i");
	if (t) {
		const char *at = memchr(t->value.p, '@', t->value.len);
		if (at == NULL)
			return err_set(e, ERR_INVALID, "DKIM-Signature: i= has no '@'");
		size_t off = (size_t)(at - t->value.p) + 1;
		struct span dom = span_make(at + 1, t->value.len - off);
		size_t dl = strlen(s->d);
		bool ok = span_eq_nocase(dom, span_cstr(s->d)) ||
		          (dom.len > dl && dom.p[dom.len - dl - 1] == '.' &&
		           span_eq_nocase(span_sub(dom, dom.len - dl, dl), span_cstr(s->d)));
		if (!ok)
			return err_set(e, ERR_INVALID,
			               "DKIM-Signature: i= domain is not d= or a subdomain of it");
	}
	t = mdkim_tags_get(&tags, "t");
	if (t) {
		if (!parse_i64(t->value, &s->t))
			return err_set(e, ERR_INVALID, "DKIM-Signature: bad timestamp t=%.*s",
			               TAGFMT(t));
		s->has_t = true;
	}
	t = mdkim_tags_get(&tags, "x");
	if (t) {
		if (!parse_i64(t->value, &s->x))
			return err_set(e, ERR_INVALID, "DKIM-Signature: bad expiry x=%.*s",
			               TAGFMT(t));
		s->has_x = true;
		if (s->has_t && s->x < s->t)
			return err_set(e, ERR_INVALID, "DKIM-Signature: x= is before t=");
	}
	t = mdkim_tags_get(&tags, "l");
	if (t) {
		int64_t l;
		if (!parse_i64(t->value, &l))
			return err_set(e, ERR_INVALID, "DKIM-Signature: bad body length l=%.*s",
			               TAGFMT(t));
		s->has_l = true;
	}
	return 0;
}

/* Whether the colon-separated list v contains one of the words (case-insensitive). */
static bool
list_has(struct span v, const char *w1, const char *w2)
{
	size_t i = 0;
	while (i <= v.len) {
		const char *colon = memchr(v.p + i, ':', v.len - i);
		size_t end = colon ? (size_t)(colon - v.p) : v.len;
		struct span n = span_trim(span_make(v.p + i, end - i));
		if (span_eq_nocase(n, span_cstr(w1)) || (w2 && span_eq_nocase(n, span_cstr(w2))))
			return true;
		if (!colon)
			break;
		i = end + 1;
	}
	return false;
}

int
mdkim_keyrec_parse(struct span txt, struct mdkim_keyrec *k, struct err *e)
{
	struct mdkim_tags tags;
	memset(k, 0, sizeof *k);
	if (mdkim_tags_parse(txt, &tags, e) != 0)
		return err_prefix(e, "DKIM key record");
	const struct mdkim_tag *t = mdkim_tags_get(&tags, "v");
	if (t && !span_eq_cstr(t->value, "DKIM1"))
		return err_set(e, ERR_INVALID, "DKIM key record: v=%.*s is not DKIM1", TAGFMT(t));
	if (t && tags.t[0].name.p != t->name.p)
		return err_set(e, ERR_INVALID, "DKIM key record: v= is not the first tag");
	k->k = MDKIM_RSA_SHA256;
	t = mdkim_tags_get(&tags, "k");
	if (t) {
		if (span_eq_nocase(t->value, SPAN_LIT("rsa")))
			k->k = MDKIM_RSA_SHA256;
		else if (span_eq_nocase(t->value, SPAN_LIT("ed25519")))
			k->k = MDKIM_ED25519_SHA256;
		else
			return err_set(e, ERR_INVALID, "DKIM key record: unknown key type k=%.*s",
			               TAGFMT(t));
	}
	t = mdkim_tags_get(&tags, "p");
	if (t == NULL)
		return err_set(e, ERR_INVALID, "DKIM key record: missing required tag p=");
	if (t->value.len == 0) {
		k->revoked = true;
	} else if (b64_tag(t, k->p, sizeof k->p, &k->plen) != 0 || k->plen == 0) {
		return err_set(e, ERR_INVALID, "DKIM key record: p= is not valid base64");
	}
	t = mdkim_tags_get(&tags, "h");
	k->sha256_ok = t == NULL || list_has(t->value, "sha256", NULL);
	t = mdkim_tags_get(&tags, "s");
	k->service_ok = t == NULL || list_has(t->value, "*", "tlsrpt");
	t = mdkim_tags_get(&tags, "t");
	k->testing = t && list_has(t->value, "y", NULL);
	return 0;
}
