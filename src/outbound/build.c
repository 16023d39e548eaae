/*
 * build.c - a window's counters -> RFC 8460 report model -> parts within max-size.
 *
 * RFC 8460 section 4 (report schema), 4.4 (policy-domain, policy-string, mx-host),
 * section 4.3 (failure details).  The collector stores each policy and failure detail
 * as canonical RFC 8460 JSON (collector/aggregate.h); we parse it back with rjson.
 *
 * Splitting: the writer's JSON of a report is
 *   prefix "policies":[ p1 , p2 ... ] suffix
 * so the size of a part with policies S is size(no policies) + sum(len(p)) + |S| - 1
 * where len(p) = size(only p) - size(no policies).  Parts are filled greedily in
 * order; a policy that alone does not fit gets a part of its own and loses its
 * rarest failure details (lowest failed-session-count, later ones first on ties)
 * until it fits; the kept details stay in their original order.
 *
 * Threading: no shared state.
 */
#include "outbound/build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/naming.h"
#include "report/rjson.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xalloc.h"

void
outbound_ident_clear(struct outbound_ident *id)
{
	free(id->org_name);
	free(id->contact_info);
	free(id->submitter);
	memset(id, 0, sizeof(*id));
}

int
outbound_ident_eval(const struct conf *c, const char *domain, struct outbound_ident *out,
                    struct err *e)
{
	struct expr_var v = { "rcpt_domain", domain };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = conf_eval_string(c, "report.tls.aggregate.org-name", &v, 1, &out->org_name, e);
	if (rc)
		goto fail;
	rc = conf_eval_string(c, "report.tls.aggregate.contact-info", &v, 1, &out->contact_info, e);
	if (rc == 0 && out->contact_info[0] == '\0') {
		free(out->contact_info);
		out->contact_info = NULL;
		rc = ERR_NOTFOUND;
	}
	if (rc == ERR_NOTFOUND)
		rc = conf_eval_string(c, "report.tls.aggregate.from-address", &v, 1,
		                      &out->contact_info, e);
	if (rc)
		goto fail;
	rc = conf_eval_string(c, "report.submitter", &v, 1, &out->submitter, e);
	if (rc)
		goto fail;
	return 0;
fail:
	outbound_ident_clear(out);
	return err_prefix(e, "report domain %s", domain);
}

/* ------------------------------------------------------------------ build */

static const char *
jstr(const struct rjson *o, const char *key)
{
	const struct rjson *v = rjson_get(o, key);

	return v && v->type == RJSON_STRING && v->n > 0 ? v->u.s : NULL;
}

struct build_ctx {
	struct report *r;
	struct report_policy *cur;
	enum store_window_state state;
	size_t rows;
	struct err *e;
	int rc;
};

static int
add_policy(struct build_ctx *b, const struct store_count_row *row)
{
	struct rjson_doc doc;
	const struct rjson *v;
	struct report_policy *p;
	enum report_policy_type t = report_policy_type_lookup(
	        (struct span){ row->policy_type, strlen(row->policy_type) });
	int rc = rjson_parse((struct span){ row->policy_json, strlen(row->policy_json) }, 8, &doc,
	                     b->e);

	if (rc)
		return err_prefix(b->e, "window %lld: stored policy", (long long)row->window_id);
	p = report_add_policy(b->r, t, t == REPORT_POLICY_UNKNOWN ? row->policy_type : NULL,
	                      row->policy_domain, b->e);
	if (p == NULL) {
		rjson_free(&doc);
		return b->e ? b->e->code : ERR_INVALID;
	}
	v = rjson_get(&doc.root, "policy-string");
	if (v && v->type == RJSON_ARRAY)
		for (size_t i = 0; i < v->n; i++)
			if (v->u.a[i].type == RJSON_STRING)
				report_policy_add_string(p, v->u.a[i].u.s);
	v = rjson_get(&doc.root, "mx-host");
	if (v && v->type == RJSON_ARRAY)
		for (size_t i = 0; i < v->n && rc == 0; i++)
			if (v->u.a[i].type == RJSON_STRING)
				rc = report_policy_add_mx_host(p, v->u.a[i].u.s, b->e);
	rjson_free(&doc);
	p->successful = row->success;
	p->failed = row->failure;
	b->cur = p;
	return rc;
}

