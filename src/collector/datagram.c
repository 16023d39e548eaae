/*
 * datagram.c - decoder for libtlsrpt datagrams (dpv 1).  See datagram.h.
 *
 * Follows ../shared/spec/libtlsrpt-datagram.md (libtlsrpt 0.5.1 as used by Postfix
 * 3.10+) and RFC 8259 for the JSON grammar; result codes map to the RFC 8460
 * section 4.3 result types.  A single pass over the bytes: strings are unescaped into
 * the decoder's scratch buffer (each input byte yields at most 3 output bytes, so the
 * buffer never overflows), numbers are read as 64-bit integers, unknown values are
 * skipped with a depth cap.  No allocation per datagram.
 *
 * Threading: a decoder belongs to one thread at a time; the tables are constant.
 */
#include "collector/datagram.h"

#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/xalloc.h"

static const char *const reject_names[DG_REJECT_COUNT_] = {
	[DG_OK] = "ok",
	[DG_REJECT_EMPTY] = "empty",
	[DG_REJECT_OVERSIZE] = "oversize",
	[DG_REJECT_SYNTAX] = "syntax",
	[DG_REJECT_NOT_OBJECT] = "not_object",
	[DG_REJECT_TYPE] = "type",
	[DG_REJECT_MISSING] = "missing",
	[DG_REJECT_DPV] = "dpv",
	[DG_REJECT_POLICY_TYPE] = "policy_type",
	[DG_REJECT_RESULT] = "result_code",
	[DG_REJECT_UTF8] = "utf8",
	[DG_REJECT_CAPS] = "caps",
	[DG_REJECT_DUPLICATE] = "duplicate",
};

const char *
datagram_reject_name(enum dg_reject r)
{
	if ((unsigned)r >= DG_REJECT_COUNT_)
		return "unknown";
	return reject_names[r];
}

const char *
datagram_policy_type_name(int type)
{
	switch (type) {
	case DG_POLICY_TLSA:
		return "tlsa";
	case DG_POLICY_STS:
		return "sts";
	case DG_POLICY_NONE:
		return "no-policy-found";
	default:
		return NULL;
	}
}

static const struct {
	int code;
	const char *name;
} results[] = {
	{ 201, "starttls-not-supported" },
	{ 202, "certificate-host-mismatch" },
	{ 203, "certificate-not-trusted" },
	{ 204, "certificate-expired" },
	{ 205, "validation-failure" },
	{ 301, "sts-policy-fetch-error" },
	{ 302, "sts-policy-invalid" },
	{ 303, "sts-webpki-invalid" },
	{ 304, "tlsa-invalid" },
	{ 305, "dnssec-invalid" },
	{ 306, "dane-required" },
};

const char *
datagram_result_name(int code)
{
	for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++)
		if (results[i].code == code)
			return results[i].name;
	return NULL;
}

int
datagram_result_code(struct span name)
{
	for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++)
		if (span_eq_cstr(name, results[i].name))
			return results[i].code;
	return 0;
}

static const char *const field_names[DG_F_COUNT_] = {
	"sending-mta-ip", "receiving-mx-hostname",  "receiving-mx-helo",
	"receiving-ip",   "additional-information", "failure-reason-code",
};

const char *
datagram_field_name(enum dg_field f)
{
	return (unsigned)f < DG_F_COUNT_ ? field_names[f] : "unknown";
}

void
datagram_decoder_init(struct datagram_decoder *d)
{
	d->cap = 3 * (size_t)DG_MAX_SIZE + 64;
	d->scratch = xmalloc(d->cap);
	d->used = 0;
}

void
datagram_decoder_clear(struct datagram_decoder *d)
{
	free(d->scratch);
	d->scratch = NULL;
	d->cap = 0;
	d->used = 0;
}

/* ---------------------------------------------------------------- parser */

enum str_mode {
	STR_STRICT, /* valid UTF-8, no U+0000, else DG_REJECT_UTF8 */
	STR_FREE,   /* invalid bytes and U+0000 become U+FFFD */
	STR_SKIP,   /* syntax only, nothing written */
};

struct parser {
	const unsigned char *p;
	const unsigned char *end;
	struct datagram_decoder *dec;
	struct datagram *out;
};

