/*
 * test_deliver.c - report delivery pieces: the backoff schedule, the store's due /
 * claim / reset operations (no double claim, sent is final), the DKIM signers (load
 * errors at start, one signature per id), and a delivery pass with local DNS where no
 * network is needed (no record, two records, destination no longer published), and
 * delivery.daily-cap (store sent_count / defer; a pass defers without an attempt; a
 * store without those ops does not enforce the cap).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/conf.h"
#include "mail/dkim.h"
#include "net/dns.h"
#include "outbound/deliver.h"
#include "outbound/signers.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/clock.h"

static char dbpath[512];

static struct store *
open_store(void)
{
	const char *tmp = getenv("TLSRPT_TEST_TMP");
	struct store *s;
	struct err e = { 0 };

	snprintf(dbpath, sizeof(dbpath), "%s/test_deliver.%d.db", tmp ? tmp : "/tmp",
	         (int)getpid());
	unlink(dbpath);
	if (store_open("sqlite", dbpath, &s, &e) != 0)
		fail_msg("store_open: %s", e.msg);
	return s;
}

static void
close_store(struct store *s)
{
	char p[600];

	store_close(s);
	unlink(dbpath);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
}

static struct conf *
load_conf(const char *text)
{
	struct conf *c = NULL;
	struct buf errs;
	struct err e = { 0 };

	buf_init(&errs, 65536);
	if (conf_parse("test.toml", text, strlen(text), &c, &errs, &e) != 0)
		fail_msg("conf: %s", buf_cstr(&errs));
	buf_clear(&errs);
	return c;
}

/* Inserts one ready report of domain with the given destinations; returns its id. */
static int64_t
insert_report(struct store *s, const char *domain, const char *report_id, const char *const *dests,
              size_t n, int64_t created)
{
	struct store_delivery d[4];
	struct store_outbox_report r = { 0 };
	struct err e = { 0 };
	int64_t id = 0;

	memset(d, 0, sizeof(d));
	for (size_t i = 0; i < n; i++)
		d[i].dest = dests[i];
	static int64_t window;

	r.window_id = ++window;
	r.period = WINDOW_DAILY;
	r.start = created - 86400 - 600;
	r.end = created - 601;
	r.domain = domain;
	r.record = "v=TLSRPTv1; rua=mailto:x@y";
	r.part = 1;
	r.report_id = report_id;
	r.filename = "f.json.gz";
	r.body = (const unsigned char *)"gz";
	r.body_len = 2;
	r.created = created;
	r.deliveries = d;
	r.n_deliveries = n;
	if (s->ops->outbox_insert(s, &r, &id, &e) != 0)
		fail_msg("outbox_insert: %s", e.msg);
	return id;
}

struct rows {
	char dest[4][128];
	int state[4];
	unsigned attempts[4];
	char error[4][256];
	size_t n;
};

static int
grab_rows(void *ctx, const struct store_outbox_report *r)
{
	struct rows *w = ctx;

	w->n = r->n_deliveries;
	for (size_t i = 0; i < r->n_deliveries && i < 4; i++) {
		snprintf(w->dest[i], sizeof(w->dest[i]), "%s", r->deliveries[i].dest);
		w->state[i] = (int)r->deliveries[i].state;
		w->attempts[i] = r->deliveries[i].attempts;
		snprintf(w->error[i], sizeof(w->error[i]), "%s",
		         r->deliveries[i].last_error ? r->deliveries[i].last_error : "");
	}
	return 0;
}

static struct rows
get_rows(struct store *s, int64_t id)
{
	struct rows w;
	struct err e = { 0 };

	memset(&w, 0, sizeof(w));
	if (s->ops->outbox_get(s, id, grab_rows, &w, &e) != 0)
		fail_msg("outbox_get: %s", e.msg);
	return w;
}

/* ------------------------------------------------------------------ backoff */

