/*
 * test_mime.c - MIME parser and report locator: every corpus e-mail, caps, decoders,
 * RFC 2047, parameters, dates, addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mail/mime.h"
#include "util/file.h"
#include "util/buf.h"

static const char *
shared_dir(void)
{
	const char *s = getenv("SHARED");
	return s && *s ? s : "../shared";
}

/* ------------------------------------------------------------ corpus */

struct corpus_case {
	const char *file;
	size_t nreports;
	const char *type;
	const char *filename;
	size_t decoded;
	bool gzip;
	const char *subject;
	const char *from_domain;
};

#define GOOGLE_SUBJ(d, dom)                                                                        \
	"Report Domain: " dom " Submitter: google.com Report-ID: <" d "+" dom "@google.com>"
#define STALWART_SUBJ                                                                              \
	"Report Domain: example.net    Submitter: mail.sender.example.com    Report-ID: "          \
	"<735ff.e317+bf22029@example.net>"
#define SYS4_SUBJ(d)                                                                               \
	"Report Domain: " d " Submitter: sender.example Report-ID: <2026-11-28T00:00:00Z_idx1_" d  \
	"@sender.example>"

static const struct corpus_case corpus[] = {
	{ "real/domainaware_parsedmarc/google.com_smtp_tls_report.eml", 1,
	  "application/tlsrpt+gzip",
	  "google.com!cardinalhealth.ca!1725321600!1725407999!001.json.gz", 252, true,
	  GOOGLE_SUBJ("2024.09.03T00.00.00Z", "cardinalhealth.ca"), "google.com" },
	{ "real/isseis_tlsrpt-digest/tlsrpt_failure.eml", 1, "application/tlsrpt+gzip",
	  "google.com!example.com!1778544000!1778630399!001.json.gz", 359, true,
	  GOOGLE_SUBJ("2026.05.12T00.00.00Z", "example.com"), "google.com" },
	{ "real/isseis_tlsrpt-digest/tlsrpt_success_google_1.eml", 1, "application/tlsrpt+gzip",
	  "google.com!example.com!1778457600!1778543999!001.json.gz", 318, true,
	  GOOGLE_SUBJ("2026.05.11T00.00.00Z", "example.com"), "google.com" },
	{ "real/isseis_tlsrpt-digest/tlsrpt_success_google_2.eml", 1, "application/tlsrpt+gzip",
	  "google.com!example.com!1778544000!1778630399!001.json.gz", 318, true,
	  GOOGLE_SUBJ("2026.05.12T00.00.00Z", "example.com"), "google.com" },
	{ "real/isseis_tlsrpt-digest/tlsrpt_success_microsoft.eml", 1, "application/tlsrpt+gzip",
	  "microsoft.com!example.com!1778630400!1778716799!134232617934286362.json.gz", 325, true,
	  "Report Domain: example.com Submitter: microsoft.com Report-ID: "
	  "134232617934286362+example.com",
	  "microsoft.com" },
	{ "real/kravietz_tlsrpt-rs/google1.eml", 1, "application/tlsrpt+gzip",
	  "google.com!krvtz.net!1726358400!1726444799!001.json.gz", 306, true,
	  GOOGLE_SUBJ("2024.09.15T00.00.00Z", "krvtz.net"), "google.com" },
	{ "real/kravietz_tlsrpt-rs/google2.eml", 1, "application/tlsrpt+gzip",
	  "google.com!krvtz.net!1726617600!1726703999!001.json.gz", 306, true,
	  GOOGLE_SUBJ("2024.09.18T00.00.00Z", "krvtz.net"), "google.com" },
	{ "real/kravietz_tlsrpt-rs/mail.ru.eml", 1, "application/tlsrpt+gzip",
	  "mail.ru!krvtz.net!1674604800!1674691200!001.json.gz", 402, true,
	  "Report Domain: krvtz.net Submitter: mail.ru Report-ID: "
	  "<c96d67df-0440-57f7-6e96-c83824d0fdf2@mail.ru>",
	  "corp.mail.ru" },
	{ "real/kravietz_tlsrpt-rs/microsoft1.eml", 1, "application/tlsrpt+gzip",
	  "microsoft.com!krvtz.net!1726185600!1726271999!133708152202987951.json.gz", 892, true,
	  "Report Domain: krvtz.net Submitter: microsoft.com Report-ID: "
	  "133708152202987951+krvtz.net",
	  "microsoft.com" },
	{ "real/marcbradshaw_mail-tls-rpt/email.eml", 1, "application/tlsrpt+gzip",
	  "google.com!fastmaildmarc.com!1583107200!1583193599!001.json.gz", 247, true,
	  GOOGLE_SUBJ("2020.03.02T00.00.00Z", "fastmaildmarc.com"), "google.com" },
	{ "real/mjl-_mox/example.eml", 1, "application/tlsrpt+gzip",
	  "google.com!test.xmox.nl!1663200000!1663286399!001.json.gz", 306, true,
	  GOOGLE_SUBJ("2022.09.15T00.00.00Z", "test.xmox.nl"), "google.com" },
	{ "real/mjl-_mox/microsoft.eml", 1, "application/tlsrpt+gzip",
	  "microsoft.com!test.xmox.nl!1673308800!1673395199!133198585438131172.json.gz", 313, true,
	  "Report Domain: test.xmox.nl Submitter: microsoft.com Report-ID: "
	  "133198585438131172+test.xmox.nl",
	  "microsoft.com" },
	{ "real/stalwartlabs_mail-auth/rpt01.eml", 1, "application/tlsrpt+gzip",
	  "mail.sender.example!example.com!1013662812!1013749130.json.gz", 682, true, STALWART_SUBJ,
	  "mail.sender.example.com" },
	{ "real/stalwartlabs_mail-auth/rpt02.eml", 1, "application/tlsrpt",
	  "mail.sender.example!example.com!1013662812!1013749130.json", 1166, false, STALWART_SUBJ,
	  "mail.sender.example.com" },
	{ "stalwart/rpt01.eml", 1, "application/tlsrpt+gzip",
	  "mail.sender.example!example.com!1013662812!1013749130.json.gz", 682, true, STALWART_SUBJ,
	  "mail.sender.example.com" },
	{ "stalwart/rpt02.eml", 1, "application/tlsrpt",
	  "mail.sender.example!example.com!1013662812!1013749130.json", 1166, false, STALWART_SUBJ,
	  "mail.sender.example.com" },
	{ "stalwart/tls1.eml", 1, "application/tlsrpt+gzip",
	  "mail.sender.example!example.com!1013662812!1013749130.json.gz", 682, true, STALWART_SUBJ,
	  "mail.sender.example.com" },
	{ "stalwart/tls2.eml", 1, "application/tlsrpt",
	  "mail.sender.example!example.com!1013662812!1013749130.json", 1166, false, STALWART_SUBJ,
	  "mail.sender.example.com" },
	{ "sys4/email/report-both.example.eml", 1, "application/tlsrpt+gzip",
	  "sender.example!both.example!1795824000!1795910399!1.json.gz", 434, true,
	  SYS4_SUBJ("both.example"), "sender.example" },
	{ "sys4/email/report-dane.example.eml", 1, "application/tlsrpt+gzip",
	  "sender.example!dane.example!1795824000!1795910399!1.json.gz", 441, true,
	  SYS4_SUBJ("dane.example"), "sender.example" },
	{ "sys4/email/report-escape.example.eml", 1, "application/tlsrpt+gzip",
	  "sender.example!escape.example!1795824000!1795910399!1.json.gz", 464, true,
	  SYS4_SUBJ("escape.example"), "sender.example" },
	{ "sys4/email/report-nopolicy.example.eml", 1, "application/tlsrpt+gzip",
	  "sender.example!nopolicy.example!1795824000!1795910399!1.json.gz", 333, true,
	  SYS4_SUBJ("nopolicy.example"), "sender.example" },
	{ "sys4/email/report-sts.example.eml", 1, "application/tlsrpt+gzip",
	  "sender.example!sts.example!1795824000!1795910399!1.json.gz", 411, true,
	  SYS4_SUBJ("sts.example"), "sender.example" },
	/* the negative sample: a cron mail */
	{ "real/kravietz_tlsrpt-rs/empty.eml", 0, NULL, NULL, 0, false,
	  "Cron <root@nagual> /usr/local/bin/suricata-update --config "
	  "/usr/local/etc/suricata/update.conf --quiet",
	  "nagual.krvtz.net" },
};

