/*
 * scheduler.c - the daemon's report scheduler thread (see scheduler.h).
 *
 * RFC 8460 section 4.1 (reports per window); the schedule itself is generate.h's.
 * Threading: one worker thread; start/stop from the controlling thread; the stop flag
 * and the condition variable are guarded by the mutex.
 */
#include "outbound/scheduler.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "outbound/generate.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

struct outbound_scheduler {
	const struct conf *conf;
	struct store *store;
	int interval_s;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

/*
 * Retention (report.tls.aggregate.retention): at most once an hour, outbox reports and
 * the counters of reported windows older than the retention age are deleted.
 */
static void
purge_if_due(struct outbound_scheduler *s, int64_t *last)
{
	int64_t now = clock_now(NULL);
	uint64_t nr = 0, nw = 0;
	struct err e = { 0 };

	if (now - *last < 3600)
		return;
	*last = now;
	int64_t age = conf_duration_ms(s->conf, "report.tls.aggregate.retention") / 1000;
	if (s->store->ops->purge(s->store, now - age, &nr, &nw, &e) != 0)
		log_error("msg=\"outbox purge failed; retrying in an hour\" error=\"%s\"", e.msg);
	else if (nr || nw)
		log_info("msg=\"outbox purged\" reports=%llu windows=%llu older_than_s=%lld",
		         (unsigned long long)nr, (unsigned long long)nw, (long long)age);
}

static void *
run(void *arg)
{
	struct outbound_scheduler *s = arg;
	struct outbound_opts o = { .conf = s->conf, .store = s->store };

	int64_t last_purge = 0;

	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		struct outbound_stats st = { 0 };
		struct err e = { 0 };
		struct timespec until;

		pthread_mutex_unlock(&s->mu);
		if (outbound_run(&o, &st, &e) != 0)
			log_error("msg=\"report generation failed; retrying later\" error=\"%s\"",
			          e.msg);
		else if (st.windows > 0)
			log_info("msg=\"scheduler pass\" windows=%llu reports=%llu invalid=%llu "
			         "dropped_details=%llu",
			         (unsigned long long)st.windows, (unsigned long long)st.reports,
			         (unsigned long long)st.invalid,
			         (unsigned long long)st.dropped_details);
		purge_if_due(s, &last_purge);
		pthread_mutex_lock(&s->mu);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += s->interval_s;
		while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
			;
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int
outbound_scheduler_start(const struct conf *conf, int interval_s, struct outbound_scheduler **out,
                         struct err *e)
{
	struct outbound_scheduler *s = xcalloc(1, sizeof(*s));
	int rc = store_open_conf(conf, &s->store, e);

	if (rc == 0 && (rc = store_supports(s->store, STORE_AREA_OUTBOX, e)) != 0)
		store_close(s->store);
	if (rc) {
		free(s);
		return err_prefix(e, "report scheduler");
	}
	s->conf = conf;
	s->interval_s = interval_s > 0 ? interval_s : 60;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pthread_create(&s->thread, NULL, run, s) != 0) {
		store_close(s->store);
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		free(s);
		return err_set(e, ERR_IO, "report scheduler: cannot start its thread");
	}
	*out = s;
	return 0;
}

void
outbound_scheduler_stop(struct outbound_scheduler *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	store_close(s->store);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}
