/*
 * test_report_rjson.c - the strict JSON parser (src/report/rjson.c): values, escapes,
 * UTF-8, surrogates, numbers, duplicates, depth, exact error messages, and agreement
 * with jansson (JSON_REJECT_DUPLICATES) on every case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "report/rjson.h"
#include "util/buf.h"

static const struct jcase {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen(in) */
	int rc;
	const char *msg; /* exact message when rc != 0 */
} cases[] = {
	{ "empty object", "{}", 0, 0, NULL },
	{ "white space", " \t\r\n{ \"a\" : [ 1 , 2 ] }\n", 0, 0, NULL },
	{ "literals", "[true,false,null]", 0, 0, NULL },
	{ "numbers", "[0,-0,1,-1,9223372036854775807,-9223372036854775808,1.5,-2e3,1E+2,0.5e-1]", 0,
	  0, NULL },
	{ "escapes", "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e4\\uD83D\\uDE00\"]", 0, 0, NULL },
	{ "raw UTF-8", "[\"\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80\"]", 0, 0, NULL },
	{ "empty", "", 0, ERR_INVALID, "not JSON: unexpected end of input (line 1, column 1)" },
	{ "bare word", "hello", 0, ERR_INVALID, "not JSON: invalid token (line 1, column 1)" },
	{ "trailing comma", "[1,]", 0, ERR_INVALID, "not JSON: invalid token (line 1, column 4)" },
	{ "missing comma", "{\"a\":1 \"b\":2}", 0, ERR_INVALID,
	  "not JSON: expected ',' or '}' (line 1, column 8)" },
	{ "missing colon", "{\"a\" 1}", 0, ERR_INVALID,
	  "not JSON: expected ':' (line 1, column 6)" },
	{ "unquoted key", "{a:1}", 0, ERR_INVALID,
	  "not JSON: expected a member name (line 1, column 2)" },
	{ "unterminated", "[\"abc", 0, ERR_INVALID,
	  "not JSON: unterminated string (line 1, column 6)" },
	{ "unclosed array", "[1", 0, ERR_INVALID,
	  "not JSON: expected ',' or ']' (line 1, column 3)" },
	{ "second line", "{\n\"a\":\n  x}", 0, ERR_INVALID,
	  "not JSON: invalid token (line 3, column 3)" },
	{ "leading zero", "[01]", 0, ERR_INVALID,
	  "not JSON: expected ',' or ']' (line 1, column 3)" },
	{ "bare minus", "[-]", 0, ERR_INVALID, "not JSON: invalid number (line 1, column 2)" },
	{ "dot without digits", "[1.]", 0, ERR_INVALID,
	  "not JSON: invalid number (line 1, column 2)" },
	{ "plus sign", "[+1]", 0, ERR_INVALID, "not JSON: invalid token (line 1, column 2)" },
	{ "integer too big", "[9223372036854775808]", 0, ERR_INVALID,
	  "not JSON: integer too big (line 1, column 2)" },
	{ "negative too big", "[-9223372036854775809]", 0, ERR_INVALID,
	  "not JSON: integer too big (line 1, column 2)" },
	{ "long real", "[4999999999999999999999999999999999999999999999999999999999999999999.49]",
	  0, 0, NULL },
	{ "real overflow", "[1e400]", 0, ERR_INVALID,
	  "not JSON: real number overflow (line 1, column 2)" },
	{ "control char", "[\"a\tb\"]", 0, ERR_INVALID,
	  "not JSON: control character in string (line 1, column 4)" },
	{ "bad escape", "[\"\\x\"]", 0, ERR_INVALID,
	  "not JSON: invalid escape (line 1, column 3)" },
	{ "short \\u", "[\"\\u12\"]", 0, ERR_INVALID,
	  "not JSON: invalid \\u escape (line 1, column 3)" },
	{ "lone high surrogate", "[\"\\uD800x\"]", 0, ERR_INVALID,
	  "not JSON: lone surrogate in \\u escape (line 1, column 3)" },
	{ "lone low surrogate", "[\"\\uDC00\"]", 0, ERR_INVALID,
	  "not JSON: lone surrogate in \\u escape (line 1, column 3)" },
	{ "NUL escape", "[\"\\u0000\"]", 0, ERR_INVALID,
	  "not JSON: \\u0000 is not allowed (line 1, column 3)" },
	{ "raw NUL", "[\"a\0b\"]", 7, ERR_INVALID,
	  "not JSON: control character in string (line 1, column 4)" },
	/* jansson accepts this one (a NUL after a number); RFC 8259 does not */
	{ "NUL after a number", "[1\0]", 4, ERR_INVALID,
	  "not JSON: expected ',' or ']' (line 1, column 3)" },
	{ "invalid UTF-8", "[\"\xff\"]", 0, ERR_INVALID,
	  "not JSON: invalid UTF-8 in string (line 1, column 3)" },
	{ "overlong UTF-8", "[\"\xc0\xaf\"]", 0, ERR_INVALID,
	  "not JSON: invalid UTF-8 in string (line 1, column 3)" },
	{ "UTF-8 surrogate", "[\"\xed\xa0\x80\"]", 0, ERR_INVALID,
	  "not JSON: invalid UTF-8 in string (line 1, column 3)" },
	{ "truncated UTF-8", "[\"\xe2\x82\"]", 0, ERR_INVALID,
	  "not JSON: invalid UTF-8 in string (line 1, column 3)" },
	{ "duplicate", "{\"a\":1,\"b\":2,\"a\":3}", 0, ERR_INVALID,
	  "not JSON: duplicate member name \"a\" (line 1, column 1)" },
	{ "duplicate by escape", "{\"a\":1,\"\\u0061\":3}", 0, ERR_INVALID,
	  "not JSON: duplicate member name \"a\" (line 1, column 1)" },
	{ "duplicate in a large object",
	  "{\"k1\":1,\"k2\":1,\"k3\":1,\"k4\":1,\"k5\":1,\"k6\":1,\"k7\":1,\"k8\":1,\"k9\":1,"
	  "\"k10\":1,\"k11\":1,\"k12\":1,\"k13\":1,\"k14\":1,\"k15\":1,\"k16\":1,\"k17\":1,\"k3\":"
	  "1}",
	  0, ERR_INVALID, "not JSON: duplicate member name \"k3\" (line 1, column 1)" },
	{ "trailing data", "{}x", 0, ERR_INVALID,
	  "not JSON: end of input expected (line 1, column 3)" },
	{ "byte order mark", "\xef\xbb\xbf{}", 0, ERR_INVALID,
	  "not JSON: invalid token (line 1, column 1)" },
	{ "single quotes", "{'a':1}", 0, ERR_INVALID,
	  "not JSON: expected a member name (line 1, column 2)" },
	{ "NaN", "[NaN]", 0, ERR_INVALID, "not JSON: invalid token (line 1, column 2)" },
	{ "truncated literal", "[tru]", 0, ERR_INVALID,
	  "not JSON: invalid token (line 1, column 2)" },
	{ "depth 8 ok", "[[[[[[[[]]]]]]]]", 0, 0, NULL },
	{ "depth 9 too deep", "[[[[[[[[[]]]]]]]]]", 0, ERR_TOOBIG,
	  "report: JSON nested deeper than 8 levels" },
};

