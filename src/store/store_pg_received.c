/*
 * store_pg_received.c - received TLS reports in the PostgreSQL store (issue 8):
 * normalised storage, de-duplication on (submitter, report-id) with sightings per
 * channel, the walk the analysis CLI reads, the original bytes, retention purge.  Same
 * semantics as store_sqlite_received.c (contracts in store.h).
 *
 * RFC 8460 section 4 (the report fields stored).  Tables from migration 3 in store_pg.c;
 * statements in pg_exec() slots 32..63.  Several hosts may receive copies of the same
 * report at once: the report row is inserted with ON CONFLICT (submitter, report_id)
 * DO NOTHING, so exactly one insert wins and every other copy becomes a sighting of it
 * (the loser waits for the winner's commit, then reads its row FOR UPDATE).
 * Integers the report model keeps unsigned are stored as BIGINT bit patterns, as the
 * SQLite backend does.
 * Threading: as store.h (one connection per thread).
 */
#include <string.h>

#include "report/report.h"
#include "store/store_pg_int.h"
#include "util/buf.h"

enum {
	R_INS_REPORT = 32,
	R_SEL_DUP,
	R_INS_SIGHT,
	R_INS_POL,
	R_INS_FAIL,
	R_UPGRADE,
	R_WALK_REPORTS,
	R_WALK_POLICIES,
	R_WALK_FAILURES,
	R_RAW,
	R_PURGE,
	R_LAST_ = R_PURGE,
};

_Static_assert(R_LAST_ <= 63, "received reports own statement slots 32..63");

static const char sql_ins_report[] =
        "INSERT INTO received_reports(submitter, report_id, organization, contact_info, start,"
        " end_time, quirks, channel, dkim, dkim_detail, verified, received_at, raw_gz)"
        " VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint, $7::bigint, $8, $9, $10,"
        " $11::integer, $12::bigint, $13::bytea)"
        " ON CONFLICT (submitter, report_id) DO NOTHING RETURNING id";
static const char sql_sel_dup[] = "SELECT id, verified FROM received_reports"
                                  " WHERE submitter = $1 AND report_id = $2 FOR UPDATE";
static const char sql_ins_sight[] =
        "INSERT INTO received_sightings(report, channel, dkim, received_at)"
        " VALUES ($1::bigint, $2, $3, $4::bigint)";
static const char sql_ins_pol[] =
        "INSERT INTO received_policies(report, idx, policy_type, policy_domain,"
        " policy_strings, mx_hosts, success, failure) VALUES ($1::bigint, $2::integer, $3,"
        " $4, $5, $6, $7::bigint, $8::bigint) RETURNING id";
static const char sql_ins_fail[] =
        "INSERT INTO received_failures(policy, idx, result_type, sending_ip, receiving_mx,"
        " receiving_helo, receiving_ip, count, additional_info, reason_code)"
        " VALUES ($1::bigint, $2::integer, $3, $4, $5, $6, $7, $8::bigint, $9, $10)";
static const char sql_upgrade[] = "UPDATE received_reports SET verified = 1, dkim = $2,"
                                  " dkim_detail = $3 WHERE id = $1::bigint";
static const char sql_walk_reports[] =
        "SELECT r.id, r.submitter, r.report_id, r.organization, r.contact_info, r.start,"
        " r.end_time, r.quirks, r.channel, r.dkim, r.dkim_detail, r.verified, r.received_at,"
        " (SELECT count(*) FROM received_sightings WHERE report = r.id),"
        " (SELECT string_agg(c, ',' ORDER BY c) FROM (SELECT DISTINCT channel COLLATE \"C\""
        " AS c FROM received_sightings WHERE report = r.id) x)"
        " FROM received_reports r"
        " WHERE ($1::bigint = 0 OR r.id = $1::bigint)"
        " AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM received_policies p"
        " WHERE p.report = r.id AND p.policy_domain = $2))"
        " AND ($3::text IS NULL OR strpos(lower(coalesce(r.organization, '')), lower($3)) > 0"
        " OR strpos(r.submitter, lower($3)) > 0)"
        " AND ($4::bigint = 0 OR r.end_time >= $4::bigint)"
        " AND ($5::bigint = 0 OR r.start < $5::bigint)"
        " AND ($6::integer <> 0 OR r.verified <> 0) ORDER BY r.start, r.id";
