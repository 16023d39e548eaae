/*
 * collector.h - receives libtlsrpt datagrams, aggregates them, flushes to the store.
 *
 * collector_start() binds the AF_UNIX SOCK_DGRAM socket and starts two threads:
 *   receiver  drains the socket with recvmmsg(2) in batches of 64, decodes and counts
 *             into its in-memory aggregate; at least every flush interval (and when the
 *             aggregate passes max_memory) it hands the aggregate to the flusher and
 *             continues with an empty one, so receiving never waits for the store;
 *   flusher   writes a handed-over aggregate to the store in one transaction and hands
 *             it back emptied.
 * At most one aggregate is being flushed at a time; if the flusher is still busy at a
 * tick, the receiver keeps counting and retries the hand-over shortly after.
 *
 * Store outage: a flush that fails (store unreachable, deadlock, ...) is rolled back and
 * its aggregate handed back to the receiver, which merges it into the one it counts
 * into; the next hand-over waits for a backoff of 1 s doubling per failed attempt up to
 * 30 s, and the first successful flush writes everything.  Memory bound (max_memory):
 * past it the aggregate is flushed early; when that is not possible because the store is
 * failing (a flush failed and the flusher backs off, or a flush has been running for
 * 30 s), the counters of the OLDEST windows are dropped until 3/4 of the bound is left,
 * counted in stats.dropped and logged (rate-limited).  Below the bound nothing is lost;
 * while flushes merely run slowly nothing is dropped.  At
 * shutdown a failing flush is tried 5 times (1 s apart), then dropped and counted.
 *
 * Commit outcome unknown: when the store says the COMMIT was sent but its answer was
 * lost (STORE_ECOMMIT_UNKNOWN), the flush is NOT retried (that could count it twice):
 * its sessions are counted in stats.dropped and stats.commit_unknown.  At most once.
 *
 * Durability bound: a committed flush is durable; after kill -9 the results lost are
 * those received since the last hand-over (at most one flush interval, or everything
 * held during a store outage), plus the aggregate being written at that moment if the
 * kill hits during its transaction (one flush's duration: typically tens of ms), plus
 * what was still queued in the kernel (at most net.unix.max_dgram_qlen datagrams).
 * Nothing is counted twice: deltas are dropped from memory only after their transaction
 * committed (or when its outcome is unknown).
 *
 * Late results (their window already reported): counted into the next window of that
 * domain that is still open, and in stats.late_sessions.
 *
 * Threading: collector_start/collector_stop from one controlling thread;
 * collector_get_stats from any thread.  collector_new/feed/flush (no socket, no
 * thread) are for tests and tools and must not be mixed with collector_start.
 */
#ifndef TLSRPTD_COLLECTOR_COLLECTOR_H
#define TLSRPTD_COLLECTOR_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "collector/datagram.h"
#include "report/window.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/err.h"

struct collector_opts {
	const char *socket_path;  /* collector.socket */
	const char *socket_owner; /* user name or uid; NULL: unchanged */
	const char *socket_group; /* group name or gid; NULL: unchanged */
	int socket_mode;          /* e.g. 0666; < 0: 0666 */
	int flush_interval_ms;    /* <= 0: 1000 */
	size_t max_memory;        /* early flush; during an outage the bound; 0: 16 MiB */
	const char *dump_dir;     /* rejected datagrams are written here; NULL: off */
	unsigned dump_max_files;  /* 0: 100 */
	size_t dump_max_bytes;    /* 0: 10 MiB */
	struct store *store;      /* borrowed; used only by the collector's thread */
	/* Window period of a report domain (lower-case); cached per domain. */
	enum window_period (*period_for)(void *ctx, const char *domain);
	void *period_ctx;
	const struct clock *clock; /* NULL: real clock */
};

struct collector_stats {
	uint64_t datagrams; /* received */
	uint64_t accepted;  /* decoded */
	uint64_t rejected;  /* sum of rejected_by[] */
	uint64_t rejected_by[DG_REJECT_COUNT_];
	uint64_t sessions_success; /* counted into windows */
	uint64_t sessions_failure;
	uint64_t failure_details;
	uint64_t never_sessions;    /* period never: metrics only */
	uint64_t report_deliveries; /* "rpt":1 sessions: metered, never counted */
	uint64_t late_sessions;     /* moved to the next open window */
	uint64_t ts_out_of_range;   /* ts > 300 s ahead or > 8 days old: dated by receive time */
	uint64_t flushes;
	uint64_t flush_errors;
	uint64_t dumped;
	uint64_t pending; /* session counters not yet flushed */
	uint64_t dropped; /* sessions dropped: memory bound, commit outcome unknown, shutdown */
	uint64_t commit_unknown; /* flushes whose commit outcome was unknown (dropped) */
};

struct collector;

/* A collector without socket or thread (tests, tools).  Copies opts (not the strings). */
int collector_new(const struct collector_opts *opts, struct collector **out, struct err *e);
/* Decodes and counts one datagram received at time now.  Returns its dg_reject. */
enum dg_reject collector_feed(struct collector *c, const char *p, size_t len, int64_t now);
/* Writes all deltas to the store in one transaction.  On failure the deltas stay. */
int collector_flush(struct collector *c, struct err *e);
/* Frees a collector from collector_new (no flush). */
void collector_free(struct collector *c);

/*
 * Binds the socket (replacing a stale socket file; refusing when the path is not a
 * socket or a live collector answers on it) and starts the receiving thread.
 */
int collector_start(const struct collector_opts *opts, struct collector **out, struct err *e);
/*
 * Stops the thread (after draining the socket), flushes, removes the socket file and
 * frees.  *final (may be NULL) receives the statistics at the end.  NULL c is a no-op.
 */
void collector_stop(struct collector *c, struct collector_stats *final);

/* A snapshot of the counters (any thread). */
void collector_get_stats(struct collector *c, struct collector_stats *out);

#endif
