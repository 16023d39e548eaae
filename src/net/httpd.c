/*
 * httpd.c - HTTP server for uploads on libmicrohttpd (see httpd.h).
 *
 * RFC 9110 status codes 200/400/404/405/413; RFC 8460 section 5.4 (HTTPS report
 * submission: POST of the report body).
 * Slow clients: libmicrohttpd's connection timeout only counts time without progress,
 * so a client that sends one header byte every few seconds (slowloris) would keep its
 * connection, and 16 of them would lock out every other client of their address.  A
 * watchdog thread therefore shuts down the socket of every connection whose current
 * request cycle (from the connection's start, or from the end of its previous request)
 * has lasted longer than request_timeout_s; libmicrohttpd then sees the closed socket
 * and drops the connection.
 * Threading: libmicrohttpd's single internal polling thread calls the precheck and the
 * handler; their context is only touched from that thread while the server runs.  With
 * group commit (opts.batch_begin), complete requests are suspended and queued (h->mu and
 * h->cv) for one worker thread, which calls batch_begin, the handler for each,
 * batch_end, stores each answer in its connection and resumes it; the server thread then
 * sends the answer.  The handler and batch calls run on the worker only.  The list of
 * open connections is shared with the watchdog under h->mu (the watchdog sleeps on its
 * own h->wcv); an entry is removed (under the lock) before libmicrohttpd closes its
 * socket, so the watchdog never shuts down a descriptor that was reused.
 */
#include "net/httpd.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "net/httpd_metrics.h"
#include "util/str.h"
#include "util/xalloc.h"

struct conn;

/* A request waiting for the group-commit worker. */
struct job {
	struct job *next;
	struct MHD_Connection *c;
	struct conn *k;
	char *method, *url;
};

/* One open connection, for the request deadline. */
struct tracked {
	struct tracked *prev, *next;
	int fd;
	int64_t since_ms; /* start of the current request cycle, CLOCK_MONOTONIC */
	bool shut;        /* shut down by the watchdog */
};

struct httpd {
	struct MHD_Daemon *d;
	struct httpd_opts o;
	uint16_t port;
	pthread_mutex_t mu; /* guards the job queue, conns, stopping */
	pthread_cond_t cv;  /* jobs for the group-commit worker */
	pthread_cond_t wcv; /* wakes the watchdog at stop */
	/* group commit (o.batch_begin set): jobs from the server thread to the worker */
	bool batching, worker_started, stopping;
	pthread_t worker;
	struct job *head, **tail;
	/* request deadline */
	pthread_t watchdog;
	bool watchdog_started;
	struct tracked *conns;
};

struct conn {
	struct buf body;
	bool too_big;
	bool answered; /* the precheck answered: the body is not read */
	bool done;     /* group commit: resp holds the answer to send */
	struct httpd_response resp;
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
	httpd_metrics_count(status); /* every answer goes out here */
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

/* Runs the precheck on the headers; answers at once when it says so. */
static enum MHD_Result
precheck(struct httpd *h, struct MHD_Connection *c, struct conn *k, const char *url,
         const char *method)
{
	char remote[64];
	struct httpd_request req = {
		.method = method,
		.path = url,
		.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                            MHD_HTTP_HEADER_CONTENT_TYPE),
		.remote = remote,
		.body = { "", 0 },
		.conn = c,
	};
	struct httpd_response resp = { 0 };
	enum MHD_Result rc = MHD_YES;

	remote_text(c, remote, sizeof(remote));
	buf_init(&resp.body, h->o.max_response);
	if (h->o.precheck(h->o.ctx, &req, &resp)) {
		k->answered = true;
		rc = reply_with(c, resp.status ? resp.status : 200,
		                resp.content_type ? resp.content_type : "text/plain",
		                resp.body.data, resp.body.len, &resp);
	}
	response_free_headers(&resp);
	buf_clear(&resp.body);
	return rc;
}

/* Runs the handler for the complete request of c into resp (initialised by the caller). */
static void
handle(struct httpd *h, struct MHD_Connection *c, struct conn *k, const char *url,
       const char *method, struct httpd_response *resp)
{
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

	remote_text(c, remote, sizeof(remote));
	h->o.handler(h->o.ctx, &req, resp);
}

/*
 * Group commit, server side: a complete request is suspended and queued for the
 * worker; when the worker resumes it, its answer is in k->resp and is sent here.
 */
