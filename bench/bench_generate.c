/*
 * bench_generate.c - report generation at scale: 100,000 report domains with
 * 1,000,000 (policy, failure detail) rows in the store are generated, validated,
 * compressed and stored in the outbox by one scheduler pass (outbound_run).
 * The store is filled once and copied; the pass runs RUNS times, each on a fresh copy.
 * Prints name<TAB>value<TAB>unit<TAB>target lines: the median pass time, the median CPU
 * time per report (user + system), and the peak RSS of the process (which also held
 * the fill); BENCH_GENERATE_DOMAINS overrides the number of domains (10 details each).
 * Threading: single-threaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "config/conf.h"
#include "outbound/generate.h"
#include "store/store.h"
#include "util/log.h"
#include "util/str.h"

enum { DETAILS = 10, RUNS = 3 };

#define DAY0 1764288000LL /* 2025-11-28T00:00:00Z */

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Copies the file from to the file to; 0 or -1. */
static int
copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char b[1 << 16];
	size_t n;
	int rc = in && out ? 0 : -1;

	while (rc == 0 && (n = fread(b, 1, sizeof(b), in)) > 0)
		if (fwrite(b, 1, n, out) != n)
			rc = -1;
	if (in)
		fclose(in);
	if (out && fclose(out) != 0)
		rc = -1;
	return rc;
}

static void
remove_store(const char *path)
{
	char side[600];

	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

static int
fill(struct store *s, int domains, struct err *e)
{
	int64_t det[DETAILS];
	char key[512], dom[64], rec[128];

	if (s->ops->begin(s, e))
		return -1;
	for (int k = 0; k < DETAILS; k++) {
		int n = snprintf(key, sizeof(key),
		                 "{\"result-type\":\"certificate-expired\",\"sending-mta-ip\":"
		                 "\"198.51.100.%d\",\"receiving-mx-hostname\":\"mx.example.net\"}",
		                 k + 1);
		if (s->ops->detail_id(s, (struct span){ key, (size_t)n }, "certificate-expired",
		                      &det[k], e))
			return -1;
	}
	for (int d = 0; d < domains; d++) {
		struct store_window_key wk;
		enum store_window_state st;
		int64_t wid, pid;
		int dn = snprintf(dom, sizeof(dom), "d%06d.example.net", d);
		int rn = snprintf(rec, sizeof(rec), "v=TLSRPTv1; rua=mailto:tlsrpt@%s", dom);
		int kn = snprintf(key, sizeof(key),
		                  "{\"policy-type\":\"sts\",\"policy-string\":[\"version: STSv1\","
		                  "\"mode: enforce\",\"mx: *.%s\",\"max_age: 604800\"],"
		                  "\"policy-domain\":\"%s\",\"mx-host\":[\"*.%s\"]}",
		                  dom, dom, dom);

		wk = (struct store_window_key){
			WINDOW_DAILY, DAY0, { dom, (size_t)dn }, { rec, (size_t)rn }
		};
		if (s->ops->window_open(s, &wk, &wid, &st, e) ||
		    s->ops->policy_id(s, (struct span){ key, (size_t)kn }, "sts",
		                      (struct span){ dom, (size_t)dn }, &pid, e) ||
		    s->ops->add_sessions(s, wid, pid, 100, 55, e))
			return -1;
		for (int k = 0; k < DETAILS; k++)
			if (s->ops->add_failures(s, wid, pid, det[k], (uint64_t)k + 1, e))
				return -1;
	}
	return s->ops->commit(s, e) ? -1 : 0;
}

int
main(void)
{
	static const char conf_text[] = "[report]\nsubmitter = \"'mx.example.org'\"\n"
	                                "[report.tls.aggregate]\norg-name = \"'Example Org'\"\n"
	                                "from-address = \"'noreply-tls@example.org'\"\nsign = []\n";
	const char *env = getenv("BENCH_GENERATE_DOMAINS");
	int64_t n = 0;
	int domains = env && str_to_i64(span_cstr(env), &n) == 0 && n > 0 && n <= 10000000 ? (int)n
	                                                                                   : 100000;
	char path[] = "/tmp/bench_generate.XXXXXX";
	char copy[sizeof(path) + 8];
	struct conf *c = NULL;
	struct store *s = NULL;
	struct err e = { 0 };
	struct rusage ru;
	double pass[RUNS], cpu[RUNS];
	int fd;

	log_setup("bench_generate", LOG_DEST_NONE, LOG_LEVEL_ERROR);
	fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	if (conf_parse("bench.toml", conf_text, strlen(conf_text), &c, NULL, &e) != 0 ||
	    store_open("sqlite", path, &s, &e) != 0 || fill(s, domains, &e) != 0) {
		fprintf(stderr, "bench_generate: %s\n", e.msg);
		return 1;
	}
	store_close(s); /* checkpoints: the main file holds everything */
	snprintf(copy, sizeof(copy), "%s.run", path);
	for (int r = 0; r < RUNS; r++) {
		struct outbound_stats st = { 0 };
		double t0, c0;

		if (copy_file(path, copy) != 0 || store_open("sqlite", copy, &s, &e) != 0) {
			fprintf(stderr, "bench_generate: cannot copy the store: %s\n", e.msg);
			return 1;
		}
		struct outbound_opts o = { .conf = c, .store = s, .immediate = true };

		t0 = now_s();
		c0 = cpu_s();
		if (outbound_run(&o, &st, &e) != 0) {
			fprintf(stderr, "bench_generate: %s\n", e.msg);
			return 1;
		}
		pass[r] = now_s() - t0;
		cpu[r] = (cpu_s() - c0) * 1e6 / domains;
		store_close(s);
		remove_store(copy);
		if (st.reports != (uint64_t)domains || st.invalid != 0) {
			fprintf(stderr, "bench_generate: %llu reports (%llu invalid), want %d\n",
			        (unsigned long long)st.reports, (unsigned long long)st.invalid,
			        domains);
			return 1;
		}
	}
	getrusage(RUSAGE_SELF, &ru);
	qsort(pass, RUNS, sizeof(double), cmp_double);
	qsort(cpu, RUNS, sizeof(double), cmp_double);
	printf("generate %d domains x %d details: pass (median of %d)\t%.2f\ts\t<= 30\n", domains,
	       DETAILS, RUNS, pass[RUNS / 2]);
	printf("generate: CPU per report\t%.1f\tus\t-\n", cpu[RUNS / 2]);
	printf("generate: peak RSS\t%.1f\tMB\t<= 256\n", (double)ru.ru_maxrss / 1024.0);
	conf_free(c);
	remove_store(path);
	return 0;
}
