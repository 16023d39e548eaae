/*
 * smtp_client.c - SMTP submission of report mail over libcurl (RFC 5321), via a relay
 * or directly to the recipient domain's MX hosts.
 *
 * RFC 8460 section 3: "When sending failure reports via SMTP, sending MTAs MUST
 * deliver reports despite any TLS-related failures"; section 5.3: they "MUST NOT honor
 * MTA-STS or DANE TLSA failures".  Direct delivery therefore uses opportunistic
 * STARTTLS without certificate verification, and if the handshake itself breaks, the
 * same host is tried once more in the clear.  A relay is the operator's own service:
 * its TLS settings are honoured exactly (verification on unless switched off).
 *
 * Host selection (RFC 5321 section 5.1): MX hosts by preference; without an MX RRset
 * the domain itself (implicit MX); a null MX (RFC 7505) means the domain takes no mail.
 * Addresses come from our DNS module (and its cache), and libcurl is given the address
 * literal, so no other resolver is involved.
 *
 * The reply text is taken from libcurl's debug stream (the lines the server sent);
 * the reply code from CURLINFO_RESPONSE_CODE.
 *
 * Threading: no shared state; one libcurl easy handle per attempt; CURLOPT_NOSIGNAL.
 */
#include "net/smtp_client.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/str.h"
#include "util/xalloc.h"

/* What one libcurl transfer needs. */
struct xfer {
	const char *url;
	enum smtp_starttls starttls;
	bool implicit_tls; /* smtps:// */
	bool insecure;
	const char *ca_file;
	const char *user;
	const char *password;
	long connect_timeout_ms;
	long timeout_ms;
};

/* State shared with libcurl's callbacks during one transfer. */
struct session {
	struct span msg;
	size_t off;
	char last[512]; /* last reply line from the server */
	bool starttls_sent;
	bool quit_sent;     /* replies after QUIT do not replace the one that counts */
	long starttls_code; /* reply to STARTTLS; 0 = none yet */
	int replies_after;  /* replies after the STARTTLS reply */
};

void
smtp_relay_opts_default(struct smtp_relay_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->url = "smtp://127.0.0.1:25";
	o->starttls = SMTP_STARTTLS_NONE;
	o->connect_timeout_ms = 30000;
	o->timeout_ms = 300000;
}

void
smtp_direct_opts_default(struct smtp_direct_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->port = 25;
	o->connect_timeout_ms = 30000;
	o->timeout_ms = 300000;
	o->max_hosts = 10;
	o->max_addrs = 4;
}

const char *
smtp_outcome_name(enum smtp_outcome o)
{
	switch (o) {
	case SMTP_SENT:
		return "sent";
	case SMTP_TEMPFAIL:
		return "tempfail";
	case SMTP_PERMFAIL:
		return "permfail";
	}
	return "unknown";
}

static size_t
on_read(char *out, size_t size, size_t nitems, void *userdata)
{
	struct session *s = userdata;
	size_t room = size * nitems;
	size_t left = s->msg.len - s->off;
	size_t n = left < room ? left : room;

	memcpy(out, s->msg.p + s->off, n);
	s->off += n;
	return n;
}

/* Keeps the last reply line; notes STARTTLS and what followed it. */
static int
on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *userdata)
{
	struct session *s = userdata;
	struct span text = span_make(data, size);

	(void)h;
	if (type == CURLINFO_HEADER_OUT) {
		if (span_starts_with(text, SPAN_LIT("QUIT")))
			s->quit_sent = true;
		if (span_starts_with(text, SPAN_LIT("STARTTLS"))) {
			s->starttls_sent = true;
			s->starttls_code = 0;
			s->replies_after = 0;
		}
		return 0;
	}
	if (type != CURLINFO_HEADER_IN || s->quit_sent)
		return 0;
	/* Normally one line per call; split anyway and keep the last complete line. */
	while (text.len > 0) {
		size_t i = 0;
		while (i < text.len && text.p[i] != '\n')
			i++;
		struct span line = span_trim(span_sub(text, 0, i));
		text = span_sub(text, i + 1, text.len);
		if (line.len < 3 || !isdigit((unsigned char)line.p[0]) ||
		    !isdigit((unsigned char)line.p[1]) || !isdigit((unsigned char)line.p[2]))
			continue;
		size_t n = line.len < sizeof(s->last) - 1 ? line.len : sizeof(s->last) - 1;
		memcpy(s->last, line.p, n);
		s->last[n] = '\0';
		/* a final line ("250 ok", not "250-...") ends a reply */
		if (line.len > 3 && line.p[3] == '-')
			continue;
		if (s->starttls_sent) {
			if (s->starttls_code == 0) {
				int64_t code = 0;
				str_to_i64(span_sub(line, 0, 3), &code);
				s->starttls_code = code ? (long)code : -1;
			} else {
				s->replies_after++;
			}
		}
	}
	return 0;
}

