/*
 * fuzz_mime.c - libFuzzer harness for the MIME parser and the report locator: parse,
 * read the headers inbound code reads, find and decode report parts, verify DKIM
 * signatures (keys are never found, so signature parsing and canonicalization run).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mail/dkim.h"
#include "mail/mime.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
no_key(void *ctx, const char *selector, const char *domain, struct buf *txt, struct err *e)
{
	(void)ctx;
	(void)selector;
	(void)domain;
	(void)txt;
	return err_set(e, ERR_NOTFOUND, "none");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_limits lim;
	struct mime_msg m;
	struct err e = { 0 };
	mime_limits_default(&lim);
	lim.max_message = 1u << 20;
	if (mime_parse(&m, span_make(data, size), &lim, &e) == 0) {
		struct buf b;
		char dom[256];
		int64_t t;
		buf_init(&b, 1u << 16);
		mime_subject(&m, &b);
		buf_reset(&b);
		mime_from_domain(&m, dom, sizeof dom);
		mime_message_id(&m, &b);
		buf_reset(&b);
		if (mime_header_get(&m, "Date", &b) == 0)
			mime_parse_date(buf_span(&b), &t);
		buf_reset(&b);
		mime_header_get(&m, "TLS-Report-Domain", &b);
		for (size_t i = 0; i < m.nparts; i++) {
			buf_reset(&b);
			mime_part_filename(&m, i, dom, sizeof dom);
			mime_part_decode(&m, i, &b);
		}
		buf_clear(&b);
		struct mime_report *r;
		size_t n;
		if (mime_find_reports(&m, 1u << 20, &r, &n, &e) == 0)
			mime_reports_free(r, n);
		struct mdkim_verify_opts o = { .lookup = no_key, .now = -1 };
		struct mdkim_verdict *v;
		if (mdkim_verify(&m, &o, &v, &n, &e) == 0)
			free(v);
	}
	mime_msg_clear(&m);
	return 0;
}
