/*
 * clock.h - an injectable clock and UTC time helpers.
 *
 * Code that needs "now" takes a const struct clock * so tests can pass a fixed or
 * steppable one and get byte-exact output.  A real clock reads CLOCK_REALTIME.  The
 * struct is owned by the caller; a fixed clock may be stepped from one thread while
 * others read it (the value is atomic).
 *
 * Times are int64_t seconds since 1970-01-01T00:00:00Z (UTC, no leap seconds), over
 * the proleptic Gregorian calendar; years 0000..9999 are supported by the formatters.
 */
#ifndef TLSRPTD_UTIL_CLOCK_H
#define TLSRPTD_UTIL_CLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/span.h"

enum clock_kind { CLOCK_KIND_REAL = 0, CLOCK_KIND_FIXED = 1 };

struct clock {
	enum clock_kind kind;
	_Atomic int64_t fixed_ns; /* for CLOCK_KIND_FIXED */
};

void clock_init_real(struct clock *c);
void clock_init_fixed(struct clock *c, int64_t unix_seconds);
/* Moves a fixed clock by delta seconds (no effect on a real clock). */
void clock_advance(struct clock *c, int64_t delta_seconds);
void clock_set(struct clock *c, int64_t unix_seconds);

/* Now in seconds / nanoseconds since the epoch. c == NULL means the real clock. */
int64_t clock_now(const struct clock *c);
int64_t clock_now_ns(const struct clock *c);
/* CLOCK_MONOTONIC in nanoseconds (for intervals; never injected). */
int64_t clock_mono_ns(void);

/* Days since 1970-01-01 for a proleptic Gregorian date (m 1..12, d 1..31). */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d);
/* The inverse of time_days_from_civil. */
void time_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* Day of week of a time: 0 = Monday ... 6 = Sunday. */
unsigned time_weekday(int64_t t);

/* "YYYY-MM-DDThh:mm:ssZ" (20 chars + NUL).  Returns 0, or -1 if the year is not 0..9999. */
#define TIME_RFC3339_LEN 21
int time_format_rfc3339(int64_t t, char out[TIME_RFC3339_LEN]);

/* RFC 5322 date-time "Sun, 29 Nov 2026 04:35:09 +0000" (31 chars + NUL). */
#define TIME_RFC5322_LEN 32
int time_format_rfc5322(int64_t t, char out[TIME_RFC5322_LEN]);

/* What time_parse_rfc3339() found. */
struct time_parsed {
	int64_t t;          /* seconds since the epoch, in UTC (offset applied) */
	int32_t nanos;      /* fractional part, truncated to nanoseconds */
	int32_t offset_min; /* offset east of UTC in minutes; 0 for Z or none */
	bool has_offset;    /* false when the time zone was missing (read as UTC) */
	bool leap_second;   /* seconds field was 60 (read as :59) */
};

enum {
	TIME_PARSE_ALLOW_NO_TZ = 1, /* accept "2023-01-10T00:00:00" (Microsoft) */
	TIME_PARSE_ALLOW_SPACE = 2, /* accept ' ' as date/time separator (RFC 3339 note) */
};

/*
 * Parses an RFC 3339 section 5.6 date-time from the whole of s: date, 'T' or 't',
 * time, optional fraction, then 'Z'/'z' or +hh:mm / -hh:mm.  flags loosen the
 * grammar as named above.  Returns 0 and fills *out, or -1 (nothing else to report:
 * the caller knows what the field was).
 */
int time_parse_rfc3339(struct span s, unsigned flags, struct time_parsed *out);

#endif
