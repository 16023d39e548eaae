/*
 * count_recv.c - the physical-limit baseline for the collector benchmark: a minimal
 * receiver that binds a Unix datagram socket the way the collector does (16 MiB
 * receive buffer, recvmmsg batches of 64) and only counts datagrams and bytes.
 *
 *   count_recv SOCKET      prints "ready", then on SIGTERM "received=N bytes=B"
 *
 * bench/collector.sh runs the same sender against it and against tlsrptd, so the
 * collector's throughput can be read as a fraction of what the socket itself allows.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/str.h"

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	enum { BATCH = 64, SLOT = 65536 };
	static char bufs[BATCH][SLOT];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_un sa;
	unsigned long long count = 0, bytes = 0;
	int want = 16 << 20;

	if (argc != 2) {
		fprintf(stderr, "usage: count_recv SOCKET\n");
		return 2;
	}
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	str_copy(sa.sun_path, sizeof(sa.sun_path), argv[1]);
	unlink(argv[1]);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "count_recv: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
	struct sigaction act;
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_term; /* no SA_RESTART: recvmmsg returns EINTR */
	sigaction(SIGTERM, &act, NULL);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = SLOT;
			memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0)
			continue;
		count += (unsigned)n;
		for (int i = 0; i < n; i++)
			bytes += msgs[i].msg_len;
	}
	printf("received=%llu bytes=%llu\n", count, bytes);
	close(fd);
	unlink(argv[1]);
	return 0;
}
