/*
 * sendmany.c - sends many results through the client library (tests and benchmarks).
 *
 *   sendmany --socket PATH --count N [--domains D] [--threads T] [--nonblock]
 *            [--retry] [--rate R] [--build-only] [--first F] [--ts UNIX]
 *
 * Result i goes to domain d<F + i % D>.example.net (F: --first, default 0; names have at
 * least 5 digits) with one STS policy; it is a failure
 * (one certificate-expired detail) when (i / D) % 10 == 0, else a success, so every
 * domain gets a 1:9 failure:success split when N is a multiple of 10 * D.  --retry
 * keeps retrying a result while the collector is unreachable (for restart tests);
 * --rate paces the total send rate.  --build-only measures the library without
 * sending.  --ts dates every result (the "ts" key; default: receive time).  Prints "sent=... eagain=... econn=... seconds=... rate=..." on stdout.
 * Threading: T sender threads, one connection each.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tlsrptd.h"
#include "util/str.h"

struct job {
	const char *socket;
	uint64_t count, domains, threads, index;
	bool nonblock, retry, build_only;
	int64_t ts;
	double rate;
	uint64_t sent, eagain, econn;
};

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Per-domain strings, built once before the threads start (read-only afterwards). */
struct names {
	char dom[48], rec[96], mx[56];
};
static struct names *names;

static int
one(struct tlsrptd_conn *c, uint64_t i, uint64_t domains, int64_t ts)
{
	const struct names *n = &names[i % domains];
	struct tlsrptd_failure f = { "192.0.2.1",    n->mx, "mx.example.net ESMTP",
		                     "198.51.100.7", NULL,  "certificate has expired" };
	int rc;

	rc = tlsrptd_client_begin(c, n->dom, n->rec);
	if (rc == 0 && ts > 0)
		rc = tlsrptd_client_set_time(c, ts);
	if (rc == 0)
		rc = tlsrptd_client_policy(c, TLSRPTD_POLICY_STS, n->dom);
	if (rc == 0)
		rc = tlsrptd_client_policy_string(c, "version: STSv1");
	if (rc == 0)
		rc = tlsrptd_client_policy_string(c, "mode: enforce");
	if (rc == 0)
		rc = tlsrptd_client_policy_string(c, "mx: *.example.net");
	if (rc == 0)
		rc = tlsrptd_client_policy_string(c, "max_age: 604800");
	if (rc == 0)
		rc = tlsrptd_client_mx_host(c, "*.example.net");
	if (rc == 0 && (i / domains) % 10 == 0)
		rc = tlsrptd_client_failure(c, TLSRPTD_RESULT_CERTIFICATE_EXPIRED, &f);
	if (rc == 0)
		rc = tlsrptd_client_finish(c);
	return rc;
}

static void *
run(void *arg)
{
	struct job *j = arg;
	struct tlsrptd_conn *c;
	double t0 = now_s();
	uint64_t k = 0;

	if (tlsrptd_client_open(j->build_only ? NULL : j->socket,
	                        j->nonblock ? TLSRPTD_NONBLOCK : 0, &c) != 0)
		return NULL;
	for (uint64_t i = j->index; i < j->count; i += j->threads, k++) {
		int rc;
		if (j->rate > 0 && (k & 63) == 0) {
			double due = t0 + (double)k * (double)j->threads / j->rate;
			double wait = due - now_s();
			if (wait > 0) {
				struct timespec ts = {
					(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)
				};
				nanosleep(&ts, NULL);
			}
		}
		for (;;) {
			rc = one(c, i, j->domains, j->ts);
			if (rc == TLSRPTD_ECONN && j->retry) {
				struct timespec ts = { 0, 2000000 };
				nanosleep(&ts, NULL);
				continue;
			}
			break;
		}
		if (rc == 0)
			j->sent++;
		else if (rc == TLSRPTD_EAGAIN)
			j->eagain++;
		else
			j->econn++;
	}
	tlsrptd_client_close(c);
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "domains", required_argument, NULL, 'd' },
		{ "threads", required_argument, NULL, 't' },
		{ "rate", required_argument, NULL, 'r' },
		{ "nonblock", no_argument, NULL, 'N' },
		{ "retry", no_argument, NULL, 'R' },
		{ "build-only", no_argument, NULL, 'B' },
		{ "first", required_argument, NULL, 'F' },
		{ "ts", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	struct job base = { NULL, 1000, 1000, 1, 0, false, false, false, 0, 0, 0, 0, 0 };
	uint64_t first = 0;
	struct job jobs[64];
	pthread_t th[64];
	uint64_t v, sent = 0, eagain = 0, econn = 0;
	double t0, dt;
	int ch;

	while ((ch = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			base.socket = optarg;
			break;
		case 'n':
		case 'd':
		case 't':
			if (str_to_u64(span_cstr(optarg), &v) < 0 || v == 0)
				return 2;
			if (ch == 'n')
				base.count = v;
			else if (ch == 'd')
				base.domains = v;
			else
				base.threads = v > 64 ? 64 : v;
			break;
		case 'r':
			if (str_to_u64(span_cstr(optarg), &v) < 0)
				return 2;
			base.rate = (double)v;
			break;
		case 'N':
			base.nonblock = true;
			break;
		case 'R':
			base.retry = true;
			break;
		case 'B':
			base.build_only = true;
			break;
		case 'F':
		case 'T':
			if (str_to_u64(span_cstr(optarg), &v) < 0)
				return 2;
			if (ch == 'F')
				first = v;
			else
				base.ts = (int64_t)v;
			break;
		default:
			return 2;
		}
	}
	if (base.socket == NULL && !base.build_only)
		return 2;
	names = calloc(base.domains, sizeof(*names));
	if (names == NULL)
		return 1;
	for (uint64_t d = 0; d < base.domains; d++) {
		snprintf(names[d].dom, sizeof(names[d].dom), "d%05llu.example.net",
		         (unsigned long long)(first + d));
		snprintf(names[d].rec, sizeof(names[d].rec), "v=TLSRPTv1; rua=mailto:tlsrpt@%s",
		         names[d].dom);
		snprintf(names[d].mx, sizeof(names[d].mx), "mx0.%s", names[d].dom);
	}
	t0 = now_s();
	for (uint64_t t = 0; t < base.threads; t++) {
		jobs[t] = base;
		jobs[t].index = t;
		pthread_create(&th[t], NULL, run, &jobs[t]);
	}
	for (uint64_t t = 0; t < base.threads; t++) {
		pthread_join(th[t], NULL);
		sent += jobs[t].sent;
		eagain += jobs[t].eagain;
		econn += jobs[t].econn;
	}
	dt = now_s() - t0;
	free(names);
	printf("sent=%llu eagain=%llu econn=%llu seconds=%.3f rate=%.0f\n",
	       (unsigned long long)sent, (unsigned long long)eagain, (unsigned long long)econn, dt,
	       (double)sent / dt);
	return 0;
}
