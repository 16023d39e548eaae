/*
 * store_cases.c - one set of test cases for the store interface (store.h), run against
 * the backend named on the command line; speaks TAP.
 *
 *   store_cases sqlite PATH            (PATH must not exist yet)
 *   store_cases postgresql URL         (an empty database)
 *
 * Cases: window_open idempotent with its state; policy/detail interning; add_sessions
 * and add_failures accumulate; list_counts order and contents (exact text); list_due;
 * mark_reported; rollback discards; reopening keeps the data and does not re-apply the
 * schema; three processes flushing deltas into the same rows concurrently give the exact
 * sum; the outbox (insert, duplicate report-id, list with filters, get with the exact
 * body bytes, max part); delivery (due, claim, lease, update, reset, three processes
 * racing for the same rows claim each once); window_claim; purge.
 * Used by tests/integration/store_pg_cases.t (both backends, same expectations).
 * Threading: single-threaded; the concurrency case forks.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report/report.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/str.h"

/* the number of ok() calls main makes */
#define N_PLANNED 58

static const char *backend, *where;
static int n_tests, n_fail;

static void ok(int cond, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void
ok(int cond, const char *name, const char *fmt, ...)
{
	n_tests++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n_tests, name);
	if (!cond) {
		va_list ap;
		n_fail++;
		printf("# ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

static struct store *
open_store(void)
{
	struct store *s = NULL;
	struct err e = { 0 };

	if (store_open(backend, where, &s, &e) != 0) {
		printf("Bail out! open %s: %s\n", backend, e.msg);
		exit(1);
	}
	return s;
}

static struct store_window_key
key(enum window_period p, int64_t start, const char *domain)
{
	struct store_window_key k = { p, start, span_cstr(domain), SPAN_LIT("v=TLSRPTv1; rua=x") };
	return k;
}

static int
render_row(void *ctx, const struct store_count_row *r)
{
	struct buf *b = ctx;

	if (r->result_type == NULL)
		buf_printf(b, "%s %" PRId64 " %d %s %s %s %" PRIu64 "/%" PRIu64 "\n", r->domain,
		           r->start, (int)r->state, r->policy_type, r->policy_domain,
		           r->policy_json, r->success, r->failure);
	else
		buf_printf(b, "  %s %s %" PRIu64 "\n", r->result_type, r->detail_json,
		           r->detail_count);
	return 0;
}

static int
render_window(void *ctx, const struct store_window *w)
{
	struct buf *b = ctx;

	buf_printf(b, "%s %d %" PRId64 "-%" PRId64 "\n", w->domain, (int)w->period, w->start,
	           w->end);
	return 0;
}

static const char *
counts_text(struct store *s, int64_t wid, struct buf *b)
{
	struct err e = { 0 };

	buf_clear(b);
	buf_init(b, 1 << 20);
	if (s->ops->list_counts(s, wid, render_row, b, &e) != 0)
		buf_printf(b, "error: %s", e.msg);
	return buf_cstr(b);
}

static const char *
due_text(struct store *s, int64_t before, struct buf *b)
{
	struct err e = { 0 };

	buf_clear(b);
	buf_init(b, 1 << 20);
	if (s->ops->list_due(s, before, render_window, b, &e) != 0)
		buf_printf(b, "error: %s", e.msg);
	return buf_cstr(b);
}

#define T0 1767225600 /* 2026-01-01T00:00:00Z */
#define POL_B "{\"policy-type\":\"sts\",\"policy-domain\":\"b.example\"}"
#define POL_A "{\"policy-type\":\"sts\",\"policy-domain\":\"a.example\"}"
#define POL_N "{\"policy-type\":\"no-policy-found\",\"policy-domain\":\"a.example\"}"
#define DET_1 "{\"result-type\":\"certificate-expired\"}"
#define DET_2 "{\"result-type\":\"starttls-not-supported\"}"

static int64_t wid_a, wid_b, wid_a2, pol_a, pol_b, pol_n, det_1, det_2;

static void
case_basic(struct store *s)
{
	struct err e = { 0 };
	struct store_window_key ka = key(WINDOW_DAILY, T0, "a.example");
	struct store_window_key kb = key(WINDOW_DAILY, T0, "b.example");
	struct store_window_key ka2 = key(WINDOW_HOURLY, T0 + 3600, "a.example");
	enum store_window_state st = STORE_WINDOW_REPORTED;
	int64_t id2 = 0, p2 = 0, d2 = 0;
	int rc;

	rc = s->ops->begin(s, &e);
	rc = rc ? rc : s->ops->window_open(s, &kb, &wid_b, &st, &e);
	ok(rc == 0 && wid_b > 0 && st == STORE_WINDOW_OPEN, "window_open creates an open window",
	   "rc=%d id=%" PRId64 " state=%d: %s", rc, wid_b, (int)st, e.msg);
	rc = rc ? rc : s->ops->window_open(s, &ka, &wid_a, &st, &e);
	rc = rc ? rc : s->ops->window_open(s, &ka2, &wid_a2, &st, &e);
	rc = rc ? rc : s->ops->window_open(s, &kb, &id2, &st, &e);
	ok(rc == 0 && id2 == wid_b && st == STORE_WINDOW_OPEN && wid_a != wid_b && wid_a2 != wid_a,
	   "window_open is idempotent (same key, same id)",
	   "rc=%d got id %" PRId64 ", want %" PRId64 ": %s", rc, id2, wid_b, e.msg);

	rc = rc ? rc
	        : s->ops->policy_id(s, SPAN_LIT(POL_A), "sts", SPAN_LIT("a.example"), &pol_a, &e);
	rc = rc ? rc
	        : s->ops->policy_id(s, SPAN_LIT(POL_B), "sts", SPAN_LIT("b.example"), &pol_b, &e);
	rc = rc ? rc
	        : s->ops->policy_id(s, SPAN_LIT(POL_N), "no-policy-found", SPAN_LIT("a.example"),
	                            &pol_n, &e);
	rc = rc ? rc : s->ops->policy_id(s, SPAN_LIT(POL_A), "sts", SPAN_LIT("a.example"), &p2, &e);
	ok(rc == 0 && p2 == pol_a && pol_a != pol_b && pol_b != pol_n && pol_a != pol_n,
	   "policies are interned by key", "rc=%d got %" PRId64 ", want %" PRId64 ": %s", rc, p2,
	   pol_a, e.msg);
	rc = rc ? rc : s->ops->detail_id(s, SPAN_LIT(DET_1), "certificate-expired", &det_1, &e);
	rc = rc ? rc : s->ops->detail_id(s, SPAN_LIT(DET_2), "starttls-not-supported", &det_2, &e);
	rc = rc ? rc : s->ops->detail_id(s, SPAN_LIT(DET_1), "certificate-expired", &d2, &e);
	ok(rc == 0 && d2 == det_1 && det_1 != det_2, "failure details are interned by key",
	   "rc=%d got %" PRId64 ", want %" PRId64 ": %s", rc, d2, det_1, e.msg);

	rc = rc ? rc : s->ops->add_sessions(s, wid_b, pol_b, 5, 1, &e);
	rc = rc ? rc : s->ops->add_sessions(s, wid_a, pol_a, 7, 2, &e);
	rc = rc ? rc : s->ops->add_sessions(s, wid_a, pol_n, 0, 3, &e);
	rc = rc ? rc : s->ops->add_sessions(s, wid_a, pol_a, 3, 1, &e);
	rc = rc ? rc : s->ops->add_sessions(s, wid_a2, pol_a, 1, 0, &e);
	rc = rc ? rc : s->ops->add_failures(s, wid_a, pol_a, det_2, 1, &e);
	rc = rc ? rc : s->ops->add_failures(s, wid_a, pol_a, det_1, 2, &e);
	rc = rc ? rc : s->ops->add_failures(s, wid_a, pol_a, det_2, 2, &e);
	rc = rc ? rc : s->ops->add_failures(s, wid_b, pol_b, det_1, 1, &e);
	rc = rc ? rc : s->ops->commit(s, &e);
	ok(rc == 0, "one transaction of adds commits", "rc=%d: %s", rc, e.msg);
}

/* the daily window of a.example: policy keys sort "no-policy-found" before "sts" */
#define WANT_A                                                                                     \
	"a.example 1767225600 0 no-policy-found a.example " POL_N " 0/3\n"                         \
	"a.example 1767225600 0 sts a.example " POL_A " 10/3\n"                                    \
	"  certificate-expired " DET_1 " 2\n"                                                      \
	"  starttls-not-supported " DET_2 " 3\n"

static const char want_counts[] = WANT_A "a.example 1767229200 0 sts a.example " POL_A " 1/0\n"
                                         "b.example 1767225600 0 sts b.example " POL_B " 5/1\n"
                                         "  certificate-expired " DET_1 " 1\n";

static void
case_lists(struct store *s)
{
	struct buf b;
	const char *got;
	char want[256];

	buf_init(&b, 1 << 20);
	got = counts_text(s, 0, &b);
	ok(strcmp(got, want_counts) == 0,
	   "list_counts: adds accumulate, ordered by domain, start, record, policy, detail",
	   "got\n%s\nwant\n%s", got, want_counts);
	got = counts_text(s, wid_b, &b);
	ok(strcmp(got, strstr(want_counts, "b.example 1767")) == 0,
	   "list_counts of one window lists only it", "got\n%s", got);
	got = due_text(s, T0 + 86400, &b);
	snprintf(want, sizeof(want),
	         "a.example 1 1767229200-1767232800\na.example 2 1767225600-1767312000\n"
	         "b.example 2 1767225600-1767312000\n");
	ok(strcmp(got, want) == 0, "list_due: ended windows, oldest first", "got\n%s\nwant\n%s",
	   got, want);
	got = due_text(s, T0 + 86399, &b);
	ok(strcmp(got, "a.example 1 1767229200-1767232800\n") == 0,
	   "list_due: a window ending after the bound is not due", "got\n%s", got);
	buf_clear(&b);
}

static void
case_mark_and_rollback(struct store *s)
{
	struct err e = { 0 };
	struct store_window_key kb = key(WINDOW_DAILY, T0, "b.example");
	enum store_window_state st = STORE_WINDOW_OPEN;
	int64_t id = 0;
	struct buf b;
	const char *got;
	int rc;

	buf_init(&b, 1 << 20);
	rc = s->ops->begin(s, &e);
	rc = rc ? rc : s->ops->mark_reported(s, wid_b, T0 + 90000, &e);
	rc = rc ? rc : s->ops->commit(s, &e);
	rc = rc ? rc : s->ops->begin(s, &e);
	rc = rc ? rc : s->ops->window_open(s, &kb, &id, &st, &e);
	rc = rc ? rc : s->ops->commit(s, &e);
	ok(rc == 0 && id == wid_b && st == STORE_WINDOW_REPORTED,
	   "mark_reported: window_open then says reported", "rc=%d id=%" PRId64 " state=%d: %s", rc,
	   id, (int)st, e.msg);
	got = due_text(s, T0 + 86400, &b);
	ok(strstr(got, "b.example") == NULL, "list_due leaves out a reported window", "got\n%s",
	   got);
	got = counts_text(s, wid_b, &b);
	ok(strncmp(got, "b.example 1767225600 1 ", 23) == 0, "list_counts shows the state reported",
	   "got\n%s", got);

	rc = s->ops->begin(s, &e);
	rc = rc ? rc : s->ops->add_sessions(s, wid_a, pol_a, 1000, 1000, &e);
	rc = rc ? rc : s->ops->add_failures(s, wid_a, pol_a, det_1, 1000, &e);
	ok(rc == 0, "adds inside a transaction succeed", "rc=%d: %s", rc, e.msg);
	s->ops->rollback(s);
	got = counts_text(s, wid_a, &b);
	ok(strcmp(got, WANT_A) == 0, "rollback discards the adds", "got\n%s\nwant\n%s", got,
	   WANT_A);
	buf_clear(&b);
}

static void
case_reopen(void)
{
	struct store *s = open_store();
	struct err e = { 0 };
	struct store_window_key ka = key(WINDOW_DAILY, T0, "a.example");
	enum store_window_state st = STORE_WINDOW_REPORTED;
	int64_t id = 0, pid = 0;
	struct buf b;
	const char *got;
	int rc;

	buf_init(&b, 1 << 20);
	got = counts_text(s, wid_a, &b);
	ok(strcmp(got, WANT_A) == 0, "reopening keeps the data (schema not re-applied)",
	   "got\n%s\nwant\n%s", got, WANT_A);
	rc = s->ops->begin(s, &e);
	rc = rc ? rc : s->ops->window_open(s, &ka, &id, &st, &e);
	rc = rc ? rc
	        : s->ops->policy_id(s, SPAN_LIT(POL_A), "sts", SPAN_LIT("a.example"), &pid, &e);
	rc = rc ? rc : s->ops->commit(s, &e);
	ok(rc == 0 && id == wid_a && pid == pol_a && st == STORE_WINDOW_OPEN,
	   "reopened: same window and policy ids", "rc=%d id=%" PRId64 " policy=%" PRId64 ": %s",
	   rc, id, pid, e.msg);
	buf_clear(&b);
	store_close(s);
}

enum { FLUSHERS = 3, FLUSHES = 200 };

/* One flusher: FLUSHES transactions adding to the same rows; retries what fails. */
static int
flusher(int n)
{
	struct store *s = open_store();
	struct err e = { 0 };
	int retries = 0;

	for (int i = 0; i < FLUSHES; i++) {
		int64_t w1, w2, p, d;
		enum store_window_state st;
		struct store_window_key k1 = key(WINDOW_DAILY, T0 + 86400, "c.example");
		struct store_window_key k2 = key(WINDOW_DAILY, T0 + 86400, "d.example");
		int rc = s->ops->begin(s, &e);

		/* flushers touch the rows in opposite orders: deadlocks must be retried */
		if (n % 2)
			rc = rc ? rc : s->ops->window_open(s, &k2, &w2, &st, &e);
		rc = rc ? rc : s->ops->window_open(s, &k1, &w1, &st, &e);
		rc = rc ? rc : s->ops->window_open(s, &k2, &w2, &st, &e);
		rc = rc ? rc
		        : s->ops->policy_id(s, SPAN_LIT(POL_A), "sts", SPAN_LIT("a.example"), &p,
		                            &e);
		rc = rc ? rc : s->ops->detail_id(s, SPAN_LIT(DET_1), "certificate-expired", &d, &e);
		if (n % 2) {
			rc = rc ? rc : s->ops->add_sessions(s, w2, p, 2, 1, &e);
			rc = rc ? rc : s->ops->add_sessions(s, w1, p, 1, 2, &e);
		} else {
			rc = rc ? rc : s->ops->add_sessions(s, w1, p, 1, 2, &e);
			rc = rc ? rc : s->ops->add_sessions(s, w2, p, 2, 1, &e);
		}
		rc = rc ? rc : s->ops->add_failures(s, w1, p, d, 3, &e);
		rc = rc ? rc : s->ops->commit(s, &e);
		if (rc) {
			s->ops->rollback(s);
			if (++retries > 1000) {
				fprintf(stderr, "flusher %d: %s\n", n, e.msg);
				store_close(s);
				return 1;
			}
			i--;
		}
	}
	store_close(s);
	printf("# flusher %d: %d flushes, %d retried\n", n, FLUSHES, retries);
	fflush(stdout);
	return 0;
}

static void
case_concurrent(void)
{
	pid_t pids[FLUSHERS];
	int bad = 0;
	struct store *s;
	struct buf b;
	const char *got;
	char want[1024];

	fflush(stdout);
	for (int i = 0; i < FLUSHERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(flusher(i));
	}
	for (int i = 0; i < FLUSHERS; i++) {
		int status = 0;
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			bad++;
	}
	ok(bad == 0, "concurrent flushers all commit", "%d flusher(s) failed", bad);
	s = open_store();
	buf_init(&b, 1 << 20);
	got = counts_text(s, 0, &b);
	snprintf(want, sizeof(want),
	         "c.example 1767312000 0 sts a.example " POL_A " %d/%d\n"
	         "  certificate-expired " DET_1 " %d\n"
	         "d.example 1767312000 0 sts a.example " POL_A " %d/%d\n",
	         FLUSHERS * FLUSHES, 2 * FLUSHERS * FLUSHES, 3 * FLUSHERS * FLUSHES,
	         2 * FLUSHERS * FLUSHES, FLUSHERS * FLUSHES);
	ok(strstr(got, want) != NULL, "concurrent flushers: every delta added exactly once",
	   "got\n%s\nwant (part)\n%s", got, want);
	buf_clear(&b);
	store_close(s);
}

/* What the collector does: a flush that finds its window reported moves on to the next
 * window; a commit that fails with ERR_AGAIN is rolled back and the flush repeated. */
static int
flush_like_collector(struct store *s, struct store_window_key k, int64_t pol, uint64_t n,
                     int *attempts, struct err *e)
{
	int rc = ERR_AGAIN;

	for (*attempts = 1; *attempts <= 3; (*attempts)++) {
		int64_t w = 0;
		enum store_window_state st = STORE_WINDOW_REPORTED;

		rc = s->ops->begin(s, e);
		for (int hop = 0; rc == 0 && hop < 10; hop++) {
			rc = s->ops->window_open(s, &k, &w, &st, e);
			if (rc || st == STORE_WINDOW_OPEN)
				break;
			k.start = window_next(k.period, k.start);
		}
		rc = rc ? rc : s->ops->add_sessions(s, w, pol, n, 0, e);
		rc = rc ? rc : s->ops->commit(s, e);
		if (rc == 0)
			return 0;
		s->ops->rollback(s);
		if (rc != ERR_AGAIN)
			return rc;
	}
	return rc;
}

static void
case_reported_meanwhile(struct store *s)
{
	struct store *other = open_store();
	struct err e = { 0 };
	struct store_window_key k = key(WINDOW_DAILY, T0 + 2 * 86400, "e.example");
	int64_t w = 0;
	int attempts = 0, rc;
	struct buf b;
	const char *got;
	static const char want[] = "e.example 1767398400 1 sts a.example " POL_A " 1/0\n"
	                           "e.example 1767484800 0 sts a.example " POL_A " 5/0\n";

	buf_init(&b, 1 << 20);
	rc = flush_like_collector(s, k, pol_a, 1, &attempts, &e);
	rc = rc ? rc : other->ops->begin(other, &e);
	if (rc == 0) {
		enum store_window_state st;
		rc = other->ops->window_open(other, &k, &w, &st, &e);
		rc = rc ? rc : other->ops->mark_reported(other, w, T0 + 3 * 86400, &e);
		rc = rc ? rc : other->ops->commit(other, &e);
	}
	rc = rc ? rc : flush_like_collector(s, k, pol_a, 5, &attempts, &e);
	got = counts_text(s, 0, &b);
	ok(rc == 0 && strstr(got, want) != NULL,
	   "a flush into a window another handle reported meanwhile goes to the next window",
	   "rc=%d after %d attempt(s): %s\ngot\n%s\nwant (part)\n%s", rc, attempts, e.msg, got,
	   want);
	printf("# the second flush took %d attempt(s)\n", attempts);
	buf_clear(&b);
	store_close(other);
}

/* ------------------------------------------------------------------ outbox, delivery */

static int64_t rep1, rep2, rep3;

static int
render_report(void *ctx, const struct store_outbox_report *r)
{
	struct buf *b = ctx;

	buf_printf(b,
	           "%s %s %d %" PRId64 "-%" PRId64 " part %u %s %s json %zu dropped %" PRIu64
	           " %s%s%s created %" PRId64 " body %zu\n",
	           r->report_id, r->domain, (int)r->period, r->start, r->end, r->part, r->filename,
	           r->record, r->json_size, r->dropped, store_report_state_name(r->state),
	           r->error ? " error=" : "", r->error ? r->error : "", r->created,
	           r->body ? r->body_len : 0);
	for (size_t i = 0; i < r->n_deliveries; i++) {
		const struct store_delivery *d = &r->deliveries[i];
		buf_printf(b, "  %s %s attempts %u next %" PRId64 "%s%s\n", d->dest,
		           store_delivery_state_name(d->state), d->attempts, d->next_try,
		           d->last_error ? " error=" : "", d->last_error ? d->last_error : "");
	}
	return 0;
}

static const char *
outbox_text(struct store *s, const struct store_outbox_filter *f, struct buf *b)
{
	struct err e = { 0 };

	buf_clear(b);
	buf_init(b, 1 << 20);
	if (s->ops->outbox_list(s, f, render_report, b, &e) != 0)
		buf_printf(b, "error: %s", e.msg);
	return buf_cstr(b);
}

struct body_ctx {
	unsigned char body[64];
	size_t len;
	size_t n_deliveries;
};

static int
grab_body(void *ctx, const struct store_outbox_report *r)
{
	struct body_ctx *c = ctx;

	c->len = r->body_len < sizeof(c->body) ? r->body_len : sizeof(c->body);
	if (r->body)
		memcpy(c->body, r->body, c->len);
	c->n_deliveries = r->n_deliveries;
	return 0;
}

/* binary body with NUL and high bytes: must come back byte for byte */
static const unsigned char body1[] = { 0x1f, 0x8b, 0x08, 0x00, 0x00, 0xff, 0x7f, 0x80, 0x5c, 0x27 };

static int
insert_report(struct store *s, int64_t wid, int64_t start, const char *domain, unsigned part,
              const char *rid, enum store_report_state st, const struct store_delivery *dv,
              size_t ndv, int64_t created, int64_t *id, struct err *e)
{
	char fn[128];
	struct store_outbox_report r = { 0 };

	snprintf(fn, sizeof(fn), "%s!%u.json.gz", domain, part);
	r.window_id = wid;
	r.period = WINDOW_DAILY;
	r.start = start;
	r.end = start + 86399;
	r.domain = domain;
	r.record = "v=TLSRPTv1; rua=x";
	r.part = part;
	r.report_id = rid;
	r.filename = fn;
	r.body = body1;
	r.body_len = sizeof(body1);
	r.json_size = 123 + part;
	r.dropped = part - 1;
	r.state = st;
	r.error = st == STORE_REPORT_INVALID ? "no rua" : NULL;
	r.created = created;
	r.deliveries = dv;
	r.n_deliveries = ndv;
	return s->ops->outbox_insert(s, &r, id, e);
}

#define MAILTO "mailto:tlsrpt@a.example"
#define HTTPS "https://r.example/v1"

static const char want_outbox[] =
        "rid-a-1 a.example 2 1767225600-1767311999 part 1 a.example!1.json.gz "
        "v=TLSRPTv1; rua=x json 124 dropped 0 ready created 1767312000 body 0\n"
        "  " MAILTO " pending attempts 0 next 1767312000\n"
        "  " HTTPS " pending attempts 0 next 1767312000\n"
        "rid-a-2 a.example 2 1767225600-1767311999 part 2 a.example!2.json.gz "
        "v=TLSRPTv1; rua=x json 125 dropped 1 ready created 1767312000 body 0\n"
        "  " MAILTO " pending attempts 0 next 1767312001\n"
        "rid-b-1 b.example 2 1767225600-1767311999 part 1 b.example!1.json.gz "
        "v=TLSRPTv1; rua=x json 124 dropped 0 invalid error=no rua created 1767312001 "
        "body 0\n";

static void
case_outbox(struct store *s)
{
	struct err e = { 0 };
	struct store_delivery dv[2] = {
		{ .dest = MAILTO, .state = STORE_DELIVERY_PENDING, .next_try = T0 + 86400 },
		{ .dest = HTTPS, .state = STORE_DELIVERY_PENDING, .next_try = T0 + 86400 },
	};
	struct store_delivery dv2[1] = {
		{ .dest = MAILTO, .state = STORE_DELIVERY_PENDING, .next_try = T0 + 86401 },
	};
	struct store_outbox_filter f = { NULL, -1, -1 };
	struct body_ctx bc = { 0 };
	struct buf b;
	const char *got;
	unsigned max = 99;
	int64_t dup = 0;
	int rc;

	buf_init(&b, 1 << 20);
	rc = s->ops->begin(s, &e);
	rc = rc ? rc
	        : insert_report(s, wid_a, T0, "a.example", 1, "rid-a-1", STORE_REPORT_READY, dv, 2,
	                        T0 + 86400, &rep1, &e);
	rc = rc ? rc
	        : insert_report(s, wid_a, T0, "a.example", 2, "rid-a-2", STORE_REPORT_READY, dv2, 1,
	                        T0 + 86400, &rep2, &e);
	rc = rc ? rc
	        : insert_report(s, wid_b, T0, "b.example", 1, "rid-b-1", STORE_REPORT_INVALID, NULL,
	                        0, T0 + 86401, &rep3, &e);
	rc = rc ? rc : s->ops->commit(s, &e);
	ok(rc == 0 && rep1 > 0 && rep2 > rep1 && rep3 > rep2,
	   "outbox_insert: three reports, increasing ids",
	   "rc=%d ids %" PRId64 " %" PRId64 " %" PRId64 ": %s", rc, rep1, rep2, rep3, e.msg);

	rc = s->ops->begin(s, &e);
	rc = rc ? rc
	        : insert_report(s, wid_a, T0, "a.example", 3, "rid-a-1", STORE_REPORT_READY, dv, 2,
	                        T0 + 86400, &dup, &e);
	s->ops->rollback(s);
	ok(rc == ERR_BADSTATE && strstr(e.msg, "outbox: report rid-a-1 (window ") != NULL,
	   "outbox_insert: a second report with the same report-id is ERR_BADSTATE",
	   "got rc=%d \"%s\", want %d", rc, e.msg, ERR_BADSTATE);

	got = outbox_text(s, NULL, &b);
	ok(strcmp(got, want_outbox) == 0,
	   "outbox_list: every report, oldest first, with its deliveries in order",
	   "got\n%s\nwant\n%s", got, want_outbox);
	f.domain = "b.example";
	got = outbox_text(s, &f, &b);
	ok(strcmp(got, strstr(want_outbox, "rid-b-1")) == 0, "outbox_list: domain filter",
	   "got\n%s", got);
	f.domain = NULL;
	f.report_state = STORE_REPORT_INVALID;
	got = outbox_text(s, &f, &b);
	ok(strcmp(got, strstr(want_outbox, "rid-b-1")) == 0, "outbox_list: report state filter",
	   "got\n%s", got);

	rc = s->ops->outbox_get(s, rep1, grab_body, &bc, &e);
	ok(rc == 0 && bc.len == sizeof(body1) && memcmp(bc.body, body1, bc.len) == 0 &&
	           bc.n_deliveries == 2,
	   "outbox_get: the body byte for byte, with the deliveries",
	   "rc=%d len %zu (want %zu) deliveries %zu: %s", rc, bc.len, sizeof(body1),
	   bc.n_deliveries, e.msg);
	rc = s->ops->outbox_get(s, rep3 + 1000, grab_body, &bc, &e);
	ok(rc == ERR_NOTFOUND && strstr(e.msg, "outbox: no report ") != NULL,
	   "outbox_get: an unknown id is ERR_NOTFOUND", "got rc=%d \"%s\"", rc, e.msg);
	rc = s->ops->outbox_max_part(s, WINDOW_DAILY, T0, "a.example", &max, &e);
	ok(rc == 0 && max == 2, "outbox_max_part: the highest part of (period, start, domain)",
	   "rc=%d got %u, want 2: %s", rc, max, e.msg);
	rc = s->ops->outbox_max_part(s, WINDOW_HOURLY, T0, "a.example", &max, &e);
	ok(rc == 0 && max == 0, "outbox_max_part: 0 without reports", "rc=%d got %u: %s", rc, max,
	   e.msg);
	buf_clear(&b);
}

static void
case_delivery(struct store *s)
{
	struct err e = { 0 };
	struct store_outbox_filter f = { NULL, -1, STORE_DELIVERY_SENT };
	int64_t ids[8];
	size_t n = 99, nreset = 99;
	bool c1 = false, c2 = true, c3 = true, c4 = false;
	struct buf b;
	const char *got;
	int rc;

	buf_init(&b, 1 << 20);
	rc = s->ops->outbox_due(s, T0 + 86400, 8, ids, &n, &e);
	ok(rc == 0 && n == 1 && ids[0] == rep1,
	   "outbox_due: ready reports with a due row only (not yet due, invalid left out)",
	   "rc=%d n=%zu first %" PRId64 " want %" PRId64 ": %s", rc, n, n ? ids[0] : 0, rep1,
	   e.msg);
	rc = s->ops->outbox_due(s, T0 + 86401, 8, ids, &n, &e);
	ok(rc == 0 && n == 2 && ids[0] == rep1 && ids[1] == rep2,
	   "outbox_due: earliest next_try first", "rc=%d n=%zu: %s", rc, n, e.msg);
	rc = s->ops->outbox_claim(s, rep1, MAILTO, T0 + 86400, T0 + 87000, &c1, &e);
	rc = rc ? rc : s->ops->outbox_claim(s, rep1, MAILTO, T0 + 86400, T0 + 87000, &c2, &e);
	ok(rc == 0 && c1 && !c2, "outbox_claim: a due row is claimed once",
	   "rc=%d first %d second %d: %s", rc, c1, c2, e.msg);
	rc = s->ops->outbox_claim(s, rep1, MAILTO, T0 + 87000, T0 + 87600, &c4, &e);
	ok(rc == 0 && c4, "outbox_claim: claimable again when the lease ran out", "rc=%d %d: %s",
	   rc, c4, e.msg);
	rc = s->ops->outbox_delivery_update(s, rep1, MAILTO, STORE_DELIVERY_SENT, 0, NULL, &e);
	rc = rc ? rc
	        : s->ops->outbox_delivery_update(s, rep1, HTTPS, STORE_DELIVERY_FAILED, T0 + 90000,
	                                         "HTTP 503", &e);
	rc = rc ? rc : s->ops->outbox_claim(s, rep1, MAILTO, T0 + 99999, T0 + 99999, &c3, &e);
	ok(rc == 0 && !c3, "outbox_claim: a sent row is never claimed", "rc=%d %d: %s", rc, c3,
	   e.msg);
	rc = s->ops->outbox_delivery_update(s, rep1, "mailto:nobody@x", STORE_DELIVERY_SENT, 0,
	                                    NULL, &e);
	ok(rc == ERR_NOTFOUND && strstr(e.msg, "has no destination mailto:nobody@x") != NULL,
	   "outbox_delivery_update: unknown destination is ERR_NOTFOUND", "got rc=%d \"%s\"", rc,
	   e.msg);
	got = outbox_text(s, &f, &b);
	ok(strstr(got, "rid-a-1 ") == got &&
	           strstr(got, "  " MAILTO " sent attempts 1 next 0\n  " HTTPS
	                       " failed attempts 1 next 1767315600 error=HTTP 503\n") != NULL &&
	           strstr(got, "rid-a-2") == NULL,
	   "delivery_update counts attempts; delivery-state filter", "got\n%s", got);
	rc = s->ops->outbox_reset(s, rep1, STORE_DELIVERY_GIVEN_UP, 0, "operator", &nreset, &e);
	ok(rc == 0 && nreset == 1, "outbox_reset: changes the rows not sent",
	   "rc=%d n=%zu, want 1: %s", rc, nreset, e.msg);
	f.delivery_state = STORE_DELIVERY_GIVEN_UP;
	got = outbox_text(s, &f, &b);
	ok(strstr(got, "  " HTTPS " given-up attempts 1 next 0 error=operator\n") != NULL,
	   "outbox_reset: state, next_try and reason set, attempts kept", "got\n%s", got);
	rc = s->ops->outbox_reset(s, rep3 + 1000, STORE_DELIVERY_PENDING, 0, NULL, &nreset, &e);
	ok(rc == ERR_NOTFOUND, "outbox_reset: unknown report is ERR_NOTFOUND", "got rc=%d \"%s\"",
	   rc, e.msg);
	buf_clear(&b);
}

/* delivery.daily-cap: sent rows counted by destination and time, deferring keeps attempts */
static void
case_daily_cap(struct store *s)
{
	struct err e = { 0 };
	struct store_outbox_filter f = { NULL, -1, STORE_DELIVERY_FAILED };
	uint64_t n0 = 99, n1 = 99, n2 = 99;
	struct buf b;
	const char *got;
	int rc;

	buf_init(&b, 1 << 20);
	/* rep1: MAILTO was sent at time 0 (case_delivery), HTTPS is given-up */
	rc = s->ops->outbox_sent_count(s, MAILTO, 0, &n0, &e);
	rc = rc ? rc : s->ops->outbox_sent_count(s, MAILTO, 1, &n1, &e);
	ok(rc == 0 && n0 == 1 && n1 == 0, "outbox_sent_count: sent rows since a time",
	   "rc=%d since 0: %" PRIu64 " since 1: %" PRIu64 ", want 1 and 0: %s", rc, n0, n1, e.msg);
	rc = s->ops->outbox_defer(s, rep1, HTTPS, T0 + 172800, "daily cap", &e);
	got = rc ? "" : outbox_text(s, &f, &b);
	ok(rc == 0 && strstr(got, "  " HTTPS
	                          " failed attempts 1 next 1767398400 error=daily cap\n") != NULL,
	   "outbox_defer: state failed, next_try and reason set, attempts kept", "rc=%d got\n%s",
	   rc, got);
	rc = s->ops->outbox_defer(s, rep1, MAILTO, T0 + 172800, "daily cap", &e);
	ok(rc == ERR_NOTFOUND && strstr(e.msg, "has no unsent destination " MAILTO) != NULL,
	   "outbox_defer: a sent row is not deferred (ERR_NOTFOUND)", "got rc=%d \"%s\"", rc,
	   e.msg);
	rc = s->ops->outbox_delivery_update(s, rep1, HTTPS, STORE_DELIVERY_SENT, T0 + 5, NULL, &e);
	rc = rc ? rc : s->ops->outbox_sent_count(s, HTTPS, T0, &n2, &e);
	ok(rc == 0 && n2 == 1, "outbox_sent_count: the sent time is the one delivery_update gave",
	   "rc=%d n=%" PRIu64 ": %s", rc, n2, e.msg);
	buf_clear(&b);
}

enum { CLAIMERS = 3, CLAIM_REPORTS = 40 };

/* One claimer: claims every due row it can; prints "claimed R D" per row won. */
static int
claimer(int fd)
{
	struct store *s = open_store();
	struct err e = { 0 };
	int64_t ids[2 * CLAIM_REPORTS];
	size_t n = 0;
	static const char *const dests[2] = { MAILTO, HTTPS };

	if (s->ops->outbox_due(s, T0 + 200000, 2 * CLAIM_REPORTS, ids, &n, &e) != 0) {
		fprintf(stderr, "claimer: %s\n", e.msg);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		for (int d = 0; d < 2; d++) {
			bool c = false;
			char line[64];
			int len;
			if (s->ops->outbox_claim(s, ids[i], dests[d], T0 + 200000, T0 + 300000, &c,
			                         &e) != 0) {
				fprintf(stderr, "claimer: %s\n", e.msg);
				return 1;
			}
			len = snprintf(line, sizeof(line), "%" PRId64 " %d\n", ids[i], d);
			if (c && write(fd, line, (size_t)len) != len)
				return 1;
		}
	store_close(s);
	return 0;
}

static void
case_claim_race(struct store *s)
{
	struct err e = { 0 };
	struct store_delivery dv[2] = {
		{ .dest = MAILTO, .state = STORE_DELIVERY_PENDING, .next_try = T0 + 100000 },
		{ .dest = HTTPS, .state = STORE_DELIVERY_FAILED, .next_try = T0 + 100000 },
	};
	int pfd[2];
	pid_t pids[CLAIMERS];
	int bad = 0, rc;
	char buf[8192];
	size_t got = 0, lines = 0, dups = 0;
	ssize_t r;

	rc = s->ops->begin(s, &e);
	for (int i = 0; i < CLAIM_REPORTS && rc == 0; i++) {
		char rid[32];
		snprintf(rid, sizeof(rid), "race-%d", i);
		rc = insert_report(s, wid_a2, T0 + 3600, "race.example", (unsigned)i + 1, rid,
		                   STORE_REPORT_READY, dv, 2, T0 + 100000, NULL, &e);
	}
	rc = rc ? rc : s->ops->commit(s, &e);
	if (rc)
		s->ops->rollback(s);
	if (pipe(pfd) != 0)
		rc = -1;
	fflush(stdout);
	for (int i = 0; i < CLAIMERS && rc == 0; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			close(pfd[0]);
			_exit(claimer(pfd[1]));
		}
	}
	close(pfd[1]);
	while (rc == 0 && (r = read(pfd[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)r;
	close(pfd[0]);
	buf[got] = '\0';
	for (int i = 0; i < CLAIMERS && rc == 0; i++) {
		int status = 0;
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			bad++;
	}
	for (char *p = buf; *p != '\0'; p = strchr(p, '\n') + 1) {
		char *nl = strchr(p, '\n');
		lines++;
		*nl = '\0';
		for (char *q = nl + 1; *q != '\0'; q = strchr(q, '\n') + 1)
			if (strncmp(q, p, strlen(p)) == 0 && q[strlen(p)] == '\n')
				dups++;
		*nl = '\n';
	}
	/* every row of the race reports and the pending row of rid-a-2 */
	ok(rc == 0 && bad == 0 && lines == 2 * CLAIM_REPORTS + 1 && dups == 0,
	   "outbox_claim: three processes racing claim each due row exactly once",
	   "rc=%d failed claimers %d, rows claimed %zu (want %d), claimed twice %zu: %s", rc, bad,
	   lines, 2 * CLAIM_REPORTS + 1, dups, e.msg);
}

static void
case_window_claim_purge(struct store *s)
{
	struct err e = { 0 };
	bool c_open = false, c_rep = true;
	uint64_t nr = 99, nw = 99;
	struct buf b;
	const char *got;
	int rc;

	buf_init(&b, 1 << 20);
	rc = s->ops->begin(s, &e);
	rc = rc ? rc : s->ops->window_claim(s, wid_a, &c_open, &e);
	rc = rc ? rc : s->ops->window_claim(s, wid_b, &c_rep, &e);
	rc = rc ? rc : s->ops->commit(s, &e);
	if (rc)
		s->ops->rollback(s);
	ok(rc == 0 && c_open && !c_rep, "window_claim: an open window yes, a reported one no",
	   "rc=%d open %d reported %d: %s", rc, c_open, c_rep, e.msg);
	rc = s->ops->begin(s, &e);
	rc = rc ? rc : s->ops->purge(s, T0 + 86402, &nr, &nw, &e);
	rc = rc ? rc : s->ops->commit(s, &e);
	if (rc)
		s->ops->rollback(s);
	got = outbox_text(s, NULL, &b);
	ok(rc == 0 && nr == 3 && nw == 1 && strncmp(got, "race-0 ", 7) == 0,
	   "purge: old reports and reported windows go, newer reports stay",
	   "rc=%d reports %" PRIu64 " (want 3) windows %" PRIu64 " (want 1): %s\n%.200s", rc, nr,
	   nw, e.msg, got);
	got = counts_text(s, 0, &b);
	ok(strstr(got, "b.example") == NULL && strstr(got, "a.example 1767225600 0 sts") != NULL,
	   "purge: the reported window's counters are gone, open ones stay", "got\n%s", got);
	buf_clear(&b);
}

/* ------------------------------------------------------------------ received reports */

static struct report *
sample_report(const char *org, const char *rid, int64_t start, const char *pdomain)
{
	struct report *r = report_new(org, start, start + 86399, "mailto:ops@sender.example", rid);
	struct report_policy *p = report_add_policy(r, REPORT_POLICY_STS, NULL, pdomain, NULL);
	struct report_policy *q =
	        report_add_policy(r, REPORT_POLICY_UNKNOWN, "future-type", "other.example", NULL);
	struct report_failure f1 = { .result_type = REPORT_RESULT_CERTIFICATE_EXPIRED,
		                     .sending_mta_ip = "192.0.2.1",
		                     .receiving_mx_hostname = "mx1.a.example",
		                     .failed_session_count = 4 };
	struct report_failure f2 = { .result_type = REPORT_RESULT_UNKNOWN,
		                     .result_type_other = "new-result",
		                     .receiving_ip = "2001:db8::1",
		                     .receiving_mx_helo = "helo.a.example",
		                     .failed_session_count = 1,
		                     .additional_information = "https://x.example/i",
		                     .failure_reason_code = "X1" };

	report_policy_add_string(p, "version: STSv1");
	report_policy_add_string(p, "mode: enforce");
	report_policy_add_mx_host(p, "mx1.a.example", NULL);
	report_policy_add_mx_host(p, "*.a.example", NULL);
	p->successful = 100;
	p->failed = 5;
	report_policy_add_failure(p, &f1);
	report_policy_add_failure(p, &f2);
	q->successful = 7;
	return r;
}

static int
render_received(void *ctx, const struct store_received_row *r)
{
	struct buf *b = ctx;
#define S(x) ((x) ? (x) : "-")
	if (r->policy_type == NULL)
		buf_printf(b,
		           "report %s %s org=%s contact=%s %" PRId64 "-%" PRId64 " quirks=%" PRIu64
		           " %s dkim=%s/%s verified=%d at=%" PRId64 " sightings=%u channels=%s\n",
		           r->submitter, r->report_id, S(r->organization), S(r->contact_info),
		           r->start, r->end, r->quirks, r->channel, r->dkim, r->dkim_detail,
		           (int)r->verified, r->received_at, r->sightings, S(r->channels));
	else if (r->result_type == NULL)
		buf_printf(b, "  policy %d %s %s strings=[%s] mx=[%s] %" PRIu64 "/%" PRIu64 "\n",
		           r->policy_index, r->policy_type, S(r->policy_domain),
		           S(r->policy_strings), S(r->mx_hosts), r->success, r->failure);
	else
		buf_printf(b, "    %s ip=%s mx=%s helo=%s rip=%s info=%s code=%s %" PRIu64 "\n",
		           r->result_type, S(r->sending_ip), S(r->receiving_mx),
		           S(r->receiving_helo), S(r->receiving_ip), S(r->additional_info),
		           S(r->reason_code), r->count);
#undef S
	return 0;
}

static const char *
received_text(struct store *s, const struct store_received_filter *f, struct buf *b)
{
	struct err e = { 0 };

	buf_clear(b);
	buf_init(b, 1 << 20);
	if (s->ops->received_walk(s, f, render_received, b, &e) != 0)
		buf_printf(b, "error: %s", e.msg);
	return buf_cstr(b);
}

static const unsigned char raw1[] = { 0x1f, 0x8b, 0x00, 0xff, 'x', 0x00, '\'', '\\' };

static int
add_received(struct store *s, struct report *r, const char *submitter, const char *channel,
             const char *dkim, bool verified, int64_t at, int64_t *id, bool *dup, struct err *e)
{
	struct store_received_in in = {
		.report = r,
		.submitter = submitter,
		.report_id = r->report_id,
		.channel = channel,
		.dkim = dkim,
		.dkim_detail = verified ? "d=sender.example" : "",
		.verified = verified,
		.received_at = at,
		.raw_gz = { (const char *)raw1, sizeof(raw1) },
	};
	return s->ops->received_add(s, &in, id, dup, e);
}

#define RPOL1                                                                                      \
	"  policy 0 sts a.example strings=[version: STSv1\nmode: enforce] "                        \
	"mx=[mx1.a.example,*.a.example] 100/5\n"                                                   \
	"    certificate-expired ip=192.0.2.1 mx=mx1.a.example helo=- rip=- info=- "               \
	"code=- 4\n"                                                                               \
	"    new-result ip=- mx=- helo=helo.a.example rip=2001:db8::1 "                            \
	"info=https://x.example/i code=X1 1\n"                                                     \
	"  policy 1 future-type other.example strings=[-] mx=[-] 7/0\n"

static void
case_received(void)
{
	struct store *s = open_store();
	struct err e = { 0 };
	struct report *r1 = sample_report("Sender Org", "rep-1", T0, "a.example");
	struct report *r2 = sample_report(NULL, "rep-2", T0 + 86400, "b.example");
	struct store_received_filter f = { 0 };
	int64_t id1 = 0, id2 = 0, id3 = 0, id4 = 0;
	bool d1 = true, d2 = true, d3 = false, d4 = false;
	struct buf b, raw;
	const char *got;
	char want[2048];
	uint64_t n = 99;
	int rc;

	buf_init(&b, 1 << 20);
	buf_init(&raw, 1 << 20);
	rc = add_received(s, r1, "sender.example", "mail", "none", false, T0 + 90000, &id1, &d1,
	                  &e);
	rc = rc ? rc
	        : add_received(s, r2, "other.example", "http", "pass", true, T0 + 180000, &id2, &d2,
	                       &e);
	ok(rc == 0 && !d1 && !d2 && id1 > 0 && id2 > id1, "received_add: two new reports",
	   "rc=%d dup %d %d ids %" PRId64 " %" PRId64 ": %s", rc, d1, d2, id1, id2, e.msg);
	rc = add_received(s, r1, "sender.example", "http", "none", false, T0 + 90001, &id3, &d3,
	                  &e);
	rc = rc ? rc
	        : add_received(s, r1, "sender.example", "file", "pass", true, T0 + 90002, &id4, &d4,
	                       &e);
	ok(rc == 0 && d3 && d4 && id3 == id1 && id4 == id1,
	   "received_add: same (submitter, report-id) is a sighting of the first",
	   "rc=%d dup %d %d ids %" PRId64 " %" PRId64 " want %" PRId64 ": %s", rc, d3, d4, id3, id4,
	   id1, e.msg);

	f.include_unverified = true;
	got = received_text(s, &f, &b);
	snprintf(want, sizeof(want),
	         "report sender.example rep-1 org=Sender Org contact=mailto:ops@sender.example "
	         "1767225600-1767311999 quirks=0 mail dkim=pass/d=sender.example verified=1 "
	         "at=1767315600 sightings=3 channels=file,http,mail\n" RPOL1
	         "report other.example rep-2 org=- contact=mailto:ops@sender.example "
	         "1767312000-1767398399 quirks=0 http dkim=pass/d=sender.example verified=1 "
	         "at=1767405600 sightings=1 channels=http\n"
	         "  policy 0 sts b.example strings=[version: STSv1\nmode: enforce] "
	         "mx=[mx1.a.example,*.a.example] 100/5\n");
	ok(strncmp(got, want, strlen(want)) == 0,
	   "received_walk: reports by start, policies, failures; a verified copy upgrades",
	   "got\n%s\nwant (start)\n%s", got, want);

	memset(&f, 0, sizeof(f));
	f.include_unverified = true;
	f.domain = "b.example";
	got = received_text(s, &f, &b);
	ok(strncmp(got, "report other.example rep-2 ", 27) == 0 &&
	           strstr(got, "policy 0 sts b.example") != NULL &&
	           strstr(got, "other.example strings") == NULL && strstr(got, "rep-1") == NULL,
	   "received_walk: domain filter (reports with it, only its policies)", "got\n%s", got);
	f.domain = NULL;
	f.reporter = "SENDER org";
	f.reports_only = true;
	got = received_text(s, &f, &b);
	ok(strncmp(got, "report sender.example rep-1 ", 28) == 0 && strchr(got, '\n')[1] == '\0',
	   "received_walk: reporter substring (any case), reports only", "got\n%s", got);
	memset(&f, 0, sizeof(f));
	f.since = T0 + 86400;
	f.reports_only = true;
	got = received_text(s, &f, &b);
	ok(strncmp(got, "report other.example rep-2 ", 27) == 0 && strchr(got, '\n')[1] == '\0',
	   "received_walk: since filter", "got\n%s", got);
	f.since = 0;
	f.until = T0 + 86400;
	f.id = id2;
	got = received_text(s, &f, &b);
	ok(got[0] == '\0', "received_walk: id and until filters combine", "got\n%s", got);

	rc = s->ops->received_raw(s, id1, &raw, &e);
	ok(rc == 0 && raw.len == sizeof(raw1) && memcmp(raw.data, raw1, raw.len) == 0,
	   "received_raw: the original bytes, byte for byte", "rc=%d len %zu: %s", rc, raw.len,
	   e.msg);
	rc = s->ops->received_raw(s, id2 + 1000, &raw, &e);
	ok(rc == ERR_NOTFOUND && strstr(e.msg, "no received report with id ") != NULL,
	   "received_raw: unknown id is ERR_NOTFOUND", "got rc=%d \"%s\"", rc, e.msg);
	rc = s->ops->received_purge(s, T0 + 100000, &n, &e);
	memset(&f, 0, sizeof(f));
	f.include_unverified = true;
	f.reports_only = true;
	got = received_text(s, &f, &b);
	ok(rc == 0 && n == 1 && strncmp(got, "report other.example rep-2 ", 27) == 0 &&
	           strchr(got, '\n')[1] == '\0',
	   "received_purge: reports received before the bound go",
	   "rc=%d n=%" PRIu64 " (want 1): %s\n%s", rc, n, e.msg, got);
	buf_clear(&b);
	buf_clear(&raw);
	report_free(r1);
	report_free(r2);
	store_close(s);
}

enum { RECEIVERS = 3 };

/* One receiving host: adds the same 20 reports; prints "dup" or "new" per add. */
static int
receiver(int fd)
{
	struct store *s = open_store();
	struct err e = { 0 };

	for (int i = 0; i < 20; i++) {
		char rid[32];
		int64_t id;
		bool dup;
		struct report *r;

		snprintf(rid, sizeof(rid), "race-%d", i);
		r = sample_report("Race", rid, T0, "race.example");
		if (add_received(s, r, "race.example", "mail", "none", false, T0 + 200000, &id,
		                 &dup, &e) != 0) {
			fprintf(stderr, "receiver: %s\n", e.msg);
			report_free(r);
			return 1;
		}
		report_free(r);
		if (write(fd, dup ? "d" : "n", 1) != 1)
			return 1;
	}
	store_close(s);
	return 0;
}

static void
case_received_race(void)
{
	pid_t pids[RECEIVERS];
	int pfd[2], bad = 0, news = 0, dups = 0;
	char c;
	struct store *s;
	struct store_received_filter f = { .include_unverified = true, .reporter = "race" };
	struct buf b;
	const char *got;

	if (pipe(pfd) != 0)
		return;
	fflush(stdout);
	for (int i = 0; i < RECEIVERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			close(pfd[0]);
			_exit(receiver(pfd[1]));
		}
	}
	close(pfd[1]);
	while (read(pfd[0], &c, 1) == 1) {
		news += c == 'n';
		dups += c == 'd';
	}
	close(pfd[0]);
	for (int i = 0; i < RECEIVERS; i++) {
		int status = 0;
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			bad++;
	}
	s = open_store();
	buf_init(&b, 1 << 22);
	got = received_text(s, &f, &b);
	size_t reports = 0;
	for (const char *p = got; (p = strstr(p, "sightings=3 ")) != NULL; p++)
		reports++;
	ok(bad == 0 && news == 20 && dups == 40 && reports == 20,
	   "received_add: three hosts adding the same 20 reports store each once",
	   "failed %d, new %d (want 20), duplicates %d (want 40), reports with 3 sightings %zu",
	   bad, news, dups, reports);
	buf_clear(&b);
	store_close(s);
}

int
main(int argc, char **argv)
{
	struct store *s;

	if (argc != 3) {
		fprintf(stderr, "usage: store_cases sqlite PATH | postgresql URL\n");
		return 2;
	}
	backend = argv[1];
	where = argv[2];
	printf("1..%d\n", N_PLANNED);
	s = open_store();
	ok(strcmp(s->ops->name, backend) == 0, "the store opens with the named backend",
	   "got %s, want %s", s->ops->name, backend);
	case_basic(s);
	case_lists(s);
	case_mark_and_rollback(s);
	store_close(s);
	case_reopen();
	case_concurrent();
	s = open_store();
	case_reported_meanwhile(s);
	case_outbox(s);
	case_delivery(s);
	case_daily_cap(s);
	case_claim_race(s);
	case_window_claim_purge(s);
	store_close(s);
	case_received();
	case_received_race();
	if (n_tests != N_PLANNED)
		printf("# ran %d tests, planned %d\n", n_tests, N_PLANNED);
	return n_fail ? 1 : 0;
}
