/*
 * test_outbound.c - report generation: building, max-size splitting, validation, the
 * outbox, the schedule and exactly-once generation (src/outbound, issue 6).
 *
 * Golden files: tests/data/outbound/<period>-<domain>.json (run with
 * TLSRPT_UPDATE_GOLDEN=1 to rewrite them after a deliberate change; review the diff).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "collector/collector.h"
#include "config/conf.h"
#include "outbound/build.h"
#include "outbound/generate.h"
#include "report/gzip.h"
#include "report/naming.h"
#include "report/report.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/clock.h"

#define T_HOUR 1764324000LL /* 2025-11-28T10:00:00Z, a Saturday */
#define T_DAY 1764288000LL  /* 2025-11-28T00:00:00Z */
#define T_WEEK 1763942400LL /* 2025-11-24T00:00:00Z, Monday */

static char dbpath[512];
static enum window_period test_period = WINDOW_DAILY;

static const char conf_base[] = "[report]\n"
                                "submitter = \"'mx.example.org'\"\n"
                                "[report.tls.aggregate]\n"
                                "org-name = \"'Example Org'\"\n"
                                "from-address = \"'noreply-tls@example.org'\"\n"
                                "sign = []\n";

static enum window_period
period_for(void *ctx, const char *domain)
{
	(void)ctx;
	(void)domain;
	return test_period;
}

static struct conf *
load_conf(const char *extra)
{
	char text[2048];
	struct conf *c = NULL;
	struct buf errs;
	struct err e = { 0 };

	snprintf(text, sizeof(text), "%s%s", conf_base, extra ? extra : "");
	buf_init(&errs, 65536);
	if (conf_parse("test.toml", text, strlen(text), &c, &errs, &e) != 0)
		fail_msg("conf: %s", buf_cstr(&errs));
	buf_clear(&errs);
	return c;
}

static struct store *
open_store(void)
{
	const char *tmp = getenv("TLSRPT_TEST_TMP");
	struct store *s;
	struct err e = { 0 };

	snprintf(dbpath, sizeof(dbpath), "%s/test_outbound.%d.db", tmp ? tmp : "/tmp",
	         (int)getpid());
	unlink(dbpath);
	if (store_open("sqlite", dbpath, &s, &e) != 0)
		fail_msg("store_open: %s", e.msg);
	return s;
}

static struct collector *
new_collector(struct store *s)
{
	struct collector_opts o;
	struct collector *c;
	struct err e = { 0 };

	memset(&o, 0, sizeof(o));
	o.store = s;
	o.period_for = period_for;
	o.socket_mode = -1;
	assert_int_equal(collector_new(&o, &c, &e), 0);
	return c;
}

/* One session: policy type t (libtlsrpt code), failure code fc (0: success). */
static void
feed(struct collector *c, const char *domain, int t, const char *pdomain, const char *extra, int fc,
     const char *sip, const char *mx, long long ts)
{
	char buf[2048], fd[512] = "";

	if (fc)
		snprintf(fd, sizeof(fd),
		         ",\"failure-details\":[{\"c\":%d,\"s\":\"%s\",\"n\":\"%s\",\"r\":\"192.0."
		         "2.%d\"}]",
		         fc, sip, mx, fc % 200);
	snprintf(buf, sizeof(buf),
	         "{\"dpv\":\"1\",\"d\":\"%s\",\"pr\":\"v=TLSRPTv1; rua=mailto:tlsrpt@%s,"
	         "https://rpt.%s/v1\",\"policies\":[{\"policy-type\":%d,\"policy-domain\":\"%s\""
	         "%s%s,\"t\":%d,\"f\":%d}],\"ts\":%lld}",
	         domain, domain, domain, t, pdomain, extra ? extra : "", fd, fc ? 1 : 0, fc ? 1 : 0,
	         ts);
	assert_int_equal(collector_feed(c, buf, strlen(buf), ts), DG_OK);
}

static void
flush(struct collector *c)
{
	struct err e = { 0 };

	if (collector_flush(c, &e) != 0)
		fail_msg("flush: %s", e.msg);
}

