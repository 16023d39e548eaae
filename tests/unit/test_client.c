/*
 * test_client.c - the client library builds datagrams byte-identical to libtlsrpt's
 * (corpus/sys4/datagrams), escapes and validates strings, and rejects misuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tlsrptd.h"

static char *
read_corpus(const char *name, size_t *len)
{
	const char *shared = getenv("SHARED");
	char path[1024];
	FILE *f;
	char *data = malloc(1 << 20);

	snprintf(path, sizeof(path), "%s/corpus/sys4/datagrams/%s", shared ? shared : "../shared",
	         name);
	f = fopen(path, "rb");
	assert_non_null(f);
	*len = fread(data, 1, (1 << 20) - 1, f);
	fclose(f);
	while (*len && data[*len - 1] == '\n')
		(*len)--;
	data[*len] = '\0';
	return data;
}

/* Line n (1-based) of samples.jsonl. */
static char *
sample_line(int n, size_t *len)
{
	size_t all;
	char *data = read_corpus("samples.jsonl", &all);
	char *p = data, *nl;

	for (int i = 1; i < n; i++)
		p = strchr(p, '\n') + 1;
	nl = strchr(p, '\n');
	*len = nl ? (size_t)(nl - p) : strlen(p);
	memmove(data, p, *len);
	data[*len] = '\0';
	return data;
}

static void
assert_last(struct tlsrptd_conn *c, const char *want, size_t want_len)
{
	const char *p;
	size_t len;

	assert_int_equal(tlsrptd_client_last(c, &p, &len), TLSRPTD_OK);
	if (len != want_len || memcmp(p, want, len) != 0) {
		print_error("got  %.*s\nwant %.*s\n", (int)len, p, (int)want_len, want);
		fail();
	}
}

static void
test_demo_bytes(void **state)
{
	struct tlsrptd_conn *c;
	size_t wlen;
	char *want = read_corpus("libtlsrpt-demo.json", &wlen);
	struct tlsrptd_failure f1 = { "1.2.3.4",
		                      "mailin.example.com",
		                      "test-ehlo.example.com",
		                      "11.22.33.44",
		                      "This is additional information",
		                      "999 TEST REASON CODE" };
	struct tlsrptd_failure f2 = { "1.2.3.5",
		                      "mailin.example.com",
		                      "test-ehlo.example.com",
		                      "11.22.33.55",
		                      "This is additional information",
		                      "123 ANOTHER TEST REASON CODE" };

	(void)state;
	assert_int_equal(tlsrptd_client_open(NULL, 0, &c), TLSRPTD_OK);
	assert_int_equal(
	        tlsrptd_client_begin(c, "example.com", "v=TLSRPTv1;rua=mailto:reports@example.com"),
	        0);
	assert_int_equal(tlsrptd_client_policy(c, TLSRPTD_POLICY_STS, "company-y.example"), 0);
	assert_int_equal(tlsrptd_client_policy_string(c, "version: STSv1"), 0);
	assert_int_equal(tlsrptd_client_policy_string(c, "mode: testing"), 0);
	assert_int_equal(tlsrptd_client_policy_string(c, "mx: *.mail.company-y.example"), 0);
	assert_int_equal(tlsrptd_client_policy_string(c, "max_age: 86400"), 0);
	assert_int_equal(tlsrptd_client_mx_host(c, "*.mail.company-y.example"), 0);
	assert_int_equal(tlsrptd_client_failure(c, TLSRPTD_RESULT_STS_POLICY_INVALID, &f1), 0);
	assert_int_equal(tlsrptd_client_failure(c, TLSRPTD_RESULT_STS_WEBPKI_INVALID, &f2), 0);
	assert_int_equal(tlsrptd_client_finish(c), 0);
	assert_last(c, want, wlen);
	tlsrptd_client_close(c);
	free(want);
}

