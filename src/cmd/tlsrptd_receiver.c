/*
 * tlsrptd_receiver.c - wiring of the daemon's report receiver (see tlsrptd_roles.h): the
 * HTTP upload endpoint of RFC 8460 section 5.4 with its own store connection, and on the
 * same listener the web role (API, dashboard: web/web.h) with another.
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
#include "util/xalloc.h"
#include "web/web.h"

struct receiver {
	struct store *store;
	struct ingest in;
	struct http_upload upload;
	struct httpd *httpd;
	struct store *web_store; /* the web role's own connection (issue 9) */
	struct web *web;
};

/* The upload path goes to the upload endpoint, everything else to the web role. */
static void
dispatch(void *ctx, const struct httpd_request *req, struct httpd_response *resp)
{
	struct receiver *r = ctx;

	if (r->web != NULL && strcmp(req->path, r->upload.path) != 0) {
		web_handle(r->web, req, resp);
		return;
	}
	http_upload_handle(&r->upload, req, resp);
	web_security_headers(resp);
}

/* The web role (API, dashboard) with its own store connection; see web/web.h. */
static int
web_start(const struct conf *conf, struct receiver *r, struct err *e)
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
	};
	int rc = store_open_conf(conf, &r->web_store, e);

	if (rc == 0) {
		o.store = r->web_store;
		rc = web_new(&o, &r->web, e);
	}
	return rc;
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
	rc = web_start(conf, r, e);
	if (rc != 0) {
		web_free(r->web);
		store_close(r->web_store);
		store_close(r->store);
		free(r);
		return err_prefix(e, "web role");
	}
	struct httpd_opts o = {
		.listen = listen,
		.max_body = conf_size(conf, "web.max-body"),
		.max_response = (size_t)32 << 20, /* dashboard pages and API lists */
		.handler = dispatch,
		.ctx = r,
	};
	rc = httpd_start(&o, &r->httpd, e);
	if (rc != 0) {
		web_free(r->web);
		store_close(r->web_store);
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
	web_free(r->web);
	store_close(r->web_store);
	store_close(r->store);
	free(r);
}
