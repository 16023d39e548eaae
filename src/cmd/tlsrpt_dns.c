/*
 * tlsrpt_dns.c - `tlsrpt dns check`: what the DNS publishes for a domain, seen the way
 * tlsrptd will use it.
 *
 *   tlsrpt dns check [--config FILE] [--dns-local-data FILE] DOMAIN
 *
 * Prints the TXT records at _smtp._tls.DOMAIN and whether they give exactly one valid
 * TLSRPT record (RFC 8460 section 3) with its rua list, or why not.  Then, for each
 * signature id that report.tls.aggregate.sign names for DOMAIN (rcpt_domain = DOMAIN),
 * looks up the key record at selector._domainkey.domain (RFC 6376 section 3.6.2) and
 * compares its k= and p= with the public key derived from the configured private key.
 *
 * --dns-local-data FILE answers from FILE only (zone-file records, one per line; blank
 * lines and lines starting with ';' or '#' are skipped), nothing goes to the network:
 * for tests and for checking a zone before publishing it.  Without --config the default
 * configuration file is used when it exists; signers are skipped otherwise.
 *
 * Exit status 0 when everything checked is fine, 1 when something is wrong (no or bad
 * TLSRPT record, key missing or different, DNS failure), 2 on usage errors.
 * Threading: single-threaded.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd/tlsrpt.h"
#include "mail/dkim.h"
#include "net/dns.h"
#include "report/txtrec.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/xalloc.h"

static void
usage(FILE *out)
{
	fprintf(out, "usage: tlsrpt dns check [--config FILE] [--dns-local-data FILE] DOMAIN\n\n"
	             "Shows the TLSRPT record of DOMAIN (_smtp._tls.DOMAIN) and checks that\n"
	             "exactly one valid record is published, then checks the DKIM public key of\n"
	             "every signer report.tls.aggregate.sign names against its private key.\n"
	             "--dns-local-data FILE answers from the zone-file records in FILE only.\n");
}

/* Prints the character-strings of t as zone-file strings, escaping '"', '\' and
 * bytes outside printable ASCII as \DDD. */
static void
print_txt(const struct dns_txt *t)
{
	for (size_t i = 0; i < t->nstrings; i++) {
		fputs(i ? " \"" : "\"", stdout);
		for (size_t j = 0; j < t->strings[i].len; j++) {
			unsigned char c = (unsigned char)t->strings[i].p[j];
			if (c == '"' || c == '\\')
				printf("\\%c", c);
			else if (c < 0x20 || c > 0x7e)
				printf("\\%03u", c);
			else
				putchar(c);
		}
		putchar('"');
	}
}

/* Looks up name/TXT.  Prints a line and returns -1 on a DNS failure. */
static int
lookup_txt(struct dns *dns, const char *name, struct dns_answer **out)
{
	struct err e = { 0 };
	int rc = dns_lookup(dns, name, DNS_TYPE_TXT, out, &e);

	if (rc == 0)
		return 0;
	if (rc == DNS_EBOGUS)
		printf("%s: DNSSEC validation failed: %s\n", name, (*out)->why_bogus);
	else
		printf("%s: lookup failed: %s\n", name, e.msg[0] ? e.msg : dns_rcode_name(rc));
	dns_answer_free(*out);
	*out = NULL;
	return -1;
}

/* The TLSRPT record part.  Returns 0 when exactly one valid record is published. */
static int
check_record(struct dns *dns, const char *domain)
{
	char name[DNS_NAME_MAX + 16];
	struct dns_answer *a = NULL;
	struct txtrec_rr *rrs;
	struct txtrec rec = { 0 };
	struct err e = { 0 };
	int rc;

	snprintf(name, sizeof(name), "_smtp._tls.%s", domain);
	if (lookup_txt(dns, name, &a) != 0)
		return -1;
	if (a->n == 0) {
		printf("%s: no TXT record (%s)\n", name, dns_rcode_name(a->rcode));
		printf("TLSRPT record: missing\n");
		dns_answer_free(a);
		return -1;
	}
	printf("%s: %zu TXT record%s\n", name, a->n, a->n == 1 ? "" : "s");
	rrs = xcalloc(a->n, sizeof(*rrs));
	for (size_t i = 0; i < a->n; i++) {
		fputs("  ", stdout);
		print_txt(&a->txt[i]);
		putchar('\n');
		rrs[i].strings = a->txt[i].strings;
		rrs[i].n_strings = a->txt[i].nstrings;
	}
	rc = txtrec_select(rrs, a->n, &rec, &e);
	if (rc == 0) {
		printf("TLSRPT record: valid\n");
		for (size_t i = 0; i < rec.n_rua; i++)
			printf("  rua: %s\n", rec.rua[i].uri);
		if (rec.n_ignored)
			printf("  (%zu destination%s with other schemes ignored)\n", rec.n_ignored,
			       rec.n_ignored == 1 ? "" : "s");
	} else {
		printf("TLSRPT record: %s: %s\n", rc == ERR_NOTFOUND ? "missing" : "invalid",
		       e.msg);
		rc = -1;
	}
	txtrec_clear(&rec);
	free(rrs);
	dns_answer_free(a);
	return rc;
}

