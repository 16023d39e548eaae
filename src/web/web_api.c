/*
 * web_api.c - the read-only JSON API /api/v1/... and /healthz (docs/api.md).
 *
 * Field names are stable (lower_snake; counts of sessions are "successes"/"failures" as
 * in `tlsrpt received summary --json`); times are RFC 3339 UTC strings.  Lists page with
 * limit plus cursor (opaque, from "next") or offset.  RFC 8259 (JSON), RFC 8460 section 4
 * (the report fields).
 * Threading: httpd thread only.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "collector/collector.h"
#include "inbound/analysis.h"
#include "report/report.h"
#include "util/clock.h"
#include "util/str.h"
#include "util/xalloc.h"
#include "web/web_int.h"
#include "web/web_text.h"

static void
json_time(struct buf *b, int64_t t)
{
	char s[TIME_RFC3339_LEN];

	if (t == 0 || time_format_rfc3339(t, s) != 0)
		buf_append_str(b, "null");
	else
		buf_printf(b, "\"%s\"", s);
}

/* Appends the items of sep-separated list s as a JSON array of strings. */
static void
json_split(struct buf *b, const char *s, char sep)
{
	buf_putc(b, '[');
	for (const char *p = s; p && *p;) {
		const char *q = strchr(p, sep);
		size_t n = q ? (size_t)(q - p) : strlen(p);
		char *item = xstrndup(p, n);

		if (p != s)
			buf_putc(b, ',');
		web_json(b, item);
		free(item);
		p = q ? q + 1 : p + n;
	}
	buf_putc(b, ']');
}

static void
json_quirks(struct buf *b, uint64_t quirks)
{
	struct buf q;

	buf_init(&q, 4096);
	report_quirks_format(quirks, ",", &q);
	json_split(b, q.len ? buf_cstr(&q) : NULL, ',');
	buf_clear(&q);
}

/* The filters of the received-report endpoints; -1 after an error answer. */
static int
received_filter(struct web_req *r, struct store_received_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->domain = web_arg(r, "domain");
	f->reporter = web_arg(r, "reporter");
	f->include_unverified = web_arg_flag(r, "include_unverified");
	if (web_arg_time(r, "since", &f->since) != 0 || web_arg_time(r, "until", &f->until) != 0)
		return -1;
	return 0;
}

/* Appends "&name=value" for each filter argument present (for "next" links). */
static void
echo_args(struct web_req *r, struct buf *b, const char *const *names)
{
	for (; *names; names++) {
		const char *v = web_arg(r, *names);

		if (v == NULL)
			continue;
		buf_printf(b, "&%s=", *names);
		web_url(b, v);
	}
}

/* ------------------------------------------------------------ GET /api/v1/received */

struct cur_report {
	int64_t id, start, end, received_at;
	uint64_t quirks, success, failure;
	unsigned sightings, policies;
	bool verified;
	char *s[8]; /* submitter, organization, report_id, contact_info, channel, channels,
	               dkim, dkim_detail */
};

struct list_ctx {
	struct web_req *r;
	uint64_t limit, offset, seen;
	int64_t cur_start, cur_id; /* cursor: items after (start, id) */
	bool have_cursor, more, pending;
	struct cur_report c;
	size_t n;
	int64_t last_start, last_id;
};

static void
cur_clear(struct cur_report *c)
{
	for (size_t i = 0; i < 8; i++)
		free(c->s[i]);
	memset(c, 0, sizeof(*c));
}

static void
report_json(struct buf *b, const struct cur_report *c, bool sums)
{
	static const char *const names[8] = { "submitter",    "organization", "report_id",
		                              "contact_info", "channel",      "channels",
		                              "dkim",         "dkim_detail" };

	buf_printf(b, "{\"id\":%" PRId64, c->id);
	for (size_t i = 0; i < 8; i++) {
		buf_printf(b, ",\"%s\":", names[i]);
		web_json(b, c->s[i]);
	}
	buf_append_str(b, ",\"start\":");
	json_time(b, c->start);
	buf_append_str(b, ",\"end\":");
	json_time(b, c->end);
	buf_append_str(b, ",\"received_at\":");
	json_time(b, c->received_at);
	buf_printf(b, ",\"sightings\":%u,\"verified\":%s,\"quirks\":", c->sightings,
	           c->verified ? "true" : "false");
	json_quirks(b, c->quirks);
	if (sums)
		buf_printf(b,
		           ",\"policies\":%u,\"successes\":%" PRIu64 ",\"failures\":%" PRIu64 "}",
		           c->policies, c->success, c->failure);
}

