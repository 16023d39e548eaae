/*
 * tlsrpt_outbox.c - `tlsrpt outbox`: the generated reports waiting for or done with
 * delivery.
 *
 *   tlsrpt outbox list [--config FILE] [--store PATH] [--domain D] [--state S]
 *   tlsrpt outbox show [--config FILE] [--store PATH] ID
 *   tlsrpt outbox preview [--config FILE] [--store PATH] --domain D [--window current|UNIX]
 *   tlsrpt outbox purge [--config FILE] [--store PATH] --older-than-days N
 *   tlsrpt outbox retry [--config FILE] [--store PATH] ID
 *   tlsrpt outbox cancel [--config FILE] [--store PATH] ID
 *
 * list: a header and one tab-separated line per report:
 *   id  domain  period  window-start  part  state  deliveries  report-id
 * where state is ready or invalid and deliveries is "dest=state,..." (--state S: ready
 * or invalid matches the report, pending/sent/failed/given-up a delivery row).
 * show: "key: value" lines (id, report-id, filename, domain, period, window-start,
 * part, state, error, json-size, gzip-size, dropped-details, record, created), one
 * "delivery: DEST STATE attempts=N next-try=T [error=...]" line per destination, then
 * the JSON of the report on the last line.
 * purge: deletes the outbox reports created more than N days ago and the counters and
 * windows of reported windows that ended before then (retention); prints
 * "reports=N windows=N".
 * preview: builds, validates and prints (one JSON document per line) the reports of
 * the domain's window containing now (current) or the given time, without storing.
 * retry: every delivery row of report ID that is not sent becomes pending, due now
 * (one more attempt even after retry-until); cancel: every such row becomes given-up
 * ("cancelled by the operator").  Both print "changed=N".  Sent rows never change.
 * Exit 0 ok, 1 failure (also: no such report), 2 usage.  Single-threaded.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/tlsrpt.h"
#include "outbound/generate.h"
#include "report/gzip.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/str.h"

static const char usage_text[] =
        "usage: tlsrpt outbox list [--config FILE] [--store PATH] [--domain D] [--state S]\n"
        "       tlsrpt outbox show [--config FILE] [--store PATH] ID\n"
        "       tlsrpt outbox preview [--config FILE] [--store PATH] --domain D "
        "[--window current|UNIX]\n"
        "       tlsrpt outbox purge [--config FILE] [--store PATH] --older-than-days N\n"
        "       tlsrpt outbox retry|cancel [--config FILE] [--store PATH] ID\n";

static void
fmt_time(int64_t t, char *out)
{
	if (time_format_rfc3339(t, out) != 0)
		out[0] = '\0';
}

static int
print_list_row(void *ctx, const struct store_outbox_report *r)
{
	char start[TIME_RFC3339_LEN];

	(void)ctx;
	fmt_time(r->start, start);
	printf("%lld\t%s\t%s\t%s\t%u\t%s\t", (long long)r->id, r->domain,
	       window_period_name(r->period), start, r->part, store_report_state_name(r->state));
	for (size_t i = 0; i < r->n_deliveries; i++)
		printf("%s%s=%s", i ? "," : "", r->deliveries[i].dest,
		       store_delivery_state_name(r->deliveries[i].state));
	if (r->n_deliveries == 0)
		printf("-");
	printf("\t%s\n", r->report_id);
	return 0;
}

static int
print_show(void *ctx, const struct store_outbox_report *r)
{
	char t[TIME_RFC3339_LEN];
	struct buf json;
	struct err *e = ctx;
	int rc;

	printf("id: %lld\nreport-id: %s\nfilename: %s\ndomain: %s\nperiod: %s\n", (long long)r->id,
	       r->report_id, r->filename, r->domain, window_period_name(r->period));
	fmt_time(r->start, t);
	printf("window-start: %s\npart: %u\nstate: %s\n", t, r->part,
	       store_report_state_name(r->state));
	if (r->error)
		printf("error: %s\n", r->error);
	fmt_time(r->created, t);
	printf("json-size: %zu\ngzip-size: %zu\ndropped-details: %llu\nrecord: %s\ncreated: %s\n",
	       r->json_size, r->body_len, (unsigned long long)r->dropped, r->record, t);
	for (size_t i = 0; i < r->n_deliveries; i++) {
		const struct store_delivery *d = &r->deliveries[i];

		fmt_time(d->next_try, t);
		printf("delivery: %s %s attempts=%u next-try=%s", d->dest,
		       store_delivery_state_name(d->state), d->attempts, t);
		if (d->last_error)
			printf(" error=%s", d->last_error);
		printf("\n");
	}
	buf_init(&json, GZIP_DEFAULT_MAX_OUT * 41);
	rc = gzip_decompress((struct span){ (const char *)r->body, r->body_len },
	                     GZIP_DEFAULT_MAX_OUT * 40, &json, e);
	if (rc == 0)
		printf("%s\n", buf_cstr(&json));
	buf_clear(&json);
	return rc;
}

static int
parse_time(const char *s, int64_t *out)
{
	return str_to_i64(span_cstr(s), out) != 0 || *out < 0 ? -1 : 0;
}

int
cmd_outbox(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "domain", required_argument, NULL, 'd' },
		{ "state", required_argument, NULL, 'S' },
		{ "window", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ "older-than-days", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = DEFAULT_CONFIG, *path = NULL, *domain = NULL, *state = NULL;
	const char *window = "current", *sub, *older = NULL;
	struct store_outbox_filter f = { .report_state = -1, .delivery_state = -1 };
	struct store *s = NULL;
	struct err e = { 0 };
	int ch, rc = 0;

	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
			fputs(usage_text, stdout);
			return 0;
		}
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	sub = argv[1];
	optind = 1;
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "c:d:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 's':
			path = optarg;
			break;
		case 'd':
			domain = optarg;
			break;
		case 'S':
			state = optarg;
			break;
		case 'w':
			window = optarg;
			break;
		case 'o':
			older = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (strcmp(sub, "list") == 0) {
		if (optind < argc) {
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
		f.domain = domain;
		if (state && strcmp(state, "ready") == 0)
			f.report_state = STORE_REPORT_READY;
		else if (state && strcmp(state, "invalid") == 0)
			f.report_state = STORE_REPORT_INVALID;
		else if (state && (f.delivery_state = store_delivery_state_parse(state)) < 0) {
			fprintf(stderr,
			        "tlsrpt: outbox: --state: expected ready, invalid, pending, sent, "
			        "failed or given-up, got %s\n",
			        state);
			return EXIT_USAGE;
		}
		if (cli_open_store(config, "sqlite", path, STORE_AREA_OUTBOX, &s) != 0)
			return 1;
		printf("id\tdomain\tperiod\twindow-start\tpart\tstate\tdeliveries\treport-id\n");
		rc = s->ops->outbox_list(s, &f, print_list_row, NULL, &e);
	} else if (strcmp(sub, "show") == 0) {
		int64_t id;

		if (optind + 1 != argc || parse_time(argv[optind], &id) != 0) {
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
		if (cli_open_store(config, "sqlite", path, STORE_AREA_OUTBOX, &s) != 0)
			return 1;
		rc = s->ops->outbox_get(s, id, print_show, &e, &e);
	} else if (strcmp(sub, "retry") == 0 || strcmp(sub, "cancel") == 0) {
		bool retry = strcmp(sub, "retry") == 0;
		int64_t id;
		size_t changed = 0;

		if (optind + 1 != argc || parse_time(argv[optind], &id) != 0) {
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
		if (cli_open_store(config, "sqlite", path, STORE_AREA_DELIVERY, &s) != 0)
			return 1;
		rc = s->ops->outbox_reset(
		        s, id, retry ? STORE_DELIVERY_PENDING : STORE_DELIVERY_GIVEN_UP, 0,
		        retry ? NULL : "cancelled by the operator", &changed, &e);
		if (rc == 0)
			printf("changed=%zu\n", changed);
	} else if (strcmp(sub, "purge") == 0) {
		struct clock clk;
		int64_t days;
		uint64_t nr = 0, nw = 0;

		if (older == NULL || optind < argc || parse_time(older, &days) != 0 || days < 1 ||
		    days > 36500) {
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
		if (cli_open_store(config, "sqlite", path, STORE_AREA_OUTBOX, &s) != 0)
			return 1;
		clock_init_real(&clk);
		rc = s->ops->begin(s, &e);
		if (rc == 0)
			rc = s->ops->purge(s, clock_now(&clk) - days * 86400, &nr, &nw, &e);
		if (rc == 0)
			rc = s->ops->commit(s, &e);
		else
			s->ops->rollback(s);
		if (rc == 0)
			printf("reports=%llu windows=%llu\n", (unsigned long long)nr,
			       (unsigned long long)nw);
	} else if (strcmp(sub, "preview") == 0) {
		struct conf *conf = NULL;
		struct outbound_opts o = { 0 };
		struct clock clk;
		struct buf out;
		int64_t at;

		clock_init_real(&clk);
		at = clock_now(&clk);
		if (domain == NULL || optind < argc ||
		    (strcmp(window, "current") != 0 && parse_time(window, &at) != 0)) {
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
		if (cli_load_conf(config, &conf) != 0)
			return 1;
		if (cli_open_store(config, "sqlite", path, STORE_AREA_OUTBOX, &s) != 0) {
			conf_free(conf);
			return 1;
		}
		o.conf = conf;
		o.store = s;
		buf_init(&out, (size_t)1 << 31);
		rc = outbound_preview(&o, domain, at, &out, &e);
		if (rc == 0)
			fwrite(out.data, 1, out.len, stdout);
		buf_clear(&out);
		conf_free(conf);
	} else {
		fprintf(stderr, "tlsrpt: outbox: unknown subcommand %s\n", sub);
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	store_close(s);
	if (rc) {
		fprintf(stderr, "tlsrpt: outbox %s: %s\n", sub, e.msg);
		return 1;
	}
	return 0;
}
