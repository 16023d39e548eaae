/*
 * web_data.c - the aggregates the dashboard and the API read: store_ops.received_group,
 * or for a backend without it the same groups computed over received_walk (slower, same
 * numbers; see enum store_rgroup in store.h for their meaning).
 * Threading: httpd thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/xalloc.h"
#include "web/web_int.h"

static struct web_group *
group_push(struct web_groups *g, const struct store_received_group_row *row)
{
	struct web_group *x;

	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 64;
		g->v = xrealloc(g->v, g->cap * sizeof(*g->v));
	}
	x = &g->v[g->n++];
	x->row = *row;
	x->key = row->key ? xstrdup(row->key) : NULL;
	x->key2 = row->key2 ? xstrdup(row->key2) : NULL;
	x->row.key = x->key;
	x->row.key2 = x->key2;
	return x;
}

static int
collect(void *ctx, const struct store_received_group_row *row)
{
	group_push(ctx, row);
	return 0;
}

void
web_groups_free(struct web_groups *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->v[i].key);
		free(g->v[i].key2);
	}
	free(g->v);
	memset(g, 0, sizeof(*g));
}

/* ------------------------------------------------------------ fallback over the walk */

struct walk_agg {
	enum store_rgroup by;
	struct web_groups *g;
	int64_t id, start, end, received_at;
	uint64_t quirks;
	char *submitter, *organization;
	int64_t *last_id; /* per group: the last report counted */
	size_t last_cap;
};

static bool
eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static const char *
sts_mode(const char *strings)
{
	char norm[512];
	size_t o = 0;

	for (const char *p = strings; p && *p && o + 1 < sizeof(norm); p++)
		if (*p != ' ')
			norm[o++] = ascii_lower(*p);
	norm[o] = '\0';
	if (strstr(norm, "mode:testing"))
		return "testing";
	if (strstr(norm, "mode:enforce"))
		return "enforce";
	if (strstr(norm, "mode:none"))
		return "none";
	return "unknown";
}

static void
agg_add(struct walk_agg *a, const struct store_received_group_row *in, bool failure_row)
{
	struct web_group *x = NULL;
	size_t i;

	for (i = a->g->n; i-- > 0;) {
		struct web_group *c = &a->g->v[i];

		if (c->row.day == in->day && eq(c->key, in->key) &&
		    (a->by != STORE_RGROUP_STS_MODE && a->by != STORE_RGROUP_FAIL_REASON
		             ? true
		             : eq(c->key2, in->key2))) {
			x = c;
			break;
		}
	}
	if (x == NULL) {
		struct store_received_group_row r0 = *in;

		r0.reports = 0;
		r0.success = r0.failure = r0.count = 0;
		r0.last_failure = 0;
		r0.quirks = 0;
		x = group_push(a->g, &r0);
		i = a->g->n - 1;
		if (a->g->n > a->last_cap) {
			a->last_cap = a->g->cap;
			a->last_id = xrealloc(a->last_id, a->last_cap * sizeof(*a->last_id));
		}
		a->last_id[i] = 0;
	}
	if (a->last_id[i] != a->id) {
		a->last_id[i] = a->id;
		x->row.reports++;
	}
	x->row.success += in->success;
	x->row.failure += in->failure;
	x->row.count += in->count;
	x->row.first = in->first < x->row.first ? in->first : x->row.first;
	x->row.last = in->last > x->row.last ? in->last : x->row.last;
	if (in->last_received > x->row.last_received)
		x->row.last_received = in->last_received;
	if ((failure_row ? in->count : in->failure) > 0 && in->last > x->row.last_failure)
		x->row.last_failure = in->last;
	x->row.quirks |= in->quirks;
	if (x->key2 == NULL && in->key2 != NULL) {
		x->key2 = xstrdup(in->key2);
		x->row.key2 = x->key2;
	}
}