static void
cur_take(struct cur_report *c, const struct store_received_row *row)
{
	const char *v[8] = { row->submitter, row->organization, row->report_id, row->contact_info,
		             row->channel,   row->channels,     row->dkim,      row->dkim_detail };

	cur_clear(c);
	c->id = row->id;
	c->start = row->start;
	c->end = row->end;
	c->received_at = row->received_at;
	c->quirks = row->quirks;
	c->sightings = row->sightings;
	c->verified = row->verified;
	for (size_t i = 0; i < 8; i++)
		c->s[i] = v[i] ? xstrdup(v[i]) : NULL;
}

static void
list_emit(struct list_ctx *l)
{
	if (!l->pending)
		return;
	buf_append_str(l->r->out, l->n ? "," : "");
	report_json(l->r->out, &l->c, true);
	l->n++;
	l->last_start = l->c.start;
	l->last_id = l->c.id;
	l->pending = false;
}

static int
list_row(void *ctx, const struct store_received_row *row)
{
	struct list_ctx *l = ctx;

	if (row->policy_type != NULL) {
		if (l->pending && row->result_type == NULL) {
			l->c.policies++;
			l->c.success += row->success;
			l->c.failure += row->failure;
		}
		return 0;
	}
	list_emit(l);
	if (l->have_cursor &&
	    (row->start < l->cur_start || (row->start == l->cur_start && row->id <= l->cur_id)))
		return 0;
	if (l->seen++ < l->offset)
		return 0;
	if (l->n == l->limit) {
		l->more = true;
		return 1;
	}
	cur_take(&l->c, row);
	l->pending = true;
	return 0;
}

void
web_api_received(struct web_req *r)
{
	static const char *const filters[] = { "domain", "reporter",           "since",
		                               "until",  "include_unverified", NULL };
	struct store_received_filter f;
	struct list_ctx l = { .r = r };
	struct err e = { 0 };
	const char *cursor = web_arg(r, "cursor");
	int rc;

	if (received_filter(r, &f) != 0 || web_arg_uint(r, "limit", 50, 1, 1000, &l.limit) != 0 ||
	    web_arg_uint(r, "offset", 0, 0, UINT32_MAX, &l.offset) != 0)
		return;
	if (cursor) {
		const char *dot = strchr(cursor, '.');
		int64_t a, b;

		if (dot == NULL || str_to_i64(span_make(cursor, (size_t)(dot - cursor)), &a) != 0 ||
		    str_to_i64(span_cstr(dot + 1), &b) != 0) {
			web_error(r, 400, "cursor: not a cursor from a \"next\" link");
			return;
		}
		l.have_cursor = true;
		l.cur_start = a;
		l.cur_id = b;
	}
	buf_append_str(r->out, "{\"reports\":[");
	rc = r->w->o.store->ops->received_walk(r->w->o.store, &f, list_row, &l, &e);
	list_emit(&l);
	cur_clear(&l.c);
	if (rc != 0) {
		web_error(r, 503, "store: %s", e.msg);
		return;
	}
	buf_printf(r->out, "],\"count\":%zu,\"next\":", l.n);
	if (l.more) {
		buf_printf(r->out,
		           "\"/api/v1/received?limit=%" PRIu64 "&cursor=%" PRId64 ".%" PRId64,
		           l.limit, l.last_start, l.last_id);
		echo_args(r, r->out, filters);
		buf_putc(r->out, '"');
	} else {
		buf_append_str(r->out, "null");
	}
	buf_append_str(r->out, "}\n");
}

/* ------------------------------------------------------------ GET /api/v1/received/ID */

struct one_ctx {
	struct buf *out;
	bool found, in_policy, in_fail;
	unsigned n_policies;
	struct cur_report c;
};

static void
one_close_policy(struct one_ctx *o)
{
	if (o->in_policy)
		buf_append_str(o->out, "]}");
	o->in_policy = false;
}

