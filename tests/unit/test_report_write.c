/*
 * test_report_write.c - the model, JSON writer, size function, gzip output, punycode
 * and the strict validator (src/report/report.c, report_write.c, report_validate.c,
 * idna.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/gzip.h"
#include "report/idna.h"
#include "report/report.h"

#define DAY 1795824000 /* 2026-11-28T00:00:00Z */

/* A report the way the outbound side builds one: sts with failures, and a tlsa. */
static struct report *
build(void)
{
	struct report *r = report_new("Example Org", DAY, DAY + 86399, "tlsrpt@mx.example.org",
	                              "20261128T000000Z.example.com.1@mx.example.org");
	struct report_policy *p =
	        report_add_policy(r, REPORT_POLICY_STS, NULL, "example.com", NULL);
	report_policy_add_string(p, "version: STSv1");
	report_policy_add_string(p, "mode: enforce");
	report_policy_add_string(p, "mx: *.example.com");
	report_policy_add_string(p, "max_age: 86400");
	assert_int_equal(report_policy_add_mx_host(p, "*.example.com", NULL), 0);
	p->successful = 100;
	p->failed = 3;
	struct report_failure f = {
		.result_type = REPORT_RESULT_CERTIFICATE_EXPIRED,
		.sending_mta_ip = "192.0.2.1",
		.receiving_mx_hostname = "mx1.example.com",
		.receiving_ip = "198.51.100.7",
		.failed_session_count = 2,
	};
	report_policy_add_failure(p, &f);
	struct report_failure g = {
		.result_type = REPORT_RESULT_VALIDATION_FAILURE,
		.sending_mta_ip = "2001:db8::1",
		.receiving_mx_hostname = "mx2.example.com",
		.receiving_mx_helo = "mx2.example.com ESMTP",
		.receiving_ip = "2001:db8::25",
		.failed_session_count = 1,
		.additional_information = "https://mx.example.org/tls/1",
		.failure_reason_code = "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT",
	};
	report_policy_add_failure(p, &g);
	p = report_add_policy(r, REPORT_POLICY_TLSA, NULL, "mx1.example.com", NULL);
	report_policy_add_string(p, "3 1 1 ABCDEF");
	p->successful = 7;
	p = report_add_policy(r, REPORT_POLICY_NO_POLICY_FOUND, NULL, "other.example", NULL);
	p->successful = 1;
	return r;
}

