/*
 * outbound_metrics.c - the metric families of report generation, delivery and alerts
 * (see outbound_metrics.h and docs/metrics.md).  Fixed label values only.
 * Threading: registered before main(); afterwards only atomic adds.
 */
#include "outbound/outbound_metrics.h"

#include <string.h>

#include "outbound/generate.h"
#include "util/metrics.h"

static const char *const state_values[] = { "ready", "invalid" };
static const char *const scheme_values[] = { "mailto", "https", "other" };
static const char *const delivery_values[] = { "pending", "sent", "failed", "given-up" };
static const char *const alert_types[] = { "failure-rate", "new-failure-type", "reporter-silent",
	                                   "delivery-failing", "test" };
static const char *const channel_values[] = { "webhook", "email" };

static struct metrics_family m_windows = {
	.name = "tlsrpt_report_windows_generated_total",
	.help = "Report windows generated (each once).",
	.type = METRICS_COUNTER,
};
METRICS_REGISTER(m_windows)

static struct metrics_family m_reports = {
	.name = "tlsrpt_reports_generated_total",
	.help = "Reports stored in the outbox, by state (invalid reports are never sent).",
	.type = METRICS_COUNTER,
	.nlabels = 1,
	.label = { { "state", state_values, 2 } },
};
METRICS_REGISTER(m_reports)

static struct metrics_family m_split = {
	.name = "tlsrpt_reports_split_total",
	.help = "Windows whose report was split into several parts to fit max-size.",
	.type = METRICS_COUNTER,
};
METRICS_REGISTER(m_split)

static struct metrics_family m_dropped = {
	.name = "tlsrpt_report_details_dropped_total",
	.help = "Failure details dropped because one policy alone exceeded max-size.",
	.type = METRICS_COUNTER,
};
METRICS_REGISTER(m_dropped)

static struct metrics_family m_deliveries = {
	.name = "tlsrpt_deliveries_total",
	.help = "Report delivery attempts, by rua scheme and the state they left the row in.",
	.type = METRICS_COUNTER,
	.nlabels = 2,
	.label = { { "scheme", scheme_values, 3 }, { "outcome", delivery_values, 4 } },
};
METRICS_REGISTER(m_deliveries)

static struct metrics_family m_alerts = {
	.name = "tlsrpt_alerts_total",
	.help = "Alert notifications sent, by rule type, channel and outcome.",
	.type = METRICS_COUNTER,
	.nlabels = 2,
	.label = { { "type", alert_types, 5 }, { "channel", channel_values, 2 } },
};
METRICS_REGISTER(m_alerts)

static struct metrics_family m_alert_errors = {
	.name = "tlsrpt_alert_errors_total",
	.help = "Alert notifications that could not be sent, by channel.",
	.type = METRICS_COUNTER,
	.nlabels = 1,
	.label = { { "channel", channel_values, 2 } },
};
METRICS_REGISTER(m_alert_errors)

void
outbound_metrics_generated(const struct outbound_stats *st)
{
	metrics_add(&m_windows, 0, 0, st->windows);
	metrics_add(&m_reports, 0, 0, st->reports - st->invalid);
	metrics_add(&m_reports, 1, 0, st->invalid);
	metrics_add(&m_split, 0, 0, st->split);
	metrics_add(&m_dropped, 0, 0, st->dropped_details);
}

void
outbound_metrics_delivery(const char *dest, enum store_delivery_state state)
{
	unsigned scheme = 2;

	if (dest != NULL && strncmp(dest, "mailto:", 7) == 0)
		scheme = 0;
	else if (dest != NULL && strncmp(dest, "https:", 6) == 0)
		scheme = 1;
	metrics_add(&m_deliveries, scheme, (unsigned)state, 1);
}

void
outbound_metrics_alert(const char *type, const char *channel, bool ok)
{
	if (ok)
		metrics_add_named(&m_alerts, type, channel, 1);
	else
		metrics_add_named(&m_alert_errors, channel, NULL, 1);
}
