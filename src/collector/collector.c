/*
 * collector.c - the collector role: receive loop, counting, flushing (the socket setup is
 * in collector_socket.c).
 * See collector.h for the contract, the durability bound and the late-result rule.
 *
 * Implements the receiving side of ../shared/spec/libtlsrpt-datagram.md and the
 * counting rules of RFC 8460 section 4.4; windows are UTC-aligned (section 4.1).
 * RFC 8460 section 3: a delivery that carried a TLS report ("rpt":1) is not counted.
 *
 * Threading: the receiver thread owns the socket, the decoder, the current aggregate
 * and the period cache; the flusher thread owns the store handle and the aggregate in
 * `work`.  Aggregates change hands under `mu` (work/spare/quit), never shared while
 * in use; after a failed flush the flusher hands its aggregate back as `failed` and the
 * receiver merges it (outage buffering, see collector.h); `failures`, `retry_at` (the
 * backoff) and `flush_started` are guarded by `mu`.  Statistics are atomics that any
 * thread may read.  The stop request is an atomic flag seen within RECV_TIMEOUT_MS; the
 * receiver then drains, hands over its last aggregate and sets quit.
 */
#include "collector/collector.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "collector/aggregate.h"
#include "collector/collector_metrics.h"
#include "collector/collector_socket.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/str.h"
#include "util/xalloc.h"

enum {
	BATCH = 64,                 /* datagrams per recvmmsg */
	RECV_BUF = DG_MAX_SIZE + 1, /* one more byte so that MSG_TRUNC catches oversize */
	PERIOD_CACHE_MAX = 100000,  /* domains; the cache is emptied when it is full */
	FUTURE_SLACK = 300,         /* seconds a ts may be ahead of our clock */
	PAST_LIMIT = 8 * 86400,     /* oldest ts accepted (queued mail lives 5 days) */
	RECV_TIMEOUT_MS = 50,       /* longest blocking receive between timer checks */
	RETRY_MIN_MS = 1000,        /* first retry after a failed flush, doubling ... */
	RETRY_MAX_MS = 30000,       /* ... up to this */
	QUIT_TRIES = 5,             /* flush attempts at shutdown before giving up */
	STALL_MS = 30000,           /* a flush running this long counts as an outage */
};

struct period_entry {
	enum window_period period;
	size_t len;
	char name[];
};

struct collector {
	struct collector_opts opts;
	struct datagram_decoder dec;
	struct datagram dg;
	struct aggregate *agg;
	struct hmap periods;
	struct log_ratelimit rl;
	char *dump_dir;
	unsigned dumped_files;
	size_t dumped_bytes;

	/* socket mode */
	int fd;
	char *path;
	pthread_t thread;
	bool running;
	/* flusher thread: takes `work` from the receiver, gives it back cleared as `spare` */
	pthread_t flusher;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct aggregate *work;       /* being flushed; NULL when the flusher is idle */
	struct aggregate *spare;      /* an empty aggregate for the next hand-over */
	struct aggregate *failed;     /* handed back after a failed attempt, for the receiver */
	unsigned failures;            /* consecutive failed flush attempts */
	int64_t retry_at;             /* monotonic ns: no hand-over before (backoff) */
	int64_t flush_started;        /* monotonic ns: when `work` was handed over */
	bool quit;                    /* receiver has handed over its last aggregate */
	struct log_ratelimit drop_rl; /* receiver thread */
	atomic_bool stopping;         /* collector_stop asks the receiver to finish */
	char *bufs;
	struct mmsghdr *msgs;
	struct iovec *iov;

	_Atomic uint64_t st_datagrams, st_accepted, st_rejected;
	_Atomic uint64_t st_rejected_by[DG_REJECT_COUNT_];
	_Atomic uint64_t st_success, st_failure, st_details, st_never, st_rpt, st_late, st_ts_range,
	        st_flushes, st_flush_errors, st_dumped, st_pending;
	_Atomic uint64_t st_dropped, st_commit_unknown; /* several writers: atomic adds */
};

/*
 * Every counter has exactly one writing thread (the receiver; st_late, st_flushes and
 * st_flush_errors: the flusher), so a relaxed load + store is enough for readers in
 * other threads and avoids a locked read-modify-write per datagram.  st_dropped and
 * st_commit_unknown have two writers and use atomic adds (they change rarely).
 */
