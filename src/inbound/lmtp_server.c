/*
 * lmtp_server.c - socket I/O of the LMTP listener (RFC 2033 section 5: LMTP runs over a
 * Unix socket or TCP, never port 25).  The protocol is lmtp.c; see lmtp_server.h.
 *
 * Each worker thread: poll(listen fd, stop pipe) -> accept4 (non-blocking; another worker
 * may have taken the connection) -> serve: poll(client, stop pipe) with the idle timeout,
 * read, lmtp_feed, write every reply (poll for POLLOUT with the same timeout; MSG_NOSIGNAL).
 * The stop pipe is written once and never read, so every worker sees it.
 *
 * Threading: see lmtp_server.h.  Workers share nothing but the two descriptors.
 */
#include "inbound/lmtp_server.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/str.h"
#include "util/xalloc.h"

#define READ_CHUNK 16384
#define OUT_MAX ((size_t)1 << 20)

struct worker {
	struct lmtp_server *srv;
	pthread_t thread;
	bool started;
	void *ctx;
};

struct lmtp_server {
	struct lmtp_server_opts o;
	int fd;
	int stop[2];
	char *unix_path; /* set for a Unix socket: removed at stop */
	unsigned port;
	struct worker *w;
	size_t nw;
};

/* ------------------------------------------------------------------ binding */

static int
resolve_gid(const char *group, gid_t *gid, struct err *e)
{
	uint64_t n;
	struct group gr, *res = NULL;
	char tmp[4096];

	*gid = (gid_t)-1;
	if (group == NULL || *group == '\0')
		return 0;
	if (str_to_u64(span_cstr(group), &n) == 0) {
		*gid = (gid_t)n;
		return 0;
	}
	if (getgrnam_r(group, &gr, tmp, sizeof(tmp), &res) != 0 || res == NULL)
		return err_set(e, ERR_NOTFOUND, "lmtp.socket-group: no group '%s'", group);
	*gid = gr.gr_gid;
	return 0;
}

/* Removes a stale socket file; refuses a non-socket or a live listener. */
static int
clear_stale(const char *path, const struct sockaddr_un *sa, struct err *e)
{
	struct stat st;
	int fd, live;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return err_set(e, ERR_BADSTATE, "%s exists and is not a socket", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(e, ERR_IO, "socket: %s", strerror(errno));
	live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	if (live)
		return err_set(e, ERR_BADSTATE, "%s: another process is listening on it", path);
	if (unlink(path) != 0 && errno != ENOENT)
		return err_set(e, ERR_IO, "cannot remove stale %s: %s", path, strerror(errno));
	return 0;
}

static int
bind_unix(struct lmtp_server *s, const char *path, struct err *e)
{
	struct sockaddr_un sa;
	gid_t gid;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (*path == '\0' ||
	    str_copy(sa.sun_path, sizeof(sa.sun_path), path) >= sizeof(sa.sun_path))
		return err_set(e, ERR_INVALID, "unix socket path empty or longer than %zu bytes",
		               sizeof(sa.sun_path) - 1);
	if ((rc = resolve_gid(s->o.socket_group, &gid, e)) != 0)
		return rc;
	if ((rc = clear_stale(path, &sa, e)) != 0)
		return rc;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0)
		return err_set(e, ERR_IO, "socket: %s", strerror(errno));
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return err_set(e, ERR_IO, "bind %s: %s", path, strerror(errno));
	s->unix_path = xstrdup(path);
	if (chmod(path, (mode_t)(s->o.socket_mode < 0 ? 0660 : s->o.socket_mode)) != 0)
		return err_set(e, ERR_IO, "lmtp.socket-mode: chmod %s: %s", path, strerror(errno));
	if (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) != 0)
		return err_set(e, ERR_IO, "lmtp.socket-group: chown %s: %s", path, strerror(errno));
	return 0;
}

static int
bind_tcp(struct lmtp_server *s, const char *addr, struct err *e)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints, *ai = NULL;
	size_t hl;
	int one = 1, rc;

	if (colon == NULL || colon == addr)
		return err_set(e, ERR_INVALID, "expected unix:/path or HOST:PORT");
	hl = (size_t)(colon - addr);
	if (addr[0] == '[' && hl >= 2 && addr[hl - 1] == ']') {
		addr++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return err_set(e, ERR_INVALID, "host name too long");
	memcpy(host, addr, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc != 0)
		return err_set(e, ERR_INVALID, "%s: %s", host, gai_strerror(rc));
	s->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0) {
		freeaddrinfo(ai);
		return err_set(e, ERR_IO, "socket: %s", strerror(errno));
	}
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		freeaddrinfo(ai);
		return err_set(e, ERR_IO, "bind: %s", strerror(errno));
	}
	freeaddrinfo(ai);
	{
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

		if (getsockname(s->fd, (struct sockaddr *)&ss, &len) == 0)
			s->port = ntohs(ss.ss_family == AF_INET6
			                        ? ((struct sockaddr_in6 *)&ss)->sin6_port
			                        : ((struct sockaddr_in *)&ss)->sin_port);
	}
	return 0;
}

