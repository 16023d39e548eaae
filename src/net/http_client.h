/*
 * http_client.h - HTTPS POST of a report body (RFC 8460 section 5.4) over libcurl.
 *
 * One call, one POST, blocking.  Redirects are not followed (a 3xx is a failed
 * delivery).  Only https:// URLs are accepted unless opts.allow_http is set (tests,
 * local relays).  Call net_global_init() (net/net_curl.h) once from main() first.
 *
 * Threading: http_post() may run in several threads at once; each call has its own
 * libcurl handle.  It does not touch signals (CURLOPT_NOSIGNAL).
 */
#ifndef TLSRPTD_NET_HTTP_CLIENT_H
#define TLSRPTD_NET_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"
#include "util/span.h"

struct http_opts {
	long connect_timeout_ms; /* 0 = 30 s */
	long timeout_ms;         /* whole request; 0 = 120 s */
	bool insecure;           /* ignore certificate errors (RFC 8460 section 3 allows it) */
	bool allow_http;         /* accept http:// as well as https:// */
	const char *ca_file;     /* trust these CAs instead of the system store; NULL = system */
	size_t max_response;     /* response body bytes kept; 0 = 4096; the rest is discarded */
};

/* Fills o with the defaults above (verification on, https only). */
void http_opts_default(struct http_opts *o);

enum http_outcome {
	HTTP_DELIVERED = 0, /* any 2xx */
	HTTP_FAILED = 1,    /* 3xx, 4xx, 5xx, 1xx: the server answered, not a success */
	HTTP_NET_ERROR = 2, /* no HTTP answer: DNS, connect, TLS, timeout, reset */
	HTTP_BAD_URL = 3,   /* the URL cannot be used at all (syntax, scheme) */
};

#define HTTP_ERROR_MAX 256

struct http_result {
	enum http_outcome outcome;
	bool retry;                 /* worth trying again later: every failure except HTTP_BAD_URL
			     (RFC 8460 section 5.5 retries regardless of method) */
	long status;                /* HTTP status, 0 when none was received */
	int curl_code;              /* CURLcode of the transfer, 0 = CURLE_OK */
	bool timed_out;             /* the connect or total timeout ran out */
	char error[HTTP_ERROR_MAX]; /* libcurl's text ("" on success) */
	/* first max_response bytes of the response: never NULL after http_post(),
	   NUL-terminated, may contain NULs; owned by res (http_result_clear()) */
	char *body;
	size_t body_len;
	bool body_truncated; /* more bytes came and were discarded */
};

/*
 * POSTs body to url with the given Content-Type (NULL = "application/tlsrpt+gzip"; CR
 * or LF in it is refused like a bad URL) and
 * User-Agent tlsrptd/<version>.  Always fills *res (free with http_result_clear()).
 * Returns 0 when delivered (2xx), ERR_AGAIN when worth retrying (res->retry), and
 * ERR_INVALID for a URL that can never work; e gets a one-line reason such as
 * "https://x/report: HTTP 503" or "https://x/report: Timeout was reached".
 */
int http_post(const struct http_opts *opts, const char *url, const char *content_type,
              struct span body, struct http_result *res, struct err *e);

/* Frees res->body; res is zeroed. */
void http_result_clear(struct http_result *res);

/* "delivered", "failed", "net-error", "bad-url". */
const char *http_outcome_name(enum http_outcome o);

#endif
