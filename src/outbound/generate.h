/*
 * generate.h - the report scheduler: turns closed windows into outbox reports, exactly
 * once per window.
 *
 * Schedule: a window [start, end) is reportable at
 *     end + delay + jitter(period, domain, start)
 * where jitter is deterministic (a hash of domain and start modulo the maximum, so a
 * restart computes the same time) and its maximum is report.tls.aggregate.jitter for
 * daily and weekly windows and 1/24 of it for hourly ones (4h -> 10 min).  A pass
 * generates every reportable window, oldest first, so windows missed while the daemon
 * was down are all generated on the first pass.
 *
 * Exactly once: each window is generated in one store transaction that reads its
 * counters, inserts its reports and delivery rows into the outbox and marks the
 * window reported; a window already reported inside the transaction is skipped.  A
 * crash before the commit leaves nothing; after it, the window is no longer due.
 *
 * Frequency changes (report.tls.aggregate.send) mid-window: windows are keyed by
 * (period, start, domain, record), so the collector starts counting into windows of
 * the new period while the window of the old period keeps what it has and is reported
 * when it ends.  Nothing is lost or counted twice; the two reports' date-ranges
 * overlap for that one transition.
 *
 * Fault injection (tests): the environment variable TLSRPT_OUTBOUND_FAULT=build,
 * insert or commit kills the process with SIGKILL right after building, after the
 * outbox inserts, or just before the commit of the first window generated.
 *
 * Threading: a struct outbound_opts and its store are used by one thread at a time.
 */
#ifndef TLSRPTD_OUTBOUND_GENERATE_H
#define TLSRPTD_OUTBOUND_GENERATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/conf.h"
#include "outbound/build.h"
#include "report/report.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/err.h"

struct outbound_opts {
	const struct conf *conf;   /* identity, max-size, delay, jitter */
	struct store *store;       /* borrowed */
	const struct clock *clock; /* NULL: real clock */
	bool immediate;            /* ignore delay and jitter: every ended window is due */
};

struct outbound_stats {
	uint64_t windows;         /* windows generated (marked reported) */
	uint64_t reports;         /* reports stored in the outbox */
	uint64_t invalid;         /* reports stored as invalid (not sent) */
	uint64_t split;           /* windows whose report needed more than one part */
	uint64_t dropped_details; /* failure details dropped to fit max-size */
	uint64_t not_yet;         /* ended windows still waiting for delay + jitter */
};

/* The jitter of a window in seconds: in [0, max] for the period (see above). */
int64_t outbound_jitter(enum window_period p, const char *domain, int64_t start,
                        int64_t jitter_max);
/* When the window becomes reportable. */
int64_t outbound_due_at(const struct outbound_opts *o, const struct store_window *w);

/*
 * Generates one window (see above).  Returns 0 (also when the window was already
 * reported: nothing is done), or a negative code with e set and the transaction
 * rolled back.  stats (may be NULL) is added to.
 */
int outbound_generate_window(const struct outbound_opts *o, const struct store_window *w,
                             struct outbound_stats *stats, struct err *e);

/* One scheduler pass: every reportable window, oldest first.  Stops at the first error. */
int outbound_run(const struct outbound_opts *o, struct outbound_stats *stats, struct err *e);

/*
 * Preview: the JSON of the reports of domain's window containing time `at` (open or
 * not), built and validated but not stored; one JSON document per line appended to
 * out.  Returns 0, ERR_NOTFOUND when there is no such window, or another error.
 */
int outbound_preview(const struct outbound_opts *o, const char *domain, int64_t at, struct buf *out,
                     struct err *e);

#endif
