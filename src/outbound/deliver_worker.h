/*
 * deliver_worker.h - the delivery workers of the daemon: delivery.workers threads,
 * each running deliver_pass() at start and then every interval with its own store
 * connection; the DKIM signers and the DNS resolver are shared.
 *
 * A row is claimed before it is tried (store outbox_claim), so workers never send the
 * same row twice.  A failing pass is logged and retried at the next interval.
 * Testing: with the environment variable TLSRPT_DNS_ZONE set to a zone file, DNS is
 * answered from that file only (DNS_MODE_LOCAL, as `tlsrpt deliver --dns-zone`).
 * Threading: deliver_workers_start/stop from one controlling thread, after
 * net_global_init().
 */
#ifndef TLSRPTD_OUTBOUND_DELIVER_WORKER_H
#define TLSRPTD_OUTBOUND_DELIVER_WORKER_H

#include "config/conf.h"
#include "util/err.h"

struct deliver_workers;

/*
 * Loads the signers (an unknown id in report.tls.aggregate.sign or a key that does not
 * load is an error here, before anything is sent), creates the resolver, opens one
 * store connection per worker and starts the threads; interval_s <= 0 means 30 s.
 * conf must outlive the workers.  Returns 0 and *out, or a negative code with e set.
 */
int deliver_workers_start(const struct conf *conf, int interval_s, struct deliver_workers **out,
                          struct err *e);
/* Stops the threads (waiting for running attempts), closes, frees.  NULL: no-op. */
void deliver_workers_stop(struct deliver_workers *w);

#endif