/* Converts CRLF to LF (crlf=false) or LF to CRLF (crlf=true). */
static void
convert_eol(struct span in, struct buf *out, bool crlf)
{
	for (size_t i = 0; i < in.len; i++) {
		if (in.p[i] == '\r' && i + 1 < in.len && in.p[i + 1] == '\n')
			continue;
		if (in.p[i] == '\n' && crlf)
			assert_int_equal(buf_putc(out, '\r'), 0);
		assert_int_equal(buf_putc(out, in.p[i]), 0);
	}
}

static void
check_corpus_message(const struct corpus_case *c, struct span raw, bool converted)
{
	struct mime_msg m;
	struct err e = { 0 };
	struct buf subj;
	char dom[256];
	if (mime_parse(&m, raw, NULL, &e) != 0)
		fail_msg("%s: parse: got error \"%s\", want success", c->file, e.msg);
	buf_init(&subj, 4096);
	assert_int_equal(mime_subject(&m, &subj), 0);
	if (strcmp(buf_cstr(&subj), c->subject) != 0)
		fail_msg("%s: subject: got \"%s\", want \"%s\"", c->file, buf_cstr(&subj),
		         c->subject);
	assert_int_equal(mime_from_domain(&m, dom, sizeof dom), 0);
	assert_string_equal(dom, c->from_domain);
	int64_t t;
	if (strncmp(c->file, "sys4/", 5) == 0) { /* sys4's reporter sets no Date */
		assert_int_equal(mime_date(&m, &t), ERR_NOTFOUND);
	} else {
		assert_int_equal(mime_date(&m, &t), 0);
		assert_true(t > 946684800 && t < 1900000000); /* 2000 .. 2030 */
	}
	if (c->nreports) {
		/* TLS-Report-Domain is the Subject's domain; the submitter is named too */
		buf_reset(&subj);
		assert_int_equal(mime_report_domain(&m, &subj), 0);
		char want[300];
		snprintf(want, sizeof want, "Report Domain: %s ", buf_cstr(&subj));
		assert_int_equal(strncmp(c->subject, want, strlen(want)), 0);
		buf_reset(&subj);
		assert_int_equal(mime_report_submitter(&m, &subj), 0);
		assert_non_null(strstr(c->subject, buf_cstr(&subj)));
		buf_reset(&subj);
	}
	struct mime_report *r = NULL;
	size_t n = 0;
	int rc = mime_find_reports(&m, 25u << 20, &r, &n, &e);
	if (c->nreports == 0) {
		if (rc != MIME_ENOREPORT)
			fail_msg("%s: got rc %d, want MIME_ENOREPORT", c->file, rc);
		assert_string_equal(e.msg, "no TLS report found in message");
	} else {
		if (rc != 0 || n != c->nreports)
			fail_msg("%s: got rc %d and %zu reports, want %zu (%s)", c->file, rc, n,
			         c->nreports, e.msg);
		assert_string_equal(r[0].type, c->type);
		assert_string_equal(r[0].filename, c->filename);
		/* a 7bit part changes size with its line endings; base64 ones do not */
		if (r[0].data.len != c->decoded && !(converted && !c->gzip))
			fail_msg("%s: decoded size: got %zu, want %zu", c->file, r[0].data.len,
			         c->decoded);
		assert_int_equal(r[0].gzip, c->gzip);
		assert_int_equal(r[0].how, MIME_FOUND_TYPE);
	}
	mime_reports_free(r, n);
	buf_clear(&subj);
	mime_msg_clear(&m);
}

