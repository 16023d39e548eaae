/*
 * test_dns.c - DNS module over libunbound with local zone data only (DNS_MODE_LOCAL):
 * TXT strings kept apart and joined, several records, MX sorting, null MX, A/AAAA,
 * TLSA, NXDOMAIN for unknown names (fast, no network), cache hits and expiry on a
 * fixed clock, TTL clamps, bad names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "net/dns.h"
#include "util/log.h"

struct fixture {
	struct clock clock;
	struct dns *dns;
};

static const char *const zone_data[] = {
	"_smtp._tls.example.com. 300 IN TXT \"v=TLSRPTv1; rua=mailto:r@example.com\"",
	"_smtp._tls.multi.example. 600 IN TXT \"v=TLSRPTv1; rua=mailto:a@\" \"multi.example\"",
	"_smtp._tls.two.example. 300 IN TXT \"v=TLSRPTv1; rua=mailto:x@two.example\"",
	"_smtp._tls.two.example. 300 IN TXT \"other record\"",
	"example.com. 300 IN MX 20 mx2.example.com.",
	"example.com. 300 IN MX 10 MX1.Example.com.",
	"example.com. 300 IN MX 10 a.example.com.",
	"nullmx.example. 300 IN MX 0 .",
	"mx1.example.com. 120 IN A 192.0.2.1",
	"mx1.example.com. 120 IN A 192.0.2.2",
	"mx1.example.com. 120 IN AAAA 2001:db8::1",
	("_25._tcp.mx1.example.com. 300 IN TLSA 3 1 1 "
	 "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"),
	"long.example. 100000 IN TXT \"x\"",
	"short.example. 1 IN TXT \"y\"",
};

static int
setup(void **state)
{
	static struct fixture f;
	struct dns_opts o;
	struct err e = { 0 };

	log_setup("test_dns", LOG_DEST_NONE, LOG_LEVEL_ERROR);
	clock_init_fixed(&f.clock, 1800000000);
	dns_opts_default(&o);
	o.mode = DNS_MODE_LOCAL;
	o.clock = &f.clock;
	o.cache_max = 8;
	o.negative_ttl = 60;
	o.negative_max_ttl = 60;
	f.dns = dns_new(&o, &e);
	if (!f.dns) {
		fprintf(stderr, "dns_new: %s\n", e.msg);
		return -1;
	}
	if (dns_add_local_zone(f.dns, "example.com", "static", &e)) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	for (size_t i = 0; i < sizeof(zone_data) / sizeof(zone_data[0]); i++) {
		if (dns_add_local_data(f.dns, zone_data[i], &e)) {
			fprintf(stderr, "%s\n", e.msg);
			return -1;
		}
	}
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	dns_free(f->dns);
	return 0;
}

/* Each test starts with an empty cache. */
static int
flush(void **state)
{
	struct fixture *f = *state;

	dns_cache_flush(f->dns);
	clock_set(&f->clock, 1800000000);
	return 0;
}

static struct dns_answer *
lookup_ok(struct fixture *f, const char *name, enum dns_type type)
{
	struct dns_answer *a = NULL;
	struct err e = { 0 };
	int rc = dns_lookup(f->dns, name, type, &a, &e);

	if (rc != 0)
		fail_msg("dns_lookup(%s): got %d (%s), want 0", name, rc, e.msg);
	assert_non_null(a);
	return a;
}

static void
test_txt_single(void **state)
{
	struct dns_answer *a = lookup_ok(*state, "_smtp._tls.example.com", DNS_TYPE_TXT);

	assert_int_equal(a->rcode, DNS_RCODE_NOERROR);
	assert_int_equal(a->sec, DNS_SEC_INSECURE);
	assert_int_equal(a->n, 1);
	assert_int_equal(a->txt[0].nstrings, 1);
	assert_string_equal(a->txt[0].joined.p, "v=TLSRPTv1; rua=mailto:r@example.com");
	assert_int_equal(a->txt[0].joined.len, strlen("v=TLSRPTv1; rua=mailto:r@example.com"));
	assert_int_equal(a->ttl, 300);
	assert_false(a->from_cache);
	assert_string_equal(a->qname, "_smtp._tls.example.com");
	dns_answer_free(a);
}