/* Rejects what would break the SMTP command line. */
static bool
addr_ok(const char *a)
{
	size_t n = strlen(a);

	if (n > 320)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c < 0x21 || c == 0x7f || c == '<' || c == '>')
			return false;
	}
	return true;
}

static bool
helo_ok(const char *h)
{
	if (!*h || strlen(h) > 255)
		return false;
	for (const char *p = h; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
		if (!ok)
			return false;
	}
	return true;
}

/* A host name or an IPv4 / IPv6 address literal (no brackets). */
static bool
host_ok(const char *host)
{
	unsigned char a6[16];

	if (!host || !*host)
		return false;
	if (strchr(host, ':'))
		return inet_pton(AF_INET6, host, a6) == 1;
	return helo_ok(host);
}

static bool
tls_error(CURLcode cc)
{
	switch (cc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_WEIRD_SERVER_REPLY: /* non-SMTP bytes where the TLS handshake should be */
		return true;
	default:
		return false;
	}
}

static enum smtp_outcome
classify(CURLcode cc, long code)
{
	if (cc == CURLE_OK)
		return code == 0 || (code >= 200 && code <= 299) ? SMTP_SENT : SMTP_TEMPFAIL;
	if (code >= 500 && code <= 599)
		return SMTP_PERMFAIL;
	return SMTP_TEMPFAIL;
}

static int
outcome_rc(enum smtp_outcome o)
{
	switch (o) {
	case SMTP_SENT:
		return 0;
	case SMTP_PERMFAIL:
		return SMTP_EPERM;
	case SMTP_TEMPFAIL:
		break;
	}
	return ERR_AGAIN;
}

/*
 * One SMTP transaction.  Fills res (code, text, curl_code, error, tls, outcome) and
 * *tls_broke (STARTTLS accepted, then nothing more came: the handshake failed).
 */
static void
transfer(const struct xfer *x, const char *mail_from, const char *const *rcpt, size_t nrcpt,
         struct span msg, struct smtp_result *res, bool *tls_broke)
{
	struct session s = { .msg = msg };
	struct curl_slist *rcpts = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	char from[340];
	CURL *h;
	CURLcode cc;

	*tls_broke = false;
	res->code = 0;
	res->text[0] = '\0';
	res->error[0] = '\0';
	res->tls = false;
	h = curl_easy_init();
	if (!h) {
		res->curl_code = (int)CURLE_FAILED_INIT;
		res->outcome = SMTP_TEMPFAIL;
		str_copy(res->error, sizeof(res->error), "cannot create a libcurl handle");
		return;
	}
	snprintf(from, sizeof(from), "<%s>", mail_from);
	for (size_t i = 0; i < nrcpt; i++) {
		char to[340];
		snprintf(to, sizeof(to), "<%s>", rcpt[i]);
		struct curl_slist *l = curl_slist_append(rcpts, to);
		if (!l)
			break;
		rcpts = l;
	}
	curl_easy_setopt(h, CURLOPT_URL, x->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg.len);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(h, CURLOPT_READDATA, &s);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, &s);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	                 x->connect_timeout_ms ? x->connect_timeout_ms : 30000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, x->timeout_ms ? x->timeout_ms : 300000L);
	if (!x->implicit_tls) {
		long use = x->starttls == SMTP_STARTTLS_REQUIRED ? (long)CURLUSESSL_ALL
		           : x->starttls == SMTP_STARTTLS_TRY    ? (long)CURLUSESSL_TRY
		                                                 : (long)CURLUSESSL_NONE;
		curl_easy_setopt(h, CURLOPT_USE_SSL, use);
	}
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, x->insecure ? 0L : 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, x->insecure ? 0L : 2L);
	if (x->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, x->ca_file);
	if (x->user && x->password) {
		curl_easy_setopt(h, CURLOPT_USERNAME, x->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, x->password);
	}

	cc = curl_easy_perform(h);
	res->curl_code = (int)cc;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->code);
	str_copy(res->text, sizeof(res->text), s.last);
	if (cc != CURLE_OK)
		str_copy(res->error, sizeof(res->error),
		         errbuf[0] ? errbuf : curl_easy_strerror(cc));
	res->outcome = classify(cc, res->code);
	res->tls = x->implicit_tls ||
	           (s.starttls_sent && s.starttls_code == 220 && s.replies_after > 0);
	*tls_broke = cc != CURLE_OK && s.starttls_sent && s.starttls_code == 220 &&
	             s.replies_after == 0 && tls_error(cc);
	curl_slist_free_all(rcpts);
	curl_easy_cleanup(h);
}