static inline void
skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static inline void
put_bytes(struct parser *ps, enum str_mode mode, const void *b, size_t n)
{
	if (mode == STR_SKIP)
		return;
	memcpy(ps->dec->scratch + ps->dec->used, b, n);
	ps->dec->used += n;
}

static const char replacement[3] = { (char)0xEF, (char)0xBF, (char)0xBD };

static int
hex4(const unsigned char *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Length of the UTF-8 sequence a lead byte announces (1 for invalid leads). */
static inline size_t
utf8_seq_len(unsigned char c)
{
	if (c >= 0xF0)
		return 4;
	if (c >= 0xE0)
		return 3;
	if (c >= 0xC0)
		return 2;
	return 1;
}

/* Emits code point cp (from a \u escape) under mode's rules. */
static enum dg_reject
put_cp(struct parser *ps, enum str_mode mode, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) {
		if (mode == STR_STRICT)
			return DG_REJECT_UTF8;
		put_bytes(ps, mode, replacement, 3);
		return DG_OK;
	}
	n = utf8_encode(cp, u);
	put_bytes(ps, mode, u, n);
	return DG_OK;
}

/*
 * Parses a JSON string at ps->p (which is at the opening quote).  In STR_STRICT and
 * STR_FREE mode the decoded bytes go to the scratch buffer and *out spans them.
 */
static enum dg_reject
parse_string(struct parser *ps, enum str_mode mode, struct span *out)
{
	const unsigned char *p = ps->p + 1;
	size_t start = ps->dec->used;
	enum dg_reject r;

	if (ps->p >= ps->end || *ps->p != '"')
		return DG_REJECT_TYPE;
	for (;;) {
		const unsigned char *run = p;
		while (p < ps->end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		put_bytes(ps, mode, run, (size_t)(p - run));
		if (p >= ps->end)
			return DG_REJECT_SYNTAX;
		if (*p == '"') {
			p++;
			break;
		}
		if (*p < 0x20)
			return DG_REJECT_SYNTAX;
		if (*p >= 0x80) {
			size_t n = utf8_seq_len(*p);
			if (n > (size_t)(ps->end - p))
				n = (size_t)(ps->end - p);
			if (n > 1 && utf8_valid_prefix((const char *)p, n) == n) {
				put_bytes(ps, mode, p, n);
				p += n;
				continue;
			}
			if (mode == STR_STRICT)
				return DG_REJECT_UTF8;
			put_bytes(ps, mode, replacement, 3);
			p++;
			continue;
		}
		/* backslash */
		if (ps->end - p < 2)
			return DG_REJECT_SYNTAX;
		p++;
		switch (*p) {
		case '"':
		case '\\':
		case '/':
			put_bytes(ps, mode, p, 1);
			p++;
			break;
		case 'b':
			put_bytes(ps, mode, "\b", 1);
			p++;
			break;
		case 'f':
			put_bytes(ps, mode, "\f", 1);
			p++;
			break;
		case 'n':
			put_bytes(ps, mode, "\n", 1);
			p++;
			break;
		case 'r':
			put_bytes(ps, mode, "\r", 1);
			p++;
			break;
		case 't':
			put_bytes(ps, mode, "\t", 1);
			p++;
			break;
		case 'u': {
			uint32_t cp, lo;
			if (ps->end - p < 5 || hex4(p + 1, &cp) < 0)
				return DG_REJECT_SYNTAX;
			p += 5;
			if (cp >= 0xD800 && cp <= 0xDBFF && ps->end - p >= 6 && p[0] == '\\' &&
			    p[1] == 'u' && hex4(p + 2, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				p += 6;
			}
			r = put_cp(ps, mode, cp);
			if (r != DG_OK)
				return r;
			break;
		}
		default:
			return DG_REJECT_SYNTAX;
		}
	}
	ps->p = p;
	if (out != NULL && mode != STR_SKIP)
		*out = span_make(ps->dec->scratch + start, ps->dec->used - start);
	return DG_OK;
}

/*
 * Parses a JSON number.  *is_int tells whether it was a plain integer that fits in
 * int64_t (then *out holds it).
 */
static enum dg_reject
parse_number(struct parser *ps, int64_t *out, bool *is_int)
{
	const unsigned char *p = ps->p;
	bool neg = false, integral = true, overflow = false;
	uint64_t v = 0;

	if (p < ps->end && *p == '-') {
		neg = true;
		p++;
	}
	if (p >= ps->end || *p < '0' || *p > '9')
		return DG_REJECT_SYNTAX;
	if (*p == '0') {
		p++;
	} else {
		while (p < ps->end && *p >= '0' && *p <= '9') {
			if (v > (UINT64_MAX - 9) / 10)
				overflow = true;
			else
				v = v * 10 + (uint64_t)(*p - '0');
			p++;
		}
	}
	if (p < ps->end && *p == '.') {
		integral = false;
		p++;
		if (p >= ps->end || *p < '0' || *p > '9')
			return DG_REJECT_SYNTAX;
		while (p < ps->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < ps->end && (*p == 'e' || *p == 'E')) {
		integral = false;
		p++;
		if (p < ps->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= ps->end || *p < '0' || *p > '9')
			return DG_REJECT_SYNTAX;
		while (p < ps->end && *p >= '0' && *p <= '9')
			p++;
	}
	ps->p = p;
	if (overflow || v > (uint64_t)INT64_MAX)
		integral = false;
	*is_int = integral;
	if (integral)
		*out = neg ? -(int64_t)v : (int64_t)v;
	return DG_OK;
}

static bool
match_lit(struct parser *ps, const char *lit, size_t n)
{
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0)
		return false;
	ps->p += n;
	return true;
}

static enum dg_reject skip_value(struct parser *ps, int depth);

/* Skips the members of an object or the elements of an array after its opener. */
static enum dg_reject
skip_container(struct parser *ps, int depth, bool object)
{
	unsigned char close = object ? '}' : ']';
	enum dg_reject r;

	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return DG_OK;
	}
	for (;;) {
		skip_ws(ps);
		if (object) {
			if (ps->p >= ps->end || *ps->p != '"')
				return DG_REJECT_SYNTAX;
			r = parse_string(ps, STR_SKIP, NULL);
			if (r != DG_OK)
				return DG_REJECT_SYNTAX;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return DG_REJECT_SYNTAX;
			ps->p++;
		}
		r = skip_value(ps, depth + 1);
		if (r != DG_OK)
			return r;
		skip_ws(ps);
		if (ps->p >= ps->end)
			return DG_REJECT_SYNTAX;
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p == close) {
			ps->p++;
			return DG_OK;
		}
		return DG_REJECT_SYNTAX;
	}
}

