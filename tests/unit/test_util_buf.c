/*
 * test_util_buf.c - unit tests for src/util/buf.h and err.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"

static void
test_append_and_cap(void **state)
{
	struct buf b;
	(void)state;
	buf_init(&b, 10);
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(buf_append_str(&b, "hello"), 0);
	assert_int_equal(buf_putc(&b, ' '), 0);
	assert_int_equal(b.len, 6);
	/* 5 more would make 11 > 10: refused, contents unchanged */
	assert_int_equal(buf_append_str(&b, "world"), BUF_ETOOBIG);
	assert_int_equal(b.len, 6);
	assert_string_equal(buf_cstr(&b), "hello ");
	assert_int_equal(buf_append_str(&b, "worl"), 0);
	assert_int_equal(b.len, 10);
	assert_int_equal(buf_putc(&b, 'd'), BUF_ETOOBIG);
	assert_string_equal(buf_cstr(&b), "hello worl");
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	buf_clear(&b);
	assert_null(b.data);
}

static void
test_printf(void **state)
{
	struct buf b;
	char big[600];
	(void)state;
	buf_init(&b, 1000);
	assert_int_equal(buf_printf(&b, "n=%d s=%s", 42, "x"), 0);
	assert_string_equal(buf_cstr(&b), "n=42 s=x");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* longer than the internal 256-byte fast path */
	assert_int_equal(buf_printf(&b, "%s", big), 0);
	assert_int_equal(b.len, 8 + 599);
	assert_int_equal(buf_printf(&b, "%s", big), BUF_ETOOBIG);
	assert_int_equal(b.len, 8 + 599);
	size_t len;
	char *s = buf_steal(&b, &len);
	assert_int_equal(len, 607);
	assert_int_equal(strlen(s), 607);
	free(s);
	assert_null(b.data);
	s = buf_steal(&b, &len);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
}

static void
test_growth_many(void **state)
{
	struct buf b;
	(void)state;
	buf_init(&b, 1 << 20);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(buf_putc(&b, (char)('a' + i % 26)), 0);
	assert_int_equal(b.len, 100000);
	assert_int_equal(b.data[99999], 'a' + 99999 % 26);
	assert_int_equal(b.data[100000], '\0');
	buf_clear(&b);
}

static void
test_err(void **state)
{
	struct err e;
	(void)state;
	err_clear(&e);
	assert_int_equal(e.code, 0);
	assert_string_equal(e.msg, "");
	assert_int_equal(err_set(&e, ERR_INVALID, "expected %s", "hourly|daily"), ERR_INVALID);
	assert_string_equal(e.msg, "expected hourly|daily");
	assert_int_equal(err_prefix(&e, "%s:%d", "tlsrptd.toml", 12), ERR_INVALID);
	assert_string_equal(e.msg, "tlsrptd.toml:12: expected hourly|daily");
	assert_int_equal(err_set(NULL, ERR_IO, "ignored"), ERR_IO);
	assert_int_equal(err_prefix(NULL, "x"), 0);
	/* a long prefix truncates the message but keeps it terminated */
	char longp[700];
	memset(longp, 'p', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	err_prefix(&e, "%s", longp);
	assert_int_equal(strlen(e.msg), ERR_MSG_MAX - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_cap),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_growth_many),
		cmocka_unit_test(test_err),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
