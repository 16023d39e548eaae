/*
 * compose.c - the RFC 8460 section 5.3 report message.  See compose.h.
 *
 * RFCs: 5322 (header fields, folding at 78, 998-octet lines, Date), 2045/2046 (MIME,
 * base64 at 76 columns), 6522 (multipart/report), 2183 (Content-Disposition), 2047
 * (encoded display names), 8689 (TLS-Required: No), 3834 (Auto-Submitted).  The
 * boundary "=_tlsrpt_<hex>" cannot occur in base64 or in our ASCII text part.
 * Pure; thread-safe.
 */
#include "mail/compose.h"

#include <stdbool.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "util/base64.h"
#include "util/clock.h"
#include "util/str.h"

/* ------------------------------------------------------------ input checks */

static bool
has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static bool
ascii_printable(const char *s, const char *forbidden)
{
	if (*s == '\0')
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c >= 0x7f || strchr(forbidden, *s))
			return false;
	}
	return true;
}

static bool
valid_domain(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_'))
			return false;
	}
	return true;
}

static bool
valid_addr(const char *s)
{
	const char *at = strrchr(s, '@');
	return at && at != s && strlen(s) <= 254 && ascii_printable(s, "<>()[],;:\\\"") &&
	       valid_domain(at + 1);
}

/* ------------------------------------------------------------ header writing */

struct hw {
	struct buf *out;
	size_t col;
	int rc;
};

static void
hw_raw(struct hw *w, const char *p, size_t n)
{
	if (w->rc == 0)
		w->rc = buf_append(w->out, p, n);
	w->col += n;
}

/* Writes "Name: " then words of value separated by single spaces, folding at 78. */
static void
hw_field(struct hw *w, const char *name, const char *value)
{
	w->col = 0;
	hw_raw(w, name, strlen(name));
	hw_raw(w, ":", 1);
	const char *p = value;
	while (*p) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		const char *q = p;
		while (*q && *q != ' ')
			q++;
		size_t n = (size_t)(q - p);
		if (w->col + 1 + n > 78 && w->col > strlen(name) + 1) {
			hw_raw(w, "\r\n", 2);
			w->col = 0;
		}
		hw_raw(w, " ", 1);
		hw_raw(w, p, n);
		p = q;
	}
	hw_raw(w, "\r\n", 2);
}

/* Display name: as atoms, as a quoted-string, or RFC 2047 B encoded-words for UTF-8. */
static int
display_name(const char *name, struct buf *out)
{
	bool ascii = true, atoms = true;
	for (const char *p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c >= 0x80)
			ascii = false;
		else if (!(c == ' ' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		           (c >= '0' && c <= '9') || strchr("!#$%&'*+-/=?^_`{|}~", (int)c)))
			atoms = false;
	}
	if (ascii && atoms && name[0] != ' ' && strstr(name, "  ") == NULL &&
	    name[strlen(name) - 1] != ' ')
		return buf_append_str(out, name);
	if (ascii) {
		int rc = buf_putc(out, '"');
		for (const char *p = name; *p && rc == 0; p++) {
			if (*p == '"' || *p == '\\')
				rc = buf_putc(out, '\\');
			if (rc == 0)
				rc = buf_putc(out, *p);
		}
		return rc ? rc : buf_putc(out, '"');
	}
	/* encoded-words of at most 45 bytes (60 base64 chars), split on UTF-8 boundaries;
	 * separated by spaces so the folder can break between them */
	size_t len = strlen(name), pos = 0;
	int rc = 0;
	while (pos < len && rc == 0) {
		size_t n = len - pos < 45 ? len - pos : 45;
		while (n > 0 && pos + n < len && ((unsigned char)name[pos + n] & 0xc0) == 0x80)
			n--;
		if (pos)
			rc = buf_putc(out, ' ');
		if (rc == 0)
			rc = buf_append_str(out, "=?utf-8?B?");
		if (rc == 0)
			rc = base64_encode(out, name + pos, n, 0);
		if (rc == 0)
			rc = buf_append_str(out, "?=");
		pos += n;
	}
	return rc;
}

