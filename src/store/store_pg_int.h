/*
 * store_pg_int.h - internals of the PostgreSQL backend shared by its files.
 *
 * store_pg.c holds the connection, the schema migrations and the collector's counters;
 * store_pg_ids.c the window, policy and detail ids of the collector ops (caches, batched
 * creation), store_pg_outbox.c the outbox and delivery ops, store_pg_received.c the
 * received reports.  Those files run their statements through pg_exec(), which prepares
 * each statement lazily once per connection in a numbered slot: 0..31 outbox and
 * delivery, 32..63 received reports, 64..95 ids.  Not for use outside src/store/.
 * Threading: as store.h (one connection per thread).
 */
#ifndef TLSRPTD_STORE_PG_INT_H
#define TLSRPTD_STORE_PG_INT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"
#include "util/err.h"

#define PG_EXT_SLOTS 96

struct pg_cache; /* store_pg_ids.c: window, policy and failure-detail ids */

/* One pending counter delta: key (window, policy, detail or 0), values a and b. */
struct delta {
	int64_t w, p, d;
	uint64_t a, b;
};

struct store_pg {
	struct store base;
	PGconn *conn;
	char *where; /* the URL with any password masked, for messages */
	char *url;
	char *password;
	bool prepared;                /* store_pg.c's statements, on this connection */
	bool ext_ready[PG_EXT_SLOTS]; /* pg_exec() slots prepared on this connection */
	bool in_tx;                   /* between begin() and commit()/rollback() */
	/* add_sessions/add_failures deltas of the open transaction (store_pg.c) */
	struct delta *pend[2];
	size_t npend[2], cappend[2];
	struct pg_cache *cache;
};

/*
 * Runs the statement of slot (0 <= slot < PG_EXT_SLOTS) with n parameters: vals[i] is
 * text (NUL-terminated, NULL for SQL NULL) unless fmts (may be NULL) says 1 (binary,
 * lens[i] bytes).  The statement is prepared from sql on first use per connection; sql
 * must be the same text every time for a slot.  Outside a transaction a lost connection
 * is re-established first.  Returns the result (PGRES_COMMAND_OK or TUPLES_OK; the
 * caller PQclear()s it) or NULL with a message in e: ERR_AGAIN for what a retry can
 * cure, ERR_BADSTATE for a unique violation, ERR_IO otherwise.
 */
PGresult *pg_exec(struct store_pg *s, unsigned slot, const char *sql, int n,
                  const char *const *vals, const int *lens, const int *fmts, const char *what,
                  struct err *e);
/* As pg_exec for statements without rows; *changed (may be NULL) gets the row count. */
int pg_exec_cmd(struct store_pg *s, unsigned slot, const char *sql, int n, const char *const *vals,
                const char *what, uint64_t *changed, struct err *e);
/* Fills e with "<where>: what: <server message on one line>" and returns code. */
int pg_error(struct store_pg *s, struct err *e, int code, const char *what, const PGresult *r);
/* Column helpers: integer value (0 when NULL), text (NULL when NULL). */
int64_t pg_col_i64(const PGresult *r, int row, int col);
const char *pg_col_str(const PGresult *r, int row, int col);
/* Decimal text of v into out (24 bytes). */
const char *pg_i64(char out[24], int64_t v);
/* store_pg_ids.c: ids for the collector ops without a round trip per row (see there). */
/* window_open: the cached or a new window (created at commit). */
int pg_ids_window(struct store_pg *s, const struct store_window_key *k, int64_t *id,
                  enum store_window_state *state, struct err *e);
/* policy_id (kind 0) and detail_id (kind 1; pdomain empty). */
int pg_ids_intern(struct store_pg *s, int kind, struct span key, const char *type,
                  struct span pdomain, int64_t *id, struct err *e);
/* Before the deltas are written (commit, reads): inserts the new rows, checks the windows
 * handed out as open, renumbers the deltas; ERR_AGAIN when a window was reported since. */
int pg_ids_apply(struct store_pg *s, struct err *e);
void pg_ids_begin(struct store_pg *s);
void pg_ids_committed(struct store_pg *s);
void pg_ids_rolled_back(struct store_pg *s);
void pg_ids_free(struct store_pg *s);
/* Forgets the cached windows (after a purge). */
void pg_cache_forget_windows(struct store_pg *s);
/* mark_reported(window_id) in the open transaction: forgets the cached windows and no
 * longer expects window_id to be open at commit. */
void pg_ids_marked(struct store_pg *s, int64_t window_id);

/* store_pg_outbox.c: the outbox and delivery groups of store_ops (see store.h). */
int pg_outbox_insert(struct store *s, const struct store_outbox_report *r, int64_t *id,
                     struct err *e);
int pg_outbox_list(struct store *s, const struct store_outbox_filter *f, store_outbox_fn fn,
                   void *ctx, struct err *e);
int pg_outbox_get(struct store *s, int64_t id, store_outbox_fn fn, void *ctx, struct err *e);
int pg_outbox_max_part(struct store *s, enum window_period period, int64_t start,
                       const char *domain, unsigned *max, struct err *e);
int pg_outbox_delivery_update(struct store *s, int64_t report_id, const char *dest,
                              enum store_delivery_state state, int64_t next_try,
                              const char *last_error, struct err *e);
int pg_outbox_due(struct store *s, int64_t now, size_t max, int64_t *ids, size_t *n, struct err *e);
int pg_outbox_claim(struct store *s, int64_t report_id, const char *dest, int64_t now,
                    int64_t lease_until, bool *claimed, struct err *e);
int pg_outbox_reset(struct store *s, int64_t report_id, enum store_delivery_state state,
                    int64_t next_try, const char *reason, size_t *n, struct err *e);
int pg_outbox_sent_count(struct store *s, const char *dest, int64_t since, uint64_t *n,
                         struct err *e);
int pg_outbox_defer(struct store *s, int64_t report_id, const char *dest, int64_t next_try,
                    const char *reason, struct err *e);
int pg_purge(struct store *s, int64_t before, uint64_t *n_reports, uint64_t *n_windows,
             struct err *e);

/* store_pg_received.c: received reports (issue 8), the store_ops of store.h. */
int pg_received_add(struct store *s, const struct store_received_in *in, int64_t *id,
                    bool *duplicate, struct err *e);
int pg_received_walk(struct store *s, const struct store_received_filter *f, store_received_fn fn,
                     void *ctx, struct err *e);
int pg_received_raw(struct store *s, int64_t id, struct buf *out, struct err *e);
int pg_received_purge(struct store *s, int64_t before, uint64_t *n, struct err *e);

#endif
