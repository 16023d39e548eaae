/*
 * hash.h - a fast non-cryptographic hash and an open-addressing hash map.
 *
 * hash_bytes() mixes 8 bytes at a time with multiply-xorshift rounds; it is for hash
 * tables of our own data, never for anything an attacker may aim collisions at without
 * a secret seed (pass a random seed for tables keyed by outside input).
 *
 * struct hmap stores (hash, item pointer) pairs with linear probing in a power-of-two
 * table kept at most 70 % full.  Items are the caller's: the map never frees or copies
 * them and compares keys through the caller's eq function.  Not thread-safe.
 */
#ifndef TLSRPTD_UTIL_HASH_H
#define TLSRPTD_UTIL_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

uint64_t hash_bytes(const void *p, size_t n, uint64_t seed);
/* Combines a hash with another 64-bit value (for composite keys). */
uint64_t hash_mix(uint64_t h, uint64_t v);

struct hmap_slot {
	uint64_t hash; /* 0 marks an empty slot; stored hashes are forced non-zero */
	void *item;
};

struct hmap {
	struct hmap_slot *slots;
	size_t cap;   /* power of two, or 0 */
	size_t count; /* items stored */
};

/* Returns true when item (stored) has the key the caller is looking for. */
typedef bool (*hmap_eq_fn)(const void *item, const void *key);

void hmap_init(struct hmap *m);
/* Frees the table (not the items). */
void hmap_clear(struct hmap *m);
/* The stored item with this hash whose key eq() accepts, or NULL. */
void *hmap_find(const struct hmap *m, uint64_t hash, hmap_eq_fn eq, const void *key);
/* Adds item under hash (the caller has checked it is not present). */
void hmap_insert(struct hmap *m, uint64_t hash, void *item);
/* Removes and returns the matching item, or NULL. */
void *hmap_remove(struct hmap *m, uint64_t hash, hmap_eq_fn eq, const void *key);

/*
 * Iteration: for (size_t i = 0; hmap_next(m, &i, &item);) visits every item once, in
 * table order.  The map must not be modified during the loop.
 */
bool hmap_next(const struct hmap *m, size_t *pos, void **item);

#endif
