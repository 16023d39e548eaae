/*
 * test_util_base64.c - unit tests for src/util/base64.h (RFC 4648 section 10 vectors).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "util/base64.h"

static const struct {
	const char *plain;
	const char *enc;
} vectors[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

static void
test_rfc4648_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		struct buf b;
		buf_init(&b, 100);
		assert_int_equal(base64_encode(&b, vectors[i].plain, strlen(vectors[i].plain), 0),
		                 0);
		if (strcmp(buf_cstr(&b), vectors[i].enc) != 0)
			fail_msg("encode %s: got %s, want %s", vectors[i].plain, buf_cstr(&b),
			         vectors[i].enc);
		buf_reset(&b);
		assert_int_equal(base64_decode(&b, span_cstr(vectors[i].enc)), 0);
		if (strcmp(buf_cstr(&b), vectors[i].plain) != 0)
			fail_msg("decode %s: got %s, want %s", vectors[i].enc, buf_cstr(&b),
			         vectors[i].plain);
		buf_clear(&b);
	}
}

static void
test_wrapping(void **state)
{
	unsigned char data[100];
	struct buf b, d;
	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)i;
	buf_init(&b, 1000);
	assert_int_equal(base64_encode(&b, data, sizeof(data), 76), 0);
	/* 100 bytes -> 136 chars -> one 76-char line and one 60-char line, each + CRLF */
	assert_int_equal(b.len, 136 + 4);
	assert_memory_equal(b.data + 76, "\r\n", 2);
	assert_memory_equal(b.data + b.len - 2, "\r\n", 2);
	buf_init(&d, 1000);
	assert_int_equal(base64_decode(&d, buf_span(&b)), 0);
	assert_int_equal(d.len, sizeof(data));
	assert_memory_equal(d.data, data, sizeof(data));
	buf_clear(&b);
	buf_clear(&d);
}

static void
test_decode_errors(void **state)
{
	static const char *bad[] = {
		"Zg=",      /* padding does not complete the quantum */
		"Z",        /* one leftover character */
		"Zg==Zg==", /* data after padding */
		"Zm9v!",    /* not in the alphabet */
		"Zh==",     /* non-zero leftover bits */
		"Zg===",    /* too much padding */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf b;
		buf_init(&b, 100);
		if (base64_decode(&b, span_cstr(bad[i])) != -1)
			fail_msg("%s: got accepted, want -1", bad[i]);
		buf_clear(&b);
	}
	struct buf b;
	buf_init(&b, 100);
	assert_int_equal(base64_decode(&b, span_cstr(" Zm9v\r\n YmFy\t")), 0);
	assert_string_equal(buf_cstr(&b), "foobar");
	buf_clear(&b);
	buf_init(&b, 2);
	assert_int_equal(base64_decode(&b, span_cstr("Zm9vYmFy")), BUF_ETOOBIG);
	buf_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_vectors),
		cmocka_unit_test(test_wrapping),
		cmocka_unit_test(test_decode_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
