/*
 * test_conf.c - unit tests of the configuration table and loader (src/config/conf*):
 * the seed block of etc/tlsrptd.toml, defaults, if/then/else, substitution, getters,
 * the dump, and a table of bad configurations with their exact messages and lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/conf.h"
#include "util/xalloc.h"

#define SEED_FILE "etc/tlsrptd.toml"

static char *
read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[4096];
	size_t n;

	assert_non_null(f);
	buf_init(&b, 1 << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_append(&b, chunk, n), 0);
	fclose(f);
	return buf_steal(&b, len);
}

/* Loads text; fails the test with every error when it does not load. */
static struct conf *
load_ok(const char *text)
{
	struct conf *c = NULL;
	struct buf errs;
	struct err e = { 0 };

	buf_init(&errs, CONF_MAX_ERRORS_TEXT);
	if (conf_parse("tlsrptd.toml", text, strlen(text), &c, &errs, &e) != 0)
		fail_msg("load failed:\n%s", buf_cstr(&errs));
	buf_clear(&errs);
	return c;
}

static char *
eval_str(const struct conf *c, const char *key, const char *rcpt_domain)
{
	const struct expr_var vars[] = { { "rcpt_domain", rcpt_domain } };
	struct err e = { 0 };
	char *s = NULL;

	if (conf_eval_string(c, key, vars, rcpt_domain ? 1 : 0, &s, &e) != 0)
		fail_msg("%s: %s", key, e.msg);
	return s;
}

static void
assert_eval(const struct conf *c, const char *key, const char *want)
{
	char *got = eval_str(c, key, NULL);
	if (strcmp(got, want) != 0)
		fail_msg("%s: got '%s', want '%s'", key, got, want);
	free(got);
}

static void
test_seed_block(void **state)
{
	size_t len;
	char *text = read_all(SEED_FILE, &len);
	struct conf *c = load_ok(text);
	struct err e = { 0 };
	char **items = NULL;
	size_t n = 0;
	enum window_period wp = WINDOW_HOURLY;
	(void)state;

	assert_eval(c, "report.tls.aggregate.from-name", "TLS Report");
	assert_eval(c, "report.tls.aggregate.from-address", "tls-reports@example.org");
	assert_eval(c, "report.tls.aggregate.org-name", "The Example Organization");
	assert_eval(c, "report.tls.aggregate.contact-info", "tls-reports@example.org");
	assert_eval(c, "report.submitter", "mx.example.org");
	assert_eval(c, "report.domain", "example.org");
	assert_int_equal(conf_eval_list(c, "report.tls.aggregate.sign", NULL, 0, &items, &n, &e),
	                 0);
	assert_int_equal(n, 1);
	assert_string_equal(items[0], "rsa");
	conf_strv_free(items, n);
	assert_int_equal(conf_size(c, "report.tls.aggregate.max-size"), 26214400);
	assert_int_equal(conf_eval_send(c, NULL, 0, &wp, &e), 0);
	assert_int_equal(wp, WINDOW_DAILY);

	/* our sections as `make run` wants them */
	assert_string_equal(conf_str(c, "collector.socket"), "var/collector.sock");
	assert_string_equal(conf_str(c, "store.path"), "var/tlsrptd.sqlite");
	assert_string_equal(conf_enum(c, "store.backend"), "sqlite");
	assert_string_equal(conf_str(c, "web.listen"), "127.0.0.1:8460");
	assert_string_equal(conf_enum(c, "log.destination"), "stderr");
	assert_int_equal(conf_int(c, "collector.socket-mode"), 0660);
	assert_int_equal(conf_duration_ms(c, "collector.flush-interval"), 1000);
	assert_int_equal(conf_duration_ms(c, "report.tls.aggregate.jitter"), 4 * 3600 * 1000);
	assert_int_equal(conf_duration_ms(c, "report.analysis.store"), 30LL * 86400 * 1000);
	assert_true(conf_bool(c, "report.analysis.forward"));
	const char *const *list = conf_list(c, "report.analysis.addresses", &n);
	assert_int_equal(n, 2);
	assert_string_equal(list[1], "tls-reports@*");
	conf_free(c);
	free(text);
}

