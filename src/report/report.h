/*
 * report.h - the RFC 8460 aggregate report: in-memory model, JSON writer, tolerant
 * reader and strict validator.
 *
 * One struct report is the model for both halves of the system: the outbound side
 * builds one with the constructors below and writes it; the inbound side gets one from
 * report_read().  Every string in the model is owned by the model (constructors copy
 * their inputs) and is NUL-terminated UTF-8; NULL means "member absent".
 *
 * Key order of the writer (stable, documented here because tests compare bytes):
 *   organization-name, date-range{start-datetime, end-datetime}, contact-info,
 *   report-id, policies[{ policy{policy-type, policy-string, policy-domain, mx-host},
 *   summary{total-successful-session-count, total-failure-session-count},
 *   failure-details[{result-type, sending-mta-ip, receiving-mx-hostname,
 *   receiving-mx-helo, receiving-ip, failed-session-count, additional-information,
 *   failure-reason-code}] }]
 * Output is compact (no white space), absent members are omitted (never null or ""),
 * policy-string and mx-host are arrays and are omitted when empty, failure-details is
 * omitted when empty.
 *
 * Not thread-safe per object; distinct reports may be used from distinct threads.
 */
#ifndef TLSRPTD_REPORT_REPORT_H
#define TLSRPTD_REPORT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/window.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/span.h"

struct gzip_writer;

enum report_policy_type {
	REPORT_POLICY_TLSA = 0,
	REPORT_POLICY_STS = 1,
	REPORT_POLICY_NO_POLICY_FOUND = 2,
	REPORT_POLICY_UNKNOWN = 3, /* verbatim name in type_other (NULL: member absent) */
};

/* The 11 result types of the IANA "STARTTLS Validation Result Types" registry. */
enum report_result_type {
	REPORT_RESULT_STARTTLS_NOT_SUPPORTED = 0,
	REPORT_RESULT_CERTIFICATE_HOST_MISMATCH,
	REPORT_RESULT_CERTIFICATE_EXPIRED,
	REPORT_RESULT_CERTIFICATE_NOT_TRUSTED,
	REPORT_RESULT_VALIDATION_FAILURE,
	REPORT_RESULT_TLSA_INVALID,
	REPORT_RESULT_DNSSEC_INVALID,
	REPORT_RESULT_DANE_REQUIRED,
	REPORT_RESULT_STS_POLICY_FETCH_ERROR,
	REPORT_RESULT_STS_POLICY_INVALID,
	REPORT_RESULT_STS_WEBPKI_INVALID,
	REPORT_RESULT_UNKNOWN, /* verbatim name in result_type_other */
	REPORT_RESULT_COUNT_ = REPORT_RESULT_UNKNOWN,
};

struct report_failure {
	enum report_result_type result_type;
	char *result_type_other; /* the verbatim name when result_type is UNKNOWN */
	char *sending_mta_ip;
	char *receiving_mx_hostname;
	char *receiving_mx_helo;
	char *receiving_ip;
	uint64_t failed_session_count;
	char *additional_information;
	char *failure_reason_code;
};

struct report_policy {
	enum report_policy_type type;
	char *type_other; /* the verbatim name when type is UNKNOWN (NULL: absent) */
	char *domain;     /* policy-domain in A-labels; NULL when absent */
	char **strings;   /* policy-string */
	size_t n_strings;
	char **mx_hosts;
	size_t n_mx_hosts;
	uint64_t successful; /* total-successful-session-count */
	uint64_t failed;     /* total-failure-session-count */
	struct report_failure *failures;
	size_t n_failures;
	size_t cap_failures;
};

struct report {
	char *organization_name;
	int64_t start; /* date-range start-datetime, UTC seconds */
	int64_t end;   /* date-range end-datetime, UTC seconds (inclusive last second) */
	char *contact_info;
	char *report_id;
	struct report_policy **policies;
	size_t n_policies;
	size_t cap_policies;
	uint64_t quirks; /* REPORT_QUIRK_* found by report_read(); 0 for built reports */
};

/* ------------------------------------------------------------------ model */

