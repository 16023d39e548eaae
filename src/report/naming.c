/*
 * naming.c - report-id, file name and Subject of reports.  See naming.h.
 * RFC 8460 sections 5.1 and 5.3; RFC 5322 sections 3.2.3 (atext), 3.2.2 (folding),
 * 3.6.4 (msg-id).  Pure, thread-safe.
 */
#include "report/naming.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report/idna.h"
#include "util/clock.h"
#include "util/hash.h"
#include "util/str.h"

static bool
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != 0 && strchr("!#$%&'*+-/?^_`{|}~", c) != NULL);
}

/* Appends name as dot-atom-text (see naming.h).  The result is never empty. */
static int
put_atom_name(const char *name, struct buf *out, struct err *e, const char *what)
{
	struct buf a;
	int rc = 0;
	bool any = false, need_dot = false;

	buf_init(&a, 1024);
	if (name == NULL || name[0] == '\0') {
		rc = err_set(e, ERR_INVALID, "%s: empty name", what);
		goto out;
	}
	if (!idna_is_ascii(span_cstr(name))) {
		rc = idna_to_ascii(span_cstr(name), &a, e);
		if (rc != 0) {
			err_prefix(e, "%s", what);
			goto out;
		}
	} else if (buf_append_str(&a, name) != 0) {
		rc = err_set(e, ERR_TOOBIG, "%s: name too long", what);
		goto out;
	}
	for (size_t i = 0; i < a.len && rc == 0; i++) {
		unsigned char c = (unsigned char)a.data[i];
		if (c == '.') {
			need_dot = any;
			continue;
		}
		if (need_dot) {
			rc = buf_putc(out, '.');
			need_dot = false;
		}
		if (is_atext(c))
			rc = buf_putc(out, ascii_lower((char)c));
		else
			rc = buf_printf(out, "=%02X", c);
		any = true;
	}
	if (rc != 0)
		rc = err_set(e, ERR_TOOBIG, "%s: name too long", what);
	else if (!any)
		rc = err_set(e, ERR_INVALID, "%s: \"%s\" has no label", what, name);
out:
	buf_clear(&a);
	return rc;
}

int
naming_report_id(int64_t window_start, const char *policy_domain, unsigned part,
                 const char *submitter, struct buf *out, struct err *e)
{
	char t[TIME_RFC3339_LEN];
	int rc;

	if (time_format_rfc3339(window_start, t) != 0)
		return err_set(e, ERR_INVALID, "report-id: window start outside years 0000..9999");
	/* 2026-11-28T00:00:00Z -> 20261128T000000Z */
	if (buf_printf(out, "%.4s%.2s%.2sT%.2s%.2s%.2sZ.", t, t + 5, t + 8, t + 11, t + 14,
	               t + 17) != 0)
		return err_set(e, ERR_TOOBIG, "report-id: too long");
	rc = put_atom_name(policy_domain, out, e, "report-id: policy domain");
	if (rc == 0 && buf_printf(out, ".%u@", part) != 0)
		rc = err_set(e, ERR_TOOBIG, "report-id: too long");
	if (rc == 0)
		rc = put_atom_name(submitter, out, e, "report-id: submitter");
	return rc;
}

static int
copy_field(char *dst, size_t cap, struct span s)
{
	if (s.len == 0 || s.len >= cap)
		return -1;
	memcpy(dst, s.p, s.len);
	dst[s.len] = '\0';
	return 0;
}

