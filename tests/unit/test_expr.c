/*
 * test_expr.c - unit tests of the configuration expression language (src/config/expr).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config/expr.h"

static const char *const known_vars[] = { "rcpt_domain", "mx", "remote_ip" };
static const struct expr_opts opts = { known_vars, 3, EXPR_BARE };

static int
fake_config_get(void *arg, const char *key, struct expr_value *out, struct err *e)
{
	(void)arg;
	if (strcmp(key, "report.domain") == 0) {
		expr_value_set_string(out, "example.org", 11);
		return 0;
	}
	if (strcmp(key, "fail") == 0)
		return err_set(e, ERR_INVALID, "config_get failed");
	expr_value_set_string(out, "", 0);
	return 0;
}

static int
fake_key_get(void *arg, const char *store, const char *key, struct expr_value *out, struct err *e)
{
	char tmp[128];
	(void)arg;
	(void)e;
	int n = snprintf(tmp, sizeof(tmp), "%s/%s", store, key);
	expr_value_set_string(out, tmp, (size_t)n);
	return 0;
}

static const struct expr_var vars[] = {
	{ "rcpt_domain", "Example.COM" },
	{ "mx", "mx1.example.com" },
};
static const struct expr_env env = { vars, 2, fake_config_get, fake_key_get, NULL };

/* Compiles and evaluates src; returns the formatted value or "ERR: msg". */
static void
run(const char *src, char *out, size_t cap)
{
	struct expr *x = NULL;
	struct expr_value v = { .type = EXPR_STRING };
	struct err e = { 0 };
	struct buf b;

	if (expr_compile(src, strlen(src), &opts, &x, &e) != 0) {
		snprintf(out, cap, "COMPILE: %s", e.msg);
		return;
	}
	if (expr_eval(x, &env, &v, &e) != 0) {
		snprintf(out, cap, "ERR: %s", e.msg);
		expr_free(x);
		return;
	}
	buf_init(&b, 4096);
	if (v.type == EXPR_STRING) {
		buf_putc(&b, '\'');
		expr_value_format(&v, &b);
		buf_putc(&b, '\'');
	} else {
		expr_value_format(&v, &b);
	}
	snprintf(out, cap, "%s", buf_cstr(&b));
	buf_clear(&b);
	expr_value_clear(&v);
	expr_free(x);
}

struct eval_case {
	const char *src;
	const char *want;
};

