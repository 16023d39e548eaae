/*
 * store.h - the durable store of collected TLS results: an interface with backends.
 *
 * A backend is a table of function pointers (struct store_ops); callers never see
 * SQL.  Backends: SQLite (store_sqlite.c) and PostgreSQL (store_pg.c).
 *
 * Data model (what every backend keeps):
 *   windows          (id, period, start, end_time = start + length, domain, record,
 *                     state open/reported, reported_at), unique on (period, start,
 *                     domain, record)
 *   policies         (id, key = canonical RFC 8460 policy JSON, policy_type,
 *                     policy_domain), stored once, unique on key
 *   failure_details  (id, key = canonical RFC 8460 failure-detail JSON without the
 *                     count, result_type), stored once, unique on key
 *   session_counts   (window_id, policy_id) -> success, failure
 *   failure_counts   (window_id, policy_id, detail_id) -> count
 * Counts are only ever added to (upsert count = count + delta) inside one transaction
 * per flush, so a crash between flushes loses the unflushed deltas and never counts
 * anything twice.
 *
 * Threading: one struct store is used by one thread at a time; open one per thread.
 */
#ifndef TLSRPTD_STORE_STORE_H
#define TLSRPTD_STORE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "report/window.h"
#include "util/err.h"
#include "util/span.h"

struct store;

enum store_window_state {
	STORE_WINDOW_OPEN = 0,
	STORE_WINDOW_REPORTED = 1,
};

struct store_window_key {
	enum window_period period;
	int64_t start;
	struct span domain;
	struct span record;
};

/* One row of store_list_counts(): a window's policy with its counters. */
struct store_count_row {
	int64_t window_id;
	enum window_period period;
	int64_t start;
	const char *domain;
	const char *record;
	enum store_window_state state;
	const char *policy_type; /* "sts", "tlsa", "no-policy-found" */
	const char *policy_domain;
	const char *policy_json; /* canonical policy JSON */
	uint64_t success;
	uint64_t failure;
	const char *result_type; /* NULL for the session row; else one failure detail */
	const char *detail_json;
	uint64_t detail_count;
};

/* Called per row; strings live until the callback returns.  Non-zero stops the walk. */
typedef int (*store_row_fn)(void *ctx, const struct store_count_row *row);

/* A window as store_ops.list_due() reports it. */
struct store_window {
	int64_t id;
	enum window_period period;
	int64_t start;
	int64_t end; /* start + window length: the first second after the window */
	const char *domain;
	const char *record;
	enum store_window_state state;
};

/* Called per window; strings live until the callback returns.  Non-zero stops the walk. */
typedef int (*store_window_fn)(void *ctx, const struct store_window *w);

struct store_ops {
	const char *name;
	int (*begin)(struct store *s, struct err *e);
	int (*commit)(struct store *s, struct err *e);
	void (*rollback)(struct store *s);
	/* Finds or creates the window; *state tells whether it was already reported. */
	int (*window_open)(struct store *s, const struct store_window_key *k, int64_t *id,
	                   enum store_window_state *state, struct err *e);
	int (*policy_id)(struct store *s, struct span key, const char *policy_type,
	                 struct span policy_domain, int64_t *id, struct err *e);
	int (*detail_id)(struct store *s, struct span key, const char *result_type, int64_t *id,
	                 struct err *e);
	int (*add_sessions)(struct store *s, int64_t window_id, int64_t policy_id, uint64_t success,
	                    uint64_t failure, struct err *e);
	int (*add_failures)(struct store *s, int64_t window_id, int64_t policy_id,
	                    int64_t detail_id, uint64_t count, struct err *e);
	int (*mark_reported)(struct store *s, int64_t window_id, int64_t when, struct err *e);
	/* The session rows of window window_id (0: of every window), each followed by its
	 * failure rows, ordered by domain, start, record, policy.  Report generation reads
	 * a window with this and marks it reported inside one transaction. */
	int (*list_counts)(struct store *s, int64_t window_id, store_row_fn fn, void *ctx,
	                   struct err *e);
	/* Open windows that ended at or before end_before, oldest first. */
	int (*list_due)(struct store *s, int64_t end_before, store_window_fn fn, void *ctx,
	                struct err *e);
	void (*close)(struct store *s);
};

/* Every backend's handle starts with this. */
struct store {
	const struct store_ops *ops;
};

/*
 * Opens the store: backend "sqlite" with path a database file (created, migrated to
 * the current schema), or backend "postgresql" with path a connection URL (see
 * store_open_pg; no separate password).  Returns 0 and sets *out (free with store_close), or a negative
 * code with a message in e.
 */
int store_open(const char *backend, const char *path, struct store **out, struct err *e);
/* Closes and frees (NULL is a no-op). */
void store_close(struct store *s);

int store_open_sqlite(const char *path, struct store **out, struct err *e);
/*
 * Opens the PostgreSQL store at url (a libpq URL, postgresql://...), migrated to the
 * current schema.  password (may be NULL) overrides the URL's; it is copied, never
 * logged.  A lost connection is re-established by the next begin().
 */
int store_open_pg(const char *url, const char *password, struct store **out, struct err *e);

#endif
