/*
 * test_alerts.c - the alert rules (outbound/alerts.h) against a SQLite store with known
 * received reports and delivery states, at a fixed clock: exact alert keys and texts
 * per rule type, thresholds and windows, the cool-down and its state file across a
 * "restart", and the exact webhook JSON and mail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "inbound/ingest.h"
#include "outbound/alerts.h"
#include "util/file.h"

#define NOW 1795852800 /* 2026-11-28T08:00:00Z */
#define DAY 86400

struct fixture {
	char path[512], state[600];
	struct store *s;
	struct clock clk;
	struct ingest in;
	struct conf *conf;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TLSRPT_TEST_TMP");
	struct err e = { 0 };

	snprintf(f->path, sizeof(f->path), "%s/test_alerts.%d.db", tmp ? tmp : "/tmp",
	         (int)getpid());
	snprintf(f->state, sizeof(f->state), "%s.alerts", f->path);
	unlink(f->path);
	unlink(f->state);
	assert_int_equal(store_open("sqlite", f->path, &f->s, &e), 0);
	clock_init_fixed(&f->clk, NOW);
	f->in.store = f->s;
	f->in.clock = &f->clk;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char p[600];

	store_close(f->s);
	conf_free(f->conf);
	unlink(f->path);
	unlink(f->state);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	free(f);
	return 0;
}

/* The configuration: the store path, then the rules in text. */
static void
configure(struct fixture *f, const char *rules)
{
	char text[4096];
	struct buf errs;
	struct err e = { 0 };

	snprintf(text, sizeof(text),
	         "[store]\npath = \"%s\"\n[report]\nsubmitter = \"mx.example.net\"\n%s", f->path,
	         rules);
	conf_free(f->conf);
	f->conf = NULL;
	buf_init(&errs, 65536);
	if (conf_parse("test.toml", text, strlen(text), &f->conf, &errs, &e) != 0)
		fail_msg("conf: %s", buf_cstr(&errs));
	buf_clear(&errs);
}

/*
 * Stores a report from reporter about domain for the UTC day starting at day_start,
 * received at `received`, with success sessions and failures "type=count,...".
 */
