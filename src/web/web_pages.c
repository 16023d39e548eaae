/*
 * web_pages.c - the dashboard's overview (/) and per-domain (/domain?d=...) pages.
 *
 * Numbers come from the aggregates of web_data.c (one GROUP BY per section), so a page
 * costs a handful of indexed queries whatever the number of stored reports.  Every
 * chart is followed by a table with its numbers; every stored string is escaped.
 * The MTA-STS hint (RFC 8461 section 5, policy modes): a domain whose reports carry an
 * sts policy in mode testing and show no failed session for web sts_days days may switch
 * to enforce.
 * Threading: httpd thread only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/xalloc.h"
#include "web/web_int.h"
#include "web/web_text.h"

struct page {
	struct web_req *r;
	struct web_range g;
	bool failed;
};

/* Runs one group query of the page's range; on failure answers 503 once. */
static int
page_groups(struct page *p, enum store_rgroup by, const char *domain, int64_t since, int64_t until,
            struct web_groups *out)
{
	struct store_received_group_query q = {
		.by = by,
		.domain = domain,
		.since = since,
		.until = until,
		.include_unverified = p->g.unverified,
	};
	struct err e = { 0 };

	if (web_groups_get(p->r->w, &q, out, &e) != 0) {
		web_groups_free(out);
		if (!p->failed)
			web_error(p->r, 503, "store: %s", e.msg);
		p->failed = true;
		return -1;
	}
	return 0;
}

/* The per-day charts and their tables. */
static void
day_sections(struct page *p, const struct web_groups *days, const char *what)
{
	struct buf *b = p->r->out;
	struct web_bucket *v;
	unsigned per;
	size_t n = web_buckets(&p->g, days, &v, &per), rows = 0;
	char title[160];
	static const char *const cols[] = { "Day",     "#Reports",      "#Successful",
		                            "#Failed", "#Failure rate", NULL };

	snprintf(title, sizeof(title), "Sessions per %s%s: successful and failed",
	         per > 1 ? "bucket of days" : "day", what);
	buf_append_str(b, "<h2>");
	web_html(b, title);
	buf_append_str(b, "</h2>");
	web_chart_stacked(b, title, v, n, per);
	snprintf(title, sizeof(title), "Failure rate per %s%s", per > 1 ? "bucket of days" : "day",
	         what);
	buf_append_str(b, "<h2>");
	web_html(b, title);
	buf_append_str(b, "</h2>");
	web_chart_rate(b, title, v, n, per);
	web_table_begin(b,
	                per > 1 ? "Sessions per bucket (first day shown), days with reports"
	                        : "Sessions per day, days with reports",
	                cols);
	for (size_t i = 0; i < n; i++) {
		char rate[32];

		if (v[i].reports == 0)
			continue;
		rows++;
		buf_append_str(b, "<tr>");
		web_td_day(b, v[i].start);
		web_td_count(b, v[i].reports);
		web_td_count(b, v[i].success);
		web_td_count(b, v[i].failure);
		web_rate_text(v[i].success, v[i].failure, rate);
		buf_printf(b, "<td class=\"n\">%s</td></tr>", rate);
	}
	web_table_end(b, rows, 5, "no reports in this range");
	free(v);
}

/* A failure group section: chart of the top 15 and the whole table. */
static void
fail_section(struct page *p, const char *title, const char *col, const struct web_groups *x,
             bool key2)
{
	struct buf *b = p->r->out;
	size_t n = x->n < 15 ? x->n : 15;
	const char **labels = xcalloc(n ? n : 1, sizeof(*labels));
	uint64_t *vals = xcalloc(n ? n : 1, sizeof(*vals));
	const char *cols[] = { col, key2 ? "Detail" : "#Reports", "#Failed sessions",
		               key2 ? "#Reports" : "Last failure", NULL };

	buf_append_str(b, "<h2>");
	web_html(b, title);
	buf_append_str(b, "</h2>");
	for (size_t i = 0; i < n; i++) {
		labels[i] = x->v[i].row.key;
		vals[i] = x->v[i].row.count;
	}
	if (n)
		web_chart_hbars(b, title, labels, vals, NULL, n, "failed sessions", NULL);
	web_table_begin(b, title, cols);
	for (size_t i = 0; i < x->n; i++) {
		const struct store_received_group_row *g = &x->v[i].row;

		buf_append_str(b, "<tr>");
		web_td_text(b, g->key);
		if (key2) {
			web_td_text(b, g->key2);
			web_td_count(b, g->count);
			web_td_count(b, g->reports);
		} else {
			web_td_count(b, g->reports);
			web_td_count(b, g->count);
			web_td_day(b, g->last_failure);
		}
		buf_append_str(b, "</tr>");
	}
	web_table_end(b, x->n, 4, "no failures reported in this range");
	free(labels);
	free(vals);
}

