/*
 * tlsrpt_ingest.c - `tlsrpt ingest`: stores received TLS reports (issue 8).
 *
 *   tlsrpt ingest [--config FILE | --store PATH] [options]             (stdin: one e-mail)
 *   tlsrpt ingest [...] --maildir DIR | --mbox FILE | FILE...
 *
 * stdin is one e-mail message, as a Postfix pipe transport, an alias, procmail or sieve
 * hands it over.  --maildir processes new/ and cur/ (messages without the S flag),
 * moving each processed message to cur/ with the S flag; messages that failed because
 * the store was unavailable stay for the next run.  --mbox reads every message of an
 * mbox (mboxrd unescaping).  FILE arguments are sniffed: gzip or JSON is a report file,
 * anything else an e-mail.  One line per message or file on stderr.
 *
 * Exit status (sysexits.h, for an MTA pipe): 0 stored or duplicate; 0 for a non-report
 * on stdin, Maildir and mbox (so mail does not bounce back and forth) unless
 * --reject-non-reports (EX_DATAERR, 65); FILE arguments that are not reports give 65;
 * EX_TEMPFAIL (75) when the store is unavailable (the MTA retries); EX_NOINPUT (66) for
 * an unreadable file; 2 for usage errors.
 * Threading: single-threaded.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "cmd/tlsrpt.h"
#include "inbound/http_upload.h"
#include "inbound/ingest.h"
#include "mail/orgdomain.h"
#include "net/dns.h"
#include "util/file.h"
#include "util/buf.h"
#include "util/str.h"
#include "util/xalloc.h"

#define MAX_MESSAGE ((size_t)64 * 1024 * 1024)
#define DAY_SECONDS 86400

struct run {
	struct ingest in;
	bool reject_non_reports;
	bool quiet;
	int status; /* worst exit status so far */
};

static const char usage_text[] =
        "usage: tlsrpt ingest [--config FILE | --store PATH] [--accept-unsigned]\n"
        "                     [--reject-non-reports] [--dkim-keys FILE] [--quiet]\n"
        "                     [--maildir DIR | --mbox FILE | FILE...]\n"
        "       tlsrpt ingest [...] --listen ADDR:PORT [--upload-path PATH] [--max-body N]\n";

static void
worse(struct run *r, int status)
{
	/* 75 (retry) beats 65/66 (data), which beat 0 */
	if (status == EX_TEMPFAIL || (r->status != EX_TEMPFAIL && status != 0))
		r->status = status;
}

/* Reports one ingest outcome; returns the exit status for it. */
static int
outcome(struct run *r, const char *name, int rc, const struct ingest_result *res,
        const struct err *e, bool is_file)
{
	if (rc == 0) {
		if (!r->quiet)
			fprintf(stderr, "tlsrpt: ingest: %s: %zu stored, %zu duplicate%s%s%s%s\n",
			        name, res->stored, res->duplicates, res->duplicates == 1 ? "" : "s",
			        res->dkim[0] ? " (dkim " : "", res->dkim, res->dkim[0] ? ")" : "");
		if (res->rejected)
			fprintf(stderr, "tlsrpt: ingest: %s: %zu part%s rejected: %s\n", name,
			        res->rejected, res->rejected == 1 ? "" : "s", res->reject_reason);
		return 0;
	}
	if (rc == INGEST_ESTORE) {
		fprintf(stderr, "tlsrpt: ingest: %s: %s (try again later)\n", name, e->msg);
		return EX_TEMPFAIL;
	}
	fprintf(stderr, "tlsrpt: ingest: %s: %s: %s\n", name,
	        res->found ? "rejected" : "not a report", e->msg);
	return (is_file || r->reject_non_reports) ? EX_DATAERR : 0;
}

static int
read_stream(FILE *f, struct buf *out)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(out, chunk, n) != 0)
			return ERR_TOOBIG;
	return ferror(f) ? ERR_IO : 0;
}

static int
do_stdin(struct run *r)
{
	struct ingest_result res = { 0 };
	struct err e = { 0 };
	struct buf msg;
	int rc;

	buf_init(&msg, MAX_MESSAGE);
	rc = read_stream(stdin, &msg);
	if (rc) {
		fprintf(stderr, "tlsrpt: ingest: <stdin>: %s\n",
		        rc == ERR_TOOBIG ? "message too large" : "read error");
		buf_clear(&msg);
		return rc == ERR_TOOBIG ? (r->reject_non_reports ? EX_DATAERR : 0) : EX_TEMPFAIL;
	}
	rc = ingest_message(&r->in, buf_span(&msg), &res, &e);
	buf_clear(&msg);
	return outcome(r, "<stdin>", rc, &res, &e, false);
}