static void
test_submitter_falls_back_to_hostname(void **state)
{
	size_t len;
	char *text = read_all(SEED_FILE, &len);
	char host[256] = { 0 };
	(void)state;

	/* drop the submitter line */
	char *line = strstr(text, "\nsubmitter = ");
	assert_non_null(line);
	char *end = strchr(line + 1, '\n');
	memmove(line, end, strlen(end) + 1);

	struct conf *c = load_ok(text);
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	assert_eval(c, "report.submitter", host);
	assert_false(conf_is_set(c, "report.submitter"));
	conf_free(c);
	free(text);

	/* lookup.default.hostname wins over the machine's name */
	c = load_ok("[lookup.default]\nhostname = \"mail.example.net\"\n");
	assert_eval(c, "report.submitter", "mail.example.net");
	assert_eval(c, "report.domain", "example.net");
	assert_eval(c, "report.tls.aggregate.from-address", "noreply-tls@example.net");
	assert_eval(c, "report.tls.aggregate.org-name", "example.net");
	assert_eval(c, "report.tls.aggregate.from-name", "TLS Aggregate Report");
	struct err e = { 0 };
	char **items = NULL;
	size_t n = 0;
	assert_int_equal(conf_eval_list(c, "report.tls.aggregate.sign", NULL, 0, &items, &n, &e),
	                 0);
	assert_int_equal(n, 2);
	assert_string_equal(items[0], "rsa-example.net");
	assert_string_equal(items[1], "ed25519-example.net");
	conf_strv_free(items, n);
	/* contact-info has no default: the caller falls back to from-address */
	struct expr_value v;
	assert_int_equal(conf_eval(c, "report.tls.aggregate.contact-info", NULL, 0, &v, &e),
	                 ERR_NOTFOUND);
	conf_free(c);

	/* then server.hostname */
	c = load_ok("[server]\nhostname = \"mx2.example.com\"\n");
	assert_eval(c, "report.submitter", "mx2.example.com");
	conf_free(c);

	/* Stalwart v0.15's default, pasted: server.hostname falls back to the host name */
	c = load_ok("[report]\nsubmitter = \"config_get('server.hostname')\"\n");
	assert_eval(c, "report.submitter", host);
	conf_free(c);
}

static void
test_send_conditional(void **state)
{
	static const char text[] =
	        "[report.tls.aggregate]\n"
	        "send = [ { if = \"rcpt_domain == 'example.org'\", then = \"hourly\" },"
	        " { if = \"ends_with(rcpt_domain, '.net')\", then = \"'weekly'\" },"
	        " { else = \"daily\" } ]\n";
	struct conf *c = load_ok(text);
	struct err e = { 0 };
	static const struct {
		const char *domain;
		enum window_period want;
	} cases[] = {
		{ "example.org", WINDOW_HOURLY },
		{ "example.com", WINDOW_DAILY },
		{ "example.net", WINDOW_WEEKLY },
		{ "", WINDOW_DAILY },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct expr_var vars[] = { { "rcpt_domain", cases[i].domain } };
		enum window_period wp = WINDOW_NEVER;
		assert_int_equal(conf_eval_send(c, vars, 1, &wp, &e), 0);
		if (wp != cases[i].want)
			fail_msg("%s: got %s, want %s", cases[i].domain, window_period_name(wp),
			         window_period_name(cases[i].want));
	}
	conf_free(c);

	/* no else: the default (daily) */
	c = load_ok("[report.tls.aggregate]\n"
	            "send = [ { if = \"rcpt_domain == 'a.example'\", then = \"never\" } ]\n");
	const struct expr_var a[] = { { "rcpt_domain", "a.example" } };
	const struct expr_var b[] = { { "rcpt_domain", "b.example" } };
	enum window_period wp = WINDOW_HOURLY;
	assert_int_equal(conf_eval_send(c, a, 1, &wp, &e), 0);
	assert_int_equal(wp, WINDOW_NEVER);
	assert_int_equal(conf_eval_send(c, b, 1, &wp, &e), 0);
	assert_int_equal(wp, WINDOW_DAILY);
	conf_free(c);

	/* send = false (a TOML boolean) means never */
	c = load_ok("[report.tls.aggregate]\nsend = false\n");
	assert_int_equal(conf_eval_send(c, NULL, 0, &wp, &e), 0);
	assert_int_equal(wp, WINDOW_NEVER);
	conf_free(c);
}

