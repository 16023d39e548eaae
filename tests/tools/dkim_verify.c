/*
 * dkim_verify.c - test driver for the DKIM verifier.
 *
 *   dkim_verify [-K SELECTOR._domainkey.DOMAIN=RECORDFILE]... [-T] [-n NOW]
 *               [-a DOMAIN [-p PSLFILE]] MESSAGE
 *
 * Key records come from the files named with -K (a name without a file is "not
 * found"; -T makes every lookup a temporary error).  Prints one line per signature:
 * "<result> d=<domain> s=<selector> a=<alg>[ aligned=yes|no][: <reason>]".
 * Exit 0 when at least one signature passed (and is aligned with -a), 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail/dkim.h"
#include "util/file.h"
#include "util/buf.h"
#include "util/str.h"

struct keys {
	char *name[16];
	char *file[16];
	int n;
	bool temp;
};

static int
lookup(void *ctx, const char *selector, const char *domain, struct buf *txt, struct err *e)
{
	struct keys *k = ctx;
	char want[600];
	if (k->temp)
		return err_set(e, ERR_AGAIN, "simulated SERVFAIL");
	snprintf(want, sizeof want, "%s._domainkey.%s", selector, domain);
	for (int i = 0; i < k->n; i++) {
		if (str_casecmp(k->name[i], want) != 0)
			continue;
		if (file_read(k->file[i], txt, NULL) != 0)
			return err_set(e, ERR_AGAIN, "cannot read %s", k->file[i]);
		while (txt->len &&
		       (txt->data[txt->len - 1] == '\n' || txt->data[txt->len - 1] == '\r'))
			txt->data[--txt->len] = '\0';
		return 0;
	}
	return err_set(e, ERR_NOTFOUND, "no record %s", want);
}

int
main(int argc, char **argv)
{
	struct keys keys = { .n = 0 };
	const char *align = NULL, *pslfile = NULL;
	int64_t now = -1;
	int c;
	while ((c = getopt(argc, argv, "K:Tn:a:p:")) != -1) {
		switch (c) {
		case 'K': {
			char *eq = strchr(optarg, '=');
			if (eq == NULL || keys.n == 16)
				return 2;
			*eq = '\0';
			keys.name[keys.n] = optarg;
			keys.file[keys.n++] = eq + 1;
			break;
		}
		case 'T':
			keys.temp = true;
			break;
		case 'n':
			now = strtoll(optarg, NULL, 10);
			break;
		case 'a':
			align = optarg;
			break;
		case 'p':
			pslfile = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc)
		return 2;
	struct buf raw;
	buf_init(&raw, 64u << 20);
	if (file_read(argv[optind], &raw, NULL) != 0) {
		fprintf(stderr, "dkim_verify: cannot read %s\n", argv[optind]);
		return 2;
	}
	struct orgdomain_psl *psl = NULL;
	struct err e = { 0 };
	if (pslfile) {
		struct buf pb;
		buf_init(&pb, 16u << 20);
		if (file_read(pslfile, &pb, NULL) != 0 ||
		    orgdomain_psl_parse(buf_span(&pb), &psl, &e) != 0)
			return 2;
		buf_clear(&pb);
	}
	struct mime_msg m;
	if (mime_parse(&m, buf_span(&raw), NULL, &e) != 0) {
		printf("permerror: %s\n", e.msg);
		return 1;
	}
	struct mdkim_verify_opts o = { .lookup = lookup, .ctx = &keys, .now = now };
	struct mdkim_verdict *v;
	size_t n;
	mdkim_verify(&m, &o, &v, &n, &e);
	int status = 1;
	if (n == 0)
		printf("none: message is not signed\n");
	for (size_t i = 0; i < n; i++) {
		bool al = align ? mdkim_aligned(psl, v[i].domain, align) : true;
		printf("%s d=%s s=%s a=%s%s%s%s\n", mdkim_result_name(v[i].result), v[i].domain,
		       v[i].selector, v[i].alg ? mdkim_alg_name(v[i].alg) : "-",
		       align ? (al ? " aligned=yes" : " aligned=no") : "",
		       v[i].reason[0] ? ": " : "", v[i].reason);
		if (v[i].result == MDKIM_PASS && al)
			status = 0;
	}
	free(v);
	mime_msg_clear(&m);
	orgdomain_psl_free(psl);
	buf_clear(&raw);
	return status;
}
