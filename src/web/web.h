/*
 * web.h - the web role (issue 9): the read-only JSON API (/api/v1/...), the dashboard
 * pages and /healthz, as one httpd handler (net/httpd.h) with authentication and
 * security headers.  /metrics is added by the metrics module (see the route table in
 * web.c).
 *
 * Authentication: a bearer token (web.token) and/or basic-auth users (web.users, each
 * "name:$pbkdf2-sha256$ITER$SALT$HASH" from `tlsrpt web passwd`).  Everything except
 * /healthz needs one of them when either is configured.  When neither is configured the
 * API and the dashboard answer only when the listener is bound to a loopback address
 * (127.0.0.0/8, ::1, localhost: only local users, typically through a reverse proxy that
 * authenticates); on any other listener they answer 403 with the keys to set.
 *
 * Threading: a struct web is used by the httpd thread only (its store handle too).
 */
#ifndef TLSRPTD_WEB_WEB_H
#define TLSRPTD_WEB_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include "net/httpd.h"
#include "util/clock.h"
#include "util/err.h"

struct store;
struct collector_stats;

struct web_opts {
	struct store *store;      /* borrowed; used on the httpd thread only */
	const char *token;        /* web.token; NULL or "" when unset */
	const char *const *users; /* web.users: "name:$pbkdf2-sha256$..." */
	size_t n_users;
	bool loopback;             /* the listener is bound to a loopback address */
	unsigned silent_days;      /* a reporter silent this long is flagged; 0 = 3 */
	unsigned sts_days;         /* STS testing without failures this long: enforce */
	const struct clock *clock; /* NULL: real clock */
	/* collector statistics (optional; NULL: /api/v1/collector answers 404) */
	void (*collector_stats)(void *ctx, struct collector_stats *out);
	void *collector_ctx;
};

struct web;

/*
 * Checks the options (every user entry must parse) and copies them; strings and the
 * users array are borrowed and must outlive the struct web (they come from the
 * immutable configuration).  Returns 0 and *out (free with web_free), or ERR_INVALID
 * with a message naming the bad entry.
 */
int web_new(const struct web_opts *o, struct web **out, struct err *e);
void web_free(struct web *w);

/* An httpd_handler_fn; ctx is a struct web.  Adds the security headers itself. */
void web_handle(void *ctx, const struct httpd_request *req, struct httpd_response *resp);

/*
 * Adds the security headers every response carries (CSP, nosniff, Referrer-Policy,
 * X-Frame-Options, Cache-Control no-store).  For handlers outside
 * this module (the upload endpoint).
 */
void web_security_headers(struct httpd_response *resp);

/* True when a web.listen value names a loopback address (127.0.0.0/8, [::1], localhost). */
bool web_listen_is_loopback(const char *listen);

#endif
