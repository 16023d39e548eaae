/*
 * txtrec.c - TLSRPT TXT record parser (RFC 8460 section 3).
 *
 *   tlsrpt-record    = tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim]
 *   field-delim      = *WSP ";" *WSP
 *   tlsrpt-field     = tlsrpt-rua / tlsrpt-extension
 *   tlsrpt-version   = %s"v=TLSRPTv1"
 *   tlsrpt-rua       = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
 *   tlsrpt-extension = tlsrpt-ext-name "=" tlsrpt-ext-value
 *   tlsrpt-ext-name  = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *   tlsrpt-ext-value = 1*(%x21-3A / %x3C / %x3E-7E)
 *
 * A field named "rua" whose value is not a URI list is, by this grammar, an extension
 * (ext-name may be "rua"), so it is ignored like any other extension; a record whose
 * every rua= is of that kind has no rua and is an error.  URIs follow RFC 3986 with ",",
 * "!" and ";" percent-encoded (section 3).  Repeated rua= fields are merged.  The
 * version prefix test is "v=TLSRPTv1" *WSP ";" (tolerant of RFC 8461 erratum 6285's
 * defect).  Pure, thread-safe.
 */
#include "report/txtrec.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/xalloc.h"

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
hexval(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 3986 characters allowed in a tlsrpt-uri ("," "!" ";" must be encoded). */
static bool
is_uri_char(char c)
{
	return is_alpha(c) || is_digit(c) || (c != 0 && strchr("-._~:/?#[]@$&'()*+=%", c) != NULL);
}

static bool
is_ext_value_char(char c)
{
	unsigned char u = (unsigned char)c;
	return (u >= 0x21 && u <= 0x3A) || u == 0x3C || (u >= 0x3E && u <= 0x7E);
}

/* The record prefix test: "v=TLSRPTv1" *WSP ";". */
static bool
has_prefix(struct span r, size_t *after_version)
{
	static const char v[] = "v=TLSRPTv1";
	size_t i = sizeof(v) - 1;

	if (r.len < i || memcmp(r.p, v, i) != 0)
		return false;
	*after_version = i;
	while (i < r.len && is_wsp(r.p[i]))
		i++;
	return i < r.len && r.p[i] == ';';
}

/*
 * Checks that u is an RFC 3986 URI (scheme ":" then URI characters with valid
 * %-escapes).  Returns the scheme length or 0.
 */
static size_t
uri_scheme(struct span u)
{
	size_t i = 0;

	if (u.len == 0 || !is_alpha(u.p[0]))
		return 0;
	while (i < u.len && (is_alpha(u.p[i]) || is_digit(u.p[i]) || u.p[i] == '+' ||
	                     u.p[i] == '-' || u.p[i] == '.'))
		i++;
	if (i == u.len || u.p[i] != ':')
		return 0;
	for (size_t k = i + 1; k < u.len; k++) {
		if (u.p[k] == '%' &&
		    (k + 2 >= u.len || hexval(u.p[k + 1]) < 0 || hexval(u.p[k + 2]) < 0))
			return 0;
	}
	return i;
}

static char *
pct_decode(struct span s)
{
	char *out = xmalloc(s.len + 1);
	size_t o = 0;

	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '%' && i + 2 < s.len && hexval(s.p[i + 1]) >= 0 &&
		    hexval(s.p[i + 2]) >= 0) {
			out[o++] = (char)(hexval(s.p[i + 1]) * 16 + hexval(s.p[i + 2]));
			i += 2;
		} else {
			out[o++] = s.p[i];
		}
	}
	out[o] = '\0';
	return out;
}

void
txtrec_clear(struct txtrec *t)
{
	for (size_t i = 0; i < t->n_rua; i++) {
		free(t->rua[i].uri);
		free(t->rua[i].target);
	}
	free(t->rua);
	memset(t, 0, sizeof(*t));
}