#define ADD(field, n)                                                                              \
	atomic_store_explicit(&c->field,                                                           \
	                      atomic_load_explicit(&c->field, memory_order_relaxed) + (n),         \
	                      memory_order_relaxed)
#define GET(field) atomic_load_explicit(&c->field, memory_order_relaxed)

/* ---------------------------------------------------------------- periods */

struct name_key {
	const char *p;
	size_t len;
};

static bool
period_eq(const void *item, const void *key)
{
	const struct period_entry *e = item;
	const struct name_key *k = key;

	return e->len == k->len && memcmp(e->name, k->p, k->len) == 0;
}

static void
periods_clear(struct collector *c)
{
	void *p;

	for (size_t i = 0; hmap_next(&c->periods, &i, &p);)
		free(p);
	hmap_clear(&c->periods);
	hmap_init(&c->periods);
}

static enum window_period
period_of(struct collector *c, struct span domain)
{
	struct name_key k = { domain.p, domain.len };
	uint64_t h = hash_bytes(domain.p, domain.len, 0x5bd1e995);
	struct period_entry *e = hmap_find(&c->periods, h, period_eq, &k);

	if (e != NULL)
		return e->period;
	if (c->periods.count >= PERIOD_CACHE_MAX)
		periods_clear(c);
	e = xmalloc(sizeof(*e) + domain.len + 1);
	e->len = domain.len;
	memcpy(e->name, domain.p, domain.len);
	e->name[domain.len] = '\0';
	e->period =
	        c->opts.period_for ? c->opts.period_for(c->opts.period_ctx, e->name) : WINDOW_DAILY;
	hmap_insert(&c->periods, h, e);
	return e->period;
}

/* ---------------------------------------------------------------- rejections */

/* A short printable excerpt: bytes outside 0x20..0x7e as \xHH, at most 80 bytes in. */
static void
excerpt(const char *p, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len && i < 80 && o + 5 < cap; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
			out[o++] = (char)ch;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	if (len > 80 && o + 4 < cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Files already in the dump folder count against its bounds (they survive restarts). */
static void
count_dumps(struct collector *c)
{
	DIR *d = opendir(c->dump_dir);
	struct dirent *de;

	if (d == NULL) {
		log_warn("collector dump folder unusable path=%s error=\"%s\"", c->dump_dir,
		         strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode)) {
			c->dumped_files++;
			c->dumped_bytes += (size_t)st.st_size;
		}
	}
	closedir(d);
}

static void
dump(struct collector *c, const char *p, size_t len, enum dg_reject r, int64_t now)
{
	char path[4096];
	int fd;
	ssize_t w;

	if (c->dump_dir == NULL || c->dumped_files >= c->opts.dump_max_files ||
	    c->dumped_bytes + len > c->opts.dump_max_bytes)
		return;
	snprintf(path, sizeof(path), "%s/%lld-%d-%u-%s.bin", c->dump_dir, (long long)now,
	         (int)getpid(), c->dumped_files, datagram_reject_name(r));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_warn("collector dump failed path=%s error=\"%s\"", path, strerror(errno));
		return;
	}
	w = write(fd, p, len);
	close(fd);
	if (w != (ssize_t)len)
		return;
	c->dumped_files++;
	c->dumped_bytes += len;
	ADD(st_dumped, 1);
}

static void
reject(struct collector *c, const char *p, size_t len, enum dg_reject r, int64_t now)
{
	uint64_t suppressed = 0;

	ADD(st_rejected, 1);
	ADD(st_rejected_by[r], 1);
	collector_metrics_reject(r);
	if (log_ratelimit_ok(&c->rl, now, &suppressed)) {
		char ex[400];
		excerpt(p, len, ex, sizeof(ex));
		log_warn("collector rejected datagram reason=%s bytes=%zu suppressed=%llu "
		         "excerpt=\"%s\"",
		         datagram_reject_name(r), len, (unsigned long long)suppressed, ex);
	}
	dump(c, p, len, r, now);
}

/* ---------------------------------------------------------------- counting */

