/*
 * store_sqlite_outbox.c - the outbox of the SQLite backend: generated reports (gzip
 * body, report-id, file name, the record their rua list came from) and one delivery
 * row per destination; retention purge of old reports and reported counters.
 *
 * Tables outbox_reports and outbox_deliveries (migration in store_sqlite.c); statements
 * in sqlite_stmt() slots 0..31.  Writes run inside the caller's transaction
 * (store_ops.begin/commit): report generation inserts a window's reports and marks the
 * window reported in one transaction.
 * Threading: as store.h (one connection per thread).
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_sqlite_int.h"
#include "util/xalloc.h"

enum {
	SL_INSERT_REPORT = 0,
	SL_INSERT_DELIVERY,
	SL_SELECT_REPORTS,
	SL_SELECT_DELIVERIES,
	SL_UPDATE_DELIVERY,
	SL_PURGE_REPORTS,
	SL_PURGE_FAILURES,
	SL_PURGE_SESSIONS,
	SL_PURGE_WINDOWS,
	SL_MAX_PART,
	SL_DUE = 10, /* delivery (issue 7): slots 10.. */
	SL_CLAIM,
	SL_RESET,
	SL_EXISTS,
	SL_SENT_COUNT = 20, /* delivery.daily-cap */
	SL_DEFER,
};

static const char sql_insert_report[] =
        "INSERT INTO outbox_reports(window_id, period, start, end_time, domain, record, part, "
        "report_id, filename, body, json_size, dropped, state, error, created) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";
static const char sql_insert_delivery[] =
        "INSERT INTO outbox_deliveries(report, dest, state, attempts, next_try, last_error) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char sql_select_reports[] =
        "SELECT id, window_id, period, start, end_time, domain, record, part, report_id, "
        "filename, json_size, dropped, state, error, created, "
        "CASE WHEN ?4 <> 0 THEN body END FROM outbox_reports "
        "WHERE (?1 IS NULL OR domain = ?1) AND (?2 < 0 OR state = ?2) "
        "AND (?3 < 0 OR EXISTS (SELECT 1 FROM outbox_deliveries d "
        "WHERE d.report = outbox_reports.id AND d.state = ?3)) "
        "AND (?5 = 0 OR id = ?5) ORDER BY created, id";
static const char sql_select_deliveries[] =
        "SELECT dest, state, attempts, next_try, last_error FROM outbox_deliveries "
        "WHERE report = ?1 ORDER BY rowid";
/* state sent (1): ?4 is the sent time */
static const char sql_update_delivery[] =
        "UPDATE outbox_deliveries SET state = ?3, attempts = attempts + 1, "
        "next_try = CASE WHEN ?3 = 1 THEN 0 ELSE ?4 END, "
        "sent_at = CASE WHEN ?3 = 1 THEN ?4 ELSE sent_at END, "
        "last_error = ?5 WHERE report = ?1 AND dest = ?2";
static const char sql_max_part[] = "SELECT coalesce(max(part), 0) FROM outbox_reports "
                                   "WHERE domain = ?1 AND start = ?2 AND period = ?3";
static const char sql_due[] =
        "SELECT d.report FROM outbox_deliveries d JOIN outbox_reports r ON r.id = d.report "
        "WHERE d.state IN (0, 2) AND d.next_try <= ?1 AND r.state = 0 "
        "GROUP BY d.report ORDER BY min(d.next_try), d.report LIMIT ?2";
static const char sql_claim[] =
        "UPDATE outbox_deliveries SET next_try = ?4 "
        "WHERE report = ?1 AND dest = ?2 AND state IN (0, 2) AND next_try <= ?3";
static const char sql_reset[] =
        "UPDATE outbox_deliveries SET state = ?2, next_try = ?3, last_error = ?4 "
        "WHERE report = ?1 AND state <> 1";
static const char sql_sent_count[] =
        "SELECT count(*) FROM outbox_deliveries WHERE dest = ?1 AND state = 1 AND sent_at >= ?2";
static const char sql_defer[] =
        "UPDATE outbox_deliveries SET state = 2, next_try = ?3, last_error = ?4 "
        "WHERE report = ?1 AND dest = ?2 AND state <> 1";
static const char sql_exists[] = "SELECT 1 FROM outbox_reports WHERE id = ?1";
static const char sql_purge_reports[] = "DELETE FROM outbox_reports WHERE created < ?1";
static const char sql_purge_failures[] =
        "DELETE FROM failure_counts WHERE window_id IN "
        "(SELECT id FROM windows WHERE state = 1 AND end_time < ?1)";
static const char sql_purge_sessions[] =
        "DELETE FROM session_counts WHERE window_id IN "
        "(SELECT id FROM windows WHERE state = 1 AND end_time < ?1)";
