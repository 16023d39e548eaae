/*
 * web.c - the web role's request handling (see web.h): the route table, methods,
 * authentication, security headers, query arguments and error answers.
 *
 * RFC 9110 (status codes 200/400/401/403/404/405/503 and the Allow header), RFC 6750
 * section 3 (WWW-Authenticate: Bearer), RFC 7617 (Basic).  Content-Security-Policy
 * (W3C CSP Level 3): default-src 'none'; the pages use inline styles only and no scripts.
 * Threading: httpd thread only.
 */
#include "web/web.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/str.h"
#include "util/xalloc.h"
#include "web/web_int.h"
#include "web/web_text.h"

enum {
	ROUTE_PUBLIC = 1, /* no authentication (health checks) */
	ROUTE_JSON = 2,   /* errors as JSON */
	ROUTE_PREFIX = 4, /* path is a prefix (/api/v1/received/ID) */
};

struct route {
	const char *path;
	unsigned flags;
	void (*fn)(struct web_req *r);
};

/* GET /metrics: the process's counters in the Prometheus text format (util/metrics.h). */
static void
web_metrics(struct web_req *r)
{
	struct err e = { 0 };

	if (metrics_write(r->out, &e) != 0) {
		buf_reset(r->out);
		web_error(r, 500, "metrics: %s", e.msg);
		return;
	}
	r->resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

static const struct route routes[] = {
	{ "/healthz", ROUTE_PUBLIC | ROUTE_JSON, web_healthz },
	{ "/", 0, web_page_overview },
	{ "/domain", 0, web_page_domain },
	{ "/reporters", 0, web_page_reporters },
	{ "/outbound", 0, web_page_outbound },
	{ "/api/v1/received", ROUTE_JSON, web_api_received },
	{ "/api/v1/received/summary", ROUTE_JSON, web_api_summary },
	{ "/api/v1/received/groups", ROUTE_JSON, web_api_groups },
	{ "/api/v1/received/", ROUTE_JSON | ROUTE_PREFIX, web_api_received_one },
	{ "/api/v1/outbound/counters", ROUTE_JSON, web_api_outbound },
	{ "/api/v1/outbox", ROUTE_JSON, web_api_outbox },
	{ "/api/v1/collector", ROUTE_JSON, web_api_collector },
	{ "/metrics", 0, web_metrics },
};

static const char csp[] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                          "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

void
web_security_headers(struct httpd_response *resp)
{
	httpd_response_header(resp, "Content-Security-Policy", csp);
	httpd_response_header(resp, "X-Content-Type-Options", "nosniff");
	httpd_response_header(resp, "Referrer-Policy", "no-referrer");
	httpd_response_header(resp, "X-Frame-Options", "DENY");
	httpd_response_header(resp, "Cache-Control", "no-store");
}

bool
web_listen_is_loopback(const char *listen)
{
	const char *colon;
	size_t n;

	if (listen == NULL)
		return false;
	if (strncmp(listen, "[::1]:", 6) == 0)
		return true;
	colon = strrchr(listen, ':');
	n = colon ? (size_t)(colon - listen) : strlen(listen);
	if (n == 9 && strncmp(listen, "localhost", 9) == 0)
		return true;
	/* 127.0.0.0/8: four dotted numbers starting with 127 */
	if (n < 9 || strncmp(listen, "127.", 4) != 0)
		return false;
	for (size_t i = 4; i < n; i++)
		if (!((listen[i] >= '0' && listen[i] <= '9') || listen[i] == '.'))
			return false;
	return true;
}

int
web_new(const struct web_opts *o, struct web **out, struct err *e)
{
	struct web *w = xcalloc(1, sizeof(*w));

	*out = NULL;
	w->o = *o;
	if (w->o.silent_days == 0)
		w->o.silent_days = 3;
	if (w->o.sts_days == 0)
		w->o.sts_days = 14;
	w->have_token = o->token != NULL && o->token[0] != '\0';
	if (o->n_users)
		w->users = xcalloc(o->n_users, sizeof(*w->users));
	for (size_t i = 0; i < o->n_users; i++) {
		if (web_user_parse(o->users[i], &w->users[i], e) != 0) {
			web_free(w);
			return ERR_INVALID;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(w->users[j].name, w->users[i].name) == 0) {
				err_set(e, ERR_INVALID, "web.users: user %s is listed twice",
				        w->users[i].name);
				web_free(w);
				return ERR_INVALID;
			}
	}
	w->n_users = o->n_users;
	*out = w;
	return 0;
}

void
web_free(struct web *w)
{
	if (w == NULL)
		return;
	if (w->users)
		OPENSSL_cleanse(w->users, w->n_users * sizeof(*w->users));
	free(w->users);
	free(w);
}

/* ------------------------------------------------------------------ arguments */

const char *
web_arg(struct web_req *r, const char *name)
{
	const char *v = httpd_arg(r->req, name);

	return v && *v ? v : NULL;
}

int
web_arg_uint(struct web_req *r, const char *name, uint64_t def, uint64_t min, uint64_t max,
             uint64_t *out)
{
	const char *v = web_arg(r, name);
	uint64_t n;

	*out = def;
	if (v == NULL)
		return 0;
	if (str_to_u64(span_cstr(v), &n) != 0 || n < min || n > max) {
		web_error(r, 400, "%s: expected a number from %llu to %llu", name,
		          (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = n;
	return 0;
}

int
web_arg_time(struct web_req *r, const char *name, int64_t *out)
{
	const char *v = web_arg(r, name);
	struct time_parsed tp;

	*out = 0;
	if (v == NULL)
		return 0;
	if (time_parse_rfc3339(span_cstr(v), TIME_PARSE_ALLOW_NO_TZ, &tp) == 0) {
		*out = tp.t;
		return 0;
	}
	if (strlen(v) == 10 && v[4] == '-' && v[7] == '-') {
		uint64_t y, m, d;

		if (str_to_u64(span_make(v, 4), &y) == 0 &&
		    str_to_u64(span_make(v + 5, 2), &m) == 0 &&
		    str_to_u64(span_make(v + 8, 2), &d) == 0 && y >= 1970 && m >= 1 && m <= 12 &&
		    d >= 1 && d <= 31) {
			*out = time_days_from_civil((int64_t)y, (unsigned)m, (unsigned)d) * 86400;
			return 0;
		}
	}
	web_error(r, 400, "%s: expected a date (YYYY-MM-DD) or an RFC 3339 date-time", name);
	return -1;
}

bool
web_arg_flag(struct web_req *r, const char *name)
{
	const char *v = web_arg(r, name);

	return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 ||
	             strcmp(v, "on") == 0);
}

/* ------------------------------------------------------------------ answers */

void
web_error(struct web_req *r, int status, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_reset(r->out);
	r->resp->status = status;
	if (r->json) {
		r->resp->content_type = "application/json";
		buf_append_str(r->out, "{\"error\":");
		web_json(r->out, msg);
		buf_append_str(r->out, "}\n");
		return;
	}
	r->resp->content_type = "text/html; charset=utf-8";
	buf_printf(r->out,
	           "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	           "<link rel=\"icon\" href=\"data:,\"><title>%d - tlsrptd</title></head><body>"
	           "<h1>%d</h1><p>",
	           status, status);
	web_html(r->out, msg);
	buf_append_str(r->out, "</p><p><a href=\"/\">Overview</a></p></body></html>\n");
}

/* ------------------------------------------------------------------ authentication */

static void
challenge(struct web_req *r, const char *why)
{
	httpd_response_header(r->resp, "WWW-Authenticate", "Bearer realm=\"tlsrptd\"");
	if (r->w->n_users)
		httpd_response_header(r->resp, "WWW-Authenticate",
		                      "Basic realm=\"tlsrptd\", charset=\"UTF-8\"");
	web_error(r, 401, "%s", why);
}

static bool
check_basic(struct web *w, const char *header)
{
	unsigned char digest[32];
	unsigned int nd = 0;
	const char *user, *pass;
	size_t pass_len;
	struct buf b;
	bool ok = false;

	if (EVP_Digest(header, strlen(header), digest, &nd, EVP_sha256(), NULL) != 1)
		return false;
	if (w->have_ok && CRYPTO_memcmp(digest, w->ok_digest, sizeof(digest)) == 0)
		return true;
	buf_init(&b, 4096);
	if (web_basic_parse(header, &b, &user, &pass, &pass_len) == 0) {
		const struct web_user *u = NULL;

		for (size_t i = 0; i < w->n_users; i++)
			if (strcmp(w->users[i].name, user) == 0)
				u = &w->users[i];
		/* an unknown user costs the same PBKDF2 as a known one */
		ok = web_user_check(u ? u : &w->users[0], pass, pass_len) && u != NULL;
	}
	if (b.data)
		OPENSSL_cleanse(b.data, b.len);
	buf_clear(&b);
	if (ok) {
		memcpy(w->ok_digest, digest, sizeof(digest));
		w->have_ok = true;
	}
	return ok;
}

/* 0 when the request may proceed; else the answer (401/403) is set. */
static int
authorize(struct web_req *r)
{
	struct web *w = r->w;
	const char *h;

	if (!w->have_token && w->n_users == 0) {
		if (w->o.loopback)
			return 0;
		web_error(r, 403,
		          "the dashboard and API need credentials on a listener that is not "
		          "loopback: set web.token or web.users (tlsrpt web passwd)");
		return -1;
	}
	h = httpd_header(r->req, "Authorization");
	if (h == NULL) {
		challenge(r, "authentication required: a bearer token or a user name and password");
		return -1;
	}
	if (strlen(h) > 7 && span_eq_nocase(span_make(h, 7), SPAN_LIT("Bearer "))) {
		const char *t = h + 7;

		while (*t == ' ')
			t++;
		if (w->have_token && web_token_eq(w->o.token, t, strlen(t)))
			return 0;
		challenge(r, "wrong token");
		return -1;
	}
	if (w->n_users && strlen(h) > 6 && span_eq_nocase(span_make(h, 6), SPAN_LIT("Basic "))) {
		if (check_basic(w, h))
			return 0;
		challenge(r, "wrong user name or password");
		return -1;
	}
	challenge(r, "unsupported authentication scheme");
	return -1;
}

/* ------------------------------------------------------------------ dispatch */

static const struct route *
find_route(const char *path)
{
	const struct route *prefix = NULL;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];
		size_t n = strlen(rt->path);

		if (rt->flags & ROUTE_PREFIX) {
			if (strncmp(path, rt->path, n) == 0 && path[n] != '\0')
				prefix = rt;
		} else if (strcmp(path, rt->path) == 0) {
			return rt;
		}
	}
	return prefix;
}

void
web_handle(void *ctx, const struct httpd_request *req, struct httpd_response *resp)
{
	struct web *w = ctx;
	struct web_req r = {
		.w = w,
		.req = req,
		.resp = resp,
		.out = &resp->body,
		.json = strncmp(req->path, "/api/", 5) == 0,
	};
	const struct route *rt = find_route(req->path);

	web_security_headers(resp);
	if (rt == NULL) {
		/* unknown paths need authentication too: nothing about the server leaks */
		if (authorize(&r) == 0)
			web_error(&r, 404, "no such page: %s", req->path);
		return;
	}
	r.json = (rt->flags & ROUTE_JSON) != 0;
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		httpd_response_header(resp, "Allow", "GET, HEAD");
		web_error(&r, 405, "method %s not allowed: the API is read-only (GET)",
		          req->method);
		return;
	}
	if (!(rt->flags & ROUTE_PUBLIC) && authorize(&r) != 0)
		return;
	r.now = clock_now(w->o.clock);
	if (r.json)
		resp->content_type = "application/json";
	else
		resp->content_type = "text/html; charset=utf-8";
	resp->status = 200;
	rt->fn(&r);
	/* a write past the cap fails silently in the middle of a page: never send that */
	if (resp->body.max > 0 && resp->body.len + 256 > resp->body.max) {
		log_warn("web response too large path=%s cap=%zu", req->path, resp->body.max);
		web_error(&r, 500, "the answer is larger than %zu bytes: narrow the query",
		          resp->body.max);
	}
}
