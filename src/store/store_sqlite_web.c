/*
 * store_sqlite_web.c - aggregates of received reports for the dashboard and API
 * (issue 9): store_ops.received_group in the SQLite store.
 *
 * One GROUP BY statement per (group, with or without a domain filter), built from the
 * parts below and prepared once in slots 96..127 of sqlite_stmt().  They read
 * received_facts (schema migration 4 in store_sqlite.c: one narrow row per received
 * policy, clustered by report end time, kept by triggers) instead of joining the wide
 * report rows.  Time bounds are always bound (open ends as the extreme values) so that
 * the planner can range-scan the clustered key.
 * Threading: as store.h (one connection per thread).
 */
#include "store/store_sqlite_int.h"

#include <string.h>

#include "util/buf.h"

enum { SLOT_GROUP_BASE = 96 };

_Static_assert(SLOT_GROUP_BASE + 2 * STORE_RGROUP_COUNT_ <= SQLITE_EXT_SLOTS,
               "the dashboard's groups own statement slots 96..127");

struct group_sql {
	const char *key, *key2, *day; /* column expressions */
	const char *reports;          /* distinct reports: without / with a domain filter */
	const char *reports_dom;
	const char *where; /* extra condition or "" */
	const char *group_by;
	const char *order_by;
	bool failures; /* joins received_failures */
};

#define FIRST "sum(x.first)"
#define FIRST_DOM "sum(x.first_dom)"
#define DISTINCT "count(DISTINCT x.report)"

/* A unary + keeps the planner from walking the whole policy_domain index for GROUP BY
 * order instead of range-scanning the time span.
 * Columns 0..10: key, key2, day, reports, success, failure, count, first, last,
 * last_received, last_failure; 11: quirks (the reporter group adds it to GROUP BY). */
static const struct group_sql groups[STORE_RGROUP_COUNT_] = {
	[STORE_RGROUP_DOMAIN] = { "+x.policy_domain", "NULL", "0", FIRST_DOM, FIRST_DOM, "", "1",
	                          "sum(x.success) + sum(x.failure) DESC, 1", false },
	[STORE_RGROUP_DAY] = { "NULL", "NULL",
	                       "(x.start - (x.start % 86400 + 86400) % 86400) / 86400", FIRST,
	                       FIRST_DOM, "", "3", "3", false },
	[STORE_RGROUP_REPORTER] = { "x.submitter", "max(x.organization)", "0", FIRST, FIRST_DOM, "",
	                            "x.submitter, x.quirks", "1", false },
	[STORE_RGROUP_POLICY_TYPE] = { "x.policy_type", "NULL", "0", DISTINCT, DISTINCT, "",
	                               "x.policy_type", "sum(x.success) + sum(x.failure) DESC, 1",
	                               false },
	[STORE_RGROUP_STS_MODE] = { "+x.policy_domain", "x.mode", "0", DISTINCT, DISTINCT,
	                            " AND x.policy_type = 'sts'", "1, 2", "1, 2", false },
	[STORE_RGROUP_FAIL_TYPE] = { "f.result_type", "NULL", "0", DISTINCT, DISTINCT, "",
	                             "f.result_type", "7 DESC, 1", true },
	[STORE_RGROUP_FAIL_MX] = { "f.receiving_mx", "NULL", "0", DISTINCT, DISTINCT, "",
	                           "f.receiving_mx", "7 DESC, 1", true },
	[STORE_RGROUP_FAIL_IP] = { "f.receiving_ip", "NULL", "0", DISTINCT, DISTINCT, "",
	                           "f.receiving_ip", "7 DESC, 1", true },
	[STORE_RGROUP_FAIL_REPORTER] = { "x.submitter", "max(x.organization)", "0", DISTINCT,
	                                 DISTINCT, "", "x.submitter", "7 DESC, 1", true },
	[STORE_RGROUP_FAIL_REASON] = { "f.result_type",
	                               "coalesce(f.additional_info, f.reason_code)", "0", DISTINCT,
	                               DISTINCT, "", "1, 2", "7 DESC, 1, 2", true },
};

static int
build_sql(const struct group_sql *g, bool domain, struct buf *sql)
{
	buf_printf(sql,
	           "SELECT %s, %s, %s, %s, %s, %s, %s, min(x.start), max(x.end_time),"
	           " max(x.received_at), max(CASE WHEN %s > 0 THEN x.end_time END), %s"
	           " FROM received_facts x",
	           g->key, g->key2, g->day, domain ? g->reports_dom : g->reports,
	           g->failures ? "0" : "sum(x.success)", g->failures ? "0" : "sum(x.failure)",
	           g->failures ? "sum(f.count)" : "0", g->failures ? "f.count" : "x.failure",
	           g == &groups[STORE_RGROUP_REPORTER] ? "x.quirks" : "0");
	if (g->failures)
		buf_append_str(sql, " JOIN received_failures f ON f.policy = x.policy");
	buf_printf(sql,
	           " WHERE x.end_time >= ?1 AND x.start < ?2 AND (?3 OR x.verified)%s%s"
	           " GROUP BY %s ORDER BY %s",
	           domain ? " AND x.policy_domain = ?4" : "", g->where, g->group_by, g->order_by);
	return buf_putc(sql, '\0');
}

