/*
 * test_ratelimit.c - unit tests for src/inbound/ratelimit.h (429 of the upload endpoint)
 * and its use by http_upload_handle(): bursts, refill, Retry-After values, clients
 * independent of each other, the bounded table with eviction, long keys; all on an
 * injected fixed clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inbound/http_upload.h"
#include "inbound/ratelimit.h"

#define T0 ((int64_t)1767225600) /* 2026-01-01T00:00:00Z */
#define MS ((int64_t)1000000)

static void
step_ms(struct clock *c, int64_t ms)
{
	c->fixed_ns += ms * MS;
}

/* Takes n requests of client; returns how many were allowed, *last = last refusal. */
static unsigned
take_n(struct ratelimit *rl, const char *client, unsigned n, unsigned *last)
{
	unsigned allowed = 0;

	*last = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned w = ratelimit_take(rl, client);

		if (w == 0)
			allowed++;
		else
			*last = w;
	}
	return allowed;
}

struct burst_case {
	const char *name;
	unsigned per_minute, burst, requests;
	unsigned want_allowed, want_retry;
};

static void
test_bursts(void **state)
{
	static const struct burst_case cases[] = {
		{ "600/min burst 60", 600, 60, 100, 60, 1 },
		{ "1/min burst 5", 1, 5, 12, 5, 60 },
		{ "1/min burst 1", 1, 1, 3, 1, 60 },
		{ "burst 0 is 1", 60, 0, 2, 1, 1 },
		{ "per_minute 0 is 1", 0, 2, 3, 2, 60 },
		{ "7/min burst 3", 7, 3, 4, 3, 9 }, /* 60/7 = 8.57 s: rounded up */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct burst_case *c = &cases[i];
		struct clock clk;
		unsigned last;

		clock_init_fixed(&clk, T0);
		struct ratelimit *rl = ratelimit_new(c->per_minute, c->burst, 0, &clk);
		unsigned got = take_n(rl, "192.0.2.1", c->requests, &last);
		if (got != c->want_allowed || last != c->want_retry)
			fail_msg("%s: got %u allowed, retry %u; want %u, %u", c->name, got, last,
			         c->want_allowed, c->want_retry);
		ratelimit_free(rl);
	}
}

static void
test_refill(void **state)
{
	struct clock clk;
	unsigned last;
	(void)state;

	clock_init_fixed(&clk, T0);
	struct ratelimit *rl = ratelimit_new(60, 3, 0, &clk); /* one token per second */
	assert_int_equal(take_n(rl, "a", 3, &last), 3);
	assert_int_equal(ratelimit_take(rl, "a"), 1);
	step_ms(&clk, 999);
	assert_int_equal(ratelimit_take(rl, "a"), 1); /* 1 ms left: still "1 s" */
	step_ms(&clk, 1);
	assert_int_equal(ratelimit_take(rl, "a"), 0);
	assert_int_equal(ratelimit_take(rl, "a"), 1);
	/* a long pause refills to the burst, never beyond */
	clock_advance(&clk, 3600);
	assert_int_equal(take_n(rl, "a", 10, &last), 3);
	assert_int_equal(last, 1);
	/* a refused request costs nothing: 1 s later exactly one is allowed */
	clock_advance(&clk, 1);
	assert_int_equal(take_n(rl, "a", 5, &last), 1);
	ratelimit_free(rl);
}

static void
test_retry_after_counts_down(void **state)
{
	struct clock clk;
	unsigned last;
	(void)state;

	clock_init_fixed(&clk, T0);
	struct ratelimit *rl = ratelimit_new(1, 2, 0, &clk);
	assert_int_equal(take_n(rl, "a", 2, &last), 2);
	assert_int_equal(ratelimit_take(rl, "a"), 60);
	clock_advance(&clk, 30);
	assert_int_equal(ratelimit_take(rl, "a"), 30);
	clock_advance(&clk, 29);
	assert_int_equal(ratelimit_take(rl, "a"), 1);
	clock_advance(&clk, 1);
	assert_int_equal(ratelimit_take(rl, "a"), 0);
	assert_int_equal(ratelimit_take(rl, "a"), 60);
	ratelimit_free(rl);
}

static void
test_clients_independent(void **state)
{
	struct clock clk;
	unsigned last;
	(void)state;

	clock_init_fixed(&clk, T0);
	struct ratelimit *rl = ratelimit_new(1, 2, 0, &clk);
	assert_int_equal(take_n(rl, "192.0.2.1", 5, &last), 2);
	assert_int_equal(take_n(rl, "192.0.2.2", 5, &last), 2);
	assert_int_equal(take_n(rl, "2001:db8::1", 5, &last), 2);
	assert_int_equal(ratelimit_clients(rl), 3);
	ratelimit_free(rl);
}

