/*
 * aggregate.h - in-memory counters of TLS results, keyed like the store.
 *
 * A key is (window period, UTC window start, report domain, TLSRPT record, policy)
 * for session counters and the same plus a failure detail for failure counters.
 * Policies and failure details are interned as their canonical RFC 8460 JSON text
 * (policy: {"policy-type","policy-string","policy-domain","mx-host"}; detail:
 * {"result-type", sending-mta-ip, ...} without the count), which is also the key under
 * which the store keeps them once.  Interned items stay across flushes (they cache
 * their store ids) until aggregate_reset().
 *
 * Threading: not thread-safe; one owner.
 */
#ifndef TLSRPTD_COLLECTOR_AGGREGATE_H
#define TLSRPTD_COLLECTOR_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

#include "collector/datagram.h"
#include "report/window.h"
#include "util/span.h"

/* An interned string (domain, record, policy JSON, detail JSON). */
struct agg_item {
	uint64_t hash;
	int64_t store_id;      /* id in the store, valid when store_gen matches */
	uint64_t store_gen;    /* generation of store_id (see aggregate_invalidate_ids) */
	int kind_code;         /* policy: libtlsrpt type; detail: result code */
	struct span extra;     /* policy: policy-domain (points into data) */
	int user;              /* domain: free for the caller (the collector caches the period) */
	struct agg_item *last; /* domain: the record seen last with it */
	size_t len;
	char data[]; /* len bytes + NUL */
};

struct agg_fail {
	struct agg_fail *next; /* next failure counter of the same session counter */
	struct agg_item *detail;
	uint64_t count;
};

struct agg_sess {
	int64_t start;
	enum window_period period;
	struct agg_item *domain;
	struct agg_item *record;
	struct agg_item *policy;
	uint64_t success;
	uint64_t failure;
	struct agg_fail *fails;
};

struct aggregate;

struct aggregate *aggregate_new(void);
/* Frees everything (NULL is a no-op). */
void aggregate_free(struct aggregate *a);

/*
 * The interned report domain (user == -1 when new).  Valid until aggregate_reset or
 * aggregate_free.
 */
struct agg_item *aggregate_domain(struct aggregate *a, struct span domain);

/*
 * Counts one policy result of a decoded datagram in the window [start, ...) of period.
 * domain is aggregate_domain(a, dg->domain).  Never fails (memory comes from xalloc).
 */
void aggregate_add(struct aggregate *a, enum window_period period, int64_t start,
                   struct agg_item *domain, const struct datagram *dg, const struct dg_policy *pol);

/* Session counters currently held (each with its failure counters). */
size_t aggregate_count(const struct aggregate *a);
/* Approximate bytes held (counters and interned items). */
size_t aggregate_bytes(const struct aggregate *a);

/* Iteration over session counters: for (size_t i = 0; aggregate_next(a, &i, &s);). */
bool aggregate_next(const struct aggregate *a, size_t *pos, struct agg_sess **s);

/*
 * Adds every counter of src to dst (interning src's items in dst as needed; copied
 * items keep their user field, their store ids are looked up again).  src is unchanged.
 */
void aggregate_merge(struct aggregate *dst, const struct aggregate *src);

/* What aggregate_drop_oldest() dropped. */
struct aggregate_dropped {
	uint64_t counters;    /* session counters (each with its failure counters) */
	uint64_t sessions;    /* their success + failure sessions */
	int64_t oldest_start; /* window starts of the oldest and newest counter dropped */
	int64_t newest_start;
};

/*
 * When a holds more than target bytes, drops the session counters (with their failure
 * counters) of the oldest windows first (by window start; ties in period, domain, record,
 * policy order) until the rest fits in target, and rebuilds a without the items only they
 * used.  *out says what went (all zero when nothing did).  Cached store ids are void
 * afterwards.  Pointers from aggregate_domain() and aggregate_next() are void.
 */
void aggregate_drop_oldest(struct aggregate *a, size_t target, struct aggregate_dropped *out);

/* Drops every counter (after a committed flush); interned items stay. */
void aggregate_clear_counts(struct aggregate *a);
/* Drops counters and interned items. */
void aggregate_reset(struct aggregate *a);
/* Current generation for agg_item.store_id; bumping it invalidates cached ids. */
uint64_t aggregate_id_gen(const struct aggregate *a);
void aggregate_invalidate_ids(struct aggregate *a);

#endif