static void
test_txt_multi_string(void **state)
{
	struct dns_answer *a = lookup_ok(*state, "_smtp._tls.MULTI.example.", DNS_TYPE_TXT);

	assert_int_equal(a->n, 1);
	assert_int_equal(a->txt[0].nstrings, 2);
	assert_int_equal(a->txt[0].strings[0].len, strlen("v=TLSRPTv1; rua=mailto:a@"));
	assert_memory_equal(a->txt[0].strings[0].p, "v=TLSRPTv1; rua=mailto:a@",
	                    a->txt[0].strings[0].len);
	assert_string_equal(a->txt[0].strings[1].p, "multi.example");
	/* RFC 8460 section 3: joined without adding spaces */
	assert_string_equal(a->txt[0].joined.p, "v=TLSRPTv1; rua=mailto:a@multi.example");
	assert_string_equal(a->qname, "_smtp._tls.multi.example");
	assert_int_equal(a->ttl, 600);
	dns_answer_free(a);
}

static void
test_txt_several_records(void **state)
{
	struct dns_answer *a = lookup_ok(*state, "_smtp._tls.two.example", DNS_TYPE_TXT);
	int seen_rpt = 0, seen_other = 0;

	assert_int_equal(a->n, 2);
	for (size_t i = 0; i < a->n; i++) {
		if (strcmp(a->txt[i].joined.p, "v=TLSRPTv1; rua=mailto:x@two.example") == 0)
			seen_rpt++;
		if (strcmp(a->txt[i].joined.p, "other record") == 0)
			seen_other++;
	}
	assert_int_equal(seen_rpt, 1);
	assert_int_equal(seen_other, 1);
	dns_answer_free(a);
}

static void
test_mx_sorted(void **state)
{
	struct dns_answer *a = lookup_ok(*state, "example.com", DNS_TYPE_MX);
	static const struct {
		uint16_t pref;
		const char *host;
	} want[] = { { 10, "a.example.com" },
		     { 10, "mx1.example.com" },
		     { 20, "mx2.example.com" } };

	assert_int_equal(a->n, 3);
	assert_false(a->null_mx);
	for (size_t i = 0; i < 3; i++) {
		if (a->mx[i].preference != want[i].pref || strcmp(a->mx[i].host, want[i].host))
			fail_msg("mx[%zu]: got %u %s, want %u %s", i, a->mx[i].preference,
			         a->mx[i].host, want[i].pref, want[i].host);
	}
	dns_answer_free(a);
}

static void
test_null_mx(void **state)
{
	struct dns_answer *a = lookup_ok(*state, "nullmx.example", DNS_TYPE_MX);

	assert_int_equal(a->n, 1);
	assert_true(a->null_mx);
	assert_int_equal(a->mx[0].preference, 0);
	assert_string_equal(a->mx[0].host, "");
	dns_answer_free(a);
}

static void
test_addresses(void **state)
{
	struct dns_answer *a = lookup_ok(*state, "mx1.example.com", DNS_TYPE_A);
	int seen = 0;

	assert_int_equal(a->n, 2);
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(a->addr[i].family, AF_INET);
		if (!strcmp(a->addr[i].text, "192.0.2.1") || !strcmp(a->addr[i].text, "192.0.2.2"))
			seen++;
	}
	assert_int_equal(seen, 2);
	assert_int_equal(a->ttl, 120);
	dns_answer_free(a);

	a = lookup_ok(*state, "mx1.example.com", DNS_TYPE_AAAA);
	assert_int_equal(a->n, 1);
	assert_int_equal(a->addr[0].family, AF_INET6);
	assert_string_equal(a->addr[0].text, "2001:db8::1");
	dns_answer_free(a);
}

