/*
 * test_web.c - the web role: escaping (HTML, URL, JSON), loopback detection, password
 * hashes (a PBKDF2 vector computed with Python's hashlib), Authorization parsing, and
 * the handler behind a real httpd on 127.0.0.1: routing, methods, authentication
 * (none configured, bearer token, basic users), security headers, escaping of stored
 * report text in pages, and store_ops.received_group against the received_walk fallback.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "inbound/ingest.h"
#include "net/httpd.h"
#include "store/store.h"
#include "util/base64.h"
#include "util/clock.h"
#include "web/web.h"
#include "web/web_auth.h"
#include "web/web_int.h"
#include "web/web_text.h"

/* ------------------------------------------------------------ escaping */

struct esc_case {
	const char *in, *html, *url, *json;
};

static void
test_escape(void **state)
{
	static const struct esc_case cases[] = {
		{ "plain", "plain", "plain", "\"plain\"" },
		{ "<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;",
		  "%3Cscript%3Ealert%28%27x%27%29%3C%2Fscript%3E",
		  "\"\\u003cscript\\u003ealert('x')\\u003c/script\\u003e\"" },
		{ "a&b=\"c\"", "a&amp;b=&quot;c&quot;", "a%26b%3D%22c%22",
		  "\"a\\u0026b=\\\"c\\\"\"" },
		{ "tab\tnl\n\x01", "tab\tnl\n\xEF\xBF\xBD", "tab%09nl%0A%01",
		  "\"tab\\tnl\\n\\u0001\"" },
		{ "g\xC3\xB6pher", "g\xC3\xB6pher", "g%C3%B6pher", "\"g\xC3\xB6pher\"" },
		{ "bad\xC3(", "bad\xEF\xBF\xBD(", "bad%C3%28", "\"bad\xEF\xBF\xBD(\"" },
		{ "back\\slash", "back\\slash", "back%5Cslash", "\"back\\\\slash\"" },
	};
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		assert_int_equal(web_html(&b, cases[i].in), 0);
		if (strcmp(buf_cstr(&b), cases[i].html) != 0)
			fail_msg("html(%s): got %s, want %s", cases[i].in, buf_cstr(&b),
			         cases[i].html);
		buf_reset(&b);
		assert_int_equal(web_url(&b, cases[i].in), 0);
		if (strcmp(buf_cstr(&b), cases[i].url) != 0)
			fail_msg("url(%s): got %s, want %s", cases[i].in, buf_cstr(&b),
			         cases[i].url);
		buf_reset(&b);
		assert_int_equal(web_json(&b, cases[i].in), 0);
		if (strcmp(buf_cstr(&b), cases[i].json) != 0)
			fail_msg("json(%s): got %s, want %s", cases[i].in, buf_cstr(&b),
			         cases[i].json);
	}
	buf_reset(&b);
	web_json(&b, NULL);
	assert_string_equal(buf_cstr(&b), "null");
	buf_clear(&b);

	char t[32];

	web_count(1234567, t);
	assert_string_equal(t, "1,234,567");
	web_count(0, t);
	assert_string_equal(t, "0");
	web_day(1764324000, t);
	assert_string_equal(t, "2025-11-28");
}

