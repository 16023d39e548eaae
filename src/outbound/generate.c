/*
 * generate.c - the report scheduler and the exactly-once generation of a window into
 * the outbox (see generate.h for the rules).
 *
 * RFC 8460 section 4.1 (windows), 4 (report), 5.1 (file name), 3 (rua from the
 * record); DESIGN.md "Rules for outgoing reports".
 * Threading: one thread per struct outbound_opts and store.
 */
#include "outbound/generate.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "outbound/outbound_metrics.h"
#include "report/gzip.h"
#include "report/naming.h"
#include "report/txtrec.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/xalloc.h"

/* Kills the process at step when TLSRPT_OUTBOUND_FAULT names it (crash tests). */
static void
fault_point(const char *step)
{
	const char *f = getenv("TLSRPT_OUTBOUND_FAULT");

	if (f && strcmp(f, step) == 0)
		raise(SIGKILL);
}

int64_t
outbound_jitter(enum window_period p, const char *domain, int64_t start, int64_t jitter_max)
{
	uint64_t h;

	if (p == WINDOW_HOURLY)
		jitter_max /= 24;
	if (jitter_max <= 0)
		return 0;
	h = hash_mix(hash_bytes(domain, strlen(domain), 0x746c73727074ULL), (uint64_t)start);
	return (int64_t)(h % ((uint64_t)jitter_max + 1));
}

int64_t
outbound_due_at(const struct outbound_opts *o, const struct store_window *w)
{
	int64_t delay = conf_duration_ms(o->conf, "report.tls.aggregate.delay") / 1000;
	int64_t jitter = conf_duration_ms(o->conf, "report.tls.aggregate.jitter") / 1000;

	if (o->immediate)
		return w->end;
	return w->end + delay + outbound_jitter(w->period, w->domain, w->start, jitter);
}

static int64_t
now_of(const struct outbound_opts *o)
{
	struct clock real;

	if (o->clock)
		return clock_now(o->clock);
	clock_init_real(&real);
	return clock_now(&real);
}

/* One part ready for the outbox. */
struct part_out {
	struct buf gz;
	char *filename;
	char *error;
	size_t json_size;
	enum store_report_state state;
};

static int
encode_part(const struct report *r, enum window_period period, const char *domain,
            const char *submitter, struct part_out *po, struct err *e)
{
	struct err ve = { 0 };
	struct buf fn;
	struct gzip_writer *gz;
	int rc;

	buf_init(&po->gz, (size_t)1 << 31);
	po->state = STORE_REPORT_READY;
	if (report_validate(r, period, &ve) != 0) {
		po->state = STORE_REPORT_INVALID;
		po->error = xstrdup(ve.msg);
		log_error("msg=\"generated report fails validation; kept as invalid, not sent\" "
		          "domain=%s report_id=%s reason=\"%s\"",
		          domain, r->report_id ? r->report_id : "-", ve.msg);
	}
	rc = report_json_size(r, &po->json_size, e);
	if (rc)
		return rc;
	gz = gzip_writer_new(&po->gz, 9);
	rc = report_write_json_gzip(r, gz, e);
	if (rc == 0)
		rc = gzip_writer_finish(gz, e);
	gzip_writer_free(gz);
	if (rc)
		return rc;
	buf_init(&fn, 2048);
	if (naming_filename(submitter, domain, r->start, r->end, r->report_id, true, &fn, &ve) !=
	    0) {
		if (po->state == STORE_REPORT_READY) {
			po->state = STORE_REPORT_INVALID;
			po->error = xstrdup(ve.msg);
			log_error("msg=\"no file name for generated report; kept as invalid\" "
			          "domain=%s reason=\"%s\"",
			          domain, ve.msg);
		}
		po->filename = xstrdup("");
	} else {
		po->filename = xstrdup(buf_cstr(&fn));
	}
	buf_clear(&fn);
	return 0;
}

static void
part_out_clear(struct part_out *po)
{
	buf_clear(&po->gz);
	free(po->filename);
	free(po->error);
}

/*
 * The first part number of window w: 1, or after the parts of the other windows of
 * the same (period, start, domain) that had another TLSRPT record (report-ids carry
 * no record, so they must not repeat).
 */
static int
first_part(struct store *s, const struct store_window *w, unsigned *out, struct err *e)
{
	unsigned max = 0;
	int rc = s->ops->outbox_max_part(s, w->period, w->start, w->domain, &max, e);

	*out = max + 1;
	return rc;
}

