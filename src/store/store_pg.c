/*
 * store_pg.c - the PostgreSQL backend of the store (libpq).  See store.h for the data model.
 *
 * Same tables as the SQLite backend with PostgreSQL types (BIGSERIAL ids, BIGINT times
 * and counters, TEXT keys) and the same unique constraints.  Every statement after the
 * schema migration is prepared once per connection (PQprepare) and run with bound text
 * parameters; nothing is ever formatted into SQL.  Counter flushes are
 * INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n, so any number of collectors
 * (processes or hosts) can add deltas to the same rows concurrently: PostgreSQL's row
 * locks serialize the updates and every delta is added exactly once.
 *
 * Schema versioning: table schema_version, migrations[i] takes the schema from version i
 * to i + 1; all pending migrations run in one transaction under a transaction-level
 * advisory lock, so collectors starting together migrate once.
 *
 * Connection: store.url is a libpq URL (postgresql://[USER[:PASSWORD]@][HOST][:PORT]/DB
 * [?host=/socket/dir&...]); a password given separately (store.password) overrides the
 * URL's.  Messages name the URL with any password replaced by "***"; the password itself
 * is never logged.  When the connection is lost, the failing call returns ERR_AGAIN and
 * the next begin() resets the connection and prepares the statements again; the
 * collector keeps its deltas in memory and retries every second (collector.h).
 * Deadlocks and serialization failures also return ERR_AGAIN (the transaction is
 * discarded; retry it).
 *
 * Ordering: list_counts and list_due sort text with COLLATE "C" (bytewise), the order
 * SQLite gives, whatever the database's locale.
 *
 * Report generation on many hosts: window_claim takes a transaction-level advisory lock
 * on the window id (pg_try_: a second generator skips the window instead of waiting)
 * and locks the window row FOR UPDATE, so exactly one transaction generates a window;
 * a later one sees it reported.  The outbox, delivery and received-report ops live in
 * store_pg_outbox.c and store_pg_received.c (store_pg_int.h).
 *
 * Threading: one struct store per thread (one libpq connection).
 */
#include "store/store_pg_int.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/str.h"
#include "util/xalloc.h"

enum {
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_ADD_SESS,
	Q_ADD_FAIL,
	Q_MARK,
	Q_LIST_COUNTS,
	Q_LIST_WINDOW,
	Q_LIST_DUE,
	Q_CLAIM,
	Q_COUNT_
};

static const struct {
	const char *sql;
	int nparams;
} queries[Q_COUNT_] = {
	[Q_BEGIN] = { "BEGIN", 0 },
	[Q_COMMIT] = { "COMMIT", 0 },
	[Q_ROLLBACK] = { "ROLLBACK", 0 },
	/* a batch of deltas, sorted and without duplicate keys (see apply_pending) */
	[Q_ADD_SESS] = { "INSERT INTO session_counts AS c(window_id, policy_id, success, failure) "
	                 "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], "
	                 "$4::bigint[]) ON CONFLICT (window_id, policy_id) DO UPDATE SET "
	                 "success = c.success + excluded.success, "
	                 "failure = c.failure + excluded.failure",
	                 4 },
	[Q_ADD_FAIL] = { "INSERT INTO failure_counts AS f(window_id, policy_id, detail_id, count) "
	                 "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], "
	                 "$4::bigint[]) ON CONFLICT (window_id, policy_id, detail_id) DO UPDATE "
	                 "SET "
	                 "count = f.count + excluded.count",
	                 4 },
	[Q_MARK] = { "UPDATE windows SET state = 1, reported_at = $2::bigint WHERE id = $1::bigint",
	             2 },
/* one row per session row with no detail columns, then its failure rows */
#define LIST_COUNTS(where)                                                                         \
	"SELECT w.id, w.period, w.start, w.domain, w.record, w.state, "                            \
	"p.id, p.policy_type, p.policy_domain, p.key, c.success, c.failure, "                      \
	"d.result_type, d.key, f.count "                                                           \
	"FROM session_counts c JOIN windows w ON w.id = c.window_id "                              \
	"JOIN policies p ON p.id = c.policy_id "                                                   \
	"LEFT JOIN failure_counts f ON f.window_id = c.window_id "                                 \
	"AND f.policy_id = c.policy_id "                                                           \
	"LEFT JOIN failure_details d ON d.id = f.detail_id " where                                 \
	" ORDER BY w.domain COLLATE \"C\", w.start, w.record COLLATE \"C\", "                      \
	"p.key COLLATE \"C\", d.key COLLATE \"C\" NULLS FIRST"
	/* every window; $1 is unused (0) */
	[Q_LIST_COUNTS] = { LIST_COUNTS("WHERE $1::bigint = 0"), 1 },
	/* one window: a statement of its own, so that the plan is an index lookup */
	[Q_LIST_WINDOW] = { LIST_COUNTS("WHERE c.window_id = $1::bigint"), 1 },
	[Q_LIST_DUE] = { "SELECT id, period, start, end_time, domain, record FROM windows "
	                 "WHERE state = 0 AND end_time <= $1::bigint "
	                 "ORDER BY end_time, domain COLLATE \"C\", record COLLATE \"C\"",
	                 1 },
	/* the advisory lock keeps other generators out until commit (they skip the window);
	 * FOR UPDATE waits for collectors checking the window (see apply_pending) and reads
	 * the state they and earlier generators committed */
	/* The generation transaction commits without waiting for the WAL flush (one fsync
	 * per window would bound generation to the disk's fsync rate): a crash may lose the
	 * last generated windows whole, which stay open and are generated again; nothing of
	 * them can have been sent, because a delivery claim commits synchronously, which
	 * flushes the WAL up to and past this commit before anything is sent. */
	[Q_CLAIM] = { "SELECT state, set_config('synchronous_commit', 'off', true) FROM windows "
	              "WHERE id = $1::bigint AND pg_try_advisory_xact_lock($1::bigint) FOR UPDATE",
	              1 },
};

