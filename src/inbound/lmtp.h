/*
 * lmtp.h - the server side of LMTP (RFC 2033) as a protocol state machine, without I/O.
 *
 * The caller reads bytes from a client and hands them to lmtp_feed(); the session appends
 * every reply to an output buffer that the caller writes back.  A complete message is
 * handed to the delivery callback, which returns one reply per accepted recipient
 * (RFC 2033 section 4.2).  Keeping sockets out makes the protocol testable byte for
 * byte and fuzzable.
 *
 * Threading: a session is used by one thread at a time.  lmtp_address_match() is pure.
 */
#ifndef TLSRPTD_INBOUND_LMTP_H
#define TLSRPTD_INBOUND_LMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/span.h"

/* RFC 5321 section 4.5.3.1: limits including the CRLF. */
enum {
	LMTP_COMMAND_LINE_MAX = 512,
	LMTP_TEXT_LINE_MAX = 1000,
	LMTP_PATH_MAX = 256,
};

/* Defaults used when an option is 0. */
#define LMTP_DEFAULT_MAX_MESSAGE ((size_t)10 * 1024 * 1024)
#define LMTP_DEFAULT_MAX_RECIPIENTS 100
#define LMTP_DEFAULT_MAX_COMMANDS 1000

/* One reply to one recipient: code 2xx/4xx/5xx and the text after the code. */
struct lmtp_reply {
	int code;       /* 250, 451, 552, 554, ... */
	char text[256]; /* "2.0.0 Ok: stored" (with the enhanced status code, no CRLF) */
};

/* A complete message handed to the delivery callback; everything is borrowed. */
struct lmtp_delivery {
	const char *sender;       /* the reverse-path without <>; "" for the null path */
	const char *const *rcpts; /* accepted recipients, as given (without <>) */
	size_t nrcpts;
	struct span message; /* the message, dot-unstuffed, CRLF as received */
};

/*
 * Delivers one message: fills replies[0..d->nrcpts) (one per recipient, in order).
 * Called from lmtp_feed() on the caller's thread.
 */
typedef void (*lmtp_deliver_fn)(void *ctx, const struct lmtp_delivery *d,
                                struct lmtp_reply *replies);

struct lmtp_opts {
	const char *hostname;         /* in the greeting and replies; NULL: "localhost" */
	size_t max_message;           /* DATA cap in bytes (unstuffed); 0: 10 MiB */
	size_t max_recipients;        /* RCPT cap per transaction; 0: 100 */
	size_t max_commands;          /* commands between two delivered messages; 0: 1000 */
	const char *const *addresses; /* recipient patterns accepted (see lmtp_address_match) */
	size_t naddresses;            /* 0: every recipient is rejected */
	lmtp_deliver_fn deliver;      /* required */
	void *deliver_ctx;
};

/* lmtp_feed() results. */
enum { LMTP_OPEN = 0, LMTP_CLOSED = 1 };

struct lmtp_session;

/*
 * A new session; o and the strings and arrays it points to are borrowed and must outlive
 * the session.  Appends the 220 greeting to out.  Free with lmtp_session_free().
 */
struct lmtp_session *lmtp_session_new(const struct lmtp_opts *o, struct buf *out);
void lmtp_session_free(struct lmtp_session *s);

/*
 * Feeds n bytes the client sent.  Every complete line is processed in order (pipelining)
 * and its replies appended to out; a partial line waits for the next call.  Returns
 * LMTP_CLOSED once the session is over (QUIT, too many commands, an oversized DATA that
 * does not end): the caller writes out and closes; later input is ignored.
 * Replies that do not fit out (its max) are dropped; give out room for them (64 KiB is
 * plenty per 4 KiB of input).
 */
int lmtp_feed(struct lmtp_session *s, const char *p, size_t n, struct buf *out);

/* The client was idle too long: appends the 421 reply and ends the session. */
void lmtp_timeout(struct lmtp_session *s, struct buf *out);

/* The server is stopping: appends the 421 reply and ends the session. */
void lmtp_shutdown(struct lmtp_session *s, struct buf *out);

/* True while the session is between the 354 and the end of the message. */
bool lmtp_in_data(const struct lmtp_session *s);

/*
 * True when addr matches one of patterns[0..n): glob patterns with `*` (any run of
 * characters, possibly empty) and `?` (one character), ASCII case-insensitive, matched
 * against the whole address: "postmaster@*", "tlsrpt@example.com",
 * "*@reports.example.com".  An address without '@' ("postmaster", RFC 5321 section
 * 4.5.1) is matched as addr@hostname.
 */
bool lmtp_address_match(const char *const *patterns, size_t n, const char *addr,
                        const char *hostname);

#endif
