/*
 * tlsrpt_record.c - `tlsrpt record`: reports one TLS outcome to the collector through
 * the client library (for scripts, tests and MTAs without the library).
 *
 *   tlsrpt record [--socket PATH] --domain D [--record 'v=TLSRPTv1; rua=...']
 *                 --policy sts|tlsa|none [--policy-domain D] [--policy-string S]...
 *                 [--mx-host P]... [--result success|<result-type>] [--sending-ip IP]
 *                 [--mx HOST] [--helo TEXT] [--receiving-ip IP] [--reason CODE]
 *                 [--additional TEXT] [--time UNIX] [--report-delivery] [--nonblock]
 *                 [--count N]
 *
 * Exit status 0 when every result was sent, 1 when one failed, 2 on usage errors.
 * Threading: single-threaded.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/tlsrpt.h"
#include "collector/datagram.h"
#include "tlsrptd.h"
#include "util/str.h"

#define DEFAULT_SOCKET "/run/tlsrptd/collector.sock"
#define MAX_LIST 64

static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: tlsrpt record [--config FILE | --socket PATH] --domain D [--record TXT]\n"
	        "         --policy sts|tlsa|none [--policy-domain D] [--policy-string S]...\n"
	        "         [--mx-host P]... [--result success|<result-type>] [--sending-ip IP]\n"
	        "         [--mx HOST] [--helo TEXT] [--receiving-ip IP] [--reason CODE]\n"
	        "         [--additional TEXT] [--time UNIX] [--report-delivery] [--nonblock]\n"
	        "         [--count N]\n\n"
	        "Sends TLS results for one delivery to the tlsrptd collector (default socket %s).\n"
	        "result-type is an RFC 8460 name, e.g. certificate-expired.\n",
	        DEFAULT_SOCKET);
}

int
cmd_record(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'C' },
		{ "socket", required_argument, NULL, 'S' },
		{ "domain", required_argument, NULL, 'd' },
		{ "record", required_argument, NULL, 'r' },
		{ "policy", required_argument, NULL, 'p' },
		{ "policy-domain", required_argument, NULL, 'D' },
		{ "policy-string", required_argument, NULL, 's' },
		{ "mx-host", required_argument, NULL, 'm' },
		{ "result", required_argument, NULL, 'R' },
		{ "sending-ip", required_argument, NULL, 'i' },
		{ "mx", required_argument, NULL, 'x' },
		{ "helo", required_argument, NULL, 'H' },
		{ "receiving-ip", required_argument, NULL, 'I' },
		{ "reason", required_argument, NULL, 'f' },
		{ "additional", required_argument, NULL, 'a' },
		{ "time", required_argument, NULL, 't' },
		{ "report-delivery", no_argument, NULL, 'P' },
		{ "nonblock", no_argument, NULL, 'N' },
		{ "count", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	const char *socket_path = DEFAULT_SOCKET, *domain = NULL, *record = "", *pdomain = NULL;
	const char *strings[MAX_LIST], *mx[MAX_LIST];
	int nstrings = 0, nmx = 0, result = 0, policy = 0, flags = 0, report = 0, ch;
	struct tlsrptd_failure f = { NULL, NULL, NULL, NULL, NULL, NULL };
	uint64_t count = 1, ts = 0, v;
	bool has_ts = false;
	struct tlsrptd_conn *c;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'C':
			config = optarg;
			break;
		case 'S':
			socket_path = optarg;
			break;
		case 'd':
			domain = optarg;
			break;
		case 'r':
			record = optarg;
			break;
		case 'p':
			if (strcmp(optarg, "sts") == 0)
				policy = TLSRPTD_POLICY_STS;
			else if (strcmp(optarg, "tlsa") == 0)
				policy = TLSRPTD_POLICY_TLSA;
			else if (strcmp(optarg, "none") == 0 ||
			         strcmp(optarg, "no-policy-found") == 0)
				policy = TLSRPTD_POLICY_NONE;
			else {
				fprintf(stderr,
				        "tlsrpt: --policy: expected sts|tlsa|none, got '%s'\n",
				        optarg);
				return EXIT_USAGE;
			}
			break;
		case 'D':
			pdomain = optarg;
			break;
		case 's':
		case 'm':
			if ((ch == 's' ? nstrings : nmx) >= MAX_LIST) {
				fprintf(stderr, "tlsrpt: at most %d --%s options\n", MAX_LIST,
				        ch == 's' ? "policy-string" : "mx-host");
				return EXIT_USAGE;
			}
			if (ch == 's')
				strings[nstrings++] = optarg;
			else
				mx[nmx++] = optarg;
			break;
		case 'R':
			if (strcmp(optarg, "success") == 0) {
				result = 0;
			} else {
				result = datagram_result_code(span_cstr(optarg));
				if (result == 0) {
					fprintf(stderr,
					        "tlsrpt: --result: expected success or an RFC 8460 "
					        "result-type (e.g. certificate-expired), got "
					        "'%s'\n",
					        optarg);
					return EXIT_USAGE;
				}
			}
			break;
		case 'i':
			f.sending_mta_ip = optarg;
			break;
		case 'x':
			f.receiving_mx_hostname = optarg;
			break;
		case 'H':
			f.receiving_mx_helo = optarg;
			break;
		case 'I':
			f.receiving_ip = optarg;
			break;
		case 'f':
			f.failure_reason_code = optarg;
			break;
		case 'a':
			f.additional_information = optarg;
			break;
		case 't':
		case 'c':
			if (str_to_u64(span_cstr(optarg), &v) < 0) {
				fprintf(stderr, "tlsrpt: --%s: expected a number, got '%s'\n",
				        ch == 't' ? "time" : "count", optarg);
				return EXIT_USAGE;
			}
			if (ch == 't') {
				ts = v;
				has_ts = true;
			} else {
				count = v;
			}
			break;
		case 'P':
			report = 1;
			break;
		case 'N':
			flags |= TLSRPTD_NONBLOCK;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc || domain == NULL || policy == 0) {
		fprintf(stderr, "tlsrpt: record needs --domain and --policy\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	/* --config FILE: the socket that file's collector.socket names */
	char sock_buf[4096];
	if (config != NULL) {
		struct conf *conf = NULL;
		if (cli_load_conf(config, &conf) != 0)
			return 1;
		str_copy(sock_buf, sizeof(sock_buf), conf_str(conf, "collector.socket"));
		socket_path = sock_buf;
		conf_free(conf);
	}
	if (tlsrptd_client_open(socket_path, flags, &c) != 0) {
		fprintf(stderr, "tlsrpt: --socket: invalid path '%s'\n", socket_path);
		return EXIT_USAGE;
	}
	for (uint64_t n = 0; n < count; n++) {
		int rc = tlsrptd_client_begin(c, domain, record);
		if (rc == 0)
			rc = tlsrptd_client_policy(c, (enum tlsrptd_policy_type)policy, pdomain);
		for (int i = 0; rc == 0 && i < nstrings; i++)
			rc = tlsrptd_client_policy_string(c, strings[i]);
		for (int i = 0; rc == 0 && i < nmx; i++)
			rc = tlsrptd_client_mx_host(c, mx[i]);
		if (rc == 0 && result)
			rc = tlsrptd_client_failure(c, (enum tlsrptd_result_type)result, &f);
		if (rc == 0 && has_ts)
			rc = tlsrptd_client_set_time(c, (int64_t)ts);
		if (rc == 0 && report)
			rc = tlsrptd_client_set_report_delivery(c, 1);
		if (rc == 0)
			rc = tlsrptd_client_finish(c);
		if (rc != 0) {
			fprintf(stderr, "tlsrpt: record: %s (socket %s, result %llu of %llu)\n",
			        tlsrptd_client_strerror(rc), socket_path, (unsigned long long)n + 1,
			        (unsigned long long)count);
			tlsrptd_client_close(c);
			return 1;
		}
	}
	tlsrptd_client_close(c);
	return 0;
}