/* migrations[i] takes the schema from version i to i + 1 */
static const char *const migrations[] = {
	"CREATE TABLE windows ("
	" id BIGSERIAL PRIMARY KEY,"
	" period INTEGER NOT NULL,"
	" start BIGINT NOT NULL,"
	" domain TEXT NOT NULL,"
	" record TEXT NOT NULL,"
	" end_time BIGINT NOT NULL,"
	" state INTEGER NOT NULL DEFAULT 0,"
	" reported_at BIGINT,"
	" UNIQUE (period, start, domain, record));"
	"CREATE INDEX windows_due ON windows(state, end_time);"
	"CREATE TABLE policies ("
	" id BIGSERIAL PRIMARY KEY,"
	" key TEXT NOT NULL UNIQUE,"
	" policy_type TEXT NOT NULL,"
	" policy_domain TEXT NOT NULL);"
	"CREATE TABLE failure_details ("
	" id BIGSERIAL PRIMARY KEY,"
	" key TEXT NOT NULL UNIQUE,"
	" result_type TEXT NOT NULL);"
	"CREATE TABLE session_counts ("
	" window_id BIGINT NOT NULL REFERENCES windows(id),"
	" policy_id BIGINT NOT NULL REFERENCES policies(id),"
	" success BIGINT NOT NULL DEFAULT 0,"
	" failure BIGINT NOT NULL DEFAULT 0,"
	" PRIMARY KEY (window_id, policy_id));"
	"CREATE TABLE failure_counts ("
	" window_id BIGINT NOT NULL REFERENCES windows(id),"
	" policy_id BIGINT NOT NULL REFERENCES policies(id),"
	" detail_id BIGINT NOT NULL REFERENCES failure_details(id),"
	" count BIGINT NOT NULL DEFAULT 0,"
	" PRIMARY KEY (window_id, policy_id, detail_id));",
	/* outbox: generated reports and their deliveries (issue 6); deliveries keep their
	 * insertion order by id */
	"CREATE TABLE outbox_reports ("
	" id BIGSERIAL PRIMARY KEY,"
	" window_id BIGINT NOT NULL,"
	" period INTEGER NOT NULL,"
	" start BIGINT NOT NULL,"
	" end_time BIGINT NOT NULL,"
	" domain TEXT NOT NULL,"
	" record TEXT NOT NULL,"
	" part INTEGER NOT NULL,"
	" report_id TEXT NOT NULL UNIQUE,"
	" filename TEXT NOT NULL,"
	" body BYTEA NOT NULL,"
	" json_size BIGINT NOT NULL,"
	" dropped BIGINT NOT NULL DEFAULT 0,"
	" state INTEGER NOT NULL DEFAULT 0,"
	" error TEXT,"
	" created BIGINT NOT NULL,"
	" UNIQUE (window_id, part));"
	"CREATE INDEX outbox_reports_domain ON outbox_reports(domain, start, period);"
	"CREATE INDEX outbox_reports_created ON outbox_reports(created);"
	"CREATE TABLE outbox_deliveries ("
	" id BIGSERIAL PRIMARY KEY,"
	" report BIGINT NOT NULL REFERENCES outbox_reports(id) ON DELETE CASCADE,"
	" dest TEXT NOT NULL,"
	" state INTEGER NOT NULL DEFAULT 0,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_try BIGINT NOT NULL,"
	" last_error TEXT,"
	" UNIQUE (report, dest));"
	"CREATE INDEX outbox_deliveries_due ON outbox_deliveries(state, next_try);",
	/* received reports (issue 8) */
	"CREATE TABLE received_reports ("
	" id BIGSERIAL PRIMARY KEY,"
	" submitter TEXT NOT NULL,"
	" report_id TEXT NOT NULL,"
	" organization TEXT,"
	" contact_info TEXT,"
	" start BIGINT NOT NULL,"
	" end_time BIGINT NOT NULL,"
	" quirks BIGINT NOT NULL,"
	" channel TEXT NOT NULL,"
	" dkim TEXT NOT NULL,"
	" dkim_detail TEXT NOT NULL,"
	" verified INTEGER NOT NULL,"
	" received_at BIGINT NOT NULL,"
	" raw_gz BYTEA NOT NULL,"
	" UNIQUE (submitter, report_id));"
	"CREATE INDEX received_reports_start ON received_reports(start);"
	"CREATE INDEX received_reports_received ON received_reports(received_at);"
	"CREATE TABLE received_sightings ("
	" id BIGSERIAL PRIMARY KEY,"
	" report BIGINT NOT NULL REFERENCES received_reports(id) ON DELETE CASCADE,"
	" channel TEXT NOT NULL,"
	" dkim TEXT NOT NULL,"
	" received_at BIGINT NOT NULL);"
	"CREATE INDEX received_sightings_report ON received_sightings(report);"
	"CREATE TABLE received_policies ("
	" id BIGSERIAL PRIMARY KEY,"
	" report BIGINT NOT NULL REFERENCES received_reports(id) ON DELETE CASCADE,"
	" idx INTEGER NOT NULL,"
	" policy_type TEXT NOT NULL,"
	" policy_domain TEXT,"
	" policy_strings TEXT,"
	" mx_hosts TEXT,"
	" success BIGINT NOT NULL,"
	" failure BIGINT NOT NULL);"
	"CREATE INDEX received_policies_report ON received_policies(report);"
	"CREATE INDEX received_policies_domain ON received_policies(policy_domain);"
	"CREATE TABLE received_failures ("
	" id BIGSERIAL PRIMARY KEY,"
	" policy BIGINT NOT NULL REFERENCES received_policies(id) ON DELETE CASCADE,"
	" idx INTEGER NOT NULL,"
	" result_type TEXT NOT NULL,"
	" sending_ip TEXT,"
	" receiving_mx TEXT,"
	" receiving_helo TEXT,"
	" receiving_ip TEXT,"
	" count BIGINT NOT NULL,"
	" additional_info TEXT,"
	" reason_code TEXT);"
	"CREATE INDEX received_failures_policy ON received_failures(policy);",
	/* counter rows without foreign keys: their per-row checks (a trigger, a lookup and
	 * a row lock per key) cost more than the upsert itself; only the store writes these
	 * tables, with ids it got from windows/policies/failure_details, and purge deletes
	 * the counters before their windows.  Half-empty pages, so that adding to a counter
	 * is a HOT update in the same page instead of a new row version and index entry
	 * elsewhere (repeated flushes into 100,000 rows stay at ~0.5 s instead of growing
	 * to 2 s and more) */
	"ALTER TABLE session_counts DROP CONSTRAINT IF EXISTS session_counts_window_id_fkey,"
	" DROP CONSTRAINT IF EXISTS session_counts_policy_id_fkey, SET (fillfactor = 50);"
	"ALTER TABLE failure_counts DROP CONSTRAINT IF EXISTS failure_counts_window_id_fkey,"
	" DROP CONSTRAINT IF EXISTS failure_counts_policy_id_fkey,"
	" DROP CONSTRAINT IF EXISTS failure_counts_detail_id_fkey, SET (fillfactor = 50);",
	/* delivery.daily-cap (issue 7): when a row was sent, and counting them by destination */
	"ALTER TABLE outbox_deliveries ADD COLUMN sent_at BIGINT;",
	"CREATE INDEX outbox_deliveries_sent ON outbox_deliveries(dest, sent_at);",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* advisory lock key held while migrating ("tlsrptd" in ASCII) */
#define MIGRATE_LOCK "7653052548920420"

/* The URL with the password of its userinfo and any password= parameter masked. */
static char *
mask_url(const char *url)
{
	struct buf b;
	const char *p = url, *scheme = strstr(url, "://");
	const char *end;
	char *out;

	buf_init(&b, 4096);
	if (scheme != NULL) {
		const char *auth = scheme + 3;
		const char *at = strchr(auth, '@');
		const char *slash = strchr(auth, '/');
		if (at != NULL && (slash == NULL || at < slash)) {
			const char *colon = memchr(auth, ':', (size_t)(at - auth));
			if (colon != NULL) {
				buf_append(&b, url, (size_t)(colon + 1 - url));
				buf_append(&b, "***", 3);
				p = at;
			}
		}
	}
	while (*p != '\0') {
		const char *pw = strstr(p, "password=");
		if (pw == NULL || (pw != url && pw[-1] != '?' && pw[-1] != '&')) {
			end = pw == NULL ? p + strlen(p) : pw + 9;
			buf_append(&b, p, (size_t)(end - p));
			p = end;
			continue;
		}
		buf_append(&b, p, (size_t)(pw + 9 - p));
		buf_append(&b, "***", 3);
		p = pw + 9;
		p += strcspn(p, "&");
	}
	out = buf_steal(&b, NULL);
	return out != NULL ? out : xstrdup("postgresql://...");
}

/* PostgreSQL's message on one line (libpq's hints follow a newline and a tab). */
int
pg_error(struct store_pg *s, struct err *e, int code, const char *what, const PGresult *r)
{
	const char *msg = r != NULL ? PQresultErrorMessage(r) : "";
	char line[400];
	size_t n = 0;

	if (msg == NULL || msg[0] == '\0')
		msg = PQerrorMessage(s->conn);
	for (const char *p = msg; *p != '\0' && n + 1 < sizeof(line); p++) {
		bool space = *p == '\n' || *p == '\t' || *p == ' ';
		if (space && (n == 0 || line[n - 1] == ' '))
			continue;
		line[n++] = space ? ' ' : *p;
	}
	while (n > 0 && line[n - 1] == ' ')
		n--;
	line[n] = '\0';
	return err_set(e, code, "%s: %s: %s", s->where, what, line);
}

/* ERR_AGAIN for what a retry can cure (lost connection, deadlock, serialization). */
static int
failure_code(struct store_pg *s, const PGresult *r)
{
	const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(s->conn) != CONNECTION_OK)
		return ERR_AGAIN;
	if (state == NULL)
		return ERR_AGAIN; /* no server answer: the connection broke */
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
		return ERR_AGAIN;
	if (strcmp(state, "23505") == 0)
		return ERR_BADSTATE; /* unique violation */
	return ERR_IO;
}

