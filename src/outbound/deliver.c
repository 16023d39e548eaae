/*
 * deliver.c - one delivery pass over the outbox (RFC 8460 section 3: the current
 * TLSRPT record decides; 5.3 mail with DKIM; 5.4 HTTPS POST; 5.5 retries).
 *
 * Per report with a due row: look up _smtp._tls.<domain> TXT now; no record, several
 * TLSRPT records, or no usable URI give up every due row of the report (logged).  Then
 * every due row is claimed (store outbox_claim: one conditional UPDATE; a lease of
 * delivery.timeout + 60 s covers a crash mid-attempt) and tried on its own:
 *   mailto: compose_report_message, one DKIM-Signature per `sign` id prepended,
 *           smtp_send_relay (delivery.mode relay) or smtp_send_mx (direct).  2xx sent,
 *           4xx / no answer failed (retried), 5xx given-up.
 *   https:  http_post of the gzip body (application/tlsrpt+gzip); 2xx sent, anything
 *           else failed (retried); a URL that can never work given-up.
 * A failed row is retried after deliver_backoff(); when that lands after created +
 * delivery.retry-until the row is given up instead.  Sent is final.
 * delivery.daily-cap: a destination that had its cap of reports sent today (UTC; store
 * outbox_sent_count over sent rows, so it survives restarts) is not attempted; the row
 * waits for the next UTC midnight (outbox_defer: state failed, attempts kept), or is
 * given up when that is past retry-until.  Logged once per destination and pass.
 * Report mail sent here is never recorded as a TLS result (smtp_client records none).
 * Threading: see deliver.h.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/compose.h"
#include "net/http_client.h"
#include "net/smtp_client.h"
#include "outbound/deliver.h"
#include "outbound/outbound_metrics.h"
#include "report/txtrec.h"
#include "util/log.h"
#include "util/str.h"
#include "util/xalloc.h"

#define BACKOFF_BASE 300
#define BACKOFF_CAP (4 * 3600)
#define MAX_MESSAGE (64u << 20)
#define DAY_SECONDS 86400

int64_t
deliver_backoff(uint32_t attempts, double jitter01)
{
	int64_t d = BACKOFF_BASE;

	for (uint32_t i = 1; i < attempts && d < BACKOFF_CAP; i++)
		d *= 2;
	if (d > BACKOFF_CAP)
		d = BACKOFF_CAP;
	if (jitter01 < 0 || jitter01 >= 1)
		jitter01 = 0;
	return d + (int64_t)((double)(d / 4) * jitter01);
}

/* Formats into out (truncating). */
static void fmt(char *out, size_t n, const char *f, ...) __attribute__((format(printf, 3, 4)));

static void
fmt(char *out, size_t n, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(out, n, f, ap);
	va_end(ap);
}

/* A copy of what one report's delivery needs (outbox_get's data lives only in the
 * callback). */
struct job {
	int64_t id, start, end, created;
	char *domain, *report_id, *filename;
	unsigned char *body;
	size_t body_len;
	struct store_delivery *rows;
	size_t n_rows;
};

static void
job_clear(struct job *j)
{
	free(j->domain);
	free(j->report_id);
	free(j->filename);
	free(j->body);
	for (size_t i = 0; i < j->n_rows; i++) {
		free((char *)j->rows[i].dest);
		free((char *)j->rows[i].last_error);
	}
	free(j->rows);
	memset(j, 0, sizeof(*j));
}

static int
copy_job(void *ctx, const struct store_outbox_report *r)
{
	struct job *j = ctx;

	j->id = r->id;
	j->start = r->start;
	j->end = r->end;
	j->created = r->created;
	j->domain = xstrdup(r->domain ? r->domain : "");
	j->report_id = xstrdup(r->report_id ? r->report_id : "");
	j->filename = xstrdup(r->filename ? r->filename : "report.json.gz");
	j->body = xmemdup(r->body ? (const void *)r->body : (const void *)"", r->body_len + 1);
	j->body_len = r->body_len;
	j->rows = xcalloc(r->n_deliveries + 1, sizeof(*j->rows));
	for (size_t i = 0; i < r->n_deliveries; i++) {
		j->rows[i] = r->deliveries[i];
		j->rows[i].dest = xstrdup(r->deliveries[i].dest);
		j->rows[i].last_error =
		        r->deliveries[i].last_error ? xstrdup(r->deliveries[i].last_error) : NULL;
	}
	j->n_rows = r->n_deliveries;
	return 0;
}

