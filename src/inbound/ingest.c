/*
 * ingest.c - received messages and report bodies into the store (issue 8).
 *
 * RFC 8460 section 5 (report delivery by mail and HTTPS), 5.3 (TLS-Report-Domain and
 * TLS-Report-Submitter), 3 (DKIM signatures on report mail, alignment with the
 * submitter); DESIGN.md "Rules for incoming reports".  The report is read tolerantly;
 * what cannot be a report is rejected with the reader's message.  Mail without a valid
 * aligned DKIM signature is stored unverified (unless it is unsigned and
 * accept_unsigned is set).  HTTP and file reports carry no signature and are stored as
 * verified (RFC 8460 gives HTTPS uploads no authentication).
 * Threading: one struct ingest per thread.
 */
#include "inbound/ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inbound/inbound_metrics.h"
#include "mail/dkim.h"
#include "mail/mime.h"
#include "report/gzip.h"
#include "report/report.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/hash.h"
#include "util/str.h"

struct verdict {
	char dkim[32];
	char detail[1024];
	bool verified;
};

const char *
ingest_channel_name(enum ingest_channel c)
{
	switch (c) {
	case INGEST_MAIL:
		return "mail";
	case INGEST_HTTP:
		return "http";
	case INGEST_FILE:
		return "file";
	}
	return "unknown";
}

static size_t
max_decoded(const struct ingest *in)
{
	return in->max_decoded ? in->max_decoded : GZIP_DEFAULT_MAX_OUT;
}

/* Copies the lower-cased host/domain of contact-info into out; false when none. */
static bool
contact_domain(const char *ci, char *out, size_t cap)
{
	const char *p, *end;
	size_t n;

	if (ci == NULL || cap == 0)
		return false;
	p = strrchr(ci, '@');
	if (p) {
		p++;
	} else if ((p = strstr(ci, "://")) != NULL) {
		p += 3;
	} else {
		return false;
	}
	end = p;
	while (*end && *end != '>' && *end != '/' && *end != ':' && *end != '?' && *end != ' ' &&
	       *end != ',' && *end != ';')
		end++;
	n = (size_t)(end - p);
	while (n && p[n - 1] == '.')
		n--;
	if (n == 0 || n >= cap)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	str_lower(out, strlen(out));
	return true;
}

void
ingest_submitter(const char *contact_info, const char *header_submitter, const char *organization,
                 char *out, size_t cap)
{
	const char *v;

	if (cap == 0)
		return;
	if (contact_domain(contact_info, out, cap))
		return;
	v = header_submitter && *header_submitter ? header_submitter
	    : organization && *organization       ? organization
	                                          : "unknown";
	str_copy(out, cap, v);
	str_lower(out, strlen(out));
}

/* Decompresses (when gzip) and reads one report.  *json holds the JSON bytes. */
static int
read_one(const struct ingest *in, struct span data, struct buf *json, struct report **out,
         struct err *e)
{
	int rc;

	if (gzip_is_gzip(data)) {
		rc = gzip_decompress(data, max_decoded(in), json, e);
		if (rc)
			return rc;
	} else if (buf_append_span(json, data) != 0) {
		return err_set(e, ERR_TOOBIG, "report larger than the cap of %zu bytes",
		               max_decoded(in));
	}
	return report_read(buf_span(json), NULL, out, e);
}

static int
key_lookup(void *ctx, const char *selector, const char *domain, struct buf *txt, struct err *e)
{
	struct ingest *in = ctx;
	struct dns_answer *a = NULL;
	char name[DNS_NAME_MAX + 80];
	int rc;

	if (in->dns == NULL)
		return err_set(e, ERR_AGAIN, "no DNS resolver configured for DKIM keys");
	if ((size_t)snprintf(name, sizeof(name), "%s._domainkey.%s", selector, domain) >=
	    sizeof(name))
		return err_set(e, ERR_NOTFOUND, "key name too long");
	rc = dns_lookup(in->dns, name, DNS_TYPE_TXT, &a, e);
	if (rc != 0) {
		dns_answer_free(a);
		return rc == ERR_INVALID ? err_set(e, ERR_NOTFOUND, "%s: not a domain name", name)
		                         : err_set(e, ERR_AGAIN, "%s: DNS lookup failed", name);
	}
	if (a->n == 0) {
		rc = err_set(e, ERR_NOTFOUND, "%s: no key record (%s)", name,
		             dns_rcode_name(a->rcode));
	} else if (buf_append_span(txt, a->txt[0].joined) != 0) {
		rc = err_set(e, ERR_NOTFOUND, "%s: key record too long", name);
	}
	dns_answer_free(a);
	return rc;
}

