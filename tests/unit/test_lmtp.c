/*
 * test_lmtp.c - the LMTP state machine (inbound/lmtp.c): exact reply bytes for whole
 * client transcripts, fed at once (pipelining) and again one byte at a time (the same
 * replies and the same delivered message); dot-unstuffing; caps; bad sequences; the
 * hostile cases of issue 11 ("LMTP abuse": overlong lines, NUL bytes, 10,000 RCPTs, DATA
 * without RCPT, bare LF, never-ending DATA); recipient patterns; and the mailbox step
 * (inbound/lmtp_mailbox.c) over a SQLite store and a Maildir.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "inbound/lmtp.h"
#include "inbound/lmtp_mailbox.h"
#include "util/buf.h"
#include "util/log.h"

#define HOST "mx.test"
#define G "220 " HOST " LMTP tlsrptd ready\r\n"
#define LHLO_OK                                                                                    \
	"250-" HOST "\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SIZE "   \
	"10485760\r\n"

/* ------------------------------------------------------------------ stub delivery */

enum stub_mode { STUB_OK, STUB_TEMPFAIL, STUB_MIXED, STUB_BAD };

struct stub {
	enum stub_mode mode;
	int calls;
	char sender[300];
	size_t nrcpts;
	struct buf msg; /* the last message delivered */
};

static void
stub_deliver(void *ctx, const struct lmtp_delivery *d, struct lmtp_reply *r)
{
	struct stub *st = ctx;

	st->calls++;
	snprintf(st->sender, sizeof(st->sender), "%s", d->sender);
	st->nrcpts = d->nrcpts;
	buf_reset(&st->msg);
	buf_append(&st->msg, d->message.p, d->message.len);
	for (size_t i = 0; i < d->nrcpts; i++) {
		switch (st->mode) {
		case STUB_OK:
			r[i].code = 250;
			snprintf(r[i].text, sizeof(r[i].text), "2.0.0 Ok: delivered");
			break;
		case STUB_TEMPFAIL:
			r[i].code = 451;
			snprintf(r[i].text, sizeof(r[i].text), "4.3.0 Error: store unavailable");
			break;
		case STUB_MIXED:
			r[i].code = i % 2 ? 452 : 250;
			snprintf(r[i].text, sizeof(r[i].text), "%s <%s>",
			         i % 2 ? "4.2.2 full" : "2.0.0 ok", d->rcpts[i]);
			break;
		case STUB_BAD:
			r[i].code = 99;
			snprintf(r[i].text, sizeof(r[i].text), "bad\r\ninjected");
			break;
		}
	}
}

static const char *const patterns[] = { "postmaster@*", "tlsrpt@example.com",
	                                "*@reports.example.com" };

struct run {
	struct buf out;
	int rc;
	struct stub st;
};

/* Runs a whole transcript in chunks of `chunk` bytes (0: all at once). */
static void
run_transcript(struct run *r, const char *in, size_t len, size_t chunk, size_t max_message,
               size_t max_rcpts, size_t max_cmds, enum stub_mode mode)
{
	struct lmtp_opts o = {
		.hostname = HOST,
		.max_message = max_message,
		.max_recipients = max_rcpts,
		.max_commands = max_cmds,
		.addresses = patterns,
		.naddresses = 3,
		.deliver = stub_deliver,
		.deliver_ctx = &r->st,
	};
	struct lmtp_session *s;

	memset(r, 0, sizeof(*r));
	r->st.mode = mode;
	buf_init(&r->st.msg, 1 << 20);
	buf_init(&r->out, 1 << 22);
	s = lmtp_session_new(&o, &r->out);
	r->rc = LMTP_OPEN;
	if (chunk == 0)
		chunk = len ? len : 1;
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		r->rc = lmtp_feed(s, in + off, n, &r->out);
	}
	lmtp_session_free(s);
}

static void
run_clear(struct run *r)
{
	buf_clear(&r->out);
	buf_clear(&r->st.msg);
}

