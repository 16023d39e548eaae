/*
 * client.c - the client library for MTAs.  See include/tlsrptd.h for the contract.
 *
 * Builds the libtlsrpt dpv 1 JSON document (../shared/spec/libtlsrpt-datagram.md,
 * byte for byte: `"key": "str"` for strings, `"key":num` for numbers) directly into a
 * per-connection buffer: no allocation and no stdio per result.  JSON escaping per
 * RFC 8259 section 7 (", \, control characters, and DEL as \u007f like libtlsrpt);
 * UTF-8 is validated per RFC 3629.  Depends on libc only.
 *
 * Threading: no global mutable state; a connection belongs to one thread at a time.
 */
#include "tlsrptd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum {
	CLIENT_BUF = 65536,
};

enum state {
	ST_IDLE = 0, /* no result in progress */
	ST_RESULT,   /* begun, no policy yet */
	ST_POLICY,   /* policy head written */
	ST_STRINGS,  /* inside "policy-string":[ */
	ST_MX,       /* inside "mx-host":[ */
	ST_DETAILS,  /* inside "failure-details":[ */
};

struct tlsrptd_conn {
	int fd;
	int flags;
	bool connected;
	bool have_path;
	struct sockaddr_un sa;
	enum state state;
	unsigned npolicies;
	unsigned nitems;   /* entries in the current list */
	unsigned ndetails; /* failure details of the current policy */
	bool has_ts;
	bool rpt;
	int64_t ts;
	size_t len;
	size_t last_len;
	char buf[CLIENT_BUF];
};

const char *
tlsrptd_client_strerror(int code)
{
	switch (code) {
	case TLSRPTD_OK:
		return "success";
	case TLSRPTD_EINVAL:
		return "invalid argument";
	case TLSRPTD_ESTATE:
		return "call out of order";
	case TLSRPTD_ETOOBIG:
		return "result too large for one datagram";
	case TLSRPTD_EUTF8:
		return "string is not valid UTF-8";
	case TLSRPTD_EAGAIN:
		return "collector queue full, result dropped";
	case TLSRPTD_ECONN:
		return "collector socket not reachable";
	case TLSRPTD_ENOMEM:
		return "out of memory";
	default:
		return "unknown error";
	}
}

int
tlsrptd_client_open(const char *socket_path, int flags, struct tlsrptd_conn **out)
{
	struct tlsrptd_conn *c;
	size_t n;

	if (out == NULL)
		return TLSRPTD_EINVAL;
	*out = NULL;
	if (flags & ~TLSRPTD_NONBLOCK)
		return TLSRPTD_EINVAL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return TLSRPTD_ENOMEM;
	c->fd = -1;
	c->flags = flags;
	if (socket_path != NULL) {
		n = strlen(socket_path);
		if (n == 0 || n >= sizeof(c->sa.sun_path)) {
			free(c);
			return TLSRPTD_EINVAL;
		}
		c->sa.sun_family = AF_UNIX;
		memcpy(c->sa.sun_path, socket_path, n + 1);
		c->have_path = true;
	}
	*out = c;
	return TLSRPTD_OK;
}

