/*
 * test_inbound.c - the inbound role: submitter domains, ingest of report bodies and
 * messages into a SQLite store (de-duplication across channels, sightings, rejection
 * messages, DKIM verdict of unsigned mail), retention purge, and summary grouping.
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

#include "inbound/analysis.h"
#include "inbound/ingest.h"

#define NOW 1764324000 /* 2025-11-28T10:00:00Z */

static const char report_json[] =
        "{\"organization-name\":\"Example Org\",\"date-range\":{\"start-datetime\":"
        "\"2026-11-27T00:00:00Z\",\"end-datetime\":\"2026-11-27T23:59:59Z\"},"
        "\"contact-info\":\"tlsrpt@Sender.Example\",\"report-id\":\"r1@sender.example\","
        "\"policies\":[{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":[\"version: "
        "STSv1\",\"mode: enforce\"],\"policy-domain\":\"rcpt.example\",\"mx-host\":[\"mx1."
        "rcpt.example\"]},\"summary\":{\"total-successful-session-count\":1234567,"
        "\"total-failure-session-count\":12},\"failure-details\":[{\"result-type\":"
        "\"certificate-expired\",\"sending-mta-ip\":\"192.0.2.1\",\"receiving-mx-hostname\":"
        "\"mx1.rcpt.example\",\"failed-session-count\":10},{\"result-type\":"
        "\"starttls-not-supported\",\"sending-mta-ip\":\"192.0.2.2\",\"failed-session-count\":"
        "1}]}]}";

static const char message_head[] = "From: tlsrpt@sender.example\r\n"
                                   "To: tlsrpt@rcpt.example\r\n"
                                   "Subject: Report Domain: rcpt.example\r\n"
                                   "TLS-Report-Submitter: sender.example\r\n"
                                   "MIME-Version: 1.0\r\n"
                                   "Content-Type: multipart/report; report-type=tlsrpt;"
                                   " boundary=\"B\"\r\n\r\n"
                                   "--B\r\nContent-Type: text/plain\r\n\r\nA report.\r\n"
                                   "--B\r\nContent-Type: application/tlsrpt+json\r\n\r\n";

struct fixture {
	char path[512];
	struct store *s;
	struct clock clk;
	struct ingest in;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TLSRPT_TEST_TMP");
	struct err e = { 0 };

	snprintf(f->path, sizeof(f->path), "%s/test_inbound.%d.db", tmp ? tmp : "/tmp",
	         (int)getpid());
	unlink(f->path);
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
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	free(f);
	return 0;
}

static void
test_submitter(void **state)
{
	static const struct {
		const char *ci, *hdr, *org, *want;
	} cases[] = {
		{ "tlsrpt@Sender.Example", NULL, "Org", "sender.example" },
		{ "mailto:tls@mail.example.", "x.example", NULL, "mail.example" },
		{ "https://reports.example/tlsrpt", NULL, NULL, "reports.example" },
		{ NULL, "Submitter.Example", "Org", "submitter.example" },
		{ "no domain here", NULL, "Big Org", "big org" },
		{ NULL, NULL, NULL, "unknown" },
	};
	char out[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ingest_submitter(cases[i].ci, cases[i].hdr, cases[i].org, out, sizeof(out));
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu: got %s, want %s", i, out, cases[i].want);
	}
}

struct collect {
	int reports, policies, failures;
	char channels[64];
	char dkim[32];
	unsigned sightings;
	bool verified;
	uint64_t success, failure, detail_sum;
	char mx[128];
};

static int
collect_row(void *ctx, const struct store_received_row *r)
{
	struct collect *c = ctx;

	if (r->policy_type == NULL) {
		c->reports++;
		snprintf(c->channels, sizeof(c->channels), "%s", r->channels);
		snprintf(c->dkim, sizeof(c->dkim), "%s", r->dkim);
		c->sightings = r->sightings;
		c->verified = r->verified;
	} else if (r->result_type == NULL) {
		c->policies++;
		c->success += r->success;
		c->failure += r->failure;
		snprintf(c->mx, sizeof(c->mx), "%s", r->mx_hosts ? r->mx_hosts : "");
	} else {
		c->failures++;
		c->detail_sum += r->count;
	}
	return 0;
}

static void
test_ingest_dedupe(void **state)
{
	struct fixture *f = *state;
	struct ingest_result res;
	struct store_received_filter flt = { .include_unverified = true };
	struct collect c = { 0 };
	struct err e = { 0 };
	char msg[4096];
	int n;

	assert_int_equal(ingest_report(&f->in, SPAN_LIT(report_json), INGEST_HTTP, &res, &e), 0);
	assert_int_equal(res.stored, 1);
	assert_int_equal(res.duplicates, 0);
	assert_int_equal(res.last_id, 1);
	/* the same report by mail: a sighting, not a second report */
	n = snprintf(msg, sizeof(msg), "%s%s\r\n--B--\r\n", message_head, report_json);
	assert_int_equal(ingest_message(&f->in, span_make(msg, (size_t)n), &res, &e), 0);
	assert_int_equal(res.found, 1);
	assert_int_equal(res.stored, 0);
	assert_int_equal(res.duplicates, 1);
	assert_string_equal(res.dkim, "none");
	assert_int_equal(f->s->ops->received_walk(f->s, &flt, collect_row, &c, &e), 0);
	assert_int_equal(c.reports, 1);
	assert_int_equal(c.policies, 1);
	assert_int_equal(c.failures, 2);
	assert_string_equal(c.channels, "http,mail");
	assert_int_equal(c.sightings, 2);
	assert_true(c.verified); /* HTTP copy: verified; the unsigned mail did not downgrade */
	assert_string_equal(c.dkim, "none");
	assert_int_equal(c.success, 1234567);
	assert_int_equal(c.failure, 12);
	assert_int_equal(c.detail_sum, 11);
	assert_string_equal(c.mx, "mx1.rcpt.example");
	/* purge: nothing received before NOW, everything before NOW + 1 */
	uint64_t purged = 9;
	assert_int_equal(f->s->ops->received_purge(f->s, NOW, &purged, &e), 0);
	assert_int_equal(purged, 0);
	assert_int_equal(f->s->ops->received_purge(f->s, NOW + 1, &purged, &e), 0);
	assert_int_equal(purged, 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(f->s->ops->received_walk(f->s, &flt, collect_row, &c, &e), 0);
	assert_int_equal(c.reports, 0);
	assert_int_equal(c.failures, 0);
}

static void
test_ingest_unsigned_mail(void **state)
{
	struct fixture *f = *state;
	struct ingest_result res;
	struct store_received_filter flt = { 0 };
	struct collect c = { 0 };
	struct err e = { 0 };
	char msg[4096];
	int n = snprintf(msg, sizeof(msg), "%s%s\r\n--B--\r\n", message_head, report_json);

	assert_int_equal(ingest_message(&f->in, span_make(msg, (size_t)n), &res, &e), 0);
	assert_int_equal(f->s->ops->received_walk(f->s, &flt, collect_row, &c, &e), 0);
	assert_int_equal(c.reports, 0); /* unverified: not listed by default */
	flt.include_unverified = true;
	assert_int_equal(f->s->ops->received_walk(f->s, &flt, collect_row, &c, &e), 0);
	assert_int_equal(c.reports, 1);
	assert_false(c.verified);
	assert_string_equal(c.channels, "mail");
}

static void
test_ingest_rejects(void **state)
{
	struct fixture *f = *state;
	struct ingest_result res;
	struct err e = { 0 };
	static const char cron[] = "From: root@host\r\nSubject: cron\r\n\r\nhello\r\n";

	assert_int_equal(
	        ingest_report(&f->in, SPAN_LIT("{\"policies\":[]}"), INGEST_FILE, &res, &e),
	        INGEST_ENOREPORT);
	assert_string_equal(e.msg, "date-range: missing (a report covers a date range)");
	assert_int_equal(res.rejected, 1);
	assert_int_equal(ingest_message(&f->in, SPAN_LIT(cron), &res, &e), INGEST_ENOREPORT);
	assert_string_equal(e.msg, "no TLS report found in message");
	assert_int_equal(res.found, 0);
	assert_int_equal(ingest_sniffed(&f->in, SPAN_LIT("\x1f\x8b\x08\x00"), &res, &e),
	                 INGEST_ENOREPORT);
	assert_non_null(strstr(e.msg, "gzip: "));
}

static void
row_policy(struct analysis *a, const char *type, const char *domain, const char *mx, uint64_t s,
           uint64_t f)
{
	struct store_received_row r = { .policy_type = type,
		                        .policy_domain = domain,
		                        .mx_hosts = mx,
		                        .success = s,
		                        .failure = f };
	analysis_row(a, &r);
}

static void
row_failure(struct analysis *a, const char *rt, const char *ip, const char *mx, uint64_t n)
{
	struct store_received_row r = { .policy_type = "sts",
		                        .result_type = rt,
		                        .sending_ip = ip,
		                        .receiving_mx = mx,
		                        .count = n };
	analysis_row(a, &r);
}

static void
feed(struct analysis *a)
{
	struct store_received_row rep1 = { .organization = "Google",
		                           .submitter = "google.com",
		                           .start = NOW - 86400 };
	struct store_received_row rep2 = { .organization = "",
		                           .submitter = "mail.ru",
		                           .start = NOW };

	analysis_row(a, &rep1);
	row_policy(a, "sts", "a.example", "mx.a.example", 100, 7);
	row_failure(a, "certificate-expired", "192.0.2.1", "mx.a.example", 5);
	row_failure(a, "starttls-not-supported", NULL, NULL, 1);
	analysis_row(a, &rep2);
	row_policy(a, "no-policy-found", "b.example", NULL, 50, 3);
	row_failure(a, "certificate-expired", "192.0.2.1", NULL, 3);
	analysis_finish(a);
}

static void
test_analysis(void **state)
{
	struct analysis a;

	(void)state;
	analysis_init(&a, ANALYSIS_BY_RESULT_TYPE);
	feed(&a);
	assert_int_equal(a.success, 150);
	assert_int_equal(a.failure, 10);
	assert_int_equal(a.n, 4);
	assert_string_equal(a.groups[0].key, "(successful sessions)");
	assert_int_equal(a.groups[0].success, 150);
	assert_string_equal(a.groups[1].key, "certificate-expired");
	assert_int_equal(a.groups[1].failure, 8);
	assert_string_equal(a.groups[2].key, "(no failure details)");
	assert_int_equal(a.groups[2].failure, 1);
	assert_string_equal(a.groups[3].key, "starttls-not-supported");
	analysis_free(&a);

	analysis_init(&a, ANALYSIS_BY_REPORTER);
	feed(&a);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.groups[0].key, "Google");
	assert_int_equal(a.groups[0].success, 100);
	assert_int_equal(a.groups[0].failure, 7);
	assert_int_equal(a.groups[0].n_reasons, 2);
	assert_string_equal(a.groups[0].reasons[0].name, "certificate-expired");
	assert_string_equal(a.groups[1].key, "mail.ru");
	assert_int_equal(a.reports, 2);
	analysis_free(&a);

	analysis_init(&a, ANALYSIS_BY_DAY);
	feed(&a);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.groups[0].key, "2025-11-27");
	assert_string_equal(a.groups[1].key, "2025-11-28");
	analysis_free(&a);

	analysis_init(&a, ANALYSIS_BY_SENDING_IP);
	feed(&a);
	assert_string_equal(a.groups[0].key, "(successful sessions)");
	assert_string_equal(a.groups[1].key, "192.0.2.1");
	assert_int_equal(a.groups[1].failure, 8);
	analysis_free(&a);

	analysis_init(&a, ANALYSIS_BY_MX);
	feed(&a);
	assert_string_equal(a.groups[0].key, "mx.a.example");
	assert_int_equal(a.groups[0].success, 100);
	assert_int_equal(a.groups[0].failure, 7);
	assert_string_equal(a.groups[1].key, "(no mx-host)");
	assert_int_equal(a.groups[1].failure, 3);
	analysis_free(&a);

	enum analysis_by by;
	assert_int_equal(analysis_by_parse("sending-ip", &by), 0);
	assert_int_equal(by, ANALYSIS_BY_SENDING_IP);
	assert_int_equal(analysis_by_parse("week", &by), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_submitter),
		cmocka_unit_test_setup_teardown(test_ingest_dedupe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ingest_unsigned_mail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ingest_rejects, setup, teardown),
		cmocka_unit_test(test_analysis),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
