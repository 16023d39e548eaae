/*
 * bench_metrics.c - the cost of the metrics registry (`make bench`): nanoseconds per
 * counter increment (one thread, and two threads on the same cell: the collector's
 * ~500,000 datagrams/s allow a few ns each), nanoseconds per open-label lookup, and
 * the time to render /metrics with a realistic registry (the daemon's families are
 * not linked here: a stand-in set of 12 families, two of them with 100 open values).
 * Medians of 5 runs.  Prints name<TAB>value<TAB>unit<TAB>target lines (see bench/run).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/clock.h"
#include "util/metrics.h"

#define RUNS 5
#define INCS 20000000u

static const char *const reasons[] = { "empty", "oversize", "syntax", "type", "missing",
	                               "dpv",   "policy",   "result", "utf8", "other" };
static const char *const results[] = { "success",
	                               "starttls-not-supported",
	                               "certificate-host-mismatch",
	                               "certificate-expired",
	                               "certificate-not-trusted",
	                               "validation-failure",
	                               "tlsa-invalid",
	                               "dnssec-invalid",
	                               "dane-required",
	                               "sts-policy-fetch-error",
	                               "sts-policy-invalid",
	                               "sts-webpki-invalid",
	                               "other" };
static const char *const ptypes[] = { "sts", "tlsa", "no-policy-found" };

static struct metrics_family m_inc = {
	.name = "bench_datagrams_total",
	.help = "increments",
	.type = METRICS_COUNTER,
	.nlabels = 2,
	.label = { { "policy_type", ptypes, 3 }, { "result", results, 13 } },
};
METRICS_REGISTER(m_inc)

static struct metrics_family m_reasons = {
	.name = "bench_rejected_total",
	.help = "rejections",
	.type = METRICS_COUNTER,
	.nlabels = 1,
	.label = { { "reason", reasons, 10 } },
};
METRICS_REGISTER(m_reasons)

static struct metrics_family m_dom = {
	.name = "bench_failures_total",
	.help = "failures by domain and result",
	.type = METRICS_COUNTER,
	.nlabels = 2,
	.label = { { "domain", NULL, 100 }, { "result_type", results + 1, 12 } },
};
METRICS_REGISTER(m_dom)

static struct metrics_family m_rep = {
	.name = "bench_reports_total",
	.help = "reports by reporter",
	.type = METRICS_COUNTER,
	.nlabels = 1,
	.label = { { "reporter", NULL, 100 } },
};
METRICS_REGISTER(m_rep)

static const double bounds[] = { 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5 };
static struct metrics_family m_hist = {
	.name = "bench_flush_seconds",
	.help = "durations",
	.type = METRICS_HISTOGRAM,
	.bounds = bounds,
	.nbounds = 8,
};
METRICS_REGISTER(m_hist)

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double
median(double *v)
{
	qsort(v, RUNS, sizeof(*v), cmp_double);
	return v[RUNS / 2];
}

static void *
inc_loop(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < INCS; i++)
		metrics_add(&m_inc, 0, i & 7, 1);
	return NULL;
}

static double
time_threads(unsigned n)
{
	pthread_t t[2];
	int64_t t0 = clock_mono_ns();

	for (unsigned i = 0; i < n; i++)
		pthread_create(&t[i], NULL, inc_loop, NULL);
	for (unsigned i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return (double)(clock_mono_ns() - t0) / INCS;
}

int
main(void)
{
	double v[RUNS];
	char name[64];

	for (int r = 0; r < RUNS; r++)
		v[r] = time_threads(1);
	printf("metrics counter increment (1 thread)\t%.2f\tns\t<= 5\n", median(v));
	for (int r = 0; r < RUNS; r++)
		v[r] = time_threads(2);
	printf("metrics counter increment (2 threads, same cells)\t%.2f\tns\t-\n", median(v));

	for (unsigned i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "customer-%u.example.com", i);
		metrics_add_named(&m_dom, name, results[1 + i % 12], i);
		snprintf(name, sizeof(name), "reporter-%u.example", i);
		metrics_add_named(&m_rep, name, NULL, i);
	}
	for (int r = 0; r < RUNS; r++) {
		int64_t t0 = clock_mono_ns();
		for (unsigned i = 0; i < 100000; i++)
			metrics_add_named(&m_rep, "reporter-99.example", NULL, 1);
		v[r] = (double)(clock_mono_ns() - t0) / 100000;
	}
	printf("metrics open-label increment (100 values)\t%.1f\tns\t-\n", median(v));

	size_t bytes = 0, series = 0;
	for (int r = 0; r < RUNS; r++) {
		struct buf b;
		struct err e = { 0 };
		int64_t t0 = clock_mono_ns();
		for (int k = 0; k < 100; k++) {
			buf_init(&b, 1 << 24);
			if (metrics_write(&b, &e) != 0) {
				fprintf(stderr, "bench_metrics: %s\n", e.msg);
				return 1;
			}
			bytes = b.len;
			series = 0;
			for (size_t i = 0; i < b.len; i++)
				series += (i == 0 || b.data[i - 1] == '\n') && b.data[i] != '#';
			buf_clear(&b);
		}
		v[r] = (double)(clock_mono_ns() - t0) / 100 / 1000.0;
	}
	printf("metrics render (%zu series, %zu bytes)\t%.1f\tus\t-\n", series, bytes, median(v));
	return 0;
}
