/*
 * imap_client.h - the IMAP4rev1 commands `tlsrpt fetch` needs, over libcurl.
 *
 * One struct imap is one logged-in connection to one mailbox (libcurl keeps the
 * connection between calls): list the UIDs of unseen messages, ask a message's size,
 * fetch it whole, set or clear \Seen, move it to another mailbox (UID MOVE, or COPY +
 * \Deleted + EXPUNGE where MOVE is refused).  The untagged responses of SEARCH and
 * FETCH are parsed by imap_parse_search() / imap_parse_size(), pure functions with caps
 * (fuzzed: tests/fuzz/fuzz_imap.c).
 *
 * Call net_global_init() (net/net_curl.h) once from main() first.
 * Threading: a struct imap is used by one thread at a time.
 */
#ifndef TLSRPTD_NET_IMAP_CLIENT_H
#define TLSRPTD_NET_IMAP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/span.h"

struct imap;

struct imap_opts {
	const char *url;      /* imaps://user@host[:port]/MAILBOX or imap://...; required */
	const char *password; /* borrowed; never logged */
	bool starttls;        /* imap://: require STARTTLS (refuse to log in without TLS) */
	bool insecure;        /* do not verify the server certificate */
	const char *ca_file;  /* trust these CAs instead of the system store; NULL = system */
	long timeout_ms;      /* per command; 0 = 120 s (connect: 30 s) */
};

/*
 * Checks the URL (scheme imap or imaps, a user, a mailbox) and prepares a connection;
 * nothing is sent yet.  Returns 0 and *out (free with imap_close), or ERR_INVALID with
 * a message naming what is wrong with the URL.
 */
int imap_open(const struct imap_opts *o, struct imap **out, struct err *e);
/* Logs out and frees (NULL is a no-op). */
void imap_close(struct imap *c);

/*
 * UID SEARCH UNSEEN: fills uids[0..*n) (ascending, at most cap; *more is set when the
 * server listed more).  Returns 0, or ERR_AGAIN (connection, TLS, login, no such
 * mailbox: e says which) .
 */
int imap_search_unseen(struct imap *c, uint32_t *uids, size_t cap, size_t *n, bool *more,
                       struct err *e);
/* UID FETCH uid RFC822.SIZE.  Returns 0 with *size, ERR_NOTFOUND, or ERR_AGAIN. */
int imap_size(struct imap *c, uint32_t uid, uint64_t *size, struct err *e);
/*
 * UID FETCH uid BODY[]: appends the whole message to out (its cap limits the size:
 * ERR_TOOBIG past it).  The server sets \Seen as a side effect.  Returns 0, ERR_TOOBIG
 * or ERR_AGAIN.
 */
int imap_fetch(struct imap *c, uint32_t uid, struct buf *out, struct err *e);
/* UID STORE uid +FLAGS (\Seen) or -FLAGS (\Seen).  Returns 0 or ERR_AGAIN. */
int imap_set_seen(struct imap *c, uint32_t uid, bool seen, struct err *e);
/*
 * Moves message uid to mailbox folder (UID MOVE; when the server refuses it: UID COPY,
 * +FLAGS (\Deleted), UID EXPUNGE or else EXPUNGE).  folder must not contain '"', '\\',
 * CR or LF (ERR_INVALID).  Returns 0, ERR_INVALID or ERR_AGAIN.
 */
int imap_move(struct imap *c, uint32_t uid, const char *folder, struct err *e);

/*
 * Parses the untagged lines of a UID SEARCH answer ("* SEARCH 3 7 9\r\n", possibly over
 * several lines, other untagged lines ignored): stores at most cap UIDs (1..2^32-1) in
 * uids, sets *n to how many were stored and returns how many were listed in total.
 */
size_t imap_parse_search(struct span resp, uint32_t *uids, size_t cap, size_t *n);
/*
 * Finds the FETCH line for uid ("* 4 FETCH (UID 9 RFC822.SIZE 1234)") in resp.
 * Returns 0 with *size, or ERR_NOTFOUND.
 */
int imap_parse_size(struct span resp, uint32_t uid, uint64_t *size);

#endif