/* Printable form for failure messages. */
static const char *
esc(const char *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 5 < cap; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r') {
			out[o++] = '\\';
			out[o++] = 'r';
		} else if (c == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (c < 0x20 || c > 0x7e) {
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return out;
}

static void
expect_bytes(const char *name, const char *what, const char *got, size_t glen, const char *want,
             size_t wlen)
{
	static char a[1 << 16], b[1 << 16];

	if (glen != wlen || memcmp(got, want, wlen) != 0)
		fail_msg("%s: %s: got \"%s\", want \"%s\"", name, what,
		         esc(got, glen, a, sizeof(a)), esc(want, wlen, b, sizeof(b)));
}

/* ------------------------------------------------------------------ transcripts */

struct tcase {
	const char *name;
	const char *in;
	size_t inlen;     /* 0: strlen(in) */
	const char *want; /* replies after the greeting */
	int want_rc;
	int want_calls;
	const char *want_msg; /* the last message delivered; NULL: not checked */
	size_t max_message, max_rcpts, max_cmds;
	enum stub_mode mode;
};

#define MAILRCPT "LHLO c.test\r\nMAIL FROM:<s@sender.test>\r\nRCPT TO:<postmaster@x.test>\r\n"
#define MAILRCPT_OK LHLO_OK "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"

static const struct tcase tcases[] = {
	{ "transcript: two recipients, one rejected, one reply per accepted recipient",
	  "LHLO client.test\r\n"
	  "MAIL FROM:<sender@example.org> SIZE=30 BODY=8BITMIME\r\n"
	  "RCPT TO:<tlsrpt@example.com>\r\n"
	  "RCPT TO:<bob@example.com>\r\n"
	  "RCPT TO:<Postmaster@Example.NET>\r\n"
	  "DATA\r\n"
	  "Subject: x\r\n\r\nbody\r\n.\r\n"
	  "QUIT\r\n",
	  0,
	  LHLO_OK "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	          "550 5.1.1 <bob@example.com>: Recipient address rejected: not a TLS report "
	          "address\r\n"
	          "250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
	          "250 2.0.0 Ok: delivered\r\n250 2.0.0 Ok: delivered\r\n"
	          "221 2.0.0 " HOST " closing connection\r\n",
	  LMTP_CLOSED, 1, "Subject: x\r\n\r\nbody\r\n", .mode = STUB_OK },
	{ "per-recipient replies pass through in order",
	  MAILRCPT "RCPT TO:<a@reports.example.com>\r\n"
	           "RCPT TO:<postmaster>\r\n"
	           "DATA\r\nx\r\n.\r\n",
	  0,
	  MAILRCPT_OK
	  "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
	  "250 2.0.0 ok <postmaster@x.test>\r\n452 4.2.2 full <a@reports.example.com>\r\n"
	  "250 2.0.0 ok <postmaster>\r\n",
	  LMTP_OPEN, 1, "x\r\n", 0, 0, 0, STUB_MIXED },
	{ "store unavailable: 451 4.3.0 for each recipient",
	  MAILRCPT "RCPT TO:<tlsrpt@example.com>\r\nDATA\r\nx\r\n.\r\n", 0,
	  MAILRCPT_OK
	  "250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
	  "451 4.3.0 Error: store unavailable\r\n451 4.3.0 Error: store unavailable\r\n",
	  LMTP_OPEN, 1, NULL, 0, 0, 0, STUB_TEMPFAIL },
	{ "a broken delivery reply becomes 451 4.3.0 (no injected lines)",
	  MAILRCPT "DATA\r\nx\r\n.\r\n", 0,
	  MAILRCPT_OK "354 End data with <CR><LF>.<CR><LF>\r\n451 4.3.0 Error: delivery failed\r\n",
	  LMTP_OPEN, 1, NULL, 0, 0, 0, STUB_BAD },
	{ "dot-unstuffing; a dot line inside stays",
	  MAILRCPT "DATA\r\n"
	           "..leading dot\r\n"
	           "...\r\n"
	           "a.b\r\n"
	           ". \r\n"
	           ".\r\n",
	  0, MAILRCPT_OK "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: delivered\r\n",
	  LMTP_OPEN, 1, ".leading dot\r\n..\r\na.b\r\n \r\n", .mode = STUB_OK },
	{ "empty message", MAILRCPT "DATA\r\n.\r\n", 0,
	  MAILRCPT_OK "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: delivered\r\n",
	  LMTP_OPEN, 1, "", .mode = STUB_OK },
	{ "two messages in one session, RSET between",
	  MAILRCPT "DATA\r\none\r\n.\r\nRSET\r\nMAIL FROM:<>\r\nRCPT TO:<postmaster@y>\r\n"
	           "DATA\r\ntwo\r\n.\r\n",
	  0,
	  MAILRCPT_OK "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: delivered\r\n"
	              "250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	              "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: delivered\r\n",
	  LMTP_OPEN, 2, "two\r\n", .mode = STUB_OK },
	{ "verbs are case-insensitive; source route dropped",
	  "lhlo c\r\nmail from:<s@t>\r\nrcpt to:<@relay.test,@r2.test:tlsrpt@EXAMPLE.com>\r\n", 0,
	  LHLO_OK "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n", LMTP_OPEN, 0, NULL, .mode = STUB_OK },
	{ "a space after the colon is tolerated", "LHLO c\r\nMAIL FROM: <s@t>\r\n", 0,
	  LHLO_OK "250 2.1.0 Ok\r\n", LMTP_OPEN, 0, NULL, .mode = STUB_OK },
	{ "NOOP, VRFY, RSET, unknown, HELO, EHLO",
	  "NOOP\r\nVRFY postmaster\r\nRSET\r\nEXPN x\r\nHELO c\r\nEHLO c\r\nSTARTTLS\r\n", 0,
	  "250 2.0.0 Ok\r\n252 2.0.0 Cannot VRFY user; try RCPT to find out\r\n250 2.0.0 Ok\r\n"
	  "500 5.5.2 Error: command not recognized\r\n500 5.5.1 Error: this is LMTP, say LHLO\r\n"
	  "500 5.5.1 Error: this is LMTP, say LHLO\r\n500 5.5.2 Error: command not recognized\r\n",
	  LMTP_OPEN, 0, NULL, .mode = STUB_OK },
	{ "QUIT ends the session; later input ignored", "QUIT\r\nNOOP\r\n", 0,
	  "221 2.0.0 " HOST " closing connection\r\n", LMTP_CLOSED, 0, NULL, .mode = STUB_OK },
	/* bad sequences */
	{ "MAIL before LHLO", "MAIL FROM:<a@b>\r\nRCPT TO:<postmaster@x>\r\nDATA\r\n", 0,
	  "503 5.5.1 Error: send LHLO first\r\n503 5.5.1 Error: send LHLO first\r\n"
	  "503 5.5.1 Error: send LHLO first\r\n",
	  LMTP_OPEN, 0, NULL, .mode = STUB_OK },
	{ "RCPT and DATA without MAIL", "LHLO c\r\nRCPT TO:<postmaster@x>\r\nDATA\r\n", 0,
	  LHLO_OK "503 5.5.1 Error: need MAIL command\r\n503 5.5.1 Error: need MAIL command\r\n",
	  LMTP_OPEN, 0, NULL, .mode = STUB_OK },
	{ "DATA without an accepted RCPT (RFC 2033 4.2)",
	  "LHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<bob@b>\r\nDATA\r\n", 0,
	  LHLO_OK "250 2.1.0 Ok\r\n550 5.1.1 <bob@b>: Recipient address rejected: not a TLS "
	          "report address\r\n503 5.5.1 Error: no valid recipients\r\n",
	  LMTP_OPEN, 0, NULL, .mode = STUB_OK },
	{ "nested MAIL", "LHLO c\r\nMAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\n", 0,
	  LHLO_OK "250 2.1.0 Ok\r\n503 5.5.1 Error: nested MAIL command\r\n", LMTP_OPEN, 0, NULL,
	  .mode = STUB_OK },
	{ "RSET clears the transaction", MAILRCPT "RSET\r\nDATA\r\nRCPT TO:<postmaster@x>\r\n", 0,
	  MAILRCPT_OK "250 2.0.0 Ok\r\n503 5.5.1 Error: need MAIL command\r\n"
	              "503 5.5.1 Error: need MAIL command\r\n",
	  LMTP_OPEN, 0, NULL, .mode = STUB_OK },
	{ "LHLO without a name; arguments where none belong",
	  "LHLO\r\nLHLO  \r\nRSET x\r\nDATA x\r\n", 0,
	  "501 5.5.4 Syntax: LHLO hostname\r\n501 5.5.4 Syntax: LHLO hostname\r\n"
	  "501 5.5.4 Syntax: RSET\r\n501 5.5.4 Syntax: DATA\r\n",
	  LMTP_OPEN, 0, NULL, .mode = STUB_OK },
	{ "MAIL and RCPT syntax errors",
	  "LHLO c\r\nMAIL FROM:a@b\r\nMAIL TO:<a@b>\r\nMAIL FROM:<a@b\r\nMAIL FROM:<a@b>x\r\n"
	  "MAIL FROM:<a@b>\r\nRCPT TO:<>\r\nRCPT TO:postmaster@x\r\nRCPT TO:<a b@c>\r\n",
	  0,
	  LHLO_OK
	  "501 5.5.4 Syntax: MAIL FROM:<address>\r\n501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
	  "501 5.5.4 Syntax: MAIL FROM:<address>\r\n501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
	  "250 2.1.0 Ok\r\n501 5.1.3 Error: bad recipient address syntax\r\n"
	  "501 5.5.4 Syntax: RCPT TO:<address>\r\n501 5.5.4 Syntax: RCPT TO:<address>\r\n",
	  LMTP_OPEN, 0, NULL, .mode = STUB_OK },
	{ "MAIL parameters: SIZE over the cap, bad SIZE, unknown; RCPT parameter",
	  "LHLO c\r\nMAIL FROM:<a@b> SIZE=10485761\r\nMAIL FROM:<a@b> SIZE=x\r\n"
	  "MAIL FROM:<a@b> SMTPUTF8\r\nMAIL FROM:<a@b> SIZE=10485760\r\n"
	  "RCPT TO:<postmaster@x> NOTIFY=NEVER\r\n",
	  0,
	  LHLO_OK "552 5.3.4 Error: message size exceeds the limit of 10485760 bytes\r\n"
	          "501 5.5.4 Syntax: SIZE=<number>\r\n"
	          "555 5.5.4 Error: unsupported MAIL parameter SMTPUTF8\r\n250 2.1.0 Ok\r\n"
	          "555 5.5.4 Error: unsupported RCPT parameter NOTIFY=NEVER\r\n",
	  LMTP_OPEN, 0, NULL, .mode = STUB_OK },
	{ "recipient cap: 452 4.5.3 past max-recipients",
	  MAILRCPT "RCPT TO:<postmaster@y>\r\nRCPT TO:<postmaster@z>\r\nDATA\r\nm\r\n.\r\n", 0,
	  MAILRCPT_OK "250 2.1.5 Ok\r\n452 4.5.3 Error: too many recipients\r\n"
	              "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: delivered\r\n"
	              "250 2.0.0 Ok: delivered\r\n",
	  LMTP_OPEN, 1, "m\r\n", 0, 2, .mode = STUB_OK },
	{ "command cap: 421 4.7.0 and close", "NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n", 0,
	  "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n421 4.7.0 " HOST
	  " Error: too many commands, closing connection\r\n",
	  LMTP_CLOSED, 0, NULL, 0, 0, 3, .mode = STUB_OK },
	{ "command cap counts from the last delivered message",
	  MAILRCPT "DATA\r\nm\r\n.\r\nNOOP\r\nNOOP\r\nNOOP\r\n", 0,
	  MAILRCPT_OK "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: delivered\r\n"
	              "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n",
	  LMTP_OPEN, 1, "m\r\n", 0, 0, 4, .mode = STUB_OK },
	/* hostile input (issue 11, "LMTP abuse") */
	{ "abuse: NUL byte in a command", "NO\0OP\r\nNOOP\r\n", 13,
	  "500 5.5.2 Error: NUL character in command\r\n250 2.0.0 Ok\r\n", LMTP_OPEN, 0, NULL,
	  .mode = STUB_OK },
	{ "abuse: control bytes echoed in a reply are replaced (fuzz finding)",
	  "LHLO c\r\nMAIL FROM:<a@b> X\001Y\r\nMAIL FROM:<a@b>\r\nRCPT TO:<bob\033[1m@x\377>\r\n",
	  0,
	  LHLO_OK
	  "555 5.5.4 Error: unsupported MAIL parameter X?Y\r\n250 2.1.0 Ok\r\n"
	  "550 5.1.1 <bob?[1m@x?>: Recipient address rejected: not a TLS report address\r\n",
	  LMTP_OPEN, 0, NULL, .mode = STUB_OK },
	{ "abuse: bare LF ends no command", "NOOP\nNOOP\r\n", 0,
	  "500 5.5.2 Error: bare <LF> received, lines end with <CR><LF>\r\n250 2.0.0 Ok\r\n",
	  LMTP_OPEN, 0, NULL, .mode = STUB_OK },
	{ "abuse: bare LF never ends DATA (no smuggling)",
	  MAILRCPT "DATA\r\na\r\n.\nMAIL FROM:<x@y>\r\nb\n.\r\nc\r\n.\r\n", 0,
	  MAILRCPT_OK "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: delivered\r\n",
	  LMTP_OPEN, 1, "a\r\n\nMAIL FROM:<x@y>\r\nb\n\r\nc\r\n", .mode = STUB_OK },
	{ "abuse: empty line and lone CR", "\r\n\r\r\n", 0,
	  "500 5.5.2 Error: empty command\r\n500 5.5.2 Error: command not recognized\r\n",
	  LMTP_OPEN, 0, NULL, .mode = STUB_OK },
	{ "abuse: never-ending DATA over twice the cap: 421 4.3.4 and close",
	  MAILRCPT "DATA\r\n0123456789\r\n0123456789\r\n0123456789\r\n0123456789\r\n"
	           "0123456789\r\n0123456789\r\nQUIT\r\n",
	  0,
	  "250-" HOST "\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
	  "250 SIZE 32\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	  "354 End data with <CR><LF>.<CR><LF>\r\n421 4.3.4 " HOST
	  " Error: message too large, closing connection\r\n",
	  LMTP_CLOSED, 0, NULL, 32, .mode = STUB_OK },
	{ "abuse: message over the cap: 552 5.3.4 per recipient, session goes on",
	  MAILRCPT "RCPT TO:<postmaster@y>\r\nDATA\r\n0123456789\r\n0123456789\r\n.\r\nNOOP\r\n", 0,
	  "250-" HOST "\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
	  "250 SIZE 16\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
	  "354 End data with <CR><LF>.<CR><LF>\r\n"
	  "552 5.3.4 Error: message too large (limit 16 bytes)\r\n"
	  "552 5.3.4 Error: message too large (limit 16 bytes)\r\n250 2.0.0 Ok\r\n",
	  LMTP_OPEN, 0, NULL, 16, .mode = STUB_OK },
	{ "abuse: DATA after a rejected DATA: the text is read as commands",
	  "LHLO c\r\nMAIL FROM:<a@b>\r\nDATA\r\nSubject: x\r\n.\r\n", 0,
	  LHLO_OK "250 2.1.0 Ok\r\n503 5.5.1 Error: no valid recipients\r\n"
	          "500 5.5.2 Error: command not recognized\r\n"
	          "500 5.5.2 Error: command not recognized\r\n",
	  LMTP_OPEN, 0, NULL, .mode = STUB_OK },
};

static void
test_transcripts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(tcases) / sizeof(tcases[0]); i++) {
		const struct tcase *c = &tcases[i];
		size_t len = c->inlen ? c->inlen : strlen(c->in);
		struct buf want;

		buf_init(&want, 1 << 20);
		buf_append_str(&want, G);
		buf_append_str(&want, c->want);
		/* whole input at once (pipelined), then byte by byte, then 7 bytes at a time */
		for (size_t k = 0; k < 3; k++) {
			static const size_t chunks[] = { 0, 1, 7 };
			char what[64];
			struct run r;

			run_transcript(&r, c->in, len, chunks[k], c->max_message, c->max_rcpts,
			               c->max_cmds, c->mode);
			snprintf(what, sizeof(what), "replies (chunk %zu)", chunks[k]);
			expect_bytes(c->name, what, r.out.data, r.out.len, want.data, want.len);
			if (r.rc != c->want_rc)
				fail_msg("%s: chunk %zu: rc got %d, want %d", c->name, chunks[k],
				         r.rc, c->want_rc);
			if (r.st.calls != c->want_calls)
				fail_msg("%s: chunk %zu: deliveries got %d, want %d", c->name,
				         chunks[k], r.st.calls, c->want_calls);
			if (c->want_msg)
				expect_bytes(c->name, "message", r.st.msg.data ? r.st.msg.data : "",
				             r.st.msg.len, c->want_msg, strlen(c->want_msg));
			run_clear(&r);
		}
		buf_clear(&want);
	}
}