static void
hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* SHA-256 over the NUL-separated inputs, as hex (first n bytes). */
static void
derive(const struct compose_report *r, const char *label, char *out, size_t nbytes)
{
	unsigned char h[32];
	char num[64];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int hl = 0;
	memset(h, 0, sizeof h);
	if (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1) {
		const char *parts[] = { label, r->report_id, r->filename, r->policy_domain,
			                r->submitter };
		for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
			EVP_DigestUpdate(md, parts[i], strlen(parts[i]) + 1);
		snprintf(num, sizeof num, "%lld/%lld/%lld/%zu", (long long)r->date,
		         (long long)r->window_begin, (long long)r->window_end, r->gz_len);
		EVP_DigestUpdate(md, num, strlen(num));
		EVP_DigestUpdate(md, r->gz, r->gz_len);
		EVP_DigestFinal_ex(md, h, &hl);
	}
	EVP_MD_CTX_free(md);
	hex(h, nbytes, out);
}

/* ------------------------------------------------------------ the message */

static int
check_inputs(const struct compose_report *r, struct err *e)
{
	if (r->from_address == NULL || !valid_addr(r->from_address))
		return err_set(e, ERR_INVALID, "report mail: from-address \"%s\" is not an address",
		               r->from_address ? r->from_address : "");
	if (r->from_name && (has_ctl(r->from_name) || strlen(r->from_name) > 200 ||
	                     !utf8_valid(r->from_name, strlen(r->from_name))))
		return err_set(e, ERR_INVALID,
		               "report mail: from-name must be UTF-8 text of at most 200 bytes "
		               "without control characters");
	if (r->to == NULL || r->to[0] == NULL)
		return err_set(e, ERR_INVALID, "report mail: no recipient");
	for (size_t i = 0; r->to[i]; i++)
		if (!valid_addr(r->to[i]))
			return err_set(e, ERR_INVALID,
			               "report mail: recipient \"%.200s\" is not an address",
			               r->to[i]);
	if (r->policy_domain == NULL || !valid_domain(r->policy_domain))
		return err_set(e, ERR_INVALID,
		               "report mail: policy domain is not an A-label domain");
	if (r->submitter == NULL || !valid_domain(r->submitter))
		return err_set(e, ERR_INVALID, "report mail: submitter is not an A-label domain");
	if (r->report_id == NULL || strlen(r->report_id) > 500 ||
	    !ascii_printable(r->report_id, "<>\"\\"))
		return err_set(e, ERR_INVALID,
		               "report mail: report-id must be printable ASCII without spaces or "
		               "<>\"\\ (at most 500 bytes)");
	if (r->filename == NULL || strlen(r->filename) > 500 ||
	    !ascii_printable(r->filename, "\"\\/"))
		return err_set(e, ERR_INVALID,
		               "report mail: attachment file name must be printable ASCII without "
		               "spaces or \"\\/ (at most 500 bytes)");
	if (r->message_id &&
	    (strlen(r->message_id) > 500 || !ascii_printable(r->message_id, "<>\"\\") ||
	     strchr(r->message_id, '@') == NULL))
		return err_set(e, ERR_INVALID, "report mail: Message-ID must look like left@right");
	if (r->subject && (has_ctl(r->subject) || strlen(r->subject) > 900))
		return err_set(e, ERR_INVALID,
		               "report mail: Subject has control characters or is too long");
	if (r->organization && (has_ctl(r->organization) || strlen(r->organization) > 500 ||
	                        !utf8_valid(r->organization, strlen(r->organization))))
		return err_set(e, ERR_INVALID, "report mail: organization name is not UTF-8 text");
	if (r->gz == NULL && r->gz_len > 0)
		return err_set(e, ERR_INVALID, "report mail: no attachment bytes");
	return 0;
}

