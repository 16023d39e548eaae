/*
 * report_validate.c - the strict validator for reports we generate.
 *
 * RFC 8460 section 4.4 (required members, registered types), section 4.1 (UTC
 * windows), section 5.3 (report-id used as a msg-id in the Subject, RFC 5322 section
 * 3.6.4), I-JSON (RFC 7493 section 2.2: integers within 2^53-1).  The outbound side runs
 * every report through report_validate() before it is stored in the outbox.
 * Thread-safe (no shared state).
 */
#include "report/report.h"

#include <stdio.h>
#include <string.h>

#include "util/clock.h"
#include "util/str.h"

#define MAX_SAFE_INT ((uint64_t)9007199254740991)

static bool
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* RFC 5322 dot-atom-text: 1*atext *("." 1*atext). */
static bool
dot_atom_text(struct span s)
{
	if (s.len == 0 || s.p[0] == '.' || s.p[s.len - 1] == '.')
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '.') {
			if (s.p[i - 1] == '.')
				return false;
		} else if (!is_atext(c)) {
			return false;
		}
	}
	return true;
}

/* local "@" domain, both dot-atom-text (no quoted strings, no literals). */
static bool
addr_like(const char *s)
{
	const char *at = strrchr(s, '@');

	if (at == NULL)
		return false;
	return dot_atom_text(span_make(s, (size_t)(at - s))) && dot_atom_text(span_cstr(at + 1));
}