/* Runs prepared query q; returns its result (PGRES_COMMAND_OK/TUPLES_OK) or NULL. */
static PGresult *
exec_q(struct store_pg *s, int q, const char *const *params, const char *what, struct err *e)
{
	char name[16];
	PGresult *r;
	ExecStatusType st;

	snprintf(name, sizeof(name), "q%d", q);
	r = PQexecPrepared(s->conn, name, queries[q].nparams, params, NULL, NULL, 0);
	st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	pg_error(s, e, failure_code(s, r), what, r);
	PQclear(r);
	return NULL;
}

static int
run_q(struct store_pg *s, int q, const char *const *params, const char *what, struct err *e)
{
	PGresult *r = exec_q(s, q, params, what, e);

	if (r == NULL)
		return e != NULL ? e->code : ERR_IO;
	PQclear(r);
	return 0;
}

/* Runs SQL without parameters (migrations only). */
static int
exec_sql(struct store_pg *s, const char *sql, const char *what, struct err *e)
{
	PGresult *r = PQexec(s->conn, sql);
	ExecStatusType st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = pg_error(s, e, failure_code(s, r), what, r);
	PQclear(r);
	return rc;
}

int64_t
pg_col_i64(const PGresult *r, int row, int col)
{
	int64_t v = 0;
	const char *t = PQgetvalue(r, row, col);

	if (t != NULL)
		str_to_i64(span_make(t, strlen(t)), &v);
	return v;
}

