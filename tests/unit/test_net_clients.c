/*
 * test_net_clients.c - argument checks of the HTTP and SMTP clients, which refuse bad
 * input before any connection is made: URL schemes, Content-Type, envelope addresses,
 * host and EHLO names; outcome names and defaults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "net/http_client.h"
#include "net/net_curl.h"
#include "net/smtp_client.h"

static int
setup(void **state)
{
	(void)state;
	return net_global_init(NULL);
}

static int
teardown(void **state)
{
	(void)state;
	net_global_cleanup();
	return 0;
}

static void
test_http_refuses(void **state)
{
	static const struct {
		const char *url;
		const char *ctype;
		bool allow_http;
		const char *want;
	} cases[] = {
		{ "ftp://x.example/r", "application/tlsrpt+gzip", false,
		  "ftp://x.example/r: not an https URL" },
		{ "http://x.example/r", "application/tlsrpt+gzip", false,
		  "http://x.example/r: not an https URL" },
		{ "file:///etc/passwd", "application/tlsrpt+gzip", true,
		  "file:///etc/passwd: not an http(s) URL" },
		{ "https://", "application/tlsrpt+gzip", false, "https://: not an https URL" },
		{ "https://x.example/r", "a\r\nX-Injected: 1", false,
		  "https://x.example/r: bad Content-Type" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_opts o;
		struct http_result res;
		struct err e = { 0 };

		http_opts_default(&o);
		o.allow_http = cases[i].allow_http;
		int rc = http_post(&o, cases[i].url, cases[i].ctype, SPAN_LIT("x"), &res, &e);
		if (rc != ERR_INVALID || res.outcome != HTTP_BAD_URL || res.retry)
			fail_msg("%s: got rc %d outcome %s retry %d, want -1 bad-url 0",
			         cases[i].url, rc, http_outcome_name(res.outcome), res.retry);
		if (strcmp(e.msg, cases[i].want))
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].url, e.msg, cases[i].want);
		assert_non_null(res.body);
		assert_int_equal(res.body_len, 0);
		http_result_clear(&res);
	}
}

static void
test_smtp_refuses(void **state)
{
	static const struct {
		const char *from;
		const char *to;
		const char *want;
	} cases[] = {
		{ "a@b\r\nRCPT TO:<x@y>", "r@x.example",
		  "smtp: bad envelope sender \"a@b\r\nRCPT TO:<x@y>\"" },
		{ "a b@c", "r@x.example", "smtp: bad envelope sender \"a b@c\"" },
		{ "a@b", "<r@x.example>", "smtp: bad recipient \"<r@x.example>\"" },
		{ "a@b", "", "smtp: bad recipient \"\"" },
		{ "a@b", "r@x.example\n", "smtp: bad recipient \"r@x.example\n\"" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smtp_result res;
		struct err e = { 0 };
		const char *to[1] = { cases[i].to };

		int rc = smtp_send_relay(NULL, cases[i].from, to, 1, SPAN_LIT("x\r\n"), &res, &e);
		if (rc != ERR_INVALID)
			fail_msg("case %zu: got %d, want ERR_INVALID", i, rc);
		if (strcmp(e.msg, cases[i].want))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, e.msg, cases[i].want);
		rc = smtp_send_host(NULL, "127.0.0.1", cases[i].from, to, 1, SPAN_LIT("x\r\n"),
		                    &res, &e);
		assert_int_equal(rc, ERR_INVALID);
	}
}

static void
test_smtp_refuses_targets(void **state)
{
	struct smtp_relay_opts ro;
	struct smtp_direct_opts dopt;
	struct smtp_result res;
	struct err e = { 0 };
	const char *to[1] = { "r@x.example" };

	(void)state;
	assert_int_equal(smtp_send_relay(NULL, "a@b", to, 0, SPAN_LIT("x"), &res, &e), ERR_INVALID);
	assert_string_equal(e.msg, "smtp: no recipients");

	smtp_relay_opts_default(&ro);
	ro.url = "http://relay.example";
	assert_int_equal(smtp_send_relay(&ro, "a@b", to, 1, SPAN_LIT("x"), &res, &e), ERR_INVALID);
	assert_string_equal(e.msg,
	                    "smtp: relay URL \"http://relay.example\" is not smtp:// or smtps://");
	ro.url = NULL;
	ro.helo_name = "bad name";
	assert_int_equal(smtp_send_relay(&ro, "a@b", to, 1, SPAN_LIT("x"), &res, &e), ERR_INVALID);
	assert_string_equal(e.msg, "smtp: bad EHLO name \"bad name\"");

	smtp_direct_opts_default(&dopt);
	static const char *const hosts[] = { "",    "a/b",   "user@host",   "[::1]",
		                             "a b", "::1 x", "fe80::1%eth0" };
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		int rc = smtp_send_host(&dopt, hosts[i], "a@b", to, 1, SPAN_LIT("x"), &res, &e);
		if (rc != ERR_INVALID || !strstr(e.msg, "smtp: bad host"))
			fail_msg("host \"%s\": got %d \"%s\", want ERR_INVALID bad host", hosts[i],
			         rc, e.msg);
	}
}

static void
test_defaults_and_names(void **state)
{
	struct http_opts h;
	struct smtp_relay_opts r;
	struct smtp_direct_opts d;

	(void)state;
	http_opts_default(&h);
	assert_false(h.insecure);
	assert_false(h.allow_http);
	assert_int_equal(h.max_response, 4096);
	smtp_relay_opts_default(&r);
	assert_string_equal(r.url, "smtp://127.0.0.1:25");
	assert_int_equal(r.starttls, SMTP_STARTTLS_NONE);
	assert_false(r.insecure);
	smtp_direct_opts_default(&d);
	assert_int_equal(d.port, 25);
	assert_string_equal(smtp_outcome_name(SMTP_SENT), "sent");
	assert_string_equal(smtp_outcome_name(SMTP_TEMPFAIL), "tempfail");
	assert_string_equal(smtp_outcome_name(SMTP_PERMFAIL), "permfail");
	assert_string_equal(http_outcome_name(HTTP_DELIVERED), "delivered");
	assert_string_equal(http_outcome_name(HTTP_NET_ERROR), "net-error");
	assert_string_equal(net_user_agent(), "tlsrptd/" TLSRPTD_VERSION);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_refuses),
		cmocka_unit_test(test_smtp_refuses),
		cmocka_unit_test(test_smtp_refuses_targets),
		cmocka_unit_test(test_defaults_and_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