static enum dg_reject
skip_value(struct parser *ps, int depth)
{
	int64_t n;
	bool is_int;

	skip_ws(ps);
	if (ps->p >= ps->end)
		return DG_REJECT_SYNTAX;
	switch (*ps->p) {
	case '{':
	case '[':
		if (depth >= DG_MAX_DEPTH)
			return DG_REJECT_CAPS;
		return skip_container(ps, depth, *ps->p == '{');
	case '"':
		return parse_string(ps, STR_SKIP, NULL) == DG_OK ? DG_OK : DG_REJECT_SYNTAX;
	case 't':
		return match_lit(ps, "true", 4) ? DG_OK : DG_REJECT_SYNTAX;
	case 'f':
		return match_lit(ps, "false", 5) ? DG_OK : DG_REJECT_SYNTAX;
	case 'n':
		return match_lit(ps, "null", 4) ? DG_OK : DG_REJECT_SYNTAX;
	default:
		return parse_number(ps, &n, &is_int);
	}
}

/*
 * Reads an integer value.  A value of another JSON type is DG_REJECT_TYPE; broken JSON
 * is DG_REJECT_SYNTAX.
 */
static enum dg_reject
read_int(struct parser *ps, int64_t *out)
{
	bool is_int;
	enum dg_reject r;

	skip_ws(ps);
	if (ps->p < ps->end && (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))) {
		r = parse_number(ps, out, &is_int);
		if (r != DG_OK)
			return r;
		return is_int ? DG_OK : DG_REJECT_TYPE;
	}
	r = skip_value(ps, 0);
	return r != DG_OK ? r : DG_REJECT_TYPE;
}

static enum dg_reject
read_string(struct parser *ps, enum str_mode mode, struct span *out)
{
	enum dg_reject r;

	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '"')
		return parse_string(ps, mode, out);
	r = skip_value(ps, 0);
	return r != DG_OK ? r : DG_REJECT_TYPE;
}