const char *
pg_col_str(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

const char *
pg_i64(char out[24], int64_t v)
{
	snprintf(out, 24, "%" PRId64, v);
	return out;
}

static int reconnect(struct store_pg *s, struct err *e);

PGresult *
pg_exec(struct store_pg *s, unsigned slot, const char *sql, int n, const char *const *vals,
        const int *lens, const int *fmts, const char *what, struct err *e)
{
	char name[16];
	PGresult *r;
	ExecStatusType st;

	if (slot >= PG_EXT_SLOTS) {
		err_set(e, ERR_BADSTATE, "%s: statement slot %u out of range", s->where, slot);
		return NULL;
	}
	if (!s->in_tx && (PQstatus(s->conn) != CONNECTION_OK || !s->prepared) &&
	    reconnect(s, e) != 0)
		return NULL;
	snprintf(name, sizeof(name), "x%u", slot);
	if (!s->ext_ready[slot]) {
		r = PQprepare(s->conn, name, sql, n, NULL);
		if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
			pg_error(s, e, failure_code(s, r), "prepare", r);
			PQclear(r);
			return NULL;
		}
		PQclear(r);
		s->ext_ready[slot] = true;
	}
	r = PQexecPrepared(s->conn, name, n, vals, lens, fmts, 0);
	st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	pg_error(s, e, failure_code(s, r), what, r);
	PQclear(r);
	return NULL;
}

