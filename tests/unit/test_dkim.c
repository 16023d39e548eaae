/*
 * test_dkim.c - DKIM canonicalization (RFC 6376 3.4.5 example), tag-list, signature and
 * key record parsing, sign + verify round trips (rsa-sha256, ed25519-sha256), tampering,
 * the RFC 8460 rules (l=, s=), key tooling, alignment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mail/dkim.h"
#include "mail/mime.h"
#include "mail/orgdomain.h"
#include "util/base64.h"
#include "util/buf.h"

static struct mdkim_key *rsa_key, *ed_key;

/* ------------------------------------------------------------ key lookup fixture */

struct rec {
	const char *name; /* selector._domainkey.domain */
	char txt[2048];
	int rc; /* 0, ERR_NOTFOUND, ERR_AGAIN */
};

static struct rec recs[8];
static size_t nrecs;

static void
set_rec(const char *name, int rc, const char *txt)
{
	for (size_t i = 0; i < nrecs; i++)
		if (strcmp(recs[i].name, name) == 0) {
			recs[i].rc = rc;
			snprintf(recs[i].txt, sizeof recs[i].txt, "%s", txt);
			return;
		}
	assert_true(nrecs < 8);
	recs[nrecs].name = name;
	recs[nrecs].rc = rc;
	snprintf(recs[nrecs].txt, sizeof recs[nrecs].txt, "%s", txt);
	nrecs++;
}

static int
lookup(void *ctx, const char *selector, const char *domain, struct buf *txt, struct err *e)
{
	char name[300];
	(void)ctx;
	snprintf(name, sizeof name, "%s._domainkey.%s", selector, domain);
	for (size_t i = 0; i < nrecs; i++) {
		if (strcmp(recs[i].name, name) != 0)
			continue;
		if (recs[i].rc)
			return err_set(e, recs[i].rc, "lookup of %s failed", name);
		return buf_append_str(txt, recs[i].txt);
	}
	return err_set(e, ERR_NOTFOUND, "no %s", name);
}

static const char *
record_of(const struct mdkim_key *k, const char *extra)
{
	static char out[2048];
	struct buf b;
	buf_init(&b, 2000);
	assert_int_equal(mdkim_key_dns_record(k, &b, NULL), 0);
	snprintf(out, sizeof out, "%s%s", buf_cstr(&b), extra);
	buf_clear(&b);
	return out;
}