static void
test_corpus(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
		char path[1024];
		struct buf raw, other;
		snprintf(path, sizeof path, "%s/corpus/%s", shared_dir(), corpus[i].file);
		buf_init(&raw, 64u << 20);
		buf_init(&other, 64u << 20);
		if (file_read(path, &raw, NULL) != 0)
			fail_msg("cannot read %s (set SHARED)", path);
		check_corpus_message(&corpus[i], buf_span(&raw), false);
		/* the same message with the other line ending style */
		bool has_crlf = memchr(raw.data, '\r', raw.len) != NULL;
		convert_eol(buf_span(&raw), &other, !has_crlf);
		check_corpus_message(&corpus[i], buf_span(&other), true);
		buf_clear(&raw);
		buf_clear(&other);
	}
}

/* ------------------------------------------------------------ synthetic locator cases */

struct locate_case {
	const char *name;
	const char *msg;
	size_t nreports;
	const char *type0, *filename0;
	const char *data0;
	bool gzip0;
	enum mime_found how0;
};

static const struct locate_case locate_cases[] = {
	{ "single-part json",
	  "From: a@b.example\r\nContent-Type: application/tlsrpt+json\r\n\r\n{\"x\":1}\r\n", 1,
	  "application/tlsrpt+json", "", "{\"x\":1}\r\n", false, MIME_FOUND_TYPE },
	{ "octet-stream by name",
	  "From: a@b.example\nContent-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: "
	  "text/plain\n\nhello\n--XX\nContent-Type: application/x-binary\nContent-Disposition: "
	  "attachment; filename=r.json.gz\nContent-Transfer-Encoding: base64\n\nH4sI\n--XX--\n",
	  1, "application/x-binary", "r.json.gz", "\x1f\x8b\x08", true, MIME_FOUND_NAME },
	{ "text part with json is a last resort",
	  "From: a@b.example\nContent-Type: multipart/mixed; boundary=\"b 1\"\n\n--b 1\n"
	  "Content-Type: text/html\n\n<p>hi</p>\n--b 1\nContent-Type: text/plain\n\n  {\"a\":2}\n"
	  "--b 1--\n",
	  1, "text/plain", "", "  {\"a\":2}", false, MIME_FOUND_SNIFF },
	{ "two report parts",
	  "From: a@b.example\nContent-Type: multipart/report; report-type=tlsrpt; boundary=Q\n\n"
	  "--Q\nContent-Type: application/tlsrpt+json; name=\"one.json\"\n\n{1}\n--Q\n"
	  "Content-Type: application/json\n\n{2}\n--Q--\n",
	  2, "application/tlsrpt+json", "one.json", "{1}", false, MIME_FOUND_TYPE },
	{ "generic json type that is not json is skipped, sniffed octet part found",
	  "From: a@b.example\nContent-Type: multipart/mixed; boundary=Q\n\n--Q\n"
	  "Content-Type: application/json\n\nnot json\n--Q\nContent-Type: image/png\n\n{\"r\":1}\n"
	  "--Q--\n",
	  1, "image/png", "", "{\"r\":1}", false, MIME_FOUND_SNIFF },
	{ "forwarded report in message/rfc822",
	  "From: fwd@c.example\nContent-Type: multipart/mixed; boundary=O\n\n--O\n"
	  "Content-Type: text/plain\n\nsee attached\n--O\nContent-Type: message/rfc822\n\n"
	  "From: r@g.example\nContent-Type: multipart/report; boundary=I\n\n--I\n"
	  "Content-Type: text/plain\n\nreport\n--I\nContent-Type: application/tlsrpt+gzip\n"
	  "Content-Transfer-Encoding: base64\n\nH4sICA==\n--I--\n\n--O--\n",
	  1, "application/tlsrpt+gzip", "", "\x1f\x8b\x08\x08", true, MIME_FOUND_TYPE },
	{ "QP-encoded json report",
	  "From: a@b.example\nContent-Type: application/tlsrpt+json\nContent-Transfer-Encoding: "
	  "quoted-printable\n\n{\"k\"=3D=\n1}\n",
	  1, "application/tlsrpt+json", "", "{\"k\"=1}\n", false, MIME_FOUND_TYPE },
	{ "no closing delimiter",
	  "From: a@b.example\nContent-Type: multipart/report; boundary=Z\n\n--Z\n"
	  "Content-Type: application/tlsrpt+json\n\n{}",
	  1, "application/tlsrpt+json", "", "{}", false, MIME_FOUND_TYPE },
	{ "file name only in Content-Description (Microsoft style)",
	  "From: a@b.example\nContent-Type: multipart/report; boundary=D\n\n--D\n"
	  "Content-Type: application/x-unknown\nContent-Description:\n a!b!1!2!3.json.gz\n"
	  "Content-Transfer-Encoding: base64\n\nH4sICA==\n--D--\n",
	  1, "application/x-unknown", "a!b!1!2!3.json.gz", "\x1f\x8b\x08\x08", true,
	  MIME_FOUND_NAME },
	{ "plain text only", "From: a@b.example\nSubject: hi\n\nJust text.\n", 0, NULL, NULL, NULL,
	  false, 0 },
};

