/*
 * lmtp_server.h - the LMTP listener: a Unix or TCP stream socket served by a few worker
 * threads, each running the lmtp.h state machine for one connection at a time.
 *
 * Threading: start and stop from one thread (the daemon's main thread).  Each worker
 * thread polls the shared listening socket and a stop pipe; it accepts a connection and
 * serves it to the end (one connection at a time per worker), then accepts the next.
 * More clients than workers wait in the listen backlog.  Worker i calls the delivery
 * function with worker_ctx[i] only, so each context (its store) is used by one thread.
 */
#ifndef TLSRPTD_INBOUND_LMTP_SERVER_H
#define TLSRPTD_INBOUND_LMTP_SERVER_H

#include <stddef.h>

#include "inbound/lmtp.h"
#include "util/err.h"

struct lmtp_server_opts {
	const char *listen;       /* "unix:/path" or "HOST:PORT" ("[::1]:2424"); port 0: any */
	int socket_mode;          /* Unix socket permission bits; < 0: 0660 */
	const char *socket_group; /* Unix socket group (name or number); NULL: unchanged */
	int timeout_ms;           /* idle limit for a client read or write; <= 0: 5 min */
	size_t nworkers;          /* threads; 0: 1 */
	void *const *worker_ctx;  /* nworkers delivery contexts, borrowed, outlive the server */
	struct lmtp_opts proto;   /* protocol options; deliver_ctx is replaced per worker */
};

struct lmtp_server;

/*
 * Binds the socket (a stale Unix socket file is replaced; a live one or a non-socket is
 * an error), starts the workers.  Returns 0 and *out, or a negative code with e naming
 * the address.  The strings of o are borrowed and must outlive the server.
 */
int lmtp_server_start(const struct lmtp_server_opts *o, struct lmtp_server **out, struct err *e);

/* The bound TCP port (useful with port 0); 0 for a Unix socket. */
unsigned lmtp_server_port(const struct lmtp_server *s);

/*
 * Stops: every worker finishes the message it is delivering, answers its client
 * 421 4.3.2 and exits; the Unix socket file is removed.  NULL is a no-op.
 */
void lmtp_server_stop(struct lmtp_server *s);

#endif
