/*
 * str.h - string helpers: ASCII case, bounded copies, number parsing, UTF-8.
 *
 * Bounded replacements for the functions `make lint` bans (strcpy, strcat, atoi, ...).
 * Nothing here allocates; all functions are thread-safe.
 */
#ifndef TLSRPTD_UTIL_STR_H
#define TLSRPTD_UTIL_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/span.h"

/* ASCII-only case folding; bytes >= 0x80 are left alone. */
static inline char
ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}
static inline char
ascii_upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* Lower-cases s[0..len) in place (ASCII only). */
void str_lower(char *s, size_t len);

/* ASCII case-insensitive compare of NUL-terminated strings, like strcasecmp(). */
int str_casecmp(const char *a, const char *b);

/*
 * Copies src into dst[0..cap) always NUL-terminating (cap > 0).  Returns strlen(src);
 * a result >= cap means the copy was truncated.
 */
size_t str_copy(char *dst, size_t cap, const char *src);

/*
 * Parses a decimal integer from s (optional sign for i64, none for u64, no spaces, no
 * trailing garbage).  Returns 0 and sets *out, or -1 on syntax error or overflow.
 */
int str_to_i64(struct span s, int64_t *out);
int str_to_u64(struct span s, uint64_t *out);

/*
 * Validates UTF-8 (RFC 3629: no overlongs, no surrogates, max U+10FFFF).  Returns the
 * length of the longest valid prefix: == len when the whole input is valid.
 */
size_t utf8_valid_prefix(const char *p, size_t len);

static inline bool
utf8_valid(const char *p, size_t len)
{
	return utf8_valid_prefix(p, len) == len;
}

/*
 * Encodes code point cp (<= 0x10FFFF, not a surrogate) as UTF-8 into out[0..4).
 * Returns the number of bytes written, or 0 when cp is not a scalar value.
 */
size_t utf8_encode(uint32_t cp, char out[4]);

#endif
