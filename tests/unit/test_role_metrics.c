/*
 * test_role_metrics.c - the roles' metric families as /metrics renders them: the
 * exact series that generation, delivery, alerts, HTTP answers and received reports
 * add, and the cardinality caps of the reporter (50) and domain (100) labels.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inbound/inbound_metrics.h"
#include "net/httpd_metrics.h"
#include "outbound/generate.h"
#include "outbound/outbound_metrics.h"
#include "report/report.h"
#include "util/metrics.h"

/* The sample lines of family name (without HELP/TYPE) with a non-zero value. */
static char *
series(const char *name)
{
	struct buf all, out;
	struct err e = { 0 };
	size_t nl = strlen(name);

	buf_init(&all, 1 << 22);
	buf_init(&out, 1 << 22);
	assert_int_equal(metrics_write(&all, &e), 0);
	for (const char *p = buf_cstr(&all); *p;) {
		const char *end = strchr(p, '\n');
		size_t len = (size_t)(end - p);
		if (strncmp(p, name, nl) == 0 && (p[nl] == '{' || p[nl] == ' ') &&
		    !(len >= 2 && memcmp(end - 2, " 0", 2) == 0))
			buf_append(&out, p, len + 1);
		p = end + 1;
	}
	buf_clear(&all);
	return buf_steal(&out, NULL);
}

static void
assert_series(const char *name, const char *want)
{
	char *got = series(name);

	if (strcmp(got, want) != 0)
		fail_msg("%s: got:\n%s\nwant:\n%s", name, got, want);
	free(got);
}

static void
test_outbound(void **state)
{
	struct outbound_stats st = {
		.windows = 1, .reports = 3, .invalid = 1, .split = 1, .dropped_details = 17
	};

	(void)state;
	metrics_reset();
	outbound_metrics_generated(&st);
	outbound_metrics_delivery("mailto:a@b.example", STORE_DELIVERY_SENT);
	outbound_metrics_delivery("mailto:a@b.example", STORE_DELIVERY_FAILED);
	outbound_metrics_delivery("https://b.example/r", STORE_DELIVERY_GIVEN_UP);
	outbound_metrics_delivery("ftp://x", STORE_DELIVERY_GIVEN_UP);
	outbound_metrics_alert("failure-rate", "webhook", true);
	outbound_metrics_alert("test", "email", true);
	outbound_metrics_alert("failure-rate", "email", false);
	httpd_metrics_count(200);
	httpd_metrics_count(413);
	httpd_metrics_count(418);
	assert_series("tlsrpt_report_windows_generated_total",
	              "tlsrpt_report_windows_generated_total 1\n");
	assert_series("tlsrpt_reports_generated_total",
	              "tlsrpt_reports_generated_total{state=\"ready\"} 2\n"
	              "tlsrpt_reports_generated_total{state=\"invalid\"} 1\n");
	assert_series("tlsrpt_reports_split_total", "tlsrpt_reports_split_total 1\n");
	assert_series("tlsrpt_report_details_dropped_total",
	              "tlsrpt_report_details_dropped_total 17\n");
	assert_series("tlsrpt_deliveries_total",
	              "tlsrpt_deliveries_total{scheme=\"mailto\",outcome=\"sent\"} 1\n"
	              "tlsrpt_deliveries_total{scheme=\"mailto\",outcome=\"failed\"} 1\n"
	              "tlsrpt_deliveries_total{scheme=\"https\",outcome=\"given-up\"} 1\n"
	              "tlsrpt_deliveries_total{scheme=\"other\",outcome=\"given-up\"} 1\n");
	assert_series("tlsrpt_alerts_total",
	              "tlsrpt_alerts_total{type=\"failure-rate\",channel=\"webhook\"} 1\n"
	              "tlsrpt_alerts_total{type=\"test\",channel=\"email\"} 1\n");
	assert_series("tlsrpt_alert_errors_total",
	              "tlsrpt_alert_errors_total{channel=\"email\"} 1\n");
	assert_series("tlsrpt_http_requests_total",
	              "tlsrpt_http_requests_total{status=\"200\"} 1\n"
	              "tlsrpt_http_requests_total{status=\"413\"} 1\n"
	              "tlsrpt_http_requests_total{status=\"other\"} 1\n");
}

static void
test_inbound_caps(void **state)
{
	struct report *r = report_new("Org", 0, 86399, "a@b", "id");
	char name[64];

	(void)state;
	metrics_reset();
	/* 102 policy domains: the first 100 get series, the rest is "other" */
	for (int i = 0; i < 102; i++) {
		snprintf(name, sizeof(name), "d%03d.example", i);
		struct report_policy *p = report_add_policy(r, REPORT_POLICY_STS, NULL, name, NULL);
		p->successful = 1;
		p->failed = 5;
		struct report_failure f = { .result_type = REPORT_RESULT_CERTIFICATE_EXPIRED,
			                    .failed_session_count = 3 }; /* 2 of 5 unexplained */
		report_policy_add_failure(p, &f);
	}
	for (int i = 0; i < 52; i++) {
		snprintf(name, sizeof(name), "reporter%02d.example", i);
		inbound_metrics_received(r, name, i % 2 == 0, false);
	}
	inbound_metrics_received(r, "reporter00.example", true, true);
	inbound_metrics_rejected();
	char *got = series("tlsrpt_received_reports_total");
	assert_non_null(strstr(got, "tlsrpt_received_reports_total{reporter=\"reporter00.example\","
	                            "verdict=\"verified\"} 1\n"
	                            "tlsrpt_received_reports_total{reporter=\"reporter00.example\","
	                            "verdict=\"duplicate\"} 1\n"
	                            "tlsrpt_received_reports_total{reporter=\"reporter01.example\","
	                            "verdict=\"unverified\"} 1\n"));
	assert_null(strstr(got, "reporter50.example"));
	/* reporters 50 and 51: one verified, one unverified, both "other" */
	assert_non_null(strstr(got, "tlsrpt_received_reports_total{reporter=\"other\",verdict="
	                            "\"verified\"} 1\ntlsrpt_received_reports_total{reporter="
	                            "\"other\",verdict=\"unverified\"} 1\n"));
	free(got);
	got = series("tlsrpt_received_failure_sessions_total");
	/* 52 reports x 3 explained failures per domain, 2 unexplained */
	assert_non_null(strstr(got,
	                       "tlsrpt_received_failure_sessions_total{domain=\"d000.example\","
	                       "result_type=\"certificate-expired\"} 156\n"
	                       "tlsrpt_received_failure_sessions_total{domain=\"d000.example\","
	                       "result_type=\"unexplained\"} 104\n"));
	assert_null(strstr(got, "d100.example"));
	assert_non_null(strstr(got, "tlsrpt_received_failure_sessions_total{domain=\"other\","
	                            "result_type=\"certificate-expired\"} 312\n"));
	size_t lines = 0;
	for (const char *p = got; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 202); /* 100 domains + other, 2 result types each */
	free(got);
	assert_series("tlsrpt_received_rejected_total", "tlsrpt_received_rejected_total 1\n");
	report_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outbound),
		cmocka_unit_test(test_inbound_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
