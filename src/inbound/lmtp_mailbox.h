/*
 * lmtp_mailbox.h - what the LMTP listener does with a message: analyse it as a TLS report
 * (ingest.h, channel "mail") and, per report.analysis.forward, keep it in a Maildir.
 *
 * Semantics (docs/inbound.md, "LMTP"):
 *   - a report is stored (or counted as a duplicate sighting); when forward is true it is
 *     also written to the Maildir: 250 2.0.0.
 *   - not a report: 554 5.6.0 when reject_non_reports; else written to the Maildir when
 *     one is configured (whatever forward says: forward is about report mail, and a
 *     person's mail to postmaster must not be lost), else discarded with a warning: 250.
 *   - the store or the Maildir failing: 451 4.3.0 and nothing is kept, so the MTA retries.
 * The message is written to tmp/ first and renamed into new/ only once the store has it.
 *
 * Threading: a struct lmtp_mailbox is used by one thread at a time (its ingest's store).
 */
#ifndef TLSRPTD_INBOUND_LMTP_MAILBOX_H
#define TLSRPTD_INBOUND_LMTP_MAILBOX_H

#include <stdbool.h>

#include "inbound/ingest.h"
#include "inbound/lmtp.h"
#include "util/err.h"

struct lmtp_mailbox {
	struct ingest *in;       /* borrowed; required */
	const char *maildir;     /* borrowed; NULL or "": no Maildir */
	bool forward;            /* report mail is also kept in the Maildir */
	bool reject_non_reports; /* 554 for mail that holds no report */
	const char *hostname;    /* in Maildir file names; NULL: "localhost" */
};

/*
 * The lmtp_deliver_fn of the listener: ctx is a struct lmtp_mailbox.  Fills one reply per
 * recipient (all the same: the message is analysed and kept once) and logs one line.
 */
void lmtp_mailbox_deliver(void *ctx, const struct lmtp_delivery *d, struct lmtp_reply *replies);

/*
 * Makes sure dir and its tmp/, new/ and cur/ exist (creating them, mode 0700) and are
 * writable.  Returns 0, or ERR_IO with a message naming the folder.
 */
int lmtp_maildir_prepare(const char *dir, struct err *e);

#endif
