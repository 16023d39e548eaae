/*
 * base64.h - RFC 4648 section 4 base64 encoding and decoding.
 *
 * The encoder can wrap lines (MIME, RFC 2045 section 6.8: at most 76 characters per
 * line, CRLF line breaks).  The decoder ignores white space (CR, LF, SP, HT) so that
 * MIME bodies and DKIM p= values decode directly, and rejects any other byte outside
 * the alphabet, bad padding, or data after the padding.  Thread-safe (no state).
 */
#ifndef TLSRPTD_UTIL_BASE64_H
#define TLSRPTD_UTIL_BASE64_H

#include <stddef.h>

#include "util/buf.h"
#include "util/span.h"

/* Length of the encoding of n bytes without line breaks. */
static inline size_t
base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/*
 * Appends the encoding of p[0..n) to out.  line_len 0 means one line; otherwise a CRLF
 * follows every line_len characters and the last line (line_len must be a multiple
 * of 4).  Returns 0 or BUF_ETOOBIG.
 */
int base64_encode(struct buf *out, const void *p, size_t n, size_t line_len);

/*
 * Appends the decoding of in to out.  Returns 0, -1 on malformed input (nothing is
 * guaranteed about what was appended then), or BUF_ETOOBIG when out's cap is reached.
 */
int base64_decode(struct buf *out, struct span in);

/* The 6-bit value of an alphabet character, or -1 for any other byte (padding too). */
int base64_char_value(unsigned char c);

#endif