static void
test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct jcase *c = &cases[i];
		size_t len = c->len ? c->len : strlen(c->in);
		struct rjson_doc doc;
		struct err e = { 0 };
		int rc = rjson_parse(span_make(c->in, len), 8, &doc, &e);
		if (rc != c->rc)
			fail_msg("%s: got rc %d (%s), want %d", c->name, rc, e.msg, c->rc);
		if (rc != 0 && strcmp(e.msg, c->msg) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", c->name, e.msg, c->msg);
		rjson_free(&doc);
		/* jansson agrees on valid / invalid (depth aside; it wants [ or { on top) */
		if (c->rc == ERR_TOOBIG || memchr(c->in, 0, len) != NULL)
			continue;
		json_error_t je;
		json_t *j = json_loadb(c->in, len, JSON_REJECT_DUPLICATES, &je);
		if ((j != NULL) != (rc == 0))
			fail_msg("%s: jansson says %s (%s), we say %d", c->name,
			         j ? "valid" : "invalid", j ? "" : je.text, rc);
		json_decref(j);
	}
}

static void
test_values(void **state)
{
	struct rjson_doc doc;
	struct err e = { 0 };
	const char *in =
	        "{\"s\":\"a\\u00e4\\uD83D\\uDE00\\n\",\"n\":-42,\"r\":2.5,\"a\":[true,null],"
	        "\"o\":{}}";
	(void)state;

	assert_int_equal(rjson_parse(span_cstr(in), 8, &doc, &e), 0);
	assert_int_equal(doc.root.type, RJSON_OBJECT);
	assert_int_equal(doc.root.n, 5);
	assert_string_equal(doc.root.u.o[0].key, "s");
	const struct rjson *s = rjson_get(&doc.root, "s");
	assert_string_equal(s->u.s, "a\xc3\xa4\xf0\x9f\x98\x80\n");
	assert_int_equal(s->n, 8);
	assert_int_equal(rjson_get(&doc.root, "n")->u.i, -42);
	assert_true(rjson_get(&doc.root, "r")->u.d == 2.5);
	const struct rjson *a = rjson_get(&doc.root, "a");
	assert_int_equal(a->n, 2);
	assert_int_equal(a->u.a[0].type, RJSON_TRUE);
	assert_int_equal(a->u.a[1].type, RJSON_NULL);
	assert_int_equal(rjson_get(&doc.root, "o")->n, 0);
	assert_null(rjson_get(&doc.root, "missing"));
	assert_null(rjson_get(a, "s"));
	rjson_free(&doc);
	rjson_free(&doc); /* twice is fine */
}

static void
test_big(void **state)
{
	/* many values: the scratch stacks and the arena grow */
	struct buf b;
	struct rjson_doc doc;
	struct err e = { 0 };
	(void)state;

	buf_init(&b, 1 << 24);
	buf_putc(&b, '[');
	for (int i = 0; i < 200000; i++)
		buf_printf(&b, "%s{\"k%d\":[\"v\",%d]}", i ? "," : "", i % 7, i);
	buf_putc(&b, ']');
	assert_int_equal(rjson_parse(buf_span(&b), 8, &doc, &e), 0);
	assert_int_equal(doc.root.n, 200000);
	assert_int_equal(doc.root.u.a[199999].u.o[0].value.u.a[1].u.i, 199999);
	rjson_free(&doc);
	buf_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_big),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