/*
 * Iterates an object: on each call positions ps after "key": and returns the key in
 * *key (a span into the input when it has no escapes, else into scratch).  Returns
 * DG_OK with key->p == NULL at the closing brace.
 */
static enum dg_reject
next_member(struct parser *ps, bool *first, struct span *key)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return DG_REJECT_SYNTAX;
	if (*first) {
		*first = false;
		if (*ps->p == '}') {
			ps->p++;
			key->p = NULL;
			return DG_OK;
		}
	} else {
		if (*ps->p == '}') {
			ps->p++;
			key->p = NULL;
			return DG_OK;
		}
		if (*ps->p != ',')
			return DG_REJECT_SYNTAX;
		ps->p++;
		skip_ws(ps);
	}
	if (ps->p >= ps->end || *ps->p != '"')
		return DG_REJECT_SYNTAX;
	{
		/* fast path: keys without escapes are spans of the input */
		const unsigned char *q = ps->p + 1;
		while (q < ps->end && *q != '"' && *q != '\\')
			q++;
		if (q < ps->end && *q == '"') {
			*key = span_make(ps->p + 1, (size_t)(q - ps->p - 1));
			ps->p = q + 1;
		} else {
			enum dg_reject r = parse_string(ps, STR_FREE, key);
			if (r != DG_OK)
				return DG_REJECT_SYNTAX;
		}
	}
	skip_ws(ps);
	if (ps->p >= ps->end || *ps->p != ':')
		return DG_REJECT_SYNTAX;
	ps->p++;
	skip_ws(ps);
	return DG_OK;
}

/* Iterates an array: DG_OK with *more false at the closing bracket. */
static enum dg_reject
next_element(struct parser *ps, bool *first, bool *more)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return DG_REJECT_SYNTAX;
	if (*ps->p == ']') {
		ps->p++;
		*more = false;
		return DG_OK;
	}
	if (!*first) {
		if (*ps->p != ',')
			return DG_REJECT_SYNTAX;
		ps->p++;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ']')
			return DG_REJECT_SYNTAX;
	}
	*first = false;
	*more = true;
	return DG_OK;
}

/* Expects '[' (else DG_REJECT_TYPE after skipping the value). */
static enum dg_reject
open_array(struct parser *ps)
{
	enum dg_reject r;

	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '[') {
		ps->p++;
		return DG_OK;
	}
	r = skip_value(ps, 0);
	return r != DG_OK ? r : DG_REJECT_TYPE;
}

static enum dg_reject
open_object(struct parser *ps)
{
	enum dg_reject r;

	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '{') {
		ps->p++;
		return DG_OK;
	}
	r = skip_value(ps, 0);
	return r != DG_OK ? r : DG_REJECT_TYPE;
}

static enum dg_reject
parse_string_array(struct parser *ps, unsigned *first_out, unsigned *n_out)
{
	struct datagram *d = ps->out;
	bool first = true, more;
	enum dg_reject r = open_array(ps);

	if (r != DG_OK)
		return r;
	*first_out = d->nstrings;
	*n_out = 0;
	for (;;) {
		r = next_element(ps, &first, &more);
		if (r != DG_OK)
			return r;
		if (!more)
			return DG_OK;
		if (d->nstrings >= DG_MAX_STRINGS)
			return DG_REJECT_CAPS;
		r = read_string(ps, STR_STRICT, &d->strings[d->nstrings]);
		if (r != DG_OK)
			return r;
		d->nstrings++;
		(*n_out)++;
	}
}

static enum dg_reject
parse_detail(struct parser *ps, struct dg_detail *det)
{
	static const char keys[DG_F_COUNT_] = { 's', 'n', 'h', 'r', 'a', 'f' };
	bool first = true, has_code = false;
	struct span key;
	enum dg_reject r = open_object(ps);

	if (r != DG_OK)
		return r;
	memset(det, 0, sizeof(*det));
	for (;;) {
		r = next_member(ps, &first, &key);
		if (r != DG_OK)
			return r;
		if (key.p == NULL)
			break;
		if (key.len == 1 && key.p[0] == 'c') {
			int64_t c;
			r = read_int(ps, &c);
			if (r != DG_OK)
				return r;
			if (c < 0 || c > 999 || datagram_result_name((int)c) == NULL)
				return DG_REJECT_RESULT;
			det->code = (int)c;
			has_code = true;
			continue;
		}
		if (key.len == 1) {
			const char *k = memchr(keys, key.p[0], sizeof(keys));
			if (k != NULL) {
				int f = (int)(k - keys);
				enum str_mode mode =
				        (f == DG_F_HELO || f == DG_F_ADDITIONAL || f == DG_F_REASON)
				                ? STR_FREE
				                : STR_STRICT;
				r = read_string(ps, mode, &det->field[f]);
				if (r != DG_OK)
					return r;
				continue;
			}
		}
		r = skip_value(ps, 1);
		if (r != DG_OK)
			return r;
	}
	return has_code ? DG_OK : DG_REJECT_MISSING;
}

