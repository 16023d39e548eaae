/*
 * http_client.c - HTTPS POST for report delivery (RFC 8460 section 5.4) over libcurl.
 *
 * RFC 8460 5.4: the receiver "MUST return a 'successful' response ... typically a 200
 * or 201"; other codes "could indicate a delivery failure, and may be retried".  So any
 * 2xx is delivered and everything else failed.  Redirects are not followed (the RFC
 * says nothing about them; following one would POST a report somewhere the policy
 * domain did not publish).  Certificate verification is on unless the caller opts out
 * (RFC 8460 section 3: "MAY ignore certificate validation errors").  Section 5.5: a
 * failed delivery is retried whatever the cause, so every failure is marked retry
 * except a URL that can never work (bad syntax or a scheme other than https).
 *
 * The URL comes from a DNS record, i.e. from outside: only https (or http when the
 * caller allows it) is enabled in libcurl, and the response body kept is capped.
 *
 * Threading: one easy handle per call; no shared state; CURLOPT_NOSIGNAL.
 */
#include "net/http_client.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_curl.h"
#include "util/buf.h"
#include "util/str.h"

struct sink {
	struct buf body;
	bool truncated;
};

void
http_opts_default(struct http_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->connect_timeout_ms = 30000;
	o->timeout_ms = 120000;
	o->max_response = 4096;
}

const char *
http_outcome_name(enum http_outcome o)
{
	switch (o) {
	case HTTP_DELIVERED:
		return "delivered";
	case HTTP_FAILED:
		return "failed";
	case HTTP_NET_ERROR:
		return "net-error";
	case HTTP_BAD_URL:
		return "bad-url";
	}
	return "unknown";
}

void
http_result_clear(struct http_result *res)
{
	free(res->body);
	memset(res, 0, sizeof(*res));
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;
	size_t room = s->body.max - s->body.len;

	if (n > room) {
		s->truncated = true;
		buf_append(&s->body, p, room);
	} else {
		buf_append(&s->body, p, n);
	}
	return n; /* the rest is read and dropped, not an error */
}

static bool
scheme_ok(const char *url, bool allow_http)
{
	size_t n = strlen(url);

	if (n > 8 && span_eq_nocase(span_make(url, 8), SPAN_LIT("https://")))
		return true;
	return allow_http && n > 7 && span_eq_nocase(span_make(url, 7), SPAN_LIT("http://"));
}

static int
fail(struct http_result *res, struct err *e, const char *url, enum http_outcome o, const char *what)
{
	res->outcome = o;
	res->retry = o != HTTP_BAD_URL;
	str_copy(res->error, sizeof(res->error), what);
	return err_set(e, res->retry ? ERR_AGAIN : ERR_INVALID, "%s: %s", url, what);
}

int
http_post(const struct http_opts *opts, const char *url, const char *content_type, struct span body,
          struct http_result *res, struct err *e)
{
	struct http_opts def;
	struct sink sink;
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	char ctype[256];
	CURL *h = NULL;
	CURLcode cc;
	int rc;

	memset(res, 0, sizeof(*res));
	if (!opts) {
		http_opts_default(&def);
		opts = &def;
	}
	buf_init(&sink.body, opts->max_response ? opts->max_response : 4096);
	sink.truncated = false;
	if (!url || !scheme_ok(url, opts->allow_http)) {
		rc = fail(res, e, url ? url : "(null)", HTTP_BAD_URL,
		          opts->allow_http ? "not an http(s) URL" : "not an https URL");
		goto out;
	}
	if (!content_type)
		content_type = "application/tlsrpt+gzip";
	if (strpbrk(content_type, "\r\n") || strlen(content_type) > 200) {
		rc = fail(res, e, url, HTTP_BAD_URL, "bad Content-Type");
		goto out;
	}
	h = curl_easy_init();
	if (!h) {
		rc = fail(res, e, url, HTTP_NET_ERROR, "cannot create a libcurl handle");
		goto out;
	}
	snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type);
	hdrs = curl_slist_append(hdrs, ctype);
	/* no "Expect: 100-continue" round trip for bodies over 1 KiB */
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (!hdrs) {
		rc = fail(res, e, url, HTTP_NET_ERROR, "out of memory");
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, opts->allow_http ? "https,http" : "https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.p ? body.p : "");
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, net_user_agent());
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	                 opts->connect_timeout_ms ? opts->connect_timeout_ms : 30000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, opts->timeout_ms ? opts->timeout_ms : 120000L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, opts->insecure ? 0L : 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, opts->insecure ? 0L : 2L);
	if (opts->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, opts->ca_file);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);

	cc = curl_easy_perform(h);
	res->curl_code = (int)cc;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
	if (cc != CURLE_OK) {
		const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);
		bool bad = cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL;

		res->timed_out = cc == CURLE_OPERATION_TIMEDOUT;
		rc = fail(res, e, url, bad ? HTTP_BAD_URL : HTTP_NET_ERROR, why);
		goto out;
	}
	if (res->status >= 200 && res->status <= 299) {
		res->outcome = HTTP_DELIVERED;
		rc = 0;
		goto out;
	}
	snprintf(res->error, sizeof(res->error), "HTTP %ld", res->status);
	res->outcome = HTTP_FAILED;
	res->retry = true;
	rc = err_set(e, ERR_AGAIN, "%s: HTTP %ld%s", url, res->status,
	             res->status >= 300 && res->status <= 399 ? " (redirects are not followed)"
	                                                      : "");
out:
	res->body_truncated = sink.truncated;
	res->body = buf_steal(&sink.body, &res->body_len);
	curl_slist_free_all(hdrs);
	if (h)
		curl_easy_cleanup(h);
	return rc;
}