/* ------------------------------------------------------------ MTA-STS readiness */

enum hint { HINT_NONE, HINT_SAFE, HINT_WAIT, HINT_FAILING, HINT_ENFORCE, HINT_MODE_NONE };

/*
 * The hint for domain from the STORE_RGROUP_STS_MODE groups of the last sts_days days;
 * text gets the sentence.
 */
static enum hint
sts_hint(const struct web_groups *sts, const char *domain, unsigned days, char *text, size_t cap)
{
	const struct store_received_group_row *testing = NULL, *enforce = NULL, *none = NULL;

	for (size_t i = 0; i < sts->n; i++) {
		const struct store_received_group_row *x = &sts->v[i].row;

		if (x->key == NULL || strcmp(x->key, domain) != 0 || x->key2 == NULL)
			continue;
		if (strcmp(x->key2, "testing") == 0)
			testing = x;
		else if (strcmp(x->key2, "enforce") == 0)
			enforce = x;
		else if (strcmp(x->key2, "none") == 0)
			none = x;
	}
	if (testing && !(enforce && enforce->last > testing->last)) {
		int64_t span = testing->last - testing->first + 1;

		if (testing->failure > 0) {
			snprintf(text, cap,
			         "MTA-STS testing: %" PRIu64
			         " failed sessions in the last %u days; fix "
			         "them before enforcing",
			         testing->failure, days);
			return HINT_FAILING;
		}
		if (span >= (int64_t)(days - 1) * 86400) {
			snprintf(text, cap,
			         "MTA-STS testing: no failures for %u days, enforce looks safe",
			         days);
			return HINT_SAFE;
		}
		snprintf(text, cap,
		         "MTA-STS testing: no failures so far, %lld of %u days of reports",
		         (long long)((span + 86399) / 86400), days);
		return HINT_WAIT;
	}
	if (enforce) {
		snprintf(text, cap, "MTA-STS enforce");
		return HINT_ENFORCE;
	}
	if (none) {
		snprintf(text, cap, "MTA-STS mode none");
		return HINT_MODE_NONE;
	}
	snprintf(text, cap, "no MTA-STS policy in the last %u days of reports", days);
	return HINT_NONE;
}

static const char *
hint_class(enum hint h)
{
	switch (h) {
	case HINT_SAFE:
	case HINT_ENFORCE:
		return "ok";
	case HINT_FAILING:
		return "bad";
	case HINT_WAIT:
		return "warn";
	default:
		return "muted";
	}
}

/* ------------------------------------------------------------ GET / */

