/*
 * test_report_gzip.c - gzip writer and capped reader (src/report/gzip.c): round trips,
 * streaming, concatenated members, truncation at every length, trailing garbage,
 * corruption, and a 10 GiB bomb that costs at most the cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/gzip.h"

static void
fill_pseudo_random(char *p, size_t n)
{
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (char)(x % 7 == 0 ? 'a' + x % 26 : x & 0xff);
	}
}

static void
test_round_trip(void **state)
{
	static const size_t sizes[] = { 0, 1, 100, 16384, 16385, 300000 };
	(void)state;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		char *data = malloc(n + 1);
		struct buf gz, out;
		struct err e = { 0 };
		fill_pseudo_random(data, n);
		buf_init(&gz, 1 << 20);
		buf_init(&out, 1 << 20);
		assert_int_equal(gzip_compress(span_make(data, n), &gz, &e), 0);
		assert_true(gzip_is_gzip(buf_span(&gz)));
		if (gzip_decompress(buf_span(&gz), n, &out, &e) != 0)
			fail_msg("size %zu: %s", n, e.msg);
		assert_int_equal(out.len, n);
		assert_true(n == 0 || memcmp(out.data, data, n) == 0);
		/* a cap one byte short is refused */
		if (n > 0) {
			buf_reset(&out);
			assert_int_equal(gzip_decompress(buf_span(&gz), n - 1, &out, &e),
			                 ERR_TOOBIG);
			char want[96];
			snprintf(want, sizeof(want),
			         "gzip: decompressed data exceeds the cap of %zu bytes", n - 1);
			assert_string_equal(e.msg, want);
			assert_int_equal(out.len, n - 1);
		}
		buf_clear(&gz);
		buf_clear(&out);
		free(data);
	}
}

static void
test_streaming_and_members(void **state)
{
	struct buf gz, out;
	struct err e = { 0 };
	(void)state;

	buf_init(&gz, 1 << 20);
	buf_init(&out, 1 << 20);
	struct gzip_writer *w = gzip_writer_new(&gz, 6);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(gzip_writer_write(w, "hello, ", 7, &e), 0);
	assert_int_equal(gzip_writer_finish(w, &e), 0);
	assert_int_equal(gzip_writer_write(w, "x", 1, &e), ERR_BADSTATE);
	gzip_writer_free(w);
	gzip_writer_free(NULL);
	size_t one = gz.len;
	/* a second member: RFC 1952 section 2.2 */
	assert_int_equal(gzip_compress(SPAN_LIT("world"), &gz, &e), 0);
	assert_int_equal(gzip_decompress(buf_span(&gz), 1 << 20, &out, &e), 0);
	assert_int_equal(out.len, 7005);
	assert_memory_equal(out.data + 7000, "world", 5);
	assert_memory_equal(out.data, "hello, hello, ", 14);
	(void)one;
	buf_clear(&gz);
	buf_clear(&out);
}

static void
test_truncation_every_length(void **state)
{
	struct buf gz, out;
	struct err e = { 0 };
	char data[5000];
	(void)state;

	fill_pseudo_random(data, sizeof(data));
	buf_init(&gz, 1 << 20);
	buf_init(&out, 1 << 20);
	assert_int_equal(gzip_compress(span_make(data, sizeof(data)), &gz, &e), 0);
	for (size_t len = 0; len < gz.len; len++) {
		char want[96];
		buf_reset(&out);
		int rc = gzip_decompress(span_make(gz.data, len), 1 << 20, &out, &e);
		if (len < 2)
			snprintf(want, sizeof(want),
			         "gzip: not a gzip stream (magic 1f 8b missing)");
		else
			snprintf(want, sizeof(want),
			         "gzip: truncated stream (expected more input after %zu bytes)",
			         len);
		if (rc != ERR_INVALID || strcmp(e.msg, want) != 0)
			fail_msg("prefix %zu of %zu: got %d \"%s\", want \"%s\"", len, gz.len, rc,
			         e.msg, want);
	}
	buf_clear(&gz);
	buf_clear(&out);
}