static enum dg_reject
parse_policy(struct parser *ps, struct dg_policy *pol)
{
	struct datagram *d = ps->out;
	bool first = true, has_type = false, has_f = false, seen_s = false, seen_m = false,
	     seen_fd = false;
	struct span key;
	int64_t v;
	enum dg_reject r = open_object(ps);

	if (r != DG_OK)
		return r;
	memset(pol, 0, sizeof(*pol));
	pol->first_detail = d->ndetails;
	for (;;) {
		r = next_member(ps, &first, &key);
		if (r != DG_OK)
			return r;
		if (key.p == NULL)
			break;
		if (span_eq_cstr(key, "policy-type")) {
			r = read_int(ps, &v);
			if (r != DG_OK)
				return r;
			if (v != DG_POLICY_TLSA && v != DG_POLICY_STS && v != DG_POLICY_NONE)
				return DG_REJECT_POLICY_TYPE;
			pol->type = (int)v;
			has_type = true;
		} else if (span_eq_cstr(key, "policy-domain")) {
			r = read_string(ps, STR_STRICT, &pol->domain);
			if (r != DG_OK)
				return r;
		} else if (span_eq_cstr(key, "policy-string")) {
			if (seen_s)
				return DG_REJECT_DUPLICATE;
			seen_s = true;
			r = parse_string_array(ps, &pol->first_string, &pol->nstrings);
			if (r != DG_OK)
				return r;
		} else if (span_eq_cstr(key, "mx-host")) {
			if (seen_m)
				return DG_REJECT_DUPLICATE;
			seen_m = true;
			r = parse_string_array(ps, &pol->first_mx, &pol->nmx);
			if (r != DG_OK)
				return r;
		} else if (span_eq_cstr(key, "failure-details")) {
			bool efirst = true, more;
			if (seen_fd)
				return DG_REJECT_DUPLICATE;
			seen_fd = true;
			r = open_array(ps);
			if (r != DG_OK)
				return r;
			pol->first_detail = d->ndetails;
			for (;;) {
				r = next_element(ps, &efirst, &more);
				if (r != DG_OK)
					return r;
				if (!more)
					break;
				if (d->ndetails >= DG_MAX_DETAILS)
					return DG_REJECT_CAPS;
				r = parse_detail(ps, &d->detail[d->ndetails]);
				if (r != DG_OK)
					return r;
				d->ndetails++;
				pol->ndetails++;
			}
		} else if (span_eq_cstr(key, "t")) {
			r = read_int(ps, &v);
			if (r != DG_OK)
				return r;
		} else if (span_eq_cstr(key, "f")) {
			r = read_int(ps, &v);
			if (r != DG_OK)
				return r;
			if (v != 0 && v != 1)
				return DG_REJECT_TYPE;
			pol->failed = v == 1;
			has_f = true;
		} else {
			r = skip_value(ps, 1);
			if (r != DG_OK)
				return r;
		}
	}
	if (!has_type)
		return DG_REJECT_MISSING;
	if (!has_f)
		pol->failed = pol->ndetails > 0;
	return DG_OK;
}

