/*
 * alerts.c - alert rules: loading from the configuration and evaluation against the
 * store (see alerts.h for the rule types).  Sending and state: alerts_notify.c; the
 * daemon's thread: alerts_worker.c.
 *
 * Evaluation reads received reports with store_ops.received_walk (RFC 8460 section 4
 * summaries and failure details) and outbox delivery rows with outbox_list.  Memory is
 * bounded by the number of distinct (domain, result type), reporters and destinations
 * in the store, which retention bounds.
 * Threading: one thread per struct store; rules are read-only.
 */
#include "outbound/alerts.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/str.h"
#include "util/xalloc.h"

int
alerts_rules_load(const struct conf *c, struct alert_rule **rules, size_t *n, struct err *e)
{
	size_t nids = 0;
	const char *const *ids = conf_ids(c, "alert", &nids);
	struct alert_rule *v = xcalloc(nids + 1, sizeof(*v));
	char key[256];

	for (size_t i = 0; i < nids; i++) {
		struct alert_rule *r = &v[i];
		struct expr_value th = { 0 };

#define K(name) (snprintf(key, sizeof(key), "alert.%s.%s", ids[i], name), key)
		r->id = ids[i];
		r->type = conf_enum(c, K("type"));
		r->domain = conf_str(c, K("domain"));
		r->reporter = conf_str(c, K("reporter"));
		r->min_sessions = (uint64_t)conf_int(c, K("min-sessions"));
		r->window = conf_duration_ms(c, K("window")) / 1000;
		r->days = conf_int(c, K("days"));
		r->cooldown = conf_duration_ms(c, K("cooldown")) / 1000;
		r->webhook = conf_str(c, K("webhook"));
		r->email = conf_str(c, K("email"));
		if (conf_eval(c, K("threshold"), NULL, 0, &th, e) != 0) {
			free(v);
			return err_prefix(e, "alert.%s.threshold", ids[i]);
		}
#undef K
		r->threshold = th.type == EXPR_FLOAT     ? th.u.f
		               : th.type == EXPR_INTEGER ? (double)th.u.i
		                                         : -1;
		expr_value_clear(&th);
		if (r->type == NULL || r->threshold < 0 || r->threshold > 1) {
			free(v);
			return err_set(e, ERR_INVALID, "alert.%s: type and a threshold 0..1 needed",
			               ids[i]);
		}
	}
	*rules = v;
	*n = nids;
	return 0;
}