static const char sql_walk_policies[] =
        "SELECT id, idx, policy_type, policy_domain, policy_strings, mx_hosts, success, failure"
        " FROM received_policies WHERE report = $1::bigint ORDER BY idx";
/* the failure rows of every policy of one report, in policy order */
static const char sql_walk_failures[] =
        "SELECT f.policy, f.result_type, f.sending_ip, f.receiving_mx, f.receiving_helo,"
        " f.receiving_ip, f.count, f.additional_info, f.reason_code FROM received_failures f"
        " JOIN received_policies p ON p.id = f.policy WHERE p.report = $1::bigint"
        " ORDER BY p.idx, f.idx";
static const char sql_raw[] = "SELECT raw_gz FROM received_reports WHERE id = $1::bigint";
static const char sql_purge[] = "DELETE FROM received_reports WHERE received_at < $1::bigint";

static int
code_of(const struct err *e)
{
	return e != NULL && e->code != 0 ? e->code : ERR_IO;
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
insert_failures(struct store_pg *s, int64_t pol_id, const struct report_policy *p, struct err *e)
{
	for (size_t i = 0; i < p->n_failures; i++) {
		const struct report_failure *f = &p->failures[i];
		const char *rt = report_result_type_name(f->result_type);
		char pid[24], idx[24], cnt[24];
		int rc;

		if (rt == NULL)
			rt = f->result_type_other ? f->result_type_other : "unknown";
		const char *v[10] = { pg_i64(pid, pol_id),
			              pg_i64(idx, (int64_t)i),
			              rt,
			              f->sending_mta_ip,
			              f->receiving_mx_hostname,
			              f->receiving_mx_helo,
			              f->receiving_ip,
			              pg_i64(cnt, (int64_t)f->failed_session_count),
			              f->additional_information,
			              f->failure_reason_code };
		rc = pg_exec_cmd(s, R_INS_FAIL, sql_ins_fail, 10, v, "insert failure detail", NULL,
		                 e);
		if (rc)
			return rc;
	}
	return 0;
}

static int
insert_policies(struct store_pg *s, int64_t rep_id, const struct report *r, struct err *e)
{
	struct buf strs, mx;
	int rc = 0;

	buf_init(&strs, 1 << 24);
	buf_init(&mx, 1 << 24);
	for (size_t i = 0; i < r->n_policies && rc == 0; i++) {
		const struct report_policy *p = r->policies[i];
		const char *pt = report_policy_type_name(p->type);
		char rid[24], idx[24], ok[24], fail[24];
		PGresult *res;

		if (pt == NULL)
			pt = p->type_other ? p->type_other : "unknown";
		if (join_strings(p->strings, p->n_strings, "\n", &strs) != 0 ||
		    join_strings(p->mx_hosts, p->n_mx_hosts, ",", &mx) != 0) {
			rc = err_set(e, ERR_TOOBIG, "policy strings too long");
			break;
		}
		const char *v[8] = { pg_i64(rid, rep_id),
			             pg_i64(idx, (int64_t)i),
			             pt,
			             p->domain,
			             p->n_strings ? buf_cstr(&strs) : NULL,
			             p->n_mx_hosts ? buf_cstr(&mx) : NULL,
			             pg_i64(ok, (int64_t)p->successful),
			             pg_i64(fail, (int64_t)p->failed) };
		res = pg_exec(s, R_INS_POL, sql_ins_pol, 8, v, NULL, NULL, "insert policy", e);
		if (res == NULL) {
			rc = code_of(e);
			break;
		}
		int64_t pol_id = pg_col_i64(res, 0, 0);
		PQclear(res);
		rc = insert_failures(s, pol_id, p, e);
	}
	buf_clear(&strs);
	buf_clear(&mx);
	return rc;
}

static int
add_sighting(struct store_pg *s, int64_t id, const struct store_received_in *in, struct err *e)
{
	char rid[24], at[24];
	const char *v[4] = { pg_i64(rid, id), in->channel, in->dkim, pg_i64(at, in->received_at) };

	return pg_exec_cmd(s, R_INS_SIGHT, sql_ins_sight, 4, v, "insert sighting", NULL, e);
}

/* Inside the transaction: the report, or (when it is stored already) a sighting. */
static int
add_locked(struct store_pg *s, const struct store_received_in *in, int64_t *id, bool *duplicate,
           struct err *e)
{
	const struct report *r = in->report;
	char start[24], end[24], quirks[24], at[24];
	const char *v[13] = { in->submitter,
		              in->report_id,
		              r->organization_name,
		              r->contact_info,
		              pg_i64(start, r->start),
		              pg_i64(end, r->end),
		              pg_i64(quirks, (int64_t)r->quirks),
		              in->channel,
		              in->dkim,
		              in->dkim_detail ? in->dkim_detail : "",
		              in->verified ? "1" : "0",
		              pg_i64(at, in->received_at),
		              in->raw_gz.p ? in->raw_gz.p : "" };
	int lens[13] = { 0 }, fmts[13] = { 0 };
	PGresult *res;
	int rc;

	lens[12] = (int)in->raw_gz.len;
	fmts[12] = 1;
	res = pg_exec(s, R_INS_REPORT, sql_ins_report, 13, v, lens, fmts, "insert report", e);
	if (res == NULL)
		return code_of(e);
	*duplicate = PQntuples(res) == 0;
	*id = *duplicate ? 0 : pg_col_i64(res, 0, 0);
	PQclear(res);
	if (!*duplicate) {
		rc = insert_policies(s, *id, r, e);
		return rc ? rc : add_sighting(s, *id, in, e);
	}
	res = pg_exec(s, R_SEL_DUP, sql_sel_dup, 2, v, NULL, NULL, "select report", e);
	if (res == NULL)
		return code_of(e);
	if (PQntuples(res) != 1) {
		PQclear(res);
		return err_set(e, ERR_AGAIN, "%s: received report %s from %s vanished; retry",
		               s->where, in->report_id, in->submitter);
	}
	*id = pg_col_i64(res, 0, 0);
	bool verified = pg_col_i64(res, 0, 1) != 0;
	PQclear(res);
	if (in->verified && !verified) {
		char rid[24];
		const char *u[3] = { pg_i64(rid, *id), in->dkim,
			             in->dkim_detail ? in->dkim_detail : "" };
		rc = pg_exec_cmd(s, R_UPGRADE, sql_upgrade, 3, u, "update verdict", NULL, e);
		if (rc)
			return rc;
	}
	return add_sighting(s, *id, in, e);
}

int
pg_received_add(struct store *base, const struct store_received_in *in, int64_t *id,
                bool *duplicate, struct err *e)
{
	struct store_pg *s = (struct store_pg *)base;
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

static void
clear_failure(struct store_received_row *row)
{
	row->result_type = row->sending_ip = row->receiving_mx = NULL;
	row->receiving_helo = row->receiving_ip = row->additional_info = NULL;
	row->reason_code = NULL;
	row->count = 0;
}

/* The policy rows of row->id, each followed by its failure rows. */
static int
walk_policies(struct store_pg *s, const struct store_received_filter *f,
              struct store_received_row *row, store_received_fn fn, void *ctx, bool *stop,
              struct err *e)
{
	char rid[24];
	const char *v[1] = { pg_i64(rid, row->id) };
	PGresult *ps, *fs;
	int np, nf, k = 0;

	ps = pg_exec(s, R_WALK_POLICIES, sql_walk_policies, 1, v, NULL, NULL, "list policies", e);
	if (ps == NULL)
		return code_of(e);
	fs = pg_exec(s, R_WALK_FAILURES, sql_walk_failures, 1, v, NULL, NULL,
	             "list failure details", e);
	if (fs == NULL) {
		PQclear(ps);
		return code_of(e);
	}
	np = PQntuples(ps);
	nf = PQntuples(fs);
	for (int i = 0; i < np && !*stop; i++) {
		int64_t pol = pg_col_i64(ps, i, 0);
		bool shown = f->domain == NULL || (pg_col_str(ps, i, 3) != NULL &&
		                                   strcmp(pg_col_str(ps, i, 3), f->domain) == 0);

		if (shown) {
			row->policy_index = (int)pg_col_i64(ps, i, 1);
			row->policy_type = pg_col_str(ps, i, 2);
			row->policy_domain = pg_col_str(ps, i, 3);
			row->policy_strings = pg_col_str(ps, i, 4);
			row->mx_hosts = pg_col_str(ps, i, 5);
			row->success = (uint64_t)pg_col_i64(ps, i, 6);
			row->failure = (uint64_t)pg_col_i64(ps, i, 7);
			clear_failure(row);
			if (fn(ctx, row) != 0) {
				*stop = true;
				break;
			}
		}
		/* failure rows come in policy order: skip to this policy's */
		for (; k < nf && pg_col_i64(fs, k, 0) == pol; k++) {
			if (!shown || *stop)
				continue;
			row->result_type = pg_col_str(fs, k, 1);
			row->sending_ip = pg_col_str(fs, k, 2);
			row->receiving_mx = pg_col_str(fs, k, 3);
			row->receiving_helo = pg_col_str(fs, k, 4);
			row->receiving_ip = pg_col_str(fs, k, 5);
			row->count = (uint64_t)pg_col_i64(fs, k, 6);
			row->additional_info = pg_col_str(fs, k, 7);
			row->reason_code = pg_col_str(fs, k, 8);
			if (fn(ctx, row) != 0)
				*stop = true;
		}
		clear_failure(row);
	}
	PQclear(fs);
	PQclear(ps);
	return 0;
}

int
pg_received_walk(struct store *base, const struct store_received_filter *f, store_received_fn fn,
                 void *ctx, struct err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char id[24], since[24], until[24];
	const char *v[6] = { pg_i64(id, f->id),
		             f->domain,
		             f->reporter,
		             pg_i64(since, f->since),
		             pg_i64(until, f->until),
		             f->include_unverified ? "1" : "0" };
	PGresult *res;
	bool stop = false;
	int rows, rc = 0;

	res = pg_exec(s, R_WALK_REPORTS, sql_walk_reports, 6, v, NULL, NULL,
	              "list received reports", e);
	if (res == NULL)
		return code_of(e);
	rows = PQntuples(res);
	for (int i = 0; i < rows && !stop && rc == 0; i++) {
		struct store_received_row row = {
			.id = pg_col_i64(res, i, 0),
			.submitter = pg_col_str(res, i, 1),
			.report_id = pg_col_str(res, i, 2),
			.organization = pg_col_str(res, i, 3),
			.contact_info = pg_col_str(res, i, 4),
			.start = pg_col_i64(res, i, 5),
			.end = pg_col_i64(res, i, 6),
			.quirks = (uint64_t)pg_col_i64(res, i, 7),
			.channel = pg_col_str(res, i, 8),
			.dkim = pg_col_str(res, i, 9),
			.dkim_detail = pg_col_str(res, i, 10),
			.verified = pg_col_i64(res, i, 11) != 0,
			.received_at = pg_col_i64(res, i, 12),
			.sightings = (unsigned)pg_col_i64(res, i, 13),
			.channels = pg_col_str(res, i, 14),
			.policy_index = -1,
		};

		if (fn(ctx, &row) != 0)
			break;
		if (!f->reports_only)
			rc = walk_policies(s, f, &row, fn, ctx, &stop, e);
	}
	PQclear(res);
	return rc;
}

int
pg_received_raw(struct store *base, int64_t id, struct buf *out, struct err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char a[24];
	const char *v[1] = { pg_i64(a, id) };
	PGresult *res;
	unsigned char *raw;
	size_t n = 0;
	int rc = 0;

	res = pg_exec(s, R_RAW, sql_raw, 1, v, NULL, NULL, "read report", e);
	if (res == NULL)
		return code_of(e);
	if (PQntuples(res) != 1) {
		PQclear(res);
		return err_set(e, ERR_NOTFOUND, "no received report with id %lld", (long long)id);
	}
	raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 0), &n);
	PQclear(res);
	if (raw == NULL)
		return err_set(e, ERR_NOMEM, "%s: out of memory reading report %lld", s->where,
		               (long long)id);
	if (n && buf_append(out, raw, n) != 0)
		rc = err_set(e, ERR_TOOBIG, "report %lld too large", (long long)id);
	PQfreemem(raw);
	return rc;
}

int
pg_received_purge(struct store *base, int64_t before, uint64_t *n, struct err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char a[24];
	const char *v[1] = { pg_i64(a, before) };

	return pg_exec_cmd(s, R_PURGE, sql_purge, 1, v, "purge received reports", n, e);
}
