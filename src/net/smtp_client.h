/*
 * smtp_client.h - send one composed message over SMTP with libcurl: through a relay,
 * or directly to a destination's MX hosts.
 *
 * The message is handed over as bytes already composed with CRLF line ends; libcurl
 * does the dot-stuffing and the final "CRLF . CRLF".  All recipients share one
 * transaction: if the server refuses any RCPT TO the whole send fails with that reply.
 * Call net_global_init() (net/net_curl.h) once from main() first.
 *
 * Outcome: the last SMTP reply decides.  2xx after DATA = sent; 4xx, no reply at all
 * (connection refused, timeout, TLS failure on a relay) = temporary, try later; 5xx =
 * permanent failure of that destination.
 *
 * Threading: every call uses its own libcurl handle; calls may run in parallel.  The
 * struct dns passed to smtp_send_mx() may be shared (see net/dns.h).
 */
#ifndef TLSRPTD_NET_SMTP_CLIENT_H
#define TLSRPTD_NET_SMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "net/dns.h"
#include "util/err.h"
#include "util/span.h"

/* STARTTLS policy on smtp:// URLs (smtps:// is TLS from the first byte). */
enum smtp_starttls {
	SMTP_STARTTLS_NONE = 0,     /* never */
	SMTP_STARTTLS_TRY = 1,      /* when offered; in the clear otherwise */
	SMTP_STARTTLS_REQUIRED = 2, /* fail (temporarily) when not offered or not working */
};

/* Module error codes (below -100). */
enum {
	SMTP_EPERM = -111, /* 5xx or no usable destination: do not retry this destination */
};

/*
 * A relay ("smarthost") as configured by the operator.  Defaults: smtp://127.0.0.1:25
 * without STARTTLS (a local MTA on loopback; Debian's Postfix offers STARTTLS with a
 * self-signed "snakeoil" certificate that verification would refuse).  For a remote
 * relay use SMTP_STARTTLS_REQUIRED or smtps:// with verification on, above all with
 * AUTH: libcurl sends the credentials on whatever connection it has.
 */
struct smtp_relay_opts {
	const char *url; /* smtp://host[:port] or smtps://host[:port];
				      NULL = smtp://127.0.0.1:25 */
	enum smtp_starttls starttls;
	bool insecure;       /* do not verify the relay's certificate */
	const char *ca_file; /* NULL = system store */
	const char *user;    /* AUTH when both are set; the password is never logged */
	const char *password;
	const char *helo_name;   /* EHLO argument; NULL = libcurl's default (host name) */
	long connect_timeout_ms; /* 0 = 30 s */
	long timeout_ms;         /* whole transaction; 0 = 300 s */
};

/* Direct delivery to a recipient domain's MX hosts. */
struct smtp_direct_opts {
	unsigned port;           /* 0 = 25 (tests use other ports) */
	const char *helo_name;   /* EHLO argument; NULL = libcurl's default */
	bool prefer_ipv6;        /* try AAAA addresses before A (default: A first) */
	long connect_timeout_ms; /* per address; 0 = 30 s */
	long timeout_ms;         /* per transaction; 0 = 300 s */
	size_t max_hosts;        /* MX hosts tried; 0 = 10 */
	size_t max_addrs;        /* addresses tried per host; 0 = 4 */
};

enum smtp_outcome {
	SMTP_SENT = 0,
	SMTP_TEMPFAIL = 1,
	SMTP_PERMFAIL = 2,
};

struct smtp_result {
	enum smtp_outcome outcome;
	long code;               /* last SMTP reply code; 0 when there was none */
	char text[512];          /* that reply's last line without CRLF ("550 5.1.1 ...") */
	int curl_code;           /* CURLcode of the (last) attempt */
	char error[320];         /* libcurl's text, "" when sent */
	bool tls;                /* the message went over TLS */
	bool cleartext_retry;    /* TLS failed on this host; the message was retried in clear */
	char host[DNS_NAME_MAX]; /* direct delivery: the MX host of the last attempt */
	char addr[46];           /* and its address */
};

void smtp_relay_opts_default(struct smtp_relay_opts *o);
void smtp_direct_opts_default(struct smtp_direct_opts *o);

/*
 * Sends msg from mail_from (envelope sender, an addr-spec without <>; "" for the null
 * sender) to the nrcpt addresses in rcpt through the relay.  Always fills *res.
 * Returns 0 when sent, ERR_AGAIN for a temporary failure, SMTP_EPERM for a permanent
 * one, ERR_INVALID for bad arguments (addresses with CR, LF, <, > or NUL; no
 * recipients); e gets "smtp://relay:25: RCPT TO: 550 5.1.1 no such user"-style text.
 */
int smtp_send_relay(const struct smtp_relay_opts *opts, const char *mail_from,
                    const char *const *rcpt, size_t nrcpt, struct span msg, struct smtp_result *res,
                    struct err *e);

/*
 * Sends msg to one host (a name or an IP address literal) on opts->port.  RFC 8460
 * section 3: report mail "MUST" be delivered "despite any TLS-related failures", so
 * STARTTLS is opportunistic and the certificate is NOT verified (a wrong or expired
 * certificate must not stop a report about exactly such failures), and when the TLS
 * handshake itself fails the message is sent again to the same host in the clear
 * (res->cleartext_retry).  Same returns as smtp_send_relay().
 */
int smtp_send_host(const struct smtp_direct_opts *opts, const char *host, const char *mail_from,
                   const char *const *rcpt, size_t nrcpt, struct span msg, struct smtp_result *res,
                   struct err *e);

/* The delivery targets of a domain, in the order to try them. */
struct smtp_mx_list {
	size_t n;
	struct dns_mx *mx; /* sorted by preference; owned by the list */
	bool implicit;     /* no MX RRset: the domain itself (RFC 5321 section 5.1) */
};

/*
 * Resolves domain's MX RRset into *list (free with smtp_mx_list_clear()).  Returns 0;
 * SMTP_EPERM for a null MX (RFC 7505: the domain accepts no mail), NXDOMAIN or a
 * bogus answer; ERR_AGAIN for DNS failures that may pass.  With no MX records the
 * list holds the domain itself (implicit MX).
 */
int smtp_mx_hosts(struct dns *dns, const char *domain, struct smtp_mx_list *list, struct err *e);
void smtp_mx_list_clear(struct smtp_mx_list *list);

/*
 * Direct delivery to every recipient in one domain: MX hosts in preference order,
 * each host's addresses (A then AAAA, or the reverse with prefer_ipv6) from dns,
 * smtp_send_host() on each until the message is sent or a host answers 5xx (a
 * permanent failure of the destination: no further host is tried).  When every host
 * failed temporarily the last temporary result is returned.  An implicit MX whose
 * domain has no address record is permanent; MX hosts without addresses are skipped
 * (temporary when none is left).  Same returns as
 * smtp_send_relay().
 */
int smtp_send_mx(struct dns *dns, const struct smtp_direct_opts *opts, const char *domain,
                 const char *mail_from, const char *const *rcpt, size_t nrcpt, struct span msg,
                 struct smtp_result *res, struct err *e);

/* "sent", "tempfail", "permfail". */
const char *smtp_outcome_name(enum smtp_outcome o);

#endif
