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
 * schema; two processes flushing deltas into the same rows concurrently give the exact
 * sum.  Used by tests/integration/store_sqlite_cases.t and store_pg.t.
 * Threading: single-threaded; the concurrency case forks.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"
#include "util/buf.h"
#include "util/str.h"

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
	printf("1..19\n");
	s = open_store();
	ok(strcmp(s->ops->name, backend) == 0, "the store opens with the named backend",
	   "got %s, want %s", s->ops->name, backend);
	case_basic(s);
	case_lists(s);
	case_mark_and_rollback(s);
	store_close(s);
	case_reopen();
	case_concurrent();
	if (n_tests != 19)
		printf("# ran %d tests, planned 19\n", n_tests);
	return n_fail ? 1 : 0;
}
