/*
 * tlsrpt_fetch.c - `tlsrpt fetch --imap URL`: stores the reports of unseen messages in
 * an IMAP mailbox (issue 8).
 *
 *   tlsrpt fetch --imap imaps://user@host[:port]/MAILBOX [--config FILE | --store PATH]
 *                [--password-file FILE] [--move-to FOLDER] [--reject-folder FOLDER]
 *                [--starttls] [--insecure] [--ca-file FILE] [--max-messages N]
 *                [--max-size BYTES] [--accept-unsigned] [--reject-non-reports]
 *                [--dkim-keys FILE] [--quiet]
 *
 * The password comes from --password-file (its first line) or the environment variable
 * TLSRPT_IMAP_PASSWORD, never from the command line.  The UIDs of UNSEEN messages are
 * listed (at most --max-messages per run, oldest first); each message is fetched whole
 * (at most --max-size bytes, checked with RFC822.SIZE before fetching) and ingested
 * like `tlsrpt ingest` does (channel "mail", DKIM verified).  Then:
 *   - stored or duplicate: marked \Seen, or moved to --move-to FOLDER;
 *   - the store is unavailable: \Seen is cleared again (the fetch set it) and the run
 *     stops, so the message is fetched again next time;
 *   - not a report, or larger than --max-size: marked \Seen (it stays where it is, for
 *     a person to look at), or moved to --reject-folder FOLDER.
 * Exit status like `tlsrpt ingest` (sysexits.h): 0; 65 when a message was not a report
 * and --reject-non-reports is given; 75 when the store or the IMAP server failed (run
 * again later); 2 for usage errors.
 * Threading: single-threaded.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/tlsrpt.h"
#include "inbound/ingest.h"
#include "mail/orgdomain.h"
#include "net/dns.h"
#include "net/imap_client.h"
#include "net/net_curl.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/str.h"
#include "util/xalloc.h"

#define DAY_SECONDS 86400

enum { DEFAULT_MAX_MESSAGES = 1000, MAX_PASSWORD = 4096 };
#define DEFAULT_MAX_SIZE ((uint64_t)64 * 1024 * 1024)

static const char usage_text[] =
        "usage: tlsrpt fetch --imap imaps://user@host[:port]/MAILBOX\n"
        "                    [--config FILE | --store PATH] [--password-file FILE]\n"
        "                    [--move-to FOLDER] [--reject-folder FOLDER] [--starttls]\n"
        "                    [--insecure] [--ca-file FILE] [--max-messages N]\n"
        "                    [--max-size BYTES] [--accept-unsigned] [--reject-non-reports]\n"
        "                    [--dkim-keys FILE] [--quiet]\n"
        "The password is the first line of --password-file, else $TLSRPT_IMAP_PASSWORD.\n";

struct fetch {
	struct ingest in;
	struct imap *imap;
	const char *move_to, *reject_folder;
	uint64_t max_size;
	bool reject_non_reports, quiet;
	size_t stored, duplicates, rejected;
	int status;
};

/* The first line of path into out (owned by caller, freed with free()). */
static int
read_password(const char *path, char **out)
{
	struct buf b;
	struct err e = { 0 };
	size_t n;

	buf_init(&b, MAX_PASSWORD);
	if (file_read(path, &b, &e) != 0) {
		fprintf(stderr, "tlsrpt: fetch: --password-file %s: %s\n", path, e.msg);
		buf_clear(&b);
		return -1;
	}
	n = strcspn(buf_cstr(&b), "\r\n");
	*out = xstrndup(buf_cstr(&b), n);
	explicit_bzero(b.data, b.len);
	buf_clear(&b);
	return 0;
}

/* Marks uid seen and moves it to folder when one is given.  0, or prints and -1. */
static int
dispose(struct fetch *f, uint32_t uid, const char *folder)
{
	struct err e = { 0 };
	int rc = imap_set_seen(f->imap, uid, true, &e);

	if (rc == 0 && folder != NULL)
		rc = imap_move(f->imap, uid, folder, &e);
	if (rc != 0) {
		fprintf(stderr, "tlsrpt: fetch: UID %u: %s\n", uid, e.msg);
		f->status = EX_TEMPFAIL;
		return -1;
	}
	return 0;
}

/* A message that is not a report (or too large): counted, seen or moved. */
static int
not_a_report(struct fetch *f, uint32_t uid, const char *what, const char *why)
{
	fprintf(stderr, "tlsrpt: fetch: UID %u: %s: %s\n", uid, what, why);
	f->rejected++;
	if (f->reject_non_reports && f->status == 0)
		f->status = EX_DATAERR;
	return dispose(f, uid, f->reject_folder);
}