static enum dg_reject
parse_top(struct parser *ps)
{
	struct datagram *d = ps->out;
	bool first = true, has_d = false, has_pr = false, has_pol = false;
	struct span key;
	int64_t v;
	enum dg_reject r;

	ps->p++; /* '{' */
	for (;;) {
		r = next_member(ps, &first, &key);
		if (r != DG_OK)
			return r;
		if (key.p == NULL)
			break;
		if (key.len == 1 && key.p[0] == 'd') {
			r = read_string(ps, STR_STRICT, &d->domain);
			if (r != DG_OK)
				return r;
			has_d = true;
		} else if (key.len == 2 && key.p[0] == 'p' && key.p[1] == 'r') {
			r = read_string(ps, STR_STRICT, &d->record);
			if (r != DG_OK)
				return r;
			has_pr = true;
		} else if (span_eq_cstr(key, "dpv")) {
			skip_ws(ps);
			if (ps->p < ps->end && *ps->p == '"') {
				struct span s;
				size_t mark = ps->dec->used;
				r = parse_string(ps, STR_FREE, &s);
				if (r != DG_OK)
					return r;
				ps->dec->used = mark;
				if (!span_eq_cstr(s, "1"))
					return DG_REJECT_DPV;
			} else {
				r = read_int(ps, &v);
				if (r == DG_REJECT_TYPE || (r == DG_OK && v != 1))
					return DG_REJECT_DPV;
				if (r != DG_OK)
					return r;
			}
		} else if (span_eq_cstr(key, "policies")) {
			bool efirst = true, more;
			if (has_pol)
				return DG_REJECT_DUPLICATE;
			has_pol = true;
			r = open_array(ps);
			if (r != DG_OK)
				return r;
			for (;;) {
				r = next_element(ps, &efirst, &more);
				if (r != DG_OK)
					return r;
				if (!more)
					break;
				if (d->npolicies >= DG_MAX_POLICIES)
					return DG_REJECT_CAPS;
				r = parse_policy(ps, &d->policy[d->npolicies]);
				if (r != DG_OK)
					return r;
				d->npolicies++;
			}
		} else if (span_eq_cstr(key, "ts")) {
			r = read_int(ps, &v);
			if (r != DG_OK)
				return r;
			d->ts = v;
			d->has_ts = true;
		} else if (span_eq_cstr(key, "rpt")) {
			skip_ws(ps);
			if (match_lit(ps, "true", 4)) {
				d->report_delivery = true;
			} else if (match_lit(ps, "false", 5)) {
				d->report_delivery = false;
			} else {
				r = read_int(ps, &v);
				if (r != DG_OK)
					return r;
				if (v != 0 && v != 1)
					return DG_REJECT_TYPE;
				d->report_delivery = v == 1;
			}
		} else {
			r = skip_value(ps, 1);
			if (r != DG_OK)
				return r;
		}
	}
	if (!has_d || !has_pr || !has_pol || d->npolicies == 0 || d->domain.len == 0)
		return DG_REJECT_MISSING;
	return DG_OK;
}

enum dg_reject
datagram_decode(struct datagram_decoder *dec, const char *p, size_t len, struct datagram *out)
{
	struct parser ps = { (const unsigned char *)p, (const unsigned char *)p + len, dec, out };
	enum dg_reject r;

	if (len > DG_MAX_SIZE)
		return DG_REJECT_OVERSIZE;
	dec->used = 0;
	out->domain = span_make(NULL, 0);
	out->record = span_make(NULL, 0);
	out->has_ts = false;
	out->ts = 0;
	out->report_delivery = false;
	out->npolicies = out->ndetails = out->nstrings = 0;

	skip_ws(&ps);
	if (ps.p >= ps.end)
		return DG_REJECT_EMPTY;
	if (*ps.p != '{') {
		r = skip_value(&ps, 0);
		if (r != DG_OK)
			return DG_REJECT_SYNTAX;
		skip_ws(&ps);
		return ps.p == ps.end ? DG_REJECT_NOT_OBJECT : DG_REJECT_SYNTAX;
	}
	r = parse_top(&ps);
	if (r != DG_OK)
		return r;
	/* trailing white space or NUL bytes are tolerated, anything else is not */
	while (ps.p < ps.end &&
	       (*ps.p == ' ' || *ps.p == '\t' || *ps.p == '\n' || *ps.p == '\r' || *ps.p == '\0'))
		ps.p++;
	if (ps.p != ps.end)
		return DG_REJECT_SYNTAX;

	/* d: lower-cased, one trailing dot removed (like the reference collector) */
	{
		char *dp = dec->scratch + (out->domain.p - dec->scratch);
		str_lower(dp, out->domain.len);
		if (out->domain.len > 1 && dp[out->domain.len - 1] == '.')
			out->domain.len--;
	}
	for (unsigned i = 0; i < out->npolicies; i++)
		if (out->policy[i].domain.p == NULL)
			out->policy[i].domain = out->domain;
	return DG_OK;
}