static int
one_row(void *ctx, const struct store_received_row *row)
{
	struct one_ctx *o = ctx;
	struct buf *b = o->out;

	if (row->policy_type == NULL) {
		cur_take(&o->c, row);
		report_json(b, &o->c, false);
		buf_append_str(b, ",\"policies\":[");
		o->found = true;
		return 0;
	}
	if (row->result_type == NULL) {
		bool first = o->n_policies++ == 0;

		one_close_policy(o);
		buf_append_str(b, first ? "{\"policy_type\":" : ",{\"policy_type\":");
		web_json(b, row->policy_type);
		buf_append_str(b, ",\"policy_domain\":");
		web_json(b, row->policy_domain);
		buf_append_str(b, ",\"policy_strings\":");
		json_split(b, row->policy_strings, '\n');
		buf_append_str(b, ",\"mx_hosts\":");
		json_split(b, row->mx_hosts, ',');
		buf_printf(b,
		           ",\"successes\":%" PRIu64 ",\"failures\":%" PRIu64
		           ",\"failure_details\":[",
		           row->success, row->failure);
		o->in_policy = true;
		o->in_fail = false;
		return 0;
	}
	buf_append_str(b, o->in_fail ? ",{\"result_type\":" : "{\"result_type\":");
	o->in_fail = true;
	web_json(b, row->result_type);
	buf_append_str(b, ",\"sending_ip\":");
	web_json(b, row->sending_ip);
	buf_append_str(b, ",\"receiving_mx\":");
	web_json(b, row->receiving_mx);
	buf_append_str(b, ",\"receiving_helo\":");
	web_json(b, row->receiving_helo);
	buf_append_str(b, ",\"receiving_ip\":");
	web_json(b, row->receiving_ip);
	buf_printf(b, ",\"failed_sessions\":%" PRIu64 ",\"additional_info\":", row->count);
	web_json(b, row->additional_info);
	buf_append_str(b, ",\"reason_code\":");
	web_json(b, row->reason_code);
	buf_putc(b, '}');
	return 0;
}

void
web_api_received_one(struct web_req *r)
{
	const char *idtext = r->req->path + strlen("/api/v1/received/");
	struct store_received_filter f = { .include_unverified = true };
	struct one_ctx o = { .out = r->out };
	struct err e = { 0 };
	int64_t id;
	int rc;

	if (str_to_i64(span_cstr(idtext), &id) != 0 || id <= 0) {
		web_error(r, 404, "no such report: expected /api/v1/received/ID with a numeric ID");
		return;
	}
	f.id = id;
	rc = r->w->o.store->ops->received_walk(r->w->o.store, &f, one_row, &o, &e);
	cur_clear(&o.c);
	if (rc != 0) {
		web_error(r, 503, "store: %s", e.msg);
		return;
	}
	if (!o.found) {
		web_error(r, 404, "no received report with id %" PRId64, id);
		return;
	}
	one_close_policy(&o);
	buf_append_str(r->out, "]}\n");
}

/* ------------------------------------------------------------ GET /api/v1/received/summary */

void
web_api_summary(struct web_req *r)
{
	struct store_received_filter f;
	struct analysis a;
	struct err e = { 0 };
	enum analysis_by by = ANALYSIS_BY_DAY;
	const char *bys = web_arg(r, "by");
	int rc;

	if (received_filter(r, &f) != 0)
		return;
	if (bys && analysis_by_parse(bys, &by) != 0) {
		web_error(r, 400,
		          "by: expected day, reporter, mx, result-type, sending-ip or policy");
		return;
	}
	analysis_init(&a, by);
	rc = r->w->o.store->ops->received_walk(r->w->o.store, &f, analysis_row, &a, &e);
	analysis_finish(&a);
	if (rc != 0) {
		analysis_free(&a);
		web_error(r, 503, "store: %s", e.msg);
		return;
	}
	buf_append_str(r->out, "{\"by\":");
	web_json(r->out, analysis_by_name(by));
	buf_printf(r->out,
	           ",\"reports\":%zu,\"total\":{\"successes\":%" PRIu64 ",\"failures\":%" PRIu64
	           ",\"failure_rate\":%.6f},\"groups\":[",
	           a.reports, a.success, a.failure, analysis_rate(a.success, a.failure));
	for (size_t i = 0; i < a.n; i++) {
		const struct analysis_group *g = &a.groups[i];

		buf_append_str(r->out, i ? ",{\"key\":" : "{\"key\":");
		web_json(r->out, g->key);
		buf_printf(r->out,
		           ",\"successes\":%" PRIu64 ",\"failures\":%" PRIu64
		           ",\"failure_rate\":%.6f,\"reasons\":[",
		           g->success, g->failure, analysis_rate(g->success, g->failure));
		for (size_t j = 0; j < g->n_reasons; j++) {
			buf_append_str(r->out, j ? ",{\"result_type\":" : "{\"result_type\":");
			web_json(r->out, g->reasons[j].name);
			buf_printf(r->out, ",\"count\":%" PRIu64 "}", g->reasons[j].count);
		}
		buf_append_str(r->out, "]}");
	}
	buf_append_str(r->out, "]}\n");
	analysis_free(&a);
}

