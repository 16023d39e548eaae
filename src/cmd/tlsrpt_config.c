/*
 * tlsrpt_config.c - `tlsrpt config check [FILE]`: loads a configuration, prints every
 * effective value (defaults marked, secrets hidden) and exits 0, or prints every error
 * ("FILE:LINE: KEY: message", one per line) on stderr and exits 1.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/tlsrpt.h"
#include "config/conf.h"

#define DEFAULT_CONFIG "/etc/tlsrptd/tlsrptd.toml"

static void
config_usage(FILE *out)
{
	fprintf(out, "usage: tlsrpt config check [FILE]\n"
	             "       tlsrpt config keys\n\n"
	             "Checks the configuration FILE (default " DEFAULT_CONFIG ") and prints\n"
	             "every effective value; defaults are marked, secrets are <hidden>.\n"
	             "Exit status 0 when valid, 1 with all errors on stderr when not.\n"
	             "`keys` prints every key with its type, bounds and default.\n");
}

/* Loads path and prints the dump or the errors.  Shared shape with tlsrptd --check-config. */
static int
config_check(const char *path)
{
	struct conf *c = NULL;
	struct buf errs, dump;
	struct err e = { 0 };
	int rc;

	buf_init(&errs, CONF_MAX_ERRORS_TEXT);
	rc = conf_load(path, &c, &errs, &e);
	if (rc) {
		size_t n = 0;
		for (size_t i = 0; i < errs.len; i++)
			n += errs.data[i] == '\n';
		fputs(buf_cstr(&errs), stderr);
		fprintf(stderr, "tlsrpt: %s: %zu error%s\n", path, n, n == 1 ? "" : "s");
		buf_clear(&errs);
		return 1;
	}
	buf_clear(&errs);
	buf_init(&dump, 1 << 22);
	if (conf_dump(c, &dump) != 0) {
		fprintf(stderr, "tlsrpt: %s: configuration too large to print\n", path);
		buf_clear(&dump);
		conf_free(c);
		return 1;
	}
	fputs(buf_cstr(&dump), stdout);
	buf_clear(&dump);
	conf_free(c);
	return 0;
}

int
cmd_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			config_usage(stdout);
			return 0;
		default:
			config_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 == argc && strcmp(argv[optind], "keys") == 0) {
		struct buf b;
		buf_init(&b, 1 << 20);
		int rc = conf_describe(&b);
		fputs(buf_cstr(&b), stdout);
		buf_clear(&b);
		return rc ? 1 : 0;
	}
	if (optind >= argc || strcmp(argv[optind], "check") != 0) {
		config_usage(stderr);
		return EXIT_USAGE;
	}
	optind++;
	if (argc - optind > 1) {
		config_usage(stderr);
		return EXIT_USAGE;
	}
	return config_check(optind < argc ? argv[optind] : DEFAULT_CONFIG);
}
