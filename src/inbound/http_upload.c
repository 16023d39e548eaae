/*
 * http_upload.c - POST /tlsrpt: received reports over HTTP(S) (see http_upload.h).
 *
 * RFC 8460 section 5.4 (HTTPS submission; media types application/tlsrpt+gzip and
 * application/tlsrpt+json, sniffed here) and section 6 (receivers); RFC 6585 section 4
 * (429 Too Many Requests with Retry-After, per client address: inbound/ratelimit.h).
 * Threading: the handler on one thread at a time (httpd's, or its group-commit worker),
 * the precheck on httpd's thread; they share nothing but the read-only path.
 */
#include "inbound/http_upload.h"

#include <stdio.h>
#include <string.h>

bool
http_upload_precheck(void *ctx, const struct httpd_request *req, struct httpd_response *resp)
{
	struct http_upload *u = ctx;
	unsigned wait;
	char v[16];

	if (u->limit == NULL || strcmp(req->path, u->path) != 0)
		return false;
	wait = ratelimit_take(u->limit, req->remote ? req->remote : "");
	if (wait == 0)
		return false;
	snprintf(v, sizeof(v), "%u", wait);
	resp->status = 429;
	resp->content_type = "text/plain";
	httpd_response_header(resp, "Retry-After", v);
	buf_printf(&resp->body, "too many uploads from %s: retry in %u s\n",
	           req->remote ? req->remote : "?", wait);
	return true;
}

void
http_upload_handle(void *ctx, const struct httpd_request *req, struct httpd_response *resp)
{
	struct http_upload *u = ctx;
	struct ingest_result res;
	struct err e = { 0 };
	int rc;

	resp->content_type = "text/plain";
	if (strcmp(req->path, u->path) != 0) {
		resp->status = 404;
		buf_append_str(&resp->body, "not found\n");
		return;
	}
	if (strcmp(req->method, "POST") != 0) {
		resp->status = 405;
		buf_append_str(&resp->body, "method not allowed: POST a report\n");
		return;
	}
	if (req->body.len == 0) {
		resp->status = 400;
		buf_append_str(&resp->body, "empty body: expected a TLS report\n");
		return;
	}
	rc = ingest_report(u->in, req->body, INGEST_HTTP, &res, &e);
	if (rc == 0) {
		resp->status = 200;
		buf_printf(&resp->body, "%s report %lld\n", res.stored ? "stored" : "duplicate of",
		           (long long)res.last_id);
	} else if (rc == INGEST_ESTORE) {
		resp->status = 503;
		buf_append_str(&resp->body, "store unavailable, try again later\n");
	} else {
		resp->status = 400;
		buf_printf(&resp->body, "not a TLS report: %s\n", e.msg);
	}
}
