/*
 * tlsrpt_alerts.c - `tlsrpt alerts`: the alert rules of the configuration
 * (outbound/alerts.h, docs/alerts.md).
 *
 *   tlsrpt alerts check [--config FILE] [--now UNIX]
 *       evaluates every rule once now and prints each alert that fires, and whether it
 *       would be sent or is within its cool-down; sends nothing, changes nothing:
 *         send<TAB>KEY<TAB>SUMMARY
 *         cooldown until 2026-11-29T14:00:00Z<TAB>KEY<TAB>SUMMARY
 *   tlsrpt alerts test [--config FILE] [--rule ID]
 *       sends a sample alert (type "test") of every rule (or rule ID) through its
 *       channels and prints what was sent; the cool-down state is not touched
 *   tlsrpt alerts run [--config FILE] [--now UNIX]
 *       one pass as the daemon does it: evaluate, send, record (for cron)
 *
 * Exit 0 ok, 1 failure (a channel or the store failed), 2 usage.  Single-threaded.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/tlsrpt.h"
#include "net/net_curl.h"
#include "outbound/alerts.h"
#include "util/clock.h"

static const char usage_text[] = "usage: tlsrpt alerts check [--config FILE] [--now UNIX]\n"
                                 "       tlsrpt alerts test [--config FILE] [--rule ID]\n"
                                 "       tlsrpt alerts run [--config FILE] [--now UNIX]\n";

static int
do_check(const struct conf *conf, struct store *s, int64_t now)
{
	struct alert_rule *rules = NULL;
	struct alert_list l = { 0 };
	struct alerts_state *st = NULL;
	struct err e = { 0 };
	size_t n = 0, send = 0;
	int rc;

	rc = alerts_rules_load(conf, &rules, &n, &e);
	if (rc == 0)
		rc = alerts_state_load(alerts_state_path(conf), &st, &e);
	if (rc == 0)
		rc = alerts_evaluate(rules, n, s, now, &l, &e);
	if (rc) {
		fprintf(stderr, "tlsrpt: alerts check: %s\n", e.msg);
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct alert *a = &l.v[i];
		int64_t last = alerts_state_last(st, a->key);

		if (last > 0 && now - last < a->cooldown) {
			char until[TIME_RFC3339_LEN];
			time_format_rfc3339(last + a->cooldown, until);
			printf("cooldown until %s\t%s\t%s\n", until, a->key, a->summary);
		} else {
			send++;
			printf("send\t%s\t%s\n", a->key, a->summary);
		}
	}
	printf("rules=%zu fired=%zu send=%zu cooldown=%zu\n", n, l.n, send, l.n - send);
out:
	alert_list_clear(&l);
	alerts_state_free(st);
	free(rules);
	return rc ? 1 : 0;
}

static int
do_test(const struct conf *conf, const char *only, int64_t now)
{
	struct alert_rule *rules = NULL;
	struct err e = { 0 };
	size_t n = 0, tried = 0;
	int status = 0;

	if (alerts_rules_load(conf, &rules, &n, &e) != 0) {
		fprintf(stderr, "tlsrpt: alerts test: %s\n", e.msg);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		struct alert_list l = { 0 };
		struct buf tr;

		if (only && strcmp(only, rules[i].id) != 0)
			continue;
		tried++;
		if (rules[i].webhook == NULL && rules[i].email == NULL) {
			printf("rule %s: no webhook or email configured: nothing sent\n",
			       rules[i].id);
			continue;
		}
		alerts_sample(&rules[i], now, &l);
		buf_init(&tr, 1 << 22);
		memset(&e, 0, sizeof(e));
		if (alerts_send(conf, &l.v[0], &tr, &e) != 0) {
			fprintf(stderr, "tlsrpt: alerts test: rule %s: %s\n", rules[i].id, e.msg);
			status = 1;
		}
		fputs(buf_cstr(&tr), stdout);
		buf_clear(&tr);
		alert_list_clear(&l);
	}
	if (only && tried == 0) {
		fprintf(stderr, "tlsrpt: alerts test: no rule [alert.%s] in the configuration\n",
		        only);
		status = 1;
	} else if (n == 0) {
		fprintf(stderr,
		        "tlsrpt: alerts test: the configuration has no [alert.<id>] rules\n");
		status = 1;
	}
	free(rules);
	return status;
}

int
cmd_alerts(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "now", required_argument, NULL, 'n' },
		{ "rule", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = DEFAULT_CONFIG, *rule = NULL, *sub;
	struct conf *conf = NULL;
	struct store *s = NULL;
	struct err e = { 0 };
	struct clock clk;
	int64_t now = 0;
	bool have_now = false;
	int ch, rc = 1;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	sub = argv[1];
	if (strcmp(sub, "check") != 0 && strcmp(sub, "test") != 0 && strcmp(sub, "run") != 0) {
		fprintf(stderr, "tlsrpt: alerts: unknown command '%s'\n%s", sub, usage_text);
		return EXIT_USAGE;
	}
	optind = 1;
	while ((ch = getopt_long(argc - 1, argv + 1, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'n':
			if (cli_parse_unix_time("alerts", "--now", optarg, &now) != 0)
				return EXIT_USAGE;
			have_now = true;
			break;
		case 'r':
			rule = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "tlsrpt: alerts: unexpected argument '%s'\n%s", argv[optind + 1],
		        usage_text);
		return EXIT_USAGE;
	}
	if ((rule && strcmp(sub, "test") != 0) || (have_now && strcmp(sub, "test") == 0)) {
		fprintf(stderr, "tlsrpt: alerts: %s does not apply to '%s'\n%s",
		        rule ? "--rule" : "--now", sub, usage_text);
		return EXIT_USAGE;
	}
	if (have_now)
		clock_init_fixed(&clk, now);
	else
		clock_init_real(&clk);
	now = clock_now(&clk);
	if (cli_load_conf(config, &conf) != 0)
		return 1;
	if (net_global_init(&e) != 0) {
		fprintf(stderr, "tlsrpt: alerts: %s\n", e.msg);
		conf_free(conf);
		return 1;
	}
	if (strcmp(sub, "test") == 0) {
		rc = do_test(conf, rule, now);
		goto out;
	}
	if (store_open_conf(conf, &s, &e) != 0) {
		fprintf(stderr, "tlsrpt: alerts: %s\n", e.msg);
		goto out;
	}
	if (strcmp(sub, "check") == 0) {
		rc = do_check(conf, s, now);
	} else {
		struct alerts_pass st;

		if (alerts_run(conf, s, &clk, false, NULL, &st, &e) != 0) {
			fprintf(stderr, "tlsrpt: alerts run: %s\n", e.msg);
		} else {
			printf("fired=%zu sent=%zu cooldown=%zu failed=%zu\n", st.fired, st.sent,
			       st.suppressed, st.failed);
			rc = st.failed ? 1 : 0;
		}
	}
out:
	store_close(s);
	net_global_cleanup();
	conf_free(conf);
	return rc;
}