/* Per-pass state. */
struct pass {
	const struct deliver_opts *o;
	struct deliver_stats *st;
	int64_t now;
	int64_t retry_until; /* seconds after created */
	int64_t lease;       /* seconds a claim lasts */
	uint64_t rnd;
	int64_t daily_cap; /* delivery.daily-cap; 0 = none */
	char **capped;     /* destinations whose cap was logged in this pass */
	size_t n_capped;
};

static double
next_jitter(struct pass *p)
{
	p->rnd ^= p->rnd << 13;
	p->rnd ^= p->rnd >> 7;
	p->rnd ^= p->rnd << 17;
	return (double)(p->rnd >> 11) / 9007199254740992.0;
}

static bool
due(const struct store_delivery *d, int64_t now)
{
	return (d->state == STORE_DELIVERY_PENDING || d->state == STORE_DELIVERY_FAILED) &&
	       d->next_try <= now;
}

enum outcome { OUT_SENT, OUT_TEMP, OUT_PERM };

/* Writes the outcome of one claimed row back. */
static int
settle(struct pass *p, const struct job *j, const struct store_delivery *d, enum outcome oc,
       const char *why, struct err *e)
{
	enum store_delivery_state state;
	int64_t next = 0;
	char msg[600];

	str_copy(msg, sizeof(msg), why ? why : "");
	switch (oc) {
	case OUT_SENT:
		state = STORE_DELIVERY_SENT;
		next = p->now; /* the sent time (delivery.daily-cap counts it) */
		p->st->sent++;
		log_info("report delivered report_id=%s domain=%s rua=%s", j->report_id, j->domain,
		         d->dest);
		break;
	case OUT_TEMP:
		next = p->now + deliver_backoff(d->attempts + 1, next_jitter(p));
		if (next > j->created + p->retry_until) {
			struct buf b;

			buf_init(&b, sizeof(msg));
			buf_printf(&b, "retry-until passed; last error: %s", why ? why : "");
			str_copy(msg, sizeof(msg), buf_cstr(&b));
			buf_clear(&b);
			state = STORE_DELIVERY_GIVEN_UP;
			next = 0;
			p->st->given_up++;
			log_warn("report delivery given up report_id=%s domain=%s rua=%s "
			         "error=\"%s\"",
			         j->report_id, j->domain, d->dest, msg);
		} else {
			state = STORE_DELIVERY_FAILED;
			p->st->failed++;
			log_warn("report delivery failed report_id=%s domain=%s rua=%s "
			         "next_try=%lld "
			         "error=\"%s\"",
			         j->report_id, j->domain, d->dest, (long long)next, msg);
		}
		break;
	default:
		state = STORE_DELIVERY_GIVEN_UP;
		p->st->given_up++;
		log_warn("report delivery given up report_id=%s domain=%s rua=%s error=\"%s\"",
		         j->report_id, j->domain, d->dest, msg);
		break;
	}
	outbound_metrics_delivery(d->dest, state);
	return p->o->store->ops->outbox_delivery_update(p->o->store, j->id, d->dest, state, next,
	                                                oc == OUT_SENT ? NULL : msg, e);
}

static char *
eval_str(const struct conf *c, const char *key, const char *domain, struct err *e)
{
	struct expr_var v = { "rcpt_domain", domain };
	char *out = NULL;

	if (conf_eval_string(c, key, &v, 1, &out, e) != 0)
		return NULL;
	return out;
}

/* Composes and signs the message for one mailto: destination into msg. */
static int
build_mail(struct pass *p, const struct job *j, const char *to, const char *from, struct buf *msg,
           struct err *e)
{
	const struct conf *c = p->o->conf;
	const char *rcpt[2] = { to, NULL };
	char *from_name = eval_str(c, "report.tls.aggregate.from-name", j->domain, NULL);
	char *org = eval_str(c, "report.tls.aggregate.org-name", j->domain, NULL);
	char *submitter = eval_str(c, "report.submitter", j->domain, e);
	struct compose_report r = { 0 };
	struct buf plain, sigs;
	int rc;

