/*
 * orgdomain.h - organisational domains from the Public Suffix List, for DKIM d=
 * alignment (the same idea as DMARC, RFC 7489 section 3.2).
 *
 * The caller reads the list (Debian: /usr/share/publicsuffix/public_suffix_list.dat,
 * package publicsuffix) and hands its text to orgdomain_psl_parse(); this module does
 * no I/O.  Without a list (psl == NULL) the organisational domain is the last two
 * labels, which is wrong for suffixes like co.uk: load the list in production.
 * Rules are compared as written; the list's Unicode rules therefore only match U-label
 * names, and names are expected in A-label (ASCII) form.  A parsed list is immutable and
 * may be shared by threads.
 */
#ifndef TLSRPTD_MAIL_ORGDOMAIN_H
#define TLSRPTD_MAIL_ORGDOMAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"
#include "util/span.h"

#define ORGDOMAIN_PSL_PATH "/usr/share/publicsuffix/public_suffix_list.dat"

struct orgdomain_psl;

/*
 * Parses the Public Suffix List format (rules, "*." wildcards, "!" exceptions, "//"
 * comments).  Caps: 200000 rules, 253 bytes per rule.  *out is freed with
 * orgdomain_psl_free().  Returns 0 or ERR_INVALID / ERR_TOOBIG.
 */
int orgdomain_psl_parse(struct span text, struct orgdomain_psl **out, struct err *e);
void orgdomain_psl_free(struct orgdomain_psl *p);
size_t orgdomain_psl_count(const struct orgdomain_psl *p);

/*
 * Writes the lower-case organisational domain of name to out[0..cap): the public suffix
 * plus one label (the name itself when it is a public suffix or has one label).
 * Returns 0, or ERR_INVALID for an empty or over-long name.
 */
int orgdomain_get(const struct orgdomain_psl *psl, const char *name, char *out, size_t cap);

/* Whether a and b are equal or share their organisational domain (case-insensitive). */
bool orgdomain_aligned(const struct orgdomain_psl *psl, const char *a, const char *b);

#endif
