/*
 * store_sqlite.c - the SQLite backend of the store.  See store.h for the data model.
 *
 * WAL journal, synchronous=NORMAL (a committed flush survives a process crash; a power
 * loss may lose the last commits), busy timeout 5 s, foreign keys on.  Every statement
 * is prepared once with bound parameters.  The schema is versioned in table
 * schema_version; migrations[] takes a database from version n-1 to n in one
 * transaction each.
 *
 * Threading: one struct store per thread (SQLite connection rules).
 */
#include "store/store.h"
#include "store/store_sqlite_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

enum {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_WIN_INSERT,
	ST_WIN_SELECT,
	ST_POL_INSERT,
	ST_POL_SELECT,
	ST_DET_INSERT,
	ST_DET_SELECT,
	ST_ADD_SESS,
	ST_ADD_FAIL,
	ST_MARK,
	ST_LIST_SESS,
	ST_LIST_FAIL,
	ST_LIST_DUE,
	ST_STATE,
	ST_COUNT_
};

_Static_assert(ST_COUNT_ <= 16, "struct store_sqlite has room for 16 statements");

static const char *const sql_text[ST_COUNT_] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_WIN_INSERT] = "INSERT INTO windows(period, start, domain, record, end_time) "
	                  "VALUES (?1, ?2, ?3, ?4, ?5) "
	                  "ON CONFLICT(period, start, domain, record) DO NOTHING",
	[ST_WIN_SELECT] = "SELECT id, state FROM windows "
	                  "WHERE period = ?1 AND start = ?2 AND domain = ?3 AND record = ?4",
	[ST_POL_INSERT] =
	        "INSERT INTO policies(key, policy_type, policy_domain) VALUES (?1, ?2, ?3) "
	        "ON CONFLICT(key) DO NOTHING",
	[ST_POL_SELECT] = "SELECT id FROM policies WHERE key = ?1",
	[ST_DET_INSERT] = "INSERT INTO failure_details(key, result_type) VALUES (?1, ?2) "
	                  "ON CONFLICT(key) DO NOTHING",
	[ST_DET_SELECT] = "SELECT id FROM failure_details WHERE key = ?1",
	[ST_ADD_SESS] =
	        "INSERT INTO session_counts(window_id, policy_id, success, failure) "
	        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(window_id, policy_id) DO UPDATE SET "
	        "success = success + excluded.success, failure = failure + excluded.failure",
	[ST_ADD_FAIL] = "INSERT INTO failure_counts(window_id, policy_id, detail_id, count) "
	                "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(window_id, policy_id, detail_id) "
	                "DO UPDATE SET count = count + excluded.count",
	[ST_MARK] = "UPDATE windows SET state = 1, reported_at = ?2 WHERE id = ?1",
	[ST_LIST_SESS] = "SELECT w.id, w.period, w.start, w.domain, w.record, w.state, "
	                 "p.id, p.policy_type, p.policy_domain, p.key, c.success, c.failure "
	                 "FROM session_counts c JOIN windows w ON w.id = c.window_id "
	                 "JOIN policies p ON p.id = c.policy_id "
	                 /* a range on the primary key, so one window is a seek, not a scan */
	                 "WHERE c.window_id BETWEEN (CASE WHEN ?1 = 0 THEN 0 ELSE ?1 END) "
	                 "AND (CASE WHEN ?1 = 0 THEN 9223372036854775807 ELSE ?1 END) "
	                 "ORDER BY w.domain, w.start, w.record, p.key",
	[ST_LIST_DUE] = "SELECT id, period, start, end_time, domain, record FROM windows "
	                "WHERE state = 0 AND end_time <= ?1 ORDER BY end_time, domain, record",
	[ST_STATE] = "SELECT state FROM windows WHERE id = ?1",
	[ST_LIST_FAIL] = "SELECT d.result_type, d.key, f.count FROM failure_counts f "
	                 "JOIN failure_details d ON d.id = f.detail_id "
	                 "WHERE f.window_id = ?1 AND f.policy_id = ?2 ORDER BY d.key",
};

