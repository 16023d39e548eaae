/*
 * httpd.h - a small HTTP/1.1 server on libmicrohttpd for bodies that are read whole
 * (report uploads): caps on body size, connections per IP and time per request.
 *
 * The server runs one internal polling thread; the handler is called on that thread
 * (or, with group commit, on one worker thread), one request at a time, with the whole
 * body in memory.  Bodies over max_body are
 * answered 413 by the server itself (from Content-Length before reading, or as soon as
 * the cap is passed), without calling the handler.  TLS is optional (tls_cert/tls_key,
 * PEM text); the usual deployment is behind a reverse proxy on loopback.
 */
#ifndef TLSRPTD_NET_HTTPD_H
#define TLSRPTD_NET_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/span.h"

struct httpd;

/* One request; every pointer lives until the handler returns. */
struct httpd_request {
	const char *method;
	const char *path;         /* without the query string */
	const char *content_type; /* NULL when absent */
	const char *remote;       /* peer address, text */
	struct span body;
	void *conn; /* the server's connection: for httpd_arg() / httpd_header() only */
};

/* The value of query argument name (decoded), or NULL; lives as long as req. */
const char *httpd_arg(const struct httpd_request *req, const char *name);
/* The value of request header name (case-insensitive), or NULL; lives as long as req. */
const char *httpd_header(const struct httpd_request *req, const char *name);

enum { HTTPD_MAX_HEADERS = 16 };

/* The handler fills status (200 when left 0), content_type (static string) and body. */
struct httpd_response {
	int status;
	const char *content_type;
	struct buf body; /* initialised by the server (cap 64 KiB) */
	/* extra response headers: add with httpd_response_header(); freed by the server */
	char *hname[HTTPD_MAX_HEADERS], *hvalue[HTTPD_MAX_HEADERS];
	size_t n_headers;
};

/*
 * Adds a response header (both strings are copied).  Returns 0, or ERR_TOOBIG past
 * HTTPD_MAX_HEADERS / ERR_INVALID when either contains CR or LF (header injection).
 */
int httpd_response_header(struct httpd_response *resp, const char *name, const char *value);

typedef void (*httpd_handler_fn)(void *ctx, const struct httpd_request *req,
                                 struct httpd_response *resp);
/*
 * Optional check once the request line and headers are in, before the body is read
 * (req->body is empty): returns true when it filled resp with the final answer (a 429,
 * say), and then the body is not read and the handler is not called for the request.
 * Called on the same thread as the handler.
 */
typedef bool (*httpd_precheck_fn)(void *ctx, const struct httpd_request *req,
                                  struct httpd_response *resp);

struct httpd_opts {
	const char *listen;        /* "127.0.0.1:8460", "[::1]:8460"; port 0 = any */
	size_t max_body;           /* bytes; 0 = 10 MiB */
	unsigned max_conns;        /* 0 = 256 */
	unsigned max_conns_per_ip; /* 0 = 16 */
	unsigned timeout_s;        /* per connection without progress; 0 = 30 */
	size_t max_response;       /* cap of httpd_response.body; 0 = 64 KiB */
	const char *tls_cert;      /* PEM text of the certificate chain; NULL = plain HTTP */
	const char *tls_key;       /* PEM text of its private key (with tls_cert) */
	httpd_handler_fn handler;
	httpd_precheck_fn precheck; /* NULL: none */
	void *ctx;                  /* passed to handler, precheck and the batch calls */
	/*
	 * Optional group commit.  When batch_begin is set, requests whose body is complete
	 * wait on a worker thread, which handles up to batch_max of them (0 = 64) at a
	 * time: batch_begin(ctx), the handler for each, batch_end(ctx), and only then are
	 * their answers sent.  When batch_begin or batch_end returns non-zero, every 2xx
	 * answer of the group is replaced by 503 (the handler's work did not last).  The
	 * handler then runs on that worker thread (one request at a time); the precheck
	 * stays on the server's thread.
	 */
	int (*batch_begin)(void *ctx);
	int (*batch_end)(void *ctx);
	unsigned batch_max;
	unsigned request_timeout_s; /* one request cycle at most (slow clients); 0 = 60 */
};

/* Starts listening.  Returns 0 and *out (stop with httpd_stop), or ERR_INVALID / ERR_IO. */
int httpd_start(const struct httpd_opts *o, struct httpd **out, struct err *e);
/* The bound port (useful with port 0). */
uint16_t httpd_port(const struct httpd *h);
/* Stops the server and frees it (NULL is a no-op); no handler runs afterwards. */
void httpd_stop(struct httpd *h);

#endif