/* The published key records of one signer compared with the private key.  Returns 0
 * when one published record matches. */
static int
check_signer(struct dns *dns, const struct conf *conf, const char *id)
{
	char key[256], name[DNS_NAME_MAX + 80];
	const char *domain, *selector, *pem;
	struct mdkim_key *k = NULL;
	struct mdkim_keyrec mine, theirs;
	struct dns_answer *a = NULL;
	struct buf rec;
	struct err e = { 0 };
	int rc = -1;
	size_t ndkim = 0;

	snprintf(key, sizeof(key), "signature.%s.selector", id);
	selector = conf_str(conf, key);
	snprintf(key, sizeof(key), "signature.%s.domain", id);
	domain = conf_str(conf, key);
	snprintf(key, sizeof(key), "signature.%s.private-key", id);
	pem = conf_str(conf, key);
	if (selector == NULL || domain == NULL || pem == NULL) {
		printf("signer %s: not configured (no [signature.%s] section)\n", id, id);
		return -1;
	}
	printf("signer %s: selector %s, domain %s\n", id, selector, domain);
	buf_init(&rec, 1 << 16);
	if (mdkim_key_from_pem(span_cstr(pem), &k, &e) != 0 ||
	    mdkim_key_dns_record(k, &rec, &e) != 0 ||
	    mdkim_keyrec_parse(buf_span(&rec), &mine, &e) != 0) {
		printf("  private key: unusable: %s\n", e.msg);
		goto done;
	}
	snprintf(name, sizeof(name), "%s._domainkey.%s", selector, domain);
	if (lookup_txt(dns, name, &a) != 0)
		goto done;
	if (a->n == 0) {
		printf("  %s: no key published (%s)\n", name, dns_rcode_name(a->rcode));
		goto done;
	}
	for (size_t i = 0; i < a->n; i++) {
		err_clear(&e);
		if (mdkim_keyrec_parse(a->txt[i].joined, &theirs, &e) != 0) {
			printf("  %s: not a DKIM key record: %s\n", name, e.msg);
			continue;
		}
		ndkim++;
		if (theirs.revoked) {
			printf("  %s: key revoked (empty p=)\n", name);
			continue;
		}
		if (theirs.k == mine.k && theirs.plen == mine.plen &&
		    memcmp(theirs.p, mine.p, mine.plen) == 0) {
			printf("  %s: published, matches the private key\n", name);
			if (!theirs.service_ok)
				printf("  warning: s= does not allow tlsrpt; verifiers will reject "
				       "it\n");
			else
				rc = 0;
		} else {
			printf("  %s: published, does NOT match the private key\n", name);
		}
	}
	if (ndkim == 0)
		printf("  %s: no DKIM key record published\n", name);
done:
	dns_answer_free(a);
	mdkim_key_free(k);
	buf_clear(&rec);
	return rc;
}

/* The signers part.  Returns 0 when every signer's key is published and matches. */
static int
check_signers(struct dns *dns, const char *config, const char *domain)
{
	struct conf *conf = NULL;
	struct expr_var var = { "rcpt_domain", domain };
	struct err e = { 0 };
	char **ids = NULL;
	size_t n = 0;
	int rc = 0;

	if (cli_load_conf(config, &conf) != 0)
		return -1;
	if (conf_eval_list(conf, "report.tls.aggregate.sign", &var, 1, &ids, &n, &e) != 0) {
		printf("signers: report.tls.aggregate.sign: %s\n", e.msg);
		conf_free(conf);
		return -1;
	}
	if (n == 0)
		printf("signers: none (report.tls.aggregate.sign is empty: reports are not "
		       "signed)\n");
	for (size_t i = 0; i < n; i++)
		if (check_signer(dns, conf, ids[i]) != 0)
			rc = -1;
	conf_strv_free(ids, n);
	conf_free(conf);
	return rc;
}

static int
check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dns-local-data", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *local = NULL, *domain;
	struct dns_opts o;
	struct dns *dns;
	struct err e = { 0 };
	int ch, rc = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'L':
			local = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || argv[optind][0] == '\0') {
		usage(stderr);
		return EXIT_USAGE;
	}
	domain = argv[optind];
	if (config == NULL && access(DEFAULT_CONFIG, R_OK) == 0)
		config = DEFAULT_CONFIG;

	dns_opts_default(&o);
	o.cache_max = 0;
	if (local != NULL)
		o.mode = DNS_MODE_LOCAL;
	dns = dns_new(&o, &e);
	if (dns == NULL) {
		fprintf(stderr, "tlsrpt: DNS: %s\n", e.msg);
		return 1;
	}
	if (local != NULL && cli_load_dns_file(NULL, dns, local) != 0) {
		dns_free(dns);
		return 1;
	}
	if (check_record(dns, domain) != 0)
		rc = 1;
	if (config == NULL)
		printf("signers: not checked (no configuration file; use --config FILE)\n");
	else if (check_signers(dns, config, domain) != 0)
		rc = 1;
	dns_free(dns);
	return rc;
}

int
cmd_dns(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return check(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return EXIT_USAGE;
}
