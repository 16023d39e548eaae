/*
 * test_toml.c - unit tests for src/config/toml.h: exact error messages with positions,
 * caps, the flattened Stalwart view (keys, values, types, positions) and the typed tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/toml.h"
#include "util/buf.h"

/* Parses s (as "t.toml") and returns the error message, or "" on success. */
static const char *
parse_err(const char *s, size_t len, const struct toml_limits *lim, struct err *e)
{
	struct toml_doc *doc = NULL;
	int rc = toml_parse("t.toml", s, len, lim, &doc, e);
	if (rc == 0) {
		toml_free(doc);
		return "";
	}
	if (doc != NULL)
		fail_msg("failed parse left *out set");
	if (rc != e->code)
		fail_msg("rc %d != e->code %d", rc, e->code);
	return e->msg;
}

static void
test_errors(void **state)
{
	static const struct {
		const char *name;
		const char *in;
		const char *want;
	} cases[] = {
		{ "duplicate key", "a = 1\nb = 2\na = 3\n",
		  "t.toml:3:1: duplicate key \"a\" (first defined at 1:5)" },
		{ "duplicate dotted key", "[t]\nx.y = 1\nx.y = 2\n",
		  "t.toml:3:1: duplicate key \"x.y\" (first defined at 2:7)" },
		{ "duplicate quoted key", "\"a\" = 1\n'a' = 2\n",
		  "t.toml:2:1: duplicate key \"a\" (first defined at 1:7)" },
		{ "redefined table", "[a]\nx = 1\n[b]\n[a]\n",
		  "t.toml:4:2: table \"a\" is already defined (at 1:2)" },
		{ "table over dotted keys", "[fruit]\napple.color = \"red\"\n[fruit.apple]\n",
		  "t.toml:3:2: table \"fruit.apple\" is already defined by dotted keys (at 2:1)" },
		{ "dotted key into header table", "[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n",
		  "t.toml:4:3: cannot define key \"b.c.t\": table \"b.c\" was already defined at "
		  "1:6; add the key in that table's section" },
		{ "table over value", "a = 1\n[a]\n",
		  "t.toml:2:2: cannot define table \"a\": it is already an integer (defined at "
		  "1:5)" },
		{ "aot over static array", "a = [1]\n[[a]]\n",
		  "t.toml:2:3: cannot define array of tables \"a\": it is already a static array "
		  "(defined at 1:5)" },
		{ "table over aot", "[[a]]\n[a]\n",
		  "t.toml:2:2: cannot define table \"a\": it is already an array of tables "
		  "(defined "
		  "at 1:3)" },
		{ "key through value", "a = 1\na.b = 2\n",
		  "t.toml:2:1: cannot define key \"a.b\": \"a\" is already an integer (defined at "
		  "1:5)" },
		{ "inline table extension", "x = {a = 1}\nx.b = 2\n",
		  "t.toml:2:1: cannot define key \"x.b\": inline table \"x\" (defined at 1:5) "
		  "cannot "
		  "be extended" },
		{ "inline table header", "x = {a = 1}\n[x.y]\n",
		  "t.toml:2:2: cannot define table \"x.y\": \"x\" is an inline table (defined at "
		  "1:5), which cannot be extended" },
		{ "inline trailing comma", "x = {a = 1,}\n",
		  "t.toml:1:11: trailing comma in inline table; remove the \",\" before \"}\"" },
		{ "inline newline", "x = {a = 1\n}\n",
		  "t.toml:1:11: line end inside an inline table; an inline table must be on one "
		  "line (use a [table] for more keys)" },
		{ "bad escape", "s = \"a\\qb\"\n",
		  "t.toml:1:7: invalid escape \\q in string; valid escapes are \\b \\t \\n \\f \\r "
		  "\\\" \\\\ \\uXXXX \\UXXXXXXXX" },
		{ "backslash before space", "s = \"\\ x\"\n",
		  "t.toml:1:6: invalid escape: backslash followed by \" \"; valid escapes are \\b "
		  "\\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX" },
		{ "backslash at end of single-line string", "s = \"x\\\ny\"\n",
		  "t.toml:1:7: backslash at the end of a line in a single-line string" },
		{ "bad unicode escape", "s = \"\\u12G4\"\n",
		  "t.toml:1:6: invalid \\u escape: expected 4 hex digits" },
		{ "surrogate escape", "s = \"\\uD800\"\n",
		  "t.toml:1:6: \\uD800 is not a Unicode scalar value" },
		{ "escape beyond U+10FFFF", "s = \"\\U00110000\"\n",
		  "t.toml:1:6: \\U00110000 is not a Unicode scalar value" },
		{ "invalid UTF-8", "# ok\ns = \"a\xff\"\n",
		  "t.toml:2:7: invalid UTF-8 (byte 0xFF); the file must be UTF-8" },
		{ "overlong UTF-8", "s = \"\xc0\xaf\"\n",
		  "t.toml:1:6: invalid UTF-8 (byte 0xC0); the file must be UTF-8" },
		{ "control char in string",
		  "s = \"a\x01"
		  "b\"\n",
		  "t.toml:1:7: control character U+0001 in string; write it as \\u0001" },
		{ "control char in literal", "s = 'a\x1b'\n",
		  "t.toml:1:7: control character U+001B in literal string" },
		{ "control char in comment", "a = 1 # x\x7f\n",
		  "t.toml:1:10: control character U+007F in comment" },
		{ "unterminated string", "a = \"abc\nb = 1\n",
		  "t.toml:1:5: unterminated string: missing closing \" before the end of the "
		  "line" },
		{ "unterminated multi-line string", "a = \"\"\"abc\n",
		  "t.toml:1:5: unterminated multi-line string: missing closing \"\"\"" },
		{ "unterminated literal", "a = 'abc",
		  "t.toml:1:5: unterminated literal string: missing closing '" },
		{ "bare CR", "a = 1\r b = 2\n",
		  "t.toml:1:6: carriage return not followed by a line feed" },
		{ "integer overflow", "n = 9223372036854775808\n",
		  "t.toml:1:5: integer \"9223372036854775808\" does not fit in 64 bits" },
		{ "negative overflow", "n = -9223372036854775809\n",
		  "t.toml:1:5: integer \"-9223372036854775809\" does not fit in 64 bits" },
		{ "hex overflow", "n = 0x8000000000000000\n",
		  "t.toml:1:5: integer \"0x8000000000000000\" does not fit in 64 bits" },
		{ "leading zero", "n = 0123\n",
		  "t.toml:1:5: leading zeros are not allowed in \"0123\"" },
		{ "double underscore", "n = 1__0\n",
		  "t.toml:1:5: misplaced underscore in \"1__0\": underscores must be between "
		  "digits" },
		{ "trailing underscore", "n = 10_\n",
		  "t.toml:1:5: misplaced underscore in \"10_\": underscores must be between "
		  "digits" },
		{ "float without fraction digits", "f = 1.\n",
		  "t.toml:1:5: invalid float \"1.\": expected digits after \".\"" },
		{ "float without exponent digits", "f = 1e\n",
		  "t.toml:1:5: invalid float \"1e\": expected digits in the exponent" },
		{ "float out of range", "f = 1e400\n",
		  "t.toml:1:5: float \"1e400\" is out of range" },
		{ "sign on hex", "a = +0x10\n",
		  "t.toml:1:5: invalid integer \"+0x10\": hexadecimal, octal and binary integers "
		  "cannot have a sign" },
		{ "uppercase prefix", "a = 0X10\n",
		  "t.toml:1:5: invalid integer \"0X10\": the prefix must be 0x, 0o or 0b" },
		{ "bad date", "d = 2023-02-29\n",
		  "t.toml:1:5: invalid date: day 29 is not 01-28 for 2023-02" },
		{ "bad month", "d = 2023-13-01\n",
		  "t.toml:1:5: invalid date: month 13 is not 01-12" },
		{ "no seconds", "t = 10:30\n",
		  "t.toml:1:5: invalid time: expected hh:mm:ss (seconds are required)" },
		{ "bad hour", "t = 24:00:00\n", "t.toml:1:5: invalid time: hour 24 is not 00-23" },
		{ "bad offset", "d = 2023-01-01T10:00:00+25:00\n",
		  "t.toml:1:5: invalid date-time: offset +25:00 out of range" },
		{ "bare string", "a = hello\n",
		  "t.toml:1:5: invalid value \"hello\" (strings must be quoted)" },
		{ "missing value", "a =\n",
		  "t.toml:1:4: expected a value (string, number, boolean, date-time, array or "
		  "inline "
		  "table), found end of line" },
		{ "missing equals", "a 1\n",
		  "t.toml:1:3: expected \"=\" after the key, found \"1\"" },
		{ "two values", "a = 1 2\n",
		  "t.toml:1:7: expected a line end after the value, found \"2\"" },
		{ "unclosed header", "[a\nb = 1\n",
		  "t.toml:1:3: expected \"]\" to close the table header, found end of line" },
		{ "bad aot close", "[[a]\n",
		  "t.toml:1:5: expected \"]]\" to close the array of tables header, found end of "
		  "line" },
		{ "array missing comma", "a = [1 2]\n",
		  "t.toml:1:8: expected \",\" or \"]\" after an array item, found \"2\"" },
		{ "unterminated array", "a = [1, 2\n",
		  "t.toml:1:5: unterminated array: missing \"]\"" },
		{ "empty key", "= 1\n", "t.toml:1:1: expected a key, found \"=\"" },
		{ "multi-line key", "\"\"\"a\"\"\" = 1\n",
		  "t.toml:1:1: a multi-line string cannot be a key" },
		{ "too many quotes", "a = \"\"\"x\"\"\"\"\"\"\n",
		  "t.toml:1:14: too many quotes at the end of a multi-line string; escape them" },
		{ "column counts characters", "k = \"\xc3\xa9\xc3\xa9\" x\n",
		  "t.toml:1:10: expected a line end after the value, found \"x\"" },
		{ "column after BOM",
		  "\xef\xbb\xbf"
		  "a = 1 2\n",
		  "t.toml:1:7: expected a line end after the value, found \"2\"" },
		{ "CRLF lines", "a = 1\r\nb = 2\r\nb = 3\r\n",
		  "t.toml:3:1: duplicate key \"b\" (first defined at 2:5)" },
		{ "flat collision by case", "[A]\nx = 1\n[a]\nx = 2\n",
		  "t.toml:4:5: key \"a.x\" is defined twice: also at 2:5 (table names are "
		  "case-insensitive and quoted keys may contain dots)" },
		{ "flat collision by quoted dot", "a.b = 1\n\"a.b\" = 2\n",
		  "t.toml:2:9: key \"a.b\" is defined twice: also at 1:7 (table names are "
		  "case-insensitive and quoted keys may contain dots)" },
		{ "NUL in flat key", "\"a\\u0000b\" = 1\n",
		  "t.toml:1:14: key \"a\\u0000b\" contains U+0000, which configuration keys cannot "
		  "hold" },
		{ "key with control char shown escaped", "\"\\n\" = 1\n\"\\n\" = 2\n",
		  "t.toml:2:1: duplicate key \"\\u000a\" (first defined at 1:8)" },
		{ "comment in inline table", "x = {a = 1 # no\n}\n",
		  "t.toml:1:12: expected \",\" or \"}\" in inline table, found \"#\"" },
	};
	struct err e;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = parse_err(cases[i].in, strlen(cases[i].in), NULL, &e);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s:\n got  %s\n want %s", cases[i].name, got, cases[i].want);
	}
}

