/*
 * alerts.h - alert rules ([alert.<id>] in the configuration, docs/alerts.md): evaluated
 * from the store, sent as a JSON POST to a webhook and/or as mail through the relay,
 * with de-duplication by alert key and a cool-down that survives restarts (a small
 * state file).
 *
 * Rule types (all look at the window [now - window, now)):
 *   failure-rate      received reports (verified): per policy domain, failed sessions /
 *                     all sessions > threshold (with at least min-sessions sessions);
 *                     key "<id>:<domain>"
 *   new-failure-type  a result type in a report of the window (report end within it)
 *                     for a policy domain that no earlier report showed;
 *                     key "<id>:<domain>:<result-type>"; its cool-down is at least the
 *                     window, so each new type is announced once
 *   reporter-silent   a reporter (submitter domain) whose last report was received more
 *                     than `days` days ago; key "<id>:<submitter>"
 *   delivery-failing  outbox reports created in the window: per destination (rua),
 *                     the fraction of delivery rows failed or given up > threshold;
 *                     key "<id>:<rua>"
 *
 * Threading: everything here is used by one thread at a time per struct store / state;
 * the configuration is read-only.
 */
#ifndef TLSRPTD_OUTBOUND_ALERTS_H
#define TLSRPTD_OUTBOUND_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/conf.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/err.h"

struct alert_rule {
	const char *id;       /* the <id> of [alert.<id>]; lives as long as the conf */
	const char *type;     /* "failure-rate", ... */
	const char *domain;   /* NULL: every domain */
	const char *reporter; /* reporter-silent filter; NULL: every reporter */
	double threshold;
	uint64_t min_sessions;
	int64_t window;              /* seconds */
	int64_t days;                /* reporter-silent */
	int64_t cooldown;            /* seconds */
	const char *webhook, *email; /* NULL: not used */
};

/*
 * Reads every [alert.<id>] table of c into *rules (caller frees the array with free();
 * the strings belong to c), *n rules.  Returns 0 or ERR_INVALID (a threshold that does
 * not evaluate to a number).
 */
int alerts_rules_load(const struct conf *c, struct alert_rule **rules, size_t *n, struct err *e);

/* One alert that fires.  Owned by its struct alert_list. */
struct alert {
	char *key;     /* de-duplication key, e.g. "rate:example.com" */
	char *rule;    /* rule id */
	char *type;    /* rule type, or "test" for `tlsrpt alerts test` */
	char *domain;  /* policy / report domain; NULL when the rule has none */
	char *subject; /* what it is about: domain, "domain result-type", reporter or rua */
	char *summary; /* one line for people */
	double value;  /* the rate, fraction, or days of silence */
	double threshold;
	uint64_t count, total; /* failed sessions / rows and all of them (0 when n/a) */
	int64_t since, until;  /* the window looked at */
	int64_t fired_at;
	int64_t cooldown; /* seconds, as applied to this alert */
	const struct alert_rule *r;
};

struct alert_list {
	struct alert *v;
	size_t n, cap;
};

void alert_list_clear(struct alert_list *l);

/*
 * Evaluates rules[0..n) at time now against store s and appends the alerts that fire
 * (ignoring cool-downs) to out, sorted by key.  Returns 0, or a negative code with e
 * set when the store fails (out keeps what was found before).
 */
int alerts_evaluate(const struct alert_rule *rules, size_t n, struct store *s, int64_t now,
                    struct alert_list *out, struct err *e);

/* A sample alert of rule r at time now (type "test"), for `tlsrpt alerts test`. */
void alerts_sample(const struct alert_rule *r, int64_t now, struct alert_list *out);

/* ------------------------------------------------------------------ state */

struct alerts_state;

/* The state file of c: alerts.state-file, or the documented default.  Lives until the
 * next call (static buffer): copy it. */
const char *alerts_state_path(const struct conf *c);
/* Loads path (missing file: empty state).  Returns 0 or ERR_IO / ERR_INVALID. */
int alerts_state_load(const char *path, struct alerts_state **out, struct err *e);
/* When key was last sent (0: never). */
int64_t alerts_state_last(const struct alerts_state *st, const char *key);
void alerts_state_set(struct alerts_state *st, const char *key, int64_t when);
/* Writes the state atomically (temporary file + rename); entries older than
 * `forget_before` are dropped.  Returns 0 or ERR_IO. */
int alerts_state_save(struct alerts_state *st, int64_t forget_before, struct err *e);
void alerts_state_free(struct alerts_state *st);

/* ------------------------------------------------------------------ sending */

/*
 * The webhook body of a (docs/alerts.md): one compact JSON object.  Appends to out.
 */
int alerts_payload(const struct conf *c, const struct alert *a, struct buf *out, struct err *e);
/*
 * The alert mail to `to` (headers + text body, CRLF), From
 * report.tls.aggregate.from-address.  Appends to out.
 */
int alerts_mail(const struct conf *c, const struct alert *a, const char *to, struct buf *out,
                struct err *e);

/*
 * Sends a through the channels of its rule (webhook, email); every attempt is logged,
 * counted in tlsrpt_alerts_total / tlsrpt_alert_errors_total and, when transcript is
 * not NULL, appended to it ("webhook URL: HTTP 200\n<json>\n", "email to X: sent\n<mail>").
 * Returns 0 when every channel worked (or there is none), else the last error.
 */
int alerts_send(const struct conf *c, const struct alert *a, struct buf *transcript, struct err *e);

struct alerts_pass {
	size_t fired;      /* alerts that fire */
	size_t sent;       /* sent now */
	size_t suppressed; /* within their cool-down */
	size_t failed;     /* a channel failed: retried at the next pass */
};

/*
 * One pass: loads the rules and the state, evaluates at clock_now(clk), sends what is
 * not within its cool-down, records what was sent and saves the state.  dry_run: sends
 * nothing, saves nothing, only fills out (every alert that fires) and st (sent = would
 * be sent).  out may be NULL.  Returns 0 or a negative code with e set.
 */
int alerts_run(const struct conf *c, struct store *s, const struct clock *clk, bool dry_run,
               struct alert_list *out, struct alerts_pass *st, struct err *e);

/* The daemon's alert thread: alerts_run() at start and every alerts.interval. */
struct alerts_worker;
/* Starts the thread when c has [alert.*] rules (else *out = NULL, returns 0); opens its
 * own store connection.  c must outlive the worker. */
int alerts_worker_start(const struct conf *c, struct alerts_worker **out, struct err *e);
/* Stops the thread (waiting for a running pass) and frees; NULL is a no-op. */
void alerts_worker_stop(struct alerts_worker *w);

#endif
