/*
 * test_report_read.c - the tolerant reader (src/report/report_read.c) over every report
 * of the shared corpus, plus hand-made malformed inputs with their exact verdicts.
 *
 * Decisions for corpus files (the table below is the record of them):
 *   - every report a real reporter sent is accepted, with the quirks SOURCES.md lists;
 *   - YnkDK no-policies.json (`policies: []`) is rejected: a report without a policy
 *     carries no data (RFC 8460 section 4.4: policies is required);
 *   - YnkDK date_error.json (`"April fools"`) is rejected: without a date range the
 *     counts cannot be placed in time;
 *   - YnkDK truncated.gz is rejected by the gzip reader;
 *   - YnkDK missing_required_field.json (policy without policy-type) is ACCEPTED with
 *     the quirk policy-type-missing: its policy-domain and session counts are still
 *     usable by a receiver, the same way a missing policy-domain is tolerated (Q10).
 * Files are read from $SHARED/corpus ($SHARED defaults to ../shared).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/file.h"
#include "report/gzip.h"
#include "report/report.h"

#define Q(x) REPORT_QUIRK_##x

static const char *
shared_dir(void)
{
	const char *s = getenv("SHARED");
	return s && *s ? s : "../shared";
}

/* Loads a corpus file (gunzipping when it starts with the gzip magic) and reads it. */
static int
load(const char *rel, struct report **r, struct err *e)
{
	char path[1024];
	struct buf raw, json;
	int rc;

	snprintf(path, sizeof(path), "%s/corpus/%s", shared_dir(), rel);
	buf_init(&raw, 64 << 20);
	buf_init(&json, GZIP_DEFAULT_MAX_OUT);
	if (file_read(path, &raw, NULL) != 0)
		fail_msg("cannot read %s (set SHARED)", path);
	struct span s = buf_span(&raw);
	if (gzip_is_gzip(s)) {
		rc = gzip_decompress(s, GZIP_DEFAULT_MAX_OUT, &json, e);
		s = buf_span(&json);
		if (rc != 0)
			goto out;
	}
	rc = report_read(s, NULL, r, e);
out:
	buf_clear(&raw);
	buf_clear(&json);
	return rc;
}

