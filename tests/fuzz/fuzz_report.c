/*
 * fuzz_report.c - libFuzzer harness: the tolerant report reader, then the writer, the
 * size function, the strict validator and a second read of our own output.
 *
 * Invariants checked: our JSON parser (rjson) accepts exactly what jansson accepts
 * with JSON_REJECT_DUPLICATES (differential check; nesting past our cap and inputs with
 * NUL bytes aside: jansson accepts "[1\0]"); an
 * accepted report writes to JSON whose length equals report_json_size(); that JSON is
 * accepted again and gives an equal model.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "report/rjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report_caps caps;
	struct report *r = NULL, *back = NULL;
	struct err e;
	struct buf out;
	size_t n = 0;

	struct rjson_doc doc;
	int prc = rjson_parse(span_make(data, size), 64, &doc, &e);
	rjson_free(&doc);
	/* jansson lets a NUL byte follow a number ("[1\0]"); RFC 8259 does not */
	if (prc != ERR_TOOBIG && memchr(data, 0, size) == NULL) {
		json_error_t je;
		json_t *j = json_loadb((const char *)data, size,
		                       JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
		if ((j != NULL) != (prc == 0))
			abort();
		json_decref(j);
	}
	report_caps_default(&caps);
	caps.max_input = 1 << 20;
	if (report_read(span_make(data, size), &caps, &r, &e) != 0)
		return 0;
	report_validate(r, WINDOW_DAILY, &e);
	buf_init(&out, 1 << 24);
	int rc = report_write_json(r, &out, &e);
	if (rc == 0) {
		if (report_json_size(r, &n, &e) != 0 || n != out.len)
			abort();
		if (report_read(buf_span(&out), NULL, &back, &e) != 0)
			abort();
		if (!report_equal(r, back))
			abort();
	}
	report_free(back);
	report_free(r);
	buf_clear(&out);
	return 0;
}
