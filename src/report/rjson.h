/*
 * rjson.h - a small strict JSON parser (RFC 8259 + I-JSON, RFC 7493) for received
 * reports.
 *
 * Why not jansson: report_read() must take 100 MB/s of JSON on one core; jansson
 * measured 25 MB/s on the same input (a malloc per value and per member).  This parser
 * puts the whole tree in one arena.  It is as strict as jansson with
 * JSON_REJECT_DUPLICATES: invalid UTF-8, lone surrogates, \u0000, duplicate member
 * names, integers outside int64, trailing data, and nesting past max_depth are errors.
 * The fuzz harness fuzz_report checks that it accepts exactly what jansson accepts.
 * A document is used by one thread at a time.
 */
#ifndef TLSRPTD_REPORT_RJSON_H
#define TLSRPTD_REPORT_RJSON_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/span.h"

enum rjson_type {
	RJSON_NULL = 0,
	RJSON_FALSE,
	RJSON_TRUE,
	RJSON_INT,
	RJSON_REAL,
	RJSON_STRING,
	RJSON_ARRAY,
	RJSON_OBJECT,
};

struct rjson_member;

struct rjson {
	enum rjson_type type;
	size_t n; /* string length, array elements or object members */
	union {
		int64_t i;
		double d;
		const char *s;                /* NUL-terminated UTF-8 (no NUL inside) */
		const struct rjson *a;        /* n elements */
		const struct rjson_member *o; /* n members, in document order */
	} u;
};

struct rjson_member {
	const char *key; /* NUL-terminated */
	size_t key_len;
	struct rjson value;
};

struct rjson_chunk;

struct rjson_doc {
	struct rjson root;
	struct rjson_chunk *chunks; /* the arena: everything above points into it */
	size_t arena_used;
};

/*
 * Parses the whole of in.  Returns 0 and fills *doc (caller frees with rjson_free()),
 * or ERR_INVALID ("not JSON: <why> (line L, column C)"), or ERR_TOOBIG when nesting
 * passes max_depth ("report: JSON nested deeper than N levels") or the tree would need
 * more than 32 bytes of memory per input byte.  *doc is empty on failure.
 */
int rjson_parse(struct span in, unsigned max_depth, struct rjson_doc *doc, struct err *e);

/* Frees the arena; rjson_free() of an empty or failed doc is fine. */
void rjson_free(struct rjson_doc *doc);

/* The value of member key of object v, or NULL (also when v is not an object). */
const struct rjson *rjson_get(const struct rjson *v, const char *key);

#endif