int
naming_report_id_parse(struct span id, struct naming_report_id *out, struct err *e)
{
	struct time_parsed tp;
	char iso[21];

	memset(out, 0, sizeof(*out));
	const char *at = memchr(id.p, '@', id.len);
	if (id.len < 20 || at == NULL || id.p[16] != '.')
		return err_set(e, ERR_INVALID,
		               "report-id: not of the form TIME.DOMAIN.PART@SUBMITTER");
	const char *p = id.p;
	snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", p, p + 4, p + 6, p + 9, p + 11,
	         p + 13);
	if (p[8] != 'T' || p[15] != 'Z' || time_parse_rfc3339(span_make(iso, 20), 0, &tp) != 0)
		return err_set(e, ERR_INVALID, "report-id: bad time stamp");
	out->start = tp.t;
	struct span left = span_make(p + 17, (size_t)(at - (p + 17)));
	size_t dot = left.len;
	while (dot > 0 && left.p[dot - 1] != '.')
		dot--;
	uint64_t part;
	if (dot < 2 || str_to_u64(span_sub(left, dot, left.len - dot), &part) != 0 ||
	    part > UINT32_MAX)
		return err_set(e, ERR_INVALID, "report-id: bad part number");
	out->part = (unsigned)part;
	if (copy_field(out->domain, sizeof(out->domain), span_sub(left, 0, dot - 1)) != 0 ||
	    copy_field(out->submitter, sizeof(out->submitter),
	               span_make(at + 1, id.len - (size_t)(at + 1 - id.p))) != 0)
		return err_set(e, ERR_INVALID, "report-id: bad domain or submitter");
	return 0;
}

/* A copy of name in A-labels that must be a host name (LDH, "_" and "." only). */
static int
put_host(const char *name, struct buf *out, struct err *e, const char *what)
{
	size_t before = out->len;
	int rc;

	if (name == NULL || name[0] == '\0')
		return err_set(e, ERR_INVALID, "%s: empty name", what);
	rc = idna_to_ascii(span_cstr(name), out, e);
	if (rc != 0) {
		err_prefix(e, "%s", what);
		return rc;
	}
	if (out->len > before && out->data[out->len - 1] == '.')
		out->len--; /* absolute name */
	for (size_t i = before; i < out->len; i++) {
		char c = out->data[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return err_set(e, ERR_INVALID, "%s: \"%s\" is not a host name", what, name);
		out->data[i] = ascii_lower(c);
	}
	out->data[out->len] = '\0';
	return 0;
}

int
naming_filename(const char *submitter, const char *policy_domain, int64_t begin, int64_t end,
                const char *report_id, bool gzip, struct buf *out, struct err *e)
{
	int rc;

	if (begin < 0 || end < begin)
		return err_set(e, ERR_INVALID, "filename: bad time range");
	if ((rc = put_host(submitter, out, e, "filename: submitter")) != 0)
		return rc;
	if (buf_putc(out, '!') != 0)
		return err_set(e, ERR_TOOBIG, "filename: too long");
	if ((rc = put_host(policy_domain, out, e, "filename: policy domain")) != 0)
		return rc;
	uint64_t h = hash_bytes(report_id, report_id ? strlen(report_id) : 0, 0);
	if (buf_printf(out, "!%" PRId64 "!%" PRId64 "!%016" PRIx64 ".%s", begin, end, h,
	               gzip ? "json.gz" : "json") != 0)
		return err_set(e, ERR_TOOBIG, "filename: too long");
	return 0;
}

static bool
all_digits(struct span s)
{
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
	return true;
}

static bool
all_alnum(struct span s)
{
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return false;
	}
	return s.len > 0;
}

