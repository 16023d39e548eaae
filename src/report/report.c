/*
 * report.c - the RFC 8460 report model: names of the registered types, constructors,
 * destructor, deep equality, quirk names.
 *
 * RFC 8460 section 4.3 and the IANA "STARTTLS Validation Result Types" registry (11
 * entries, unchanged since 2018); section 4.4 for the policy types.  Constructors copy
 * their inputs; policy domains and mx-host names are stored in A-labels (section 4.4).
 * Not thread-safe per report.
 */
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

#include "report/idna.h"
#include "util/xalloc.h"

static const char *const policy_type_names[] = { "tlsa", "sts", "no-policy-found" };

static const char *const result_type_names[REPORT_RESULT_COUNT_] = {
	"starttls-not-supported", "certificate-host-mismatch",
	"certificate-expired",    "certificate-not-trusted",
	"validation-failure",     "tlsa-invalid",
	"dnssec-invalid",         "dane-required",
	"sts-policy-fetch-error", "sts-policy-invalid",
	"sts-webpki-invalid",
};

static const char *const quirk_names[REPORT_QUIRK_COUNT_] = {
	"mx-host-string",
	"date-no-timezone",
	"date-offset",
	"date-fraction",
	"end-next-midnight",
	"range-not-day",
	"policy-string-json-array",
	"failure-field-missing",
	"empty-optional-field",
	"policy-string-missing",
	"contact-info-null",
	"policy-domain-missing",
	"empty-array",
	"failure-sum-mismatch",
	"unknown-policy-type",
	"unknown-result-type",
	"failure-error-code-key",
	"additional-info-uri-key",
	"summary-count-missing",
	"policy-type-missing",
	"null-field",
	"contact-info-missing",
	"organization-name-missing",
	"report-id-missing",
	"unknown-member",
	"policy-domain-ulabel",
	"date-leap-second",
	"policy-string-string",
};

const char *
report_policy_type_name(enum report_policy_type t)
{
	if ((unsigned)t < sizeof(policy_type_names) / sizeof(policy_type_names[0]))
		return policy_type_names[t];
	return NULL;
}

const char *
report_result_type_name(enum report_result_type t)
{
	if ((unsigned)t < REPORT_RESULT_COUNT_)
		return result_type_names[t];
	return NULL;
}

enum report_policy_type
report_policy_type_lookup(struct span s)
{
	for (unsigned i = 0; i < sizeof(policy_type_names) / sizeof(policy_type_names[0]); i++)
		if (span_eq_cstr(s, policy_type_names[i]))
			return (enum report_policy_type)i;
	return REPORT_POLICY_UNKNOWN;
}

enum report_result_type
report_result_type_lookup(struct span s)
{
	for (unsigned i = 0; i < REPORT_RESULT_COUNT_; i++)
		if (span_eq_cstr(s, result_type_names[i]))
			return (enum report_result_type)i;
	return REPORT_RESULT_UNKNOWN;
}

const char *
report_quirk_name(uint64_t bit)
{
	for (unsigned i = 0; i < REPORT_QUIRK_COUNT_; i++)
		if (bit == (uint64_t)1 << i)
			return quirk_names[i];
	return NULL;
}