int
pg_exec_cmd(struct store_pg *s, unsigned slot, const char *sql, int n, const char *const *vals,
            const char *what, uint64_t *changed, struct err *e)
{
	PGresult *r = pg_exec(s, slot, sql, n, vals, NULL, NULL, what, e);
	const char *t;
	uint64_t v = 0;

	if (r == NULL)
		return e != NULL && e->code != 0 ? e->code : ERR_IO;
	t = PQcmdTuples(r);
	if (t != NULL && t[0] != '\0')
		str_to_u64(span_make(t, strlen(t)), &v);
	if (changed != NULL)
		*changed = v;
	PQclear(r);
	return 0;
}

static int
migrate(struct store_pg *s, struct err *e)
{
	PGresult *r;
	int version = 0, rc;
	char vbuf[16];
	const char *params[1];

	rc = exec_sql(s, "BEGIN", "begin migration", e);
	if (rc)
		return rc;
	rc = exec_sql(s, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")", "migration lock", e);
	if (rc == 0)
		rc = exec_sql(
		        s, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
		        "schema_version", e);
	if (rc)
		goto fail;
	r = PQexec(s->conn, "SELECT coalesce(max(version), 0) FROM schema_version");
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		rc = pg_error(s, e, ERR_IO, "schema_version", r);
		PQclear(r);
		goto fail;
	}
	version = (int)pg_col_i64(r, 0, 0);
	PQclear(r);
	if (version > SCHEMA_VERSION) {
		rc = err_set(
		        e, ERR_BADSTATE,
		        "%s: schema version %d is newer than this program (%d); upgrade tlsrptd",
		        s->where, version, SCHEMA_VERSION);
		goto fail;
	}
	for (int v = version; v < SCHEMA_VERSION; v++) {
		rc = exec_sql(s, migrations[v], "migration", e);
		if (rc) {
			err_prefix(e, "migration to schema version %d", v + 1);
			goto fail;
		}
		snprintf(vbuf, sizeof(vbuf), "%d", v + 1);
		params[0] = vbuf;
		r = PQexecParams(s->conn,
		                 "INSERT INTO schema_version(version) VALUES ($1::integer)", 1,
		                 NULL, params, NULL, NULL, 0);
		if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
			rc = pg_error(s, e, ERR_IO, "schema_version", r);
			PQclear(r);
			goto fail;
		}
		PQclear(r);
	}
	return exec_sql(s, "COMMIT", "commit migration", e);
fail:
	exec_sql(s, "ROLLBACK", "rollback", NULL);
	return rc;
}

static int
prepare_all(struct store_pg *s, struct err *e)
{
	char name[16];

	for (int q = 0; q < Q_COUNT_; q++) {
		PGresult *r;
		snprintf(name, sizeof(name), "q%d", q);
		r = PQprepare(s->conn, name, queries[q].sql, queries[q].nparams, NULL);
		if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
			int rc = pg_error(s, e, failure_code(s, r), "prepare", r);
			PQclear(r);
			return rc;
		}
		PQclear(r);
	}
	s->prepared = true;
	return 0;
}

static int
connect_pg(struct store_pg *s, struct err *e)
{
	const char *keys[4] = { "dbname", NULL, NULL, NULL };
	const char *vals[4] = { s->url, NULL, NULL, NULL };
	int n = 1;

	if (s->password != NULL && s->password[0] != '\0') {
		keys[n] = "password";
		vals[n++] = s->password;
	}
	keys[n] = "application_name";
	vals[n] = "tlsrptd";
	if (s->conn != NULL)
		PQfinish(s->conn);
	s->prepared = false;
	memset(s->ext_ready, 0, sizeof(s->ext_ready));
	s->conn = PQconnectdbParams(keys, vals, 1);
	if (s->conn == NULL)
		return err_set(e, ERR_NOMEM, "%s: out of memory", s->where);
	if (PQstatus(s->conn) != CONNECTION_OK)
		return pg_error(s, e, ERR_AGAIN, "connect", NULL);
	return exec_sql(s, "SET client_min_messages = warning", "connect", e);
}

static int apply_pending(struct store_pg *s, struct err *e);

