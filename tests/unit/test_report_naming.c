/*
 * test_report_naming.c - report-id, attachment file name and Subject, and their parsers
 * (src/report/naming.c), with the real names of the corpus.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "report/naming.h"

#define DAY 1795824000 /* 2026-11-28T00:00:00Z */

static void
test_report_id(void **state)
{
	static const struct {
		int64_t start;
		const char *domain;
		unsigned part;
		const char *submitter;
		const char *want;
	} cases[] = {
		{ DAY, "example.com", 1, "mx.example.org",
		  "20261128T000000Z.example.com.1@mx.example.org" },
		{ DAY + 13 * 3600, "Example.COM.", 12, "MX.example.org.",
		  "20261128T130000Z.example.com.12@mx.example.org" },
		{ DAY, "g\xc3\xb6pher.test", 2,
		  "b\xc3\xbc"
		  "cher.example",
		  "20261128T000000Z.xn--gpher-jua.test.2@xn--bcher-kva.example" },
		/* odd bytes: "=XX", so different names never share an id */
		{ 0, "a b..c=\"d\"", 1, "x(y)", "19700101T000000Z.a=20b.c=3D=22d=22.1@x=28y=29" },
		{ -86400, "_mta-sts.example", 0, "x", "19691231T000000Z._mta-sts.example.0@x" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b;
		struct err e = { 0 };
		struct naming_report_id p;
		buf_init(&b, 1024);
		if (naming_report_id(cases[i].start, cases[i].domain, cases[i].part,
		                     cases[i].submitter, &b, &e) != 0)
			fail_msg("case %zu: %s", i, e.msg);
		if (strcmp(buf_cstr(&b), cases[i].want) != 0)
			fail_msg("case %zu: got %s, want %s", i, buf_cstr(&b), cases[i].want);
		/* and it parses back */
		if (naming_report_id_parse(buf_span(&b), &p, &e) != 0)
			fail_msg("case %zu: parse: %s", i, e.msg);
		assert_int_equal(p.start, cases[i].start);
		assert_int_equal(p.part, cases[i].part);
		buf_clear(&b);
	}
	struct buf b;
	struct err e = { 0 };
	struct naming_report_id p;
	buf_init(&b, 1024);
	assert_int_equal(naming_report_id(DAY, "", 1, "x", &b, &e), ERR_INVALID);
	assert_string_equal(e.msg, "report-id: policy domain: empty name");
	assert_int_equal(naming_report_id(DAY, "...", 1, "x", &b, &e), ERR_INVALID);
	assert_string_equal(e.msg, "report-id: policy domain: \"...\" has no label");
	buf_clear(&b);
	assert_int_equal(naming_report_id_parse(
	                         SPAN_LIT("20261128T000000Z.example.com.1@mx.example.org"), &p, &e),
	                 0);
	assert_string_equal(p.domain, "example.com");
	assert_string_equal(p.submitter, "mx.example.org");
	/* other reporters' ids are not ours */
	assert_int_equal(
	        naming_report_id_parse(SPAN_LIT("2024-09-03T00:00:00Z_example.com"), &p, &e),
	        ERR_INVALID);
	assert_int_equal(naming_report_id_parse(
	                         SPAN_LIT("b28254de-7b2e-be36-bb5c-4c3b92da8b25@mail.ru"), &p, &e),
	                 ERR_INVALID);
	assert_int_equal(
	        naming_report_id_parse(SPAN_LIT("20261128T000000Z.example.com.x@m"), &p, &e),
	        ERR_INVALID);
	assert_string_equal(e.msg, "report-id: bad part number");
}

static void
test_filename(void **state)
{
	struct buf b;
	struct err e = { 0 };
	(void)state;

	buf_init(&b, 1024);
	assert_int_equal(naming_filename("mx.example.org", "Example.COM", DAY, DAY + 86399,
	                                 "20261128T000000Z.example.com.1@mx.example.org", true, &b,
	                                 &e),
	                 0);
	/* the unique-id is 16 hex digits of the report-id's hash: fixed for a given id */
	const char *s = buf_cstr(&b);
	assert_int_equal(strncmp(s, "mx.example.org!example.com!1795824000!1795910399!", 49), 0);
	assert_int_equal(strlen(s), 49 + 16 + 8);
	assert_string_equal(s + 49 + 16, ".json.gz");
	struct buf b2;
	buf_init(&b2, 1024);
	assert_int_equal(naming_filename("mx.example.org", "example.com", DAY, DAY + 86399,
	                                 "20261128T000000Z.example.com.2@mx.example.org", false,
	                                 &b2, &e),
	                 0);
	assert_int_not_equal(memcmp(s + 49, buf_cstr(&b2) + 49, 16), 0);
	assert_string_equal(buf_cstr(&b2) + 49 + 16, ".json");
	struct naming_filename f;
	assert_int_equal(naming_filename_parse(buf_span(&b), &f, &e), 0);
	assert_string_equal(f.submitter, "mx.example.org");
	assert_string_equal(f.domain, "example.com");
	assert_int_equal(f.begin, DAY);
	assert_int_equal(f.end, DAY + 86399);
	assert_int_equal(strlen(f.unique_id), 16);
	assert_true(f.gzip);
	buf_reset(&b);
	assert_int_equal(naming_filename("g\xc3\xb6pher.test",
	                                 "b\xc3\xbc"
	                                 "cher.example",
	                                 1, 2, "x", false, &b, &e),
	                 0);
	assert_int_equal(strncmp(buf_cstr(&b), "xn--gpher-jua.test!xn--bcher-kva.example!1!2!", 45),
	                 0);
	buf_reset(&b);
	assert_int_equal(naming_filename("a!b", "example.com", 1, 2, "x", true, &b, &e),
	                 ERR_INVALID);
	assert_string_equal(e.msg, "filename: submitter: \"a!b\" is not a host name");
	assert_int_equal(naming_filename("a", "example.com", 5, 2, "x", true, &b, &e), ERR_INVALID);
	buf_clear(&b);
	buf_clear(&b2);
}

static void
test_filename_parse(void **state)
{
	static const struct {
		const char *name;
		int rc;
		const char *submitter, *domain;
		int64_t begin, end;
		const char *uid;
		bool gzip;
		const char *msg;
	} cases[] = {
		{ "google.com!example.com!1725321600!1725407999!001.json.gz", 0, "google.com",
		  "example.com", 1725321600, 1725407999, "001", true, NULL },
		{ "microsoft.com!test.xmox.nl!1673308800!1673395199!133198585438131172.json.gz", 0,
		  "microsoft.com", "test.xmox.nl", 1673308800, 1673395199, "133198585438131172",
		  true, NULL },
		{ "mail.sender.example!example.com!1013662812!1013749130.json.gz", 0,
		  "mail.sender.example", "example.com", 1013662812, 1013749130, "", true, NULL },
		{ "mail.sender.example!example.com!1013662812!1013749130.json", 0,
		  "mail.sender.example", "example.com", 1013662812, 1013749130, "", false, NULL },
		{ "a!b!1!2!x1.gz", 0, "a", "b", 1, 2, "x1", true, NULL },
		{ "a!b!1!2!x1.JSON.GZ", 0, "a", "b", 1, 2, "x1", true, NULL },
		{ "a!b!1!2!x-1.json", ERR_INVALID, 0, 0, 0, 0, 0, 0,
		  "filename: unique-id must be 1*(ALPHA / DIGIT)" },
		{ "a!b!1!2!3!4.json", ERR_INVALID, 0, 0, 0, 0, 0, 0,
		  "filename: more than 5 \"!\"-separated fields" },
		{ "a!b!1.json", ERR_INVALID, 0, 0, 0, 0, 0, 0,
		  "filename: expected submitter!policy-domain!begin!end[!unique-id]" },
		{ "a!b!1x!2.json", ERR_INVALID, 0, 0, 0, 0, 0, 0,
		  "filename: begin and end must be decimal timestamps" },
		{ "!b!1!2.json", ERR_INVALID, 0, 0, 0, 0, 0, 0,
		  "filename: empty or overlong submitter or domain" },
		{ "report.zip", ERR_INVALID, 0, 0, 0, 0, 0, 0,
		  "filename: extension is not .json.gz, .json or .gz" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct naming_filename f;
		struct err e = { 0 };
		int rc = naming_filename_parse(span_cstr(cases[i].name), &f, &e);
		if (rc != cases[i].rc)
			fail_msg("%s: got %d (%s), want %d", cases[i].name, rc, e.msg, cases[i].rc);
		if (rc != 0) {
			if (strcmp(e.msg, cases[i].msg) != 0)
				fail_msg("%s: got \"%s\", want \"%s\"", cases[i].name, e.msg,
				         cases[i].msg);
			continue;
		}
		assert_string_equal(f.submitter, cases[i].submitter);
		assert_string_equal(f.domain, cases[i].domain);
		assert_int_equal(f.begin, cases[i].begin);
		assert_int_equal(f.end, cases[i].end);
		assert_string_equal(f.unique_id, cases[i].uid);
		assert_int_equal(f.gzip, cases[i].gzip);
	}
}

static void
test_subject(void **state)
{
	static const struct {
		const char *subject;
		int rc;
		const char *domain, *submitter, *id;
		bool angle;
	} cases[] = {
		{ "Report Domain: test.xmox.nl Submitter: google.com Report-ID: "
		  "<2022.09.15T00.00.00Z+test.xmox.nl@google.com>",
		  0, "test.xmox.nl", "google.com", "2022.09.15T00.00.00Z+test.xmox.nl@google.com",
		  true },
		/* Microsoft: folded, no <> */
		{ "Report Domain: test.xmox.nl Submitter: microsoft.com Report-ID:\r\n "
		  "133198585438131172+test.xmox.nl",
		  0, "test.xmox.nl", "microsoft.com", "133198585438131172+test.xmox.nl", false },
		/* Mail.ru: folded over four lines */
		{ "Report\r\n Domain: krvtz.net\r\n Submitter: mail.ru\r\n Report-ID: "
		  "<c96d67df-0440-57f7-6e96-c83824d0fdf2@mail.ru>",
		  0, "krvtz.net", "mail.ru", "c96d67df-0440-57f7-6e96-c83824d0fdf2@mail.ru", true },
		/* sys4, LF-only folding, trailing comment */
		{ "Report Domain: sts.example Submitter: sender.example Report-ID:\n "
		  "<2026-11-28T00:00:00Z_idx1_sts.example@sender.example> (part 1)",
		  0, "sts.example", "sender.example",
		  "2026-11-28T00:00:00Z_idx1_sts.example@sender.example", true },
		{ "report domain: a submitter: b report-id: <c@d>", 0, "a", "b", "c@d", true },
		{ "TLS Aggregate Report", ERR_INVALID, 0, 0, 0, 0 },
		{ "Report Domain: a Submitter: b Report-ID: <c@d", ERR_INVALID, 0, 0, 0, 0 },
		{ "Report Domain: a Submitter: b Report-ID:", ERR_INVALID, 0, 0, 0, 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct naming_subject s;
		struct err e = { 0 };
		int rc = naming_subject_parse(span_cstr(cases[i].subject), &s, &e);
		if (rc != cases[i].rc)
			fail_msg("case %zu: got %d (%s), want %d", i, rc, e.msg, cases[i].rc);
		if (rc != 0)
			continue;
		assert_string_equal(s.domain, cases[i].domain);
		assert_string_equal(s.submitter, cases[i].submitter);
		assert_string_equal(s.report_id, cases[i].id);
		assert_int_equal(s.angle, cases[i].angle);
	}
	struct buf b;
	struct err e = { 0 };
	struct naming_subject s;
	buf_init(&b, 1024);
	assert_int_equal(naming_subject("example.com", "mx.example.org",
	                                "20261128T000000Z.example.com.1@mx.example.org", &b, &e),
	                 0);
	assert_string_equal(buf_cstr(&b),
	                    "Report Domain: example.com Submitter: mx.example.org "
	                    "Report-ID: <20261128T000000Z.example.com.1@mx.example.org>");
	assert_int_equal(naming_subject_parse(buf_span(&b), &s, &e), 0);
	assert_string_equal(s.report_id, "20261128T000000Z.example.com.1@mx.example.org");
	buf_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_id),
		cmocka_unit_test(test_filename),
		cmocka_unit_test(test_filename_parse),
		cmocka_unit_test(test_subject),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
