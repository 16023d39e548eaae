/*
 * fuzz_toml.c - libFuzzer harness for the TOML parser: parse (with small caps so deep
 * and large inputs hit the limits), walk the flat view, look every key up, free.
 * A second parse builds the tree only (the decoder's path).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_limits lim = { 1 << 20, 32 };
	struct toml_doc *doc;
	struct err e;

	if (toml_parse("fuzz", (const char *)data, size, &lim, &doc, &e) == 0) {
		for (size_t i = 0; i < toml_flat_count(doc); i++) {
			const struct toml_flat *f = toml_flat_at(doc, i);
			if (toml_flat_find(doc, f->key) != f || strlen(f->value) > f->value_len)
				__builtin_trap();
		}
		toml_free(doc);
	} else if (e.msg[0] == '\0' || strncmp(e.msg, "fuzz:", 5) != 0) {
		__builtin_trap();
	}
	if (toml_parse_tree(NULL, (const char *)data, size, NULL, &doc, &e) == 0)
		toml_free(doc);
	return 0;
}
