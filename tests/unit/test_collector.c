/*
 * test_collector.c - counting, windows, late results, extension keys, the period
 * cache, and the SQLite store (schema, upserts, policies stored once, reopen); the
 * outage parts: merging aggregates, dropping the oldest windows past the memory bound,
 * and a commit whose outcome is unknown (never retried, counted as dropped).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "collector/aggregate.h"
#include "collector/collector.h"
#include "util/log.h"

#define DAY 86400
#define T0 1764324000  /* 2026-11-28T10:00:00Z */
#define D28 1764288000 /* 2026-11-28T00:00:00Z */

struct pctx {
	int calls;
};

static enum window_period
period_for(void *ctx, const char *domain)
{
	struct pctx *p = ctx;

	p->calls++;
	if (strcmp(domain, "never.example") == 0)
		return WINDOW_NEVER;
	if (strcmp(domain, "hourly.example") == 0)
		return WINDOW_HOURLY;
	return WINDOW_DAILY;
}

static char dbpath[512];

static void
make_path(void)
{
	const char *tmp = getenv("TLSRPT_TEST_TMP");
	snprintf(dbpath, sizeof(dbpath), "%s/test_collector.%d.db", tmp ? tmp : "/tmp",
	         (int)getpid());
	unlink(dbpath);
}

static const char *
dgram(char *out, size_t cap, const char *domain, long long ts, const char *extra, int fail)
{
	snprintf(
	        out, cap,
	        "{\"dpv\": \"1\",\"d\": \"%s\",\"pr\": \"v=TLSRPTv1; rua=mailto:r@%s\","
	        "\"policies\":[{\"policy-type\":2,\"policy-domain\": \"%s\",\"policy-string\":"
	        "[\"version: STSv1\"],\"mx-host\":[\"mx.%s\"]%s,\"t\":%d,\"f\":%d}],\"ts\":%lld%s}",
	        domain, domain, domain, domain,
	        fail ? ",\"failure-details\":[{\"c\":204,\"s\": \"192.0.2.1\"}]" : "", fail, fail,
	        ts, extra);
	return out;
}

