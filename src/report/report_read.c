/*
 * report_read.c - the tolerant reader of received RFC 8460 reports.
 *
 * RFC 8460 section 4.4 (schema), I-JSON (RFC 7493: UTF-8, no duplicate names), and the
 * real-sender quirks of rfc8460-digest.md section 14.  rjson.c parses in strict mode
 * (duplicate keys and invalid UTF-8 rejected, nesting capped; as strict as jansson with
 * JSON_REJECT_DUPLICATES, which fuzz_report checks), then the tree is walked under our
 * caps.
 * What a receiver can still use is accepted with named quirk flags; what cannot be a
 * report (not JSON, no policies, no usable date range, wrong member types) is rejected
 * with a message led by the JSON path.  Thread-safe (no shared state).
 */
#include "report/report.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/idna.h"
#include "report/rjson.h"
#include "util/clock.h"
#include "util/xalloc.h"

struct rd {
	const struct report_caps *caps;
	struct err *e;
	uint64_t quirks;
	size_t n_failures;
	size_t path_len;
	char path[256];
};

void
report_caps_default(struct report_caps *c)
{
	c->max_input = (size_t)25 * 1024 * 1024;
	c->max_depth = 12;
	c->max_policies = 10000;
	c->max_failure_details = 100000;
	c->max_strings = 10000;
}

/* ------------------------------------------------------------------ paths and errors */

