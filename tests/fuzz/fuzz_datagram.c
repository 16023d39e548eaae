/*
 * fuzz_datagram.c - libFuzzer harness for the libtlsrpt datagram decoder.
 *
 * Decodes the input; on success walks every span so that ASan sees any span that
 * points outside the scratch buffer.  Then feeds the same bytes through the collector's
 * counting path (aggregation, canonical JSON, period cache; no store), clearing the
 * counters every 4096 inputs.  Threading: single-threaded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/collector.h"
#include "collector/datagram.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned
touch(struct span s)
{
	unsigned h = 0;

	for (size_t i = 0; i < s.len; i++)
		h += (unsigned char)s.p[i];
	return h;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct datagram_decoder dec;
	static struct datagram dg;
	static struct collector *col;
	static unsigned fed;
	volatile unsigned sink = 0;
	char *copy;

	if (dec.scratch == NULL) {
		struct collector_opts o;
		memset(&o, 0, sizeof(o));
		o.socket_mode = -1;
		log_setup("fuzz", LOG_DEST_NONE, LOG_LEVEL_ERROR);
		datagram_decoder_init(&dec);
		collector_new(&o, &col, NULL);
	}
	/* an exact-size copy so that reads past the end are caught */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	if (size)
		memcpy(copy, data, size);
	if (datagram_decode(&dec, copy, size, &dg) == DG_OK) {
		sink += touch(dg.domain) + touch(dg.record);
		for (unsigned i = 0; i < dg.nstrings; i++)
			sink += touch(dg.strings[i]);
		for (unsigned i = 0; i < dg.npolicies; i++)
			sink += touch(dg.policy[i].domain);
		for (unsigned i = 0; i < dg.ndetails; i++)
			for (int f = 0; f < DG_F_COUNT_; f++)
				sink += touch(dg.detail[i].field[f]);
	}
	(void)sink;
	collector_feed(col, copy, size, 1764324000);
	if (++fed % 4096 == 0)
		collector_flush(col, NULL);
	free(copy);
	return 0;
}
