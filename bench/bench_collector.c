/*
 * bench_collector.c - in-process cost of decoding and aggregating one datagram, and of
 * flushing 10,000 domains to SQLite (no socket: the kernel's share is measured by
 * bench/collector.sh).  Prints name<TAB>value<TAB>unit<TAB>target lines; medians of 3.
 * Threading: single-threaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "collector/collector.h"
#include "util/log.h"

enum { DOMAINS = 10000, N = 1000000 };

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int
main(void)
{
	static char dgs[DOMAINS][400];
	static size_t lens[DOMAINS];
	double feed[3], flush[3];
	char path[] = "/tmp/bench_collector.XXXXXX";
	int fd;

	log_setup("bench_collector", LOG_DEST_NONE, LOG_LEVEL_ERROR);
	for (int d = 0; d < DOMAINS; d++) {
		int n = snprintf(
		        dgs[d], sizeof(dgs[d]),
		        "{\"dpv\": \"1\",\"d\": \"d%05d.example.net\",\"pr\": \"v=TLSRPTv1; "
		        "rua=mailto:tlsrpt@d%05d.example.net\",\"policies\":[{\"policy-type\":2,"
		        "\"policy-domain\": \"d%05d.example.net\",\"policy-string\":[\"version: "
		        "STSv1\",\"mode: enforce\",\"mx: *.example.net\",\"max_age: 604800\"],"
		        "\"mx-host\":[\"*.example.net\"],\"t\":0,\"f\":0}]}",
		        d, d, d);
		lens[d] = (size_t)n;
	}
	fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	for (int run = 0; run < 3; run++) {
		struct collector_opts o;
		struct collector *c;
		struct store *s;
		struct err e;
		double t0;

		unlink(path);
		memset(&o, 0, sizeof(o));
		if (store_open("sqlite", path, &s, &e) != 0) {
			fprintf(stderr, "%s\n", e.msg);
			return 1;
		}
		o.store = s;
		o.socket_mode = -1;
		collector_new(&o, &c, &e);
		t0 = now_s();
		for (int i = 0; i < N; i++)
			collector_feed(c, dgs[i % DOMAINS], lens[i % DOMAINS], 1764324000);
		feed[run] = (now_s() - t0) * 1e9 / N;
		t0 = now_s();
		if (collector_flush(c, &e) != 0) {
			fprintf(stderr, "%s\n", e.msg);
			return 1;
		}
		flush[run] = (now_s() - t0) * 1e3;
		collector_free(c);
		store_close(s);
	}
	unlink(path);
	qsort(feed, 3, sizeof(double), cmp);
	qsort(flush, 3, sizeof(double), cmp);
	printf("collector decode+aggregate per datagram\t%.0f\tns\t-\n", feed[1]);
	printf("collector first flush, 10000 domains, SQLite\t%.1f\tms\t-\n", flush[1]);
	{
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		printf("collector in-process bench peak RSS\t%.1f\tMB\t-\n",
		       (double)ru.ru_maxrss / 1024.0);
	}
	return 0;
}