/* Lines over the RFC 5321 limits: 512 for a command, 1000 for a text line (with CRLF). */
static void
test_line_limits(void **state)
{
	struct buf in, want;
	struct run r;

	(void)state;
	buf_init(&in, 1 << 20);
	buf_init(&want, 1 << 20);
	/* a command of exactly 512 octets is read; 513 is too long; the session goes on */
	buf_append_str(&in, "NOOP ");
	for (int i = 0; i < 512 - 7; i++)
		buf_putc(&in, 'a');
	buf_append_str(&in, "\r\nNOOP ");
	for (int i = 0; i < 512 - 6; i++)
		buf_putc(&in, 'a');
	buf_append_str(&in, "\r\n");
	for (int i = 0; i < 100000; i++)
		buf_putc(&in, 'X');
	buf_append_str(&in, "\r\nNOOP\r\n");
	buf_append_str(&in, MAILRCPT "DATA\r\n");
	for (int i = 0; i < 998; i++)
		buf_putc(&in, 'b');
	buf_append_str(&in, "\r\n.\r\n" MAILRCPT "DATA\r\n");
	for (int i = 0; i < 999; i++)
		buf_putc(&in, 'c');
	buf_append_str(&in, "\r\n.\r\nNOOP\r\n");
	buf_append_str(&want,
	               G "250 2.0.0 Ok\r\n"
	                 "500 5.5.2 Error: line too long (limit 512 octets)\r\n"
	                 "500 5.5.2 Error: line too long (limit 512 octets)\r\n"
	                 "250 2.0.0 Ok\r\n" MAILRCPT_OK "354 End data with <CR><LF>.<CR><LF>\r\n"
	                 "250 2.0.0 Ok: delivered\r\n" MAILRCPT_OK
	                 "354 End data with <CR><LF>.<CR><LF>\r\n"
	                 "500 5.5.2 Error: line too long (limit 1000 octets)\r\n"
	                 "250 2.0.0 Ok\r\n");
	for (size_t chunk = 0; chunk < 2; chunk++) {
		run_transcript(&r, in.data, in.len, chunk ? 1 : 0, 0, 0, 0, STUB_OK);
		expect_bytes("line limits", "replies", r.out.data, r.out.len, want.data, want.len);
		assert_int_equal(r.st.calls, 1);
		assert_int_equal(r.st.msg.len, 1000);
		run_clear(&r);
	}
	buf_clear(&in);
	buf_clear(&want);
}

