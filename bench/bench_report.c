/*
 * bench_report.c - throughput of the report reader and writer (`make bench`).
 *
 * Reader: MB/s of JSON through report_read() on one large realistic report (2000 sts
 * and tlsa policies, failure details on a third of them, about 2.5 MB compact), median
 * of 5 runs.  Writer: reports/s for a typical daily report (one sts policy, 5 failure
 * details) written to a buffer, and to gzip; MB/s writing the large report.  Prints
 * name<TAB>value<TAB>unit<TAB>target lines (see bench/run).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "report/gzip.h"
#include "report/report.h"
#include "util/clock.h"

#define DAY 1795824000
#define RUNS 5

static const enum report_result_type types[] = {
	REPORT_RESULT_CERTIFICATE_EXPIRED, REPORT_RESULT_STARTTLS_NOT_SUPPORTED,
	REPORT_RESULT_VALIDATION_FAILURE,  REPORT_RESULT_CERTIFICATE_HOST_MISMATCH,
	REPORT_RESULT_TLSA_INVALID,
};

static struct report *
make_report(size_t n_policies, size_t failures_per_third)
{
	struct report *r = report_new("Example Mail Provider Inc.", DAY, DAY + 86399,
	                              "smtp-tls-reporting@mail.example.net",
	                              "20261128T000000Z.example.com.1@mail.example.net");
	char s[256], t[256];

	for (size_t i = 0; i < n_policies; i++) {
		snprintf(s, sizeof(s), "customer-%zu.example.com", i);
		bool tlsa = i % 4 == 3;
		struct report_policy *p = report_add_policy(
		        r, tlsa ? REPORT_POLICY_TLSA : REPORT_POLICY_STS, NULL, s, NULL);
		if (tlsa) {
			report_policy_add_string(
			        p, "3 1 1 6007EEE553E85D8DF007A845D19EC343283D4E416E9A3"
			           "3F9EF3040C8B7C285BC");
			report_policy_add_string(
			        p, "3 1 1 837C773D54C2E2BD71871A3FC352BE8214D5646CBAE5E"
			           "3091401A7274717998B");
		} else {
			report_policy_add_string(p, "version: STSv1");
			report_policy_add_string(p, "mode: enforce");
			snprintf(t, sizeof(t), "mx: *.mx.customer-%zu.example.com", i);
			report_policy_add_string(p, t);
			report_policy_add_string(p, "max_age: 604800");
			snprintf(t, sizeof(t), "*.mx.customer-%zu.example.com", i);
			report_policy_add_mx_host(p, t, NULL);
		}
		p->successful = 1000 + i * 37;
		if (i % 3 != 0)
			continue;
		for (size_t k = 0; k < failures_per_third; k++) {
			char ip[64], mx[128], rip[64];
			snprintf(ip, sizeof(ip), "2001:db8:%zx::%zx", i, k + 1);
			snprintf(mx, sizeof(mx), "mx%zu.mx.customer-%zu.example.com", k, i);
			snprintf(rip, sizeof(rip), "198.51.100.%zu", (i + k) % 250);
			struct report_failure f = {
				.result_type = types[k % 5],
				.sending_mta_ip = ip,
				.receiving_mx_hostname = mx,
				.receiving_ip = rip,
				.failed_session_count = 1 + k * 3,
				.failure_reason_code = k % 2 ? "X509_V_ERR_CERT_HAS_EXPIRED" : NULL,
			};
			report_policy_add_failure(p, &f);
			p->failed += f.failed_session_count;
		}
	}
	return r;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static double
seconds(void)
{
	return (double)clock_mono_ns() / 1e9;
}

int
main(void)
{
	struct err e = { 0 };
	struct buf json;
	double v[RUNS];

	/* reader */
	struct report *big = make_report(2000, 6);
	buf_init(&json, 64 << 20);
	if (report_write_json(big, &json, &e) != 0) {
		fprintf(stderr, "bench_report: %s\n", e.msg);
		return 1;
	}
	const char *dump = getenv("BENCH_REPORT_DUMP");
	if (dump != NULL) {
		FILE *f = fopen(dump, "wb");
		if (f != NULL) {
			fwrite(json.data, 1, json.len, f);
			fclose(f);
		}
	}
	for (int k = 0; k < RUNS; k++) {
		int reps = 20;
		double t0 = seconds();
		for (int i = 0; i < reps; i++) {
			struct report *r = NULL;
			if (report_read(buf_span(&json), NULL, &r, &e) != 0) {
				fprintf(stderr, "bench_report: read: %s\n", e.msg);
				return 1;
			}
			report_free(r);
		}
		v[k] = (double)json.len * reps / (seconds() - t0) / 1e6;
	}
	printf("report reader (%.1f MB report, median of %d)\t%.1f\tMB/s\t>= 100\n",
	       (double)json.len / 1e6, RUNS, median(v, RUNS));

	/* writer, large report */
	for (int k = 0; k < RUNS; k++) {
		int reps = 50;
		double t0 = seconds();
		for (int i = 0; i < reps; i++) {
			buf_reset(&json);
			report_write_json(big, &json, &e);
		}
		v[k] = (double)json.len * reps / (seconds() - t0) / 1e6;
	}
	printf("report writer (%.1f MB report, median of %d)\t%.1f\tMB/s\t-\n",
	       (double)json.len / 1e6, RUNS, median(v, RUNS));

	/* writer, typical daily report */
	struct report *daily = make_report(1, 5);
	struct buf out;
	buf_init(&out, 1 << 20);
	for (int k = 0; k < RUNS; k++) {
		int reps = 200000;
		double t0 = seconds();
		for (int i = 0; i < reps; i++) {
			buf_reset(&out);
			report_write_json(daily, &out, &e);
		}
		v[k] = reps / (seconds() - t0);
	}
	printf("report writer (daily report, %zu bytes JSON)\t%.0f\treports/s\t-\n", out.len,
	       median(v, RUNS));
	for (int k = 0; k < RUNS; k++) {
		int reps = 5000;
		double t0 = seconds();
		for (int i = 0; i < reps; i++) {
			buf_reset(&out);
			struct gzip_writer *gz = gzip_writer_new(&out, 6);
			report_write_json_gzip(daily, gz, &e);
			gzip_writer_finish(gz, &e);
			gzip_writer_free(gz);
		}
		v[k] = reps / (seconds() - t0);
	}
	printf("report writer + gzip (daily report, %zu bytes gzip)\t%.0f\treports/s\t-\n", out.len,
	       median(v, RUNS));
	buf_clear(&out);
	buf_clear(&json);
	report_free(big);
	report_free(daily);
	{
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		printf("report bench peak RSS\t%.1f\tMB\t-\n", (double)ru.ru_maxrss / 1024.0);
	}
	return 0;
}
