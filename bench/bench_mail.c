/*
 * bench_mail.c - mail layer benchmarks: report messages composed and DKIM-signed per
 * second (rsa-2048, ed25519), DKIM verifications per second, MIME parse + report
 * location + decoding throughput.  Prints `name<TAB>value<TAB>unit<TAB>target` lines
 * (bench/run); each figure is the median of 5 runs; CPU per item and peak memory are
 * separate figures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "mail/compose.h"
#include "mail/dkim.h"
#include "mail/mime.h"
#include "util/buf.h"

#define RUNS 5

static double
now_s(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static const char *const to[] = { "tlsrpt@example.net", NULL };
static unsigned char attachment[4096];

static struct compose_report
report(int i)
{
	static char id[64];
	snprintf(id, sizeof id, "20261128.example.net.%d@mail.sender.example", i);
	struct compose_report r = {
		.from_name = "Example Mail Reporting",
		.from_address = "tlsrpt-noreply@mail.sender.example",
		.to = to,
		.date = 1795924800,
		.policy_domain = "example.net",
		.submitter = "mail.sender.example",
		.report_id = id,
		.window_begin = 1795824000,
		.window_end = 1795910399,
		.filename = "mail.sender.example!example.net!1795824000!1795910399!1.json.gz",
		.gz = attachment,
		.gz_len = sizeof attachment,
	};
	return r;
}

/* Composes and signs messages for ~0.3 s; returns messages/s, sets *cpu_us per message. */
static double
run_compose_sign(const struct mdkim_key *k, double *cpu_us)
{
	struct buf msg, sig;
	struct mdkim_sign_opts o = { .domain = "mail.sender.example",
		                     .selector = "s1",
		                     .hc = MDKIM_RELAXED,
		                     .bc = MDKIM_RELAXED,
		                     .t = 1795924800 };
	buf_init(&msg, 1 << 20);
	buf_init(&sig, 1 << 16);
	double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID), t1;
	long n = 0;
	do {
		struct compose_report r = report((int)n);
		buf_reset(&msg);
		buf_reset(&sig);
		if (compose_report_message(&r, &msg, NULL) != 0 ||
		    mdkim_sign(k, &o, buf_span(&msg), &sig, NULL) != 0) {
			fprintf(stderr, "bench_mail: compose/sign failed\n");
			exit(1);
		}
		n++;
		t1 = now_s(CLOCK_MONOTONIC);
	} while (t1 - t0 < 0.3);
	*cpu_us = (now_s(CLOCK_PROCESS_CPUTIME_ID) - c0) / (double)n * 1e6;
	buf_clear(&msg);
	buf_clear(&sig);
	return (double)n / (t1 - t0);
}

static char record[2048];

static int
lookup(void *ctx, const char *selector, const char *domain, struct buf *txt, struct err *e)
{
	(void)ctx;
	(void)selector;
	(void)domain;
	(void)e;
	return buf_append_str(txt, record);
}

static double
run_verify(const struct mdkim_key *k)
{
	struct buf msg, all, rec;
	struct compose_report r = report(1);
	struct mdkim_sign_opts o = { .domain = "mail.sender.example",
		                     .selector = "s1",
		                     .hc = MDKIM_RELAXED,
		                     .bc = MDKIM_RELAXED,
		                     .t = 1795924800 };
	buf_init(&msg, 1 << 20);
	buf_init(&all, 1 << 20);
	buf_init(&rec, sizeof record - 1);
	if (compose_report_message(&r, &msg, NULL) != 0 ||
	    mdkim_sign(k, &o, buf_span(&msg), &all, NULL) != 0 ||
	    buf_append_span(&all, buf_span(&msg)) != 0 || mdkim_key_dns_record(k, &rec, NULL) != 0)
		exit(1);
	memcpy(record, rec.data, rec.len + 1);
	struct mdkim_verify_opts vo = { .lookup = lookup, .now = -1 };
	double t0 = now_s(CLOCK_MONOTONIC), t1;
	long n = 0;
	do {
		struct mime_msg m;
		struct mdkim_verdict *v;
		size_t nv;
		if (mime_parse(&m, buf_span(&all), NULL, NULL) != 0 ||
		    mdkim_verify(&m, &vo, &v, &nv, NULL) != 0 || nv != 1 ||
		    v[0].result != MDKIM_PASS) {
			fprintf(stderr, "bench_mail: verify failed\n");
			exit(1);
		}
		free(v);
		mime_msg_clear(&m);
		n++;
		t1 = now_s(CLOCK_MONOTONIC);
	} while (t1 - t0 < 0.3);
	buf_clear(&msg);
	buf_clear(&all);
	buf_clear(&rec);
	return (double)n / (t1 - t0);
}