/* The DKIM verdict of message m for reporting domain `domain`. */
static void
judge(struct ingest *in, const struct mime_msg *m, const char *domain, struct verdict *v)
{
	struct mdkim_verify_opts o = {
		.lookup = key_lookup,
		.ctx = in,
		.now = clock_now(in->clock),
	};
	struct mdkim_verdict *vs = NULL;
	size_t n = 0;
	struct err e = { 0 };

	memset(v, 0, sizeof(*v));
	if (mdkim_verify(m, &o, &vs, &n, &e) != 0) {
		str_copy(v->dkim, sizeof(v->dkim), "permerror");
		str_copy(v->detail, sizeof(v->detail), e.msg);
		free(vs);
		return;
	}
	if (n == 0) {
		str_copy(v->dkim, sizeof(v->dkim), "none");
		v->verified = in->accept_unsigned;
		str_copy(v->detail, sizeof(v->detail),
		         in->accept_unsigned ? "message not DKIM-signed; accepted as unsigned"
		                             : "message not DKIM-signed");
		free(vs);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (vs[i].result == MDKIM_PASS && mdkim_aligned(in->psl, vs[i].domain, domain)) {
			str_copy(v->dkim, sizeof(v->dkim), "pass");
			snprintf(v->detail, sizeof(v->detail), "d=%s s=%s a=%s", vs[i].domain,
			         vs[i].selector, mdkim_alg_name(vs[i].alg));
			v->verified = true;
			free(vs);
			return;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (vs[i].result == MDKIM_PASS) {
			str_copy(v->dkim, sizeof(v->dkim), "misaligned");
			snprintf(v->detail, sizeof(v->detail),
			         "d=%s s=%s: signing domain not aligned with %s", vs[i].domain,
			         vs[i].selector, domain);
			free(vs);
			return;
		}
	}
	str_copy(v->dkim, sizeof(v->dkim), mdkim_result_name(vs[0].result));
	snprintf(v->detail, sizeof(v->detail), "d=%s s=%s: %s", vs[0].domain, vs[0].selector,
	         vs[0].reason);
	free(vs);
}

/* Stores one read report.  json is its JSON; gz its gzip bytes when it came as gzip. */
static int
store_one(struct ingest *in, const struct report *r, struct span json, struct span gz,
          enum ingest_channel ch, const char *hdr_submitter, const struct verdict *v,
          struct ingest_result *res, struct err *e)
{
	char submitter[256], rid[64];
	struct err se = { 0 };
	struct buf packed;
	int64_t id = 0;
	bool dup = false;
	int rc;

	ingest_submitter(r->contact_info, hdr_submitter, r->organization_name, submitter,
	                 sizeof(submitter));
	if (r->report_id == NULL)
		snprintf(rid, sizeof(rid), "no-report-id:%016llx",
		         (unsigned long long)hash_bytes(json.p, json.len, 0));
	buf_init(&packed, (size_t)INT32_MAX);
	if (gz.p == NULL) {
		rc = gzip_compress(json, &packed, e);
		if (rc) {
			buf_clear(&packed);
			return rc;
		}
		gz = buf_span(&packed);
	}
	struct store_received_in rec = {
		.report = r,
		.submitter = submitter,
		.report_id = r->report_id ? r->report_id : rid,
		.channel = ingest_channel_name(ch),
		.dkim = v->dkim,
		.dkim_detail = v->detail,
		.verified = v->verified,
		.received_at = clock_now(in->clock),
		.raw_gz = gz,
	};
	rc = in->store->ops->received_add(in->store, &rec, &id, &dup, &se);
	buf_clear(&packed);
	if (rc)
		return err_set(e, INGEST_ESTORE, "store unavailable: %s", se.msg);
	res->last_id = id;
	inbound_metrics_received(r, submitter, v->verified, dup);
	if (dup)
		res->duplicates++;
	else
		res->stored++;
	return 0;
}

static void
reject(struct ingest_result *res, const char *why)
{
	inbound_metrics_rejected();
	if (res->rejected++ == 0)
		str_copy(res->reject_reason, sizeof(res->reject_reason), why);
}

int
ingest_report(struct ingest *in, struct span data, enum ingest_channel ch,
              struct ingest_result *res, struct err *e)
{
	struct verdict v = { .dkim = "none", .detail = "", .verified = true };
	struct report *r = NULL;
	struct buf json;
	struct err re = { 0 };
	int rc;

	memset(res, 0, sizeof(*res));
	res->found = 1;
	buf_init(&json, max_decoded(in));
	rc = read_one(in, data, &json, &r, &re);
	if (rc) {
		buf_clear(&json);
		reject(res, re.msg);
		return err_set(e, INGEST_ENOREPORT, "%s", re.msg);
	}
	rc = store_one(in, r, buf_span(&json), gzip_is_gzip(data) ? data : (struct span){ 0 }, ch,
	               NULL, &v, res, e);
	report_free(r);
	buf_clear(&json);
	return rc;
}

int
ingest_message(struct ingest *in, struct span raw, struct ingest_result *res, struct err *e)
{
	struct mime_msg m;
	struct mime_report *parts = NULL;
	size_t n = 0;
	struct buf hdr;
	struct verdict v;
	char domain[256];
	bool judged = false;
	struct err me = { 0 };
	int rc;

	memset(res, 0, sizeof(*res));
	rc = mime_parse(&m, raw, NULL, &me);
	if (rc) {
		mime_msg_clear(&m);
		return err_set(e, INGEST_ENOREPORT, "not an e-mail message: %s", me.msg);
	}
	rc = mime_find_reports(&m, max_decoded(in), &parts, &n, &me);
	if (rc) {
		mime_msg_clear(&m);
		if (rc == BUF_ETOOBIG) {
			reject(res, me.msg);
			res->found = 1;
		}
		return err_set(e, INGEST_ENOREPORT, "%s", me.msg);
	}
	buf_init(&hdr, 1024);
	if (mime_report_submitter(&m, &hdr) != 0)
		buf_reset(&hdr);
	res->found = n;
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct report *r = NULL;
		struct buf json;
		struct err re = { 0 };
		struct span data = buf_span(&parts[i].data);

		buf_init(&json, max_decoded(in));
		if (read_one(in, data, &json, &r, &re) != 0) {
			reject(res, re.msg);
			buf_clear(&json);
			continue;
		}
		if (!judged) {
			/* align with TLS-Report-Submitter, else the contact-info domain */
			if (hdr.len)
				str_copy(domain, sizeof(domain), buf_cstr(&hdr));
			else
				ingest_submitter(r->contact_info, NULL, r->organization_name,
				                 domain, sizeof(domain));
			judge(in, &m, domain, &v);
			str_copy(res->dkim, sizeof(res->dkim), v.dkim);
			judged = true;
		}
		rc = store_one(in, r, buf_span(&json), parts[i].gzip ? data : (struct span){ 0 },
		               INGEST_MAIL, hdr.len ? buf_cstr(&hdr) : NULL, &v, res, e);
		report_free(r);
		buf_clear(&json);
	}
	buf_clear(&hdr);
	mime_reports_free(parts, n);
	mime_msg_clear(&m);
	if (rc)
		return rc;
	if (res->stored + res->duplicates == 0)
		return err_set(e, INGEST_ENOREPORT, "%s", res->reject_reason);
	return 0;
}

int
ingest_sniffed(struct ingest *in, struct span data, struct ingest_result *res, struct err *e)
{
	size_t i = 0;

	if (gzip_is_gzip(data))
		return ingest_report(in, data, INGEST_FILE, res, e);
	if (data.len >= 3 && memcmp(data.p, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < data.len &&
	       (data.p[i] == ' ' || data.p[i] == '\t' || data.p[i] == '\r' || data.p[i] == '\n'))
		i++;
	if (i < data.len && (data.p[i] == '{' || data.p[i] == '['))
		return ingest_report(in, data, INGEST_FILE, res, e);
	return ingest_message(in, data, res, e);
}

struct orgdomain_psl *
ingest_load_psl(void)
{
	struct orgdomain_psl *psl = NULL;
	struct buf b;
	struct err e = { 0 };

	buf_init(&b, 1 << 24);
	if (file_read(ORGDOMAIN_PSL_PATH, &b, &e) == 0 &&
	    orgdomain_psl_parse(buf_span(&b), &psl, &e) != 0)
		psl = NULL;
	buf_clear(&b);
	return psl;
}
