/*
 * collector_socket.c - the collector's datagram socket: see collector_socket.h.
 *
 * ../shared/spec/libtlsrpt-datagram.md: the MTA sends each result as one datagram to a
 * Unix socket; a large receive buffer (net.core.rmem_max) absorbs bursts.
 * Threading: called once from collector_start() before any thread runs.
 */
#include "collector/collector_socket.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/log.h"
#include "util/str.h"
#include "util/xalloc.h"

static int
lookup_ids(const struct collector_opts *o, uid_t *uid, gid_t *gid, struct err *e)
{
	char tmp[4096];
	uint64_t n;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (o->socket_owner && *o->socket_owner) {
		struct passwd pw, *res = NULL;
		if (str_to_u64(span_cstr(o->socket_owner), &n) == 0) {
			*uid = (uid_t)n;
		} else if (getpwnam_r(o->socket_owner, &pw, tmp, sizeof(tmp), &res) == 0 && res) {
			*uid = res->pw_uid;
		} else {
			return err_set(e, ERR_NOTFOUND, "collector.socket-owner: no user '%s'",
			               o->socket_owner);
		}
	}
	if (o->socket_group && *o->socket_group) {
		struct group gr, *res = NULL;
		if (str_to_u64(span_cstr(o->socket_group), &n) == 0) {
			*gid = (gid_t)n;
		} else if (getgrnam_r(o->socket_group, &gr, tmp, sizeof(tmp), &res) == 0 && res) {
			*gid = res->gr_gid;
		} else {
			return err_set(e, ERR_NOTFOUND, "collector.socket-group: no group '%s'",
			               o->socket_group);
		}
	}
	return 0;
}

/* Removes a stale socket file; refuses a non-socket or a live collector. */
static int
clear_stale(const char *path, const struct sockaddr_un *sa, struct err *e)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return err_set(e, ERR_IO, "collector.socket: %s: %s", path, strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return err_set(e, ERR_BADSTATE, "collector.socket: %s exists and is not a socket",
		               path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(e, ERR_IO, "socket: %s", strerror(errno));
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0)
		return err_set(e, ERR_BADSTATE,
		               "collector.socket: %s: another collector is listening on it", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(e, ERR_IO, "collector.socket: cannot remove stale %s: %s", path,
		               strerror(errno));
	log_info("collector removed stale socket path=%s", path);
	return 0;
}

static void
raise_rcvbuf(int fd)
{
	int want = 16 << 20, got = 0;
	socklen_t len = sizeof(got);

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) < 0) {
		/* not privileged: as far as net.core.rmem_max allows */
		FILE *f = fopen("/proc/sys/net/core/rmem_max", "r");
		long max = 0;
		if (f) {
			if (fscanf(f, "%ld", &max) != 1)
				max = 0;
			fclose(f);
		}
		if (max > 0) {
			want = max > want ? want : (int)max;
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
		}
	}
	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len);
	log_info("collector receive buffer bytes=%d", got);
}

int
collector_socket_bind(const struct collector_opts *o, int recv_timeout_ms, int *fd, char **path,
                      struct err *e)
{
	struct sockaddr_un sa;
	uid_t uid;
	gid_t gid;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (o->socket_path == NULL || *o->socket_path == '\0')
		return err_set(e, ERR_INVALID, "collector.socket: no path configured");
	if (str_copy(sa.sun_path, sizeof(sa.sun_path), o->socket_path) >= sizeof(sa.sun_path))
		return err_set(e, ERR_INVALID, "collector.socket: path longer than %zu bytes: %s",
		               sizeof(sa.sun_path) - 1, o->socket_path);
	rc = lookup_ids(o, &uid, &gid, e);
	if (rc)
		return rc;
	rc = clear_stale(o->socket_path, &sa, e);
	if (rc)
		return rc;
	*fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return err_set(e, ERR_IO, "socket: %s", strerror(errno));
	{
		struct timeval tv = { 0, recv_timeout_ms * 1000 };
		if (setsockopt(*fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
			return err_set(e, ERR_IO, "SO_RCVTIMEO: %s", strerror(errno));
	}
	if (bind(*fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return err_set(e, ERR_IO, "collector.socket: bind %s: %s", o->socket_path,
		               strerror(errno));
	*path = xstrdup(o->socket_path);
	if (chmod(o->socket_path, (mode_t)o->socket_mode) < 0)
		return err_set(e, ERR_IO, "collector.socket-mode: chmod %s: %s", o->socket_path,
		               strerror(errno));
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(o->socket_path, uid, gid) < 0)
		return err_set(e, ERR_IO, "collector.socket-owner: chown %s: %s", o->socket_path,
		               strerror(errno));
	raise_rcvbuf(*fd);
	return 0;
}
