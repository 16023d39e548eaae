/*
 * dkim_verify.c - DKIM verification (RFC 6376 section 6) for received TLS reports.
 *
 * For each DKIM-Signature: parse and check the tags, reject l= (RFC 8460 section 3),
 * check x= expiry, fetch the key through the caller's callback, check the key record
 * (revoked, k= matches a=, h= allows sha256, s= allows tlsrpt: an absent s= is
 * acceptable, as mox reads RFC 8460), compare the body hash, verify the signature (RSA
 * PKCS#1 v1.5 over SHA-256; Ed25519 over the SHA-256 of the header data, RFC 8463).
 * RSA keys below 1024 bits are rejected (RFC 8301).  Pure apart from the callback;
 * thread-safe on distinct messages.
 */
#include "mail/dkim.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/dkim_int.h"
#include "util/str.h"
#include "util/xalloc.h"

const char *
mdkim_result_name(enum mdkim_result r)
{
	switch (r) {
	case MDKIM_PASS:
		return "pass";
	case MDKIM_FAIL:
		return "fail";
	case MDKIM_NEUTRAL:
		return "neutral";
	case MDKIM_TEMPERROR:
		return "temperror";
	case MDKIM_PERMERROR:
		return "permerror";
	}
	return "permerror";
}

bool
mdkim_aligned(const struct orgdomain_psl *psl, const char *d, const char *domain)
{
	return orgdomain_aligned(psl, d, domain);
}

int
mdkim_header_input(const struct mime_msg *m, enum mdkim_canon hc, const struct span *names,
                   size_t nnames, struct span sigfield, struct buf *out)
{
	const struct mime_part *root = &m->parts[0];
	unsigned char used_small[64] = { 0 };
	unsigned char *used = used_small;
	if (root->hdr_count > sizeof used_small)
		used = xcalloc(root->hdr_count, 1);
	int rc = 0;
	for (size_t i = 0; i < nnames && rc == 0; i++) {
		for (size_t j = root->hdr_count; j-- > 0;) {
			const struct mime_header *h = &m->hdrs[root->hdr_first + j];
			if (!used[j] && span_eq_nocase(h->name, names[i])) {
				used[j] = 1;
				rc = mdkim_canon_header(hc, h->raw, out);
				break;
			}
		}
	}
	if (used != used_small)
		free(used);
	if (rc == 0)
		rc = mdkim_canon_header(hc, sigfield, out);
	if (rc == 0 && out->len >= 2)
		out->len -= 2; /* no CRLF after the signature field */
	if (out->data)
		out->data[out->len] = '\0';
	return rc;
}

/* The public key from a key record: SubjectPublicKeyInfo or raw RSAPublicKey / Ed25519. */
static EVP_PKEY *
load_pubkey(const struct mdkim_keyrec *k)
{
	const unsigned char *p = k->p;
	if (k->k == MDKIM_ED25519_SHA256) {
		if (k->plen == 32)
			return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k->p, 32);
		EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)k->plen);
		if (pk && EVP_PKEY_get_base_id(pk) != EVP_PKEY_ED25519) {
			EVP_PKEY_free(pk);
			pk = NULL;
		}
		return pk;
	}
	EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)k->plen);
	if (pk == NULL) {
		p = k->p;
		pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)k->plen);
	}
	if (pk && EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	return pk;
}

/* 1 valid, 0 invalid. */
static int
check_signature(EVP_PKEY *pk, enum mdkim_alg alg, struct span data, const unsigned char *sig,
                size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = 0;
	if (ctx == NULL)
		return 0;
	if (alg == MDKIM_RSA_SHA256) {
		if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pk) == 1)
			ok = EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)data.p,
			                      data.len) == 1;
	} else {
		unsigned char h[32];
		if (EVP_Digest(data.p, data.len, h, NULL, EVP_sha256(), NULL) == 1 &&
		    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1)
			ok = EVP_DigestVerify(ctx, sig, siglen, h, sizeof h) == 1;
	}
	EVP_MD_CTX_free(ctx);
	return ok;
}

static enum mdkim_result verdict(struct mdkim_verdict *v, enum mdkim_result r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static enum mdkim_result
verdict(struct mdkim_verdict *v, enum mdkim_result r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof v->reason, fmt, ap);
	va_end(ap);
	v->result = r;
	return r;
}