static int
check_args(const char *mail_from, const char *const *rcpt, size_t nrcpt, struct err *e)
{
	if (!mail_from || !addr_ok(mail_from))
		return err_set(e, ERR_INVALID, "smtp: bad envelope sender \"%s\"",
		               mail_from ? mail_from : "(null)");
	if (nrcpt == 0)
		return err_set(e, ERR_INVALID, "smtp: no recipients");
	for (size_t i = 0; i < nrcpt; i++)
		if (!rcpt[i] || !*rcpt[i] || !addr_ok(rcpt[i]))
			return err_set(e, ERR_INVALID, "smtp: bad recipient \"%s\"",
			               rcpt[i] ? rcpt[i] : "(null)");
	return 0;
}

static int
report(const char *where, struct smtp_result *res, struct err *e)
{
	int rc = outcome_rc(res->outcome);

	if (rc == 0)
		return 0;
	if (res->code >= 400 && res->text[0])
		return err_set(e, rc, "%s: %s", where, res->text);
	return err_set(e, rc, "%s: %s", where, res->error[0] ? res->error : res->text);
}

int
smtp_send_relay(const struct smtp_relay_opts *opts, const char *mail_from, const char *const *rcpt,
                size_t nrcpt, struct span msg, struct smtp_result *res, struct err *e)
{
	struct smtp_relay_opts def;
	struct xfer x;
	struct buf url;
	bool broke;
	int rc;

	memset(res, 0, sizeof(*res));
	res->outcome = SMTP_PERMFAIL;
	if (!opts) {
		smtp_relay_opts_default(&def);
		opts = &def;
	}
	rc = check_args(mail_from, rcpt, nrcpt, e);
	if (rc)
		return rc;
	const char *base = opts->url ? opts->url : "smtp://127.0.0.1:25";
	bool smtps = strncmp(base, "smtps://", 8) == 0;
	if (!smtps && strncmp(base, "smtp://", 7) != 0)
		return err_set(e, ERR_INVALID, "smtp: relay URL \"%s\" is not smtp:// or smtps://",
		               base);
	if (opts->helo_name && !helo_ok(opts->helo_name))
		return err_set(e, ERR_INVALID, "smtp: bad EHLO name \"%s\"", opts->helo_name);
	buf_init(&url, 2048);
	/* libcurl takes the EHLO name from the URL path */
	const char *path = strchr(base + (smtps ? 8 : 7), '/');
	if (buf_append_str(&url, base) ||
	    (opts->helo_name && !path && buf_printf(&url, "/%s", opts->helo_name))) {
		buf_clear(&url);
		return err_set(e, ERR_INVALID, "smtp: relay URL too long");
	}
	x = (struct xfer){
		.url = buf_cstr(&url),
		.starttls = opts->starttls,
		.implicit_tls = smtps,
		.insecure = opts->insecure,
		.ca_file = opts->ca_file,
		.user = opts->user,
		.password = opts->password,
		.connect_timeout_ms = opts->connect_timeout_ms,
		.timeout_ms = opts->timeout_ms,
	};
	transfer(&x, mail_from, rcpt, nrcpt, msg, res, &broke);
	rc = report(base, res, e);
	buf_clear(&url);
	return rc;
}