static const char want_json[] =
        "{\"organization-name\":\"Example Org\",\"date-range\":{\"start-datetime\":"
        "\"2026-11-28T00:00:00Z\",\"end-datetime\":\"2026-11-28T23:59:59Z\"},\"contact-info\":"
        "\"tlsrpt@mx.example.org\",\"report-id\":\"20261128T000000Z.example.com.1@mx.example."
        "org\",\"policies\":[{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":[\"version: "
        "STSv1\",\"mode: enforce\",\"mx: *.example.com\",\"max_age: 86400\"],\"policy-domain\":"
        "\"example.com\",\"mx-host\":[\"*.example.com\"]},\"summary\":{\"total-successful-"
        "session-count\":100,\"total-failure-session-count\":3},\"failure-details\":[{\"result-"
        "type\":\"certificate-expired\",\"sending-mta-ip\":\"192.0.2.1\",\"receiving-mx-"
        "hostname\":\"mx1.example.com\",\"receiving-ip\":\"198.51.100.7\",\"failed-session-"
        "count\":2},{\"result-type\":\"validation-failure\",\"sending-mta-ip\":\"2001:db8::1\","
        "\"receiving-mx-hostname\":\"mx2.example.com\",\"receiving-mx-helo\":\"mx2.example.com "
        "ESMTP\",\"receiving-ip\":\"2001:db8::25\",\"failed-session-count\":1,\"additional-"
        "information\":\"https://mx.example.org/tls/1\",\"failure-reason-code\":\"X509_V_ERR_"
        "UNABLE_TO_GET_ISSUER_CERT\"}]},{\"policy\":{\"policy-type\":\"tlsa\",\"policy-string\":"
        "[\"3 1 1 ABCDEF\"],\"policy-domain\":\"mx1.example.com\"},\"summary\":{\"total-"
        "successful-session-count\":7,\"total-failure-session-count\":0}},{\"policy\":{\"policy-"
        "type\":\"no-policy-found\",\"policy-domain\":\"other.example\"},\"summary\":{\"total-"
        "successful-session-count\":1,\"total-failure-session-count\":0}}]}";

static void
test_exact_bytes(void **state)
{
	struct report *r = build();
	struct buf out;
	struct err e = { 0 };
	size_t size = 0;
	(void)state;

	buf_init(&out, 1 << 16);
	assert_int_equal(report_write_json(r, &out, &e), 0);
	if (strcmp(buf_cstr(&out), want_json) != 0)
		fail_msg("got\n%s\nwant\n%s", buf_cstr(&out), want_json);
	assert_int_equal(report_json_size(r, &size, &e), 0);
	assert_int_equal(size, strlen(want_json));
	assert_int_equal(report_validate(r, WINDOW_DAILY, &e), 0);
	/* and our reader takes it back unchanged, with no quirk */
	struct report *back = NULL;
	assert_int_equal(report_read(buf_span(&out), NULL, &back, &e), 0);
	assert_true(report_equal(r, back));
	assert_int_equal(back->quirks, 0);
	report_free(back);
	/* a cap one byte short fails cleanly */
	struct buf small;
	buf_init(&small, strlen(want_json) - 1);
	assert_int_equal(report_write_json(r, &small, &e), ERR_TOOBIG);
	char want_msg[96];
	snprintf(want_msg, sizeof(want_msg), "report: JSON exceeds the cap of %zu bytes",
	         strlen(want_json) - 1);
	assert_string_equal(e.msg, want_msg);
	buf_clear(&small);
	buf_clear(&out);
	report_free(r);
	report_free(NULL); /* no-op */
}

static void
test_gzip_output(void **state)
{
	struct report *r = build();
	struct buf gz, plain;
	struct err e = { 0 };
	(void)state;

	buf_init(&gz, 1 << 16);
	buf_init(&plain, 1 << 16);
	struct gzip_writer *w = gzip_writer_new(&gz, 9);
	assert_int_equal(report_write_json_gzip(r, w, &e), 0);
	assert_int_equal(gzip_writer_finish(w, &e), 0);
	gzip_writer_free(w);
	assert_true(gzip_is_gzip(buf_span(&gz)));
	assert_int_equal(gzip_decompress(buf_span(&gz), 1 << 20, &plain, &e), 0);
	assert_string_equal(buf_cstr(&plain), want_json);
	buf_clear(&gz);
	buf_clear(&plain);
	report_free(r);
}

static void
test_escaping_and_omission(void **state)
{
	struct report *r = report_new(
	        "q\"b\\s\x01\x1f\x7f \xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80 \xff!", 0, 59, NULL, "");
	struct report_policy *p =
	        report_add_policy(r, REPORT_POLICY_NO_POLICY_FOUND, NULL, NULL, NULL);
	struct buf out;
	struct err e = { 0 };
	size_t size = 0;
	(void)state;

	report_policy_add_string(p, "ignored for no-policy-found");
	struct report_failure f = { .result_type = REPORT_RESULT_UNKNOWN,
		                    .result_type_other = "x-new-type",
		                    .failed_session_count = 18446744073709551615u };
	report_policy_add_failure(p, &f);
	buf_init(&out, 4096);
	assert_int_equal(report_write_json(r, &out, &e), 0);
	assert_string_equal(
	        buf_cstr(&out),
	        "{\"organization-name\":\"q\\\"b\\\\s\\u0001\\u001f\x7f "
	        "\xc3\xa4\xe2\x82\xac\xf0\x9f"
	        "\x98\x80 \\ufffd!\",\"date-range\":{\"start-datetime\":\"1970-01-01T00:00:00Z\","
	        "\"end-datetime\":\"1970-01-01T00:00:59Z\"},\"report-id\":\"\",\"policies\":[{"
	        "\"policy\":{\"policy-type\":\"no-policy-found\"},\"summary\":{\"total-successful-"
	        "session-count\":0,\"total-failure-session-count\":0},\"failure-details\":[{"
	        "\"result-"
	        "type\":\"x-new-type\",\"failed-session-count\":18446744073709551615}]}]}");
	assert_int_equal(report_json_size(r, &size, &e), 0);
	assert_int_equal(size, out.len);
	/* the validator catches every one of our rule breaks here; the first is reported */
	assert_int_equal(report_validate(r, WINDOW_NEVER, &e), ERR_INVALID);
	assert_string_equal(e.msg, "organization-name: not valid UTF-8");
	/* years past 9999 cannot be written */
	r->end = 253402300800LL;
	buf_reset(&out);
	assert_int_equal(report_write_json(r, &out, &e), ERR_INVALID);
	assert_string_equal(e.msg,
	                    "date-range.end-datetime: 253402300800 is outside years 0000..9999");
	buf_clear(&out);
	report_free(r);
}

static void
test_idna(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
		{ "example.com", "example.com" },
		{ "g\xc3\xb6pher.test", "xn--gpher-jua.test" },
		{ "b\xc3\xbc"
		  "cher.example.",
		  "xn--bcher-kva.example." },
		{ "M\xc3\xbcnchen.de", "xn--Mnchen-3ya.de" },
		{ "*.b\xc3\xbc"
		  "cher.example",
		  "*.xn--bcher-kva.example" },
		/* RFC 3492 section 7.1 (L): 3<nen>B<gumi><kinpachi><sensei> */
		{ "3\xe5\xb9\xb4"
		  "B\xe7\xb5\x84\xe9\x87\x91\xe5\x85\xab\xe5\x85\x88\xe7\x94\x9f",
		  "xn--3B-ww4c5e180e575a65lsy2b" },
		/* (A) Arabic (Egyptian) */
		{ "\xd9\x84\xd9\x8a\xd9\x87\xd9\x85\xd8\xa7\xd8\xa8\xd8\xaa\xd9\x83\xd9\x84\xd9\x85"
		  "\xd9\x88\xd8\xb4\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a\xd8\x9f",
		  "xn--egbpdaj6bu4bxfgehfvwxn" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf out;
		struct err e = { 0 };
		buf_init(&out, 1024);
		if (idna_to_ascii(span_cstr(cases[i].in), &out, &e) != 0)
			fail_msg("case %zu: %s", i, e.msg);
		if (strcmp(buf_cstr(&out), cases[i].want) != 0)
			fail_msg("case %zu: got %s, want %s", i, buf_cstr(&out), cases[i].want);
		buf_clear(&out);
	}
	struct buf out;
	struct err e = { 0 };
	buf_init(&out, 1024);
	assert_int_equal(idna_to_ascii(span_cstr("a..b"), &out, &e), ERR_INVALID);
	assert_string_equal(e.msg, "domain name: empty label");
	assert_int_equal(idna_to_ascii(span_cstr("\xff.com"), &out, &e), ERR_INVALID);
	/* a label too long after encoding fails also without an err (fuzz finding) */
	buf_reset(&out);
	assert_int_equal(
	        idna_to_ascii(span_cstr("\xc3\xa4"
	                                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	                                "aaaaaaaaaaa.pet"),
	                      &out, NULL),
	        ERR_INVALID);
	assert_string_equal(e.msg, "domain name is not valid UTF-8");
	buf_clear(&out);
	/* the constructor converts a U-label policy domain, and refuses bad UTF-8 */
	struct report *r = report_new("o", 0, 1, "a@b", "x@y");
	struct report_policy *p =
	        report_add_policy(r, REPORT_POLICY_STS, NULL, "g\xc3\xb6pher.test", &e);
	assert_non_null(p);
	assert_string_equal(p->domain, "xn--gpher-jua.test");
	assert_null(report_add_policy(r, REPORT_POLICY_STS, NULL, "bad\xff", &e));
	assert_string_equal(e.msg, "policy-domain: domain name is not valid UTF-8");
	assert_int_equal(r->n_policies, 1);
	report_free(r);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(report_result_type_name(REPORT_RESULT_STS_POLICY_FETCH_ERROR),
	                    "sts-policy-fetch-error");
	assert_null(report_result_type_name(REPORT_RESULT_UNKNOWN));
	assert_int_equal(report_result_type_lookup(SPAN_LIT("dane-required")),
	                 REPORT_RESULT_DANE_REQUIRED);
	assert_int_equal(report_result_type_lookup(SPAN_LIT("Dane-Required")),
	                 REPORT_RESULT_UNKNOWN);
	assert_int_equal(report_policy_type_lookup(SPAN_LIT("no-policy-found")),
	                 REPORT_POLICY_NO_POLICY_FOUND);
	assert_int_equal(report_policy_type_lookup(SPAN_LIT("tls")), REPORT_POLICY_UNKNOWN);
	assert_string_equal(report_quirk_name(REPORT_QUIRK_MX_HOST_STRING), "mx-host-string");
	assert_null(report_quirk_name(3));
	for (unsigned i = 0; i < REPORT_QUIRK_COUNT_; i++)
		assert_non_null(report_quirk_name((uint64_t)1 << i));
}

/* Each case breaks one rule of the validator on the good report from build(). */
static void
brk_contact_null(struct report *r)
{
	free(r->contact_info);
	r->contact_info = NULL;
}
static void
brk_contact_bad(struct report *r)
{
	free(r->contact_info);
	r->contact_info = strdup("Example Postmaster");
}
static void
brk_id_free_form(struct report *r)
{
	free(r->report_id);
	r->report_id = strdup("2026-11-28T00:00:00Z_example.com");
}
static void
brk_window(struct report *r)
{
	r->end = r->start + 86400;
}
static void
brk_start(struct report *r)
{
	r->start += 3600;
}
static void
brk_domain(struct report *r)
{
	free(r->policies[1]->domain);
	r->policies[1]->domain = NULL;
}
static void
brk_domain_ulabel(struct report *r)
{
	free(r->policies[1]->domain);
	r->policies[1]->domain = strdup("g\xc3\xb6pher.test");
}
static void
brk_empty_field(struct report *r)
{
	free(r->policies[0]->failures[1].receiving_mx_helo);
	r->policies[0]->failures[1].receiving_mx_helo = strdup("");
}
static void
brk_big_count(struct report *r)
{
	r->policies[2]->successful = 9007199254740992u;
}
static void
brk_zero_failed(struct report *r)
{
	r->policies[0]->failures[0].failed_session_count = 0;
}
static void
brk_unknown_type(struct report *r)
{
	r->policies[0]->type = REPORT_POLICY_UNKNOWN;
}
static void
brk_unknown_result(struct report *r)
{
	r->policies[0]->failures[1].result_type = REPORT_RESULT_UNKNOWN;
}
static void
brk_npf_strings(struct report *r)
{
	report_policy_add_string(r->policies[2], "x");
}
static void
brk_mx_host(struct report *r)
{
	free(r->policies[0]->mx_hosts[0]);
	r->policies[0]->mx_hosts[0] = strdup("mx one.example.com");
}
static void
brk_no_policies(struct report *r)
{
	r->n_policies = 0; /* test_validator restores it before report_free() */
}

static void
test_validator(void **state)
{
	static const struct {
		void (*brk)(struct report *);
		enum window_period period;
		const char *want;
	} cases[] = {
		{ brk_contact_null, WINDOW_DAILY, "contact-info: missing" },
		{ brk_contact_bad, WINDOW_DAILY,
		  "contact-info: \"Example Postmaster\" is not an addr-spec" },
		{ brk_id_free_form, WINDOW_DAILY,
		  "report-id: \"2026-11-28T00:00:00Z_example.com\" is not a msg-id body "
		  "(dot-atom-text \"@\" dot-atom-text)" },
		{ brk_window, WINDOW_DAILY,
		  "date-range.end-datetime: 2026-11-29T00:00:00Z is not the last second of the "
		  "daily "
		  "window starting 2026-11-28T00:00:00Z" },
		{ brk_start, WINDOW_DAILY,
		  "date-range.start-datetime: 2026-11-28T01:00:00Z is not the start of a daily "
		  "window" },
		{ brk_start, WINDOW_HOURLY,
		  "date-range.end-datetime: 2026-11-28T23:59:59Z is not the last second of the "
		  "hourly "
		  "window starting 2026-11-28T01:00:00Z" },
		{ brk_domain, WINDOW_DAILY, "policies[1].policy.policy-domain: missing" },
		{ brk_domain_ulabel, WINDOW_DAILY,
		  "policies[1].policy.policy-domain: \"g\xc3\xb6pher.test\" is not a host name in "
		  "A-labels" },
		{ brk_empty_field, WINDOW_DAILY,
		  "policies[0].failure-details[1].receiving-mx-helo: empty string (omit the member "
		  "instead)" },
		{ brk_big_count, WINDOW_DAILY,
		  "policies[2].summary.total-successful-session-count: 9007199254740992 is above "
		  "2^53-1 (I-JSON)" },
		{ brk_zero_failed, WINDOW_DAILY,
		  "policies[0].failure-details[0].failed-session-count: 0 (a failure detail counts "
		  "at "
		  "least 1 session)" },
		{ brk_unknown_type, WINDOW_DAILY,
		  "policies[0].policy.policy-type: missing or not tlsa|sts|no-policy-found" },
		{ brk_unknown_result, WINDOW_DAILY,
		  "policies[0].failure-details[1].result-type: not a registered result type" },
		{ brk_npf_strings, WINDOW_DAILY,
		  "policies[2].policy.policy-string: present for no-policy-found" },
		{ brk_mx_host, WINDOW_DAILY,
		  "policies[0].policy.mx-host[0]: \"mx one.example.com\" is not a host name "
		  "pattern "
		  "in A-labels" },
		{ brk_no_policies, WINDOW_DAILY,
		  "policies: empty (a report has at least one policy)" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct report *r = build();
		struct err e = { 0 };
		size_t n = r->n_policies;
		cases[i].brk(r);
		int rc = report_validate(r, cases[i].period, &e);
		if (rc != ERR_INVALID || strcmp(e.msg, cases[i].want) != 0)
			fail_msg("case %zu: got %d \"%s\", want \"%s\"", i, rc, e.msg,
			         cases[i].want);
		r->n_policies = n;
		report_free(r);
	}
	/* the good report passes with every period that fits, and with none */
	struct report *r = build();
	struct err e = { 0 };
	assert_int_equal(report_validate(r, WINDOW_DAILY, &e), 0);
	assert_int_equal(report_validate(r, WINDOW_NEVER, &e), 0);
	assert_int_equal(report_validate(r, WINDOW_WEEKLY, &e), ERR_INVALID);
	report_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_bytes),
		cmocka_unit_test(test_gzip_output),
		cmocka_unit_test(test_escaping_and_omission),
		cmocka_unit_test(test_idna),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_validator),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
