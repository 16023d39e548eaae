/*
 * dns.h - DNS lookups for report delivery: TXT, MX, A/AAAA, TLSA over libunbound.
 *
 * A struct dns wraps one resolver context and a small positive + negative answer cache
 * whose expiry follows an injectable clock.  Every answer carries the rcode, the DNSSEC
 * verdict (secure / insecure / bogus) and the TTL it may be cached for.
 *
 * Modes (struct dns_opts.mode):
 *   DNS_MODE_FORWARD  the system resolvers of /etc/resolv.conf as forwarders plus
 *                     /etc/hosts (the default).  DNSSEC verdicts need a trust anchor
 *                     (opts.trust_anchor_file) and a resolver that passes DNSSEC data.
 *   DNS_MODE_RECURSIVE full recursion from the root, validating with the root trust
 *                     anchor (default /usr/share/dns/root.key from dns-root-data).
 *   DNS_MODE_LOCAL    nothing ever leaves the process: no forwarders, no root hints, a
 *                     static local zone "." so every name that was not loaded with
 *                     dns_add_local_data() is NXDOMAIN at once.  For tests and for
 *                     `tlsrpt` commands run against a zone file.
 *
 * Threading: one struct dns may be shared by several threads once it is set up
 * (dns_new() and dns_add_local_*() before the threads start).  libunbound lets several
 * threads resolve blocking on one context; our cache is behind a mutex.  Answers
 * handed out are the caller's own copies.
 */
#ifndef TLSRPTD_NET_DNS_H
#define TLSRPTD_NET_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/clock.h"
#include "util/err.h"
#include "util/span.h"

/* Query types we ask for (the DNS type codes). */
enum dns_type {
	DNS_TYPE_A = 1,
	DNS_TYPE_MX = 15,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_TLSA = 52,
};

/* Response codes we name (RFC 1035 section 4.1.1); others are passed through. */
enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
};

enum dns_sec {
	DNS_SEC_INSECURE = 0, /* no validation, or provably unsigned */
	DNS_SEC_SECURE = 1,   /* validated up to the trust anchor */
	DNS_SEC_BOGUS = 2,    /* validation failed: data must not be used */
};

enum dns_mode {
	DNS_MODE_FORWARD = 0,
	DNS_MODE_RECURSIVE = 1,
	DNS_MODE_LOCAL = 2,
};

/* Module error codes (below -100, see util/err.h). */
enum {
	DNS_ETEMP = -101,  /* SERVFAIL, timeout, resolver error: try again later */
	DNS_EBOGUS = -102, /* DNSSEC validation failed */
};

#define DNS_NAME_MAX 256 /* presentation form of a name, with NUL */

struct dns_opts {
	enum dns_mode mode;
	const char *resolv_conf;       /* FORWARD: NULL = /etc/resolv.conf */
	const char *hosts_file;        /* FORWARD: NULL = /etc/hosts, "" = none */
	const char *trust_anchor_file; /* RECURSIVE: NULL = /usr/share/dns/root.key;
					  FORWARD: NULL = no validation */
	const struct clock *clock;     /* cache expiry; NULL = real clock */
	size_t cache_max;              /* answers kept; 0 = no cache */
	uint32_t min_ttl;              /* clamps for cached answers (seconds) */
	uint32_t max_ttl;              /* 0 = no upper clamp */
	uint32_t negative_ttl;         /* NXDOMAIN / no-data without a TTL of its own */
	uint32_t negative_max_ttl;     /* cap for negative answers; 0 = max_ttl */
};

/* Fills o with the defaults: FORWARD, cache of 4096 answers, ttl 5 s .. 1 day,
 * negative 300 s, negative cap 1 hour, real clock. */
void dns_opts_default(struct dns_opts *o);

/* One TXT record: its character-strings kept apart and joined (RFC 7208 3.3 /
 * RFC 8460 3: "concatenated together without adding spaces").  Strings may hold any
 * byte, NUL included; each is also NUL-terminated one past its length. */
struct dns_txt {
	size_t nstrings;
	struct span *strings;
	struct span joined;
};

