/*
 * web_pages_more.c - the dashboard's reporter page (/reporters) and outbound page
 * (/outbound).
 *
 * Reporters: who sends reports about our domains, how many, when last, and the quirks
 * found in their reports (DESIGN.md "Rules for incoming reports"); a reporter with no
 * report received for more than silent days is flagged.  Outbound: the collector's
 * counters (store list_counts), the reports generated and their deliveries (outbox) with
 * the last error of each destination not yet delivered.
 * Threading: httpd thread only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "util/xalloc.h"
#include "web/web_int.h"
#include "web/web_text.h"

/* ------------------------------------------------------------ GET /reporters */

void
web_page_reporters(struct web_req *r)
{
	struct store_received_group_query q = { .by = STORE_RGROUP_REPORTER };
	struct web_groups g = { 0 };
	struct buf *b = r->out, quirks;
	struct err e = { 0 };
	uint64_t silent;
	size_t n, flagged = 0;
	static const char *const cols[] = { "Reporter",
		                            "Submitter",
		                            "#Reports",
		                            "#Successful",
		                            "#Failed",
		                            "Last report received",
		                            "Data-quality quirks",
		                            "Status",
		                            NULL };

	if (web_arg_uint(r, "silent", r->w->o.silent_days, 1, 3660, &silent) != 0)
		return;
	q.include_unverified = web_arg_flag(r, "unverified");
	if (web_groups_get(r->w, &q, &g, &e) != 0) {
		web_groups_free(&g);
		web_error(r, 503, "store: %s", e.msg);
		return;
	}
	for (size_t i = 0; i < g.n; i++)
		if (r->now - g.v[i].row.last_received > (int64_t)silent * 86400)
			flagged++;
	web_page_begin(r, "Reporters", "/reporters", NULL, NULL);
	buf_printf(b,
	           "<form class=\"range\" method=\"get\" action=\"/reporters\"><label>Flag after "
	           "days of silence<input type=\"number\" name=\"silent\" min=\"1\" max=\"3660\" "
	           "value=\"%" PRIu64 "\"></label><label class=\"cb\"><input type=\"checkbox\" "
	           "name=\"unverified\" value=\"1\"%s>include unverified reports</label>"
	           "<button>Show</button></form>"
	           "<p>All reports stored: <b id=\"nreporters\">%zu</b> reporters, "
	           "<b id=\"nsilent\" class=\"%s\">%zu</b> silent for more than %" PRIu64
	           " days.</p>",
	           silent, q.include_unverified ? " checked" : "", g.n, flagged ? "warn" : "ok",
	           flagged, silent);
	n = g.n < 20 ? g.n : 20;
	{
		const char **labels = xcalloc(n ? n : 1, sizeof(*labels));
		uint64_t *v = xcalloc(n ? n : 1, sizeof(*v));

		for (size_t i = 0; i < n; i++) {
			labels[i] = g.v[i].row.key2 ? g.v[i].row.key2 : g.v[i].row.key;
			v[i] = g.v[i].row.reports;
		}
		buf_append_str(b, "<h2>Reports per reporter</h2>");
		if (n)
			web_chart_hbars(b, "Reports per reporter", labels, v, NULL, n, "reports",
			                NULL);
		free(labels);
		free(v);
	}
	buf_init(&quirks, 4096);
	web_table_begin(b, "Reporters, all reports stored", cols);
	for (size_t i = 0; i < g.n; i++) {
		const struct store_received_group_row *x = &g.v[i].row;
		int64_t age = r->now - x->last_received;

		buf_append_str(b, "<tr>");
		web_td_text(b, x->key2);
		web_td_text(b, x->key);
		web_td_count(b, x->reports);
		web_td_count(b, x->success);
		web_td_count(b, x->failure);
		web_td_day(b, x->last_received);
		buf_reset(&quirks);
		report_quirks_format(x->quirks, ", ", &quirks);
		web_td_text(b, quirks.len ? buf_cstr(&quirks) : "none");
		if (age > (int64_t)silent * 86400)
			buf_printf(b, "<td class=\"warn\">silent for %lld days</td>",
			           (long long)(age / 86400));
		else
			buf_append_str(b, "<td class=\"ok\">sending</td>");
		buf_append_str(b, "</tr>");
	}
	web_table_end(b, g.n, 8, "no reports stored yet");
	buf_clear(&quirks);
	web_page_end(r);
	web_groups_free(&g);
}

/* ------------------------------------------------------------ GET /outbound */

struct dom_stat {
	char *domain;
	uint64_t windows, success, failure, reports, invalid, dropped;
	int64_t last_window;
};