static void
test_loopback(void **state)
{
	static const struct {
		const char *listen;
		bool want;
	} cases[] = {
		{ "127.0.0.1:8460", true }, { "127.1.2.3:0", true },
		{ "[::1]:8460", true },     { "localhost:8460", true },
		{ "0.0.0.0:8460", false },  { "[::]:8460", false },
		{ "192.0.2.1:80", false },  { "127.example:80", false },
		{ "1270.0.0.1:1", false },  { NULL, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (web_listen_is_loopback(cases[i].listen) != cases[i].want)
			fail_msg("loopback(%s): got %d, want %d",
			         cases[i].listen ? cases[i].listen : "NULL", !cases[i].want,
			         cases[i].want);
}

/* ------------------------------------------------------------ passwords */

/* hashlib.pbkdf2_hmac('sha256', b'password', b'saltsaltsaltsalt', 1000) */
static const char alice[] = "alice:$pbkdf2-sha256$1000$c2FsdHNhbHRzYWx0c2FsdA==$"
                            "8nX7hwFEzIB8aPajJTYK8weHQc5Ngz0pFVAKvSu4jQA=";

static void
test_passwd(void **state)
{
	struct web_user u;
	struct err e = { 0 };
	struct buf b;

	(void)state;
	assert_int_equal(web_user_parse(alice, &u, &e), 0);
	assert_string_equal(u.name, "alice");
	assert_int_equal(u.iterations, 1000);
	assert_true(web_user_check(&u, "password", 8));
	assert_false(web_user_check(&u, "passwore", 8));
	assert_false(web_user_check(&u, "password", 7));

	/* a fresh hash verifies, and two hashes of one password differ (salt) */
	buf_init(&b, 4096);
	buf_append_str(&b, "bob:");
	assert_int_equal(web_passwd_hash("s3cret", 6, 1000, &b, &e), 0);
	assert_int_equal(strncmp(buf_cstr(&b), "bob:$pbkdf2-sha256$1000$", 24), 0);
	assert_int_equal(web_user_parse(buf_cstr(&b), &u, &e), 0);
	assert_true(web_user_check(&u, "s3cret", 6));
	assert_false(web_user_check(&u, "s3cre", 5));
	struct buf b2;

	buf_init(&b2, 4096);
	buf_append_str(&b2, "bob:");
	web_passwd_hash("s3cret", 6, 1000, &b2, &e);
	assert_string_not_equal(buf_cstr(&b), buf_cstr(&b2));
	buf_clear(&b2);
	buf_reset(&b);
	assert_int_equal(web_passwd_hash("x", 1, 999, &b, &e), ERR_INVALID);
	assert_string_equal(e.msg, "iterations: expected 1000..10000000, got 999");
	buf_clear(&b);

	static const struct {
		const char *entry, *msg;
	} bad[] = {
		{ "alice",
		  "web.users: expected \"name:$pbkdf2-sha256$...\" (from `tlsrpt web passwd`)" },
		{ ":$pbkdf2-sha256$1000$c2FsdA==$c2FsdA==",
		  "web.users: expected \"name:$pbkdf2-sha256$...\" (from `tlsrpt web passwd`)" },
		{ "alice:plain", "web.users: user alice: expected a $pbkdf2-sha256$ hash from "
		                 "`tlsrpt web passwd`" },
		{ "alice:$pbkdf2-sha256$10$c2FsdA==$c2FsdA==",
		  "web.users: user alice: bad iteration count (expected 1000..10000000)" },
		{ "alice:$pbkdf2-sha256$1000$c2FsdA==$c2FsdA==",
		  "web.users: user alice: bad salt or hash encoding" },
		{ "alice:$pbkdf2-sha256$1000$!!$8nX7hwFEzIB8aPajJTYK8weHQc5Ngz0pFVAKvSu4jQA=",
		  "web.users: user alice: bad salt or hash encoding" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.msg[0] = '\0';
		assert_int_equal(web_user_parse(bad[i].entry, &u, &e), ERR_INVALID);
		if (strcmp(e.msg, bad[i].msg) != 0)
			fail_msg("parse(%s): got %s, want %s", bad[i].entry, e.msg, bad[i].msg);
	}
}

static void
test_basic_token(void **state)
{
	struct buf b;
	const char *user, *pass;
	size_t n;

	(void)state;
	buf_init(&b, 4096);
	/* base64("alice:pa:ss") */
	assert_int_equal(web_basic_parse("Basic YWxpY2U6cGE6c3M=", &b, &user, &pass, &n), 0);
	assert_string_equal(user, "alice");
	assert_string_equal(pass, "pa:ss");
	assert_int_equal(n, 5);
	assert_int_equal(web_basic_parse("basic  YWxpY2U6cGE6c3M= ", &b, &user, &pass, &n), 0);
	assert_int_equal(web_basic_parse("Basic YWxpY2U=", &b, &user, &pass, &n), ERR_INVALID);
	assert_int_equal(web_basic_parse("Basic !!!", &b, &user, &pass, &n), ERR_INVALID);
	assert_int_equal(web_basic_parse("Bearer abc", &b, &user, &pass, &n), ERR_INVALID);
	assert_int_equal(web_basic_parse("Basic", &b, &user, &pass, &n), ERR_INVALID);
	buf_clear(&b);
	assert_true(web_token_eq("tok-123", "tok-123", 7));
	assert_false(web_token_eq("tok-123", "tok-124", 7));
	assert_false(web_token_eq("tok-123", "tok-1234", 8));
	assert_false(web_token_eq("tok-123", "tok-12", 6));
}

/* ------------------------------------------------------------ the handler over HTTP */

struct fix {
	char dir[64], db[96];
	struct store *store;
	struct clock ingest_clock, web_clock;
	struct web *web;
	struct httpd *httpd;
	uint16_t port;
};

static const char report1[] =
        "{\"organization-name\":\"<script>alert(1)</script> & Co\",\"date-range\":"
        "{\"start-datetime\":\"2026-11-20T00:00:00Z\",\"end-datetime\":\"2026-11-20T23:59:59Z\"},"
        "\"contact-info\":\"tlsrpt@sender.example\",\"report-id\":\"r1@sender.example\","
        "\"policies\":[{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":[\"version: "
        "STSv1\",\"mode: testing\"],\"policy-domain\":\"rcpt.example\",\"mx-host\":[\"mx1."
        "rcpt.example\"]},\"summary\":{\"total-successful-session-count\":100,"
        "\"total-failure-session-count\":7},\"failure-details\":[{\"result-type\":"
        "\"certificate-expired\",\"sending-mta-ip\":\"192.0.2.1\",\"receiving-mx-hostname\":"
        "\"mx1.rcpt.example\",\"receiving-ip\":\"198.51.100.7\",\"failed-session-count\":5},"
        "{\"result-type\":\"starttls-not-supported\",\"sending-mta-ip\":\"192.0.2.2\","
        "\"receiving-mx-hostname\":\"<b>mx2</b>\",\"failed-session-count\":2}]},"
        "{\"policy\":{\"policy-type\":\"tlsa\",\"policy-domain\":\"other.example\"},"
        "\"summary\":{\"total-successful-session-count\":3,\"total-failure-session-count\":0}}]}";

static const char report2[] =
        "{\"organization-name\":\"Big Mail\",\"date-range\":"
        "{\"start-datetime\":\"2026-11-21T00:00:00Z\",\"end-datetime\":\"2026-11-21T23:59:59Z\"},"
        "\"contact-info\":\"tlsrpt@big.example\",\"report-id\":\"b2\","
        "\"policies\":[{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":[\"version: "
        "STSv1\",\"mode:enforce\"],\"policy-domain\":\"rcpt.example\"},"
        "\"summary\":{\"total-successful-session-count\":50,\"total-failure-session-count\":1},"
        "\"failure-details\":[{\"result-type\":\"validation-failure\",\"receiving-ip\":"
        "\"198.51.100.7\",\"failed-session-count\":1,\"additional-information\":\"why\"}]}]}";

static int
fix_start(void **state, const char *token, const char *const *users, size_t n_users, bool loopback)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct err e = { 0 };
	struct ingest in = { 0 };
	struct ingest_result res;

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_web.XXXXXX");
	if (getenv("TLSRPT_TEST_TMP"))
		snprintf(f->dir, sizeof(f->dir), "%s/web.XXXXXX", getenv("TLSRPT_TEST_TMP"));
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/db.sqlite", f->dir);
	assert_int_equal(store_open_sqlite(f->db, &f->store, &e), 0);
	in.store = f->store;
	in.clock = &f->ingest_clock;
	/* received 2026-11-21T10:00Z and 2026-11-01T10:00Z; "now" is 2026-11-22T12:00Z */
	clock_init_fixed(&f->ingest_clock, 1795255200);
	assert_int_equal(ingest_report(&in, SPAN_LIT(report1), INGEST_FILE, &res, &e), 0);
	clock_init_fixed(&f->ingest_clock, 1793527200);
	assert_int_equal(ingest_report(&in, SPAN_LIT(report2), INGEST_FILE, &res, &e), 0);
	clock_init_fixed(&f->web_clock, 1795348800);
	struct web_opts o = {
		.store = f->store,
		.token = token,
		.users = users,
		.n_users = n_users,
		.loopback = loopback,
		.clock = &f->web_clock,
	};
	assert_int_equal(web_new(&o, &f->web, &e), 0);
	struct httpd_opts h = {
		.listen = "127.0.0.1:0",
		.max_response = 8 << 20,
		.handler = web_handle,
		.ctx = f->web,
	};
	assert_int_equal(httpd_start(&h, &f->httpd, &e), 0);
	f->port = httpd_port(f->httpd);
	*state = f;
	return 0;
}

static int
setup_token(void **state)
{
	static const char *const users[] = { alice };

	return fix_start(state, "tok-123", users, 1, false);
}

static int
setup_open_remote(void **state)
{
	return fix_start(state, NULL, NULL, 0, false);
}

static int
setup_open_loopback(void **state)
{
	return fix_start(state, "", NULL, 0, true);
}

static int
teardown(void **state)
{
	struct fix *f = *state;
	char cmd[200];

	httpd_stop(f->httpd);
	web_free(f->web);
	store_close(f->store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* One request; returns the status and fills head / body (NUL-terminated). */
static int
request(struct fix *f, const char *method, const char *path, const char *auth, struct buf *head,
        struct buf *body)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(f->port) };
	int s = socket(AF_INET, SOCK_STREAM, 0), status = 0;
	char req[1024], chunk[65536];
	struct buf all;
	ssize_t n;

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
	n = snprintf(req, sizeof(req),
	             "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s%s%s\r\n", method, path,
	             auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "");
	assert_int_equal(write(s, req, (size_t)n), n);
	buf_init(&all, 64 << 20);
	while ((n = read(s, chunk, sizeof(chunk))) > 0)
		buf_append(&all, chunk, (size_t)n);
	close(s);
	const char *sep = strstr(buf_cstr(&all), "\r\n\r\n");

	assert_non_null(sep);
	buf_reset(head);
	buf_reset(body);
	buf_append(head, all.data, (size_t)(sep - all.data) + 2);
	buf_append_str(body, sep + 4);
	sscanf(all.data, "HTTP/1.1 %d", &status);
	buf_clear(&all);
	return status;
}

static bool
has(const struct buf *b, const char *s)
{
	return b->data && strstr(b->data, s) != NULL;
}

static void
check_security_headers(const struct buf *head)
{
	static const char csp[] =
	        "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; img-src "
	        "data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'\r\n";
	static const char *const want[] = {
		csp,
		"X-Content-Type-Options: nosniff\r\n",
		"Referrer-Policy: no-referrer\r\n",
		"X-Frame-Options: DENY\r\n",
		"Cache-Control: no-store\r\n",
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!has(head, want[i]))
			fail_msg("header missing: %s in\n%s", want[i], buf_cstr(head));
}

struct auth_case {
	const char *method, *path, *auth;
	int status;
	const char *in_head, *in_body;
};

static void
run_cases(struct fix *f, const struct auth_case *c, size_t n)
{
	struct buf head, body;

	buf_init(&head, 1 << 20);
	buf_init(&body, 64 << 20);
	for (size_t i = 0; i < n; i++) {
		int st = request(f, c[i].method, c[i].path, c[i].auth, &head, &body);

		if (st != c[i].status)
			fail_msg("%s %s (%s): got %d, want %d: %s", c[i].method, c[i].path,
			         c[i].auth ? c[i].auth : "no auth", st, c[i].status,
			         buf_cstr(&body));
		check_security_headers(&head);
		if (c[i].in_head && !has(&head, c[i].in_head))
			fail_msg("%s %s: head lacks %s:\n%s", c[i].method, c[i].path, c[i].in_head,
			         buf_cstr(&head));
		if (c[i].in_body && !has(&body, c[i].in_body))
			fail_msg("%s %s: body lacks %s:\n%.2000s", c[i].method, c[i].path,
			         c[i].in_body, buf_cstr(&body));
	}
	buf_clear(&head);
	buf_clear(&body);
}

static void
test_auth_token_users(void **state)
{
	/* base64("alice:password"), base64("alice:wrong"), base64("eve:password") */
	static const struct auth_case cases[] = {
		{ "GET", "/healthz", NULL, 200, "application/json", "{\"status\":\"ok\"}\n" },
		{ "GET", "/api/v1/received", NULL, 401,
		  "WWW-Authenticate: Bearer realm=\"tlsrptd\"",
		  "{\"error\":\"authentication required: a bearer token or a user name and "
		  "password\"}" },
		{ "GET", "/", NULL, 401,
		  "WWW-Authenticate: Basic realm=\"tlsrptd\", charset=\"UTF-8\"", "<h1>401</h1>" },
		{ "GET", "/api/v1/received", "Bearer tok-124", 401, "WWW-Authenticate: Bearer",
		  "{\"error\":\"wrong token\"}" },
		{ "GET", "/api/v1/received", "Bearer tok-123", 200,
		  "Content-Type: application/json", "\"count\":2," },
		{ "GET", "/api/v1/received", "Basic YWxpY2U6cGFzc3dvcmQ=", 200, NULL,
		  "\"count\":2," },
		{ "GET", "/api/v1/received", "Basic YWxpY2U6d3Jvbmc=", 401, NULL,
		  "wrong user name or password" },
		{ "GET", "/api/v1/received", "Basic ZXZlOnBhc3N3b3Jk", 401, NULL,
		  "wrong user name or password" },
		{ "GET", "/api/v1/received", "Digest x", 401, NULL, "unsupported authentication" },
		{ "GET", "/nope", NULL, 401, NULL, NULL },
		{ "GET", "/nope", "Bearer tok-123", 404, "text/html", "no such page: /nope" },
		{ "POST", "/api/v1/received", "Bearer tok-123", 405, "Allow: GET, HEAD", NULL },
		{ "DELETE", "/", NULL, 405, "Allow: GET, HEAD", NULL },
		{ "GET", "/api/v1/received/1", "Bearer tok-123", 200, NULL,
		  "\"organization\":\"\\u003cscript\\u003ealert(1)\\u003c/script\\u003e \\u0026 "
		  "Co\"" },
		{ "GET", "/api/v1/received/99", "Bearer tok-123", 404, NULL,
		  "{\"error\":\"no received report with id 99\"}" },
		{ "GET", "/api/v1/received/x", "Bearer tok-123", 404, NULL, NULL },
		{ "GET", "/api/v1/received?limit=0", "Bearer tok-123", 400, NULL,
		  "{\"error\":\"limit: expected a number from 1 to 1000\"}" },
		{ "GET", "/api/v1/received?since=yesterday", "Bearer tok-123", 400, NULL,
		  "since: expected a date" },
		{ "GET", "/api/v1/received?limit=1", "Bearer tok-123", 200, NULL,
		  "\"count\":1,\"next\":\"/api/v1/received?limit=1&cursor=1795132800.1\"}" },
		{ "GET", "/api/v1/received?limit=1&cursor=1795132800.1", "Bearer tok-123", 200,
		  NULL, "\"report_id\":\"b2\"" },
		{ "GET", "/api/v1/received?domain=other.example", "Bearer tok-123", 200, NULL,
		  "\"count\":1," },
		{ "GET", "/api/v1/received?since=2026-11-21", "Bearer tok-123", 200, NULL,
		  "\"count\":1," },
		{ "GET", "/api/v1/received/summary?by=result-type", "Bearer tok-123", 200, NULL,
		  "\"total\":{\"successes\":153,\"failures\":8," },
		{ "GET", "/api/v1/received/groups?by=failure-ip", "Bearer tok-123", 200, NULL,
		  "{\"key\":\"198.51.100.7\",\"key2\":null,\"reports\":2,\"successes\":0,"
		  "\"failures\":0,\"failed_sessions\":6," },
		{ "GET", "/api/v1/outbound/counters", "Bearer tok-123", 200, NULL,
		  "{\"counters\":[],\"count\":0}" },
		{ "GET", "/api/v1/outbox", "Bearer tok-123", 200, NULL,
		  "{\"reports\":[],\"count\":0,\"next\":null}" },
		{ "GET", "/api/v1/collector", "Bearer tok-123", 404, NULL, "not available" },
		{ "GET", "/reporters", "Bearer tok-123", 200, "text/html; charset=utf-8",
		  "<td>&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co</td>" },
		{ "GET", "/domain?d=RCPT.example&until=2026-11-22&days=7", "Bearer tok-123", 200,
		  NULL, "<div class=\"v\" id=\"reports\">2</div>" },
		{ "GET", "/domain?d=rcpt.example&until=2026-11-22&days=7", "Bearer tok-123", 200,
		  NULL, "<td>&lt;b&gt;mx2&lt;/b&gt;</td>" },
		{ "GET", "/domain", "Bearer tok-123", 400, NULL, "d: give the policy domain" },
		{ "GET", "/?until=2026-11-22&days=7", "Bearer tok-123", 200, NULL,
		  "<div class=\"v bad\" id=\"failures\">8</div>" },
		{ "GET", "/?days=0", "Bearer tok-123", 400, NULL, "days: expected a number" },
		{ "GET", "/outbound", "Bearer tok-123", 200, NULL, "every report is delivered" },
		/* big.example last sent 21 days ago, sender.example yesterday */
		{ "GET", "/reporters", "Bearer tok-123", 200, NULL,
		  "<td>Big Mail</td><td>big.example</td><td class=\"n\">1</td><td "
		  "class=\"n\">50</td>"
		  "<td class=\"n\">1</td><td "
		  "class=\"n\">2026-11-01</td><td>failure-field-missing</td>"
		  "<td class=\"warn\">silent for 21 days</td>" },
		{ "GET", "/reporters", "Bearer tok-123", 200, NULL,
		  "<td>sender.example</td><td class=\"n\">1</td><td class=\"n\">103</td><td "
		  "class=\"n\">7</td><td class=\"n\">2026-11-21</td><td>policy-string-missing</td>"
		  "<td class=\"ok\">sending</td>" },
		{ "GET", "/reporters?silent=30", "Bearer tok-123", 200, NULL,
		  "<b id=\"nsilent\" class=\"ok\">0</b> silent for more than 30 days" },
		{ "GET", "/", "Bearer tok-123", 200, NULL,
		  "<div class=\"v warn\" id=\"silent\">1</div>" },
	};

	run_cases(*state, cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_auth_open_remote(void **state)
{
	static const struct auth_case cases[] = {
		{ "GET", "/healthz", NULL, 200, NULL, "ok" },
		{ "GET", "/api/v1/received", NULL, 403, NULL,
		  "need credentials on a listener that is not loopback" },
		{ "GET", "/", NULL, 403, NULL, "set web.token or web.users" },
	};

	run_cases(*state, cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_auth_open_loopback(void **state)
{
	static const struct auth_case cases[] = {
		{ "GET", "/api/v1/received", NULL, 200, NULL, "\"count\":2," },
		/* nothing configured: credentials are not checked */
		{ "GET", "/api/v1/received", "Bearer anything", 200, NULL, "\"count\":2," },
		{ "HEAD", "/", NULL, 200, "text/html", NULL },
	};

	run_cases(*state, cases, sizeof(cases) / sizeof(cases[0]));
}

/* The SQL aggregates equal the same groups computed over received_walk. */
static void
test_groups_match_walk(void **state)
{
	struct fix *f = *state;
	struct store_ops plain = *f->store->ops;
	const struct store_ops *real = f->store->ops;

	plain.received_group = NULL;
	for (int by = 0; by < STORE_RGROUP_COUNT_; by++)
		for (int dom = 0; dom < 2; dom++) {
			struct store_received_group_query q = {
				.by = (enum store_rgroup)by,
				.domain = dom ? "rcpt.example" : NULL,
			};
			struct web_groups a, b;
			struct err e = { 0 };

			f->store->ops = real;
			assert_int_equal(web_groups_get(f->web, &q, &a, &e), 0);
			f->store->ops = &plain;
			assert_int_equal(web_groups_get(f->web, &q, &b, &e), 0);
			f->store->ops = real;
			if (a.n != b.n)
				fail_msg("by %d domain %d: got %zu groups, want %zu", by, dom, a.n,
				         b.n);
			assert_true(a.n > 0);
			for (size_t i = 0; i < a.n; i++) {
				const struct store_received_group_row *x = &a.v[i].row,
				                                      *y = &b.v[i].row;

				if (!((x->key == NULL && y->key == NULL) ||
				      (x->key && y->key && strcmp(x->key, y->key) == 0)) ||
				    !((x->key2 == NULL && y->key2 == NULL) ||
				      (x->key2 && y->key2 && strcmp(x->key2, y->key2) == 0)) ||
				    x->day != y->day || x->reports != y->reports ||
				    x->success != y->success || x->failure != y->failure ||
				    x->count != y->count || x->first != y->first ||
				    x->last != y->last || x->last_failure != y->last_failure ||
				    x->quirks != y->quirks)
					fail_msg("by %d domain %d group %zu (%s/%s): SQL and walk "
					         "differ: "
					         "reports %llu/%llu success %llu/%llu failure "
					         "%llu/%llu "
					         "count %llu/%llu last_failure %lld/%lld",
					         by, dom, i, x->key ? x->key : "-",
					         x->key2 ? x->key2 : "-",
					         (unsigned long long)x->reports,
					         (unsigned long long)y->reports,
					         (unsigned long long)x->success,
					         (unsigned long long)y->success,
					         (unsigned long long)x->failure,
					         (unsigned long long)y->failure,
					         (unsigned long long)x->count,
					         (unsigned long long)y->count,
					         (long long)x->last_failure,
					         (long long)y->last_failure);
			}
			web_groups_free(&a);
			web_groups_free(&b);
		}
	/* retention purge removes the aggregates' rows with the reports */
	struct store_received_group_query q = { .by = STORE_RGROUP_DOMAIN };
	struct web_groups g;
	struct err e = { 0 };
	uint64_t n = 0;

	assert_int_equal(f->store->ops->received_purge(f->store, INT64_MAX, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(web_groups_get(f->web, &q, &g, &e), 0);
	if (g.n != 0)
		fail_msg("after purge: got %zu domain groups, want 0", g.n);
	web_groups_free(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_passwd),
		cmocka_unit_test(test_basic_token),
		cmocka_unit_test_setup_teardown(test_auth_token_users, setup_token, teardown),
		cmocka_unit_test_setup_teardown(test_auth_open_remote, setup_open_remote, teardown),
		cmocka_unit_test_setup_teardown(test_auth_open_loopback, setup_open_loopback,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_groups_match_walk, setup_token, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
