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
#include "util/buf.h"
#include "util/err.h"
#include "util/span.h"

struct store;

/* Module error codes (below -100, see util/err.h). */
enum {
	/*
	 * commit(): the COMMIT was sent but no answer came back (the connection broke), so
	 * the transaction may or may not have committed.  Retrying could count twice; the
	 * collector drops such a flush instead (at most once) and counts it.
	 */
	STORE_ECOMMIT_UNKNOWN = -101,
};

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

/* ------------------------------------------------------------------ outbox (issue 6) */

enum store_report_state {
	STORE_REPORT_READY = 0,   /* valid; delivered through its delivery rows */
	STORE_REPORT_INVALID = 1, /* failed validation or has no destination: never sent */
};

enum store_delivery_state {
	STORE_DELIVERY_PENDING = 0,
	STORE_DELIVERY_SENT = 1,
	STORE_DELIVERY_FAILED = 2, /* failed at least once; retried at next_try */
	STORE_DELIVERY_GIVEN_UP = 3,
};

/* "ready"/"invalid" and "pending"/"sent"/"failed"/"given-up"; parsers return -1. */
const char *store_report_state_name(enum store_report_state s);
const char *store_delivery_state_name(enum store_delivery_state s);
int store_delivery_state_parse(const char *name);

/* One destination of an outbox report. */
struct store_delivery {
	const char *dest; /* the rua URI as published (mailto:... or https://...) */
	enum store_delivery_state state;
	uint32_t attempts;
	int64_t next_try;
	const char *last_error; /* NULL when none */
};

/* One report of the outbox.  Strings and the body live as long as their owner. */
struct store_outbox_report {
	int64_t id; /* set by outbox_insert */
	int64_t window_id;
	enum window_period period;
	int64_t start;             /* window start */
	int64_t end;               /* the date-range end-datetime (last second) */
	const char *domain;        /* report domain */
	const char *record;        /* the TLSRPT record text the rua list came from */
	unsigned part;             /* 1, 2, ... */
	const char *report_id;     /* RFC 8460 report-id */
	const char *filename;      /* attachment name (.json.gz) */
	const unsigned char *body; /* gzip of the JSON (outbox_list: NULL) */
	size_t body_len;
	size_t json_size; /* bytes of the JSON before compression */
	uint64_t dropped; /* failure details dropped to fit max-size */
	enum store_report_state state;
	const char *error; /* why it is invalid; NULL otherwise */
	int64_t created;
	const struct store_delivery *deliveries; /* one per destination */
	size_t n_deliveries;
};

/* Called per outbox report; everything lives until the callback returns. */
typedef int (*store_outbox_fn)(void *ctx, const struct store_outbox_report *r);

/* Filter of outbox_list(): NULL / -1 members match everything. */
struct store_outbox_filter {
	const char *domain;
	int report_state;   /* enum store_report_state or -1 */
	int delivery_state; /* enum store_delivery_state or -1: reports with such a row */
};
/* ------------------------------------------------------------ received reports (issue 8) */

struct report;

/*
 * One received report to store (store_ops.received_add).  The report is stored
 * normalised (policies, failure details) with its original bytes gzip-compressed.
 * De-duplication key: (submitter, report_id).
 */
struct store_received_in {
	const struct report *report; /* the parsed report (report/report.h) */
	const char *submitter;       /* lower-case submitter domain (dedupe key) */
	const char *report_id;       /* the report-id, or a stand-in when it is missing */
	const char *channel;         /* "mail", "http", "file" */
	const char *dkim;            /* verdict: "pass", "fail", "none", "misaligned", ... */
	const char *dkim_detail;     /* human detail ("" when none) */
	bool verified;               /* counts in summaries without --include-unverified */
	int64_t received_at;         /* UTC seconds */
	struct span raw_gz;          /* the original report bytes, gzip-compressed */
};

/* Filter of received_walk(); zero/NULL members do not filter. */
struct store_received_filter {
	int64_t id;              /* one report */
	const char *domain;      /* a policy-domain of the report (exact, lower case) */
	const char *reporter;    /* substring of organization-name or submitter */
	int64_t since, until;    /* report window overlaps [since, until); 0 = open */
	bool include_unverified; /* else verified reports only */
	bool reports_only;       /* no policy and failure rows */
};

/*
 * One row of received_walk(): each report row (policy_type NULL) is followed by its
 * policy rows (result_type NULL), each followed by its failure rows.  Strings live until
 * the callback returns; absent members are NULL.
 */