/* 10,000 RCPTs: 100 accepted, 452 up to the command cap, then 421 and close. */
static void
test_ten_thousand_rcpts(void **state)
{
	struct buf in, want;
	struct run r;

	(void)state;
	buf_init(&in, 1 << 22);
	buf_init(&want, 1 << 22);
	buf_append_str(&in, "LHLO c\r\nMAIL FROM:<a@b>\r\n");
	for (int i = 0; i < 10000; i++)
		buf_printf(&in, "RCPT TO:<postmaster@d%d.test>\r\n", i);
	buf_append_str(&in, "DATA\r\n");
	buf_append_str(&want, G LHLO_OK "250 2.1.0 Ok\r\n");
	for (int i = 0; i < LMTP_DEFAULT_MAX_RECIPIENTS; i++)
		buf_append_str(&want, "250 2.1.5 Ok\r\n");
	for (int i = 2 + LMTP_DEFAULT_MAX_RECIPIENTS; i < LMTP_DEFAULT_MAX_COMMANDS; i++)
		buf_append_str(&want, "452 4.5.3 Error: too many recipients\r\n");
	buf_append_str(&want,
	               "421 4.7.0 " HOST " Error: too many commands, closing connection\r\n");
	run_transcript(&r, in.data, in.len, 0, 0, 0, 0, STUB_OK);
	expect_bytes("10000 rcpts", "replies", r.out.data, r.out.len, want.data, want.len);
	assert_int_equal(r.rc, LMTP_CLOSED);
	assert_int_equal(r.st.calls, 0);
	run_clear(&r);
	buf_clear(&in);
	buf_clear(&want);
}