	if (submitter == NULL) {
		free(from_name);
		free(org);
		return err_prefix(e, "report.submitter");
	}
	r.from_name = from_name;
	r.from_address = from;
	r.to = rcpt;
	r.date = p->now;
	r.organization = org;
	r.policy_domain = j->domain;
	r.submitter = submitter;
	r.report_id = j->report_id;
	r.window_begin = j->start;
	r.window_end = j->end;
	r.filename = j->filename;
	r.gz = j->body;
	r.gz_len = j->body_len;
	buf_init(&plain, MAX_MESSAGE);
	buf_init(&sigs, 1 << 16);
	rc = compose_report_message(&r, &plain, e);
	if (rc == 0 && p->o->signers)
		rc = signers_sign(p->o->signers, j->domain, p->now, buf_span(&plain), &sigs, NULL,
		                  e);
	if (rc == 0 && (buf_append(msg, sigs.data, sigs.len) != 0 ||
	                buf_append(msg, plain.data, plain.len) != 0))
		rc = err_set(e, ERR_TOOBIG, "report message larger than %u bytes", MAX_MESSAGE);
	buf_clear(&plain);
	buf_clear(&sigs);
	free(from_name);
	free(org);
	free(submitter);
	return rc;
}

static enum outcome
send_mail(struct pass *p, const struct job *j, const char *to, char *why, size_t why_len)
{
	const struct conf *c = p->o->conf;
	struct err e = { 0 };
	struct buf msg;
	struct smtp_result res;
	char *from = eval_str(c, "report.tls.aggregate.from-address", j->domain, &e);
	const char *rcpt[1] = { to };
	const char *mode = conf_enum(c, "delivery.mode");
	int rc;

	memset(&res, 0, sizeof(res));
	if (from == NULL) {
		str_copy(why, why_len, e.msg);
		return OUT_TEMP; /* a configuration error: retried after the fix */
	}
	buf_init(&msg, MAX_MESSAGE + (1 << 16));
	rc = build_mail(p, j, to, from, &msg, &e);
	if (rc) {
		buf_clear(&msg);
		free(from);
		str_copy(why, why_len, e.msg);
		return rc == ERR_INVALID && strstr(e.msg, "sign") == NULL ? OUT_PERM : OUT_TEMP;
	}
	if (mode && strcmp(mode, "direct") == 0) {
		struct smtp_direct_opts d;
		const char *at = strrchr(to, '@');

		smtp_direct_opts_default(&d);
		d.port = p->o->direct_port;
		d.helo_name = conf_str(c, "server.hostname");
		d.connect_timeout_ms = (long)conf_duration_ms(c, "delivery.connect-timeout");
		d.timeout_ms = (long)conf_duration_ms(c, "delivery.timeout");
		rc = smtp_send_mx(p->o->dns, &d, at ? at + 1 : "", from, rcpt, 1, buf_span(&msg),
		                  &res, &e);
	} else {
		struct smtp_relay_opts r;

		smtp_relay_opts_default(&r);
		r.url = conf_str(c, "delivery.relay");
		r.helo_name = conf_str(c, "server.hostname");
		r.user = conf_str(c, "delivery.relay-user");
		r.password = conf_str(c, "delivery.relay-password");
		r.connect_timeout_ms = (long)conf_duration_ms(c, "delivery.connect-timeout");
		r.timeout_ms = (long)conf_duration_ms(c, "delivery.timeout");
		rc = smtp_send_relay(&r, from, rcpt, 1, buf_span(&msg), &res, &e);
	}
	buf_clear(&msg);
	free(from);
	if (rc == 0)
		return OUT_SENT;
	str_copy(why, why_len, e.msg);
	return rc == SMTP_EPERM || rc == ERR_INVALID ? OUT_PERM : OUT_TEMP;
}