int
compose_report_message(const struct compose_report *r, struct buf *out, struct err *e)
{
	int rc = check_inputs(r, e);
	if (rc)
		return rc;
	char date[TIME_RFC5322_LEN], begin[TIME_RFC3339_LEN], end[TIME_RFC3339_LEN];
	if (time_format_rfc5322(r->date, date) != 0 ||
	    time_format_rfc3339(r->window_begin, begin) != 0 ||
	    time_format_rfc3339(r->window_end, end) != 0)
		return err_set(e, ERR_INVALID, "report mail: date out of range");
	const char *org = r->organization && r->organization[0] ? r->organization : r->submitter;
	const char *from_domain = strrchr(r->from_address, '@') + 1;
	char bhex[65], mhex[65];
	derive(r, "boundary", bhex, 12);
	derive(r, "message-id", mhex, 10);

	size_t start = out->len;
	struct buf v;
	buf_init(&v, 64u << 10);
	struct hw w = { out, 0, 0 };

	/* From */
	if (r->from_name && r->from_name[0]) {
		rc = display_name(r->from_name, &v);
		if (rc == 0)
			rc = buf_printf(&v, " <%s>", r->from_address);
	} else {
		rc = buf_append_str(&v, r->from_address);
	}
	w.rc = rc;
	hw_field(&w, "From", buf_cstr(&v));
	buf_reset(&v);
	for (size_t i = 0; r->to[i] && w.rc == 0; i++)
		w.rc = buf_printf(&v, "%s%s", r->to[i], r->to[i + 1] ? ", " : "");
	hw_field(&w, "To", buf_cstr(&v));
	hw_field(&w, "Date", date);
	buf_reset(&v);
	if (r->subject)
		w.rc = w.rc ? w.rc : buf_append_str(&v, r->subject);
	else
		w.rc = w.rc ? w.rc
		            : buf_printf(&v, "Report Domain: %s Submitter: %s Report-ID: <%s>",
		                         r->policy_domain, r->submitter, r->report_id);
	hw_field(&w, "Subject", buf_cstr(&v));
	buf_reset(&v);
	if (r->message_id)
		w.rc = w.rc ? w.rc : buf_printf(&v, "<%s>", r->message_id);
	else
		w.rc = w.rc ? w.rc : buf_printf(&v, "<tlsrpt.%s@%s>", mhex, from_domain);
	hw_field(&w, "Message-ID", buf_cstr(&v));
	hw_field(&w, "MIME-Version", "1.0");
	buf_reset(&v);
	w.rc = w.rc ? w.rc
	            : buf_printf(&v,
	                         "multipart/report; report-type=\"tlsrpt\"; "
	                         "boundary=\"=_tlsrpt_%s\"",
	                         bhex);
	hw_field(&w, "Content-Type", buf_cstr(&v));
	hw_field(&w, "TLS-Report-Domain", r->policy_domain);
	hw_field(&w, "TLS-Report-Submitter", r->submitter);
	hw_field(&w, "TLS-Required", "No");
	hw_field(&w, "Auto-Submitted", "auto-generated");
	hw_raw(&w, "\r\n", 2);

	/* body: preamble, text part, attachment */
	buf_reset(&v);
	if (w.rc == 0)
		w.rc = buf_printf(&v,
		                  "This is an aggregate TLS report from %s\r\n"
		                  "\r\n"
		                  "Submitter:     %s\r\n"
		                  "Policy domain: %s\r\n"
		                  "Window:        %s to %s\r\n"
		                  "Report-ID:     %s\r\n"
		                  "\r\n"
		                  "The report is attached as %s (RFC 8460 JSON, gzip).\r\n",
		                  org, r->submitter, r->policy_domain, begin, end, r->report_id,
		                  r->filename);
	bool ascii = true;
	for (size_t i = 0; i < v.len; i++)
		if ((unsigned char)v.data[i] >= 0x80)
			ascii = false;
	if (w.rc == 0)
		w.rc = buf_printf(out,
		                  "This is a multipart message in MIME format.\r\n"
		                  "\r\n"
		                  "--=_tlsrpt_%s\r\n"
		                  "Content-Type: text/plain; charset=\"%s\"\r\n"
		                  "Content-Transfer-Encoding: %s\r\n"
		                  "\r\n",
		                  bhex, ascii ? "us-ascii" : "utf-8", ascii ? "7bit" : "base64");
	if (w.rc == 0)
		w.rc = ascii ? buf_append_span(out, buf_span(&v))
		             : base64_encode(out, v.data, v.len, 76);
	if (w.rc == 0)
		w.rc = buf_printf(out,
		                  "\r\n"
		                  "--=_tlsrpt_%s\r\n"
		                  "Content-Type: application/tlsrpt+gzip;\r\n"
		                  " name=\"%s\"\r\n"
		                  "Content-Transfer-Encoding: base64\r\n"
		                  "Content-Disposition: attachment;\r\n"
		                  " filename=\"%s\"\r\n"
		                  "\r\n",
		                  bhex, r->filename, r->filename);
	if (w.rc == 0)
		w.rc = base64_encode(out, r->gz, r->gz_len, 76);
	if (w.rc == 0)
		w.rc = buf_printf(out, "\r\n--=_tlsrpt_%s--\r\n", bhex);
	buf_clear(&v);
	if (w.rc) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
		return err_set(e, ERR_TOOBIG, "report mail does not fit in %zu bytes", out->max);
	}
	return 0;
}
