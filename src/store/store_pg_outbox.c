/*
 * store_pg_outbox.c - the outbox of the PostgreSQL backend: generated reports (gzip body
 * as BYTEA, report-id, file name, the record their rua list came from), one delivery
 * row per destination, the delivery claim, operator resets and the retention purge.
 * Same semantics as store_sqlite_outbox.c (contracts in store.h).
 *
 * Tables outbox_reports and outbox_deliveries (migration 2 in store_pg.c); statements in
 * pg_exec() slots 0..31.  Writes run inside the caller's transaction where there is one
 * (report generation inserts a window's reports and marks it reported in one
 * transaction); the delivery ops run on their own (autocommit).
 *
 * Many hosts: outbox_claim is one statement that locks the delivery row with
 * FOR UPDATE SKIP LOCKED and moves next_try to the lease only when the row is still due,
 * so of any number of workers on any hosts exactly one claims a due row (the others skip
 * it, or see the moved next_try); a sent row is never claimed.
 * Threading: as store.h (one connection per thread).
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_pg_int.h"
#include "util/xalloc.h"

enum {
	X_INSERT_REPORT = 0,
	X_INSERT_DELIVERY,
	X_SELECT_REPORTS,
	X_UPDATE_DELIVERY,
	X_PURGE_REPORTS,
	X_PURGE_FAILURES,
	X_PURGE_SESSIONS,
	X_PURGE_WINDOWS,
	X_MAX_PART,
	X_DUE,
	X_CLAIM,
	X_RESET,
	X_EXISTS,
	X_SENT_COUNT,
	X_DEFER,
	X_LAST_ = X_DEFER,
};

_Static_assert(X_LAST_ <= 31, "the outbox owns statement slots 0..31");

static const char sql_insert_report[] =
        "INSERT INTO outbox_reports(window_id, period, start, end_time, domain, record, part, "
        "report_id, filename, body, json_size, dropped, state, error, created) "
        "VALUES ($1::bigint, $2::integer, $3::bigint, $4::bigint, $5, $6, $7::integer, $8, "
        "$9, $10::bytea, $11::bigint, $12::bigint, $13::integer, $14, $15::bigint) "
        "RETURNING id";
static const char sql_insert_delivery[] =
        "INSERT INTO outbox_deliveries(report, dest, state, attempts, next_try, last_error) "
        "VALUES ($1::bigint, $2, $3::integer, $4::integer, $5::bigint, $6)";
/* one row per delivery (a report without deliveries: one row with NULL dest columns) */
static const char sql_select_reports[] =
        "SELECT r.id, r.window_id, r.period, r.start, r.end_time, r.domain, r.record, r.part, "
        "r.report_id, r.filename, r.json_size, r.dropped, r.state, r.error, r.created, "
        "CASE WHEN $4::integer <> 0 THEN r.body END, "
        "d.id, d.dest, d.state, d.attempts, d.next_try, d.last_error "
        "FROM outbox_reports r LEFT JOIN outbox_deliveries d ON d.report = r.id "
        "WHERE ($1::text IS NULL OR r.domain = $1) AND ($2::integer < 0 OR r.state = $2) "
        "AND ($3::integer < 0 OR EXISTS (SELECT 1 FROM outbox_deliveries x "
        "WHERE x.report = r.id AND x.state = $3)) "
        "AND ($5::bigint = 0 OR r.id = $5) ORDER BY r.created, r.id, d.id";
/* state sent (1): $4 is the sent time (outbox_sent_count), and there is no next try */
static const char sql_update_delivery[] =
        "UPDATE outbox_deliveries SET state = $3::integer, attempts = attempts + 1, "
        "next_try = CASE WHEN $3::integer = 1 THEN 0 ELSE $4::bigint END, "
        "sent_at = CASE WHEN $3::integer = 1 THEN $4::bigint ELSE sent_at END, "
        "last_error = $5 WHERE report = $1::bigint AND dest = $2";
static const char sql_sent_count[] =
        "SELECT count(*) FROM outbox_deliveries WHERE dest = $1 AND state = 1 "
        "AND sent_at >= $2::bigint";
static const char sql_defer[] =
        "UPDATE outbox_deliveries SET state = 2, next_try = $3::bigint, last_error = $4 "
        "WHERE report = $1::bigint AND dest = $2 AND state <> 1";
static const char sql_max_part[] = "SELECT coalesce(max(part), 0) FROM outbox_reports "
                                   "WHERE domain = $1 AND start = $2::bigint "
                                   "AND period = $3::integer";
static const char sql_due[] =
        "SELECT d.report FROM outbox_deliveries d JOIN outbox_reports r ON r.id = d.report "
        "WHERE d.state IN (0, 2) AND d.next_try <= $1::bigint AND r.state = 0 "
        "GROUP BY d.report ORDER BY min(d.next_try), d.report LIMIT $2::bigint";
