/*
 * net_smtp_send.c - test driver for the SMTP client: sends a message file and prints
 * the result.
 *
 *   net_smtp_send --from ADDR --to ADDR [--to ADDR ...] [--helo NAME] MODE MESSAGE-FILE
 *   MODE: --url URL [--starttls none|try|required] [--insecure] [--ca-file F]
 *                   [--user U --password P]                       (relay)
 *       | --host HOST --port N                                    (one host, direct)
 *       | --mx DOMAIN --port N --dns-data FILE                    (MX delivery)
 *   --timeout-ms N, --connect-timeout-ms N for every mode.
 *
 * --dns-data names a file of zone-file lines loaded into a DNS_MODE_LOCAL resolver
 * (lines starting "zone " are "zone NAME TYPE" local zones).  Prints
 * "rc=.. outcome=.. code=.. tls=.. cleartext_retry=.. host=.. addr=..", then
 * "text=<last reply>" and "error=<message>".  Exit 0 when sent, 1 when not, 2 on
 * usage errors.  Single-threaded.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/dns.h"
#include "net/net_curl.h"
#include "net/smtp_client.h"
#include "util/file.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/str.h"

static long
num(const char *s)
{
	int64_t v;

	if (str_to_i64(span_cstr(s), &v) || v < 0 || v > 1000000000) {
		fprintf(stderr, "net_smtp_send: bad number %s\n", s);
		exit(2);
	}
	return (long)v;
}

static struct dns *
load_dns(const char *path)
{
	struct dns_opts o;
	struct err e = { 0 };
	struct dns *dns;
	char line[2048];
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "net_smtp_send: cannot read %s\n", path);
		return NULL;
	}
	dns_opts_default(&o);
	o.mode = DNS_MODE_LOCAL;
	dns = dns_new(&o, &e);
	while (dns && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		int rc;
		if (strncmp(line, "zone ", 5) == 0) {
			char *name = line + 5, *type = strchr(name, ' ');
			if (!type)
				continue;
			*type++ = '\0';
			rc = dns_add_local_zone(dns, name, type, &e);
		} else {
			rc = dns_add_local_data(dns, line, &e);
		}
		if (rc) {
			fprintf(stderr, "%s\n", e.msg);
			dns_free(dns);
			dns = NULL;
		}
	}
	fclose(f);
	if (!dns && e.msg[0])
		fprintf(stderr, "%s\n", e.msg);
	return dns;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "helo", required_argument, NULL, 'h' },
		{ "url", required_argument, NULL, 'u' },
		{ "starttls", required_argument, NULL, 's' },
		{ "insecure", no_argument, NULL, 'k' },
		{ "ca-file", required_argument, NULL, 'c' },
		{ "user", required_argument, NULL, 'U' },
		{ "password", required_argument, NULL, 'P' },
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "mx", required_argument, NULL, 'm' },
		{ "dns-data", required_argument, NULL, 'd' },
		{ "timeout-ms", required_argument, NULL, 'T' },
		{ "connect-timeout-ms", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	struct smtp_relay_opts relay;
	struct smtp_direct_opts direct;
	struct smtp_result res;
	struct err e = { 0 };
	struct buf msg;
	const char *from = NULL, *host = NULL, *mx = NULL, *dns_data = NULL;
	const char *to[16];
	size_t nto = 0;
	int c, rc;

	log_setup("net_smtp_send", LOG_DEST_STDERR, LOG_LEVEL_INFO);
	smtp_relay_opts_default(&relay);
	smtp_direct_opts_default(&direct);
	relay.url = NULL;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			from = optarg;
			break;
		case 't':
			if (nto == 16)
				return 2;
			to[nto++] = optarg;
			break;
		case 'h':
			relay.helo_name = optarg;
			direct.helo_name = optarg;
			break;
		case 'u':
			relay.url = optarg;
			break;
		case 's':
			if (!strcmp(optarg, "none"))
				relay.starttls = SMTP_STARTTLS_NONE;
			else if (!strcmp(optarg, "try"))
				relay.starttls = SMTP_STARTTLS_TRY;
			else if (!strcmp(optarg, "required"))
				relay.starttls = SMTP_STARTTLS_REQUIRED;
			else
				return 2;
			break;
		case 'k':
			relay.insecure = true;
			break;
		case 'c':
			relay.ca_file = optarg;
			break;
		case 'U':
			relay.user = optarg;
			break;
		case 'P':
			relay.password = optarg;
			break;
		case 'H':
			host = optarg;
			break;
		case 'p':
			direct.port = (unsigned)num(optarg);
			break;
		case 'm':
			mx = optarg;
			break;
		case 'd':
			dns_data = optarg;
			break;
		case 'T':
			relay.timeout_ms = direct.timeout_ms = num(optarg);
			break;
		case 'C':
			relay.connect_timeout_ms = direct.connect_timeout_ms = num(optarg);
			break;
		default:
			return 2;
		}
	}
	if (!from || optind + 1 != argc || (!relay.url && !host && !mx) || (mx && !dns_data)) {
		fprintf(stderr, "usage: see tests/tools/net_smtp_send.c\n");
		return 2;
	}
	buf_init(&msg, 64u << 20);
	if (file_read(argv[optind], &msg, NULL)) {
		fprintf(stderr, "net_smtp_send: cannot read %s\n", argv[optind]);
		buf_clear(&msg);
		return 2;
	}
	if (net_global_init(&e)) {
		fprintf(stderr, "%s\n", e.msg);
		buf_clear(&msg);
		return 2;
	}
	if (mx) {
		struct dns *dns = load_dns(dns_data);
		if (!dns) {
			buf_clear(&msg);
			net_global_cleanup();
			return 2;
		}
		rc = smtp_send_mx(dns, &direct, mx, from, to, nto, buf_span(&msg), &res, &e);
		dns_free(dns);
	} else if (host) {
		rc = smtp_send_host(&direct, host, from, to, nto, buf_span(&msg), &res, &e);
	} else {
		rc = smtp_send_relay(&relay, from, to, nto, buf_span(&msg), &res, &e);
	}
	printf("rc=%d outcome=%s code=%ld tls=%d cleartext_retry=%d host=%s addr=%s\n", rc,
	       smtp_outcome_name(res.outcome), res.code, res.tls, res.cleartext_retry,
	       res.host[0] ? res.host : "-", res.addr[0] ? res.addr : "-");
	printf("text=%s\n", res.text);
	printf("error=%s\n", rc ? e.msg : "");
	buf_clear(&msg);
	net_global_cleanup();
	return rc == 0 ? 0 : 1;
}
