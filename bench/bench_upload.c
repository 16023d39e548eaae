/*
 * bench_upload.c - HTTP upload endpoint benchmark: RFC 8460 report uploads per second
 * through the real daemon (tlsrptd, SQLite store in a scratch folder, web.rate-limit 0)
 * on 127.0.0.1, from a concurrent keep-alive client (libcurl multi, CONNS connections).
 *
 *   bench_upload [N [CONNS]]   N distinct gzip reports per run (default 20000; distinct
 *                              report-ids, so every upload is stored), CONNS (default 8)
 *
 * Each run starts a fresh daemon and store; every answer must be 200 "stored report".
 * Prints `name<TAB>value<TAB>unit<TAB>target` lines (bench/run): the median uploads/s of
 * 3 runs (target 5,000), the daemon's CPU (user + system, from /proc) per upload in the
 * median run, and the daemon's peak RSS (VmHWM) over the runs.
 */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report/gzip.h"
#include "util/buf.h"

#define RUNS 3

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
report_json(struct buf *b, int run, int i)
{
	buf_reset(b);
	buf_printf(
	        b,
	        "{\"organization-name\":\"Example Sample Org\",\"date-range\":{\"start-datetime\":"
	        "\"2026-11-28T00:00:00Z\",\"end-datetime\":\"2026-11-28T23:59:59Z\"},"
	        "\"contact-info\":\"tlsrpt@sender%d.example\",\"report-id\":\"2026-11-28_%d_%d@"
	        "sender.example\",\"policies\":[{\"policy\":{\"policy-type\":\"sts\","
	        "\"policy-string\":[\"version: STSv1\",\"mode: enforce\",\"mx: mx1.sts.example\","
	        "\"max_age: 604800\"],\"policy-domain\":\"sts.example\",\"mx-host\":["
	        "\"mx1.sts.example\"]},\"summary\":{\"total-successful-session-count\":%d,"
	        "\"total-failure-session-count\":2},\"failure-details\":[{\"result-type\":"
	        "\"certificate-host-mismatch\",\"sending-mta-ip\":\"192.0.2.10\","
	        "\"receiving-ip\":\"198.51.100.20\",\"receiving-mx-hostname\":\"mx1.sts.example\","
	        "\"failed-session-count\":2}]}]}",
	        i % 50, run, i, 1000 + i);
}

struct daemon {
	pid_t pid;
	unsigned port;
};

static int
start_daemon(const char *bin, const char *dir, struct daemon *d)
{
	char conf[700], log[700], db[700], line[1024];
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/tlsrptd.toml", dir);
	snprintf(log, sizeof(log), "%s/log", dir);
	snprintf(db, sizeof(db), "%s/store.sqlite", dir);
	static const char *const sfx[] = { "", "-wal", "-shm" };
	for (size_t i = 0; i < 3; i++) {
		char p[720];
		snprintf(p, sizeof(p), "%s%s", db, sfx[i]);
		unlink(p);
	}
	f = fopen(conf, "w");
	if (f == NULL)
		return -1;
	fprintf(f,
	        "[collector]\nsocket = \"%s/c.sock\"\n[store]\nbackend = \"sqlite\"\npath = "
	        "\"%s\"\n"
	        "[web]\nlisten = \"127.0.0.1:0\"\nrate-limit = 0\n[log]\ndestination = "
	        "\"stderr\"\n",
	        dir, db);
	fclose(f);
	unlink(log);
	d->pid = fork();
	if (d->pid < 0)
		return -1;
	if (d->pid == 0) {
		if (freopen(log, "w", stderr) == NULL)
			_exit(127);
		execl(bin, bin, "--foreground", "--config", conf, (char *)NULL);
		_exit(127);
	}
	/* port 0: the receiver's start line says which port it got */
	for (int i = 0; i < 500; i++) {
		f = fopen(log, "r");
		while (f && fgets(line, sizeof(line), f)) {
			const char *p = strstr(line, " port=");
			if (strstr(line, "report upload endpoint") && p) {
				d->port = (unsigned)strtoul(p + 6, NULL, 10);
				fclose(f);
				return 0;
			}
		}
		if (f)
			fclose(f);
		usleep(20000);
	}
	fprintf(stderr, "bench_upload: daemon did not start (see %s)\n", log);
	return -1;
}

static void
stop_daemon(struct daemon *d)
{
	int st;
	kill(d->pid, SIGTERM);
	waitpid(d->pid, &st, 0);
}

