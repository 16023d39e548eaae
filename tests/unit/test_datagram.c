/*
 * test_datagram.c - the libtlsrpt datagram decoder: every key, any order and spacing,
 * escapes, the non-UTF-8 rule, caps, and every rejection reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "collector/datagram.h"

static struct datagram_decoder dec;
static struct datagram dg;

static int
setup(void **state)
{
	(void)state;
	datagram_decoder_init(&dec);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	datagram_decoder_clear(&dec);
	return 0;
}

static enum dg_reject
decode(const char *s)
{
	return datagram_decode(&dec, s, strlen(s), &dg);
}

static void
assert_span(struct span got, const char *want)
{
	if (got.p == NULL || got.len != strlen(want) || memcmp(got.p, want, got.len) != 0) {
		print_error("got \"%.*s\", want \"%s\"\n", (int)got.len, got.p ? got.p : "", want);
		fail();
	}
}

struct reject_case {
	const char *name;
	const char *input;
	size_t len; /* 0: strlen */
	enum dg_reject want;
};

#define OKP "\"policies\":[{\"policy-type\":9,\"t\":0,\"f\":0}]"

static const struct reject_case cases[] = {
	{ "empty", "", 0, DG_REJECT_EMPTY },
	{ "blank", "  \n", 0, DG_REJECT_EMPTY },
	{ "invalid json", "{not json", 0, DG_REJECT_SYNTAX },
	{ "number", "5", 0, DG_REJECT_NOT_OBJECT },
	{ "array", "[1,{\"a\":2}]", 0, DG_REJECT_NOT_OBJECT },
	{ "string", "\"x\"", 0, DG_REJECT_NOT_OBJECT },
	{ "policies not objects", "{\"d\":\"x\",\"pr\":\"y\",\"policies\":[5]}", 0,
	  DG_REJECT_TYPE },
	{ "policies not array", "{\"d\":\"x\",\"pr\":\"y\",\"policies\":{}}", 0, DG_REJECT_TYPE },
	{ "d number", "{\"d\":5,\"pr\":\"y\"," OKP "}", 0, DG_REJECT_TYPE },
	{ "d missing", "{\"pr\":\"y\"," OKP "}", 0, DG_REJECT_MISSING },
	{ "pr missing", "{\"d\":\"x\"," OKP "}", 0, DG_REJECT_MISSING },
	{ "d empty", "{\"d\":\"\",\"pr\":\"y\"," OKP "}", 0, DG_REJECT_MISSING },
	{ "policies empty", "{\"d\":\"x\",\"pr\":\"y\",\"policies\":[]}", 0, DG_REJECT_MISSING },
	{ "policy-type missing", "{\"d\":\"x\",\"pr\":\"y\",\"policies\":[{\"f\":0}]}", 0,
	  DG_REJECT_MISSING },
	{ "policy-type 7", "{\"d\":\"x\",\"pr\":\"y\",\"policies\":[{\"policy-type\":7}]}", 0,
	  DG_REJECT_POLICY_TYPE },
	{ "policy-type string", "{\"d\":\"x\",\"pr\":\"y\",\"policies\":[{\"policy-type\":\"2\"}]}",
	  0, DG_REJECT_TYPE },
	{ "policy-type float", "{\"d\":\"x\",\"pr\":\"y\",\"policies\":[{\"policy-type\":2.0}]}", 0,
	  DG_REJECT_TYPE },
	{ "result code 200",
	  "{\"d\":\"x\",\"pr\":\"y\",\"policies\":[{\"policy-type\":2,\"failure-details\":[{\"c\":"
	  "200}]}]}",
	  0, DG_REJECT_RESULT },
	{ "detail without c",
	  "{\"d\":\"x\",\"pr\":\"y\",\"policies\":[{\"policy-type\":2,\"failure-details\":[{\"s\":"
	  "\"1\"}]}]}",
	  0, DG_REJECT_MISSING },
	{ "f 2", "{\"d\":\"x\",\"pr\":\"y\",\"policies\":[{\"policy-type\":2,\"f\":2}]}", 0,
	  DG_REJECT_TYPE },
	{ "dpv 2", "{\"dpv\":\"2\",\"d\":\"x\",\"pr\":\"y\"," OKP "}", 0, DG_REJECT_DPV },
	{ "dpv number 2", "{\"dpv\":2,\"d\":\"x\",\"pr\":\"y\"," OKP "}", 0, DG_REJECT_DPV },
	{ "dpv null", "{\"dpv\":null,\"d\":\"x\",\"pr\":\"y\"," OKP "}", 0, DG_REJECT_DPV },
	{ "latin1 in d", "{\"d\":\"x\xe9\",\"pr\":\"y\"," OKP "}", 0, DG_REJECT_UTF8 },
	{ "nul escape in pr", "{\"d\":\"x\",\"pr\":\"y\\u0000\"," OKP "}", 0, DG_REJECT_UTF8 },
	{ "lone surrogate in d", "{\"d\":\"\\ud800\",\"pr\":\"y\"," OKP "}", 0, DG_REJECT_UTF8 },
	{ "raw control char", "{\"d\":\"x\ty\",\"pr\":\"y\"," OKP "}", 0, DG_REJECT_SYNTAX },
	{ "bad escape", "{\"d\":\"\\x\",\"pr\":\"y\"," OKP "}", 0, DG_REJECT_SYNTAX },
	{ "trailing garbage", "{\"d\":\"x\",\"pr\":\"y\"," OKP "} x", 0, DG_REJECT_SYNTAX },
	{ "trailing comma", "{\"d\":\"x\",\"pr\":\"y\"," OKP ",}", 0, DG_REJECT_SYNTAX },
	{ "trailing comma array", "{\"d\":\"x\",\"pr\":\"y\",\"policies\":[{\"policy-type\":9},]}",
	  0, DG_REJECT_SYNTAX },
	{ "truncated", "{\"d\":\"x\",\"pr\":\"y\",\"policies\":[{\"policy-type\":9", 0,
	  DG_REJECT_SYNTAX },
	{ "duplicate policies", "{\"d\":\"x\",\"pr\":\"y\"," OKP "," OKP "}", 0,
	  DG_REJECT_DUPLICATE },
	{ "deep unknown", "{\"z\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]],\"d\":\"x\"}", 0,
	  DG_REJECT_CAPS },
	{ "nul byte inside", "{\"d\":\"x\0\",\"pr\":\"y\"}", 19, DG_REJECT_SYNTAX },
};