/* Registered names ("tlsa", "starttls-not-supported", ...); NULL for *_UNKNOWN. */
const char *report_policy_type_name(enum report_policy_type t);
const char *report_result_type_name(enum report_result_type t);
/* Name lookups; return *_UNKNOWN for anything unregistered (exact, case-sensitive). */
enum report_policy_type report_policy_type_lookup(struct span s);
enum report_result_type report_result_type_lookup(struct span s);

/*
 * A new report.  Every string is copied; any may be NULL (absent).  Caller frees with
 * report_free().  Never fails (aborts on OOM).
 */
struct report *report_new(const char *organization_name, int64_t start, int64_t end,
                          const char *contact_info, const char *report_id);
/* Frees r and everything it owns; report_free(NULL) is a no-op. */
void report_free(struct report *r);

/*
 * Appends a policy.  type_other is the verbatim type for REPORT_POLICY_UNKNOWN.  domain
 * may be a U-label name: it is converted to A-labels (RFC 3492 punycode); NULL means
 * absent.  Returns the new policy (owned by r, valid until report_free(r)), or NULL with
 * e set when domain is not valid UTF-8 or cannot be converted.
 */
struct report_policy *report_add_policy(struct report *r, enum report_policy_type type,
                                        const char *type_other, const char *domain, struct err *e);
/* Appends a copy of s to policy-string. */
void report_policy_add_string(struct report_policy *p, const char *s);
/* Appends a copy of mx to mx-host (U-labels converted to A-labels like the domain). */
int report_policy_add_mx_host(struct report_policy *p, const char *mx, struct err *e);

/*
 * Appends a copy of *f (every string copied; NULL members stay absent) to the policy's
 * failure-details.  Does not change p->failed: the caller sets the summary counts.
 */
void report_policy_add_failure(struct report_policy *p, const struct report_failure *f);

/* Deep equality of two models (quirks not compared). */
bool report_equal(const struct report *a, const struct report *b);

/* ------------------------------------------------------------------ writer */

/*
 * Appends the compact JSON of r to out.  Returns 0, or ERR_TOOBIG when out's cap is
 * reached (out then holds a partial document: reset it), or ERR_INVALID when a date is
 * outside years 0000..9999.  Invalid UTF-8 in a string is written as U+FFFD.
 */
int report_write_json(const struct report *r, struct buf *out, struct err *e);
/* The same bytes fed into an open gzip stream (gzip.h). */
int report_write_json_gzip(const struct report *r, struct gzip_writer *gz, struct err *e);
/* Sets *size to the exact length report_write_json() would append. */
int report_json_size(const struct report *r, size_t *size, struct err *e);

/* ------------------------------------------------------------------ reader */

/* Caps on untrusted input (report_caps_default() fills the defaults shown). */
struct report_caps {
	size_t max_input;           /* 25 MiB: bytes of JSON */
	unsigned max_depth;         /* 12: nesting of arrays/objects (a report needs 5) */
	size_t max_policies;        /* 10000 */
	size_t max_failure_details; /* 100000 over the whole report */
	size_t max_strings;         /* 10000 policy-string / mx-host entries per policy */
};
void report_caps_default(struct report_caps *c);

