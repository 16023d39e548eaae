/*
 * fuzz_toml.c - libFuzzer harness for the TOML parser: parse (with a small depth cap so
 * deep inputs hit the limit), check every flat entry is found by its key, walk the typed
 * tree through the accessors, free.  A second parse builds the tree only (the decoder's
 * path) with the default caps.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Recursion bounded by the depth cap (32). */
static size_t
walk(const struct toml_value *v)
{
	size_t n = 1, len;

	if (toml_value_type(v) == TOML_TABLE || toml_value_type(v) == TOML_ARRAY) {
		for (size_t i = 0; i < toml_value_count(v); i++) {
			const char *k = toml_value_key(v, i, &len);
			if (k != NULL && toml_value_get(v, k, len) != toml_value_at(v, i))
				__builtin_trap();
			n += walk(toml_value_at(v, i));
		}
	} else if (toml_value_text(v, &len) == NULL || toml_value_raw(v) == NULL) {
		__builtin_trap();
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_limits lim = { 1 << 20, 32 };
	struct toml_doc *doc;
	struct err e;

	if (toml_parse("fuzz", (const char *)data, size, &lim, &doc, &e) == 0) {
		for (size_t i = 0; i < toml_flat_count(doc); i++) {
			const struct toml_flat *f = toml_flat_at(doc, i);
			if (toml_flat_find(doc, f->key) != f || f->value[f->value_len] != '\0')
				__builtin_trap();
		}
		walk(toml_doc_root(doc));
		toml_free(doc);
	} else if (strncmp(e.msg, "fuzz:", 5) != 0) {
		__builtin_trap();
	}
	if (toml_parse_tree(NULL, (const char *)data, size, NULL, &doc, &e) == 0)
		toml_free(doc);
	return 0;
}
