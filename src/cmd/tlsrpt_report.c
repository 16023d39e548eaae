/*
 * tlsrpt_report.c - `tlsrpt report validate|show`: check and display received RFC 8460
 * reports (.json or gzip; the gzip magic is sniffed, the file name does not matter).
 *
 *   tlsrpt report validate FILE...   "FILE: accepted (quirks: a, b)" or
 *                                     "FILE: rejected: <reason>"; exit 1 if any rejected
 *   tlsrpt report show [--json] FILE  readable summary, or the normalised report JSON
 *
 * A FILE that is an e-mail message (name ending in .eml, or a header line first) is
 * parsed as MIME and every report part is located (mail/mime.h, as `tlsrpt ingest`
 * does): validate prints one line per part, "FILE: part N (type, filename): accepted"
 * or "...: rejected: <reason>", or "FILE: rejected: <reason>" when the message holds no
 * report; show shows the first report part.  DKIM is not checked here.
 *
 * Argument parsing and wiring only; the work is in src/report/.  Single-threaded.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/tlsrpt.h"
#include "mail/mime.h"
#include "report/gzip.h"
#include "report/report.h"
#include "util/file.h"
#include "util/clock.h"

enum { MAX_FILE = 64 * 1024 * 1024 };

static void
usage(FILE *out)
{
	fprintf(out, "usage: tlsrpt report validate FILE...\n"
	             "       tlsrpt report show [--json] FILE\n\n"
	             "FILE is an RFC 8460 report as JSON or gzip-compressed JSON, or an e-mail\n"
	             "message (.eml) whose report parts are located and checked.\n");
}

/* "Name:" at the very start: an e-mail message rather than JSON. */
static bool
looks_like_mail(const char *path, struct span s)
{
	size_t n = strlen(path), i = 0;

	if (n >= 4 && strcmp(path + n - 4, ".eml") == 0)
		return true;
	while (i < s.len && ((s.p[i] >= 'A' && s.p[i] <= 'Z') || (s.p[i] >= 'a' && s.p[i] <= 'z') ||
	                     (s.p[i] >= '0' && s.p[i] <= '9') || s.p[i] == '-'))
		i++;
	return i > 0 && i < s.len && s.p[i] == ':';
}

/* Reads one report from decoded bytes (gzip or JSON).  Returns 0 with *out, or e. */
static int
read_report(struct span s, struct report **out, struct err *e)
{
	struct buf json;
	int rc;

	buf_init(&json, GZIP_DEFAULT_MAX_OUT);
	if (gzip_is_gzip(s)) {
		rc = gzip_decompress(s, GZIP_DEFAULT_MAX_OUT, &json, e);
		if (rc != 0)
			goto out;
		s = buf_span(&json);
	}
	rc = report_read(s, NULL, out, e);
out:
	buf_clear(&json);
	return rc;
}

/* The report parts of the message in raw.  Returns 0 with *parts / *n, or e. */
static int
mail_parts(struct span raw, struct mime_report **parts, size_t *n, struct err *e)
{
	struct mime_msg m;
	int rc;

	*parts = NULL;
	*n = 0;
	rc = mime_parse(&m, raw, NULL, e);
	if (rc == 0)
		rc = mime_find_reports(&m, GZIP_DEFAULT_MAX_OUT, parts, n, e);
	else
		err_prefix(e, "not an e-mail message");
	mime_msg_clear(&m);
	return rc;
}

/*
 * Loads one file: *raw holds its bytes; for an e-mail *parts / *n are its report parts
 * (free with mime_reports_free), for a report file *n is 0.  Returns 0, or e.
 */
static int
load_file(const char *path, struct buf *raw, struct mime_report **parts, size_t *n, struct err *e)
{
	int rc;

	*parts = NULL;
	*n = 0;
	buf_init(raw, MAX_FILE);
	rc = file_read(path, raw, e);
	if (rc != 0)
		return rc;
	if (!gzip_is_gzip(buf_span(raw)) && looks_like_mail(path, buf_span(raw)))
		return mail_parts(buf_span(raw), parts, n, e);
	return 0;
}

/* Loads and parses one report file (or the first report part of a message). */
static int
load_report(const char *path, struct report **out, struct err *e)
{
	struct mime_report *parts;
	struct buf raw;
	size_t n;
	int rc;

	*out = NULL;
	rc = load_file(path, &raw, &parts, &n, e);
	if (rc == 0)
		rc = read_report(n ? buf_span(&parts[0].data) : buf_span(&raw), out, e);
	mime_reports_free(parts, n);
	buf_clear(&raw);
	return rc;
}

/* Prints "<label>: accepted[ (quirks: ...)]" or "<label>: rejected: why"; 0 or 1. */
static int
verdict(const char *label, struct span data)
{
	struct err e = { 0 };
	struct report *r = NULL;

	if (read_report(data, &r, &e) != 0) {
		printf("%s: rejected: %s\n", label, e.msg);
		return 1;
	}
	if (r->quirks) {
		struct buf q;
		buf_init(&q, 4096);
		report_quirks_format(r->quirks, ", ", &q);
		printf("%s: accepted (quirks: %s)\n", label, buf_cstr(&q));
		buf_clear(&q);
	} else {
		printf("%s: accepted\n", label);
	}
	report_free(r);
	return 0;
}