static void
add_report(struct fixture *f, const char *reporter, const char *id, int64_t day_start,
           int64_t received, const char *domain, uint64_t success, const char *failures)
{
	char begin[TIME_RFC3339_LEN], end[TIME_RFC3339_LEN], json[4096], details[2048] = "";
	uint64_t failed = 0;
	size_t dl = 0;
	struct ingest_result res;
	struct err e = { 0 };

	time_format_rfc3339(day_start, begin);
	time_format_rfc3339(day_start + DAY - 1, end);
	for (const char *p = failures; p && *p;) {
		char type[64];
		unsigned long long n;
		int used = 0;

		if (sscanf(p, "%63[^=]=%llu%n", type, &n, &used) != 2)
			fail_msg("bad failures spec %s", p);
		dl += (size_t)snprintf(details + dl, sizeof(details) - dl,
		                       "%s{\"result-type\":\"%s\",\"failed-session-count\":%llu}",
		                       dl ? "," : "", type, n);
		failed += n;
		p += used;
		if (*p == ',')
			p++;
	}
	snprintf(json, sizeof(json),
	         "{\"organization-name\":\"%s\",\"date-range\":{\"start-datetime\":\"%s\","
	         "\"end-datetime\":\"%s\"},\"contact-info\":\"tlsrpt@%s\",\"report-id\":\"%s\","
	         "\"policies\":[{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":["
	         "\"version: STSv1\",\"mode: enforce\"],\"policy-domain\":\"%s\"},\"summary\":{"
	         "\"total-successful-session-count\":%llu,\"total-failure-session-count\":%llu}"
	         "%s%s%s}]}",
	         reporter, begin, end, reporter, id, domain, (unsigned long long)success,
	         (unsigned long long)failed, dl ? ",\"failure-details\":[" : "", details,
	         dl ? "]" : "");
	clock_set(&f->clk, received);
	if (ingest_report(&f->in, span_cstr(json), INGEST_HTTP, &res, &e) != 0)
		fail_msg("ingest: %s", e.msg);
	clock_set(&f->clk, NOW);
}

/* Evaluates at now and returns "key|summary\n" lines. */
static char *
evaluate(struct fixture *f, int64_t now)
{
	struct alert_rule *rules = NULL;
	struct alert_list l = { 0 };
	struct err e = { 0 };
	struct buf out;
	size_t n = 0;

	assert_int_equal(alerts_rules_load(f->conf, &rules, &n, &e), 0);
	if (alerts_evaluate(rules, n, f->s, now, &l, &e) != 0)
		fail_msg("evaluate: %s", e.msg);
	buf_init(&out, 1 << 20);
	for (size_t i = 0; i < l.n; i++)
		buf_printf(&out, "%s|%s\n", l.v[i].key, l.v[i].summary);
	alert_list_clear(&l);
	free(rules);
	return buf_steal(&out, NULL);
}

static void
assert_text(char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		fail_msg("got:\n%s\nwant:\n%s", got, want);
	free(got);
}

static const int64_t D = NOW - 8 * 3600 - DAY; /* 2026-11-27T00:00:00Z */

static void
test_failure_rate(void **state)
{
	struct fixture *f = *state;

	add_report(f, "google.com", "g1", D, NOW - 3600, "rcpt.example", 940,
	           "certificate-expired=50,starttls-not-supported=10");
	add_report(f, "microsoft.com", "m1", D, NOW - 3600, "ok.example", 999, "dnssec-invalid=1");
	configure(f, "[alert.rate]\ntype = \"failure-rate\"\nthreshold = 0.05\n"
	             "[alert.strict]\ntype = \"failure-rate\"\ndomain = \"ok.example\"\n"
	             "threshold = 0\n"
	             "[alert.big]\ntype = \"failure-rate\"\nmin-sessions = 1001\n");
	assert_text(evaluate(f, NOW),
	            /* big: 1000 sessions are fewer than min-sessions 1001 */
	            "rate:rcpt.example|failure rate 6.00% for rcpt.example over the last 1d (60 "
	            "of 1000 sessions failed; threshold 5.00%)\n"
	            "strict:ok.example|failure rate 0.10% for ok.example over the last 1d (1 of "
	            "1000 sessions failed; threshold 0.00%)\n");
	/* the day ended more than a window ago: nothing */
	assert_text(evaluate(f, D + 2 * DAY + 1), "");
	/* two reports of the window add up: 60 + 0 failed of 2000 = 3 % */
	add_report(f, "yahoo.com", "y1", D, NOW - 60, "rcpt.example", 1000, NULL);
	configure(f, "[alert.rate]\ntype = \"failure-rate\"\nthreshold = 0.05\nwindow = \"2d\"\n"
	             "[alert.low]\ntype = \"failure-rate\"\ndomain = \"rcpt.example\"\n"
	             "threshold = 0.02\n");
	assert_text(evaluate(f, NOW),
	            "low:rcpt.example|failure rate 3.00% for rcpt.example over "
	            "the last 1d (60 of 2000 sessions failed; threshold 2.00%)\n");
}

static void
test_new_failure_type(void **state)
{
	struct fixture *f = *state;

	add_report(f, "google.com", "old", D - 3 * DAY, D - 2 * DAY, "rcpt.example", 100,
	           "certificate-expired=5");
	add_report(f, "google.com", "new", D, NOW - 3600, "rcpt.example", 100,
	           "certificate-expired=7,dnssec-invalid=2");
	add_report(f, "google.com", "other", D, NOW - 3600, "b.example", 100, "tlsa-invalid=1");
	configure(f, "[alert.new]\ntype = \"new-failure-type\"\ndomain = \"rcpt.example\"\n"
	             "cooldown = \"1h\"\nwindow = \"2d\"\n");
	assert_text(evaluate(f, NOW),
	            "new:rcpt.example:dnssec-invalid|new failure type dnssec-invalid for "
	            "rcpt.example in the last 2d (2 failed sessions; not reported before)\n");
	/* with the window reaching back to the old report, certificate-expired is "new" too */
	configure(f, "[alert.new]\ntype = \"new-failure-type\"\nwindow = \"5d\"\n");
	assert_text(evaluate(f, NOW),
	            "new:b.example:tlsa-invalid|new failure type tlsa-invalid for b.example in the "
	            "last 5d (1 failed sessions; not reported before)\n"
	            "new:rcpt.example:certificate-expired|new failure type certificate-expired "
	            "for rcpt.example in the last 5d (12 failed sessions; not reported before)\n"
	            "new:rcpt.example:dnssec-invalid|new failure type dnssec-invalid for "
	            "rcpt.example in the last 5d (2 failed sessions; not reported before)\n");
	/* the cool-down of a new type is at least the window */
	struct alert_rule *rules = NULL;
	struct alert_list l = { 0 };
	size_t n = 0;
	configure(f, "[alert.new]\ntype = \"new-failure-type\"\ncooldown = \"1h\"\n");
	assert_int_equal(alerts_rules_load(f->conf, &rules, &n, NULL), 0);
	assert_int_equal(alerts_evaluate(rules, n, f->s, NOW, &l, NULL), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].cooldown, DAY);
	alert_list_clear(&l);
	free(rules);
}