/* In READ COMMITTED, FOR UPDATE re-checks the condition on the newest row version after
 * the lock, so a row another worker claimed (next_try moved) or sent is not taken. */
static const char sql_claim[] =
        "UPDATE outbox_deliveries SET next_try = $4::bigint WHERE id = "
        "(SELECT id FROM outbox_deliveries WHERE report = $1::bigint AND dest = $2 "
        "AND state IN (0, 2) AND next_try <= $3::bigint FOR UPDATE SKIP LOCKED)";
static const char sql_reset[] =
        "UPDATE outbox_deliveries SET state = $2::integer, next_try = $3::bigint, "
        "last_error = $4 WHERE report = $1::bigint AND state <> 1";
static const char sql_exists[] = "SELECT 1 FROM outbox_reports WHERE id = $1::bigint";
static const char sql_purge_reports[] = "DELETE FROM outbox_reports WHERE created < $1::bigint";
static const char sql_purge_failures[] =
        "DELETE FROM failure_counts WHERE window_id IN "
        "(SELECT id FROM windows WHERE state = 1 AND end_time < $1::bigint)";
static const char sql_purge_sessions[] =
        "DELETE FROM session_counts WHERE window_id IN "
        "(SELECT id FROM windows WHERE state = 1 AND end_time < $1::bigint)";
static const char sql_purge_windows[] =
        "DELETE FROM windows WHERE state = 1 AND end_time < $1::bigint";

static int
code_of(const struct err *e)
{
	return e != NULL && e->code != 0 ? e->code : ERR_IO;
}

int
pg_outbox_insert(struct store *base, const struct store_outbox_report *r, int64_t *id,
                 struct err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char wid[24], period[24], start[24], end[24], part[24], jsize[24], dropped[24], state[24],
	        created[24];
	const char *v[15] = { pg_i64(wid, r->window_id),
		              pg_i64(period, (int64_t)r->period),
		              pg_i64(start, r->start),
		              pg_i64(end, r->end),
		              r->domain,
		              r->record,
		              pg_i64(part, (int64_t)r->part),
		              r->report_id,
		              r->filename,
		              r->body != NULL ? (const char *)r->body : "",
		              pg_i64(jsize, (int64_t)r->json_size),
		              pg_i64(dropped, (int64_t)r->dropped),
		              pg_i64(state, (int64_t)r->state),
		              r->error,
		              pg_i64(created, r->created) };
	int lens[15] = { 0 }, fmts[15] = { 0 };
	PGresult *res;
	int64_t rid;

	if (r->body_len > (size_t)INT32_MAX)
		return err_set(e, ERR_TOOBIG, "%s: outbox: report %s too large", s->where,
		               r->report_id);
	lens[9] = (int)r->body_len;
	fmts[9] = 1; /* the body is bound as binary bytes */
	res = pg_exec(s, X_INSERT_REPORT, sql_insert_report, 15, v, lens, fmts, "outbox insert", e);
	if (res == NULL) {
		if (code_of(e) == ERR_BADSTATE)
			return err_set(e, ERR_BADSTATE,
			               "%s: outbox: report %s (window %lld part %u) exists",
			               s->where, r->report_id, (long long)r->window_id, r->part);
		return code_of(e);
	}
	rid = PQntuples(res) == 1 ? pg_col_i64(res, 0, 0) : 0;
	PQclear(res);
	for (size_t i = 0; i < r->n_deliveries; i++) {
		const struct store_delivery *d = &r->deliveries[i];
		char rs[24], ds[24], at[24], nt[24];
		const char *dv[6] = { pg_i64(rs, rid),
			              d->dest,
			              pg_i64(ds, (int64_t)d->state),
			              pg_i64(at, (int64_t)d->attempts),
			              pg_i64(nt, d->next_try),
			              d->last_error };
		int rc = pg_exec_cmd(s, X_INSERT_DELIVERY, sql_insert_delivery, 6, dv,
		                     "outbox delivery insert", NULL, e);
		if (rc)
			return rc;
	}
	if (id)
		*id = rid;
	return 0;
}

/* The body of row i (hex text from the server) into *out (free with PQfreemem). */
static int
body_of(struct store_pg *s, const PGresult *res, int i, unsigned char **out, size_t *len,
        struct err *e)
{
	*out = NULL;
	*len = 0;
	if (PQgetisnull(res, i, 15))
		return 0;
	*out = PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, 15), len);
	if (*out == NULL)
		return err_set(e, ERR_NOMEM, "%s: outbox: out of memory for a report body",
		               s->where);
	return 0;
}

