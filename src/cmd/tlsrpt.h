/*
 * tlsrpt.h - the subcommands of the `tlsrpt` CLI.
 *
 * Each subcommand lives in src/cmd/tlsrpt_<name>.c and is called with argv[0] set to
 * its own name ("report", "config", ...).  It parses its own options and returns the
 * process exit status: 0 ok, 1 failure, 2 usage error.  Output goes to stdout, errors
 * to stderr prefixed "tlsrpt: ".
 */
#ifndef TLSRPTD_CMD_TLSRPT_H
#define TLSRPTD_CMD_TLSRPT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config/conf.h"
#include "store/store.h"

#define DEFAULT_CONFIG "/etc/tlsrptd/tlsrptd.toml"

enum { EXIT_USAGE = 2 };

struct tlsrpt_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

/* The table of subcommands, NULL-name terminated (in tlsrpt.c). */
extern const struct tlsrpt_cmd tlsrpt_cmds[];

/* src/cmd/tlsrpt_config.c: `tlsrpt config check [FILE]` */
int cmd_config(int argc, char **argv);
/* `tlsrpt report validate|show` (tlsrpt_report.c). */
int cmd_report(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_stats(int argc, char **argv);
/* `tlsrpt generate` (tlsrpt_generate.c), `tlsrpt outbox list|show|preview` (tlsrpt_outbox.c). */
int cmd_generate(int argc, char **argv);
int cmd_outbox(int argc, char **argv);
int cmd_deliver(int argc, char **argv);
/* `tlsrpt ingest` and `tlsrpt received` (issue 8). */
int cmd_ingest(int argc, char **argv);
int cmd_received(int argc, char **argv);
/* `tlsrpt fetch --imap URL` (tlsrpt_fetch.c). */
int cmd_fetch(int argc, char **argv);
/* `tlsrpt dkim keygen` (tlsrpt_dkim.c), `tlsrpt dns check` (tlsrpt_dns.c). */
int cmd_dkim(int argc, char **argv);
int cmd_dns(int argc, char **argv);
/* `tlsrpt alerts check|test|run` (tlsrpt_alerts.c, issue 9). */
int cmd_alerts(int argc, char **argv);
int cmd_web(int argc, char **argv);

/*
 * Loads the configuration file path; on errors prints all of them to stderr and
 * returns -1.  Caller frees *out with conf_free().
 */
int cli_load_conf(const char *path, struct conf **out);

/*
 * Opens the store named by --store PATH (with backend), or, when path is NULL, the one
 * the configuration file config_path names.  area (an enum store_area, or -1 for none)
 * must be implemented by the backend (store_supports).  Prints errors.  Returns 0 or -1.
 */
int cli_open_store(const char *config_path, const char *backend, const char *path, int area,
                   struct store **out);

struct dns;

/*
 * Adds the zone-file lines of path to dns (dns_add_local_file), for offline use.
 * Prints "tlsrpt: CMD: <reason>" (cmd may be NULL) and returns -1 on errors.
 */
int cli_load_dns_file(const char *cmd, struct dns *dns, const char *path);

/*
 * Parses a --now style option value: non-negative Unix seconds.  On error prints
 * "tlsrpt: CMD: OPTION: expected Unix seconds, got ARG" and returns -1.
 */
int cli_parse_unix_time(const char *cmd, const char *option, const char *arg, int64_t *out);

struct orgdomain_psl;

#endif