/* Builds, encodes and inserts the parts; called inside the transaction. */
static int
generate_locked(const struct outbound_opts *o, const struct store_window *w,
                const struct outbound_ident *id, struct outbound_stats *stats, bool *skipped,
                struct err *e)
{
	struct store *s = o->store;
	struct report *full = NULL;
	struct outbound_parts parts;
	enum store_window_state state;
	struct txtrec rec = { 0 };
	struct err re = { 0 };
	struct store_delivery *dv = NULL;
	size_t ndv = 0;
	unsigned part1 = 1;
	int64_t now = now_of(o);
	size_t max_size = (size_t)conf_size(o->conf, "report.tls.aggregate.max-size");
	int rc;

	*skipped = false;
	if (s->ops->window_claim != NULL) { /* another host may be generating it */
		bool claimed = false;
		rc = s->ops->window_claim(s, w->id, &claimed, e);
		if (rc || !claimed) {
			*skipped = rc == 0;
			return rc;
		}
	}
	rc = outbound_build(s, w, id, &full, &state, e);
	if (rc)
		return rc;
	if (state == STORE_WINDOW_REPORTED) {
		report_free(full);
		*skipped = true;
		return 0;
	}
	if (full->n_policies == 0) { /* a window without counters: nothing to report */
		report_free(full);
		return s->ops->mark_reported(s, w->id, now, e);
	}
	rc = first_part(s, w, &part1, e);
	if (rc) {
		report_free(full);
		return rc;
	}
	rc = outbound_split(full, w->domain, id->submitter, part1, max_size, &parts, e);
	if (rc)
		return rc;
	fault_point("build");
	if (txtrec_parse((struct span){ w->record, strlen(w->record) }, &rec, &re) == 0) {
		ndv = rec.n_rua;
		dv = xcalloc(ndv ? ndv : 1, sizeof(*dv));
		for (size_t i = 0; i < ndv; i++)
			dv[i] = (struct store_delivery){ .dest = rec.rua[i].uri,
				                         .state = STORE_DELIVERY_PENDING,
				                         .next_try = now };
	} else {
		log_error("msg=\"TLSRPT record of window unusable; reports kept as invalid\" "
		          "domain=%s reason=\"%s\"",
		          w->domain, re.msg);
	}
	for (size_t i = 0; i < parts.n && rc == 0; i++) {
		struct part_out po = { 0 };
		struct store_outbox_report r = { 0 };

		rc = encode_part(parts.r[i], w->period, w->domain, id->submitter, &po, e);
		if (rc == 0 && po.state == STORE_REPORT_READY && parts.too_big[i]) {
			po.state = STORE_REPORT_INVALID;
			po.error = xstrdup(parts.too_big[i]);
			log_error("msg=\"generated report exceeds max-size; kept as invalid\" "
			          "domain=%s reason=\"%s\"",
			          w->domain, parts.too_big[i]);
		}
		if (rc == 0 && po.state == STORE_REPORT_READY && dv == NULL) {
			po.state = STORE_REPORT_INVALID;
			po.error = xstrdup(re.msg);
		}
		if (rc == 0) {
			r.window_id = w->id;
			r.period = w->period;
			r.start = w->start;
			r.end = parts.r[i]->end;
			r.domain = w->domain;
			r.record = w->record;
			r.part = part1 + (unsigned)i;
			r.report_id = parts.r[i]->report_id;
			r.filename = po.filename;
			r.body = (const unsigned char *)po.gz.data;
			r.body_len = po.gz.len;
			r.json_size = po.json_size;
			r.dropped = parts.dropped_per[i];
			r.state = po.state;
			r.error = po.error;
			r.created = now;
			if (po.state == STORE_REPORT_READY) {
				r.deliveries = dv;
				r.n_deliveries = ndv;
			}
			rc = s->ops->outbox_insert(s, &r, &r.id, e);
		}
		if (rc == 0 && stats) {
			stats->reports++;
			if (po.state == STORE_REPORT_INVALID)
				stats->invalid++;
		}
		part_out_clear(&po);
	}
	if (rc == 0 && stats) {
		stats->dropped_details += parts.dropped;
		if (parts.n > 1)
			stats->split++;
	}
	if (rc == 0)
		fault_point("insert");
	if (rc == 0)
		rc = s->ops->mark_reported(s, w->id, now, e);
	free(dv);
	txtrec_clear(&rec);
	outbound_parts_clear(&parts);
	return rc;
}

int
outbound_generate_window(const struct outbound_opts *o, const struct store_window *w,
                         struct outbound_stats *stats, struct err *e)
{
	struct store *s = o->store;
	struct outbound_ident id;
	struct outbound_stats local = { 0 };
	bool skipped = false;
	int rc;