static void
test_reporter_silent(void **state)
{
	struct fixture *f = *state;

	add_report(f, "old.example", "o1", D - 9 * DAY, NOW - 8 * DAY, "rcpt.example", 1, NULL);
	add_report(f, "old.example", "o2", D - 6 * DAY, NOW - 5 * DAY - 60, "rcpt.example", 1,
	           NULL);
	add_report(f, "fresh.example", "f1", D, NOW - DAY, "rcpt.example", 1, NULL);
	add_report(f, "elsewhere.example", "e1", D - 6 * DAY, NOW - 6 * DAY, "b.example", 1, NULL);
	configure(f, "[alert.silent]\ntype = \"reporter-silent\"\ndomain = \"rcpt.example\"\n"
	             "days = 3\n");
	assert_text(evaluate(f, NOW),
	            "silent:old.example|reporter old.example has sent no report for 5 days (last "
	            "received 2026-11-23T07:59:00Z; 2 reports before)\n");
	configure(f, "[alert.silent]\ntype = \"reporter-silent\"\nreporter = \"fresh\"\n"
	             "days = 1\n");
	assert_text(evaluate(f, NOW), "");
	assert_text(evaluate(f, NOW + 1),
	            "silent:fresh.example|reporter fresh.example has sent no report for 1 days "
	            "(last received 2026-11-27T08:00:00Z; 1 reports before)\n");
}

static void
add_outbox(struct fixture *f, const char *domain, const char *rid, int64_t created,
           const char *const *dests, const int *states, size_t n)
{
	static int64_t window;
	struct store_delivery d[4];
	struct store_outbox_report r = { 0 };
	struct err e = { 0 };
	int64_t id = 0;

	memset(d, 0, sizeof(d));
	for (size_t i = 0; i < n; i++)
		d[i].dest = dests[i];
	r.window_id = ++window;
	r.period = WINDOW_DAILY;
	r.start = created - DAY - 600;
	r.end = created - 601;
	r.domain = domain;
	r.record = "v=TLSRPTv1; rua=mailto:x@y";
	r.part = 1;
	r.report_id = rid;
	r.filename = "f.json.gz";
	r.body = (const unsigned char *)"gz";
	r.body_len = 2;
	r.created = created;
	r.deliveries = d;
	r.n_deliveries = n;
	if (f->s->ops->outbox_insert(f->s, &r, &id, &e) != 0)
		fail_msg("outbox_insert: %s", e.msg);
	for (size_t i = 0; i < n; i++)
		if (states[i] != STORE_DELIVERY_PENDING &&
		    f->s->ops->outbox_delivery_update(
		            f->s, id, dests[i], (enum store_delivery_state)states[i], 0,
		            states[i] == STORE_DELIVERY_SENT ? NULL : "RCPT TO: 550 no such user",
		            &e) != 0)
			fail_msg("update: %s", e.msg);
}