static int
select_reports(struct store_pg *s, const struct store_outbox_filter *f, int64_t only_id,
               bool with_body, store_outbox_fn fn, void *ctx, size_t *n_found, struct err *e)
{
	char rs[24], ds[24], wb[24], oid[24];
	const char *v[5] = { f != NULL ? f->domain : NULL,
		             pg_i64(rs, f != NULL ? f->report_state : -1),
		             pg_i64(ds, f != NULL ? f->delivery_state : -1),
		             pg_i64(wb, with_body ? 1 : 0), pg_i64(oid, only_id) };
	PGresult *res;
	struct store_delivery *dv = NULL;
	size_t cap = 0;
	int rows, stop = 0, rc = 0;

	*n_found = 0;
	res = pg_exec(s, X_SELECT_REPORTS, sql_select_reports, 5, v, NULL, NULL, "outbox list", e);
	if (res == NULL)
		return code_of(e);
	rows = PQntuples(res);
	for (int i = 0; i < rows && stop == 0 && rc == 0;) {
		struct store_outbox_report r = { 0 };
		unsigned char *body = NULL;

		r.id = pg_col_i64(res, i, 0);
		r.window_id = pg_col_i64(res, i, 1);
		r.period = (enum window_period)pg_col_i64(res, i, 2);
		r.start = pg_col_i64(res, i, 3);
		r.end = pg_col_i64(res, i, 4);
		r.domain = pg_col_str(res, i, 5);
		r.record = pg_col_str(res, i, 6);
		r.part = (unsigned)pg_col_i64(res, i, 7);
		r.report_id = pg_col_str(res, i, 8);
		r.filename = pg_col_str(res, i, 9);
		r.json_size = (size_t)pg_col_i64(res, i, 10);
		r.dropped = (uint64_t)pg_col_i64(res, i, 11);
		r.state = (enum store_report_state)pg_col_i64(res, i, 12);
		r.error = pg_col_str(res, i, 13);
		r.created = pg_col_i64(res, i, 14);
		if (with_body) {
			rc = body_of(s, res, i, &body, &r.body_len, e);
			r.body = body;
		}
		r.n_deliveries = 0;
		for (; i < rows && pg_col_i64(res, i, 0) == r.id; i++) {
			if (PQgetisnull(res, i, 16))
				continue;
			if (r.n_deliveries == cap) {
				cap = cap ? 2 * cap : 4;
				dv = xrealloc(dv, cap * sizeof(*dv));
			}
			dv[r.n_deliveries++] = (struct store_delivery){
				.dest = pg_col_str(res, i, 17),
				.state = (enum store_delivery_state)pg_col_i64(res, i, 18),
				.attempts = (uint32_t)pg_col_i64(res, i, 19),
				.next_try = pg_col_i64(res, i, 20),
				.last_error = pg_col_str(res, i, 21),
			};
		}
		r.deliveries = dv;
		(*n_found)++;
		if (rc == 0)
			stop = fn(ctx, &r);
		PQfreemem(body);
	}
	free(dv);
	PQclear(res);
	return rc;
}

int
pg_outbox_list(struct store *base, const struct store_outbox_filter *f, store_outbox_fn fn,
               void *ctx, struct err *e)
{
	size_t n;

	return select_reports((struct store_pg *)base, f, 0, false, fn, ctx, &n, e);
}

int
pg_outbox_get(struct store *base, int64_t id, store_outbox_fn fn, void *ctx, struct err *e)
{
	size_t n;
	int rc;

	if (id <= 0)
		return err_set(e, ERR_NOTFOUND, "outbox: no report %lld", (long long)id);
	rc = select_reports((struct store_pg *)base, NULL, id, true, fn, ctx, &n, e);
	if (rc == 0 && n == 0)
		return err_set(e, ERR_NOTFOUND, "outbox: no report %lld", (long long)id);
	return rc;
}

int
pg_outbox_max_part(struct store *base, enum window_period period, int64_t start, const char *domain,
                   unsigned *max, struct err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char st[24], pe[24];
	const char *v[3] = { domain, pg_i64(st, start), pg_i64(pe, (int64_t)period) };
	PGresult *res;

	*max = 0;
	res = pg_exec(s, X_MAX_PART, sql_max_part, 3, v, NULL, NULL, "outbox max part", e);
	if (res == NULL)
		return code_of(e);
	if (PQntuples(res) == 1)
		*max = (unsigned)pg_col_i64(res, 0, 0);
	PQclear(res);
	return 0;
}

int
pg_outbox_delivery_update(struct store *base, int64_t report_id, const char *dest,
                          enum store_delivery_state state, int64_t next_try, const char *last_error,
                          struct err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char rid[24], st[24], nt[24];
	const char *v[5] = { pg_i64(rid, report_id), dest, pg_i64(st, (int64_t)state),
		             pg_i64(nt, next_try), last_error };
	uint64_t n = 0;
	int rc = pg_exec_cmd(s, X_UPDATE_DELIVERY, sql_update_delivery, 5, v,
	                     "outbox delivery update", &n, e);

	if (rc)
		return rc;
	if (n == 0)
		return err_set(e, ERR_NOTFOUND, "outbox: report %lld has no destination %s",
		               (long long)report_id, dest);
	return 0;
}