static void
test_locate(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof locate_cases / sizeof locate_cases[0]; i++) {
		const struct locate_case *c = &locate_cases[i];
		struct mime_msg m;
		struct err e = { 0 };
		if (mime_parse(&m, span_cstr(c->msg), NULL, &e) != 0)
			fail_msg("%s: parse error %s", c->name, e.msg);
		struct mime_report *r = NULL;
		size_t n = 0;
		int rc = mime_find_reports(&m, 1 << 20, &r, &n, &e);
		if (c->nreports == 0) {
			if (rc != MIME_ENOREPORT)
				fail_msg("%s: got rc %d, want MIME_ENOREPORT", c->name, rc);
		} else {
			if (rc != 0 || n != c->nreports)
				fail_msg("%s: got rc %d n %zu, want %zu", c->name, rc, n,
				         c->nreports);
			if (strcmp(r[0].type, c->type0) != 0 ||
			    strcmp(r[0].filename, c->filename0) != 0)
				fail_msg("%s: got %s \"%s\", want %s \"%s\"", c->name, r[0].type,
				         r[0].filename, c->type0, c->filename0);
			size_t want = strlen(c->data0);
			if (r[0].data.len != want || memcmp(r[0].data.data, c->data0, want) != 0)
				fail_msg("%s: got data \"%.*s\", want \"%s\"", c->name,
				         (int)r[0].data.len, r[0].data.data, c->data0);
			assert_int_equal(r[0].gzip, c->gzip0);
			if (r[0].how != c->how0)
				fail_msg("%s: got how %d, want %d", c->name, r[0].how, c->how0);
		}
		mime_reports_free(r, n);
		mime_msg_clear(&m);
	}
}

