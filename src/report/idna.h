/*
 * idna.h - domain names to A-labels (RFC 3492 punycode, RFC 5890 A-label form).
 *
 * RFC 8460 section 4.4 wants policy-domain and mx-host in A-labels.  This is the
 * encoding step only (no IDNA2008 mapping tables): ASCII labels are kept verbatim,
 * every label holding non-ASCII becomes "xn--" + punycode of its code points.
 * Pure, thread-safe.
 */
#ifndef TLSRPTD_REPORT_IDNA_H
#define TLSRPTD_REPORT_IDNA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/span.h"

/* True when every byte of s is < 0x80. */
bool idna_is_ascii(struct span s);

/*
 * Appends the A-label form of the UTF-8 name to out.  Returns 0, or ERR_INVALID (e set)
 * when the name is not valid UTF-8, has an empty label, or a label exceeds 63 bytes after
 * encoding, or ERR_TOOBIG when out's cap is reached.
 */
int idna_to_ascii(struct span name, struct buf *out, struct err *e);

/*
 * Appends the punycode (RFC 3492 section 6.3) of code points cp[0..n) to out, without
 * the "xn--" prefix.  Returns 0, ERR_INVALID on overflow, ERR_TOOBIG when out is full.
 */
int idna_punycode_encode(const uint32_t *cp, size_t n, struct buf *out, struct err *e);

#endif
