/*
 * conf_table.c - THE table of configuration keys: the single source of truth for
 * loading, validation, `tlsrpt config check` / `tlsrptd --check-config` and the
 * documentation of defaults.  Later features add their keys here.
 *
 * Stalwart's keys (../shared/spec/stalwart-config.md) keep Stalwart's names and
 * defaults; our own sections are collector.*, store.*, web.*, delivery.*, log.* and
 * report.tls.aggregate.{delay,jitter}.
 *
 * Pure data and pure validators; thread-safe.
 */
#include "config/conf.h"

#include <string.h>

#include "report/window.h"
#include "util/str.h"

/* ------------------------------------------------------------------ validators */

static int
text_of(const struct expr_value *v, const char **p, size_t *n, struct err *e)
{
	if (v->type != EXPR_STRING)
		return err_set(e, ERR_INVALID, "expected a string");
	*p = v->u.s.p ? v->u.s.p : "";
	*n = v->u.s.len;
	return 0;
}

static bool
is_domain(const char *p, size_t n)
{
	size_t label = 0;

	if (n > 0 && p[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '.') {
			if (label == 0 || p[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '-' || c == '_';
		if (!ok || (label == 0 && c == '-') || ++label > 63)
			return false;
	}
	return label > 0 && p[n - 1] != '-';
}

static int
validate_domain(const struct expr_value *v, struct err *e)
{
	const char *p = "";
	size_t n = 0;

	if (text_of(v, &p, &n, e))
		return ERR_INVALID;
	if (!is_domain(p, n))
		return err_set(e, ERR_INVALID, "expected a domain name, got '%.*s'",
		               (int)(n > 100 ? 100 : n), p);
	return 0;
}

static int
validate_address(const struct expr_value *v, struct err *e)
{
	const char *p = "", *at;
	size_t n = 0;

	if (text_of(v, &p, &n, e))
		return ERR_INVALID;
	at = memchr(p, '@', n);
	if (at == NULL || at == p || !is_domain(at + 1, n - (size_t)(at + 1 - p)) ||
	    memchr(p, ' ', n) || memchr(p, '<', n))
		return err_set(e, ERR_INVALID, "expected an e-mail address, got '%.*s'",
		               (int)(n > 100 ? 100 : n), p);
	return 0;
}

static int
validate_period(const struct expr_value *v, struct err *e)
{
	enum window_period wp;

	if (v->type == EXPR_BOOL && !v->u.b)
		return 0;
	if (v->type != EXPR_STRING || window_period_parse(span_make(v->u.s.p, v->u.s.len), &wp))
		return err_set(e, ERR_INVALID, "expected hourly|daily|weekly|never");
	return 0;
}

static int
validate_sign(const struct expr_value *v, struct err *e)
{
	if (v->type == EXPR_STRING)
		return 0;
	if (v->type != EXPR_LIST)
		return err_set(e, ERR_INVALID, "expected a list of signature ids");
	for (size_t i = 0; i < v->u.list.n; i++)
		if (v->u.list.items[i].type != EXPR_STRING || v->u.list.items[i].u.s.len == 0)
			return err_set(e, ERR_INVALID, "expected a list of signature ids");
	return 0;
}

static int
validate_listen(const struct expr_value *v, struct err *e)
{
	const char *p = "", *colon;
	size_t n = 0;
	uint64_t port;

	if (text_of(v, &p, &n, e))
		return ERR_INVALID;
	if (n == 0)
		return 0;
	colon = NULL;
	for (size_t i = n; i > 0; i--) {
		if (p[i - 1] == ':') {
			colon = p + i - 1;
			break;
		}
	}
	if (colon == NULL || colon == p ||
	    str_to_u64(span_make(colon + 1, n - (size_t)(colon + 1 - p)), &port) || port > 65535)
		return err_set(
		        e, ERR_INVALID,
		        "expected HOST:PORT such as 127.0.0.1:8460 or [::1]:8460 (empty: off)");
	return 0;
}

static int
validate_smtp_url(const struct expr_value *v, struct err *e)
{
	const char *p = "";
	size_t n = 0;

	if (text_of(v, &p, &n, e))
		return ERR_INVALID;
	if (!((n > 7 && memcmp(p, "smtp://", 7) == 0) || (n > 8 && memcmp(p, "smtps://", 8) == 0)))
		return err_set(e, ERR_INVALID,
		               "expected smtp://HOST[:PORT] or smtps://HOST[:PORT]");
	return 0;
}

static int
validate_pg_url(const struct expr_value *v, struct err *e)
{
	const char *p = "";
	size_t n = 0;

	if (text_of(v, &p, &n, e))
		return ERR_INVALID;
	if (n > 0 && !(n > 11 && memcmp(p, "postgres://", 11) == 0) &&
	    !(n > 13 && memcmp(p, "postgresql://", 13) == 0))
		return err_set(e, ERR_INVALID, "expected postgresql://[USER@]HOST[:PORT]/DBNAME");
	return 0;
}

static int
validate_url_path(const struct expr_value *v, struct err *e)
{
	const char *p = "";
	size_t n = 0;

	if (text_of(v, &p, &n, e))
		return ERR_INVALID;
	if (n == 0 || p[0] != '/' || memchr(p, ' ', n) || memchr(p, '?', n))
		return err_set(e, ERR_INVALID, "expected a URL path starting with '/'");
	return 0;
}

/* server.roles items (issue 10); src/cmd/tlsrptd_roles.c maps them to what starts */
static int
validate_role(const struct expr_value *v, struct err *e)
{
	static const char *const roles[] = { "collector", "reporter", "receiver", "web", "all" };
	const char *p = "";
	size_t n = 0;

	if (text_of(v, &p, &n, e))
		return ERR_INVALID;
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strlen(roles[i]) == n && memcmp(roles[i], p, n) == 0)
			return 0;
	return err_set(e, ERR_INVALID,
	               "unknown role '%.*s' (expected collector, reporter, receiver, web or all)",
	               (int)(n > 100 ? 100 : n), p);
}

static int
validate_nonempty(const struct expr_value *v, struct err *e)
{
	const char *p = "";
	size_t n = 0;

	if (text_of(v, &p, &n, e))
		return ERR_INVALID;
	if (span_trim(span_make(p, n)).len == 0)
		return err_set(e, ERR_INVALID, "must not be empty");
	return 0;
}

static int
validate_lmtp_listen(const struct expr_value *v, struct err *e)
{
	const char *p = "";
	size_t n = 0;

	if (text_of(v, &p, &n, e))
		return ERR_INVALID;
	if (n >= 5 && memcmp(p, "unix:", 5) == 0) {
		if (n == 5 || p[5] != '/')
			return err_set(e, ERR_INVALID, "expected unix:/absolute/path");
		return 0;
	}
	if (validate_listen(v, e) != 0)
		return err_set(e, ERR_INVALID,
		               "expected unix:/path or HOST:PORT such as 127.0.0.1:2424 "
		               "(empty: off)");
	return 0;
}

/* alert.<id>.webhook: where alert JSON is POSTed */
static int
validate_http_url(const struct expr_value *v, struct err *e)
{
	const char *p = "";
	size_t n = 0;

	if (text_of(v, &p, &n, e))
		return ERR_INVALID;
	if (!((n > 7 && memcmp(p, "http://", 7) == 0) ||
	      (n > 8 && memcmp(p, "https://", 8) == 0)) ||
	    memchr(p, ' ', n) || memchr(p, '\n', n) || memchr(p, '\r', n))
		return err_set(e, ERR_INVALID, "expected an https:// (or http://) URL");
	return 0;
}

/* alert.<id>.threshold: a fraction 0..1 (0.05 = 5 %) */
static int
validate_fraction(const struct expr_value *v, struct err *e)
{
	double d;

	if (v->type == EXPR_FLOAT)
		d = v->u.f;
	else if (v->type == EXPR_INTEGER)
		d = (double)v->u.i;
	else
		return err_set(e, ERR_INVALID, "expected a number between 0 and 1, e.g. 0.05");
	if (!(d >= 0 && d <= 1))
		return err_set(e, ERR_INVALID, "expected a number between 0 and 1, e.g. 0.05");
	return 0;
}

/* ------------------------------------------------------------------ the table */

#define KB 1024LL
#define MB (1024LL * KB)
#define GB (1024LL * MB)
#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

#define REPORT_VARS "rcpt_domain"
#define SEND_VARS "rcpt_domain mx remote_ip"

const struct conf_key conf_keys[] = {
	/* server and lookups (Stalwart) */
	{ "server.hostname", CONF_STRING, NULL, 0, 0, NULL, NULL, validate_domain, 0,
	  "host name of this machine (unset: gethostname()); key_get('default', 'hostname') and "
	  "config_get('server.hostname') fall back to it" },
	/* roles of this host (issue 10: many MTA hosts, one database) */
	{ "server.roles", CONF_LIST, "all", 0, 0, NULL, NULL, validate_role, 0,
	  "what tlsrptd runs here: collector (socket, flusher), reporter (report generation, "
	  "delivery, alerts), receiver (upload endpoint, LMTP), web; or all" },

	/* report (Stalwart) */
	{ "report.submitter", CONF_EXPR, "key_get('default', 'hostname')", 0, 0, NULL, REPORT_VARS,
	  validate_domain, 0, "TLS-Report-Submitter, Subject, Message-ID and file name" },
	{ "report.domain", CONF_EXPR, "parent_domain(config_get('report.submitter'))", 0, 0, NULL,
	  REPORT_VARS, validate_domain, 0, "base domain of the report defaults" },
	{ "report.tls.aggregate.from-name", CONF_EXPR, "'TLS Aggregate Report'", 0, 0, NULL,
	  REPORT_VARS, NULL, 0, "display name in From" },
	{ "report.tls.aggregate.from-address", CONF_EXPR,
	  "'noreply-tls@' + config_get('report.domain')", 0, 0, NULL, REPORT_VARS, validate_address,
	  0, "From address and envelope sender of report mail" },
	{ "report.tls.aggregate.org-name", CONF_EXPR, "config_get('report.domain')", 0, 0, NULL,
	  REPORT_VARS, NULL, 0, "organization-name of the report" },
	{ "report.tls.aggregate.contact-info", CONF_EXPR, NULL, 0, 0, NULL, REPORT_VARS, NULL, 0,
	  "contact-info of the report (unset: the from-address; never null)" },
	{ "report.tls.aggregate.send", CONF_EXPR, "daily", 0, 0, NULL, SEND_VARS, validate_period,
	  0, "hourly|daily|weekly|never, may vary per domain" },
	{ "report.tls.aggregate.max-size", CONF_SIZE, "26214400", 512, GB, NULL, NULL, NULL, 0,
	  "maximum size of one report; larger reports are split" },
	{ "report.tls.aggregate.sign", CONF_EXPR,
	  "['rsa-' + config_get('report.domain'), 'ed25519-' + config_get('report.domain')]", 0, 0,
	  NULL, REPORT_VARS, validate_sign, 0, "signature ids used to DKIM-sign report mail" },
	{ "report.tls.aggregate.delay", CONF_DURATION, "10m", 0, 7 * DAY, NULL, NULL, NULL, 0,
	  "wait after a window closes before building its reports" },
	{ "report.tls.aggregate.jitter", CONF_DURATION, "4h", 0, 7 * DAY, NULL, NULL, NULL, 0,
	  "random extra delay (up to this) spreading the load on receivers" },
	{ "report.tls.aggregate.retention", CONF_DURATION, "30d", DAY, 3650 * DAY, NULL, NULL, NULL,
	  0, "outbox reports and reported counters older than this are purged" },

	/* DKIM signers (Stalwart) */
	{ "signature.*.private-key", CONF_STRING, NULL, 0, 0, NULL, NULL, validate_nonempty,
	  CONF_F_SECRET | CONF_F_REQUIRED, "PEM private key, usually %{file:/path}%" },
	{ "signature.*.domain", CONF_STRING, NULL, 0, 0, NULL, NULL, validate_domain,
	  CONF_F_REQUIRED, "DKIM d=" },
	{ "signature.*.selector", CONF_STRING, NULL, 0, 0, NULL, NULL, validate_nonempty,
	  CONF_F_REQUIRED, "DKIM s=" },
	{ "signature.*.algorithm", CONF_ENUM, NULL, 0, 0, "rsa-sha256|ed25519-sha256", NULL, NULL,
	  CONF_F_REQUIRED, "DKIM a=" },
	{ "signature.*.headers", CONF_LIST,
	  "From, To, Date, Subject, Message-ID, MIME-Version, Content-Type, TLS-Report-Domain, "
	  "TLS-Report-Submitter",
	  0, 0, NULL, NULL, NULL, 0, "signed header fields" },
	{ "signature.*.canonicalization", CONF_ENUM, "relaxed/relaxed", 0, 0,
	  "relaxed/relaxed|relaxed/simple|simple/relaxed|simple/simple", NULL, NULL, 0, "DKIM c=" },
	{ "signature.*.expire", CONF_DURATION, NULL, 1 * SEC, 3650 * DAY, NULL, NULL, NULL, 0,
	  "DKIM x= relative to t= (unset: none)" },
	{ "signature.*.set-body-length", CONF_BOOL, "false", 0, 0, NULL, NULL, NULL, 0, "DKIM l=" },
	{ "signature.*.report", CONF_BOOL, "false", 0, 0, NULL, NULL, NULL, 0,
	  "request DKIM failure reports (r=y)" },
	{ "signature.*.auid", CONF_STRING, NULL, 0, 0, NULL, NULL, NULL, 0, "DKIM i=" },
	{ "signature.*.third-party", CONF_STRING, NULL, 0, 0, NULL, NULL, NULL, 0,
	  "RFC 6541 third-party domain" },
	{ "signature.*.third-party-algo", CONF_STRING, NULL, 0, 0, NULL, NULL, NULL, 0,
	  "RFC 6541 hash algorithm" },

	/* inbound report analysis (Stalwart) */
	{ "report.analysis.addresses", CONF_LIST, "postmaster@*", 0, 0, NULL, NULL, NULL, 0,
	  "recipients whose mail is analysed as reports" },
	{ "report.analysis.forward", CONF_BOOL, "true", 0, 0, NULL, NULL, NULL, 0,
	  "keep delivering report mail after analysis" },
	{ "report.analysis.store", CONF_DURATION, "30d", 1 * DAY, 3650 * DAY, NULL, NULL, NULL, 0,
	  "how long received reports are kept" },

	/* collector */
	{ "collector.socket", CONF_PATH, "/run/tlsrptd/collector.sock", 0, 0, NULL, NULL,
	  validate_nonempty, 0, "AF_UNIX datagram socket MTAs write to" },
	{ "collector.socket-owner", CONF_STRING, NULL, 0, 0, NULL, NULL, NULL, 0,
	  "owner of the socket (unset: unchanged)" },
	{ "collector.socket-group", CONF_STRING, NULL, 0, 0, NULL, NULL, NULL, 0,
	  "group of the socket (unset: unchanged)" },
	{ "collector.socket-mode", CONF_MODE, "0660", 0, 0, NULL, NULL, NULL, 0,
	  "permission bits of the socket" },
	{ "collector.flush-interval", CONF_DURATION, "1s", 10, 60 * SEC, NULL, NULL, NULL, 0,
	  "how often aggregated results are written to the store" },
	{ "collector.max-memory", CONF_SIZE, "64mb", 1 * MB, 64 * GB, NULL, NULL, NULL, 0,
	  "memory cap of the aggregation between flushes" },
	{ "collector.dump-dir", CONF_PATH, NULL, 0, 0, NULL, NULL, NULL, 0,
	  "folder for undecodable datagrams (unset: off)" },
	{ "collector.dump-max-files", CONF_INTEGER, "100", 0, 1000000, NULL, NULL, NULL, 0,
	  "at most this many files in dump-dir" },
	{ "collector.dump-max-bytes", CONF_SIZE, "10mb", 0, 64 * GB, NULL, NULL, NULL, 0,
	  "at most this many bytes in dump-dir" },

	/* store */
	{ "store.backend", CONF_ENUM, "sqlite", 0, 0, "sqlite|postgresql", NULL, NULL, 0,
	  "where results, reports and the outbox live" },
	{ "store.path", CONF_PATH, "/var/lib/tlsrptd/tlsrptd.sqlite", 0, 0, NULL, NULL,
	  validate_nonempty, 0, "SQLite database file" },
	{ "store.url", CONF_STRING, NULL, 0, 0, NULL, NULL, validate_pg_url, 0,
	  "PostgreSQL connection URL (backend postgresql)" },
	{ "store.password", CONF_STRING, NULL, 0, 0, NULL, NULL, NULL, CONF_F_SECRET,
	  "PostgreSQL password, usually %{file:}% or %{env:}%" },

	/* web */
	{ "web.listen", CONF_STRING, "127.0.0.1:8460", 0, 0, NULL, NULL, validate_listen, 0,
	  "HTTP listener for the report upload (and later API and dashboard); port 0 picks a free "
	  "port; empty: off" },
	{ "web.tls-cert", CONF_PATH, NULL, 0, 0, NULL, NULL, NULL, 0, "PEM certificate chain" },
	{ "web.tls-key", CONF_PATH, NULL, 0, 0, NULL, NULL, NULL, 0, "PEM private key" },
	{ "web.token", CONF_STRING, NULL, 0, 0, NULL, NULL, NULL, CONF_F_SECRET,
	  "bearer token for the dashboard and API" },
	{ "web.upload-path", CONF_STRING, "/tlsrpt", 0, 0, NULL, NULL, validate_url_path, 0,
	  "URL path of the RFC 8460 report upload" },
	{ "web.max-body", CONF_SIZE, "10mb", 1 * KB, 1 * GB, NULL, NULL, NULL, 0,
	  "largest accepted request body" },
	/* inbound: upload rate limit, unsigned report mail (issue 8) */
	{ "web.rate-limit", CONF_INTEGER, "600", 0, 10000000, NULL, NULL, NULL, 0,
	  "report uploads per minute and client address, then 429 (0: no limit)" },
	{ "web.rate-limit-burst", CONF_INTEGER, "600", 1, 10000000, NULL, NULL, NULL, 0,
	  "uploads a client may make at once before web.rate-limit applies" },
	{ "report.analysis.accept-unsigned", CONF_BOOL, "false", 0, 0, NULL, NULL, NULL, 0,
	  "count report mail without a DKIM signature as verified (archive imports)" },
	/* dashboard and API (issue 9) */
	{ "web.users", CONF_LIST, NULL, 0, 0, NULL, NULL, NULL, CONF_F_SECRET,
	  "basic-auth users of the dashboard and API, \"name:$pbkdf2-sha256$...\" from `tlsrpt web "
	  "passwd`" },
	{ "web.reporter-silent-days", CONF_INTEGER, "3", 1, 3660, NULL, NULL, NULL, 0,
	  "the dashboard flags a reporter with no report for more than this many days" },
	{ "web.sts-safe-days", CONF_INTEGER, "14", 1, 365, NULL, NULL, NULL, 0,
	  "MTA-STS testing-mode reports without failures for this many days: enforce looks safe" },
	{ "web.request-timeout", CONF_DURATION, "60s", 1 * SEC, 1 * HOUR, NULL, NULL, NULL, 0,
	  "longest time one request may take to arrive; slower clients (slowloris) are "
	  "disconnected" },

	/* delivery */
	{ "delivery.mode", CONF_ENUM, "relay", 0, 0, "relay|direct", NULL, NULL, 0,
	  "send report mail through a relay or directly to the MX" },
	{ "delivery.relay", CONF_STRING, "smtp://127.0.0.1:25", 0, 0, NULL, NULL, validate_smtp_url,
	  0, "SMTP relay for mode relay" },
	{ "delivery.relay-user", CONF_STRING, NULL, 0, 0, NULL, NULL, NULL, 0, "SMTP AUTH user" },
	{ "delivery.relay-password", CONF_STRING, NULL, 0, 0, NULL, NULL, NULL, CONF_F_SECRET,
	  "SMTP AUTH password" },
	{ "delivery.connect-timeout", CONF_DURATION, "30s", 1 * SEC, 10 * MIN, NULL, NULL, NULL, 0,
	  "TCP connect timeout" },
	{ "delivery.timeout", CONF_DURATION, "5m", 1 * SEC, 1 * HOUR, NULL, NULL, NULL, 0,
	  "time limit of one delivery attempt" },
	{ "delivery.retry-until", CONF_DURATION, "24h", 1 * MIN, 30 * DAY, NULL, NULL, NULL, 0,
	  "give up on a destination after this long" },
	{ "delivery.workers", CONF_INTEGER, "4", 1, 64, NULL, NULL, NULL, 0,
	  "parallel delivery workers" },
	{ "delivery.https-ignore-cert", CONF_BOOL, "false", 0, 0, NULL, NULL, NULL, 0,
	  "accept any certificate from https rua endpoints (testing only)" },
	/* delivery abuse control (issue 7) */
	{ "delivery.allow-domains", CONF_LIST, NULL, 0, 0, NULL, NULL, NULL, 0,
	  "when set, only rua destinations in these domains (or below) are used" },
	{ "delivery.deny-domains", CONF_LIST, NULL, 0, 0, NULL, NULL, NULL, 0,
	  "rua destinations in these domains (or below) are never used" },
	{ "delivery.bcc", CONF_STRING, NULL, 0, 0, NULL, NULL, validate_address, 0,
	  "archive address: receives a mail copy of every report once it is delivered" },
	{ "delivery.daily-cap", CONF_INTEGER, "0", 0, 1000000, NULL, NULL, NULL, 0,
	  "reports delivered per destination per UTC day; more wait for the next day; 0: no "
	  "cap" },

	/* LMTP listener (issue 8) */
	{ "lmtp.listen", CONF_STRING, "", 0, 0, NULL, NULL, validate_lmtp_listen, 0,
	  "LMTP listener for report mail: unix:/run/tlsrptd/lmtp or 127.0.0.1:2424; empty: off" },
	{ "lmtp.socket-mode", CONF_MODE, "0660", 0, 0, NULL, NULL, NULL, 0,
	  "permission bits of the LMTP Unix socket" },
	{ "lmtp.socket-group", CONF_STRING, NULL, 0, 0, NULL, NULL, NULL, 0,
	  "group of the LMTP Unix socket, e.g. postfix (unset: unchanged)" },
	{ "lmtp.max-message-size", CONF_SIZE, "10mb", 1 * KB, 1 * GB, NULL, NULL, NULL, 0,
	  "largest message accepted (advertised as SIZE)" },
	{ "lmtp.max-recipients", CONF_INTEGER, "100", 1, 100000, NULL, NULL, NULL, 0,
	  "recipients per message; more get 452 4.5.3" },
	{ "lmtp.timeout", CONF_DURATION, "5m", 1 * SEC, 1 * HOUR, NULL, NULL, NULL, 0,
	  "idle time after which a client is disconnected (421 4.4.2)" },
	{ "lmtp.workers", CONF_INTEGER, "2", 1, 64, NULL, NULL, NULL, 0,
	  "threads serving LMTP connections, one connection at a time each" },
	{ "lmtp.forward-maildir", CONF_PATH, NULL, 0, 0, NULL, NULL, NULL, 0,
	  "Maildir that keeps report mail (report.analysis.forward) and non-report mail" },
	{ "lmtp.reject-non-reports", CONF_BOOL, "false", 0, 0, NULL, NULL, NULL, 0,
	  "answer 554 5.6.0 to mail that holds no TLS report" },

	/* alerts (issue 9): [alert.<id>] rules, see docs/alerts.md */
	{ "alerts.interval", CONF_DURATION, "5m", 1 * SEC, 1 * DAY, NULL, NULL, NULL, 0,
	  "how often the daemon evaluates the alert rules" },
	{ "alerts.state-file", CONF_PATH, NULL, 0, 0, NULL, NULL, NULL, 0,
	  "when each alert was last sent (cool-down across restarts); unset: store.path + "
	  "\".alerts\" (SQLite) or /var/lib/tlsrptd/alerts.state" },
	{ "alert.*.type", CONF_ENUM, NULL, 0, 0,
	  "failure-rate|new-failure-type|reporter-silent|delivery-failing", NULL, NULL,
	  CONF_F_REQUIRED, "what the rule watches" },
	{ "alert.*.domain", CONF_STRING, NULL, 0, 0, NULL, NULL, validate_domain, 0,
	  "policy domain (received reports) or report domain (deliveries); unset: every one" },
	{ "alert.*.reporter", CONF_STRING, NULL, 0, 0, NULL, NULL, NULL, 0,
	  "reporter-silent: only reporters whose submitter contains this; unset: every one" },
	{ "alert.*.threshold", CONF_EXPR, "0.05", 0, 0, NULL, "", validate_fraction, 0,
	  "failure-rate: fires above this fraction of failed sessions; delivery-failing: above "
	  "this fraction of failing delivery rows (0: any)" },
	{ "alert.*.min-sessions", CONF_INTEGER, "1", 1, 1000000000, NULL, NULL, NULL, 0,
	  "failure-rate: sessions needed in the window before the rate counts" },
	{ "alert.*.window", CONF_DURATION, "1d", 1 * MIN, 365 * DAY, NULL, NULL, NULL, 0,
	  "period looked at, ending now" },
	{ "alert.*.days", CONF_INTEGER, "3", 1, 365, NULL, NULL, NULL, 0,
	  "reporter-silent: days without a report" },
	{ "alert.*.webhook", CONF_STRING, NULL, 0, 0, NULL, NULL, validate_http_url, 0,
	  "URL the alert JSON is POSTed to" },
	{ "alert.*.email", CONF_STRING, NULL, 0, 0, NULL, NULL, validate_address, 0,
	  "address the alert is mailed to (through delivery.relay)" },
	{ "alert.*.cooldown", CONF_DURATION, "6h", 0, 365 * DAY, NULL, NULL, NULL, 0,
	  "the same alert is not sent again within this time" },

	/* logging */
	{ "log.level", CONF_ENUM, "info", 0, 0, "error|warn|info|debug", NULL, NULL, 0,
	  "least severe level logged" },
	{ "log.destination", CONF_ENUM, "syslog", 0, 0, "stderr|syslog", NULL, NULL, 0,
	  "where log lines go (--foreground forces stderr)" },
};

const size_t conf_nkeys = sizeof(conf_keys) / sizeof(conf_keys[0]);

bool
conf_key_is_ours(const char *key)
{
	static const char *const prefixes[] = {
		"collector.",       "store.",     "web.",
		"delivery.",        "log.",       "report.tls.aggregate.",
		"report.analysis.", "signature.", "lmtp.",
		"alert.",           "alerts.",
	};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(key, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	/* report.<word>: report.submitter and report.domain; deeper report.* is Stalwart's */
	if (strncmp(key, "report.", 7) == 0 && strchr(key + 7, '.') == NULL)
		return true;
	return false;
}
