/*
 * test_mime_compose.c - the report message composer: golden bytes, the message parses
 * back to the same attachment, line lengths, encoded display names, input checks.
 *
 * TLSRPT_UPDATE_GOLDEN=1 rewrites tests/data/mail/report.eml (review the diff!).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mail/compose.h"
#include "mail/mime.h"
#include "util/file.h"
#include "util/buf.h"

#define GOLDEN "tests/data/mail/report.eml"

static const char *const to_one[] = { "tlsrpt@example.net", NULL };
static const char *const to_two[] = { "tlsrpt@example.net", "reports@rua-collector.example.org",
	                              NULL };
/* a small gzip stream (any bytes would do; these are a real gzip of "{}") */
static const unsigned char gz[] = { 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
	                            0x00, 0x03, 0xab, 0xae, 0x05, 0x00, 0x43, 0xbf,
	                            0xa6, 0xa3, 0x02, 0x00, 0x00, 0x00 };

static struct compose_report
base_report(void)
{
	struct compose_report r = {
		.from_name = "Example Mail Reporting",
		.from_address = "tlsrpt-noreply@mail.sender.example",
		.to = to_one,
		.date = 1795924800, /* 2026-11-29T04:00:00Z */
		.organization = "Example Sender Inc.",
		.policy_domain = "example.net",
		.submitter = "mail.sender.example",
		.report_id = "20261128.example.net.1@mail.sender.example",
		.window_begin = 1795824000,
		.window_end = 1795910399,
		.filename = "mail.sender.example!example.net!1795824000!1795910399!1.json.gz",
		.gz = gz,
		.gz_len = sizeof gz,
	};
	return r;
}

static void
test_golden(void **state)
{
	(void)state;
	struct compose_report r = base_report();
	struct buf out, want;
	struct err e = { 0 };
	buf_init(&out, 1 << 20);
	buf_init(&want, 1 << 20);
	assert_int_equal(compose_report_message(&r, &out, &e), 0);
	if (getenv("TLSRPT_UPDATE_GOLDEN")) {
		FILE *f = fopen(GOLDEN, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(out.data, 1, out.len, f), out.len);
		fclose(f);
	}
	if (file_read(GOLDEN, &want, NULL) != 0)
		fail_msg("cannot read %s", GOLDEN);
	if (out.len != want.len || memcmp(out.data, want.data, out.len) != 0)
		fail_msg("composed message differs from %s:\ngot:\n%s", GOLDEN, buf_cstr(&out));
	/* deterministic: the same inputs give the same bytes */
	struct buf again;
	buf_init(&again, 1 << 20);
	assert_int_equal(compose_report_message(&r, &again, &e), 0);
	assert_int_equal(again.len, out.len);
	assert_memory_equal(again.data, out.data, out.len);
	/* another report id gives another boundary and Message-ID */
	r.report_id = "20261128.example.net.2@mail.sender.example";
	buf_reset(&again);
	assert_int_equal(compose_report_message(&r, &again, &e), 0);
	assert_null(strstr(buf_cstr(&again), strstr(buf_cstr(&out), "boundary=") + 9));
	buf_clear(&again);
	buf_clear(&out);
	buf_clear(&want);
}

/* Every line ends in CRLF, none exceeds 998 octets, header lines stay within 78. */
static void
check_lines(const struct buf *b)
{
	size_t start = 0;
	bool in_header = true;
	for (size_t i = 0; i < b->len; i++) {
		if (b->data[i] == '\n') {
			if (i == 0 || b->data[i - 1] != '\r')
				fail_msg("bare LF at offset %zu", i);
			size_t len = i - 1 - start;
			if (len > 998)
				fail_msg("line at offset %zu has %zu octets (> 998)", start, len);
			if (in_header && len > 78)
				fail_msg("header line at offset %zu has %zu octets (> 78): %.*s",
				         start, len, (int)len, b->data + start);
			if (len == 0)
				in_header = false;
			start = i + 1;
		} else if (b->data[i] == '\r' && (i + 1 >= b->len || b->data[i + 1] != '\n')) {
			fail_msg("bare CR at offset %zu", i);
		}
	}
	assert_int_equal(start, b->len); /* ends with CRLF */
}

