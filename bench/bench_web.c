/*
 * bench_web.c - dashboard benchmark (issue 9): page render times with 100,000 received
 * reports in a SQLite store.
 *
 *   bench_web [N]     N reports (default 100000)
 *
 * The store is generated once (10 policy domains, 25 reporters, one report per domain
 * and reporter and day over N / 250 days; sts policies in enforce or testing mode, a
 * tlsa policy for some domains, 0-3 failure details of several result types, MX hosts,
 * receiving and sending IPs, reasons) through ingest_report, as uploads are stored, and
 * kept as $B/bench/web-N.sqlite for later runs.  The pages are then fetched over real
 * HTTP from the web handler behind net/httpd on 127.0.0.1 (what the daemon serves), the
 * clock fixed at the day after the last report: the overview with its default 30 days
 * and with every day, and a domain page; each figure is the median of 9 renders after
 * one warm-up.  Prints `name<TAB>value<TAB>unit<TAB>target` lines (bench/run).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "inbound/ingest.h"
#include "net/httpd.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/str.h"
#include "web/web.h"

#define RENDERS 9
#define FIRST_DAY 20089 /* 2025-01-01 */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const char *const reporters[25][2] = {
	{ "Google Inc.", "google.com" },
	{ "Microsoft Corporation", "microsoft.com" },
	{ "Yahoo", "yahoo.com" },
	{ "Comcast", "comcast.net" },
	{ "Mail.ru", "mail.ru" },
	{ "GMX", "gmx.net" },
	{ "WEB.DE", "web.de" },
	{ "Fastmail", "fastmail.com" },
	{ "Proton", "proton.me" },
	{ "Zoho", "zoho.com" },
	{ "Yandex", "yandex.ru" },
	{ "Orange", "orange.fr" },
	{ "Free", "free.fr" },
	{ "Seznam", "seznam.cz" },
	{ "Mailbox.org", "mailbox.org" },
	{ "Posteo", "posteo.de" },
	{ "Tutanota", "tuta.com" },
	{ "iCloud", "icloud.com" },
	{ "AOL", "aol.com" },
	{ "Naver", "naver.com" },
	{ "QQ Mail", "qq.com" },
	{ "Rackspace", "emailsrvr.com" },
	{ "Mimecast", "mimecast.com" },
	{ "Proofpoint", "pphosted.com" },
	{ "Barracuda", "barracudanetworks.com" },
};

static const char *const result_types[] = {
	"certificate-expired",     "certificate-host-mismatch", "validation-failure",
	"starttls-not-supported",  "sts-policy-fetch-error",    "tlsa-invalid",
	"certificate-not-trusted",
};

static void
report_json(struct buf *b, int64_t day, int dom, int rep)
{
	char start[TIME_RFC3339_LEN], end[TIME_RFC3339_LEN];
	bool testing = dom % 3 == 0, tlsa = dom % 4 == 1;
	unsigned nfail = (unsigned)(next() % 100 < (uint64_t)(5 + dom * 3) ? 1 + next() % 3 : 0);
	uint64_t succ = 50 + next() % 5000, failed = 0;

	time_format_rfc3339(day * 86400, start);
	time_format_rfc3339(day * 86400 + 86399, end);
	buf_reset(b);
	buf_printf(
	        b,
	        "{\"organization-name\":\"%s\",\"date-range\":{\"start-datetime\":\"%s\","
	        "\"end-datetime\":\"%s\"},\"contact-info\":\"tlsrpt@%s\",\"report-id\":"
	        "\"%lld.%d@%s\",\"policies\":[{\"policy\":{\"policy-type\":\"sts\","
	        "\"policy-string\":[\"version: STSv1\",\"mode: %s\",\"mx: mx1.domain%d.example\","
	        "\"mx: mx2.domain%d.example\",\"max_age: 604800\"],\"policy-domain\":"
	        "\"domain%d.example\",\"mx-host\":[\"mx1.domain%d.example\",\"mx2.domain%d."
	        "example\"]},\"failure-details\":[",
	        reporters[rep][0], start, end, reporters[rep][1], (long long)day, dom,
	        reporters[rep][1], testing ? "testing" : "enforce", dom, dom, dom, dom, dom);
	for (unsigned i = 0; i < nfail; i++) {
		uint64_t n = 1 + next() % 40;

		failed += n;
		buf_printf(b,
		           "%s{\"result-type\":\"%s\",\"sending-mta-ip\":\"192.0.2.%d\","
		           "\"receiving-mx-hostname\":\"mx%d.domain%d.example\",\"receiving-ip\":"
		           "\"198.51.100.%d\",\"failed-session-count\":%llu%s}",
		           i ? "," : "", result_types[next() % 7], (int)(next() % 250) + 1,
		           (int)(next() % 2) + 1, dom, dom * 10 + (int)(next() % 3),
		           (unsigned long long)n,
		           next() % 2 ? ",\"additional-information\":\"certificate chain issue\""
		                      : "");
	}
	buf_printf(b,
	           "],\"summary\":{\"total-successful-session-count\":%llu,"
	           "\"total-failure-session-count\":%llu}}",
	           (unsigned long long)succ, (unsigned long long)failed);
	if (tlsa)
		buf_printf(b,
		           ",{\"policy\":{\"policy-type\":\"tlsa\",\"policy-string\":[\"3 1 1 "
		           "abcdef\"],\"policy-domain\":\"domain%d.example\",\"mx-host\":"
		           "[\"mx1.domain%d.example\"]},\"summary\":{\"total-successful-session-"
		           "count\":"
		           "%llu,\"total-failure-session-count\":0}}",
		           dom, dom, (unsigned long long)(succ / 2));
	buf_append_str(b, "]}");
}

