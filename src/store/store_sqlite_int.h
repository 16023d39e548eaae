/*
 * store_sqlite_int.h - internals of the SQLite backend shared by its files.
 *
 * store_sqlite.c holds the connection, the schema migrations and the collector's
 * counters; further files (store_sqlite_<area>.c) implement other groups of
 * store_ops on the same connection.  They prepare their statements lazily through
 * sqlite_stmt() in numbered slots: 0..31 for report generation and delivery (outbox),
 * 32..63 for received reports, 64..95 for later areas.  Not for use outside src/store/.
 * Threading: as store.h (one connection per thread).
 */
#ifndef TLSRPTD_STORE_SQLITE_INT_H
#define TLSRPTD_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "store/store.h"
#include "util/err.h"

#define SQLITE_EXT_SLOTS 96

struct store_sqlite {
	struct store base;
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[16];                   /* store_sqlite.c's own statements */
	sqlite3_stmt *ext_st[SQLITE_EXT_SLOTS]; /* see sqlite_stmt() */
};

/*
 * The statement in slot `slot`, prepared from sql on first use (sql must be the same
 * text every time for a slot).  The statement stays owned by s; callers reset it after
 * use.  Returns NULL with a message in e on failure.
 */
sqlite3_stmt *sqlite_stmt(struct store_sqlite *s, unsigned slot, const char *sql, struct err *e);
/* Runs SQL text without results (schema, pragmas).  Returns 0 or ERR_IO with a message. */
int sqlite_exec(struct store_sqlite *s, const char *sql, struct err *e);
/* Fills e with "<path>: what: <sqlite message>" and returns code. */
int sqlite_db_err(struct store_sqlite *s, struct err *e, int code, const char *what);

/* store_sqlite_outbox.c: the outbox group of store_ops (see store.h). */
int sqlite_outbox_insert(struct store *s, const struct store_outbox_report *r, int64_t *id,
                         struct err *e);
int sqlite_outbox_list(struct store *s, const struct store_outbox_filter *f, store_outbox_fn fn,
                       void *ctx, struct err *e);
int sqlite_outbox_get(struct store *s, int64_t id, store_outbox_fn fn, void *ctx, struct err *e);
int sqlite_outbox_max_part(struct store *s, enum window_period period, int64_t start,
                           const char *domain, unsigned *max, struct err *e);
int sqlite_outbox_delivery_update(struct store *s, int64_t report_id, const char *dest,
                                  enum store_delivery_state state, int64_t next_try,
                                  const char *last_error, struct err *e);
int sqlite_outbox_due(struct store *s, int64_t now, size_t max, int64_t *ids, size_t *n,
                      struct err *e);
int sqlite_outbox_claim(struct store *s, int64_t report_id, const char *dest, int64_t now,
                        int64_t lease_until, bool *claimed, struct err *e);
int sqlite_outbox_reset(struct store *s, int64_t report_id, enum store_delivery_state state,
                        int64_t next_try, const char *reason, size_t *n, struct err *e);
int sqlite_outbox_sent_count(struct store *s, const char *dest, int64_t since, uint64_t *n,
                             struct err *e);
int sqlite_outbox_defer(struct store *s, int64_t report_id, const char *dest, int64_t next_try,
                        const char *reason, struct err *e);
int sqlite_purge(struct store *s, int64_t before, uint64_t *n_reports, uint64_t *n_windows,
                 struct err *e);
/* received reports (issue 8): store_sqlite_received.c, the store_ops of store.h */
int sqlite_received_add(struct store *s, const struct store_received_in *in, int64_t *id,
                        bool *duplicate, struct err *e);
int sqlite_received_walk(struct store *s, const struct store_received_filter *f,
                         store_received_fn fn, void *ctx, struct err *e);
int sqlite_received_raw(struct store *s, int64_t id, struct buf *out, struct err *e);
int sqlite_received_purge(struct store *s, int64_t before, uint64_t *n, struct err *e);

#endif