void
web_page_overview(struct web_req *r)
{
	struct page p = { .r = r };
	struct web_groups days = { 0 }, doms = { 0 }, types = { 0 }, sts = { 0 }, reps = { 0 };
	struct buf *b = r->out;
	uint64_t reports = 0, succ = 0, fail = 0;
	size_t silent = 0;
	char t[6][32];
	struct buf q;

	if (web_range_args(r, &p.g) != 0)
		return;
	int64_t sts_since = p.g.until - (int64_t)r->w->o.sts_days * 86400;

	if (page_groups(&p, STORE_RGROUP_DAY, NULL, p.g.since, p.g.until, &days) ||
	    page_groups(&p, STORE_RGROUP_DOMAIN, NULL, p.g.since, p.g.until, &doms) ||
	    page_groups(&p, STORE_RGROUP_FAIL_TYPE, NULL, p.g.since, p.g.until, &types) ||
	    page_groups(&p, STORE_RGROUP_STS_MODE, NULL, sts_since, p.g.until, &sts) ||
	    page_groups(&p, STORE_RGROUP_REPORTER, NULL, 0, 0, &reps))
		goto out;
	for (size_t i = 0; i < days.n; i++) {
		reports += days.v[i].row.reports;
		succ += days.v[i].row.success;
		fail += days.v[i].row.failure;
	}
	for (size_t i = 0; i < reps.n; i++)
		if (r->now - reps.v[i].row.last_received > (int64_t)r->w->o.silent_days * 86400)
			silent++;
	web_page_begin(r, "TLS reports about our domains", "/", &p.g, NULL);
	web_count(reports, t[0]);
	web_count(doms.n, t[1]);
	web_count(succ, t[2]);
	web_count(fail, t[3]);
	web_rate_text(succ, fail, t[4]);
	web_count(silent, t[5]);
	buf_init(&q, 4096);
	web_range_query(r, &q);
	buf_printf(b,
	           "<div class=\"cards\">"
	           "<div class=\"card\"><div class=\"v\" id=\"reports\">%s</div>"
	           "<div class=\"l\">reports</div></div>"
	           "<div class=\"card\"><div class=\"v\" id=\"domains\">%s</div>"
	           "<div class=\"l\">policy domains</div></div>"
	           "<div class=\"card\"><div class=\"v ok\" id=\"successes\">%s</div>"
	           "<div class=\"l\">successful sessions</div></div>"
	           "<div class=\"card\"><div class=\"v bad\" id=\"failures\">%s</div>"
	           "<div class=\"l\">failed sessions</div></div>"
	           "<div class=\"card\"><div class=\"v\" id=\"rate\">%s</div>"
	           "<div class=\"l\">failure rate</div></div>"
	           "<div class=\"card\"><div class=\"v%s\" id=\"silent\">%s</div>"
	           "<div class=\"l\"><a href=\"/reporters%s%s\">reporters silent &gt; %u days</a>"
	           "</div></div></div>",
	           t[0], t[1], t[2], t[3], t[4], silent ? " warn" : "", t[5], q.len ? "?" : "",
	           q.len ? buf_cstr(&q) : "", r->w->o.silent_days);

	/* domains */
	{
		static const char *const cols[] = { "Policy domain", "#Reports",
			                            "#Successful",   "#Failed",
			                            "#Failure rate", "MTA-STS",
			                            "Last report",   NULL };
		size_t n = doms.n < 15 ? doms.n : 15;
		const char **labels = xcalloc(n ? n : 1, sizeof(*labels));
		uint64_t *a = xcalloc(n ? n : 1, sizeof(*a)), *f = xcalloc(n ? n : 1, sizeof(*f));

		buf_append_str(b, "<h2>Policy domains</h2>");
		for (size_t i = 0; i < n; i++) {
			labels[i] = doms.v[i].row.key;
			a[i] = doms.v[i].row.success;
			f[i] = doms.v[i].row.failure;
		}
		if (n)
			web_chart_hbars(b, "Sessions per policy domain", labels, a, f, n,
			                "successful sessions", "failed sessions");
		web_table_begin(b, "Sessions per policy domain", cols);
		for (size_t i = 0; i < doms.n; i++) {
			const struct store_received_group_row *x = &doms.v[i].row;
			char rate[32], hint[200];
			enum hint h = sts_hint(&sts, x->key ? x->key : "", r->w->o.sts_days, hint,
			                       sizeof(hint));

			if (x->key == NULL) {
				buf_append_str(b, "<tr>");
				web_td_text(b, NULL);
			} else {
				buf_append_str(b, "<tr><td><a href=\"/domain?d=");
				web_url(b, x->key);
				if (q.len)
					buf_printf(b, "&amp;%s", buf_cstr(&q));
				buf_append_str(b, "\">");
				web_html(b, x->key);
				buf_append_str(b, "</a></td>");
			}
			web_td_count(b, x->reports);
			web_td_count(b, x->success);
			web_td_count(b, x->failure);
			web_rate_text(x->success, x->failure, rate);
			buf_printf(b, "<td class=\"n\">%s</td><td class=\"%s\">", rate,
			           hint_class(h));
			web_html(b, hint);
			buf_append_str(b, "</td>");
			web_td_day(b, x->last);
			buf_append_str(b, "</tr>");
		}
		web_table_end(b, doms.n, 7, "no reports in this range");
		free(labels);
		free(a);
		free(f);
	}
	day_sections(&p, &days, ", all domains");
	fail_section(&p, "Failure types, all domains", "Result type", &types, false);
	web_page_end(r);
	buf_clear(&q);
out:
	web_groups_free(&days);
	web_groups_free(&doms);
	web_groups_free(&types);
	web_groups_free(&sts);
	web_groups_free(&reps);
}

/* ------------------------------------------------------------ GET /domain?d= */

