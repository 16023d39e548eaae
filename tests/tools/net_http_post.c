/*
 * net_http_post.c - test driver for http_post(): POSTs a file and prints the result.
 *
 *   net_http_post --url URL [--content-type T] [--insecure] [--allow-http]
 *                 [--ca-file F] [--timeout-ms N] [--connect-timeout-ms N]
 *                 [--max-response N] [--body-out F] BODY-FILE
 *
 * Prints one line "rc=.. outcome=.. retry=.. status=.. timed_out=.. body_len=..
 * truncated=.." and then "error=<message>".  Exit status 0 when delivered, 1 when
 * not, 2 on usage errors.  Single-threaded.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_client.h"
#include "net/net_curl.h"
#include "util/file.h"
#include "util/buf.h"
#include "util/str.h"

static long
num(const char *s)
{
	int64_t v;

	if (str_to_i64(span_cstr(s), &v) || v < 0) {
		fprintf(stderr, "net_http_post: bad number %s\n", s);
		exit(2);
	}
	return (long)v;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "content-type", required_argument, NULL, 't' },
		{ "insecure", no_argument, NULL, 'k' },
		{ "allow-http", no_argument, NULL, 'H' },
		{ "ca-file", required_argument, NULL, 'c' },
		{ "timeout-ms", required_argument, NULL, 'T' },
		{ "connect-timeout-ms", required_argument, NULL, 'C' },
		{ "max-response", required_argument, NULL, 'm' },
		{ "body-out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct http_opts opts;
	struct http_result res;
	struct err e = { 0 };
	struct buf body;
	const char *url = NULL, *ctype = "application/tlsrpt+gzip", *body_out = NULL;
	int c, rc;

	http_opts_default(&opts);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			url = optarg;
			break;
		case 't':
			ctype = optarg;
			break;
		case 'k':
			opts.insecure = true;
			break;
		case 'H':
			opts.allow_http = true;
			break;
		case 'c':
			opts.ca_file = optarg;
			break;
		case 'T':
			opts.timeout_ms = num(optarg);
			break;
		case 'C':
			opts.connect_timeout_ms = num(optarg);
			break;
		case 'm':
			opts.max_response = (size_t)num(optarg);
			break;
		case 'o':
			body_out = optarg;
			break;
		default:
			return 2;
		}
	}
	if (!url || optind + 1 != argc) {
		fprintf(stderr, "usage: net_http_post --url URL [options] BODY-FILE\n");
		return 2;
	}
	buf_init(&body, 64u << 20);
	if (file_read(argv[optind], &body, NULL)) {
		fprintf(stderr, "net_http_post: cannot read %s\n", argv[optind]);
		buf_clear(&body);
		return 2;
	}
	if (net_global_init(&e)) {
		fprintf(stderr, "%s\n", e.msg);
		buf_clear(&body);
		return 2;
	}
	rc = http_post(&opts, url, ctype, buf_span(&body), &res, &e);
	printf("rc=%d outcome=%s retry=%d status=%ld timed_out=%d body_len=%zu truncated=%d\n", rc,
	       http_outcome_name(res.outcome), res.retry, res.status, res.timed_out, res.body_len,
	       res.body_truncated);
	printf("error=%s\n", rc ? e.msg : "");
	if (body_out) {
		FILE *f = fopen(body_out, "wb");
		if (f) {
			fwrite(res.body, 1, res.body_len, f);
			fclose(f);
		}
	}
	http_result_clear(&res);
	buf_clear(&body);
	net_global_cleanup();
	return rc == 0 ? 0 : 1;
}
