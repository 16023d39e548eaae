/*
 * tlsrptd_roles.h - the parts of the tlsrptd daemon's wiring (src/cmd/tlsrptd_*.c).
 */
#ifndef TLSRPTD_CMD_TLSRPTD_ROLES_H
#define TLSRPTD_CMD_TLSRPTD_ROLES_H

#include "config/conf.h"
#include "util/err.h"

struct receiver;

/*
 * Starts the report receiver: the RFC 8460 HTTP upload endpoint (POST web.upload-path)
 * on web.listen, storing through its own store connection.  *out is NULL (and 0 is
 * returned) when web.listen is empty.  Errors (address in use, unusable TLS files) are
 * returned with a message.
 */
int receiver_start(const struct conf *conf, struct receiver **out, struct err *e);
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