/* utime + stime of pid in seconds. */
static double
cpu_s(pid_t pid)
{
	char p[64], buf[2048];
	unsigned long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	f = fopen(p, "r");
	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *q = strrchr(buf, ')');
	if (q == NULL ||
	    sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* VmHWM of pid in KiB. */
static long
peak_rss_kib(pid_t pid)
{
	char p[64], line[256];
	long kib = 0;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	f = fopen(p, "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

struct slot {
	CURL *h;
	char body[128];
	size_t len;
};

static size_t
on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct slot *s = ud;
	size_t n = size * nmemb, room = sizeof(s->body) - 1 - s->len;

	memcpy(s->body + s->len, p, n < room ? n : room);
	s->len += n < room ? n : room;
	s->body[s->len] = '\0';
	return n;
}

/* POSTs bodies[0..n) with conns connections.  Returns the count answered 200 stored. */
static int
post_all(unsigned port, char **bodies, size_t *lens, int n, int conns)
{
	CURLM *m = curl_multi_init();
	struct slot *slots = calloc((size_t)conns, sizeof(*slots));
	struct curl_slist *hdrs = NULL;
	char url[64];
	int next = 0, ok = 0, running = 0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/tlsrpt", port);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/tlsrpt+gzip");
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)conns);
	for (int i = 0; i < conns && next < n; i++) {
		struct slot *s = &slots[i];
		s->h = curl_easy_init();
		curl_easy_setopt(s->h, CURLOPT_URL, url);
		curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
		curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
		curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, bodies[next]);
		curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)lens[next]);
		next++;
		curl_multi_add_handle(m, s->h);
	}
	do {
		CURLMsg *msg;
		int q;

		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &q)) != NULL) {
			struct slot *s;
			long code = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
			if (msg->data.result == CURLE_OK && code == 200 &&
			    strncmp(s->body, "stored report", 13) == 0)
				ok++;
			else if (ok < 3)
				fprintf(stderr, "bench_upload: answer %ld %s\n", code, s->body);
			curl_multi_remove_handle(m, s->h);
			s->len = 0;
			s->body[0] = '\0';
			if (next < n) {
				curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, bodies[next]);
				curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)lens[next]);
				next++;
				curl_multi_add_handle(m, s->h);
				running = 1;
			}
		}
		if (running)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	} while (running);
	for (int i = 0; i < conns; i++)
		if (slots[i].h)
			curl_easy_cleanup(slots[i].h);
	curl_slist_free_all(hdrs);
	curl_multi_cleanup(m);
	free(slots);
	return ok;
}

static int
cmp_idx(const void *a, const void *b, void *ctx)
{
	const double *v = ctx;
	double x = v[*(const int *)a], y = v[*(const int *)b];
	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	const char *tmp = getenv("TLSRPT_TEST_TMP");
	const char *b = getenv("B");
	int n = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 20000;
	int conns = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 8;
	char dir[512], bin[512];
	double rate[RUNS], cpu[RUNS];
	int idx[RUNS] = { 0, 1, 2 };
	long peak = 0;
	struct buf json, gz;
	int status = 0;

	if (n <= 0)
		n = 20000;
	if (conns <= 0 || conns > 16)
		conns = 8;
	snprintf(bin, sizeof(bin), "%s/tlsrptd", b ? b : "build");
	snprintf(dir, sizeof(dir), "%s/bench_upload.%d", tmp ? tmp : "/tmp", (int)getpid());
	mkdir(dir, 0700);
	curl_global_init(CURL_GLOBAL_ALL);
	buf_init(&json, 1 << 20);
	char **bodies = calloc((size_t)n, sizeof(*bodies));
	size_t *lens = calloc((size_t)n, sizeof(*lens));
	for (int r = 0; r < RUNS && status == 0; r++) {
		struct daemon d;

		for (int i = 0; i < n; i++) {
			report_json(&json, r, i);
			buf_init(&gz, 1 << 20);
			if (gzip_compress(buf_span(&json), &gz, NULL) != 0)
				return 1;
			free(bodies[i]);
			bodies[i] = buf_steal(&gz, &lens[i]);
		}
		if (start_daemon(bin, dir, &d) != 0)
			return 1;
		double c0 = cpu_s(d.pid), t0 = now_s();
		int got = post_all(d.port, bodies, lens, n, conns);
		double t1 = now_s(), c1 = cpu_s(d.pid);
		long kib = peak_rss_kib(d.pid);

		stop_daemon(&d);
		if (got != n) {
			fprintf(stderr, "bench_upload: run %d: %d of %d uploads stored\n", r + 1,
			        got, n);
			status = 1;
		}
		rate[r] = n / (t1 - t0);
		cpu[r] = (c1 - c0) / n * 1e6;
		if (kib > peak)
			peak = kib;
		fprintf(stderr, "bench_upload: run %d: %.0f uploads/s, %.1f us CPU/upload\n", r + 1,
		        rate[r], cpu[r]);
	}
	if (status != 0)
		return status;
	qsort_r(idx, RUNS, sizeof(int), cmp_idx, rate);
	printf("http upload: uploads/s, %d conns keep-alive (%d gzip reports)\t%.0f\tuploads/s\t"
	       ">= 5000\n",
	       conns, n, rate[idx[RUNS / 2]]);
	printf("http upload: daemon CPU per upload\t%.1f\tus\t-\n", cpu[idx[RUNS / 2]]);
	printf("http upload: daemon peak RSS\t%.1f\tMiB\t-\n", (double)peak / 1024);
	for (int i = 0; i < n; i++)
		free(bodies[i]);
	free(bodies);
	free(lens);
	buf_clear(&json);
	curl_global_cleanup();
	char p[700];
	const char *files[] = { "tlsrptd.toml", "log", "store.sqlite", "store.sqlite-wal",
		                "store.sqlite-shm" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}