#define STS_EXTRA                                                                                  \
	",\"policy-string\":[\"version: STSv1\",\"mode: enforce\",\"mx: mx1.sts.example\","        \
	"\"max_age: 86400\"],\"mx-host\":[\"mx1.sts.example\"]"
#define TLSA_EXTRA ",\"policy-string\":[\"3 1 1 0123456789abcdef\"]"

/* Three domains with sts, tlsa and no-policy-found and several failure types. */
static void
feed_three(struct collector *c, long long t0)
{
	for (int i = 0; i < 5; i++)
		feed(c, "sts.example", 2, "sts.example", STS_EXTRA, 0, NULL, NULL, t0 + i);
	feed(c, "sts.example", 2, "sts.example", STS_EXTRA, 202, "198.51.100.1", "mx1.sts.example",
	     t0 + 10);
	feed(c, "sts.example", 2, "sts.example", STS_EXTRA, 202, "198.51.100.1", "mx1.sts.example",
	     t0 + 11);
	feed(c, "sts.example", 2, "sts.example", STS_EXTRA, 204, "198.51.100.2", "mx1.sts.example",
	     t0 + 12);
	feed(c, "sts.example", 2, "sts.example", STS_EXTRA, 301, "198.51.100.1", "mx1.sts.example",
	     t0 + 13);
	for (int i = 0; i < 3; i++)
		feed(c, "tlsa.example", 1, "tlsa.example", TLSA_EXTRA, 0, NULL, NULL, t0 + 20 + i);
	feed(c, "tlsa.example", 1, "tlsa.example", TLSA_EXTRA, 304, "198.51.100.1",
	     "mx.tlsa.example", t0 + 30);
	feed(c, "tlsa.example", 1, "tlsa.example", TLSA_EXTRA, 305, "198.51.100.3",
	     "mx.tlsa.example", t0 + 31);
	feed(c, "tlsa.example", 1, "tlsa.example", TLSA_EXTRA, 306, "198.51.100.3",
	     "mx.tlsa.example", t0 + 32);
	for (int i = 0; i < 7; i++)
		feed(c, "none.example", 9, "none.example", NULL, 0, NULL, NULL, t0 + 40 + i);
	feed(c, "none.example", 9, "none.example", NULL, 201, "198.51.100.4", "mx.none.example",
	     t0 + 50);
	feed(c, "none.example", 9, "none.example", NULL, 203, "198.51.100.4", "mx.none.example",
	     t0 + 51);
	flush(c);
}

/* --------------------------------------------------------- outbox reading helpers */

struct got {
	int n;
	int64_t ids[64];
	char *json[64];
	char *domain[64];
	char *report_id[64];
	char *filename[64];
	int state[64];
	size_t n_deliveries[64];
	uint64_t dropped[64];
};

static int
take_id(void *ctx, const struct store_outbox_report *r)
{
	struct got *g = ctx;

	assert_true(g->n < 64);
	assert_null(r->body);
	g->ids[g->n] = r->id;
	g->domain[g->n] = strdup(r->domain);
	g->report_id[g->n] = strdup(r->report_id);
	g->filename[g->n] = strdup(r->filename);
	g->state[g->n] = (int)r->state;
	g->n_deliveries[g->n] = r->n_deliveries;
	g->dropped[g->n] = r->dropped;
	g->n++;
	return 0;
}

static int
take_body(void *ctx, const struct store_outbox_report *r)
{
	char **out = ctx;
	struct buf b;
	struct err e = { 0 };

	buf_init(&b, 1 << 28);
	if (gzip_decompress((struct span){ (const char *)r->body, r->body_len }, 1 << 28, &b, &e) !=
	    0)
		fail_msg("gunzip: %s", e.msg);
	assert_int_equal(b.len, r->json_size);
	*out = strdup(buf_cstr(&b));
	buf_clear(&b);
	return 0;
}

