/*
 * alerts_notify.c - sending alerts and remembering when (see alerts.h): the webhook
 * JSON (docs/alerts.md), the alert mail (RFC 5322, RFC 3834 Auto-Submitted), the state
 * file that carries cool-downs across restarts, and one evaluation pass.
 *
 * State file: one line per alert key, "KEY<TAB>UNIX-SECONDS", written to a temporary
 * file and renamed over the old one (a crash leaves the old or the new state).  Keys
 * never hold control characters (alert_add replaces them).
 * Threading: one pass at a time per state file (the daemon has one alert thread; the
 * CLI's `alerts run` should not run beside the daemon on the same file).
 */
#include "outbound/alerts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/http_client.h"
#include "net/smtp_client.h"
#include "outbound/outbound_metrics.h"
#include "util/file.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/str.h"
#include "util/xalloc.h"

enum { STATE_MAX = 4 << 20, MAX_KEYS = 100000 };

/* ------------------------------------------------------------------ state */

struct state_entry {
	char *key;
	int64_t when;
};

struct alerts_state {
	char *path;
	struct state_entry *v;
	size_t n, cap;
};

const char *
alerts_state_path(const struct conf *c)
{
	static _Thread_local char path[4096];
	const char *set = conf_str(c, "alerts.state-file");
	const char *backend = conf_enum(c, "store.backend");

	if (set != NULL && *set != '\0')
		str_copy(path, sizeof(path), set);
	else if (backend != NULL && strcmp(backend, "sqlite") == 0)
		snprintf(path, sizeof(path), "%s.alerts", conf_str(c, "store.path"));
	else
		str_copy(path, sizeof(path), "/var/lib/tlsrptd/alerts.state");
	return path;
}

void
alerts_state_set(struct alerts_state *st, const char *key, int64_t when)
{
	for (size_t i = 0; i < st->n; i++) {
		if (strcmp(st->v[i].key, key) == 0) {
			st->v[i].when = when;
			return;
		}
	}
	if (st->n >= MAX_KEYS)
		return;
	if (st->n == st->cap) {
		st->cap = st->cap ? 2 * st->cap : 16;
		st->v = xreallocarray(st->v, st->cap, sizeof(*st->v));
	}
	st->v[st->n].key = xstrdup(key);
	st->v[st->n].when = when;
	st->n++;
}

int64_t
alerts_state_last(const struct alerts_state *st, const char *key)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->v[i].key, key) == 0)
			return st->v[i].when;
	return 0;
}

int
alerts_state_load(const char *path, struct alerts_state **out, struct err *e)
{
	struct alerts_state *st = xcalloc(1, sizeof(*st));
	struct buf b;
	int rc = 0;

	st->path = xstrdup(path);
	buf_init(&b, STATE_MAX);
	if (access(path, F_OK) == 0 && (rc = file_read(path, &b, e)) != 0) {
		err_prefix(e, "alert state %s", path);
		goto out;
	}
	for (const char *p = buf_cstr(&b); *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		const char *tab = memchr(p, '\t', len);
		int64_t when;

		if (len > 0 && p[0] != '#') {
			if (tab == NULL ||
			    str_to_i64(span_make(tab + 1, len - (size_t)(tab + 1 - p)), &when) !=
			            0) {
				rc = err_set(
				        e, ERR_INVALID,
				        "alert state %s: malformed line \"%.*s\"; delete the file "
				        "to start afresh",
				        path, (int)(len > 80 ? 80 : len), p);
				goto out;
			}
			char *key = xstrndup(p, (size_t)(tab - p));
			alerts_state_set(st, key, when);
			free(key);
		}
		p += len + (nl != NULL);
	}
out:
	buf_clear(&b);
	if (rc) {
		alerts_state_free(st);
		st = NULL;
	}
	*out = st;
	return rc;
}

