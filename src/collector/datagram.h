/*
 * datagram.h - decoder for libtlsrpt datagrams (dpv 1) and our extension keys.
 *
 * One datagram is one JSON object describing the TLS outcome of one delivery request
 * (../shared/spec/libtlsrpt-datagram.md).  The decoder is hand-written for this shape:
 * it allocates nothing per datagram, decodes into a caller-owned struct datagram whose
 * string spans point into the decoder's scratch buffer, and rejects anything above its
 * caps.  Unknown keys are skipped (forward compatible).
 *
 * Non-UTF-8 rule: libtlsrpt copies bytes >= 0x80 raw, so a Latin-1 EHLO banner yields
 * invalid UTF-8 in "h".  In the free-text fields of a failure detail ("h", "a", "f")
 * every invalid byte (and U+0000) is replaced by U+FFFD and the datagram stays
 * countable; invalid UTF-8 or U+0000 in any other string (domain, record, policy,
 * mx, ip, hostname) rejects the datagram with DG_REJECT_UTF8.
 *
 * Threading: a struct datagram_decoder is used by one thread at a time.
 */
#ifndef TLSRPTD_COLLECTOR_DATAGRAM_H
#define TLSRPTD_COLLECTOR_DATAGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/span.h"

/* Caps of one datagram. */
enum {
	DG_MAX_SIZE = 65536,  /* bytes; larger datagrams are rejected as oversize */
	DG_MAX_POLICIES = 16, /* policies per datagram */
	DG_MAX_DETAILS = 64,  /* failure details per datagram (all policies) */
	DG_MAX_STRINGS = 256, /* policy-string + mx-host entries per datagram */
	DG_MAX_DEPTH = 16,    /* nesting of skipped unknown values */
};

/* Why a datagram was rejected.  DG_OK is not a rejection. */
enum dg_reject {
	DG_OK = 0,
	DG_REJECT_EMPTY,       /* zero bytes (or only white space) */
	DG_REJECT_OVERSIZE,    /* above DG_MAX_SIZE */
	DG_REJECT_SYNTAX,      /* not JSON */
	DG_REJECT_NOT_OBJECT,  /* top level is not an object */
	DG_REJECT_TYPE,        /* a known key has a value of the wrong type */
	DG_REJECT_MISSING,     /* d, pr, policies or policy-type missing, or empty d */
	DG_REJECT_DPV,         /* dpv other than 1 */
	DG_REJECT_POLICY_TYPE, /* policy-type not 1, 2 or 9 */
	DG_REJECT_RESULT,      /* failure-detail result code unknown */
	DG_REJECT_UTF8,        /* invalid UTF-8 outside the free-text fields */
	DG_REJECT_CAPS,        /* too many policies, details or strings */
	DG_REJECT_DUPLICATE,   /* a key that holds a list appears twice */
	DG_REJECT_COUNT_       /* number of values */
};

/* Stable lower-case name of a reason ("syntax", "oversize", ...) for logs and metrics. */
const char *datagram_reject_name(enum dg_reject r);

/* Policy types as libtlsrpt numbers them. */
enum dg_policy_type {
	DG_POLICY_TLSA = 1,
	DG_POLICY_STS = 2,
	DG_POLICY_NONE = 9, /* no-policy-found */
};

/* RFC 8460 policy-type string for a libtlsrpt number ("tlsa", "sts", "no-policy-found"). */
const char *datagram_policy_type_name(int type);
/* RFC 8460 result-type for a libtlsrpt code (201 -> "starttls-not-supported"), or NULL. */
const char *datagram_result_name(int code);
/* The libtlsrpt code of an RFC 8460 result-type name, or 0. */
int datagram_result_code(struct span name);

/* Optional string fields of a failure detail, in RFC 8460 order. */
enum dg_field {
	DG_F_SENDING_IP = 0, /* "s" sending-mta-ip */
	DG_F_RECEIVING_MX,   /* "n" receiving-mx-hostname */
	DG_F_HELO,           /* "h" receiving-mx-helo (free text) */
	DG_F_RECEIVING_IP,   /* "r" receiving-ip */
	DG_F_ADDITIONAL,     /* "a" additional-information (free text) */
	DG_F_REASON,         /* "f" failure-reason-code (free text) */
	DG_F_COUNT_
};

/* RFC 8460 key of a field ("sending-mta-ip", ...). */
const char *datagram_field_name(enum dg_field f);

struct dg_detail {
	int code;                       /* libtlsrpt result code, known */
	struct span field[DG_F_COUNT_]; /* p == NULL when absent */
};

struct dg_policy {
	int type;              /* enum dg_policy_type */
	struct span domain;    /* policy-domain; defaulted to the datagram's d */
	unsigned first_string; /* index into datagram.strings */
	unsigned nstrings;
	unsigned first_mx; /* index into datagram.strings */
	unsigned nmx;
	unsigned first_detail; /* index into datagram.details */
	unsigned ndetails;
	bool failed; /* "f":1 (missing "f": failed when it has failure details) */
};

struct datagram {
	struct span domain; /* d: lower-cased, one trailing dot removed */
	struct span record; /* pr: the raw TLSRPT record */
	int64_t ts;         /* our extension: event time (Unix seconds), when has_ts */
	bool has_ts;
	bool report_delivery; /* our extension "rpt":1: a delivery that carried a report */
	unsigned npolicies;
	unsigned ndetails;
	unsigned nstrings;
	struct dg_policy policy[DG_MAX_POLICIES];
	struct dg_detail detail[DG_MAX_DETAILS];
	struct span strings[DG_MAX_STRINGS];
};

/*
 * Decoder state: the scratch buffer that decoded strings are written to.  Spans in a
 * struct datagram stay valid until the next datagram_decode() with the same decoder.
 */
struct datagram_decoder {
	char *scratch;
	size_t cap;
	size_t used;
};

/* Allocates the scratch buffer (sized for DG_MAX_SIZE).  datagram_decoder_clear() frees it. */
void datagram_decoder_init(struct datagram_decoder *d);
void datagram_decoder_clear(struct datagram_decoder *d);

/*
 * Decodes the datagram p[0..len) into *out.  Returns DG_OK or the reason the datagram
 * is rejected (then *out is unspecified).  Never aborts on any input.
 */
enum dg_reject datagram_decode(struct datagram_decoder *d, const char *p, size_t len,
                               struct datagram *out);

#endif