static const struct corpus_case {
	const char *file;
	int want_rc;
	uint64_t want_quirks; /* exact set when accepted */
	const char *want_msg; /* exact message when rejected */
} corpus[] = {
	/* real/ */
	{ "real/Neztore_tls-rpt-monitor/microsoft-report.json", 0,
	  Q(FAILURE_SUM_MISMATCH) | Q(UNKNOWN_RESULT_TYPE) | Q(ADDITIONAL_INFO_URI_KEY), NULL },
	{ "real/Neztore_tls-rpt-monitor/microsoft-report.json.gz", 0, 0, NULL },
	{ "real/YnkDK_tls_reporting/date_error.json", ERR_INVALID, 0,
	  "date-range.start-datetime: expected an RFC 3339 date-time, got \"April fools\"" },
	{ "real/YnkDK_tls_reporting/example.gz", 0, Q(MX_HOST_STRING) | Q(FAILURE_ERROR_CODE_KEY),
	  NULL },
	{ "real/YnkDK_tls_reporting/missing_required_field.json", 0,
	  Q(MX_HOST_STRING) | Q(FAILURE_SUM_MISMATCH) | Q(POLICY_TYPE_MISSING), NULL },
	{ "real/YnkDK_tls_reporting/no-policies.json", ERR_INVALID, 0,
	  "policies: empty (a report has at least one policy)" },
	{ "real/YnkDK_tls_reporting/truncated.gz", ERR_INVALID, 0,
	  "gzip: truncated stream (expected more input after 12 bytes)" },
	{ "real/cry-inc_dmarc-report-viewer/google.json", 0, 0, NULL },
	{ "real/cry-inc_dmarc-report-viewer/history-bbd2196/google.json", 0, 0, NULL },
	{ "real/cry-inc_dmarc-report-viewer/issue-57-microsoft-no-sending-ip.json", 0,
	  Q(FAILURE_FIELD_MISSING) | Q(POLICY_STRING_MISSING), NULL },
	{ "real/cry-inc_dmarc-report-viewer/issue-71-contact-info-null.json", 0,
	  Q(END_NEXT_MIDNIGHT) | Q(CONTACT_INFO_NULL) | Q(EMPTY_ARRAY), NULL },
	{ "real/cry-inc_dmarc-report-viewer/microsoft.json", 0, Q(POLICY_STRING_JSON_ARRAY), NULL },
	{ "real/cry-inc_dmarc-report-viewer/no-contact.json", 0,
	  Q(END_NEXT_MIDNIGHT) | Q(CONTACT_INFO_NULL) | Q(EMPTY_ARRAY), NULL },
	{ "real/cry-inc_dmarc-report-viewer/no-policy.json", 0, 0, NULL },
	{ "real/cry-inc_dmarc-report-viewer/no_ip_and_mx.json", 0,
	  Q(FAILURE_FIELD_MISSING) | Q(POLICY_STRING_MISSING), NULL },
	{ "real/cry-inc_dmarc-report-viewer/rfc-example.json", 0, 0, NULL },
	{ "real/danmarg_tlsrpt_processor/sample.json", 0,
	  Q(MX_HOST_STRING) | Q(FAILURE_ERROR_CODE_KEY), NULL },
	{ "real/domainaware_parsedmarc/issue-575-egressif-stalwart.json", 0,
	  Q(END_NEXT_MIDNIGHT) | Q(CONTACT_INFO_NULL) | Q(EMPTY_ARRAY), NULL },
	{ "real/domainaware_parsedmarc/mail.ru.json", 0,
	  Q(END_NEXT_MIDNIGHT) | Q(FAILURE_FIELD_MISSING) | Q(POLICY_STRING_MISSING) |
	          Q(FAILURE_SUM_MISMATCH),
	  NULL },
	{ "real/domainaware_parsedmarc/rfc8460.json", 0, Q(MX_HOST_STRING), NULL },
	{ "real/domainaware_parsedmarc/smtp_tls.json", 0, 0, NULL },
	{ "real/jgosmann_dmarc-metrics-exporter/issue-52-google.json", 0, 0, NULL },
	{ "real/kravietz_tlsrpt-rs/mail.ru.json", 0,
	  Q(END_NEXT_MIDNIGHT) | Q(FAILURE_FIELD_MISSING) | Q(POLICY_STRING_MISSING), NULL },
	{ "real/marcbradshaw_mail-tls-rpt/report.json", 0, 0, NULL },
	{ "real/phi-ag_mta-sts-exporter/google.json", 0, 0, NULL },
	{ "real/phi-ag_mta-sts-exporter/microsoft-2.json", 0, Q(DATE_NO_TIMEZONE), NULL },
	{ "real/phi-ag_mta-sts-exporter/microsoft.json", 0, 0, NULL },
	{ "real/phi-ag_mta-sts-exporter/rfc-errata-6241.json", 0, 0, NULL },
	{ "real/phi-ag_mta-sts-exporter/rfc.json", 0, Q(MX_HOST_STRING), NULL },
	{ "real/robalexdev_tlsrpt-be/report.json", 0, Q(FAILURE_SUM_MISMATCH), NULL },
	{ "real/robalexdev_tlsrpt-be/testing.json", 0, Q(MX_HOST_STRING), NULL },
	{ "real/stalwartlabs_mail-auth/rpt02.json", 0, Q(RANGE_NOT_DAY), NULL },
	{ "real/stalwartlabs_mail-auth/rpt03.json", 0,
	  Q(POLICY_DOMAIN_MISSING) | Q(UNKNOWN_POLICY_TYPE) | Q(SUMMARY_COUNT_MISSING), NULL },
	{ "real/sys4_tlsrpt-reporter/issue-51-no-policy-domain.json", 0,
	  Q(POLICY_DOMAIN_MISSING) | Q(EMPTY_ARRAY), NULL },
	/* stalwart/ */
	{ "stalwart/rpt01.json", 0, 0, NULL },
	{ "stalwart/rpt02.json", 0, Q(RANGE_NOT_DAY), NULL },
	{ "stalwart/rpt03.json", 0,
	  Q(POLICY_DOMAIN_MISSING) | Q(UNKNOWN_POLICY_TYPE) | Q(SUMMARY_COUNT_MISSING), NULL },
	/* sys4/ (what the reference reporter renders) */
	{ "sys4/reports/report-both.example.json", 0, Q(EMPTY_ARRAY), NULL },
	{ "sys4/reports/report-dane.example.json", 0, 0, NULL },
	{ "sys4/reports/report-escape.example.json", 0, 0, NULL },
	{ "sys4/reports/report-nopolicy.example.json", 0, Q(POLICY_DOMAIN_MISSING), NULL },
	{ "sys4/reports/report-sts.example.json", 0, 0, NULL },
	{ "sys4/http/post-dane.example.json.gz", 0, 0, NULL },
};

