/*
 * ingest.h - turns a received message or a raw report into stored received reports.
 *
 * The inbound role: finds every report part of an e-mail (mail/mime.h), decompresses
 * and reads each report (report/report.h, tolerant), verifies DKIM for mail
 * (mail/dkim.h, keys through net/dns.h) with alignment of d= to the reporting domain,
 * and stores the result de-duplicated on (submitter domain, report-id) (store.h).
 *
 * Threading: a struct ingest is used by one thread at a time (its store handle).
 */
#ifndef TLSRPTD_INBOUND_INGEST_H
#define TLSRPTD_INBOUND_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mail/orgdomain.h"
#include "net/dns.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/span.h"

/* Module error codes (besides ERR_*). */
enum {
	INGEST_ENOREPORT = -140, /* not a report (no report part, or every part rejected) */
	INGEST_ESTORE = -141,    /* the store failed: try again later */
};

enum ingest_channel { INGEST_MAIL = 0, INGEST_HTTP = 1, INGEST_FILE = 2 };

/* "mail", "http", "file". */
const char *ingest_channel_name(enum ingest_channel c);

struct ingest {
	struct store *store;             /* borrowed; required */
	struct dns *dns;                 /* borrowed; NULL: DKIM keys cannot be fetched */
	const struct orgdomain_psl *psl; /* borrowed; NULL: last two labels */
	const struct clock *clock;       /* NULL: real clock */
	bool accept_unsigned;            /* unsigned mail counts as verified (archives) */
	size_t max_decoded;              /* cap on a decoded/decompressed report; 0 = 25 MiB */
};

/* What one ingest call did. */
struct ingest_result {
	size_t found;      /* report parts found */
	size_t stored;     /* new reports stored */
	size_t duplicates; /* already stored: recorded as a sighting */
	size_t rejected;   /* parts that are not readable reports */
	int64_t last_id;   /* id of the last report stored or seen */
	char dkim[32];     /* the message's DKIM verdict ("pass", "none", ...; "" for files) */
	char reject_reason[256]; /* the first rejection's reason */
};

/*
 * Ingests one e-mail message (raw bytes, CRLF or LF).  Every report part is read and
 * stored.  Returns 0 when at least one report was stored or was a duplicate (parts
 * that were rejected are counted in res); INGEST_ENOREPORT with the reason in e when
 * the message holds no readable report; INGEST_ESTORE when the store failed (e says
 * why; nothing of the failing report is stored).
 */
int ingest_message(struct ingest *in, struct span raw, struct ingest_result *res, struct err *e);

/*
 * Ingests one report body (gzip or JSON, sniffed) received over channel ch (HTTP or
 * file: no DKIM, stored as verified).  Returns as ingest_message().
 */
int ingest_report(struct ingest *in, struct span data, enum ingest_channel ch,
                  struct ingest_result *res, struct err *e);

/*
 * Ingests the contents of a file: gzip or JSON (a report) or else an e-mail message.
 */
int ingest_sniffed(struct ingest *in, struct span data, struct ingest_result *res, struct err *e);

/*
 * The de-duplication domain of a report: the domain of contact-info (after the last
 * '@', or the host of a URI), else the TLS-Report-Submitter header value (may be
 * NULL), else the organization-name, lower-cased, into out[0..cap).
 */
void ingest_submitter(const char *contact_info, const char *header_submitter,
                      const char *organization, char *out, size_t cap);

/*
 * The Public Suffix List at ORGDOMAIN_PSL_PATH for DKIM alignment (struct ingest.psl), or
 * NULL when it is not installed or unreadable (alignment then uses the last two labels).
 * Free with orgdomain_psl_free().
 */
struct orgdomain_psl *ingest_load_psl(void);

#endif
