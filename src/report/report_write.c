/*
 * report_write.c - the JSON writer of the report model (our own code, not jansson,
 * for speed and exact bytes).
 *
 * RFC 8460 section 4.4 (schema and key names), erratum 6241 (mx-host is an array),
 * RFC 8259 section 7 (string escaping), I-JSON (RFC 7493: UTF-8 only).  The key order
 * is documented in report.h.  One sink type serves three outputs: a capped buf, a gzip
 * stream (through a small staging buffer) and a byte counter, so report_json_size()
 * is exact by construction.  Thread-safe (no shared state).
 */
#include "report/report.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report/gzip.h"
#include "util/clock.h"
#include "util/str.h"

enum { STAGE_SIZE = 8192 };

struct sink {
	struct buf *b;          /* buf output, or NULL */
	struct gzip_writer *gz; /* gzip output, or NULL */
	size_t count;           /* bytes produced (all modes) */
	size_t used;            /* bytes staged for gz */
	int rc;                 /* first failure, sticky */
	struct err *e;
	char stage[STAGE_SIZE];
};

static void
stage_flush(struct sink *s)
{
	if (s->used > 0 && s->rc == 0)
		s->rc = gzip_writer_write(s->gz, s->stage, s->used, s->e);
	s->used = 0;
}

static void
put(struct sink *s, const char *p, size_t n)
{
	s->count += n;
	if (s->rc != 0)
		return;
	if (s->b != NULL) {
		if (buf_append(s->b, p, n) != 0)
			s->rc = err_set(s->e, ERR_TOOBIG,
			                "report: JSON exceeds the cap of %zu bytes", s->b->max);
	} else if (s->gz != NULL) {
		if (n > STAGE_SIZE - s->used) {
			stage_flush(s);
			if (n > STAGE_SIZE) {
				if (s->rc == 0)
					s->rc = gzip_writer_write(s->gz, p, n, s->e);
				return;
			}
		}
		memcpy(s->stage + s->used, p, n);
		s->used += n;
	}
}

#define PUT_LIT(s, lit) put((s), (lit), sizeof(lit) - 1)

/* Length of the valid UTF-8 sequence at p[0..n), or 0 when it is not valid. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	size_t want = p[0] < 0xC2 ? 0 : p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : p[0] < 0xF5 ? 4 : 0;

	if (want == 0 || want > n)
		return 0;
	return utf8_valid((const char *)p, want) ? want : 0;
}

static void
put_string(struct sink *s, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)str;
	size_t n = strlen(str), run = 0;

	PUT_LIT(s, "\"");
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			run++;
			continue;
		}
		if (c >= 0x80) {
			size_t k = utf8_seq(p + i, n - i);
			if (k > 0) {
				i += k;
				run += k;
				continue;
			}
		}
		put(s, (const char *)p + i - run, run);
		run = 0;
		if (c == '"') {
			PUT_LIT(s, "\\\"");
		} else if (c == '\\') {
			PUT_LIT(s, "\\\\");
		} else if (c < 0x20) {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			put(s, esc, sizeof(esc));
		} else {
			PUT_LIT(s, "\\ufffd"); /* a byte that is not valid UTF-8 */
		}
		i++;
	}
	put(s, (const char *)p + n - run, run);
	PUT_LIT(s, "\"");
}

static void
put_u64(struct sink *s, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	put(s, tmp + i, sizeof(tmp) - i);
}

static void
put_date(struct sink *s, int64_t t, const char *what)
{
	char d[TIME_RFC3339_LEN];

	if (time_format_rfc3339(t, d) != 0) {
		if (s->rc == 0)
			s->rc = err_set(s->e, ERR_INVALID,
			                "date-range.%s: %" PRId64 " is outside years 0000..9999",
			                what, t);
		return;
	}
	PUT_LIT(s, "\"");
	put(s, d, TIME_RFC3339_LEN - 1);
	PUT_LIT(s, "\"");
}

/* ,"key":"value" when value is present (first: no leading comma). */
static void
put_member(struct sink *s, bool *first, const char *key_lit, size_t key_len, const char *value)
{
	if (value == NULL)
		return;
	if (!*first)
		PUT_LIT(s, ",");
	*first = false;
	put(s, key_lit, key_len);
	put_string(s, value);
}

#define MEMBER(s, first, key, value)                                                               \
	put_member((s), (first), "\"" key "\":", sizeof(key) + 2, (value))