static void
test_parses_back(void **state)
{
	(void)state;
	struct compose_report r = base_report();
	unsigned char big[5000];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (unsigned char)(i * 7 + 3);
	big[0] = 0x1f;
	big[1] = 0x8b;
	r.gz = big;
	r.gz_len = sizeof big;
	r.to = to_two;
	r.from_name = "Rapports TLS \xc3\xa9t\xc3\xa9 \xe2\x80\x94 une tr\xc3\xa8s longue "
	              "d\xc3\xa9nomination d'exp\xc3\xa9"
	              "diteur";
	r.organization = "Soci\xc3\xa9t\xc3\xa9 Exemple";
	struct buf out, v;
	struct err e = { 0 };
	buf_init(&out, 1 << 20);
	buf_init(&v, 4096);
	assert_int_equal(compose_report_message(&r, &out, &e), 0);
	check_lines(&out);

	struct mime_msg m;
	assert_int_equal(mime_parse(&m, buf_span(&out), NULL, &e), 0);
	assert_string_equal(m.parts[0].type, "multipart/report");
	struct mime_report *rep;
	size_t n;
	assert_int_equal(mime_find_reports(&m, 1 << 20, &rep, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rep[0].type, "application/tlsrpt+gzip");
	assert_string_equal(rep[0].filename, r.filename);
	assert_true(rep[0].gzip);
	assert_int_equal(rep[0].data.len, sizeof big);
	assert_memory_equal(rep[0].data.data, big, sizeof big);
	mime_reports_free(rep, n);

	assert_int_equal(mime_subject(&m, &v), 0);
	assert_string_equal(buf_cstr(&v),
	                    "Report Domain: example.net Submitter: mail.sender.example "
	                    "Report-ID: <20261128.example.net.1@mail.sender.example>");
	buf_reset(&v);
	long h = mime_header_find(&m, 0, "From");
	assert_true(h >= 0);
	assert_int_equal(mime_decode_words(m.hdrs[h].value, &v), 0);
	char want[512];
	snprintf(want, sizeof want, "%s <%s>", r.from_name, r.from_address);
	assert_string_equal(buf_cstr(&v), want);
	char dom[64];
	assert_int_equal(mime_from_domain(&m, dom, sizeof dom), 0);
	assert_string_equal(dom, "mail.sender.example");
	buf_reset(&v);
	assert_int_equal(mime_header_get(&m, "To", &v), 0);
	assert_string_equal(buf_cstr(&v), "tlsrpt@example.net, reports@rua-collector.example.org");
	const char *fields[][2] = { { "TLS-Report-Domain", "example.net" },
		                    { "TLS-Report-Submitter", "mail.sender.example" },
		                    { "TLS-Required", "No" },
		                    { "Auto-Submitted", "auto-generated" },
		                    { "MIME-Version", "1.0" },
		                    { "Date", "Sun, 29 Nov 2026 04:00:00 +0000" } };
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		buf_reset(&v);
		assert_int_equal(mime_header_get(&m, fields[i][0], &v), 0);
		assert_string_equal(buf_cstr(&v), fields[i][1]);
	}
	/* the UTF-8 organisation makes the text part base64 UTF-8 */
	assert_string_equal(m.parts[1].type, "text/plain");
	assert_int_equal(m.parts[1].cte, MIME_CTE_BASE64);
	buf_reset(&v);
	assert_int_equal(mime_part_decode(&m, 1, &v), 0);
	assert_non_null(strstr(buf_cstr(&v), "from Soci\xc3\xa9t\xc3\xa9 Exemple\r\n"));
	assert_non_null(strstr(buf_cstr(&v), "Window:        2026-11-28T00:00:00Z to "
	                                     "2026-11-28T23:59:59Z\r\n"));
	mime_msg_clear(&m);
	buf_clear(&out);
	buf_clear(&v);
}