/* Fetches, ingests and disposes of one message.  Returns -1 when the run must stop. */
static int
one(struct fetch *f, uint32_t uid)
{
	struct ingest_result res = { 0 };
	struct err e = { 0 };
	uint64_t size = 0;
	struct buf msg;
	char why[128];
	int rc;

	rc = imap_size(f->imap, uid, &size, &e);
	if (rc == ERR_NOTFOUND)
		return 0; /* expunged meanwhile by someone else */
	if (rc != 0) {
		fprintf(stderr, "tlsrpt: fetch: UID %u: %s\n", uid, e.msg);
		f->status = EX_TEMPFAIL;
		return -1;
	}
	if (size > f->max_size) {
		snprintf(why, sizeof(why), "message of %llu bytes is over --max-size %llu",
		         (unsigned long long)size, (unsigned long long)f->max_size);
		return not_a_report(f, uid, "skipped", why);
	}
	buf_init(&msg, (size_t)f->max_size);
	rc = imap_fetch(f->imap, uid, &msg, &e);
	if (rc == ERR_TOOBIG) {
		buf_clear(&msg);
		return not_a_report(f, uid, "skipped", e.msg);
	}
	if (rc != 0) {
		buf_clear(&msg);
		fprintf(stderr, "tlsrpt: fetch: UID %u: %s\n", uid, e.msg);
		f->status = EX_TEMPFAIL;
		return -1;
	}
	rc = ingest_message(&f->in, buf_span(&msg), &res, &e);
	buf_clear(&msg);
	if (rc == INGEST_ESTORE) {
		struct err se = { 0 };

		fprintf(stderr, "tlsrpt: fetch: UID %u: %s (left unseen, try again later)\n", uid,
		        e.msg);
		f->status = EX_TEMPFAIL;
		if (imap_set_seen(f->imap, uid, false, &se) != 0)
			fprintf(stderr, "tlsrpt: fetch: UID %u: %s\n", uid, se.msg);
		return -1;
	}
	if (rc != 0)
		return not_a_report(f, uid, res.found ? "rejected" : "not a report", e.msg);
	if (!f->quiet)
		fprintf(stderr, "tlsrpt: fetch: UID %u: %zu stored, %zu duplicate%s (dkim %s)\n",
		        uid, res.stored, res.duplicates, res.duplicates == 1 ? "" : "s", res.dkim);
	if (res.rejected)
		fprintf(stderr, "tlsrpt: fetch: UID %u: %zu part%s rejected: %s\n", uid,
		        res.rejected, res.rejected == 1 ? "" : "s", res.reject_reason);
	f->stored += res.stored;
	f->duplicates += res.duplicates;
	return dispose(f, uid, f->move_to);
}

static int
run(struct fetch *f, size_t max_messages)
{
	uint32_t *uids = xcalloc(max_messages, sizeof(*uids));
	struct err e = { 0 };
	size_t n = 0, done = 0;
	bool more = false;

	if (imap_search_unseen(f->imap, uids, max_messages, &n, &more, &e) != 0) {
		fprintf(stderr, "tlsrpt: fetch: %s\n", e.msg);
		free(uids);
		return EX_TEMPFAIL;
	}
	for (; done < n; done++)
		if (one(f, uids[done]) != 0)
			break;
	if (!f->quiet || f->status != 0)
		fprintf(stderr,
		        "tlsrpt: fetch: %zu unseen message%s%s: %zu report%s stored, %zu "
		        "duplicate%s, %zu not report%s, %zu left for later\n",
		        n, n == 1 ? "" : "s", more ? " (more than --max-messages)" : "", f->stored,
		        f->stored == 1 ? "" : "s", f->duplicates, f->duplicates == 1 ? "" : "s",
		        f->rejected, f->rejected == 1 ? "" : "s", n - done);
	free(uids);
	return f->status;
}