static int
walk_row(void *ctx, const struct store_received_row *row)
{
	struct walk_agg *a = ctx;
	struct store_received_group_row g = { 0 };
	bool fail_group = a->by >= STORE_RGROUP_FAIL_TYPE;

	if (row->policy_type == NULL) {
		a->id = row->id;
		a->start = row->start;
		a->end = row->end;
		a->received_at = row->received_at;
		a->quirks = row->quirks;
		free(a->submitter);
		free(a->organization);
		a->submitter = xstrdup(row->submitter ? row->submitter : "");
		a->organization = row->organization ? xstrdup(row->organization) : NULL;
		return 0;
	}
	if ((row->result_type != NULL) != fail_group)
		return 0;
	g.first = a->start;
	g.last = a->end;
	g.last_received = a->received_at;
	if (fail_group)
		g.count = row->count;
	else {
		g.success = row->success;
		g.failure = row->failure;
	}
	switch (a->by) {
	case STORE_RGROUP_DOMAIN:
		g.key = row->policy_domain;
		break;
	case STORE_RGROUP_DAY:
		g.day = (a->start - ((a->start % 86400 + 86400) % 86400)) / 86400;
		break;
	case STORE_RGROUP_REPORTER:
		g.key = a->submitter;
		g.key2 = a->organization;
		g.quirks = a->quirks;
		break;
	case STORE_RGROUP_POLICY_TYPE:
		g.key = row->policy_type;
		break;
	case STORE_RGROUP_STS_MODE:
		if (strcmp(row->policy_type, "sts") != 0)
			return 0;
		g.key = row->policy_domain;
		g.key2 = sts_mode(row->policy_strings);
		break;
	case STORE_RGROUP_FAIL_TYPE:
		g.key = row->result_type;
		break;
	case STORE_RGROUP_FAIL_MX:
		g.key = row->receiving_mx;
		break;
	case STORE_RGROUP_FAIL_IP:
		g.key = row->receiving_ip;
		break;
	case STORE_RGROUP_FAIL_REPORTER:
		g.key = a->submitter;
		g.key2 = a->organization;
		break;
	case STORE_RGROUP_FAIL_REASON:
		g.key = row->result_type;
		g.key2 = row->additional_info ? row->additional_info : row->reason_code;
		break;
	default:
		return 0;
	}
	agg_add(a, &g, fail_group);
	return 0;
}

static int
cmp_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int
cmp_group(const void *pa, const void *pb, void *ctx)
{
	enum store_rgroup sort_by = *(const enum store_rgroup *)ctx;
	const struct store_received_group_row *a = &((const struct web_group *)pa)->row;
	const struct store_received_group_row *b = &((const struct web_group *)pb)->row;
	uint64_t va, vb;

	switch (sort_by) {
	case STORE_RGROUP_DAY:
		return (a->day > b->day) - (a->day < b->day);
	case STORE_RGROUP_REPORTER:
		return cmp_str(a->key, b->key);
	case STORE_RGROUP_STS_MODE: {
		int c = cmp_str(a->key, b->key);

		return c ? c : cmp_str(a->key2, b->key2);
	}
	default:
		break;
	}
	va = sort_by >= STORE_RGROUP_FAIL_TYPE ? a->count : a->success + a->failure;
	vb = sort_by >= STORE_RGROUP_FAIL_TYPE ? b->count : b->success + b->failure;
	if (va != vb)
		return va > vb ? -1 : 1;
	int c = cmp_str(a->key, b->key);

	return c ? c : cmp_str(a->key2, b->key2);
}

int
web_groups_get(struct web *w, const struct store_received_group_query *q, struct web_groups *g,
               struct err *e)
{
	struct store *s = w->o.store;
	int rc;

	memset(g, 0, sizeof(*g));
	if (s->ops->received_group)
		return s->ops->received_group(s, q, collect, g, e);

	struct store_received_filter f = {
		.domain = q->domain,
		.since = q->since,
		.until = q->until,
		.include_unverified = q->include_unverified,
	};
	struct walk_agg a = { .by = q->by, .g = g };

	rc = s->ops->received_walk(s, &f, walk_row, &a, e);
	free(a.submitter);
	free(a.organization);
	free(a.last_id);
	if (g->n > 1)
		qsort_r(g->v, g->n, sizeof(*g->v), cmp_group, (void *)&q->by);
	return rc;
}
