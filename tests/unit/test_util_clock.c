/*
 * test_util_clock.c - unit tests for src/util/clock.h: calendar, formats, RFC 3339.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "util/clock.h"

static void
test_civil_roundtrip(void **state)
{
	(void)state;
	assert_int_equal(time_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(time_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(time_days_from_civil(1969, 12, 31), -1);
	/* every day from 1600 to 2400 converts back to itself, compared with timegm() */
	for (int64_t d = time_days_from_civil(1600, 1, 1); d < time_days_from_civil(2400, 1, 1);
	     d += 13) {
		int64_t y;
		unsigned m, dd;
		time_civil_from_days(d, &y, &m, &dd);
		if (time_days_from_civil(y, m, dd) != d)
			fail_msg("day %lld: got %lld-%u-%u which maps back to %lld", (long long)d,
			         (long long)y, m, dd, (long long)time_days_from_civil(y, m, dd));
		struct tm tm = { 0 };
		tm.tm_year = (int)y - 1900;
		tm.tm_mon = (int)m - 1;
		tm.tm_mday = (int)dd;
		if (timegm(&tm) != d * 86400)
			fail_msg("day %lld: timegm says %lld", (long long)d,
			         (long long)timegm(&tm));
	}
}

static void
test_weekday(void **state)
{
	(void)state;
	assert_int_equal(time_weekday(0), 3);          /* 1970-01-01 Thursday */
	assert_int_equal(time_weekday(4 * 86400), 0);  /* 1970-01-05 Monday */
	assert_int_equal(time_weekday(1795824000), 5); /* 2026-11-28 Saturday */
	assert_int_equal(time_weekday(-1), 2);         /* 1969-12-31 Wednesday */
}

static void
test_format(void **state)
{
	char b[TIME_RFC3339_LEN], m[TIME_RFC5322_LEN];
	(void)state;
	assert_int_equal(time_format_rfc3339(1795824000, b), 0);
	assert_string_equal(b, "2026-11-28T00:00:00Z");
	assert_int_equal(time_format_rfc3339(1795824000 + 86399, b), 0);
	assert_string_equal(b, "2026-11-28T23:59:59Z");
	assert_int_equal(time_format_rfc3339(-1, b), 0);
	assert_string_equal(b, "1969-12-31T23:59:59Z");
	assert_int_equal(time_format_rfc3339(253402300800LL, b), -1); /* year 10000 */
	assert_int_equal(time_format_rfc5322(1795824000 + 4 * 3600 + 35 * 60 + 9, m), 0);
	assert_string_equal(m, "Sat, 28 Nov 2026 04:35:09 +0000");
}

static void
test_parse(void **state)
{
	static const struct {
		const char *in;
		unsigned flags;
		int want_rc;
		int64_t want_t;
		int32_t want_nanos;
		int has_offset;
	} cases[] = {
		{ "2026-11-28T00:00:00Z", 0, 0, 1795824000, 0, 1 },
		{ "2026-11-28t00:00:00z", 0, 0, 1795824000, 0, 1 },
		{ "2026-11-28T01:30:00+01:30", 0, 0, 1795824000, 0, 1 },
		{ "2026-11-27T19:00:00-05:00", 0, 0, 1795824000, 0, 1 },
		{ "2026-11-28T00:00:00.250Z", 0, 0, 1795824000, 250000000, 1 },
		{ "2026-11-28T00:00:00.123456789123Z", 0, 0, 1795824000, 123456789, 1 },
		{ "2023-01-10T00:00:00", TIME_PARSE_ALLOW_NO_TZ, 0, 1673308800, 0, 0 },
		{ "2023-01-10T00:00:00", 0, -1, 0, 0, 0 },
		{ "2023-01-10 00:00:00Z", TIME_PARSE_ALLOW_SPACE, 0, 1673308800, 0, 1 },
		{ "2023-01-10 00:00:00Z", 0, -1, 0, 0, 0 },
		{ "2024-02-29T00:00:00Z", 0, 0, 1709164800, 0, 1 },
		{ "2023-02-29T00:00:00Z", 0, -1, 0, 0, 0 },
		{ "2016-12-31T23:59:60Z", 0, 0, 1483228799, 0, 1 },
		{ "April fools", 0, -1, 0, 0, 0 },
		{ "2026-13-01T00:00:00Z", 0, -1, 0, 0, 0 },
		{ "2026-11-28T24:00:00Z", 0, -1, 0, 0, 0 },
		{ "2026-11-28T00:00:00.Z", 0, -1, 0, 0, 0 },
		{ "2026-11-28T00:00:00Zjunk", 0, -1, 0, 0, 0 },
		{ "2026-11-28T00:00:00+0100", 0, -1, 0, 0, 0 },
		{ "2026-11-28", 0, -1, 0, 0, 0 },
		{ "", 0, -1, 0, 0, 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct time_parsed p;
		memset(&p, 0, sizeof(p));
		int rc = time_parse_rfc3339(span_cstr(cases[i].in), cases[i].flags, &p);
		if (rc != cases[i].want_rc)
			fail_msg("%s: got rc %d, want %d", cases[i].in, rc, cases[i].want_rc);
		if (rc != 0)
			continue;
		if (p.t != cases[i].want_t || p.nanos != cases[i].want_nanos ||
		    p.has_offset != (cases[i].has_offset != 0))
			fail_msg(
			        "%s: got t=%lld nanos=%d offset=%d, want t=%lld nanos=%d offset=%d",
			        cases[i].in, (long long)p.t, p.nanos, p.has_offset,
			        (long long)cases[i].want_t, cases[i].want_nanos,
			        cases[i].has_offset);
	}
}

static void
test_clock(void **state)
{
	struct clock c;
	(void)state;
	clock_init_fixed(&c, 1795824000);
	assert_int_equal(clock_now(&c), 1795824000);
	clock_advance(&c, 3600);
	assert_int_equal(clock_now(&c), 1795827600);
	clock_set(&c, 5);
	assert_int_equal(clock_now_ns(&c), 5000000000LL);
	clock_init_real(&c);
	int64_t now = clock_now(&c);
	assert_true(now > 1700000000);
	assert_true(clock_now(NULL) - now < 5);
	int64_t m1 = clock_mono_ns();
	assert_true(clock_mono_ns() >= m1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_civil_roundtrip), cmocka_unit_test(test_weekday),
		cmocka_unit_test(test_format),          cmocka_unit_test(test_parse),
		cmocka_unit_test(test_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