enum dg_reject
collector_feed(struct collector *c, const char *p, size_t len, int64_t now)
{
	struct datagram *dg = &c->dg;
	enum dg_reject r;
	int64_t t;
	enum window_period period;
	struct agg_item *dom;

	ADD(st_datagrams, 1);
	collector_metrics_datagram();
	r = datagram_decode(&c->dec, p, len, dg);
	if (r != DG_OK) {
		reject(c, p, len, r, now);
		return r;
	}
	ADD(st_accepted, 1);
	t = now;
	if (dg->has_ts) {
		if (dg->ts > now + FUTURE_SLACK || dg->ts < now - PAST_LIMIT)
			ADD(st_ts_range, 1);
		else
			t = dg->ts;
	}
	if (dg->report_delivery) {
		ADD(st_rpt, dg->npolicies);
		return DG_OK;
	}
	dom = aggregate_domain(c->agg, dg->domain);
	if (dom->user < 0)
		dom->user = (int)period_of(c, dg->domain);
	period = (enum window_period)dom->user;
	if (period == WINDOW_NEVER) {
		ADD(st_never, dg->npolicies);
		return DG_OK;
	}
	for (unsigned i = 0; i < dg->npolicies; i++) {
		const struct dg_policy *pol = &dg->policy[i];
		aggregate_add(c->agg, period, window_start(period, t), dom, dg, pol);
		collector_metrics_session(dg, pol);
		if (pol->failed)
			ADD(st_failure, 1);
		else
			ADD(st_success, 1);
		ADD(st_details, pol->ndetails);
	}
	atomic_store_explicit(&c->st_pending, aggregate_count(c->agg), memory_order_relaxed);
	return DG_OK;
}

static int
cached_id(struct collector *c, struct aggregate *agg, struct agg_item *it, bool policy, int64_t *id,
          struct err *e)
{
	struct store *s = c->opts.store;
	uint64_t gen = aggregate_id_gen(agg);
	int rc;

	if (it->store_gen == gen) {
		*id = it->store_id;
		return 0;
	}
	if (policy)
		rc = s->ops->policy_id(s, span_make(it->data, it->len),
		                       datagram_policy_type_name(it->kind_code), it->extra, id, e);
	else
		rc = s->ops->detail_id(s, span_make(it->data, it->len),
		                       datagram_result_name(it->kind_code), id, e);
	if (rc)
		return rc;
	it->store_id = *id;
	it->store_gen = gen;
	return 0;
}

/* Writes agg's deltas in one transaction; clears them only after the commit. */
static int
flush_agg(struct collector *c, struct aggregate *agg, struct err *e)
{
	struct store *s = c->opts.store;
	struct agg_sess *ss;
	uint64_t late = 0;
	int64_t t0 = clock_mono_ns();
	int rc;

	if (aggregate_count(agg) == 0)
		return 0;
	if (s == NULL) {
		aggregate_clear_counts(agg);
		return 0;
	}
	rc = s->ops->begin(s, e);
	if (rc)
		goto fail;
	for (size_t i = 0; aggregate_next(agg, &i, &ss);) {
		struct store_window_key k = { ss->period, ss->start,
			                      span_make(ss->domain->data, ss->domain->len),
			                      span_make(ss->record->data, ss->record->len) };
		enum store_window_state state;
		int64_t wid, pid;

		for (int hops = 0;; hops++) {
			rc = s->ops->window_open(s, &k, &wid, &state, e);
			if (rc)
				goto fail;
			if (state == STORE_WINDOW_OPEN)
				break;
			if (hops >= 10000) {
				rc = err_set(e, ERR_BADSTATE, "no open window for domain %s",
				             ss->domain->data);
				goto fail;
			}
			k.start = window_next(k.period, k.start);
		}
		if (k.start != ss->start)
			late += ss->success + ss->failure;
		rc = cached_id(c, agg, ss->policy, true, &pid, e);
		if (rc)
			goto fail;
		rc = s->ops->add_sessions(s, wid, pid, ss->success, ss->failure, e);
		if (rc)
			goto fail;
		for (struct agg_fail *f = ss->fails; f; f = f->next) {
			int64_t did;
			rc = cached_id(c, agg, f->detail, false, &did, e);
			if (rc)
				goto fail;
			rc = s->ops->add_failures(s, wid, pid, did, f->count, e);
			if (rc)
				goto fail;
		}
	}
	rc = s->ops->commit(s, e);
	if (rc)
		goto fail;
	ADD(st_flushes, 1);
	collector_metrics_flush(true, clock_mono_ns() - t0);
	ADD(st_late, late);
	aggregate_clear_counts(agg);
	if (aggregate_bytes(agg) > c->opts.max_memory / 2)
		aggregate_reset(agg);
	return 0;
fail:
	s->ops->rollback(s);
	/* ids handed out inside the rolled-back transaction are void */
	aggregate_invalidate_ids(agg);
	ADD(st_flush_errors, 1);
	collector_metrics_flush(false, clock_mono_ns() - t0);
	return rc;
}

