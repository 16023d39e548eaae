/*
 * dkim_sign.c - DKIM keys and signing (RFC 6376 sections 3.5, 3.7, 5; RFC 8463 for
 * Ed25519; RFC 8301 for RSA sizes) on OpenSSL 3 EVP.
 *
 * Keys: PEM (PKCS#8 or traditional RSA) in, PKCS#8 PEM and the DNS TXT record text out;
 * generation with EVP_PKEY_Q_keygen.  Signing: body hash, header selection per the
 * configured list (each name once per occurrence, at least once), the DKIM-Signature
 * field folded at 78 columns, no l= ever (RFC 8460), t= and x= from the caller's clock.
 * A struct mdkim_key is immutable after loading and may be shared by threads.
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
#include "util/base64.h"
#include "util/str.h"
#include "util/xalloc.h"

struct mdkim_key {
	EVP_PKEY *pkey;
	enum mdkim_alg alg;
};

const char *const mdkim_default_headers[] = {
	"From",
	"To",
	"Date",
	"Subject",
	"Message-ID",
	"MIME-Version",
	"Content-Type",
	"TLS-Report-Domain",
	"TLS-Report-Submitter",
	NULL,
};

static int
wrap_pkey(EVP_PKEY *pk, struct mdkim_key **out, struct err *e)
{
	int id = EVP_PKEY_get_base_id(pk);
	enum mdkim_alg alg;
	if (id == EVP_PKEY_RSA) {
		alg = MDKIM_RSA_SHA256;
		if (EVP_PKEY_get_bits(pk) < 1024) {
			int bits = EVP_PKEY_get_bits(pk);
			EVP_PKEY_free(pk);
			return err_set(e, ERR_INVALID,
			               "RSA key has %d bits; DKIM needs at least 1024 (RFC 8301)",
			               bits);
		}
	} else if (id == EVP_PKEY_ED25519) {
		alg = MDKIM_ED25519_SHA256;
	} else {
		EVP_PKEY_free(pk);
		return err_set(e, ERR_INVALID, "key is neither RSA nor Ed25519");
	}
	struct mdkim_key *k = xcalloc(1, sizeof *k);
	k->pkey = pk;
	k->alg = alg;
	*out = k;
	return 0;
}

int
mdkim_key_from_pem(struct span pem, struct mdkim_key **out, struct err *e)
{
	*out = NULL;
	if (pem.len > 1u << 20)
		return err_set(e, ERR_INVALID, "PEM key larger than 1 MiB");
	BIO *bio = BIO_new_mem_buf(pem.p, (int)pem.len);
	if (bio == NULL)
		return err_set(e, ERR_NOMEM, "BIO_new_mem_buf failed");
	EVP_PKEY *pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pk == NULL)
		return err_set(e, ERR_INVALID,
		               "not a PEM private key (expected PKCS#8 \"PRIVATE KEY\" or "
		               "\"RSA PRIVATE KEY\", unencrypted)");
	return wrap_pkey(pk, out, e);
}

void
mdkim_key_free(struct mdkim_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

enum mdkim_alg
mdkim_key_alg(const struct mdkim_key *k)
{
	return k->alg;
}

int
mdkim_key_generate(enum mdkim_alg alg, unsigned bits, struct mdkim_key **out, struct err *e)
{
	EVP_PKEY *pk;
	*out = NULL;
	if (alg == MDKIM_ED25519_SHA256) {
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	} else {
		if (bits == 0)
			bits = 2048;
		if (bits < 1024 || bits > 8192)
			return err_set(e, ERR_INVALID, "RSA key size %u: expected 1024..8192",
			               bits);
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	}
	if (pk == NULL)
		return err_set(e, ERR_INVALID, "key generation failed");
	return wrap_pkey(pk, out, e);
}

int
mdkim_key_pem(const struct mdkim_key *k, struct buf *out, struct err *e)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	int rc = 0;
	if (bio == NULL || PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		rc = err_set(e, ERR_INVALID, "cannot write the key as PEM");
	} else {
		long n = BIO_get_mem_data(bio, &p);
		if (n < 0 || buf_append(out, p, (size_t)n) != 0)
			rc = err_set(e, ERR_TOOBIG, "PEM does not fit the buffer");
	}
	BIO_free(bio);
	return rc;
}

int
mdkim_key_dns_record(const struct mdkim_key *k, struct buf *out, struct err *e)
{
	unsigned char raw[32], *der = NULL;
	size_t rawlen = sizeof raw;
	int rc;
	if (k->alg == MDKIM_ED25519_SHA256) {
		if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &rawlen) != 1 || rawlen != 32)
			return err_set(e, ERR_INVALID, "cannot read the Ed25519 public key");
		rc = buf_append_str(out, "v=DKIM1; k=ed25519; p=");
		if (rc == 0)
			rc = base64_encode(out, raw, rawlen, 0);
	} else {
		int n = i2d_PUBKEY(k->pkey, &der);
		if (n <= 0)
			return err_set(e, ERR_INVALID, "cannot encode the RSA public key");
		rc = buf_append_str(out, "v=DKIM1; k=rsa; p=");
		if (rc == 0)
			rc = base64_encode(out, der, (size_t)n, 0);
		OPENSSL_free(der);
	}
	return rc ? err_set(e, ERR_TOOBIG, "DNS record does not fit the buffer") : 0;
}

/* ------------------------------------------------------------ signing */

