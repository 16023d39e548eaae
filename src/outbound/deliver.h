/*
 * deliver.h - report delivery (RFC 8460 sections 3, 5.3-5.5): every due delivery row
 * of the outbox is sent to its destination, mailto: as DKIM-signed mail through the
 * relay or directly to the MX, https: as a POST of the gzip body; outcomes go back
 * into the store with exponential backoff until delivery.retry-until.
 *
 * Threading: deliver_pass() may run in several threads at once when each has its own
 * struct store connection; dns and signers are shared (read-only / internally locked).
 * A row is claimed with one conditional UPDATE before it is attempted, so two passes
 * never send the same row.
 */
#ifndef TLSRPTD_OUTBOUND_DELIVER_H
#define TLSRPTD_OUTBOUND_DELIVER_H

#include <stdint.h>

#include "config/conf.h"
#include "net/dns.h"
#include "outbound/signers.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/err.h"

struct deliver_opts {
	const struct conf *conf;
	struct store *store;
	struct dns *dns;               /* `_smtp._tls` TXT lookups and direct-mode MX */
	const struct signers *signers; /* loaded with signers_load() */
	const struct clock *clock;     /* NULL = real clock */
	size_t max_reports;            /* reports per pass; 0 = 100 */
	unsigned direct_port;          /* delivery.mode direct: 0 = 25 (tests) */
};

struct deliver_stats {
	uint64_t reports;  /* reports with a due row looked at */
	uint64_t attempts; /* rows claimed and tried */
	uint64_t sent;
	uint64_t failed;   /* temporary failures, retried later */
	uint64_t given_up; /* permanent failures, retry-until passed, record gone */
	uint64_t deferred; /* not tried: delivery.daily-cap reached (not in attempts) */
};

/*
 * One pass: claims and tries every due delivery row (pending, or failed with
 * next_try <= now) of up to max_reports reports.  Per report the current TLSRPT record
 * is looked up; no record, several, or no usable URI give up the report's due rows;
 * destinations no longer in the record are given up; new ones are not added.  Adds to
 * *st.  Returns 0, or a negative code for store failures (the pass stops).
 */
int deliver_pass(const struct deliver_opts *o, struct deliver_stats *st, struct err *e);

/*
 * Seconds to wait after failed attempt number `attempts` (1 = the first): 300 s
 * doubling per attempt, capped at 4 h, plus jitter of up to a quarter of that;
 * jitter01 in [0, 1) picks the jitter.
 */
int64_t deliver_backoff(uint32_t attempts, double jitter01);

#endif