/* A new connection with every store_pg.c statement prepared. */
static int
reconnect(struct store_pg *s, struct err *e)
{
	int rc = connect_pg(s, e);

	if (rc == 0)
		rc = prepare_all(s, e);
	if (rc)
		err_prefix(e, "reconnect");
	return rc;
}

static void
pg_close(struct store *base)
{
	struct store_pg *s = (struct store_pg *)base;

	if (s->conn != NULL)
		PQfinish(s->conn);
	if (s->password != NULL) {
		memset(s->password, 0, strlen(s->password));
		free(s->password);
	}
	free(s->pend[0]);
	free(s->pend[1]);
	pg_ids_free(s);
	free(s->url);
	free(s->where);
	free(s);
}

static int
pg_begin(struct store *base, struct err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	int rc;

	s->in_tx = false;
	if (PQstatus(s->conn) != CONNECTION_OK || !s->prepared) {
		rc = reconnect(s, e);
		if (rc)
			return rc;
	}
	if (PQtransactionStatus(s->conn) != PQTRANS_IDLE)
		exec_sql(s, "ROLLBACK", "rollback", NULL);
	s->npend[0] = s->npend[1] = 0;
	pg_ids_begin(s);
	rc = run_q(s, Q_BEGIN, NULL, "begin", e);
	s->in_tx = rc == 0;
	return rc;
}

static int
pg_commit(struct store *base, struct err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	PGresult *r;

	if (apply_pending(s, e) != 0) {
		pg_ids_rolled_back(s);
		return e != NULL ? e->code : ERR_IO;
	}
	s->in_tx = false;
	r = exec_q(s, Q_COMMIT, NULL, "commit", e);
	if (r == NULL) {
		pg_ids_rolled_back(s);
		/* the connection broke with COMMIT sent: the server may have committed */
		if (PQstatus(s->conn) != CONNECTION_OK)
			return err_set(
			        e, STORE_ECOMMIT_UNKNOWN,
			        "%s: commit: the connection was lost, whether the transaction "
			        "was committed is unknown",
			        s->where);
		return e != NULL ? e->code : ERR_IO;
	}
	/* COMMIT of a failed transaction answers ROLLBACK, not an error */
	if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		PQclear(r);
		pg_ids_rolled_back(s);
		return err_set(e, ERR_AGAIN, "%s: commit: the transaction was rolled back",
		               s->where);
	}
	PQclear(r);
	pg_ids_committed(s);
	return 0;
}

static void
pg_rollback(struct store *base)
{
	struct store_pg *s = (struct store_pg *)base;

	s->npend[0] = s->npend[1] = 0;
	s->in_tx = false;
	pg_ids_rolled_back(s);
	if (PQstatus(s->conn) == CONNECTION_OK && PQtransactionStatus(s->conn) != PQTRANS_IDLE)
		run_q(s, Q_ROLLBACK, NULL, "rollback", NULL);
}

static int
pg_window_open(struct store *base, const struct store_window_key *k, int64_t *id,
               enum store_window_state *state, struct err *e)
{
	return pg_ids_window((struct store_pg *)base, k, id, state, e);
}

static int
pg_policy_id(struct store *base, struct span key, const char *type, struct span pdomain,
             int64_t *id, struct err *e)
{
	return pg_ids_intern((struct store_pg *)base, 0, key, type, pdomain, id, e);
}

static int
pg_detail_id(struct store *base, struct span key, const char *rtype, int64_t *id, struct err *e)
{
	return pg_ids_intern((struct store_pg *)base, 1, key, rtype, span_make(NULL, 0), id, e);
}

static void
pend_add(struct store_pg *s, int which, struct delta d)
{
	if (s->npend[which] == s->cappend[which]) {
		s->cappend[which] = s->cappend[which] ? 2 * s->cappend[which] : 256;
		s->pend[which] =
		        xrealloc(s->pend[which], s->cappend[which] * sizeof(*s->pend[which]));
	}
	s->pend[which][s->npend[which]++] = d;
}

static int
delta_cmp(const void *x, const void *y)
{
	const struct delta *a = x, *b = y;

	if (a->w != b->w)
		return a->w < b->w ? -1 : 1;
	if (a->p != b->p)
		return a->p < b->p ? -1 : 1;
	if (a->d != b->d)
		return a->d < b->d ? -1 : 1;
	return 0;
}

enum { BATCH_ROWS = 5000 };

/*
 * Writes the pending deltas of one kind: sorted by key (every flusher locks rows in
 * the same order, so concurrent flushes do not deadlock on counter rows), equal keys
 * summed (one statement may not update a row twice), BATCH_ROWS rows per statement
 * bound as four bigint arrays.
 */