static void
test_valid_edge_cases(void **state)
{
	static const char *const ok[] = {
		"",
		"\xef\xbb\xbf",
		"# only a comment",
		"a = 1",          /* no final newline */
		"a = 1 # c\r\n",  /* CRLF */
		"[a.b.c]\n[a]\n", /* implicit then explicit */
		"[a]\n[a.b]\n",
		"[fruit]\napple.color = 1\n[fruit.apple.texture]\nsmooth = true\n",
		"a = [1, 'x', 1.5, [], {}, {b = 2}]\n", /* mixed arrays are fine in 1.0 */
		"a = [\n  1, # one\n  2,\n]\n",
		"t = {a.b = 1, a.c = 2}\n",
		"[[a]]\n[a.b]\n[[a]]\n[a.b]\n",
		"\"\" = 1\n",
		"s = \"\"\"\nx\\\n   \n  y\"\"\"\n",
		"d = 1979-05-27 07:32:00.999+01:00\n",
		"n = -9223372036854775808\n",
		"x = 0x7FFFFFFFFFFFFFFF\n",
	};
	struct err e;
	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		const char *got = parse_err(ok[i], strlen(ok[i]), NULL, &e);
		if (got[0] != '\0')
			fail_msg("case %zu %s: got error %s, want success", i, ok[i], got);
	}
}

