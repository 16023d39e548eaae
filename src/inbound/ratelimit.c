/*
 * ratelimit.c - per-client token buckets for the upload endpoint (see ratelimit.h).
 *
 * RFC 6585 section 4 (429 Too Many Requests, Retry-After).  The bucket of a client is
 * one number, tat ("theoretical arrival time", GCRA): a request at time t is allowed
 * when tat - t <= (burst - 1) * interval, and then tat = max(tat, t) + interval.  The
 * table is open-addressed with a probe window of PROBE slots; a new client takes an
 * empty slot, else the slot in its window that was idle longest.
 * Threading: one thread at a time (see ratelimit.h).
 */
#include "inbound/ratelimit.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/xalloc.h"

enum { PROBE = 8 };

struct rl_entry {
	bool used;
	char key[RATELIMIT_KEY_MAX + 1];
	int64_t tat_ns;  /* theoretical arrival time of the next request */
	int64_t seen_ns; /* last request (for eviction) */
};

struct ratelimit {
	const struct clock *clock;
	int64_t interval_ns; /* time one token takes to come back */
	int64_t slack_ns;    /* (burst - 1) * interval */
	size_t cap;          /* slots; a power of two */
	size_t used;
	struct rl_entry *slots;
};

struct ratelimit *
ratelimit_new(unsigned per_minute, unsigned burst, size_t max_clients, const struct clock *clock)
{
	struct ratelimit *rl = xcalloc(1, sizeof(*rl));
	size_t cap = PROBE;

	if (per_minute == 0)
		per_minute = 1;
	if (burst == 0)
		burst = 1;
	if (max_clients == 0)
		max_clients = RATELIMIT_DEFAULT_CLIENTS;
	while (cap < max_clients)
		cap *= 2;
	rl->clock = clock;
	rl->interval_ns = (int64_t)60 * 1000000000 / per_minute;
	rl->slack_ns = (int64_t)(burst - 1) * rl->interval_ns;
	rl->cap = cap;
	rl->slots = xcalloc(cap, sizeof(*rl->slots));
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->slots);
	free(rl);
}

size_t
ratelimit_clients(const struct ratelimit *rl)
{
	return rl->used;
}

/* The entry of key: found, else a free slot, else the longest idle in the window. */
static struct rl_entry *
lookup(struct ratelimit *rl, const char *key, int64_t now)
{
	uint64_t h = hash_bytes(key, strlen(key), 0x7261746531696dULL);
	struct rl_entry *victim = NULL, *empty = NULL;

	for (size_t i = 0; i < PROBE; i++) {
		struct rl_entry *s = &rl->slots[(h + i) & (rl->cap - 1)];

		if (!s->used) {
			if (empty == NULL)
				empty = s;
			continue;
		}
		if (strcmp(s->key, key) == 0)
			return s;
		if (victim == NULL || s->seen_ns < victim->seen_ns)
			victim = s;
	}
	if (empty != NULL) {
		rl->used++;
	} else {
		empty = victim;
	}
	memset(empty, 0, sizeof(*empty));
	empty->used = true;
	memcpy(empty->key, key, strlen(key) + 1);
	empty->tat_ns = now;
	return empty;
}

unsigned
ratelimit_take(struct ratelimit *rl, const char *client)
{
	char key[RATELIMIT_KEY_MAX + 1];
	size_t n = strnlen(client, RATELIMIT_KEY_MAX);
	int64_t now = clock_now_ns(rl->clock);
	struct rl_entry *s;
	int64_t tat;

	memcpy(key, client, n);
	key[n] = '\0';
	s = lookup(rl, key, now);
	s->seen_ns = now;
	tat = s->tat_ns > now ? s->tat_ns : now;
	if (tat - now > rl->slack_ns) {
		int64_t wait = tat - now - rl->slack_ns;

		return (unsigned)((wait + 999999999) / 1000000000);
	}
	s->tat_ns = tat + rl->interval_ns;
	return 0;
}
