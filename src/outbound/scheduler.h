/*
 * scheduler.h - the report scheduler thread of the daemon: one outbound_run() pass at
 * start (windows missed while the daemon was down) and then every interval.
 *
 * The thread opens its own store connection (store.h: one per thread) and reads the
 * configuration, which must outlive the scheduler.  A failing pass is logged and
 * retried at the next interval; the window it failed on stays open (generate.h).
 * Threading: outbound_scheduler_start/stop from one controlling thread.
 */
#ifndef TLSRPTD_OUTBOUND_SCHEDULER_H
#define TLSRPTD_OUTBOUND_SCHEDULER_H

#include "config/conf.h"
#include "util/err.h"

struct outbound_scheduler;

/*
 * Opens the store named by the configuration and starts the thread; interval_s <= 0
 * means 60 s.  Returns 0 and *out, or a negative code with e set.
 */
int outbound_scheduler_start(const struct conf *conf, int interval_s,
                             struct outbound_scheduler **out, struct err *e);
/* Stops the thread (waiting for a running pass), closes its store, frees.  NULL: no-op. */
void outbound_scheduler_stop(struct outbound_scheduler *s);

#endif