static void
add_uri(struct txtrec *t, struct span u, size_t scheme_len)
{
	struct span scheme = span_sub(u, 0, scheme_len);
	enum txtrec_scheme kind;

	if (span_eq_nocase(scheme, SPAN_LIT("mailto")))
		kind = TXTREC_MAILTO;
	else if (span_eq_nocase(scheme, SPAN_LIT("https")))
		kind = TXTREC_HTTPS;
	else {
		t->n_ignored++;
		return;
	}
	for (size_t i = 0; i < t->n_rua; i++)
		if (span_eq_cstr(u, t->rua[i].uri))
			return;
	if (t->n_rua == TXTREC_MAX_RUA) {
		t->n_ignored++;
		return;
	}
	if (t->n_rua == 0)
		t->rua = xcalloc(TXTREC_MAX_RUA, sizeof(*t->rua));
	struct txtrec_rua *r = &t->rua[t->n_rua++];
	r->scheme = kind;
	r->uri = xstrndup(u.p, u.len);
	if (kind == TXTREC_MAILTO) {
		struct span addr = span_sub(u, scheme_len + 1, u.len);
		const char *q = memchr(addr.p, '?', addr.len);
		if (q != NULL)
			addr.len = (size_t)(q - addr.p);
		r->target = pct_decode(addr);
	} else {
		r->target = xstrndup(u.p, u.len);
	}
}

/*
 * Tries to read a URI list at r[*pos] (the text after "rua=").  On success appends the
 * URIs, advances *pos and returns true; otherwise leaves everything unchanged.
 */
static bool
parse_uri_list(struct span r, size_t *pos, struct txtrec *t)
{
	struct span uris[TXTREC_MAX_RUA + 1];
	size_t schemes[TXTREC_MAX_RUA + 1], n = 0, i = *pos, extra = 0;

	for (;;) {
		size_t start = i;
		while (i < r.len && is_uri_char(r.p[i]))
			i++;
		struct span u = span_sub(r, start, i - start);
		size_t sl = uri_scheme(u);
		if (sl == 0)
			return false;
		if (n < TXTREC_MAX_RUA + 1) {
			uris[n] = u;
			schemes[n++] = sl;
		} else {
			extra++;
		}
		size_t k = i;
		while (k < r.len && is_wsp(r.p[k]))
			k++;
		if (k < r.len && r.p[k] == ',') {
			k++;
			while (k < r.len && is_wsp(r.p[k]))
				k++;
			i = k;
			continue;
		}
		/* the list ends at a field delimiter or at the end of the record */
		if (k < r.len && r.p[k] != ';')
			return false;
		break;
	}
	for (size_t k = 0; k < n; k++)
		add_uri(t, uris[k], schemes[k]);
	t->n_ignored += extra;
	*pos = i;
	return true;
}

