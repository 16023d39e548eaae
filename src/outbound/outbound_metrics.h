/*
 * outbound_metrics.h - metric families of report generation, delivery and alerts
 * (docs/metrics.md):
 *   tlsrpt_report_windows_generated_total, tlsrpt_reports_generated_total{state},
 *   tlsrpt_reports_split_total, tlsrpt_report_details_dropped_total,
 *   tlsrpt_deliveries_total{scheme,outcome}, tlsrpt_alerts_total{type,channel,outcome}.
 * Every label has a fixed set of values.  Safe from any thread (atomic adds).
 */
#ifndef TLSRPTD_OUTBOUND_OUTBOUND_METRICS_H
#define TLSRPTD_OUTBOUND_OUTBOUND_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

struct outbound_stats;

/* One window generated with the figures in st (windows, reports, invalid, split, dropped). */
void outbound_metrics_generated(const struct outbound_stats *st);
/* One delivery attempt to dest (a rua URI) that ended in state. */
void outbound_metrics_delivery(const char *dest, enum store_delivery_state state);
/* One alert notification: type "failure-rate", ..., channel "webhook" / "email". */
void outbound_metrics_alert(const char *type, const char *channel, bool ok);

#endif
