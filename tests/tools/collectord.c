/*
 * collectord.c - test driver: runs the collector from command-line options until
 * SIGTERM or SIGINT (the daemon will do the same from its configuration).
 *
 *   collectord --socket PATH --store DB [--flush-ms N] [--period hourly|daily|weekly|never]
 *              [--never-domain D]... [--dump-dir DIR] [--max-memory BYTES]
 *              [--stats FILE] [--mode OCTAL]
 *
 * Prints "ready" on stdout once the socket is bound.  At exit writes the statistics as
 * key=value lines to --stats (or stderr).  Threading: main thread waits in sigwait().
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/collector.h"
#include "util/log.h"
#include "util/str.h"

struct periods {
	enum window_period dflt;
	const char *never[16];
	int nnever;
};

static enum window_period
period_for(void *ctx, const char *domain)
{
	struct periods *p = ctx;

	for (int i = 0; i < p->nnever; i++)
		if (strcmp(p->never[i], domain) == 0)
			return WINDOW_NEVER;
	return p->dflt;
}

static void
print_stats(FILE *f, const struct collector_stats *st)
{
	fprintf(f, "datagrams=%llu\naccepted=%llu\nrejected=%llu\n",
	        (unsigned long long)st->datagrams, (unsigned long long)st->accepted,
	        (unsigned long long)st->rejected);
	for (int i = 1; i < DG_REJECT_COUNT_; i++)
		fprintf(f, "rejected_%s=%llu\n", datagram_reject_name((enum dg_reject)i),
		        (unsigned long long)st->rejected_by[i]);
	fprintf(f,
	        "sessions_success=%llu\nsessions_failure=%llu\nfailure_details=%llu\n"
	        "never_sessions=%llu\nreport_deliveries=%llu\nlate_sessions=%llu\n"
	        "flushes=%llu\nflush_errors=%llu\ndumped=%llu\ndropped=%llu\ncommit_unknown=%llu\n",
	        (unsigned long long)st->sessions_success, (unsigned long long)st->sessions_failure,
	        (unsigned long long)st->failure_details, (unsigned long long)st->never_sessions,
	        (unsigned long long)st->report_deliveries, (unsigned long long)st->late_sessions,
	        (unsigned long long)st->flushes, (unsigned long long)st->flush_errors,
	        (unsigned long long)st->dumped, (unsigned long long)st->dropped,
	        (unsigned long long)st->commit_unknown);
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "store", required_argument, NULL, 'd' },
		{ "flush-ms", required_argument, NULL, 'f' },
		{ "period", required_argument, NULL, 'p' },
		{ "never-domain", required_argument, NULL, 'n' },
		{ "dump-dir", required_argument, NULL, 'D' },
		{ "max-memory", required_argument, NULL, 'm' },
		{ "stats", required_argument, NULL, 'S' },
		{ "mode", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	struct collector_opts o;
	struct periods per = { WINDOW_DAILY, { NULL }, 0 };
	const char *store_path = NULL, *stats_path = NULL;
	struct store *store = NULL;
	struct collector *c = NULL;
	struct collector_stats st;
	struct err e;
	sigset_t set;
	int ch, sig;
	uint64_t n;

	memset(&o, 0, sizeof(o));
	o.socket_mode = -1;
	log_setup("collectord", LOG_DEST_STDERR, LOG_LEVEL_INFO);
	while ((ch = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o.socket_path = optarg;
			break;
		case 'd':
			store_path = optarg;
			break;
		case 'f':
			if (str_to_u64(span_cstr(optarg), &n) < 0)
				return 2;
			o.flush_interval_ms = (int)n;
			break;
		case 'p':
			if (window_period_parse(span_cstr(optarg), &per.dflt) < 0)
				return 2;
			break;
		case 'n':
			if (per.nnever < 16)
				per.never[per.nnever++] = optarg;
			break;
		case 'D':
			o.dump_dir = optarg;
			break;
		case 'm':
			if (str_to_u64(span_cstr(optarg), &n) < 0)
				return 2;
			o.max_memory = n;
			break;
		case 'S':
			stats_path = optarg;
			break;
		case 'M':
			o.socket_mode = (int)strtol(optarg, NULL, 8);
			break;
		default:
			return 2;
		}
	}
	if (o.socket_path == NULL || store_path == NULL) {
		fprintf(stderr, "usage: collectord --socket PATH --store DB [options]\n");
		return 2;
	}
	o.period_for = period_for;
	o.period_ctx = &per;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	err_clear(&e);
	if (store_open("sqlite", store_path, &store, &e) != 0) {
		fprintf(stderr, "collectord: %s\n", e.msg);
		return 1;
	}
	o.store = store;
	if (collector_start(&o, &c, &e) != 0) {
		fprintf(stderr, "collectord: %s\n", e.msg);
		store_close(store);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	sigwait(&set, &sig);
	collector_stop(c, &st);
	store_close(store);
	{
		FILE *f = stats_path ? fopen(stats_path, "w") : stderr;
		if (f) {
			print_stats(f, &st);
			if (f != stderr)
				fclose(f);
		}
	}
	return 0;
}
