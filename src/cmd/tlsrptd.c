/*
 * tlsrptd.c - the tlsrptd daemon: argument parsing, start-up and the signal loop.
 *
 *   tlsrptd [--config FILE] [--foreground] [--check-config] [--help] [--version]
 *
 * Wiring only: the roles (collector, reporter, receiver, web) live in the library and
 * are started here as server.roles enables them (tlsrptd_roles.c; default all).
 * SIGTERM and SIGINT stop the daemon cleanly (exit 0).  Exit status: 0 ok, 1 failure,
 * 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cmd/tlsrptd_roles.h"
#include "collector/collector.h"
#include "config/conf.h"
#include "net/net_curl.h"
#include "outbound/alerts.h"
#include "outbound/deliver_worker.h"
#include "outbound/scheduler.h"
#include "store/store.h"
#include "util/log.h"

#define DEFAULT_CONFIG "/etc/tlsrptd/tlsrptd.toml"

static void
usage(FILE *out)
{
	fprintf(out, "usage: tlsrptd [options]\n\n"
	             "SMTP TLS Reporting (RFC 8460) daemon.\n\n"
	             "  -c, --config FILE    configuration file (default " DEFAULT_CONFIG ")\n"
	             "  -f, --foreground     stay in the foreground, log to stderr\n"
	             "      --check-config   load and check the configuration, print it, exit\n"
	             "  -h, --help           this text\n"
	             "  -V, --version        print the version\n");
}

/*
 * The collector asks once per report domain (and caches the answer) how often that
 * domain is reported: report.tls.aggregate.send evaluated with rcpt_domain.  An
 * evaluation error is logged and the domain is reported daily, so no result is lost.
 */
static enum window_period
period_for(void *ctx, const char *domain)
{
	const struct conf *conf = ctx;
	struct expr_var var = { "rcpt_domain", domain };
	enum window_period p;
	struct err e = { 0 };

	if (conf_eval_send(conf, &var, 1, &p, &e) != 0) {
		log_warn("report.tls.aggregate.send failed domain=%s error=\"%s\" using=daily",
		         domain, e.msg);
		return WINDOW_DAILY;
	}
	return p;
}

/* Opens the store and starts the collector as the configuration says. */
static int
start_collector(const struct conf *conf, struct store **store, struct collector **col,
                struct err *e)
{
	struct collector_opts o;
	const char *backend = conf_enum(conf, "store.backend");
	const char *where =
	        strcmp(backend, "sqlite") == 0 ? conf_str(conf, "store.path") : "(url hidden)";

	if (store_open_conf(conf, store, e) != 0)
		return e->code;
	memset(&o, 0, sizeof(o));
	o.socket_path = conf_str(conf, "collector.socket");
	o.socket_owner = conf_str(conf, "collector.socket-owner");
	o.socket_group = conf_str(conf, "collector.socket-group");
	o.socket_mode = (int)conf_int(conf, "collector.socket-mode");
	o.flush_interval_ms = (int)conf_duration_ms(conf, "collector.flush-interval");
	o.max_memory = conf_size(conf, "collector.max-memory");
	o.dump_dir = conf_str(conf, "collector.dump-dir");
	o.dump_max_files = (unsigned)conf_int(conf, "collector.dump-max-files");
	o.dump_max_bytes = conf_size(conf, "collector.dump-max-bytes");
	o.store = *store;
	o.period_for = period_for;
	o.period_ctx = (void *)conf;
	if (collector_start(&o, col, e) != 0) {
		store_close(*store);
		*store = NULL;
		return e->code;
	}
	log_info("store opened backend=%s %s", backend, where);
	return 0;
}

