/*
 * span.h - byte spans: (pointer, length) views of memory owned by someone else.
 *
 * Network bytes are spans and are never assumed to end in NUL.  A span borrows: it is
 * valid as long as the memory it points into.  All functions are inline and pure.
 */
#ifndef TLSRPTD_UTIL_SPAN_H
#define TLSRPTD_UTIL_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct span {
	const char *p;
	size_t len;
};

#define SPAN_LIT(s) ((struct span){ (s), sizeof(s) - 1 })

static inline struct span
span_make(const void *p, size_t len)
{
	struct span s = { (const char *)p, len };
	return s;
}

/* A span over a NUL-terminated string (NULL gives the empty span). */
static inline struct span
span_cstr(const char *s)
{
	return span_make(s, s ? strlen(s) : 0);
}

static inline bool
span_eq(struct span a, struct span b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static inline bool
span_eq_cstr(struct span a, const char *s)
{
	return span_eq(a, span_cstr(s));
}

/* Bytes [off, off+n) clamped to the span. */
static inline struct span
span_sub(struct span s, size_t off, size_t n)
{
	if (off > s.len)
		off = s.len;
	if (n > s.len - off)
		n = s.len - off;
	return span_make(s.p + off, n);
}

static inline bool
span_starts_with(struct span s, struct span prefix)
{
	return s.len >= prefix.len && memcmp(s.p, prefix.p, prefix.len) == 0;
}

/* ASCII case-insensitive equality. */
bool span_eq_nocase(struct span a, struct span b);
/* Span without leading and trailing ASCII white space (SP, HT, CR, LF, VT, FF). */
struct span span_trim(struct span s);

#endif
