/*
 * inbound_metrics.c - metric families of received reports (see inbound_metrics.h and
 * docs/metrics.md).  Caps: 50 reporters and 100 policy domains (first seen), the rest
 * is "other"; result types are the RFC 8460 ones plus "unexplained" and "other".
 * Threading: registered before main(); open label values resolved under the registry's
 * mutex, counts added atomically.
 */
#include "inbound/inbound_metrics.h"

#include "report/report.h"
#include "util/metrics.h"

static const char *const verdict_values[] = { "verified", "unverified", "duplicate" };
static const char *const result_values[] = {
	"starttls-not-supported",
	"certificate-host-mismatch",
	"certificate-not-trusted",
	"certificate-expired",
	"validation-failure",
	"sts-policy-fetch-error",
	"sts-policy-invalid",
	"sts-webpki-invalid",
	"tlsa-invalid",
	"dnssec-invalid",
	"dane-required",
	"unexplained",
	"other",
};

static struct metrics_family m_reports = {
	.name = "tlsrpt_received_reports_total",
	.help = "Received reports, by reporter (submitter domain; first 50, then \"other\") and "
	        "verdict.",
	.type = METRICS_COUNTER,
	.nlabels = 2,
	.label = { { "reporter", NULL, INBOUND_METRICS_MAX_REPORTERS },
	           { "verdict", verdict_values, 3 } },
};
METRICS_REGISTER(m_reports)

static struct metrics_family m_failures = {
	.name = "tlsrpt_received_failure_sessions_total",
	.help = "Failed sessions that received reports count for our domains, by policy domain "
	        "(first 100, then \"other\") and result type.",
	.type = METRICS_COUNTER,
	.nlabels = 2,
	.label = { { "domain", NULL, INBOUND_METRICS_MAX_DOMAINS },
	           { "result_type", result_values,
	             sizeof(result_values) / sizeof(result_values[0]) } },
};
METRICS_REGISTER(m_failures)

static struct metrics_family m_rejected = {
	.name = "tlsrpt_received_rejected_total",
	.help = "Received report parts rejected as unreadable.",
	.type = METRICS_COUNTER,
};
METRICS_REGISTER(m_rejected)

void
inbound_metrics_received(const struct report *r, const char *reporter, bool verified,
                         bool duplicate)
{
	unsigned v = duplicate ? 2 : verified ? 0 : 1;

	metrics_add(&m_reports, metrics_index(&m_reports, 0, reporter), v, 1);
	if (duplicate || r == NULL)
		return;
	for (size_t i = 0; i < r->n_policies; i++) {
		const struct report_policy *p = r->policies[i];
		unsigned d = metrics_index(&m_failures, 0, p->domain ? p->domain : "other");
		uint64_t explained = 0;

		for (size_t k = 0; k < p->n_failures; k++) {
			const struct report_failure *f = &p->failures[k];
			const char *name = report_result_type_name(f->result_type);

			metrics_add(&m_failures, d, metrics_index(&m_failures, 1, name),
			            f->failed_session_count);
			explained += f->failed_session_count;
		}
		if (p->failed > explained)
			metrics_add(&m_failures, d, metrics_index(&m_failures, 1, "unexplained"),
			            p->failed - explained);
	}
}

void
inbound_metrics_rejected(void)
{
	metrics_add(&m_rejected, 0, 0, 1);
}
