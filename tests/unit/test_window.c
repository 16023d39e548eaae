/*
 * test_window.c - UTC report windows (src/report/window.c): hourly, daily and weekly
 * (Monday) starts, next/previous, last second, year boundaries, negative times, names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "report/window.h"
#include "util/clock.h"

static int64_t
at(int64_t y, unsigned m, unsigned d, int hh, int mm, int ss)
{
	return time_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
}

static void
test_start(void **state)
{
	static const struct {
		enum window_period p;
		int64_t t;
		int64_t want;
	} cases[] = {
		{ WINDOW_HOURLY, 1795824000 + 3599, 1795824000 },
		{ WINDOW_HOURLY, 1795824000 + 3600, 1795824000 + 3600 },
		{ WINDOW_DAILY, 1795824000, 1795824000 },
		{ WINDOW_DAILY, 1795824000 + 86399, 1795824000 },
		{ WINDOW_DAILY, 1795824000 - 1, 1795824000 - 86400 },
		{ WINDOW_WEEKLY, 0, -3 * 86400 },        /* 1970-01-01 Thu -> Mon 1969-12-29 */
		{ WINDOW_WEEKLY, 4 * 86400, 4 * 86400 }, /* 1970-01-05 is a Monday */
		{ WINDOW_WEEKLY, 4 * 86400 - 1, -3 * 86400 },
		{ WINDOW_HOURLY, -1, -3600 },
		{ WINDOW_DAILY, -1, -86400 },
		{ WINDOW_DAILY, -86400, -86400 },
		{ WINDOW_DAILY, -86401, -2 * 86400 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t got = window_start(cases[i].p, cases[i].t);
		if (got != cases[i].want)
			fail_msg("case %zu: %s start of %lld: got %lld, want %lld", i,
			         window_period_name(cases[i].p), (long long)cases[i].t,
			         (long long)got, (long long)cases[i].want);
	}
}

static void
test_weeks_start_on_monday(void **state)
{
	(void)state;
	/* every day of 1999-12-20 .. 2001-01-10 (over the year boundaries, a leap year) */
	for (int64_t t = at(1999, 12, 20, 12, 0, 0); t < at(2001, 1, 10, 0, 0, 0); t += 86400) {
		int64_t s = window_start(WINDOW_WEEKLY, t);
		if (time_weekday(s) != 0 || s % 86400 != 0 || t - s >= 7 * 86400 || t < s)
			fail_msg("week of %lld starts %lld (weekday %u)", (long long)t,
			         (long long)s, time_weekday(s));
	}
	/* 2026-01-01 is a Thursday: its week starts Monday 2025-12-29 */
	assert_int_equal(window_start(WINDOW_WEEKLY, at(2026, 1, 1, 10, 0, 0)),
	                 at(2025, 12, 29, 0, 0, 0));
	/* 2026-11-29 (Sunday) belongs to the week of Monday 2026-11-23 */
	assert_int_equal(window_start(WINDOW_WEEKLY, at(2026, 11, 29, 23, 59, 59)),
	                 at(2026, 11, 23, 0, 0, 0));
	/* before the epoch too: 1969-12-31 (Wed) -> 1969-12-29 */
	assert_int_equal(window_start(WINDOW_WEEKLY, at(1969, 12, 31, 5, 0, 0)),
	                 at(1969, 12, 29, 0, 0, 0));
}

static void
test_next_prev_last(void **state)
{
	char b[TIME_RFC3339_LEN];
	(void)state;

	int64_t d = at(2026, 12, 31, 0, 0, 0);
	assert_int_equal(window_next(WINDOW_DAILY, d), at(2027, 1, 1, 0, 0, 0));
	assert_int_equal(window_prev(WINDOW_DAILY, at(2027, 1, 1, 0, 0, 0)), d);
	assert_int_equal(window_last_second(WINDOW_DAILY, d), at(2026, 12, 31, 23, 59, 59));
	time_format_rfc3339(window_last_second(WINDOW_DAILY, d), b);
	assert_string_equal(b, "2026-12-31T23:59:59Z");
	/* leap day */
	int64_t leap = at(2028, 2, 28, 0, 0, 0);
	time_format_rfc3339(window_next(WINDOW_DAILY, leap), b);
	assert_string_equal(b, "2028-02-29T00:00:00Z");
	int64_t h = at(2026, 12, 31, 23, 0, 0);
	assert_int_equal(window_next(WINDOW_HOURLY, h), at(2027, 1, 1, 0, 0, 0));
	time_format_rfc3339(window_last_second(WINDOW_HOURLY, h), b);
	assert_string_equal(b, "2026-12-31T23:59:59Z");
	int64_t w = at(2026, 12, 28, 0, 0, 0); /* Monday */
	assert_int_equal(window_next(WINDOW_WEEKLY, w), at(2027, 1, 4, 0, 0, 0));
	assert_int_equal(window_prev(WINDOW_WEEKLY, w), at(2026, 12, 21, 0, 0, 0));
	time_format_rfc3339(window_last_second(WINDOW_WEEKLY, w), b);
	assert_string_equal(b, "2027-01-03T23:59:59Z");
	/* the window of the last second is the window itself; next starts a second later */
	for (int p = WINDOW_HOURLY; p <= WINDOW_WEEKLY; p++) {
		int64_t s = window_start((enum window_period)p, at(2026, 11, 28, 4, 45, 0));
		int64_t last = window_last_second((enum window_period)p, s);
		assert_int_equal(window_start((enum window_period)p, last), s);
		assert_int_equal(window_next((enum window_period)p, s), last + 1);
		assert_int_equal(window_start((enum window_period)p, last + 1), last + 1);
	}
	assert_int_equal(window_length(WINDOW_HOURLY), 3600);
	assert_int_equal(window_length(WINDOW_DAILY), 86400);
	assert_int_equal(window_length(WINDOW_WEEKLY), 604800);
	assert_int_equal(window_length(WINDOW_NEVER), 0);
}

static void
test_names(void **state)
{
	static const struct {
		const char *in;
		int rc;
		enum window_period want;
	} cases[] = {
		{ "hourly", 0, WINDOW_HOURLY }, { "Hour", 0, WINDOW_HOURLY },
		{ "daily", 0, WINDOW_DAILY },   { "DAY", 0, WINDOW_DAILY },
		{ "weekly", 0, WINDOW_WEEKLY }, { "week", 0, WINDOW_WEEKLY },
		{ "never", 0, WINDOW_NEVER },   { "disable", 0, WINDOW_NEVER },
		{ "false", 0, WINDOW_NEVER },   { "monthly", -1, WINDOW_NEVER },
		{ "", -1, WINDOW_NEVER },       { "daily ", -1, WINDOW_NEVER },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum window_period p = WINDOW_NEVER;
		int rc = window_period_parse(span_cstr(cases[i].in), &p);
		if (rc != cases[i].rc || (rc == 0 && p != cases[i].want))
			fail_msg("\"%s\": got rc %d period %d, want %d %d", cases[i].in, rc, p,
			         cases[i].rc, cases[i].want);
	}
	assert_string_equal(window_period_name(WINDOW_HOURLY), "hourly");
	assert_string_equal(window_period_name(WINDOW_DAILY), "daily");
	assert_string_equal(window_period_name(WINDOW_WEEKLY), "weekly");
	assert_string_equal(window_period_name(WINDOW_NEVER), "never");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start),
		cmocka_unit_test(test_weeks_start_on_monday),
		cmocka_unit_test(test_next_prev_last),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
