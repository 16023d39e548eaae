/*
 * alerts_worker.c - the daemon's alert thread (see alerts.h): alerts_run() at start
 * and then every alerts.interval, with its own store connection.  A failing pass is
 * logged and retried at the next interval.
 * Threading: one worker thread; start/stop from the controlling thread; the stop flag
 * and the condition variable are guarded by the mutex.
 */
#include "outbound/alerts.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "util/log.h"
#include "util/xalloc.h"

struct alerts_worker {
	const struct conf *conf;
	struct store *store;
	int64_t interval_ms;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

static void *
run(void *arg)
{
	struct alerts_worker *w = arg;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		struct alerts_pass st;
		struct err e = { 0 };
		struct timespec until;

		pthread_mutex_unlock(&w->mu);
		if (alerts_run(w->conf, w->store, NULL, false, NULL, &st, &e) != 0)
			log_error("msg=\"alert evaluation failed; retrying later\" error=\"%s\"",
			          e.msg);
		else if (st.fired > 0)
			log_info("msg=\"alert pass\" fired=%zu sent=%zu suppressed=%zu failed=%zu",
			         st.fired, st.sent, st.suppressed, st.failed);
		pthread_mutex_lock(&w->mu);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += w->interval_ms / 1000;
		until.tv_nsec += (long)(w->interval_ms % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &until) == 0)
			;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int
alerts_worker_start(const struct conf *c, struct alerts_worker **out, struct err *e)
{
	size_t n = 0;
	struct alerts_worker *w;
	int rc;

	*out = NULL;
	conf_ids(c, "alert", &n);
	if (n == 0)
		return 0;
	w = xcalloc(1, sizeof(*w));
	rc = store_open_conf(c, &w->store, e);
	if (rc) {
		free(w);
		return err_prefix(e, "alerts");
	}
	w->conf = c;
	w->interval_ms = conf_duration_ms(c, "alerts.interval");
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		store_close(w->store);
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w);
		return err_set(e, ERR_IO, "alerts: cannot start the thread");
	}
	log_info("alerts enabled rules=%zu interval_ms=%lld state=%s", n, (long long)w->interval_ms,
	         alerts_state_path(c));
	*out = w;
	return 0;
}

void
alerts_worker_stop(struct alerts_worker *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	store_close(w->store);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
