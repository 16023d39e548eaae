/*
 * web_text.c - escaping and formatting for the web role (see web_text.h).
 *
 * HTML escaping follows the HTML Living Standard's rules for text and quoted attribute
 * values (escape & < > " '); JSON escaping follows RFC 8259 section 7.
 * Pure functions; thread-safe.
 */
#include "web/web_text.h"

#include <stdio.h>
#include <string.h>

#include "util/clock.h"
#include "util/str.h"

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/*
 * Walks s: valid UTF-8 sequences of two or more bytes are appended as they are, ASCII
 * goes through one(), anything else becomes U+FFFD.
 */
static int
walk(struct buf *out, const char *s, int (*one)(struct buf *, unsigned char))
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		int rc;

		if (c < 0x80) {
			rc = one(out, c);
			i++;
		} else {
			size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;

			if (i + len <= n && utf8_valid_prefix(s + i, len) == len) {
				rc = buf_append(out, s + i, len);
				i += len;
			} else {
				rc = buf_append_str(out, replacement);
				i++;
			}
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int
html_one(struct buf *out, unsigned char c)
{
	switch (c) {
	case '&':
		return buf_append_str(out, "&amp;");
	case '<':
		return buf_append_str(out, "&lt;");
	case '>':
		return buf_append_str(out, "&gt;");
	case '"':
		return buf_append_str(out, "&quot;");
	case '\'':
		return buf_append_str(out, "&#39;");
	default:
		if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F)
			return buf_append_str(out, replacement);
		return buf_putc(out, (char)c);
	}
}

int
web_html(struct buf *out, const char *s)
{
	return s ? walk(out, s, html_one) : 0;
}

int
web_url(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		int rc;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			rc = buf_putc(out, (char)c);
		else
			rc = buf_printf(out, "%%%c%c", hex[c >> 4], hex[c & 15]);
		if (rc)
			return rc;
	}
	return 0;
}

static int
json_one(struct buf *out, unsigned char c)
{
	switch (c) {
	case '"':
		return buf_append_str(out, "\\\"");
	case '\\':
		return buf_append_str(out, "\\\\");
	case '\n':
		return buf_append_str(out, "\\n");
	case '\r':
		return buf_append_str(out, "\\r");
	case '\t':
		return buf_append_str(out, "\\t");
	case '<':
	case '>':
	case '&':
		return buf_printf(out, "\\u%04x", c);
	default:
		if (c < 0x20 || c == 0x7F)
			return buf_printf(out, "\\u%04x", c);
		return buf_putc(out, (char)c);
	}
}

int
web_json(struct buf *out, const char *s)
{
	int rc;

	if (s == NULL)
		return buf_append_str(out, "null");
	rc = buf_putc(out, '"');
	if (rc == 0)
		rc = walk(out, s, json_one);
	if (rc == 0)
		rc = buf_putc(out, '"');
	return rc;
}

void
web_count(uint64_t v, char out[32])
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v), o = 0;

	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = tmp[i];
	}
	out[o] = '\0';
}

void
web_day(int64_t t, char out[16])
{
	int64_t days = (t - ((t % 86400 + 86400) % 86400)) / 86400, y;
	unsigned m, d;

	time_civil_from_days(days, &y, &m, &d);
	snprintf(out, 16, "%04lld-%02u-%02u", (long long)(y % 10000), m, d);
}