void
tlsrptd_client_close(struct tlsrptd_conn *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* ---------------------------------------------------------------- writing */

static inline int
put(struct tlsrptd_conn *c, const char *p, size_t n)
{
	if (n > CLIENT_BUF - c->len)
		return TLSRPTD_ETOOBIG;
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	return TLSRPTD_OK;
}

#define PUT_LIT(c, s) put((c), (s), sizeof(s) - 1)

static int
put_uint(struct tlsrptd_conn *c, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return put(c, tmp + i, sizeof(tmp) - i);
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static size_t
utf8_seq(const unsigned char *p)
{
	unsigned char c = p[0];

	if (c >= 0xC2 && c <= 0xDF)
		return (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if ((p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && p[1] < 0xA0)
			return 0; /* overlong */
		if (c == 0xED && p[1] >= 0xA0)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if ((p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && p[1] < 0x90)
			return 0;
		if (c == 0xF4 && p[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

/* Writes s as a JSON string (with quotes), validating UTF-8. */
static int
put_str(struct tlsrptd_conn *c, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	char *out, *lim;

	/* worst case 6 output bytes per input byte is checked as we go */
	if (c->len >= CLIENT_BUF)
		return TLSRPTD_ETOOBIG;
	out = c->buf + c->len;
	lim = c->buf + CLIENT_BUF;
	if (lim - out < 2)
		return TLSRPTD_ETOOBIG;
	*out++ = '"';
	for (; *p; p++) {
		unsigned char ch = *p;
		if (lim - out < 8)
			return TLSRPTD_ETOOBIG;
		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
			*out++ = (char)ch;
			continue;
		}
		if (ch >= 0x80) {
			size_t n = utf8_seq(p);
			if (n == 0)
				return TLSRPTD_EUTF8;
			memcpy(out, p, n);
			out += n;
			p += n - 1;
			continue;
		}
		*out++ = '\\';
		switch (ch) {
		case '"':
			*out++ = '"';
			break;
		case '\\':
			*out++ = '\\';
			break;
		case '\n':
			*out++ = 'n';
			break;
		case '\r':
			*out++ = 'r';
			break;
		case '\t':
			*out++ = 't';
			break;
		default:
			*out++ = 'u';
			*out++ = '0';
			*out++ = '0';
			*out++ = hex[ch >> 4];
			*out++ = hex[ch & 15];
		}
	}
	if (lim - out < 1)
		return TLSRPTD_ETOOBIG;
	*out++ = '"';
	c->len = (size_t)(out - c->buf);
	return TLSRPTD_OK;
}

/* Any error discards the result in progress. */
static int
fail(struct tlsrptd_conn *c, int rc)
{
	c->state = ST_IDLE;
	c->len = 0;
	c->last_len = 0;
	return rc;
}

/* Closes the open list of the current policy, if any. */
static int
close_list(struct tlsrptd_conn *c)
{
	if (c->state == ST_STRINGS || c->state == ST_MX || c->state == ST_DETAILS) {
		c->state = ST_POLICY;
		return PUT_LIT(c, "]");
	}
	return TLSRPTD_OK;
}

/* Finishes the current policy object: "t":n,"f":x}. */
static int
close_policy(struct tlsrptd_conn *c)
{
	int rc = close_list(c);

	if (rc == 0)
		rc = PUT_LIT(c, ",\"t\":");
	if (rc == 0)
		rc = put_uint(c, c->ndetails);
	if (rc == 0)
		rc = c->ndetails ? PUT_LIT(c, ",\"f\":1}") : PUT_LIT(c, ",\"f\":0}");
	return rc;
}

int
tlsrptd_client_begin(struct tlsrptd_conn *c, const char *domain, const char *record)
{
	int rc;

	if (c == NULL)
		return TLSRPTD_EINVAL;
	c->state = ST_IDLE;
	c->len = 0;
	c->last_len = 0;
	if (domain == NULL || *domain == '\0' || record == NULL)
		return TLSRPTD_EINVAL;
	c->npolicies = 0;
	c->has_ts = false;
	c->rpt = false;
	rc = PUT_LIT(c, "{\"dpv\": \"1\",\"d\": ");
	if (rc == 0)
		rc = put_str(c, domain);
	if (rc == 0)
		rc = PUT_LIT(c, ",\"pr\": ");
	if (rc == 0)
		rc = put_str(c, record);
	if (rc == 0)
		rc = PUT_LIT(c, ",\"policies\":[");
	if (rc)
		return fail(c, rc);
	c->state = ST_RESULT;
	return TLSRPTD_OK;
}

int
tlsrptd_client_policy(struct tlsrptd_conn *c, enum tlsrptd_policy_type type,
                      const char *policy_domain)
{
	int rc = 0;

	if (c == NULL)
		return TLSRPTD_EINVAL;
	if (c->state == ST_IDLE)
		return TLSRPTD_ESTATE;
	if (type != TLSRPTD_POLICY_TLSA && type != TLSRPTD_POLICY_STS &&
	    type != TLSRPTD_POLICY_NONE)
		return fail(c, TLSRPTD_EINVAL);
	if (c->state != ST_RESULT) {
		rc = close_policy(c);
		if (rc == 0)
			rc = PUT_LIT(c, ",");
	}
	if (rc == 0)
		rc = PUT_LIT(c, "{\"policy-type\":");
	if (rc == 0)
		rc = put_uint(c, (uint64_t)type);
	if (rc == 0 && policy_domain != NULL) {
		rc = PUT_LIT(c, ",\"policy-domain\": ");
		if (rc == 0)
			rc = put_str(c, policy_domain);
	}
	if (rc)
		return fail(c, rc);
	c->state = ST_POLICY;
	c->npolicies++;
	c->ndetails = 0;
	return TLSRPTD_OK;
}

/* Adds s to the list `want` ("policy-string" / "mx-host") of the current policy. */
static int
add_item(struct tlsrptd_conn *c, enum state want, const char *head, size_t head_len, const char *s)
{
	int rc = 0;

	if (c == NULL)
		return TLSRPTD_EINVAL;
	if (c->state < ST_POLICY || c->state > want)
		return c->state == ST_IDLE ? TLSRPTD_ESTATE : fail(c, TLSRPTD_ESTATE);
	if (s == NULL)
		return fail(c, TLSRPTD_EINVAL);
	if (c->state != want) {
		rc = close_list(c);
		if (rc == 0)
			rc = put(c, head, head_len);
		c->state = want;
		c->nitems = 0;
	} else {
		rc = PUT_LIT(c, ",");
	}
	if (rc == 0)
		rc = put_str(c, s);
	if (rc)
		return fail(c, rc);
	c->nitems++;
	return TLSRPTD_OK;
}

int
tlsrptd_client_policy_string(struct tlsrptd_conn *c, const char *s)
{
	static const char head[] = ",\"policy-string\":[";
	return add_item(c, ST_STRINGS, head, sizeof(head) - 1, s);
}

int
tlsrptd_client_mx_host(struct tlsrptd_conn *c, const char *pattern)
{
	static const char head[] = ",\"mx-host\":[";
	return add_item(c, ST_MX, head, sizeof(head) - 1, pattern);
}

int
tlsrptd_client_failure(struct tlsrptd_conn *c, enum tlsrptd_result_type type,
                       const struct tlsrptd_failure *f)
{
	static const char keys[6] = { 's', 'n', 'h', 'r', 'a', 'f' };
	const char *vals[6] = { NULL };
	int rc = 0;

	if (c == NULL)
		return TLSRPTD_EINVAL;
	if (c->state < ST_POLICY)
		return c->state == ST_IDLE ? TLSRPTD_ESTATE : fail(c, TLSRPTD_ESTATE);
	if (!((type >= 201 && type <= 205) || (type >= 301 && type <= 306)))
		return fail(c, TLSRPTD_EINVAL);
	if (f != NULL) {
		vals[0] = f->sending_mta_ip;
		vals[1] = f->receiving_mx_hostname;
		vals[2] = f->receiving_mx_helo;
		vals[3] = f->receiving_ip;
		vals[4] = f->additional_information;
		vals[5] = f->failure_reason_code;
	}
	if (c->state != ST_DETAILS) {
		rc = close_list(c);
		if (rc == 0)
			rc = PUT_LIT(c, ",\"failure-details\":[");
		c->state = ST_DETAILS;
	} else {
		rc = PUT_LIT(c, ",");
	}
	if (rc == 0)
		rc = PUT_LIT(c, "{\"c\":");
	if (rc == 0)
		rc = put_uint(c, (uint64_t)type);
	for (int i = 0; rc == 0 && i < 6; i++) {
		char head[6] = { ',', '"', keys[i], '"', ':', ' ' };
		if (vals[i] == NULL)
			continue;
		rc = put(c, head, sizeof(head));
		if (rc == 0)
			rc = put_str(c, vals[i]);
	}
	if (rc == 0)
		rc = PUT_LIT(c, "}");
	if (rc)
		return fail(c, rc);
	c->ndetails++;
	return TLSRPTD_OK;
}

int
tlsrptd_client_set_time(struct tlsrptd_conn *c, int64_t unix_seconds)
{
	if (c == NULL || unix_seconds < 0)
		return TLSRPTD_EINVAL;
	if (c->state == ST_IDLE)
		return TLSRPTD_ESTATE;
	c->ts = unix_seconds;
	c->has_ts = true;
	return TLSRPTD_OK;
}

int
tlsrptd_client_set_report_delivery(struct tlsrptd_conn *c, int yes)
{
	if (c == NULL)
		return TLSRPTD_EINVAL;
	if (c->state == ST_IDLE)
		return TLSRPTD_ESTATE;
	c->rpt = yes != 0;
	return TLSRPTD_OK;
}

static int
do_connect(struct tlsrptd_conn *c)
{
	if (c->fd < 0) {
		c->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (c->fd < 0)
			return TLSRPTD_ECONN;
	}
	if (connect(c->fd, (const struct sockaddr *)&c->sa, sizeof(c->sa)) < 0)
		return TLSRPTD_ECONN;
	c->connected = true;
	return TLSRPTD_OK;
}

static int
transmit(struct tlsrptd_conn *c)
{
	int flags = (c->flags & TLSRPTD_NONBLOCK) ? MSG_DONTWAIT : 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		ssize_t n;
		if (!c->connected && do_connect(c) != 0)
			return TLSRPTD_ECONN;
		n = send(c->fd, c->buf, c->last_len, flags | MSG_NOSIGNAL);
		if (n == (ssize_t)c->last_len)
			return TLSRPTD_OK;
		if (n < 0 && errno == EINTR) {
			attempt--;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return TLSRPTD_EAGAIN;
		if (n < 0 && errno == EMSGSIZE)
			return TLSRPTD_ETOOBIG;
		/* the collector restarted (new socket file) or went away: reconnect once */
		close(c->fd);
		c->fd = -1;
		c->connected = false;
	}
	return TLSRPTD_ECONN;
}

int
tlsrptd_client_finish(struct tlsrptd_conn *c)
{
	int rc;

	if (c == NULL)
		return TLSRPTD_EINVAL;
	if (c->state == ST_IDLE)
		return TLSRPTD_ESTATE;
	if (c->state == ST_RESULT)
		return fail(c, TLSRPTD_ESTATE); /* no policy */
	rc = close_policy(c);
	if (rc == 0)
		rc = PUT_LIT(c, "]");
	if (rc == 0 && c->has_ts) {
		rc = PUT_LIT(c, ",\"ts\":");
		if (rc == 0)
			rc = put_uint(c, (uint64_t)c->ts);
	}
	if (rc == 0 && c->rpt)
		rc = PUT_LIT(c, ",\"rpt\":1");
	if (rc == 0)
		rc = PUT_LIT(c, "}");
	if (rc)
		return fail(c, rc);
	c->state = ST_IDLE;
	c->last_len = c->len;
	c->len = 0;
	if (!c->have_path)
		return TLSRPTD_OK;
	return transmit(c);
}

int
tlsrptd_client_last(const struct tlsrptd_conn *c, const char **p, size_t *len)
{
	if (c == NULL || p == NULL || len == NULL)
		return TLSRPTD_EINVAL;
	*p = c->buf;
	*len = c->last_len;
	return TLSRPTD_OK;
}
