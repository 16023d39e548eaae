/*
 * fuzz_lmtp.c - libFuzzer harness for the LMTP server state machine (inbound/lmtp.c):
 * the input is a client session.  Its first byte chooses the chunk size the rest is fed
 * in (1..256 bytes: pipelining and lines split anywhere); messages go through the real
 * mailbox step (inbound/lmtp_mailbox.c: MIME, report reading, de-duplication) into an
 * in-memory SQLite store, no Maildir.  Small caps (4 KiB message, 5 recipients,
 * 200 commands) so the cap paths are reached.  Oracle besides the sanitizers: every
 * reply line is "[2-5]dd" then ' ' or '-', printable text, CRLF-terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inbound/lmtp.h"
#include "inbound/lmtp_mailbox.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_replies(const struct buf *out)
{
	const char *p = out->data ? out->data : "";
	const char *end = p + out->len;

	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));

		if (lf == NULL || lf - p < 5 || lf[-1] != '\r' || p[0] < '2' || p[0] > '5' ||
		    p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9' ||
		    (p[3] != ' ' && p[3] != '-'))
			abort();
		for (const char *q = p; q < lf - 1; q++)
			if ((unsigned char)*q < 0x20 || *q == 0x7f)
				abort();
		p = lf + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const patterns[] = { "postmaster@*", "tlsrpt@example.com",
		                                "*@reports.example.com" };
	static struct store *s;
	static struct ingest in;
	static struct lmtp_mailbox mb;
	struct lmtp_opts o = {
		.hostname = "mx.test",
		.max_message = 4096,
		.max_recipients = 5,
		.max_commands = 200,
		.addresses = patterns,
		.naddresses = 3,
		.deliver = lmtp_mailbox_deliver,
		.deliver_ctx = &mb,
	};
	struct lmtp_session *sess;
	struct buf out;
	struct err e = { 0 };
	size_t chunk;

	if (s == NULL) {
		log_setup("fuzz_lmtp", LOG_DEST_NONE, LOG_LEVEL_ERROR);
		if (store_open("sqlite", ":memory:", &s, &e) != 0)
			abort();
		in.store = s;
		in.max_decoded = 1 << 20;
		mb.in = &in;
		mb.hostname = "mx.test";
	}
	if (size == 0)
		return 0;
	chunk = (size_t)data[0] + 1;
	data++;
	size--;
	mb.reject_non_reports = chunk % 2 == 0;
	buf_init(&out, 1 << 22);
	sess = lmtp_session_new(&o, &out);
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		if (lmtp_feed(sess, (const char *)data + off, n, &out) == LMTP_CLOSED)
			break;
	}
	if (chunk % 3 == 0)
		lmtp_timeout(sess, &out);
	else
		lmtp_shutdown(sess, &out);
	check_replies(&out);
	lmtp_session_free(sess);
	buf_clear(&out);
	if (s->ops->received_purge(s, INT64_MAX, NULL, &e) != 0)
		abort();
	return 0;
}
