/*
 * analysis.c - grouping of received-report rows for summaries (see analysis.h).
 *
 * RFC 8460 section 4.3-4.4 (summary counts and failure details).  Groups are found by
 * a linear search: summaries have tens of groups, not thousands.
 * Threading: one struct analysis per thread.
 */
#include "inbound/analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/xalloc.h"

static const char *const by_names[] = {
	[ANALYSIS_BY_DAY] = "day",
	[ANALYSIS_BY_REPORTER] = "reporter",
	[ANALYSIS_BY_MX] = "mx",
	[ANALYSIS_BY_RESULT_TYPE] = "result-type",
	[ANALYSIS_BY_SENDING_IP] = "sending-ip",
	[ANALYSIS_BY_POLICY] = "policy",
};

int
analysis_by_parse(const char *s, enum analysis_by *out)
{
	for (size_t i = 0; i < sizeof(by_names) / sizeof(by_names[0]); i++)
		if (strcmp(s, by_names[i]) == 0) {
			*out = (enum analysis_by)i;
			return 0;
		}
	return -1;
}

const char *
analysis_by_name(enum analysis_by by)
{
	return by_names[by];
}

double
analysis_rate(uint64_t success, uint64_t failure)
{
	return success + failure ? (double)failure / (double)(success + failure) : 0.0;
}

void
analysis_init(struct analysis *a, enum analysis_by by)
{
	memset(a, 0, sizeof(*a));
	a->by = by;
}

static struct analysis_group *
group(struct analysis *a, const char *key)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->groups[i].key, key) == 0)
			return &a->groups[i];
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->groups = xrealloc(a->groups, a->cap * sizeof(*a->groups));
	}
	memset(&a->groups[a->n], 0, sizeof(a->groups[0]));
	a->groups[a->n].key = xstrdup(key);
	return &a->groups[a->n++];
}

static void
add_reason(struct analysis_group *g, const char *name, uint64_t count)
{
	for (size_t i = 0; i < g->n_reasons; i++)
		if (strcmp(g->reasons[i].name, name) == 0) {
			g->reasons[i].count += count;
			return;
		}
	g->reasons = xrealloc(g->reasons, (g->n_reasons + 1) * sizeof(*g->reasons));
	g->reasons[g->n_reasons].name = xstrdup(name);
	g->reasons[g->n_reasons].count = count;
	g->n_reasons++;
}

static bool
detail_driven(const struct analysis *a)
{
	return a->by == ANALYSIS_BY_MX || a->by == ANALYSIS_BY_RESULT_TYPE ||
	       a->by == ANALYSIS_BY_SENDING_IP;
}

/* Failures of the previous policy that no failure detail explained. */
static void
flush_policy(struct analysis *a)
{
	if (detail_driven(a) && a->unexplained) {
		const char *key = a->by == ANALYSIS_BY_MX && a->policy_key ? a->policy_key
		                                                           : "(no failure details)";
		struct analysis_group *g = group(a, key);

		g->failure += a->unexplained;
		add_reason(g, "(no failure details)", a->unexplained);
	}
	a->unexplained = 0;
}

static void
set_key(char **slot, const char *v)
{
	free(*slot);
	*slot = xstrdup(v);
}

int
analysis_row(void *ctx, const struct store_received_row *row)
{
	struct analysis *a = ctx;
	char key[600];

	if (row->policy_type == NULL) { /* report row */
		flush_policy(a);
		a->reports++;
		if (a->by == ANALYSIS_BY_DAY) {
			char t[TIME_RFC3339_LEN];

			if (time_format_rfc3339(row->start, t) != 0)
				memcpy(t, "0000-00-00", 11);
			t[10] = '\0';
			set_key(&a->report_key, t);
		} else {
			set_key(&a->report_key, row->organization && *row->organization
			                                ? row->organization
			                                : row->submitter);
		}
		return 0;
	}
	if (row->result_type == NULL) { /* policy row */
		flush_policy(a);
		if (a->by == ANALYSIS_BY_POLICY)
			snprintf(key, sizeof(key), "%s %s", row->policy_type,
			         row->policy_domain ? row->policy_domain : "-");
		else
			snprintf(key, sizeof(key), "%s",
			         row->mx_hosts ? row->mx_hosts : "(no mx-host)");
		set_key(&a->policy_key, key);
		a->success += row->success;
		if (detail_driven(a)) {
			const char *sk =
			        a->by == ANALYSIS_BY_MX ? a->policy_key : "(successful sessions)";
			if (row->success)
				group(a, sk)->success += row->success;
			a->unexplained = row->failure;
			a->failure += row->failure;
			return 0;
		}
		struct analysis_group *g =
		        group(a, a->by == ANALYSIS_BY_POLICY ? a->policy_key : a->report_key);
		g->success += row->success;
		g->failure += row->failure;
		a->failure += row->failure;
		return 0;
	}
	/* failure row */
	if (detail_driven(a)) {
		const char *k = a->by == ANALYSIS_BY_RESULT_TYPE ? row->result_type
		                : a->by == ANALYSIS_BY_SENDING_IP
		                        ? (row->sending_ip ? row->sending_ip : "(not reported)")
		                        : (row->receiving_mx ? row->receiving_mx : a->policy_key);
		struct analysis_group *g = group(a, k);

		g->failure += row->count;
		add_reason(g, row->result_type, row->count);
		a->unexplained = a->unexplained > row->count ? a->unexplained - row->count : 0;
		return 0;
	}
	add_reason(group(a, a->by == ANALYSIS_BY_POLICY ? a->policy_key : a->report_key),
	           row->result_type, row->count);
	return 0;
}

static int
cmp_reason(const void *x, const void *y)
{
	const struct analysis_reason *a = x, *b = y;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int
cmp_key(const void *x, const void *y)
{
	return strcmp(((const struct analysis_group *)x)->key,
	              ((const struct analysis_group *)y)->key);
}

static int
cmp_total(const void *x, const void *y)
{
	const struct analysis_group *a = x, *b = y;
	uint64_t ta = a->success + a->failure, tb = b->success + b->failure;

	if (ta != tb)
		return ta > tb ? -1 : 1;
	return strcmp(a->key, b->key);
}

void
analysis_finish(struct analysis *a)
{
	flush_policy(a);
	for (size_t i = 0; i < a->n; i++)
		if (a->groups[i].n_reasons > 1)
			qsort(a->groups[i].reasons, a->groups[i].n_reasons,
			      sizeof(a->groups[i].reasons[0]), cmp_reason);
	if (a->n > 1)
		qsort(a->groups, a->n, sizeof(a->groups[0]),
		      a->by == ANALYSIS_BY_DAY || a->by == ANALYSIS_BY_POLICY ? cmp_key
		                                                              : cmp_total);
}

void
analysis_free(struct analysis *a)
{
	for (size_t i = 0; i < a->n; i++) {
		for (size_t j = 0; j < a->groups[i].n_reasons; j++)
			free(a->groups[i].reasons[j].name);
		free(a->groups[i].reasons);
		free(a->groups[i].key);
	}
	free(a->groups);
	free(a->report_key);
	free(a->policy_key);
	memset(a, 0, sizeof(*a));
}