int
main(int argc, char **argv)
{
	enum { OPT_CHECK = 256 };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = DEFAULT_CONFIG;
	int foreground = 0;
	int check_only = 0;
	int c;

	while ((c = getopt_long(argc, argv, "c:fhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case OPT_CHECK:
			check_only = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tlsrptd %s\n", TLSRPTD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tlsrptd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	/* any configuration error refuses the start: all of them go to stderr */
	struct conf *conf = NULL;
	struct buf text;
	struct err e = { 0 };
	buf_init(&text, 1 << 22);
	if (conf_load(config_path, &conf, &text, &e) != 0) {
		fputs(buf_cstr(&text), stderr);
		fprintf(stderr, "tlsrptd: %s: configuration has errors, not starting\n",
		        config_path);
		buf_clear(&text);
		return 1;
	}
	if (check_only) {
		int rc = conf_dump(conf, &text) == 0 ? 0 : 1;
		fputs(buf_cstr(&text), stdout);
		buf_clear(&text);
		conf_free(conf);
		return rc;
	}
	buf_clear(&text);

	enum log_level level = LOG_LEVEL_INFO;
	log_level_parse(conf_enum(conf, "log.level"), &level);
	int to_stderr = foreground || strcmp(conf_enum(conf, "log.destination"), "stderr") == 0;
	log_setup("tlsrptd", to_stderr ? LOG_DEST_STDERR : LOG_DEST_SYSLOG, level);

	/*
	 * A shell without job control starts `tlsrptd &` with SIGINT ignored, nohup ignores
	 * SIGHUP: ignored signals never reach the signalfd, so restore the defaults first.
	 */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0) {
		fprintf(stderr, "tlsrptd: sigprocmask: %s\n", strerror(errno));
		conf_free(conf);
		return 1;
	}
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "tlsrptd: signalfd: %s\n", strerror(errno));
		conf_free(conf);
		return 1;
	}

	unsigned roles = roles_of(conf);
	char role_list[64];
	roles_format(roles, role_list, sizeof(role_list));
	log_info("starting version=%s config=%s log=%s roles=%s", TLSRPTD_VERSION, config_path,
	         to_stderr ? "stderr" : "syslog", role_list);
	if (roles == 0) {
		log_error("not starting: server.roles is empty, nothing to run");
		close(sfd);
		conf_free(conf);
		return 1;
	}
	struct store *store = NULL;
	struct collector *col = NULL;
	if ((roles & ROLE_COLLECTOR) && start_collector(conf, &store, &col, &e) != 0) {
		log_error("not starting: %s", e.msg);
		close(sfd);
		conf_free(conf);
		return 1;
	}
	/* report generation (issue 6): a scheduler pass at start and every minute */
	struct outbound_scheduler *sched = NULL;
	if ((roles & ROLE_REPORTER) && outbound_scheduler_start(conf, 60, &sched, &e) != 0)
		log_error("report generation disabled: %s", e.msg);
	/* report delivery (issue 7): delivery.workers threads, a pass every 30 s */
	struct deliver_workers *dw = NULL;
	int net_ok = (roles & ROLE_REPORTER) && net_global_init(&e) == 0;
	if ((roles & ROLE_REPORTER) && (!net_ok || deliver_workers_start(conf, 30, &dw, &e) != 0))
		log_error("report delivery disabled: %s", e.msg);
	/* report receiver (issue 8): the HTTP upload endpoint on web.listen (and the web role's
	 * pages on the same listener) */
	struct receiver *recv = NULL;
	int rrc = (roles & (ROLE_RECEIVER | ROLE_WEB)) ? receiver_start(conf, roles, col, &recv, &e)
	                                               : 0;
	if (rrc == ERR_BADSTATE) {
		/* the store backend cannot hold received reports (yet): run without */
		log_error("report receiver disabled: %s", e.msg);
	} else if (rrc != 0) {
		log_error("not starting: %s", e.msg);
		deliver_workers_stop(dw);
		outbound_scheduler_stop(sched);
		collector_stop(col, NULL);
		store_close(store);
		close(sfd);
		conf_free(conf);
		return 1;
	}
	/* LMTP listener (issue 8): report mail delivered by the MTA */
	struct lmtp_listener *lmtp = NULL;
	if ((roles & ROLE_RECEIVER) && lmtp_listener_start(conf, &lmtp, &e) != 0) {
		log_error("not starting: %s", e.msg);
		receiver_stop(recv);
		deliver_workers_stop(dw);
		outbound_scheduler_stop(sched);
		collector_stop(col, NULL);
		store_close(store);
		close(sfd);
		conf_free(conf);
		return 1;
	}
	/* alerts (issue 9): [alert.*] rules evaluated every alerts.interval */
	struct alerts_worker *aw = NULL;
	if ((roles & ROLE_REPORTER) && alerts_worker_start(conf, &aw, &e) != 0)
		log_error("alerts disabled: %s", e.msg);
	log_info("ready");
	for (;;) {
		struct signalfd_siginfo si;
		ssize_t n = read(sfd, &si, sizeof(si));

		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(si)) {
			log_error("signalfd read failed: %s", strerror(errno));
			break;
		}
		if (si.ssi_signo == SIGHUP) {
			log_info("reload requested signal=SIGHUP");
			continue;
		}
		log_info("stopping signal=%s", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	}
	close(sfd);
	lmtp_listener_stop(lmtp);
	alerts_worker_stop(aw);
	receiver_stop(recv);
	deliver_workers_stop(dw);
	if (net_ok)
		net_global_cleanup();
	outbound_scheduler_stop(sched);
	struct collector_stats st = { 0 };
	collector_stop(col, &st);
	store_close(store);
	conf_free(conf);
	log_info("stopped datagrams=%llu accepted=%llu rejected=%llu sessions=%llu",
	         (unsigned long long)st.datagrams, (unsigned long long)st.accepted,
	         (unsigned long long)st.rejected,
	         (unsigned long long)(st.sessions_success + st.sessions_failure));
	return 0;
}
