/*
 * tlsrpt_received.c - `tlsrpt received`: the reports other domains sent about ours
 * (issue 8).
 *
 *   tlsrpt received list [filters] [--json|--csv]
 *   tlsrpt received show ID [--json]
 *   tlsrpt received summary [filters] --by day|reporter|mx|result-type|sending-ip|policy
 *                           [--json|--csv]
 *   tlsrpt received purge [--older-than DAYS]
 * filters: --domain D --reporter R --since DATE --until DATE --include-unverified
 * (DATE: YYYY-MM-DD or an RFC 3339 date-time; --until is exclusive).  Store: --config
 * FILE or --store PATH.  Tables are aligned with thousands separators; --json and
 * --csv give machine output.  Unverified reports (no valid aligned DKIM signature)
 * are left out unless --include-unverified.
 * Threading: single-threaded.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/tlsrpt.h"
#include "inbound/analysis.h"
#include "report/gzip.h"
#include "report/report.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/str.h"
#include "util/xalloc.h"

enum out_fmt { OUT_TABLE = 0, OUT_JSON, OUT_CSV };

static const char usage_text[] =
        "usage: tlsrpt received list [FILTERS] [--json|--csv]\n"
        "       tlsrpt received show ID [--json]\n"
        "       tlsrpt received summary [FILTERS] --by "
        "day|reporter|mx|result-type|sending-ip|policy [--json|--csv]\n"
        "       tlsrpt received purge --older-than DAYS\n"
        "FILTERS: --domain D --reporter R --since DATE --until DATE --include-unverified\n"
        "store: --config FILE | --store PATH\n";

/* "1,234,567" */
static void
fmt_count(uint64_t v, char out[32])
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v), o = 0;

	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = tmp[i];
	}
	out[o] = '\0';
}

static void
json_string(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c == '\n')
			buf_append_str(b, "\\n");
		else if (c < 0x20)
			buf_printf(b, "\\u%04x", c);
		else
			buf_putc(b, (char)c);
	}
	buf_putc(b, '"');
}

static void
csv_field(const char *s, bool last)
{
	bool quote = s && strpbrk(s, ",\"\n\r") != NULL;

	if (quote) {
		putchar('"');
		for (; *s; s++) {
			if (*s == '"')
				putchar('"');
			putchar(*s);
		}
		putchar('"');
	} else if (s) {
		fputs(s, stdout);
	}
	putchar(last ? '\n' : ',');
}

static int
parse_date(const char *s, int64_t *t)
{
	struct time_parsed tp;
	int64_t y;
	unsigned m, d;
	char extra;

	if (time_parse_rfc3339(span_cstr(s), TIME_PARSE_ALLOW_NO_TZ, &tp) == 0) {
		*t = tp.t;
		return 0;
	}
	if (strlen(s) == 10 && sscanf(s, "%4lld-%2u-%2u%c", (long long *)&y, &m, &d, &extra) == 3 &&
	    m >= 1 && m <= 12 && d >= 1 && d <= 31) {
		*t = time_days_from_civil(y, m, d) * 86400;
		return 0;
	}
	return -1;
}

struct opts {
	struct store_received_filter f;
	enum out_fmt fmt;
	const char *config, *path;
	enum analysis_by by;
	bool have_by;
	int64_t older_than_days;
};

/* Parses the options shared by the subcommands; returns optind or -1. */
static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "domain", required_argument, NULL, 'd' },
		{ "reporter", required_argument, NULL, 'r' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'u' },
		{ "by", required_argument, NULL, 'b' },
		{ "include-unverified", no_argument, NULL, 'I' },
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'C' },
		{ "older-than", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:s:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 's':
			o->path = optarg;
			break;
		case 'd':
			str_lower(optarg, strlen(optarg));
			o->f.domain = optarg;
			break;
		case 'r':
			o->f.reporter = optarg;
			break;
		case 'S':
		case 'u':
			if (parse_date(optarg, ch == 'S' ? &o->f.since : &o->f.until) != 0) {
				fprintf(stderr, "tlsrpt: received: %s: not a date (YYYY-MM-DD)\n",
				        optarg);
				return -1;
			}
			break;
		case 'b':
			if (analysis_by_parse(optarg, &o->by) != 0) {
				fprintf(stderr,
				        "tlsrpt: received: --by %s: expected day, reporter, mx, "
				        "result-type, sending-ip or policy\n",
				        optarg);
				return -1;
			}
			o->have_by = true;
			break;
		case 'I':
			o->f.include_unverified = true;
			break;
		case 'j':
			o->fmt = OUT_JSON;
			break;
		case 'C':
			o->fmt = OUT_CSV;
			break;
		case 'o':
			if (str_to_i64(span_cstr(optarg), &o->older_than_days) != 0 ||
			    o->older_than_days < 0) {
				fprintf(stderr,
				        "tlsrpt: received: --older-than %s: expected days\n",
				        optarg);
				return -1;
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			fputs(usage_text, stderr);
			return -1;
		}
	}
	return optind;
}