static void
test_caps(void **state)
{
	struct toml_limits lim = { 16, 4 };
	struct err e;
	struct buf b;
	(void)state;

	assert_string_equal(parse_err("a = \"0123456789\"\n", 17, &lim, &e),
	                    "t.toml: file is larger than the 16-byte limit");
	assert_int_equal(e.code, ERR_TOOBIG);
	assert_string_equal(parse_err("a = [[[[1]]]]", 13, &lim, &e),
	                    "t.toml:1:9: nesting deeper than 4 levels");
	assert_string_equal(parse_err("a = [[[1]]]", 11, &lim, &e), "");
	lim.max_size = 0;
	assert_string_equal(parse_err("a.b.c.d.e = 1", 13, &lim, &e),
	                    "t.toml:1:9: key has more than 4 parts (nesting limit)");
	assert_string_equal(parse_err("a.b.c.d = [1]", 13, &lim, &e),
	                    "t.toml:1:12: nesting deeper than 4 levels");
	assert_string_equal(parse_err("[[a.b.c.d]]", 11, &lim, &e),
	                    "t.toml:1:9: nesting deeper than 4 levels");
	assert_string_equal(parse_err("[a.b.c.d]", 9, &lim, &e), "");

	/* the default caps: 4 MiB and 128 levels */
	buf_init(&b, 1 << 23);
	buf_append_str(&b, "a = ");
	for (int i = 0; i < 129; i++)
		buf_putc(&b, '[');
	for (int i = 0; i < 129; i++)
		buf_putc(&b, ']');
	assert_string_equal(parse_err(buf_cstr(&b), b.len, NULL, &e),
	                    "t.toml:1:133: nesting deeper than 128 levels");
	buf_reset(&b);
	buf_append_str(&b, "a = ");
	for (int i = 0; i < 100000; i++)
		buf_append_str(&b, "{b=");
	assert_string_equal(parse_err(buf_cstr(&b), b.len, NULL, &e),
	                    "t.toml:1:389: nesting deeper than 128 levels");
	/* a larger max_depth is clamped to TOML_MAX_DEPTH */
	struct toml_limits deep = { 0, 1000000 };
	buf_reset(&b);
	buf_append_str(&b, "a = ");
	for (int i = 0; i < 5000; i++)
		buf_putc(&b, '[');
	assert_string_equal(parse_err(buf_cstr(&b), b.len, &deep, &e),
	                    "t.toml:1:1005: nesting deeper than 1000 levels");
	buf_reset(&b);
	for (int i = 0; i < 100000; i++)
		buf_append_str(&b, "a.");
	buf_append_str(&b, "a = 1");
	assert_string_equal(parse_err(buf_cstr(&b), b.len, NULL, &e),
	                    "t.toml:1:257: key has more than 128 parts (nesting limit)");
	buf_reset(&b);
	buf_append_str(&b, "s = \"");
	while (b.len <= TOML_DEFAULT_MAX_SIZE)
		buf_append_str(&b, "xxxxxxxxxxxxxxxx");
	assert_string_equal(parse_err(buf_cstr(&b), b.len, NULL, &e),
	                    "t.toml: file is larger than the 4194304-byte limit");
	buf_clear(&b);
}

