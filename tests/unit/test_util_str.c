/*
 * test_util_str.c - unit tests for src/util/str.h and span.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util/span.h"
#include "util/str.h"

static void
test_utf8_valid(void **state)
{
	static const struct {
		const char *name;
		const char *in;
		size_t len;
		size_t want_prefix;
	} cases[] = {
		{ "ascii", "hello", 5, 5 },
		{ "empty", "", 0, 0 },
		{ "two-byte", "\xc3\xa4x", 3, 3 },
		{ "three-byte euro", "\xe2\x82\xac", 3, 3 },
		{ "four-byte", "\xf0\x9f\x98\x80", 4, 4 },
		{ "overlong 2-byte", "a\xc0\xaf", 3, 1 },
		{ "overlong 3-byte", "\xe0\x80\xaf", 3, 0 },
		{ "surrogate", "ab\xed\xa0\x80", 5, 2 },
		{ "above U+10FFFF", "\xf4\x90\x80\x80", 4, 0 },
		{ "lone continuation", "x\x80", 2, 1 },
		{ "truncated", "ok\xe2\x82", 4, 2 },
		{ "latin-1 byte", "Gr\xfc\xdf", 4, 2 },
		{ "max scalar", "\xf4\x8f\xbf\xbf", 4, 4 },
		{ "bad second byte", "\xc3\x28", 2, 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t got = utf8_valid_prefix(cases[i].in, cases[i].len);
		if (got != cases[i].want_prefix)
			fail_msg("%s: got prefix %zu, want %zu", cases[i].name, got,
			         cases[i].want_prefix);
	}
}

static void
test_utf8_encode(void **state)
{
	char out[4];
	(void)state;
	assert_int_equal(utf8_encode(0x41, out), 1);
	assert_memory_equal(out, "A", 1);
	assert_int_equal(utf8_encode(0xE4, out), 2);
	assert_memory_equal(out, "\xc3\xa4", 2);
	assert_int_equal(utf8_encode(0x20AC, out), 3);
	assert_memory_equal(out, "\xe2\x82\xac", 3);
	assert_int_equal(utf8_encode(0x1F600, out), 4);
	assert_memory_equal(out, "\xf0\x9f\x98\x80", 4);
	assert_int_equal(utf8_encode(0xD800, out), 0);
	assert_int_equal(utf8_encode(0x110000, out), 0);
}

static void
test_numbers(void **state)
{
	static const struct {
		const char *in;
		int want_rc;
		int64_t want;
	} cases[] = {
		{ "0", 0, 0 },
		{ "42", 0, 42 },
		{ "-42", 0, -42 },
		{ "+7", 0, 7 },
		{ "9223372036854775807", 0, INT64_MAX },
		{ "-9223372036854775808", 0, INT64_MIN },
		{ "9223372036854775808", -1, 0 },
		{ "-9223372036854775809", -1, 0 },
		{ "", -1, 0 },
		{ "-", -1, 0 },
		{ "12a", -1, 0 },
		{ " 1", -1, 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = 0;
		int rc = str_to_i64(span_cstr(cases[i].in), &v);
		if (rc != cases[i].want_rc)
			fail_msg("%s: got rc %d, want %d", cases[i].in, rc, cases[i].want_rc);
		if (rc == 0 && v != cases[i].want)
			fail_msg("%s: got %lld, want %lld", cases[i].in, (long long)v,
			         (long long)cases[i].want);
	}
	uint64_t u;
	assert_int_equal(str_to_u64(span_cstr("18446744073709551615"), &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(str_to_u64(span_cstr("18446744073709551616"), &u), -1);
	assert_int_equal(str_to_u64(span_cstr("-1"), &u), -1);
}

static void
test_case_and_copy(void **state)
{
	char s[] = "MiXeD-ÄÖ";
	char dst[5];
	(void)state;
	str_lower(s, strlen(s));
	assert_string_equal(s, "mixed-ÄÖ");
	assert_int_equal(str_casecmp("Example.COM", "example.com"), 0);
	assert_true(str_casecmp("a", "b") < 0);
	assert_true(str_casecmp("b", "A") > 0);
	assert_int_equal(str_copy(dst, sizeof(dst), "abcdefgh"), 8);
	assert_string_equal(dst, "abcd");
	assert_int_equal(str_copy(dst, sizeof(dst), "ab"), 2);
	assert_string_equal(dst, "ab");
}

static void
test_spans(void **state)
{
	(void)state;
	struct span t = span_trim(span_cstr(" \t value \r\n"));
	assert_true(span_eq_cstr(t, "value"));
	assert_true(span_eq_cstr(span_trim(span_cstr("   ")), ""));
	assert_true(span_eq_nocase(SPAN_LIT("Daily"), SPAN_LIT("DAILY")));
	assert_false(span_eq_nocase(SPAN_LIT("Daily"), SPAN_LIT("Dail")));
	assert_true(span_eq_cstr(span_sub(SPAN_LIT("abcdef"), 2, 3), "cde"));
	assert_true(span_eq_cstr(span_sub(SPAN_LIT("abc"), 2, 10), "c"));
	assert_true(span_eq_cstr(span_sub(SPAN_LIT("abc"), 5, 1), ""));
	assert_true(span_starts_with(SPAN_LIT("v=TLSRPTv1;"), SPAN_LIT("v=TLSRPTv1")));
	assert_false(span_starts_with(SPAN_LIT("v=TLS"), SPAN_LIT("v=TLSRPTv1")));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_valid), cmocka_unit_test(test_utf8_encode),
		cmocka_unit_test(test_numbers),    cmocka_unit_test(test_case_and_copy),
		cmocka_unit_test(test_spans),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
