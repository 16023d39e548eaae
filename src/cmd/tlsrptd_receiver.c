/*
 * tlsrptd_receiver.c - wiring of the daemon's report receiver (see tlsrptd_roles.h): the
 * HTTP upload endpoint of RFC 8460 section 5.4 with its own store connection, HTTPS
 * when web.tls-cert / web.tls-key are set, the per-client rate limit of
 * web.rate-limit / web.rate-limit-burst (429), and on the same listener the web role
 * (API, dashboard, /metrics: web/web.h) with another store connection.  With SQLite,
 * uploads that arrive together are stored in one transaction (httpd group commit) and
 * answered after it.
 * Threading: the precheck runs on the httpd thread, the handler (both roles) and the
 * store transaction on httpd's worker thread; start/stop from main.
 */
#include "cmd/tlsrptd_roles.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "collector/collector.h"
#include "inbound/http_upload.h"
#include "inbound/ingest.h"
#include "net/httpd.h"
#include "inbound/ratelimit.h"
#include "store/store.h"
#include "util/file.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/xalloc.h"
#include "web/web.h"

struct receiver {
	struct store *store;
	struct ingest in;
	struct http_upload upload;
	struct ratelimit *limit;
	struct buf cert, key; /* PEM text: libmicrohttpd may keep pointers to it */
	struct httpd *httpd;
	struct store *web_store; /* the web role's own connection (issue 9) */
	struct web *web;         /* NULL when this host has no web role */
	bool upload_on;          /* the receiver role: the upload path is served */
};

enum { MAX_PEM = 1024 * 1024 };

/* Reads a PEM file of key into out (NUL-terminated through buf_cstr()). */
static int
read_pem(const struct conf *conf, const char *key, struct buf *out, struct err *e)
{
	const char *path = conf_str(conf, key);
	int rc = file_read(path, out, e);

	if (rc != 0)
		return err_prefix(e, "%s %s", key, path);
	if (strstr(buf_cstr(out), "-----BEGIN ") == NULL)
		return err_set(e, ERR_INVALID, "%s %s: not a PEM file (no -----BEGIN line)", key,
		               path);
	return 0;
}

/* Group commit of the uploads that arrive together: one store transaction each. */
static int
batch_begin(void *ctx)
{
	struct receiver *r = ctx;
	struct err e = { 0 };

	if (r->store->ops->begin(r->store, &e) != 0) {
		log_error("report upload: store transaction: %s", e.msg);
		return -1;
	}
	return 0;
}

static int
batch_end(void *ctx)
{
	struct receiver *r = ctx;
	struct err e = { 0 };

	if (r->store->ops->commit(r->store, &e) != 0) {
		log_error("report upload: store commit: %s", e.msg);
		r->store->ops->rollback(r->store);
		return -1;
	}
	return 0;
}

static void
receiver_free(struct receiver *r)
{
	web_free(r->web);
	store_close(r->web_store);
	store_close(r->store);
	ratelimit_free(r->limit);
	buf_clear(&r->cert);
	if (r->key.data != NULL)
		explicit_bzero(r->key.data, r->key.len);
	buf_clear(&r->key);
	free(r);
}

/* The upload path goes to the upload endpoint, everything else to the web role. */
static void
dispatch(void *ctx, const struct httpd_request *req, struct httpd_response *resp)
{
	struct receiver *r = ctx;

	if (r->upload_on && strcmp(req->path, r->upload.path) == 0) {
		http_upload_handle(&r->upload, req, resp);
		web_security_headers(resp);
		return;
	}
	if (r->web != NULL) {
		web_handle(r->web, req, resp);
		return;
	}
	/* a receiver-only host (server.roles without "web") */
	resp->status = 404;
	buf_append_str(&resp->body, "not found\n");
	web_security_headers(resp);
}

/* The upload endpoint's rate limit (it only looks at the upload path). */
static bool
precheck(void *ctx, const struct httpd_request *req, struct httpd_response *resp)
{
	struct receiver *r = ctx;

	return http_upload_precheck(&r->upload, req, resp);
}

/* The web role (API, dashboard) with its own store connection; see web/web.h. */
/* /api/v1/collector: the running collector's counters */
static void
collector_stats_of(void *ctx, struct collector_stats *out)
{
	collector_get_stats(ctx, out);
}

