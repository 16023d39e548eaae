/*
 * tlsrptd.h - client library for reporting TLS outcomes of SMTP deliveries to tlsrptd.
 *
 * An MTA links libtlsrptclient.a (it depends on nothing but libc) and, per delivery
 * attempt:
 *
 *   struct tlsrptd_conn *c;
 *   tlsrptd_client_open("/run/tlsrptd/collector.sock", 0, &c);       once per thread
 *   tlsrptd_client_begin(c, "example.com", "v=TLSRPTv1; rua=mailto:tls@example.com");
 *   tlsrptd_client_policy(c, TLSRPTD_POLICY_STS, "example.com");
 *   tlsrptd_client_policy_string(c, "version: STSv1");  ... (zero or more)
 *   tlsrptd_client_mx_host(c, "*.mail.example.com");    ... (zero or more)
 *   tlsrptd_client_failure(c, TLSRPTD_RESULT_CERTIFICATE_EXPIRED, &fields);  (optional)
 *   tlsrptd_client_finish(c);                   sends one datagram
 *   ...
 *   tlsrptd_client_close(c);
 *
 * The datagram is the libtlsrpt dpv 1 JSON document, byte-compatible with what
 * libtlsrpt 0.5 sends, plus "ts" (event time) and "rpt":1 when the delivery carried a
 * TLS report (RFC 8460 section 3: such sessions are not counted).  Within one policy,
 * add policy strings, then mx hosts, then failures (out-of-order calls return
 * TLSRPTD_ESTATE).  A policy is reported as failed ("f":1) when it has at least one
 * failure detail.
 *
 * Every function returns TLSRPTD_OK (0) or a negative TLSRPTD_E* code and never
 * crashes on NULL or misuse.  An error during a result discards that result: the next
 * call must be tlsrptd_client_begin().  All strings must be valid UTF-8
 * (TLSRPTD_EUTF8 otherwise); they are copied.
 *
 * Threading: no process-wide state.  A connection is used by one thread at a time;
 * use one connection per thread.
 */
#ifndef TLSRPTD_CLIENT_H
#define TLSRPTD_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum tlsrptd_error {
	TLSRPTD_OK = 0,
	TLSRPTD_EINVAL = -1,  /* NULL or invalid argument */
	TLSRPTD_ESTATE = -2,  /* call out of order */
	TLSRPTD_ETOOBIG = -3, /* the result does not fit one datagram (64 KiB) */
	TLSRPTD_EUTF8 = -4,   /* a string is not valid UTF-8 */
	TLSRPTD_EAGAIN = -5,  /* non-blocking connection and the collector's queue is full */
	TLSRPTD_ECONN = -6,   /* the collector socket is absent or refused the datagram */
	TLSRPTD_ENOMEM = -7,  /* out of memory */
};

enum tlsrptd_policy_type {
	TLSRPTD_POLICY_TLSA = 1,
	TLSRPTD_POLICY_STS = 2,
	TLSRPTD_POLICY_NONE = 9, /* no-policy-found */
};

/* RFC 8460 section 4.3 result types, numbered like libtlsrpt. */
enum tlsrptd_result_type {
	TLSRPTD_RESULT_STARTTLS_NOT_SUPPORTED = 201,
	TLSRPTD_RESULT_CERTIFICATE_HOST_MISMATCH = 202,
	TLSRPTD_RESULT_CERTIFICATE_NOT_TRUSTED = 203,
	TLSRPTD_RESULT_CERTIFICATE_EXPIRED = 204,
	TLSRPTD_RESULT_VALIDATION_FAILURE = 205,
	TLSRPTD_RESULT_STS_POLICY_FETCH_ERROR = 301,
	TLSRPTD_RESULT_STS_POLICY_INVALID = 302,
	TLSRPTD_RESULT_STS_WEBPKI_INVALID = 303,
	TLSRPTD_RESULT_TLSA_INVALID = 304,
	TLSRPTD_RESULT_DNSSEC_INVALID = 305,
	TLSRPTD_RESULT_DANE_REQUIRED = 306,
};

/* Optional fields of a failure detail; NULL members are omitted. */
struct tlsrptd_failure {
	const char *sending_mta_ip;
	const char *receiving_mx_hostname;
	const char *receiving_mx_helo;
	const char *receiving_ip;
	const char *additional_information;
	const char *failure_reason_code;
};

enum {
	TLSRPTD_NONBLOCK = 1, /* tlsrptd_client_open flag: never block, drop on a full queue */
};

struct tlsrptd_conn;

/*
 * Opens a connection to the collector socket at socket_path (copied).  The socket is
 * (re)connected lazily, so the collector may start later.  socket_path NULL makes a
 * connection that only builds datagrams (see tlsrptd_client_last).  *out is freed with
 * tlsrptd_client_close.
 */
int tlsrptd_client_open(const char *socket_path, int flags, struct tlsrptd_conn **out);
/* Closes and frees (NULL is a no-op).  A result in progress is discarded. */
void tlsrptd_client_close(struct tlsrptd_conn *c);

/* Starts a result for report domain `domain` and its raw TLSRPT record. */
int tlsrptd_client_begin(struct tlsrptd_conn *c, const char *domain, const char *record);
/* Adds a policy; policy_domain NULL omits it (the collector then uses the domain). */
int tlsrptd_client_policy(struct tlsrptd_conn *c, enum tlsrptd_policy_type type,
                          const char *policy_domain);
int tlsrptd_client_policy_string(struct tlsrptd_conn *c, const char *s);
int tlsrptd_client_mx_host(struct tlsrptd_conn *c, const char *pattern);
/* Adds a failure detail to the current policy (f may be NULL: no optional fields). */
int tlsrptd_client_failure(struct tlsrptd_conn *c, enum tlsrptd_result_type type,
                           const struct tlsrptd_failure *f);
/* Event time in Unix seconds (default: the collector's receive time). */
int tlsrptd_client_set_time(struct tlsrptd_conn *c, int64_t unix_seconds);
/* Marks the delivery as carrying a TLS report: metered, never counted. */
int tlsrptd_client_set_report_delivery(struct tlsrptd_conn *c, int yes);
/* Completes the result and sends it as one datagram. */
int tlsrptd_client_finish(struct tlsrptd_conn *c);

/* The last datagram built by finish (valid until the next begin).  For tests. */
int tlsrptd_client_last(const struct tlsrptd_conn *c, const char **p, size_t *len);
/* A constant English message for an error code. */
const char *tlsrptd_client_strerror(int code);

#ifdef __cplusplus
}
#endif

#endif