static void
test_substitution_and_secrets(void **state)
{
	const char *tmp = getenv("TLSRPT_TEST_TMP");
	char path[512], text[2048];
	FILE *f;
	(void)state;

	snprintf(path, sizeof(path), "%s/test_conf_key.pem", tmp ? tmp : "/tmp");
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE "
	      "KEY-----\n\n",
	      f);
	fclose(f);
	setenv("TLSRPT_TEST_DB_PASSWORD", "s3cret", 1);
	snprintf(text, sizeof(text),
	         "[signature.ed]\n"
	         "private-key = \"%%{file:%s}%%\"\n"
	         "domain = \"example.org\"\n"
	         "selector = \"tlsrpt\"\n"
	         "algorithm = \"ed25519-sha256\"\n"
	         "[store]\n"
	         "password = \"pw:%%{env:TLSRPT_TEST_DB_PASSWORD}%%!\"\n",
	         path);
	struct conf *c = load_ok(text);
	assert_string_equal(conf_str(c, "signature.ed.private-key"),
	                    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n"
	                    "-----END PRIVATE KEY-----");
	assert_string_equal(conf_str(c, "store.password"), "pw:s3cret!");
	assert_string_equal(conf_enum(c, "signature.ed.canonicalization"), "relaxed/relaxed");
	size_t n = 0;
	const char *const *ids = conf_ids(c, "signature", &n);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], "ed");
	const char *const *headers = conf_list(c, "signature.ed.headers", &n);
	assert_int_equal(n, 9);
	assert_string_equal(headers[0], "From");
	assert_string_equal(headers[8], "TLS-Report-Submitter");

	struct buf dump;
	buf_init(&dump, 1 << 20);
	assert_int_equal(conf_dump(c, &dump), 0);
	const char *d = buf_cstr(&dump);
	assert_non_null(strstr(d, "\nsignature.ed.private-key = <hidden>\n"));
	assert_non_null(strstr(d, "\nstore.password = <hidden>\n"));
	assert_null(strstr(d, "s3cret"));
	assert_null(strstr(d, "MC4CAQAw"));
	assert_non_null(strstr(d, "\nsignature.ed.domain = \"example.org\"\n"));
	assert_non_null(
	        strstr(d, "\nsignature.ed.canonicalization = \"relaxed/relaxed\"  # default\n"));
	assert_non_null(strstr(d, "\ncollector.flush-interval = \"1s\"  # default\n"));
	assert_non_null(strstr(d, "\ndelivery.workers = 4  # default\n"));
	assert_non_null(strstr(d, "\nreport.analysis.forward = true  # default\n"));
	assert_non_null(strstr(d, "\n# store.url is not set\n"));
	assert_non_null(strstr(d, "\nreport.tls.aggregate.send = \"daily\"  # default\n"));
	buf_clear(&dump);
	conf_free(c);
	unlink(path);
}

static void
test_empty_lists(void **state)
{
	static const char text[] = "[Report.Analysis]\naddresses = []\n"
	                           "[report.tls.aggregate]\nsign = []\n";
	struct conf *c = load_ok(text);
	struct err e = { 0 };
	char **items = NULL;
	size_t n = 9;
	(void)state;

	assert_null(conf_list(c, "report.analysis.addresses", &n));
	assert_int_equal(n, 0);
	assert_true(conf_is_set(c, "report.analysis.addresses"));
	assert_int_equal(conf_eval_list(c, "report.tls.aggregate.sign", NULL, 0, &items, &n, &e),
	                 0);
	assert_int_equal(n, 0);
	conf_strv_free(items, n);
	struct buf dump;
	buf_init(&dump, 1 << 20);
	assert_int_equal(conf_dump(c, &dump), 0);
	assert_non_null(strstr(buf_cstr(&dump), "\nreport.analysis.addresses = []\n"));
	assert_non_null(strstr(buf_cstr(&dump), "\nreport.tls.aggregate.sign = []  # = []\n"));
	buf_clear(&dump);
	conf_free(c);
}

