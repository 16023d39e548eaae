/*
 * dkim_sign.c - test driver for the DKIM signer.
 *
 *   dkim_sign -k KEY.pem -d DOMAIN -s SELECTOR [-c relaxed/relaxed] [-t TIME] [-x SECS]
 *             [-H From:To:...] MESSAGE      prints the signed message (signature first)
 *   dkim_sign -k KEY.pem -r                 prints the key's DNS TXT record text
 *   dkim_sign -g ed25519|rsa[:BITS] -o KEY.pem   generates a key (PKCS#8 PEM)
 *
 * Exit 0 on success, 1 on failure (message on stderr), 2 on usage errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail/dkim.h"
#include "util/file.h"
#include "util/buf.h"
#include "util/str.h"

int
main(int argc, char **argv)
{
	const char *keyfile = NULL, *gen = NULL, *outfile = NULL, *hlist = NULL;
	struct mdkim_sign_opts o = { .hc = MDKIM_RELAXED, .bc = MDKIM_RELAXED, .t = -1 };
	bool record = false;
	int c;
	while ((c = getopt(argc, argv, "k:d:s:c:t:x:H:rg:o:")) != -1) {
		switch (c) {
		case 'k':
			keyfile = optarg;
			break;
		case 'd':
			o.domain = optarg;
			break;
		case 's':
			o.selector = optarg;
			break;
		case 'c':
			o.hc = strncmp(optarg, "simple", 6) == 0 ? MDKIM_SIMPLE : MDKIM_RELAXED;
			o.bc = strstr(optarg, "/simple") ? MDKIM_SIMPLE : MDKIM_RELAXED;
			break;
		case 't':
			o.t = strtoll(optarg, NULL, 10);
			break;
		case 'x':
			o.expire = strtoll(optarg, NULL, 10);
			break;
		case 'H':
			hlist = optarg;
			break;
		case 'r':
			record = true;
			break;
		case 'g':
			gen = optarg;
			break;
		case 'o':
			outfile = optarg;
			break;
		default:
			return 2;
		}
	}
	struct err e = { 0 };
	struct mdkim_key *k = NULL;
	struct buf b;
	buf_init(&b, 64u << 20);
	if (gen) {
		enum mdkim_alg alg =
		        strncmp(gen, "rsa", 3) == 0 ? MDKIM_RSA_SHA256 : MDKIM_ED25519_SHA256;
		unsigned bits =
		        strchr(gen, ':') ? (unsigned)strtoul(strchr(gen, ':') + 1, NULL, 10) : 0;
		if (mdkim_key_generate(alg, bits, &k, &e) != 0 || mdkim_key_pem(k, &b, &e) != 0) {
			fprintf(stderr, "dkim_sign: %s\n", e.msg);
			return 1;
		}
		FILE *f = outfile ? fopen(outfile, "wb") : stdout;
		if (f == NULL || fwrite(b.data, 1, b.len, f) != b.len)
			return 1;
		if (outfile)
			fclose(f);
		mdkim_key_free(k);
		buf_clear(&b);
		return 0;
	}
	if (keyfile == NULL || file_read(keyfile, &b, NULL) != 0) {
		fprintf(stderr, "dkim_sign: cannot read key (-k)\n");
		return 2;
	}
	if (mdkim_key_from_pem(buf_span(&b), &k, &e) != 0) {
		fprintf(stderr, "dkim_sign: %s: %s\n", keyfile, e.msg);
		return 1;
	}
	buf_reset(&b);
	if (record) {
		if (mdkim_key_dns_record(k, &b, &e) != 0) {
			fprintf(stderr, "dkim_sign: %s\n", e.msg);
			return 1;
		}
		printf("%s\n", buf_cstr(&b));
		mdkim_key_free(k);
		buf_clear(&b);
		return 0;
	}
	if (optind >= argc || file_read(argv[optind], &b, NULL) != 0) {
		fprintf(stderr, "dkim_sign: cannot read message\n");
		return 2;
	}
	const char *names[MDKIM_MAX_H + 1];
	char hcopy[2048];
	if (hlist) {
		size_t n = 0;
		str_copy(hcopy, sizeof hcopy, hlist);
		for (char *p = hcopy; p && n < MDKIM_MAX_H;) {
			char *colon = strchr(p, ':');
			if (colon)
				*colon = '\0';
			names[n++] = p;
			p = colon ? colon + 1 : NULL;
		}
		names[n] = NULL;
		o.headers = names;
	}
	struct buf out;
	buf_init(&out, 1u << 20);
	if (mdkim_sign(k, &o, buf_span(&b), &out, &e) != 0) {
		fprintf(stderr, "dkim_sign: %s\n", e.msg);
		return 1;
	}
	fwrite(out.data, 1, out.len, stdout);
	fwrite(b.data, 1, b.len, stdout);
	buf_clear(&out);
	buf_clear(&b);
	mdkim_key_free(k);
	return 0;
}
