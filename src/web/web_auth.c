/*
 * web_auth.c - password hashes, token comparison and Authorization headers for the web
 * role (see web_auth.h).
 *
 * RFC 8018 section 5.2 (PBKDF2) with HMAC-SHA256 through OpenSSL 3's PKCS5_PBKDF2_HMAC;
 * RFC 7617 (basic), RFC 6750 section 2.1 (bearer).  Secrets are compared with
 * CRYPTO_memcmp over fixed-size digests so that neither contents nor length leak through
 * timing.
 * Thread-safe.
 */
#include "web/web_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "util/base64.h"
#include "util/str.h"

static const char prefix[] = "$pbkdf2-sha256$";

static int
derive(const char *password, size_t len, const unsigned char *salt, size_t salt_len,
       unsigned iterations, unsigned char out[32])
{
	return PKCS5_PBKDF2_HMAC(password, (int)len, salt, (int)salt_len, (int)iterations,
	                         EVP_sha256(), 32, out) == 1
	               ? 0
	               : ERR_IO;
}

int
web_passwd_hash(const char *password, size_t len, unsigned iterations, struct buf *out,
                struct err *e)
{
	unsigned char salt[16], hash[32];

	if (iterations < WEB_PBKDF2_MIN_ITER || iterations > WEB_PBKDF2_MAX_ITER)
		return err_set(e, ERR_INVALID, "iterations: expected %d..%d, got %u",
		               WEB_PBKDF2_MIN_ITER, WEB_PBKDF2_MAX_ITER, iterations);
	if (len > (size_t)INT32_MAX)
		return err_set(e, ERR_INVALID, "password too long");
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return err_set(e, ERR_IO, "no random bytes for the salt");
	if (derive(password, len, salt, sizeof(salt), iterations, hash) != 0)
		return err_set(e, ERR_IO, "PBKDF2 failed");
	if (buf_printf(out, "%s%u$", prefix, iterations) != 0 ||
	    base64_encode(out, salt, sizeof(salt), 0) != 0 || buf_putc(out, '$') != 0 ||
	    base64_encode(out, hash, sizeof(hash), 0) != 0)
		return err_set(e, ERR_TOOBIG, "hash does not fit");
	OPENSSL_cleanse(hash, sizeof(hash));
	return 0;
}

/* Decodes base64 p[0..n) into exactly want bytes at out (want 0: 1..cap bytes). */
static int
decode_into(const char *p, size_t n, unsigned char *out, size_t cap, size_t *got)
{
	struct buf b;
	int rc;

	buf_init(&b, 256);
	rc = base64_decode(&b, span_make(p, n));
	if (rc == 0 && (b.len == 0 || b.len > cap))
		rc = ERR_INVALID;
	if (rc == 0) {
		memcpy(out, b.data, b.len);
		*got = b.len;
	}
	buf_clear(&b);
	return rc ? ERR_INVALID : 0;
}

int
web_user_parse(const char *entry, struct web_user *u, struct err *e)
{
	const char *colon = strchr(entry, ':'), *h, *d1, *d2;
	uint64_t iter;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (colon == NULL || colon == entry)
		return err_set(e, ERR_INVALID,
		               "web.users: expected \"name:$pbkdf2-sha256$...\" (from `tlsrpt web "
		               "passwd`)");
	if ((size_t)(colon - entry) > WEB_USER_NAME_MAX)
		return err_set(e, ERR_INVALID, "web.users: user name longer than %d bytes",
		               WEB_USER_NAME_MAX);
	memcpy(u->name, entry, (size_t)(colon - entry));
	h = colon + 1;
	if (strncmp(h, prefix, sizeof(prefix) - 1) != 0)
		return err_set(e, ERR_INVALID,
		               "web.users: user %s: expected a $pbkdf2-sha256$ hash from `tlsrpt "
		               "web passwd`",
		               u->name);
	h += sizeof(prefix) - 1;
	d1 = strchr(h, '$');
	d2 = d1 ? strchr(d1 + 1, '$') : NULL;
	if (d1 == NULL || d2 == NULL || str_to_u64(span_make(h, (size_t)(d1 - h)), &iter) != 0 ||
	    iter < WEB_PBKDF2_MIN_ITER || iter > WEB_PBKDF2_MAX_ITER)
		return err_set(e, ERR_INVALID,
		               "web.users: user %s: bad iteration count (expected %d..%d)", u->name,
		               WEB_PBKDF2_MIN_ITER, WEB_PBKDF2_MAX_ITER);
	u->iterations = (unsigned)iter;
	if (decode_into(d1 + 1, (size_t)(d2 - d1 - 1), u->salt, sizeof(u->salt), &u->salt_len) !=
	            0 ||
	    decode_into(d2 + 1, strlen(d2 + 1), u->hash, sizeof(u->hash), &n) != 0 ||
	    n != sizeof(u->hash))
		return err_set(e, ERR_INVALID, "web.users: user %s: bad salt or hash encoding",
		               u->name);
	return 0;
}

bool
web_user_check(const struct web_user *u, const char *password, size_t len)
{
	unsigned char got[32];
	bool ok;

	if (len > (size_t)INT32_MAX ||
	    derive(password, len, u->salt, u->salt_len, u->iterations, got) != 0)
		return false;
	ok = CRYPTO_memcmp(got, u->hash, sizeof(got)) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}

bool
web_token_eq(const char *want, const char *got, size_t len)
{
	unsigned char a[32], b[32];
	unsigned int na = 0, nb = 0;
	bool ok;

	/* digests have a fixed size: the comparison leaks neither contents nor length */
	if (EVP_Digest(want, strlen(want), a, &na, EVP_sha256(), NULL) != 1 ||
	    EVP_Digest(got, len, b, &nb, EVP_sha256(), NULL) != 1)
		return false;
	ok = CRYPTO_memcmp(a, b, sizeof(a)) == 0;
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	return ok;
}

int
web_basic_parse(const char *header, struct buf *out, const char **user, const char **pass,
                size_t *pass_len)
{
	const char *p = header;
	char *colon;

	if (strlen(p) < 6 || !span_eq_nocase(span_make(p, 6), SPAN_LIT("Basic ")))
		return ERR_INVALID;
	p += 6;
	buf_reset(out);
	if (base64_decode(out, span_trim(span_cstr(p))) != 0 || out->len == 0)
		return ERR_INVALID;
	colon = memchr(out->data, ':', out->len);
	if (colon == NULL || memchr(out->data, '\0', out->len) != NULL)
		return ERR_INVALID;
	*colon = '\0';
	*user = out->data;
	*pass = colon + 1;
	*pass_len = out->len - (size_t)(colon + 1 - out->data);
	return 0;
}