static const char stalwart[] =
        "# TLS reporting\n"
        "[Report.TLS.aggregate]\n"
        "from-name = \"'TLS Report'\"\n"
        "max-size = 26214400 # 25 mb\n"
        "sign = \"['rsa']\"\n"
        "send = [ { if = \"rcpt_domain == 'example.org'\", then = \"hourly\" },\n"
        "         { else = \"daily\" } ]\n"
        "hosts = [\"a\", \"b\"]\n"
        "Mixed.Case.key = 0x10\n"
        "\"quoted.key\" = true\n"
        "empty = []\n"
        "empty-table = {}\n"
        "ratio = 1.50\n"
        "big = 1e100\n"
        "neg = -inf\n"
        "when = 1979-05-27t07:32:00Z\n"
        "nul = \"a\\u0000b\"\n"
        "\n"
        "[report]\n"
        "submitter = \"'mx.example.org'\"\n"
        "\n"
        "[[signature]]\n"
        "id = \"rsa\"\n"
        "[[signature]]\n"
        "id = 'ed'\n"
        "[signature.extra]\n"
        "x = 3.0\n";

static void
test_flat_stalwart(void **state)
{
	static const struct {
		const char *key;
		const char *value;
		enum toml_type type;
		unsigned line, col;
	} want[] = {
		{ "report.tls.aggregate.from-name", "'TLS Report'", TOML_STRING, 3, 13 },
		{ "report.tls.aggregate.max-size", "26214400", TOML_INTEGER, 4, 12 },
		{ "report.tls.aggregate.sign", "['rsa']", TOML_STRING, 5, 8 },
		{ "report.tls.aggregate.send.0000.if", "rcpt_domain == 'example.org'", TOML_STRING,
		  6, 17 },
		{ "report.tls.aggregate.send.0000.then", "hourly", TOML_STRING, 6, 56 },
		{ "report.tls.aggregate.send.0001.else", "daily", TOML_STRING, 7, 19 },
		{ "report.tls.aggregate.hosts.0000", "a", TOML_STRING, 8, 10 },
		{ "report.tls.aggregate.hosts.0001", "b", TOML_STRING, 8, 15 },
		{ "report.tls.aggregate.Mixed.Case.key", "16", TOML_INTEGER, 9, 18 },
		{ "report.tls.aggregate.quoted.key", "true", TOML_BOOL, 10, 16 },
		{ "report.tls.aggregate.ratio", "1.5", TOML_FLOAT, 13, 9 },
		{ "report.tls.aggregate.big", "1e+100", TOML_FLOAT, 14, 7 },
		{ "report.tls.aggregate.neg", "-inf", TOML_FLOAT, 15, 7 },
		{ "report.tls.aggregate.when", "1979-05-27t07:32:00Z", TOML_DATETIME, 16, 8 },
		{ "report.tls.aggregate.nul", "a\0b", TOML_STRING, 17, 7 },
		{ "report.submitter", "'mx.example.org'", TOML_STRING, 20, 13 },
		{ "signature.0000.id", "rsa", TOML_STRING, 23, 6 },
		{ "signature.0001.id", "ed", TOML_STRING, 25, 6 },
		{ "signature.0001.extra.x", "3.0", TOML_FLOAT, 27, 5 },
	};
	struct toml_doc *doc;
	struct err e;
	(void)state;

	if (toml_parse("stalwart.toml", stalwart, sizeof(stalwart) - 1, NULL, &doc, &e) != 0)
		fail_msg("parse: %s", e.msg);
	assert_string_equal(toml_doc_name(doc), "stalwart.toml");
	size_t n = sizeof(want) / sizeof(want[0]);
	if (toml_flat_count(doc) != n) {
		for (size_t i = 0; i < toml_flat_count(doc); i++)
			print_message("# %s\n", toml_flat_at(doc, i)->key);
		fail_msg("got %zu flat entries, want %zu", toml_flat_count(doc), n);
	}
	for (size_t i = 0; i < n; i++) {
		const struct toml_flat *f = toml_flat_at(doc, i);
		/* the "nul" entry holds "a\0b" */
		size_t vlen = strcmp(want[i].key, "report.tls.aggregate.nul") == 0
		                      ? 3
		                      : strlen(want[i].value);
		if (strcmp(f->key, want[i].key) != 0)
			fail_msg("entry %zu: got key %s, want %s", i, f->key, want[i].key);
		if (f->value_len != vlen || memcmp(f->value, want[i].value, vlen) != 0 ||
		    f->value[vlen] != '\0')
			fail_msg("%s: got value %s (%zu bytes), want %s", f->key, f->value,
			         f->value_len, want[i].value);
		if (f->type != want[i].type)
			fail_msg("%s: got type %s, want %s", f->key, toml_type_name(f->type),
			         toml_type_name(want[i].type));
		if (f->line != want[i].line || f->col != want[i].col)
			fail_msg("%s: got position %u:%u, want %u:%u", f->key, f->line, f->col,
			         want[i].line, want[i].col);
		if (toml_flat_find(doc, want[i].key) != f)
			fail_msg("toml_flat_find(%s) did not return entry %zu", want[i].key, i);
	}
	assert_null(toml_flat_find(doc, "report.tls.aggregate.empty"));
	assert_null(toml_flat_find(doc, "report.tls.aggregate.empty-table"));
	assert_null(toml_flat_find(doc, "report.tls.aggregate"));
	assert_null(toml_flat_find(doc, "Report.TLS.aggregate.sign"));
	assert_null(toml_flat_at(doc, n));
	toml_free(doc);
	toml_free(NULL);
}