int
txtrec_parse(struct span r, struct txtrec *out, struct err *e)
{
	size_t i, n_rua_fields = 0;
	char bad_rua[64] = "";

	memset(out, 0, sizeof(*out));
	if (r.len > TXTREC_MAX_LEN)
		return err_set(e, ERR_TOOBIG, "tlsrpt record: longer than %d bytes",
		               TXTREC_MAX_LEN);
	if (!has_prefix(r, &i))
		return err_set(e, ERR_INVALID,
		               "tlsrpt record: does not start with \"v=TLSRPTv1;\"");
	for (;;) {
		/* field-delim */
		while (i < r.len && is_wsp(r.p[i]))
			i++;
		if (i == r.len)
			break;
		if (r.p[i] != ';') {
			txtrec_clear(out);
			return err_set(e, ERR_INVALID,
			               "tlsrpt record: expected \";\" at offset %zu", i);
		}
		i++;
		while (i < r.len && is_wsp(r.p[i]))
			i++;
		if (i == r.len)
			break; /* [field-delim] at the end */
		/* tlsrpt-field: name */
		size_t name_start = i;
		if (!is_alpha(r.p[i]) && !is_digit(r.p[i])) {
			txtrec_clear(out);
			return err_set(e, ERR_INVALID,
			               "tlsrpt record: bad field name at offset %zu", i);
		}
		i++;
		while (i < r.len && (is_alpha(r.p[i]) || is_digit(r.p[i]) || r.p[i] == '_' ||
		                     r.p[i] == '-' || r.p[i] == '.'))
			i++;
		struct span name = span_sub(r, name_start, i - name_start);
		if (name.len > 32 || i == r.len || r.p[i] != '=') {
			txtrec_clear(out);
			return err_set(
			        e, ERR_INVALID,
			        "tlsrpt record: bad field at offset %zu (expected name=value)",
			        name_start);
		}
		i++;
		if (span_eq_cstr(name, "rua")) {
			size_t before = i;
			if (parse_uri_list(r, &i, out)) {
				n_rua_fields++;
				continue;
			}
			i = before;
			size_t k = i;
			while (k < r.len && r.p[k] != ';')
				k++;
			snprintf(bad_rua, sizeof(bad_rua), "%.*s",
			         (int)(k - before > 40 ? 40 : k - before), r.p + before);
		}
		/* tlsrpt-extension: value; also a "rua" that is not a URI list */
		size_t vstart = i;
		while (i < r.len && is_ext_value_char(r.p[i]))
			i++;
		if (i == vstart) {
			txtrec_clear(out);
			return err_set(e, ERR_INVALID,
			               "tlsrpt record: empty or bad value at offset %zu", vstart);
		}
	}
	if (n_rua_fields == 0) {
		txtrec_clear(out);
		if (bad_rua[0] != '\0')
			return err_set(
			        e, ERR_INVALID,
			        "tlsrpt record: no rua= field with a URI list (\"rua=%s\" is not a "
			        "URI)",
			        bad_rua);
		return err_set(e, ERR_INVALID, "tlsrpt record: no rua= field");
	}
	if (out->n_rua == 0) {
		size_t ignored = out->n_ignored;
		txtrec_clear(out);
		return err_set(
		        e, ERR_INVALID,
		        "tlsrpt record: no usable rua destination (%zu URI(s) with schemes other "
		        "than mailto: and https:)",
		        ignored);
	}
	return 0;
}

int
txtrec_select(const struct txtrec_rr *rrs, size_t n, struct txtrec *out, struct err *e)
{
	char *found = NULL;
	size_t found_len = 0, count = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		size_t len = 0, after;
		for (size_t k = 0; k < rrs[i].n_strings; k++) {
			if (rrs[i].strings[k].len > TXTREC_MAX_LEN - len) {
				len = TXTREC_MAX_LEN + 1;
				break;
			}
			len += rrs[i].strings[k].len;
		}
		if (len > TXTREC_MAX_LEN)
			continue; /* cannot be a TXT record */
		char *joined = xmalloc(len + 1);
		size_t o = 0;
		for (size_t k = 0; k < rrs[i].n_strings; k++) {
			if (rrs[i].strings[k].len)
				memcpy(joined + o, rrs[i].strings[k].p, rrs[i].strings[k].len);
			o += rrs[i].strings[k].len;
		}
		joined[o] = '\0';
		if (!has_prefix(span_make(joined, len), &after)) {
			free(joined);
			continue;
		}
		count++;
		if (found == NULL) {
			found = joined;
			found_len = len;
		} else {
			free(joined);
		}
	}
	if (count == 0) {
		rc = err_set(e, ERR_NOTFOUND,
		             "tlsrpt record: none of %zu TXT record(s) starts with "
		             "\"v=TLSRPTv1;\"",
		             n);
	} else if (count > 1) {
		rc = err_set(e, ERR_INVALID,
		             "tlsrpt record: %zu TLSRPT records (exactly one is allowed, RFC 8460 "
		             "section 3)",
		             count);
	} else {
		rc = txtrec_parse(span_make(found, found_len), out, e);
	}
	free(found);
	return rc;
}
