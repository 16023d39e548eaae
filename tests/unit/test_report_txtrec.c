/*
 * test_report_txtrec.c - the TLSRPT TXT record parser (src/report/txtrec.c).
 *
 * Every row of $SHARED/corpus/sys4/records/tlsrpt-records.tsv is checked against OUR
 * verdict (the RFC 8460 section 3 ABNF decides).  Where it differs from the sys4
 * reference's verdict, the table says why:
 *   - "rua=!!" and "rua=postmaster@isaspa.it": neither value is an RFC 3986 URI (no
 *     scheme), so by the ABNF the field can only be a tlsrpt-extension named "rua"; the
 *     record then has no tlsrpt-rua and is invalid.  The reference keeps the junk.
 *   - "v=TLSRPTv1 ; rua=...": field-delim is *WSP ";" *WSP, so this is grammatical; we
 *     accept "v=TLSRPTv1" *WSP ";" as the prefix.  The reference rejects it.
 *   - "rua=a, b": the WSP after "," belongs to the list syntax, not to the URI.  The
 *     reference keeps " mailto:b@x.example" with its space.
 *   - "ext=1;rua=...": field order is free.  The reference rejects it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/txtrec.h"
#include "util/buf.h"

/* want: "OK t1 t2 ..." (targets) or "ERR <message>" */
static const struct vec {
	const char *record;
	const char *want;
	int differs; /* our verdict differs from the reference's (see the comment on top) */
} vectors[] = {
	{ "not a tlsrpt record", "ERR tlsrpt record: does not start with \"v=TLSRPTv1;\"", 0 },
	{ "v=TLSRPTv99;rua=mailto:reports@example.com",
	  "ERR tlsrpt record: does not start with \"v=TLSRPTv1;\"", 0 },
	{ "v=TLSRPTv1;rua=mailto:reports@example.com", "OK reports@example.com", 0 },
	{ "v=TLSRPTv1;rua=mailto:reports@example.com;", "OK reports@example.com", 0 },
	{ "v=TLSRPTv1;rua=mailto:reports@example.com,mailto:hostmaster@example.com",
	  "OK reports@example.com hostmaster@example.com", 0 },
	{ "v=TLSRPTv1;rua=mailto:reports@example.com,mailto:hostmaster@example.com,https://"
	  "reportbot.example.com:12345/tlsrpt",
	  "OK reports@example.com hostmaster@example.com "
	  "https://reportbot.example.com:12345/tlsrpt",
	  0 },
	{ "v=TLSRPTv1; rua=mailto:reports@example.com,mailto:hostmaster@example.com,https://"
	  "reportbot.example.com:12345/tlsrpt",
	  "OK reports@example.com hostmaster@example.com "
	  "https://reportbot.example.com:12345/tlsrpt",
	  0 },
	{ "v=TLSRPTv1;rua=mailto:reports@example.com,mailto:hostmaster@example.com,https://"
	  "reportbot.example.com:12345/tlsrpt;",
	  "OK reports@example.com hostmaster@example.com "
	  "https://reportbot.example.com:12345/tlsrpt",
	  0 },
	{ "v=TLSRPTv1; rua=mailto:reports@example.com", "OK reports@example.com", 0 },
	{ "v=TLSRPTv1;rua=mailto:reports@example.com,mailto:postmaster@example.com",
	  "OK reports@example.com postmaster@example.com", 0 },
	{ "v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt",
	  "OK https://reporting.example.com/v1/tlsrpt", 0 },
	{ "v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt; ext=extvalue",
	  "OK https://reporting.example.com/v1/tlsrpt", 0 },
	{ "v=TLSRPTv1; rua=!!",
	  "ERR tlsrpt record: no rua= field with a URI list (\"rua=!!\" is not a URI)", 1 },
	{ "v=TLSRPTv1; rua=postmaster@isaspa.it",
	  "ERR tlsrpt record: no rua= field with a URI list (\"rua=postmaster@isaspa.it\" is not a "
	  "URI)",
	  1 },
	{ "v=TLSRPTv1 ; rua=mailto:a@x.example", "OK a@x.example", 1 },
	{ "v=TLSRPTv1; rua=mailto:a@x.example, mailto:b@x.example", "OK a@x.example b@x.example",
	  1 },
	{ "v=TLSRPTv1;ext=1;rua=mailto:a@x.example", "OK a@x.example", 1 },
	/* our own edge cases */
	{ "v=TLSRPTv1;rua=mailto:a@x;rua=https://h.example/p", "OK a@x https://h.example/p", 0 },
	{ "v=TLSRPTv1;rua=mailto:a@x,mailto:a@x;rua=mailto:a@x", "OK a@x", 0 },
	{ "v=TLSRPTv1\t;\trua=mailto:a@x\t,\tHTTPS://H.example/\t;\t", "OK a@x HTTPS://H.example/",
	  0 },
	{ "v=TLSRPTv1;rua=mailto:a%2Cb%21c%3Bd@x.example?subject=tlsrpt", "OK a,b!c;d@x.example",
	  0 },
	{ "v=TLSRPTv1;rua=https://h.example/a%2Cb", "OK https://h.example/a%2Cb", 0 },
	{ "v=TLSRPTv1;rua=http://h.example/,ftp://f.example/",
	  "ERR tlsrpt record: no usable rua destination (2 URI(s) with schemes other than mailto: "
	  "and https:)",
	  0 },
	{ "v=TLSRPTv1;rua=http://h.example/,mailto:a@x", "OK a@x", 0 },
	{ "v=TLSRPTv1;", "ERR tlsrpt record: no rua= field", 0 },
	{ "v=TLSRPTv1", "ERR tlsrpt record: does not start with \"v=TLSRPTv1;\"", 0 },
	{ "V=TLSRPTv1;rua=mailto:a@x", "ERR tlsrpt record: does not start with \"v=TLSRPTv1;\"",
	  0 },
	{ "v = TLSRPTv1;rua=mailto:a@x", "ERR tlsrpt record: does not start with \"v=TLSRPTv1;\"",
	  0 },
	{ "v=TLSRPTv1;RUA=mailto:a@x", "ERR tlsrpt record: no rua= field", 0 },
	{ "v=TLSRPTv1;rua=mailto:a@x;ext=a=b", "ERR tlsrpt record: expected \";\" at offset 31",
	  0 },
	{ "v=TLSRPTv1;rua=mailto:a@x;abcdefghijabcdefghijabcdefghijabc=1",
	  "ERR tlsrpt record: bad field at offset 26 (expected name=value)", 0 },
	{ "v=TLSRPTv1;rua=mailto:a@x;_x=1", "ERR tlsrpt record: bad field name at offset 26", 0 },
	{ "v=TLSRPTv1;rua=mailto:a@x;x=", "ERR tlsrpt record: empty or bad value at offset 28", 0 },
	{ "v=TLSRPTv1;rua=mailto:a@x,,mailto:b@x",
	  "ERR tlsrpt record: no rua= field with a URI list (\"rua=mailto:a@x,,mailto:b@x\" is not "
	  "a "
	  "URI)",
	  0 },
	{ "v=TLSRPTv1;rua=mailto:a@x b", "ERR tlsrpt record: expected \";\" at offset 26", 0 },
	{ "v=TLSRPTv1;rua=mailto:a%zz@x",
	  "ERR tlsrpt record: no rua= field with a URI list (\"rua=mailto:a%zz@x\" is not a URI)",
	  0 },
	{ "v=TLSRPTv1;;rua=mailto:a@x", "ERR tlsrpt record: bad field name at offset 11", 0 },
};