static int
setup(void **state)
{
	(void)state;
	struct err e = { 0 };
	if (mdkim_key_generate(MDKIM_RSA_SHA256, 2048, &rsa_key, &e) != 0 ||
	    mdkim_key_generate(MDKIM_ED25519_SHA256, 0, &ed_key, &e) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	mdkim_key_free(rsa_key);
	mdkim_key_free(ed_key);
	return 0;
}

static const char message[] =
        "From: TLS Reports <tlsrpt@mail.sender.example>\r\n"
        "To: tlsrpt@example.net\r\n"
        "Date: Sun, 29 Nov 2026 04:00:00 +0000\r\n"
        "Subject: Report Domain: example.net Submitter: mail.sender.example\r\n"
        " Report-ID: <1@mail.sender.example>\r\n"
        "Message-ID: <m1@mail.sender.example>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain\r\n"
        "TLS-Report-Domain: example.net\r\n"
        "TLS-Report-Submitter: mail.sender.example\r\n"
        "X-Unsigned: 1\r\n"
        "\r\n"
        "Body line one  \r\n"
        "  line\ttwo\r\n"
        "\r\n"
        "\r\n";

/* Signs msg and returns signature + msg in *out. */
static void
sign_msg(const struct mdkim_key *k, const char *selector, enum mdkim_canon hc, enum mdkim_canon bc,
         int64_t t, int64_t expire, const char *msg, struct buf *out)
{
	struct mdkim_sign_opts o = { .domain = "mail.sender.example",
		                     .selector = selector,
		                     .hc = hc,
		                     .bc = bc,
		                     .t = t,
		                     .expire = expire };
	struct err e = { 0 };
	if (mdkim_sign(k, &o, span_cstr(msg), out, &e) != 0)
		fail_msg("sign: %s", e.msg);
	assert_int_equal(buf_append_str(out, msg), 0);
}

/* Verifies msg; expects exactly one signature; returns its verdict. */
static struct mdkim_verdict
verify_one(struct span msg, int64_t now)
{
	struct mime_msg m;
	struct err e = { 0 };
	struct mdkim_verdict *v, out;
	size_t n;
	struct mdkim_verify_opts o = { .lookup = lookup, .now = now };
	if (mime_parse(&m, msg, NULL, &e) != 0)
		fail_msg("parse: %s", e.msg);
	assert_int_equal(mdkim_verify(&m, &o, &v, &n, &e), 0);
	assert_int_equal(n, 1);
	out = v[0];
	free(v);
	mime_msg_clear(&m);
	return out;
}

static void
expect(struct mdkim_verdict v, enum mdkim_result r, const char *reason, const char *what)
{
	if (v.result != r || strcmp(v.reason, reason) != 0)
		fail_msg("%s: got %s \"%s\", want %s \"%s\"", what, mdkim_result_name(v.result),
		         v.reason, mdkim_result_name(r), reason);
}

/* Replaces the first occurrence of from with to in b. */
static void
replace(struct buf *b, const char *from, const char *to)
{
	char *p = strstr(b->data, from);
	assert_non_null(p);
	struct buf n;
	buf_init(&n, b->max);
	assert_int_equal(buf_append(&n, b->data, (size_t)(p - b->data)), 0);
	assert_int_equal(buf_append_str(&n, to), 0);
	assert_int_equal(buf_append_str(&n, p + strlen(from)), 0);
	buf_reset(b);
	assert_int_equal(buf_append_span(b, buf_span(&n)), 0);
	buf_clear(&n);
}

/* ------------------------------------------------------------ canonicalization */

static void
test_canon_rfc_example(void **state)
{
	(void)state;
	/* RFC 6376 section 3.4.5 */
	struct buf b;
	buf_init(&b, 1000);
	assert_int_equal(mdkim_canon_header(MDKIM_RELAXED, SPAN_LIT("A: X\r\n"), &b), 0);
	assert_int_equal(mdkim_canon_header(MDKIM_RELAXED, SPAN_LIT("B : Y\t\r\n\tZ  \r\n"), &b),
	                 0);
	assert_string_equal(buf_cstr(&b), "a:X\r\nb:Y Z\r\n");
	buf_reset(&b);
	assert_int_equal(mdkim_canon_header(MDKIM_SIMPLE, SPAN_LIT("A: X\r\n"), &b), 0);
	assert_int_equal(mdkim_canon_header(MDKIM_SIMPLE, SPAN_LIT("B : Y\t\r\n\tZ  \r\n"), &b), 0);
	assert_string_equal(buf_cstr(&b), "A: X\r\nB : Y\t\r\n\tZ  \r\n");
	struct span body = SPAN_LIT(" C \r\nD \t E\r\n\r\n\r\n");
	buf_reset(&b);
	assert_int_equal(mdkim_canon_body(MDKIM_RELAXED, body, &b), 0);
	assert_string_equal(buf_cstr(&b), " C\r\nD E\r\n");
	buf_reset(&b);
	assert_int_equal(mdkim_canon_body(MDKIM_SIMPLE, body, &b), 0);
	assert_string_equal(buf_cstr(&b), " C \r\nD \t E\r\n");
	buf_clear(&b);
}

struct body_case {
	enum mdkim_canon c;
	const char *in, *want;
};

static void
test_canon_body_cases(void **state)
{
	(void)state;
	static const struct body_case cases[] = {
		{ MDKIM_SIMPLE, "", "\r\n" },
		{ MDKIM_RELAXED, "", "" },
		{ MDKIM_SIMPLE, "\r\n\r\n", "\r\n" },
		{ MDKIM_RELAXED, " \r\n\t\r\n", "" },
		{ MDKIM_SIMPLE, "a\nb\n", "a\r\nb\r\n" }, /* bare LF read as CRLF */
		{ MDKIM_RELAXED, "a  \nb\n\n", "a\r\nb\r\n" },
		{ MDKIM_SIMPLE, "abc", "abc\r\n" },                /* missing final CRLF added */
		{ MDKIM_RELAXED, "x\r\n\r\ny", "x\r\n\r\ny\r\n" }, /* inner empty lines kept */
		{ MDKIM_SIMPLE, "a\rb\r\n", "a\rb\r\n" },          /* lone CR is content */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b;
		buf_init(&b, 100);
		assert_int_equal(mdkim_canon_body(cases[i].c, span_cstr(cases[i].in), &b), 0);
		if (strcmp(buf_cstr(&b), cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, buf_cstr(&b),
			         cases[i].want);
		buf_clear(&b);
	}
	/* well-known hashes of the empty body */
	unsigned char h[32];
	struct buf b64;
	buf_init(&b64, 100);
	assert_int_equal(mdkim_body_hash(MDKIM_SIMPLE, SPAN_LIT(""), h), 0);
	assert_int_equal(base64_encode(&b64, h, 32, 0), 0);
	assert_string_equal(buf_cstr(&b64), "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
	buf_reset(&b64);
	assert_int_equal(mdkim_body_hash(MDKIM_RELAXED, SPAN_LIT("\r\n"), h), 0);
	assert_int_equal(base64_encode(&b64, h, 32, 0), 0);
	assert_string_equal(buf_cstr(&b64), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	buf_clear(&b64);
}

/* ------------------------------------------------------------ parsers */

struct tag_case {
	const char *in;
	int rc;
	size_t n;
	const char *msg;
};

static void
test_tags(void **state)
{
	(void)state;
	static const struct tag_case cases[] = {
		{ "v=1; a=rsa-sha256", 0, 2, "" },
		{ " v = 1 ;\r\n\tb = x\r\n y ; ", 0, 2, "" },
		{ "v=1;;a=2;", 0, 2, "" },
		{ "", 0, 0, "" },
		{ "a=1;a=2", ERR_INVALID, 0, "tag a appears twice" },
		{ "1a=x", ERR_INVALID, 0, "tag name must start with a letter at \"1a=x\"" },
		{ "abc", ERR_INVALID, 0, "tag abc: expected '='" },
		{ "a=\x01", ERR_INVALID, 0, "tag a: invalid character 0x01" },
		{ "a=\xc3\xa9", ERR_INVALID, 0, "tag a: invalid character 0xc3" },
		{ "a-b=1", ERR_INVALID, 0, "tag a: expected '='" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct mdkim_tags t;
		struct err e = { 0 };
		int rc = mdkim_tags_parse(span_cstr(cases[i].in), &t, &e);
		if (rc != cases[i].rc || (rc == 0 && t.n != cases[i].n) ||
		    strcmp(e.msg, cases[i].msg) != 0)
			fail_msg("tags \"%s\": got %d n=%zu \"%s\", want %d n=%zu \"%s\"",
			         cases[i].in, rc, rc ? 0 : t.n, e.msg, cases[i].rc, cases[i].n,
			         cases[i].msg);
	}
	struct mdkim_tags t;
	assert_int_equal(mdkim_tags_parse(SPAN_LIT(" v = 1 ;\r\n\tb = x\r\n y ; "), &t, NULL), 0);
	assert_true(span_eq_cstr(mdkim_tags_get(&t, "b")->value, "x\r\n y"));
	assert_true(span_eq_cstr(mdkim_tags_get(&t, "b")->raw, " x\r\n y "));
	assert_null(mdkim_tags_get(&t, "c"));
	/* the cap */
	struct buf many;
	buf_init(&many, 1000);
	for (int i = 0; i < 33; i++)
		assert_int_equal(buf_printf(&many, "t%d=1;", i), 0);
	struct err e = { 0 };
	assert_int_equal(mdkim_tags_parse(buf_span(&many), &t, &e), ERR_INVALID);
	assert_string_equal(e.msg, "more than 32 tags");
	buf_clear(&many);
}

#define SIG_OK "v=1; a=rsa-sha256; d=example.com; s=sel; h=from:to; bh=" BH "; b=AAAA"
#define BH "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

static void
test_sig_parse(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{ SIG_OK, "" },
		{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; b=AAAA",
		  "DKIM-Signature: missing required tag bh=" },
		{ "v=2; a=rsa-sha256; d=example.com; s=sel; h=from; bh=" BH "; b=AAAA",
		  "DKIM-Signature: unsupported version v=2" },
		{ "v=1; a=rsa-sha1; d=example.com; s=sel; h=from; bh=" BH "; b=AAAA",
		  "DKIM-Signature: a=rsa-sha1 is not accepted (RFC 8301)" },
		{ "v=1; a=dsa-sha256; d=example.com; s=sel; h=from; bh=" BH "; b=AAAA",
		  "DKIM-Signature: unknown algorithm a=dsa-sha256" },
		{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=to:subject; bh=" BH "; b=AAAA",
		  "DKIM-Signature: h= does not include From" },
		{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=from::to; bh=" BH "; b=AAAA",
		  "DKIM-Signature: empty header name in h=" },
		{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA",
		  "DKIM-Signature: bh= is not a base64 SHA-256 digest" },
		{ "v=1; a=rsa-sha256; d=exa mple.com; s=sel; h=from; bh=" BH "; b=AAAA",
		  "DKIM-Signature: invalid domain d=exa mple.com" },
		{ SIG_OK "; c=relaxed/fancy",
		  "DKIM-Signature: unknown canonicalization c=relaxed/fancy" },
		{ SIG_OK "; i=@other.org",
		  "DKIM-Signature: i= domain is not d= or a subdomain of it" },
		{ SIG_OK "; t=200; x=100", "DKIM-Signature: x= is before t=" },
		{ SIG_OK "; l=abc", "DKIM-Signature: bad body length l=abc" },
		{ SIG_OK "; q=dns/other", "DKIM-Signature: unsupported query method q=dns/other" },
		{ SIG_OK "; d=x.com", "DKIM-Signature: tag d appears twice" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct mdkim_sig s;
		struct err e = { 0 };
		int rc = mdkim_sig_parse(span_cstr(cases[i][0]), &s, &e);
		int want = cases[i][1][0] ? ERR_INVALID : 0;
		if (rc != want || strcmp(e.msg, cases[i][1]) != 0)
			fail_msg("sig \"%s\": got %d \"%s\", want %d \"%s\"", cases[i][0], rc,
			         e.msg, want, cases[i][1]);
	}
	struct mdkim_sig s;
	assert_int_equal(mdkim_sig_parse(span_cstr(SIG_OK "; c=relaxed; i=a@sub.Example.com; l=10; "
	                                                  "t=100; x=200"),
	                                 &s, NULL),
	                 0);
	assert_string_equal(s.d, "example.com");
	assert_string_equal(s.s, "sel");
	assert_int_equal(s.hc, MDKIM_RELAXED);
	assert_int_equal(s.bc, MDKIM_SIMPLE);
	assert_true(s.has_l && s.has_t && s.has_x);
	assert_int_equal(s.nh, 2);
	assert_true(span_eq_cstr(s.h[1], "to"));
	assert_int_equal(s.b_len, 3);
}

struct key_case {
	const char *txt;
	int rc;
	const char *msg;
	bool revoked, service_ok, sha256_ok, testing;
	enum mdkim_alg k;
};

static void
test_keyrec(void **state)
{
	(void)state;
	static const struct key_case cases[] = {
		{ "v=DKIM1; k=ed25519; p=AAAA", 0, "", false, true, true, false,
		  MDKIM_ED25519_SHA256 },
		{ "p=AAAA", 0, "", false, true, true, false, MDKIM_RSA_SHA256 },
		{ "v=DKIM1; p=AAAA; s=email", 0, "", false, false, true, false, MDKIM_RSA_SHA256 },
		{ "v=DKIM1; p=AAAA; s=email:tlsrpt", 0, "", false, true, true, false,
		  MDKIM_RSA_SHA256 },
		{ "v=DKIM1; p=AAAA; s=*", 0, "", false, true, true, false, MDKIM_RSA_SHA256 },
		{ "v=DKIM1; p=AAAA; h=sha1", 0, "", false, true, false, false, MDKIM_RSA_SHA256 },
		{ "v=DKIM1; p=AAAA; h=sha1:sha256; t=y:s", 0, "", false, true, true, true,
		  MDKIM_RSA_SHA256 },
		{ "v=DKIM1; p=", 0, "", true, true, true, false, MDKIM_RSA_SHA256 },
		{ "v=DKIM2; p=AAAA", ERR_INVALID, "DKIM key record: v=DKIM2 is not DKIM1", false,
		  false, false, false, 0 },
		{ "p=AAAA; v=DKIM1", ERR_INVALID, "DKIM key record: v= is not the first tag", false,
		  false, false, false, 0 },
		{ "v=DKIM1; k=dsa; p=AAAA", ERR_INVALID, "DKIM key record: unknown key type k=dsa",
		  false, false, false, false, 0 },
		{ "v=DKIM1; k=rsa", ERR_INVALID, "DKIM key record: missing required tag p=", false,
		  false, false, false, 0 },
		{ "v=DKIM1; p=!!!!", ERR_INVALID, "DKIM key record: p= is not valid base64", false,
		  false, false, false, 0 },
		{ "v=DKIM1; p=AAAA; p=BBBB", ERR_INVALID, "DKIM key record: tag p appears twice",
		  false, false, false, false, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct mdkim_keyrec k;
		struct err e = { 0 };
		int rc = mdkim_keyrec_parse(span_cstr(cases[i].txt), &k, &e);
		if (rc != cases[i].rc || strcmp(e.msg, cases[i].msg) != 0)
			fail_msg("key \"%s\": got %d \"%s\", want %d \"%s\"", cases[i].txt, rc,
			         e.msg, cases[i].rc, cases[i].msg);
		if (rc)
			continue;
		if (k.revoked != cases[i].revoked || k.service_ok != cases[i].service_ok ||
		    k.sha256_ok != cases[i].sha256_ok || k.testing != cases[i].testing ||
		    k.k != cases[i].k)
			fail_msg(
			        "key \"%s\": flags revoked=%d service=%d sha256=%d testing=%d k=%d",
			        cases[i].txt, k.revoked, k.service_ok, k.sha256_ok, k.testing, k.k);
	}
}

/* ------------------------------------------------------------ sign and verify */

static void
test_round_trips(void **state)
{
	(void)state;
	set_rec("rsa._domainkey.mail.sender.example", 0, record_of(rsa_key, ""));
	set_rec("ed._domainkey.mail.sender.example", 0, record_of(ed_key, ""));
	const enum mdkim_canon canon[][2] = { { MDKIM_RELAXED, MDKIM_RELAXED },
		                              { MDKIM_SIMPLE, MDKIM_SIMPLE },
		                              { MDKIM_RELAXED, MDKIM_SIMPLE },
		                              { MDKIM_SIMPLE, MDKIM_RELAXED } };
	for (int k = 0; k < 2; k++) {
		for (size_t c = 0; c < 4; c++) {
			struct buf b;
			buf_init(&b, 1 << 20);
			sign_msg(k ? ed_key : rsa_key, k ? "ed" : "rsa", canon[c][0], canon[c][1],
			         1795924800, 0, message, &b);
			struct mdkim_verdict v = verify_one(buf_span(&b), 1795924800);
			expect(v, MDKIM_PASS, "", "round trip");
			assert_string_equal(v.domain, "mail.sender.example");
			assert_string_equal(v.selector, k ? "ed" : "rsa");
			assert_int_equal(v.alg, k ? MDKIM_ED25519_SHA256 : MDKIM_RSA_SHA256);
			/* an unsigned header may be added or changed */
			replace(&b, "X-Unsigned: 1", "X-Unsigned: 2");
			expect(verify_one(buf_span(&b), -1), MDKIM_PASS, "", "unsigned header");
			/* changes that matter */
			struct buf t;
			buf_init(&t, 1 << 20);
			assert_int_equal(buf_append_span(&t, buf_span(&b)), 0);
			replace(&t, "line\ttwo", "line\tTWO");
			expect(verify_one(buf_span(&t), -1), MDKIM_FAIL, "body hash did not verify",
			       "tampered body");
			buf_reset(&t);
			assert_int_equal(buf_append_span(&t, buf_span(&b)), 0);
			replace(&t, "Report-ID: <1@", "Report-ID: <2@");
			expect(verify_one(buf_span(&t), -1), MDKIM_FAIL, "signature did not verify",
			       "tampered Subject");
			buf_reset(&t);
			assert_int_equal(buf_append_span(&t, buf_span(&b)), 0);
			replace(&t, "X-Unsigned: 2\r\n",
			        "X-Unsigned: 2\r\nFrom: evil@example.org\r\n");
			expect(verify_one(buf_span(&t), -1), MDKIM_FAIL, "signature did not verify",
			       "added From");
			buf_clear(&t);
			buf_clear(&b);
		}
	}
}

static void
test_relaxed_tolerates_rewrapping(void **state)
{
	(void)state;
	set_rec("ed._domainkey.mail.sender.example", 0, record_of(ed_key, ""));
	struct buf b;
	buf_init(&b, 1 << 20);
	sign_msg(ed_key, "ed", MDKIM_RELAXED, MDKIM_RELAXED, -1, 0, message, &b);
	/* a relay re-folds a header, changes case and white space, converts to LF */
	replace(&b, "To: tlsrpt@example.net", "to:   tlsrpt@example.net  ");
	replace(&b, "Body line one  ", "Body line one");
	struct buf lf;
	buf_init(&lf, 1 << 20);
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] != '\r')
			assert_int_equal(buf_putc(&lf, b.data[i]), 0);
	expect(verify_one(buf_span(&lf), -1), MDKIM_PASS, "", "LF + rewrapped");
	buf_clear(&lf);
	buf_clear(&b);
	/* the same changes break simple/simple */
	buf_init(&b, 1 << 20);
	sign_msg(ed_key, "ed", MDKIM_SIMPLE, MDKIM_SIMPLE, -1, 0, message, &b);
	replace(&b, "To: tlsrpt@example.net", "to:   tlsrpt@example.net  ");
	expect(verify_one(buf_span(&b), -1), MDKIM_FAIL, "signature did not verify", "simple");
	buf_clear(&b);
}

static void
test_bottom_up_selection(void **state)
{
	(void)state;
	set_rec("ed._domainkey.mail.sender.example", 0, record_of(ed_key, ""));
	const char *msg = "From: a@mail.sender.example\r\nX-A: top\r\nX-A: bottom\r\n\r\nbody\r\n";
	const char *const names[] = { "From", "X-A", NULL };
	struct mdkim_sign_opts o = { .domain = "mail.sender.example",
		                     .selector = "ed",
		                     .headers = names,
		                     .hc = MDKIM_RELAXED,
		                     .bc = MDKIM_RELAXED,
		                     .t = -1 };
	struct buf b;
	buf_init(&b, 1 << 20);
	assert_int_equal(mdkim_sign(ed_key, &o, span_cstr(msg), &b, NULL), 0);
	/* both X-A instances are signed (h=From:X-A:X-A) */
	assert_non_null(strstr(buf_cstr(&b), "h=From:X-A:X-A;"));
	assert_int_equal(buf_append_str(&b, msg), 0);
	expect(verify_one(buf_span(&b), -1), MDKIM_PASS, "", "two X-A");
	replace(&b, "X-A: top", "X-A: changed");
	expect(verify_one(buf_span(&b), -1), MDKIM_FAIL, "signature did not verify", "X-A changed");
	buf_clear(&b);
	/* a third X-A added on top is not covered (bottom-up selection) */
	const char *one = "From: a@mail.sender.example\r\nX-A: only\r\n\r\nbody\r\n";
	buf_init(&b, 1 << 20);
	assert_int_equal(mdkim_sign(ed_key, &o, span_cstr(one), &b, NULL), 0);
	assert_int_equal(buf_append_str(&b, "X-A: added on top\r\n"), 0);
	assert_int_equal(buf_append_str(&b, one), 0);
	expect(verify_one(buf_span(&b), -1), MDKIM_PASS, "", "X-A added on top");
	buf_clear(&b);
}

/* Simple canonicalization of an LF message grows every line by a CR: the header data
 * buffer allows for it. */
static void
test_lf_many_headers(void **state)
{
	(void)state;
	set_rec("ed._domainkey.mail.sender.example", 0, record_of(ed_key, ""));
	struct buf msg, b;
	buf_init(&msg, 1 << 20);
	buf_init(&b, 1 << 20);
	assert_int_equal(buf_append_str(&msg, "From: a@mail.sender.example\n"), 0);
	for (int i = 0; i < 62; i++)
		assert_int_equal(buf_append_str(&msg, "X:1\n"), 0);
	assert_int_equal(buf_append_str(&msg, "\nbody\n"), 0);
	const char *const names[] = { "From", "X", NULL };
	struct mdkim_sign_opts o = { .domain = "mail.sender.example",
		                     .selector = "ed",
		                     .headers = names,
		                     .hc = MDKIM_SIMPLE,
		                     .bc = MDKIM_SIMPLE,
		                     .t = -1 };
	assert_int_equal(mdkim_sign(ed_key, &o, buf_span(&msg), &b, NULL), 0);
	/* the signature field itself with LF endings, like the rest of the stored message */
	struct buf lf;
	buf_init(&lf, 1 << 20);
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] != '\r')
			assert_int_equal(buf_putc(&lf, b.data[i]), 0);
	assert_int_equal(buf_append_span(&lf, buf_span(&msg)), 0);
	expect(verify_one(buf_span(&lf), -1), MDKIM_PASS, "", "LF, 63 signed headers, simple");
	buf_clear(&lf);
	buf_clear(&b);
	buf_clear(&msg);
}

static void
test_rfc8460_rules(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1 << 20);
	set_rec("ed._domainkey.mail.sender.example", 0, record_of(ed_key, ""));
	sign_msg(ed_key, "ed", MDKIM_RELAXED, MDKIM_RELAXED, 1795924800, 3600, message, &b);
	assert_non_null(strstr(buf_cstr(&b), "t=1795924800; x=1795928400;"));

	/* l= is rejected before anything else */
	struct buf l;
	buf_init(&l, 1 << 20);
	assert_int_equal(buf_append_span(&l, buf_span(&b)), 0);
	replace(&l, "v=1;", "v=1; l=10;");
	expect(verify_one(buf_span(&l), -1), MDKIM_PERMERROR,
	       "signature has l= (body length limit), not allowed for TLS reports (RFC 8460 "
	       "section 3)",
	       "l=");
	buf_clear(&l);

	expect(verify_one(buf_span(&b), 1795928401), MDKIM_PERMERROR,
	       "signature expired (x=1795928400)", "expired");
	expect(verify_one(buf_span(&b), 1795928400), MDKIM_PASS, "", "not yet expired");

	set_rec("ed._domainkey.mail.sender.example", 0, record_of(ed_key, "; s=email"));
	expect(verify_one(buf_span(&b), -1), MDKIM_PERMERROR,
	       "key ed._domainkey.mail.sender.example is restricted by s= to services other than "
	       "tlsrpt",
	       "s=email");
	set_rec("ed._domainkey.mail.sender.example", 0, record_of(ed_key, "; s=email:tlsrpt"));
	expect(verify_one(buf_span(&b), -1), MDKIM_PASS, "", "s=email:tlsrpt");
	set_rec("ed._domainkey.mail.sender.example", 0, record_of(ed_key, "; s=*"));
	expect(verify_one(buf_span(&b), -1), MDKIM_PASS, "", "s=*");
	set_rec("ed._domainkey.mail.sender.example", 0, "v=DKIM1; k=ed25519; p=");
	expect(verify_one(buf_span(&b), -1), MDKIM_PERMERROR,
	       "key ed._domainkey.mail.sender.example is revoked (empty p=)", "revoked");
	set_rec("ed._domainkey.mail.sender.example", 0, record_of(rsa_key, ""));
	expect(verify_one(buf_span(&b), -1), MDKIM_PERMERROR,
	       "key type of ed._domainkey.mail.sender.example does not match a=ed25519-sha256",
	       "k mismatch");
	set_rec("ed._domainkey.mail.sender.example", 0, "v=DKIM1; k=ed25519; p=AAAA");
	expect(verify_one(buf_span(&b), -1), MDKIM_PERMERROR,
	       "key ed._domainkey.mail.sender.example: p= is not a usable public key", "bad p=");
	set_rec("ed._domainkey.mail.sender.example", 0, "v=DKIM1; k=ed25519; p=AAAA; x");
	expect(verify_one(buf_span(&b), -1), MDKIM_PERMERROR,
	       "ed._domainkey.mail.sender.example: DKIM key record: tag x: expected '='",
	       "bad record");
	set_rec("ed._domainkey.mail.sender.example", ERR_AGAIN, "");
	expect(verify_one(buf_span(&b), -1), MDKIM_TEMPERROR,
	       "key lookup for ed._domainkey.mail.sender.example failed: lookup of "
	       "ed._domainkey.mail.sender.example failed",
	       "temperror");
	set_rec("ed._domainkey.mail.sender.example", ERR_NOTFOUND, "");
	expect(verify_one(buf_span(&b), -1), MDKIM_PERMERROR,
	       "no key record at ed._domainkey.mail.sender.example", "no key");
	/* a testing key turns a failure into neutral */
	set_rec("ed._domainkey.mail.sender.example", 0, record_of(ed_key, "; t=y"));
	replace(&b, "line\ttwo", "line three");
	expect(verify_one(buf_span(&b), -1), MDKIM_NEUTRAL,
	       "body hash did not verify (key in testing mode)", "testing");
	buf_clear(&b);
}

static void
test_unsigned_and_multiple(void **state)
{
	(void)state;
	struct mime_msg m;
	struct mdkim_verdict *v;
	size_t n;
	struct mdkim_verify_opts o = { .lookup = lookup, .now = -1 };
	assert_int_equal(mime_parse(&m, span_cstr(message), NULL, NULL), 0);
	assert_int_equal(mdkim_verify(&m, &o, &v, &n, NULL), 0);
	assert_int_equal(n, 0);
	free(v);
	mime_msg_clear(&m);

	set_rec("rsa._domainkey.mail.sender.example", 0, record_of(rsa_key, ""));
	set_rec("ed._domainkey.mail.sender.example", 0, record_of(ed_key, ""));
	struct buf one, two;
	buf_init(&one, 1 << 20);
	buf_init(&two, 1 << 20);
	sign_msg(ed_key, "ed", MDKIM_RELAXED, MDKIM_RELAXED, -1, 0, message, &one);
	sign_msg(rsa_key, "rsa", MDKIM_RELAXED, MDKIM_RELAXED, -1, 0, buf_cstr(&one), &two);
	assert_int_equal(mime_parse(&m, buf_span(&two), NULL, NULL), 0);
	assert_int_equal(mdkim_verify(&m, &o, &v, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].result, MDKIM_PASS);
	assert_int_equal(v[0].alg, MDKIM_RSA_SHA256);
	assert_int_equal(v[1].result, MDKIM_PASS);
	assert_int_equal(v[1].alg, MDKIM_ED25519_SHA256);
	free(v);
	mime_msg_clear(&m);
	/* a garbage signature next to a good one */
	buf_reset(&one);
	assert_int_equal(buf_append_str(&one, "DKIM-Signature: v=1; a=rsa-sha256\r\n"), 0);
	assert_int_equal(buf_append_span(&one, buf_span(&two)), 0);
	assert_int_equal(mime_parse(&m, buf_span(&one), NULL, NULL), 0);
	assert_int_equal(mdkim_verify(&m, &o, &v, &n, NULL), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].result, MDKIM_PERMERROR);
	assert_string_equal(v[0].reason, "DKIM-Signature: missing required tag b=");
	assert_int_equal(v[1].result, MDKIM_PASS);
	free(v);
	mime_msg_clear(&m);
	buf_clear(&one);
	buf_clear(&two);
}

