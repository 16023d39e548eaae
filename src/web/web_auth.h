/*
 * web_auth.h - credentials of the web role: password hashes for basic-auth users
 * (PBKDF2-HMAC-SHA256, RFC 8018 section 5.2), the bearer token comparison and the
 * parsing of Authorization headers (RFC 6750 bearer, RFC 7617 basic).
 *
 * Hash encoding: "$pbkdf2-sha256$ITERATIONS$SALT$HASH" with SALT (16 bytes) and HASH
 * (32 bytes) in base64 (RFC 4648 section 4, padded).  Every comparison of secrets runs in
 * time independent of where they differ.
 * Thread-safe (no shared state).
 */
#ifndef TLSRPTD_WEB_WEB_AUTH_H
#define TLSRPTD_WEB_WEB_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

enum {
	WEB_PBKDF2_MIN_ITER = 1000,
	WEB_PBKDF2_MAX_ITER = 10000000,
	WEB_PBKDF2_DEFAULT_ITER = 600000, /* OWASP's figure for PBKDF2-HMAC-SHA256 */
	WEB_USER_NAME_MAX = 64,
};

/* One basic-auth user of web.users, parsed. */
struct web_user {
	char name[WEB_USER_NAME_MAX + 1];
	unsigned iterations;
	unsigned char salt[64];
	size_t salt_len;
	unsigned char hash[32];
};

/*
 * Appends the encoding of password's hash with a fresh random salt and `iterations`
 * (WEB_PBKDF2_MIN_ITER..MAX) to out.  Returns 0, or ERR_INVALID / ERR_IO with a message.
 */
int web_passwd_hash(const char *password, size_t len, unsigned iterations, struct buf *out,
                    struct err *e);
/*
 * Parses one web.users entry "name:$pbkdf2-sha256$..." into *u.  Returns 0 or
 * ERR_INVALID with a message that names what is wrong (never the hash itself).
 */
int web_user_parse(const char *entry, struct web_user *u, struct err *e);
/* True when password matches u (PBKDF2 with u's salt and iterations, constant-time compare). */
bool web_user_check(const struct web_user *u, const char *password, size_t len);
/* True when got[0..len) equals want (NUL-terminated); time independent of the contents. */
bool web_token_eq(const char *want, const char *got, size_t len);

/*
 * Splits the value of a "Basic" Authorization header: decodes base64 into out (cap it)
 * and sets *user / *pass to NUL-terminated strings inside out (split at the first ':').
 * Returns 0, or ERR_INVALID when it is not basic credentials.
 */
int web_basic_parse(const char *header, struct buf *out, const char **user, const char **pass,
                    size_t *pass_len);

#endif
