/*
 * collector_metrics.c - the collector's metric families (see collector_metrics.h and
 * docs/metrics.md).  Every label here has a fixed set of values, so no cardinality cap
 * is needed: reasons come from enum dg_reject, results from the RFC 8460 result types.
 * Threading: label tables are filled by a constructor before main(); afterwards only
 * atomic adds.
 */
#include "collector/collector_metrics.h"

#include "util/metrics.h"

static const char *reject_values[DG_REJECT_COUNT_ - 1];

/* "success", the RFC 8460 result types, and "failure" (failed without a detail) */
static const char *const result_values[] = {
	"success",
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
	"failure",
};
enum { N_RESULTS = sizeof(result_values) / sizeof(result_values[0]) };

static const char *const policy_values[] = { "sts", "tlsa", "no-policy-found" };
static const char *const outcome_values[] = { "ok", "error" };
/* enum collector_drop order */
static const char *const drop_values[] = { "memory_bound", "commit_outcome_unknown", "shutdown" };
static const double flush_bounds[] = { 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

/* libtlsrpt result code (0..999) -> index into result_values */
static unsigned char code_index[1000];

static struct metrics_family m_datagrams = {
	.name = "tlsrpt_collector_datagrams_total",
	.help = "Datagrams received on the collector socket.",
	.type = METRICS_COUNTER,
};

static struct metrics_family m_rejected = {
	.name = "tlsrpt_collector_datagrams_rejected_total",
	.help = "Datagrams rejected, by reason (docs/collector.md).",
	.type = METRICS_COUNTER,
	.nlabels = 1,
	.label = { { "reason", reject_values, DG_REJECT_COUNT_ - 1 } },
};

static struct metrics_family m_sessions = {
	.name = "tlsrpt_collector_sessions_total",
	.help = "TLS sessions recorded, by policy type and result (success, or the result "
	        "type of the first failure detail).",
	.type = METRICS_COUNTER,
	.nlabels = 2,
	.label = { { "policy_type", policy_values, 3 }, { "result", result_values, N_RESULTS } },
};

static struct metrics_family m_flushes = {
	.name = "tlsrpt_collector_flushes_total",
	.help = "Flushes of aggregated counters to the store, by outcome.",
	.type = METRICS_COUNTER,
	.nlabels = 1,
	.label = { { "outcome", outcome_values, 2 } },
};

static struct metrics_family m_dropped = {
	.name = "tlsrpt_collector_dropped_sessions_total",
	.help = "Sessions dropped instead of stored, by reason (docs/postgresql.md, Outages).",
	.type = METRICS_COUNTER,
	.nlabels = 1,
	.label = { { "reason", drop_values, 3 } },
};

static struct metrics_family m_flush_seconds = {
	.name = "tlsrpt_collector_flush_duration_seconds",
	.help = "Duration of flushes to the store (one transaction each).",
	.type = METRICS_HISTOGRAM,
	.bounds = flush_bounds,
	.nbounds = sizeof(flush_bounds) / sizeof(flush_bounds[0]),
};

__attribute__((constructor)) static void
collector_metrics_init(void)
{
	for (unsigned r = 1; r < DG_REJECT_COUNT_; r++)
		reject_values[r - 1] = datagram_reject_name((enum dg_reject)r);
	metrics_register(&m_datagrams);
	metrics_register(&m_rejected);
	metrics_register(&m_sessions);
	metrics_register(&m_flushes);
	metrics_register(&m_dropped);
	metrics_register(&m_flush_seconds);
	for (int c = 0; c < 1000; c++) {
		const char *name = datagram_result_name(c);
		code_index[c] =
		        (unsigned char)(name ? metrics_index(&m_sessions, 1, name) : N_RESULTS - 1);
	}
}

void
collector_metrics_datagram(void)
{
	metrics_add(&m_datagrams, 0, 0, 1);
}

void
collector_metrics_reject(enum dg_reject r)
{
	if (r != DG_OK)
		metrics_add(&m_rejected, (unsigned)r - 1, 0, 1);
}

void
collector_metrics_session(const struct datagram *dg, const struct dg_policy *pol)
{
	unsigned pt = pol->type == DG_POLICY_TLSA ? 1 : pol->type == DG_POLICY_NONE ? 2 : 0;
	unsigned res = 0;

	if (pol->failed) {
		res = N_RESULTS - 1;
		if (pol->ndetails > 0) {
			int code = dg->detail[pol->first_detail].code;
			if (code >= 0 && code < 1000)
				res = code_index[code];
		}
	}
	metrics_add(&m_sessions, pt, res, 1);
}

void
collector_metrics_flush(bool ok, int64_t duration_ns)
{
	metrics_add(&m_flushes, ok ? 0 : 1, 0, 1);
	if (ok)
		metrics_observe_ns(&m_flush_seconds, duration_ns);
}

void
collector_metrics_dropped(enum collector_drop why, uint64_t sessions)
{
	metrics_add(&m_dropped, (unsigned)why, 0, sessions);
}
