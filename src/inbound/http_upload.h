/*
 * http_upload.h - the RFC 8460 section 5.4 HTTPS report upload endpoint: an httpd
 * handler (net/httpd.h) that stores POSTed reports through ingest.h.
 *
 * Answers: 200 after the report is durably stored (or was already stored), 400 with a
 * one-line reason when the body is not a report, 404 for other paths, 405 for other
 * methods, 503 when the store is unavailable (the reporter retries); 413 over the body
 * cap comes from the server.  The precheck answers 429 with Retry-After, before the
 * body is read, when the client is over its rate limit.  The body is sniffed (gzip or
 * JSON) whatever its Content-Type says.
 * Threading: the handler runs on one thread at a time (httpd's thread, or its group-commit
 * worker), which owns the ingest context; the precheck runs on httpd's thread and alone
 * touches the rate limiter.
 */
#ifndef TLSRPTD_INBOUND_HTTP_UPLOAD_H
#define TLSRPTD_INBOUND_HTTP_UPLOAD_H

#include "inbound/ingest.h"
#include "inbound/ratelimit.h"
#include "net/httpd.h"

struct http_upload {
	struct ingest *in;       /* borrowed */
	const char *path;        /* e.g. "/tlsrpt" (web.upload-path) */
	struct ratelimit *limit; /* borrowed; NULL: no rate limit (web.rate-limit = 0) */
};

/*
 * An httpd_precheck_fn; ctx is a struct http_upload.  On the upload path with a limit
 * set, counts the request against its client (req->remote) and, when over the limit,
 * fills resp with 429, Retry-After and a one-line reason and returns true.  Install it
 * as the server's precheck: http_upload_handle() does not rate-limit by itself.
 */
bool http_upload_precheck(void *ctx, const struct httpd_request *req, struct httpd_response *resp);

/* An httpd_handler_fn; ctx is a struct http_upload. */
void http_upload_handle(void *ctx, const struct httpd_request *req, struct httpd_response *resp);

#endif
