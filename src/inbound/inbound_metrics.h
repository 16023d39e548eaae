/*
 * inbound_metrics.h - metric families of received reports (docs/metrics.md):
 *   tlsrpt_received_reports_total{reporter,verdict}
 *   tlsrpt_received_failure_sessions_total{domain,result_type}
 *   tlsrpt_received_rejected_total
 * reporter and domain come from outside: the first INBOUND_METRICS_MAX_REPORTERS /
 * INBOUND_METRICS_MAX_DOMAINS distinct values get their own series, later ones count
 * as "other".  These count what this process ingested (the daemon: HTTP uploads);
 * reports ingested by `tlsrpt ingest` count in that process.
 * Threading: any thread (an open label lookup takes a mutex: once per report).
 */
#ifndef TLSRPTD_INBOUND_INBOUND_METRICS_H
#define TLSRPTD_INBOUND_INBOUND_METRICS_H

#include <stdbool.h>

struct report;

enum { INBOUND_METRICS_MAX_REPORTERS = 50, INBOUND_METRICS_MAX_DOMAINS = 100 };

/*
 * One report stored (or a duplicate seen) from reporter (the submitter domain):
 * verdict "duplicate", else "verified" / "unverified"; a new report also adds its
 * failure sessions per policy-domain and result type (failure details; failures no
 * detail explains count as result_type "unexplained").
 */
void inbound_metrics_received(const struct report *r, const char *reporter, bool verified,
                              bool duplicate);
/* One report part rejected (not a readable report). */
void inbound_metrics_rejected(void);

#endif