static void
test_other_subsystems_ignored(void **state)
{
	static const char text[] = "[server.listener.smtp]\n"
	                           "bind = \"[::]:25\"\n"
	                           "protocol = \"smtp\"\n"
	                           "[queue.outbound]\n"
	                           "hostname = \"x\"\n"
	                           "[storage]\n"
	                           "data = \"rocksdb\"\n"
	                           "[report.dmarc.aggregate]\n"
	                           "send = \"weekly\"\n"
	                           "[collector]\n"
	                           "max-memory = \"1gb\"\n"
	                           "dump-max-bytes = 0\n";
	struct conf *c = load_ok(text);
	(void)state;

	assert_int_equal(conf_size(c, "collector.max-memory"), 1024 * 1024 * 1024);
	assert_int_equal(conf_size(c, "collector.dump-max-bytes"), 0);
	assert_int_equal(conf_size(c, "web.max-body"), 10 * 1024 * 1024);
	conf_free(c);
}

/* Stalwart's default signer ids carry the report domain: `rsa-example.org`. */
static void
test_dotted_signature_ids(void **state)
{
	static const char text[] = "[report.tls.aggregate]\n"
	                           "sign = \"['rsa-example.org', 'ed25519']\"\n"
	                           "[signature.\"rsa-example.org\"]\n"
	                           "private-key = \"k1\"\n"
	                           "domain = \"example.org\"\n"
	                           "selector = \"s1\"\n"
	                           "algorithm = \"rsa-sha256\"\n"
	                           "headers = [\"From\", \"To\"]\n"
	                           "[signature.ed25519]\n"
	                           "private-key = \"k2\"\n"
	                           "domain = \"example.org\"\n"
	                           "selector = \"s2\"\n"
	                           "algorithm = \"ed25519-sha256\"\n";
	struct conf *c = load_ok(text);
	size_t n = 0;
	(void)state;

	const char *const *ids = conf_ids(c, "signature", &n);
	assert_int_equal(n, 2);
	assert_string_equal(ids[0], "rsa-example.org");
	assert_string_equal(ids[1], "ed25519");
	assert_string_equal(conf_str(c, "signature.rsa-example.org.selector"), "s1");
	const char *const *h = conf_list(c, "signature.rsa-example.org.headers", &n);
	assert_int_equal(n, 2);
	assert_string_equal(h[1], "To");
	assert_string_equal(conf_str(c, "signature.ed25519.selector"), "s2");
	conf_free(c);
}

static void
test_units(void **state)
{
	static const struct {
		const char *key, *toml;
		int64_t want;
	} cases[] = {
		{ "collector.max-memory", "\"1mb\"", 1048576 },
		{ "collector.max-memory", "\"25MB\"", 25 * 1048576 },
		{ "collector.max-memory", "\"2g\"", 2LL << 30 },
		{ "collector.max-memory", "\"1gb\"", 1LL << 30 },
		{ "collector.max-memory", "\"4096k\"", 4 * 1048576 },
		{ "collector.max-memory", "2097152", 2097152 },
		{ "collector.max-memory", "\"2097152b\"", 2097152 },
		{ "web.max-body", "\"1kb\"", 1024 },
		{ "collector.flush-interval", "\"100ms\"", 100 },
		{ "collector.flush-interval", "\"30s\"", 30000 },
		{ "collector.flush-interval", "\"1m\"", 60000 },
		{ "delivery.retry-until", "\"1h\"", 3600000 },
		{ "delivery.retry-until", "\"1d\"", 86400000 },
		{ "delivery.retry-until", "\"7d\"", 7 * 86400000LL },
		{ "delivery.retry-until", "\"2w\"", 14 * 86400000LL },
		{ "delivery.workers", "64", 64 },
		{ "delivery.workers", "\"8\"", 8 },
		{ "collector.socket-mode", "\"600\"", 0600 },
		{ "collector.socket-mode", "\"0755\"", 0755 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256];
		const char *dot = strchr(cases[i].key, '.');
		snprintf(text, sizeof(text), "[%.*s]\n%s = %s\n", (int)(dot - cases[i].key),
		         cases[i].key, dot + 1, cases[i].toml);
		struct conf *c = load_ok(text);
		int64_t got;
		if (strstr(cases[i].key, "interval") || strstr(cases[i].key, "retry"))
			got = conf_duration_ms(c, cases[i].key);
		else if (strstr(cases[i].key, "workers") || strstr(cases[i].key, "mode"))
			got = conf_int(c, cases[i].key);
		else
			got = (int64_t)conf_size(c, cases[i].key);
		if (got != cases[i].want)
			fail_msg("%s = %s: got %lld, want %lld", cases[i].key, cases[i].toml,
			         (long long)got, (long long)cases[i].want);
		conf_free(c);
	}
}

