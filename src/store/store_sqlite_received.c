/*
 * store_sqlite_received.c - received TLS reports in the SQLite store (issue 8):
 * normalised storage, de-duplication on (submitter, report-id) with sightings per
 * channel, the walk the analysis CLI reads, the original bytes, retention purge.
 *
 * RFC 8460 section 4 (the report fields stored).  Statements live in slots 32..63 of
 * store_sqlite_int.h's sqlite_stmt().
 * Threading: as store.h (one connection per thread).
 */
#include "store/store_sqlite_int.h"

#include <string.h>

#include "report/report.h"
#include "util/buf.h"

enum {
	SLOT_SEL_DUP = 32,
	SLOT_INS_REPORT,
	SLOT_INS_SIGHT,
	SLOT_INS_POL,
	SLOT_INS_FAIL,
	SLOT_UPGRADE,
	SLOT_WALK_REPORTS,
	SLOT_WALK_POLICIES,
	SLOT_WALK_FAILURES,
	SLOT_RAW,
	SLOT_PURGE,
	SLOT_LAST_ = SLOT_PURGE,
};

_Static_assert(SLOT_LAST_ <= 63, "received reports own statement slots 32..63");

static const char sql_sel_dup[] =
        "SELECT id, verified FROM received_reports WHERE submitter = ?1 AND report_id = ?2";
static const char sql_ins_report[] =
        "INSERT INTO received_reports(submitter, report_id, organization, contact_info, start,"
        " end_time, quirks, channel, dkim, dkim_detail, verified, received_at, raw_gz)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
static const char sql_ins_sight[] =
        "INSERT INTO received_sightings(report, channel, dkim, received_at)"
        " VALUES (?1, ?2, ?3, ?4)";
static const char sql_ins_pol[] =
        "INSERT INTO received_policies(report, idx, policy_type, policy_domain,"
        " policy_strings, mx_hosts, success, failure) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char sql_ins_fail[] =
        "INSERT INTO received_failures(policy, idx, result_type, sending_ip, receiving_mx,"
        " receiving_helo, receiving_ip, count, additional_info, reason_code)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
static const char sql_upgrade[] =
        "UPDATE received_reports SET verified = 1, dkim = ?2, dkim_detail = ?3 WHERE id = ?1";
static const char sql_walk_reports[] =
        "SELECT r.id, r.submitter, r.report_id, r.organization, r.contact_info, r.start,"
        " r.end_time, r.quirks, r.channel, r.dkim, r.dkim_detail, r.verified, r.received_at,"
        " (SELECT count(*) FROM received_sightings WHERE report = r.id),"
        " (SELECT group_concat(channel, ',') FROM (SELECT DISTINCT channel FROM"
        " received_sightings WHERE report = r.id ORDER BY channel))"
        " FROM received_reports r"
        " WHERE (?1 = 0 OR r.id = ?1)"
        " AND (?2 IS NULL OR EXISTS (SELECT 1 FROM received_policies p"
        " WHERE p.report = r.id AND p.policy_domain = ?2))"
        " AND (?3 IS NULL OR instr(lower(coalesce(r.organization, '')), lower(?3)) > 0"
        " OR instr(r.submitter, lower(?3)) > 0)"
        " AND (?4 = 0 OR r.end_time >= ?4) AND (?5 = 0 OR r.start < ?5)"
        " AND (?6 OR r.verified) ORDER BY r.start, r.id";
static const char sql_walk_policies[] =
        "SELECT id, idx, policy_type, policy_domain, policy_strings, mx_hosts, success, failure"
        " FROM received_policies WHERE report = ?1 ORDER BY idx";
static const char sql_walk_failures[] =
        "SELECT result_type, sending_ip, receiving_mx, receiving_helo, receiving_ip, count,"
        " additional_info, reason_code FROM received_failures WHERE policy = ?1 ORDER BY idx";
static const char sql_raw[] = "SELECT raw_gz FROM received_reports WHERE id = ?1";
static const char sql_purge[] = "DELETE FROM received_reports WHERE received_at < ?1";