static long long
q(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int
count_rows(void *ctx, const struct store_count_row *row)
{
	int *n = ctx;
	if (row->result_type == NULL)
		n[0] += (int)(row->success + row->failure);
	else
		n[1] += (int)row->detail_count;
	return 0;
}

/* due[0]: windows seen; due[1]: end of the last one */
static int
count_due(void *ctx, const struct store_window *w)
{
	int *due = ctx;
	due[0]++;
	due[1] = (int)w->end;
	return 0;
}

static void
setup_collector(struct store **s, struct collector **c, struct pctx *p, struct clock *clk)
{
	struct collector_opts o;
	struct err e;

	memset(&o, 0, sizeof(o));
	assert_int_equal(store_open("sqlite", dbpath, s, &e), 0);
	o.store = *s;
	o.period_for = period_for;
	o.period_ctx = p;
	o.clock = clk;
	o.socket_mode = -1;
	assert_int_equal(collector_new(&o, c, &e), 0);
}

static void
feed(struct collector *c, const char *dom, long long ts, const char *extra, int fail, int64_t now)
{
	char buf[1024];
	dgram(buf, sizeof(buf), dom, ts, extra, fail);
	assert_int_equal(collector_feed(c, buf, strlen(buf), now), DG_OK);
}

static void
test_counting_and_late(void **state)
{
	struct store *s;
	struct collector *c;
	struct collector_stats st;
	struct pctx p = { 0 };
	struct clock clk;
	struct err e;
	int64_t now = T0 + 60;

	(void)state;
	make_path();
	clock_init_fixed(&clk, now);
	setup_collector(&s, &c, &p, &clk);
	feed(c, "a.example", T0, "", 0, now);
	feed(c, "a.example", T0, "", 0, now);
	feed(c, "a.example", T0 + 5, "", 1, now);
	feed(c, "a.example", T0, ",\"rpt\":1", 0, now);  /* a report delivery: metered only */
	feed(c, "never.example", T0, "", 0, now);        /* period never: metrics only */
	feed(c, "hourly.example", T0 + 30, "", 0, now);  /* hourly window 10:00 */
	feed(c, "a.example", now + 10000, "", 0, now);   /* ts in the future: receive time */
	feed(c, "a.example", now - 9 * DAY, "", 0, now); /* ts too old: receive time */
	assert_int_equal(p.calls, 3);                    /* one call per domain, then cached */
	assert_int_equal(collector_flush(c, &e), 0);
	assert_int_equal(q("SELECT success FROM session_counts c JOIN windows w ON "
	                   "w.id=c.window_id WHERE w.domain='a.example' AND w.start=1764288000"),
	                 4);
	assert_int_equal(q("SELECT failure FROM session_counts c JOIN windows w ON "
	                   "w.id=c.window_id WHERE w.domain='a.example'"),
	                 1);
	assert_int_equal(q("SELECT count FROM failure_counts"), 1);
	assert_int_equal(q("SELECT start FROM windows WHERE domain='hourly.example' AND period=1"),
	                 T0);
	assert_int_equal(q("SELECT count(*) FROM windows WHERE domain='never.example'"), 0);

	/* windows due: the hourly one by 11:00, the daily ones by midnight */
	{
		int due[2] = { 0, 0 };
		assert_int_equal(s->ops->list_due(s, T0 + 3600, count_due, due, &e), 0);
		assert_int_equal(due[0], 1);
		assert_int_equal(due[1], T0 + 3600);
		due[0] = 0;
		assert_int_equal(s->ops->list_due(s, D28 + DAY, count_due, due, &e), 0);
		assert_int_equal(due[0], 2);
		assert_int_equal(due[1], D28 + DAY);
	}
	/* the day is reported; a late result goes to the next open window (the 29th) */
	{
		int64_t wid = q("SELECT id FROM windows WHERE domain='a.example'");
		int n[2] = { 0, 0 };
		assert_int_equal(s->ops->list_counts(s, wid, count_rows, n, &e), 0);
		assert_int_equal(n[0], 5);
		assert_int_equal(n[1], 1);
		assert_int_equal(s->ops->begin(s, &e), 0);
		assert_int_equal(s->ops->mark_reported(s, wid, now, &e), 0);
		assert_int_equal(s->ops->commit(s, &e), 0);
	}
	feed(c, "a.example", T0 + 100, "", 0, now);
	feed(c, "a.example", T0 + 100, "", 1, now);
	assert_int_equal(collector_flush(c, &e), 0);
	assert_int_equal(q("SELECT success + failure FROM session_counts c JOIN windows w ON "
	                   "w.id=c.window_id WHERE w.domain='a.example' AND w.start=1764374400"),
	                 2);
	assert_int_equal(q("SELECT success + failure FROM session_counts c JOIN windows w ON "
	                   "w.id=c.window_id WHERE w.domain='a.example' AND w.start=1764288000"),
	                 5);
	/* policies and failure details are stored once */
	assert_int_equal(q("SELECT count(*) FROM policies WHERE policy_domain='a.example'"), 1);
	assert_int_equal(q("SELECT count(*) FROM failure_details"), 1);
	collector_get_stats(c, &st);
	assert_int_equal(st.late_sessions, 2);
	assert_int_equal(st.report_deliveries, 1);
	assert_int_equal(st.never_sessions, 1);
	assert_int_equal(st.ts_out_of_range, 2);
	assert_int_equal(st.sessions_success, 6);
	assert_int_equal(st.sessions_failure, 2);
	assert_int_equal(st.flushes, 2);
	collector_free(c);
	store_close(s);

	/* reopen: schema kept, counts add up (upsert), ids reused */
	setup_collector(&s, &c, &p, &clk);
	feed(c, "a.example", now + 86400, "", 0, now + 86400);
	assert_int_equal(collector_flush(c, &e), 0);
	assert_int_equal(q("SELECT success + failure FROM session_counts c JOIN windows w ON "
	                   "w.id=c.window_id WHERE w.domain='a.example' AND w.start=1764374400"),
	                 3);
	/* one row per migration, each applied once (the number grows with migrations) */
	assert_int_equal(
	        q("SELECT count(*) = max(version) AND min(version) = 1 FROM schema_version"), 1);
	assert_int_equal(q("SELECT count(*) FROM policies WHERE policy_domain='a.example'"), 1);
	collector_free(c);
	store_close(s);
	unlink(dbpath);
}

static void
test_list_and_rejects(void **state)
{
	struct store *s;
	struct collector *c;
	struct collector_stats st;
	struct pctx p = { 0 };
	struct err e;
	int n[2] = { 0, 0 };

	(void)state;
	make_path();
	setup_collector(&s, &c, &p, NULL);
	feed(c, "b.example", T0, "", 1, T0);
	feed(c, "b.example", T0, "", 0, T0);
	assert_int_equal(collector_feed(c, "5", 1, T0), DG_REJECT_NOT_OBJECT);
	assert_int_equal(collector_feed(c, "{x", 2, T0), DG_REJECT_SYNTAX);
	assert_int_equal(collector_flush(c, &e), 0);
	assert_int_equal(s->ops->list_counts(s, 0, count_rows, n, &e), 0);
	assert_int_equal(n[0], 2);
	assert_int_equal(n[1], 1);
	collector_get_stats(c, &st);
	assert_int_equal(st.rejected, 2);
	assert_int_equal(st.rejected_by[DG_REJECT_SYNTAX], 1);
	assert_int_equal(st.rejected_by[DG_REJECT_NOT_OBJECT], 1);
	assert_int_equal(st.accepted, 2);
	collector_free(c);
	store_close(s);
	assert_int_not_equal(store_open("postgres", dbpath, &s, &e), 0);
	assert_string_equal(
	        e.msg, "store.backend: unknown backend 'postgres' (expected sqlite or postgresql)");
	unlink(dbpath);
}

static void
test_dump_bounds(void **state)
{
	struct collector_opts o;
	struct collector *c;
	struct collector_stats st;
	struct err e;
	char dir[512], path[600];
	int files = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/dumps.%d",
	         getenv("TLSRPT_TEST_TMP") ? getenv("TLSRPT_TEST_TMP") : "/tmp", (int)getpid());
	assert_int_equal(mkdir(dir, 0700), 0);
	memset(&o, 0, sizeof(o));
	o.socket_mode = -1;
	o.dump_dir = dir;
	o.dump_max_files = 2;
	assert_int_equal(collector_new(&o, &c, &e), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(collector_feed(c, "{bad", 4, T0), DG_REJECT_SYNTAX);
	collector_get_stats(c, &st);
	assert_int_equal(st.rejected_by[DG_REJECT_SYNTAX], 5);
	assert_int_equal(st.dumped, 2);
	collector_free(c);
	/* files already there count against the bound after a restart */
	assert_int_equal(collector_new(&o, &c, &e), 0);
	assert_int_equal(collector_feed(c, "{bad", 4, T0), DG_REJECT_SYNTAX);
	collector_get_stats(c, &st);
	assert_int_equal(st.dumped, 0);
	collector_free(c);
	for (int i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "%s/%d-%d-%d-syntax.bin", dir, T0, (int)getpid(), i);
		if (unlink(path) == 0)
			files++;
	}
	assert_int_equal(files, 2);
	assert_int_equal(rmdir(dir), 0);
}