struct bad_case {
	const char *text;
	const char *want; /* every error line, '\n'-terminated */
};

static const struct bad_case bad_cases[] = {
	{ "[collector]\nsockt = \"x\"\n",
	  "tlsrptd.toml:2: collector.sockt: unknown key (did you mean collector.socket?)\n" },
	{ "[log]\nlevle = \"info\"\n",
	  "tlsrptd.toml:2: log.levle: unknown key (did you mean log.level?)\n" },
	{ "[report]\nsubmiter = \"'a.example'\"\n",
	  "tlsrptd.toml:2: report.submiter: unknown key (did you mean report.submitter?)\n" },
	{ "[web]\ncompletely-unknown = 1\n",
	  "tlsrptd.toml:2: web.completely-unknown: unknown key\n" },
	{ "[report.tls.aggregate]\nsend = \"monthly\"\n",
	  "tlsrptd.toml:2: report.tls.aggregate.send: expected hourly|daily|weekly|never\n" },
	{ "[report.tls.aggregate]\nmax-size = 100\n",
	  "tlsrptd.toml:2: report.tls.aggregate.max-size: must be between 512 bytes and 1gb\n" },
	{ "[report.tls.aggregate]\nmax-size = \"25xb\"\n",
	  "tlsrptd.toml:2: report.tls.aggregate.max-size: expected a size such as 512, 64kb, 25mb "
	  "or "
	  "1gb\n" },
	{ "[collector]\nflush-interval = \"5ms\"\n",
	  "tlsrptd.toml:2: collector.flush-interval: must be between 10ms and 1m\n" },
	{ "[collector]\nflush-interval = 5\n", "tlsrptd.toml:2: collector.flush-interval: expected "
	                                       "a duration such as 100ms, 30s, 5m, 1h "
	                                       "or 7d\n" },
	{ "[collector]\n\nflush-interval = \"2 s\"\n",
	  "tlsrptd.toml:3: collector.flush-interval: expected a duration such as 100ms, 30s, 5m, "
	  "1h "
	  "or 7d\n" },
	{ "[collector]\nsocket-mode = \"0999\"\n",
	  "tlsrptd.toml:2: collector.socket-mode: expected an octal mode such as \"0660\"\n" },
	{ "[collector]\nsocket-mode = 660\n",
	  "tlsrptd.toml:2: collector.socket-mode: expected an octal mode such as \"0660\"\n" },
	{ "[collector]\nsocket = 5\n", "tlsrptd.toml:2: collector.socket: expected a string\n" },
	{ "[store]\nbackend = \"mysql\"\n",
	  "tlsrptd.toml:2: store.backend: expected sqlite|postgresql\n" },
	{ "[store]\nbackend = \"postgresql\"\n",
	  "tlsrptd.toml:2: store.url: required when store.backend is postgresql\n" },
	{ "[store]\nurl = \"mysql://db/x\"\n",
	  "tlsrptd.toml:2: store.url: expected postgresql://[USER@]HOST[:PORT]/DBNAME\n" },
	{ "[web]\nlisten = \"8460\"\n",
	  "tlsrptd.toml:2: web.listen: expected HOST:PORT such as 127.0.0.1:8460 or [::1]:8460 "
	  "(empty: off)\n" },
	{ "[web]\nlisten = \"127.0.0.1:99999\"\n",
	  "tlsrptd.toml:2: web.listen: expected HOST:PORT such as 127.0.0.1:8460 or [::1]:8460 "
	  "(empty: off)\n" },
	{ "[web]\ntls-cert = \"/etc/c.pem\"\n",
	  "tlsrptd.toml:2: web.tls-key: required when web.tls-cert is set\n" },
	{ "[web]\nupload-path = \"tlsrpt\"\n",
	  "tlsrptd.toml:2: web.upload-path: expected a URL path starting with '/'\n" },
	{ "[web]\nmax-body = \"2gb\"\n",
	  "tlsrptd.toml:2: web.max-body: must be between 1kb and 1gb\n" },
	{ "[delivery]\nworkers = 0\n",
	  "tlsrptd.toml:2: delivery.workers: must be between 1 and 64\n" },
	{ "[delivery]\nworkers = \"four\"\n",
	  "tlsrptd.toml:2: delivery.workers: expected an integer\n" },
	{ "[delivery]\nhttps-ignore-cert = \"yes\"\n",
	  "tlsrptd.toml:2: delivery.https-ignore-cert: expected true or false\n" },
	{ "[delivery]\nrelay = \"127.0.0.1:25\"\n",
	  "tlsrptd.toml:2: delivery.relay: expected smtp://HOST[:PORT] or smtps://HOST[:PORT]\n" },
	{ "[delivery]\nmode = \"Relay\"\n",
	  "tlsrptd.toml:2: delivery.mode: expected relay|direct\n" },
	{ "[delivery]\nrelay-password = \"x\"\n",
	  "tlsrptd.toml:2: delivery.relay-user: required when delivery.relay-password is set\n" },
	{ "[delivery]\nretry-until = \"31d\"\n",
	  "tlsrptd.toml:2: delivery.retry-until: must be between 1m and 30d\n" },
	{ "[log]\nlevel = \"verbose\"\n",
	  "tlsrptd.toml:2: log.level: expected error|warn|info|debug\n" },
	{ "[report.analysis]\nforward = 1\n",
	  "tlsrptd.toml:2: report.analysis.forward: expected true or false\n" },
	{ "[report.analysis]\naddresses = [1, 2]\n",
	  "tlsrptd.toml:2: report.analysis.addresses: expected a list of strings\n" },
	{ "[report.analysis]\nstore = \"12h\"\n",
	  "tlsrptd.toml:2: report.analysis.store: must be between 1d and 3650d\n" },
	/* expressions */
	{ "[report.tls.aggregate]\nfrom-name = \"'TLS Report\"\n",
	  "tlsrptd.toml:2: report.tls.aggregate.from-name: expression column 1: unterminated "
	  "string "
	  "literal\n" },
	{ "[report.tls.aggregate]\nfrom-name = \"concat('a',\"\n",
	  "tlsrptd.toml:2: report.tls.aggregate.from-name: expression column 12: unexpected end of "
	  "expression\n" },
	{ "[report.tls.aggregate]\nfrom-name = \"lower(1, 2)\"\n",
	  "tlsrptd.toml:2: report.tls.aggregate.from-name: expression column 1: function lower "
	  "takes "
	  "1 argument, got 2\n" },
	{ "[report.tls.aggregate]\nfrom-address = \"'a@' + domain\"\n",
	  "tlsrptd.toml:2: report.tls.aggregate.from-address: expression column 8: unknown "
	  "variable "
	  "'domain'\n" },
	{ "[report.tls.aggregate]\nfrom-address = \"'not an address'\"\n",
	  "tlsrptd.toml:2: report.tls.aggregate.from-address: expected an e-mail address, got 'not "
	  "an "
	  "address'\n" },
	{ "[report.tls.aggregate]\nsend = \"1 / 0\"\n",
	  "tlsrptd.toml:2: report.tls.aggregate.send: division by zero\n" },
	{ "[report.tls.aggregate]\nsign = \"['rsa', 5]\"\n",
	  "tlsrptd.toml:2: report.tls.aggregate.sign: expected a list of signature ids\n" },
	{ "[report]\nsubmitter = \"'not a domain!'\"\n",
	  "tlsrptd.toml:2: report.submitter: expected a domain name, got 'not a domain!'\n" },
	{ "[report.tls.aggregate]\n"
	  "send = [ { if = \"rcpt_domain == 'a'\", then = \"hourly\" }, { else = \"monthly\" } ]\n",
	  "tlsrptd.toml:2: report.tls.aggregate.send.0001.else: expected "
	  "hourly|daily|weekly|never\n" },
	{ "[report.tls.aggregate]\nsend = [ { if = \"rcpt_domain == \", then = \"hourly\" } ]\n",
	  "tlsrptd.toml:2: report.tls.aggregate.send.0000.if: expression column 16: unexpected end "
	  "of "
	  "expression\n" },
	{ "[report.tls.aggregate]\nsend = [ { then = \"hourly\" } ]\n",
	  "tlsrptd.toml:2: report.tls.aggregate.send.0000: 'then' without 'if'\n" },
	{ "[report.tls.aggregate]\nsend = [ { else = \"daily\" }, { if = \"true\", then = "
	  "\"hourly\" } "
	  "]\n",
	  "tlsrptd.toml:2: report.tls.aggregate.send.0000: 'else' must be the last branch\n" },
	{ "[report.tls.aggregate]\nsend = [ { if = \"true\", then = \"hourly\", other = 1 } ]\n",
	  "tlsrptd.toml:2: report.tls.aggregate.send.0000.other: unknown key\n" },
	{ "[store]\npassword = \"x\"\n[report.tls.aggregate]\nfrom-name = "
	  "\"config_get('store.password')\"\n",
	  "tlsrptd.toml:4: report.tls.aggregate.from-name: config_get('store.password'): secrets "
	  "cannot be read\n" },
	{ "[report]\nsubmitter = \"config_get('report.domain')\"\n",
	  "tlsrptd.toml:2: report.submitter: config_get('report.domain'): references nested deeper "
	  "than 8 (a loop?)\n" },
	/* DKIM signers */
	{ "[signature.rsa]\ndomain = \"example.org\"\nselector = \"s\"\nalgorithm = "
	  "\"rsa-sha256\"\n",
	  "tlsrptd.toml:2: signature.rsa.private-key: missing (required in [signature.rsa])\n" },
	{ "[signature.rsa]\nprivate-key = \"%{file:/nonexistent/key.pem}%\"\ndomain = "
	  "\"example.org\"\nselector = \"s\"\nalgorithm = \"rsa-sha256\"\n",
	  "tlsrptd.toml:2: signature.rsa.private-key: cannot read /nonexistent/key.pem: No such "
	  "file "
	  "or directory\n" },
	{ "[signature.rsa]\nprivate-key = \"x\"\ndomain = \"example.org\"\nselector = "
	  "\"s\"\nalgorithm = \"rsa-sha1\"\n",
	  "tlsrptd.toml:5: signature.rsa.algorithm: expected rsa-sha256|ed25519-sha256\n" },
	{ "[signature.rsa]\nprivate-key = \"x\"\ndomain = \"example.org\"\nselectr = "
	  "\"s\"\nalgorithm = \"rsa-sha256\"\n",
	  "tlsrptd.toml:2: signature.rsa.selector: missing (required in [signature.rsa])\n"
	  "tlsrptd.toml:4: signature.rsa.selectr: unknown key (did you mean "
	  "signature.rsa.selector?)\n" },
	/* substitution */
	{ "[store]\npassword = \"%{env:TLSRPT_TEST_UNSET_VARIABLE}%\"\n",
	  "tlsrptd.toml:2: store.password: environment variable TLSRPT_TEST_UNSET_VARIABLE is not "
	  "set\n" },
	{ "[store]\npassword = \"%{vault:x}%\"\n",
	  "tlsrptd.toml:2: store.password: unknown substitution %{vault:x}% (expected "
	  "%{file:/path}% "
	  "or %{env:NAME}%)\n" },
	{ "[store]\npassword = \"abc%{env:X\"\n",
	  "tlsrptd.toml:2: store.password: unterminated %{ (expected %{file:/path}% or "
	  "%{env:NAME}%)\n" },
	{ "[report.tls.aggregate]\nsend = \"monthly\"\n[collector]\nsockt = \"x\"\n",
	  "tlsrptd.toml:2: report.tls.aggregate.send: expected hourly|daily|weekly|never\n"
	  "tlsrptd.toml:4: collector.sockt: unknown key (did you mean collector.socket?)\n" },
	{ "[report.tls.aggregate]\nsend = [\n  { if = \"rcpt_domain == 'a'\", then = \"hourly\" "
	  "},\n"
	  "  { if = \"rcpt_domain ==\", then = \"daily\" },\n  { else = \"monthly\" },\n]\n",
	  "tlsrptd.toml:4: report.tls.aggregate.send.0001.if: expression column 15: unexpected end "
	  "of expression\n"
	  "tlsrptd.toml:5: report.tls.aggregate.send.0002.else: expected "
	  "hourly|daily|weekly|never\n" },
	/* from the TOML parser */
	{ "[log]\nlevel = \"info\"\nlevel = \"debug\"\n",
	  "tlsrptd.toml:3:1: duplicate key \"level\" (first defined at 2:9)\n" },
	{ "[log]\nlevel = \"info\"\n[LOG]\nlevel = \"x\"\n",
	  "tlsrptd.toml:4:9: key \"log.level\" is defined twice: also at 2:9 (table names are "
	  "case-insensitive and quoted keys may contain dots)\n" },
	{ "[report.tls.aggregate]\nsend = \"daily\"\n[report.tls.aggregate]\nsign = \"x\"\n",
	  "tlsrptd.toml:3:2: table \"report.tls.aggregate\" is already defined (at 1:13)\n" },
	{ "[log]\nlevel = \"in\xffo\"\n",
	  "tlsrptd.toml:2:12: invalid UTF-8 (byte 0xFF); the file must be UTF-8\n" },
	{ "[collector]\nsocket = \"a\\u0000b\"\n",
	  "tlsrptd.toml:2: collector.socket: value contains a NUL character\n" },
	{ "[collector]\nmax-memory = 2.5\ndump-max-files = 1979-05-27\n",
	  "tlsrptd.toml:2: collector.max-memory: expected a size such as 512, 64kb, 25mb or 1gb\n"
	  "tlsrptd.toml:3: collector.dump-max-files: expected an integer\n" },
	/* every error is reported, in file order */
	{ "[collector]\nsockt = \"x\"\nflush-interval = \"0s\"\n[log]\nlevel = \"loud\"\n",
	  "tlsrptd.toml:2: collector.sockt: unknown key (did you mean collector.socket?)\n"
	  "tlsrptd.toml:3: collector.flush-interval: must be between 10ms and 1m\n"
	  "tlsrptd.toml:5: log.level: expected error|warn|info|debug\n" },
};

