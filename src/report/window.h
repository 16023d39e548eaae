/*
 * window.h - UTC report windows (RFC 8460 section 4.1).
 *
 * A window is a half-open interval [start, start + length) of UTC seconds aligned to
 * its period: hourly windows start at hh:00:00, daily at 00:00:00, weekly on Monday
 * 00:00:00.  The RFC 8460 date-range of a window runs from start to its last second
 * (start + length - 1), e.g. 2026-11-28T00:00:00Z .. 2026-11-28T23:59:59Z.
 * Pure functions, thread-safe.
 */
#ifndef TLSRPTD_REPORT_WINDOW_H
#define TLSRPTD_REPORT_WINDOW_H

#include <stdint.h>

#include "util/span.h"

enum window_period {
	WINDOW_NEVER = 0, /* reporting disabled: results go to metrics only */
	WINDOW_HOURLY = 1,
	WINDOW_DAILY = 2,
	WINDOW_WEEKLY = 3,
};

/* Length of a window in seconds (0 for WINDOW_NEVER). */
int64_t window_length(enum window_period p);

/* Start of the window of period p that contains t.  p must not be WINDOW_NEVER. */
int64_t window_start(enum window_period p, int64_t t);
/* Start of the window after / before the one starting at start. */
int64_t window_next(enum window_period p, int64_t start);
int64_t window_prev(enum window_period p, int64_t start);
/* Last second of the window starting at start (the RFC 8460 end-datetime). */
int64_t window_last_second(enum window_period p, int64_t start);

/* "hourly", "daily", "weekly", "never". */
const char *window_period_name(enum window_period p);
/*
 * Parses a period the way Stalwart's `send` does: hourly|hour, daily|day,
 * weekly|week, never|disable|false (ASCII case-insensitive).  Returns 0 or -1.
 */
int window_period_parse(struct span s, enum window_period *out);

#endif