static void
test_rejections(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct reject_case *c = &cases[i];
		size_t len = c->len ? c->len : strlen(c->input);
		enum dg_reject got = datagram_decode(&dec, c->input, len, &dg);
		if (got != c->want) {
			print_error("%s: got %s, want %s\n", c->name, datagram_reject_name(got),
			            datagram_reject_name(c->want));
			fail();
		}
	}
}

static void
test_oversize_and_caps(void **state)
{
	static char big[DG_MAX_SIZE + 2];
	char many[8192];
	size_t o = 0;

	(void)state;
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 1] = '}';
	assert_int_equal(datagram_decode(&dec, big, sizeof(big), &dg), DG_REJECT_OVERSIZE);

	o += (size_t)snprintf(many + o, sizeof(many) - o,
	                      "{\"d\":\"x\",\"pr\":\"y\",\"policies\":[");
	for (int i = 0; i < DG_MAX_POLICIES + 1; i++)
		o += (size_t)snprintf(many + o, sizeof(many) - o, "%s{\"policy-type\":9}",
		                      i ? "," : "");
	snprintf(many + o, sizeof(many) - o, "]}");
	assert_int_equal(decode(many), DG_REJECT_CAPS);
}

static void
test_full_decode(void **state)
{
	(void)state;
	/* any key order and spacing, unknown keys, escapes, dpv missing */
	assert_int_equal(
	        decode(" { \"policies\" : [ { \"f\" : 1 , \"t\" : 2 , \"x-new\" : {\"a\":[1,2.5e3,"
	               "true,null]}, \"failure-details\" : [ {\"f\":\"code\",\"c\":204, "
	               "\"s\":\"192.0.2.1\",\"n\":\"mx.example\",\"h\":\"ehlo\\r\\nline2\","
	               "\"r\":\"2001:db8::1\",\"a\":\"\\u00e4\\ud83d\\ude00\"} , {\"c\":201} ], "
	               "\"mx-host\":[\"*.example\"], \"policy-string\" : [\"version: STSv1\", "
	               "\"mode: enforce\"], \"policy-domain\":\"Pol.Example\", \"policy-type\":2 "
	               "} ] , \"pr\" : \"v=TLSRPTv1; rua=mailto:a@b\" , \"d\" : \"Sub.Example.\", "
	               "\"ts\":1764374400, \"rpt\":true } \n"),
	        DG_OK);
	assert_span(dg.domain, "sub.example");
	assert_span(dg.record, "v=TLSRPTv1; rua=mailto:a@b");
	assert_true(dg.has_ts);
	assert_int_equal(dg.ts, 1764374400);
	assert_true(dg.report_delivery);
	assert_int_equal(dg.npolicies, 1);
	assert_int_equal(dg.policy[0].type, DG_POLICY_STS);
	assert_span(dg.policy[0].domain, "Pol.Example");
	assert_int_equal(dg.policy[0].nstrings, 2);
	assert_span(dg.strings[dg.policy[0].first_string + 1], "mode: enforce");
	assert_int_equal(dg.policy[0].nmx, 1);
	assert_span(dg.strings[dg.policy[0].first_mx], "*.example");
	assert_true(dg.policy[0].failed);
	assert_int_equal(dg.policy[0].ndetails, 2);
	assert_int_equal(dg.detail[0].code, 204);
	assert_span(dg.detail[0].field[DG_F_SENDING_IP], "192.0.2.1");
	assert_span(dg.detail[0].field[DG_F_RECEIVING_MX], "mx.example");
	assert_span(dg.detail[0].field[DG_F_HELO], "ehlo\r\nline2");
	assert_span(dg.detail[0].field[DG_F_RECEIVING_IP], "2001:db8::1");
	assert_span(dg.detail[0].field[DG_F_ADDITIONAL], "\xc3\xa4\xf0\x9f\x98\x80");
	assert_span(dg.detail[0].field[DG_F_REASON], "code");
	assert_int_equal(dg.detail[1].code, 201);
	assert_null(dg.detail[1].field[DG_F_SENDING_IP].p);
}