static void
test_tlsa(void **state)
{
	struct dns_answer *a = lookup_ok(*state, "_25._tcp.mx1.example.com", DNS_TYPE_TLSA);

	assert_int_equal(a->n, 1);
	assert_int_equal(a->tlsa[0].usage, 3);
	assert_int_equal(a->tlsa[0].selector, 1);
	assert_int_equal(a->tlsa[0].mtype, 1);
	assert_int_equal(a->tlsa[0].len, 32);
	for (unsigned i = 0; i < 32; i++)
		assert_int_equal(a->tlsa[0].data[i], i + 1);
	dns_answer_free(a);
}

static void
test_nodata(void **state)
{
	/* name exists (A records) but has no TXT */
	struct dns_answer *a = lookup_ok(*state, "mx1.example.com", DNS_TYPE_TXT);

	assert_int_equal(a->rcode, DNS_RCODE_NOERROR);
	assert_int_equal(a->n, 0);
	assert_int_equal(a->ttl, 60); /* negative_max_ttl */
	dns_answer_free(a);
}

static void
test_nxdomain_fast(void **state)
{
	/* in the static test zone, and outside every loaded zone */
	static const char *const names[] = { "_smtp._tls.nothere.example.com", "unknown.test",
		                             "www.google.com" };

	for (size_t i = 0; i < 3; i++) {
		int64_t t0 = clock_mono_ns();
		struct dns_answer *a = lookup_ok(*state, names[i], DNS_TYPE_TXT);
		int64_t ms = (clock_mono_ns() - t0) / 1000000;

		if (a->rcode != DNS_RCODE_NXDOMAIN)
			fail_msg("%s: got rcode %s, want NXDOMAIN", names[i],
			         dns_rcode_name(a->rcode));
		assert_int_equal(a->n, 0);
		if (ms > 500)
			fail_msg("%s: took %lld ms, want < 500 (network query?)", names[i],
			         (long long)ms);
		dns_answer_free(a);
	}
}

static void
test_transparent_zone_never_queries(void **state)
{
	struct fixture *f = *state;
	struct dns_answer *a = NULL;
	struct err e = { 0 };
	int64_t t0 = clock_mono_ns();

	/* A type missing in a transparent zone would be resolved upstream: in local mode
	 * that must fail at once instead of reaching the network. */
	assert_int_equal(dns_add_local_zone(f->dns, "transparent.example", "typetransparent", &e),
	                 0);
	assert_int_equal(dns_add_local_data(f->dns, "transparent.example. 60 IN A 192.0.2.9", &e),
	                 0);
	int rc = dns_lookup(f->dns, "transparent.example", DNS_TYPE_MX, &a, &e);
	int64_t ms = (clock_mono_ns() - t0) / 1000000;
	assert_non_null(a);
	if (rc != DNS_ETEMP || a->rcode != DNS_RCODE_SERVFAIL)
		fail_msg("got rc %d rcode %s, want DNS_ETEMP SERVFAIL (%s)", rc,
		         dns_rcode_name(a->rcode), e.msg);
	if (ms > 2000)
		fail_msg("took %lld ms, want < 2000", (long long)ms);
	dns_answer_free(a);
}

static void
test_cache_hit_and_expiry(void **state)
{
	struct fixture *f = *state;
	struct dns_answer *a = lookup_ok(f, "mx1.example.com", DNS_TYPE_A);

	assert_false(a->from_cache);
	dns_answer_free(a);
	assert_int_equal(dns_cache_count(f->dns), 1);

	/* within the TTL the cached answer is served, with the TTL left */
	struct err e = { 0 };
	clock_advance(&f->clock, 100);
	a = lookup_ok(f, "MX1.example.com.", DNS_TYPE_A);
	assert_true(a->from_cache);
	assert_int_equal(a->n, 2);
	assert_int_equal(a->ttl, 20); /* 120 - 100 */
	dns_answer_free(a);

	clock_advance(&f->clock, 20);
	a = lookup_ok(f, "mx1.example.com", DNS_TYPE_A);
	assert_false(a->from_cache);
	assert_int_equal(a->ttl, 120);
	dns_answer_free(a);
	(void)e;
}

