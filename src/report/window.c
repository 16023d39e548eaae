/*
 * window.c - UTC report windows.  See window.h.
 * RFC 8460 section 4.1: reports cover whole UTC periods; weeks start on Monday.
 */
#include "report/window.h"

#include "util/str.h"

static int64_t
floor_to(int64_t t, int64_t unit, int64_t offset)
{
	int64_t x = t - offset;
	int64_t q = x / unit;

	if (x % unit != 0 && x < 0)
		q--;
	return q * unit + offset;
}

int64_t
window_length(enum window_period p)
{
	switch (p) {
	case WINDOW_HOURLY:
		return 3600;
	case WINDOW_DAILY:
		return 86400;
	case WINDOW_WEEKLY:
		return 7 * 86400;
	case WINDOW_NEVER:
		break;
	}
	return 0;
}

int64_t
window_start(enum window_period p, int64_t t)
{
	switch (p) {
	case WINDOW_HOURLY:
		return floor_to(t, 3600, 0);
	case WINDOW_DAILY:
		return floor_to(t, 86400, 0);
	case WINDOW_WEEKLY:
		/* 1970-01-05 (day 4) was a Monday */
		return floor_to(t, 7 * 86400, 4 * 86400);
	case WINDOW_NEVER:
		break;
	}
	return t;
}

int64_t
window_next(enum window_period p, int64_t start)
{
	return start + window_length(p);
}

int64_t
window_prev(enum window_period p, int64_t start)
{
	return start - window_length(p);
}

int64_t
window_last_second(enum window_period p, int64_t start)
{
	return start + window_length(p) - 1;
}

const char *
window_period_name(enum window_period p)
{
	switch (p) {
	case WINDOW_HOURLY:
		return "hourly";
	case WINDOW_DAILY:
		return "daily";
	case WINDOW_WEEKLY:
		return "weekly";
	case WINDOW_NEVER:
		break;
	}
	return "never";
}

int
window_period_parse(struct span s, enum window_period *out)
{
	static const struct {
		const char *name;
		enum window_period p;
	} names[] = {
		{ "hourly", WINDOW_HOURLY }, { "hour", WINDOW_HOURLY },   { "daily", WINDOW_DAILY },
		{ "day", WINDOW_DAILY },     { "weekly", WINDOW_WEEKLY }, { "week", WINDOW_WEEKLY },
		{ "never", WINDOW_NEVER },   { "disable", WINDOW_NEVER }, { "false", WINDOW_NEVER },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (span_eq_nocase(s, span_cstr(names[i].name))) {
			*out = names[i].p;
			return 0;
		}
	}
	return -1;
}