/* ------------------------------------------------------------ GET /api/v1/received/groups */

static const char *const group_names[STORE_RGROUP_COUNT_] = {
	[STORE_RGROUP_DOMAIN] = "domain",
	[STORE_RGROUP_DAY] = "day",
	[STORE_RGROUP_REPORTER] = "reporter",
	[STORE_RGROUP_POLICY_TYPE] = "policy-type",
	[STORE_RGROUP_STS_MODE] = "sts-mode",
	[STORE_RGROUP_FAIL_TYPE] = "failure-type",
	[STORE_RGROUP_FAIL_MX] = "failure-mx",
	[STORE_RGROUP_FAIL_IP] = "failure-ip",
	[STORE_RGROUP_FAIL_REPORTER] = "failure-reporter",
	[STORE_RGROUP_FAIL_REASON] = "failure-reason",
};

void
web_api_groups(struct web_req *r)
{
	struct store_received_filter f;
	struct store_received_group_query q = { .by = STORE_RGROUP_COUNT_ };
	struct web_groups g;
	struct err e = { 0 };
	const char *bys = web_arg(r, "by");

	if (received_filter(r, &f) != 0)
		return;
	for (int i = 0; bys && i < STORE_RGROUP_COUNT_; i++)
		if (strcmp(bys, group_names[i]) == 0)
			q.by = (enum store_rgroup)i;
	if (q.by == STORE_RGROUP_COUNT_) {
		web_error(
		        r, 400,
		        "by: expected domain, day, reporter, policy-type, sts-mode, failure-type, "
		        "failure-mx, failure-ip, failure-reporter or failure-reason");
		return;
	}
	if (f.reporter) {
		web_error(r, 400,
		          "reporter: not a filter of groups (use /api/v1/received/summary)");
		return;
	}
	q.domain = f.domain;
	q.since = f.since;
	q.until = f.until;
	q.include_unverified = f.include_unverified;
	if (web_groups_get(r->w, &q, &g, &e) != 0) {
		web_groups_free(&g);
		web_error(r, 503, "store: %s", e.msg);
		return;
	}
	buf_append_str(r->out, "{\"by\":");
	web_json(r->out, group_names[q.by]);
	buf_append_str(r->out, ",\"groups\":[");
	for (size_t i = 0; i < g.n; i++) {
		const struct store_received_group_row *x = &g.v[i].row;

		buf_append_str(r->out, i ? ",{\"key\":" : "{\"key\":");
		if (q.by == STORE_RGROUP_DAY) {
			char day[16];

			web_day(x->day * 86400, day);
			web_json(r->out, day);
		} else {
			web_json(r->out, x->key);
		}
		buf_append_str(r->out, ",\"key2\":");
		web_json(r->out, x->key2);
		buf_printf(r->out,
		           ",\"reports\":%" PRIu64 ",\"successes\":%" PRIu64
		           ",\"failures\":%" PRIu64 ",\"failed_sessions\":%" PRIu64 ",\"first\":",
		           x->reports, x->success, x->failure, x->count);
		json_time(r->out, x->first);
		buf_append_str(r->out, ",\"last\":");
		json_time(r->out, x->last);
		buf_append_str(r->out, ",\"last_received\":");
		json_time(r->out, x->last_received);
		buf_append_str(r->out, ",\"last_failure\":");
		json_time(r->out, x->last_failure);
		buf_append_str(r->out, ",\"quirks\":");
		json_quirks(r->out, x->quirks);
		buf_putc(r->out, '}');
	}
	buf_append_str(r->out, "]}\n");
	web_groups_free(&g);
}