static enum MHD_Result
batch_request(struct httpd *h, struct MHD_Connection *c, struct conn *k, const char *url,
              const char *method)
{
	struct job *j;

	if (k->done) {
		enum MHD_Result rc =
		        reply_with(c, k->resp.status ? k->resp.status : 200,
		                   k->resp.content_type ? k->resp.content_type : "text/plain",
		                   k->resp.body.data, k->resp.body.len, &k->resp);

		response_free_headers(&k->resp);
		buf_clear(&k->resp.body);
		k->done = false;
		return rc;
	}
	pthread_mutex_lock(&h->mu);
	if (h->stopping) {
		static const char msg[] = "shutting down, try again later\n";

		pthread_mutex_unlock(&h->mu);
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", msg, sizeof(msg) - 1);
	}
	j = xcalloc(1, sizeof(*j));
	j->c = c;
	j->k = k;
	j->method = xstrdup(method);
	j->url = xstrdup(url);
	MHD_suspend_connection(c);
	*h->tail = j;
	h->tail = &j->next;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	return MHD_YES;
}

static void
job_free(struct job *j)
{
	free(j->method);
	free(j->url);
	free(j);
}

/* The group-commit worker: takes the queued requests, up to batch_max at a time. */
static void *
batch_worker(void *arg)
{
	struct httpd *h = arg;
	unsigned max = h->o.batch_max ? h->o.batch_max : 64;

	for (;;) {
		struct job *batch = NULL, **bt = &batch;
		unsigned n = 0;
		bool ok;

		pthread_mutex_lock(&h->mu);
		while (h->head == NULL && !h->stopping)
			pthread_cond_wait(&h->cv, &h->mu);
		if (h->head == NULL) {
			pthread_mutex_unlock(&h->mu);
			break;
		}
		while (h->head != NULL && n < max) {
			struct job *j = h->head;

			h->head = j->next;
			j->next = NULL;
			*bt = j;
			bt = &j->next;
			n++;
		}
		if (h->head == NULL)
			h->tail = &h->head;
		pthread_mutex_unlock(&h->mu);

		ok = h->o.batch_begin(h->o.ctx) == 0;
		for (struct job *j = batch; j != NULL; j = j->next) {
			struct httpd_response *r = &j->k->resp;

			memset(r, 0, sizeof(*r));
			buf_init(&r->body, h->o.max_response);
			if (ok) {
				handle(h, j->c, j->k, j->url, j->method, r);
			} else {
				r->status = 503;
				buf_append_str(&r->body, "store unavailable, try again later\n");
			}
		}
		if (ok && h->o.batch_end(h->o.ctx) != 0) {
			for (struct job *j = batch; j != NULL; j = j->next) {
				struct httpd_response *r = &j->k->resp;

				if (r->status == 0 || (r->status >= 200 && r->status <= 299)) {
					response_free_headers(r);
					buf_reset(&r->body);
					r->status = 503;
					r->content_type = "text/plain";
					buf_append_str(&r->body,
					               "store unavailable, try again later\n");
				}
			}
		}
		while (batch != NULL) {
			struct job *j = batch;

			batch = j->next;
			j->k->done = true;
			MHD_resume_connection(j->c);
			job_free(j);
		}
	}
	return NULL;
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
		if (h->o.precheck != NULL)
			return precheck(h, c, k, url, method);
		return MHD_YES;
	}
	if (k->answered) {
		/* answered before the body: whatever still comes is dropped */
		*upload_data_size = 0;
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

		return reply(c, MHD_HTTP_CONTENT_TOO_LARGE, "text/plain", msg, (size_t)n);
	}
	if (h->batching)
		return batch_request(h, c, k, url, method);
	struct httpd_response resp = { 0 };
	enum MHD_Result rc;

	buf_init(&resp.body, h->o.max_response);
	handle(h, c, k, url, method, &resp);
	rc = reply_with(c, resp.status ? resp.status : 200,
	                resp.content_type ? resp.content_type : "text/plain", resp.body.data,
	                resp.body.len, &resp);
	response_free_headers(&resp);
	buf_clear(&resp.body);
	return rc;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
              enum MHD_ConnectionNotificationCode code)
{
	struct httpd *h = cls;
	struct tracked *t = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		if (ci == NULL)
			return;
		t = xcalloc(1, sizeof(*t));
		t->fd = ci->connect_fd;
		t->since_ms = mono_ms();
		pthread_mutex_lock(&h->mu);
		t->next = h->conns;
		if (h->conns)
			h->conns->prev = t;
		h->conns = t;
		pthread_mutex_unlock(&h->mu);
		*socket_context = t;
		return;
	}
	if (t == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	if (t->prev)
		t->prev->next = t->next;
	else
		h->conns = t->next;
	if (t->next)
		t->next->prev = t->prev;
	pthread_mutex_unlock(&h->mu);
	free(t);
	*socket_context = NULL;
}