static void
verify_one(const struct mime_msg *m, const struct mime_header *field,
           const struct mdkim_verify_opts *o, struct mdkim_verdict *v)
{
	struct mdkim_sig sig;
	struct err e = { 0 };
	memset(v, 0, sizeof *v);
	if (mdkim_sig_parse(field->value, &sig, &e) != 0) {
		verdict(v, MDKIM_PERMERROR, "%s", e.msg);
		return;
	}
	v->alg = sig.alg;
	str_copy(v->domain, sizeof v->domain, sig.d);
	str_copy(v->selector, sizeof v->selector, sig.s);
	if (sig.has_l) {
		verdict(v, MDKIM_PERMERROR,
		        "signature has l= (body length limit), not allowed for TLS reports "
		        "(RFC 8460 section 3)");
		return;
	}
	if (sig.has_x && o->now >= 0 && sig.x < o->now) {
		verdict(v, MDKIM_PERMERROR, "signature expired (x=%lld)", (long long)sig.x);
		return;
	}

	struct buf txt;
	buf_init(&txt, 8192);
	int rc = o->lookup ? o->lookup(o->ctx, sig.s, sig.d, &txt, &e)
	                   : err_set(&e, ERR_AGAIN, "no key lookup configured");
	if (rc == ERR_NOTFOUND) {
		verdict(v, MDKIM_PERMERROR, "no key record at %s._domainkey.%s", sig.s, sig.d);
		buf_clear(&txt);
		return;
	}
	if (rc != 0) {
		verdict(v, MDKIM_TEMPERROR, "key lookup for %s._domainkey.%s failed: %s", sig.s,
		        sig.d, e.msg[0] ? e.msg : "temporary error");
		buf_clear(&txt);
		return;
	}
	struct mdkim_keyrec key;
	rc = mdkim_keyrec_parse(buf_span(&txt), &key, &e);
	buf_clear(&txt);
	if (rc != 0) {
		verdict(v, MDKIM_PERMERROR, "%s._domainkey.%s: %s", sig.s, sig.d, e.msg);
		return;
	}
	if (key.revoked) {
		verdict(v, MDKIM_PERMERROR, "key %s._domainkey.%s is revoked (empty p=)", sig.s,
		        sig.d);
		return;
	}
	if (key.k != sig.alg) {
		verdict(v, MDKIM_PERMERROR, "key type of %s._domainkey.%s does not match a=%s",
		        sig.s, sig.d, mdkim_alg_name(sig.alg));
		return;
	}
	if (!key.sha256_ok) {
		verdict(v, MDKIM_PERMERROR, "key %s._domainkey.%s does not allow sha256 (h=)",
		        sig.s, sig.d);
		return;
	}
	if (!key.service_ok) {
		verdict(v, MDKIM_PERMERROR,
		        "key %s._domainkey.%s is restricted by s= to services other than tlsrpt",
		        sig.s, sig.d);
		return;
	}
	EVP_PKEY *pk = load_pubkey(&key);
	if (pk == NULL) {
		verdict(v, MDKIM_PERMERROR, "key %s._domainkey.%s: p= is not a usable public key",
		        sig.s, sig.d);
		return;
	}
	if (sig.alg == MDKIM_RSA_SHA256 && EVP_PKEY_get_bits(pk) < 1024) {
		verdict(v, MDKIM_PERMERROR, "RSA key %s._domainkey.%s has %d bits (< 1024)", sig.s,
		        sig.d, EVP_PKEY_get_bits(pk));
		EVP_PKEY_free(pk);
		return;
	}

	unsigned char bh[32];
	if (mdkim_body_hash(sig.bc, m->parts[0].body, bh) != 0) {
		verdict(v, MDKIM_TEMPERROR, "SHA-256 unavailable");
	} else if (memcmp(bh, sig.bh, 32) != 0) {
		verdict(v, key.testing ? MDKIM_NEUTRAL : MDKIM_FAIL, "body hash did not verify%s",
		        key.testing ? " (key in testing mode)" : "");
	} else {
		/* the signature field with b= emptied */
		struct buf sf, data;
		size_t pre = (size_t)(sig.b_raw.p - field->raw.p);
		size_t post = pre + sig.b_raw.len;
		buf_init(&sf, field->raw.len);
		/* canonical headers: bare LF becomes CRLF, so at most twice the raw size */
		buf_init(&data, 2 * (m->parts[0].headers.len + field->raw.len) + 1024);
		rc = buf_append(&sf, field->raw.p, pre);
		if (rc == 0)
			rc = buf_append(&sf, field->raw.p + post, field->raw.len - post);
		if (rc == 0)
			rc = mdkim_header_input(m, sig.hc, sig.h, sig.nh, buf_span(&sf), &data);
		if (rc != 0)
			verdict(v, MDKIM_PERMERROR, "header data too large");
		else if (check_signature(pk, sig.alg, buf_span(&data), sig.b, sig.b_len))
			verdict(v, MDKIM_PASS, "%s", "");
		else
			verdict(v, key.testing ? MDKIM_NEUTRAL : MDKIM_FAIL,
			        "signature did not verify%s",
			        key.testing ? " (key in testing mode)" : "");
		buf_clear(&sf);
		buf_clear(&data);
	}
	EVP_PKEY_free(pk);
}

int
mdkim_verify(const struct mime_msg *m, const struct mdkim_verify_opts *o,
             struct mdkim_verdict **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	if (m->nparts == 0)
		return err_set(e, ERR_INVALID, "message not parsed");
	size_t max = o->max_sigs ? o->max_sigs : 8, cnt = 0;
	struct mdkim_verdict *v = NULL;
	for (long h = mime_header_find(m, 0, "DKIM-Signature"); h >= 0 && cnt < max;
	     h = mime_header_next(m, 0, "DKIM-Signature", h)) {
		v = xreallocarray(v, cnt + 1, sizeof *v);
		verify_one(m, &m->hdrs[h], o, &v[cnt]);
		cnt++;
	}
	*out = v;
	*n = cnt;
	return 0;
}
