/*
 * mime_int.h - helpers shared by the files of the MIME parser (mime.c,
 * mime_decode.c, mime_fields.c).  Not for use outside src/mail/.
 */
#ifndef TLSRPTD_MAIL_MIME_INT_H
#define TLSRPTD_MAIL_MIME_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/span.h"

/* SP or HTAB (RFC 5234 WSP). */
static inline bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* WSP or a line-ending byte (folding white space as the parser meets it). */
static inline bool
is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Index of the first byte at or after i that is not folding white space or part of a
 * (nested) comment. */
size_t mime_skip_cfws(struct span v, size_t i);

#endif