static enum outcome
send_https(struct pass *p, const struct job *j, const char *url, char *why, size_t why_len)
{
	const struct conf *c = p->o->conf;
	struct http_opts h;
	struct http_result res;
	struct err e = { 0 };
	int rc;

	http_opts_default(&h);
	h.insecure = conf_bool(c, "delivery.https-ignore-cert");
	h.connect_timeout_ms = (long)conf_duration_ms(c, "delivery.connect-timeout");
	h.timeout_ms = (long)conf_duration_ms(c, "delivery.timeout");
	rc = http_post(&h, url, "application/tlsrpt+gzip",
	               (struct span){ (const char *)j->body, j->body_len }, &res, &e);
	http_result_clear(&res);
	if (rc == 0)
		return OUT_SENT;
	str_copy(why, why_len, e.msg);
	return rc == ERR_INVALID ? OUT_PERM : OUT_TEMP;
}

/* The current record of j->domain into *rec; 0, or OUT_TEMP / OUT_PERM with why. */
static int
current_record(struct pass *p, const struct job *j, struct txtrec *rec, char *why, size_t why_len)
{
	char name[DNS_NAME_MAX + 16];
	struct dns_answer *a = NULL;
	struct txtrec_rr *rrs;
	struct err e = { 0 };
	struct buf b;
	int rc;

	buf_init(&b, sizeof(name));
	buf_printf(&b, "_smtp._tls.%s", j->domain);
	str_copy(name, sizeof(name), buf_cstr(&b));
	buf_clear(&b);
	if (p->o->dns == NULL) {
		str_copy(why, why_len, "no DNS resolver");
		return OUT_TEMP;
	}
	rc = dns_lookup(p->o->dns, name, DNS_TYPE_TXT, &a, &e);
	if (rc == DNS_ETEMP || rc == ERR_AGAIN) {
		dns_answer_free(a);
		fmt(why, why_len, "%s TXT: temporary DNS failure: %s", name, e.msg);
		return OUT_TEMP;
	}
	if (rc) {
		dns_answer_free(a);
		fmt(why, why_len, "%s TXT: %s", name, e.msg);
		return OUT_PERM;
	}
	rrs = xcalloc(a->n + 1, sizeof(*rrs));
	for (size_t i = 0; i < a->n; i++) {
		rrs[i].strings = a->txt[i].strings;
		rrs[i].n_strings = a->txt[i].nstrings;
	}
	rc = txtrec_select(rrs, a->n, rec, &e);
	free(rrs);
	if (rc) {
		if (a->rcode == DNS_RCODE_NXDOMAIN || a->n == 0)
			fmt(why, why_len, "no TLSRPT record at %s (%s)", name,
			    dns_rcode_name(a->rcode));
		else
			fmt(why, why_len, "%s: %s", name, e.msg);
		dns_answer_free(a);
		return OUT_PERM;
	}
	dns_answer_free(a);
	return 0;
}

static const struct txtrec_rua *
find_rua(const struct txtrec *rec, const char *dest)
{
	for (size_t i = 0; i < rec->n_rua; i++)
		if (strcmp(rec->rua[i].uri, dest) == 0)
			return &rec->rua[i];
	return NULL;
}

/* The domain of a destination: after the last '@' of a mailto: address, the host of an
 * https: URL (no port, no user info; an IP literal stays as it is). */
static void
dest_domain(const struct txtrec_rua *rua, char *out, size_t cap)
{
	const char *t = rua->target, *end;

	if (rua->scheme == TXTREC_MAILTO) {
		const char *at = strrchr(t, '@');

		str_copy(out, cap, at ? at + 1 : t);
		return;
	}
	t += strncmp(t, "https://", 8) == 0 ? 8 : 0;
	end = t + strcspn(t, "/?#");
	for (const char *q = t; q < end; q++)
		if (*q == '@')
			t = q + 1;
	if (*t == '[') {
		const char *rb = memchr(t, ']', (size_t)(end - t));

		end = rb ? rb + 1 : end;
	} else {
		const char *colon = memchr(t, ':', (size_t)(end - t));

		end = colon ? colon : end;
	}
	if ((size_t)(end - t) >= cap)
		end = t + cap - 1;
	memcpy(out, t, (size_t)(end - t));
	out[end - t] = '\0';
}