static const struct eval_case eval_cases[] = {
	/* literals and bare constants */
	{ "'TLS Report'", "'TLS Report'" },
	{ "\"double\"", "'double'" },
	{ "'it\\'s \\\\ ok'", "'it's \\ ok'" },
	{ "daily", "'daily'" },
	{ "  hourly  ", "'hourly'" },
	{ "relaxed.relaxed-x", "'relaxed.relaxed-x'" },
	{ "true", "true" },
	{ "false", "false" },
	{ "42", "42" },
	{ "1.5", "1.5" },
	{ "26214400", "26214400" },
	{ "['rsa']", "[\"rsa\"]" },
	{ "['rsa', 'ed25519']", "[\"rsa\", \"ed25519\"]" },
	{ "[]", "[]" },
	{ "[1, 'a', true, [2]]", "[1, \"a\", true, [2]]" },
	{ "['a',]", "[\"a\"]" },
	/* variables */
	{ "rcpt_domain", "'Example.COM'" },
	{ "remote_ip", "''" },
	/* precedence */
	{ "1 + 2 * 3", "7" },
	{ "(1 + 2) * 3", "9" },
	{ "10 - 4 - 3", "3" },
	{ "12 / 4 / 3", "1" },
	{ "7 / 2", "3" },
	{ "7.0 / 2", "3.5" },
	{ "-3 + 5", "2" },
	{ "- -3", "3" },
	{ "2 * -3", "-6" },
	{ "1 + 2 == 3", "true" },
	{ "1 < 2 && 2 < 1 || true", "true" },
	{ "false || false && true", "false" },
	{ "!true || true", "true" },
	{ "!(1 == 1)", "false" },
	{ "1 != 2", "true" },
	{ "2 <= 2", "true" },
	{ "3 >= 4", "false" },
	{ "'b' > 'a'", "true" },
	{ "'abc' < 'abd'", "true" },
	{ "1 == 1.0", "true" },
	{ "'1' == 1", "true" },
	{ "['a'] == ['a']", "true" },
	/* concatenation */
	{ "'noreply-tls@' + config_get('report.domain')", "'noreply-tls@example.org'" },
	{ "'a' + 1", "'a1'" },
	{ "1 + 'a'", "'1a'" },
	{ "'x' + true", "'xtrue'" },
	{ "'rsa-' + rcpt_domain", "'rsa-Example.COM'" },
	/* functions */
	{ "lower(rcpt_domain)", "'example.com'" },
	{ "upper('abc')", "'ABC'" },
	{ "is_empty('')", "true" },
	{ "is_empty([])", "true" },
	{ "is_empty('x')", "false" },
	{ "is_empty(0)", "false" },
	{ "contains(['a', 'b'], 'b')", "true" },
	{ "contains(['a', 'b'], 'c')", "false" },
	{ "contains('example.org', 'ple.o')", "true" },
	{ "contains('abc', '')", "true" },
	{ "starts_with(mx, 'mx1.')", "true" },
	{ "ends_with(mx, '.example.com')", "true" },
	{ "ends_with('a', 'abc')", "false" },
	{ "concat('a', 'b', 1)", "'ab1'" },
	{ "concat()", "''" },
	{ "key_get('default', 'hostname')", "'default/hostname'" },
	{ "config_get('unknown.key')", "''" },
	{ "parent_domain('mx.example.org')", "'example.org'" },
	{ "parent_domain('example.org')", "'example.org'" },
	{ "parent_domain('a.b.c.d.')", "'b.c.d'" },
	{ "parent_domain('localhost')", "'localhost'" },
	{ "lower(rcpt_domain) == 'example.com' && starts_with(mx, 'mx')", "true" },
	/* evaluation errors */
	{ "1 / 0", "ERR: division by zero" },
	{ "1.5 / 0.0", "ERR: division by zero" },
	{ "9223372036854775807 + 1", "ERR: integer overflow in '+'" },
	{ "-'a'", "ERR: operator '-' needs a number" },
	{ "'a' * 2", "ERR: operator '*' needs numbers" },
	{ "[1] + 1", "ERR: operator '+' needs numbers" },
	{ "[1] < [2]", "ERR: cannot order lists" },
	{ "lower(['a'])", "ERR: lower: expected a string, got a list" },
	{ "config_get('fail')", "ERR: config_get failed" },
	{ "false || 1 / 0", "ERR: division by zero" },
	{ "true || 1 / 0", "true" },
	{ "false && 1 / 0", "false" },
	/* syntax errors with columns */
	{ "'TLS Report", "COMPILE: expression column 1: unterminated string literal" },
	{ "'abc' + 'de", "COMPILE: expression column 9: unterminated string literal" },
	{ "'a\\qb'", "COMPILE: expression column 3: invalid escape '\\q'" },
	{ "1 +", "COMPILE: expression column 4: unexpected end of expression" },
	{ "", "COMPILE: expression column 1: empty expression" },
	{ "   ", "COMPILE: expression column 4: empty expression" },
	{ "(1 + 2", "COMPILE: expression column 7: expected ')' but found 'end of expression'" },
	{ "[1, 2", "COMPILE: expression column 6: expected ']' but found 'end of expression'" },
	{ "1 2", "COMPILE: expression column 3: unexpected '2'" },
	{ "a = b", "COMPILE: expression column 3: expected '==' instead of '='" },
	{ "1 & 2", "COMPILE: expression column 3: expected '&&'" },
	{ "1 | 2", "COMPILE: expression column 3: expected '||'" },
	{ "1 # 2", "COMPILE: expression column 3: unexpected character '#'" },
	{ "foo(1)", "COMPILE: expression column 1: unknown function 'foo'" },
	{ "lower()", "COMPILE: expression column 1: function lower takes 1 argument, got 0" },
	{ "key_get('a')",
	  "COMPILE: expression column 1: function key_get takes 2 arguments, got 1" },
	{ "'a' + domain", "COMPILE: expression column 7: unknown variable 'domain'" },
	{ "12abc", "COMPILE: expression column 1: invalid number" },
	{ "99999999999999999999", "COMPILE: expression column 1: number out of range" },
	{ "(,)", "COMPILE: expression column 2: unexpected ','" },
	{ "1 +\x01", "COMPILE: expression column 4: unexpected character" },
};