/* ------------------------------------------------------------ GET /api/v1/outbound/counters */

struct counters_ctx {
	struct buf *out;
	const char *domain;
	size_t n;
	bool open;
	bool skip;
	size_t n_fail;
};

static int
counter_row(void *ctx, const struct store_count_row *row)
{
	struct counters_ctx *c = ctx;
	struct buf *b = c->out;

	if (row->result_type == NULL) {
		if (c->open)
			buf_append_str(b, "]}");
		c->open = false;
		c->skip = c->domain && strcmp(c->domain, row->domain) != 0;
		if (c->skip)
			return 0;
		buf_printf(b, "%s{\"window_id\":%" PRId64 ",\"period\":", c->n++ ? "," : "",
		           row->window_id);
		web_json(b, window_period_name(row->period));
		buf_append_str(b, ",\"start\":");
		json_time(b, row->start);
		buf_append_str(b, ",\"domain\":");
		web_json(b, row->domain);
		buf_printf(b, ",\"state\":\"%s\",\"policy_type\":",
		           row->state == STORE_WINDOW_REPORTED ? "reported" : "open");
		web_json(b, row->policy_type);
		buf_append_str(b, ",\"policy_domain\":");
		web_json(b, row->policy_domain);
		buf_printf(b, ",\"successes\":%" PRIu64 ",\"failures\":%" PRIu64 ",\"details\":[",
		           row->success, row->failure);
		c->open = true;
		c->n_fail = 0;
		return 0;
	}
	if (c->skip)
		return 0;
	buf_append_str(b, c->n_fail++ ? ",{\"result_type\":" : "{\"result_type\":");
	web_json(b, row->result_type);
	buf_printf(b, ",\"count\":%" PRIu64 "}", row->detail_count);
	return 0;
}

void
web_api_outbound(struct web_req *r)
{
	struct counters_ctx c = { .out = r->out, .domain = web_arg(r, "domain") };
	struct err e = { 0 };
	int rc;

	buf_append_str(r->out, "{\"counters\":[");
	rc = r->w->o.store->ops->list_counts(r->w->o.store, 0, counter_row, &c, &e);
	if (rc != 0) {
		web_error(r, 503, "store: %s", e.msg);
		return;
	}
	if (c.open)
		buf_append_str(r->out, "]}");
	buf_printf(r->out, "],\"count\":%zu}\n", c.n);
}

/* ------------------------------------------------------------ GET /api/v1/outbox */

struct outbox_ctx {
	struct buf *out;
	uint64_t limit, offset, seen;
	size_t n;
	bool more;
};

static int
outbox_row(void *ctx, const struct store_outbox_report *x)
{
	struct outbox_ctx *o = ctx;
	struct buf *b = o->out;

	if (o->seen++ < o->offset)
		return 0;
	if (o->n == o->limit) {
		o->more = true;
		return 1;
	}
	buf_printf(b, "%s{\"id\":%" PRId64 ",\"domain\":", o->n++ ? "," : "", x->id);
	web_json(b, x->domain);
	buf_append_str(b, ",\"period\":");
	web_json(b, window_period_name(x->period));
	buf_append_str(b, ",\"start\":");
	json_time(b, x->start);
	buf_append_str(b, ",\"end\":");
	json_time(b, x->end);
	buf_printf(b, ",\"part\":%u,\"report_id\":", x->part);
	web_json(b, x->report_id);
	buf_append_str(b, ",\"filename\":");
	web_json(b, x->filename);
	buf_append_str(b, ",\"state\":");
	web_json(b, store_report_state_name(x->state));
	buf_append_str(b, ",\"error\":");
	web_json(b, x->error);
	buf_printf(b,
	           ",\"json_size\":%zu,\"dropped_details\":%" PRIu64 ",\"created\":", x->json_size,
	           x->dropped);
	json_time(b, x->created);
	buf_append_str(b, ",\"deliveries\":[");
	for (size_t i = 0; i < x->n_deliveries; i++) {
		const struct store_delivery *d = &x->deliveries[i];

		buf_append_str(b, i ? ",{\"dest\":" : "{\"dest\":");
		web_json(b, d->dest);
		buf_append_str(b, ",\"state\":");
		web_json(b, store_delivery_state_name(d->state));
		buf_printf(b, ",\"attempts\":%u,\"next_try\":", d->attempts);
		json_time(b, d->next_try);
		buf_append_str(b, ",\"last_error\":");
		web_json(b, d->last_error);
		buf_putc(b, '}');
	}
	buf_append_str(b, "]}");
	return 0;
}