int
alerts_state_save(struct alerts_state *st, int64_t forget_before, struct err *e)
{
	char tmp[4200];
	FILE *f;
	int ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", st->path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return err_set(e, ERR_IO, "alert state %s: %s", tmp, strerror(errno));
	fprintf(f, "# tlsrptd alert state: key<TAB>last sent (Unix seconds)\n");
	for (size_t i = 0; i < st->n; i++)
		if (st->v[i].when >= forget_before)
			fprintf(f, "%s\t%lld\n", st->v[i].key, (long long)st->v[i].when);
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, st->path) != 0) {
		int err = errno;
		unlink(tmp);
		return err_set(e, ERR_IO, "alert state %s: %s", st->path, strerror(err));
	}
	return 0;
}

void
alerts_state_free(struct alerts_state *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->n; i++)
		free(st->v[i].key);
	free(st->v);
	free(st->path);
	free(st);
}

/* ------------------------------------------------------------------ payload */

static int
json_str(struct buf *b, const char *s)
{
	int rc = buf_putc(b, '"');

	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); rc == 0 && *p; p++) {
		if (*p == '"' || *p == '\\')
			rc = buf_printf(b, "\\%c", *p);
		else if (*p < 0x20)
			rc = buf_printf(b, "\\u%04x", *p);
		else
			rc = buf_putc(b, (char)*p);
	}
	return rc ? rc : buf_putc(b, '"');
}

static int
json_member(struct buf *b, const char *name, const char *value)
{
	int rc = buf_printf(b, ",\"%s\":", name);

	return rc ? rc : json_str(b, value);
}

/* A number with at most 6 decimals, without trailing zeros ("0.05", "0.0538", "3"). */
static int
json_num(struct buf *b, const char *name, double v)
{
	char t[64];
	size_t n;

	snprintf(t, sizeof(t), "%.6f", v);
	n = strlen(t);
	while (n > 1 && t[n - 1] == '0')
		n--;
	if (t[n - 1] == '.')
		n--;
	return buf_printf(b, ",\"%s\":%.*s", name, (int)n, t);
}

int
alerts_payload(const struct conf *c, const struct alert *a, struct buf *out, struct err *e)
{
	char since[TIME_RFC3339_LEN], until[TIME_RFC3339_LEN], at[TIME_RFC3339_LEN];
	const char *host = conf_str(c, "server.hostname");
	int rc;

	time_format_rfc3339(a->since, since);
	time_format_rfc3339(a->until, until);
	time_format_rfc3339(a->fired_at, at);
	rc = buf_printf(out, "{\"source\":\"tlsrptd\",\"version\":1");
	if (rc == 0)
		rc = json_member(out, "alert", a->key);
	if (rc == 0)
		rc = json_member(out, "rule", a->rule);
	if (rc == 0)
		rc = json_member(out, "type", a->type);
	if (rc == 0 && strcmp(a->type, "test") == 0)
		rc = json_member(out, "rule_type", a->r ? a->r->type : "");
	if (rc == 0 && a->domain)
		rc = json_member(out, "domain", a->domain);
	if (rc == 0)
		rc = json_member(out, "subject", a->subject);
	if (rc == 0)
		rc = json_num(out, "value", a->value);
	if (rc == 0)
		rc = json_num(out, "threshold", a->threshold);
	if (rc == 0)
		rc = buf_printf(out, ",\"count\":%llu,\"total\":%llu", (unsigned long long)a->count,
		                (unsigned long long)a->total);
	if (rc == 0)
		rc = json_member(out, "since", since);
	if (rc == 0)
		rc = json_member(out, "until", until);
	if (rc == 0)
		rc = json_member(out, "fired_at", at);
	if (rc == 0 && host)
		rc = json_member(out, "host", host);
	if (rc == 0)
		rc = json_member(out, "summary", a->summary);
	/* "text": chat webhooks (Slack, Mattermost) show this field */
	if (rc == 0)
		rc = buf_append_str(out, ",\"text\":");
	if (rc == 0) {
		char *t = xstrdup(a->summary);
		struct buf tb;
		buf_init(&tb, 1 << 16);
		buf_printf(&tb, "tlsrptd alert %s: %s", a->key, t);
		rc = json_str(out, buf_cstr(&tb));
		buf_clear(&tb);
		free(t);
	}
	if (rc == 0)
		rc = buf_append_str(out, "}\n");
	if (rc)
		return err_set(e, ERR_TOOBIG, "alert payload too large");
	return 0;
}

/* ------------------------------------------------------------------ mail */