static const char sql_purge_windows[] = "DELETE FROM windows WHERE state = 1 AND end_time < ?1";

static void
done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

int
sqlite_outbox_insert(struct store *base, const struct store_outbox_report *r, int64_t *id,
                     struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = sqlite_stmt(s, SL_INSERT_REPORT, sql_insert_report, e);
	sqlite3_stmt *sd = sqlite_stmt(s, SL_INSERT_DELIVERY, sql_insert_delivery, e);
	int64_t rid;
	int rc;

	if (st == NULL || sd == NULL)
		return e ? e->code : ERR_IO;
	sqlite3_bind_int64(st, 1, r->window_id);
	sqlite3_bind_int(st, 2, (int)r->period);
	sqlite3_bind_int64(st, 3, r->start);
	sqlite3_bind_int64(st, 4, r->end);
	bind_text(st, 5, r->domain);
	bind_text(st, 6, r->record);
	sqlite3_bind_int(st, 7, (int)r->part);
	bind_text(st, 8, r->report_id);
	bind_text(st, 9, r->filename);
	sqlite3_bind_blob64(st, 10, r->body ? (const void *)r->body : (const void *)"", r->body_len,
	                    SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, (int64_t)r->json_size);
	sqlite3_bind_int64(st, 12, (int64_t)r->dropped);
	sqlite3_bind_int(st, 13, (int)r->state);
	bind_text(st, 14, r->error);
	sqlite3_bind_int64(st, 15, r->created);
	rc = sqlite3_step(st);
	done(st);
	if (rc == SQLITE_CONSTRAINT)
		return err_set(e, ERR_BADSTATE,
		               "%s: outbox: report %s (window %lld part %u) exists", s->path,
		               r->report_id, (long long)r->window_id, r->part);
	if (rc != SQLITE_DONE)
		return sqlite_db_err(s, e, rc == SQLITE_BUSY ? ERR_AGAIN : ERR_IO, "outbox insert");
	rid = sqlite3_last_insert_rowid(s->db);
	for (size_t i = 0; i < r->n_deliveries; i++) {
		const struct store_delivery *d = &r->deliveries[i];

		sqlite3_bind_int64(sd, 1, rid);
		bind_text(sd, 2, d->dest);
		sqlite3_bind_int(sd, 3, (int)d->state);
		sqlite3_bind_int(sd, 4, (int)d->attempts);
		sqlite3_bind_int64(sd, 5, d->next_try);
		bind_text(sd, 6, d->last_error);
		rc = sqlite3_step(sd);
		done(sd);
		if (rc != SQLITE_DONE)
			return sqlite_db_err(s, e, rc == SQLITE_BUSY ? ERR_AGAIN : ERR_IO,
			                     "outbox delivery insert");
	}
	if (id)
		*id = rid;
	return 0;
}

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? xstrdup((const char *)t) : NULL;
}

/* The delivery rows of report rid, in insertion order. */
static int
load_deliveries(struct store_sqlite *s, int64_t rid, struct store_delivery **out, size_t *n,
                struct err *e)
{
	sqlite3_stmt *st = sqlite_stmt(s, SL_SELECT_DELIVERIES, sql_select_deliveries, e);
	struct store_delivery *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return e ? e->code : ERR_IO;
	sqlite3_bind_int64(st, 1, rid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 4;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[cnt].dest = col_dup(st, 0);
		v[cnt].state = (enum store_delivery_state)sqlite3_column_int(st, 1);
		v[cnt].attempts = (uint32_t)sqlite3_column_int(st, 2);
		v[cnt].next_try = sqlite3_column_int64(st, 3);
		v[cnt].last_error = col_dup(st, 4);
		cnt++;
	}
	done(st);
	*out = v;
	*n = cnt;
	if (rc != SQLITE_DONE)
		return sqlite_db_err(s, e, ERR_IO, "outbox deliveries");
	return 0;
}

static void
free_deliveries(struct store_delivery *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)v[i].dest);
		free((char *)v[i].last_error);
	}
	free(v);
}