	rc = outbound_ident_eval(o->conf, w->domain, &id, e);
	if (rc)
		return rc;
	rc = s->ops->begin(s, e);
	if (rc) {
		outbound_ident_clear(&id);
		return rc;
	}
	rc = generate_locked(o, w, &id, &local, &skipped, e);
	if (rc == 0)
		fault_point("commit");
	if (rc == 0)
		rc = s->ops->commit(s, e);
	if (rc) {
		s->ops->rollback(s);
		err_prefix(e, "generating window %lld (%s, %s)", (long long)w->id, w->domain,
		           window_period_name(w->period));
	} else if (!skipped) {
		log_info("msg=\"reports generated\" domain=%s period=%s start=%lld reports=%llu "
		         "invalid=%llu dropped_details=%llu",
		         w->domain, window_period_name(w->period), (long long)w->start,
		         (unsigned long long)local.reports, (unsigned long long)local.invalid,
		         (unsigned long long)local.dropped_details);
		local.windows = 1;
		outbound_metrics_generated(&local);
		if (stats) {
			stats->windows += local.windows;
			stats->reports += local.reports;
			stats->invalid += local.invalid;
			stats->split += local.split;
			stats->dropped_details += local.dropped_details;
		}
	}
	outbound_ident_clear(&id);
	return rc;
}

/* ------------------------------------------------------------------ pass */

struct due_list {
	struct store_window *w;
	size_t n, cap;
};

static int
collect_window(void *ctx, const struct store_window *w)
{
	struct due_list *l = ctx;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->w = xrealloc(l->w, l->cap * sizeof(*l->w));
	}
	l->w[l->n] = *w;
	l->w[l->n].domain = xstrdup(w->domain);
	l->w[l->n].record = xstrdup(w->record);
	l->n++;
	return 0;
}

static void
due_list_clear(struct due_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free((char *)l->w[i].domain);
		free((char *)l->w[i].record);
	}
	free(l->w);
	memset(l, 0, sizeof(*l));
}

int
outbound_run(const struct outbound_opts *o, struct outbound_stats *stats, struct err *e)
{
	struct due_list l = { 0 };
	int64_t now = now_of(o);
	int rc;

	rc = o->store->ops->list_due(o->store, now, collect_window, &l, e);
	for (size_t i = 0; i < l.n && rc == 0; i++) {
		if (outbound_due_at(o, &l.w[i]) > now) {
			if (stats)
				stats->not_yet++;
			continue;
		}
		rc = outbound_generate_window(o, &l.w[i], stats, e);
	}
	due_list_clear(&l);
	return rc;
}

/* ------------------------------------------------------------------ preview */

struct preview_ctx {
	const char *domain;
	int64_t at;
	struct due_list l;
};

static int
preview_row(void *ctx, const struct store_count_row *r)
{
	struct preview_ctx *p = ctx;
	struct store_window w;

	if (r->result_type != NULL || strcmp(r->domain, p->domain) != 0 || r->start > p->at ||
	    p->at >= r->start + window_length(r->period))
		return 0;
	if (p->l.n > 0 && p->l.w[p->l.n - 1].id == r->window_id)
		return 0;
	w = (struct store_window){ .id = r->window_id,
		                   .period = r->period,
		                   .start = r->start,
		                   .end = r->start + window_length(r->period),
		                   .domain = r->domain,
		                   .record = r->record,
		                   .state = r->state };
	return collect_window(&p->l, &w);
}

int
outbound_preview(const struct outbound_opts *o, const char *domain, int64_t at, struct buf *out,
                 struct err *e)
{
	struct preview_ctx p = { .domain = domain, .at = at };
	int rc = o->store->ops->list_counts(o->store, 0, preview_row, &p, e);

	if (rc == 0 && p.l.n == 0)
		rc = err_set(e, ERR_NOTFOUND, "no collected results for %s in the window at %lld",
		             domain, (long long)at);
	for (size_t i = 0; i < p.l.n && rc == 0; i++) {
		struct outbound_ident id;
		struct report *full;
		struct outbound_parts parts;
		const struct store_window *w = &p.l.w[i];

		rc = outbound_ident_eval(o->conf, w->domain, &id, e);
		if (rc)
			break;
		memset(&parts, 0, sizeof(parts));
		rc = outbound_build(o->store, w, &id, &full, NULL, e);
		if (rc == 0)
			rc = outbound_split(
			        full, w->domain, id.submitter, 1,
			        (size_t)conf_size(o->conf, "report.tls.aggregate.max-size"), &parts,
			        e);
		for (size_t k = 0; rc == 0 && k < parts.n; k++) {
			rc = report_validate(parts.r[k], w->period, e);
			if (rc == 0)
				rc = report_write_json(parts.r[k], out, e);
			if (rc == 0 && buf_putc(out, '\n') != 0)
				rc = err_set(e, ERR_TOOBIG, "preview: output too large");
		}
		outbound_parts_clear(&parts);
		outbound_ident_clear(&id);
	}
	due_list_clear(&p.l);
	return rc;
}