/* Quirks found by the tolerant reader (rfc8460-digest.md section 14). */
enum {
	REPORT_QUIRK_MX_HOST_STRING = 1u << 0,             /* Q1 */
	REPORT_QUIRK_DATE_NO_TIMEZONE = 1u << 1,           /* Q2 */
	REPORT_QUIRK_DATE_OFFSET = 1u << 2,                /* +hh:mm instead of Z */
	REPORT_QUIRK_DATE_FRACTION = 1u << 3,              /* fractional seconds */
	REPORT_QUIRK_END_NEXT_MIDNIGHT = 1u << 4,          /* Q3 */
	REPORT_QUIRK_RANGE_NOT_DAY = 1u << 5,              /* Q20: not one UTC day */
	REPORT_QUIRK_POLICY_STRING_JSON_ARRAY = 1u << 6,   /* Q4 */
	REPORT_QUIRK_FAILURE_FIELD_MISSING = 1u << 7,      /* Q6 */
	REPORT_QUIRK_EMPTY_OPTIONAL_FIELD = 1u << 8,       /* Q7 */
	REPORT_QUIRK_POLICY_STRING_MISSING = 1u << 9,      /* Q8 */
	REPORT_QUIRK_CONTACT_INFO_NULL = 1u << 10,         /* Q9 */
	REPORT_QUIRK_POLICY_DOMAIN_MISSING = 1u << 11,     /* Q10 */
	REPORT_QUIRK_EMPTY_ARRAY = 1u << 12,               /* Q11 */
	REPORT_QUIRK_FAILURE_SUM_MISMATCH = 1u << 13,      /* Q12 */
	REPORT_QUIRK_UNKNOWN_POLICY_TYPE = 1u << 14,       /* rpt03 */
	REPORT_QUIRK_UNKNOWN_RESULT_TYPE = 1u << 15,       /* registry is extensible */
	REPORT_QUIRK_FAILURE_ERROR_CODE_KEY = 1u << 16,    /* Q19 */
	REPORT_QUIRK_ADDITIONAL_INFO_URI_KEY = 1u << 17,   /* schema value name as key */
	REPORT_QUIRK_SUMMARY_COUNT_MISSING = 1u << 18,     /* rpt03 */
	REPORT_QUIRK_POLICY_TYPE_MISSING = 1u << 19,       /* YnkDK missing_required_field */
	REPORT_QUIRK_NULL_FIELD = 1u << 20,                /* null for an optional member */
	REPORT_QUIRK_CONTACT_INFO_MISSING = 1u << 21,      /* member absent */
	REPORT_QUIRK_ORGANIZATION_NAME_MISSING = 1u << 22, /* member absent/null/"" */
	REPORT_QUIRK_REPORT_ID_MISSING = 1u << 23,         /* member absent/null/"" */
	REPORT_QUIRK_UNKNOWN_MEMBER = 1u << 24,            /* members outside the schema */
	REPORT_QUIRK_POLICY_DOMAIN_ULABEL = 1u << 25,      /* converted to A-labels */
	REPORT_QUIRK_DATE_LEAP_SECOND = 1u << 26,          /* :60 read as :59 */
	REPORT_QUIRK_POLICY_STRING_STRING = 1u << 27,      /* a string, not an array */
	REPORT_QUIRK_COUNT_ = 28,
};
/* Name of one quirk bit ("mx-host-string"); NULL when bit is not a single known quirk. */
const char *report_quirk_name(uint64_t bit);
/* Appends the names of the quirks in mask, separated by sep, in bit order. */
int report_quirks_format(uint64_t mask, const char *sep, struct buf *out);

/*
 * Parses an untrusted report (JSON bytes, not gzip).  caps may be NULL (defaults).
 * Returns 0 and *out (caller frees with report_free()) when the report is accepted;
 * (*out)->quirks holds what was odd about it.  Returns ERR_INVALID or ERR_TOOBIG and sets
 * e with a precise message led by the JSON path when rejected, e.g.
 *   policies[2].summary.total-failure-session-count: expected a non-negative integer,
 *   got "abc"
 * Never aborts on input.
 */
int report_read(struct span json, const struct report_caps *caps, struct report **out,
                struct err *e);

/* ------------------------------------------------------------------ validator */

/*
 * Strict validation of a report we generate: every MUST of RFC 8460 plus our rules
 * (organization-name, contact-info as an addr-spec and report-id as a msg-id body
 * `dot-atom-text "@" dot-atom-text` present; policy types and result types registered;
 * policy-domain present in A-labels; no empty strings; valid UTF-8; counts <= 2^53-1
 * and failed-session-count >= 1; dates in years 0000..9999 with end >= start, and when
 * period is not WINDOW_NEVER: start aligned to the period and end its last second).
 * Returns 0, or ERR_INVALID with the first violation led by its JSON path, e.g.
 * "policies[0].policy.policy-domain: missing".
 */
int report_validate(const struct report *r, enum window_period period, struct err *e);

#endif
