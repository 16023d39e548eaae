/*
 * dkim.h - DKIM (RFC 6376) signing and verification on OpenSSL 3 EVP, with the RFC 8460
 * rules for TLS reports: rsa-sha256 and ed25519-sha256 (RFC 8463), no l=, key service
 * type s= must allow tlsrpt (absent s= is acceptable), d= aligned with the reporting
 * domain.
 *
 * The prefix is mdkim_ ("mail DKIM") because dkim_ belongs to libopendkim.  Pure code:
 * key records come from a caller-supplied lookup callback; keys are given as PEM text.
 * All functions are thread-safe on distinct objects; a struct mdkim_key may be shared by
 * threads for signing (it is only read).
 */
#ifndef TLSRPTD_MAIL_DKIM_H
#define TLSRPTD_MAIL_DKIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mail/mime.h"
#include "mail/orgdomain.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/span.h"

enum mdkim_canon { MDKIM_SIMPLE = 0, MDKIM_RELAXED = 1 };
enum mdkim_alg { MDKIM_RSA_SHA256 = 1, MDKIM_ED25519_SHA256 = 2 };

/* "rsa-sha256" / "ed25519-sha256". */
const char *mdkim_alg_name(enum mdkim_alg a);

/* ------------------------------------------------------------ canonicalization (3.4) */

/*
 * Appends the canonical form of one header field (raw: name ":" value and its line
 * ending, as in struct mime_header.raw) to out, ending in CRLF.  Bare LF line endings
 * are read as CRLF.  Returns 0 or BUF_ETOOBIG.
 */
int mdkim_canon_header(enum mdkim_canon c, struct span raw, struct buf *out);

/* Appends the canonical body (RFC 6376 3.4.3 / 3.4.4) to out.  Returns 0 or BUF_ETOOBIG. */
int mdkim_canon_body(enum mdkim_canon c, struct span body, struct buf *out);

/* SHA-256 of the canonical body, streamed (no copy of the body).  Returns 0 or ERR_BADSTATE. */
int mdkim_body_hash(enum mdkim_canon c, struct span body, unsigned char out[32]);

/* ------------------------------------------------------------ tag lists (3.2) */

#define MDKIM_MAX_TAGS 32

struct mdkim_tag {
	struct span name;  /* the tag name */
	struct span value; /* the value without surrounding FWS */
	struct span raw;   /* everything between '=' and the next ';' (or the end) */
};

struct mdkim_tags {
	struct mdkim_tag t[MDKIM_MAX_TAGS];
	size_t n;
};

/*
 * Parses a tag-list (spans point into text).  Rejects duplicate tags, bad tag names,
 * values with characters outside VALCHAR / FWS, and more than MDKIM_MAX_TAGS tags.
 * Empty tag-specs (";;", a trailing ";") are ignored.  Returns 0 or ERR_INVALID.
 */
int mdkim_tags_parse(struct span text, struct mdkim_tags *out, struct err *e);

/* The tag named name, or NULL. */
const struct mdkim_tag *mdkim_tags_get(const struct mdkim_tags *t, const char *name);

/* ------------------------------------------------------------ signatures and keys */

#define MDKIM_MAX_H 64
#define MDKIM_MAX_SIG 1024 /* bytes of b=: RSA up to 8192 bits */

struct mdkim_sig {
	enum mdkim_alg alg;
	enum mdkim_canon hc, bc;
	char d[254];                /* lower-case signing domain */
	char s[64];                 /* selector */
	struct span h[MDKIM_MAX_H]; /* signed header names, in order (spans into the value) */
	size_t nh;
	unsigned char bh[64];
	size_t bh_len;
	unsigned char b[MDKIM_MAX_SIG];
	size_t b_len;
	int64_t t, x;
	bool has_t, has_x, has_l;
	struct span b_raw; /* the raw b= value inside the field value (blanked for hashing) */
};

/*
 * Parses and checks a DKIM-Signature field value (after the colon): v=1, a=, b=, bh=,
 * d=, s=, h= containing from, c=, q=, i= within d=, t=, x= >= t.  l= is parsed and
 * flagged (has_l), not rejected: the verifier decides.  Returns 0 or ERR_INVALID with the
 * reason in e ("DKIM-Signature: missing required tag bh=").
 */
int mdkim_sig_parse(struct span value, struct mdkim_sig *out, struct err *e);

struct mdkim_keyrec {
	enum mdkim_alg k;      /* from k= (rsa default) */
	bool revoked;          /* p= empty */
	bool service_ok;       /* s= absent, or lists "*" or "tlsrpt" */
	bool sha256_ok;        /* h= absent or lists sha256 */
	bool testing;          /* t=y */
	unsigned char p[2048]; /* decoded public key */
	size_t plen;
};

/*
 * Parses a DKIM key record ("v=DKIM1; k=ed25519; p=...").  Returns 0 or ERR_INVALID
 * (bad syntax, v= not DKIM1, unknown k=, p= not base64).
 */