/* ------------------------------------------------------------------ list */

struct list_item {
	int64_t id, start;
	char *org, *submitter, *report_id, *dkim, *channels;
	bool verified;
	unsigned sightings;
	uint64_t success, failure;
};

struct list_ctx {
	struct list_item *v;
	size_t n, cap;
};

static int
list_row(void *ctx, const struct store_received_row *r)
{
	struct list_ctx *l = ctx;

	if (r->policy_type == NULL) {
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 32;
			l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
		}
		l->v[l->n++] = (struct list_item){
			.id = r->id,
			.start = r->start,
			.org = xstrdup(r->organization ? r->organization : ""),
			.submitter = xstrdup(r->submitter),
			.report_id = xstrdup(r->report_id),
			.dkim = xstrdup(r->dkim),
			.channels = xstrdup(r->channels ? r->channels : r->channel),
			.verified = r->verified,
			.sightings = r->sightings,
		};
	} else if (r->result_type == NULL && l->n) {
		l->v[l->n - 1].success += r->success;
		l->v[l->n - 1].failure += r->failure;
	}
	return 0;
}

static void
print_list(const struct list_ctx *l, enum out_fmt fmt)
{
	struct buf b;
	char start[TIME_RFC3339_LEN];
	int w_org = 8, w_sub = 9, w_rid = 9;

	buf_init(&b, (size_t)1 << 30);
	if (fmt == OUT_JSON)
		buf_putc(&b, '[');
	if (fmt == OUT_CSV)
		fputs("id,start,reporter,submitter,report_id,successes,failures,dkim,verified,"
		      "channels,sightings\n",
		      stdout);
	for (size_t i = 0; i < l->n; i++) {
		int n;

		if ((n = (int)strlen(l->v[i].org)) > w_org)
			w_org = n;
		if ((n = (int)strlen(l->v[i].submitter)) > w_sub)
			w_sub = n;
		if ((n = (int)strlen(l->v[i].report_id)) > w_rid)
			w_rid = n;
	}
	if (fmt == OUT_TABLE)
		printf("%4s  %-20s  %-*s  %-*s  %-*s  %11s  %11s  %-10s  %s\n", "ID", "START",
		       w_org, "REPORTER", w_sub, "SUBMITTER", w_rid, "REPORT-ID", "SUCCESSES",
		       "FAILURES", "DKIM", "SEEN");
	for (size_t i = 0; i < l->n; i++) {
		const struct list_item *it = &l->v[i];
		char s[32], f[32], id[32];

		if (time_format_rfc3339(it->start, start) != 0)
			start[0] = '\0';
		if (fmt == OUT_JSON) {
			buf_printf(&b, "%s{\"id\":%lld,\"start\":", i ? "," : "",
			           (long long)it->id);
			json_string(&b, start);
			buf_append_str(&b, ",\"reporter\":");
			json_string(&b, it->org);
			buf_append_str(&b, ",\"submitter\":");
			json_string(&b, it->submitter);
			buf_append_str(&b, ",\"report_id\":");
			json_string(&b, it->report_id);
			buf_printf(&b, ",\"successes\":%llu,\"failures\":%llu,\"dkim\":",
			           (unsigned long long)it->success,
			           (unsigned long long)it->failure);
			json_string(&b, it->dkim);
			buf_printf(&b, ",\"verified\":%s,\"channels\":",
			           it->verified ? "true" : "false");
			json_string(&b, it->channels);
			buf_printf(&b, ",\"sightings\":%u}", it->sightings);
		} else if (fmt == OUT_CSV) {
			snprintf(id, sizeof(id), "%lld", (long long)it->id);
			csv_field(id, false);
			csv_field(start, false);
			csv_field(it->org, false);
			csv_field(it->submitter, false);
			csv_field(it->report_id, false);
			printf("%llu,%llu,", (unsigned long long)it->success,
			       (unsigned long long)it->failure);
			csv_field(it->dkim, false);
			csv_field(it->verified ? "yes" : "no", false);
			csv_field(it->channels, false);
			printf("%u\n", it->sightings);
		} else {
			fmt_count(it->success, s);
			fmt_count(it->failure, f);
			printf("%4lld  %-20s  %-*s  %-*s  %-*s  %11s  %11s  %-10s  %u (%s)\n",
			       (long long)it->id, start, w_org, it->org, w_sub, it->submitter,
			       w_rid, it->report_id, s, f, it->dkim, it->sightings, it->channels);
		}
	}
	if (fmt == OUT_JSON) {
		buf_append_str(&b, "]\n");
		fputs(buf_cstr(&b), stdout);
	}
	buf_clear(&b);
}