static void
test_backoff(void **state)
{
	static const struct {
		uint32_t attempts;
		double jitter;
		int64_t want;
	} cases[] = {
		{ 1, 0, 300 },   { 2, 0, 600 },    { 3, 0, 1200 },       { 6, 0, 9600 },
		{ 7, 0, 14400 }, { 50, 0, 14400 }, { 1, 0.5, 300 + 37 }, { 7, 0.999, 14400 + 3596 },
		{ 1, 1.5, 300 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t got = deliver_backoff(cases[i].attempts, cases[i].jitter);

		if (got != cases[i].want)
			fail_msg("backoff(%u, %g): got %lld, want %lld", cases[i].attempts,
			         cases[i].jitter, (long long)got, (long long)cases[i].want);
	}
}

/* ------------------------------------------------------------------ store ops */

static void
test_store_due_claim_reset(void **state)
{
	struct store *s = open_store();
	const char *dests[] = { "mailto:a@x.example", "https://x.example/r" };
	struct err e = { 0 };
	int64_t ids[8], id, id2;
	size_t n = 0;
	bool claimed;
	struct rows w;

	(void)state;
	id = insert_report(s, "x.example", "r1", dests, 2, 1000);
	id2 = insert_report(s, "y.example", "r2", dests, 1, 1000);
	assert_int_equal(s->ops->outbox_due(s, 1000, 8, ids, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], id);
	assert_int_equal(ids[1], id2);
	/* the first claim wins, the second sees the lease */
	assert_int_equal(s->ops->outbox_claim(s, id, dests[0], 1000, 1400, &claimed, &e), 0);
	assert_true(claimed);
	assert_int_equal(s->ops->outbox_claim(s, id, dests[0], 1000, 1400, &claimed, &e), 0);
	assert_false(claimed);
	/* the lease ran out (a crash mid-attempt): claimable again */
	assert_int_equal(s->ops->outbox_claim(s, id, dests[0], 1400, 1800, &claimed, &e), 0);
	assert_true(claimed);
	/* sent is final */
	assert_int_equal(
	        s->ops->outbox_delivery_update(s, id, dests[0], STORE_DELIVERY_SENT, 0, NULL, &e),
	        0);
	assert_int_equal(s->ops->outbox_claim(s, id, dests[0], 99999, 99999, &claimed, &e), 0);
	assert_false(claimed);
	/* due lists report id for its https row only; y.example as well */
	assert_int_equal(s->ops->outbox_due(s, 1000, 8, ids, &n, &e), 0);
	assert_int_equal(n, 2);
	/* failed with a future next_try is not due */
	assert_int_equal(s->ops->outbox_delivery_update(s, id, dests[1], STORE_DELIVERY_FAILED,
	                                                2000, "HTTP 503", &e),
	                 0);
	assert_int_equal(s->ops->outbox_due(s, 1999, 8, ids, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], id2);
	assert_int_equal(s->ops->outbox_due(s, 2000, 8, ids, &n, &e), 0);
	assert_int_equal(n, 2);
	/* limit */
	assert_int_equal(s->ops->outbox_due(s, 2000, 1, ids, &n, &e), 0);
	assert_int_equal(n, 1);
	/* cancel: the sent row stays */
	assert_int_equal(
	        s->ops->outbox_reset(s, id, STORE_DELIVERY_GIVEN_UP, 0, "cancelled", &n, &e), 0);
	assert_int_equal(n, 1);
	w = get_rows(s, id);
	assert_int_equal(w.state[0], STORE_DELIVERY_SENT);
	assert_int_equal(w.state[1], STORE_DELIVERY_GIVEN_UP);
	assert_string_equal(w.error[1], "cancelled");
	assert_int_equal(w.attempts[1], 1);
	/* retry */
	assert_int_equal(s->ops->outbox_reset(s, id, STORE_DELIVERY_PENDING, 0, NULL, &n, &e), 0);
	assert_int_equal(n, 1);
	w = get_rows(s, id);
	assert_int_equal(w.state[1], STORE_DELIVERY_PENDING);
	assert_string_equal(w.error[1], "");
	assert_int_equal(s->ops->outbox_reset(s, 424242, STORE_DELIVERY_PENDING, 0, NULL, &n, &e),
	                 ERR_NOTFOUND);
	assert_string_equal(e.msg, "outbox: no report 424242");
	close_store(s);
}

/* ------------------------------------------------------------------ signers */

static char *
gen_pem(enum mdkim_alg alg)
{
	struct mdkim_key *k = NULL;
	struct err e = { 0 };
	struct buf b;

	if (mdkim_key_generate(alg, 1024, &k, &e) != 0)
		fail_msg("keygen: %s", e.msg);
	buf_init(&b, 1 << 16);
	if (mdkim_key_pem(k, &b, &e) != 0)
		fail_msg("pem: %s", e.msg);
	mdkim_key_free(k);
	return buf_steal(&b, NULL);
}

static struct conf *
signer_conf(const char *sign, const char *rsa_alg)
{
	char *rsa = gen_pem(MDKIM_RSA_SHA256), *ed = gen_pem(MDKIM_ED25519_SHA256);
	struct buf t;
	struct conf *c;

	buf_init(&t, 1 << 16);
	buf_printf(&t,
	           "[report]\nsubmitter = \"'mx.example.org'\"\n"
	           "[report.tls.aggregate]\n%s"
	           "[signature.rsa]\nprivate-key = \"\"\"%s\"\"\"\ndomain = \"example.org\"\n"
	           "selector = \"s1\"\nalgorithm = \"%s\"\n"
	           "[signature.ed]\nprivate-key = \"\"\"%s\"\"\"\ndomain = \"example.org\"\n"
	           "selector = \"s2\"\nalgorithm = \"ed25519-sha256\"\nexpire = \"1d\"\n",
	           sign, rsa, rsa_alg, ed);
	c = load_conf(buf_cstr(&t));
	buf_clear(&t);
	free(rsa);
	free(ed);
	return c;
}

static void
test_signers(void **state)
{
	struct conf *c = signer_conf("sign = \"['rsa', 'ed']\"\n", "rsa-sha256");
	struct signers sg;
	struct err e = { 0 };
	struct buf out;
	size_t nsig = 0;
	const char msg[] = "From: a@example.org\r\nTo: b@example.net\r\nSubject: x\r\n\r\nbody\r\n";

	(void)state;
	assert_int_equal(signers_load(c, &sg, &e), 0);
	assert_int_equal(sg.n, 2);
	assert_non_null(signers_find(&sg, "ed"));
	assert_null(signers_find(&sg, "nope"));
	buf_init(&out, 1 << 16);
	assert_int_equal(
	        signers_sign(&sg, "a.example", 1700000000, span_cstr(msg), &out, &nsig, &e), 0);
	assert_int_equal(nsig, 2);
	assert_non_null(strstr(buf_cstr(&out), "a=rsa-sha256"));
	assert_non_null(strstr(buf_cstr(&out), "s=s2"));
	assert_non_null(strstr(buf_cstr(&out), "x=1700086400"));
	assert_true(strstr(buf_cstr(&out), "a=rsa-sha256") < strstr(buf_cstr(&out), "a=ed25519"));
	buf_clear(&out);
	signers_free(&sg);
	conf_free(c);

	c = signer_conf("sign = \"['rsa', 'nope']\"\n", "rsa-sha256");
	assert_int_equal(signers_load(c, &sg, &e), ERR_INVALID);
	assert_string_equal(e.msg, "report.tls.aggregate.sign: unknown signature id 'nope' (no "
	                           "[signature.nope] block)");
	conf_free(c);

	c = signer_conf("sign = \"['rsa']\"\n", "ed25519-sha256");
	assert_int_equal(signers_load(c, &sg, &e), ERR_INVALID);
	assert_string_equal(
	        e.msg, "signature.rsa: algorithm ed25519-sha256 does not match the rsa-sha256 key");
	conf_free(c);

	/* the default `sign` names ids that do not exist: left out, not an error */
	c = load_conf("[report]\nsubmitter = \"'mx.example.org'\"\n");
	assert_int_equal(signers_load(c, &sg, &e), 0);
	assert_int_equal(sg.n, 0);
	signers_free(&sg);
	conf_free(c);
}

/* ------------------------------------------------------------------ a pass, offline */

static void
test_pass_record_rules(void **state)
{
	struct store *s = open_store();
	struct conf *c = load_conf("[report]\nsubmitter = \"'mx.example.org'\"\n"
	                           "[delivery]\nrelay = \"smtp://127.0.0.1:1\"\n");
	const char *d1[] = { "mailto:a@none.example" };
	const char *d2[] = { "mailto:a@two.example" };
	const char *d3[] = { "mailto:old@gone.example" };
	struct dns_opts dopts;
	struct dns *dns;
	struct clock clk;
	struct err e = { 0 };
	struct deliver_stats st = { 0 };
	struct deliver_opts o = { 0 };
	int64_t i1, i2, i3;
	struct rows w;

	(void)state;
	dns_opts_default(&dopts);
	dopts.mode = DNS_MODE_LOCAL;
	dns = dns_new(&dopts, &e);
	assert_non_null(dns);
	assert_int_equal(dns_add_local_data(dns,
	                                    "_smtp._tls.two.example. 300 IN TXT \"v=TLSRPTv1; "
	                                    "rua=mailto:a@two.example\"",
	                                    &e),
	                 0);
	assert_int_equal(dns_add_local_data(dns,
	                                    "_smtp._tls.two.example. 300 IN TXT \"v=TLSRPTv1; "
	                                    "rua=mailto:b@two.example\"",
	                                    &e),
	                 0);
	assert_int_equal(dns_add_local_data(dns,
	                                    "_smtp._tls.gone.example. 300 IN TXT \"v=TLSRPTv1; "
	                                    "rua=mailto:new@gone.example\"",
	                                    &e),
	                 0);
	i1 = insert_report(s, "none.example", "r1", d1, 1, 5000);
	i2 = insert_report(s, "two.example", "r2", d2, 1, 5000);
	i3 = insert_report(s, "gone.example", "r3", d3, 1, 5000);
	clock_init_fixed(&clk, 5010);
	o.conf = c;
	o.store = s;
	o.dns = dns;
	o.clock = &clk;
	assert_int_equal(deliver_pass(&o, &st, &e), 0);
	assert_int_equal(st.reports, 3);
	assert_int_equal(st.attempts, 3);
	assert_int_equal(st.given_up, 3);
	w = get_rows(s, i1);
	assert_int_equal(w.state[0], STORE_DELIVERY_GIVEN_UP);
	assert_string_equal(w.error[0], "no TLSRPT record at _smtp._tls.none.example (NXDOMAIN)");
	w = get_rows(s, i2);
	assert_int_equal(w.state[0], STORE_DELIVERY_GIVEN_UP);
	assert_string_equal(
	        w.error[0],
	        "_smtp._tls.two.example: tlsrpt record: 2 TLSRPT records (exactly one is "
	        "allowed, RFC 8460 section 3)");
	w = get_rows(s, i3);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.state[0], STORE_DELIVERY_GIVEN_UP);
	assert_string_equal(w.error[0], "no longer published in the current TLSRPT record");
	/* nothing is due any more */
	memset(&st, 0, sizeof(st));
	assert_int_equal(deliver_pass(&o, &st, &e), 0);
	assert_int_equal(st.reports, 0);
	dns_free(dns);
	conf_free(c);
	close_store(s);
}