static int
parse_count(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *out)
{
	if (str_to_u64(span_cstr(arg), out) != 0 || *out < min || *out > max) {
		fprintf(stderr, "tlsrpt: fetch: %s %s: expected a number from %llu to %llu\n", opt,
		        arg, (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	return 0;
}

int
cmd_fetch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "imap", required_argument, NULL, 'i' },
		{ "config", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "move-to", required_argument, NULL, 'm' },
		{ "reject-folder", required_argument, NULL, 'r' },
		{ "starttls", no_argument, NULL, 'S' },
		{ "insecure", no_argument, NULL, 'k' },
		{ "ca-file", required_argument, NULL, 'C' },
		{ "max-messages", required_argument, NULL, 'n' },
		{ "max-size", required_argument, NULL, 'z' },
		{ "accept-unsigned", no_argument, NULL, 'U' },
		{ "reject-non-reports", no_argument, NULL, 'R' },
		{ "dkim-keys", required_argument, NULL, 'K' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *path = NULL, *keys = NULL, *pwfile = NULL;
	struct imap_opts io = { 0 };
	struct fetch f = { .max_size = DEFAULT_MAX_SIZE };
	uint64_t max_messages = DEFAULT_MAX_MESSAGES;
	char *password = NULL;
	struct conf *conf = NULL;
	struct store *s = NULL;
	struct dns_opts dopts;
	struct err e = { 0 };
	int64_t retention = 30 * DAY_SECONDS;
	int ch, status;

	while ((ch = getopt_long(argc, argv, "c:s:qh", opts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			io.url = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 's':
			path = optarg;
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 'm':
			f.move_to = optarg;
			break;
		case 'r':
			f.reject_folder = optarg;
			break;
		case 'S':
			io.starttls = true;
			break;
		case 'k':
			io.insecure = true;
			break;
		case 'C':
			io.ca_file = optarg;
			break;
		case 'n':
			if (parse_count("--max-messages", optarg, 1, 1000000, &max_messages) != 0)
				return EXIT_USAGE;
			break;
		case 'z':
			if (parse_count("--max-size", optarg, 1024, (uint64_t)1 << 30,
			                &f.max_size) != 0)
				return EXIT_USAGE;
			break;
		case 'U':
			f.in.accept_unsigned = true;
			break;
		case 'R':
			f.reject_non_reports = true;
			break;
		case 'K':
			keys = optarg;
			break;
		case 'q':
			f.quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (io.url == NULL || optind != argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (io.starttls &&
	    span_eq_nocase(span_make(io.url, io.url[0] ? 5 : 0), SPAN_LIT("imaps"))) {
		fprintf(stderr, "tlsrpt: fetch: --starttls is for imap:// URLs (imaps:// is TLS "
		                "from the start)\n");
		return EXIT_USAGE;
	}
	if (pwfile != NULL) {
		if (read_password(pwfile, &password) != 0)
			return EXIT_USAGE;
	} else if (getenv("TLSRPT_IMAP_PASSWORD") != NULL) {
		password = xstrdup(getenv("TLSRPT_IMAP_PASSWORD"));
	} else {
		fprintf(stderr, "tlsrpt: fetch: no password: give --password-file FILE or set "
		                "TLSRPT_IMAP_PASSWORD\n");
		return EXIT_USAGE;
	}
	io.password = password;
	if (path == NULL) {
		if (cli_load_conf(config ? config : DEFAULT_CONFIG, &conf) != 0) {
			free(password);
			return EX_TEMPFAIL;
		}
		retention = conf_duration_ms(conf, "report.analysis.store") / 1000;
		if (conf_bool(conf, "report.analysis.accept-unsigned"))
			f.in.accept_unsigned = true;
	}
	if (cli_open_store(config ? config : DEFAULT_CONFIG, "sqlite", path, STORE_AREA_RECEIVED,
	                   &s) != 0) {
		conf_free(conf);
		free(password);
		return EX_TEMPFAIL;
	}
	conf_free(conf);
	dns_opts_default(&dopts);
	if (keys)
		dopts.mode = DNS_MODE_LOCAL;
	f.in.dns = dns_new(&dopts, &e);
	if (f.in.dns == NULL)
		fprintf(stderr,
		        "tlsrpt: fetch: DNS unavailable (DKIM keys cannot be fetched): %s\n",
		        e.msg);
	if (keys && (f.in.dns == NULL || cli_load_dns_file("fetch", f.in.dns, keys) != 0)) {
		status = EXIT_USAGE;
		goto out;
	}
	f.in.store = s;
	f.in.psl = ingest_load_psl();
	if (net_global_init(&e) != 0) {
		fprintf(stderr, "tlsrpt: fetch: %s\n", e.msg);
		status = EX_TEMPFAIL;
		goto out;
	}
	if (imap_open(&io, &f.imap, &e) != 0) {
		fprintf(stderr, "tlsrpt: fetch: %s\n", e.msg);
		status = EXIT_USAGE;
	} else {
		status = run(&f, (size_t)max_messages);
		imap_close(f.imap);
	}
	net_global_cleanup();
	if (status != EX_TEMPFAIL &&
	    s->ops->received_purge(s, clock_now(NULL) - retention, NULL, &e) != 0)
		fprintf(stderr, "tlsrpt: fetch: retention purge: %s\n", e.msg);
out:
	orgdomain_psl_free((struct orgdomain_psl *)f.in.psl);
	dns_free(f.in.dns);
	store_close(s);
	if (password != NULL) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	return status;
}
