/*
 * compose.h - builds the RFC 8460 report e-mail (section 5.3): multipart/report with
 * report-type="tlsrpt", a short text/plain part and the application/tlsrpt+gzip
 * attachment.  Byte-exact for given inputs (the boundary and the default Message-ID are
 * derived from the inputs), CRLF line endings, header fields folded at 78 columns, no
 * line over 998 octets.  DKIM signatures (dkim.h, mdkim_sign) are prepended afterwards.
 * Pure; thread-safe.
 */
#ifndef TLSRPTD_MAIL_COMPOSE_H
#define TLSRPTD_MAIL_COMPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

struct compose_report {
	const char *from_name;     /* display name; NULL or "" for none; UTF-8 is encoded */
	const char *from_address;  /* addr-spec of the From field (and envelope sender) */
	const char *const *to;     /* NULL-terminated list of addr-specs (the rua mailto:s) */
	int64_t date;              /* Date: (seconds since the epoch, from the injected clock) */
	const char *message_id;    /* without <>; NULL derives <tlsrpt.HASH@from-domain> */
	const char *subject;       /* NULL: "Report Domain: D Submitter: S Report-ID: <ID>" */
	const char *organization;  /* named in the text part; NULL uses submitter */
	const char *policy_domain; /* TLS-Report-Domain */
	const char *submitter;     /* TLS-Report-Submitter */
	const char *report_id;     /* the JSON report-id */
	int64_t window_begin;      /* first second of the window */
	int64_t window_end;        /* last second of the window */
	const char *filename;      /* attachment name (RFC 8460 section 5.1 form) */
	const void *gz;            /* the gzip-compressed report */
	size_t gz_len;
};

/*
 * Appends the whole message (header, blank line, body) to out.  Inputs are checked:
 * no CR/LF/NUL anywhere (header injection), addresses are ASCII addr-specs, domains are
 * A-labels, report_id and filename are printable ASCII without <>"\.  Returns 0,
 * ERR_INVALID naming the bad field, or BUF_ETOOBIG when out's cap is too small.
 */
int compose_report_message(const struct compose_report *r, struct buf *out, struct err *e);

#endif
