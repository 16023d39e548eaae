/*
 * signers.h - the DKIM signers of report mail ([signature.<id>] blocks, RFC 6376 with
 * RFC 8460 section 5.3 / RFC 8463), loaded once at start.
 *
 * Every [signature.<id>] block is loaded by signers_load(): a key that does not load or
 * whose type differs from `algorithm` is a configuration error at start.  The ids named
 * by report.tls.aggregate.sign must all exist when that key is set in the file; with the
 * default value ids that do not exist are left out (logged once at start).
 * Threading: loaded before threads start, then only read (shareable).
 */
#ifndef TLSRPTD_OUTBOUND_SIGNERS_H
#define TLSRPTD_OUTBOUND_SIGNERS_H

#include <stdint.h>

#include "config/conf.h"
#include "mail/dkim.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/span.h"

struct signer {
	char *id;
	struct mdkim_key *key;
	struct mdkim_sign_opts opts; /* strings and headers owned by the signer */
	const char **headers;        /* NULL-terminated, owned */
};

struct signers {
	const struct conf *conf; /* borrowed: evaluates `sign` per report domain */
	struct signer *v;
	size_t n;
	bool sign_set; /* report.tls.aggregate.sign given in the file: unknown ids are errors */
};

/*
 * Loads every signer of c into *out (free with signers_free) and checks the ids `sign`
 * names (evaluated with rcpt_domain ""), see above.  c must outlive *out.  Returns 0 or
 * ERR_INVALID with "signature.rsa: ..." / "report.tls.aggregate.sign: unknown signature
 * id 'x'".
 */
int signers_load(const struct conf *c, struct signers *out, struct err *e);
void signers_free(struct signers *s);
/* The signer with id, or NULL. */
const struct signer *signers_find(const struct signers *s, const char *id);

/*
 * Signs msg with every signer `sign` names for domain (the report's policy domain),
 * t= now, and appends one DKIM-Signature field per id, in list order, to out (to be
 * prepended to msg).  *nsig (may be NULL) receives the count.  Returns 0, ERR_INVALID
 * (unknown id when `sign` is set, signing failure) or BUF_ETOOBIG.
 */
int signers_sign(const struct signers *s, const char *domain, int64_t now, struct span msg,
                 struct buf *out, size_t *nsig, struct err *e);

#endif