static void
format_quirks(uint64_t q, char *out, size_t cap)
{
	struct buf b;
	buf_init(&b, 4096);
	report_quirks_format(q, ",", &b);
	snprintf(out, cap, "%s", buf_cstr(&b));
	buf_clear(&b);
}

static void
test_corpus_verdicts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		const struct corpus_case *c = &corpus[i];
		struct err e = { 0 };
		struct report *r = NULL;
		int rc = load(c->file, &r, &e);
		if (rc != c->want_rc)
			fail_msg("%s: got rc %d (%s), want %d", c->file, rc, e.msg, c->want_rc);
		if (rc == 0) {
			if (r->quirks != c->want_quirks) {
				char got[1024], want[1024];
				format_quirks(r->quirks, got, sizeof(got));
				format_quirks(c->want_quirks, want, sizeof(want));
				fail_msg("%s: got quirks {%s}, want {%s}", c->file, got, want);
			}
		} else if (strcmp(e.msg, c->want_msg) != 0) {
			fail_msg("%s: got message \"%s\", want \"%s\"", c->file, e.msg,
			         c->want_msg);
		}
		report_free(r);
	}
}

/* Writer -> reader gives the same model for every accepted corpus report. */
static void
test_corpus_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		struct err e = { 0 };
		struct report *r = NULL, *back = NULL;
		struct buf out;
		if (corpus[i].want_rc != 0)
			continue;
		assert_int_equal(load(corpus[i].file, &r, &e), 0);
		buf_init(&out, 1 << 20);
		if (report_write_json(r, &out, &e) != 0)
			fail_msg("%s: write: %s", corpus[i].file, e.msg);
		size_t size = 0;
		assert_int_equal(report_json_size(r, &size, &e), 0);
		if (size != out.len)
			fail_msg("%s: report_json_size got %zu, want %zu", corpus[i].file, size,
			         out.len);
		if (report_read(buf_span(&out), NULL, &back, &e) != 0)
			fail_msg("%s: re-read: %s\n%s", corpus[i].file, e.msg, buf_cstr(&out));
		if (!report_equal(r, back))
			fail_msg("%s: round trip differs:\n%s", corpus[i].file, buf_cstr(&out));
		report_free(r);
		report_free(back);
		buf_clear(&out);
	}
}

/* What the reader keeps of the quirky reports. */
static void
test_corpus_content(void **state)
{
	struct err e = { 0 };
	struct report *r = NULL;
	(void)state;

	/* Q4: Microsoft's JSON array inside one string is decoded into two records */
	assert_int_equal(load("real/cry-inc_dmarc-report-viewer/microsoft.json", &r, &e), 0);
	assert_int_equal(r->n_policies, 2);
	assert_int_equal(r->policies[1]->type, REPORT_POLICY_TLSA);
	assert_int_equal(r->policies[1]->n_strings, 2);
	assert_string_equal(
	        r->policies[1]->strings[1],
	        "3 1 1 837C773D54C2E2BD71871A3FC352BE8214D5646CBAE5E3091401A7274717998B");
	report_free(r);

	/* Q3: next midnight becomes the last second of the day */
	assert_int_equal(load("real/domainaware_parsedmarc/mail.ru.json", &r, &e), 0);
	assert_int_equal(r->start, 1708560000);
	assert_int_equal(r->end, 1708560000 + 86399);
	assert_int_equal(r->policies[0]->failures[1].result_type,
	                 REPORT_RESULT_STS_POLICY_FETCH_ERROR);
	assert_string_equal(r->policies[0]->failures[1].failure_reason_code,
	                    "bad https response code: 500");
	assert_null(r->policies[0]->failures[1].sending_mta_ip);
	report_free(r);

	/* Q19: failure-error-code read as failure-reason-code */
	assert_int_equal(load("real/danmarg_tlsrpt_processor/sample.json", &r, &e), 0);
	assert_string_equal(r->policies[0]->failures[2].failure_reason_code,
	                    "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED");
	assert_int_equal(r->policies[0]->n_mx_hosts, 1);
	assert_string_equal(r->policies[0]->mx_hosts[0], "*.mail.company-y.example");
	report_free(r);

	/* unknown types kept verbatim */
	assert_int_equal(load("real/Neztore_tls-rpt-monitor/microsoft-report.json", &r, &e), 0);
	assert_int_equal(r->policies[0]->failures[0].result_type, REPORT_RESULT_UNKNOWN);
	assert_string_equal(r->policies[0]->failures[0].result_type_other, "Testing");
	assert_string_equal(r->policies[0]->failures[0].additional_information,
	                    "testing.josh.scot");
	report_free(r);
	assert_int_equal(load("stalwart/rpt03.json", &r, &e), 0);
	assert_int_equal(r->policies[1]->type, REPORT_POLICY_UNKNOWN);
	assert_string_equal(r->policies[1]->type_other, "invalid-policy-type");
	assert_null(r->policies[1]->domain);
	report_free(r);

	/* escapes decoded */
	assert_int_equal(load("sys4/reports/report-escape.example.json", &r, &e), 0);
	assert_string_equal(r->policies[0]->failures[0].receiving_mx_helo,
	                    "220 \"quoted\" \\back\\slash\ttab\nnewline");
	assert_string_equal(r->policies[0]->failures[0].additional_information,
	                    "UTF-8: \xc3\xa4\xc3\xb6\xc3\xbc \xe2\x82\xac ctrl:\x01\x1f del:\x7f");
	report_free(r);
}

