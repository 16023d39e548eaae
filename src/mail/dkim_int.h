/*
 * dkim_int.h - internals shared by dkim_sign.c and dkim_verify.c (not for other modules).
 */
#ifndef TLSRPTD_MAIL_DKIM_INT_H
#define TLSRPTD_MAIL_DKIM_INT_H

#include "mail/dkim.h"

/*
 * Appends the header hash input (RFC 6376 3.7): the canonical form of the header fields
 * named in names (each name takes the bottom-most instance not used yet; a missing
 * one contributes nothing), then the canonical sigfield (the DKIM-Signature field with
 * an empty b= value) without its final CRLF.  Returns 0 or BUF_ETOOBIG.
 */
int mdkim_header_input(const struct mime_msg *m, enum mdkim_canon hc, const struct span *names,
                       size_t nnames, struct span sigfield, struct buf *out);

#endif