static void
test_tree(void **state)
{
	static const char src[] = "title = \"x\"\n"
	                          "[owner]\n"
	                          "n = 0b101\n"
	                          "f = 6.02e23\n"
	                          "d = 1979-05-27\n"
	                          "t = 07:32:00.5\n"
	                          "l = 1979-05-27T07:32:00\n"
	                          "[[fruit]]\n"
	                          "name = \"apple\"\n"
	                          "[[fruit]]\n";
	struct toml_doc *doc;
	struct err e;
	size_t klen;
	(void)state;

	if (toml_parse(NULL, src, sizeof(src) - 1, NULL, &doc, &e) != 0)
		fail_msg("parse: %s", e.msg);
	assert_string_equal(toml_doc_name(doc), "<input>");
	const struct toml_value *root = toml_doc_root(doc);
	assert_int_equal(toml_value_type(root), TOML_TABLE);
	assert_int_equal(toml_value_count(root), 3);
	assert_string_equal(toml_value_key(root, 0, &klen), "title");
	assert_string_equal(toml_value_key(root, 1, &klen), "owner");
	assert_string_equal(toml_value_key(root, 2, &klen), "fruit");
	const struct toml_value *owner = toml_value_get(root, "owner", 5);
	assert_non_null(owner);
	const struct toml_value *n = toml_value_get(owner, "n", 1);
	assert_int_equal(toml_value_type(n), TOML_INTEGER);
	assert_int_equal(toml_value_int(n), 5);
	assert_string_equal(toml_value_raw(n), "0b101");
	assert_string_equal(toml_value_text(n, NULL), "5");
	const struct toml_value *f = toml_value_get(owner, "f", 1);
	assert_true(toml_value_float(f) == 6.02e23);
	assert_string_equal(toml_value_raw(f), "6.02e23");
	assert_string_equal(toml_value_text(f, NULL), "6.02e+23");
	assert_int_equal(toml_value_type(toml_value_get(owner, "d", 1)), TOML_DATE_LOCAL);
	assert_int_equal(toml_value_type(toml_value_get(owner, "t", 1)), TOML_TIME_LOCAL);
	assert_int_equal(toml_value_type(toml_value_get(owner, "l", 1)), TOML_DATETIME_LOCAL);
	const struct toml_value *fruit = toml_value_get(root, "fruit", 5);
	assert_int_equal(toml_value_type(fruit), TOML_ARRAY);
	assert_int_equal(toml_value_count(fruit), 2);
	assert_int_equal(toml_value_count(toml_value_at(fruit, 1)), 0);
	unsigned line, col;
	toml_value_pos(toml_value_at(fruit, 0), &line, &col);
	assert_int_equal(line, 8);
	assert_int_equal(col, 3);
	assert_null(toml_value_get(root, "nope", 4));
	assert_null(toml_value_at(root, 3));
	toml_free(doc);

	/* CRLF inside a multi-line string is LF in the value; a backslash ends the line */
	static const char ml[] = "s = \"\"\"\r\na\r\nb \\\r\n   c\"\"\"\r\n";
	if (toml_parse("ml", ml, sizeof(ml) - 1, NULL, &doc, &e) != 0)
		fail_msg("parse: %s", e.msg);
	size_t len;
	const char *s = toml_value_text(toml_value_get(toml_doc_root(doc), "s", 1), &len);
	assert_int_equal(len, 5);
	assert_string_equal(s, "a\nb c");
	toml_free(doc);
}

