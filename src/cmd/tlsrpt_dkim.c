/*
 * tlsrpt_dkim.c - `tlsrpt dkim keygen`: makes a DKIM signing key for report mail
 * (RFC 6376 section 3.6.1 key records, RFC 8463 ed25519, RFC 8460 section 3 signing).
 *
 *   tlsrpt dkim keygen --algorithm ed25519|rsa [--bits N] --domain D --selector S
 *                      [--out FILE] [--id ID]
 *
 * Writes the PKCS#8 PEM private key to FILE (default ./<id>.pem) with mode 0600 and
 * refuses to overwrite an existing file.  Prints, on stdout, the DNS TXT record in zone
 * file form (character-strings of at most 255 bytes) and the [signature.<id>] block for
 * the configuration; the default id is "rsa-D" / "ed25519-D", the ids of Stalwart's
 * default report.tls.aggregate.sign list when D is report.domain.
 *
 * Exit status 0 ok, 1 failure (file exists, cannot write), 2 usage error.
 * Threading: single-threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/tlsrpt.h"
#include "mail/dkim.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/str.h"

static void
usage(FILE *out)
{
	fprintf(out, "usage: tlsrpt dkim keygen --algorithm ed25519|rsa [--bits N] --domain D\n"
	             "         --selector S [--out FILE] [--id ID]\n\n"
	             "Generates a DKIM key: writes the private key (PEM, mode 0600) to FILE\n"
	             "(default ./<id>.pem), prints the DNS TXT record to publish at\n"
	             "S._domainkey.D and the [signature.<id>] configuration block.\n"
	             "The default id is rsa-D or ed25519-D (Stalwart's default signer ids); --bits "
	             "is for RSA "
	             "(default 2048).\n");
}

/* Letters, digits, '-', '_' and '.' between non-empty labels: a DNS name we can print. */
static bool
name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 253 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.' && s[i + 1] == '.')
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* Ids: letters, digits, '-', '_' and '.' (a dotted id is quoted in the TOML block). */
static bool
id_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

/* Creates path with mode 0600 (never overwriting) and writes data.  Prints errors. */
static int
write_new_file(const char *path, struct span data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd < 0) {
		if (errno == EEXIST)
			fprintf(stderr, "tlsrpt: %s: file exists; refusing to overwrite it\n",
			        path);
		else
			fprintf(stderr, "tlsrpt: %s: cannot create: %s\n", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0600) != 0)
		goto fail;
	while (off < data.len) {
		ssize_t w = write(fd, data.p + off, data.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "tlsrpt: %s: cannot write: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(path);
	return -1;
}

/* Prints txt as zone-file character-strings of at most 255 bytes each. */
static void
print_txt_strings(struct span txt)
{
	for (size_t off = 0; off < txt.len; off += 255) {
		size_t n = txt.len - off < 255 ? txt.len - off : 255;
		printf("%s\"%.*s\"", off ? " " : "", (int)n, txt.p + off);
	}
}

static int
keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "algorithm", required_argument, NULL, 'a' },
		{ "bits", required_argument, NULL, 'b' },
		{ "domain", required_argument, NULL, 'd' },
		{ "selector", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ "id", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *alg_name = NULL, *domain = NULL, *selector = NULL, *out = NULL, *id = NULL;
	char id_buf[128], out_buf[192], abs[PATH_MAX];
	enum mdkim_alg alg;
	uint64_t bits = 0;
	struct mdkim_key *key = NULL;
	struct buf pem, rec;
	struct err e = { 0 };
	int ch, rc = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			alg_name = optarg;
			break;
		case 'b':
			if (str_to_u64(span_cstr(optarg), &bits) != 0 || bits < 1024 ||
			    bits > 8192) {
				fprintf(stderr, "tlsrpt: --bits: expected 1024..8192, got '%s'\n",
				        optarg);
				return EXIT_USAGE;
			}
			break;
		case 'd':
			domain = optarg;
			break;
		case 's':
			selector = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'i':
			id = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || alg_name == NULL || domain == NULL || selector == NULL) {
		fprintf(stderr, "tlsrpt: dkim keygen needs --algorithm, --domain and --selector\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(alg_name, "ed25519") == 0 || strcmp(alg_name, "ed25519-sha256") == 0) {
		alg = MDKIM_ED25519_SHA256;
		if (bits != 0) {
			fprintf(stderr, "tlsrpt: --bits is only for --algorithm rsa\n");
			return EXIT_USAGE;
		}
	} else if (strcmp(alg_name, "rsa") == 0 || strcmp(alg_name, "rsa-sha256") == 0) {
		alg = MDKIM_RSA_SHA256;
	} else {
		fprintf(stderr, "tlsrpt: --algorithm: expected ed25519 or rsa, got '%s'\n",
		        alg_name);
		return EXIT_USAGE;
	}
	if (!name_ok(domain)) {
		fprintf(stderr, "tlsrpt: --domain: '%s' is not a domain name\n", domain);
		return EXIT_USAGE;
	}
	if (!name_ok(selector) || strlen(selector) >= 64) {
		fprintf(stderr, "tlsrpt: --selector: '%s' is not a selector\n", selector);
		return EXIT_USAGE;
	}
	if (id == NULL) {
		snprintf(id_buf, sizeof(id_buf), "%s-%s",
		         alg == MDKIM_RSA_SHA256 ? "rsa" : "ed25519", domain);
		id = id_buf;
	} else if (!id_ok(id)) {
		fprintf(stderr,
		        "tlsrpt: --id: '%s' is not a valid id (letters, digits, -, _ and .)\n", id);
		return EXIT_USAGE;
	}
	if (out == NULL) {
		snprintf(out_buf, sizeof(out_buf), "%s.pem", id);
		out = out_buf;
	}

	buf_init(&pem, 1 << 16);
	buf_init(&rec, 1 << 16);
	if (mdkim_key_generate(alg, (unsigned)bits, &key, &e) != 0 ||
	    mdkim_key_pem(key, &pem, &e) != 0 || mdkim_key_dns_record(key, &rec, &e) != 0) {
		fprintf(stderr, "tlsrpt: cannot generate the key: %s\n", e.msg);
		goto done;
	}
	if (write_new_file(out, buf_span(&pem)) != 0)
		goto done;
	if (realpath(out, abs) == NULL) {
		fprintf(stderr, "tlsrpt: %s: %s\n", out, strerror(errno));
		goto done;
	}
	fprintf(stderr, "tlsrpt: wrote the private key to %s (mode 0600)\n", abs);

	printf("; DNS record to publish\n%s._domainkey.%s. IN TXT ", selector, domain);
	print_txt_strings(buf_span(&rec));
	printf("\n\n# tlsrptd configuration\n"
	       "# list the id in report.tls.aggregate.sign\n"
	       "[signature.%s%s%s]\n"
	       "private-key = \"%%{file:%s}%%\"\n"
	       "domain = \"%s\"\n"
	       "selector = \"%s\"\n"
	       "algorithm = \"%s\"\n"
	       "canonicalization = \"relaxed/relaxed\"\n",
	       strchr(id, '.') ? "\"" : "", id, strchr(id, '.') ? "\"" : "", abs, domain, selector,
	       mdkim_alg_name(alg));
	rc = fflush(stdout) == 0 ? 0 : 1;
done:
	mdkim_key_free(key);
	buf_clear(&pem);
	buf_clear(&rec);
	return rc;
}

int
cmd_dkim(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "keygen") == 0)
		return keygen(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return EXIT_USAGE;
}
