/*
 * idna.c - punycode (RFC 3492) and A-label conversion of domain names.
 *
 * RFC 3492 section 6.3 (encoding procedure) with the parameters of section 5; the
 * A-label prefix "xn--" is RFC 5890 section 2.3.2.1.  Only the encoder: received names
 * are kept as sent.  Pure, thread-safe.
 */
#include "report/idna.h"

#include <stdint.h>

#include "util/str.h"

enum {
	PC_BASE = 36,
	PC_TMIN = 1,
	PC_TMAX = 26,
	PC_SKEW = 38,
	PC_DAMP = 700,
	PC_INITIAL_BIAS = 72,
	PC_INITIAL_N = 128,
	LABEL_MAX = 63,
	LABEL_CP_MAX = 256,
};

bool
idna_is_ascii(struct span s)
{
	for (size_t i = 0; i < s.len; i++)
		if ((unsigned char)s.p[i] >= 0x80)
			return false;
	return true;
}

static char
pc_digit(uint32_t d)
{
	return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

static uint32_t
pc_adapt(uint32_t delta, uint32_t numpoints, bool first)
{
	uint32_t k = 0;

	delta = first ? delta / PC_DAMP : delta / 2;
	delta += delta / numpoints;
	while (delta > ((PC_BASE - PC_TMIN) * PC_TMAX) / 2) {
		delta /= PC_BASE - PC_TMIN;
		k += PC_BASE;
	}
	return k + (PC_BASE - PC_TMIN + 1) * delta / (delta + PC_SKEW);
}

int
idna_punycode_encode(const uint32_t *cp, size_t n, struct buf *out, struct err *e)
{
	uint32_t nn = PC_INITIAL_N, delta = 0, bias = PC_INITIAL_BIAS, h, b = 0;

	for (size_t j = 0; j < n; j++) {
		if (cp[j] < 0x80) {
			if (buf_putc(out, (char)cp[j]) != 0)
				return err_set(e, ERR_TOOBIG, "punycode: output too large");
			b++;
		}
	}
	if (b > 0 && buf_putc(out, '-') != 0)
		return err_set(e, ERR_TOOBIG, "punycode: output too large");
	h = b;
	while (h < n) {
		uint32_t m = UINT32_MAX;
		for (size_t j = 0; j < n; j++)
			if (cp[j] >= nn && cp[j] < m)
				m = cp[j];
		if ((uint64_t)(m - nn) * (h + 1) > UINT32_MAX - delta)
			return err_set(e, ERR_INVALID, "punycode: overflow");
		delta += (m - nn) * (h + 1);
		nn = m;
		for (size_t j = 0; j < n; j++) {
			if (cp[j] < nn && ++delta == 0)
				return err_set(e, ERR_INVALID, "punycode: overflow");
			if (cp[j] != nn)
				continue;
			uint32_t q = delta;
			for (uint32_t k = PC_BASE;; k += PC_BASE) {
				uint32_t t = k <= bias             ? PC_TMIN
				             : k >= bias + PC_TMAX ? PC_TMAX
				                                   : k - bias;
				if (q < t)
					break;
				if (buf_putc(out, pc_digit(t + (q - t) % (PC_BASE - t))) != 0)
					return err_set(e, ERR_TOOBIG, "punycode: output too large");
				q = (q - t) / (PC_BASE - t);
			}
			if (buf_putc(out, pc_digit(q)) != 0)
				return err_set(e, ERR_TOOBIG, "punycode: output too large");
			bias = pc_adapt(delta, h + 1, h == b);
			delta = 0;
			h++;
		}
		delta++;
		nn++;
	}
	return 0;
}

/* Decodes one UTF-8 sequence at p (already validated); returns its length. */
static size_t
utf8_decode_one(const unsigned char *p, uint32_t *cp)
{
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] < 0xE0) {
		*cp = ((uint32_t)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
		return 2;
	}
	if (p[0] < 0xF0) {
		*cp = ((uint32_t)(p[0] & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) |
		      (p[2] & 0x3F);
		return 3;
	}
	*cp = ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
	      ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
	return 4;
}

static int
label_to_ascii(struct span label, struct buf *out, struct err *e)
{
	uint32_t cp[LABEL_CP_MAX];
	size_t n = 0, before = out->len;

	if (label.len == 0)
		return err_set(e, ERR_INVALID, "empty label");
	if (idna_is_ascii(label)) {
		if (label.len > LABEL_MAX)
			return err_set(e, ERR_INVALID, "label longer than 63 bytes");
		return buf_append(out, label.p, label.len) ? err_set(e, ERR_TOOBIG, "name too long")
		                                           : 0;
	}
	for (size_t i = 0; i < label.len;) {
		if (n == LABEL_CP_MAX)
			return err_set(e, ERR_INVALID, "label longer than 63 bytes");
		i += utf8_decode_one((const unsigned char *)label.p + i, &cp[n++]);
	}
	if (buf_append(out, "xn--", 4) != 0)
		return err_set(e, ERR_TOOBIG, "name too long");
	int rc = idna_punycode_encode(cp, n, out, e);
	if (rc != 0)
		return rc;
	if (out->len - before > LABEL_MAX)
		return err_set(e, ERR_INVALID, "label longer than 63 bytes after punycode");
	return 0;
}

int
idna_to_ascii(struct span name, struct buf *out, struct err *e)
{
	size_t start = 0;

	if (!utf8_valid(name.p, name.len))
		return err_set(e, ERR_INVALID, "domain name is not valid UTF-8");
	for (size_t i = 0; i <= name.len; i++) {
		if (i < name.len && name.p[i] != '.')
			continue;
		/* a single trailing dot (absolute name) is kept as it is */
		if (i == name.len && start == name.len && start > 0)
			break;
		if (start > 0 && buf_putc(out, '.') != 0)
			return err_set(e, ERR_TOOBIG, "name too long");
		int rc = label_to_ascii(span_sub(name, start, i - start), out, e);
		if (rc != 0) {
			err_prefix(e, "domain name");
			return rc;
		}
		start = i + 1;
	}
	if (name.len > 0 && name.p[name.len - 1] == '.' && buf_putc(out, '.') != 0)
		return err_set(e, ERR_TOOBIG, "name too long");
	return 0;
}