static void
test_bad_configs(void **state)
{
	int failed = 0;
	(void)state;

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *bc = &bad_cases[i];
		struct conf *c = NULL;
		struct buf errs;
		struct err e = { 0 };
		buf_init(&errs, CONF_MAX_ERRORS_TEXT);
		int rc = conf_parse("tlsrptd.toml", bc->text, strlen(bc->text), &c, &errs, &e);
		if (rc != ERR_INVALID || c != NULL || strcmp(buf_cstr(&errs), bc->want) != 0) {
			print_error("case %zu:\n%s\ngot rc %d:\n%swant:\n%s\n", i, bc->text, rc,
			            buf_cstr(&errs), bc->want);
			failed++;
		} else {
			/* e holds the first line */
			const char *nl = strchr(bc->want, '\n');
			if (strncmp(e.msg, bc->want, (size_t)(nl - bc->want)) != 0 ||
			    e.msg[nl - bc->want] != '\0') {
				print_error("case %zu: e.msg got '%s'\n", i, e.msg);
				failed++;
			}
		}
		conf_free(c);
		buf_clear(&errs);
	}
	assert_true(sizeof(bad_cases) / sizeof(bad_cases[0]) >= 30);
	assert_int_equal(failed, 0);
}

static void
test_conf_load_file(void **state)
{
	struct conf *c = NULL;
	struct buf errs;
	struct err e = { 0 };
	(void)state;

	buf_init(&errs, 4096);
	assert_int_equal(conf_load("/nonexistent/tlsrptd.toml", &c, &errs, &e), ERR_IO);
	assert_string_equal(e.msg,
	                    "cannot read /nonexistent/tlsrptd.toml: No such file or directory");
	assert_string_equal(buf_cstr(&errs),
	                    "cannot read /nonexistent/tlsrptd.toml: No such file or directory\n");
	buf_clear(&errs);
	assert_int_equal(conf_load(SEED_FILE, &c, NULL, &e), 0);
	assert_string_equal(conf_name(c), SEED_FILE);
	conf_free(c);
}

static void
test_table_is_consistent(void **state)
{
	(void)state;
	/* every default of the table loads (an empty file is valid) */
	struct conf *c = load_ok("");
	conf_free(c);
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		assert_non_null(k->desc);
		assert_true(conf_key_is_ours(k->name) || strncmp(k->name, "server.", 7) == 0);
		for (size_t j = 0; j < i; j++)
			if (strcmp(conf_keys[j].name, k->name) == 0)
				fail_msg("duplicate table key %s", k->name);
		if (k->type == CONF_ENUM)
			assert_non_null(k->choices);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_block),
		cmocka_unit_test(test_submitter_falls_back_to_hostname),
		cmocka_unit_test(test_send_conditional),
		cmocka_unit_test(test_substitution_and_secrets),
		cmocka_unit_test(test_empty_lists),
		cmocka_unit_test(test_other_subsystems_ignored),
		cmocka_unit_test(test_dotted_signature_ids),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_conf_load_file),
		cmocka_unit_test(test_table_is_consistent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
