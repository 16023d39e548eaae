/*
 * fuzz_expr.c - libFuzzer harness for the configuration expression language: compiles
 * the input (with and without bare constants) and evaluates it against a dummy context
 * whose config_get/key_get echo their arguments.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config/expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
echo_config_get(void *arg, const char *key, struct expr_value *out, struct err *e)
{
	(void)arg;
	if (strcmp(key, "fail") == 0)
		return err_set(e, ERR_INVALID, "no");
	expr_value_set_string(out, key, strlen(key));
	return 0;
}

static int
echo_key_get(void *arg, const char *store, const char *key, struct expr_value *out, struct err *e)
{
	(void)arg;
	(void)e;
	(void)store;
	expr_value_set_string(out, key, strlen(key));
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "rcpt_domain", "mx", "remote_ip" };
	static const struct expr_var vars[] = {
		{ "rcpt_domain", "example.org" },
		{ "mx", "mx.example.org" },
	};
	const struct expr_env env = { vars, 2, echo_config_get, echo_key_get, NULL };

	for (unsigned flags = 0; flags <= EXPR_BARE; flags++) {
		const struct expr_opts opts = { names, 3, flags };
		struct expr *x = NULL;
		struct err e;

		if (expr_compile((const char *)data, size, &opts, &x, &e) != 0)
			continue;
		struct expr_value v = { .type = EXPR_STRING };
		if (expr_eval(x, &env, &v, &e) == 0) {
			struct buf b;
			buf_init(&b, 1 << 20);
			(void)expr_value_format(&v, &b);
			(void)expr_value_truthy(&v);
			buf_clear(&b);
			expr_value_clear(&v);
		}
		expr_free(x);
	}
	return 0;
}