static void
test_negative_cache_expiry(void **state)
{
	struct fixture *f = *state;
	struct err e = { 0 };
	struct dns_answer *a = lookup_ok(f, "_smtp._tls.late.example.com", DNS_TYPE_TXT);

	assert_int_equal(a->rcode, DNS_RCODE_NXDOMAIN);
	assert_int_equal(a->ttl, 60);
	dns_answer_free(a);

	/* the record appears; the negative answer hides it until it expires */
	assert_int_equal(dns_add_local_data(f->dns,
	                                    "_smtp._tls.late.example.com. 300 IN TXT \"v=TLSRPTv1; "
	                                    "rua=mailto:late@example.com\"",
	                                    &e),
	                 0);
	clock_advance(&f->clock, 59);
	a = lookup_ok(f, "_smtp._tls.late.example.com", DNS_TYPE_TXT);
	assert_true(a->from_cache);
	assert_int_equal(a->rcode, DNS_RCODE_NXDOMAIN);
	assert_int_equal(a->ttl, 1);
	dns_answer_free(a);

	clock_advance(&f->clock, 1);
	a = lookup_ok(f, "_smtp._tls.late.example.com", DNS_TYPE_TXT);
	assert_false(a->from_cache);
	assert_int_equal(a->rcode, DNS_RCODE_NOERROR);
	assert_int_equal(a->n, 1);
	assert_string_equal(a->txt[0].joined.p, "v=TLSRPTv1; rua=mailto:late@example.com");
	dns_answer_free(a);
}

static void
test_ttl_clamps(void **state)
{
	struct dns_answer *a = lookup_ok(*state, "long.example", DNS_TYPE_TXT);

	assert_int_equal(a->ttl, 86400); /* max_ttl */
	dns_answer_free(a);
	a = lookup_ok(*state, "short.example", DNS_TYPE_TXT);
	assert_int_equal(a->ttl, 5); /* min_ttl */
	dns_answer_free(a);
}

static void
test_cache_bounded(void **state)
{
	struct fixture *f = *state;
	char name[64];

	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "n%d.example.com", i);
		dns_answer_free(lookup_ok(f, name, DNS_TYPE_TXT));
		if (dns_cache_count(f->dns) > 8)
			fail_msg("cache holds %zu answers, want <= 8", dns_cache_count(f->dns));
	}
	assert_int_equal(dns_cache_count(f->dns), 8);
}

static void
test_bad_names(void **state)
{
	static const char *const bad[] = { "",           ".",
		                           "a..b",       "sp ace.example",
		                           "semi;colon", "quote\".example" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dns_answer *a = (struct dns_answer *)1;
		struct err e = { 0 };
		int rc = dns_lookup(((struct fixture *)*state)->dns, bad[i], DNS_TYPE_TXT, &a, &e);
		if (rc != ERR_INVALID || a != NULL)
			fail_msg("\"%s\": got %d, want ERR_INVALID and no answer", bad[i], rc);
		assert_non_null(strstr(e.msg, "dns: "));
	}
}

static void
test_bad_local_data(void **state)
{
	struct err e = { 0 };

	assert_int_equal(dns_add_local_data(((struct fixture *)*state)->dns, "not a record", &e),
	                 ERR_INVALID);
	assert_non_null(strstr(e.msg, "dns: local data \"not a record\": "));
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(dns_rcode_name(DNS_RCODE_NXDOMAIN), "NXDOMAIN");
	assert_string_equal(dns_rcode_name(DNS_RCODE_SERVFAIL), "SERVFAIL");
	assert_string_equal(dns_rcode_name(99), "RCODE-OTHER");
	assert_string_equal(dns_sec_name(DNS_SEC_SECURE), "secure");
	assert_string_equal(dns_sec_name(DNS_SEC_BOGUS), "bogus");
	assert_string_equal(dns_sec_name(DNS_SEC_INSECURE), "insecure");
}

