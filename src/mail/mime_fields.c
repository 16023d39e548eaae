/*
 * mime_fields.c - reading the header fields a TLS report receiver needs: From's
 * domain, TLS-Report-Domain / -Submitter, Date (RFC 5322 section 3.3, tolerant of the
 * forms real reporters send) and Message-ID.  See mime.h.  No I/O; thread-safe.
 */
#include "mail/mime.h"

#include <string.h>

#include "mail/mime_int.h"
#include "util/clock.h"
#include "util/str.h"

/* ------------------------------------------------------------------ addresses, ids */

int
mime_from_domain(const struct mime_msg *m, char *out, size_t cap)
{
	long h = mime_header_find(m, 0, "From");
	if (h < 0)
		return ERR_NOTFOUND;
	struct span v = m->hdrs[h].value;
	/* the angle-addr outside quotes and comments, else the first address */
	size_t a0 = 0, a1 = v.len;
	bool q = false;
	int depth = 0;
	for (size_t i = 0; i < v.len; i++) {
		char c = v.p[i];
		if (c == '\\') {
			i++;
			continue;
		}
		if (c == '"' && depth == 0) {
			q = !q;
		} else if (!q && c == '(') {
			depth++;
		} else if (!q && c == ')' && depth > 0) {
			depth--;
		} else if (!q && depth == 0 && c == '<') {
			a0 = i + 1;
			const char *gt = memchr(v.p + a0, '>', v.len - a0);
			a1 = gt ? (size_t)(gt - v.p) : v.len;
			break;
		} else if (!q && depth == 0 && c == ',') {
			a1 = i;
			break;
		}
	}
	struct span addr = span_make(v.p + a0, a1 - a0);
	const char *at = NULL;
	for (size_t i = 0; i < addr.len; i++)
		if (addr.p[i] == '@')
			at = addr.p + i;
	if (at == NULL)
		return ERR_INVALID;
	size_t n = 0;
	for (const char *p = at + 1; p < addr.p + addr.len; p++) {
		char c = ascii_lower(*p);
		if (is_fws(c) || c == '(' || c == '>' || c == ';')
			break;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		      c == '_'))
			return ERR_INVALID;
		if (n + 1 >= cap)
			return ERR_INVALID;
		out[n++] = c;
	}
	while (n && out[n - 1] == '.')
		n--;
	if (n == 0)
		return ERR_INVALID;
	out[n] = '\0';
	return 0;
}

int
mime_report_domain(const struct mime_msg *m, struct buf *out)
{
	return mime_header_get(m, "TLS-Report-Domain", out);
}

int
mime_report_submitter(const struct mime_msg *m, struct buf *out)
{
	return mime_header_get(m, "TLS-Report-Submitter", out);
}

int
mime_date(const struct mime_msg *m, int64_t *t)
{
	long h = mime_header_find(m, 0, "Date");
	if (h < 0)
		return ERR_NOTFOUND;
	struct buf v;
	buf_init(&v, m->hdrs[h].value.len + 1);
	int rc = mime_unfold(m->hdrs[h].value, &v);
	if (rc == 0)
		rc = mime_parse_date(buf_span(&v), t) == 0 ? 0 : ERR_INVALID;
	buf_clear(&v);
	return rc;
}

int
mime_message_id(const struct mime_msg *m, struct buf *out)
{
	long h = mime_header_find(m, 0, "Message-ID");
	if (h < 0)
		return ERR_NOTFOUND;
	struct span v = span_trim(m->hdrs[h].value);
	const char *lt = memchr(v.p, '<', v.len);
	if (lt) {
		size_t off = (size_t)(lt - v.p) + 1;
		const char *gt = memchr(v.p + off, '>', v.len - off);
		v = span_make(v.p + off, gt ? (size_t)(gt - v.p) - off : v.len - off);
	}
	return mime_unfold(v, out);
}