/* A backend that fails add_sessions on demand and records what was committed. */
struct fake_store {
	struct store base;
	int fail_next;
	int commit_unknown; /* next commits: commit, then report the outcome as unknown */
	uint64_t pending;
	_Atomic uint64_t committed; /* read by the test while a flusher thread writes */
	int64_t next_id;
	atomic_int down; /* begin fails with ERR_AGAIN (the database is unreachable) */
};

static int
fk_begin(struct store *s, struct err *e)
{
	struct fake_store *f = (struct fake_store *)s;

	f->pending = 0;
	if (atomic_load(&f->down))
		return err_set(e, ERR_AGAIN, "reconnect: connection refused");
	return 0;
}

static int
fk_commit(struct store *s, struct err *e)
{
	struct fake_store *f = (struct fake_store *)s;
	f->committed += f->pending;
	f->pending = 0;
	if (f->commit_unknown) {
		f->commit_unknown--;
		return err_set(e, STORE_ECOMMIT_UNKNOWN, "commit: server closed the connection");
	}
	return 0;
}

static void
fk_rollback(struct store *s)
{
	((struct fake_store *)s)->pending = 0;
}

static int
fk_window(struct store *s, const struct store_window_key *k, int64_t *id,
          enum store_window_state *st, struct err *e)
{
	(void)k;
	(void)e;
	*id = ++((struct fake_store *)s)->next_id;
	*st = STORE_WINDOW_OPEN;
	return 0;
}