/* A finished request starts the next request cycle of its connection (keep-alive). */
static void
restart_deadline(struct httpd *h, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	if (ci == NULL || ci->socket_context == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	((struct tracked *)ci->socket_context)->since_ms = mono_ms();
	pthread_mutex_unlock(&h->mu);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
	struct conn *k = *con_cls;

	(void)toe;
	restart_deadline(cls, c);
	if (k) {
		if (k->done) {
			response_free_headers(&k->resp);
			buf_clear(&k->resp.body);
		}
		buf_clear(&k->body);
		free(k);
		*con_cls = NULL;
	}
}

static void *
watchdog(void *arg)
{
	struct httpd *h = arg;
	int64_t limit = (int64_t)h->o.request_timeout_s * 1000;

	pthread_mutex_lock(&h->mu);
	while (!h->stopping) {
		int64_t now = mono_ms();
		struct timespec until;

		for (struct tracked *t = h->conns; t; t = t->next)
			if (!t->shut && now - t->since_ms > limit) {
				shutdown(t->fd, SHUT_RDWR);
				t->shut = true;
			}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&h->wcv, &h->mu, &until);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

static void
httpd_free(struct httpd *h)
{
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	pthread_cond_destroy(&h->wcv);
	free(h);
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
	if (h->o.request_timeout_s == 0)
		h->o.request_timeout_s = 60;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (o->batch_begin != NULL) {
		if (o->batch_end == NULL) {
			free(h); /* nothing initialised yet */
			return err_set(e, ERR_INVALID, "httpd: batch_begin needs batch_end");
		}
		h->batching = true;
		flags |= MHD_ALLOW_SUSPEND_RESUME;
	}
	h->tail = &h->head;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	pthread_cond_init(&h->wcv, NULL);
	if ((o->tls_cert == NULL) != (o->tls_key == NULL)) {
		httpd_free(h);
		return err_set(e, ERR_INVALID, "httpd: TLS needs both a certificate and a key");
	}
	if (o->tls_cert != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			httpd_free(h);
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
		                        h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
		                        MHD_OPTION_HTTPS_MEM_CERT, o->tls_cert,
		                        MHD_OPTION_HTTPS_MEM_KEY, o->tls_key, MHD_OPTION_END);
	} else {
		h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
		                        (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
		                        h->o.max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		                        h->o.max_conns_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
		                        h->o.timeout_s, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
		                        h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
		                        MHD_OPTION_END);
	}
	if (h->d == NULL) {
		httpd_free(h);
		if (o->tls_cert != NULL)
			return err_set(e, ERR_IO,
			               "httpd: cannot listen on %s (or the TLS certificate/key "
			               "is not usable PEM)",
			               o->listen);
		return err_set(e, ERR_IO, "httpd: cannot listen on %s", o->listen);
	}
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : 0;
	if (h->batching) {
		if (pthread_create(&h->worker, NULL, batch_worker, h) != 0) {
			MHD_stop_daemon(h->d);
			httpd_free(h);
			return err_set(e, ERR_IO, "httpd: cannot start the worker thread");
		}
		h->worker_started = true;
	}
	if (pthread_create(&h->watchdog, NULL, watchdog, h) != 0) {
		httpd_stop(h); /* stops the worker, if any, and the server */
		return err_set(e, ERR_IO, "httpd: cannot start the request watchdog thread");
	}
	h->watchdog_started = true;
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
	if (h->worker_started) {
		/* no request is queued from now on; the worker answers what is queued and
		   resumes those connections, so that none is suspended when the server stops */
		pthread_mutex_lock(&h->mu);
		h->stopping = true;
		pthread_cond_signal(&h->cv);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->worker, NULL);
	}
	if (h->watchdog_started) {
		pthread_mutex_lock(&h->mu);
		h->stopping = true;
		pthread_cond_broadcast(&h->wcv);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->watchdog, NULL);
	}
	MHD_stop_daemon(h->d);
	httpd_free(h);
}