static void
test_delivery_failing(void **state)
{
	struct fixture *f = *state;
	const char *const two[] = { "mailto:tls@a.example", "https://b.example/tlsrpt" };
	const int s1[] = { STORE_DELIVERY_FAILED, STORE_DELIVERY_SENT };
	const int s2[] = { STORE_DELIVERY_GIVEN_UP, STORE_DELIVERY_SENT };
	const int s3[] = { STORE_DELIVERY_SENT, STORE_DELIVERY_FAILED };

	add_outbox(f, "a.example", "r1", NOW - 3600, two, s1, 2);
	add_outbox(f, "a.example", "r2", NOW - 7200, two, s2, 2);
	add_outbox(f, "c.example", "r3", NOW - 3 * DAY, two, s3, 2); /* outside the window */
	configure(f, "[alert.deliv]\ntype = \"delivery-failing\"\nthreshold = 0\n");
	assert_text(evaluate(f, NOW),
	            "deliv:mailto:tls@a.example|report delivery to mailto:tls@a.example failing: "
	            "2 of 2 deliveries in the last 1d failed or were given up (last error: RCPT "
	            "TO: 550 no such user)\n");
	configure(f, "[alert.deliv]\ntype = \"delivery-failing\"\nwindow = \"7d\"\n"
	             "threshold = 0.4\ndomain = \"c.example\"\n");
	assert_text(evaluate(f, NOW),
	            "deliv:https://b.example/tlsrpt|report delivery to https://b.example/tlsrpt "
	            "failing: 1 of 1 deliveries in the last 7d failed or were given up (last "
	            "error: RCPT TO: 550 no such user)\n");
}

static void
run_pass(struct fixture *f, struct alerts_pass *st)
{
	struct err e = { 0 };

	if (alerts_run(f->conf, f->s, &f->clk, false, NULL, st, &e) != 0)
		fail_msg("alerts_run: %s", e.msg);
}

static void
test_cooldown_and_restart(void **state)
{
	struct fixture *f = *state;
	struct alerts_pass st;
	struct buf b;
	char want[1024];

	add_report(f, "google.com", "g1", D, NOW - 3600, "rcpt.example", 0, "dane-required=3");
	/* no channel: the alert is logged, which counts as sent */
	configure(f, "[alert.rate]\ntype = \"failure-rate\"\ncooldown = \"6h\"\n");
	run_pass(f, &st);
	assert_int_equal(st.fired, 1);
	assert_int_equal(st.sent, 1);
	buf_init(&b, 4096);
	assert_int_equal(file_read(f->state, &b, NULL), 0);
	snprintf(want, sizeof(want),
	         "# tlsrptd alert state: key<TAB>last sent (Unix seconds)\nrate:rcpt.example\t%d\n",
	         NOW);
	assert_string_equal(buf_cstr(&b), want);
	buf_clear(&b);
	/* one minute later: within the cool-down */
	clock_set(&f->clk, NOW + 60);
	run_pass(f, &st);
	assert_int_equal(st.fired, 1);
	assert_int_equal(st.sent, 0);
	assert_int_equal(st.suppressed, 1);
	/* a "restart": a new configuration object and store handle, the state from the file */
	store_close(f->s);
	assert_int_equal(store_open("sqlite", f->path, &f->s, NULL), 0);
	configure(f, "[alert.rate]\ntype = \"failure-rate\"\ncooldown = \"6h\"\n");
	clock_set(&f->clk, NOW + 6 * 3600 - 1);
	run_pass(f, &st);
	assert_int_equal(st.suppressed, 1);
	assert_int_equal(st.sent, 0);
	/* the cool-down is over: sent again and recorded */
	clock_set(&f->clk, NOW + 6 * 3600);
	run_pass(f, &st);
	assert_int_equal(st.sent, 1);
	struct alerts_state *s = NULL;
	assert_int_equal(alerts_state_load(f->state, &s, NULL), 0);
	assert_int_equal(alerts_state_last(s, "rate:rcpt.example"), NOW + 6 * 3600);
	alerts_state_free(s);
	/* a broken state file is an error that says what to do */
	FILE *fp = fopen(f->state, "w");
	fputs("garbage\n", fp);
	fclose(fp);
	struct err e = { 0 };
	assert_int_equal(alerts_state_load(f->state, &s, &e), ERR_INVALID);
	snprintf(want, sizeof(want),
	         "alert state %s: malformed line \"garbage\"; delete the file to start afresh",
	         f->state);
	assert_string_equal(e.msg, want);
}

