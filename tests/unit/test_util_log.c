/*
 * test_util_log.c - unit tests for src/util/log.h: line format and rate limiting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

/* Runs fn with stderr redirected into a pipe and returns what was written. */
static size_t
capture(void (*fn)(void), char *out, size_t cap)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	int saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	ssize_t n = read(fds[0], out, cap - 1);
	close(fds[0]);
	out[n > 0 ? n : 0] = '\0';
	return n > 0 ? (size_t)n : 0;
}

static void
emit_lines(void)
{
	log_info("report sent policy_domain=%s bytes=%d", "example.com", 2048);
	log_debug("hidden at info level");
	log_error("store unavailable path=%s", "/x");
}

static void
test_format_and_level(void **state)
{
	char out[1024];
	(void)state;
	log_setup("tlsrptd-test", LOG_DEST_STDERR, LOG_LEVEL_INFO);
	capture(emit_lines, out, sizeof(out));
	/* "YYYY-MM-DDThh:mm:ssZ tlsrptd-test[PID]: info: ..." */
	char *l1 = out, *l2 = strchr(out, '\n');
	assert_non_null(l2);
	*l2++ = '\0';
	assert_int_equal(l1[4], '-');
	assert_int_equal(l1[19], 'Z');
	assert_non_null(strstr(l1, " tlsrptd-test["));
	assert_non_null(strstr(l1, "]: info: report sent policy_domain=example.com bytes=2048"));
	assert_non_null(strstr(l2, "]: error: store unavailable path=/x\n"));
	assert_null(strstr(out, "hidden"));
	assert_false(log_enabled(LOG_LEVEL_DEBUG));
	assert_true(log_enabled(LOG_LEVEL_WARN));

	enum log_level lv;
	assert_int_equal(log_level_parse("debug", &lv), 0);
	assert_int_equal(lv, LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("verbose", &lv), -1);
	log_setup("tlsrptd-test", LOG_DEST_NONE, LOG_LEVEL_DEBUG);
	assert_false(log_enabled(LOG_LEVEL_ERROR));
}

static void
test_ratelimit(void **state)
{
	struct log_ratelimit rl = { .interval = 10, .burst = 3 };
	uint64_t supp = 99;
	(void)state;
	assert_true(log_ratelimit_ok(&rl, 100, &supp));
	assert_int_equal(supp, 0);
	assert_true(log_ratelimit_ok(&rl, 101, &supp));
	assert_true(log_ratelimit_ok(&rl, 102, &supp));
	assert_false(log_ratelimit_ok(&rl, 103, &supp));
	assert_false(log_ratelimit_ok(&rl, 109, &supp));
	/* a new interval: allowed again, and told that 2 lines were dropped */
	assert_true(log_ratelimit_ok(&rl, 110, &supp));
	assert_int_equal(supp, 2);
	assert_true(log_ratelimit_ok(&rl, 111, &supp));
	assert_int_equal(supp, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_and_level),
		cmocka_unit_test(test_ratelimit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
