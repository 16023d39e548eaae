/*
 * bench_ingest.c - inbound benchmark: report e-mails ingested per second from a
 * Maildir (read, MIME parse, report located and gunzipped, read, DKIM checked
 * (unsigned), stored with its own transaction in SQLite, moved to cur/), and report
 * bodies ingested per second as HTTP uploads would be (without the socket).
 *
 *   bench_ingest [N]     N messages (default 10000), modelled on the sys4 corpus mail
 *
 * Prints `name<TAB>value<TAB>unit<TAB>target` lines (bench/run); each figure is the
 * median of 3 runs over a fresh store and Maildir in $TLSRPT_TEST_TMP (or /tmp), with
 * the median CPU time (user + system) per item and the peak RSS of the process.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "inbound/ingest.h"
#include "report/gzip.h"
#include "util/base64.h"
#include "util/buf.h"

#define RUNS 3

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void
report_json(struct buf *b, int i)
{
	buf_reset(b);
	buf_printf(
	        b,
	        "{\"organization-name\":\"Example Sample Org\",\"date-range\":{\"start-datetime\":"
	        "\"2026-11-28T00:00:00Z\",\"end-datetime\":\"2026-11-28T23:59:59Z\"},"
	        "\"contact-info\":\"tlsrpt@sender.example\",\"report-id\":\"2026-11-28_%d@"
	        "sender.example\",\"policies\":[{\"policy\":{\"policy-type\":\"sts\","
	        "\"policy-string\":[\"version: STSv1\",\"mode: enforce\",\"mx: mx1.sts.example\","
	        "\"max_age: 604800\"],\"policy-domain\":\"sts.example\",\"mx-host\":["
	        "\"mx1.sts.example\"]},\"summary\":{\"total-successful-session-count\":%d,"
	        "\"total-failure-session-count\":2},\"failure-details\":[{\"result-type\":"
	        "\"certificate-host-mismatch\",\"sending-mta-ip\":\"192.0.2.10\","
	        "\"receiving-ip\":\"198.51.100.20\",\"receiving-mx-hostname\":\"mx1.sts.example\","
	        "\"failed-session-count\":2}]}]}",
	        i, 1000 + i);
}

static void
message(struct buf *out, int i)
{
	struct buf json, gz;

	buf_init(&json, 1 << 20);
	buf_init(&gz, 1 << 20);
	report_json(&json, i);
	gzip_compress(buf_span(&json), &gz, NULL);
	buf_reset(out);
	buf_printf(
	        out,
	        "Subject: Report Domain: sts.example Submitter: sender.example Report-ID:\r\n"
	        " <2026-11-28_%d@sender.example>\r\n"
	        "From: noreply-tlsrpt@sender.example\r\nTo: tlsrpt@sts.example\r\n"
	        "Message-ID: <%d.bench@sender.example>\r\nTLS-Report-Domain: sts.example\r\n"
	        "TLS-Report-Submitter: sender.example\r\nMIME-Version: 1.0\r\n"
	        "Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"b1\"\r\n\r\n"
	        "--b1\r\nContent-Type: text/plain\r\n\r\nThis is an aggregate TLS report.\r\n\r\n"
	        "--b1\r\nContent-Type: application/tlsrpt+gzip\r\n"
	        "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment;\r\n"
	        " filename=\"sender.example!sts.example!1795824000!1795910399!%d.json.gz\"\r\n\r\n",
	        i, i, i);
	base64_encode(out, gz.data, gz.len, 76);
	buf_append_str(out, "\r\n--b1--\r\n");
	buf_clear(&json);
	buf_clear(&gz);
}

static void
rm_store(const char *db)
{
	char p[600];

	unlink(db);
	snprintf(p, sizeof(p), "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db);
	unlink(p);
}

/* One run: writes n messages to dir/new, then ingests them; returns messages/s. */
static double
run_maildir(const char *dir, const char *db, int n, double *cpu_us)
{
	char p[1024], q[1100];
	struct buf msg, data;
	struct store *s;
	struct ingest in = { 0 };
	struct err e = { 0 };
	double t0, t1, c0;
	int done = 0;

	rm_store(db);
	for (const char *sub = "new"; sub; sub = strcmp(sub, "new") == 0 ? "cur" : NULL) {
		snprintf(p, sizeof(p), "%s/%s", dir, sub);
		mkdir(p, 0700);
	}
	buf_init(&msg, 1 << 20);
	for (int i = 0; i < n; i++) {
		FILE *f;

		message(&msg, i);
		snprintf(p, sizeof(p), "%s/new/%d.bench", dir, i);
		f = fopen(p, "wb");
		if (f == NULL || fwrite(msg.data, 1, msg.len, f) != msg.len) {
			perror(p);
			exit(1);
		}
		fclose(f);
	}
	buf_clear(&msg);
	if (store_open("sqlite", db, &s, &e) != 0) {
		fprintf(stderr, "bench_ingest: %s\n", e.msg);
		exit(1);
	}
	in.store = s;
	buf_init(&data, 64 << 20);
	t0 = now_s();
	c0 = cpu_s();
	for (int i = 0; i < n; i++) {
		struct ingest_result res;
		FILE *f;
		size_t got;
		char chunk[65536];

		snprintf(p, sizeof(p), "%s/new/%d.bench", dir, i);
		snprintf(q, sizeof(q), "%s/cur/%d.bench:2,S", dir, i);
		f = fopen(p, "rb");
		if (f == NULL)
			continue;
		buf_reset(&data);
		while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_append(&data, chunk, got);
		fclose(f);
		if (ingest_message(&in, buf_span(&data), &res, &e) == 0 && res.stored == 1)
			done++;
		rename(p, q);
	}
	t1 = now_s();
	*cpu_us = (cpu_s() - c0) * 1e6 / n;
	buf_clear(&data);
	store_close(s);
	for (int i = 0; i < n; i++) {
		snprintf(q, sizeof(q), "%s/cur/%d.bench:2,S", dir, i);
		unlink(q);
	}
	rm_store(db);
	if (done != n) {
		fprintf(stderr, "bench_ingest: stored %d of %d\n", done, n);
		exit(1);
	}
	return n / (t1 - t0);
}