static int
fk_policy(struct store *s, struct span key, const char *t, struct span d, int64_t *id,
          struct err *e)
{
	(void)key;
	(void)t;
	(void)d;
	(void)e;
	*id = ++((struct fake_store *)s)->next_id;
	return 0;
}

static int
fk_detail(struct store *s, struct span key, const char *t, int64_t *id, struct err *e)
{
	(void)key;
	(void)t;
	(void)e;
	*id = ++((struct fake_store *)s)->next_id;
	return 0;
}

static int
fk_add(struct store *s, int64_t w, int64_t p, uint64_t ok, uint64_t fail, struct err *e)
{
	struct fake_store *f = (struct fake_store *)s;
	(void)w;
	(void)p;
	if (f->fail_next) {
		f->fail_next--;
		return err_set(e, ERR_IO, "disk full");
	}
	f->pending += ok + fail;
	return 0;
}

static int
fk_add_fail(struct store *s, int64_t w, int64_t p, int64_t d, uint64_t n, struct err *e)
{
	(void)s;
	(void)w;
	(void)p;
	(void)d;
	(void)n;
	(void)e;
	return 0;
}

static const struct store_ops fake_ops = {
	.name = "fake",
	.begin = fk_begin,
	.commit = fk_commit,
	.rollback = fk_rollback,
	.window_open = fk_window,
	.policy_id = fk_policy,
	.detail_id = fk_detail,
	.add_sessions = fk_add,
	.add_failures = fk_add_fail,
};