static void
test_bad_trust_anchor(void **state)
{
	struct dns_opts o;
	struct err e = { 0 };

	(void)state;
	dns_opts_default(&o);
	o.mode = DNS_MODE_RECURSIVE;
	o.trust_anchor_file = "/nonexistent/root.key";
	assert_null(dns_new(&o, &e));
	assert_non_null(strstr(e.msg, "/nonexistent/root.key"));
}

#define RD(s)                                                                                      \
	{                                                                                          \
		(s), sizeof(s) - 1                                                                 \
	}

/* Table of RDATA in wire form: how many records survive, and the first one's text. */
static void
test_rdata_table(void **state)
{
	static const struct {
		const char *name;
		enum dns_type type;
		struct span rd;
		size_t want_n;
		const char *want; /* TXT joined / MX "pref host" / address */
	} cases[] = {
		{ "txt two strings", DNS_TYPE_TXT, RD("\003abc\002de"), 1, "abcde" },
		{ "txt empty string", DNS_TYPE_TXT, RD("\000"), 1, "" },
		{ "txt no strings", DNS_TYPE_TXT, RD(""), 1, "" },
		{ "txt length past end", DNS_TYPE_TXT, RD("\005abc"), 0, NULL },
		{ "txt NUL inside", DNS_TYPE_TXT, RD("\003a\000b"), 1, "a" },
		{ "mx", DNS_TYPE_MX, RD("\000\012\002mx\007EXAMPLE\000"), 1, "10 mx.example" },
		{ "mx root", DNS_TYPE_MX, RD("\000\000\000"), 1, "0 " },
		{ "mx short", DNS_TYPE_MX, RD("\000\012"), 0, NULL },
		{ "mx label past end", DNS_TYPE_MX, RD("\000\012\011mx\000"), 0, NULL },
		{ "mx compression pointer", DNS_TYPE_MX, RD("\000\012\300\014"), 0, NULL },
		{ "mx trailing bytes", DNS_TYPE_MX, RD("\000\012\002mx\000x"), 0, NULL },
		{ "mx no terminator", DNS_TYPE_MX, RD("\000\012\002mx"), 0, NULL },
		{ "mx odd bytes escaped", DNS_TYPE_MX, RD("\000\001\003a b\000"), 1, "1 a\\032b" },
		{ "a", DNS_TYPE_A, RD("\300\000\002\001"), 1, "192.0.2.1" },
		{ "a short", DNS_TYPE_A, RD("\300\000\002"), 0, NULL },
		{ "aaaa short", DNS_TYPE_AAAA, RD("\040\001\015\270"), 0, NULL },
		{ "tlsa short", DNS_TYPE_TLSA, RD("\003\001"), 0, NULL },
		{ "tlsa no data", DNS_TYPE_TLSA, RD("\003\001\001"), 1, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dns_answer *a =
		        dns_answer_from_rdata("t.example", cases[i].type, &cases[i].rd, 1);
		char got[300] = "";

		if (a->n != cases[i].want_n)
			fail_msg("%s: got %zu records, want %zu", cases[i].name, a->n,
			         cases[i].want_n);
		if (a->n && cases[i].want) {
			if (a->type == DNS_TYPE_TXT)
				snprintf(got, sizeof(got), "%s", a->txt[0].joined.p);
			else if (a->type == DNS_TYPE_MX)
				snprintf(got, sizeof(got), "%u %s", a->mx[0].preference,
				         a->mx[0].host);
			else
				snprintf(got, sizeof(got), "%s", a->addr[0].text);
			if (strcmp(got, cases[i].want))
				fail_msg("%s: got \"%s\", want \"%s\"", cases[i].name, got,
				         cases[i].want);
		}
		dns_answer_free(a);
	}
}

static void
test_rdata_null_mx_only_alone(void **state)
{
	struct span rd[2] = { RD("\000\000\000"), RD("\000\012\002mx\000") };
	struct dns_answer *a = dns_answer_from_rdata("d.example", DNS_TYPE_MX, rd, 2);

	(void)state;
	assert_int_equal(a->n, 2);
	assert_false(a->null_mx); /* "0 ." next to a real MX is not RFC 7505 null MX */
	assert_string_equal(a->mx[1].host, "mx");
	dns_answer_free(a);
}

struct thread_arg {
	struct fixture *f;
	int failures;
};

static void *
lookup_thread(void *p)
{
	struct thread_arg *t = p;
	static const char *const names[] = { "mx1.example.com", "_smtp._tls.example.com",
		                             "nothere.example.com", "n1.example.com" };

	for (int i = 0; i < 200; i++) {
		struct dns_answer *a = NULL;
		const char *name = names[i % 4];
		enum dns_type type = i % 4 == 0 ? DNS_TYPE_A : DNS_TYPE_TXT;
		if (dns_lookup(t->f->dns, name, type, &a, NULL) != 0)
			t->failures++;
		else if ((i % 4 == 0 && a->n != 2) || (i % 4 == 1 && a->n != 1) ||
		         (i % 4 >= 2 && a->rcode != DNS_RCODE_NXDOMAIN))
			t->failures++;
		dns_answer_free(a);
		if (i % 50 == 0)
			dns_cache_flush(t->f->dns);
	}
	return NULL;
}

static void
test_threads_share_one_dns(void **state)
{
	pthread_t th[4];
	struct thread_arg args[4];

	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ *state, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, lookup_thread, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		if (args[i].failures)
			fail_msg("thread %d: got %d wrong answers, want 0", i, args[i].failures);
	}
	assert_true(dns_cache_count(((struct fixture *)*state)->dns) <= 8);
}