static void
put_strv(struct sink *s, char *const *v, size_t n)
{
	PUT_LIT(s, "[");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			PUT_LIT(s, ",");
		put_string(s, v[i]);
	}
	PUT_LIT(s, "]");
}

static void
put_failure(struct sink *s, const struct report_failure *f)
{
	const char *rt = f->result_type == REPORT_RESULT_UNKNOWN
	                         ? f->result_type_other
	                         : report_result_type_name(f->result_type);
	bool first = true;

	PUT_LIT(s, "{");
	MEMBER(s, &first, "result-type", rt);
	MEMBER(s, &first, "sending-mta-ip", f->sending_mta_ip);
	MEMBER(s, &first, "receiving-mx-hostname", f->receiving_mx_hostname);
	MEMBER(s, &first, "receiving-mx-helo", f->receiving_mx_helo);
	MEMBER(s, &first, "receiving-ip", f->receiving_ip);
	if (!first)
		PUT_LIT(s, ",");
	first = false;
	PUT_LIT(s, "\"failed-session-count\":");
	put_u64(s, f->failed_session_count);
	MEMBER(s, &first, "additional-information", f->additional_information);
	MEMBER(s, &first, "failure-reason-code", f->failure_reason_code);
	PUT_LIT(s, "}");
}

static void
put_policy(struct sink *s, const struct report_policy *p)
{
	const char *type =
	        p->type == REPORT_POLICY_UNKNOWN ? p->type_other : report_policy_type_name(p->type);
	bool first = true;

	PUT_LIT(s, "{\"policy\":{");
	MEMBER(s, &first, "policy-type", type);
	if (p->n_strings > 0 && p->type != REPORT_POLICY_NO_POLICY_FOUND) {
		if (!first)
			PUT_LIT(s, ",");
		first = false;
		PUT_LIT(s, "\"policy-string\":");
		put_strv(s, p->strings, p->n_strings);
	}
	MEMBER(s, &first, "policy-domain", p->domain);
	if (p->n_mx_hosts > 0) {
		if (!first)
			PUT_LIT(s, ",");
		PUT_LIT(s, "\"mx-host\":");
		put_strv(s, p->mx_hosts, p->n_mx_hosts);
	}
	PUT_LIT(s, "},\"summary\":{\"total-successful-session-count\":");
	put_u64(s, p->successful);
	PUT_LIT(s, ",\"total-failure-session-count\":");
	put_u64(s, p->failed);
	PUT_LIT(s, "}");
	if (p->n_failures > 0) {
		PUT_LIT(s, ",\"failure-details\":[");
		for (size_t i = 0; i < p->n_failures; i++) {
			if (i > 0)
				PUT_LIT(s, ",");
			put_failure(s, &p->failures[i]);
		}
		PUT_LIT(s, "]");
	}
	PUT_LIT(s, "}");
}

static int
write_all(struct sink *s, const struct report *r)
{
	bool first = true;

	PUT_LIT(s, "{");
	MEMBER(s, &first, "organization-name", r->organization_name);
	if (!first)
		PUT_LIT(s, ",");
	PUT_LIT(s, "\"date-range\":{\"start-datetime\":");
	put_date(s, r->start, "start-datetime");
	PUT_LIT(s, ",\"end-datetime\":");
	put_date(s, r->end, "end-datetime");
	PUT_LIT(s, "}");
	first = false;
	MEMBER(s, &first, "contact-info", r->contact_info);
	MEMBER(s, &first, "report-id", r->report_id);
	PUT_LIT(s, ",\"policies\":[");
	for (size_t i = 0; i < r->n_policies; i++) {
		if (i > 0)
			PUT_LIT(s, ",");
		put_policy(s, r->policies[i]);
	}
	PUT_LIT(s, "]}");
	if (s->gz != NULL)
		stage_flush(s);
	return s->rc;
}

int
report_write_json(const struct report *r, struct buf *out, struct err *e)
{
	struct sink s = { .b = out, .e = e };

	return write_all(&s, r);
}

int
report_write_json_gzip(const struct report *r, struct gzip_writer *gz, struct err *e)
{
	struct sink s = { .gz = gz, .e = e };

	return write_all(&s, r);
}

int
report_json_size(const struct report *r, size_t *size, struct err *e)
{
	struct sink s = { .e = e };
	int rc = write_all(&s, r);

	*size = s.count;
	return rc;
}