static int
add_failure(struct build_ctx *b, const struct store_count_row *row)
{
	struct rjson_doc doc;
	struct report_failure f = { 0 };
	const char *rt;
	int rc = rjson_parse((struct span){ row->detail_json, strlen(row->detail_json) }, 8, &doc,
	                     b->e);

	if (rc)
		return err_prefix(b->e, "window %lld: stored failure detail",
		                  (long long)row->window_id);
	rt = jstr(&doc.root, "result-type");
	if (rt == NULL)
		rt = row->result_type;
	f.result_type = report_result_type_lookup((struct span){ rt, strlen(rt) });
	if (f.result_type == REPORT_RESULT_UNKNOWN)
		f.result_type_other = (char *)rt;
	f.sending_mta_ip = (char *)jstr(&doc.root, "sending-mta-ip");
	f.receiving_mx_hostname = (char *)jstr(&doc.root, "receiving-mx-hostname");
	f.receiving_mx_helo = (char *)jstr(&doc.root, "receiving-mx-helo");
	f.receiving_ip = (char *)jstr(&doc.root, "receiving-ip");
	f.additional_information = (char *)jstr(&doc.root, "additional-information");
	f.failure_reason_code = (char *)jstr(&doc.root, "failure-reason-code");
	f.failed_session_count = row->detail_count;
	if (f.failed_session_count > 0)
		report_policy_add_failure(b->cur, &f); /* copies every string */
	rjson_free(&doc);
	return 0;
}

static int
build_row(void *ctx, const struct store_count_row *row)
{
	struct build_ctx *b = ctx;

	b->rows++;
	b->state = row->state;
	if (row->result_type == NULL)
		b->rc = add_policy(b, row);
	else if (b->cur != NULL)
		b->rc = add_failure(b, row);
	return b->rc;
}

int
outbound_build(struct store *s, const struct store_window *w, const struct outbound_ident *id,
               struct report **out, enum store_window_state *state, struct err *e)
{
	struct build_ctx b = { 0 };
	int rc;

	b.r = report_new(id->org_name, w->start, window_last_second(w->period, w->start),
	                 id->contact_info, NULL);
	b.state = STORE_WINDOW_OPEN;
	b.e = e;
	rc = s->ops->list_counts(s, w->id, build_row, &b, e);
	if (rc == 0)
		rc = b.rc;
	if (rc) {
		report_free(b.r);
		*out = NULL;
		return rc;
	}
	*out = b.r;
	if (state)
		*state = b.state;
	return 0;
}

/* ------------------------------------------------------------------ split */

void
outbound_parts_clear(struct outbound_parts *p)
{
	for (size_t i = 0; i < p->n; i++) {
		report_free(p->r[i]);
		free(p->too_big[i]);
	}
	free(p->r);
	free(p->dropped_per);
	free(p->too_big);
	memset(p, 0, sizeof(*p));
}

static void
push_policy(struct report *r, struct report_policy *p)
{
	if (r->n_policies == r->cap_policies) {
		r->cap_policies = r->cap_policies ? r->cap_policies * 2 : 4;
		r->policies = xrealloc(r->policies, r->cap_policies * sizeof(*r->policies));
	}
	r->policies[r->n_policies++] = p;
}

static struct report *
new_part(const struct report *full, const char *domain, const char *submitter, unsigned part,
         struct err *e)
{
	struct buf id;
	struct report *r = NULL;

	buf_init(&id, 1024);
	if (naming_report_id(full->start, domain, part, submitter, &id, e) == 0)
		r = report_new(full->organization_name, full->start, full->end, full->contact_info,
		               buf_cstr(&id));
	buf_clear(&id);
	return r;
}

static void
failure_free_strings(struct report_failure *f)
{
	free(f->result_type_other);
	free(f->sending_mta_ip);
	free(f->receiving_mx_hostname);
	free(f->receiving_mx_helo);
	free(f->receiving_ip);
	free(f->additional_information);
	free(f->failure_reason_code);
}

struct rank {
	uint64_t count;
	size_t idx;
};

static int
rank_cmp(const void *a, const void *b)
{
	const struct rank *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * r holds the single policy p and is larger than max_size: keeps the largest k failure
 * details (by count) that fit.  Returns how many were dropped; *fits says whether r fits.
 */
static int
trim_policy(struct report *r, struct report_policy *p, size_t max_size, uint64_t *dropped,
            bool *fits, struct err *e)
{
	size_t n = p->n_failures, lo = 0, hi = n, size;
	struct report_failure *orig = p->failures, *tmp;
	struct rank *rk = xcalloc(n ? n : 1, sizeof(*rk));
	bool *keep = xcalloc(n ? n : 1, sizeof(*keep));
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		rk[i] = (struct rank){ orig[i].failed_session_count, i };
	qsort(rk, n, sizeof(*rk), rank_cmp);
	tmp = xcalloc(n ? n : 1, sizeof(*tmp));
	for (size_t i = 0; i < n; i++)
		tmp[i] = orig[rk[i].idx];
	/* largest k in [0, n) with size(k) <= max_size; k = 0 may still not fit */
	p->failures = tmp;
	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2;

		p->n_failures = mid;
		rc = report_json_size(r, &size, e);
		if (rc)
			break;
		if (size <= max_size)
			lo = mid;
		else
			hi = mid - 1;
	}
	p->failures = orig;
	p->n_failures = n;
	free(tmp);
	if (rc == 0) {
		size_t k = lo, w = 0;

		for (size_t i = 0; i < k; i++)
			keep[rk[i].idx] = true;
		for (size_t i = 0; i < n; i++) {
			if (keep[i])
				orig[w++] = orig[i];
			else
				failure_free_strings(&orig[i]);
		}
		p->n_failures = w;
		*dropped = n - w;
		rc = report_json_size(r, &size, e);
		*fits = rc == 0 && size <= max_size;
	}
	free(rk);
	free(keep);
	return rc;
}