/* ------------------------------------------------------------ keys, options, alignment */

static void
test_key_tooling(void **state)
{
	(void)state;
	struct buf pem, rec1, rec2;
	struct mdkim_key *k2 = NULL;
	struct err e = { 0 };
	buf_init(&pem, 1 << 16);
	buf_init(&rec1, 4096);
	buf_init(&rec2, 4096);
	for (int i = 0; i < 2; i++) {
		struct mdkim_key *k = i ? rsa_key : ed_key;
		buf_reset(&pem);
		buf_reset(&rec1);
		buf_reset(&rec2);
		assert_int_equal(mdkim_key_pem(k, &pem, &e), 0);
		assert_non_null(strstr(buf_cstr(&pem), "-----BEGIN PRIVATE KEY-----"));
		assert_int_equal(mdkim_key_from_pem(buf_span(&pem), &k2, &e), 0);
		assert_int_equal(mdkim_key_alg(k2), mdkim_key_alg(k));
		assert_int_equal(mdkim_key_dns_record(k, &rec1, &e), 0);
		assert_int_equal(mdkim_key_dns_record(k2, &rec2, &e), 0);
		assert_string_equal(buf_cstr(&rec1), buf_cstr(&rec2));
		struct mdkim_keyrec kr;
		assert_int_equal(mdkim_keyrec_parse(buf_span(&rec1), &kr, &e), 0);
		assert_int_equal(kr.k, mdkim_key_alg(k));
		if (i == 0) {
			assert_int_equal(kr.plen, 32);
			assert_int_equal(strncmp(buf_cstr(&rec1), "v=DKIM1; k=ed25519; p=", 22), 0);
			assert_int_equal(rec1.len, 22 + 44);
		} else {
			assert_int_equal(strncmp(buf_cstr(&rec1), "v=DKIM1; k=rsa; p=MIIBIjAN", 26),
			                 0);
		}
		mdkim_key_free(k2);
	}
	assert_int_equal(mdkim_key_from_pem(SPAN_LIT("not a key"), &k2, &e), ERR_INVALID);
	assert_string_equal(e.msg, "not a PEM private key (expected PKCS#8 \"PRIVATE KEY\" or "
	                           "\"RSA PRIVATE KEY\", unencrypted)");
	assert_null(k2);
	assert_int_equal(mdkim_key_generate(MDKIM_RSA_SHA256, 512, &k2, &e), ERR_INVALID);
	assert_string_equal(e.msg, "RSA key size 512: expected 1024..8192");
	buf_clear(&pem);
	buf_clear(&rec1);
	buf_clear(&rec2);
}