static void
test_payload_and_mail(void **state)
{
	struct fixture *f = *state;
	struct alert_rule *rules = NULL;
	struct alert_list l = { 0 };
	struct buf b;
	size_t n = 0;

	add_report(f, "google.com", "g1", D, NOW - 3600, "rcpt.example", 2, "dane-required=1");
	configure(f, "[server]\nhostname = \"tlsrpt.example.net\"\n"
	             "[alert.rate]\ntype = \"failure-rate\"\nwebhook = \"https://hook.example/x\"\n"
	             "email = \"ops@example.org\"\n");
	assert_int_equal(alerts_rules_load(f->conf, &rules, &n, NULL), 0);
	assert_int_equal(alerts_evaluate(rules, n, f->s, NOW, &l, NULL), 0);
	assert_int_equal(l.n, 1);
	buf_init(&b, 1 << 16);
	assert_int_equal(alerts_payload(f->conf, &l.v[0], &b, NULL), 0);
	assert_text(buf_steal(&b, NULL),
	            "{\"source\":\"tlsrptd\",\"version\":1,\"alert\":\"rate:rcpt.example\","
	            "\"rule\":\"rate\",\"type\":\"failure-rate\",\"domain\":\"rcpt.example\","
	            "\"subject\":\"rcpt.example\",\"value\":0.333333,\"threshold\":0.05,"
	            "\"count\":1,\"total\":3,\"since\":\"2026-11-27T08:00:00Z\",\"until\":"
	            "\"2026-11-28T08:00:00Z\",\"fired_at\":\"2026-11-28T08:00:00Z\",\"host\":"
	            "\"tlsrpt.example.net\",\"summary\":\"failure rate 33.33% for rcpt.example "
	            "over the last 1d (1 of 3 sessions failed; threshold 5.00%)\",\"text\":"
	            "\"tlsrptd alert rate:rcpt.example: failure rate 33.33% for rcpt.example over "
	            "the last 1d (1 of 3 sessions failed; threshold 5.00%)\"}\n");
	assert_int_equal(alerts_mail(f->conf, &l.v[0], "ops@example.org", &b, NULL), 0);
	assert_text(buf_steal(&b, NULL),
	            "From: tlsrptd alerts <noreply-tls@example.net>\r\n"
	            "To: <ops@example.org>\r\n"
	            "Date: Sat, 28 Nov 2026 08:00:00 +0000\r\n"
	            "Message-ID: <alert.b77a0777890e836a.1795852800@example.net>\r\n"
	            "Subject: [tlsrptd] failure-rate: rcpt.example\r\n"
	            "Auto-Submitted: auto-generated\r\n"
	            "TLS-Required: No\r\n"
	            "MIME-Version: 1.0\r\n"
	            "Content-Type: text/plain; charset=utf-8\r\n"
	            "Content-Transfer-Encoding: 8bit\r\n"
	            "X-Tlsrptd-Alert: rate:rcpt.example\r\n"
	            "\r\n"
	            "failure rate 33.33% for rcpt.example over the last 1d (1 of 3 sessions "
	            "failed; threshold 5.00%)\r\n"
	            "\r\n"
	            "rule: rate (failure-rate)\r\n"
	            "window: 2026-11-27T08:00:00Z .. 2026-11-28T08:00:00Z\r\n"
	            "alert key: rate:rcpt.example\r\n"
	            "\r\n"
	            "-- \r\n"
	            "Sent by tlsrptd; see docs/alerts.md to change the rule or its cool-down.\r\n");
	alert_list_clear(&l);
	free(rules);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_failure_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_failure_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reporter_silent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delivery_failing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cooldown_and_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_payload_and_mail, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