/* Appends s with control characters replaced (header values from outside). */
static int
header_text(struct buf *b, const char *s)
{
	int rc = 0;

	for (const unsigned char *p = (const unsigned char *)s; rc == 0 && *p; p++)
		rc = buf_putc(b, *p < 0x20 || *p == 0x7f ? '?' : (char)*p);
	return rc;
}

static char *
from_address(const struct conf *c, const struct alert *a, struct err *e)
{
	struct expr_var v = { "rcpt_domain", a->domain ? a->domain : "" };
	char *out = NULL;

	if (conf_eval_string(c, "report.tls.aggregate.from-address", &v, 1, &out, e) != 0)
		return NULL;
	return out;
}

int
alerts_mail(const struct conf *c, const struct alert *a, const char *to, struct buf *out,
            struct err *e)
{
	char date[TIME_RFC5322_LEN];
	char *from = from_address(c, a, e);
	const char *at;
	int rc = 0;

	if (from == NULL)
		return err_prefix(e, "report.tls.aggregate.from-address");
	at = strrchr(from, '@');
	time_format_rfc5322(a->fired_at, date);
	rc |= buf_printf(out, "From: tlsrptd alerts <%s>\r\nTo: <%s>\r\nDate: %s\r\n", from, to,
	                 date);
	rc |= buf_printf(out, "Message-ID: <alert.%016llx.%lld@%s>\r\n",
	                 (unsigned long long)hash_bytes(a->key, strlen(a->key), 0),
	                 (long long)a->fired_at, at ? at + 1 : "localhost");
	rc |= buf_append_str(out, "Subject: [tlsrptd] ");
	rc |= header_text(out, a->type);
	rc |= buf_append_str(out, ": ");
	rc |= header_text(out, a->subject);
	rc |= buf_printf(out, "\r\nAuto-Submitted: auto-generated\r\nTLS-Required: No\r\n"
	                      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
	                      "Content-Transfer-Encoding: 8bit\r\nX-Tlsrptd-Alert: ");
	rc |= header_text(out, a->key);
	rc |= buf_append_str(out, "\r\n\r\n");
	rc |= header_text(out, a->summary);
	rc |= buf_printf(out, "\r\n\r\nrule: %s (%s)\r\n", a->rule, a->r ? a->r->type : a->type);
	char since[TIME_RFC3339_LEN], until[TIME_RFC3339_LEN];
	time_format_rfc3339(a->since, since);
	time_format_rfc3339(a->until, until);
	rc |= buf_printf(out, "window: %s .. %s\r\nalert key: ", since, until);
	rc |= header_text(out, a->key);
	rc |= buf_append_str(out, "\r\n\r\n-- \r\nSent by tlsrptd; see docs/alerts.md to change "
	                          "the rule or its cool-down.\r\n");
	free(from);
	if (rc)
		return err_set(e, ERR_TOOBIG, "alert mail too large");
	return 0;
}

/* ------------------------------------------------------------------ sending */

static int
send_webhook(const struct conf *c, const struct alert *a, const char *url, struct buf *tr,
             struct err *e)
{
	struct http_opts o;
	struct http_result res;
	struct buf body;
	int rc;

	buf_init(&body, 1 << 20);
	rc = alerts_payload(c, a, &body, e);
	if (rc) {
		buf_clear(&body);
		return rc;
	}
	http_opts_default(&o);
	o.allow_http = strncmp(url, "http://", 7) == 0; /* the operator wrote http:// */
	o.connect_timeout_ms = 10000;
	o.timeout_ms = 30000;
	rc = http_post(&o, url, "application/json", buf_span(&body), &res, e);
	if (tr)
		buf_printf(tr, "webhook %s: %s (HTTP %ld)\n%s", url, rc == 0 ? "sent" : "failed",
		           res.status, buf_cstr(&body));
	http_result_clear(&res);
	buf_clear(&body);
	return rc;
}

static int
send_email(const struct conf *c, const struct alert *a, const char *to, struct buf *tr,
           struct err *e)
{
	struct smtp_relay_opts r;
	struct smtp_result res;
	struct buf msg;
	char *from = from_address(c, a, e);
	const char *rcpt[1] = { to };
	int rc;

