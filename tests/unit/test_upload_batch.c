/*
 * test_upload_batch.c - group commit of the upload endpoint: nested store transactions
 * in the SQLite backend (an inner rollback makes the outer commit fail and store
 * nothing) and httpd's batch mode (batch_begin / handler / batch_end on the worker
 * thread; a failing batch_end turns the 200 answers into 503; stopping with requests in
 * flight is clean).  Real sockets on 127.0.0.1, our own HTTP client.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "net/http_client.h"
#include "net/httpd.h"
#include "net/net_curl.h"
#include "store/store.h"

static void
test_store_nesting(void **state)
{
	struct store *s = NULL;
	struct err e = { 0 };
	(void)state;

	assert_int_equal(store_open("sqlite", ":memory:", &s, &e), 0);
	/* nested begin/commit pairs: one transaction */
	assert_int_equal(s->ops->begin(s, &e), 0);
	assert_int_equal(s->ops->begin(s, &e), 0);
	assert_int_equal(s->ops->commit(s, &e), 0);
	assert_int_equal(s->ops->begin(s, &e), 0);
	assert_int_equal(s->ops->commit(s, &e), 0);
	assert_int_equal(s->ops->commit(s, &e), 0);
	/* an inner rollback: the outer commit rolls back and says so */
	assert_int_equal(s->ops->begin(s, &e), 0);
	assert_int_equal(s->ops->begin(s, &e), 0);
	s->ops->rollback(s);
	assert_int_equal(s->ops->commit(s, &e), ERR_IO);
	assert_string_equal(e.msg, ":memory:: transaction rolled back (a part of it failed)");
	/* and the next transaction is a fresh one */
	assert_int_equal(s->ops->begin(s, &e), 0);
	assert_int_equal(s->ops->commit(s, &e), 0);
	/* an outer rollback after nested commits */
	assert_int_equal(s->ops->begin(s, &e), 0);
	assert_int_equal(s->ops->begin(s, &e), 0);
	assert_int_equal(s->ops->commit(s, &e), 0);
	s->ops->rollback(s);
	assert_int_equal(s->ops->begin(s, &e), 0);
	assert_int_equal(s->ops->commit(s, &e), 0);
	store_close(s);
}

struct counters {
	pthread_mutex_t mu;
	int begins, ends, handled;
	bool fail_end;
	pthread_t handler_thread;
};

static int
b_begin(void *ctx)
{
	struct counters *c = ctx;
	pthread_mutex_lock(&c->mu);
	c->begins++;
	pthread_mutex_unlock(&c->mu);
	return 0;
}

static int
b_end(void *ctx)
{
	struct counters *c = ctx;
	pthread_mutex_lock(&c->mu);
	c->ends++;
	pthread_mutex_unlock(&c->mu);
	return c->fail_end ? -1 : 0;
}

static void
handler(void *ctx, const struct httpd_request *req, struct httpd_response *resp)
{
	struct counters *c = ctx;
	pthread_mutex_lock(&c->mu);
	c->handled++;
	c->handler_thread = pthread_self();
	pthread_mutex_unlock(&c->mu);
	if (req->body.len == 3 && memcmp(req->body.p, "bad", 3) == 0) {
		resp->status = 400;
		buf_append_str(&resp->body, "bad\n");
		return;
	}
	httpd_response_header(resp, "X-Test", "yes");
	buf_printf(&resp->body, "ok %zu\n", req->body.len);
}

static long
post(uint16_t port, const char *body, char *out, size_t cap)
{
	struct http_opts o;
	struct http_result res;
	char url[64];
	long status;

	http_opts_default(&o);
	o.allow_http = true;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", (unsigned)port);
	http_post(&o, url, "text/plain", span_cstr(body), &res, NULL);
	status = res.status;
	snprintf(out, cap, "%s", res.body ? res.body : "");
	http_result_clear(&res);
	return status;
}

static void
test_httpd_batch(void **state)
{
	struct counters c = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct httpd_opts o = {
		.listen = "127.0.0.1:0",
		.handler = handler,
		.ctx = &c,
		.batch_begin = b_begin,
		.batch_end = b_end,
	};
	struct httpd *h = NULL;
	struct err e = { 0 };
	char body[256];
	(void)state;

	assert_int_equal(httpd_start(&o, &h, &e), 0);
	assert_int_equal(post(httpd_port(h), "hello", body, sizeof(body)), 200);
	assert_string_equal(body, "ok 5\n");
	assert_int_equal(post(httpd_port(h), "bad", body, sizeof(body)), 400);
	assert_string_equal(body, "bad\n");
	assert_int_equal(c.begins, 2);
	assert_int_equal(c.ends, 2);
	assert_int_equal(c.handled, 2);
	assert_false(pthread_equal(c.handler_thread, pthread_self()));
	/* the commit fails: a 200 becomes 503, a 400 stays */
	c.fail_end = true;
	assert_int_equal(post(httpd_port(h), "hello", body, sizeof(body)), 503);
	assert_string_equal(body, "store unavailable, try again later\n");
	assert_int_equal(post(httpd_port(h), "bad", body, sizeof(body)), 400);
	httpd_stop(h);

	/* batch_begin without batch_end is refused */
	o.batch_end = NULL;
	assert_int_equal(httpd_start(&o, &h, &e), ERR_INVALID);
	assert_string_equal(e.msg, "httpd: batch_begin needs batch_end");
}

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_nesting),
		cmocka_unit_test(test_httpd_batch),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