/* Whether domain d is one of list[] or below one of them (case-insensitive). */
static bool
in_domains(const char *d, const char *const *list, size_t n)
{
	size_t dl = strlen(d);

	for (size_t i = 0; i < n; i++) {
		const char *x = list[i];
		size_t xl;

		while (*x == '.' || *x == '*')
			x++;
		xl = strlen(x);
		if (xl == 0 || xl > dl)
			continue;
		if (str_casecmp(d + dl - xl, x) == 0 && (dl == xl || d[dl - xl - 1] == '.'))
			return true;
	}
	return false;
}

/* NULL when rua may be used, else why not (delivery.allow-domains / deny-domains). */
static const char *
policy_refuses(const struct conf *c, const struct txtrec_rua *rua)
{
	size_t na = 0, nd = 0;
	const char *const *allow = conf_list(c, "delivery.allow-domains", &na);
	const char *const *deny = conf_list(c, "delivery.deny-domains", &nd);
	char dom[256];

	if (na == 0 && nd == 0)
		return NULL;
	dest_domain(rua, dom, sizeof(dom));
	if (nd > 0 && in_domains(dom, deny, nd))
		return "destination domain is in delivery.deny-domains";
	if (na > 0 && !in_domains(dom, allow, na))
		return "destination domain is not in delivery.allow-domains";
	return NULL;
}

static int
claim(struct pass *p, const struct job *j, const struct store_delivery *d, bool *ok, struct err *e)
{
	return p->o->store->ops->outbox_claim(p->o->store, j->id, d->dest, p->now,
	                                      p->now + p->lease, ok, e);
}

/* delivery.bcc: one mail copy of a delivered report (To: the archive address); its
 * failure is logged only, it never changes a delivery row. */
static void
send_copy(struct pass *p, const struct job *j)
{
	const char *bcc = conf_str(p->o->conf, "delivery.bcc");
	char why[600] = "";

	if (bcc == NULL || *bcc == '\0')
		return;
	if (send_mail(p, j, bcc, why, sizeof(why)) == OUT_SENT)
		log_info("report copy sent report_id=%s bcc=%s", j->report_id, bcc);
	else
		log_warn("report copy failed report_id=%s bcc=%s error=\"%s\"", j->report_id, bcc,
		         why);
}

/* Whether dest was already logged as capped in this pass (and remembers it). */
static bool
cap_logged(struct pass *p, const char *dest)
{
	for (size_t i = 0; i < p->n_capped; i++)
		if (strcmp(p->capped[i], dest) == 0)
			return true;
	p->capped = xrealloc(p->capped, (p->n_capped + 1) * sizeof(*p->capped));
	p->capped[p->n_capped++] = xstrdup(dest);
	return false;
}

static atomic_bool cap_unsupported_logged;

/*
 * delivery.daily-cap for one claimed row: 0 when d may be tried now; 1 when d->dest
 * already had its cap of reports sent today (UTC) and the row was deferred to the next
 * midnight (or given up when that is after retry-until); a negative code on a store
 * error.
 */
static int
daily_cap(struct pass *p, const struct job *j, const struct store_delivery *d, struct err *e)
{
	const struct store_ops *ops = p->o->store->ops;
	int64_t today = p->now - p->now % DAY_SECONDS;
	int64_t midnight = today + DAY_SECONDS;
	uint64_t sent = 0;
	char why[600];
	int rc;

	if (p->daily_cap <= 0)
		return 0;
	if (ops->outbox_sent_count == NULL || ops->outbox_defer == NULL) {
		if (!atomic_exchange(&cap_unsupported_logged, true))
			log_warn("delivery.daily-cap is not enforced: the %s store cannot count "
			         "sent reports",
			         ops->name);
		return 0;
	}
	rc = ops->outbox_sent_count(p->o->store, d->dest, today, &sent, e);
	if (rc)
		return rc;
	if (sent < (uint64_t)p->daily_cap)
		return 0;
	fmt(why, sizeof(why), "daily cap of %lld reports reached for %s", (long long)p->daily_cap,
	    d->dest);
	if (midnight > j->created + p->retry_until) {
		char gone[700];

		fmt(gone, sizeof(gone), "retry-until passes before the next UTC day; %s", why);
		rc = settle(p, j, d, OUT_PERM, gone, e);
		return rc ? rc : 1;
	}
	p->st->attempts--; /* claimed, not tried */
	p->st->deferred++;
	if (!cap_logged(p, d->dest))
		log_warn("report delivery deferred report_id=%s domain=%s rua=%s next_try=%lld "
		         "error=\"%s\"",
		         j->report_id, j->domain, d->dest, (long long)midnight, why);
	else
		log_debug("report delivery deferred report_id=%s rua=%s next_try=%lld",
		          j->report_id, d->dest, (long long)midnight);
	rc = ops->outbox_defer(p->o->store, j->id, d->dest, midnight, why, e);
	return rc ? rc : 1;
}