static const struct bad_case {
	const char *name;
	const char *json;
	int want_rc;
	const char *want_msg;
} bad[] = {
	{ "not json", "hello", ERR_INVALID, "not JSON: invalid token (line 1, column 1)" },
	{ "array at top", "[]", ERR_INVALID, "report: expected a JSON object, got an array" },
	{ "duplicate key", "{\"report-id\":\"a\",\"report-id\":\"b\"}", ERR_INVALID,
	  "not JSON: duplicate member name \"report-id\" (line 1, column 1)" },
	{ "invalid utf-8", "{\"report-id\":\"\xff\"}", ERR_INVALID,
	  "not JSON: invalid UTF-8 in string (line 1, column 15)" },
	{ "no date range", "{\"policies\":[]}", ERR_INVALID,
	  "date-range: missing (a report covers a date range)" },
	{ "date range not object", "{\"date-range\":\"2016-04-01\"}", ERR_INVALID,
	  "date-range: expected an object, got \"2016-04-01\"" },
	{ "end missing", "{\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\"}}",
	  ERR_INVALID, "date-range.end-datetime: missing" },
	{ "date is a number", "{\"date-range\":{\"start-datetime\":1459468800}}", ERR_INVALID,
	  "date-range.start-datetime: expected an RFC 3339 date-time string, got 1459468800" },
	{ "end before start",
	  "{\"date-range\":{\"start-datetime\":\"2016-04-02T00:00:00Z\",\"end-datetime\":"
	  "\"2016-04-01T23:59:59Z\"}}",
	  ERR_INVALID,
	  "date-range: end-datetime 2016-04-01T23:59:59Z is before start-datetime "
	  "2016-04-02T00:00:00Z" },
	{ "no policies",
	  "{\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\",\"end-datetime\":"
	  "\"2016-04-01T23:59:59Z\"}}",
	  ERR_INVALID, "policies: missing (a report has at least one policy)" },
	{ "policies an object",
	  "{\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\",\"end-datetime\":"
	  "\"2016-04-01T23:59:59Z\"},\"policies\":{}}",
	  ERR_INVALID, "policies: expected an array, got an object" },
	{ "policy entry not object",
	  "{\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\",\"end-datetime\":"
	  "\"2016-04-01T23:59:59Z\"},\"policies\":[5]}",
	  ERR_INVALID, "policies[0]: expected an object, got 5" },
	{ "count as string",
	  "{\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\",\"end-datetime\":"
	  "\"2016-04-01T23:59:59Z\"},\"policies\":[{\"policy\":{\"policy-type\":\"sts\"},"
	  "\"summary\":{\"total-successful-session-count\":1,\"total-failure-session-count\":1}},"
	  "{\"policy\":{\"policy-type\":\"sts\"},\"summary\":{\"total-successful-session-count\":1,"
	  "\"total-failure-session-count\":1}},{\"policy\":{\"policy-type\":\"sts\"},\"summary\":"
	  "{\"total-successful-session-count\":1,\"total-failure-session-count\":\"abc\"}}]}",
	  ERR_INVALID,
	  "policies[2].summary.total-failure-session-count: expected a non-negative integer, got "
	  "\"abc\"" },
	{ "negative count",
	  "{\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\",\"end-datetime\":"
	  "\"2016-04-01T23:59:59Z\"},\"policies\":[{\"policy\":{\"policy-type\":\"sts\"},"
	  "\"summary\":{\"total-successful-session-count\":-1}}]}",
	  ERR_INVALID,
	  "policies[0].summary.total-successful-session-count: expected a non-negative integer, "
	  "got -1" },
	{ "real count",
	  "{\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\",\"end-datetime\":"
	  "\"2016-04-01T23:59:59Z\"},\"policies\":[{\"policy\":{\"policy-type\":\"sts\"},"
	  "\"summary\":{\"total-successful-session-count\":1.5}}]}",
	  ERR_INVALID,
	  "policies[0].summary.total-successful-session-count: expected a non-negative integer, "
	  "got 1.5" },
	{ "no summary",
	  "{\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\",\"end-datetime\":"
	  "\"2016-04-01T23:59:59Z\"},\"policies\":[{\"policy\":{\"policy-type\":\"sts\"}}]}",
	  ERR_INVALID, "policies[0].summary: missing" },
	{ "no policy object",
	  "{\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\",\"end-datetime\":"
	  "\"2016-04-01T23:59:59Z\"},\"policies\":[{\"summary\":{}}]}",
	  ERR_INVALID, "policies[0].policy: missing" },
	{ "policy-type a number",
	  "{\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\",\"end-datetime\":"
	  "\"2016-04-01T23:59:59Z\"},\"policies\":[{\"policy\":{\"policy-type\":3}}]}",
	  ERR_INVALID, "policies[0].policy.policy-type: expected a string, got 3" },
	{ "mx-host entry not a string",
	  "{\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\",\"end-datetime\":"
	  "\"2016-04-01T23:59:59Z\"},\"policies\":[{\"policy\":{\"policy-type\":\"sts\","
	  "\"mx-host\":[\"a\",true]}}]}",
	  ERR_INVALID, "policies[0].policy.mx-host[1]: expected a string, got true" },
	{ "failure without result-type",
	  "{\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\",\"end-datetime\":"
	  "\"2016-04-01T23:59:59Z\"},\"policies\":[{\"policy\":{\"policy-type\":\"sts\"},"
	  "\"summary\":{},\"failure-details\":[{\"failed-session-count\":1}]}]}",
	  ERR_INVALID, "policies[0].failure-details[0].result-type: missing" },
	{ "failure without count",
	  "{\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\",\"end-datetime\":"
	  "\"2016-04-01T23:59:59Z\"},\"policies\":[{\"policy\":{\"policy-type\":\"sts\"},"
	  "\"summary\":{},\"failure-details\":[{\"result-type\":\"dane-required\"}]}]}",
	  ERR_INVALID, "policies[0].failure-details[0].failed-session-count: missing" },
	{ "failure field wrong type",
	  "{\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\",\"end-datetime\":"
	  "\"2016-04-01T23:59:59Z\"},\"policies\":[{\"policy\":{\"policy-type\":\"sts\"},"
	  "\"summary\":{},\"failure-details\":[{\"result-type\":\"dane-required\","
	  "\"failed-session-count\":1,\"receiving-ip\":[]}]}]}",
	  ERR_INVALID,
	  "policies[0].failure-details[0].receiving-ip: expected a string, got an array" },
	{ "top-level scalar", "5", ERR_INVALID, "report: expected a JSON object, got 5" },
	{ "trailing data", "{} {}", ERR_INVALID,
	  "not JSON: end of input expected (line 1, column 4)" },
	{ "contact-info a number", "{\"contact-info\":5}", ERR_INVALID,
	  "contact-info: expected a string, got 5" },
	{ "deep nesting", "{\"x\":[[[[[[[[[[[[[[1]]]]]]]]]]]]]]}", ERR_TOOBIG,
	  "report: JSON nested deeper than 12 levels" },
	{ "long string in message",
	  "{\"date-range\":{\"start-datetime\":\"0123456789012345678901234567890123456789012345\"}"
	  "}",
	  ERR_INVALID,
	  "date-range.start-datetime: expected an RFC 3339 date-time, got "
	  "\"0123456789012345678901234567890123456789...\"" },
};

