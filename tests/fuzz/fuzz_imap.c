/*
 * fuzz_imap.c - libFuzzer harness for the IMAP answer parsers of net/imap_client.h:
 * the untagged lines of UID SEARCH (imap_parse_search, with a small cap so that the
 * overflow path runs) and of UID FETCH RFC822.SIZE (imap_parse_size, for the UID in
 * the first line's digits or 1).  Invariants: the stored count never exceeds the cap or
 * the listed total, and every stored UID is non-zero.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/imap_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span in = span_make(data, size);
	uint32_t uids[8];
	size_t n = 0, total;
	uint64_t sz = 0;
	uint32_t uid = 1;

	total = imap_parse_search(in, uids, 8, &n);
	if (n > 8 || n > total)
		abort();
	for (size_t i = 0; i < n; i++)
		if (uids[i] == 0)
			abort();
	if (n > 0)
		uid = uids[0];
	(void)imap_parse_size(in, uid, &sz);
	return 0;
}