/* Sessions (success + failure) held in agg. */
static uint64_t
sessions_in(const struct aggregate *agg)
{
	struct agg_sess *ss;
	uint64_t n = 0;

	for (size_t i = 0; aggregate_next(agg, &i, &ss);)
		n += ss->success + ss->failure;
	return n;
}

/* Drops agg's counters for good (why: the log's reason); they count as dropped. */
static void
drop_all(struct collector *c, struct aggregate *agg, enum collector_drop drop, const char *why,
         const char *error)
{
	uint64_t n = sessions_in(agg);

	atomic_fetch_add(&c->st_dropped, n);
	collector_metrics_dropped(drop, n);
	log_error("collector dropped counters reason=%s sessions=%llu counters=%zu "
	          "dropped_total=%llu error=\"%s\"",
	          why, (unsigned long long)n, aggregate_count(agg),
	          (unsigned long long)atomic_load(&c->st_dropped), error);
	aggregate_clear_counts(agg);
}

/*
 * A commit whose outcome is unknown (STORE_ECOMMIT_UNKNOWN) is not retried: retrying
 * could count every delta twice.  At most once: the deltas are dropped and counted.
 */
static void
commit_unknown(struct collector *c, struct aggregate *agg, const struct err *e)
{
	atomic_fetch_add(&c->st_commit_unknown, 1);
	drop_all(c, agg, COLLECTOR_DROP_COMMIT_UNKNOWN, "commit-outcome-unknown", e->msg);
}

int
collector_flush(struct collector *c, struct err *e)
{
	int rc = flush_agg(c, c->agg, e);

	if (rc == STORE_ECOMMIT_UNKNOWN)
		commit_unknown(c, c->agg, e);
	if (rc == 0 || rc == STORE_ECOMMIT_UNKNOWN)
		atomic_store_explicit(&c->st_pending, 0, memory_order_relaxed);
	return rc;
}

int
collector_new(const struct collector_opts *opts, struct collector **out, struct err *e)
{
	struct collector *c = xcalloc(1, sizeof(*c));

	(void)e;
	c->opts = *opts;
	if (c->opts.flush_interval_ms <= 0)
		c->opts.flush_interval_ms = 1000;
	if (c->opts.max_memory == 0)
		c->opts.max_memory = 16u << 20;
	if (c->opts.dump_max_files == 0)
		c->opts.dump_max_files = 100;
	if (c->opts.dump_max_bytes == 0)
		c->opts.dump_max_bytes = 10u << 20;
	if (c->opts.socket_mode < 0)
		c->opts.socket_mode = 0666;
	c->dump_dir = opts->dump_dir ? xstrdup(opts->dump_dir) : NULL;
	if (c->dump_dir)
		count_dumps(c);
	c->opts.dump_dir = c->dump_dir;
	c->opts.socket_path = NULL;
	c->opts.socket_owner = NULL;
	c->opts.socket_group = NULL;
	datagram_decoder_init(&c->dec);
	c->agg = aggregate_new();
	hmap_init(&c->periods);
	c->rl.interval = 10;
	c->rl.burst = 5;
	c->drop_rl.interval = 10;
	c->drop_rl.burst = 3;
	c->fd = -1;
	*out = c;
	return 0;
}

