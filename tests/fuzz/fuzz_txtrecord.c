/*
 * fuzz_txtrecord.c - libFuzzer harness: the TLSRPT TXT record parser, on the whole
 * input as one record, and on the input split at NUL bytes as an RRset (when the first
 * byte is 0x01 the pieces are the character-strings of ONE record instead).
 * Invariant: an accepted record has 1..TXTREC_MAX_RUA destinations, each mailto: or
 * https: with its URI and target set.
 */
#include <stdint.h>
#include <stdlib.h>

#include "report/txtrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct txtrec *t)
{
	if (t->n_rua == 0 || t->n_rua > TXTREC_MAX_RUA)
		abort();
	for (size_t i = 0; i < t->n_rua; i++)
		if ((t->rua[i].scheme != TXTREC_MAILTO && t->rua[i].scheme != TXTREC_HTTPS) ||
		    t->rua[i].uri == NULL || t->rua[i].target == NULL)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum { MAX_PIECES = 64 };
	struct txtrec t;
	struct err e;
	struct span pieces[MAX_PIECES];
	struct txtrec_rr rrs[MAX_PIECES];
	size_t n = 0, start = 0;

	if (txtrec_parse(span_make(data, size), &t, &e) == 0) {
		check(&t);
		txtrec_clear(&t);
	}
	for (size_t i = 0; i <= size && n < MAX_PIECES; i++) {
		if (i < size && data[i] != 0)
			continue;
		pieces[n++] = span_make(data + start, i - start);
		start = i + 1;
	}
	if (size > 0 && data[0] == 1) {
		pieces[0] = span_make(data + 1, pieces[0].len - 1);
		rrs[0].strings = pieces;
		rrs[0].n_strings = n;
		n = 1;
	} else {
		for (size_t i = 0; i < n; i++) {
			rrs[i].strings = &pieces[i];
			rrs[i].n_strings = 1;
		}
	}
	if (txtrec_select(rrs, n, &t, &e) == 0) {
		check(&t);
		txtrec_clear(&t);
	}
	return 0;
}