struct dns_mx {
	uint16_t preference;
	char host[DNS_NAME_MAX]; /* lower case, no trailing dot; "" for the root "." */
};

struct dns_addr {
	int family;    /* AF_INET or AF_INET6 */
	char text[46]; /* inet_ntop form */
};

struct dns_tlsa {
	uint8_t usage;
	uint8_t selector;
	uint8_t mtype;
	size_t len;
	unsigned char *data;
};

/*
 * One answer.  Exactly one of the arrays is used, according to type; n counts its
 * entries.  MX entries are sorted by preference (then host name).  null_mx is true
 * when the MX RRset is the RFC 7505 null MX (a single "0 .").
 */
struct dns_answer {
	char qname[DNS_NAME_MAX]; /* as asked, lower case, no trailing dot */
	enum dns_type type;
	int rcode;
	enum dns_sec sec;
	uint32_t ttl;    /* seconds the answer may be kept (after clamps) */
	bool from_cache; /* served from our cache */
	bool null_mx;
	char why_bogus[160]; /* libunbound's reason when sec == DNS_SEC_BOGUS */
	size_t n;
	struct dns_txt *txt;
	struct dns_mx *mx;
	struct dns_addr *addr;
	struct dns_tlsa *tlsa;
};

/* Creates a resolver per opts (copied; the clock is borrowed and must outlive dns).
 * Returns NULL and fills e on failure (unreadable resolv.conf or trust anchor, ...). */
struct dns *dns_new(const struct dns_opts *opts, struct err *e);
void dns_free(struct dns *dns);

/*
 * Local zone data, for DNS_MODE_LOCAL (works in every mode, before the first lookup):
 * dns_add_local_zone(dns, "example.com", "static") makes unknown names below it
 * NXDOMAIN; dns_add_local_data(dns, "_smtp._tls.example.com. 300 IN TXT \"v=...\"")
 * adds one record in zone-file form.  Return 0 or ERR_INVALID with libunbound's reason.
 */
int dns_add_local_zone(struct dns *dns, const char *zone, const char *type, struct err *e);
int dns_add_local_data(struct dns *dns, const char *rr, struct err *e);
/*
 * Adds every record of a file in zone-file form, one per line ("name ttl IN type data");
 * blank lines and lines starting with '#' or ';' are skipped.  Returns 0, or an error
 * whose message starts with "path:line: " (or "path: " when the file cannot be read).
 */
int dns_add_local_file(struct dns *dns, const char *path, struct err *e);

/*
 * Looks up name (with or without the trailing dot) for type.  On return 0 *out is a
 * new answer (caller frees with dns_answer_free()) whose rcode may be NOERROR with
 * n == 0 (no data) or NXDOMAIN: both are answers, not errors.  Returns DNS_ETEMP for
 * SERVFAIL / timeouts / resolver failures and DNS_EBOGUS for DNSSEC failures; *out is
 * then still set (rcode, sec, why_bogus filled, n == 0).  ERR_INVALID for a name that
 * is not a domain name (*out NULL).
 */
int dns_lookup(struct dns *dns, const char *name, enum dns_type type, struct dns_answer **out,
               struct err *e);
void dns_answer_free(struct dns_answer *a);

/*
 * The RDATA parser of dns_lookup() on its own, for tests and fuzzing: builds a NOERROR
 * answer of type from n records in wire form (rdata[i] borrowed for the call only).
 * Malformed records are skipped (n of the answer counts the good ones); names must be
 * uncompressed, as libunbound hands them out.  Caller frees with dns_answer_free().
 */
struct dns_answer *dns_answer_from_rdata(const char *qname, enum dns_type type,
                                         const struct span *rdata, size_t n);

/* Drops every cached answer. */
void dns_cache_flush(struct dns *dns);
/* Number of answers in the cache (for tests and metrics). */
size_t dns_cache_count(struct dns *dns);

/* "NOERROR", "NXDOMAIN", ... or "RCODE<n>" for others (static string / buffer). */
const char *dns_rcode_name(int rcode);
const char *dns_sec_name(enum dns_sec sec);

#endif
