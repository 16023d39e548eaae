/*
 * naming.h - report-id, attachment file name and Subject of RFC 8460 reports, and
 * their parsers for the received side.
 *
 * RFC 8460 section 5.1 (file name), section 5.3 (Subject with Report-ID as an RFC 5322
 * msg-id).  Our report-id is a valid msg-id body, deterministic from (window start,
 * policy domain, part, submitter) so that retries and restarts reuse it:
 *     20261128T000000Z.example.com.1@mx.example.org
 * Names are turned into dot-atom-text like this: U-labels become A-labels (punycode),
 * ASCII is lower-cased, a trailing dot and empty labels are dropped, and any byte that
 * is not atext (RFC 5322 section 3.2.3) or "=" is written as "=XX" (hex), so distinct
 * names give distinct ids.  Pure, thread-safe.
 */
#ifndef TLSRPTD_REPORT_NAMING_H
#define TLSRPTD_REPORT_NAMING_H

#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/span.h"

#define NAMING_NAME_MAX 256

/* Appends our report-id.  Returns 0, ERR_INVALID for an unusable name, ERR_TOOBIG. */
int naming_report_id(int64_t window_start, const char *policy_domain, unsigned part,
                     const char *submitter, struct buf *out, struct err *e);

struct naming_report_id {
	int64_t start;
	char domain[NAMING_NAME_MAX]; /* as encoded in the id */
	unsigned part;
	char submitter[NAMING_NAME_MAX];
};
/* Parses an id made by naming_report_id().  Returns 0 or ERR_INVALID (not one of ours). */
int naming_report_id_parse(struct span id, struct naming_report_id *out, struct err *e);

/*
 * Appends the attachment name "submitter!policy-domain!begin!end!uniqueid.json[.gz]"
 * (section 5.1).  Names are converted to A-labels and must then be host names; the
 * unique-id is 16 lower-case hex digits derived from report_id.  Returns 0,
 * ERR_INVALID, or ERR_TOOBIG.
 */
int naming_filename(const char *submitter, const char *policy_domain, int64_t begin, int64_t end,
                    const char *report_id, bool gzip, struct buf *out, struct err *e);

struct naming_filename {
	char submitter[NAMING_NAME_MAX];
	char domain[NAMING_NAME_MAX];
	int64_t begin;
	int64_t end;
	char unique_id[NAMING_NAME_MAX]; /* "" when absent (Stalwart, mox) */
	bool gzip;                       /* extension .json.gz or bare .gz */
};
/*
 * Parses a received attachment name; tolerant of a missing unique-id and of the
 * extensions "json.gz", "json" and "gz".  Returns 0 or ERR_INVALID with e set.
 */
int naming_filename_parse(struct span name, struct naming_filename *out, struct err *e);

/* Appends "Report Domain: D Submitter: S Report-ID: <id>" (one line, not folded). */
int naming_subject(const char *policy_domain, const char *submitter, const char *report_id,
                   struct buf *out, struct err *e);

struct naming_subject {
	char domain[NAMING_NAME_MAX];
	char submitter[NAMING_NAME_MAX];
	char report_id[512]; /* without the <> */
	bool angle;          /* the id was in <> */
};
/*
 * Parses a Subject field body (folded or not; keywords matched case-insensitively;
 * Report-ID with or without <>).  Returns 0, or ERR_INVALID when it is not of the
 * section 5.3 form (Stalwart's default "TLS Aggregate Report" is such a case).
 */
int naming_subject_parse(struct span subject, struct naming_subject *out, struct err *e);

#endif
