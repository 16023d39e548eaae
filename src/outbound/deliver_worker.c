/*
 * deliver_worker.c - delivery worker threads of the daemon (see deliver_worker.h).
 * Threading: `stop` and the condition variable are guarded by the mutex; each thread
 * owns its store connection; signers and dns are shared read-only / locked inside.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "outbound/deliver.h"
#include "outbound/deliver_worker.h"
#include "util/log.h"
#include "util/xalloc.h"

struct worker {
	struct deliver_workers *w;
	struct store *store;
	pthread_t thread;
	bool started;
};

struct deliver_workers {
	const struct conf *conf;
	struct signers signers;
	struct dns *dns;
	int interval_s;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct worker *v;
	size_t n;
};

static void *
run(void *arg)
{
	struct worker *k = arg;
	struct deliver_workers *w = k->w;
	struct deliver_opts o = {
		.conf = w->conf, .store = k->store, .dns = w->dns, .signers = &w->signers
	};

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		struct deliver_stats st = { 0 };
		struct err e = { 0 };
		struct timespec until;
		int rc;

		pthread_mutex_unlock(&w->mu);
		rc = deliver_pass(&o, &st, &e);
		if (rc != 0)
			log_error("msg=\"delivery pass failed; retrying later\" error=\"%s\"",
			          e.msg);
		else if (st.attempts > 0 || st.deferred > 0)
			log_info("msg=\"delivery pass\" attempts=%llu sent=%llu failed=%llu "
			         "given_up=%llu deferred=%llu",
			         (unsigned long long)st.attempts, (unsigned long long)st.sent,
			         (unsigned long long)st.failed, (unsigned long long)st.given_up,
			         (unsigned long long)st.deferred);
		pthread_mutex_lock(&w->mu);
		/*
		 * A pass looks at up to 100 due reports, and with several workers (or hosts)
		 * most of them are claimed by the others: while a pass still tried something,
		 * the next one starts at once instead of after the interval.  Rows that failed
		 * wait for their next_try, so this ends when nothing is due.
		 */
		if (rc == 0 && st.attempts > 0)
			continue;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += w->interval_s;
		while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &until) == 0)
			;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

void
deliver_workers_stop(struct deliver_workers *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (size_t i = 0; i < w->n; i++) {
		if (w->v[i].started)
			pthread_join(w->v[i].thread, NULL);
		store_close(w->v[i].store);
	}
	free(w->v);
	dns_free(w->dns);
	signers_free(&w->signers);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}

int
deliver_workers_start(const struct conf *conf, int interval_s, struct deliver_workers **out,
                      struct err *e)
{
	struct deliver_workers *w = xcalloc(1, sizeof(*w));
	int64_t n = conf_int(conf, "delivery.workers");
	struct dns_opts dopts;

	*out = NULL;
	w->conf = conf;
	w->interval_s = interval_s > 0 ? interval_s : 30;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (signers_load(conf, &w->signers, e) != 0) {
		deliver_workers_stop(w);
		return ERR_INVALID;
	}
	dns_opts_default(&dopts);
	/* tests: DNS answered only from a zone file, nothing leaves the process */
	const char *zone = getenv("TLSRPT_DNS_ZONE");
	if (zone != NULL && *zone != '\0')
		dopts.mode = DNS_MODE_LOCAL;
	w->dns = dns_new(&dopts, e);
	if (w->dns == NULL ||
	    (dopts.mode == DNS_MODE_LOCAL && dns_add_local_file(w->dns, zone, e) != 0)) {
		deliver_workers_stop(w);
		return err_prefix(e, "report delivery: DNS");
	}
	if (dopts.mode == DNS_MODE_LOCAL)
		log_warn("report delivery: DNS answers only from TLSRPT_DNS_ZONE=%s (testing)",
		         zone);
	w->n = n > 0 ? (size_t)n : 1;
	w->v = xcalloc(w->n, sizeof(*w->v));
	for (size_t i = 0; i < w->n; i++) {
		w->v[i].w = w;
		if (store_open_conf(conf, &w->v[i].store, e) != 0 ||
		    store_supports(w->v[i].store, STORE_AREA_DELIVERY, e) != 0) {
			deliver_workers_stop(w);
			return err_prefix(e, "report delivery");
		}
	}
	for (size_t i = 0; i < w->n; i++) {
		if (pthread_create(&w->v[i].thread, NULL, run, &w->v[i]) != 0) {
			deliver_workers_stop(w);
			return err_set(e, ERR_IO, "report delivery: cannot start its threads");
		}
		w->v[i].started = true;
	}
	*out = w;
	return 0;
}