static void
test_timeout_shutdown(void **state)
{
	struct stub st = { 0 };
	struct lmtp_opts o = { .hostname = HOST,
		               .addresses = patterns,
		               .naddresses = 3,
		               .deliver = stub_deliver,
		               .deliver_ctx = &st };
	struct buf out;
	struct lmtp_session *s;
	const char *in = "LHLO c\r\nMAIL FROM:<a@b>\r\n";
	const char *in2 = MAILRCPT "DATA\r\npartial\r\n";
	const char *want_to = "421 4.4.2 " HOST " Error: timeout exceeded\r\n";
	const char *want_sd = "421 4.3.2 " HOST " Service shutting down, try again later\r\n";

	(void)state;
	buf_init(&out, 1 << 16);
	s = lmtp_session_new(&o, &out);
	lmtp_feed(s, in, strlen(in), &out);
	buf_reset(&out);
	lmtp_timeout(s, &out);
	expect_bytes("timeout", "reply", out.data, out.len, want_to, strlen(want_to));
	buf_reset(&out);
	assert_int_equal(lmtp_feed(s, "NOOP\r\n", 6, &out), LMTP_CLOSED);
	assert_int_equal(out.len, 0);
	lmtp_session_free(s);

	buf_reset(&out);
	s = lmtp_session_new(&o, &out);
	buf_reset(&out);
	lmtp_feed(s, in2, strlen(in2), &out);
	assert_true(lmtp_in_data(s));
	buf_reset(&out);
	lmtp_shutdown(s, &out);
	expect_bytes("shutdown", "reply", out.data, out.len, want_sd, strlen(want_sd));
	assert_false(lmtp_in_data(s));
	assert_int_equal(st.calls, 0);
	lmtp_session_free(s);
	buf_clear(&out);
	buf_clear(&st.msg);
}

