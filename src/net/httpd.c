/*
 * httpd.c - HTTP server for uploads on libmicrohttpd (see httpd.h).
 *
 * RFC 9110 status codes 200/400/404/405/413; RFC 8460 section 5.4 (HTTPS report
 * submission: POST of the report body).
 * Threading: libmicrohttpd's single internal polling thread calls the handler; the
 * handler's context is only touched from that thread while the server runs.
 */
#include "net/httpd.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/httpd_metrics.h"
#include "util/str.h"
#include "util/xalloc.h"

struct httpd {
	struct MHD_Daemon *d;
	struct httpd_opts o;
	uint16_t port;
};

struct conn {
	struct buf body;
	bool too_big;
};

static int
parse_listen(const char *s, struct sockaddr_storage *ss, struct err *e)
{
	char host[128];
	const char *colon;
	size_t hl;
	int64_t port;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || end[1] != ':')
			return err_set(e, ERR_INVALID, "%s: expected [address]:port", s);
		hl = (size_t)(end - s - 1);
		colon = end + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return err_set(e, ERR_INVALID, "%s: expected address:port", s);
		hl = (size_t)(colon - s);
	}
	if (hl >= sizeof(host))
		return err_set(e, ERR_INVALID, "%s: address too long", s);
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (str_to_i64(span_cstr(colon + 1), &port) != 0 || port < 0 || port > 65535)
		return err_set(e, ERR_INVALID, "%s: bad port", colon + 1);
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		return 0;
	}
	return err_set(e, ERR_INVALID, "%s: not an IP address", host);
}

const char *
httpd_arg(const struct httpd_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *
httpd_header(const struct httpd_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

int
httpd_response_header(struct httpd_response *resp, const char *name, const char *value)
{
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
		return ERR_INVALID;
	if (resp->n_headers >= HTTPD_MAX_HEADERS)
		return ERR_TOOBIG;
	resp->hname[resp->n_headers] = xstrdup(name);
	resp->hvalue[resp->n_headers] = xstrdup(value);
	resp->n_headers++;
	return 0;
}

static void
response_free_headers(struct httpd_response *resp)
{
	for (size_t i = 0; i < resp->n_headers; i++) {
		free(resp->hname[i]);
		free(resp->hvalue[i]);
	}
	resp->n_headers = 0;
}

static enum MHD_Result
reply_with(struct MHD_Connection *c, int status, const char *type, const void *p, size_t n,
           const struct httpd_response *extra)
{
	struct MHD_Response *r =
	        MHD_create_response_from_buffer(n, (void *)p, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	for (size_t i = 0; extra != NULL && i < extra->n_headers; i++)
		MHD_add_response_header(r, extra->hname[i], extra->hvalue[i]);
	rc = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
reply(struct MHD_Connection *c, int status, const char *type, const void *p, size_t n)
{
	return reply_with(c, status, type, p, n, NULL);
}

static void
remote_text(struct MHD_Connection *c, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	out[0] = '\0';
	if (ci == NULL || ci->client_addr == NULL)
		return;
	if (ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, out,
		          (socklen_t)cap);
	else if (ci->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, out,
		          (socklen_t)cap);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct httpd *h = cls;
	struct conn *k = *con_cls;

	(void)version;
	if (k == NULL) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
		uint64_t len;

		k = xcalloc(1, sizeof(*k));
		buf_init(&k->body, h->o.max_body);
		*con_cls = k;
		if (cl && str_to_u64(span_cstr(cl), &len) == 0 && len > h->o.max_body)
			k->too_big = true;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!k->too_big && buf_append(&k->body, upload_data, *upload_data_size) != 0)
			k->too_big = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (k->too_big) {
		char msg[96];
		int n = snprintf(msg, sizeof(msg), "body exceeds the limit of %zu bytes\n",
		                 h->o.max_body);

		httpd_metrics_count(MHD_HTTP_CONTENT_TOO_LARGE);
		return reply(c, MHD_HTTP_CONTENT_TOO_LARGE, "text/plain", msg, (size_t)n);
	}
	char remote[64];
	struct httpd_request req = {
		.method = method,
		.path = url,
		.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                            MHD_HTTP_HEADER_CONTENT_TYPE),
		.remote = remote,
		.body = buf_span(&k->body),
		.conn = c,
	};
	struct httpd_response resp = { 0 };
	enum MHD_Result rc;

	remote_text(c, remote, sizeof(remote));
	buf_init(&resp.body, h->o.max_response);
	h->o.handler(h->o.ctx, &req, &resp);
	httpd_metrics_count(resp.status ? resp.status : 200);
	rc = reply_with(c, resp.status ? resp.status : 200,
	                resp.content_type ? resp.content_type : "text/plain", resp.body.data,
	                resp.body.len, &resp);
	response_free_headers(&resp);
	buf_clear(&resp.body);
	return rc;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
	struct conn *k = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (k) {
		buf_clear(&k->body);
		free(k);
		*con_cls = NULL;
	}
}

int
httpd_start(const struct httpd_opts *o, struct httpd **out, struct err *e)
{
	struct sockaddr_storage ss;
	struct httpd *h;
	const union MHD_DaemonInfo *di;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	int rc;

	if (o->handler == NULL || o->listen == NULL)
		return err_set(e, ERR_INVALID, "httpd: handler and listen address are required");
	rc = parse_listen(o->listen, &ss, e);
	if (rc)
		return rc;
	h = xcalloc(1, sizeof(*h));
	h->o = *o;
	if (h->o.max_body == 0)
		h->o.max_body = (size_t)10 * 1024 * 1024;
	if (h->o.max_conns == 0)
		h->o.max_conns = 256;
	if (h->o.max_conns_per_ip == 0)
		h->o.max_conns_per_ip = 16;
	if (h->o.timeout_s == 0)
		h->o.timeout_s = 30;
	if (h->o.max_response == 0)
		h->o.max_response = (size_t)64 * 1024;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if ((o->tls_cert == NULL) != (o->tls_key == NULL)) {
		free(h);
		return err_set(e, ERR_INVALID, "httpd: TLS needs both a certificate and a key");
	}
	if (o->tls_cert != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			free(h);
			return err_set(e, ERR_INVALID,
			               "httpd: this libmicrohttpd was built without TLS; terminate "
			               "TLS in a reverse proxy instead");
		}
		flags |= MHD_USE_TLS;
		h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
		                        (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
		                        h->o.max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		                        h->o.max_conns_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
		                        h->o.timeout_s, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
		                        h, MHD_OPTION_HTTPS_MEM_CERT, o->tls_cert,
		                        MHD_OPTION_HTTPS_MEM_KEY, o->tls_key, MHD_OPTION_END);
	} else {
		h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
		                        (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
		                        h->o.max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		                        h->o.max_conns_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
		                        h->o.timeout_s, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
		                        h, MHD_OPTION_END);
	}
	if (h->d == NULL) {
		free(h);
		if (o->tls_cert != NULL)
			return err_set(e, ERR_IO,
			               "httpd: cannot listen on %s (or the TLS certificate/key "
			               "is not usable PEM)",
			               o->listen);
		return err_set(e, ERR_IO, "httpd: cannot listen on %s", o->listen);
	}
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : 0;
	*out = h;
	return 0;
}

uint16_t
httpd_port(const struct httpd *h)
{
	return h->port;
}

void
httpd_stop(struct httpd *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