static void
test_garbage_and_corruption(void **state)
{
	struct buf gz, out;
	struct err e = { 0 };
	char data[3000];
	(void)state;

	fill_pseudo_random(data, sizeof(data));
	buf_init(&gz, 1 << 20);
	buf_init(&out, 1 << 20);
	assert_int_equal(gzip_compress(span_make(data, sizeof(data)), &gz, &e), 0);
	size_t n = gz.len;
	buf_append(&gz, "xyz", 3);
	assert_int_equal(gzip_decompress(buf_span(&gz), 1 << 20, &out, &e), ERR_INVALID);
	char want[128];
	snprintf(want, sizeof(want),
	         "gzip: 3 bytes of trailing garbage after member 1 at offset %zu", n);
	assert_string_equal(e.msg, want);
	/* a flipped CRC byte */
	gz.len = n;
	gz.data[n - 6] ^= 0x55;
	buf_reset(&out);
	assert_int_equal(gzip_decompress(buf_span(&gz), 1 << 20, &out, &e), ERR_INVALID);
	assert_non_null(strstr(e.msg, "gzip: corrupt data at input offset"));
	assert_non_null(strstr(e.msg, "incorrect data check"));
	/* a bad header */
	gz.data[n - 6] ^= 0x55;
	gz.data[2] = 7; /* compression method must be 8 */
	buf_reset(&out);
	assert_int_equal(gzip_decompress(buf_span(&gz), 1 << 20, &out, &e), ERR_INVALID);
	assert_string_equal(e.msg,
	                    "gzip: corrupt data at input offset 4: unknown compression method");
	/* not gzip at all */
	assert_int_equal(gzip_decompress(SPAN_LIT("{\"a\":1}"), 100, &out, &e), ERR_INVALID);
	/* writer output cap */
	struct buf tiny;
	buf_init(&tiny, 10);
	assert_int_equal(gzip_compress(span_make(data, sizeof(data)), &tiny, &e), ERR_TOOBIG);
	assert_string_equal(e.msg, "gzip: compressed output exceeds the cap of 10 bytes");
	buf_clear(&tiny);
	buf_clear(&gz);
	buf_clear(&out);
}

/*
 * A bomb: 10240 members of 1 MiB of zeros each (about 10 MB of input, 10 GiB when
 * inflated).  With the default 25 MiB cap the reader stops after 25 MiB of output.
 */
static void
test_bomb(void **state)
{
	struct buf member, bomb, out;
	struct err e = { 0 };
	(void)state;

	char *zeros = calloc(1, 1 << 20);
	buf_init(&member, 1 << 20);
	assert_int_equal(gzip_compress(span_make(zeros, 1 << 20), &member, &e), 0);
	free(zeros);
	buf_init(&bomb, member.len * 10240);
	for (int i = 0; i < 10240; i++)
		assert_int_equal(buf_append(&bomb, member.data, member.len), 0);
	buf_init(&out, (size_t)64 << 20);
	clock_t t0 = clock();
	assert_int_equal(gzip_decompress(buf_span(&bomb), GZIP_DEFAULT_MAX_OUT, &out, &e),
	                 ERR_TOOBIG);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	assert_string_equal(e.msg, "gzip: decompressed data exceeds the cap of 26214400 bytes");
	assert_int_equal(out.len, GZIP_DEFAULT_MAX_OUT);
	/* inflating 10 GiB would take many seconds; stopping at the cap takes a fraction */
	if (secs > 5.0)
		fail_msg("bomb took %.2f s of CPU: the cap is not enforced while inflating", secs);
	buf_clear(&member);
	buf_clear(&bomb);
	buf_clear(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_streaming_and_members),
		cmocka_unit_test(test_truncation_every_length),
		cmocka_unit_test(test_garbage_and_corruption),
		cmocka_unit_test(test_bomb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
