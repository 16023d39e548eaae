/*
 * buf.h - growable byte buffers with a maximum size fixed at creation.
 *
 * Every buffer fed from outside has a cap; growing past it fails cleanly with
 * BUF_ETOOBIG and leaves the contents as they were before the failing call.  The data
 * is always NUL-terminated one byte past len (not counted in len, not counted against
 * max), so text can be handed to C string functions.  Memory comes from xalloc (aborts
 * on OOM).  A struct buf is owned by the caller: buf_init() then buf_clear().
 * Not thread-safe; one owner at a time.
 */
#ifndef TLSRPTD_UTIL_BUF_H
#define TLSRPTD_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "util/span.h"

enum { BUF_ETOOBIG = -5 }; /* == ERR_TOOBIG */

struct buf {
	char *data; /* NULL until the first write; then data[len] == '\0' */
	size_t len; /* bytes in use */
	size_t cap; /* bytes allocated (excluding the terminator byte) */
	size_t max; /* len never exceeds this */
};

/* Empty buffer that may hold at most max bytes.  Allocates nothing yet. */
void buf_init(struct buf *b, size_t max);
/* Frees the memory; b is empty and reusable with the same max afterwards. */
void buf_clear(struct buf *b);
/* Sets len to 0 and keeps the memory. */
void buf_reset(struct buf *b);

/* Makes room for n more bytes.  Returns 0 or BUF_ETOOBIG. */
int buf_reserve(struct buf *b, size_t n);
/* Appends n bytes of p.  Returns 0 or BUF_ETOOBIG (nothing appended then). */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_append_span(struct buf *b, struct span s);
int buf_putc(struct buf *b, char c);
/* Appends formatted text.  Returns 0 or BUF_ETOOBIG (nothing appended then). */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Current contents as a span (valid until the next modifying call). */
static inline struct span
buf_span(const struct buf *b)
{
	return span_make(b->data ? b->data : "", b->len);
}

/* Current contents as a C string ("" when empty); valid until the next modifying call. */
static inline const char *
buf_cstr(const struct buf *b)
{
	return b->data ? b->data : "";
}

/*
 * Hands the memory to the caller (who frees it with free()) and leaves b empty.
 * Returns a NUL-terminated string even when nothing was ever written.  *len_out, if
 * not NULL, receives the length.
 */
char *buf_steal(struct buf *b, size_t *len_out);

#endif