static void
test_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct err e = { 0 };
		struct report *r = (struct report *)&e; /* must be set to NULL */
		int rc = report_read(span_cstr(bad[i].json), NULL, &r, &e);
		if (rc != bad[i].want_rc || strcmp(e.msg, bad[i].want_msg) != 0)
			fail_msg("%s: got %d \"%s\", want %d \"%s\"", bad[i].name, rc, e.msg,
			         bad[i].want_rc, bad[i].want_msg);
		assert_null(r);
	}
}

#define MINI_HEAD                                                                                  \
	"{\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\",\"end-datetime\":"           \
	"\"2016-04-01T23:59:59Z\"},"

static const struct quirk_case {
	const char *name;
	const char *json;
	uint64_t want;
} quirky[] = {
	{ "clean",
	  MINI_HEAD
	  "\"organization-name\":\"o\",\"contact-info\":\"a@b\",\"report-id\":\"x\","
	  "\"policies\":[{\"policy\":{\"policy-type\":\"no-policy-found\",\"policy-domain\":"
	  "\"d\"},\"summary\":{\"total-successful-session-count\":1,"
	  "\"total-failure-session-count\":0}}]}",
	  0 },
	{ "empty and null optional fields, missing members",
	  MINI_HEAD "\"organization-name\":\"\",\"contact-info\":\"a@b\","
	            "\"policies\":[{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"d\","
	            "\"policy-string\":null},\"summary\":{\"total-successful-session-count\":0,"
	            "\"total-failure-session-count\":1},\"failure-details\":[{\"result-type\":"
	            "\"starttls-not-supported\",\"sending-mta-ip\":\"\",\"receiving-mx-hostname\":"
	            "\"mx\",\"receiving-ip\":null,\"failed-session-count\":1}]}]}",
	  Q(EMPTY_OPTIONAL_FIELD) | Q(ORGANIZATION_NAME_MISSING) | Q(REPORT_ID_MISSING) |
	          Q(NULL_FIELD) | Q(FAILURE_FIELD_MISSING) },
	{ "time zone offset, fraction, leap second, unknown member",
	  "{\"date-range\":{\"start-datetime\":\"2016-04-01T02:00:00.5+02:00\",\"end-datetime\":"
	  "\"2016-04-01T23:59:60Z\"},\"x-extra\":1,\"organization-name\":\"o\",\"contact-info\":"
	  "\"a@b\",\"report-id\":\"x\",\"policies\":[{\"policy\":{\"policy-type\":"
	  "\"no-policy-found\",\"policy-domain\":\"d\"},\"summary\":{"
	  "\"total-successful-session-count\":1,\"total-failure-session-count\":0}}]}",
	  Q(DATE_OFFSET) | Q(DATE_FRACTION) | Q(DATE_LEAP_SECOND) | Q(UNKNOWN_MEMBER) },
	{ "U-label policy domain, policy-string as a string",
	  MINI_HEAD "\"organization-name\":\"o\",\"contact-info\":\"a@b\",\"report-id\":\"x\","
	            "\"policies\":[{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":"
	            "\"g\xc3\xb6pher.test\",\"policy-string\":\"version: STSv1\"},\"summary\":{"
	            "\"total-successful-session-count\":1,\"total-failure-session-count\":0}}]}",
	  Q(POLICY_DOMAIN_ULABEL) | Q(POLICY_STRING_STRING) },
	{ "U-label domain that cannot be encoded: kept as sent (fuzz finding)",
	  MINI_HEAD
	  "\"organization-name\":\"o\",\"contact-info\":\"a@b\",\"report-id\":\"x\","
	  "\"policies\":[{\"policy\":{\"policy-type\":\"no-policy-found\",\"policy-domain\":"
	  "\"\xc3\xa4"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.pet\"},"
	  "\"summary\":{\"total-successful-session-count\":1,"
	  "\"total-failure-session-count\":0}}]}",
	  Q(POLICY_DOMAIN_ULABEL) },
	{ "contact-info missing",
	  MINI_HEAD
	  "\"organization-name\":\"o\",\"report-id\":\"x\","
	  "\"policies\":[{\"policy\":{\"policy-type\":\"no-policy-found\",\"policy-domain\":"
	  "\"d\"},\"summary\":{\"total-successful-session-count\":1,"
	  "\"total-failure-session-count\":0}}]}",
	  Q(CONTACT_INFO_MISSING) },
};