static void
test_address_match(void **state)
{
	static const struct {
		const char *addr;
		bool want;
	} cases[] = {
		{ "postmaster@example.com", true },
		{ "POSTMASTER@Example.Com", true },
		{ "postmaster", true }, /* as postmaster@mx.test */
		{ "postmaster@", true },
		{ "postmasterx@example.com", false },
		{ "xpostmaster@example.com", false },
		{ "tlsrpt@example.com", true },
		{ "tlsrpt@example.com.evil", false },
		{ "tlsrpt@sub.example.com", false },
		{ "anything@reports.example.com", true },
		{ "@reports.example.com", true },
		{ "a@b@reports.example.com", true },
		{ "a@xreports.example.com", false },
		{ "bob", false },
		{ "", false },
	};
	static const char *const q[] = { "t?rpt@x" };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = lmtp_address_match(patterns, 3, cases[i].addr, HOST);

		if (got != cases[i].want)
			fail_msg("address '%s': got %d, want %d", cases[i].addr, got,
			         cases[i].want);
	}
	assert_true(lmtp_address_match(q, 1, "tXrpt@X", HOST));
	assert_false(lmtp_address_match(q, 1, "trpt@x", HOST));
	assert_false(lmtp_address_match(NULL, 0, "postmaster@x", HOST));
	assert_true(lmtp_address_match((const char *const[]){ "*" }, 1, "x", NULL));
	/* a pathological pattern stays fast (no exponential backtracking) */
	assert_false(lmtp_address_match(
	        (const char *const[]){ "*a*a*a*a*a*a*a*a*b" }, 1,
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL));
}