static int
apply_kind(struct store_pg *s, int which, struct err *e)
{
	struct delta *v = s->pend[which];
	size_t n = s->npend[which], m = 0;
	struct buf arr[4];
	int rc = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), delta_cmp);
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && delta_cmp(&v[m - 1], &v[i]) == 0) {
			v[m - 1].a += v[i].a;
			v[m - 1].b += v[i].b;
		} else {
			v[m++] = v[i];
		}
	}
	for (int k = 0; k < 4; k++)
		buf_init(&arr[k], (size_t)BATCH_ROWS * 24 + 16);
	for (size_t start = 0; start < m && rc == 0; start += BATCH_ROWS) {
		size_t end = start + BATCH_ROWS < m ? start + BATCH_ROWS : m;
		const char *params[4];
		for (int k = 0; k < 4; k++) {
			buf_clear(&arr[k]);
			buf_init(&arr[k], (size_t)BATCH_ROWS * 24 + 16);
			buf_putc(&arr[k], '{');
		}
		for (size_t i = start; i < end; i++) {
			const char *sep = i > start ? "," : "";
			buf_printf(&arr[0], "%s%" PRId64, sep, v[i].w);
			buf_printf(&arr[1], "%s%" PRId64, sep, v[i].p);
			if (which == 0) {
				buf_printf(&arr[2], "%s%" PRIu64, sep, v[i].a);
				buf_printf(&arr[3], "%s%" PRIu64, sep, v[i].b);
			} else {
				buf_printf(&arr[2], "%s%" PRId64, sep, v[i].d);
				buf_printf(&arr[3], "%s%" PRIu64, sep, v[i].a);
			}
		}
		for (int k = 0; k < 4; k++) {
			buf_putc(&arr[k], '}');
			params[k] = buf_cstr(&arr[k]);
		}
		rc = run_q(s, which == 0 ? Q_ADD_SESS : Q_ADD_FAIL, params,
		           which == 0 ? "add sessions" : "add failures", e);
	}
	for (int k = 0; k < 4; k++)
		buf_clear(&arr[k]);
	s->npend[which] = 0;
	return rc;
}

static int
apply_pending(struct store_pg *s, struct err *e)
{
	int rc = pg_ids_apply(s, e);

	if (rc == 0)
		rc = apply_kind(s, 0, e);
	if (rc == 0)
		rc = apply_kind(s, 1, e);
	s->npend[0] = s->npend[1] = 0;
	return rc;
}

static int
pg_add_sessions(struct store *base, int64_t wid, int64_t pid, uint64_t ok, uint64_t fail,
                struct err *e)
{
	struct delta d = { wid, pid, 0, ok, fail };

	(void)e;
	pend_add((struct store_pg *)base, 0, d);
	return 0;
}

static int
pg_add_failures(struct store *base, int64_t wid, int64_t pid, int64_t did, uint64_t n,
                struct err *e)
{
	struct delta d = { wid, pid, did, n, 0 };

	(void)e;
	pend_add((struct store_pg *)base, 1, d);
	return 0;
}

static int
pg_mark_reported(struct store *base, int64_t wid, int64_t when, struct err *e)
{
	char a[24], b[24];
	const char *params[2] = { a, b };

	snprintf(a, sizeof(a), "%" PRId64, wid);
	snprintf(b, sizeof(b), "%" PRId64, when);
	pg_ids_marked((struct store_pg *)base, wid); /* the cache may hold wid as open */
	return run_q((struct store_pg *)base, Q_MARK, params, "mark reported", e);
}

static int
pg_list_due(struct store *base, int64_t end_before, store_window_fn fn, void *ctx, struct err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char a[24];
	const char *params[1] = { a };
	PGresult *r;
	int rows;

	if (apply_pending(s, e) != 0)
		return e != NULL ? e->code : ERR_IO;
	snprintf(a, sizeof(a), "%" PRId64, end_before);
	r = exec_q(s, Q_LIST_DUE, params, "list windows", e);
	if (r == NULL)
		return e != NULL ? e->code : ERR_IO;
	rows = PQntuples(r);
	for (int i = 0; i < rows; i++) {
		struct store_window w;
		w.id = pg_col_i64(r, i, 0);
		w.period = (enum window_period)pg_col_i64(r, i, 1);
		w.start = pg_col_i64(r, i, 2);
		w.end = pg_col_i64(r, i, 3);
		w.domain = PQgetvalue(r, i, 4);
		w.record = PQgetvalue(r, i, 5);
		w.state = STORE_WINDOW_OPEN;
		if (fn(ctx, &w) != 0)
			break;
	}
	PQclear(r);
	return 0;
}