static void
test_pass_allow_deny(void **state)
{
	struct store *s = open_store();
	struct conf *c = load_conf("[report]\nsubmitter = \"'mx.example.org'\"\n"
	                           "[delivery]\nrelay = \"smtp://127.0.0.1:1\"\n"
	                           "allow-domains = [\"bad.example\", \"good.example\"]\n"
	                           "deny-domains = [\".bad.example\"]\n");
	const char *dests[] = { "mailto:a@sub.bad.example", "https://u@other.example:8443/x",
		                "https://[2001:db8::1]/r" };
	struct dns_opts dopts;
	struct dns *dns;
	struct clock clk;
	struct err e = { 0 };
	struct deliver_stats st = { 0 };
	struct deliver_opts o = { 0 };
	int64_t id;
	struct rows w;

	(void)state;
	dns_opts_default(&dopts);
	dopts.mode = DNS_MODE_LOCAL;
	dns = dns_new(&dopts, &e);
	assert_non_null(dns);
	assert_int_equal(dns_add_local_data(dns,
	                                    "_smtp._tls.d.example. 300 IN TXT \"v=TLSRPTv1; "
	                                    "rua=mailto:a@sub.bad.example,https://u@other.example:"
	                                    "8443/x,https://[2001:db8::1]/r\"",
	                                    &e),
	                 0);
	id = insert_report(s, "d.example", "r1", dests, 3, 5000);
	clock_init_fixed(&clk, 5010);
	o.conf = c;
	o.store = s;
	o.dns = dns;
	o.clock = &clk;
	assert_int_equal(deliver_pass(&o, &st, &e), 0);
	assert_int_equal(st.given_up, 3);
	assert_int_equal(st.sent + st.failed, 0);
	w = get_rows(s, id);
	assert_string_equal(w.error[0], "destination domain is in delivery.deny-domains");
	assert_string_equal(w.error[1], "destination domain is not in delivery.allow-domains");
	assert_string_equal(w.error[2], "destination domain is not in delivery.allow-domains");
	dns_free(dns);
	conf_free(c);
	close_store(s);
}