static int
fill(const char *path, int n, int64_t *last_day)
{
	struct store *s;
	struct err e = { 0 };
	struct ingest in = { 0 };
	struct ingest_result res;
	struct buf b;
	int days = (n + 249) / 250, done = 0;
	struct stat st;
	bool exists = stat(path, &st) == 0;

	*last_day = FIRST_DAY + days - 1;
	if (store_open_sqlite(path, &s, &e) != 0) {
		fprintf(stderr, "bench_web: %s\n", e.msg);
		return -1;
	}
	if (exists) {
		store_close(s);
		return 0;
	}
	double t0 = now_ms();

	in.store = s;
	buf_init(&b, 1 << 20);
	for (int d = 0; d < days && done < n; d++)
		for (int dom = 0; dom < 10 && done < n; dom++)
			for (int rep = 0; rep < 25 && done < n; rep++, done++) {
				report_json(&b, FIRST_DAY + d, dom, rep);
				if (ingest_report(&in, buf_span(&b), INGEST_HTTP, &res, &e) != 0) {
					fprintf(stderr, "bench_web: ingest: %s\n", e.msg);
					buf_clear(&b);
					store_close(s);
					return -1;
				}
			}
	buf_clear(&b);
	store_close(s);
	fprintf(stderr, "bench_web: stored %d reports in %.1f s\n", n, (now_ms() - t0) / 1e3);
	return 0;
}

/* GET path over HTTP; returns the status, body length in *len. */
static int
get(uint16_t port, const char *path, size_t *len)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_STREAM, 0), status = 0;
	char req[512], chunk[65536];
	struct buf all;
	ssize_t n;

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(s);
		return -1;
	}
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	             path);
	if (write(s, req, (size_t)n) != n) {
		close(s);
		return -1;
	}
	buf_init(&all, 64 << 20);
	while ((n = read(s, chunk, sizeof(chunk))) > 0)
		buf_append(&all, chunk, (size_t)n);
	close(s);
	if (all.data)
		sscanf(all.data, "HTTP/1.1 %d", &status);
	*len = all.len;
	buf_clear(&all);
	return status;
}

static double
measure(uint16_t port, const char *path)
{
	double t[RENDERS];
	size_t len = 0;

	if (get(port, path, &len) != 200) {
		fprintf(stderr, "bench_web: GET %s failed\n", path);
		return -1;
	}
	for (int i = 0; i < RENDERS; i++) {
		double t0 = now_ms();

		if (get(port, path, &len) != 200)
			return -1;
		t[i] = now_ms() - t0;
	}
	qsort(t, RENDERS, sizeof(t[0]), cmp_double);
	fprintf(stderr, "bench_web: GET %s: %zu bytes, median %.1f ms (min %.1f, max %.1f)\n", path,
	        len, t[RENDERS / 2], t[0], t[RENDERS - 1]);
	return t[RENDERS / 2];
}

int
main(int argc, char **argv)
{
	uint64_t nn = 100000;
	const char *bdir = getenv("B") ? getenv("B") : "build";
	char path[512], all_path[64];
	int64_t last_day;
	struct store *s;
	struct web *w;
	struct httpd *h;
	struct err e = { 0 };
	struct clock clk;

	if (argc > 1 && (str_to_u64(span_cstr(argv[1]), &nn) != 0 || nn == 0 || nn > 10000000)) {
		fprintf(stderr, "usage: bench_web [N]\n");
		return 2;
	}
	int n = (int)nn;

	snprintf(path, sizeof(path), "%s/bench/web-%d.sqlite", bdir, n);
	if (fill(path, n, &last_day) != 0)
		return 1;
	if (store_open_sqlite(path, &s, &e) != 0) {
		fprintf(stderr, "bench_web: %s\n", e.msg);
		return 1;
	}
	clock_init_fixed(&clk, (last_day + 1) * 86400 + 3600);
	struct web_opts o = { .store = s, .loopback = true, .clock = &clk };

	if (web_new(&o, &w, &e) != 0)
		return 1;
	struct httpd_opts ho = {
		.listen = "127.0.0.1:0",
		.max_response = 32 << 20,
		.handler = web_handle,
		.ctx = w,
	};
	if (httpd_start(&ho, &h, &e) != 0) {
		fprintf(stderr, "bench_web: %s\n", e.msg);
		return 1;
	}
	uint16_t port = httpd_port(h);
	double main_ms = measure(port, "/");
	snprintf(all_path, sizeof(all_path), "/?days=%lld", (long long)(last_day - FIRST_DAY + 2));
	double all_ms = measure(port, all_path);
	double dom_ms = measure(port, "/domain?d=domain3.example");
	double rep_ms = measure(port, "/reporters");

	printf("web: main page, %d reports stored (30 days)\t%.1f\tms\t<200 ms\n", n, main_ms);
	printf("web: main page, %d reports stored (all days)\t%.1f\tms\t-\n", n, all_ms);
	printf("web: domain page, %d reports stored (30 days)\t%.1f\tms\t<200 ms\n", n, dom_ms);
	printf("web: reporters page, %d reports stored\t%.1f\tms\t-\n", n, rep_ms);
	httpd_stop(h);
	web_free(w);
	store_close(s);
	return main_ms < 0 || all_ms < 0 || dom_ms < 0 ? 1 : 0;
}