/* Report bodies (gzip) through ingest_report(), as the upload handler does. */
static double
run_bodies(const char *db, int n, double *cpu_us)
{
	struct buf json, *gz = calloc((size_t)n, sizeof(*gz));
	struct store *s;
	struct ingest in = { 0 };
	struct err e = { 0 };
	double t0, t1, c0;

	rm_store(db);
	buf_init(&json, 1 << 20);
	for (int i = 0; i < n; i++) {
		report_json(&json, i);
		buf_init(&gz[i], 1 << 20);
		gzip_compress(buf_span(&json), &gz[i], NULL);
	}
	buf_clear(&json);
	if (store_open("sqlite", db, &s, &e) != 0)
		exit(1);
	in.store = s;
	t0 = now_s();
	c0 = cpu_s();
	for (int i = 0; i < n; i++) {
		struct ingest_result res;

		if (ingest_report(&in, buf_span(&gz[i]), INGEST_HTTP, &res, &e) != 0) {
			fprintf(stderr, "bench_ingest: %s\n", e.msg);
			exit(1);
		}
	}
	t1 = now_s();
	*cpu_us = (cpu_s() - c0) * 1e6 / n;
	store_close(s);
	for (int i = 0; i < n; i++)
		buf_clear(&gz[i]);
	free(gz);
	rm_store(db);
	return n / (t1 - t0);
}

int
main(int argc, char **argv)
{
	const char *tmp = getenv("TLSRPT_TEST_TMP");
	char dir[512], db[600];
	double mail[RUNS], body[RUNS], mail_cpu[RUNS], body_cpu[RUNS];
	struct rusage ru;
	int n = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 10000;

	if (n <= 0)
		n = 10000;
	snprintf(dir, sizeof(dir), "%s/bench_ingest.%d", tmp ? tmp : "/tmp", (int)getpid());
	mkdir(dir, 0700);
	snprintf(db, sizeof(db), "%s/store.sqlite", dir);
	for (int r = 0; r < RUNS; r++) {
		mail[r] = run_maildir(dir, db, n, &mail_cpu[r]);
		body[r] = run_bodies(db, n, &body_cpu[r]);
	}
	qsort(mail, RUNS, sizeof(double), cmp_double);
	qsort(body, RUNS, sizeof(double), cmp_double);
	printf("ingest: report e-mails from a Maildir (%d msgs)\t%.0f\tmsg/s\t-\n", n,
	       mail[RUNS / 2]);
	printf("ingest: report bodies as uploaded (gzip, %d)\t%.0f\treports/s\t-\n", n,
	       body[RUNS / 2]);
	qsort(mail_cpu, RUNS, sizeof(double), cmp_double);
	qsort(body_cpu, RUNS, sizeof(double), cmp_double);
	printf("ingest: CPU per e-mail (Maildir)\t%.0f\tus\t-\n", mail_cpu[RUNS / 2]);
	printf("ingest: CPU per uploaded report body\t%.0f\tus\t-\n", body_cpu[RUNS / 2]);
	getrusage(RUSAGE_SELF, &ru);
	printf("ingest: peak RSS\t%.1f\tMB\t-\n", (double)ru.ru_maxrss / 1024.0);
	char p[600];
	snprintf(p, sizeof(p), "%s/new", dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/cur", dir);
	rmdir(p);
	rmdir(dir);
	return 0;
}