static void
list_free(struct list_ctx *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].org);
		free(l->v[i].submitter);
		free(l->v[i].report_id);
		free(l->v[i].dkim);
		free(l->v[i].channels);
	}
	free(l->v);
}

/* ------------------------------------------------------------------ show */

struct show_ctx {
	struct store_received_row r;
	char *strs[8];
	bool found;
};

static int
show_row(void *ctx, const struct store_received_row *r)
{
	struct show_ctx *c = ctx;

	if (r->policy_type != NULL)
		return 0;
	c->r = *r;
	c->strs[0] = xstrdup(r->submitter);
	c->strs[1] = xstrdup(r->report_id);
	c->strs[2] = xstrdup(r->organization ? r->organization : "");
	c->strs[3] = xstrdup(r->contact_info ? r->contact_info : "");
	c->strs[4] = xstrdup(r->channel);
	c->strs[5] = xstrdup(r->dkim);
	c->strs[6] = xstrdup(r->dkim_detail ? r->dkim_detail : "");
	c->strs[7] = xstrdup(r->channels ? r->channels : r->channel);
	c->found = true;
	return 1;
}

static int
do_show(struct store *s, struct opts *o, const char *idtext)
{
	struct show_ctx c = { 0 };
	struct err e = { 0 };
	struct buf gz, json, q;
	char t1[TIME_RFC3339_LEN], t2[TIME_RFC3339_LEN], t3[TIME_RFC3339_LEN];
	int rc;

	if (str_to_i64(span_cstr(idtext), &o->f.id) != 0 || o->f.id <= 0) {
		fprintf(stderr, "tlsrpt: received show: %s: not a report id\n", idtext);
		return EXIT_USAGE;
	}
	o->f.include_unverified = true;
	o->f.reports_only = true;
	rc = s->ops->received_walk(s, &o->f, show_row, &c, &e);
	if (rc == 0 && !c.found) {
		fprintf(stderr, "tlsrpt: received show: no received report with id %s\n", idtext);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "tlsrpt: received show: %s\n", e.msg);
		return 1;
	}
	buf_init(&gz, (size_t)1 << 30);
	buf_init(&json, GZIP_DEFAULT_MAX_OUT);
	buf_init(&q, 4096);
	rc = s->ops->received_raw(s, o->f.id, &gz, &e);
	if (rc == 0)
		rc = gzip_decompress(buf_span(&gz), GZIP_DEFAULT_MAX_OUT, &json, &e);
	if (rc == 0) {
		report_quirks_format(c.r.quirks, ",", &q);
		if (time_format_rfc3339(c.r.start, t1) || time_format_rfc3339(c.r.end, t2) ||
		    time_format_rfc3339(c.r.received_at, t3))
			t1[0] = t2[0] = t3[0] = '\0';
		if (o->fmt == OUT_JSON) {
			struct buf b;

			buf_init(&b, (size_t)1 << 30);
			buf_printf(&b, "{\"id\":%lld,\"submitter\":", (long long)c.r.id);
			json_string(&b, c.strs[0]);
			buf_append_str(&b, ",\"report_id\":");
			json_string(&b, c.strs[1]);
			buf_append_str(&b, ",\"channel\":");
			json_string(&b, c.strs[4]);
			buf_append_str(&b, ",\"channels\":");
			json_string(&b, c.strs[7]);
			buf_printf(&b, ",\"sightings\":%u,\"received\":", c.r.sightings);
			json_string(&b, t3);
			buf_append_str(&b, ",\"dkim\":");
			json_string(&b, c.strs[5]);
			buf_append_str(&b, ",\"dkim_detail\":");
			json_string(&b, c.strs[6]);
			buf_printf(&b,
			           ",\"verified\":%s,\"quirks\":", c.r.verified ? "true" : "false");
			json_string(&b, buf_cstr(&q));
			buf_append_str(&b, ",\"report\":");
			buf_append_span(&b, buf_span(&json));
			buf_append_str(&b, "}\n");
			fputs(buf_cstr(&b), stdout);
			buf_clear(&b);
		} else {
			printf("id:           %lld\n", (long long)c.r.id);
			printf("reporter:     %s\n", c.strs[2]);
			printf("contact-info: %s\n", c.strs[3]);
			printf("submitter:    %s\n", c.strs[0]);
			printf("report-id:    %s\n", c.strs[1]);
			printf("date-range:   %s .. %s\n", t1, t2);
			printf("received:     %s via %s\n", t3, c.strs[4]);
			printf("copies:       %u (%s)\n", c.r.sightings, c.strs[7]);
			printf("dkim:         %s%s%s%s\n", c.strs[5], c.strs[6][0] ? " (" : "",
			       c.strs[6], c.strs[6][0] ? ")" : "");
			printf("verified:     %s\n", c.r.verified ? "yes" : "no");
			printf("quirks:       %s\n", q.len ? buf_cstr(&q) : "none");
			printf("\n");
			fwrite(json.data, 1, json.len, stdout);
			if (json.len == 0 || json.data[json.len - 1] != '\n')
				putchar('\n');
		}
	} else {
		fprintf(stderr, "tlsrpt: received show: %s\n", e.msg);
	}
	for (int i = 0; i < 8; i++)
		free(c.strs[i]);
	buf_clear(&gz);
	buf_clear(&json);
	buf_clear(&q);
	return rc ? 1 : 0;
}

