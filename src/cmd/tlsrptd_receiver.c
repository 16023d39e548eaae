/*
 * tlsrptd_receiver.c - wiring of the daemon's report receiver (see tlsrptd_roles.h): the
 * HTTP upload endpoint of RFC 8460 section 5.4 with its own store connection, and
 * GET /metrics (Prometheus text, util/metrics.h) until the web router takes it over.
 * Threading: the endpoint runs on the httpd thread; start/stop from main.
 */
#include "cmd/tlsrptd_roles.h"

#include <stdlib.h>
#include <string.h>

#include "inbound/http_upload.h"
#include "inbound/ingest.h"
#include "net/httpd.h"
#include "store/store.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/xalloc.h"

struct receiver {
	struct store *store;
	struct ingest in;
	struct http_upload upload;
	struct httpd *httpd;
	const char *token; /* web.token: required as a bearer token for /metrics when set */
};

/* GET /metrics, else the upload endpoint. */
static void
receiver_handle(void *ctx, const struct httpd_request *req, struct httpd_response *resp)
{
	struct receiver *r = ctx;
	struct err e = { 0 };

	if (strcmp(req->path, "/metrics") != 0) {
		http_upload_handle(&r->upload, req, resp);
		return;
	}
	if (strcmp(req->method, "GET") != 0) {
		resp->status = 405;
		buf_append_str(&resp->body, "only GET\n");
		return;
	}
	if (r->token != NULL && *r->token != '\0') {
		const char *auth = httpd_header(req, "Authorization");
		if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0 ||
		    strcmp(auth + 7, r->token) != 0) {
			resp->status = 401;
			httpd_response_header(resp, "WWW-Authenticate", "Bearer");
			buf_append_str(&resp->body, "a bearer token is required\n");
			return;
		}
	}
	if (metrics_write(&resp->body, &e) != 0) {
		log_error("metrics render failed error=\"%s\"", e.msg);
		buf_reset(&resp->body);
		resp->status = 500;
		buf_append_str(&resp->body, "metrics unavailable\n");
		return;
	}
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

int
receiver_start(const struct conf *conf, struct receiver **out, struct err *e)
{
	const char *listen = conf_str(conf, "web.listen");
	struct receiver *r;
	int rc;

	*out = NULL;
	if (listen == NULL || *listen == '\0')
		return 0;
	if (conf_str(conf, "web.tls-cert") != NULL)
		return err_set(e, ERR_INVALID,
		               "web.tls-cert: TLS on the endpoint itself is not supported yet; "
		               "terminate TLS in a reverse proxy and listen on loopback");
	r = xcalloc(1, sizeof(*r));
	rc = store_open_conf(conf, &r->store, e);
	if (rc == 0 && (rc = store_supports(r->store, STORE_AREA_RECEIVED, e)) != 0)
		store_close(r->store);
	if (rc != 0) {
		free(r);
		return err_prefix(e, "report receiver");
	}
	r->in.store = r->store;
	r->upload.in = &r->in;
	r->upload.path = conf_str(conf, "web.upload-path");
	r->token = conf_str(conf, "web.token");
	struct httpd_opts o = {
		.listen = listen,
		.max_body = conf_size(conf, "web.max-body"),
		.max_response = (size_t)8 << 20, /* /metrics with capped label sets */
		.handler = receiver_handle,
		.ctx = r,
	};
	rc = httpd_start(&o, &r->httpd, e);
	if (rc != 0) {
		store_close(r->store);
		free(r);
		return err_prefix(e, "web.listen %s", listen);
	}
	/* port 0 picks a free port: say which */
	log_info("report upload endpoint listening=%s port=%u path=%s", listen,
	         (unsigned)httpd_port(r->httpd), r->upload.path);
	*out = r;
	return 0;
}

void
receiver_stop(struct receiver *r)
{
	if (r == NULL)
		return;
	httpd_stop(r->httpd);
	store_close(r->store);
	free(r);
}