static void
test_eval_table(void **state)
{
	(void)state;
	int failed = 0;
	for (size_t i = 0; i < sizeof(eval_cases) / sizeof(eval_cases[0]); i++) {
		char got[1024];
		run(eval_cases[i].src, got, sizeof(got));
		if (strcmp(got, eval_cases[i].want) != 0) {
			print_error("%s: got %s, want %s\n", eval_cases[i].src, got,
			            eval_cases[i].want);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

static void
test_constant_flags(void **state)
{
	struct expr *x = NULL;
	struct err e = { 0 };
	(void)state;

	assert_int_equal(expr_compile("daily", 5, &opts, &x, &e), 0);
	assert_true(expr_is_constant(x));
	assert_true(expr_is_literal(x));
	expr_free(x);
	assert_int_equal(expr_compile("rcpt_domain == 'a'", 18, &opts, &x, &e), 0);
	assert_false(expr_is_constant(x));
	assert_false(expr_is_literal(x));
	expr_free(x);
	assert_int_equal(expr_compile("config_get('a') + 'b'", 21, &opts, &x, &e), 0);
	assert_true(expr_is_constant(x));
	assert_false(expr_is_literal(x));
	expr_free(x);
	/* without EXPR_BARE a bare word is an unknown variable */
	assert_int_equal(expr_compile("daily", 5, NULL, &x, &e), ERR_INVALID);
	assert_string_equal(e.msg, "expression column 1: unknown variable 'daily'");
	assert_null(x);
}

static void
test_caps(void **state)
{
	static char src[EXPR_MAX_LEN + 2];
	struct expr *x = NULL;
	struct err e = { 0 };
	(void)state;

	memset(src, ' ', sizeof(src));
	assert_int_equal(expr_compile(src, EXPR_MAX_LEN + 1, &opts, &x, &e), ERR_TOOBIG);
	assert_string_equal(e.msg, "expression column 4097: expression longer than 4096 bytes");

	/* nesting: 40 parentheses exceed the depth cap */
	char deep[128];
	size_t n = 0;
	for (int i = 0; i < 40; i++)
		deep[n++] = '(';
	deep[n++] = '1';
	for (int i = 0; i < 40; i++)
		deep[n++] = ')';
	assert_int_equal(expr_compile(deep, n, &opts, &x, &e), ERR_INVALID);
	assert_string_equal(e.msg, "expression column 33: expression nested too deeply");

	/* long variables concatenated hit the string cap, not memory */
	static char longval[2001];
	memset(longval, 'v', 2000);
	const struct expr_var lv[] = { { "mx", longval } };
	const struct expr_env lenv = { lv, 1, NULL, NULL, NULL };
	struct buf b;
	buf_init(&b, EXPR_MAX_LEN);
	buf_append_str(&b, "concat(mx");
	for (int i = 0; i < 40; i++)
		buf_append_str(&b, ", mx");
	buf_append_str(&b, ")");
	assert_int_equal(expr_compile(buf_cstr(&b), b.len, &opts, &x, &e), 0);
	struct expr_value v = { .type = EXPR_STRING };
	assert_int_equal(expr_eval(x, &lenv, &v, &e), ERR_TOOBIG);
	assert_string_equal(e.msg, "string longer than 65536 bytes");
	expr_free(x);
	buf_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eval_table),
		cmocka_unit_test(test_constant_flags),
		cmocka_unit_test(test_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