/* ------------------------------------------------------------------ the mailbox step */

static const char report_msg[] =
        "From: tlsrpt@sender.example\r\n"
        "To: tlsrpt@rcpt.example\r\n"
        "Subject: Report Domain: rcpt.example\r\n"
        "TLS-Report-Submitter: sender.example\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=tlsrpt; boundary=\"B\"\r\n\r\n"
        "--B\r\nContent-Type: text/plain\r\n\r\nA report.\r\n"
        "--B\r\nContent-Type: application/tlsrpt+json\r\n\r\n"
        "{\"organization-name\":\"Example Org\",\"date-range\":{\"start-datetime\":"
        "\"2026-11-27T00:00:00Z\",\"end-datetime\":\"2026-11-27T23:59:59Z\"},"
        "\"contact-info\":\"tlsrpt@sender.example\",\"report-id\":\"lmtp1@sender.example\","
        "\"policies\":[{\"policy\":{\"policy-type\":\"no-policy-found\",\"policy-domain\":"
        "\"rcpt.example\"},\"summary\":{\"total-successful-session-count\":5,"
        "\"total-failure-session-count\":0}}]}\r\n--B--\r\n";

static const char plain_msg[] = "From: alice@example.org\r\nSubject: hello\r\n\r\nHi!\r\n";

struct mbfix {
	char dir[512], db[600], md[600];
	struct store *s;
	struct ingest in;
};

static int
mb_setup(void **state)
{
	struct mbfix *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TLSRPT_TEST_TMP");
	struct err e = { 0 };

	log_setup("test_lmtp", LOG_DEST_NONE, LOG_LEVEL_ERROR);
	snprintf(f->dir, sizeof(f->dir), "%s/test_lmtp.%d", tmp ? tmp : "/tmp", (int)getpid());
	mkdir(f->dir, 0700);
	snprintf(f->db, sizeof(f->db), "%s/db.sqlite", f->dir);
	snprintf(f->md, sizeof(f->md), "%s/Maildir", f->dir);
	assert_int_equal(store_open("sqlite", f->db, &f->s, &e), 0);
	f->in.store = f->s;
	*state = f;
	return 0;
}

static void
rm_rf(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char p[1200];

	if (d == NULL) {
		unlink(path);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		rm_rf(p);
	}
	closedir(d);
	rmdir(path);
}

static int
mb_teardown(void **state)
{
	struct mbfix *f = *state;

	store_close(f->s);
	rm_rf(f->dir);
	free(f);
	return 0;
}