/* MIME parse + locate + decode of a report mail with a 1 MiB attachment, in MB/s. */
static double
run_parse(struct span raw)
{
	double t0 = now_s(CLOCK_MONOTONIC), t1;
	size_t bytes = 0;
	do {
		struct mime_msg m;
		struct mime_report *r;
		size_t n;
		if (mime_parse(&m, raw, NULL, NULL) != 0 ||
		    mime_find_reports(&m, 25u << 20, &r, &n, NULL) != 0) {
			fprintf(stderr, "bench_mail: parse failed\n");
			exit(1);
		}
		mime_reports_free(r, n);
		mime_msg_clear(&m);
		bytes += raw.len;
		t1 = now_s(CLOCK_MONOTONIC);
	} while (t1 - t0 < 0.3);
	return (double)bytes / 1e6 / (t1 - t0);
}

static void
median_line(const char *name, double *v, const char *unit)
{
	qsort(v, RUNS, sizeof v[0], cmp_double);
	printf("%s\t%.1f\t%s\t-\n", name, v[RUNS / 2], unit);
}

int
main(void)
{
	struct mdkim_key *rsa, *ed;
	for (size_t i = 0; i < sizeof attachment; i++)
		attachment[i] = (unsigned char)(i * 2654435761u >> 13);
	if (mdkim_key_generate(MDKIM_RSA_SHA256, 2048, &rsa, NULL) != 0 ||
	    mdkim_key_generate(MDKIM_ED25519_SHA256, 0, &ed, NULL) != 0)
		return 1;
	double rate[RUNS], cpu[RUNS], vr[RUNS];
	struct {
		const char *name;
		struct mdkim_key *k;
	} algs[] = { { "rsa2048", rsa }, { "ed25519", ed } };
	for (int a = 0; a < 2; a++) {
		char name[128];
		for (int i = 0; i < RUNS; i++) {
			rate[i] = run_compose_sign(algs[a].k, &cpu[i]);
			vr[i] = run_verify(algs[a].k);
		}
		snprintf(name, sizeof name, "mail compose+sign %s", algs[a].name);
		median_line(name, rate, "msg/s");
		snprintf(name, sizeof name, "mail compose+sign %s CPU", algs[a].name);
		median_line(name, cpu, "us/msg");
		snprintf(name, sizeof name, "mail parse+verify %s", algs[a].name);
		median_line(name, vr, "msg/s");
	}

	/* a typical report mail (4 KiB attachment): messages parsed + located per second */
	struct compose_report small = report(3);
	struct buf sm;
	buf_init(&sm, 1 << 20);
	if (compose_report_message(&small, &sm, NULL) != 0)
		return 1;
	for (int i = 0; i < RUNS; i++)
		rate[i] = run_parse(buf_span(&sm)) * 1e6 / (double)sm.len;
	median_line("mail MIME parse+locate+decode (report mail, 6 KB)", rate, "msg/s");
	buf_clear(&sm);

	/* a report mail with a 1 MiB attachment */
	static unsigned char big[1 << 20];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (unsigned char)(i * 2654435761u >> 11);
	struct compose_report r = report(7);
	r.gz = big;
	r.gz_len = sizeof big;
	struct buf msg;
	buf_init(&msg, 4u << 20);
	if (compose_report_message(&r, &msg, NULL) != 0)
		return 1;
	for (int i = 0; i < RUNS; i++)
		rate[i] = run_parse(buf_span(&msg));
	median_line("mail MIME parse+locate+decode (1 MiB base64 part)", rate, "MB/s");
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("mail bench peak RSS\t%ld\tKiB\t-\n", ru.ru_maxrss);
	buf_clear(&msg);
	mdkim_key_free(rsa);
	mdkim_key_free(ed);
	return 0;
}
