/*
 * fuzz_dkim.c - libFuzzer harness for the DKIM tag-list parsers: the input is read as a
 * DKIM-Signature value, as a key record and as a Public Suffix List, and is run through
 * header and body canonicalization.
 */
#include <stddef.h>
#include <stdint.h>

#include "mail/dkim.h"
#include "mail/orgdomain.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span in = span_make(data, size);
	struct mdkim_sig sig;
	struct mdkim_keyrec key;
	struct err e = { 0 };
	mdkim_sig_parse(in, &sig, &e);
	mdkim_keyrec_parse(in, &key, &e);
	struct buf b;
	buf_init(&b, 4 * size + 16);
	mdkim_canon_header(MDKIM_RELAXED, in, &b);
	buf_reset(&b);
	mdkim_canon_header(MDKIM_SIMPLE, in, &b);
	buf_reset(&b);
	mdkim_canon_body(MDKIM_RELAXED, in, &b);
	buf_reset(&b);
	mdkim_canon_body(MDKIM_SIMPLE, in, &b);
	buf_clear(&b);
	if (size < 4096) {
		struct orgdomain_psl *psl;
		char org[256];
		if (orgdomain_psl_parse(in, &psl, &e) == 0) {
			orgdomain_get(psl, "a.b.c.example.co.uk", org, sizeof org);
			orgdomain_psl_free(psl);
		}
	}
	return 0;
}