static int
deliver_job(struct pass *p, const struct job *j, struct err *e)
{
	struct txtrec rec = { 0 };
	bool copied = false;
	char why[600] = "";
	int rec_rc = -1;
	int rc = 0;

	p->st->reports++;
	for (size_t i = 0; i < j->n_rows && rc == 0; i++) {
		const struct store_delivery *d = &j->rows[i];
		const struct txtrec_rua *rua;
		enum outcome oc;
		bool ok = false;

		if (!due(d, p->now))
			continue;
		rc = claim(p, j, d, &ok, e);
		if (rc || !ok)
			continue;
		p->st->attempts++;
		if (rec_rc < 0) /* looked up once per report, after the first claim */
			rec_rc = current_record(p, j, &rec, why, sizeof(why));
		if (rec_rc != 0) {
			rc = settle(p, j, d, (enum outcome)rec_rc, why, e);
			continue;
		}
		rua = find_rua(&rec, d->dest);
		if (rua == NULL) {
			rc = settle(p, j, d, OUT_PERM,
			            "no longer published in the current TLSRPT record", e);
			continue;
		}
		const char *refused = policy_refuses(p->o->conf, rua);
		if (refused) {
			rc = settle(p, j, d, OUT_PERM, refused, e);
			continue;
		}
		int capped = daily_cap(p, j, d, e);
		if (capped != 0) {
			rc = capped < 0 ? capped : 0;
			continue;
		}
		char dwhy[600] = "";
		if (rua->scheme == TXTREC_MAILTO)
			oc = send_mail(p, j, rua->target, dwhy, sizeof(dwhy));
		else
			oc = send_https(p, j, rua->target, dwhy, sizeof(dwhy));
		rc = settle(p, j, d, oc, dwhy, e);
		if (rc == 0 && oc == OUT_SENT && !copied) {
			send_copy(p, j);
			copied = true;
		}
	}
	txtrec_clear(&rec);
	return rc;
}

int
deliver_pass(const struct deliver_opts *o, struct deliver_stats *st, struct err *e)
{
	struct clock real;
	const struct clock *clk = o->clock;
	struct pass p = { 0 };
	size_t max = o->max_reports ? o->max_reports : 100, n = 0;
	int64_t *ids = xcalloc(max, sizeof(*ids));
	int rc;

	if (clk == NULL) {
		clock_init_real(&real);
		clk = &real;
	}
	p.o = o;
	p.st = st;
	p.now = clock_now(clk);
	p.retry_until = conf_duration_ms(o->conf, "delivery.retry-until") / 1000;
	p.lease = conf_duration_ms(o->conf, "delivery.timeout") / 1000 + 60;
	p.daily_cap = conf_int(o->conf, "delivery.daily-cap");
	p.rnd = (uint64_t)clock_now_ns(clk) ^ 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&p;
	if (p.rnd == 0)
		p.rnd = 1;
	rc = o->store->ops->outbox_due(o->store, p.now, max, ids, &n, e);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct job j = { 0 };

		rc = o->store->ops->outbox_get(o->store, ids[i], copy_job, &j, e);
		if (rc == ERR_NOTFOUND) { /* purged meanwhile */
			rc = 0;
			continue;
		}
		if (rc == 0)
			rc = deliver_job(&p, &j, e);
		job_clear(&j);
	}
	free(ids);
	for (size_t i = 0; i < p.n_capped; i++)
		free(p.capped[i]);
	free(p.capped);
	return rc;
}