/* ------------------------------------------------------------------ summary */

static void
reasons_text(const struct analysis_group *g, struct buf *b)
{
	buf_reset(b);
	for (size_t i = 0; i < g->n_reasons && i < 3; i++) {
		char c[32];

		fmt_count(g->reasons[i].count, c);
		buf_printf(b, "%s%s (%s)", i ? ", " : "", g->reasons[i].name, c);
	}
}

static void
print_summary(const struct analysis *a, enum out_fmt fmt)
{
	struct buf b, r;
	int wk = (int)strlen(analysis_by_name(a->by));

	buf_init(&b, (size_t)1 << 30);
	buf_init(&r, 1 << 20);
	for (size_t i = 0; i < a->n; i++)
		if ((int)strlen(a->groups[i].key) > wk)
			wk = (int)strlen(a->groups[i].key);
	if (wk < 5)
		wk = 5;
	if (fmt == OUT_JSON) {
		buf_append_str(&b, "{\"by\":");
		json_string(&b, analysis_by_name(a->by));
		buf_printf(&b, ",\"reports\":%zu,\"groups\":[", a->reports);
	} else if (fmt == OUT_CSV) {
		printf("%s,successes,failures,failure_rate,top_reasons\n", analysis_by_name(a->by));
	} else {
		char up[32];

		str_copy(up, sizeof(up), analysis_by_name(a->by));
		for (char *p = up; *p; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		printf("%-*s  %15s  %15s  %8s  %s\n", wk, up, "SUCCESSES", "FAILURES", "RATE",
		       "TOP REASONS");
	}
	for (size_t i = 0; i < a->n; i++) {
		const struct analysis_group *g = &a->groups[i];
		double rate = analysis_rate(g->success, g->failure);
		char s[32], f[32], ratet[32];

		if (fmt == OUT_JSON) {
			buf_append_str(&b, i ? ",{\"key\":" : "{\"key\":");
			json_string(&b, g->key);
			buf_printf(&b,
			           ",\"successes\":%llu,\"failures\":%llu,\"failure_rate\":%.6f,"
			           "\"reasons\":[",
			           (unsigned long long)g->success, (unsigned long long)g->failure,
			           rate);
			for (size_t j = 0; j < g->n_reasons; j++) {
				buf_append_str(&b, j ? ",{\"result_type\":" : "{\"result_type\":");
				json_string(&b, g->reasons[j].name);
				buf_printf(&b, ",\"count\":%llu}",
				           (unsigned long long)g->reasons[j].count);
			}
			buf_append_str(&b, "]}");
			continue;
		}
		reasons_text(g, &r);
		snprintf(ratet, sizeof(ratet), "%.2f%%", rate * 100.0);
		if (fmt == OUT_CSV) {
			csv_field(g->key, false);
			printf("%llu,%llu,%.6f,", (unsigned long long)g->success,
			       (unsigned long long)g->failure, rate);
			csv_field(buf_cstr(&r), true);
		} else {
			fmt_count(g->success, s);
			fmt_count(g->failure, f);
			printf("%-*s  %15s  %15s  %8s  %s\n", wk, g->key, s, f, ratet,
			       buf_cstr(&r));
		}
	}
	if (fmt == OUT_JSON) {
		buf_printf(&b,
		           "],\"total\":{\"successes\":%llu,\"failures\":%llu,\"failure_rate\":%."
		           "6f}}\n",
		           (unsigned long long)a->success, (unsigned long long)a->failure,
		           analysis_rate(a->success, a->failure));
		fputs(buf_cstr(&b), stdout);
	} else if (fmt == OUT_TABLE) {
		char s[32], f[32], ratet[32];

		fmt_count(a->success, s);
		fmt_count(a->failure, f);
		snprintf(ratet, sizeof(ratet), "%.2f%%",
		         analysis_rate(a->success, a->failure) * 100);
		printf("%-*s  %15s  %15s  %8s  %zu report%s\n", wk, "TOTAL", s, f, ratet,
		       a->reports, a->reports == 1 ? "" : "s");
	}
	buf_clear(&b);
	buf_clear(&r);
}

int
cmd_received(int argc, char **argv)
{
	struct opts o = { 0 };
	struct store *s = NULL;
	struct err e = { 0 };
	const char *sub;
	int idx, rc = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	sub = argv[1];
	idx = parse_opts(argc - 1, argv + 1, &o);
	if (idx < 0)
		return EXIT_USAGE;
	idx += 1; /* index into argv */
	if (strcmp(sub, "show") == 0 ? argc - idx != 1 : argc - idx != 0) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(sub, "summary") == 0 && !o.have_by)
		o.by = ANALYSIS_BY_DAY;
	if (strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "summary") &&
	    strcmp(sub, "purge")) {
		fprintf(stderr, "tlsrpt: received: unknown subcommand '%s'\n%s", sub, usage_text);
		return EXIT_USAGE;
	}
	if (cli_open_store(o.config ? o.config : DEFAULT_CONFIG, "sqlite", o.path,
	                   STORE_AREA_RECEIVED, &s) != 0)
		return 1;
	if (strcmp(sub, "show") == 0) {
		rc = do_show(s, &o, argv[idx]);
	} else if (strcmp(sub, "list") == 0) {
		struct list_ctx l = { 0 };

		rc = s->ops->received_walk(s, &o.f, list_row, &l, &e);
		if (rc == 0)
			print_list(&l, o.fmt);
		list_free(&l);
	} else if (strcmp(sub, "summary") == 0) {
		struct analysis a;

		analysis_init(&a, o.by);
		rc = s->ops->received_walk(s, &o.f, analysis_row, &a, &e);
		analysis_finish(&a);
		if (rc == 0)
			print_summary(&a, o.fmt);
		analysis_free(&a);
	} else {
		uint64_t n = 0;

		rc = s->ops->received_purge(s, clock_now(NULL) - o.older_than_days * 86400, &n, &e);
		if (rc == 0)
			printf("%llu received report%s purged\n", (unsigned long long)n,
			       n == 1 ? "" : "s");
	}
	if (rc && strcmp(sub, "show") != 0) {
		fprintf(stderr, "tlsrpt: received %s: %s\n", sub, e.msg);
		rc = 1;
	}
	store_close(s);
	return rc;
}