static void
test_quirks(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(quirky) / sizeof(quirky[0]); i++) {
		struct err e = { 0 };
		struct report *r = NULL;
		if (report_read(span_cstr(quirky[i].json), NULL, &r, &e) != 0)
			fail_msg("%s: rejected: %s", quirky[i].name, e.msg);
		if (r->quirks != quirky[i].want) {
			char got[1024], want[1024];
			format_quirks(r->quirks, got, sizeof(got));
			format_quirks(quirky[i].want, want, sizeof(want));
			fail_msg("%s: got quirks {%s}, want {%s}", quirky[i].name, got, want);
		}
		report_free(r);
	}
	/* the U-label domain is stored (and written) in A-labels */
	struct err e = { 0 };
	struct report *r = NULL;
	assert_int_equal(report_read(span_cstr(quirky[3].json), NULL, &r, &e), 0);
	assert_string_equal(r->policies[0]->domain, "xn--gpher-jua.test");
	assert_int_equal(r->start, 1459468800);
	assert_int_equal(r->end, 1459468800 + 86399);
	report_free(r);
	assert_int_equal(report_read(span_cstr(quirky[4].json), NULL, &r, &e), 0);
	assert_string_equal(
	        r->policies[0]->domain,
	        "\xc3\xa4"
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.pet");
	report_free(r);
	assert_int_equal(report_read(span_cstr(quirky[2].json), NULL, &r, &e), 0);
	assert_int_equal(r->start, 1459468800);       /* 02:00+02:00 is midnight UTC */
	assert_int_equal(r->end, 1459468800 + 86399); /* :60 read as :59 */
	report_free(r);
}