struct store_received_row {
	int64_t id;
	const char *submitter, *report_id, *organization, *contact_info;
	int64_t start, end; /* date-range (end inclusive) */
	uint64_t quirks;
	const char *channel, *dkim, *dkim_detail;
	bool verified;
	int64_t received_at;
	unsigned sightings;   /* copies received (1 + duplicates) */
	const char *channels; /* channels of all sightings, comma-separated */
	int policy_index;     /* policy rows and failure rows */
	const char *policy_type, *policy_domain;
	const char *policy_strings; /* policy-string entries joined with "\n" */
	const char *mx_hosts;       /* mx-host entries joined with "," */
	uint64_t success, failure;
	const char *result_type; /* failure rows */
	const char *sending_ip, *receiving_mx, *receiving_helo, *receiving_ip;
	const char *additional_info, *reason_code;
	uint64_t count;
};

typedef int (*store_received_fn)(void *ctx, const struct store_received_row *row);

/*
 * Aggregates of received reports for the dashboard (issue 9, store_ops.received_group).
 * Policy groups sum the policy summary counts (success, failure) of the matching
 * policies; failure groups sum failed-session-count (count) of their failure details.
 */
enum store_rgroup {
	STORE_RGROUP_DOMAIN = 0,    /* key policy-domain */
	STORE_RGROUP_DAY,           /* day = UTC day number of the report start; key NULL */
	STORE_RGROUP_REPORTER,      /* key submitter, key2 organization-name; quirks ORed */
	STORE_RGROUP_POLICY_TYPE,   /* key policy-type */
	STORE_RGROUP_STS_MODE,      /* sts policies: key policy-domain, key2 mode (testing, ...) */
	STORE_RGROUP_FAIL_TYPE,     /* failure details: key result-type */
	STORE_RGROUP_FAIL_MX,       /* key receiving-mx-hostname */
	STORE_RGROUP_FAIL_IP,       /* key receiving-ip */
	STORE_RGROUP_FAIL_REPORTER, /* key submitter, key2 organization-name */
	STORE_RGROUP_FAIL_REASON,   /* key result-type, key2 additional-info or reason code */
	STORE_RGROUP_COUNT_
};

/* Query of received_group(); zero/NULL members do not filter (as received_walk). */
struct store_received_group_query {
	enum store_rgroup by;
	const char *domain;      /* policy-domain (exact, lower case) */
	int64_t since, until;    /* report window overlaps [since, until); 0 = open */
	bool include_unverified; /* else verified reports only */
};

/* One group; strings live until the callback returns, absent ones are NULL. */
struct store_received_group_row {
	const char *key, *key2;
	int64_t day;           /* STORE_RGROUP_DAY */
	uint64_t reports;      /* distinct reports */
	uint64_t success;      /* policy groups: summary counts */
	uint64_t failure;      /* policy groups */
	uint64_t count;        /* failure groups: failed-session-count */
	int64_t first, last;   /* earliest report start, latest report end */
	int64_t last_received; /* latest received_at */
	int64_t last_failure;  /* end of the latest report with a failure; 0 when none */
	uint64_t quirks;       /* STORE_RGROUP_REPORTER: REPORT_QUIRK_* of its reports */
};

typedef int (*store_received_group_fn)(void *ctx, const struct store_received_group_row *row);