struct fail_stat {
	char *domain, *result_type;
	uint64_t count;
};

struct out_ctx {
	struct dom_stat *d;
	size_t nd, capd;
	struct fail_stat *f;
	size_t nf, capf;
	uint64_t by_state[4];
	struct buf *pending; /* table rows of deliveries not sent */
	size_t n_pending;
	const char *cur_domain;
};

static struct dom_stat *
dom_get(struct out_ctx *c, const char *domain)
{
	for (size_t i = c->nd; i-- > 0;)
		if (strcmp(c->d[i].domain, domain) == 0)
			return &c->d[i];
	if (c->nd == c->capd) {
		c->capd = c->capd ? 2 * c->capd : 16;
		c->d = xrealloc(c->d, c->capd * sizeof(*c->d));
	}
	memset(&c->d[c->nd], 0, sizeof(c->d[0]));
	c->d[c->nd].domain = xstrdup(domain);
	return &c->d[c->nd++];
}

static int
count_row(void *ctx, const struct store_count_row *row)
{
	struct out_ctx *c = ctx;
	struct dom_stat *d = dom_get(c, row->domain ? row->domain : "");

	if (row->result_type == NULL) {
		if (d->last_window != row->window_id)
			d->windows++;
		d->last_window = row->window_id;
		d->success += row->success;
		d->failure += row->failure;
		return 0;
	}
	for (size_t i = 0; i < c->nf; i++)
		if (strcmp(c->f[i].domain, d->domain) == 0 &&
		    strcmp(c->f[i].result_type, row->result_type) == 0) {
			c->f[i].count += row->detail_count;
			return 0;
		}
	if (c->nf == c->capf) {
		c->capf = c->capf ? 2 * c->capf : 16;
		c->f = xrealloc(c->f, c->capf * sizeof(*c->f));
	}
	c->f[c->nf].domain = xstrdup(d->domain);
	c->f[c->nf].result_type = xstrdup(row->result_type);
	c->f[c->nf++].count = row->detail_count;
	return 0;
}

static int
outbox_row(void *ctx, const struct store_outbox_report *x)
{
	struct out_ctx *c = ctx;
	struct dom_stat *d = dom_get(c, x->domain ? x->domain : "");
	struct buf *b = c->pending;

	d->reports++;
	d->invalid += x->state == STORE_REPORT_INVALID;
	d->dropped += x->dropped;
	for (size_t i = 0; i < x->n_deliveries; i++) {
		const struct store_delivery *v = &x->deliveries[i];

		if ((unsigned)v->state < 4)
			c->by_state[v->state]++;
		if (v->state == STORE_DELIVERY_SENT || c->n_pending >= 500)
			continue;
		c->n_pending++;
		buf_printf(b, "<tr><td class=\"n\">%" PRId64 "</td>", x->id);
		web_td_text(b, x->domain);
		web_td_day(b, x->start);
		buf_append_str(b, "<td><code>");
		web_html(b, v->dest);
		buf_append_str(b, "</code></td>");
		buf_printf(b, "<td class=\"%s\">%s</td>",
		           v->state == STORE_DELIVERY_GIVEN_UP ? "bad" : "warn",
		           store_delivery_state_name(v->state));
		web_td_count(b, v->attempts);
		web_td_text(b, v->last_error);
		buf_append_str(b, "</tr>");
	}
	if (x->state == STORE_REPORT_INVALID && c->n_pending < 500) {
		c->n_pending++;
		buf_printf(b, "<tr><td class=\"n\">%" PRId64 "</td>", x->id);
		web_td_text(b, x->domain);
		web_td_day(b, x->start);
		buf_append_str(b, "<td>-</td><td class=\"bad\">invalid</td><td class=\"n\">0</td>");
		web_td_text(b, x->error);
		buf_append_str(b, "</tr>");
	}
	return 0;
}