static void
test_flush_failure_keeps_deltas(void **state)
{
	struct fake_store fs = { { &fake_ops }, 0, 0, 0, 0, 0, 0 };
	struct collector_opts o;
	struct collector *c;
	struct collector_stats st;
	struct err e;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.socket_mode = -1;
	o.store = &fs.base;
	assert_int_equal(collector_new(&o, &c, &e), 0);
	feed(c, "a.example", T0, "", 0, T0);
	feed(c, "b.example", T0, "", 1, T0);
	fs.fail_next = 1;
	assert_int_equal(collector_flush(c, &e), ERR_IO);
	assert_string_equal(e.msg, "disk full");
	assert_int_equal(fs.committed, 0);
	/* more results arrive; the next flush writes old and new deltas exactly once */
	feed(c, "a.example", T0, "", 0, T0);
	assert_int_equal(collector_flush(c, &e), 0);
	assert_int_equal(fs.committed, 3);
	assert_int_equal(collector_flush(c, &e), 0);
	assert_int_equal(fs.committed, 3);
	collector_get_stats(c, &st);
	assert_int_equal(st.flush_errors, 1);
	assert_int_equal(st.flushes, 1);
	collector_free(c);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* The threaded collector through a store outage: counters kept, retried, all written. */
static void
test_outage_keeps_counters(void **state)
{
	struct fake_store fs = { { &fake_ops }, 0, 0, 0, 0, 0, 0 };
	struct collector_opts o;
	struct collector *c;
	struct collector_stats st;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct err e;
	char buf[1024];
	int fd, waited;

	(void)state;
	const char *tmp = getenv("TLSRPT_TEST_TMP");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.80s/tc%d.sock", tmp ? tmp : "/tmp",
	         (int)getpid());
	memset(&o, 0, sizeof(o));
	o.socket_path = sa.sun_path;
	o.socket_mode = -1;
	o.flush_interval_ms = 50;
	o.store = &fs.base;
	atomic_store(&fs.down, 1);
	assert_int_equal(collector_start(&o, &c, &e), 0);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	for (int i = 0; i < 150; i++) {
		dgram(buf, sizeof(buf), i % 2 ? "a.example" : "b.example", T0, "", i % 4 == 0);
		assert_int_equal(
		        sendto(fd, buf, strlen(buf), 0, (struct sockaddr *)&sa, sizeof(sa)),
		        (ssize_t)strlen(buf));
		if (i == 99) { /* the rest after two failed attempts (1 s apart) */
			for (waited = 0; waited < 3000; waited += 10) {
				collector_get_stats(c, &st);
				if (st.flush_errors >= 2)
					break;
				sleep_ms(10);
			}
			assert_int_equal(st.flush_errors, 2);
			assert_int_equal(st.accepted, 100);
			assert_int_equal(atomic_load(&fs.committed), 0);
		}
	}
	close(fd);
	atomic_store(&fs.down, 0);
	/* the next retry comes 2 s after the second failure */
	for (waited = 0; waited < 5000 && atomic_load(&fs.committed) < 150; waited += 10)
		sleep_ms(10);
	assert_int_equal(atomic_load(&fs.committed), 150);
	collector_stop(c, &st);
	assert_int_equal(st.accepted, 150);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.flush_errors, 2);
	assert_int_equal(st.pending, 0);
}

/* A committed flush whose answer was lost is not retried: nothing counts twice. */
static void
test_commit_unknown_at_most_once(void **state)
{
	struct fake_store fs = { { &fake_ops }, 0, 0, 0, 0, 0, 0 };
	struct collector_opts o;
	struct collector *c;
	struct collector_stats st;
	struct err e;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.socket_mode = -1;
	o.store = &fs.base;
	assert_int_equal(collector_new(&o, &c, &e), 0);
	feed(c, "a.example", T0, "", 0, T0);
	feed(c, "b.example", T0, "", 1, T0);
	fs.commit_unknown = 1;
	assert_int_equal(collector_flush(c, &e), STORE_ECOMMIT_UNKNOWN);
	assert_int_equal(fs.committed, 2); /* it did commit ... */
	collector_get_stats(c, &st);
	assert_int_equal(st.dropped, 2); /* ... but the collector cannot know: counted */
	assert_int_equal(st.commit_unknown, 1);
	assert_int_equal(st.pending, 0);
	feed(c, "a.example", T0, "", 0, T0);
	assert_int_equal(collector_flush(c, &e), 0);
	assert_int_equal(fs.committed, 3); /* 3, not 5: the first two were not sent again */
	collector_free(c);
}

/* Decodes dgram() output and counts it into a (window start from ts, daily). */
static void
agg_feed(struct aggregate *a, struct datagram_decoder *dec, const char *dom, long long ts, int fail)
{
	char buf[1024];
	struct datagram dg;
	struct agg_item *d;

	dgram(buf, sizeof(buf), dom, ts, "", fail);
	assert_int_equal(datagram_decode(dec, buf, strlen(buf), &dg), DG_OK);
	d = aggregate_domain(a, dg.domain);
	aggregate_add(a, WINDOW_DAILY, window_start(WINDOW_DAILY, ts), d, &dg, &dg.policy[0]);
}

