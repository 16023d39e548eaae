/*
 * xalloc.h - allocation that aborts on out-of-memory.
 *
 * For the daemon and the CLI, where running out of memory is not a state we can
 * recover from.  Every function either returns a valid pointer or prints one line to
 * stderr and calls abort().  Callers own what is returned and free it with free().
 * Parsers of untrusted input still bound every allocation by a cap they were given;
 * these wrappers only remove the NULL check, not the cap.
 */
#ifndef TLSRPTD_UTIL_XALLOC_H
#define TLSRPTD_UTIL_XALLOC_H

#include <stddef.h>

/* Like malloc(n) but never NULL; xmalloc(0) returns a unique freeable pointer. */
void *xmalloc(size_t n);
/* Like calloc(nmemb, size); aborts on overflow of nmemb * size as well as on OOM. */
void *xcalloc(size_t nmemb, size_t size);
/* Like realloc(p, n); never NULL.  On success p is no longer valid. */
void *xrealloc(void *p, size_t n);
/* reallocarray() that aborts on overflow or OOM. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
/* Copy of the NUL-terminated string s.  Caller frees. */
char *xstrdup(const char *s);
/* Copy of the first n bytes of p, NUL-terminated (p need not be).  Caller frees. */
char *xstrndup(const char *p, size_t n);
/* Copy of n bytes of p (not terminated).  Caller frees. */
void *xmemdup(const void *p, size_t n);

#endif