void
web_api_outbox(struct web_req *r)
{
	struct store_outbox_filter f = { .domain = web_arg(r, "domain"), -1, -1 };
	struct outbox_ctx o = { .out = r->out };
	const char *ds = web_arg(r, "delivery_state");
	struct store *s = r->w->o.store;
	struct err e = { 0 };
	int rc;

	if (s->ops->outbox_list == NULL) {
		web_error(r, 501, "the %s store has no outbox", s->ops->name);
		return;
	}
	if (web_arg_uint(r, "limit", 100, 1, 1000, &o.limit) != 0 ||
	    web_arg_uint(r, "offset", 0, 0, UINT32_MAX, &o.offset) != 0)
		return;
	if (ds && (f.delivery_state = store_delivery_state_parse(ds)) < 0) {
		web_error(r, 400, "delivery_state: expected pending, sent, failed or given-up");
		return;
	}
	buf_append_str(r->out, "{\"reports\":[");
	rc = s->ops->outbox_list(s, &f, outbox_row, &o, &e);
	if (rc != 0) {
		web_error(r, 503, "store: %s", e.msg);
		return;
	}
	buf_printf(r->out, "],\"count\":%zu,\"next\":", o.n);
	if (o.more) {
		static const char *const args[] = { "domain", "delivery_state", NULL };

		buf_printf(r->out, "\"/api/v1/outbox?limit=%" PRIu64 "&offset=%" PRIu64, o.limit,
		           o.offset + o.limit);
		echo_args(r, r->out, args);
		buf_putc(r->out, '"');
	} else {
		buf_append_str(r->out, "null");
	}
	buf_append_str(r->out, "}\n");
}

/* ------------------------------------------------------------ collector, health */

void
web_api_collector(struct web_req *r)
{
	struct collector_stats st;

	if (r->w->o.collector_stats == NULL) {
		web_error(r, 404,
		          "collector statistics are not available: the collector does not "
		          "run in this process");
		return;
	}
	memset(&st, 0, sizeof(st));
	r->w->o.collector_stats(r->w->o.collector_ctx, &st);
	buf_printf(r->out,
	           "{\"datagrams\":%" PRIu64 ",\"accepted\":%" PRIu64 ",\"rejected\":%" PRIu64
	           ",\"sessions_success\":%" PRIu64 ",\"sessions_failure\":%" PRIu64
	           ",\"failure_details\":%" PRIu64 ",\"report_deliveries\":%" PRIu64
	           ",\"late_sessions\":%" PRIu64 ",\"flushes\":%" PRIu64
	           ",\"flush_errors\":%" PRIu64 ",\"pending\":%" PRIu64 "}\n",
	           st.datagrams, st.accepted, st.rejected, st.sessions_success, st.sessions_failure,
	           st.failure_details, st.report_deliveries, st.late_sessions, st.flushes,
	           st.flush_errors, st.pending);
}

static int
ignore_group(void *ctx, const struct store_received_group_row *row)
{
	(void)ctx;
	(void)row;
	return 0;
}

void
web_healthz(struct web_req *r)
{
	struct store *s = r->w->o.store;
	struct err e = { 0 };
	int rc = 0;

	/* a query that touches the store and finds nothing */
	if (s->ops->received_group) {
		struct store_received_group_query q = {
			.by = STORE_RGROUP_DOMAIN,
			.since = INT64_MAX - 1,
		};

		rc = s->ops->received_group(s, &q, ignore_group, NULL, &e);
	}
	if (rc != 0) {
		web_error(r, 503, "store: %s", e.msg);
		return;
	}
	buf_append_str(r->out, "{\"status\":\"ok\"}\n");
}