static int
select_reports(struct store_sqlite *s, const struct store_outbox_filter *f, int64_t only_id,
               bool with_body, store_outbox_fn fn, void *ctx, size_t *n_found, struct err *e)
{
	sqlite3_stmt *st = sqlite_stmt(s, SL_SELECT_REPORTS, sql_select_reports, e);
	int rc, stop = 0;

	*n_found = 0;
	if (st == NULL)
		return e ? e->code : ERR_IO;
	bind_text(st, 1, f ? f->domain : NULL);
	sqlite3_bind_int(st, 2, f ? f->report_state : -1);
	sqlite3_bind_int(st, 3, f ? f->delivery_state : -1);
	sqlite3_bind_int(st, 4, with_body ? 1 : 0);
	sqlite3_bind_int64(st, 5, only_id);
	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_outbox_report r = { 0 };
		struct store_delivery *dv;
		size_t nd;

		r.id = sqlite3_column_int64(st, 0);
		r.window_id = sqlite3_column_int64(st, 1);
		r.period = (enum window_period)sqlite3_column_int(st, 2);
		r.start = sqlite3_column_int64(st, 3);
		r.end = sqlite3_column_int64(st, 4);
		r.domain = (const char *)sqlite3_column_text(st, 5);
		r.record = (const char *)sqlite3_column_text(st, 6);
		r.part = (unsigned)sqlite3_column_int(st, 7);
		r.report_id = (const char *)sqlite3_column_text(st, 8);
		r.filename = (const char *)sqlite3_column_text(st, 9);
		r.json_size = (size_t)sqlite3_column_int64(st, 10);
		r.dropped = (uint64_t)sqlite3_column_int64(st, 11);
		r.state = (enum store_report_state)sqlite3_column_int(st, 12);
		r.error = (const char *)sqlite3_column_text(st, 13);
		r.created = sqlite3_column_int64(st, 14);
		if (with_body) {
			r.body = sqlite3_column_blob(st, 15);
			r.body_len = (size_t)sqlite3_column_bytes(st, 15);
		}
		rc = load_deliveries(s, r.id, &dv, &nd, e);
		if (rc) {
			free_deliveries(dv, nd);
			done(st);
			return rc;
		}
		r.deliveries = dv;
		r.n_deliveries = nd;
		(*n_found)++;
		stop = fn(ctx, &r);
		free_deliveries(dv, nd);
	}
	done(st);
	if (stop == 0 && rc != SQLITE_DONE)
		return sqlite_db_err(s, e, ERR_IO, "outbox list");
	return 0;
}

int
sqlite_outbox_list(struct store *base, const struct store_outbox_filter *f, store_outbox_fn fn,
                   void *ctx, struct err *e)
{
	size_t n;

	return select_reports((struct store_sqlite *)base, f, 0, false, fn, ctx, &n, e);
}

int
sqlite_outbox_get(struct store *base, int64_t id, store_outbox_fn fn, void *ctx, struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	size_t n;
	int rc;

	if (id <= 0)
		return err_set(e, ERR_NOTFOUND, "outbox: no report %lld", (long long)id);
	rc = select_reports(s, NULL, id, true, fn, ctx, &n, e);
	if (rc == 0 && n == 0)
		return err_set(e, ERR_NOTFOUND, "outbox: no report %lld", (long long)id);
	return rc;
}

int
sqlite_outbox_max_part(struct store *base, enum window_period period, int64_t start,
                       const char *domain, unsigned *max, struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = sqlite_stmt(s, SL_MAX_PART, sql_max_part, e);
	int rc;

	*max = 0;
	if (st == NULL)
		return e ? e->code : ERR_IO;
	bind_text(st, 1, domain);
	sqlite3_bind_int64(st, 2, start);
	sqlite3_bind_int(st, 3, (int)period);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*max = (unsigned)sqlite3_column_int(st, 0);
	done(st);
	if (rc != SQLITE_ROW)
		return sqlite_db_err(s, e, ERR_IO, "outbox max part");
	return 0;
}

int
sqlite_outbox_delivery_update(struct store *base, int64_t report_id, const char *dest,
                              enum store_delivery_state state, int64_t next_try,
                              const char *last_error, struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = sqlite_stmt(s, SL_UPDATE_DELIVERY, sql_update_delivery, e);
	int rc;

	if (st == NULL)
		return e ? e->code : ERR_IO;
	sqlite3_bind_int64(st, 1, report_id);
	bind_text(st, 2, dest);
	sqlite3_bind_int(st, 3, (int)state);
	sqlite3_bind_int64(st, 4, next_try);
	bind_text(st, 5, last_error);
	rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return sqlite_db_err(s, e, ERR_IO, "outbox delivery update");
	if (sqlite3_changes(s->db) == 0)
		return err_set(e, ERR_NOTFOUND, "outbox: report %lld has no destination %s",
		               (long long)report_id, dest);
	return 0;
}

static int
purge_one(struct store_sqlite *s, unsigned slot, const char *sql, int64_t before, uint64_t *n,
          struct err *e)
{
	sqlite3_stmt *st = sqlite_stmt(s, slot, sql, e);
	int rc;

	if (st == NULL)
		return e ? e->code : ERR_IO;
	sqlite3_bind_int64(st, 1, before);
	rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return sqlite_db_err(s, e, ERR_IO, "purge");
	if (n)
		*n = (uint64_t)sqlite3_changes(s->db);
	return 0;
}