int
smtp_send_host(const struct smtp_direct_opts *opts, const char *host, const char *mail_from,
               const char *const *rcpt, size_t nrcpt, struct span msg, struct smtp_result *res,
               struct err *e)
{
	struct smtp_direct_opts def;
	char url[600]; /* smtp://[host]:port/helo, host and helo <= 255 each */
	bool broke;
	int rc;

	memset(res, 0, sizeof(*res));
	res->outcome = SMTP_PERMFAIL;
	if (!opts) {
		smtp_direct_opts_default(&def);
		opts = &def;
	}
	rc = check_args(mail_from, rcpt, nrcpt, e);
	if (rc)
		return rc;
	if (!host_ok(host))
		return err_set(e, ERR_INVALID, "smtp: bad host \"%s\"", host ? host : "(null)");
	if (opts->helo_name && !helo_ok(opts->helo_name))
		return err_set(e, ERR_INVALID, "smtp: bad EHLO name \"%s\"", opts->helo_name);
	bool v6 = strchr(host, ':') != NULL;
	snprintf(url, sizeof(url), "smtp://%s%s%s:%u/%s", v6 ? "[" : "", host, v6 ? "]" : "",
	         opts->port ? opts->port : 25u, opts->helo_name ? opts->helo_name : "");
	struct xfer x = {
		.url = url,
		.starttls = SMTP_STARTTLS_TRY,
		.insecure = true, /* RFC 8460 section 3: deliver despite TLS failures */
		.connect_timeout_ms = opts->connect_timeout_ms,
		.timeout_ms = opts->timeout_ms,
	};
	transfer(&x, mail_from, rcpt, nrcpt, msg, res, &broke);
	if (broke) {
		log_info("smtp: TLS handshake failed, retrying in the clear host=%s error=\"%s\"",
		         host, res->error);
		x.starttls = SMTP_STARTTLS_NONE;
		transfer(&x, mail_from, rcpt, nrcpt, msg, res, &broke);
		res->cleartext_retry = true;
	}
	str_copy(res->host, sizeof(res->host), host);
	snprintf(url, sizeof(url), "smtp://%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "",
	         opts->port ? opts->port : 25u);
	return report(url, res, e);
}

void
smtp_mx_list_clear(struct smtp_mx_list *list)
{
	free(list->mx);
	memset(list, 0, sizeof(*list));
}

int
smtp_mx_hosts(struct dns *dns, const char *domain, struct smtp_mx_list *list, struct err *e)
{
	struct dns_answer *a = NULL;
	int rc;

	memset(list, 0, sizeof(*list));
	rc = dns_lookup(dns, domain, DNS_TYPE_MX, &a, e);
	if (rc == ERR_INVALID) {
		rc = SMTP_EPERM;
		goto out;
	}
	if (rc == DNS_EBOGUS) {
		rc = err_set(e, SMTP_EPERM, "smtp: %s: MX answer fails DNSSEC validation: %s",
		             domain, a ? a->why_bogus : "");
		goto out;
	}
	if (rc) {
		rc = err_set(e, ERR_AGAIN, "smtp: %s: MX lookup failed: %s", domain,
		             a ? dns_rcode_name(a->rcode) : "resolver error");
		goto out;
	}
	if (a->rcode == DNS_RCODE_NXDOMAIN) {
		rc = err_set(e, SMTP_EPERM, "smtp: %s: domain does not exist (NXDOMAIN)", domain);
		goto out;
	}
	if (a->null_mx) {
		rc = err_set(e, SMTP_EPERM, "smtp: %s: null MX, the domain accepts no mail",
		             domain);
		goto out;
	}
	if (a->n == 0) {
		list->n = 1;
		list->mx = xcalloc(1, sizeof(*list->mx));
		str_copy(list->mx[0].host, sizeof(list->mx[0].host), a->qname);
		list->implicit = true;
		goto out;
	}
	list->mx = xcalloc(a->n, sizeof(*list->mx));
	for (size_t i = 0; i < a->n; i++)
		if (a->mx[i].host[0]) /* a "." among real MX hosts is skipped */
			list->mx[list->n++] = a->mx[i];
	if (list->n == 0)
		rc = err_set(e, SMTP_EPERM, "smtp: %s: no usable MX host", domain);
out:
	dns_answer_free(a);
	return rc;
}

