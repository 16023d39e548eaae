/*
 * fuzz_dns_rdata.c - the DNS RDATA parser (dns_answer_from_rdata(), used by
 * dns_lookup()) on arbitrary records.
 *
 * Input: one byte choosing the type (TXT, MX, A, AAAA, TLSA), then records as a
 * 2-byte big-endian length and that many bytes (a short last record takes what is
 * left).  At most 64 records.  Checks that the answer never claims more records than
 * were given and that the joined TXT text is the sum of its strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/dns.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum dns_type types[] = { DNS_TYPE_TXT, DNS_TYPE_MX, DNS_TYPE_A, DNS_TYPE_AAAA,
		                               DNS_TYPE_TLSA };
	struct span rd[64];
	size_t n = 0, i = 1;

	if (size < 1)
		return 0;
	log_setup("fuzz", LOG_DEST_NONE, LOG_LEVEL_ERROR);
	while (i < size && n < 64) {
		size_t len = (size_t)data[i] << 8;
		if (i + 1 < size)
			len |= data[i + 1];
		i += 2;
		if (i > size)
			i = size;
		if (len > size - i)
			len = size - i;
		rd[n++] = span_make(data + i, len);
		i += len;
	}
	struct dns_answer *a = dns_answer_from_rdata("fuzz.example", types[data[0] % 5], rd, n);
	if (a->n > n)
		abort();
	for (size_t k = 0; a->txt && k < a->n; k++) {
		size_t sum = 0;
		for (size_t j = 0; j < a->txt[k].nstrings; j++)
			sum += a->txt[k].strings[j].len;
		if (sum != a->txt[k].joined.len)
			abort();
	}
	dns_answer_free(a);
	return 0;
}
