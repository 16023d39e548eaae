/*
 * ratelimit.h - per-client rate limiting of the report upload endpoint (HTTP 429).
 *
 * A token bucket per client address, kept as a "theoretical arrival time" (GCRA):
 * each client may make `burst` requests at once and then one every 60/per_minute
 * seconds.  Memory is bounded: at most max_clients entries in one fixed table allocated
 * by ratelimit_new(); when a new client finds no free slot among its probe window, the
 * entry that is idle longest is evicted (an entry whose bucket has refilled is the same
 * as a fresh one, so evicting it changes nothing).
 *
 * Threading: not thread-safe; one struct ratelimit per thread, or a caller's lock.
 */
#ifndef TLSRPTD_INBOUND_RATELIMIT_H
#define TLSRPTD_INBOUND_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "util/clock.h"

struct ratelimit;

enum { RATELIMIT_DEFAULT_CLIENTS = 4096, RATELIMIT_KEY_MAX = 63 };

/*
 * A limiter allowing per_minute requests per client and minute (>= 1) with bursts of
 * up to burst requests (0 is taken as 1), tracking at most max_clients clients (0 =
 * RATELIMIT_DEFAULT_CLIENTS).  clock (borrowed, may be NULL for the real clock) must
 * outlive the limiter.  Free with ratelimit_free().
 */
struct ratelimit *ratelimit_new(unsigned per_minute, unsigned burst, size_t max_clients,
                                const struct clock *clock);
/* Frees rl; NULL is a no-op. */
void ratelimit_free(struct ratelimit *rl);

/*
 * Counts one request of client (an address as text; only its first RATELIMIT_KEY_MAX
 * bytes are used).  Returns 0 when it is allowed, or the number of whole seconds (>= 1)
 * after which the next request would be allowed (the Retry-After value) when it is not;
 * a refused request costs nothing.
 */
unsigned ratelimit_take(struct ratelimit *rl, const char *client);

/* Clients currently tracked (for tests and metrics). */
size_t ratelimit_clients(const struct ratelimit *rl);

#endif