void
web_page_outbound(struct web_req *r)
{
	struct out_ctx c = { 0 };
	struct store *s = r->w->o.store;
	struct buf *b = r->out, pending;
	struct err e = { 0 };
	int rc;

	buf_init(&pending, 4 << 20);
	c.pending = &pending;
	rc = s->ops->list_counts(s, 0, count_row, &c, &e);
	if (rc == 0 && s->ops->outbox_list)
		rc = s->ops->outbox_list(s, NULL, outbox_row, &c, &e);
	if (rc != 0) {
		web_error(r, 503, "store: %s", e.msg);
		goto out;
	}
	web_page_begin(r, "Outbound: our TLS results and reports", "/outbound", NULL, NULL);
	{
		static const char *const cols[] = { "Report domain", "#Windows",      "#Successful",
			                            "#Failed",       "#Failure rate", NULL };
		size_t n = c.nd < 20 ? c.nd : 20;
		const char **labels = xcalloc(n ? n : 1, sizeof(*labels));
		uint64_t *a = xcalloc(n ? n : 1, sizeof(*a)), *f = xcalloc(n ? n : 1, sizeof(*f));

		for (size_t i = 0; i < n; i++) {
			labels[i] = c.d[i].domain;
			a[i] = c.d[i].success;
			f[i] = c.d[i].failure;
		}
		buf_append_str(b, "<h2>Sessions recorded per domain</h2>");
		if (n)
			web_chart_hbars(b, "Sessions recorded per domain", labels, a, f, n,
			                "successful sessions", "failed sessions");
		web_table_begin(b, "Sessions recorded per report domain (stored windows)", cols);
		for (size_t i = 0; i < c.nd; i++) {
			char rate[32];

			buf_append_str(b, "<tr>");
			web_td_text(b, c.d[i].domain);
			web_td_count(b, c.d[i].windows);
			web_td_count(b, c.d[i].success);
			web_td_count(b, c.d[i].failure);
			web_rate_text(c.d[i].success, c.d[i].failure, rate);
			buf_printf(b, "<td class=\"n\">%s</td></tr>", rate);
		}
		web_table_end(b, c.nd, 5, "no sessions recorded");
		free(labels);
		free(a);
		free(f);
	}
	{
		static const char *const cols[] = { "Report domain", "Result type",
			                            "#Failed sessions", NULL };

		buf_append_str(b, "<h2>Failures recorded per result</h2>");
		web_table_begin(b, "Failure details recorded per domain and result type", cols);
		for (size_t i = 0; i < c.nf; i++) {
			buf_append_str(b, "<tr>");
			web_td_text(b, c.f[i].domain);
			web_td_text(b, c.f[i].result_type);
			web_td_count(b, c.f[i].count);
			buf_append_str(b, "</tr>");
		}
		web_table_end(b, c.nf, 3, "no failures recorded");
	}
	{
		static const char *const cols[] = { "Report domain", "#Reports generated",
			                            "#Invalid", "#Failure details dropped", NULL };
		size_t rows = 0;

		buf_append_str(b, "<h2>Reports generated</h2>");
		web_table_begin(b, "Reports in the outbox per domain", cols);
		for (size_t i = 0; i < c.nd; i++) {
			if (c.d[i].reports == 0)
				continue;
			rows++;
			buf_append_str(b, "<tr>");
			web_td_text(b, c.d[i].domain);
			web_td_count(b, c.d[i].reports);
			web_td_count(b, c.d[i].invalid);
			web_td_count(b, c.d[i].dropped);
			buf_append_str(b, "</tr>");
		}
		web_table_end(b, rows, 4, "no reports generated yet");
	}
	{
		static const char *const cols[] = { "Delivery state", "#Destinations", NULL };
		const char *labels[4];

		for (int i = 0; i < 4; i++)
			labels[i] = store_delivery_state_name((enum store_delivery_state)i);
		buf_append_str(b, "<h2>Deliveries by state</h2>");
		web_chart_hbars(b, "Deliveries by state", labels, c.by_state, NULL, 4,
		                "destinations", NULL);
		web_table_begin(b, "Report deliveries (one per report and destination)", cols);
		for (int i = 0; i < 4; i++) {
			buf_append_str(b, "<tr>");
			web_td_text(b, labels[i]);
			web_td_count(b, c.by_state[i]);
			buf_append_str(b, "</tr>");
		}
		web_table_end(b, 4, 2, "");
	}
	{
		static const char *const cols[] = { "#Report",     "Domain", "Window",
			                            "Destination", "State",  "#Attempts",
			                            "Last error",  NULL };

		buf_append_str(b, "<h2>Not delivered (yet)</h2>");
		web_table_begin(b,
		                "Deliveries not sent and invalid reports, with the last error (at "
		                "most 500)",
		                cols);
		if (pending.len)
			buf_append(b, pending.data, pending.len);
		web_table_end(b, c.n_pending, 7, "every report is delivered");
	}
	web_page_end(r);
out:
	for (size_t i = 0; i < c.nd; i++)
		free(c.d[i].domain);
	for (size_t i = 0; i < c.nf; i++) {
		free(c.f[i].domain);
		free(c.f[i].result_type);
	}
	free(c.d);
	free(c.f);
	buf_clear(&pending);
}