static int
web_start(const struct conf *conf, struct receiver *r, struct collector *col, struct err *e)
{
	size_t n_users = 0;
	const char *const *users = conf_list(conf, "web.users", &n_users);
	struct web_opts o = {
		.token = conf_str(conf, "web.token"),
		.users = users,
		.n_users = n_users,
		.loopback = web_listen_is_loopback(conf_str(conf, "web.listen")),
		.silent_days = (unsigned)conf_int(conf, "web.reporter-silent-days"),
		.sts_days = (unsigned)conf_int(conf, "web.sts-safe-days"),
		.collector_stats = col != NULL ? collector_stats_of : NULL,
		.collector_ctx = col,
	};
	int rc = store_open_conf(conf, &r->web_store, e);

	if (rc == 0) {
		o.store = r->web_store;
		rc = web_new(&o, &r->web, e);
	}
	return rc;
}

int
receiver_start(const struct conf *conf, unsigned roles, struct collector *col,
               struct receiver **out, struct err *e)
{
	const char *listen = conf_str(conf, "web.listen");
	bool tls = conf_str(conf, "web.tls-cert") != NULL;
	struct receiver *r;
	int rc;

	*out = NULL;
	if (listen == NULL || *listen == '\0')
		return 0;
	r = xcalloc(1, sizeof(*r));
	buf_init(&r->cert, MAX_PEM);
	buf_init(&r->key, MAX_PEM);
	if (tls && ((rc = read_pem(conf, "web.tls-cert", &r->cert, e)) != 0 ||
	            (rc = read_pem(conf, "web.tls-key", &r->key, e)) != 0)) {
		receiver_free(r);
		return rc;
	}
	rc = store_open_conf(conf, &r->store, e);
	if (rc == 0 && (rc = store_supports(r->store, STORE_AREA_RECEIVED, e)) != 0) {
		store_close(r->store);
		r->store = NULL;
	}
	if (rc != 0) {
		receiver_free(r);
		return err_prefix(e, "report receiver");
	}
	r->in.store = r->store;
	r->upload.in = &r->in;
	r->upload.path = conf_str(conf, "web.upload-path");
	if (conf_int(conf, "web.rate-limit") > 0) {
		r->limit = ratelimit_new((unsigned)conf_int(conf, "web.rate-limit"),
		                         (unsigned)conf_int(conf, "web.rate-limit-burst"), 0, NULL);
		r->upload.limit = r->limit;
	}
	r->upload_on = (roles & ROLE_RECEIVER) != 0;
	rc = (roles & ROLE_WEB) ? web_start(conf, r, col, e) : 0;
	if (rc != 0) {
		receiver_free(r);
		return err_prefix(e, "web role");
	}
	struct httpd_opts o = {
		.listen = listen,
		.max_body = conf_size(conf, "web.max-body"),
		.tls_cert = tls ? buf_cstr(&r->cert) : NULL,
		.tls_key = tls ? buf_cstr(&r->key) : NULL,
		.max_response = (size_t)32 << 20, /* dashboard pages, API lists, /metrics */
		.handler = dispatch,
		.precheck = precheck,
		.ctx = r,
		.request_timeout_s =
		        (unsigned)(conf_duration_ms(conf, "web.request-timeout") / 1000),
	};
	/* SQLite: uploads that arrive together share one transaction (its begin() nests);
	   each is answered only after that transaction is committed */
	if (strcmp(conf_enum(conf, "store.backend"), "sqlite") == 0) {
		o.batch_begin = batch_begin;
		o.batch_end = batch_end;
	}
	rc = httpd_start(&o, &r->httpd, e);
	if (rc != 0) {
		receiver_free(r);
		return err_prefix(e, "web.listen %s", listen);
	}
	/* port 0 picks a free port: say which */
	log_info("report upload endpoint listening=%s port=%u path=%s tls=%s "
	         "rate_limit=%lld/min",
	         listen, (unsigned)httpd_port(r->httpd), r->upload.path, tls ? "yes" : "no",
	         (long long)conf_int(conf, "web.rate-limit"));
	*out = r;
	return 0;
}

void
receiver_stop(struct receiver *r)
{
	if (r == NULL)
		return;
	httpd_stop(r->httpd);
	receiver_free(r);
}