/* ------------------------------------------------------------------ dates */

static int
month_of(struct span w)
{
	static const char *const names[] = { "jan", "feb", "mar", "apr", "may", "jun",
		                             "jul", "aug", "sep", "oct", "nov", "dec" };
	if (w.len < 3)
		return -1;
	for (int i = 0; i < 12; i++)
		if (span_eq_nocase(span_sub(w, 0, 3), span_make(names[i], 3)))
			return i + 1;
	return -1;
}

/* Next word of letters / digits / sign / colon at v[*i]. */
static struct span
date_word(struct span v, size_t *i)
{
	size_t k = mime_skip_cfws(v, *i);
	while (k < v.len && (v.p[k] == ',' || is_fws(v.p[k])))
		k = mime_skip_cfws(v, k + 1);
	size_t s = k;
	while (k < v.len && !is_fws(v.p[k]) && v.p[k] != ',' && v.p[k] != '(')
		k++;
	*i = k;
	return span_make(v.p + s, k - s);
}

static bool
num2(struct span s, size_t off, unsigned *out)
{
	if (off + 2 > s.len || s.p[off] < '0' || s.p[off] > '9' || s.p[off + 1] < '0' ||
	    s.p[off + 1] > '9')
		return false;
	*out = (unsigned)(s.p[off] - '0') * 10 + (unsigned)(s.p[off + 1] - '0');
	return true;
}

int
mime_parse_date(struct span v, int64_t *t)
{
	size_t i = 0;
	struct span w = date_word(v, &i);
	uint64_t day = 0, year = 0;
	int mon;
	/* optional day name */
	if (w.len >= 3 && month_of(w) < 0 && !(w.p[0] >= '0' && w.p[0] <= '9'))
		w = date_word(v, &i);
	if ((mon = month_of(w)) > 0) { /* "May 09 2017" (seen in the RFC example) */
		if (str_to_u64(date_word(v, &i), &day) != 0)
			return -1;
	} else {
		if (str_to_u64(w, &day) != 0)
			return -1;
		if ((mon = month_of(date_word(v, &i))) < 0)
			return -1;
	}
	w = date_word(v, &i);
	if (str_to_u64(w, &year) != 0)
		return -1;
	if (w.len == 2)
		year += year < 50 ? 2000 : 1900;
	else if (w.len == 3)
		year += 1900;
	if (day < 1 || day > 31 || year > 9999)
		return -1;
	w = date_word(v, &i);
	unsigned hh, mm, ss = 0;
	if (!num2(w, 0, &hh) || w.len < 5 || w.p[2] != ':' || !num2(w, 3, &mm))
		return -1;
	if (w.len >= 8 && (w.p[5] != ':' || !num2(w, 6, &ss)))
		return -1;
	if (hh > 23 || mm > 59 || ss > 60)
		return -1;
	if (ss == 60)
		ss = 59;
	int64_t off = 0;
	w = date_word(v, &i);
	if (w.len == 5 && (w.p[0] == '+' || w.p[0] == '-')) {
		unsigned oh, om;
		if (!num2(w, 1, &oh) || !num2(w, 3, &om))
			return -1;
		off = (int64_t)oh * 3600 + (int64_t)om * 60;
		if (w.p[0] == '-')
			off = -off;
	} else if (w.len > 0) {
		static const struct {
			const char *n;
			int h;
		} zones[] = { { "UT", 0 },   { "GMT", 0 },  { "Z", 0 },    { "EST", -5 },
			      { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 }, { "MST", -7 },
			      { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 } };
		for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++)
			if (span_eq_nocase(w, span_cstr(zones[z].n)))
				off = (int64_t)zones[z].h * 3600;
	}
	*t = time_days_from_civil((int64_t)year, (unsigned)mon, (unsigned)day) * 86400 +
	     (int64_t)hh * 3600 + (int64_t)mm * 60 + ss - off;
	return 0;
}
