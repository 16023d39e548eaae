/*
 * test_util_metrics.c - unit tests for src/util/metrics.h: exact Prometheus text of
 * counters, gauges, open labels with their cap, escaping, histograms, sources, and
 * exact totals of increments from several threads at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "util/metrics.h"

static const char *const colors[] = { "red", "green", "other" };
static const char *const sizes[] = { "small", "large" };

static struct metrics_family m_fixed = {
	.name = "t_fixed_total",
	.help = "fixed labels; help with \\ and\nnewline",
	.type = METRICS_COUNTER,
	.nlabels = 2,
	.label = { { "color", colors, 3 }, { "size", sizes, 2 } },
};
METRICS_REGISTER(m_fixed)

static struct metrics_family m_open = {
	.name = "t_open_total",
	.help = "open label capped at 2",
	.type = METRICS_COUNTER,
	.nlabels = 1,
	.label = { { "domain", NULL, 2 } },
};
METRICS_REGISTER(m_open)

static struct metrics_family m_gauge = {
	.name = "t_gauge",
	.help = "a gauge",
	.type = METRICS_GAUGE,
};
METRICS_REGISTER(m_gauge)

static const double bounds[] = { 0.001, 0.5 };
static struct metrics_family m_hist = {
	.name = "t_seconds",
	.help = "durations",
	.type = METRICS_HISTOGRAM,
	.bounds = bounds,
	.nbounds = 2,
};
METRICS_REGISTER(m_hist)

static void
render(struct buf *b)
{
	struct err e = { 0 };

	buf_init(b, 1 << 20);
	assert_int_equal(metrics_write(b, &e), 0);
}

static void
assert_text(const char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		fail_msg("got:\n%s\nwant:\n%s", got, want);
}

static void
test_render_zero(void **state)
{
	struct buf b;

	(void)state;
	metrics_reset();
	render(&b);
	assert_text(buf_cstr(&b),
	            "# HELP t_fixed_total fixed labels; help with \\\\ and\\nnewline\n"
	            "# TYPE t_fixed_total counter\n"
	            "t_fixed_total{color=\"red\",size=\"small\"} 0\n"
	            "t_fixed_total{color=\"red\",size=\"large\"} 0\n"
	            "t_fixed_total{color=\"green\",size=\"small\"} 0\n"
	            "t_fixed_total{color=\"green\",size=\"large\"} 0\n"
	            "t_fixed_total{color=\"other\",size=\"small\"} 0\n"
	            "t_fixed_total{color=\"other\",size=\"large\"} 0\n"
	            "# HELP t_gauge a gauge\n"
	            "# TYPE t_gauge gauge\n"
	            "t_gauge 0\n"
	            "# HELP t_open_total open label capped at 2\n"
	            "# TYPE t_open_total counter\n"
	            "t_open_total{domain=\"other\"} 0\n"
	            "# HELP t_seconds durations\n"
	            "# TYPE t_seconds histogram\n"
	            "t_seconds_bucket{le=\"0.001\"} 0\n"
	            "t_seconds_bucket{le=\"0.5\"} 0\n"
	            "t_seconds_bucket{le=\"+Inf\"} 0\n"
	            "t_seconds_sum 0.000000000\n"
	            "t_seconds_count 0\n");
	buf_clear(&b);
}

static void
test_counts_and_caps(void **state)
{
	struct buf b;

	(void)state;
	metrics_reset();
	metrics_add(&m_fixed, 1, 0, 3);
	metrics_add_named(&m_fixed, "red", "large", 1);
	metrics_add_named(&m_fixed, "blue", "large", 2); /* unknown: the last value */
	metrics_add(&m_fixed, 7, 0, 1);                  /* out of range: ignored */
	metrics_add_named(&m_open, "a\"b\\c\nd", NULL, 1);
	metrics_add_named(&m_open, "example.com", NULL, 2);
	metrics_add_named(&m_open, "third.example", NULL, 4); /* over the cap of 2 */
	metrics_add_named(&m_open, "example.com", NULL, 1);
	metrics_set(&m_gauge, 0, 0, -5);
	metrics_observe_ns(&m_hist, 1000000);    /* exactly 0.001 s: first bucket */
	metrics_observe_ns(&m_hist, 2000000);    /* 0.002 */
	metrics_observe_ns(&m_hist, 3000000000); /* 3 s: +Inf only */
	assert_int_equal(metrics_value(&m_fixed, 1, 0), 3);
	assert_int_equal(metrics_index(&m_open, 0, "example.com"), 1);
	assert_int_equal(metrics_index(&m_open, 0, "fourth.example"), 2);
	render(&b);
	assert_text(buf_cstr(&b),
	            "# HELP t_fixed_total fixed labels; help with \\\\ and\\nnewline\n"
	            "# TYPE t_fixed_total counter\n"
	            "t_fixed_total{color=\"red\",size=\"small\"} 0\n"
	            "t_fixed_total{color=\"red\",size=\"large\"} 1\n"
	            "t_fixed_total{color=\"green\",size=\"small\"} 3\n"
	            "t_fixed_total{color=\"green\",size=\"large\"} 0\n"
	            "t_fixed_total{color=\"other\",size=\"small\"} 0\n"
	            "t_fixed_total{color=\"other\",size=\"large\"} 2\n"
	            "# HELP t_gauge a gauge\n"
	            "# TYPE t_gauge gauge\n"
	            "t_gauge -5\n"
	            "# HELP t_open_total open label capped at 2\n"
	            "# TYPE t_open_total counter\n"
	            "t_open_total{domain=\"a\\\"b\\\\c\\nd\"} 1\n"
	            "t_open_total{domain=\"example.com\"} 3\n"
	            "t_open_total{domain=\"other\"} 4\n"
	            "# HELP t_seconds durations\n"
	            "# TYPE t_seconds histogram\n"
	            "t_seconds_bucket{le=\"0.001\"} 1\n"
	            "t_seconds_bucket{le=\"0.5\"} 2\n"
	            "t_seconds_bucket{le=\"+Inf\"} 3\n"
	            "t_seconds_sum 3.003000000\n"
	            "t_seconds_count 3\n");
	buf_clear(&b);
}

