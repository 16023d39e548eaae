/*
 * tlsrpt_stats.c - `tlsrpt stats`: what the collector has stored, per domain and
 * window: sessions by policy and result.
 *
 *   tlsrpt stats --store PATH [--backend sqlite]
 *
 * Output: one tab-separated line per (domain, window, policy, result) with a header:
 *   domain  window-start  period  state  policy-type  policy-domain  result  sessions
 * result is "success", "failure" (all failed sessions) or an RFC 8460 result-type
 * (failed-session-count of that failure detail; several details may share a type and
 * are summed).  Threading: single-threaded.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/tlsrpt.h"
#include "store/store.h"
#include "util/clock.h"

static int
print_row(void *ctx, const struct store_count_row *r)
{
	char start[TIME_RFC3339_LEN];

	(void)ctx;
	if (time_format_rfc3339(r->start, start) != 0)
		start[0] = '\0';
	if (r->result_type == NULL) {
		if (r->success)
			printf("%s\t%s\t%s\t%s\t%s\t%s\tsuccess\t%llu\n", r->domain, start,
			       window_period_name(r->period),
			       r->state == STORE_WINDOW_REPORTED ? "reported" : "open",
			       r->policy_type, r->policy_domain, (unsigned long long)r->success);
		if (r->failure)
			printf("%s\t%s\t%s\t%s\t%s\t%s\tfailure\t%llu\n", r->domain, start,
			       window_period_name(r->period),
			       r->state == STORE_WINDOW_REPORTED ? "reported" : "open",
			       r->policy_type, r->policy_domain, (unsigned long long)r->failure);
		return 0;
	}
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%llu\n", r->domain, start,
	       window_period_name(r->period),
	       r->state == STORE_WINDOW_REPORTED ? "reported" : "open", r->policy_type,
	       r->policy_domain, r->result_type, (unsigned long long)r->detail_count);
	return 0;
}

int
cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "backend", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *backend = "sqlite", *config = DEFAULT_CONFIG;
	struct store *s;
	struct err e;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 's':
			path = optarg;
			break;
		case 'b':
			backend = optarg;
			break;
		case 'h':
			printf("usage: tlsrpt stats [--config FILE | --store PATH [--backend "
			       "sqlite]]\n");
			return 0;
		default:
			fprintf(stderr, "usage: tlsrpt stats [--config FILE | --store PATH "
			                "[--backend sqlite]]\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
		        "usage: tlsrpt stats [--config FILE | --store PATH [--backend sqlite]]\n");
		return EXIT_USAGE;
	}
	err_clear(&e);
	if (cli_open_store(config, backend, path, -1, &s) != 0)
		return 1;
	printf("domain\twindow-start\tperiod\tstate\tpolicy-type\tpolicy-"
	       "domain\tresult\tsessions\n");
	rc = s->ops->list_counts(s, 0, print_row, NULL, &e);
	store_close(s);
	if (rc != 0) {
		fprintf(stderr, "tlsrpt: stats: %s\n", e.msg);
		return 1;
	}
	return 0;
}