static void
test_two_policies_bytes(void **state)
{
	struct tlsrptd_conn *c;
	size_t wlen;
	char *want = read_corpus("bench-two-policies-failure.json", &wlen);
	struct tlsrptd_failure f = {
		"192.0.2.1", "mx0.d00000.example.net", "mx.example.net ESMTP", "198.51.100.7",
		NULL,        "certificate has expired"
	};

	(void)state;
	assert_int_equal(tlsrptd_client_open(NULL, 0, &c), TLSRPTD_OK);
	assert_int_equal(tlsrptd_client_begin(c, "d00000.example.net",
	                                      "v=TLSRPTv1; rua=mailto:tlsrpt@d00000.example.net"),
	                 0);
	assert_int_equal(tlsrptd_client_policy(c, TLSRPTD_POLICY_STS, "d00000.example.net"), 0);
	assert_int_equal(tlsrptd_client_policy_string(c, "version: STSv1"), 0);
	assert_int_equal(tlsrptd_client_policy_string(c, "mode: enforce"), 0);
	assert_int_equal(tlsrptd_client_policy_string(c, "mx: *.example.net"), 0);
	assert_int_equal(tlsrptd_client_policy_string(c, "max_age: 604800"), 0);
	assert_int_equal(tlsrptd_client_mx_host(c, "*.example.net"), 0);
	assert_int_equal(tlsrptd_client_failure(c, TLSRPTD_RESULT_CERTIFICATE_EXPIRED, &f), 0);
	assert_int_equal(tlsrptd_client_policy(c, TLSRPTD_POLICY_TLSA, "d00000.example.net"), 0);
	assert_int_equal(tlsrptd_client_policy_string(
	                         c, "3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
	                            "0123456789ABCDEF"),
	                 0);
	assert_int_equal(tlsrptd_client_failure(c, TLSRPTD_RESULT_CERTIFICATE_EXPIRED, &f), 0);
	assert_int_equal(tlsrptd_client_finish(c), 0);
	assert_last(c, want, wlen);
	tlsrptd_client_close(c);
	free(want);
}

static void
test_escape_bytes(void **state)
{
	struct tlsrptd_conn *c;
	size_t wlen;
	char *want = sample_line(9, &wlen);
	struct tlsrptd_failure f = {
		"192.0.2.10",
		"mx.escape.example",
		"220 \"quoted\" \\back\\slash\ttab\nnewline",
		"198.51.100.9",
		"UTF-8: \xc3\xa4\xc3\xb6\xc3\xbc \xe2\x82\xac ctrl:\x01\x1f del:\x7f",
		"reason/with/slashes"
	};

	(void)state;
	assert_int_equal(tlsrptd_client_open(NULL, 0, &c), TLSRPTD_OK);
	assert_int_equal(tlsrptd_client_begin(c, "escape.example",
	                                      "v=TLSRPTv1; rua=mailto:tlsrpt@escape.example"),
	                 0);
	assert_int_equal(tlsrptd_client_policy(c, TLSRPTD_POLICY_STS, "escape.example"), 0);
	assert_int_equal(tlsrptd_client_policy_string(c, "version: STSv1"), 0);
	assert_int_equal(tlsrptd_client_failure(c, TLSRPTD_RESULT_CERTIFICATE_NOT_TRUSTED, &f), 0);
	assert_int_equal(tlsrptd_client_finish(c), 0);
	assert_last(c, want, wlen);
	tlsrptd_client_close(c);
	free(want);
}

static void
test_success_ts_rpt(void **state)
{
	static const char want[] = "{\"dpv\": \"1\",\"d\": \"a.example\",\"pr\": \"v=TLSRPTv1\","
	                           "\"policies\":[{\"policy-type\":9,\"t\":0,\"f\":0}],"
	                           "\"ts\":1764374400,\"rpt\":1}";
	struct tlsrptd_conn *c;

	(void)state;
	assert_int_equal(tlsrptd_client_open(NULL, 0, &c), TLSRPTD_OK);
	assert_int_equal(tlsrptd_client_begin(c, "a.example", "v=TLSRPTv1"), 0);
	assert_int_equal(tlsrptd_client_policy(c, TLSRPTD_POLICY_NONE, NULL), 0);
	assert_int_equal(tlsrptd_client_set_time(c, 1764374400), 0);
	assert_int_equal(tlsrptd_client_set_report_delivery(c, 1), 0);
	assert_int_equal(tlsrptd_client_finish(c), 0);
	assert_last(c, want, sizeof(want) - 1);
	tlsrptd_client_close(c);
}