struct folder {
	struct buf *out;
	size_t col; /* current line length */
	int rc;
};

/* Appends piece; folds before it (CRLF SP) when the line would pass 78 columns. */
static void
fold_add(struct folder *f, const char *p, size_t n, bool space_before)
{
	if (f->rc)
		return;
	size_t need = n + (space_before ? 1 : 0);
	if (f->col + need > 78 && f->col > 1) {
		f->rc = buf_append(f->out, "\r\n ", 3);
		f->col = 1;
	} else if (space_before) {
		f->rc = buf_putc(f->out, ' ');
		f->col++;
	}
	if (f->rc == 0)
		f->rc = buf_append(f->out, p, n);
	f->col += n;
}

/* Appends " <tag>=<v>;" (folding before it when needed). */
static void
fold_tag(struct folder *f, const char *tag, const char *v)
{
	char tmp[512];
	int n = snprintf(tmp, sizeof tmp, "%s=%s;", tag, v);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		f->rc = BUF_ETOOBIG;
		return;
	}
	fold_add(f, tmp, (size_t)n, true);
}

static bool
valid_name(const char *s, size_t max, bool dots)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || (dots && c == '.')))
			return false;
	}
	return true;
}

static int
do_sign(const struct mdkim_key *k, struct span data, unsigned char *sig, size_t *siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = 0;
	if (ctx == NULL)
		return -1;
	if (k->alg == MDKIM_RSA_SHA256) {
		ok = EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
		     EVP_DigestSign(ctx, sig, siglen, (const unsigned char *)data.p, data.len) == 1;
	} else {
		unsigned char h[32];
		ok = EVP_Digest(data.p, data.len, h, NULL, EVP_sha256(), NULL) == 1 &&
		     EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
		     EVP_DigestSign(ctx, sig, siglen, h, sizeof h) == 1;
	}
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

int
mdkim_sign(const struct mdkim_key *k, const struct mdkim_sign_opts *o, struct span msg,
           struct buf *out, struct err *e)
{
	if (o->domain == NULL || !valid_name(o->domain, 253, true))
		return err_set(e, ERR_INVALID, "DKIM signing domain \"%s\" is not a domain name",
		               o->domain ? o->domain : "");
	if (o->selector == NULL || !valid_name(o->selector, 63, true))
		return err_set(e, ERR_INVALID, "DKIM selector \"%s\" is not valid",
		               o->selector ? o->selector : "");
	const char *const *names = o->headers ? o->headers : mdkim_default_headers;

	struct mime_limits lim;
	struct mime_msg m;
	mime_limits_default(&lim);
	lim.headers_only = true;
	int rc = mime_parse(&m, msg, &lim, e);
	if (rc != 0) {
		mime_msg_clear(&m);
		return err_prefix(e, "cannot sign message");
	}

	/* h= list: each name once per occurrence (at least once), From first if missing */
	struct span h[MDKIM_MAX_H];
	size_t nh = 0;
	bool from = false;
	for (size_t i = 0; names[i] && rc == 0; i++) {
		if (!valid_name(names[i], 100, false)) {
			rc = err_set(e, ERR_INVALID, "header name \"%s\" cannot be signed",
			             names[i]);
			break;
		}
		size_t count = 0;
		for (long j = mime_header_find(&m, 0, names[i]); j >= 0;
		     j = mime_header_next(&m, 0, names[i], j))
			count++;
		if (count == 0)
			count = 1;
		if (str_casecmp(names[i], "from") == 0)
			from = true;
		for (size_t c = 0; c < count; c++) {
			if (nh >= MDKIM_MAX_H - 1) {
				rc = err_set(e, ERR_INVALID, "more than %d signed header fields",
				             MDKIM_MAX_H - 1);
				break;
			}
			h[nh++] = span_cstr(names[i]);
		}
	}
	if (rc == 0 && !from) {
		memmove(h + 1, h, nh * sizeof h[0]);
		h[0] = SPAN_LIT("From");
		nh++;
	}

	unsigned char bh[32];
	if (rc == 0 && mdkim_body_hash(o->bc, m.parts[0].body, bh) != 0)
		rc = err_set(e, ERR_BADSTATE, "SHA-256 unavailable");

	struct buf field, data, tmp;
	buf_init(&field, 16384);
	buf_init(&data, msg.len + 16384);
	buf_init(&tmp, 1024);
	struct folder f = { &field, 0, 0 };
	if (rc == 0) {
		char num[32];
		f.rc = buf_append_str(&field, "DKIM-Signature:");
		f.col = 15;
		fold_tag(&f, "v", "1");
		fold_tag(&f, "a", mdkim_alg_name(k->alg));
		char c[32];
		snprintf(c, sizeof c, "%s/%s", o->hc == MDKIM_RELAXED ? "relaxed" : "simple",
		         o->bc == MDKIM_RELAXED ? "relaxed" : "simple");
		fold_tag(&f, "c", c);
		fold_tag(&f, "d", o->domain);
		fold_tag(&f, "s", o->selector);
		if (o->t >= 0) {
			snprintf(num, sizeof num, "%lld", (long long)o->t);
			fold_tag(&f, "t", num);
			if (o->expire > 0) {
				snprintf(num, sizeof num, "%lld", (long long)(o->t + o->expire));
				fold_tag(&f, "x", num);
			}
		}
		/* h=, folded after colons */
		for (size_t i = 0; i < nh; i++) {
			buf_reset(&tmp);
			f.rc = f.rc ? f.rc
			            : buf_printf(&tmp, "%s%.*s%s", i == 0 ? "h=" : "",
			                         (int)h[i].len, h[i].p, i + 1 < nh ? ":" : ";");
			fold_add(&f, buf_cstr(&tmp), tmp.len, i == 0);
		}
		buf_reset(&tmp);
		if (base64_encode(&tmp, bh, sizeof bh, 0) != 0)
			f.rc = BUF_ETOOBIG;
		fold_tag(&f, "bh", buf_cstr(&tmp));
		fold_add(&f, "b=", 2, true);
		rc = f.rc ? err_set(e, ERR_TOOBIG, "DKIM-Signature field too long") : 0;
	}
	if (rc == 0) {
		/* hash input: selected headers + this field with empty b= (plus a CRLF that the
		 * canonicalization strips again) */
		size_t flen = field.len;
		rc = buf_append(&field, "\r\n", 2);
		if (rc == 0)
			rc = mdkim_header_input(&m, o->hc, h, nh, buf_span(&field), &data);
		field.len = flen;
		field.data[flen] = '\0';
		if (rc != 0)
			rc = err_set(e, ERR_TOOBIG, "message headers too large to sign");
	}
	unsigned char sig[MDKIM_MAX_SIG];
	size_t siglen = sizeof sig;
	if (rc == 0 && do_sign(k, buf_span(&data), sig, &siglen) != 0)
		rc = err_set(e, ERR_BADSTATE, "signing failed (OpenSSL)");
	if (rc == 0) {
		buf_reset(&tmp);
		struct buf b64;
		buf_init(&b64, 4096);
		rc = base64_encode(&b64, sig, siglen, 0);
		size_t pos = 0;
		while (rc == 0 && pos < b64.len) {
			size_t room = f.col < 78 ? 78 - f.col : 0;
			if (room < 8) {
				rc = buf_append(&field, "\r\n ", 3);
				f.col = 1;
				continue;
			}
			size_t n = b64.len - pos < room ? b64.len - pos : room;
			rc = buf_append(&field, b64.data + pos, n);
			f.col += n;
			pos += n;
		}
		buf_clear(&b64);
		if (rc == 0)
			rc = buf_append(&field, "\r\n", 2);
		if (rc == 0)
			rc = buf_append_span(out, buf_span(&field));
		if (rc != 0)
			rc = err_set(e, ERR_TOOBIG,
			             "DKIM-Signature does not fit the output buffer");
	}
	buf_clear(&field);
	buf_clear(&data);
	buf_clear(&tmp);
	mime_msg_clear(&m);
	return rc;
}