static void
test_modes_set_up_without_queries(void **state)
{
	struct dns_opts o;
	struct err e = { 0 };
	struct dns *d;
	char path[] = "/tmp/test_dns_resolv.XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "nameserver 192.0.2.53\n", 22), 22);
	close(fd);
	dns_opts_default(&o);
	o.resolv_conf = path;
	o.hosts_file = "";
	d = dns_new(&o, &e);
	if (!d)
		fail_msg("forward mode: %s", e.msg);
	dns_free(d);

	o.resolv_conf = "/nonexistent/resolv.conf";
	assert_null(dns_new(&o, &e));
	assert_non_null(strstr(e.msg, "dns: /nonexistent/resolv.conf: "));
	unlink(path);

	if (access("/usr/share/dns/root.key", R_OK) == 0) {
		dns_opts_default(&o);
		o.mode = DNS_MODE_RECURSIVE;
		d = dns_new(&o, &e);
		if (!d)
			fail_msg("recursive mode with dns-root-data: %s", e.msg);
		dns_free(d);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_txt_single, flush),
		cmocka_unit_test_setup(test_txt_multi_string, flush),
		cmocka_unit_test_setup(test_txt_several_records, flush),
		cmocka_unit_test_setup(test_mx_sorted, flush),
		cmocka_unit_test_setup(test_null_mx, flush),
		cmocka_unit_test_setup(test_addresses, flush),
		cmocka_unit_test_setup(test_tlsa, flush),
		cmocka_unit_test_setup(test_nodata, flush),
		cmocka_unit_test_setup(test_nxdomain_fast, flush),
		cmocka_unit_test_setup(test_transparent_zone_never_queries, flush),
		cmocka_unit_test_setup(test_cache_hit_and_expiry, flush),
		cmocka_unit_test_setup(test_negative_cache_expiry, flush),
		cmocka_unit_test_setup(test_ttl_clamps, flush),
		cmocka_unit_test_setup(test_cache_bounded, flush),
		cmocka_unit_test_setup(test_bad_names, flush),
		cmocka_unit_test_setup(test_bad_local_data, flush),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_bad_trust_anchor),
		cmocka_unit_test(test_rdata_table),
		cmocka_unit_test(test_rdata_null_mx_only_alone),
		cmocka_unit_test_setup(test_threads_share_one_dns, flush),
		cmocka_unit_test(test_modes_set_up_without_queries),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
