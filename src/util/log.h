/*
 * log.h - one line per event, key=value, to stderr or syslog.
 *
 *   log_info("report sent policy_domain=%s rua=%s bytes=%zu", d, rua, n);
 *
 * Lines go to stderr as "2026-11-29T04:00:00Z tlsrptd[123]: info: <text>" or to
 * syslog(3) with the matching priority.  The configuration (destination, level,
 * program name) is process-wide and set once at start-up by main(); logging itself is
 * thread-safe (one write(2) per line).  Secrets are never passed to these functions.
 */
#ifndef TLSRPTD_UTIL_LOG_H
#define TLSRPTD_UTIL_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN = 1,
	LOG_LEVEL_INFO = 2,
	LOG_LEVEL_DEBUG = 3,
};

enum log_dest {
	LOG_DEST_STDERR = 0,
	LOG_DEST_SYSLOG = 1,
	LOG_DEST_NONE = 2, /* for tests and benchmarks */
};

/* Called once by main() before threads start.  ident is copied. */
void log_setup(const char *ident, enum log_dest dest, enum log_level level);
/* Parses "error|warn|info|debug".  Returns 0 or -1. */
int log_level_parse(const char *s, enum log_level *out);
/* True when a message at level would be written (to skip costly formatting). */
bool log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/*
 * Rate limiting for noisy events (bad datagrams, ...): at most `burst` lines per
 * `interval` seconds; the first line after a quiet period says how many were
 * suppressed.  The caller owns the struct (zero-initialise it, then set the limits)
 * and serialises access to it.
 */
struct log_ratelimit {
	int64_t interval;     /* seconds */
	unsigned burst;       /* lines allowed per interval */
	int64_t window_start; /* internal */
	unsigned used;        /* internal */
	uint64_t suppressed;  /* internal: lines dropped since the last one written */
};

/*
 * Returns true when a line may be written at time now (seconds).  *suppressed_out
 * receives the number of lines dropped before this one (then reset to 0).
 */
bool log_ratelimit_ok(struct log_ratelimit *rl, int64_t now, uint64_t *suppressed_out);

#endif