void
collector_free(struct collector *c)
{
	if (c == NULL)
		return;
	datagram_decoder_clear(&c->dec);
	aggregate_free(c->agg);
	aggregate_free(c->spare);
	aggregate_free(c->work);
	aggregate_free(c->failed);
	periods_clear(c);
	hmap_clear(&c->periods);
	free(c->dump_dir);
	free(c->path);
	free(c->bufs);
	free(c->msgs);
	free(c->iov);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

void
collector_get_stats(struct collector *c, struct collector_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->datagrams = GET(st_datagrams);
	out->accepted = GET(st_accepted);
	out->rejected = GET(st_rejected);
	for (int i = 0; i < DG_REJECT_COUNT_; i++)
		out->rejected_by[i] = GET(st_rejected_by[i]);
	out->sessions_success = GET(st_success);
	out->sessions_failure = GET(st_failure);
	out->failure_details = GET(st_details);
	out->never_sessions = GET(st_never);
	out->report_deliveries = GET(st_rpt);
	out->late_sessions = GET(st_late);
	out->ts_out_of_range = GET(st_ts_range);
	out->flushes = GET(st_flushes);
	out->flush_errors = GET(st_flush_errors);
	out->dumped = GET(st_dumped);
	out->pending = GET(st_pending);
	out->dropped = atomic_load(&c->st_dropped);
	out->commit_unknown = atomic_load(&c->st_commit_unknown);
}

/*
 * Receiver: takes an aggregate the flusher handed back after a failed attempt into its
 * own (the smaller is merged into the larger).  Called with mu held; drops it meanwhile.
 */
static void
absorb_failed_locked(struct collector *c)
{
	while (c->failed != NULL) {
		struct aggregate *f = c->failed;

		c->failed = NULL;
		pthread_mutex_unlock(&c->mu);
		if (aggregate_count(f) >= aggregate_count(c->agg)) {
			aggregate_merge(f, c->agg);
			aggregate_free(c->agg);
			c->agg = f;
		} else {
			aggregate_merge(c->agg, f);
			aggregate_free(f);
		}
		atomic_store_explicit(&c->st_pending, aggregate_count(c->agg),
		                      memory_order_relaxed);
		pthread_mutex_lock(&c->mu);
	}
}

static void
absorb_failed(struct collector *c)
{
	pthread_mutex_lock(&c->mu);
	absorb_failed_locked(c);
	pthread_mutex_unlock(&c->mu);
}

/*
 * Hands the receiver's aggregate to the flusher when it is idle and not backing off
 * (returns true), and continues with the spare one.  With wait, blocks until the
 * flusher is idle; last (the final hand-over) ignores the backoff.
 */
static bool
hand_over(struct collector *c, bool wait, bool last)
{
	bool done = false;
	int64_t now = clock_mono_ns();

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (wait && c->work != NULL)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->failed == NULL)
			break;
		absorb_failed_locked(c);
	}
	if (c->work == NULL && (last || now >= c->retry_at)) {
		if (aggregate_count(c->agg) > 0) {
			c->work = c->agg;
			c->flush_started = now;
			c->agg = c->spare ? c->spare : aggregate_new();
			c->spare = NULL;
			atomic_store_explicit(&c->st_pending, 0, memory_order_relaxed);
		}
		done = true;
	}
	if (last)
		c->quit = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return done;
}

/*
 * Receiver: the memory bound.  Past max_memory the aggregate goes to the flusher early;
 * when it cannot because the store is failing (the flusher backs off, or a flush has
 * been running for STALL_MS), the counters of the oldest windows are dropped until 3/4
 * of the bound is left, and counted.  A flush that is only slow drops nothing.
 */
static void
enforce_bound(struct collector *c)
{
	size_t max = c->opts.max_memory, bytes = aggregate_bytes(c->agg);
	struct aggregate_dropped d;
	bool failing, stalled;

	if (bytes <= max || hand_over(c, false, false))
		return;
	pthread_mutex_lock(&c->mu);
	failing = c->failures > 0;
	stalled = c->work != NULL && clock_mono_ns() - c->flush_started > STALL_MS * 1000000LL;
	pthread_mutex_unlock(&c->mu);
	bytes = aggregate_bytes(c->agg);
	if (bytes <= max || !(failing || stalled))
		return;
	aggregate_drop_oldest(c->agg, max / 4 * 3, &d);
	atomic_fetch_add(&c->st_dropped, d.sessions);
	collector_metrics_dropped(COLLECTOR_DROP_MEMORY_BOUND, d.sessions);
	atomic_store_explicit(&c->st_pending, aggregate_count(c->agg), memory_order_relaxed);
	uint64_t suppressed = 0;
	if (log_ratelimit_ok(&c->drop_rl, clock_now(c->opts.clock), &suppressed)) {
		char from[TIME_RFC3339_LEN], to[TIME_RFC3339_LEN];
		if (time_format_rfc3339(d.oldest_start, from) != 0)
			from[0] = '\0';
		if (time_format_rfc3339(d.newest_start, to) != 0)
			to[0] = '\0';
		log_error("collector memory bound reached, dropped the oldest windows' counters "
		          "reason=%s sessions=%llu counters=%llu windows_from=%s windows_to=%s "
		          "bytes=%zu max_memory=%zu dropped_total=%llu suppressed=%llu",
		          failing ? "store-unreachable" : "flush-stalled",
		          (unsigned long long)d.sessions, (unsigned long long)d.counters, from, to,
		          bytes, max, (unsigned long long)atomic_load(&c->st_dropped),
		          (unsigned long long)suppressed);
	}
}