static int
source(void *ctx, struct buf *out, struct err *e)
{
	(void)e;
	return buf_printf(out, "# HELP t_src from a source\n# TYPE t_src gauge\nt_src %d\n",
	                  *(int *)ctx);
}

static void
test_sources_and_cap(void **state)
{
	struct buf b;
	struct err e = { 0 };
	int v = 42;

	(void)state;
	metrics_reset();
	metrics_source_add(source, &v);
	render(&b);
	assert_non_null(strstr(buf_cstr(&b), "t_seconds_count 0\n# HELP t_src from a source\n"
	                                     "# TYPE t_src gauge\nt_src 42\n"));
	buf_clear(&b);
	metrics_source_remove(source, &v);
	render(&b);
	assert_null(strstr(buf_cstr(&b), "t_src"));
	buf_clear(&b);
	/* a full buffer is an error, not a silently cut page */
	buf_init(&b, 100);
	assert_int_equal(metrics_write(&b, &e), ERR_TOOBIG);
	assert_string_equal(e.msg, "metrics: output larger than 100 bytes");
	buf_clear(&b);
}

enum { THREADS = 4, PER_THREAD = 200000 };

static void *
hammer(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;

	for (unsigned i = 0; i < PER_THREAD; i++) {
		metrics_add(&m_fixed, id % 3, i % 2, 1);
		if (i % 1000 == 0)
			metrics_add_named(&m_open, id % 2 ? "x.example" : "y.example", NULL, 1);
	}
	return NULL;
}

static void *
scrape(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20; i++) {
		struct buf b;
		render(&b);
		buf_clear(&b);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t t[THREADS + 1];
	uint64_t total = 0;

	(void)state;
	metrics_reset();
	for (unsigned i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, (void *)(uintptr_t)i), 0);
	assert_int_equal(pthread_create(&t[THREADS], NULL, scrape, NULL), 0);
	for (unsigned i = 0; i <= THREADS; i++)
		pthread_join(t[i], NULL);
	for (unsigned a = 0; a < 3; a++)
		for (unsigned b = 0; b < 2; b++)
			total += metrics_value(&m_fixed, a, b);
	if (total != (uint64_t)THREADS * PER_THREAD)
		fail_msg("got %llu increments, want %llu", (unsigned long long)total,
		         (unsigned long long)THREADS * PER_THREAD);
	/* thread 0 and 3 both hit color index 0 */
	assert_int_equal(metrics_value(&m_fixed, 0, 0), 2 * PER_THREAD / 2);
	assert_int_equal(metrics_value(&m_open, metrics_index(&m_open, 0, "x.example"), 0),
	                 2 * PER_THREAD / 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_zero),
		cmocka_unit_test(test_counts_and_caps),
		cmocka_unit_test(test_sources_and_cap),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