static void
test_sign_options(void **state)
{
	(void)state;
	struct buf b;
	struct err e = { 0 };
	buf_init(&b, 1 << 20);
	struct mdkim_sign_opts o = { .domain = "bad domain", .selector = "s", .t = -1 };
	assert_int_equal(mdkim_sign(ed_key, &o, span_cstr(message), &b, &e), ERR_INVALID);
	assert_string_equal(e.msg, "DKIM signing domain \"bad domain\" is not a domain name");
	o.domain = "example.com";
	o.selector = "s;x";
	assert_int_equal(mdkim_sign(ed_key, &o, span_cstr(message), &b, &e), ERR_INVALID);
	assert_string_equal(e.msg, "DKIM selector \"s;x\" is not valid");
	o.selector = "s";
	const char *const names[] = { "Subject", "To:x", NULL };
	o.headers = names;
	assert_int_equal(mdkim_sign(ed_key, &o, span_cstr(message), &b, &e), ERR_INVALID);
	assert_string_equal(e.msg, "header name \"To:x\" cannot be signed");
	/* From is added when the list lacks it; no l= ever; lines <= 78 */
	const char *const subj[] = { "Subject", NULL };
	o.headers = subj;
	assert_int_equal(mdkim_sign(rsa_key, &o, span_cstr(message), &b, &e), 0);
	assert_non_null(strstr(buf_cstr(&b), "h=From:Subject;"));
	assert_null(strstr(buf_cstr(&b), "l="));
	size_t start = 0;
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] == '\n') {
			if (i - 1 - start > 78)
				fail_msg("signature line of %zu octets: %.*s", i - 1 - start,
				         (int)(i - start), b.data + start);
			start = i + 1;
		}
	buf_clear(&b);
}