/* The wait before retry number `failures` (1, 2, ...): 1 s doubling up to 30 s. */
static int64_t
backoff_ms(unsigned failures)
{
	int64_t ms = RETRY_MIN_MS;

	for (unsigned i = 1; i < failures && ms < RETRY_MAX_MS; i++)
		ms *= 2;
	return ms < RETRY_MAX_MS ? ms : RETRY_MAX_MS;
}

/* Flusher, mu held: agg is done with (written or dropped); keep it as the spare. */
static void
release_work(struct collector *c, struct aggregate *agg)
{
	c->work = NULL;
	if (c->spare == NULL)
		c->spare = agg;
	else
		aggregate_free(agg);
	pthread_cond_broadcast(&c->cv);
}

static void *
run_flusher(void *arg)
{
	struct collector *c = arg;
	unsigned quit_tries = 0;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		struct aggregate *agg;
		struct err e;
		int64_t delay;
		int rc;

		while (c->work == NULL && !c->quit)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->work == NULL)
			break;
		agg = c->work;
		pthread_mutex_unlock(&c->mu);
		err_clear(&e);
		rc = flush_agg(c, agg, &e);
		if (rc == STORE_ECOMMIT_UNKNOWN)
			commit_unknown(c, agg, &e);
		pthread_mutex_lock(&c->mu);
		if (rc == 0) {
			if (c->failures > 0)
				log_info("collector store reachable again failed_attempts=%u",
				         c->failures);
			c->failures = 0;
			c->retry_at = 0;
			release_work(c, agg);
			continue;
		}
		c->failures++;
		delay = backoff_ms(c->failures);
		if (rc == STORE_ECOMMIT_UNKNOWN) {
			/* written or not: never again; the store is probably down, so back off */
			c->retry_at = clock_mono_ns() + delay * 1000000;
			release_work(c, agg);
			continue;
		}
		if (c->quit) {
			struct timespec ts;
			log_error("collector flush failed at shutdown pending=%zu attempt=%u "
			          "error=\"%s\"",
			          aggregate_count(agg), quit_tries + 1, e.msg);
			if (++quit_tries >= QUIT_TRIES) {
				drop_all(c, agg, COLLECTOR_DROP_SHUTDOWN,
				         "store-unreachable-at-shutdown", e.msg);
				release_work(c, agg);
				continue;
			}
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&c->cv, &c->mu, &ts);
			continue;
		}
		/* hand the deltas back: the receiver merges them and counts on; retry later */
		log_error("collector flush failed, counters kept in memory pending=%zu attempt=%u "
		          "retry_in_ms=%lld error=\"%s\"",
		          aggregate_count(agg), c->failures, (long long)delay, e.msg);
		c->retry_at = clock_mono_ns() + delay * 1000000;
		c->failed = agg;
		c->work = NULL;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/*
 * Receives and counts batches until the queue is empty (at most 64 batches, so that
 * the caller's timer checks run).  first_flags: MSG_WAITFORONE to block (up to the
 * receive timeout) for the first datagram, MSG_DONTWAIT not to.
 */