static void
test_defaults(void **state)
{
	(void)state;
	/* no dpv, no policy-domain (defaults to d), no f (failed iff details), dpv number 1 */
	assert_int_equal(
	        decode("{\"dpv\":1,\"d\":\"NoPolicy.Example.\",\"pr\":\"r\",\"policies\":"
	               "[{\"policy-type\":9},{\"policy-type\":1,\"failure-details\":[{\"c\":"
	               "305}]}]}"),
	        DG_OK);
	assert_span(dg.domain, "nopolicy.example");
	assert_span(dg.policy[0].domain, "nopolicy.example");
	assert_false(dg.policy[0].failed);
	assert_true(dg.policy[1].failed);
	assert_false(dg.has_ts);
	assert_false(dg.report_delivery);
}

static void
test_utf8_repair(void **state)
{
	(void)state;
	/* Latin-1 in the free-text fields h, a, f is repaired; U+0000 too */
	assert_int_equal(decode("{\"d\":\"x\",\"pr\":\"y\",\"policies\":[{\"policy-type\":9,"
	                        "\"failure-details\":[{\"c\":201,\"h\":\"Gr\xfc\xdf Gott\","
	                        "\"a\":\"\\u0000z\",\"f\":\"\\udc00\xc3\"}],\"t\":1,\"f\":1}]}"),
	                 DG_OK);
	assert_span(dg.detail[0].field[DG_F_HELO], "Gr\xef\xbf\xbd\xef\xbf\xbd Gott");
	assert_span(dg.detail[0].field[DG_F_ADDITIONAL], "\xef\xbf\xbdz");
	assert_span(dg.detail[0].field[DG_F_REASON], "\xef\xbf\xbd\xef\xbf\xbd");
	/* but not in n (a host name) */
	assert_int_equal(decode("{\"d\":\"x\",\"pr\":\"y\",\"policies\":[{\"policy-type\":9,"
	                        "\"failure-details\":[{\"c\":201,\"n\":\"Gr\xfc\"}]}]}"),
	                 DG_REJECT_UTF8);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(datagram_reject_name(DG_REJECT_NOT_OBJECT), "not_object");
	assert_string_equal(datagram_reject_name((enum dg_reject)999), "unknown");
	assert_string_equal(datagram_result_name(306), "dane-required");
	assert_null(datagram_result_name(207));
	assert_int_equal(datagram_result_code(span_cstr("tlsa-invalid")), 304);
	assert_string_equal(datagram_policy_type_name(9), "no-policy-found");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rejections),  cmocka_unit_test(test_oversize_and_caps),
		cmocka_unit_test(test_full_decode), cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_utf8_repair), cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