static int
pg_list_counts(struct store *base, int64_t window_id, store_row_fn fn, void *ctx, struct err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char a[24];
	const char *params[1] = { a };
	PGresult *r;
	int rows, stop = 0;
	int64_t last_w = 0, last_p = 0;

	if (apply_pending(s, e) != 0)
		return e != NULL ? e->code : ERR_IO;
	snprintf(a, sizeof(a), "%" PRId64, window_id);
	r = exec_q(s, window_id == 0 ? Q_LIST_COUNTS : Q_LIST_WINDOW, params, "list", e);
	if (r == NULL)
		return e != NULL ? e->code : ERR_IO;
	rows = PQntuples(r);
	for (int i = 0; i < rows && !stop; i++) {
		struct store_count_row row;
		int64_t pid = pg_col_i64(r, i, 6);

		memset(&row, 0, sizeof(row));
		row.window_id = pg_col_i64(r, i, 0);
		row.period = (enum window_period)pg_col_i64(r, i, 1);
		row.start = pg_col_i64(r, i, 2);
		row.domain = PQgetvalue(r, i, 3);
		row.record = PQgetvalue(r, i, 4);
		row.state = pg_col_i64(r, i, 5) ? STORE_WINDOW_REPORTED : STORE_WINDOW_OPEN;
		row.policy_type = PQgetvalue(r, i, 7);
		row.policy_domain = PQgetvalue(r, i, 8);
		row.policy_json = PQgetvalue(r, i, 9);
		row.success = (uint64_t)pg_col_i64(r, i, 10);
		row.failure = (uint64_t)pg_col_i64(r, i, 11);
		if (row.window_id != last_w || pid != last_p) {
			last_w = row.window_id;
			last_p = pid;
			stop = fn(ctx, &row);
		}
		if (!stop && !PQgetisnull(r, i, 12)) {
			row.result_type = PQgetvalue(r, i, 12);
			row.detail_json = PQgetvalue(r, i, 13);
			row.detail_count = (uint64_t)pg_col_i64(r, i, 14);
			stop = fn(ctx, &row);
		}
	}
	PQclear(r);
	return 0;
}

/* Exactly one generator per window across hosts: see Q_CLAIM. */
static int
pg_window_claim(struct store *base, int64_t window_id, bool *claimed, struct err *e)
{
	struct store_pg *s = (struct store_pg *)base;
	char a[24];
	const char *params[1] = { pg_i64(a, window_id) };
	PGresult *r;

	*claimed = false;
	r = exec_q(s, Q_CLAIM, params, "claim window", e);
	if (r == NULL)
		return e != NULL ? e->code : ERR_IO;
	*claimed = PQntuples(r) == 1 && pg_col_i64(r, 0, 0) == STORE_WINDOW_OPEN;
	PQclear(r);
	return 0;
}

static const struct store_ops pg_ops = {
	.name = "postgresql",
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.window_open = pg_window_open,
	.policy_id = pg_policy_id,
	.detail_id = pg_detail_id,
	.add_sessions = pg_add_sessions,
	.add_failures = pg_add_failures,
	.mark_reported = pg_mark_reported,
	.list_counts = pg_list_counts,
	.list_due = pg_list_due,
	.window_claim = pg_window_claim,
	.close = pg_close,
	/* outbox and delivery (store_pg_outbox.c) */
	.outbox_insert = pg_outbox_insert,
	.outbox_list = pg_outbox_list,
	.outbox_get = pg_outbox_get,
	.outbox_max_part = pg_outbox_max_part,
	.outbox_delivery_update = pg_outbox_delivery_update,
	.outbox_due = pg_outbox_due,
	.outbox_claim = pg_outbox_claim,
	.outbox_reset = pg_outbox_reset,
	.outbox_sent_count = pg_outbox_sent_count,
	.outbox_defer = pg_outbox_defer,
	.purge = pg_purge,
	/* received reports (store_pg_received.c) */
	.received_add = pg_received_add,
	.received_walk = pg_received_walk,
	.received_raw = pg_received_raw,
	.received_purge = pg_received_purge,
};

int
store_open_pg(const char *url, const char *password, struct store **out, struct err *e)
{
	struct store_pg *s;
	int rc;

	if (url == NULL || url[0] == '\0')
		return err_set(e, ERR_INVALID, "store.url: required for the postgresql backend");
	s = xcalloc(1, sizeof(*s));
	s->base.ops = &pg_ops;
	s->url = xstrdup(url);
	s->where = mask_url(url);
	s->password = password != NULL ? xstrdup(password) : NULL;
	rc = connect_pg(s, e);
	if (rc == 0)
		rc = migrate(s, e);
	if (rc == 0)
		rc = prepare_all(s, e);
	if (rc) {
		pg_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}
