/*
 * tlsrpt_deliver.c - `tlsrpt deliver`: one delivery pass over the outbox.
 *
 *   tlsrpt deliver [--config FILE] [--store PATH] [--now UNIX] [--dns-zone FILE]
 *                  [--direct-port N]
 *
 * Loads the DKIM signers (a bad [signature.*] block or an unknown id in
 * report.tls.aggregate.sign is an error before anything is sent), then tries every due
 * delivery row once (outbound/deliver.h).  --now pretends the clock (Date:, t=,
 * backoff and retry-until use it); --dns-zone answers DNS from the zone-file lines of
 * FILE only (nothing leaves the process: for tests and dry runs); --direct-port sends
 * direct-mode mail to that port instead of 25 (tests).  Prints one line of counts:
 *   reports=N attempts=N sent=N failed=N given-up=N
 * Exit 0 ok, 1 failure, 2 usage.  Single-threaded.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/tlsrpt.h"
#include "net/net_curl.h"
#include "outbound/deliver.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/str.h"

static const char usage_text[] =
        "usage: tlsrpt deliver [--config FILE] [--store PATH] [--now UNIX] [--dns-zone FILE]\n"
        "                      [--direct-port N]\n";

int
cmd_deliver(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "now", required_argument, NULL, 'n' },
		{ "dns-zone", required_argument, NULL, 'z' },
		{ "direct-port", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = DEFAULT_CONFIG, *path = NULL, *zone = NULL;
	struct deliver_opts o = { 0 };
	struct deliver_stats st = { 0 };
	struct signers sg = { 0 };
	struct dns_opts dopts;
	struct clock clk;
	struct conf *conf = NULL;
	struct store *s = NULL;
	struct err e = { 0 };
	int64_t now = 0, port = 0;
	bool have_now = false;
	int ch, rc = 1;

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
			if (cli_parse_unix_time("deliver", "--now", optarg, &now) != 0)
				return EXIT_USAGE;
			have_now = true;
			break;
		case 'z':
			zone = optarg;
			break;
		case 'p':
			if (str_to_i64(span_cstr(optarg), &port) != 0 || port < 1 || port > 65535) {
				fprintf(stderr,
				        "tlsrpt: deliver: --direct-port: expected 1..65535, got "
				        "%s\n",
				        optarg);
				return EXIT_USAGE;
			}
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
	if (signers_load(conf, &sg, &e) != 0) {
		fprintf(stderr, "tlsrpt: deliver: %s: %s\n", config, e.msg);
		conf_free(conf);
		return 1;
	}
	if (net_global_init(&e) != 0) {
		fprintf(stderr, "tlsrpt: deliver: %s\n", e.msg);
		signers_free(&sg);
		conf_free(conf);
		return 1;
	}
	if (have_now) {
		clock_init_fixed(&clk, now);
		o.clock = &clk;
	}
	dns_opts_default(&dopts);
	dopts.clock = o.clock;
	if (zone)
		dopts.mode = DNS_MODE_LOCAL;
	o.dns = dns_new(&dopts, &e);
	if (o.dns == NULL)
		fprintf(stderr, "tlsrpt: deliver: DNS: %s\n", e.msg);
	else if (zone && cli_load_dns_file("deliver", o.dns, zone) != 0)
		goto out;
	if (o.dns == NULL || cli_open_store(config, "sqlite", path, STORE_AREA_DELIVERY, &s) != 0)
		goto out;
	o.conf = conf;
	o.store = s;
	o.signers = &sg;
	o.direct_port = (unsigned)port;
	rc = deliver_pass(&o, &st, &e);
	printf("reports=%llu attempts=%llu sent=%llu failed=%llu given-up=%llu",
	       (unsigned long long)st.reports, (unsigned long long)st.attempts,
	       (unsigned long long)st.sent, (unsigned long long)st.failed,
	       (unsigned long long)st.given_up);
	if (st.deferred > 0) /* delivery.daily-cap */
		printf(" deferred=%llu", (unsigned long long)st.deferred);
	printf("\n");
	if (rc)
		fprintf(stderr, "tlsrpt: deliver: %s\n", e.msg);
	rc = rc ? 1 : 0;
out:
	store_close(s);
	dns_free(o.dns);
	net_global_cleanup();
	signers_free(&sg);
	conf_free(conf);
	return rc;
}