/* ------------------------------------------------------------------ delivery.daily-cap */

struct next_row {
	int64_t next_try;
};

static int
grab_next(void *ctx, const struct store_outbox_report *r)
{
	struct next_row *n = ctx;

	n->next_try = r->n_deliveries ? r->deliveries[0].next_try : -1;
	return 0;
}

static void
test_store_sent_count_defer(void **state)
{
	struct store *s = open_store();
	const char *a[] = { "mailto:r@cap.example" };
	const char *b[] = { "mailto:other@cap.example" };
	struct err e = { 0 };
	struct next_row nr = { 0 };
	int64_t i1, i2, i3, i4;
	uint64_t n = 99;
	struct rows w;

	(void)state;
	i1 = insert_report(s, "c1.example", "r1", a, 1, 1000);
	i2 = insert_report(s, "c2.example", "r2", a, 1, 1000);
	i3 = insert_report(s, "c3.example", "r3", a, 1, 1000);
	i4 = insert_report(s, "o.example", "r4", b, 1, 1000);
	assert_int_equal(s->ops->outbox_sent_count(s, a[0], 0, &n, &e), 0);
	assert_int_equal(n, 0);
	/* sent at 86399 (day 0) and 86400 (day 1); a failed row never counts */
	assert_int_equal(
	        s->ops->outbox_delivery_update(s, i1, a[0], STORE_DELIVERY_SENT, 86399, NULL, &e),
	        0);
	assert_int_equal(
	        s->ops->outbox_delivery_update(s, i2, a[0], STORE_DELIVERY_SENT, 86400, NULL, &e),
	        0);
	assert_int_equal(s->ops->outbox_delivery_update(s, i3, a[0], STORE_DELIVERY_FAILED, 90000,
	                                                "451", &e),
	                 0);
	assert_int_equal(
	        s->ops->outbox_delivery_update(s, i4, b[0], STORE_DELIVERY_SENT, 86500, NULL, &e),
	        0);
	static const struct {
		int64_t since;
		uint64_t want;
	} cases[] = { { 0, 2 }, { 86399, 2 }, { 86400, 1 }, { 86401, 0 } };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(s->ops->outbox_sent_count(s, a[0], cases[i].since, &n, &e), 0);
		if (n != cases[i].want)
			fail_msg("sent_count since %lld: got %llu, want %llu",
			         (long long)cases[i].since, (unsigned long long)n,
			         (unsigned long long)cases[i].want);
	}
	/* a sent row keeps no next try */
	assert_int_equal(s->ops->outbox_get(s, i1, grab_next, &nr, &e), 0);
	assert_int_equal(nr.next_try, 0);
	/* defer keeps attempts, sets failed / next_try / reason */
	assert_int_equal(s->ops->outbox_defer(s, i3, a[0], 172800, "daily cap", &e), 0);
	w = get_rows(s, i3);
	assert_int_equal(w.state[0], STORE_DELIVERY_FAILED);
	assert_int_equal(w.attempts[0], 1);
	assert_string_equal(w.error[0], "daily cap");
	assert_int_equal(s->ops->outbox_get(s, i3, grab_next, &nr, &e), 0);
	assert_int_equal(nr.next_try, 172800);
	/* a sent row cannot be deferred */
	assert_int_equal(s->ops->outbox_defer(s, i1, a[0], 172800, "x", &e), ERR_NOTFOUND);
	assert_string_equal(e.msg,
	                    "outbox: report 1 has no unsent destination mailto:r@cap.example");
	close_store(s);
}