	if (from == NULL)
		return err_prefix(e, "report.tls.aggregate.from-address");
	buf_init(&msg, 1 << 20);
	rc = alerts_mail(c, a, to, &msg, e);
	if (rc == 0) {
		smtp_relay_opts_default(&r);
		r.url = conf_str(c, "delivery.relay");
		r.helo_name = conf_str(c, "server.hostname");
		r.user = conf_str(c, "delivery.relay-user");
		r.password = conf_str(c, "delivery.relay-password");
		r.connect_timeout_ms = (long)conf_duration_ms(c, "delivery.connect-timeout");
		r.timeout_ms = (long)conf_duration_ms(c, "delivery.timeout");
		memset(&res, 0, sizeof(res));
		rc = smtp_send_relay(&r, from, rcpt, 1, buf_span(&msg), &res, e);
		if (tr)
			buf_printf(tr, "email to %s via %s: %s\n%s", to, r.url ? r.url : "relay",
			           rc == 0 ? "sent" : "failed", buf_cstr(&msg));
	}
	buf_clear(&msg);
	free(from);
	return rc;
}

int
alerts_send(const struct conf *c, const struct alert *a, struct buf *transcript, struct err *e)
{
	const struct alert_rule *r = a->r;
	int last = 0;

	log_info("alert fired alert=%s summary=\"%s\"", a->key, a->summary);
	if (r == NULL)
		return 0;
	if (r->webhook) {
		struct err we = { 0 };
		int rc = send_webhook(c, a, r->webhook, transcript, &we);
		outbound_metrics_alert(a->type, "webhook", rc == 0);
		if (rc) {
			log_warn("alert webhook failed alert=%s url=%s error=\"%s\"", a->key,
			         r->webhook, we.msg);
			last = err_set(e, rc, "webhook: %s", we.msg);
		}
	}
	if (r->email) {
		struct err me = { 0 };
		int rc = send_email(c, a, r->email, transcript, &me);
		outbound_metrics_alert(a->type, "email", rc == 0);
		if (rc) {
			log_warn("alert mail failed alert=%s to=%s error=\"%s\"", a->key, r->email,
			         me.msg);
			last = err_set(e, rc, "email: %s", me.msg);
		}
	}
	return last;
}

int
alerts_run(const struct conf *c, struct store *s, const struct clock *clk, bool dry_run,
           struct alert_list *out, struct alerts_pass *st, struct err *e)
{
	struct alert_rule *rules = NULL;
	struct alert_list l = { 0 };
	struct alerts_state *state = NULL;
	int64_t now = clock_now(clk), longest = 0;
	size_t n = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = alerts_rules_load(c, &rules, &n, e);
	if (rc == 0)
		rc = alerts_state_load(alerts_state_path(c), &state, e);
	if (rc == 0)
		rc = alerts_evaluate(rules, n, s, now, &l, e);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		struct alert *a = &l.v[i];
		int64_t last = alerts_state_last(state, a->key);
		struct err se = { 0 };

		if (a->cooldown > longest)
			longest = a->cooldown;
		st->fired++;
		if (last > 0 && now - last < a->cooldown) {
			st->suppressed++;
			continue;
		}
		if (dry_run) {
			st->sent++;
			continue;
		}
		if (alerts_send(c, a, NULL, &se) != 0) {
			st->failed++; /* not recorded: tried again at the next pass */
			continue;
		}
		st->sent++;
		alerts_state_set(state, a->key, now);
	}
	if (rc == 0 && !dry_run && st->sent > 0)
		rc = alerts_state_save(state, now - longest - 86400, e);
	if (out) {
		for (size_t i = 0; i < l.n; i++) { /* hand the alerts over */
			if (out->n == out->cap) {
				out->cap = out->cap ? 2 * out->cap : 8;
				out->v = xreallocarray(out->v, out->cap, sizeof(*out->v));
			}
			out->v[out->n] = l.v[i];
			out->v[out->n++].r = NULL; /* the rules are freed below */
		}
		free(l.v);
	} else {
		alert_list_clear(&l);
	}
	alerts_state_free(state);
	free(rules);
	return rc;
}