/* ------------------------------------------------------------------ serving */

/* Writes everything or fails (error, client gone, timeout). */
static int
send_all(struct lmtp_server *s, int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			if (poll(&pfd, 1, s->o.timeout_ms) <= 0)
				return -1;
			continue;
		}
		return -1;
	}
	return 0;
}

static void
serve(struct worker *w, int fd)
{
	struct lmtp_server *s = w->srv;
	struct lmtp_opts po = s->o.proto;
	struct lmtp_session *sess;
	struct buf out;
	char chunk[READ_CHUNK];
	bool open = true;

	po.deliver_ctx = w->ctx;
	buf_init(&out, OUT_MAX);
	sess = lmtp_session_new(&po, &out);
	while (open) {
		struct pollfd pfd[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = s->stop[0], .events = POLLIN },
		};
		int pr;
		ssize_t n;

		if (out.len) {
			if (send_all(s, fd, out.data, out.len) != 0)
				break;
			buf_reset(&out);
		}
		pr = poll(pfd, 2, s->o.timeout_ms);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0) {
			lmtp_timeout(sess, &out);
			open = false;
		} else if (pr < 0 || (pfd[1].revents & POLLIN)) {
			lmtp_shutdown(sess, &out);
			open = false;
		} else {
			n = recv(fd, chunk, sizeof(chunk), 0);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0)
				break; /* the client went away: an unfinished message is dropped */
			open = lmtp_feed(sess, chunk, (size_t)n, &out) == LMTP_OPEN;
		}
		if (!open && out.len)
			send_all(s, fd, out.data, out.len);
	}
	lmtp_session_free(sess);
	buf_clear(&out);
	close(fd);
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	struct lmtp_server *s = w->srv;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = s->fd, .events = POLLIN },
			{ .fd = s->stop[0], .events = POLLIN },
		};
		int fd;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("lmtp poll failed: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents & POLLIN)
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED) {
				log_error("lmtp accept failed: %s", strerror(errno));
				/* EMFILE and friends: do not spin */
				poll(NULL, 0, 100);
			}
			continue;
		}
		serve(w, fd);
	}
	return NULL;
}

/* ------------------------------------------------------------------ start / stop */

int
lmtp_server_start(const struct lmtp_server_opts *o, struct lmtp_server **out, struct err *e)
{
	struct lmtp_server *s = xcalloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	s->o = *o;
	s->fd = -1;
	s->stop[0] = s->stop[1] = -1;
	if (s->o.timeout_ms <= 0)
		s->o.timeout_ms = 5 * 60 * 1000;
	s->nw = o->nworkers ? o->nworkers : 1;
	if (strncmp(o->listen, "unix:", 5) == 0)
		rc = bind_unix(s, o->listen + 5, e);
	else
		rc = bind_tcp(s, o->listen, e);
	if (rc == 0 && listen(s->fd, 64) != 0)
		rc = err_set(e, ERR_IO, "listen: %s", strerror(errno));
	if (rc == 0 && pipe2(s->stop, O_CLOEXEC) != 0)
		rc = err_set(e, ERR_IO, "pipe: %s", strerror(errno));
	if (rc != 0) {
		lmtp_server_stop(s);
		return rc;
	}
	s->w = xcalloc(s->nw, sizeof(*s->w));
	for (size_t i = 0; i < s->nw; i++) {
		s->w[i].srv = s;
		s->w[i].ctx = o->worker_ctx ? o->worker_ctx[o->nworkers ? i : 0] : NULL;
		if (pthread_create(&s->w[i].thread, NULL, run, &s->w[i]) != 0) {
			lmtp_server_stop(s);
			return err_set(e, ERR_IO, "cannot start the LMTP threads");
		}
		s->w[i].started = true;
	}
	*out = s;
	return 0;
}

unsigned
lmtp_server_port(const struct lmtp_server *s)
{
	return s ? s->port : 0;
}

void
lmtp_server_stop(struct lmtp_server *s)
{
	if (s == NULL)
		return;
	if (s->stop[1] >= 0 && write(s->stop[1], "x", 1) != 1)
		log_error("lmtp stop: write failed: %s", strerror(errno));
	for (size_t i = 0; i < s->nw && s->w; i++)
		if (s->w[i].started)
			pthread_join(s->w[i].thread, NULL);
	if (s->fd >= 0)
		close(s->fd);
	if (s->unix_path)
		unlink(s->unix_path);
	for (int i = 0; i < 2; i++)
		if (s->stop[i] >= 0)
			close(s->stop[i]);
	free(s->unix_path);
	free(s->w);
	free(s);
}