static void
do_files(struct run *r, char **files, int n)
{
	for (int i = 0; i < n; i++) {
		struct ingest_result res = { 0 };
		struct err e = { 0 };
		struct buf data;
		int rc;

		buf_init(&data, MAX_MESSAGE);
		rc = file_read(files[i], &data, &e);
		if (rc) {
			fprintf(stderr, "tlsrpt: ingest: %s: %s\n", files[i], e.msg);
			worse(r, EX_NOINPUT);
		} else {
			rc = ingest_sniffed(&r->in, buf_span(&data), &res, &e);
			worse(r, outcome(r, files[i], rc, &res, &e, true));
		}
		buf_clear(&data);
	}
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The processed name in cur/: base name with ":2,<flags>" and S among the flags. */
static char *
seen_name(const char *name)
{
	const char *info = strstr(name, ":2,");
	struct buf b;

	buf_init(&b, 4096);
	if (info == NULL) {
		buf_printf(&b, "%s:2,S", name);
	} else if (strchr(info + 3, 'S') != NULL) {
		buf_clear(&b);
		return NULL; /* already processed */
	} else {
		/* flags stay in ASCII order: insert S at its place */
		const char *f = info + 3;

		buf_append(&b, name, (size_t)(f - name));
		while (*f && *f < 'S')
			buf_putc(&b, *f++);
		buf_putc(&b, 'S');
		buf_append_str(&b, f);
	}
	return buf_steal(&b, NULL);
}

static void
do_maildir_sub(struct run *r, const char *dir, const char *sub)
{
	char path[4096];
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	if (d == NULL) {
		fprintf(stderr, "tlsrpt: ingest: %s: cannot open: %s\n", path, strerror(errno));
		worse(r, EX_NOINPUT);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		char *seen = seen_name(names[i]);
		char src[4096], dst[4096];
		struct ingest_result res = { 0 };
		struct err e = { 0 };
		struct buf data;
		int rc, st;

		if (seen == NULL) {
			free(names[i]);
			continue;
		}
		snprintf(src, sizeof(src), "%s/%s/%s", dir, sub, names[i]);
		snprintf(dst, sizeof(dst), "%s/cur/%s", dir, seen);
		buf_init(&data, MAX_MESSAGE);
		rc = file_read(src, &data, &e);
		if (rc) {
			fprintf(stderr, "tlsrpt: ingest: %s: %s\n", src, e.msg);
			st = EX_TEMPFAIL;
		} else {
			rc = ingest_message(&r->in, buf_span(&data), &res, &e);
			st = outcome(r, src, rc, &res, &e, false);
		}
		buf_clear(&data);
		worse(r, st);
		if (st != EX_TEMPFAIL && rename(src, dst) != 0)
			fprintf(stderr, "tlsrpt: ingest: %s: cannot move to %s: %s\n", src, dst,
			        strerror(errno));
		free(seen);
		free(names[i]);
	}
	free(names);
}

/* Splits an mbox on "From " lines; un-escapes ">From " (mboxrd). */
static void
do_mbox(struct run *r, const char *path)
{
	struct buf all, msg;
	struct err e = { 0 };
	const char *p, *end;
	size_t count = 0;

	buf_init(&all, (size_t)1 << 31);
	if (file_read(path, &all, &e) != 0) {
		fprintf(stderr, "tlsrpt: ingest: %s: %s\n", path, e.msg);
		buf_clear(&all);
		worse(r, EX_NOINPUT);
		return;
	}
	buf_init(&msg, MAX_MESSAGE);
	p = all.data;
	end = p + all.len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl + 1 : end;
		bool from =
		        (size_t)(end - p) >= 5 && memcmp(p, "From ", 5) == 0 &&
		        (p == all.data ||
		         (msg.len == 0 || (p[-1] == '\n' && p - 2 >= all.data && (p[-2] == '\n'))));
		if (from || eol == end) {
			if (!from)
				buf_append(&msg, p, (size_t)(eol - p));
			if (msg.len) {
				struct ingest_result res = { 0 };
				char name[4200];
				int rc;

				count++;
				snprintf(name, sizeof(name), "%s#%zu", path, count);
				rc = ingest_message(&r->in, buf_span(&msg), &res, &e);
				worse(r, outcome(r, name, rc, &res, &e, false));
				buf_reset(&msg);
			}
			p = eol;
			continue;
		}
		{
			const char *q = p;

			while (q < eol && *q == '>')
				q++;
			if (q > p && (size_t)(eol - q) >= 5 && memcmp(q, "From ", 5) == 0)
				p++;
		}
		if (buf_append(&msg, p, (size_t)(eol - p)) != 0) {
			fprintf(stderr, "tlsrpt: ingest: %s: message too large\n", path);
			worse(r, EX_DATAERR);
			break;
		}
		p = eol;
	}
	buf_clear(&msg);
	buf_clear(&all);
}