/* Addresses of host: A then AAAA (or the reverse), at most max. */
static size_t
host_addrs(struct dns *dns, const char *host, bool v6_first, size_t max, char (*out)[46],
           bool *temp)
{
	enum dns_type order[2] = { DNS_TYPE_A, DNS_TYPE_AAAA };
	size_t n = 0;

	if (v6_first) {
		order[0] = DNS_TYPE_AAAA;
		order[1] = DNS_TYPE_A;
	}
	for (int k = 0; k < 2; k++) {
		struct dns_answer *a = NULL;
		struct err e;
		if (dns_lookup(dns, host, order[k], &a, &e))
			*temp = true;
		for (size_t i = 0; a && i < a->n && n < max; i++)
			str_copy(out[n++], 46, a->addr[i].text);
		dns_answer_free(a);
	}
	return n;
}

int
smtp_send_mx(struct dns *dns, const struct smtp_direct_opts *opts, const char *domain,
             const char *mail_from, const char *const *rcpt, size_t nrcpt, struct span msg,
             struct smtp_result *res, struct err *e)
{
	struct smtp_direct_opts def;
	struct smtp_mx_list list;
	struct smtp_result r;
	bool tried = false;
	int rc;

	memset(res, 0, sizeof(*res));
	if (!opts) {
		smtp_direct_opts_default(&def);
		opts = &def;
	}
	rc = check_args(mail_from, rcpt, nrcpt, e);
	if (rc) {
		res->outcome = SMTP_PERMFAIL;
		return rc;
	}
	rc = smtp_mx_hosts(dns, domain, &list, e);
	if (rc) {
		res->outcome = rc == SMTP_EPERM ? SMTP_PERMFAIL : SMTP_TEMPFAIL;
		str_copy(res->error, sizeof(res->error), e ? e->msg : "MX lookup failed");
		return rc;
	}
	size_t max_hosts = opts->max_hosts ? opts->max_hosts : 10;
	size_t max_addrs = opts->max_addrs ? opts->max_addrs : 4;
	char(*addrs)[46] = xcalloc(max_addrs, 46);
	res->outcome = SMTP_TEMPFAIL;
	rc = ERR_AGAIN;
	for (size_t i = 0; i < list.n && i < max_hosts; i++) {
		bool temp = false;
		size_t na = host_addrs(dns, list.mx[i].host, opts->prefer_ipv6, max_addrs, addrs,
		                       &temp);
		if (na == 0 && list.implicit && !temp) {
			/* no MX and no address: nothing will ever take this mail */
			res->outcome = SMTP_PERMFAIL;
			str_copy(res->host, sizeof(res->host), list.mx[i].host);
			rc = err_set(e, SMTP_EPERM, "smtp: %s: no MX and no address record",
			             domain);
			free(addrs);
			smtp_mx_list_clear(&list);
			return rc;
		}
		if (na == 0) {
			log_info("smtp: MX host has no address domain=%s host=%s", domain,
			         list.mx[i].host);
			if (!tried) {
				snprintf(res->error, sizeof(res->error), "%s has no address%s",
				         list.mx[i].host, temp ? " (DNS failure)" : "");
				str_copy(res->host, sizeof(res->host), list.mx[i].host);
			}
			continue;
		}
		for (size_t j = 0; j < na; j++) {
			struct err e2 = { 0 };
			rc = smtp_send_host(opts, addrs[j], mail_from, rcpt, nrcpt, msg, &r, &e2);
			str_copy(r.host, sizeof(r.host), list.mx[i].host);
			str_copy(r.addr, sizeof(r.addr), addrs[j]);
			*res = r;
			tried = true;
			if (rc == 0 || rc == SMTP_EPERM)
				goto out;
			log_info("smtp: temporary failure domain=%s host=%s addr=%s error=\"%s\"",
			         domain, list.mx[i].host, addrs[j], e2.msg);
		}
	}
out:
	free(addrs);
	smtp_mx_list_clear(&list);
	if (rc == 0)
		return 0;
	if (!tried)
		return err_set(e, ERR_AGAIN, "smtp: %s: %s", domain, res->error);
	return err_set(e, outcome_rc(res->outcome), "smtp: %s: %s[%s]: %s", domain, res->host,
	               res->addr,
	               res->code >= 400 && res->text[0] ? res->text
	               : res->error[0]                  ? res->error
	                                                : res->text);
}
