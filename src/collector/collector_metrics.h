/*
 * collector_metrics.h - the collector's metric families (docs/metrics.md):
 *   tlsrpt_collector_datagrams_total, tlsrpt_collector_datagrams_rejected_total{reason},
 *   tlsrpt_collector_sessions_total{policy_type,result},
 *   tlsrpt_collector_flushes_total{outcome}, tlsrpt_collector_flush_duration_seconds,
 *   tlsrpt_collector_dropped_sessions_total{reason}.
 * The calls are lock-free (relaxed atomic adds) and safe from any thread.
 */
#ifndef TLSRPTD_COLLECTOR_COLLECTOR_METRICS_H
#define TLSRPTD_COLLECTOR_COLLECTOR_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "collector/datagram.h"

/* One datagram received (before decoding). */
void collector_metrics_datagram(void);
/* One datagram rejected for reason r (not DG_OK). */
void collector_metrics_reject(enum dg_reject r);
/* One session of policy pol counted: success, or its first failure detail's result. */
void collector_metrics_session(const struct datagram *dg, const struct dg_policy *pol);
/* One flush of a non-empty aggregate that committed (ok) or failed, and its duration. */
void collector_metrics_flush(bool ok, int64_t duration_ns);

/* Why sessions were dropped instead of stored (collector.h, outage buffering). */
enum collector_drop {
	COLLECTOR_DROP_MEMORY_BOUND = 0,   /* oldest windows past max_memory in an outage */
	COLLECTOR_DROP_COMMIT_UNKNOWN = 1, /* commit outcome unknown: never retried */
	COLLECTOR_DROP_SHUTDOWN = 2,       /* store still unreachable at shutdown */
};
/* sessions dropped for why. */
void collector_metrics_dropped(enum collector_drop why, uint64_t sessions);

#endif