int
sqlite_purge(struct store *base, int64_t before, uint64_t *n_reports, uint64_t *n_windows,
             struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	int rc;

	rc = purge_one(s, SL_PURGE_REPORTS, sql_purge_reports, before, n_reports, e);
	if (rc == 0)
		rc = purge_one(s, SL_PURGE_FAILURES, sql_purge_failures, before, NULL, e);
	if (rc == 0)
		rc = purge_one(s, SL_PURGE_SESSIONS, sql_purge_sessions, before, NULL, e);
	if (rc == 0)
		rc = purge_one(s, SL_PURGE_WINDOWS, sql_purge_windows, before, n_windows, e);
	return rc;
}

/* ------------------------------------------------------------------ delivery (issue 7) */

int
sqlite_outbox_due(struct store *base, int64_t now, size_t max, int64_t *ids, size_t *n,
                  struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = sqlite_stmt(s, SL_DUE, sql_due, e);
	int rc = SQLITE_DONE;

	*n = 0;
	if (st == NULL)
		return e ? e->code : ERR_IO;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ids[(*n)++] = sqlite3_column_int64(st, 0);
	done(st);
	if (*n < max && rc != SQLITE_DONE)
		return sqlite_db_err(s, e, rc == SQLITE_BUSY ? ERR_AGAIN : ERR_IO, "outbox due");
	return 0;
}

int
sqlite_outbox_claim(struct store *base, int64_t report_id, const char *dest, int64_t now,
                    int64_t lease_until, bool *claimed, struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = sqlite_stmt(s, SL_CLAIM, sql_claim, e);
	int rc;

	*claimed = false;
	if (st == NULL)
		return e ? e->code : ERR_IO;
	sqlite3_bind_int64(st, 1, report_id);
	bind_text(st, 2, dest);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, lease_until);
	rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return sqlite_db_err(s, e, rc == SQLITE_BUSY ? ERR_AGAIN : ERR_IO, "outbox claim");
	*claimed = sqlite3_changes(s->db) == 1;
	return 0;
}

int
sqlite_outbox_reset(struct store *base, int64_t report_id, enum store_delivery_state state,
                    int64_t next_try, const char *reason, size_t *n, struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *sx = sqlite_stmt(s, SL_EXISTS, sql_exists, e);
	sqlite3_stmt *st = sqlite_stmt(s, SL_RESET, sql_reset, e);
	int rc;

	if (n)
		*n = 0;
	if (sx == NULL || st == NULL)
		return e ? e->code : ERR_IO;
	sqlite3_bind_int64(sx, 1, report_id);
	rc = sqlite3_step(sx);
	done(sx);
	if (rc == SQLITE_DONE)
		return err_set(e, ERR_NOTFOUND, "outbox: no report %lld", (long long)report_id);
	if (rc != SQLITE_ROW)
		return sqlite_db_err(s, e, ERR_IO, "outbox reset");
	sqlite3_bind_int64(st, 1, report_id);
	sqlite3_bind_int(st, 2, (int)state);
	sqlite3_bind_int64(st, 3, next_try);
	bind_text(st, 4, reason);
	rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return sqlite_db_err(s, e, ERR_IO, "outbox reset");
	if (n)
		*n = (size_t)sqlite3_changes(s->db);
	return 0;
}

/* ------------------------------------------------------------------ delivery.daily-cap */

int
sqlite_outbox_sent_count(struct store *base, const char *dest, int64_t since, uint64_t *n,
                         struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = sqlite_stmt(s, SL_SENT_COUNT, sql_sent_count, e);
	int rc;

	*n = 0;
	if (st == NULL)
		return e ? e->code : ERR_IO;
	bind_text(st, 1, dest);
	sqlite3_bind_int64(st, 2, since);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(st, 0);
	done(st);
	if (rc != SQLITE_ROW)
		return sqlite_db_err(s, e, rc == SQLITE_BUSY ? ERR_AGAIN : ERR_IO,
		                     "outbox sent count");
	return 0;
}

int
sqlite_outbox_defer(struct store *base, int64_t report_id, const char *dest, int64_t next_try,
                    const char *reason, struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = sqlite_stmt(s, SL_DEFER, sql_defer, e);
	int rc;

	if (st == NULL)
		return e ? e->code : ERR_IO;
	sqlite3_bind_int64(st, 1, report_id);
	bind_text(st, 2, dest);
	sqlite3_bind_int64(st, 3, next_try);
	bind_text(st, 4, reason);
	rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return sqlite_db_err(s, e, rc == SQLITE_BUSY ? ERR_AGAIN : ERR_IO, "outbox defer");
	if (sqlite3_changes(s->db) == 0)
		return err_set(e, ERR_NOTFOUND, "outbox: report %lld has no unsent destination %s",
		               (long long)report_id, dest);
	return 0;
}