static void
test_decoded_cap(void **state)
{
	(void)state;
	const char *msg = "From: a@b.example\nContent-Type: application/tlsrpt+json\n\n"
	                  "{\"0123456789\":\"0123456789\"}\n";
	struct mime_msg m;
	struct err e = { 0 };
	struct mime_report *r;
	size_t n;
	assert_int_equal(mime_parse(&m, span_cstr(msg), NULL, &e), 0);
	assert_int_equal(mime_find_reports(&m, 10, &r, &n, &e), ERR_TOOBIG);
	assert_string_equal(e.msg, "MIME part 0 (application/tlsrpt+json) decodes to more than 10 "
	                           "bytes (cap)");
	mime_msg_clear(&m);
}

/* ------------------------------------------------------------ caps */

static void
nested(struct buf *b, int levels)
{
	assert_int_equal(buf_append_str(b, "From: a@b.example\r\n"), 0);
	for (int i = 0; i < levels; i++)
		assert_int_equal(
		        buf_printf(b,
		                   "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n"
		                   "--b%d\r\n",
		                   i, i),
		        0);
	assert_int_equal(buf_append_str(b, "Content-Type: application/tlsrpt+json\r\n\r\n{}\r\n"),
	                 0);
	for (int i = levels - 1; i >= 0; i--)
		assert_int_equal(buf_printf(b, "--b%d--\r\n", i), 0);
}

