/*
 * base64.c - RFC 4648 base64.  See base64.h.
 */
#include "util/base64.h"

#include <stdint.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
base64_encode(struct buf *out, const void *p, size_t n, size_t line_len)
{
	const unsigned char *s = p;
	size_t enc = base64_encoded_len(n);
	size_t total = enc;
	size_t col = 0;
	char quad[4];

	if (line_len)
		total += (enc + line_len - 1) / line_len * 2;
	if (buf_reserve(out, total) != 0)
		return BUF_ETOOBIG;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (uint32_t)s[i + 1] << 8;
		if (left > 2)
			v |= s[i + 2];
		quad[0] = alphabet[(v >> 18) & 63];
		quad[1] = alphabet[(v >> 12) & 63];
		quad[2] = left > 1 ? alphabet[(v >> 6) & 63] : '=';
		quad[3] = left > 2 ? alphabet[v & 63] : '=';
		buf_append(out, quad, 4);
		col += 4;
		if (line_len && col >= line_len) {
			buf_append(out, "\r\n", 2);
			col = 0;
		}
	}
	if (line_len && col > 0)
		buf_append(out, "\r\n", 2);
	return 0;
}

int
base64_char_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
base64_decode(struct buf *out, struct span in)
{
	uint32_t acc = 0;
	int nbits = 0;
	int pad = 0;
	size_t nchars = 0;

	for (size_t i = 0; i < in.len; i++) {
		unsigned char c = (unsigned char)in.p[i];

		if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			nchars++;
			if (pad > 2)
				return -1;
			continue;
		}
		int v = base64_char_value(c);
		if (v < 0 || pad)
			return -1;
		nchars++;
		acc = (acc << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			if (buf_putc(out, (char)((acc >> nbits) & 0xFF)) != 0)
				return BUF_ETOOBIG;
		}
	}
	if (pad) {
		/* padding must complete the final quantum exactly */
		if (nchars % 4 != 0)
			return -1;
		if ((pad == 1 && nbits != 2) || (pad == 2 && nbits != 4))
			return -1;
	} else if (nchars % 4 == 1) {
		return -1;
	}
	/* leftover bits must be zero (canonical encoding) */
	if (nbits && (acc & ((1u << nbits) - 1)) != 0)
		return -1;
	return 0;
}
