/*
 * httpd.h - a small HTTP/1.1 server on libmicrohttpd for bodies that are read whole
 * (report uploads): caps on body size, connections per IP and time per request.
 *
 * The server runs one internal polling thread; the handler is called on that thread,
 * one request at a time, with the whole body in memory.  Bodies over max_body are
 * answered 413 by the server itself (from Content-Length before reading, or as soon as
 * the cap is passed), without calling the handler.  TLS is not set up here: the usual
 * deployment is behind a reverse proxy.
 */
#ifndef TLSRPTD_NET_HTTPD_H
#define TLSRPTD_NET_HTTPD_H

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
};

/* The handler fills status (200 when left 0), content_type (static string) and body. */
struct httpd_response {
	int status;
	const char *content_type;
	struct buf body; /* initialised by the server (cap 64 KiB) */
};

typedef void (*httpd_handler_fn)(void *ctx, const struct httpd_request *req,
                                 struct httpd_response *resp);

struct httpd_opts {
	const char *listen;        /* "127.0.0.1:8460", "[::1]:8460"; port 0 = any */
	size_t max_body;           /* bytes; 0 = 10 MiB */
	unsigned max_conns;        /* 0 = 256 */
	unsigned max_conns_per_ip; /* 0 = 16 */
	unsigned timeout_s;        /* per connection without progress; 0 = 30 */
	httpd_handler_fn handler;
	void *ctx;
};

/* Starts listening.  Returns 0 and *out (stop with httpd_stop), or ERR_INVALID / ERR_IO. */
int httpd_start(const struct httpd_opts *o, struct httpd **out, struct err *e);
/* The bound port (useful with port 0). */
uint16_t httpd_port(const struct httpd *h);
/* Stops the server and frees it (NULL is a no-op); no handler runs afterwards. */
void httpd_stop(struct httpd *h);

#endif