static void
test_caps(void **state)
{
	struct report_caps caps;
	struct err e = { 0 };
	struct report *r = NULL;
	const char *two =
	        MINI_HEAD "\"policies\":[{\"policy\":{\"policy-type\":\"sts\"},\"summary\":{},"
	                  "\"failure-details\":[{\"result-type\":\"dane-required\",\"failed-"
	                  "session-count\":1},"
	                  "{\"result-type\":\"dane-required\",\"failed-session-count\":1}]},"
	                  "{\"policy\":{\"policy-type\":\"sts\"},\"summary\":{}}]}";
	(void)state;

	report_caps_default(&caps);
	assert_int_equal(report_read(span_cstr(two), &caps, &r, &e), 0);
	report_free(r);
	caps.max_policies = 1;
	assert_int_equal(report_read(span_cstr(two), &caps, &r, &e), ERR_TOOBIG);
	assert_string_equal(e.msg, "policies: 2 policies, more than the cap of 1");
	report_caps_default(&caps);
	caps.max_failure_details = 1;
	assert_int_equal(report_read(span_cstr(two), &caps, &r, &e), ERR_TOOBIG);
	assert_string_equal(
	        e.msg, "policies[0].failure-details: more than 1 failure details in the report");
	report_caps_default(&caps);
	caps.max_input = 10;
	assert_int_equal(report_read(span_cstr(two), &caps, &r, &e), ERR_TOOBIG);
	assert_non_null(strstr(e.msg, "more than the cap of 10 bytes"));
	report_caps_default(&caps);
	caps.max_depth = 4;
	assert_int_equal(report_read(span_cstr(two), &caps, &r, &e), ERR_TOOBIG);
	assert_string_equal(e.msg, "report: JSON nested deeper than 4 levels");
	/* jansson's own limit is far above ours: 3000 levels are rejected by our cap */
	struct buf deep;
	buf_init(&deep, 10000);
	for (int i = 0; i < 3000; i++)
		buf_putc(&deep, '[');
	for (int i = 0; i < 3000; i++)
		buf_putc(&deep, ']');
	assert_int_not_equal(report_read(buf_span(&deep), NULL, &r, &e), 0);
	assert_null(r);
	buf_clear(&deep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_verdicts), cmocka_unit_test(test_corpus_round_trip),
		cmocka_unit_test(test_corpus_content),  cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_quirks),          cmocka_unit_test(test_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
