/*
 * hash.c - byte hashing and the open-addressing map.  See hash.h.
 *
 * The mixing function is a 64x64->128 multiply folded to 64 bits (the "mum" step
 * used by several fast hashes), applied to 8-byte words; the constants are odd
 * 64-bit values with good bit dispersion.
 */
#include "util/hash.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define K0 0xa0761d6478bd642fULL
#define K1 0xe7037ed1a0b428dbULL
#define K2 0x8ebc6af09c88c6e3ULL

__extension__ typedef unsigned __int128 u128;

static inline uint64_t
mum(uint64_t a, uint64_t b)
{
	u128 r = (u128)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t
load64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

uint64_t
hash_bytes(const void *data, size_t n, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ K0 ^ (uint64_t)n;

	while (n >= 16) {
		h = mum(load64(p) ^ K1, load64(p + 8) ^ h);
		p += 16;
		n -= 16;
	}
	if (n >= 8) {
		h = mum(load64(p) ^ K1, h ^ K2);
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t tail = 0;
		memcpy(&tail, p, n);
		h = mum(tail ^ K2, h ^ K1);
	}
	return mum(h ^ K0, h ^ K2);
}

uint64_t
hash_mix(uint64_t h, uint64_t v)
{
	return mum(h ^ K1, v ^ K2);
}

void
hmap_init(struct hmap *m)
{
	m->slots = NULL;
	m->cap = 0;
	m->count = 0;
}

void
hmap_clear(struct hmap *m)
{
	free(m->slots);
	hmap_init(m);
}

static inline uint64_t
fix_hash(uint64_t h)
{
	return h ? h : 1;
}

void *
hmap_find(const struct hmap *m, uint64_t hash, hmap_eq_fn eq, const void *key)
{
	if (m->cap == 0)
		return NULL;
	hash = fix_hash(hash);
	size_t mask = m->cap - 1;
	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		const struct hmap_slot *s = &m->slots[i];
		if (s->hash == 0)
			return NULL;
		if (s->hash == hash && eq(s->item, key))
			return s->item;
	}
}

static void
place(struct hmap_slot *slots, size_t cap, uint64_t hash, void *item)
{
	size_t mask = cap - 1;
	size_t i = hash & mask;

	while (slots[i].hash != 0)
		i = (i + 1) & mask;
	slots[i].hash = hash;
	slots[i].item = item;
}

static void
grow(struct hmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 16;
	struct hmap_slot *ns = xcalloc(ncap, sizeof(*ns));

	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].hash)
			place(ns, ncap, m->slots[i].hash, m->slots[i].item);
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
}

void
hmap_insert(struct hmap *m, uint64_t hash, void *item)
{
	if ((m->count + 1) * 10 > m->cap * 7)
		grow(m);
	place(m->slots, m->cap, fix_hash(hash), item);
	m->count++;
}

void *
hmap_remove(struct hmap *m, uint64_t hash, hmap_eq_fn eq, const void *key)
{
	if (m->cap == 0)
		return NULL;
	hash = fix_hash(hash);
	size_t mask = m->cap - 1;
	size_t i = hash & mask;

	for (;; i = (i + 1) & mask) {
		if (m->slots[i].hash == 0)
			return NULL;
		if (m->slots[i].hash == hash && eq(m->slots[i].item, key))
			break;
	}
	void *item = m->slots[i].item;
	/* backward-shift deletion keeps probe sequences intact without tombstones */
	size_t j = i;
	for (;;) {
		m->slots[i].hash = 0;
		m->slots[i].item = NULL;
		for (;;) {
			j = (j + 1) & mask;
			if (m->slots[j].hash == 0) {
				m->count--;
				return item;
			}
			size_t home = m->slots[j].hash & mask;
			/* move j to i when its home is not in the cyclic range (i, j] */
			if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
				break;
		}
		m->slots[i] = m->slots[j];
		i = j;
	}
}

bool
hmap_next(const struct hmap *m, size_t *pos, void **item)
{
	for (size_t i = *pos; i < m->cap; i++) {
		if (m->slots[i].hash) {
			*item = m->slots[i].item;
			*pos = i + 1;
			return true;
		}
	}
	*pos = m->cap;
	return false;
}