static void
drain(struct collector *c, int first_flags)
{
	for (int rounds = 0; rounds < 64; rounds++) {
		int n = recvmmsg(c->fd, c->msgs, BATCH, rounds ? MSG_DONTWAIT : first_flags, NULL);
		int64_t now;

		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_error("collector recvmmsg failed error=\"%s\"",
				          strerror(errno));
			return;
		}
		now = clock_now(c->opts.clock);
		for (int i = 0; i < n; i++) {
			const char *p = c->bufs + (size_t)i * RECV_BUF;
			size_t len = c->msgs[i].msg_len;
			if ((c->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) || len > DG_MAX_SIZE) {
				ADD(st_datagrams, 1);
				reject(c, p, len > DG_MAX_SIZE ? DG_MAX_SIZE : len,
				       DG_REJECT_OVERSIZE, now);
			} else {
				collector_feed(c, p, len, now);
			}
			c->msgs[i].msg_hdr.msg_flags = 0;
		}
		if (aggregate_bytes(c->agg) > c->opts.max_memory)
			enforce_bound(c);
		if (n < BATCH)
			return;
	}
}

static void *
run_thread(void *arg)
{
	struct collector *c = arg;
	int64_t interval = (int64_t)c->opts.flush_interval_ms * 1000000;
	int64_t next = clock_mono_ns() + interval;

	/*
	 * One blocking recvmmsg per wake-up (no poll): the socket's receive timeout
	 * (RECV_TIMEOUT_MS) bounds how late a flush tick or the stop request is seen.
	 */
	while (!atomic_load_explicit(&c->stopping, memory_order_acquire)) {
		int64_t now;

		drain(c, MSG_WAITFORONE);
		absorb_failed(c);
		now = clock_mono_ns();
		if (aggregate_bytes(c->agg) > c->opts.max_memory) {
			enforce_bound(c); /* early: the memory bound, not the tick */
		} else if (now >= next) {
			/* a busy flusher delays the hand-over to the next loop, not a full interval */
			if (hand_over(c, false, false))
				next = now + interval;
			else
				next = now + interval / 10;
		}
	}
	/* take what is still queued, then the final flush */
	drain(c, MSG_DONTWAIT);
	hand_over(c, true, true);
	return NULL;
}

int
collector_start(const struct collector_opts *opts, struct collector **out, struct err *e)
{
	struct collector *c;
	int rc;

	rc = collector_new(opts, &c, e);
	if (rc)
		return rc;
	rc = collector_socket_bind(opts, RECV_TIMEOUT_MS, &c->fd, &c->path, e);
	if (rc)
		goto fail;
	c->bufs = xmalloc((size_t)BATCH * RECV_BUF);
	c->msgs = xcalloc(BATCH, sizeof(*c->msgs));
	c->iov = xcalloc(BATCH, sizeof(*c->iov));
	for (int i = 0; i < BATCH; i++) {
		c->iov[i].iov_base = c->bufs + (size_t)i * RECV_BUF;
		c->iov[i].iov_len = RECV_BUF;
		c->msgs[i].msg_hdr.msg_iov = &c->iov[i];
		c->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->flusher, NULL, run_flusher, c) != 0) {
		rc = err_set(e, ERR_IO, "collector: cannot start thread");
		goto fail;
	}
	if (pthread_create(&c->thread, NULL, run_thread, c) != 0) {
		hand_over(c, false, true);
		pthread_join(c->flusher, NULL);
		rc = err_set(e, ERR_IO, "collector: cannot start thread");
		goto fail;
	}
	c->running = true;
	log_info("collector listening socket=%s flush_ms=%d", c->path, c->opts.flush_interval_ms);
	*out = c;
	return 0;
fail:
	if (c->path)
		unlink(c->path);
	collector_free(c);
	return rc;
}

void
collector_stop(struct collector *c, struct collector_stats *final)
{
	struct collector_stats st;

	if (c == NULL)
		return;
	if (c->running) {
		atomic_store_explicit(&c->stopping, true, memory_order_release);
		pthread_join(c->thread, NULL);
		pthread_join(c->flusher, NULL);
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
	}
	if (c->path)
		unlink(c->path);
	collector_get_stats(c, &st);
	if (final)
		*final = st;
	log_info("collector stopped datagrams=%llu accepted=%llu rejected=%llu flushes=%llu "
	         "unflushed=%llu dropped=%llu commit_unknown=%llu",
	         (unsigned long long)st.datagrams, (unsigned long long)st.accepted,
	         (unsigned long long)st.rejected, (unsigned long long)st.flushes,
	         (unsigned long long)st.pending, (unsigned long long)st.dropped,
	         (unsigned long long)st.commit_unknown);
	collector_free(c);
}