struct store_ops {
	const char *name;
	int (*begin)(struct store *s, struct err *e);
	int (*commit)(struct store *s, struct err *e);
	void (*rollback)(struct store *s);
	/* Finds or creates the window; *state tells whether it was already reported.  Use
	 * the id within the transaction (PostgreSQL creates new windows at commit and may
	 * then renumber one another host created at the same moment; the adds follow), and
	 * retry the whole transaction on ERR_AGAIN from commit (a window found open was
	 * reported meanwhile). */
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
	/* Inside a transaction, before report generation reads window_id: *claimed is true
	 * when this transaction may generate it (it exists, is open and no other transaction
	 * on any host is generating it; the claim lasts until commit or rollback), else
	 * false (skip the window).  May be NULL (then the transaction alone decides). */
	int (*window_claim)(struct store *s, int64_t window_id, bool *claimed, struct err *e);
	void (*close)(struct store *s);
	/* outbox: report generation and delivery (issue 6) */
	/* Inserts r (r->id ignored) and one delivery row per r->deliveries[]; *id receives
	 * the new report's id.  A second report with the same report_id is ERR_BADSTATE. */
	int (*outbox_insert)(struct store *s, const struct store_outbox_report *r, int64_t *id,
	                     struct err *e);
	/* Reports matching f (may be NULL), oldest first, without bodies (body NULL),
	 * with their delivery rows. */
	int (*outbox_list)(struct store *s, const struct store_outbox_filter *f, store_outbox_fn fn,
	                   void *ctx, struct err *e);
	/* Report id with body and delivery rows; ERR_NOTFOUND when there is none. */
	int (*outbox_get)(struct store *s, int64_t id, store_outbox_fn fn, void *ctx,
	                  struct err *e);
	/* The highest part number in the outbox for (period, start, domain), 0 if none. */
	int (*outbox_max_part)(struct store *s, enum window_period period, int64_t start,
	                       const char *domain, unsigned *max, struct err *e);
	/* Updates one delivery row after an attempt (attempts is incremented).  For state
	 * sent, next_try is the time of sending: the backend keeps it as the row's sent
	 * time (outbox_sent_count) and the row has no next try. */
	int (*outbox_delivery_update)(struct store *s, int64_t report_id, const char *dest,
	                              enum store_delivery_state state, int64_t next_try,
	                              const char *last_error, struct err *e);
	/* Retention: deletes outbox reports created before `before` and the counters and
	 * windows of reported windows that ended before it; *n_reports / *n_windows
	 * (may be NULL) receive the counts deleted. */
	int (*purge)(struct store *s, int64_t before, uint64_t *n_reports, uint64_t *n_windows,
	             struct err *e);
	/* received reports (issue 8) */
	/* Stores a received report, or when (submitter, report_id) is already stored records
	 * a sighting (*duplicate true; a verified copy upgrades an unverified one).  *id is
	 * the report's id.  One transaction of its own. */
	int (*received_add)(struct store *s, const struct store_received_in *in, int64_t *id,
	                    bool *duplicate, struct err *e);
	/* Walks the received reports matching f (ordered by start, id); see
	 * struct store_received_row.  Non-zero from fn stops the walk. */
	int (*received_walk)(struct store *s, const struct store_received_filter *f,
	                     store_received_fn fn, void *ctx, struct err *e);
	/* Appends the original bytes (gzip) of report id to out; ERR_NOTFOUND when none. */
	int (*received_raw)(struct store *s, int64_t id, struct buf *out, struct err *e);
	/* Deletes reports received before `before`; *n (may be NULL) counts them. */
	int (*received_purge)(struct store *s, int64_t before, uint64_t *n, struct err *e);
	/* The groups of q (see enum store_rgroup): by day in day order, reporters in
	 * submitter order, everything else by sessions (failure groups: count) descending.
	 * Optional (NULL in a backend without it: callers fall back to received_walk). */
	int (*received_group)(struct store *s, const struct store_received_group_query *q,
	                      store_received_group_fn fn, void *ctx, struct err *e);
	/* delivery (issue 7) */
	/* Up to max ids of ready reports with a due delivery row (state pending or failed,
	 * next_try <= now), earliest next_try first, into ids[]; *n receives the count. */
	int (*outbox_due)(struct store *s, int64_t now, size_t max, int64_t *ids, size_t *n,
	                  struct err *e);
	/* Claims one delivery row in one statement: when it is pending or failed with
	 * next_try <= now, sets next_try = lease_until (a crash mid-attempt retries after
	 * the lease) and *claimed is true; otherwise nothing changes and *claimed is false.
	 * Two workers never both claim a row; a sent row is never claimed. */
	int (*outbox_claim)(struct store *s, int64_t report_id, const char *dest, int64_t now,
	                    int64_t lease_until, bool *claimed, struct err *e);
	/* Operator action: every delivery row of report_id that is not sent gets state,
	 * next_try and last_error (reason, may be NULL); attempts are kept.  *n (may be NULL)
	 * counts the rows changed.  ERR_NOTFOUND when there is no such report. */
	int (*outbox_reset)(struct store *s, int64_t report_id, enum store_delivery_state state,
	                    int64_t next_try, const char *reason, size_t *n, struct err *e);
	/* delivery.daily-cap (both may be NULL: the cap is then not enforced) */
	/* *n = the delivery rows to dest (any report) in state sent with a sent time at or
	 * after since. */
	int (*outbox_sent_count)(struct store *s, const char *dest, int64_t since, uint64_t *n,
	                         struct err *e);
	/* Defers one delivery row that is not sent without counting an attempt: state
	 * failed, next_try, last_error = reason (may be NULL); attempts are kept.
	 * ERR_NOTFOUND when report_id has no such row that is not sent. */
	int (*outbox_defer)(struct store *s, int64_t report_id, const char *dest, int64_t next_try,
	                    const char *reason, struct err *e);
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
struct conf;

/*
 * Opens the store the configuration names (store.backend with store.path, or store.url
 * and store.password).  As store_open otherwise.
 */
int store_open_conf(const struct conf *conf, struct store **out, struct err *e);

/* What a backend may not implement yet (its ops are then NULL). */
enum store_area {
	STORE_AREA_OUTBOX,   /* outbox_* and purge */
	STORE_AREA_RECEIVED, /* received_* */
	STORE_AREA_DELIVERY, /* outbox_get, outbox_delivery_update, outbox_due/claim/reset */
};

/*
 * 0 when s implements every op of area; else ERR_BADSTATE with a message naming the
 * backend, so that a role refuses to run instead of calling a NULL op.
 */
int store_supports(const struct store *s, enum store_area area, struct err *e);

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