void
web_page_domain(struct web_req *r)
{
	struct page p = { .r = r };
	struct web_groups days = { 0 }, types = { 0 }, mx = { 0 }, ips = { 0 }, reps = { 0 },
	                  reasons = { 0 }, sts = { 0 }, ptypes = { 0 };
	struct buf *b = r->out;
	const char *arg = web_arg(r, "d");
	char *d = NULL, title[320], hint[200];
	uint64_t succ = 0, fail = 0, reports = 0;
	char t[4][32];

	if (arg == NULL) {
		web_error(r, 400, "d: give the policy domain, e.g. /domain?d=example.com");
		return;
	}
	if (strlen(arg) > 253) {
		web_error(r, 400, "d: not a domain name (longer than 253 bytes)");
		return;
	}
	d = xstrdup(arg);
	str_lower(d, strlen(d));
	if (web_range_args(r, &p.g) != 0)
		goto out;
	int64_t sts_since = p.g.until - (int64_t)r->w->o.sts_days * 86400;

	if (page_groups(&p, STORE_RGROUP_DAY, d, p.g.since, p.g.until, &days) ||
	    page_groups(&p, STORE_RGROUP_FAIL_TYPE, d, p.g.since, p.g.until, &types) ||
	    page_groups(&p, STORE_RGROUP_FAIL_MX, d, p.g.since, p.g.until, &mx) ||
	    page_groups(&p, STORE_RGROUP_FAIL_IP, d, p.g.since, p.g.until, &ips) ||
	    page_groups(&p, STORE_RGROUP_FAIL_REPORTER, d, p.g.since, p.g.until, &reps) ||
	    page_groups(&p, STORE_RGROUP_FAIL_REASON, d, p.g.since, p.g.until, &reasons) ||
	    page_groups(&p, STORE_RGROUP_POLICY_TYPE, d, p.g.since, p.g.until, &ptypes) ||
	    page_groups(&p, STORE_RGROUP_STS_MODE, d, sts_since, p.g.until, &sts))
		goto out;
	for (size_t i = 0; i < days.n; i++) {
		reports += days.v[i].row.reports;
		succ += days.v[i].row.success;
		fail += days.v[i].row.failure;
	}
	snprintf(title, sizeof(title), "Policy domain %s", d);
	web_page_begin(r, title, "/domain", &p.g, d);
	web_count(reports, t[0]);
	web_count(succ, t[1]);
	web_count(fail, t[2]);
	web_rate_text(succ, fail, t[3]);
	enum hint h = sts_hint(&sts, d, r->w->o.sts_days, hint, sizeof(hint));

	buf_printf(b,
	           "<div class=\"cards\">"
	           "<div class=\"card\"><div class=\"v\" id=\"reports\">%s</div>"
	           "<div class=\"l\">reports</div></div>"
	           "<div class=\"card\"><div class=\"v ok\" id=\"successes\">%s</div>"
	           "<div class=\"l\">successful sessions</div></div>"
	           "<div class=\"card\"><div class=\"v bad\" id=\"failures\">%s</div>"
	           "<div class=\"l\">failed sessions</div></div>"
	           "<div class=\"card\"><div class=\"v\" id=\"rate\">%s</div>"
	           "<div class=\"l\">failure rate</div></div></div>"
	           "<p id=\"sts\" class=\"%s\">",
	           t[0], t[1], t[2], t[3], hint_class(h));
	web_html(b, hint);
	buf_append_str(b, "</p>");
	day_sections(&p, &days, "");
	fail_section(&p, "Failure types", "Result type", &types, false);
	fail_section(&p, "Failing MX hosts", "Receiving MX host", &mx, false);
	fail_section(&p, "Failing receiving IPs", "Receiving IP", &ips, false);
	fail_section(&p, "Reporters that see failures", "Reporter (submitter)", &reps, false);
	fail_section(&p, "Reasons given", "Result type", &reasons, true);
	{
		static const char *const cols[] = { "Policy type", "#Reports", "#Successful",
			                            "#Failed", NULL };

		buf_append_str(b, "<h2>Policy types</h2>");
		web_table_begin(b, "Sessions per policy type", cols);
		for (size_t i = 0; i < ptypes.n; i++) {
			buf_append_str(b, "<tr>");
			web_td_text(b, ptypes.v[i].row.key);
			web_td_count(b, ptypes.v[i].row.reports);
			web_td_count(b, ptypes.v[i].row.success);
			web_td_count(b, ptypes.v[i].row.failure);
			buf_append_str(b, "</tr>");
		}
		web_table_end(b, ptypes.n, 4, "no reports in this range");
	}
	web_page_end(r);
out:
	free(d);
	web_groups_free(&days);
	web_groups_free(&types);
	web_groups_free(&mx);
	web_groups_free(&ips);
	web_groups_free(&reps);
	web_groups_free(&reasons);
	web_groups_free(&sts);
	web_groups_free(&ptypes);
}