int
report_quirks_format(uint64_t mask, const char *sep, struct buf *out)
{
	bool first = true;

	for (unsigned i = 0; i < REPORT_QUIRK_COUNT_; i++) {
		if (!(mask & ((uint64_t)1 << i)))
			continue;
		if (!first && buf_append_str(out, sep) != 0)
			return ERR_TOOBIG;
		if (buf_append_str(out, quirk_names[i]) != 0)
			return ERR_TOOBIG;
		first = false;
	}
	return 0;
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct report *
report_new(const char *organization_name, int64_t start, int64_t end, const char *contact_info,
           const char *report_id)
{
	struct report *r = xcalloc(1, sizeof(*r));

	r->organization_name = dup_or_null(organization_name);
	r->start = start;
	r->end = end;
	r->contact_info = dup_or_null(contact_info);
	r->report_id = dup_or_null(report_id);
	return r;
}

static void
failure_clear(struct report_failure *f)
{
	free(f->result_type_other);
	free(f->sending_mta_ip);
	free(f->receiving_mx_hostname);
	free(f->receiving_mx_helo);
	free(f->receiving_ip);
	free(f->additional_information);
	free(f->failure_reason_code);
}

static void
policy_free(struct report_policy *p)
{
	if (p == NULL)
		return;
	free(p->type_other);
	free(p->domain);
	for (size_t i = 0; i < p->n_strings; i++)
		free(p->strings[i]);
	free(p->strings);
	for (size_t i = 0; i < p->n_mx_hosts; i++)
		free(p->mx_hosts[i]);
	free(p->mx_hosts);
	for (size_t i = 0; i < p->n_failures; i++)
		failure_clear(&p->failures[i]);
	free(p->failures);
	free(p);
}

void
report_free(struct report *r)
{
	if (r == NULL)
		return;
	free(r->organization_name);
	free(r->contact_info);
	free(r->report_id);
	for (size_t i = 0; i < r->n_policies; i++)
		policy_free(r->policies[i]);
	free(r->policies);
	free(r);
}

/* A copy of name in A-labels; NULL with e set on failure. */
static char *
domain_alabels(const char *name, struct err *e)
{
	struct span s = span_cstr(name);
	struct buf b;

	if (idna_is_ascii(s))
		return xstrdup(name);
	buf_init(&b, 1024);
	if (idna_to_ascii(s, &b, e) != 0) {
		buf_clear(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}

struct report_policy *
report_add_policy(struct report *r, enum report_policy_type type, const char *type_other,
                  const char *domain, struct err *e)
{
	char *d = NULL;

	if (domain != NULL) {
		d = domain_alabels(domain, e);
		if (d == NULL) {
			err_prefix(e, "policy-domain");
			return NULL;
		}
	}
	struct report_policy *p = xcalloc(1, sizeof(*p));
	p->type = type;
	p->type_other = type == REPORT_POLICY_UNKNOWN ? dup_or_null(type_other) : NULL;
	p->domain = d;
	if (r->n_policies == r->cap_policies) {
		r->cap_policies = r->cap_policies ? r->cap_policies * 2 : 4;
		r->policies = xrealloc(r->policies, r->cap_policies * sizeof(*r->policies));
	}
	r->policies[r->n_policies++] = p;
	return p;
}

static void
strv_push(char ***v, size_t *n, char *s)
{
	/* grow at powers of two so that appends stay amortised O(1) */
	if ((*n & (*n - 1)) == 0)
		*v = xrealloc(*v, (*n ? *n * 2 : 1) * sizeof(**v));
	(*v)[(*n)++] = s;
}

void
report_policy_add_string(struct report_policy *p, const char *s)
{
	strv_push(&p->strings, &p->n_strings, xstrdup(s));
}

int
report_policy_add_mx_host(struct report_policy *p, const char *mx, struct err *e)
{
	char *d = domain_alabels(mx, e);

	if (d == NULL) {
		err_prefix(e, "mx-host");
		return ERR_INVALID;
	}
	strv_push(&p->mx_hosts, &p->n_mx_hosts, d);
	return 0;
}

void
report_policy_add_failure(struct report_policy *p, const struct report_failure *f)
{
	if (p->n_failures == p->cap_failures) {
		p->cap_failures = p->cap_failures ? p->cap_failures * 2 : 4;
		p->failures = xrealloc(p->failures, p->cap_failures * sizeof(*p->failures));
	}
	struct report_failure *d = &p->failures[p->n_failures++];
	d->result_type = f->result_type;
	d->result_type_other =
	        f->result_type == REPORT_RESULT_UNKNOWN ? dup_or_null(f->result_type_other) : NULL;
	d->sending_mta_ip = dup_or_null(f->sending_mta_ip);
	d->receiving_mx_hostname = dup_or_null(f->receiving_mx_hostname);
	d->receiving_mx_helo = dup_or_null(f->receiving_mx_helo);
	d->receiving_ip = dup_or_null(f->receiving_ip);
	d->failed_session_count = f->failed_session_count;
	d->additional_information = dup_or_null(f->additional_information);
	d->failure_reason_code = dup_or_null(f->failure_reason_code);
}

static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
strv_eq(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!str_eq(a[i], b[i]))
			return false;
	return true;
}

static bool
failure_equal(const struct report_failure *a, const struct report_failure *b)
{
	return a->result_type == b->result_type &&
	       str_eq(a->result_type_other, b->result_type_other) &&
	       str_eq(a->sending_mta_ip, b->sending_mta_ip) &&
	       str_eq(a->receiving_mx_hostname, b->receiving_mx_hostname) &&
	       str_eq(a->receiving_mx_helo, b->receiving_mx_helo) &&
	       str_eq(a->receiving_ip, b->receiving_ip) &&
	       a->failed_session_count == b->failed_session_count &&
	       str_eq(a->additional_information, b->additional_information) &&
	       str_eq(a->failure_reason_code, b->failure_reason_code);
}

static bool
policy_equal(const struct report_policy *a, const struct report_policy *b)
{
	if (a->type != b->type || !str_eq(a->type_other, b->type_other) ||
	    !str_eq(a->domain, b->domain) || a->successful != b->successful ||
	    a->failed != b->failed || a->n_failures != b->n_failures ||
	    !strv_eq(a->strings, a->n_strings, b->strings, b->n_strings) ||
	    !strv_eq(a->mx_hosts, a->n_mx_hosts, b->mx_hosts, b->n_mx_hosts))
		return false;
	for (size_t i = 0; i < a->n_failures; i++)
		if (!failure_equal(&a->failures[i], &b->failures[i]))
			return false;
	return true;
}

bool
report_equal(const struct report *a, const struct report *b)
{
	if (!str_eq(a->organization_name, b->organization_name) || a->start != b->start ||
	    a->end != b->end || !str_eq(a->contact_info, b->contact_info) ||
	    !str_eq(a->report_id, b->report_id) || a->n_policies != b->n_policies)
		return false;
	for (size_t i = 0; i < a->n_policies; i++)
		if (!policy_equal(a->policies[i], b->policies[i]))
			return false;
	return true;
}