int
pg_purge(struct store *base, int64_t before, uint64_t *n_reports, uint64_t *n_windows,
         struct err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char b[24];
	const char *v[1] = { pg_i64(b, before) };
	int rc;

	rc = pg_exec_cmd(s, X_PURGE_REPORTS, sql_purge_reports, 1, v, "purge", n_reports, e);
	if (rc == 0)
		rc = pg_exec_cmd(s, X_PURGE_FAILURES, sql_purge_failures, 1, v, "purge", NULL, e);
	if (rc == 0)
		rc = pg_exec_cmd(s, X_PURGE_SESSIONS, sql_purge_sessions, 1, v, "purge", NULL, e);
	if (rc == 0)
		rc = pg_exec_cmd(s, X_PURGE_WINDOWS, sql_purge_windows, 1, v, "purge", n_windows,
		                 e);
	pg_cache_forget_windows(s);
	return rc;
}

/* ------------------------------------------------------------------ delivery (issue 7) */

int
pg_outbox_due(struct store *base, int64_t now, size_t max, int64_t *ids, size_t *n, struct err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char a[24], b[24];
	const char *v[2] = { pg_i64(a, now), pg_i64(b, (int64_t)max) };
	PGresult *res;
	int rows;

	*n = 0;
	if (max == 0)
		return 0;
	res = pg_exec(s, X_DUE, sql_due, 2, v, NULL, NULL, "outbox due", e);
	if (res == NULL)
		return code_of(e);
	rows = PQntuples(res);
	for (int i = 0; i < rows && *n < max; i++)
		ids[(*n)++] = pg_col_i64(res, i, 0);
	PQclear(res);
	return 0;
}

int
pg_outbox_claim(struct store *base, int64_t report_id, const char *dest, int64_t now,
                int64_t lease_until, bool *claimed, struct err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char rid[24], nw[24], lu[24];
	const char *v[4] = { pg_i64(rid, report_id), dest, pg_i64(nw, now),
		             pg_i64(lu, lease_until) };
	uint64_t n = 0;
	int rc;

	*claimed = false;
	rc = pg_exec_cmd(s, X_CLAIM, sql_claim, 4, v, "outbox claim", &n, e);
	if (rc)
		return rc;
	*claimed = n == 1;
	return 0;
}

int
pg_outbox_reset(struct store *base, int64_t report_id, enum store_delivery_state state,
                int64_t next_try, const char *reason, size_t *n, struct err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char rid[24], st[24], nt[24];
	const char *v[4] = { pg_i64(rid, report_id), pg_i64(st, (int64_t)state),
		             pg_i64(nt, next_try), reason };
	PGresult *res;
	uint64_t changed = 0;
	int found, rc;

	if (n)
		*n = 0;
	res = pg_exec(s, X_EXISTS, sql_exists, 1, v, NULL, NULL, "outbox reset", e);
	if (res == NULL)
		return code_of(e);
	found = PQntuples(res);
	PQclear(res);
	if (found == 0)
		return err_set(e, ERR_NOTFOUND, "outbox: no report %lld", (long long)report_id);
	rc = pg_exec_cmd(s, X_RESET, sql_reset, 4, v, "outbox reset", &changed, e);
	if (rc == 0 && n)
		*n = (size_t)changed;
	return rc;
}

int
pg_outbox_sent_count(struct store *base, const char *dest, int64_t since, uint64_t *n,
                     struct err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char si[24];
	const char *v[2] = { dest, pg_i64(si, since) };
	PGresult *res;

	*n = 0;
	res = pg_exec(s, X_SENT_COUNT, sql_sent_count, 2, v, NULL, NULL, "outbox sent count", e);
	if (res == NULL)
		return code_of(e);
	if (PQntuples(res) == 1)
		*n = (uint64_t)pg_col_i64(res, 0, 0);
	PQclear(res);
	return 0;
}

int
pg_outbox_defer(struct store *base, int64_t report_id, const char *dest, int64_t next_try,
                const char *reason, struct err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char rid[24], nt[24];
	const char *v[4] = { pg_i64(rid, report_id), dest, pg_i64(nt, next_try), reason };
	uint64_t n = 0;
	int rc = pg_exec_cmd(s, X_DEFER, sql_defer, 4, v, "outbox defer", &n, e);

	if (rc)
		return rc;
	if (n == 0)
		return err_set(e, ERR_NOTFOUND, "outbox: report %lld has no unsent destination %s",
		               (long long)report_id, dest);
	return 0;
}