struct align_case {
	const char *a, *b;
	bool no_psl, with_psl;
};

static void
test_alignment(void **state)
{
	(void)state;
	static const struct align_case cases[] = {
		{ "google.com", "google.com", true, true },
		{ "mail.sender.example", "sender.example", true, true },
		{ "Google.COM.", "google.com", true, true },
		{ "1e100.net", "google.com", false, false },
		{ "corp.mail.ru", "mail.ru", true, true },
		/* the fallback is wrong for multi-label public suffixes: */
		{ "evil.co.uk", "victim.co.uk", true, false },
		{ "a.example.co.uk", "b.example.co.uk", true, true },
		{ "co.uk", "evil.co.uk", true, false },
	};
	struct orgdomain_psl *psl = NULL;
	FILE *f = fopen(ORGDOMAIN_PSL_PATH, "rb");
	if (f) {
		struct buf t;
		char tmp[65536];
		size_t k;
		buf_init(&t, 16u << 20);
		while ((k = fread(tmp, 1, sizeof tmp, f)) > 0)
			assert_int_equal(buf_append(&t, tmp, k), 0);
		fclose(f);
		assert_int_equal(orgdomain_psl_parse(buf_span(&t), &psl, NULL), 0);
		assert_true(orgdomain_psl_count(psl) > 5000);
		buf_clear(&t);
	}
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bool got = mdkim_aligned(NULL, cases[i].a, cases[i].b);
		if (got != cases[i].no_psl)
			fail_msg("no PSL: %s vs %s: got %d, want %d", cases[i].a, cases[i].b, got,
			         cases[i].no_psl);
		if (psl) {
			got = mdkim_aligned(psl, cases[i].a, cases[i].b);
			if (got != cases[i].with_psl)
				fail_msg("PSL: %s vs %s: got %d, want %d", cases[i].a, cases[i].b,
				         got, cases[i].with_psl);
		}
	}
	/* a small list of our own: wildcard and exception rules */
	struct orgdomain_psl *mini;
	assert_int_equal(orgdomain_psl_parse(SPAN_LIT("// comment\ncom\n*.ck\n!www.ck\nco.uk\n"),
	                                     &mini, NULL),
	                 0);
	static const char *const org[][2] = {
		{ "a.b.example.com", "example.com" },
		{ "x.y.ck", "x.y.ck" },
		{ "z.x.y.ck", "x.y.ck" },
		{ "a.www.ck", "www.ck" },
		{ "foo.co.uk", "foo.co.uk" },
		{ "co.uk", "co.uk" },
		{ "unknown.tld", "unknown.tld" },
		{ "a.b.unknown.tld", "unknown.tld" },
	};
	for (size_t i = 0; i < sizeof org / sizeof org[0]; i++) {
		char out[256];
		assert_int_equal(orgdomain_get(mini, org[i][0], out, sizeof out), 0);
		if (strcmp(out, org[i][1]) != 0)
			fail_msg("org of %s: got %s, want %s", org[i][0], out, org[i][1]);
	}
	orgdomain_psl_free(mini);
	/* an empty list (fuzz_dkim found qsort(NULL, 0)) behaves like the default rule */
	assert_int_equal(orgdomain_psl_parse(SPAN_LIT("// only a comment\n"), &mini, NULL), 0);
	assert_int_equal(orgdomain_psl_count(mini), 0);
	char out[256];
	assert_int_equal(orgdomain_get(mini, "a.b.example.com", out, sizeof out), 0);
	assert_string_equal(out, "example.com");
	orgdomain_psl_free(mini);
	orgdomain_psl_free(psl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canon_rfc_example),
		cmocka_unit_test(test_canon_body_cases),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_sig_parse),
		cmocka_unit_test(test_keyrec),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_relaxed_tolerates_rewrapping),
		cmocka_unit_test(test_bottom_up_selection),
		cmocka_unit_test(test_lf_many_headers),
		cmocka_unit_test(test_rfc8460_rules),
		cmocka_unit_test(test_unsigned_and_multiple),
		cmocka_unit_test(test_key_tooling),
		cmocka_unit_test(test_sign_options),
		cmocka_unit_test(test_alignment),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