/* (start, domain) -> success, failure, failure-detail count; -1 when absent */
static void
agg_get(const struct aggregate *a, int64_t start, const char *dom, long long out[3])
{
	struct agg_sess *s;

	out[0] = out[1] = out[2] = -1;
	for (size_t i = 0; aggregate_next(a, &i, &s);) {
		if (s->start != start || strcmp(s->domain->data, dom) != 0)
			continue;
		out[0] = (long long)s->success;
		out[1] = (long long)s->failure;
		out[2] = 0;
		for (struct agg_fail *f = s->fails; f; f = f->next)
			out[2] += (long long)f->count;
		/* a policy's policy-domain points into the same aggregate's interned domain */
		assert_string_equal(s->policy->extra.p, dom);
	}
}

static void
test_merge_and_drop_oldest(void **state)
{
	struct datagram_decoder dec;
	struct aggregate *a = aggregate_new(), *b = aggregate_new();
	struct aggregate_dropped d;
	long long got[3];
	char dom[64];
	uint64_t total = 0;

	(void)state;
	datagram_decoder_init(&dec);
	agg_feed(a, &dec, "a.example", T0, 0);
	agg_feed(a, &dec, "a.example", T0, 1);
	agg_feed(b, &dec, "a.example", T0, 1);
	agg_feed(b, &dec, "b.example", T0 - DAY, 0);
	aggregate_merge(a, b);
	aggregate_free(b);
	assert_int_equal(aggregate_count(a), 2);
	agg_get(a, D28, "a.example", got);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], 2);
	assert_int_equal(got[2], 2);
	agg_get(a, D28 - DAY, "b.example", got);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], 0);

	/* three days of 200 domains each; a bound that holds about one day */
	aggregate_reset(a);
	for (int day = 3; day >= 1; day--)
		for (int i = 0; i < 200; i++) {
			snprintf(dom, sizeof(dom), "d%03d.example", i);
			agg_feed(a, &dec, dom, T0 - (long long)day * DAY, i % 2);
			agg_feed(a, &dec, dom, T0 - (long long)day * DAY, 0);
			total += 2;
		}
	/* the bound: what the newest day alone takes, plus a quarter of the rest */
	struct aggregate *ref = aggregate_new();
	for (int i = 0; i < 200; i++) {
		snprintf(dom, sizeof(dom), "d%03d.example", i);
		agg_feed(ref, &dec, dom, T0 - DAY, i % 2);
	}
	size_t before = aggregate_bytes(a), one = aggregate_bytes(ref);
	size_t target = one + (before - one) / 4;
	aggregate_free(ref);
	aggregate_drop_oldest(a, target, &d);
	assert_true(aggregate_bytes(a) <= target);
	assert_true(d.counters >= 200); /* at least the whole oldest day */
	assert_true(d.counters < 600);
	assert_int_equal(d.oldest_start, D28 - 3 * DAY);
	assert_true(d.newest_start <= D28 - 2 * DAY);
	/* kept + dropped == counted, and the newest day is complete */
	uint64_t kept = 0;
	struct agg_sess *s;
	for (size_t i = 0; aggregate_next(a, &i, &s);) {
		kept += s->success + s->failure;
		assert_true(s->start >= D28 - 2 * DAY);
	}
	assert_int_equal(kept + d.sessions, total);
	assert_int_equal(d.sessions, d.counters * 2);
	for (int i = 0; i < 200; i++) {
		snprintf(dom, sizeof(dom), "d%03d.example", i);
		agg_get(a, D28 - DAY, dom, got);
		assert_int_equal(got[0] + got[1], 2);
		assert_int_equal(got[2], i % 2);
	}
	/* under the bound: nothing happens */
	aggregate_drop_oldest(a, before, &d);
	assert_int_equal(d.counters, 0);
	assert_int_equal(d.sessions, 0);
	aggregate_free(a);
	datagram_decoder_clear(&dec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counting_and_late),
		cmocka_unit_test(test_list_and_rejects),
		cmocka_unit_test(test_dump_bounds),
		cmocka_unit_test(test_flush_failure_keeps_deltas),
		cmocka_unit_test(test_commit_unknown_at_most_once),
		cmocka_unit_test(test_outage_keeps_counters),
		cmocka_unit_test(test_merge_and_drop_oldest),
	};
	log_setup("test_collector", LOG_DEST_NONE, LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