/* A host name in A-labels: LDH labels (underscore allowed), 1..63 bytes, total <= 253. */
static bool
domain_ok(const char *s, bool allow_wildcard)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > 253)
		return false;
	if (allow_wildcard && n > 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		n -= 2;
	}
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];
		if (i == n || c == '.') {
			if (label == 0 && !(i == n && i > 0))
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

static int
check_text(struct err *e, const char *path, const char *s, bool required)
{
	if (s == NULL)
		return required ? err_set(e, ERR_INVALID, "%s: missing", path) : 0;
	if (s[0] == '\0')
		return err_set(e, ERR_INVALID, "%s: empty string (omit the member instead)", path);
	if (!utf8_valid(s, strlen(s)))
		return err_set(e, ERR_INVALID, "%s: not valid UTF-8", path);
	return 0;
}

static int
check_count(struct err *e, const char *path, uint64_t v)
{
	if (v > MAX_SAFE_INT)
		return err_set(e, ERR_INVALID, "%s: %llu is above 2^53-1 (I-JSON)", path,
		               (unsigned long long)v);
	return 0;
}

static int
check_failure(const struct report_failure *f, const char *base, struct err *e)
{
	char path[256];
	int rc;

#define FPATH(key) (snprintf(path, sizeof(path), "%s.%s", base, key), path)
	if (f->result_type == REPORT_RESULT_UNKNOWN || f->result_type > REPORT_RESULT_UNKNOWN)
		return err_set(e, ERR_INVALID, "%s: not a registered result type",
		               FPATH("result-type"));
	if ((rc = check_text(e, FPATH("sending-mta-ip"), f->sending_mta_ip, false)) != 0 ||
	    (rc = check_text(e, FPATH("receiving-mx-hostname"), f->receiving_mx_hostname, false)) !=
	            0 ||
	    (rc = check_text(e, FPATH("receiving-mx-helo"), f->receiving_mx_helo, false)) != 0 ||
	    (rc = check_text(e, FPATH("receiving-ip"), f->receiving_ip, false)) != 0 ||
	    (rc = check_text(e, FPATH("additional-information"), f->additional_information,
	                     false)) != 0 ||
	    (rc = check_text(e, FPATH("failure-reason-code"), f->failure_reason_code, false)) != 0)
		return rc;
	if (f->failed_session_count == 0)
		return err_set(e, ERR_INVALID, "%s: 0 (a failure detail counts at least 1 session)",
		               FPATH("failed-session-count"));
	return check_count(e, FPATH("failed-session-count"), f->failed_session_count);
#undef FPATH
}

static int
check_policy(const struct report_policy *p, size_t i, struct err *e)
{
	char path[256];
	int rc;

#define PPATH(fmt, ...) (snprintf(path, sizeof(path), "policies[%zu]." fmt, i, __VA_ARGS__), path)
	if (p->type == REPORT_POLICY_UNKNOWN || p->type > REPORT_POLICY_UNKNOWN)
		return err_set(e, ERR_INVALID, "%s: missing or not tlsa|sts|no-policy-found",
		               PPATH("%s", "policy.policy-type"));
	if ((rc = check_text(e, PPATH("%s", "policy.policy-domain"), p->domain, true)) != 0)
		return rc;
	if (!domain_ok(p->domain, false))
		return err_set(e, ERR_INVALID, "%s: \"%s\" is not a host name in A-labels", path,
		               p->domain);
	if (p->type == REPORT_POLICY_NO_POLICY_FOUND && p->n_strings > 0)
		return err_set(e, ERR_INVALID, "%s: present for no-policy-found",
		               PPATH("%s", "policy.policy-string"));
	for (size_t k = 0; k < p->n_strings; k++)
		if ((rc = check_text(e, PPATH("policy.policy-string[%zu]", k), p->strings[k],
		                     true)) != 0)
			return rc;
	for (size_t k = 0; k < p->n_mx_hosts; k++) {
		if ((rc = check_text(e, PPATH("policy.mx-host[%zu]", k), p->mx_hosts[k], true)) !=
		    0)
			return rc;
		if (!domain_ok(p->mx_hosts[k], true))
			return err_set(e, ERR_INVALID,
			               "%s: \"%s\" is not a host name pattern in A-labels", path,
			               p->mx_hosts[k]);
	}
	if ((rc = check_count(e, PPATH("%s", "summary.total-successful-session-count"),
	                      p->successful)) != 0 ||
	    (rc = check_count(e, PPATH("%s", "summary.total-failure-session-count"), p->failed)) !=
	            0)
		return rc;
	for (size_t k = 0; k < p->n_failures; k++) {
		char base[96];
		snprintf(base, sizeof(base), "policies[%zu].failure-details[%zu]", i, k);
		if ((rc = check_failure(&p->failures[k], base, e)) != 0)
			return rc;
	}
	return 0;
#undef PPATH
}

int
report_validate(const struct report *r, enum window_period period, struct err *e)
{
	char a[TIME_RFC3339_LEN], b[TIME_RFC3339_LEN];
	int rc;

	if ((rc = check_text(e, "organization-name", r->organization_name, true)) != 0 ||
	    (rc = check_text(e, "contact-info", r->contact_info, true)) != 0)
		return rc;
	if (!addr_like(r->contact_info))
		return err_set(e, ERR_INVALID, "contact-info: \"%s\" is not an addr-spec",
		               r->contact_info);
	if ((rc = check_text(e, "report-id", r->report_id, true)) != 0)
		return rc;
	if (!addr_like(r->report_id))
		return err_set(e, ERR_INVALID,
		               "report-id: \"%s\" is not a msg-id body (dot-atom-text \"@\" "
		               "dot-atom-text)",
		               r->report_id);
	if (time_format_rfc3339(r->start, a) != 0)
		return err_set(e, ERR_INVALID,
		               "date-range.start-datetime: outside years 0000..9999");
	if (time_format_rfc3339(r->end, b) != 0)
		return err_set(e, ERR_INVALID, "date-range.end-datetime: outside years 0000..9999");
	if (r->end < r->start)
		return err_set(e, ERR_INVALID,
		               "date-range: end-datetime %s is before start-datetime %s", b, a);
	if (period != WINDOW_NEVER) {
		if (window_start(period, r->start) != r->start)
			return err_set(
			        e, ERR_INVALID,
			        "date-range.start-datetime: %s is not the start of a %s window", a,
			        window_period_name(period));
		if (r->end != window_last_second(period, r->start))
			return err_set(
			        e, ERR_INVALID,
			        "date-range.end-datetime: %s is not the last second of the %s "
			        "window starting %s",
			        b, window_period_name(period), a);
	}
	if (r->n_policies == 0)
		return err_set(e, ERR_INVALID,
		               "policies: empty (a report has at least one policy)");
	for (size_t i = 0; i < r->n_policies; i++)
		if ((rc = check_policy(r->policies[i], i, e)) != 0)
			return rc;
	return 0;
}