int mdkim_keyrec_parse(struct span txt, struct mdkim_keyrec *out, struct err *e);

/* ------------------------------------------------------------ verification */

enum mdkim_result {
	MDKIM_PASS = 0,
	MDKIM_FAIL,      /* body hash or signature mismatch */
	MDKIM_NEUTRAL,   /* failed, but the key is in testing mode (t=y) */
	MDKIM_TEMPERROR, /* key lookup failed temporarily */
	MDKIM_PERMERROR, /* signature or key unusable: syntax, l=, s=, revoked, expired, ... */
};

/* "pass", "fail", "neutral", "temperror", "permerror". */
const char *mdkim_result_name(enum mdkim_result r);

struct mdkim_verdict {
	enum mdkim_result result;
	enum mdkim_alg alg; /* 0 when the signature could not be parsed */
	char domain[254];   /* d=, "" when unparsable */
	char selector[64];  /* s= */
	char reason[256];   /* human reason, "" for pass */
};

/*
 * Fetches the key record TXT for selector._domainkey.domain into txt_out (several
 * strings of one record concatenated).  Returns 0, ERR_NOTFOUND (no such record) or
 * another negative code for a temporary failure (ERR_AGAIN).
 */
typedef int (*mdkim_key_lookup_fn)(void *ctx, const char *selector, const char *domain,
                                   struct buf *txt_out, struct err *e);

struct mdkim_verify_opts {
	mdkim_key_lookup_fn lookup;
	void *ctx;
	int64_t now;     /* for x= expiry; negative skips the check */
	size_t max_sigs; /* signatures examined; 0 means 8 */
};

/*
 * Verifies every DKIM-Signature of message m (parsed with mime_parse; its raw bytes are
 * hashed).  *out receives *n verdicts in header order (0 when unsigned); the caller frees
 * *out with free().  Returns 0 (the verdicts say the rest).
 */
int mdkim_verify(const struct mime_msg *m, const struct mdkim_verify_opts *o,
                 struct mdkim_verdict **out, size_t *n, struct err *e);

/*
 * Whether signing domain d aligns with domain (the TLS-Report-Submitter or contact-info
 * domain): equal, or the same organisational domain under psl (NULL psl: last two
 * labels, see orgdomain.h).  Case-insensitive; a trailing dot is ignored.
 */
bool mdkim_aligned(const struct orgdomain_psl *psl, const char *d, const char *domain);

/* ------------------------------------------------------------ keys and signing */

struct mdkim_key; /* opaque private key */

/*
 * Loads a private key from PEM text (PKCS#8 "PRIVATE KEY" or traditional "RSA PRIVATE
 * KEY"); RSA keys must have at least 1024 bits.  *out is freed with mdkim_key_free().
 * Returns 0 or ERR_INVALID.
 */
int mdkim_key_from_pem(struct span pem, struct mdkim_key **out, struct err *e);
void mdkim_key_free(struct mdkim_key *k);
enum mdkim_alg mdkim_key_alg(const struct mdkim_key *k);

/* Generates a key (bits only for RSA: 1024..8192, 0 means 2048).  Returns 0 or ERR_INVALID. */
int mdkim_key_generate(enum mdkim_alg alg, unsigned bits, struct mdkim_key **out, struct err *e);

/* Appends the PKCS#8 PEM of the private key to out.  Returns 0 or an error. */
int mdkim_key_pem(const struct mdkim_key *k, struct buf *out, struct err *e);

/* Appends the DNS TXT record text "v=DKIM1; k=ed25519; p=..." (k=rsa for RSA) to out. */
int mdkim_key_dns_record(const struct mdkim_key *k, struct buf *out, struct err *e);

/* The signed header fields used when mdkim_sign_opts.headers is NULL. */
extern const char *const mdkim_default_headers[];

struct mdkim_sign_opts {
	const char *domain;         /* d= */
	const char *selector;       /* s= */
	const char *const *headers; /* NULL-terminated names; NULL = mdkim_default_headers */
	enum mdkim_canon hc, bc;    /* c= header / body */
	int64_t t;                  /* t= signing time; negative omits t= (and x=) */
	int64_t expire;             /* x= t + expire when > 0 */
};

/*
 * Signs the message msg (header fields, blank line, body; CRLF or LF) and appends the
 * folded "DKIM-Signature: ...\r\n" field to out, to be prepended to the message.  Each
 * listed header is signed once per occurrence and at least once (a missing header is
 * signed as absent, so adding it later breaks the signature); "from" is always signed.
 * Returns 0, ERR_INVALID (bad options or message) or BUF_ETOOBIG.
 */
int mdkim_sign(const struct mdkim_key *k, const struct mdkim_sign_opts *o, struct span msg,
               struct buf *out, struct err *e);

#endif