static void
bind_str(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void
done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Steps a statement that returns no rows; resets it. */
static int
step_done(struct store_sqlite *s, sqlite3_stmt *st, const char *what, struct err *e)
{
	int rc = sqlite3_step(st);

	done(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sqlite_db_err(s, e, rc == SQLITE_BUSY ? ERR_AGAIN : ERR_IO, what);
	return 0;
}

static const char *
col_str(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static int
join_strings(char **v, size_t n, const char *sep, struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < n; i++)
		if ((i && buf_append(out, sep, strlen(sep)) != 0) ||
		    buf_append(out, v[i], strlen(v[i])) != 0)
			return ERR_TOOBIG;
	return 0;
}

static int
insert_failures(struct store_sqlite *s, int64_t pol_id, const struct report_policy *p,
                struct err *e)
{
	sqlite3_stmt *st = sqlite_stmt(s, SLOT_INS_FAIL, sql_ins_fail, e);
	int rc;

	if (st == NULL)
		return ERR_IO;
	for (size_t i = 0; i < p->n_failures; i++) {
		const struct report_failure *f = &p->failures[i];
		const char *rt = report_result_type_name(f->result_type);

		if (rt == NULL)
			rt = f->result_type_other ? f->result_type_other : "unknown";
		sqlite3_bind_int64(st, 1, pol_id);
		sqlite3_bind_int64(st, 2, (int64_t)i);
		bind_str(st, 3, rt);
		bind_str(st, 4, f->sending_mta_ip);
		bind_str(st, 5, f->receiving_mx_hostname);
		bind_str(st, 6, f->receiving_mx_helo);
		bind_str(st, 7, f->receiving_ip);
		sqlite3_bind_int64(st, 8, (int64_t)f->failed_session_count);
		bind_str(st, 9, f->additional_information);
		bind_str(st, 10, f->failure_reason_code);
		rc = step_done(s, st, "insert failure detail", e);
		if (rc)
			return rc;
	}
	return 0;
}

static int
insert_policies(struct store_sqlite *s, int64_t rep_id, const struct report *r, struct err *e)
{
	sqlite3_stmt *st = sqlite_stmt(s, SLOT_INS_POL, sql_ins_pol, e);
	struct buf strs, mx;
	int rc = 0;

	if (st == NULL)
		return ERR_IO;
	buf_init(&strs, 1 << 24);
	buf_init(&mx, 1 << 24);
	for (size_t i = 0; i < r->n_policies && rc == 0; i++) {
		const struct report_policy *p = r->policies[i];
		const char *pt = report_policy_type_name(p->type);

		if (pt == NULL)
			pt = p->type_other ? p->type_other : "unknown";
		if (join_strings(p->strings, p->n_strings, "\n", &strs) != 0 ||
		    join_strings(p->mx_hosts, p->n_mx_hosts, ",", &mx) != 0) {
			rc = err_set(e, ERR_TOOBIG, "policy strings too long");
			break;
		}
		sqlite3_bind_int64(st, 1, rep_id);
		sqlite3_bind_int64(st, 2, (int64_t)i);
		bind_str(st, 3, pt);
		bind_str(st, 4, p->domain);
		bind_str(st, 5, p->n_strings ? buf_cstr(&strs) : NULL);
		bind_str(st, 6, p->n_mx_hosts ? buf_cstr(&mx) : NULL);
		sqlite3_bind_int64(st, 7, (int64_t)p->successful);
		sqlite3_bind_int64(st, 8, (int64_t)p->failed);
		rc = step_done(s, st, "insert policy", e);
		if (rc == 0)
			rc = insert_failures(s, sqlite3_last_insert_rowid(s->db), p, e);
	}
	buf_clear(&strs);
	buf_clear(&mx);
	return rc;
}

static int
add_sighting(struct store_sqlite *s, int64_t id, const struct store_received_in *in, struct err *e)
{
	sqlite3_stmt *st = sqlite_stmt(s, SLOT_INS_SIGHT, sql_ins_sight, e);

	if (st == NULL)
		return ERR_IO;
	sqlite3_bind_int64(st, 1, id);
	bind_str(st, 2, in->channel);
	bind_str(st, 3, in->dkim);
	sqlite3_bind_int64(st, 4, in->received_at);
	return step_done(s, st, "insert sighting", e);
}

/* Inside the transaction: the duplicate check, then the report or a sighting. */
static int
add_locked(struct store_sqlite *s, const struct store_received_in *in, int64_t *id, bool *duplicate,
           struct err *e)
{
	const struct report *r = in->report;
	sqlite3_stmt *st = sqlite_stmt(s, SLOT_SEL_DUP, sql_sel_dup, e);
	int rc;

	if (st == NULL)
		return ERR_IO;
	bind_str(st, 1, in->submitter);
	bind_str(st, 2, in->report_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		bool verified = sqlite3_column_int(st, 1) != 0;

		*id = sqlite3_column_int64(st, 0);
		done(st);
		*duplicate = true;
		if (in->verified && !verified) {
			sqlite3_stmt *up = sqlite_stmt(s, SLOT_UPGRADE, sql_upgrade, e);

			if (up == NULL)
				return ERR_IO;
			sqlite3_bind_int64(up, 1, *id);
			bind_str(up, 2, in->dkim);
			bind_str(up, 3, in->dkim_detail ? in->dkim_detail : "");
			rc = step_done(s, up, "update verdict", e);
			if (rc)
				return rc;
		}
		return add_sighting(s, *id, in, e);
	}
	done(st);
	if (rc != SQLITE_DONE)
		return sqlite_db_err(s, e, rc == SQLITE_BUSY ? ERR_AGAIN : ERR_IO, "select report");
	*duplicate = false;
	st = sqlite_stmt(s, SLOT_INS_REPORT, sql_ins_report, e);
	if (st == NULL)
		return ERR_IO;
	bind_str(st, 1, in->submitter);
	bind_str(st, 2, in->report_id);
	bind_str(st, 3, r->organization_name);
	bind_str(st, 4, r->contact_info);
	sqlite3_bind_int64(st, 5, r->start);
	sqlite3_bind_int64(st, 6, r->end);
	sqlite3_bind_int64(st, 7, (int64_t)r->quirks);
	bind_str(st, 8, in->channel);
	bind_str(st, 9, in->dkim);
	bind_str(st, 10, in->dkim_detail ? in->dkim_detail : "");
	sqlite3_bind_int(st, 11, in->verified ? 1 : 0);
	sqlite3_bind_int64(st, 12, in->received_at);
	sqlite3_bind_blob(st, 13, in->raw_gz.p ? in->raw_gz.p : "", (int)in->raw_gz.len,
	                  SQLITE_STATIC);
	rc = step_done(s, st, "insert report", e);
	if (rc)
		return rc;
	*id = sqlite3_last_insert_rowid(s->db);
	rc = insert_policies(s, *id, r, e);
	if (rc)
		return rc;
	return add_sighting(s, *id, in, e);
}

int
sqlite_received_add(struct store *base, const struct store_received_in *in, int64_t *id,
                    bool *duplicate, struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	int rc;

	if (in->raw_gz.len > (size_t)INT32_MAX)
		return err_set(e, ERR_TOOBIG, "report too large to store");
	rc = base->ops->begin(base, e);
	if (rc)
		return rc;
	rc = add_locked(s, in, id, duplicate, e);
	if (rc == 0)
		rc = base->ops->commit(base, e);
	if (rc)
		base->ops->rollback(base);
	return rc;
}

static int
walk_policies(struct store_sqlite *s, const struct store_received_filter *f,
              struct store_received_row *row, store_received_fn fn, void *ctx, bool *stop,
              struct err *e)
{
	sqlite3_stmt *ps = sqlite_stmt(s, SLOT_WALK_POLICIES, sql_walk_policies, e);
	sqlite3_stmt *fs = sqlite_stmt(s, SLOT_WALK_FAILURES, sql_walk_failures, e);
	int rc = SQLITE_DONE;

	if (ps == NULL || fs == NULL)
		return ERR_IO;
	sqlite3_bind_int64(ps, 1, row->id);
	while (!*stop && (rc = sqlite3_step(ps)) == SQLITE_ROW) {
		if (f->domain && (col_str(ps, 3) == NULL || strcmp(col_str(ps, 3), f->domain) != 0))
			continue;
		row->policy_index = sqlite3_column_int(ps, 1);
		row->policy_type = col_str(ps, 2);
		row->policy_domain = col_str(ps, 3);
		row->policy_strings = col_str(ps, 4);
		row->mx_hosts = col_str(ps, 5);
		row->success = (uint64_t)sqlite3_column_int64(ps, 6);
		row->failure = (uint64_t)sqlite3_column_int64(ps, 7);
		row->result_type = NULL;
		if (fn(ctx, row) != 0) {
			*stop = true;
			break;
		}
		sqlite3_bind_int64(fs, 1, sqlite3_column_int64(ps, 0));
		while ((rc = sqlite3_step(fs)) == SQLITE_ROW) {
			row->result_type = col_str(fs, 0);
			row->sending_ip = col_str(fs, 1);
			row->receiving_mx = col_str(fs, 2);
			row->receiving_helo = col_str(fs, 3);
			row->receiving_ip = col_str(fs, 4);
			row->count = (uint64_t)sqlite3_column_int64(fs, 5);
			row->additional_info = col_str(fs, 6);
			row->reason_code = col_str(fs, 7);
			if (fn(ctx, row) != 0) {
				*stop = true;
				break;
			}
		}
		done(fs);
		row->result_type = row->sending_ip = row->receiving_mx = NULL;
		row->receiving_helo = row->receiving_ip = row->additional_info = NULL;
		row->reason_code = NULL;
		row->count = 0;
		if (!*stop && rc != SQLITE_DONE) {
			done(ps);
			return sqlite_db_err(s, e, ERR_IO, "list failure details");
		}
	}
	done(ps);
	if (!*stop && rc != SQLITE_DONE)
		return sqlite_db_err(s, e, ERR_IO, "list policies");
	return 0;
}

int
sqlite_received_walk(struct store *base, const struct store_received_filter *f,
                     store_received_fn fn, void *ctx, struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = sqlite_stmt(s, SLOT_WALK_REPORTS, sql_walk_reports, e);
	bool stop = false;
	int rc = SQLITE_DONE;

	if (st == NULL)
		return ERR_IO;
	sqlite3_bind_int64(st, 1, f->id);
	bind_str(st, 2, f->domain);
	bind_str(st, 3, f->reporter);
	sqlite3_bind_int64(st, 4, f->since);
	sqlite3_bind_int64(st, 5, f->until);
	sqlite3_bind_int(st, 6, f->include_unverified ? 1 : 0);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_received_row row = {
			.id = sqlite3_column_int64(st, 0),
			.submitter = col_str(st, 1),
			.report_id = col_str(st, 2),
			.organization = col_str(st, 3),
			.contact_info = col_str(st, 4),
			.start = sqlite3_column_int64(st, 5),
			.end = sqlite3_column_int64(st, 6),
			.quirks = (uint64_t)sqlite3_column_int64(st, 7),
			.channel = col_str(st, 8),
			.dkim = col_str(st, 9),
			.dkim_detail = col_str(st, 10),
			.verified = sqlite3_column_int(st, 11) != 0,
			.received_at = sqlite3_column_int64(st, 12),
			.sightings = (unsigned)sqlite3_column_int(st, 13),
			.channels = col_str(st, 14),
			.policy_index = -1,
		};

		if (fn(ctx, &row) != 0)
			break;
		if (f->reports_only)
			continue;
		int prc = walk_policies(s, f, &row, fn, ctx, &stop, e);

		if (prc) {
			done(st);
			return prc;
		}
	}
	done(st);
	if (!stop && rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sqlite_db_err(s, e, ERR_IO, "list received reports");

	return 0;
}

int
sqlite_received_raw(struct store *base, int64_t id, struct buf *out, struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = sqlite_stmt(s, SLOT_RAW, sql_raw, e);
	int rc;

	if (st == NULL)
		return ERR_IO;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const void *p = sqlite3_column_blob(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);

		rc = (n && buf_append(out, p, n) != 0) ? err_set(e, ERR_TOOBIG,
		                                                 "report %lld too "
		                                                 "large",
		                                                 (long long)id)
		                                       : 0;
		done(st);
		return rc;
	}
	done(st);
	if (rc == SQLITE_DONE)
		return err_set(e, ERR_NOTFOUND, "no received report with id %lld", (long long)id);
	return sqlite_db_err(s, e, ERR_IO, "read report");
}

int
sqlite_received_purge(struct store *base, int64_t before, uint64_t *n, struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = sqlite_stmt(s, SLOT_PURGE, sql_purge, e);
	int rc;

	if (st == NULL)
		return ERR_IO;
	sqlite3_bind_int64(st, 1, before);
	rc = step_done(s, st, "purge received reports", e);
	if (rc == 0 && n)
		*n = (uint64_t)sqlite3_changes(s->db);
	return rc;
}