static void
test_misuse(void **state)
{
	struct tlsrptd_conn *c;
	char big[70000];

	(void)state;
	assert_int_equal(tlsrptd_client_open(NULL, 0, NULL), TLSRPTD_EINVAL);
	assert_int_equal(tlsrptd_client_open(NULL, 99, &c), TLSRPTD_EINVAL);
	assert_int_equal(tlsrptd_client_begin(NULL, "a", "b"), TLSRPTD_EINVAL);
	assert_int_equal(tlsrptd_client_policy(NULL, TLSRPTD_POLICY_STS, NULL), TLSRPTD_EINVAL);
	assert_int_equal(tlsrptd_client_policy_string(NULL, "x"), TLSRPTD_EINVAL);
	assert_int_equal(tlsrptd_client_mx_host(NULL, "x"), TLSRPTD_EINVAL);
	assert_int_equal(tlsrptd_client_failure(NULL, TLSRPTD_RESULT_DANE_REQUIRED, NULL),
	                 TLSRPTD_EINVAL);
	assert_int_equal(tlsrptd_client_finish(NULL), TLSRPTD_EINVAL);
	tlsrptd_client_close(NULL);

	assert_int_equal(tlsrptd_client_open(NULL, 0, &c), TLSRPTD_OK);
	assert_int_equal(tlsrptd_client_finish(c), TLSRPTD_ESTATE);
	assert_int_equal(tlsrptd_client_policy(c, TLSRPTD_POLICY_STS, "x"), TLSRPTD_ESTATE);
	assert_int_equal(tlsrptd_client_begin(c, NULL, "r"), TLSRPTD_EINVAL);
	assert_int_equal(tlsrptd_client_begin(c, "", "r"), TLSRPTD_EINVAL);
	/* invalid UTF-8 */
	assert_int_equal(tlsrptd_client_begin(c, "a.example", "r\xff"), TLSRPTD_EUTF8);
	assert_int_equal(tlsrptd_client_begin(c, "a.example", "r"), 0);
	assert_int_equal(tlsrptd_client_finish(c), TLSRPTD_ESTATE); /* no policy */
	assert_int_equal(tlsrptd_client_begin(c, "a.example", "r"), 0);
	assert_int_equal(tlsrptd_client_policy(c, 7, "x"), TLSRPTD_EINVAL);
	assert_int_equal(tlsrptd_client_begin(c, "a.example", "r"), 0);
	assert_int_equal(tlsrptd_client_policy(c, TLSRPTD_POLICY_STS, "x"), 0);
	assert_int_equal(tlsrptd_client_mx_host(c, "m"), 0);
	/* strings after mx hosts: out of order, result discarded */
	assert_int_equal(tlsrptd_client_policy_string(c, "s"), TLSRPTD_ESTATE);
	assert_int_equal(tlsrptd_client_finish(c), TLSRPTD_ESTATE);
	assert_int_equal(tlsrptd_client_begin(c, "a.example", "r"), 0);
	assert_int_equal(tlsrptd_client_policy(c, TLSRPTD_POLICY_STS, "x"), 0);
	assert_int_equal(tlsrptd_client_failure(c, 200, NULL), TLSRPTD_EINVAL);
	assert_int_equal(tlsrptd_client_begin(c, "a.example", "r"), 0);
	assert_int_equal(tlsrptd_client_policy(c, TLSRPTD_POLICY_STS, "x"), 0);
	assert_int_equal(tlsrptd_client_policy_string(c, "\xed\xa0\x80"), TLSRPTD_EUTF8);
	/* too big */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(tlsrptd_client_begin(c, "a.example", big), TLSRPTD_ETOOBIG);
	assert_int_equal(tlsrptd_client_begin(c, "a.example", "r"), 0);
	assert_int_equal(tlsrptd_client_policy(c, TLSRPTD_POLICY_STS, "x"), 0);
	assert_int_equal(tlsrptd_client_finish(c), 0);
	tlsrptd_client_close(c);
	assert_string_equal(tlsrptd_client_strerror(TLSRPTD_EAGAIN),
	                    "collector queue full, result dropped");
}

static void
test_no_socket(void **state)
{
	struct tlsrptd_conn *c;

	(void)state;
	assert_int_equal(tlsrptd_client_open("/nonexistent/tlsrptd.sock", TLSRPTD_NONBLOCK, &c), 0);
	assert_int_equal(tlsrptd_client_begin(c, "a.example", "r"), 0);
	assert_int_equal(tlsrptd_client_policy(c, TLSRPTD_POLICY_NONE, NULL), 0);
	assert_int_equal(tlsrptd_client_finish(c), TLSRPTD_ECONN);
	tlsrptd_client_close(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo_bytes),   cmocka_unit_test(test_two_policies_bytes),
		cmocka_unit_test(test_escape_bytes), cmocka_unit_test(test_success_ts_rpt),
		cmocka_unit_test(test_misuse),       cmocka_unit_test(test_no_socket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
