/*
 * tlsrpt_generate.c - `tlsrpt generate`: one pass of the report scheduler.
 *
 *   tlsrpt generate [--config FILE] [--store PATH] [--now UNIX] [--immediate]
 *
 * Generates the reports of every window that is reportable at the current time (or at
 * --now UNIX, a pretended clock) into the outbox, oldest first, each window in one
 * transaction (outbound/generate.h).  --now keeps the schedule (a window is due at its
 * end + delay + jitter); --immediate ignores delay and jitter so every window that has
 * ended is generated.  Prints one line of counts:
 *   windows=N reports=N invalid=N split=N dropped-details=N not-yet=N
 * Exit 0 ok, 1 failure, 2 usage.  Single-threaded.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/tlsrpt.h"
#include "outbound/generate.h"
#include "util/clock.h"
#include "util/str.h"

static const char usage_text[] =
        "usage: tlsrpt generate [--config FILE] [--store PATH] [--now UNIX] [--immediate]\n";

int
cmd_generate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "now", required_argument, NULL, 'n' },
		{ "immediate", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = DEFAULT_CONFIG, *path = NULL;
	struct outbound_opts o = { 0 };
	struct outbound_stats st = { 0 };
	struct clock clk;
	struct conf *conf = NULL;
	struct store *s = NULL;
	struct err e = { 0 };
	int64_t now = 0;
	bool have_now = false;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 's':
			path = optarg;
			break;
		case 'n':
			if (cli_parse_unix_time("generate", "--now", optarg, &now) != 0)
				return EXIT_USAGE;
			have_now = true;
			break;
		case 'i':
			o.immediate = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (cli_load_conf(config, &conf) != 0)
		return 1;
	if (cli_open_store(config, "sqlite", path, STORE_AREA_OUTBOX, &s) != 0) {
		conf_free(conf);
		return 1;
	}
	if (have_now) {
		clock_init_fixed(&clk, now);
		o.clock = &clk;
	}
	o.conf = conf;
	o.store = s;
	rc = outbound_run(&o, &st, &e);
	printf("windows=%llu reports=%llu invalid=%llu split=%llu dropped-details=%llu "
	       "not-yet=%llu\n",
	       (unsigned long long)st.windows, (unsigned long long)st.reports,
	       (unsigned long long)st.invalid, (unsigned long long)st.split,
	       (unsigned long long)st.dropped_details, (unsigned long long)st.not_yet);
	if (rc)
		fprintf(stderr, "tlsrpt: generate: %s\n", e.msg);
	store_close(s);
	conf_free(conf);
	return rc ? 1 : 0;
}