static void
verdict(struct span rec, char *out, size_t cap)
{
	struct txtrec t;
	struct err e = { 0 };
	struct buf b;

	if (txtrec_parse(rec, &t, &e) != 0) {
		snprintf(out, cap, "ERR %s", e.msg);
		return;
	}
	buf_init(&b, 4096);
	buf_append_str(&b, "OK");
	for (size_t i = 0; i < t.n_rua; i++)
		buf_printf(&b, " %s", t.rua[i].target);
	snprintf(out, cap, "%s", buf_cstr(&b));
	buf_clear(&b);
	txtrec_clear(&t);
}

static void
test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char got[1024];
		verdict(span_cstr(vectors[i].record), got, sizeof(got));
		if (strcmp(got, vectors[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", vectors[i].record, got,
			         vectors[i].want);
	}
}

static void
test_sys4_tsv(void **state)
{
	const char *shared = getenv("SHARED");
	char path[1024], line[4096];
	size_t rows = 0, differ = 0;
	(void)state;

	snprintf(path, sizeof(path), "%s/corpus/sys4/records/tlsrpt-records.tsv",
	         shared && *shared ? shared : "../shared");
	FILE *f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		char *t1 = strchr(line, '\t');
		char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (t1 == NULL || t2 == NULL)
			continue;
		*t2 = '\0';
		const char *record = t1 + 1, *ref = t2 + 1;
		if (strcmp(record, "record") == 0)
			continue; /* header */
		const struct vec *v = NULL;
		for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
			if (strcmp(vectors[i].record, record) == 0)
				v = &vectors[i];
		if (v == NULL)
			fail_msg("tsv record \"%s\" has no row in the vector table", record);
		char got[1024];
		verdict(span_cstr(record), got, sizeof(got));
		if (strcmp(got, v->want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", record, got, v->want);
		/* compare with the reference: same accept/reject and, if accepted, same list */
		int ref_ok = strncmp(ref, "OK", 2) == 0, ours_ok = strncmp(got, "OK", 2) == 0;
		int same = ref_ok == ours_ok;
		if (same && ours_ok) {
			/* the reference prints ['mailto:a', ...]; ours prints targets */
			same = strstr(ref, "' ") == NULL && strstr(ref, "!!") == NULL &&
			       strstr(ref, "['postmaster@") == NULL;
		}
		if (same == v->differs)
			fail_msg("%s: reference says \"%s\", ours \"%s\": differs flag is %d",
			         record, ref, got, v->differs);
		differ += !same;
		rows++;
	}
	fclose(f);
	assert_int_equal(rows, 17);
	assert_int_equal(differ, 5);
}

static void
test_rrset(void **state)
{
	const struct span a[] = { SPAN_LIT("v=TLSRPTv1;"), SPAN_LIT("rua=mailto:a@x") };
	const struct span spf[] = { SPAN_LIT("v=spf1 -all") };
	const struct span b[] = { SPAN_LIT("v=TLSRPTv1 ;rua=https://h.example/") };
	const struct span split[] = { SPAN_LIT("v=TLSRP"), SPAN_LIT("Tv1;rua=mailto:"),
		                      SPAN_LIT("c@x") };
	const struct span bad[] = { SPAN_LIT("v=TLSRPTv1;rua=junk") };
	struct txtrec t;
	struct err e = { 0 };
	(void)state;

	const struct txtrec_rr one[] = { { spf, 1 }, { a, 2 } };
	assert_int_equal(txtrec_select(one, 2, &t, &e), 0);
	assert_int_equal(t.n_rua, 1);
	assert_int_equal(t.rua[0].scheme, TXTREC_MAILTO);
	assert_string_equal(t.rua[0].uri, "mailto:a@x");
	assert_string_equal(t.rua[0].target, "a@x");
	txtrec_clear(&t);

	const struct txtrec_rr two[] = { { a, 2 }, { spf, 1 }, { b, 1 } };
	assert_int_equal(txtrec_select(two, 3, &t, &e), ERR_INVALID);
	assert_string_equal(e.msg, "tlsrpt record: 2 TLSRPT records (exactly one is allowed, RFC "
	                           "8460 section 3)");
	assert_int_equal(t.n_rua, 0);

	const struct txtrec_rr none[] = { { spf, 1 } };
	assert_int_equal(txtrec_select(none, 1, &t, &e), ERR_NOTFOUND);
	assert_string_equal(e.msg, "tlsrpt record: none of 1 TXT record(s) starts with "
	                           "\"v=TLSRPTv1;\"");
	assert_int_equal(txtrec_select(NULL, 0, &t, &e), ERR_NOTFOUND);

	/* the strings are joined without spaces, even inside the version tag */
	const struct txtrec_rr joined[] = { { split, 3 } };
	assert_int_equal(txtrec_select(joined, 1, &t, &e), 0);
	assert_string_equal(t.rua[0].target, "c@x");
	txtrec_clear(&t);

	/* the single TLSRPT record is invalid: that is the verdict for the RRset */
	const struct txtrec_rr invalid[] = { { bad, 1 } };
	assert_int_equal(txtrec_select(invalid, 1, &t, &e), ERR_INVALID);
	assert_string_equal(e.msg, "tlsrpt record: no rua= field with a URI list (\"rua=junk\" is "
	                           "not a URI)");
}

static void
test_caps(void **state)
{
	struct txtrec t;
	struct err e = { 0 };
	struct buf b;
	(void)state;

	buf_init(&b, 1 << 20);
	buf_append_str(&b, "v=TLSRPTv1;rua=");
	for (int i = 0; i < 100; i++)
		buf_printf(&b, "%smailto:r%d@x", i ? "," : "", i);
	assert_int_equal(txtrec_parse(buf_span(&b), &t, &e), 0);
	assert_int_equal(t.n_rua, TXTREC_MAX_RUA);
	assert_int_equal(t.n_ignored, 100 - TXTREC_MAX_RUA);
	txtrec_clear(&t);
	while (b.len <= TXTREC_MAX_LEN)
		buf_append_str(&b, ",mailto:x@x");
	assert_int_equal(txtrec_parse(buf_span(&b), &t, &e), ERR_TOOBIG);
	assert_string_equal(e.msg, "tlsrpt record: longer than 65535 bytes");
	buf_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_sys4_tsv),
		cmocka_unit_test(test_rrset),
		cmocka_unit_test(test_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
