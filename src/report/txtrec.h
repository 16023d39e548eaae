/*
 * txtrec.h - the TLSRPT policy TXT record at _smtp._tls.<policy-domain> (RFC 8460
 * section 3).
 *
 * txtrec_parse() parses one record string exactly per the section 3 ABNF;
 * txtrec_select() applies the "exactly one record" rule over a whole TXT RRset.  Only
 * mailto: and https: destinations are kept (other schemes are ignored, not fatal).
 * Results are owned by the struct txtrec; pure, thread-safe.
 */
#ifndef TLSRPTD_REPORT_TXTREC_H
#define TLSRPTD_REPORT_TXTREC_H

#include <stddef.h>

#include "util/err.h"
#include "util/span.h"

enum txtrec_scheme { TXTREC_MAILTO = 1, TXTREC_HTTPS = 2 };

struct txtrec_rua {
	enum txtrec_scheme scheme;
	char *uri;    /* the URI as published (still %-encoded) */
	char *target; /* mailto: the %-decoded addr-spec (no "mailto:", no ?hfields);
	                 https: the URI as published (ready for an HTTP request) */
};

struct txtrec {
	struct txtrec_rua *rua; /* in record order, duplicates removed */
	size_t n_rua;
	size_t n_ignored; /* URIs with other schemes */
};

/* Maximum record length we look at (a TXT RRset fits in 64 KiB). */
#define TXTREC_MAX_LEN 65535
/* Maximum destinations kept. */
#define TXTREC_MAX_RUA 32

/*
 * Parses one record (the character-strings already concatenated).  The record must
 * start with "v=TLSRPTv1" *WSP ";".  Returns 0 and fills *out (caller frees with
 * txtrec_clear()), or ERR_INVALID with e set: syntax error (with the byte offset), no
 * rua field, or no usable mailto:/https: destination.  *out is empty on failure.
 */
int txtrec_parse(struct span record, struct txtrec *out, struct err *e);

/* One TXT record of an RRset: its character-strings in order. */
struct txtrec_rr {
	const struct span *strings;
	size_t n_strings;
};

/*
 * RFC 8460 section 3: concatenates each record's strings without spaces, discards
 * records that do not begin with "v=TLSRPTv1" *WSP ";", and parses the one that is
 * left.  Zero or several TLSRPT records give ERR_NOTFOUND / ERR_INVALID ("2 TLSRPT
 * records (exactly one is allowed)").  Returns 0 and fills *out like txtrec_parse().
 */
int txtrec_select(const struct txtrec_rr *rrs, size_t n, struct txtrec *out, struct err *e);

/* Frees what *t owns and empties it. */
void txtrec_clear(struct txtrec *t);

#endif