void
alert_list_clear(struct alert_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct alert *a = &l->v[i];
		free(a->key);
		free(a->rule);
		free(a->type);
		free(a->domain);
		free(a->subject);
		free(a->summary);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static char *fmt_alloc(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *
fmt_alloc(const char *f, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b, 1 << 16);
	va_start(ap, f);
	buf_vprintf(&b, f, ap);
	va_end(ap);
	return buf_steal(&b, NULL);
}

static struct alert *
alert_add(struct alert_list *l, const struct alert_rule *r, int64_t now, const char *domain,
          const char *subject)
{
	struct alert *a;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	a = &l->v[l->n++];
	memset(a, 0, sizeof(*a));
	a->rule = xstrdup(r->id);
	a->type = xstrdup(r->type);
	a->domain = domain ? xstrdup(domain) : NULL;
	a->subject = xstrdup(subject);
	a->key = fmt_alloc("%s:%s", r->id, subject);
	a->threshold = r->threshold;
	a->since = now - r->window;
	a->until = now;
	a->fired_at = now;
	a->cooldown = r->cooldown;
	a->r = r;
	return a;
}

/* "1d", "6h", "90m", "45s": the window as people wrote it */
static void
fmt_span(int64_t s, char *out, size_t cap)
{
	if (s % 86400 == 0)
		snprintf(out, cap, "%lldd", (long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(out, cap, "%lldh", (long long)(s / 3600));
	else if (s % 60 == 0)
		snprintf(out, cap, "%lldm", (long long)(s / 60));
	else
		snprintf(out, cap, "%llds", (long long)s);
}

/* ------------------------------------------------------------------ tallies */

/* A small name -> counters table (names copied). */
struct tally {
	char *name;
	uint64_t a, b; /* meaning per rule type */
	int64_t t;     /* a time */
	char *text;    /* a remembered string (last error) */
	bool flag;
};

struct tallies {
	struct tally *v;
	size_t n, cap;
};

static struct tally *
tally_get(struct tallies *ts, const char *name)
{
	for (size_t i = 0; i < ts->n; i++)
		if (strcmp(ts->v[i].name, name) == 0)
			return &ts->v[i];
	if (ts->n == ts->cap) {
		ts->cap = ts->cap ? 2 * ts->cap : 16;
		ts->v = xreallocarray(ts->v, ts->cap, sizeof(*ts->v));
	}
	memset(&ts->v[ts->n], 0, sizeof(ts->v[0]));
	ts->v[ts->n].name = xstrdup(name);
	return &ts->v[ts->n++];
}

static void
tallies_clear(struct tallies *ts)
{
	for (size_t i = 0; i < ts->n; i++) {
		free(ts->v[i].name);
		free(ts->v[i].text);
	}
	free(ts->v);
	memset(ts, 0, sizeof(*ts));
}

static int
cmp_tally(const void *x, const void *y)
{
	return strcmp(((const struct tally *)x)->name, ((const struct tally *)y)->name);
}

/* ------------------------------------------------------------------ failure-rate */

struct walk {
	const struct alert_rule *r;
	int64_t now;
	struct tallies t;
	char *policy_domain; /* of the current policy row */
	bool recent;         /* new-failure-type: the current report is in the window */
};

static bool
domain_wanted(const struct walk *w, const char *d)
{
	return d != NULL && (w->r->domain == NULL || str_casecmp(w->r->domain, d) == 0);
}

static int
rate_row(void *ctx, const struct store_received_row *row)
{
	struct walk *w = ctx;

	if (row->policy_type == NULL || row->result_type != NULL)
		return 0;
	if (!domain_wanted(w, row->policy_domain))
		return 0;
	struct tally *t = tally_get(&w->t, row->policy_domain);
	t->a += row->failure;
	t->b += row->success;
	return 0;
}

static int
eval_rate(const struct alert_rule *r, struct store *s, int64_t now, struct alert_list *out,
          struct err *e)
{
	struct walk w = { .r = r, .now = now };
	struct store_received_filter f = { .domain = r->domain,
		                           .since = now - r->window,
		                           .until = now };
	char span[32];
	int rc = s->ops->received_walk(s, &f, rate_row, &w, e);

	fmt_span(r->window, span, sizeof(span));
	if (w.t.n > 1)
		qsort(w.t.v, w.t.n, sizeof(*w.t.v), cmp_tally);
	for (size_t i = 0; rc == 0 && i < w.t.n; i++) {
		const struct tally *t = &w.t.v[i];
		uint64_t total = t->a + t->b;
		double rate = total ? (double)t->a / (double)total : 0;

		if (total == 0 || total < r->min_sessions || !(rate > r->threshold))
			continue;
		struct alert *a = alert_add(out, r, now, t->name, t->name);
		a->value = rate;
		a->count = t->a;
		a->total = total;
		a->summary = fmt_alloc("failure rate %.2f%% for %s over the last %s (%llu of %llu "
		                       "sessions failed; threshold %.2f%%)",
		                       100 * rate, t->name, span, (unsigned long long)t->a,
		                       (unsigned long long)total, 100 * r->threshold);
	}
	tallies_clear(&w.t);
	return rc;
}

/* ------------------------------------------------------------------ new-failure-type */

static int
type_row(void *ctx, const struct store_received_row *row)
{
	struct walk *w = ctx;
	char name[600];

	if (row->policy_type == NULL) { /* a report row */
		w->recent = row->end >= w->now - w->r->window && row->start < w->now;
		return 0;
	}
	if (row->result_type == NULL) {
		free(w->policy_domain);
		w->policy_domain = row->policy_domain ? xstrdup(row->policy_domain) : NULL;
		return 0;
	}
	if (!domain_wanted(w, w->policy_domain))
		return 0;
	snprintf(name, sizeof(name), "%s %s", w->policy_domain, row->result_type);
	struct tally *t = tally_get(&w->t, name);
	if (w->recent)
		t->a += row->count;
	else
		t->flag = true; /* seen before the window */
	return 0;
}

static int
eval_new_type(const struct alert_rule *r, struct store *s, int64_t now, struct alert_list *out,
              struct err *e)
{
	struct walk w = { .r = r, .now = now };
	struct store_received_filter f = { .domain = r->domain, .until = now };
	char span[32];
	int rc = s->ops->received_walk(s, &f, type_row, &w, e);

	fmt_span(r->window, span, sizeof(span));
	if (w.t.n > 1)
		qsort(w.t.v, w.t.n, sizeof(*w.t.v), cmp_tally);
	for (size_t i = 0; rc == 0 && i < w.t.n; i++) {
		const struct tally *t = &w.t.v[i];
		const char *sp = strchr(t->name, ' ');

		if (t->flag || t->a == 0 || sp == NULL)
			continue;
		char *domain = xstrndup(t->name, (size_t)(sp - t->name));
		struct alert *a = alert_add(out, r, now, domain, t->name);
		free(a->key);
		a->key = fmt_alloc("%s:%s:%s", r->id, domain, sp + 1);
		a->value = (double)t->a;
		a->count = t->a;
		if (a->cooldown < r->window)
			a->cooldown = r->window;
		a->summary = fmt_alloc("new failure type %s for %s in the last %s (%llu failed "
		                       "sessions; not reported before)",
		                       sp + 1, domain, span, (unsigned long long)t->a);
		free(domain);
	}
	free(w.policy_domain);
	tallies_clear(&w.t);
	return rc;
}

/* ------------------------------------------------------------------ reporter-silent */

static int
silent_row(void *ctx, const struct store_received_row *row)
{
	struct walk *w = ctx;

	if (row->policy_type != NULL || row->submitter == NULL)
		return 0;
	struct tally *t = tally_get(&w->t, row->submitter);
	if (row->received_at > t->t)
		t->t = row->received_at;
	t->a++;
	return 0;
}

static int
eval_silent(const struct alert_rule *r, struct store *s, int64_t now, struct alert_list *out,
            struct err *e)
{
	struct walk w = { .r = r, .now = now };
	struct store_received_filter f = { .domain = r->domain,
		                           .reporter = r->reporter,
		                           .reports_only = true };
	int rc = s->ops->received_walk(s, &f, silent_row, &w, e);

	if (w.t.n > 1)
		qsort(w.t.v, w.t.n, sizeof(*w.t.v), cmp_tally);
	for (size_t i = 0; rc == 0 && i < w.t.n; i++) {
		const struct tally *t = &w.t.v[i];
		char last[TIME_RFC3339_LEN] = "";

		if (t->t >= now - r->days * 86400)
			continue;
		struct alert *a = alert_add(out, r, now, r->domain, t->name);
		a->since = now - r->days * 86400;
		a->value = (double)((now - t->t) / 86400);
		a->count = t->a;
		time_format_rfc3339(t->t, last);
		a->summary = fmt_alloc(
		        "reporter %s has sent no report for %lld days (last received "
		        "%s; %llu reports before)",
		        t->name, (long long)((now - t->t) / 86400), last, (unsigned long long)t->a);
	}
	tallies_clear(&w.t);
	return rc;
}

/* ------------------------------------------------------------------ delivery-failing */

static int
outbox_row(void *ctx, const struct store_outbox_report *rep)
{
	struct walk *w = ctx;

	if (rep->created < w->now - w->r->window || rep->created > w->now)
		return 0;
	for (size_t i = 0; i < rep->n_deliveries; i++) {
		const struct store_delivery *d = &rep->deliveries[i];
		struct tally *t = tally_get(&w->t, d->dest);

		t->b++;
		if (d->state != STORE_DELIVERY_FAILED && d->state != STORE_DELIVERY_GIVEN_UP)
			continue;
		t->a++;
		if (rep->created >= t->t) { /* the newest failing row gives the error */
			t->t = rep->created;
			free(t->text);
			t->text = xstrdup(d->last_error ? d->last_error : "");
		}
	}
	return 0;
}

static int
eval_delivery(const struct alert_rule *r, struct store *s, int64_t now, struct alert_list *out,
              struct err *e)
{
	struct walk w = { .r = r, .now = now };
	struct store_outbox_filter f = { .domain = r->domain,
		                         .report_state = STORE_REPORT_READY,
		                         .delivery_state = -1 };
	char span[32];
	int rc = s->ops->outbox_list(s, &f, outbox_row, &w, e);

	fmt_span(r->window, span, sizeof(span));
	if (w.t.n > 1)
		qsort(w.t.v, w.t.n, sizeof(*w.t.v), cmp_tally);
	for (size_t i = 0; rc == 0 && i < w.t.n; i++) {
		const struct tally *t = &w.t.v[i];
		double frac = t->b ? (double)t->a / (double)t->b : 0;

		if (t->a == 0 || !(frac > r->threshold))
			continue;
		struct alert *a = alert_add(out, r, now, r->domain, t->name);
		a->value = frac;
		a->count = t->a;
		a->total = t->b;
		a->summary = fmt_alloc("report delivery to %s failing: %llu of %llu deliveries in "
		                       "the last %s failed or were given up (last error: %s)",
		                       t->name, (unsigned long long)t->a, (unsigned long long)t->b,
		                       span, t->text ? t->text : "");
	}
	tallies_clear(&w.t);
	return rc;
}

/* ------------------------------------------------------------------ all rules */

static int
cmp_alert(const void *x, const void *y)
{
	return strcmp(((const struct alert *)x)->key, ((const struct alert *)y)->key);
}

int
alerts_evaluate(const struct alert_rule *rules, size_t n, struct store *s, int64_t now,
                struct alert_list *out, struct err *e)
{
	size_t first = out->n;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct alert_rule *r = &rules[i];
		bool outbox = strcmp(r->type, "delivery-failing") == 0;

		if (outbox ? s->ops->outbox_list == NULL : s->ops->received_walk == NULL) {
			log_warn("alert rule skipped rule=%s reason=\"the %s store cannot answer "
			         "it\"",
			         r->id, s->ops->name);
			continue;
		}
		if (strcmp(r->type, "failure-rate") == 0)
			rc = eval_rate(r, s, now, out, e);
		else if (strcmp(r->type, "new-failure-type") == 0)
			rc = eval_new_type(r, s, now, out, e);
		else if (strcmp(r->type, "reporter-silent") == 0)
			rc = eval_silent(r, s, now, out, e);
		else if (outbox)
			rc = eval_delivery(r, s, now, out, e);
		if (rc)
			err_prefix(e, "alert.%s", r->id);
	}
	if (out->n - first > 1)
		qsort(out->v + first, out->n - first, sizeof(*out->v), cmp_alert);
	return rc;
}

void
alerts_sample(const struct alert_rule *r, int64_t now, struct alert_list *out)
{
	const char *d = r->domain ? r->domain : "example.com";
	struct alert *a = alert_add(out, r, now, d, d);

	free(a->type);
	a->type = xstrdup("test");
	free(a->key);
	a->key = fmt_alloc("%s:test", r->id);
	a->value = r->threshold;
	a->summary = fmt_alloc("test alert of rule %s (%s): tlsrpt alerts test sent this; "
	                       "nothing is wrong",
	                       r->id, r->type);
}