static int
cmd_validate(int argc, char **argv)
{
	int status = 0;

	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (int i = 0; i < argc; i++) {
		struct err e = { 0 };
		struct mime_report *parts;
		struct buf raw;
		size_t n;

		if (load_file(argv[i], &raw, &parts, &n, &e) != 0) {
			printf("%s: rejected: %s\n", argv[i], e.msg);
			status = 1;
		} else if (n == 0) {
			status |= verdict(argv[i], buf_span(&raw));
		}
		for (size_t k = 0; k < n; k++) {
			struct buf label;

			buf_init(&label, 8192);
			buf_printf(&label, "%s: part %zu (%s", argv[i], k + 1, parts[k].type);
			if (parts[k].filename[0])
				buf_printf(&label, ", %s", parts[k].filename);
			buf_putc(&label, ')');
			status |= verdict(buf_cstr(&label), buf_span(&parts[k].data));
			buf_clear(&label);
		}
		mime_reports_free(parts, n);
		buf_clear(&raw);
	}
	return status;
}

struct agg {
	const char *type;
	const char *mx;
	uint64_t count;
};

static int
agg_cmp(const void *a, const void *b)
{
	const struct agg *x = a, *y = b;
	int c = strcmp(x->type, y->type);

	return c ? c : strcmp(x->mx, y->mx);
}

static const char *
or_dash(const char *s)
{
	return s ? s : "-";
}

static void
show_text(const struct report *r)
{
	char a[TIME_RFC3339_LEN] = "?", b[TIME_RFC3339_LEN] = "?";

	time_format_rfc3339(r->start, a);
	time_format_rfc3339(r->end, b);
	printf("organization: %s\n", or_dash(r->organization_name));
	printf("contact-info: %s\n", or_dash(r->contact_info));
	printf("report-id:    %s\n", or_dash(r->report_id));
	printf("window:       %s .. %s\n", a, b);
	if (r->quirks) {
		struct buf q;
		buf_init(&q, 4096);
		report_quirks_format(r->quirks, ", ", &q);
		printf("quirks:       %s\n", buf_cstr(&q));
		buf_clear(&q);
	}
	for (size_t i = 0; i < r->n_policies; i++) {
		const struct report_policy *p = r->policies[i];
		const char *type = p->type == REPORT_POLICY_UNKNOWN
		                           ? p->type_other
		                           : report_policy_type_name(p->type);
		printf("policy %zu: %s %s\n", i + 1, or_dash(type), or_dash(p->domain));
		for (size_t k = 0; k < p->n_mx_hosts; k++)
			printf("  mx-host: %s\n", p->mx_hosts[k]);
		printf("  successful sessions: %llu\n", (unsigned long long)p->successful);
		printf("  failed sessions:     %llu\n", (unsigned long long)p->failed);
		if (p->n_failures == 0)
			continue;
		struct agg *v = calloc(p->n_failures, sizeof(*v));
		if (v == NULL)
			continue;
		for (size_t k = 0; k < p->n_failures; k++) {
			const struct report_failure *f = &p->failures[k];
			v[k].type = f->result_type == REPORT_RESULT_UNKNOWN
			                    ? f->result_type_other
			                    : report_result_type_name(f->result_type);
			v[k].mx = or_dash(f->receiving_mx_hostname);
			v[k].count = f->failed_session_count;
		}
		qsort(v, p->n_failures, sizeof(*v), agg_cmp);
		printf("  failures by result type and MX:\n");
		for (size_t k = 0; k < p->n_failures;) {
			size_t j = k + 1;
			uint64_t sum = v[k].count;
			while (j < p->n_failures && agg_cmp(&v[k], &v[j]) == 0)
				sum += v[j++].count;
			printf("    %-26s %-40s %llu\n", v[k].type, v[k].mx,
			       (unsigned long long)sum);
			k = j;
		}
		free(v);
	}
}

static int
cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	struct err e = { 0 };
	struct report *r = NULL;
	if (load_report(argv[optind], &r, &e) != 0) {
		fprintf(stderr, "tlsrpt: %s: rejected: %s\n", argv[optind], e.msg);
		return 1;
	}
	int status = 0;
	if (json) {
		struct buf out;
		buf_init(&out, (size_t)256 * 1024 * 1024);
		if (report_write_json(r, &out, &e) != 0) {
			fprintf(stderr, "tlsrpt: %s: %s\n", argv[optind], e.msg);
			status = 1;
		} else {
			fwrite(out.data, 1, out.len, stdout);
			fputc('\n', stdout);
		}
		buf_clear(&out);
	} else {
		show_text(r);
	}
	report_free(r);
	return status;
}

int
cmd_report(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "validate") == 0)
		return cmd_validate(argc - 2, argv + 2);
	if (strcmp(argv[1], "show") == 0)
		return cmd_show(argc - 1, argv + 1);
	fprintf(stderr, "tlsrpt: report: unknown subcommand '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
