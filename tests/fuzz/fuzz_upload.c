/*
 * fuzz_upload.c - libFuzzer harness for the HTTP report upload body path: the body
 * through http_upload_handle() (sniffing, gzip with its cap, the tolerant reader,
 * normalised storage and de-duplication in an in-memory SQLite store), then the same
 * bytes as a mail message through ingest_message() (MIME, report location, DKIM with no
 * keys).  The store is emptied after every input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inbound/http_upload.h"
#include "inbound/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct store *s;
	static struct ingest in;
	struct http_upload u = { .in = &in, .path = "/tlsrpt" };
	struct httpd_request req = {
		.method = "POST",
		.path = "/tlsrpt",
		.content_type = "application/tlsrpt+gzip",
		.remote = "127.0.0.1",
		.body = span_make(data, size),
	};
	struct httpd_response resp = { 0 };
	struct ingest_result res;
	struct err e = { 0 };

	if (s == NULL) {
		if (store_open("sqlite", ":memory:", &s, &e) != 0)
			abort();
		in.store = s;
		in.max_decoded = 1 << 20;
	}
	buf_init(&resp.body, 64 * 1024);
	http_upload_handle(&u, &req, &resp);
	if (resp.status != 200 && resp.status != 400)
		abort();
	buf_clear(&resp.body);
	(void)ingest_message(&in, span_make(data, size), &res, &e);
	if (s->ops->received_purge(s, INT64_MAX, NULL, &e) != 0)
		abort();
	return 0;
}
