/*
 * fuzz_gzip.c - libFuzzer harness: the capped gzip reader; whatever it returns, the
 * output stays within the cap, and data it accepts compresses and reads back equal.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/gzip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t cap = 1 << 20;
	struct buf out, gz, again;
	struct err e;

	buf_init(&out, cap);
	int rc = gzip_decompress(span_make(data, size), cap, &out, &e);
	if (out.len > cap)
		abort();
	if (rc == 0) {
		buf_init(&gz, 2 * cap);
		buf_init(&again, cap);
		if (gzip_compress(buf_span(&out), &gz, &e) != 0 ||
		    gzip_decompress(buf_span(&gz), cap, &again, &e) != 0 || again.len != out.len ||
		    (out.len && memcmp(again.data, out.data, out.len) != 0))
			abort();
		buf_clear(&gz);
		buf_clear(&again);
	}
	buf_clear(&out);
	return 0;
}
