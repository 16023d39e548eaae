/*
 * tlsrptd_lmtp.c - wiring of the daemon's LMTP listener (see tlsrptd_roles.h): the
 * lmtp.* keys, report.analysis.addresses / forward, one store connection and one ingest
 * context per worker thread, a shared DNS resolver (DKIM keys) and the public suffix
 * list (DKIM alignment).
 * Threading: start/stop from main; the workers run in inbound/lmtp_server.c.
 */
#include "cmd/tlsrptd_roles.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inbound/ingest.h"
#include "inbound/lmtp_mailbox.h"
#include "inbound/lmtp_server.h"
#include "mail/orgdomain.h"
#include "net/dns.h"
#include "store/store.h"
#include "util/file.h"
#include "util/log.h"
#include "util/str.h"
#include "util/xalloc.h"

struct lmtp_listener {
	struct lmtp_server *srv;
	size_t n;
	struct store **stores;
	struct ingest *ins;
	struct lmtp_mailbox *mbs;
	void **ctx;
	struct dns *dns;
	struct orgdomain_psl *psl;
	char hostname[256];
};

int
lmtp_listener_start(const struct conf *conf, struct lmtp_listener **out, struct err *e)
{
	const char *listen = conf_str(conf, "lmtp.listen");
	const char *maildir = conf_str(conf, "lmtp.forward-maildir");
	const char *host = conf_str(conf, "server.hostname");
	bool forward = conf_bool(conf, "report.analysis.forward");
	struct lmtp_listener *l;
	struct dns_opts dopts;
	size_t naddr = 0;
	const char *const *addr = conf_list(conf, "report.analysis.addresses", &naddr);
	int rc;

	*out = NULL;
	if (listen == NULL || *listen == '\0')
		return 0;
	if (maildir && *maildir == '\0')
		maildir = NULL;
	if (forward && maildir == NULL)
		/* conf_load refuses this already; keep the promise here too */
		return err_set(
		        e, ERR_INVALID,
		        "lmtp.forward-maildir: required when report.analysis.forward is true");
	if (maildir && lmtp_maildir_prepare(maildir, e) != 0)
		return e->code;
	l = xcalloc(1, sizeof(*l));
	if (host)
		str_copy(l->hostname, sizeof(l->hostname), host);
	else if (gethostname(l->hostname, sizeof(l->hostname) - 1) != 0 || !l->hostname[0])
		str_copy(l->hostname, sizeof(l->hostname), "localhost");
	dns_opts_default(&dopts);
	l->dns = dns_new(&dopts, e);
	if (l->dns == NULL)
		log_warn("lmtp: DNS unavailable, DKIM keys cannot be fetched: %s", e->msg);
	l->psl = ingest_load_psl();
	l->n = (size_t)conf_int(conf, "lmtp.workers");
	if (l->n == 0)
		l->n = 1;
	l->stores = xcalloc(l->n, sizeof(*l->stores));
	l->ins = xcalloc(l->n, sizeof(*l->ins));
	l->mbs = xcalloc(l->n, sizeof(*l->mbs));
	l->ctx = xcalloc(l->n, sizeof(*l->ctx));
	for (size_t i = 0; i < l->n; i++) {
		rc = store_open_conf(conf, &l->stores[i], e);
		if (rc == 0 && (rc = store_supports(l->stores[i], STORE_AREA_RECEIVED, e)) != 0) {
			store_close(l->stores[i]);
			l->stores[i] = NULL;
		}
		if (rc != 0) {
			lmtp_listener_stop(l);
			return err_prefix(e, "lmtp listener");
		}
		l->ins[i].store = l->stores[i];
		l->ins[i].dns = l->dns;
		l->ins[i].psl = l->psl;
		l->mbs[i].in = &l->ins[i];
		l->mbs[i].maildir = maildir;
		l->mbs[i].forward = forward;
		l->mbs[i].reject_non_reports = conf_bool(conf, "lmtp.reject-non-reports");
		l->mbs[i].hostname = l->hostname;
		l->ctx[i] = &l->mbs[i];
	}
	struct lmtp_server_opts o = {
		.listen = listen,
		.socket_mode = (int)conf_int(conf, "lmtp.socket-mode"),
		.socket_group = conf_str(conf, "lmtp.socket-group"),
		.timeout_ms = (int)conf_duration_ms(conf, "lmtp.timeout"),
		.nworkers = l->n,
		.worker_ctx = l->ctx,
		.proto = {
			.hostname = l->hostname,
			.max_message = conf_size(conf, "lmtp.max-message-size"),
			.max_recipients = (size_t)conf_int(conf, "lmtp.max-recipients"),
			.addresses = addr,
			.naddresses = naddr,
			.deliver = lmtp_mailbox_deliver,
		},
	};
	rc = lmtp_server_start(&o, &l->srv, e);
	if (rc != 0) {
		lmtp_listener_stop(l);
		return err_prefix(e, "lmtp.listen %s", listen);
	}
	/* port 0 picks a free port: say which */
	log_info("lmtp listening=%s port=%u workers=%zu max_message=%llu forward=%s maildir=%s "
	         "addresses=%zu",
	         listen, lmtp_server_port(l->srv), l->n, (unsigned long long)o.proto.max_message,
	         forward ? "true" : "false", maildir ? maildir : "(none)", naddr);
	*out = l;
	return 0;
}

void
lmtp_listener_stop(struct lmtp_listener *l)
{
	if (l == NULL)
		return;
	lmtp_server_stop(l->srv);
	for (size_t i = 0; i < l->n; i++)
		store_close(l->stores[i]);
	free(l->stores);
	free(l->ins);
	free(l->mbs);
	free(l->ctx);
	dns_free(l->dns);
	orgdomain_psl_free(l->psl);
	free(l);
}