/* migrations[i] takes the schema from version i to i + 1 */
static const char *const migrations[] = {
	"CREATE TABLE windows ("
	" id INTEGER PRIMARY KEY,"
	" period INTEGER NOT NULL,"
	" start INTEGER NOT NULL,"
	" domain TEXT NOT NULL,"
	" record TEXT NOT NULL,"
	" end_time INTEGER NOT NULL,"
	" state INTEGER NOT NULL DEFAULT 0,"
	" reported_at INTEGER,"
	" UNIQUE (period, start, domain, record));"
	"CREATE INDEX windows_due ON windows(state, end_time);"
	"CREATE TABLE policies ("
	" id INTEGER PRIMARY KEY,"
	" key TEXT NOT NULL UNIQUE,"
	" policy_type TEXT NOT NULL,"
	" policy_domain TEXT NOT NULL);"
	"CREATE TABLE failure_details ("
	" id INTEGER PRIMARY KEY,"
	" key TEXT NOT NULL UNIQUE,"
	" result_type TEXT NOT NULL);"
	"CREATE TABLE session_counts ("
	" window_id INTEGER NOT NULL REFERENCES windows(id),"
	" policy_id INTEGER NOT NULL REFERENCES policies(id),"
	" success INTEGER NOT NULL DEFAULT 0,"
	" failure INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (window_id, policy_id)) WITHOUT ROWID;"
	"CREATE TABLE failure_counts ("
	" window_id INTEGER NOT NULL REFERENCES windows(id),"
	" policy_id INTEGER NOT NULL REFERENCES policies(id),"
	" detail_id INTEGER NOT NULL REFERENCES failure_details(id),"
	" count INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (window_id, policy_id, detail_id)) WITHOUT ROWID;",
	/* outbox: generated reports and their deliveries (issue 6) */
	"CREATE TABLE outbox_reports ("
	" id INTEGER PRIMARY KEY,"
	" window_id INTEGER NOT NULL,"
	" period INTEGER NOT NULL,"
	" start INTEGER NOT NULL,"
	" end_time INTEGER NOT NULL,"
	" domain TEXT NOT NULL,"
	" record TEXT NOT NULL,"
	" part INTEGER NOT NULL,"
	" report_id TEXT NOT NULL UNIQUE,"
	" filename TEXT NOT NULL,"
	" body BLOB NOT NULL,"
	" json_size INTEGER NOT NULL,"
	" dropped INTEGER NOT NULL DEFAULT 0,"
	" state INTEGER NOT NULL DEFAULT 0,"
	" error TEXT,"
	" created INTEGER NOT NULL,"
	" UNIQUE (window_id, part));"
	"CREATE INDEX outbox_reports_domain ON outbox_reports(domain, start, period);"
	"CREATE INDEX outbox_reports_created ON outbox_reports(created);"
	"CREATE TABLE outbox_deliveries ("
	" report INTEGER NOT NULL REFERENCES outbox_reports(id) ON DELETE CASCADE,"
	" dest TEXT NOT NULL,"
	" state INTEGER NOT NULL DEFAULT 0,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_try INTEGER NOT NULL,"
	" last_error TEXT,"
	" UNIQUE (report, dest));"
	"CREATE INDEX outbox_deliveries_due ON outbox_deliveries(state, next_try);",
	/* received reports (issue 8) */
	"CREATE TABLE received_reports ("
	" id INTEGER PRIMARY KEY,"
	" submitter TEXT NOT NULL,"
	" report_id TEXT NOT NULL,"
	" organization TEXT,"
	" contact_info TEXT,"
	" start INTEGER NOT NULL,"
	" end_time INTEGER NOT NULL,"
	" quirks INTEGER NOT NULL,"
	" channel TEXT NOT NULL,"
	" dkim TEXT NOT NULL,"
	" dkim_detail TEXT NOT NULL,"
	" verified INTEGER NOT NULL,"
	" received_at INTEGER NOT NULL,"
	" raw_gz BLOB NOT NULL,"
	" UNIQUE (submitter, report_id));"
	"CREATE INDEX received_reports_start ON received_reports(start);"
	"CREATE INDEX received_reports_received ON received_reports(received_at);"
	"CREATE TABLE received_sightings ("
	" report INTEGER NOT NULL REFERENCES received_reports(id) ON DELETE CASCADE,"
	" channel TEXT NOT NULL,"
	" dkim TEXT NOT NULL,"
	" received_at INTEGER NOT NULL);"
	"CREATE INDEX received_sightings_report ON received_sightings(report);"
	"CREATE TABLE received_policies ("
	" id INTEGER PRIMARY KEY,"
	" report INTEGER NOT NULL REFERENCES received_reports(id) ON DELETE CASCADE,"
	" idx INTEGER NOT NULL,"
	" policy_type TEXT NOT NULL,"
	" policy_domain TEXT,"
	" policy_strings TEXT,"
	" mx_hosts TEXT,"
	" success INTEGER NOT NULL,"
	" failure INTEGER NOT NULL);"
	"CREATE INDEX received_policies_report ON received_policies(report);"
	"CREATE INDEX received_policies_domain ON received_policies(policy_domain);"
	"CREATE TABLE received_failures ("
	" policy INTEGER NOT NULL REFERENCES received_policies(id) ON DELETE CASCADE,"
	" idx INTEGER NOT NULL,"
	" result_type TEXT NOT NULL,"
	" sending_ip TEXT,"
	" receiving_mx TEXT,"
	" receiving_helo TEXT,"
	" receiving_ip TEXT,"
	" count INTEGER NOT NULL,"
	" additional_info TEXT,"
	" reason_code TEXT);"
	"CREATE INDEX received_failures_policy ON received_failures(policy);",
	/* delivery.daily-cap (issue 7): when a row was sent */
	"ALTER TABLE outbox_deliveries ADD COLUMN sent_at INTEGER;"
	"CREATE INDEX outbox_deliveries_sent ON outbox_deliveries(dest, sent_at);",
	/* dashboard aggregates (issue 9, store_sqlite_web.c): one narrow row per received
	 * policy with what the GROUP BYs read, clustered by report end time, kept by
	 * triggers; first = the report's first policy, first_dom = its first policy of
	 * that policy-domain (so that sums of them count distinct reports) */
	"CREATE TABLE received_facts ("
	" end_time INTEGER NOT NULL,"
	" policy INTEGER NOT NULL,"
	" report INTEGER NOT NULL REFERENCES received_reports(id) ON DELETE CASCADE,"
	" start INTEGER NOT NULL,"
	" submitter TEXT NOT NULL,"
	" organization TEXT,"
	" quirks INTEGER NOT NULL,"
	" verified INTEGER NOT NULL,"
	" received_at INTEGER NOT NULL,"
	" policy_domain TEXT,"
	" policy_type TEXT NOT NULL,"
	" mode TEXT,"
	" success INTEGER NOT NULL,"
	" failure INTEGER NOT NULL,"
	" first INTEGER NOT NULL,"
	" first_dom INTEGER NOT NULL,"
	" PRIMARY KEY (end_time, policy)) WITHOUT ROWID;"
	"CREATE INDEX received_facts_report ON received_facts(report);"
	"CREATE INDEX received_facts_domain ON received_facts(policy_domain, end_time);"
	"CREATE INDEX received_facts_submitter ON received_facts(submitter, quirks, verified,"
	" received_at, end_time, start, first, success, failure, organization);"
	"CREATE INDEX received_failures_policy_type ON received_failures(policy, result_type,"
	" count);"
	"CREATE TRIGGER received_facts_add AFTER INSERT ON received_policies BEGIN"
	" INSERT INTO received_facts SELECT r.end_time, NEW.id, NEW.report, r.start,"
	" r.submitter, r.organization, r.quirks, r.verified, r.received_at, NEW.policy_domain,"
	" NEW.policy_type, CASE WHEN NEW.policy_type <> 'sts' THEN NULL"
	" WHEN instr(lower(replace(NEW.policy_strings, ' ', '')), 'mode:testing') THEN 'testing'"
	" WHEN instr(lower(replace(NEW.policy_strings, ' ', '')), 'mode:enforce') THEN 'enforce'"
	" WHEN instr(lower(replace(NEW.policy_strings, ' ', '')), 'mode:none') THEN 'none'"
	" ELSE 'unknown' END, NEW.success, NEW.failure,"
	" NOT EXISTS (SELECT 1 FROM received_policies q WHERE q.report = NEW.report"
	" AND q.id < NEW.id),"
	" NOT EXISTS (SELECT 1 FROM received_policies q WHERE q.report = NEW.report"
	" AND q.id < NEW.id AND +q.policy_domain IS NEW.policy_domain)"
	" FROM received_reports r WHERE r.id = NEW.report; END;"
	"CREATE TRIGGER received_facts_verified AFTER UPDATE OF verified ON received_reports"
	" BEGIN UPDATE received_facts SET verified = NEW.verified WHERE report = NEW.id; END;"
	"INSERT INTO received_facts SELECT r.end_time, p.id, p.report, r.start, r.submitter,"
	" r.organization, r.quirks, r.verified, r.received_at, p.policy_domain, p.policy_type,"
	" CASE WHEN p.policy_type <> 'sts' THEN NULL"
	" WHEN instr(lower(replace(p.policy_strings, ' ', '')), 'mode:testing') THEN 'testing'"
	" WHEN instr(lower(replace(p.policy_strings, ' ', '')), 'mode:enforce') THEN 'enforce'"
	" WHEN instr(lower(replace(p.policy_strings, ' ', '')), 'mode:none') THEN 'none'"
	" ELSE 'unknown' END, p.success, p.failure,"
	" NOT EXISTS (SELECT 1 FROM received_policies q WHERE q.report = p.report"
	" AND q.id < p.id),"
	" NOT EXISTS (SELECT 1 FROM received_policies q WHERE q.report = p.report"
	" AND q.id < p.id AND +q.policy_domain IS p.policy_domain)"
	" FROM received_policies p JOIN received_reports r ON r.id = p.report;",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

int
sqlite_db_err(struct store_sqlite *s, struct err *e, int code, const char *what)
{
	return err_set(e, code, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

#define db_err sqlite_db_err

sqlite3_stmt *
sqlite_stmt(struct store_sqlite *s, unsigned slot, const char *sql, struct err *e)
{
	if (slot >= SQLITE_EXT_SLOTS) {
		err_set(e, ERR_BADSTATE, "%s: statement slot %u out of range", s->path, slot);
		return NULL;
	}
	if (s->ext_st[slot] == NULL && sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	                                                  &s->ext_st[slot], NULL) != SQLITE_OK) {
		db_err(s, e, ERR_IO, "prepare");
		return NULL;
	}
	return s->ext_st[slot];
}

/* Runs a prepared statement to completion (no rows expected); resets it. */
static int
run(struct store_sqlite *s, int which, struct err *e)
{
	sqlite3_stmt *st = s->st[which];
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_err(s, e, rc == SQLITE_BUSY ? ERR_AGAIN : ERR_IO, "write");
	return 0;
}

int
sqlite_exec(struct store_sqlite *s, const char *sql, struct err *e)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		err_set(e, ERR_IO, "%s: %s", s->path, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return ERR_IO;
	}
	return 0;
}

static int
migrate(struct store_sqlite *s, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int version = 0, rc;

	rc = sqlite_exec(s, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
	                 e);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(s->db, "SELECT max(version) FROM schema_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_err(s, e, ERR_IO, "schema_version");
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > SCHEMA_VERSION)
		return err_set(
		        e, ERR_BADSTATE,
		        "%s: schema version %d is newer than this program (%d); upgrade tlsrptd",
		        s->path, version, SCHEMA_VERSION);
	for (int v = version; v < SCHEMA_VERSION; v++) {
		rc = sqlite_exec(s, "BEGIN IMMEDIATE", e);
		if (rc)
			return rc;
		rc = sqlite_exec(s, migrations[v], e);
		if (rc == 0) {
			st = NULL;
			if (sqlite3_prepare_v2(s->db,
			                       "INSERT INTO schema_version(version) VALUES (?1)",
			                       -1, &st, NULL) != SQLITE_OK ||
			    sqlite3_bind_int(st, 1, v + 1) != SQLITE_OK ||
			    sqlite3_step(st) != SQLITE_DONE)
				rc = db_err(s, e, ERR_IO, "schema_version");
			sqlite3_finalize(st);
		}
		if (rc == 0)
			rc = sqlite_exec(s, "COMMIT", e);
		if (rc) {
			sqlite_exec(s, "ROLLBACK", NULL);
			return err_prefix(e, "migration to schema version %d", v + 1);
		}
	}
	return 0;
}

static void
sq_close(struct store *base)
{
	struct store_sqlite *s = (struct store_sqlite *)base;

	for (int i = 0; i < ST_COUNT_; i++)
		sqlite3_finalize(s->st[i]);
	for (int i = 0; i < SQLITE_EXT_SLOTS; i++)
		sqlite3_finalize(s->ext_st[i]);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

/*
 * Transactions nest (group commit: the upload endpoint wraps several received_add()
 * calls in one transaction): a begin() inside an open transaction only counts, its
 * commit() only uncounts, and its rollback() marks the whole transaction failed, so
 * that the outermost commit() rolls back and reports the failure.
 */
static int
sq_begin(struct store *base, struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	int rc;

	if (s->tx_depth > 0) {
		s->tx_depth++;
		return 0;
	}
	rc = run(s, ST_BEGIN, e);
	if (rc == 0) {
		s->tx_depth = 1;
		s->tx_failed = false;
	}
	return rc;
}

static int
sq_commit(struct store *base, struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;

	if (s->tx_depth > 1) {
		s->tx_depth--;
		return 0;
	}
	s->tx_depth = 0;
	if (s->tx_failed) {
		s->tx_failed = false;
		run(s, ST_ROLLBACK, NULL);
		return err_set(e, ERR_IO, "%s: transaction rolled back (a part of it failed)",
		               s->path);
	}
	return run(s, ST_COMMIT, e);
}

static void
sq_rollback(struct store *base)
{
	struct store_sqlite *s = (struct store_sqlite *)base;

	if (s->tx_depth > 1) {
		s->tx_depth--;
		s->tx_failed = true;
		return;
	}
	s->tx_depth = 0;
	s->tx_failed = false;
	if (!sqlite3_get_autocommit(s->db))
		run(s, ST_ROLLBACK, NULL);
}

static void
bind_span(sqlite3_stmt *st, int i, struct span v)
{
	sqlite3_bind_text(st, i, v.p ? v.p : "", (int)v.len, SQLITE_STATIC);
}

/* SELECT the window; when missing, INSERT it and SELECT again. */
static int
window_select(struct store_sqlite *s, const struct store_window_key *k, int64_t *id,
              enum store_window_state *state, bool *found, struct err *e)
{
	sqlite3_stmt *st = s->st[ST_WIN_SELECT];
	int rc;

	sqlite3_bind_int(st, 1, (int)k->period);
	sqlite3_bind_int64(st, 2, k->start);
	bind_span(st, 3, k->domain);
	bind_span(st, 4, k->record);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*state = sqlite3_column_int(st, 1) ? STORE_WINDOW_REPORTED : STORE_WINDOW_OPEN;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(s, e, ERR_IO, "window lookup");
	return 0;
}

static int
sq_window_open(struct store *base, const struct store_window_key *k, int64_t *id,
               enum store_window_state *state, struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = s->st[ST_WIN_INSERT];
	bool found;
	int rc;

	rc = window_select(s, k, id, state, &found, e);
	if (rc || found)
		return rc;
	sqlite3_bind_int(st, 1, (int)k->period);
	sqlite3_bind_int64(st, 2, k->start);
	bind_span(st, 3, k->domain);
	bind_span(st, 4, k->record);
	sqlite3_bind_int64(st, 5, k->start + window_length(k->period));
	rc = run(s, ST_WIN_INSERT, e);
	if (rc)
		return rc;
	rc = window_select(s, k, id, state, &found, e);
	if (rc == 0 && !found)
		return err_set(e, ERR_IO, "%s: window vanished after insert", s->path);
	return rc;
}

/* INSERT ... DO NOTHING, then SELECT id: the row is stored once, whoever came first. */
static int
intern_row(struct store_sqlite *s, int ins, int sel, struct span key, const char *a, struct span b,
           bool has_b, int64_t *id, struct err *e)
{
	sqlite3_stmt *st = s->st[ins];
	int rc;

	bind_span(st, 1, key);
	sqlite3_bind_text(st, 2, a, -1, SQLITE_STATIC);
	if (has_b)
		bind_span(st, 3, b);
	rc = run(s, ins, e);
	if (rc)
		return rc;
	st = s->st[sel];
	bind_span(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW)
		return db_err(s, e, ERR_IO, "id lookup");
	return 0;
}

static int
sq_policy_id(struct store *base, struct span key, const char *type, struct span pdomain,
             int64_t *id, struct err *e)
{
	return intern_row((struct store_sqlite *)base, ST_POL_INSERT, ST_POL_SELECT, key, type,
	                  pdomain, true, id, e);
}

static int
sq_detail_id(struct store *base, struct span key, const char *rtype, int64_t *id, struct err *e)
{
	return intern_row((struct store_sqlite *)base, ST_DET_INSERT, ST_DET_SELECT, key, rtype,
	                  span_make(NULL, 0), false, id, e);
}

static int
sq_add_sessions(struct store *base, int64_t wid, int64_t pid, uint64_t ok, uint64_t fail,
                struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = s->st[ST_ADD_SESS];

	sqlite3_bind_int64(st, 1, wid);
	sqlite3_bind_int64(st, 2, pid);
	sqlite3_bind_int64(st, 3, (int64_t)ok);
	sqlite3_bind_int64(st, 4, (int64_t)fail);
	return run(s, ST_ADD_SESS, e);
}

static int
sq_add_failures(struct store *base, int64_t wid, int64_t pid, int64_t did, uint64_t n,
                struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = s->st[ST_ADD_FAIL];

	sqlite3_bind_int64(st, 1, wid);
	sqlite3_bind_int64(st, 2, pid);
	sqlite3_bind_int64(st, 3, did);
	sqlite3_bind_int64(st, 4, (int64_t)n);
	return run(s, ST_ADD_FAIL, e);
}

static int
sq_mark_reported(struct store *base, int64_t wid, int64_t when, struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = s->st[ST_MARK];

	sqlite3_bind_int64(st, 1, wid);
	sqlite3_bind_int64(st, 2, when);
	return run(s, ST_MARK, e);
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

static int
sq_list_due(struct store *base, int64_t end_before, store_window_fn fn, void *ctx, struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = s->st[ST_LIST_DUE];
	int rc, stop = 0;

	sqlite3_bind_int64(st, 1, end_before);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_window w;
		w.id = sqlite3_column_int64(st, 0);
		w.period = (enum window_period)sqlite3_column_int(st, 1);
		w.start = sqlite3_column_int64(st, 2);
		w.end = sqlite3_column_int64(st, 3);
		w.domain = col_text(st, 4);
		w.record = col_text(st, 5);
		w.state = STORE_WINDOW_OPEN;
		stop = fn(ctx, &w);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (!stop && rc != SQLITE_DONE)
		return db_err(s, e, ERR_IO, "list windows");
	return 0;
}

static int
sq_list_counts(struct store *base, int64_t window_id, store_row_fn fn, void *ctx, struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = s->st[ST_LIST_SESS];
	sqlite3_stmt *fst = s->st[ST_LIST_FAIL];
	int rc, stop = 0;

	sqlite3_bind_int64(st, 1, window_id);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_count_row row;
		int64_t pid = sqlite3_column_int64(st, 6);

		memset(&row, 0, sizeof(row));
		row.window_id = sqlite3_column_int64(st, 0);
		row.period = (enum window_period)sqlite3_column_int(st, 1);
		row.start = sqlite3_column_int64(st, 2);
		row.domain = col_text(st, 3);
		row.record = col_text(st, 4);
		row.state = sqlite3_column_int(st, 5) ? STORE_WINDOW_REPORTED : STORE_WINDOW_OPEN;
		row.policy_type = col_text(st, 7);
		row.policy_domain = col_text(st, 8);
		row.policy_json = col_text(st, 9);
		row.success = (uint64_t)sqlite3_column_int64(st, 10);
		row.failure = (uint64_t)sqlite3_column_int64(st, 11);
		stop = fn(ctx, &row);
		sqlite3_bind_int64(fst, 1, row.window_id);
		sqlite3_bind_int64(fst, 2, pid);
		while (!stop && sqlite3_step(fst) == SQLITE_ROW) {
			row.result_type = col_text(fst, 0);
			row.detail_json = col_text(fst, 1);
			row.detail_count = (uint64_t)sqlite3_column_int64(fst, 2);
			stop = fn(ctx, &row);
		}
		sqlite3_reset(fst);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (!stop && rc != SQLITE_DONE)
		return db_err(s, e, ERR_IO, "list");
	return 0;
}

/* BEGIN IMMEDIATE already keeps every other writer out: the claim is the state. */
static int
sq_window_claim(struct store *base, int64_t window_id, bool *claimed, struct err *e)
{
	struct store_sqlite *s = (struct store_sqlite *)base;
	sqlite3_stmt *st = s->st[ST_STATE];
	int rc;

	sqlite3_bind_int64(st, 1, window_id);
	rc = sqlite3_step(st);
	*claimed = rc == SQLITE_ROW && sqlite3_column_int(st, 0) == STORE_WINDOW_OPEN;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(s, e, ERR_IO, "claim window");
	return 0;
}

static const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.window_open = sq_window_open,
	.policy_id = sq_policy_id,
	.detail_id = sq_detail_id,
	.add_sessions = sq_add_sessions,
	.add_failures = sq_add_failures,
	.mark_reported = sq_mark_reported,
	.list_counts = sq_list_counts,
	.list_due = sq_list_due,
	.window_claim = sq_window_claim,
	.close = sq_close,
	/* outbox (store_sqlite_outbox.c) */
	.outbox_insert = sqlite_outbox_insert,
	.outbox_list = sqlite_outbox_list,
	.outbox_get = sqlite_outbox_get,
	.outbox_max_part = sqlite_outbox_max_part,
	.outbox_delivery_update = sqlite_outbox_delivery_update,
	.outbox_due = sqlite_outbox_due,
	.outbox_claim = sqlite_outbox_claim,
	.outbox_reset = sqlite_outbox_reset,
	.outbox_sent_count = sqlite_outbox_sent_count,
	.outbox_defer = sqlite_outbox_defer,
	.purge = sqlite_purge,
	/* received reports (issue 8) */
	.received_add = sqlite_received_add,
	.received_walk = sqlite_received_walk,
	.received_raw = sqlite_received_raw,
	.received_purge = sqlite_received_purge,
	.received_group = sqlite_received_group, /* store_sqlite_web.c (issue 9) */
};

int
store_open_sqlite(const char *path, struct store **out, struct err *e)
{
	struct store_sqlite *s = xcalloc(1, sizeof(*s));
	int rc;

	s->base.ops = &sqlite_ops;
	s->path = xstrdup(path);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		rc = db_err(s, e, ERR_IO, "open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	rc = sqlite_exec(
	        s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", e);
	if (rc)
		goto fail;
	rc = migrate(s, e);
	if (rc)
		goto fail;
	for (int i = 0; i < ST_COUNT_; i++) {
		if (sqlite3_prepare_v3(s->db, sql_text[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
		                       NULL) != SQLITE_OK) {
			rc = db_err(s, e, ERR_IO, "prepare");
			goto fail;
		}
	}
	*out = &s->base;
	return 0;
fail:
	sq_close(&s->base);
	return rc;
}