struct bad_case {
	const char *name;
	void (*edit)(struct compose_report *r);
	const char *want;
};

static void
bad_from(struct compose_report *r)
{
	r->from_address = "no-at-sign";
}
static void
inject_name(struct compose_report *r)
{
	r->from_name = "Evil\r\nBcc: victim@example.com";
}
static void
bad_to(struct compose_report *r)
{
	static const char *const to[] = { "ok@example.net", "x@y\r\nBcc: z@w", NULL };
	r->to = to;
}
static void
no_to(struct compose_report *r)
{
	r->to = NULL;
}
static void
idn_domain(struct compose_report *r)
{
	r->policy_domain = "b\xc3\xbc"
	                   "cher.example";
}
static void
bad_id(struct compose_report *r)
{
	r->report_id = "has space";
}
static void
bad_filename(struct compose_report *r)
{
	r->filename = "a\"b.json.gz";
}

static void
test_bad_inputs(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{ "from", bad_from, "report mail: from-address \"no-at-sign\" is not an address" },
		{ "name injection", inject_name,
		  "report mail: from-name must be UTF-8 text of at most 200 bytes without control "
		  "characters" },
		{ "to injection", bad_to,
		  "report mail: recipient \"x@y\r\nBcc: z@w\" is not an address" },
		{ "no to", no_to, "report mail: no recipient" },
		{ "idn", idn_domain, "report mail: policy domain is not an A-label domain" },
		{ "id", bad_id,
		  "report mail: report-id must be printable ASCII without spaces or <>\"\\ (at "
		  "most "
		  "500 bytes)" },
		{ "filename", bad_filename,
		  "report mail: attachment file name must be printable ASCII without spaces or "
		  "\"\\/ (at most 500 bytes)" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct compose_report r = base_report();
		struct buf out;
		struct err e = { 0 };
		buf_init(&out, 1 << 20);
		cases[i].edit(&r);
		int rc = compose_report_message(&r, &out, &e);
		if (rc != ERR_INVALID || strcmp(e.msg, cases[i].want) != 0)
			fail_msg("%s: got %d \"%s\", want ERR_INVALID \"%s\"", cases[i].name, rc,
			         e.msg, cases[i].want);
		assert_int_equal(out.len, 0);
		buf_clear(&out);
	}
	/* output cap */
	struct compose_report r = base_report();
	struct buf small;
	struct err e = { 0 };
	buf_init(&small, 100);
	assert_int_equal(compose_report_message(&r, &small, &e), ERR_TOOBIG);
	assert_string_equal(e.msg, "report mail does not fit in 100 bytes");
	assert_int_equal(small.len, 0);
	buf_clear(&small);
}

static void
test_display_names(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{ "", "From: tlsrpt-noreply@mail.sender.example\r\n" },
		{ "Plain Name", "From: Plain Name <tlsrpt-noreply@mail.sender.example>\r\n" },
		{ "Name, Inc.", "From: \"Name, Inc.\" <tlsrpt-noreply@mail.sender.example>\r\n" },
		{ "Q\"uote\\", "From: \"Q\\\"uote\\\\\" <tlsrpt-noreply@mail.sender.example>\r\n" },
		{ "\xc3\xa9", "From: =?utf-8?B?w6k=?= <tlsrpt-noreply@mail.sender.example>\r\n" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct compose_report r = base_report();
		struct buf out;
		buf_init(&out, 1 << 20);
		r.from_name = cases[i][0];
		assert_int_equal(compose_report_message(&r, &out, NULL), 0);
		size_t n = strlen(cases[i][1]);
		if (out.len < n || memcmp(out.data, cases[i][1], n) != 0)
			fail_msg("name \"%s\": got %.*s, want %s", cases[i][0], (int)n, out.data,
			         cases[i][1]);
		buf_clear(&out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_parses_back),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_display_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