static void
test_cap_depth(void **state)
{
	(void)state;
	struct buf b;
	struct mime_msg m;
	struct err e = { 0 };
	buf_init(&b, 1 << 20);
	nested(&b, 50);
	assert_int_equal(mime_parse(&m, buf_span(&b), NULL, &e), ERR_TOOBIG);
	assert_string_equal(e.msg, "line 35: MIME parts nested deeper than 10 (cap)");
	/* the cost is bounded by the cap: exactly 11 parts were created before stopping */
	assert_int_equal(m.nparts, 11);
	mime_msg_clear(&m);
	/* 10 levels (depth 10) is within the cap and the report is found */
	buf_reset(&b);
	nested(&b, 10);
	assert_int_equal(mime_parse(&m, buf_span(&b), NULL, &e), 0);
	struct mime_report *r;
	size_t n;
	assert_int_equal(mime_find_reports(&m, 100, &r, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(m.parts[r[0].part].depth, 10);
	mime_reports_free(r, n);
	mime_msg_clear(&m);
	buf_clear(&b);
}

static void
test_cap_headers_parts_size(void **state)
{
	(void)state;
	struct buf b;
	struct mime_msg m;
	struct err e = { 0 };
	buf_init(&b, 4u << 20);

	for (int i = 0; i < 1001; i++)
		assert_int_equal(buf_printf(&b, "X-H%d: v\r\n", i), 0);
	assert_int_equal(buf_append_str(&b, "\r\nbody\r\n"), 0);
	assert_int_equal(mime_parse(&m, buf_span(&b), NULL, &e), ERR_TOOBIG);
	assert_string_equal(e.msg, "line 1001: more than 1000 header fields (cap)");
	mime_msg_clear(&m);

	buf_reset(&b);
	assert_int_equal(buf_append_str(&b, "Subject: "), 0);
	for (int i = 0; i < 70000; i++)
		assert_int_equal(buf_putc(&b, 'x'), 0);
	assert_int_equal(buf_append_str(&b, "\r\n\r\nbody\r\n"), 0);
	assert_int_equal(mime_parse(&m, buf_span(&b), NULL, &e), ERR_TOOBIG);
	assert_string_equal(e.msg, "line 1: header field Subject longer than 65536 bytes (cap)");
	mime_msg_clear(&m);

	buf_reset(&b);
	for (int i = 0; i < 2000; i++)
		assert_int_equal(buf_putc(&b, 'N'), 0);
	assert_int_equal(buf_append_str(&b, ": v\r\n\r\n"), 0);
	assert_int_equal(mime_parse(&m, buf_span(&b), NULL, &e), ERR_TOOBIG);
	assert_string_equal(e.msg, "line 1: header field name longer than 1024 bytes (cap)");
	mime_msg_clear(&m);

	buf_reset(&b);
	assert_int_equal(buf_append_str(&b, "From: a@b\r\nContent-Type: multipart/mixed; "
	                                    "boundary=z\r\n\r\n"),
	                 0);
	for (int i = 0; i < 150; i++)
		assert_int_equal(buf_append_str(&b, "--z\r\n\r\npart\r\n"), 0);
	assert_int_equal(buf_append_str(&b, "--z--\r\n"), 0);
	assert_int_equal(mime_parse(&m, buf_span(&b), NULL, &e), ERR_TOOBIG);
	assert_string_equal(e.msg, "line 302: more than 100 MIME parts (cap)");
	mime_msg_clear(&m);

	struct mime_limits lim;
	mime_limits_default(&lim);
	lim.max_message = 10;
	assert_int_equal(mime_parse(&m, SPAN_LIT("From: a@b.example\r\n\r\nx"), &lim, &e),
	                 ERR_TOOBIG);
	assert_string_equal(e.msg, "message of 22 bytes is larger than 10 bytes (cap)");
	mime_msg_clear(&m);

	assert_int_equal(mime_parse(&m, SPAN_LIT("no header here\r\n"), NULL, &e), ERR_INVALID);
	assert_string_equal(e.msg, "no header fields");
	mime_msg_clear(&m);
	buf_clear(&b);
}

/* ------------------------------------------------------------ structure details */

static void
test_structure(void **state)
{
	(void)state;
	const char *msg = "From ignored@mbox Thu Jan  1 00:00:00 1970\n"
	                  "Subject: a\n  folded\n"
	                  "Content-Type: multipart/mixed;\n boundary=\"==x==\"\n"
	                  "\n"
	                  "preamble\n"
	                  "--==x==  \n"
	                  "Content-Type: text/plain\n"
	                  "\n"
	                  "one\n"
	                  "--==x==notadelimiter\n"
	                  "still one\n"
	                  "\n"
	                  "--==x==\n"
	                  "\n"
	                  "two\n"
	                  "--==x==--\n"
	                  "epilogue\n";
	struct mime_msg m;
	struct err e = { 0 };
	assert_int_equal(mime_parse(&m, span_cstr(msg), NULL, &e), 0);
	assert_int_equal(m.nparts, 3);
	assert_true(m.parts[0].container);
	assert_string_equal(m.parts[0].type, "multipart/mixed");
	assert_int_equal(m.parts[0].hdr_count, 2);
	struct span b1 = m.parts[1].body;
	assert_int_equal(b1.len, strlen("one\n--==x==notadelimiter\nstill one\n"));
	assert_memory_equal(b1.p, "one\n--==x==notadelimiter\nstill one\n", b1.len);
	assert_string_equal(m.parts[2].type, "text/plain"); /* default */
	assert_int_equal(m.parts[2].body.len, 3);
	assert_int_equal(m.parts[2].parent, 0);
	assert_int_equal(m.parts[2].depth, 1);
	struct buf v;
	buf_init(&v, 100);
	assert_int_equal(mime_header_get(&m, "subject", &v), 0);
	assert_string_equal(buf_cstr(&v), "a  folded");
	buf_reset(&v);
	assert_int_equal(mime_header_get(&m, "X-None", &v), ERR_NOTFOUND);
	assert_int_equal(mime_header_find(&m, 0, "SUBJECT"), 0);
	assert_int_equal(mime_header_next(&m, 0, "SUBJECT", 0), -1);
	buf_clear(&v);
	mime_msg_clear(&m);
}

/* ------------------------------------------------------------ decoders */

struct dec_case {
	const char *in, *want;
};

static void
test_qp(void **state)
{
	(void)state;
	static const struct dec_case cases[] = {
		{ "abc", "abc" },
		{ "a=3Db", "a=b" },
		{ "a=3db", "a=b" },
		{ "soft=\r\nbreak", "softbreak" },
		{ "soft=\nbreak", "softbreak" },
		{ "soft=  \r\nbreak", "softbreak" },
		{ "trailing   \r\nnext", "trailing\r\nnext" },
		{ "keep  inner", "keep  inner" },
		{ "bad=ZZ", "bad=ZZ" },
		{ "end=", "end" },
		{ "=E2=80=93", "\xe2\x80\x93" },
		{ "tab\t\n", "tab\n" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b;
		buf_init(&b, 100);
		assert_int_equal(mime_decode_qp(span_cstr(cases[i].in), &b), 0);
		if (strcmp(buf_cstr(&b), cases[i].want) != 0)
			fail_msg("qp \"%s\": got \"%s\", want \"%s\"", cases[i].in, buf_cstr(&b),
			         cases[i].want);
		buf_clear(&b);
	}
}

static void
test_base64(void **state)
{
	(void)state;
	static const struct dec_case cases[] = {
		{ "aGVsbG8=", "hello" },
		{ "aGVs\r\nbG8=\r\n", "hello" },
		{ " aG Vs\tbG8 ", "hello" },
		{ "aGVsbG8", "hello" }, /* missing padding */
		{ "aGVsbA==", "hell" },
		{ "aGVsbA==garbage", "hell" }, /* data after padding ignored */
		{ "aG*Vs!bG8=", "hello" },     /* junk characters skipped */
		{ "", "" },
		{ "Q", "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b;
		buf_init(&b, 100);
		assert_int_equal(mime_decode_base64(span_cstr(cases[i].in), &b), 0);
		if (strcmp(buf_cstr(&b), cases[i].want) != 0)
			fail_msg("base64 \"%s\": got \"%s\", want \"%s\"", cases[i].in,
			         buf_cstr(&b), cases[i].want);
		buf_clear(&b);
	}
	struct buf small;
	buf_init(&small, 3);
	assert_int_equal(mime_decode_base64(SPAN_LIT("aGVsbG8="), &small), BUF_ETOOBIG);
	buf_clear(&small);
}

static void
test_rfc2047(void **state)
{
	(void)state;
	static const struct dec_case cases[] = {
		{ "plain text", "plain text" },
		{ "=?utf-8?B?w6l0w6k=?=", "\xc3\xa9t\xc3\xa9" },
		{ "=?UTF-8?Q?caf=C3=A9_au_lait?=", "caf\xc3\xa9 au lait" },
		{ "=?iso-8859-1?Q?caf=E9?=", "caf\xc3\xa9" },
		{ "=?us-ascii?Q?a?= =?us-ascii?Q?b?=", "ab" },     /* space between words dropped */
		{ "=?us-ascii?Q?a?=\r\n =?us-ascii?Q?b?=", "ab" }, /* also when folded */
		{ "x =?utf-8?Q?y?= z", "x y z" },
		{ "=?koi8-r?B?8NLJ18XU?=", "=?koi8-r?B?8NLJ18XU?=" }, /* unknown charset kept */
		{ "=?utf-8?X?abc?=", "=?utf-8?X?abc?=" },             /* bad encoding kept */
		{ "=?utf-8?Q?unterminated", "=?utf-8?Q?unterminated" },
		{ "=?utf-8*en?Q?lang?=", "lang" },
		{ "=?utf-8?B?/w==?=", "\xef\xbf\xbd" }, /* invalid UTF-8 replaced */
		{ "Report\r\n Domain: a", "Report Domain: a" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b;
		buf_init(&b, 200);
		assert_int_equal(mime_decode_words(span_cstr(cases[i].in), &b), 0);
		if (strcmp(buf_cstr(&b), cases[i].want) != 0)
			fail_msg("2047 \"%s\": got \"%s\", want \"%s\"", cases[i].in, buf_cstr(&b),
			         cases[i].want);
		buf_clear(&b);
	}
}

struct param_case {
	const char *value, *name;
	int rc;
	const char *want;
};

static void
test_params(void **state)
{
	(void)state;
	static const struct param_case cases[] = {
		{ "multipart/report; report-type=tlsrpt; boundary=\"abc\"", "boundary", 0, "abc" },
		{ "multipart/report; report-type=tlsrpt; boundary=\"abc\"", "report-type", 0,
		  "tlsrpt" },
		{ "multipart/report;\r\n\tboundary=\"_0_\"; report-type=tlsrpt", "BOUNDARY", 0,
		  "_0_" },
		{ "a/b; name=\"q\\\"uote;d\"", "name", 0, "q\"uote;d" },
		{ "a/b; filename*=utf-8''r%C3%A9.json", "filename", 0, "r\xc3\xa9.json" },
		{ "a/b; filename*0=\"long\"; filename*1=\".json.gz\"", "filename", 0,
		  "long.json.gz" },
		{ "a/b; filename*0*=utf-8''a%41; filename*1=b", "filename", 0, "aAb" },
		{ "a/b (comment); x = 1", "x", 0, "1" },
		{ "a/b; namex=1", "name", -1, "" },
		{ "a/b", "name", -1, "" },
		{ "attachment; filename=\"0123456789\"", "filename", ERR_TOOBIG, "01234" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[64];
		size_t cap = cases[i].rc == ERR_TOOBIG ? 6 : sizeof out;
		int rc = mime_param(span_cstr(cases[i].value), cases[i].name, out, cap);
		if (rc != cases[i].rc || strcmp(out, cases[i].want) != 0)
			fail_msg("param %s in \"%s\": got %d \"%s\", want %d \"%s\"", cases[i].name,
			         cases[i].value, rc, out, cases[i].rc, cases[i].want);
	}
}

struct date_case {
	const char *in;
	int rc;
	int64_t want;
};

static void
test_dates(void **state)
{
	(void)state;
	static const struct date_case cases[] = {
		{ "Fri, 3 Feb 2023 05:09:22 +0000", 0, 1675400962 },
		{ "Wed, 04 Sep 2024 03:53:20 -0700", 0, 1725447200 },
		{ "Thu, 26 Jan 2023 03:10:38 +0300", 0, 1674691838 },
		{ "03 Feb 2023 06:09 +0100", 0, 1675400940 },
		{ "Fri, May 09 2017 16:54:30 -0800", 0, 1494377670 },
		{ "Sun, 29 Nov 2026 04:35:09 GMT (comment)", 0, 1795926909 },
		{ "1 Jan 99 00:00:00 EST", 0, 915166800 },
		{ "yesterday", -1, 0 },
		{ "32 Jan 2020 00:00:00 +0000", -1, 0 },
		{ "1 Jan 2020 25:00:00 +0000", -1, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t t = 0;
		int rc = mime_parse_date(span_cstr(cases[i].in), &t);
		if (rc != cases[i].rc || (rc == 0 && t != cases[i].want))
			fail_msg("date \"%s\": got %d %lld, want %d %lld", cases[i].in, rc,
			         (long long)t, cases[i].rc, (long long)cases[i].want);
	}
}

struct from_case {
	const char *from;
	int rc;
	const char *want;
};

static void
test_from_and_ids(void **state)
{
	(void)state;
	static const struct from_case cases[] = {
		{ "noreply-smtp-tls-reporting@google.com", 0, "google.com" },
		{ "<tlsrpt-noreply@microsoft.com>", 0, "microsoft.com" },
		{ "\"Some @ Body <x@evil.example>\" <a@Good.Example.>", 0, "good.example" },
		{ "Name (c@comment.example) <a@b.example>", 0, "b.example" },
		{ "a@one.example, b@two.example", 0, "one.example" },
		{ "nobody", ERR_INVALID, "" },
		{ "a@bad domain", 0, "bad" },
		{ "a@b!c", ERR_INVALID, "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char msg[512], out[64] = "";
		snprintf(msg, sizeof msg, "From: %s\r\nMessage-ID:\r\n <id.%zu@x.example>\r\n\r\n",
		         cases[i].from, i);
		struct mime_msg m;
		assert_int_equal(mime_parse(&m, span_cstr(msg), NULL, NULL), 0);
		int rc = mime_from_domain(&m, out, sizeof out);
		if (rc != cases[i].rc || (rc == 0 && strcmp(out, cases[i].want) != 0))
			fail_msg("From \"%s\": got %d \"%s\", want %d \"%s\"", cases[i].from, rc,
			         out, cases[i].rc, cases[i].want);
		struct buf id;
		char want[64];
		buf_init(&id, 100);
		assert_int_equal(mime_message_id(&m, &id), 0);
		snprintf(want, sizeof want, "id.%zu@x.example", i);
		assert_string_equal(buf_cstr(&id), want);
		buf_clear(&id);
		mime_msg_clear(&m);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_locate),
		cmocka_unit_test(test_decoded_cap),
		cmocka_unit_test(test_cap_depth),
		cmocka_unit_test(test_cap_headers_parts_size),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_qp),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_rfc2047),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_from_and_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