int
naming_filename_parse(struct span name, struct naming_filename *out, struct err *e)
{
	struct span parts[5];
	size_t n = 0, start = 0;

	memset(out, 0, sizeof(*out));
	/* the extension: .json.gz, .json or a bare .gz (corpus: YnkDK example.gz) */
	if (name.len > 8 && span_eq_nocase(span_sub(name, name.len - 8, 8), SPAN_LIT(".json.gz"))) {
		out->gzip = true;
		name.len -= 8;
	} else if (name.len > 5 &&
	           span_eq_nocase(span_sub(name, name.len - 5, 5), SPAN_LIT(".json"))) {
		name.len -= 5;
	} else if (name.len > 3 &&
	           span_eq_nocase(span_sub(name, name.len - 3, 3), SPAN_LIT(".gz"))) {
		out->gzip = true;
		name.len -= 3;
	} else {
		return err_set(e, ERR_INVALID, "filename: extension is not .json.gz, .json or .gz");
	}
	for (size_t i = 0; i <= name.len; i++) {
		if (i < name.len && name.p[i] != '!')
			continue;
		if (n == 5)
			return err_set(e, ERR_INVALID,
			               "filename: more than 5 \"!\"-separated fields");
		parts[n++] = span_sub(name, start, i - start);
		start = i + 1;
	}
	if (n < 4)
		return err_set(e, ERR_INVALID,
		               "filename: expected submitter!policy-domain!begin!end[!unique-id]");
	int64_t b, t;
	if (!all_digits(parts[2]) || !all_digits(parts[3]) || str_to_i64(parts[2], &b) != 0 ||
	    str_to_i64(parts[3], &t) != 0)
		return err_set(e, ERR_INVALID,
		               "filename: begin and end must be decimal timestamps");
	if (copy_field(out->submitter, sizeof(out->submitter), parts[0]) != 0 ||
	    copy_field(out->domain, sizeof(out->domain), parts[1]) != 0)
		return err_set(e, ERR_INVALID, "filename: empty or overlong submitter or domain");
	out->begin = b;
	out->end = t;
	if (n == 5) {
		if (!all_alnum(parts[4]) ||
		    copy_field(out->unique_id, sizeof(out->unique_id), parts[4]) != 0)
			return err_set(e, ERR_INVALID,
			               "filename: unique-id must be 1*(ALPHA / DIGIT)");
	}
	return 0;
}

int
naming_subject(const char *policy_domain, const char *submitter, const char *report_id,
               struct buf *out, struct err *e)
{
	if (buf_printf(out, "Report Domain: %s Submitter: %s Report-ID: <%s>", policy_domain,
	               submitter, report_id) != 0)
		return err_set(e, ERR_TOOBIG, "subject: too long");
	return 0;
}

/* Next white-space separated token of s starting at *pos ("" at the end). */
static struct span
next_token(struct span s, size_t *pos)
{
	size_t i = *pos;

	while (i < s.len && (s.p[i] == ' ' || s.p[i] == '\t' || s.p[i] == '\r' || s.p[i] == '\n'))
		i++;
	size_t start = i;
	while (i < s.len && !(s.p[i] == ' ' || s.p[i] == '\t' || s.p[i] == '\r' || s.p[i] == '\n'))
		i++;
	*pos = i;
	return span_sub(s, start, i - start);
}

int
naming_subject_parse(struct span s, struct naming_subject *out, struct err *e)
{
	static const char *const keys[] = { "Report", "Domain:", "Submitter:", "Report-ID:" };
	struct span tok[7];
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	/* tokens: Report Domain: D Submitter: S Report-ID: ID */
	for (size_t k = 0; k < 7; k++)
		tok[k] = next_token(s, &pos);
	if (!span_eq_nocase(tok[0], span_cstr(keys[0])) ||
	    !span_eq_nocase(tok[1], span_cstr(keys[1])) ||
	    !span_eq_nocase(tok[3], span_cstr(keys[2])) ||
	    !span_eq_nocase(tok[5], span_cstr(keys[3])))
		return err_set(e, ERR_INVALID,
		               "subject: not \"Report Domain: D Submitter: S Report-ID: <id>\"");
	struct span id = tok[6];
	if (id.len > 0 && id.p[0] == '<') {
		/* the id may be followed by CFWS; take up to the closing ">" */
		const char *gt = memchr(id.p, '>', id.len);
		if (gt == NULL)
			return err_set(e, ERR_INVALID, "subject: Report-ID: \"<\" without \">\"");
		id = span_make(id.p + 1, (size_t)(gt - id.p - 1));
		out->angle = true;
	}
	if (copy_field(out->domain, sizeof(out->domain), tok[2]) != 0 ||
	    copy_field(out->submitter, sizeof(out->submitter), tok[4]) != 0 ||
	    copy_field(out->report_id, sizeof(out->report_id), id) != 0)
		return err_set(e, ERR_INVALID,
		               "subject: empty or overlong domain, submitter or id");
	return 0;
}