/* Collisions that TOML allows are only an error for the flat view. */
static void
test_parse_tree_accepts_collisions(void **state)
{
	static const char src[] = "[A]\nx = 1\n[a]\nx = 2\n";
	struct toml_doc *doc;
	struct err e;
	(void)state;

	assert_int_equal(toml_parse_tree("t", src, sizeof(src) - 1, NULL, &doc, &e), 0);
	assert_int_equal(toml_flat_count(doc), 0);
	assert_int_equal(toml_value_count(toml_doc_root(doc)), 2);
	toml_free(doc);
}

/* Large tables, dotted keys, inline tables and arrays: no quadratic behaviour. */
static void
test_large(void **state)
{
	struct buf b;
	struct toml_doc *doc;
	struct err e;
	(void)state;

	buf_init(&b, TOML_DEFAULT_MAX_SIZE);
	buf_append_str(&b, "[t]\n");
	for (int i = 0; i < 50000; i++)
		buf_printf(&b, "k%d = %d\n", i, i);
	for (int i = 0; i < 20000; i++)
		buf_printf(&b, "d%d.x = %d\n", i, i);
	buf_append_str(&b, "i = {");
	for (int i = 0; i < 20000; i++)
		buf_printf(&b, "%sk%d.y = %d", i ? ", " : "", i, i);
	buf_append_str(&b, "}\n");
	buf_append_str(&b, "a = [");
	for (int i = 0; i < 50000; i++)
		buf_printf(&b, "%d,", i);
	buf_append_str(&b, "]\n");
	if (toml_parse("big", buf_cstr(&b), b.len, NULL, &doc, &e) != 0)
		fail_msg("parse: %s", e.msg);
	assert_int_equal(toml_flat_count(doc), 140000);
	const struct toml_flat *f = toml_flat_find(doc, "t.d19999.x");
	assert_non_null(f);
	assert_int_equal(f->line, 70001);
	assert_int_equal(f->col, 12);
	f = toml_flat_find(doc, "t.i.k19999.y");
	assert_non_null(f);
	assert_string_equal(f->value, "19999");
	f = toml_flat_find(doc, "t.k49999");
	assert_non_null(f);
	assert_string_equal(f->value, "49999");
	assert_int_equal(f->line, 50001);
	f = toml_flat_find(doc, "t.a.49999");
	assert_non_null(f);
	assert_string_equal(f->value, "49999");
	assert_non_null(toml_value_get(toml_value_get(toml_doc_root(doc), "t", 1), "k777", 4));
	toml_free(doc);
	buf_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors), cmocka_unit_test(test_valid_edge_cases),
		cmocka_unit_test(test_caps),   cmocka_unit_test(test_flat_stalwart),
		cmocka_unit_test(test_tree),   cmocka_unit_test(test_parse_tree_accepts_collisions),
		cmocka_unit_test(test_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