/* A pass with delivery.daily-cap = 1 after one report went to the destination today:
 * the next row is deferred to midnight without an attempt; with a store that lacks the
 * ops (PostgreSQL today) the cap is not enforced and the row is tried. */
static void
test_pass_daily_cap(void **state)
{
	struct store *s = open_store();
	struct conf *c = load_conf("[report]\nsubmitter = \"'mx.example.org'\"\n"
	                           "[report.tls.aggregate]\nsign = \"[]\"\n"
	                           "[delivery]\nrelay = \"smtp://127.0.0.1:1\"\n"
	                           "connect-timeout = \"1s\"\ndaily-cap = 1\n");
	const char *a[] = { "mailto:r@cap.example" };
	struct store_ops no_cap_ops;
	const struct store_ops *real_ops = s->ops;
	struct dns_opts dopts;
	struct dns *dns;
	struct clock clk;
	struct err e = { 0 };
	struct deliver_stats st = { 0 };
	struct deliver_opts o = { 0 };
	int64_t i1, i2;
	struct rows w;

	(void)state;
	dns_opts_default(&dopts);
	dopts.mode = DNS_MODE_LOCAL;
	dns = dns_new(&dopts, &e);
	assert_non_null(dns);
	assert_int_equal(dns_add_local_data(dns,
	                                    "_smtp._tls.c2.example. 300 IN TXT \"v=TLSRPTv1; "
	                                    "rua=mailto:r@cap.example\"",
	                                    &e),
	                 0);
	i1 = insert_report(s, "c1.example", "r1", a, 1, 90000);
	i2 = insert_report(s, "c2.example", "r2", a, 1, 90000);
	assert_int_equal(s->ops->outbox_claim(s, i1, a[0], 90000, 90001, &(bool){ false }, &e), 0);
	assert_int_equal(
	        s->ops->outbox_delivery_update(s, i1, a[0], STORE_DELIVERY_SENT, 90005, NULL, &e),
	        0);
	clock_init_fixed(&clk, 90010);
	o.conf = c;
	o.store = s;
	o.dns = dns;
	o.clock = &clk;
	assert_int_equal(deliver_pass(&o, &st, &e), 0);
	assert_int_equal(st.reports, 1);
	assert_int_equal(st.attempts, 0);
	assert_int_equal(st.deferred, 1);
	w = get_rows(s, i2);
	assert_int_equal(w.state[0], STORE_DELIVERY_FAILED);
	assert_int_equal(w.attempts[0], 0);
	assert_string_equal(w.error[0], "daily cap of 1 reports reached for mailto:r@cap.example");
	/* not due before midnight (172800), due at it */
	memset(&st, 0, sizeof(st));
	clock_init_fixed(&clk, 172799);
	assert_int_equal(deliver_pass(&o, &st, &e), 0);
	assert_int_equal(st.reports, 0);
	/* the same situation on a store without the ops: tried (and failing: no relay) */
	assert_int_equal(s->ops->outbox_reset(s, i2, STORE_DELIVERY_PENDING, 0, NULL, NULL, &e), 0);
	no_cap_ops = *real_ops;
	no_cap_ops.outbox_sent_count = NULL;
	no_cap_ops.outbox_defer = NULL;
	s->ops = &no_cap_ops;
	memset(&st, 0, sizeof(st));
	clock_init_fixed(&clk, 90020);
	assert_int_equal(deliver_pass(&o, &st, &e), 0);
	assert_int_equal(st.attempts, 1);
	assert_int_equal(st.deferred, 0);
	assert_int_equal(st.failed, 1);
	s->ops = real_ops;
	w = get_rows(s, i2);
	assert_int_equal(w.attempts[0], 1);
	dns_free(dns);
	conf_free(c);
	close_store(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_store_due_claim_reset),
		cmocka_unit_test(test_signers),
		cmocka_unit_test(test_pass_record_rules),
		cmocka_unit_test(test_pass_allow_deny),
		cmocka_unit_test(test_store_sent_count_defer),
		cmocka_unit_test(test_pass_daily_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
