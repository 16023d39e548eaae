/*
 * tlsrpt.c - the `tlsrpt` command-line tool: dispatches to a subcommand.
 *
 *   tlsrpt [--help] [--version] <command> [args...]
 *
 * Argument parsing and wiring only; every subcommand is in src/cmd/tlsrpt_<name>.c.
 * Exit status: 0 ok, 1 failure, 2 usage error.
 */
#include "cmd/tlsrpt.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

const struct tlsrpt_cmd tlsrpt_cmds[] = {
	{ "config", "check a configuration file and print its effective values", cmd_config },
	{ "report", "validate or show received RFC 8460 reports", cmd_report },
	{ "record", "send one TLS result to the collector", cmd_record },
	{ "stats", "show collected sessions per domain and window", cmd_stats },
	{ "generate", "generate the reports of due windows into the outbox", cmd_generate },
	{ "outbox", "list, show or preview generated reports", cmd_outbox },
	{ "deliver", "deliver the due reports of the outbox once", cmd_deliver },
	{ "ingest", "store received TLS reports (mail, Maildir, mbox, files)", cmd_ingest },
	{ "received", "list, show and summarise received TLS reports", cmd_received },
	{ "dkim", "generate a DKIM key for report mail (keygen)", cmd_dkim },
	{ "dns", "check the TLSRPT record and DKIM keys in the DNS (check)", cmd_dns },
	{ "alerts", "evaluate alert rules, or send a test alert (check, test, run)", cmd_alerts },
	{ NULL, NULL, NULL },
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: tlsrpt [--help] [--version] <command> [args...]\n\n"
	             "SMTP TLS Reporting (RFC 8460) tool of tlsrptd.\n\ncommands:\n");
	for (const struct tlsrpt_cmd *c = tlsrpt_cmds; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out, "\nRun 'tlsrpt <command> --help' for the options of a command.\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* '+' stops at the first non-option: the subcommand parses the rest */
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tlsrpt %s\n", TLSRPTD_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (const struct tlsrpt_cmd *cmd = tlsrpt_cmds; cmd->name; cmd++) {
		if (strcmp(cmd->name, argv[optind]) == 0) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;
			optind = 0; /* reset getopt for the subcommand */
			return cmd->run(sub_argc, sub_argv);
		}
	}
	fprintf(stderr, "tlsrpt: unknown command '%s'; run 'tlsrpt --help'\n", argv[optind]);
	return EXIT_USAGE;
}