static void
read_outbox(struct store *s, struct got *g)
{
	struct err e = { 0 };

	memset(g, 0, sizeof(*g));
	if (s->ops->outbox_list(s, NULL, take_id, g, &e) != 0)
		fail_msg("outbox_list: %s", e.msg);
	for (int i = 0; i < g->n; i++)
		if (s->ops->outbox_get(s, g->ids[i], take_body, &g->json[i], &e) != 0)
			fail_msg("outbox_get: %s", e.msg);
}

static void
got_free(struct got *g)
{
	for (int i = 0; i < g->n; i++) {
		free(g->json[i]);
		free(g->domain[i]);
		free(g->report_id[i]);
		free(g->filename[i]);
	}
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = calloc(1, (size_t)n + 1);
	if (fread(p, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	fclose(f);
	return p;
}

static void
run_pass(struct store *s, struct conf *c, int64_t now, bool immediate, struct outbound_stats *st)
{
	struct clock clk;
	struct outbound_opts o = { .conf = c, .store = s, .clock = &clk, .immediate = immediate };
	struct err e = { 0 };

	clock_init_fixed(&clk, now);
	memset(st, 0, sizeof(*st));
	if (outbound_run(&o, st, &e) != 0)
		fail_msg("outbound_run: %s", e.msg);
}

/* ------------------------------------------------------------------ tests */

static void
golden_period(enum window_period p, long long t0)
{
	struct store *s = open_store();
	struct conf *c = load_conf(NULL);
	struct collector *col;
	struct outbound_stats st;
	struct got g;
	bool update = getenv("TLSRPT_UPDATE_GOLDEN") != NULL;

	test_period = p;
	col = new_collector(s);
	feed_three(col, t0 + 60);
	/* before the window ends: nothing */
	run_pass(s, c, t0 + 120, false, &st);
	assert_int_equal(st.windows, 0);
	/* a day after the window ended: every window is due whatever its jitter */
	run_pass(s, c, t0 + window_length(p) + 86400, false, &st);
	assert_int_equal(st.windows, 3);
	assert_int_equal(st.reports, 3);
	assert_int_equal(st.invalid, 0);
	read_outbox(s, &g);
	assert_int_equal(g.n, 3);
	for (int i = 0; i < g.n; i++) {
		char path[256];
		char *want;

		snprintf(path, sizeof(path), "tests/data/outbound/%s-%s.json",
		         window_period_name(p), g.domain[i]);
		if (update) {
			FILE *f = fopen(path, "wb");

			assert_non_null(f);
			fputs(g.json[i], f);
			fputc('\n', f);
			fclose(f);
		}
		want = slurp(path);
		if (want == NULL)
			fail_msg("missing golden file %s", path);
		want[strcspn(want, "\n")] = '\0';
		if (strcmp(g.json[i], want) != 0)
			fail_msg("%s: got\n%s\nwant\n%s", path, g.json[i], want);
		free(want);
		assert_int_equal(g.state[i], STORE_REPORT_READY);
		assert_int_equal(g.n_deliveries[i], 2);
	}
	/* a second pass generates nothing */
	run_pass(s, c, t0 + window_length(p) + 2 * 86400, false, &st);
	assert_int_equal(st.windows, 0);
	got_free(&g);
	collector_free(col);
	store_close(s);
	conf_free(c);
}

static void
test_golden_hourly(void **state)
{
	(void)state;
	golden_period(WINDOW_HOURLY, T_HOUR);
}

static void
test_golden_daily(void **state)
{
	(void)state;
	golden_period(WINDOW_DAILY, T_DAY);
}

static void
test_golden_weekly(void **state)
{
	(void)state;
	golden_period(WINDOW_WEEKLY, T_WEEK);
}

/* Sessions per report in the outbox (parsed back with the reader). */
static void
sum_report(const char *json, uint64_t *ok, uint64_t *failed, uint64_t *details, size_t *npol)
{
	struct report *r;
	struct err e = { 0 };

	if (report_read((struct span){ json, strlen(json) }, NULL, &r, &e) != 0)
		fail_msg("report_read: %s", e.msg);
	for (size_t i = 0; i < r->n_policies; i++) {
		*ok += r->policies[i]->successful;
		*failed += r->policies[i]->failed;
		for (size_t k = 0; k < r->policies[i]->n_failures; k++)
			*details += r->policies[i]->failures[k].failed_session_count;
	}
	*npol += r->n_policies;
	report_free(r);
}

static void
test_split_parts(void **state)
{
	struct store *s = open_store();
	struct conf *c = load_conf("max-size = 1024\n");
	struct collector *col;
	struct outbound_stats st;
	struct got g;
	uint64_t ok = 0, failed = 0, details = 0;
	size_t npol = 0;

	(void)state;
	test_period = WINDOW_DAILY;
	col = new_collector(s);
	/* 12 policy domains for one report domain, each a policy of ~200 bytes */
	for (int i = 0; i < 12; i++) {
		char pd[64];

		snprintf(pd, sizeof(pd), "p%02d.big.example", i);
		feed(col, "big.example", 9, pd, NULL, 0, NULL, NULL, T_DAY + 100 + i);
		feed(col, "big.example", 9, pd, NULL, 201, "198.51.100.9", "mx.big.example",
		     T_DAY + 200 + i);
	}
	flush(col);
	run_pass(s, c, T_DAY + 86400, true, &st);
	assert_int_equal(st.windows, 1);
	assert_int_equal(st.split, 1);
	assert_int_equal(st.dropped_details, 0);
	read_outbox(s, &g);
	assert_true(g.n >= 3);
	assert_int_equal(st.reports, (uint64_t)g.n);
	for (int i = 0; i < g.n; i++) {
		char want[128];

		assert_true(strlen(g.json[i]) <= 1024);
		snprintf(want, sizeof(want), "20251128T000000Z.big.example.%d@mx.example.org",
		         i + 1);
		if (strcmp(g.report_id[i], want) != 0)
			fail_msg("part %d: got report-id %s, want %s", i + 1, g.report_id[i], want);
		assert_non_null(strstr(g.json[i], want));
		sum_report(g.json[i], &ok, &failed, &details, &npol);
	}
	assert_int_equal(npol, 12);
	assert_int_equal(ok, 12);
	assert_int_equal(failed, 12);
	assert_int_equal(details, 12);
	got_free(&g);
	collector_free(col);
	store_close(s);
	conf_free(c);
}

static void
test_under_limit_one_part(void **state)
{
	struct store *s = open_store();
	struct conf *c = load_conf("max-size = 4096\n");
	struct collector *col;
	struct outbound_stats st;
	struct got g;

	(void)state;
	test_period = WINDOW_DAILY;
	col = new_collector(s);
	feed_three(col, T_DAY + 60);
	run_pass(s, c, T_DAY + 86400, true, &st);
	assert_int_equal(st.reports, 3);
	assert_int_equal(st.split, 0);
	read_outbox(s, &g);
	for (int i = 0; i < g.n; i++)
		assert_non_null(strstr(g.report_id[i], ".1@mx.example.org"));
	got_free(&g);
	collector_free(col);
	store_close(s);
	conf_free(c);
}

static void
test_single_oversized_policy(void **state)
{
	struct store *s = open_store();
	struct conf *c = load_conf("max-size = 1024\n");
	struct collector *col;
	struct outbound_stats st;
	struct got g;
	uint64_t ok = 0, failed = 0, details = 0;
	size_t npol = 0;
	int total = 0;

	(void)state;
	test_period = WINDOW_DAILY;
	col = new_collector(s);
	/* 20 distinct sending IPs; IP i fails i+1 times: the rarest are the low ones */
	for (int i = 0; i < 20; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "198.51.100.%d", 100 + i);
		for (int k = 0; k <= i; k++, total++)
			feed(col, "one.example", 9, "one.example", NULL, 201, ip, "mx.one.example",
			     T_DAY + 100 + total);
	}
	flush(col);
	run_pass(s, c, T_DAY + 86400, true, &st);
	assert_int_equal(st.reports, 1);
	assert_true(st.dropped_details > 0);
	read_outbox(s, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.state[0], STORE_REPORT_READY);
	assert_int_equal(g.dropped[0], st.dropped_details);
	assert_true(strlen(g.json[0]) <= 1024);
	sum_report(g.json[0], &ok, &failed, &details, &npol);
	assert_int_equal(failed, (uint64_t)total); /* summary stays exact */
	assert_true(details < (uint64_t)total);
	/* the most frequent (198.51.100.119, 20 sessions) is kept, the rarest dropped */
	assert_non_null(strstr(g.json[0], "198.51.100.119"));
	assert_null(strstr(g.json[0], "\"198.51.100.100\""));
	got_free(&g);
	collector_free(col);
	store_close(s);
	conf_free(c);
}

static void
test_schedule_jitter(void **state)
{
	struct store *s = open_store();
	struct conf *c = load_conf(NULL);
	struct collector *col;
	struct outbound_stats st;
	struct store_window w = { .period = WINDOW_DAILY,
		                  .start = T_DAY,
		                  .end = T_DAY + 86400,
		                  .domain = "sts.example" };
	struct outbound_opts o = { .conf = c, .store = s };
	int64_t due, j;

	(void)state;
	/* deterministic and bounded */
	j = outbound_jitter(WINDOW_DAILY, "sts.example", T_DAY, 4 * 3600);
	assert_int_equal(j, outbound_jitter(WINDOW_DAILY, "sts.example", T_DAY, 4 * 3600));
	for (int i = 0; i < 200; i++) {
		char d[32];

		snprintf(d, sizeof(d), "d%d.example", i);
		assert_true(outbound_jitter(WINDOW_DAILY, d, T_DAY, 4 * 3600) <= 4 * 3600);
		assert_true(outbound_jitter(WINDOW_HOURLY, d, T_HOUR, 4 * 3600) <= 600);
		assert_true(outbound_jitter(WINDOW_WEEKLY, d, T_WEEK, 4 * 3600) <= 4 * 3600);
	}
	due = outbound_due_at(&o, &w);
	assert_int_equal(due, T_DAY + 86400 + 600 + j);
	test_period = WINDOW_DAILY;
	col = new_collector(s);
	feed_three(col, T_DAY + 60);
	/* the sts.example window is not due one second before its time, and is at it */
	run_pass(s, c, due - 1, false, &st);
	for (int i = 0; i < 1; i++) {
		struct got g;

		read_outbox(s, &g);
		for (int k = 0; k < g.n; k++)
			assert_string_not_equal(g.domain[k], "sts.example");
		got_free(&g);
	}
	run_pass(s, c, due, false, &st);
	{
		struct got g;
		int found = 0;

		read_outbox(s, &g);
		for (int k = 0; k < g.n; k++)
			found += strcmp(g.domain[k], "sts.example") == 0;
		assert_int_equal(found, 1);
		got_free(&g);
	}
	collector_free(col);
	store_close(s);
	conf_free(c);
}

static void
test_missed_windows_oldest_first(void **state)
{
	struct store *s = open_store();
	struct conf *c = load_conf(NULL);
	struct collector *col;
	struct outbound_stats st;
	struct got g;

	(void)state;
	test_period = WINDOW_DAILY;
	col = new_collector(s);
	for (int d = 0; d < 3; d++)
		feed(col, "late.example", 9, "late.example", NULL, 0, NULL, NULL,
		     T_DAY - (2 - d) * 86400 + 3600);
	flush(col);
	/* down for days: one pass generates the three windows, oldest first */
	run_pass(s, c, T_DAY + 5 * 86400, false, &st);
	assert_int_equal(st.windows, 3);
	read_outbox(s, &g);
	assert_int_equal(g.n, 3);
	assert_non_null(strstr(g.report_id[0], "20251126T000000Z"));
	assert_non_null(strstr(g.report_id[1], "20251127T000000Z"));
	assert_non_null(strstr(g.report_id[2], "20251128T000000Z"));
	got_free(&g);
	collector_free(col);
	store_close(s);
	conf_free(c);
}

static int
count_reports(void *ctx, const struct store_outbox_report *r)
{
	(void)r;
	(*(int *)ctx)++;
	return 0;
}

static void
test_outbox_filters_update_purge(void **state)
{
	struct store *s = open_store();
	struct conf *c = load_conf(NULL);
	struct collector *col;
	struct outbound_stats st;
	struct got g;
	struct err e = { 0 };
	struct store_outbox_filter f = { .domain = "tlsa.example",
		                         .report_state = -1,
		                         .delivery_state = -1 };
	uint64_t nr = 0, nw = 0;
	int n = 0;

	(void)state;
	test_period = WINDOW_DAILY;
	col = new_collector(s);
	feed_three(col, T_DAY + 60);
	run_pass(s, c, T_DAY + 86400, true, &st);
	assert_int_equal(s->ops->outbox_list(s, &f, count_reports, &n, &e), 0);
	assert_int_equal(n, 1);
	read_outbox(s, &g);
	assert_int_equal(s->ops->outbox_delivery_update(s, g.ids[0], "mailto:tlsrpt@none.example",
	                                                STORE_DELIVERY_SENT, 0, NULL, &e),
	                 0);
	assert_int_equal(
	        s->ops->outbox_delivery_update(s, g.ids[0], "mailto:nobody@x", 1, 0, NULL, &e),
	        ERR_NOTFOUND);
	f = (struct store_outbox_filter){ .report_state = -1,
		                          .delivery_state = STORE_DELIVERY_SENT };
	n = 0;
	assert_int_equal(s->ops->outbox_list(s, &f, count_reports, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(s->ops->outbox_get(s, 9999, count_reports, &n, &e), ERR_NOTFOUND);
	/* retention */
	assert_int_equal(s->ops->begin(s, &e), 0);
	assert_int_equal(s->ops->purge(s, T_DAY + 86400, &nr, &nw, &e), 0);
	assert_int_equal(nr, 0);
	assert_int_equal(nw, 0);
	assert_int_equal(s->ops->purge(s, T_DAY + 86401, &nr, &nw, &e), 0);
	assert_int_equal(nr, 3);
	assert_int_equal(nw, 3);
	assert_int_equal(s->ops->commit(s, &e), 0);
	n = 0;
	assert_int_equal(s->ops->outbox_list(s, NULL, count_reports, &n, &e), 0);
	assert_int_equal(n, 0);
	got_free(&g);
	collector_free(col);
	store_close(s);
	conf_free(c);
}

static void
test_contact_info_and_names(void **state)
{
	struct conf *c = load_conf(NULL);
	struct conf *c2 = load_conf("contact-info = \"'tls-ops@example.org'\"\n");
	struct outbound_ident id;
	struct err e = { 0 };

	(void)state;
	assert_int_equal(outbound_ident_eval(c, "x.example", &id, &e), 0);
	assert_string_equal(id.org_name, "Example Org");
	assert_string_equal(id.contact_info, "noreply-tls@example.org");
	assert_string_equal(id.submitter, "mx.example.org");
	outbound_ident_clear(&id);
	assert_int_equal(outbound_ident_eval(c2, "x.example", &id, &e), 0);
	assert_string_equal(id.contact_info, "tls-ops@example.org");
	outbound_ident_clear(&id);
	conf_free(c);
	conf_free(c2);
}

/* A report failing the strict validator is stored as invalid, with the reason, and
 * gets no delivery rows; the window is still marked reported (not retried forever). */
static void
test_invalid_kept_not_sent(void **state)
{
	struct store *s = open_store();
	struct conf *c = load_conf("contact-info = \"'not an address'\"\n");
	struct collector *col;
	struct outbound_stats st;
	struct store_outbox_filter f = { .report_state = STORE_REPORT_INVALID,
		                         .delivery_state = -1 };
	struct got g;
	struct err e = { 0 };
	int n = 0;

	(void)state;
	test_period = WINDOW_DAILY;
	col = new_collector(s);
	feed(col, "bad.example", 9, "bad.example", NULL, 0, NULL, NULL, T_DAY + 100);
	flush(col);
	run_pass(s, c, T_DAY + 86400, true, &st);
	assert_int_equal(st.windows, 1);
	assert_int_equal(st.reports, 1);
	assert_int_equal(st.invalid, 1);
	read_outbox(s, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.state[0], STORE_REPORT_INVALID);
	assert_int_equal(g.n_deliveries[0], 0);
	assert_int_equal(s->ops->outbox_list(s, &f, count_reports, &n, &e), 0);
	assert_int_equal(n, 1);
	run_pass(s, c, T_DAY + 2 * 86400, true, &st);
	assert_int_equal(st.windows, 0);
	got_free(&g);
	collector_free(col);
	store_close(s);
	conf_free(c);
}

static int
take_error(void *ctx, const struct store_outbox_report *r)
{
	char *out = ctx;

	snprintf(out, 512, "%s", r->error ? r->error : "");
	return 0;
}

static void
test_invalid_reason_recorded(void **state)
{
	struct store *s = open_store();
	struct conf *c = load_conf("contact-info = \"'not an address'\"\n");
	struct collector *col;
	struct outbound_stats st;
	struct err e = { 0 };
	char reason[512] = "";

	(void)state;
	test_period = WINDOW_DAILY;
	col = new_collector(s);
	feed(col, "bad.example", 9, "bad.example", NULL, 0, NULL, NULL, T_DAY + 100);
	flush(col);
	run_pass(s, c, T_DAY + 86400, true, &st);
	assert_int_equal(s->ops->outbox_get(s, 1, take_error, reason, &e), 0);
	if (strncmp(reason, "contact-info", 12) != 0)
		fail_msg("got error \"%s\", want one about contact-info", reason);
	collector_free(col);
	store_close(s);
	conf_free(c);
}

/* send changes from hourly to daily mid-day: the hourly window keeps its sessions, the
 * daily one gets the rest; every session is reported exactly once. */
static void
test_frequency_change(void **state)
{
	struct store *s = open_store();
	struct conf *c = load_conf(NULL);
	struct collector *col;
	struct outbound_stats st;
	struct got g;
	uint64_t ok = 0, failed = 0, details = 0;
	size_t npol = 0;

	(void)state;
	test_period = WINDOW_HOURLY;
	col = new_collector(s);
	for (int i = 0; i < 4; i++)
		feed(col, "chg.example", 9, "chg.example", NULL, 0, NULL, NULL, T_HOUR + 10 + i);
	flush(col);
	collector_free(col);
	test_period = WINDOW_DAILY;
	col = new_collector(s);
	for (int i = 0; i < 3; i++)
		feed(col, "chg.example", 9, "chg.example", NULL, 0, NULL, NULL, T_HOUR + 20 + i);
	flush(col);
	run_pass(s, c, T_DAY + 2 * 86400, false, &st);
	assert_int_equal(st.windows, 2);
	read_outbox(s, &g);
	assert_int_equal(g.n, 2);
	for (int i = 0; i < g.n; i++)
		sum_report(g.json[i], &ok, &failed, &details, &npol);
	assert_int_equal(ok, 7);
	assert_non_null(strstr(g.json[0], "\"end-datetime\":\"2025-11-28T10:59:59Z\""));
	assert_non_null(strstr(g.json[0], "\"total-successful-session-count\":4"));
	assert_non_null(strstr(g.json[1], "\"end-datetime\":\"2025-11-28T23:59:59Z\""));
	assert_non_null(strstr(g.json[1], "\"total-successful-session-count\":3"));
	got_free(&g);
	collector_free(col);
	store_close(s);
	conf_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_hourly),
		cmocka_unit_test(test_golden_daily),
		cmocka_unit_test(test_golden_weekly),
		cmocka_unit_test(test_under_limit_one_part),
		cmocka_unit_test(test_split_parts),
		cmocka_unit_test(test_single_oversized_policy),
		cmocka_unit_test(test_schedule_jitter),
		cmocka_unit_test(test_missed_windows_oldest_first),
		cmocka_unit_test(test_outbox_filters_update_purge),
		cmocka_unit_test(test_contact_info_and_names),
		cmocka_unit_test(test_invalid_kept_not_sent),
		cmocka_unit_test(test_invalid_reason_recorded),
		cmocka_unit_test(test_frequency_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