/* Serves POST uploads until SIGINT or SIGTERM. */
static int
serve(struct run *r, const char *listen, const char *upload_path, size_t max_body)
{
	struct http_upload u = { .in = &r->in, .path = upload_path };
	struct httpd_opts o = {
		.listen = listen,
		.max_body = max_body,
		.handler = http_upload_handle,
		.ctx = &u,
	};
	struct httpd *h = NULL;
	struct err e = { 0 };
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (httpd_start(&o, &h, &e) != 0) {
		fprintf(stderr, "tlsrpt: ingest: %s\n", e.msg);
		return EX_TEMPFAIL;
	}
	printf("listening on port %u, path %s\n", httpd_port(h), upload_path);
	fflush(stdout);
	sigwait(&set, &sig);
	httpd_stop(h);
	return 0;
}

int
cmd_ingest(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "maildir", required_argument, NULL, 'M' },
		{ "mbox", required_argument, NULL, 'm' },
		{ "dkim-keys", required_argument, NULL, 'k' },
		{ "accept-unsigned", no_argument, NULL, 'U' },
		{ "reject-non-reports", no_argument, NULL, 'R' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "listen", required_argument, NULL, 'L' },
		{ "upload-path", required_argument, NULL, 'P' },
		{ "max-body", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *path = NULL, *maildir = NULL, *mbox = NULL, *keys = NULL;
	const char *listen = NULL, *upload_path = NULL;
	char *owned_path = NULL;
	uint64_t max_body = 0;
	struct run r = { 0 };
	struct conf *conf = NULL;
	struct store *s = NULL;
	struct dns_opts dopts;
	struct err e = { 0 };
	int64_t retention = 30 * DAY_SECONDS;
	int ch;

	while ((ch = getopt_long(argc, argv, "c:s:qh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 's':
			path = optarg;
			break;
		case 'M':
			maildir = optarg;
			break;
		case 'm':
			mbox = optarg;
			break;
		case 'k':
			keys = optarg;
			break;
		case 'U':
			r.in.accept_unsigned = true;
			break;
		case 'R':
			r.reject_non_reports = true;
			break;
		case 'q':
			r.quiet = true;
			break;
		case 'L':
			listen = optarg;
			break;
		case 'P':
			upload_path = optarg;
			break;
		case 'B':
			if (str_to_u64(span_cstr(optarg), &max_body) != 0 || max_body == 0) {
				fprintf(stderr, "tlsrpt: ingest: --max-body %s: expected bytes\n",
				        optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if ((maildir != NULL) + (mbox != NULL) + (optind < argc) + (listen != NULL) > 1) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (path == NULL) {
		if (cli_load_conf(config ? config : DEFAULT_CONFIG, &conf) != 0)
			return EX_TEMPFAIL;
		retention = conf_duration_ms(conf, "report.analysis.store") / 1000;
		/* --accept-unsigned turns it on for one run; the key for every run */
		if (conf_bool(conf, "report.analysis.accept-unsigned"))
			r.in.accept_unsigned = true;
		if (upload_path == NULL)
			upload_path = owned_path = xstrdup(conf_str(conf, "web.upload-path"));
		if (max_body == 0)
			max_body = conf_size(conf, "web.max-body");
	}
	if (cli_open_store(config ? config : DEFAULT_CONFIG, "sqlite", path, STORE_AREA_RECEIVED,
	                   &s) != 0) {
		conf_free(conf);
		return EX_TEMPFAIL;
	}
	conf_free(conf);
	dns_opts_default(&dopts);
	if (keys)
		dopts.mode = DNS_MODE_LOCAL;
	r.in.dns = dns_new(&dopts, &e);
	if (r.in.dns == NULL)
		fprintf(stderr,
		        "tlsrpt: ingest: DNS unavailable (DKIM keys cannot be fetched): %s\n",
		        e.msg);
	if (keys && (r.in.dns == NULL || cli_load_dns_file("ingest", r.in.dns, keys) != 0)) {
		dns_free(r.in.dns);
		store_close(s);
		return EXIT_USAGE;
	}
	r.in.store = s;
	r.in.psl = ingest_load_psl();
	if (listen) {
		r.status = serve(&r, listen, upload_path ? upload_path : "/tlsrpt",
		                 max_body ? (size_t)max_body : (size_t)10 * 1024 * 1024);
	} else if (maildir) {
		do_maildir_sub(&r, maildir, "new");
		do_maildir_sub(&r, maildir, "cur");
	} else if (mbox) {
		do_mbox(&r, mbox);
	} else if (optind < argc) {
		do_files(&r, argv + optind, argc - optind);
	} else {
		worse(&r, do_stdin(&r));
	}
	if (r.status != EX_TEMPFAIL &&
	    s->ops->received_purge(s, clock_now(NULL) - retention, NULL, &e) != 0)
		fprintf(stderr, "tlsrpt: ingest: retention purge: %s\n", e.msg);
	orgdomain_psl_free((struct orgdomain_psl *)r.in.psl);
	dns_free(r.in.dns);
	store_close(s);
	free(owned_path);
	return r.status;
}