/* Files in Maildir/<sub>; the content of the last one (sorted) into last. */
static int
count_files(const char *md, const char *sub, struct buf *last)
{
	char p[1200];
	DIR *d;
	struct dirent *de;
	int n = 0;
	char best[512] = "";

	snprintf(p, sizeof(p), "%s/%s", md, sub);
	d = opendir(p);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		if (strcmp(de->d_name, best) > 0)
			snprintf(best, sizeof(best), "%s", de->d_name);
	}
	closedir(d);
	if (last && n) {
		FILE *fp;
		char chunk[4096];
		size_t got;

		snprintf(p, sizeof(p), "%s/%s/%s", md, sub, best);
		fp = fopen(p, "rb");
		buf_reset(last);
		while (fp && (got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
			buf_append(last, chunk, got);
		if (fp)
			fclose(fp);
	}
	return n;
}

static void
deliver_one(struct lmtp_mailbox *mb, const char *msg, size_t nrcpts, struct lmtp_reply *r)
{
	static const char *const rcpts[] = { "postmaster@rcpt.example", "tlsrpt@rcpt.example" };
	struct lmtp_delivery d = {
		.sender = "bounce@sender.example",
		.rcpts = rcpts,
		.nrcpts = nrcpts,
		.message = span_make(msg, strlen(msg)),
	};

	memset(r, 0, 2 * sizeof(*r));
	lmtp_mailbox_deliver(mb, &d, r);
}

#define EXPECT_REPLY(r, c, t)                                                                      \
	do {                                                                                       \
		if ((r).code != (c) || strcmp((r).text, (t)) != 0)                                 \
			fail_msg("line %d: got %d %s, want %d %s", __LINE__, (r).code, (r).text,   \
			         (c), (t));                                                        \
	} while (0)

static void
test_mailbox(void **state)
{
	struct mbfix *f = *state;
	struct lmtp_mailbox mb = {
		.in = &f->in, .maildir = f->md, .forward = true, .hostname = "h"
	};
	struct lmtp_reply r[2];
	struct err e = { 0 };
	struct buf last, want;

	buf_init(&last, 1 << 20);
	buf_init(&want, 1 << 20);
	assert_int_equal(lmtp_maildir_prepare(f->md, &e), 0);
	assert_int_equal(count_files(f->md, "cur", NULL), 0);

	/* forward: stored and kept, one reply per recipient, Return-Path first */
	deliver_one(&mb, report_msg, 2, r);
	EXPECT_REPLY(r[0], 250, "2.0.0 Ok: 1 stored, 0 duplicates; delivered to the mailbox");
	EXPECT_REPLY(r[1], 250, "2.0.0 Ok: 1 stored, 0 duplicates; delivered to the mailbox");
	assert_int_equal(count_files(f->md, "new", &last), 1);
	assert_int_equal(count_files(f->md, "tmp", NULL), 0);
	buf_printf(&want, "Return-Path: <bounce@sender.example>\r\n%s", report_msg);
	expect_bytes("maildir", "file", last.data, last.len, want.data, want.len);

	/* the same report again: a duplicate, kept again */
	deliver_one(&mb, report_msg, 1, r);
	EXPECT_REPLY(r[0], 250, "2.0.0 Ok: 0 stored, 1 duplicate; delivered to the mailbox");
	assert_int_equal(count_files(f->md, "new", NULL), 2);

	/* not a report: kept whatever forward says */
	mb.forward = false;
	deliver_one(&mb, plain_msg, 1, r);
	EXPECT_REPLY(r[0], 250, "2.0.0 Ok: not a report; delivered to the mailbox");
	assert_int_equal(count_files(f->md, "new", NULL), 3);

	/* forward = false: a report is only analysed */
	deliver_one(&mb, report_msg, 1, r);
	EXPECT_REPLY(r[0], 250, "2.0.0 Ok: 0 stored, 1 duplicate");
	assert_int_equal(count_files(f->md, "new", NULL), 3);
	assert_int_equal(count_files(f->md, "tmp", NULL), 0);

	/* reject-non-reports: 554 5.6.0, nothing kept */
	mb.reject_non_reports = true;
	deliver_one(&mb, plain_msg, 2, r);
	EXPECT_REPLY(r[0], 554, "5.6.0 Error: not a TLS report: no TLS report found in message");
	EXPECT_REPLY(r[1], 554, "5.6.0 Error: not a TLS report: no TLS report found in message");
	assert_int_equal(count_files(f->md, "new", NULL), 3);
	assert_int_equal(count_files(f->md, "tmp", NULL), 0);

	/* no Maildir: a non-report is discarded */
	mb.reject_non_reports = false;
	mb.maildir = NULL;
	deliver_one(&mb, plain_msg, 1, r);
	EXPECT_REPLY(r[0], 250, "2.0.0 Ok: not a report; discarded");

	/* a Maildir that cannot be written: 451 4.3.0, the MTA retries */
	snprintf(f->md + strlen(f->md), sizeof(f->md) - strlen(f->md), "/missing");
	mb.maildir = f->md;
	deliver_one(&mb, report_msg, 1, r);
	EXPECT_REPLY(r[0], 451, "4.3.0 Error: cannot write to the mailbox, try again later");

	/* prepare refuses what cannot be a Maildir */
	assert_int_equal(lmtp_maildir_prepare(f->db, &e), ERR_IO);
	buf_clear(&last);
	buf_clear(&want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transcripts),
		cmocka_unit_test(test_line_limits),
		cmocka_unit_test(test_ten_thousand_rcpts),
		cmocka_unit_test(test_timeout_shutdown),
		cmocka_unit_test(test_address_match),
		cmocka_unit_test_setup_teardown(test_mailbox, mb_setup, mb_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
