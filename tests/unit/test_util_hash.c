/*
 * test_util_hash.c - unit tests for src/util/hash.h: hashing and the hash map,
 * checked against a plain array model under random insert/remove sequences.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

struct item {
	uint64_t key;
};

static bool
item_eq(const void *item, const void *key)
{
	return ((const struct item *)item)->key == *(const uint64_t *)key;
}

/* A deliberately weak hash so that collisions and wrap-around get exercised. */
static uint64_t
weak_hash(uint64_t k)
{
	return k % 7;
}

static void
test_hash_bytes(void **state)
{
	(void)state;
	assert_true(hash_bytes("abc", 3, 0) == hash_bytes("abc", 3, 0));
	assert_true(hash_bytes("abc", 3, 0) != hash_bytes("abd", 3, 0));
	assert_true(hash_bytes("abc", 3, 0) != hash_bytes("abc", 3, 1));
	assert_true(hash_bytes("", 0, 0) != hash_bytes("\0", 1, 0));
	/* every length 0..40 hashes differently from its neighbours */
	char s[41];
	memset(s, 'x', sizeof(s));
	for (size_t n = 1; n <= 40; n++)
		assert_true(hash_bytes(s, n, 0) != hash_bytes(s, n - 1, 0));
	/* the low bits spread: 4096 sequential keys fill most of 1024 buckets */
	unsigned char seen[1024] = { 0 };
	unsigned used = 0;
	for (uint64_t k = 0; k < 4096; k++) {
		unsigned b = hash_bytes(&k, sizeof(k), 0) & 1023;
		used += !seen[b];
		seen[b] = 1;
	}
	assert_true(used > 950);
}

static void
check_model(struct hmap *m, const unsigned char *present, size_t n, struct item *items)
{
	size_t count = 0;
	for (uint64_t k = 0; k < n; k++) {
		void *got = hmap_find(m, weak_hash(k), item_eq, &k);
		if (present[k] && got != &items[k])
			fail_msg("key %llu: got %p, want %p", (unsigned long long)k, got,
			         (void *)&items[k]);
		if (!present[k] && got != NULL)
			fail_msg("key %llu: got %p, want NULL", (unsigned long long)k, got);
		count += present[k];
	}
	assert_int_equal(m->count, count);
	size_t visited = 0;
	void *it;
	for (size_t pos = 0; hmap_next(m, &pos, &it);)
		visited++;
	assert_int_equal(visited, count);
}

static void
test_map_random(void **state)
{
	enum { N = 300 };
	struct item items[N];
	unsigned char present[N] = { 0 };
	struct hmap m;
	(void)state;
	hmap_init(&m);
	for (uint64_t k = 0; k < N; k++)
		items[k].key = k;
	srand(12345);
	for (int step = 0; step < 20000; step++) {
		uint64_t k = (uint64_t)rand() % N;
		if (present[k]) {
			assert_ptr_equal(hmap_remove(&m, weak_hash(k), item_eq, &k), &items[k]);
			present[k] = 0;
		} else {
			hmap_insert(&m, weak_hash(k), &items[k]);
			present[k] = 1;
		}
		if (step % 500 == 0)
			check_model(&m, present, N, items);
	}
	check_model(&m, present, N, items);
	uint64_t missing = N + 5;
	assert_null(hmap_remove(&m, weak_hash(missing), item_eq, &missing));
	hmap_clear(&m);
	assert_null(hmap_find(&m, 1, item_eq, &missing));
	assert_null(hmap_remove(&m, 1, item_eq, &missing));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_bytes),
		cmocka_unit_test(test_map_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