static void
parts_push(struct outbound_parts *out, struct report *r)
{
	out->r = xrealloc(out->r, (out->n + 1) * sizeof(*out->r));
	out->dropped_per = xrealloc(out->dropped_per, (out->n + 1) * sizeof(*out->dropped_per));
	out->too_big = xrealloc(out->too_big, (out->n + 1) * sizeof(*out->too_big));
	out->r[out->n] = r;
	out->dropped_per[out->n] = 0;
	out->too_big[out->n] = NULL;
	out->n++;
}

int
outbound_split(struct report *full, const char *domain, const char *submitter, unsigned first_part,
               size_t max_size, struct outbound_parts *out, struct err *e)
{
	size_t np = full->n_policies, base0 = 0, cur = 0, *len = NULL;
	struct report_policy **pol = full->policies;
	struct report *part = NULL;
	unsigned partno = first_part ? first_part : 1;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	full->policies = NULL;
	full->n_policies = full->cap_policies = 0;
	len = xcalloc(np ? np : 1, sizeof(*len));
	/* len[i]: bytes policy i adds to a part with no policies */
	rc = report_json_size(full, &base0, e);
	for (size_t i = 0; i < np && rc == 0; i++) {
		size_t one;

		full->policies = &pol[i];
		full->n_policies = 1;
		rc = report_json_size(full, &one, e);
		len[i] = one - base0;
	}
	full->policies = NULL;
	full->n_policies = 0;
	for (size_t i = 0; i < np && rc == 0; i++) {
		size_t add;

		if (part == NULL) {
			part = new_part(full, domain, submitter, partno, e);
			if (part == NULL) {
				rc = e ? e->code : ERR_INVALID;
				break;
			}
			rc = report_json_size(part, &cur, e);
			if (rc)
				break;
		}
		add = len[i] + (part->n_policies ? 1 : 0);
		if (part->n_policies > 0 && cur + add > max_size) {
			parts_push(out, part);
			partno++;
			part = NULL;
			i--; /* retry this policy in a fresh part */
			continue;
		}
		push_policy(part, pol[i]);
		pol[i] = NULL;
		cur += add;
		if (part->n_policies == 1 && cur > max_size) {
			uint64_t dropped = 0;
			bool fits = false;

			rc = trim_policy(part, part->policies[0], max_size, &dropped, &fits, e);
			if (rc)
				break;
			parts_push(out, part);
			out->dropped_per[out->n - 1] = dropped;
			out->dropped += dropped;
			if (dropped)
				log_warn(
				        "msg=\"failure details dropped to fit max-size\" domain=%s "
				        "part=%u policy_domain=%s dropped=%llu max_size=%zu",
				        domain, partno, part->policies[0]->domain,
				        (unsigned long long)dropped, max_size);
			if (!fits) {
				size_t sz = 0;

				report_json_size(part, &sz, NULL);
				out->too_big[out->n - 1] = xcalloc(1, 160);
				snprintf(out->too_big[out->n - 1], 160,
				         "report is %zu bytes even without failure details, over "
				         "max-size %zu",
				         sz, max_size);
			}
			partno++;
			part = NULL;
		}
	}
	if (rc == 0 && (part != NULL || out->n == 0)) {
		if (part == NULL)
			part = new_part(full, domain, submitter, partno, e);
		if (part == NULL)
			rc = e ? e->code : ERR_INVALID;
		else
			parts_push(out, part);
		part = NULL;
	}
	/* anything not moved into a part (on error) goes back to full and is freed */
	for (size_t i = 0; i < np; i++)
		if (pol[i])
			push_policy(full, pol[i]);
	free(pol);
	free(len);
	report_free(part);
	report_free(full);
	if (rc)
		outbound_parts_clear(out);
	return rc;
}
