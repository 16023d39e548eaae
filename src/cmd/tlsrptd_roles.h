/*
 * tlsrptd_roles.h - the parts of the tlsrptd daemon's wiring (src/cmd/tlsrptd_*.c).
 */
#ifndef TLSRPTD_CMD_TLSRPTD_ROLES_H
#define TLSRPTD_CMD_TLSRPTD_ROLES_H

#include <stddef.h>

#include "config/conf.h"
#include "util/err.h"

struct receiver;

/* server.roles: the parts of the daemon this host runs (bits). */
enum {
	ROLE_COLLECTOR = 1, /* datagram socket and flusher */
	ROLE_REPORTER = 2,  /* report generation scheduler, delivery workers, alerts */
	ROLE_RECEIVER = 4,  /* report upload endpoint and the LMTP listener */
	ROLE_WEB = 8,       /* web UI / API on web.listen */
	ROLE_ALL = 15,
};

/* The roles server.roles names ("all" is every role; [] is none). */
unsigned roles_of(const struct conf *conf);
/* "collector,reporter" (in that order; "none" for 0), truncated to fit cap. */
void roles_format(unsigned roles, char *out, size_t cap);

/*
 * Starts the HTTP listener on web.listen: with ROLE_RECEIVER in roles the RFC 8460 upload
 * endpoint (POST web.upload-path, its own store connection), with ROLE_WEB the API,
 * dashboard and /metrics (another store connection; /api/v1/collector reads col's
 * counters when col is not NULL: col must outlive the receiver).  *out is NULL (and 0 is
 * returned) when web.listen is empty.  Errors (address in use, unusable TLS files) are
 * returned with a message.
 */
struct collector;
int receiver_start(const struct conf *conf, unsigned roles, struct collector *col,
                   struct receiver **out, struct err *e);
/* Stops the endpoint and closes its store; NULL is a no-op. */
void receiver_stop(struct receiver *r);

struct lmtp_listener;

/*
 * Starts the LMTP listener (issue 8) on lmtp.listen: lmtp.workers threads, each with its
 * own store connection, accepting mail for report.analysis.addresses and keeping it in
 * lmtp.forward-maildir per report.analysis.forward.  *out is NULL (and 0 is returned)
 * when lmtp.listen is empty.  Errors (address in use, store, Maildir) come with a message.
 */
int lmtp_listener_start(const struct conf *conf, struct lmtp_listener **out, struct err *e);
/* Stops the listener (clients get 421), closes its stores; NULL is a no-op. */
void lmtp_listener_stop(struct lmtp_listener *l);

#endif