static const char *
col_str(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static uint64_t
col_u64(sqlite3_stmt *st, int i)
{
	int64_t v = sqlite3_column_int64(st, i);

	return v > 0 ? (uint64_t)v : 0;
}

/*
 * The reporter group comes as one row per (submitter, quirks): rows of one submitter
 * are merged here before fn sees them.
 */
struct merge {
	struct store_received_group_row row;
	struct buf key, key2;
	bool have;
};

static void
merge_take(struct merge *m, const struct store_received_group_row *r)
{
	buf_reset(&m->key);
	buf_reset(&m->key2);
	buf_append_str(&m->key, r->key ? r->key : "");
	buf_putc(&m->key, '\0');
	if (r->key2) {
		buf_append_str(&m->key2, r->key2);
		buf_putc(&m->key2, '\0');
	}
	m->row = *r;
	m->row.key = r->key ? m->key.data : NULL;
	m->row.key2 = r->key2 ? m->key2.data : NULL;
	m->have = true;
}

static void
merge_add(struct merge *m, const struct store_received_group_row *r)
{
	struct store_received_group_row *a = &m->row;

	a->reports += r->reports;
	a->success += r->success;
	a->failure += r->failure;
	a->count += r->count;
	a->first = r->first < a->first ? r->first : a->first;
	a->last = r->last > a->last ? r->last : a->last;
	a->last_received =
	        r->last_received > a->last_received ? r->last_received : a->last_received;
	a->last_failure = r->last_failure > a->last_failure ? r->last_failure : a->last_failure;
	a->quirks |= r->quirks;
	if (a->key2 == NULL && r->key2 != NULL) {
		buf_reset(&m->key2);
		buf_append_str(&m->key2, r->key2);
		buf_putc(&m->key2, '\0');
		a->key2 = m->key2.data;
	}
}

int
sqlite_received_group(struct store *base, const struct store_received_group_query *q,
                      store_received_group_fn fn, void *ctx, struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	struct merge m = { 0 };
	struct buf sql;
	sqlite3_stmt *st;
	bool reporter = q->by == STORE_RGROUP_REPORTER, stop = false;
	int rc;

	if ((unsigned)q->by >= STORE_RGROUP_COUNT_)
		return err_set(e, ERR_INVALID, "unknown received report group %d", (int)q->by);
	buf_init(&sql, 4096);
	build_sql(&groups[q->by], q->domain != NULL, &sql);
	st = sqlite_stmt(s, SLOT_GROUP_BASE + 2 * (unsigned)q->by + (q->domain != NULL), sql.data,
	                 e);
	buf_clear(&sql);
	if (st == NULL)
		return ERR_IO;
	sqlite3_bind_int64(st, 1, q->since ? q->since : INT64_MIN);
	sqlite3_bind_int64(st, 2, q->until ? q->until : INT64_MAX);
	sqlite3_bind_int(st, 3, q->include_unverified ? 1 : 0);
	if (q->domain)
		sqlite3_bind_text(st, 4, q->domain, -1, SQLITE_STATIC);
	buf_init(&m.key, 1 << 16);
	buf_init(&m.key2, 1 << 16);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_received_group_row row = {
			.key = col_str(st, 0),
			.key2 = col_str(st, 1),
			.day = sqlite3_column_int64(st, 2),
			.reports = col_u64(st, 3),
			.success = col_u64(st, 4),
			.failure = col_u64(st, 5),
			.count = col_u64(st, 6),
			.first = sqlite3_column_int64(st, 7),
			.last = sqlite3_column_int64(st, 8),
			.last_received = sqlite3_column_int64(st, 9),
			.last_failure = sqlite3_column_int64(st, 10),
			.quirks = (uint64_t)sqlite3_column_int64(st, 11),
		};

		if (!reporter) {
			if (fn(ctx, &row) != 0) {
				stop = true;
				break;
			}
			continue;
		}
		if (m.have && row.key && m.row.key && strcmp(row.key, m.row.key) == 0) {
			merge_add(&m, &row);
			continue;
		}
		if (m.have && fn(ctx, &m.row) != 0) {
			stop = true;
			m.have = false;
			break;
		}
		merge_take(&m, &row);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (!stop && rc != SQLITE_DONE) {
		buf_clear(&m.key);
		buf_clear(&m.key2);
		return sqlite_db_err(s, e, rc == SQLITE_BUSY ? ERR_AGAIN : ERR_IO,
		                     "group received reports");
	}
	if (m.have && !stop)
		fn(ctx, &m.row);
	buf_clear(&m.key);
	buf_clear(&m.key2);
	return 0;
}