static void
test_bounded_table(void **state)
{
	struct clock clk;
	unsigned last;
	char ip[32];
	(void)state;

	clock_init_fixed(&clk, T0);
	/* 8 slots: the probe window is the whole table */
	struct ratelimit *rl = ratelimit_new(1, 1, 8, &clk);
	for (int i = 0; i < 8; i++) {
		snprintf(ip, sizeof(ip), "198.51.100.%d", i);
		assert_int_equal(ratelimit_take(rl, ip), 0);
		step_ms(&clk, 10);
	}
	assert_int_equal(ratelimit_clients(rl), 8);
	for (int i = 0; i < 8; i++) {
		snprintf(ip, sizeof(ip), "198.51.100.%d", i);
		assert_int_equal(ratelimit_take(rl, ip), 60);
	}
	/* 1000 new clients never grow the table past its cap */
	for (int i = 0; i < 1000; i++) {
		snprintf(ip, sizeof(ip), "203.0.113.%d/%d", i % 256, i);
		assert_int_equal(ratelimit_take(rl, ip), 0);
		step_ms(&clk, 1);
	}
	assert_int_equal(ratelimit_clients(rl), 8);
	/* the most recent client is still tracked and limited */
	assert_int_equal(take_n(rl, "203.0.113.231/999", 2, &last), 0);
	assert_int_equal(last, 60);
	/* the default table holds RATELIMIT_DEFAULT_CLIENTS addresses at most */
	struct ratelimit *big = ratelimit_new(600, 60, 0, &clk);
	for (int i = 0; i < 3 * RATELIMIT_DEFAULT_CLIENTS; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		ratelimit_take(big, ip);
	}
	assert_true(ratelimit_clients(big) <= RATELIMIT_DEFAULT_CLIENTS);
	assert_true(ratelimit_clients(big) > RATELIMIT_DEFAULT_CLIENTS / 2);
	ratelimit_free(big);
	ratelimit_free(rl);
	ratelimit_free(NULL);
}

static void
test_long_keys(void **state)
{
	struct clock clk;
	char a[200], b[200];
	(void)state;

	clock_init_fixed(&clk, T0);
	struct ratelimit *rl = ratelimit_new(1, 1, 0, &clk);
	memset(a, 'x', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	memcpy(b, a, sizeof(b));
	b[150] = 'y'; /* differs after RATELIMIT_KEY_MAX bytes: the same client */
	assert_int_equal(ratelimit_take(rl, a), 0);
	assert_int_equal(ratelimit_take(rl, b), 60);
	assert_int_equal(ratelimit_take(rl, ""), 0);
	ratelimit_free(rl);
}

/* The endpoint's precheck answers 429 with Retry-After; the handler never counts. */
static void
test_upload_429(void **state)
{
	struct clock clk;
	struct ingest in = { 0 };
	(void)state;

	clock_init_fixed(&clk, T0);
	struct ratelimit *rl = ratelimit_new(1, 1, 0, &clk);
	struct http_upload u = { .in = &in, .path = "/tlsrpt", .limit = rl };
	struct httpd_request req = {
		.method = "POST", .path = "/tlsrpt", .remote = "192.0.2.7", .body = { "", 0 }
	};
	for (int i = 0; i < 3; i++) {
		struct httpd_response resp = { 0 };

		buf_init(&resp.body, 4096);
		if (i == 0) {
			assert_false(http_upload_precheck(&u, &req, &resp));
			assert_int_equal(resp.n_headers, 0);
			http_upload_handle(&u, &req, &resp);
			assert_int_equal(resp.status, 400); /* empty body: no store touched */
		} else {
			assert_true(http_upload_precheck(&u, &req, &resp));
			assert_int_equal(resp.status, 429);
			assert_int_equal(resp.n_headers, 1);
			assert_string_equal(resp.hname[0], "Retry-After");
			assert_string_equal(resp.hvalue[0], i == 1 ? "59" : "58");
			assert_string_equal(
			        buf_cstr(&resp.body),
			        i == 1 ? "too many uploads from 192.0.2.7: retry in 59 s\n"
			               : "too many uploads from 192.0.2.7: retry in 58 s\n");
			free(resp.hname[0]);
			free(resp.hvalue[0]);
		}
		buf_clear(&resp.body);
		clock_advance(&clk, 1);
	}
	/* the handler itself does not count: over the limit, it still answers */
	struct httpd_response resp = { 0 };
	buf_init(&resp.body, 4096);
	http_upload_handle(&u, &req, &resp);
	assert_int_equal(resp.status, 400);
	buf_clear(&resp.body);
	/* other paths are not counted */
	req.path = "/other";
	buf_init(&resp.body, 4096);
	assert_false(http_upload_precheck(&u, &req, &resp));
	buf_clear(&resp.body);
	ratelimit_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bursts),
		cmocka_unit_test(test_refill),
		cmocka_unit_test(test_retry_after_counts_down),
		cmocka_unit_test(test_clients_independent),
		cmocka_unit_test(test_bounded_table),
		cmocka_unit_test(test_long_keys),
		cmocka_unit_test(test_upload_429),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