static size_t path_push(struct rd *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t
path_push(struct rd *rd, const char *fmt, ...)
{
	size_t old = rd->path_len;
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(rd->path + old, sizeof(rd->path) - old, fmt, ap);
	va_end(ap);
	if (n > 0)
		rd->path_len =
		        old + (size_t)n < sizeof(rd->path) ? old + (size_t)n : sizeof(rd->path) - 1;
	return old;
}

static void
path_pop(struct rd *rd, size_t old)
{
	rd->path_len = old;
	rd->path[old] = '\0';
}

/* "key" under the current path: "a.b" or "b" at the top. */
static size_t
path_key(struct rd *rd, const char *key)
{
	return path_push(rd, rd->path_len ? ".%s" : "%s", key);
}

/* A short readable rendering of a JSON value for "got X". */
static void
describe(const struct rjson *v, char *out, size_t cap)
{
	switch (v->type) {
	case RJSON_OBJECT:
		snprintf(out, cap, "an object");
		break;
	case RJSON_ARRAY:
		snprintf(out, cap, "an array");
		break;
	case RJSON_INT:
		snprintf(out, cap, "%" PRId64, v->u.i);
		break;
	case RJSON_REAL:
		snprintf(out, cap, "%.17g", v->u.d);
		break;
	case RJSON_TRUE:
		snprintf(out, cap, "true");
		break;
	case RJSON_FALSE:
		snprintf(out, cap, "false");
		break;
	case RJSON_NULL:
		snprintf(out, cap, "null");
		break;
	case RJSON_STRING: {
		const char *s = v->u.s;
		size_t n = v->n, o = 0;
		out[o++] = '"';
		for (size_t i = 0; i < n && o + 8 < cap; i++) {
			unsigned char c = (unsigned char)s[i];
			if (i == 40) {
				o += (size_t)snprintf(out + o, cap - o, "...");
				break;
			}
			if (c < 0x20 || c == '"' || c == '\\')
				o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
			else
				out[o++] = (char)c;
		}
		snprintf(out + o, cap - o, "\"");
		break;
	}
	}
}

static int
fail_got(struct rd *rd, const char *what, const struct rjson *got)
{
	char d[128];

	describe(got, d, sizeof(d));
	return err_set(rd->e, ERR_INVALID, "%s: expected %s, got %s",
	               rd->path[0] ? rd->path : "report", what, d);
}

static int fail(struct rd *rd, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int
fail(struct rd *rd, int code, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(rd->e, code, "%s: %s", rd->path[0] ? rd->path : "report", msg);
}

/* ------------------------------------------------------------------ members */

/* Sets the unknown-member quirk when obj has a key outside known[]. */
static void
check_members(struct rd *rd, const struct rjson *obj, const char *const *known)
{
	for (size_t i = 0; i < obj->n; i++) {
		const char *key = obj->u.o[i].key;
		bool found = false;
		for (const char *const *k = known; *k; k++) {
			if (strcmp(*k, key) == 0) {
				found = true;
				break;
			}
		}
		if (!found) {
			rd->quirks |= REPORT_QUIRK_UNKNOWN_MEMBER;
			return;
		}
	}
}

enum { OPT_ABSENT = 0, OPT_NULL = 1, OPT_EMPTY = 2, OPT_VALUE = 3 };

/*
 * Reads an optional string member.  Returns OPT_* (>= 0) with *out a copy for
 * OPT_VALUE, or a negative error code when the member is neither string nor null.
 */
static int
opt_string(struct rd *rd, const struct rjson *obj, const char *key, char **out)
{
	const struct rjson *v = rjson_get(obj, key);

	*out = NULL;
	if (v == NULL)
		return OPT_ABSENT;
	if (v->type == RJSON_NULL)
		return OPT_NULL;
	if (v->type != RJSON_STRING) {
		size_t old = path_key(rd, key);
		int rc = fail_got(rd, "a string", v);
		path_pop(rd, old);
		return rc;
	}
	if (v->n == 0)
		return OPT_EMPTY;
	*out = xstrdup(v->u.s);
	return OPT_VALUE;
}

/* An optional field: null and "" read as absent, recorded as quirks. */
static int
field_string(struct rd *rd, const struct rjson *obj, const char *key, char **out)
{
	int rc = opt_string(rd, obj, key, out);

	if (rc == OPT_NULL)
		rd->quirks |= REPORT_QUIRK_NULL_FIELD;
	else if (rc == OPT_EMPTY)
		rd->quirks |= REPORT_QUIRK_EMPTY_OPTIONAL_FIELD;
	return rc < 0 ? rc : 0;
}

/*
 * A count: a JSON integer >= 0.  *present tells whether the member was there (absent
 * reads as 0).
 */
static int
count_member(struct rd *rd, const struct rjson *obj, const char *key, uint64_t *out, bool *present)
{
	const struct rjson *v = rjson_get(obj, key);

	*out = 0;
	*present = v != NULL;
	if (v == NULL)
		return 0;
	if (v->type != RJSON_INT || v->u.i < 0) {
		size_t old = path_key(rd, key);
		int rc = fail_got(rd, "a non-negative integer", v);
		path_pop(rd, old);
		return rc;
	}
	*out = (uint64_t)v->u.i;
	return 0;
}

/* ------------------------------------------------------------------ dates */

static int
read_date(struct rd *rd, const struct rjson *range, const char *key, int64_t *out)
{
	const struct rjson *v = rjson_get(range, key);
	struct time_parsed tp;
	size_t old = path_key(rd, key);
	int rc = 0;

	if (v == NULL) {
		rc = fail(rd, ERR_INVALID, "missing");
		goto out;
	}
	if (v->type != RJSON_STRING) {
		rc = fail_got(rd, "an RFC 3339 date-time string", v);
		goto out;
	}
	struct span s = span_make(v->u.s, v->n);
	if (time_parse_rfc3339(s, TIME_PARSE_ALLOW_NO_TZ | TIME_PARSE_ALLOW_SPACE, &tp) != 0) {
		rc = fail_got(rd, "an RFC 3339 date-time", v);
		goto out;
	}
	if (!tp.has_offset)
		rd->quirks |= REPORT_QUIRK_DATE_NO_TIMEZONE;
	else if (s.p[s.len - 1] != 'Z' && s.p[s.len - 1] != 'z')
		rd->quirks |= REPORT_QUIRK_DATE_OFFSET;
	if (tp.nanos != 0)
		rd->quirks |= REPORT_QUIRK_DATE_FRACTION;
	if (tp.leap_second)
		rd->quirks |= REPORT_QUIRK_DATE_LEAP_SECOND;
	*out = tp.t;
out:
	path_pop(rd, old);
	return rc;
}

static int
read_range(struct rd *rd, const struct rjson *root, struct report *r)
{
	const struct rjson *range = rjson_get(root, "date-range");
	size_t old = path_key(rd, "date-range");
	int rc = 0;

	if (range == NULL) {
		rc = fail(rd, ERR_INVALID, "missing (a report covers a date range)");
		goto out;
	}
	if (range->type != RJSON_OBJECT) {
		rc = fail_got(rd, "an object", range);
		goto out;
	}
	check_members(rd, range, (const char *const[]){ "start-datetime", "end-datetime", NULL });
	rc = read_date(rd, range, "start-datetime", &r->start);
	if (rc == 0)
		rc = read_date(rd, range, "end-datetime", &r->end);
	if (rc != 0)
		goto out;
	if (r->end < r->start) {
		char a[TIME_RFC3339_LEN] = "?", b[TIME_RFC3339_LEN] = "?";
		time_format_rfc3339(r->start, a);
		time_format_rfc3339(r->end, b);
		rc = fail(rd, ERR_INVALID, "end-datetime %s is before start-datetime %s", b, a);
		goto out;
	}
	/* an exclusive end (next midnight, Mail.ru and Stalwart) becomes the last second */
	int64_t len = r->end - r->start;
	if (len >= 3600 && len % 3600 == 0) {
		rd->quirks |= REPORT_QUIRK_END_NEXT_MIDNIGHT;
		r->end--;
	}
	if (r->start % 86400 != 0 || r->end != r->start + 86399)
		rd->quirks |= REPORT_QUIRK_RANGE_NOT_DAY;
out:
	path_pop(rd, old);
	return rc;
}

/* ------------------------------------------------------------------ policies */

static int
read_strv(struct rd *rd, const struct rjson *arr, char ***v, size_t *n)
{
	size_t count = arr->n;

	if (count > rd->caps->max_strings)
		return fail(rd, ERR_TOOBIG, "more than %zu entries", rd->caps->max_strings);
	for (size_t i = 0; i < count; i++) {
		const struct rjson *s = &arr->u.a[i];
		if (s->type != RJSON_STRING) {
			size_t old = path_push(rd, "[%zu]", i);
			int rc = fail_got(rd, "a string", s);
			path_pop(rd, old);
			return rc;
		}
	}
	*v = xcalloc(count ? count : 1, sizeof(**v));
	for (size_t i = 0; i < count; i++)
		(*v)[i] = xmemdup(arr->u.a[i].u.s, arr->u.a[i].n + 1);
	*n = count;
	return 0;
}

static void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Microsoft packs a whole tlsa RRset into one string holding a JSON array (Q4). */
static void
unpack_json_array_strings(struct rd *rd, struct report_policy *p)
{
	if (p->n_strings != 1 || p->strings[0][0] != '[')
		return;
	struct rjson_doc doc;
	if (rjson_parse(span_cstr(p->strings[0]), 2, &doc, NULL) != 0)
		return;
	const struct rjson *arr = &doc.root;
	size_t count = arr->n;
	if (arr->type != RJSON_ARRAY || count == 0 || count > rd->caps->max_strings)
		goto out;
	for (size_t i = 0; i < count; i++)
		if (arr->u.a[i].type != RJSON_STRING)
			goto out;
	strv_free(p->strings, p->n_strings);
	p->strings = xcalloc(count, sizeof(*p->strings));
	for (size_t i = 0; i < count; i++)
		p->strings[i] = xmemdup(arr->u.a[i].u.s, arr->u.a[i].n + 1);
	p->n_strings = count;
	rd->quirks |= REPORT_QUIRK_POLICY_STRING_JSON_ARRAY;
out:
	rjson_free(&doc);
}

static int
read_policy_strings(struct rd *rd, const struct rjson *pol, struct report_policy *p)
{
	const struct rjson *v = rjson_get(pol, "policy-string");
	size_t old = path_key(rd, "policy-string");
	int rc = 0;

	if (v == NULL) {
		if (p->type == REPORT_POLICY_STS || p->type == REPORT_POLICY_TLSA)
			rd->quirks |= REPORT_QUIRK_POLICY_STRING_MISSING;
	} else if (v->type == RJSON_NULL) {
		rd->quirks |= REPORT_QUIRK_NULL_FIELD;
	} else if (v->type == RJSON_STRING) {
		rd->quirks |= REPORT_QUIRK_POLICY_STRING_STRING;
		p->strings = xcalloc(1, sizeof(*p->strings));
		p->strings[0] = xstrdup(v->u.s);
		p->n_strings = 1;
	} else if (v->type != RJSON_ARRAY) {
		rc = fail_got(rd, "an array of strings", v);
	} else {
		if (v->n == 0)
			rd->quirks |= REPORT_QUIRK_EMPTY_ARRAY;
		rc = read_strv(rd, v, &p->strings, &p->n_strings);
	}
	if (rc == 0)
		unpack_json_array_strings(rd, p);
	/* meaningless for no-policy-found (section 4.5); the writer omits them */
	if (p->type == REPORT_POLICY_NO_POLICY_FOUND) {
		strv_free(p->strings, p->n_strings);
		p->strings = NULL;
		p->n_strings = 0;
	}
	path_pop(rd, old);
	return rc;
}

static int
read_mx_hosts(struct rd *rd, const struct rjson *pol, struct report_policy *p)
{
	const struct rjson *v = rjson_get(pol, "mx-host");
	size_t old = path_key(rd, "mx-host");
	int rc = 0;

	if (v == NULL) {
		/* effectively optional */
	} else if (v->type == RJSON_NULL) {
		rd->quirks |= REPORT_QUIRK_NULL_FIELD;
	} else if (v->type == RJSON_STRING) {
		rd->quirks |= REPORT_QUIRK_MX_HOST_STRING;
		if (v->n == 0) {
			rd->quirks |= REPORT_QUIRK_EMPTY_OPTIONAL_FIELD;
		} else {
			p->mx_hosts = xcalloc(1, sizeof(*p->mx_hosts));
			p->mx_hosts[0] = xstrdup(v->u.s);
			p->n_mx_hosts = 1;
		}
	} else if (v->type != RJSON_ARRAY) {
		rc = fail_got(rd, "an array of strings", v);
	} else {
		if (v->n == 0)
			rd->quirks |= REPORT_QUIRK_EMPTY_ARRAY;
		rc = read_strv(rd, v, &p->mx_hosts, &p->n_mx_hosts);
	}
	path_pop(rd, old);
	return rc;
}

static int
read_policy_object(struct rd *rd, const struct rjson *pol, struct report *r,
                   struct report_policy **pp)
{
	char *type = NULL, *domain = NULL;
	int rc;

	if (pol->type != RJSON_OBJECT)
		return fail_got(rd, "an object", pol);
	check_members(rd, pol,
	              (const char *const[]){ "policy-type", "policy-string", "policy-domain",
	                                     "mx-host", NULL });
	int t = opt_string(rd, pol, "policy-type", &type);
	if (t < 0)
		return t;
	if (t != OPT_VALUE)
		rd->quirks |= REPORT_QUIRK_POLICY_TYPE_MISSING;
	enum report_policy_type pt =
	        type ? report_policy_type_lookup(span_cstr(type)) : REPORT_POLICY_UNKNOWN;
	if (type != NULL && pt == REPORT_POLICY_UNKNOWN)
		rd->quirks |= REPORT_QUIRK_UNKNOWN_POLICY_TYPE;

	int d = opt_string(rd, pol, "policy-domain", &domain);
	if (d < 0) {
		free(type);
		return d;
	}
	if (d != OPT_VALUE)
		rd->quirks |= REPORT_QUIRK_POLICY_DOMAIN_MISSING;
	if (domain != NULL && !idna_is_ascii(span_cstr(domain)))
		rd->quirks |= REPORT_QUIRK_POLICY_DOMAIN_ULABEL;
	struct report_policy *p = report_add_policy(r, pt, type, domain, NULL);
	if (p == NULL) /* a name punycode cannot take: keep it as sent */
		p = report_add_policy(r, pt, type, NULL, NULL);
	if (p->domain == NULL && domain != NULL) {
		p->domain = domain;
		domain = NULL;
	}
	free(type);
	free(domain);
	*pp = p;
	rc = read_policy_strings(rd, pol, p);
	if (rc == 0)
		rc = read_mx_hosts(rd, pol, p);
	return rc;
}

static int
read_failure(struct rd *rd, const struct rjson *fo, struct report_failure *f)
{
	char *rt = NULL;
	bool present;
	int rc;

	if (fo->type != RJSON_OBJECT)
		return fail_got(rd, "an object", fo);
	check_members(rd, fo,
	              (const char *const[]){ "result-type", "sending-mta-ip",
	                                     "receiving-mx-hostname", "receiving-mx-helo",
	                                     "receiving-ip", "failed-session-count",
	                                     "additional-information", "failure-reason-code",
	                                     "failure-error-code", "additional-info-uri", NULL });
	const struct rjson *v = rjson_get(fo, "result-type");
	if (v == NULL || v->type != RJSON_STRING || v->n == 0) {
		size_t old = path_key(rd, "result-type");
		rc = v == NULL ? fail(rd, ERR_INVALID, "missing")
		               : fail_got(rd, "a result type string", v);
		path_pop(rd, old);
		return rc;
	}
	rt = xstrdup(v->u.s);
	f->result_type = report_result_type_lookup(span_cstr(rt));
	if (f->result_type == REPORT_RESULT_UNKNOWN) {
		rd->quirks |= REPORT_QUIRK_UNKNOWN_RESULT_TYPE;
		f->result_type_other = rt;
	} else {
		free(rt);
	}
	rc = count_member(rd, fo, "failed-session-count", &f->failed_session_count, &present);
	if (rc != 0)
		return rc;
	if (!present) {
		size_t old = path_key(rd, "failed-session-count");
		rc = fail(rd, ERR_INVALID, "missing");
		path_pop(rd, old);
		return rc;
	}
	if ((rc = field_string(rd, fo, "sending-mta-ip", &f->sending_mta_ip)) != 0 ||
	    (rc = field_string(rd, fo, "receiving-mx-hostname", &f->receiving_mx_hostname)) != 0 ||
	    (rc = field_string(rd, fo, "receiving-mx-helo", &f->receiving_mx_helo)) != 0 ||
	    (rc = field_string(rd, fo, "receiving-ip", &f->receiving_ip)) != 0 ||
	    (rc = field_string(rd, fo, "additional-information", &f->additional_information)) !=
	            0 ||
	    (rc = field_string(rd, fo, "failure-reason-code", &f->failure_reason_code)) != 0)
		return rc;
	if (f->sending_mta_ip == NULL || f->receiving_mx_hostname == NULL)
		rd->quirks |= REPORT_QUIRK_FAILURE_FIELD_MISSING;
	if (rjson_get(fo, "failure-error-code") != NULL) {
		rd->quirks |= REPORT_QUIRK_FAILURE_ERROR_CODE_KEY;
		if (f->failure_reason_code == NULL &&
		    (rc = field_string(rd, fo, "failure-error-code", &f->failure_reason_code)) != 0)
			return rc;
	}
	if (rjson_get(fo, "additional-info-uri") != NULL) {
		rd->quirks |= REPORT_QUIRK_ADDITIONAL_INFO_URI_KEY;
		if (f->additional_information == NULL &&
		    (rc = field_string(rd, fo, "additional-info-uri",
		                       &f->additional_information)) != 0)
			return rc;
	}
	return 0;
}

static void
failure_free_members(struct report_failure *f)
{
	free(f->result_type_other);
	free(f->sending_mta_ip);
	free(f->receiving_mx_hostname);
	free(f->receiving_mx_helo);
	free(f->receiving_ip);
	free(f->additional_information);
	free(f->failure_reason_code);
}

static int
read_failures(struct rd *rd, const struct rjson *po, struct report_policy *p)
{
	const struct rjson *arr = rjson_get(po, "failure-details");
	size_t old = path_key(rd, "failure-details");
	uint64_t sum = 0;
	int rc = 0;

	if (arr == NULL || arr->type == RJSON_NULL) {
		if (arr != NULL)
			rd->quirks |= REPORT_QUIRK_NULL_FIELD;
		goto sum;
	}
	if (arr->type != RJSON_ARRAY) {
		rc = fail_got(rd, "an array", arr);
		goto out;
	}
	size_t n = arr->n;
	if (n == 0)
		rd->quirks |= REPORT_QUIRK_EMPTY_ARRAY;
	if (n > rd->caps->max_failure_details - rd->n_failures) {
		rc = fail(rd, ERR_TOOBIG, "more than %zu failure details in the report",
		          rd->caps->max_failure_details);
		goto out;
	}
	rd->n_failures += n;
	p->failures = xcalloc(n ? n : 1, sizeof(*p->failures));
	p->cap_failures = n ? n : 1;
	for (size_t i = 0; i < n; i++) {
		struct report_failure f = { 0 };
		size_t o = path_push(rd, "[%zu]", i);
		rc = read_failure(rd, &arr->u.a[i], &f);
		path_pop(rd, o);
		if (rc != 0) {
			failure_free_members(&f);
			goto out;
		}
		p->failures[p->n_failures++] = f; /* moves the strings */
		sum = sum + f.failed_session_count < sum ? UINT64_MAX
		                                         : sum + f.failed_session_count;
	}
sum:
	if (sum != p->failed)
		rd->quirks |= REPORT_QUIRK_FAILURE_SUM_MISMATCH;
out:
	path_pop(rd, old);
	return rc;
}

static int
read_summary(struct rd *rd, const struct rjson *po, struct report_policy *p)
{
	const struct rjson *sum = rjson_get(po, "summary");
	size_t old = path_key(rd, "summary");
	bool ok_present, fail_present;
	int rc;

	if (sum == NULL) {
		rc = fail(rd, ERR_INVALID, "missing");
		goto out;
	}
	if (sum->type != RJSON_OBJECT) {
		rc = fail_got(rd, "an object", sum);
		goto out;
	}
	check_members(rd, sum,
	              (const char *const[]){ "total-successful-session-count",
	                                     "total-failure-session-count", NULL });
	rc = count_member(rd, sum, "total-successful-session-count", &p->successful, &ok_present);
	if (rc == 0)
		rc = count_member(rd, sum, "total-failure-session-count", &p->failed,
		                  &fail_present);
	if (rc == 0 && (!ok_present || !fail_present))
		rd->quirks |= REPORT_QUIRK_SUMMARY_COUNT_MISSING;
out:
	path_pop(rd, old);
	return rc;
}

static int
read_policies(struct rd *rd, const struct rjson *root, struct report *r)
{
	const struct rjson *arr = rjson_get(root, "policies");
	size_t old = path_key(rd, "policies");
	int rc = 0;

	if (arr == NULL) {
		rc = fail(rd, ERR_INVALID, "missing (a report has at least one policy)");
		goto out;
	}
	if (arr->type != RJSON_ARRAY) {
		rc = fail_got(rd, "an array", arr);
		goto out;
	}
	size_t n = arr->n;
	if (n == 0) {
		rc = fail(rd, ERR_INVALID, "empty (a report has at least one policy)");
		goto out;
	}
	if (n > rd->caps->max_policies) {
		rc = fail(rd, ERR_TOOBIG, "%zu policies, more than the cap of %zu", n,
		          rd->caps->max_policies);
		goto out;
	}
	r->policies = xcalloc(n, sizeof(*r->policies));
	r->cap_policies = n;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct rjson *po = &arr->u.a[i];
		struct report_policy *p = NULL;
		size_t o = path_push(rd, "[%zu]", i);
		if (po->type != RJSON_OBJECT) {
			rc = fail_got(rd, "an object", po);
		} else {
			check_members(rd, po,
			              (const char *const[]){ "policy", "summary", "failure-details",
			                                     NULL });
			const struct rjson *pol = rjson_get(po, "policy");
			size_t o2 = path_key(rd, "policy");
			if (pol == NULL)
				rc = fail(rd, ERR_INVALID, "missing");
			else
				rc = read_policy_object(rd, pol, r, &p);
			path_pop(rd, o2);
			if (rc == 0)
				rc = read_summary(rd, po, p);
			if (rc == 0)
				rc = read_failures(rd, po, p);
		}
		path_pop(rd, o);
	}
out:
	path_pop(rd, old);
	return rc;
}

/* ------------------------------------------------------------------ top level */

static int
read_top_string(struct rd *rd, const struct rjson *root, const char *key, char **out,
                uint64_t quirk_missing, uint64_t quirk_null)
{
	int rc = opt_string(rd, root, key, out);

	if (rc < 0)
		return rc;
	if (rc == OPT_NULL && quirk_null)
		rd->quirks |= quirk_null;
	else if (rc == OPT_NULL)
		rd->quirks |= REPORT_QUIRK_NULL_FIELD | quirk_missing;
	else if (rc == OPT_EMPTY)
		rd->quirks |= REPORT_QUIRK_EMPTY_OPTIONAL_FIELD | quirk_missing;
	else if (rc == OPT_ABSENT)
		rd->quirks |= quirk_missing;
	return 0;
}

int
report_read(struct span json, const struct report_caps *caps, struct report **out, struct err *e)
{
	struct report_caps defaults;
	struct rd rd = { .e = e };
	struct report *r = NULL;
	int rc;

	*out = NULL;
	if (caps == NULL) {
		report_caps_default(&defaults);
		caps = &defaults;
	}
	rd.caps = caps;
	if (json.len > caps->max_input)
		return err_set(e, ERR_TOOBIG, "report: %zu bytes, more than the cap of %zu bytes",
		               json.len, caps->max_input);
	struct rjson_doc doc;
	rc = rjson_parse(json, caps->max_depth, &doc, e);
	if (rc != 0)
		return rc;
	const struct rjson *root = &doc.root;
	if (root->type != RJSON_OBJECT) {
		rc = fail_got(&rd, "a JSON object", root);
		goto out;
	}
	check_members(&rd, root,
	              (const char *const[]){ "organization-name", "date-range", "contact-info",
	                                     "report-id", "policies", NULL });
	r = report_new(NULL, 0, 0, NULL, NULL);
	if ((rc = read_top_string(&rd, root, "organization-name", &r->organization_name,
	                          REPORT_QUIRK_ORGANIZATION_NAME_MISSING, 0)) != 0 ||
	    (rc = read_top_string(&rd, root, "contact-info", &r->contact_info,
	                          REPORT_QUIRK_CONTACT_INFO_MISSING,
	                          REPORT_QUIRK_CONTACT_INFO_NULL)) != 0 ||
	    (rc = read_top_string(&rd, root, "report-id", &r->report_id,
	                          REPORT_QUIRK_REPORT_ID_MISSING, 0)) != 0 ||
	    (rc = read_range(&rd, root, r)) != 0 || (rc = read_policies(&rd, root, r)) != 0)
		goto out;
	r->quirks = rd.quirks;
	*out = r;
	r = NULL;
out:
	report_free(r);
	rjson_free(&doc);
	return rc;
}
