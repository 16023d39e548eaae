/*
 * fuzz_conf.c - libFuzzer harness for configuration loading: TOML text through
 * conf_parse (flattening, table matching, conversions, expressions, cross checks),
 * then the dump and the evaluation of every report expression.  Inputs that would read
 * files (%{file:...}%) are skipped: a path such as /dev/stdin would block.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {
		"report.submitter",
		"report.domain",
		"report.tls.aggregate.from-name",
		"report.tls.aggregate.from-address",
		"report.tls.aggregate.org-name",
		"report.tls.aggregate.contact-info",
		"report.tls.aggregate.sign",
	};
	const struct expr_var vars[] = { { "rcpt_domain", "example.org" } };
	struct conf *c = NULL;
	struct buf errs, dump;
	struct err e;

	if (memmem(data, size, "%{file:", 7) != NULL)
		return 0;
	buf_init(&errs, CONF_MAX_ERRORS_TEXT);
	if (conf_parse("fuzz.toml", (const char *)data, size, &c, &errs, &e) == 0) {
		buf_init(&dump, 1 << 22);
		(void)conf_dump(c, &dump);
		buf_clear(&dump);
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			char **items = NULL;
			size_t n = 0;
			char *s = NULL;
			if (conf_eval_list(c, keys[i], vars, 1, &items, &n, &e) == 0)
				conf_strv_free(items, n);
			if (conf_eval_string(c, keys[i], vars, 1, &s, &e) == 0)
				free(s);
		}
		enum window_period wp;
		(void)conf_eval_send(c, vars, 1, &wp, &e);
		conf_free(c);
	}
	buf_clear(&errs);
	return 0;
}
