/*
 * tlsrpt_util.c - helpers shared by the subcommands of the `tlsrpt` CLI.
 */
#include "cmd/tlsrpt.h"

#include "mail/orgdomain.h"
#include "net/dns.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/str.h"
#include "util/err.h"

int
cli_load_conf(const char *path, struct conf **out)
{
	struct buf errs;
	struct err e = { 0 };

	buf_init(&errs, 1 << 22);
	if (conf_load(path, out, &errs, &e) != 0) {
		fputs(buf_cstr(&errs), stderr);
		if (errs.len == 0)
			fprintf(stderr, "tlsrpt: %s\n", e.msg);
		fprintf(stderr, "tlsrpt: %s: configuration has errors\n", path);
		buf_clear(&errs);
		return -1;
	}
	buf_clear(&errs);
	return 0;
}

int
cli_open_store(const char *config_path, const char *backend, const char *path, int area,
               struct store **out)
{
	struct conf *conf = NULL;
	struct err e = { 0 };
	int rc;

	if (path == NULL) {
		if (cli_load_conf(config_path, &conf) != 0)
			return -1;
		rc = store_open_conf(conf, out, &e);
	} else {
		rc = store_open(backend, path, out, &e);
	}
	if (rc == 0 && area >= 0 && (rc = store_supports(*out, (enum store_area)area, &e)) != 0) {
		store_close(*out);
		*out = NULL;
	}
	if (rc != 0)
		fprintf(stderr, "tlsrpt: %s\n", e.msg);
	conf_free(conf);
	return rc;
}

int
cli_load_dns_file(const char *cmd, struct dns *dns, const char *path)
{
	struct err e = { 0 };

	if (dns_add_local_file(dns, path, &e) != 0) {
		fprintf(stderr, "tlsrpt: %s%s%s\n", cmd ? cmd : "", cmd ? ": " : "", e.msg);
		return -1;
	}
	return 0;
}

int
cli_parse_unix_time(const char *cmd, const char *option, const char *arg, int64_t *out)
{
	if (str_to_i64(span_cstr(arg), out) != 0 || *out < 0) {
		fprintf(stderr, "tlsrpt: %s: %s: expected Unix seconds, got %s\n", cmd, option,
		        arg);
		return -1;
	}
	return 0;
}
