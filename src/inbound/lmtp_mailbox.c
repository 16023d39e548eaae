/*
 * lmtp_mailbox.c - a message received over LMTP: analysed as a TLS report, kept in a
 * Maildir per report.analysis.forward.  See lmtp_mailbox.h for the reply semantics.
 *
 * Maildir delivery follows the Maildir conventions (tmp/ then rename into new/, names
 * time.MusecPpidQcounter.host): the file is the message as received with a Return-Path
 * line first (RFC 5321 section 4.4: the final delivery adds it), CRLF line endings kept,
 * fsync'ed before the rename.
 *
 * Threading: one struct lmtp_mailbox per thread; the name counter is atomic.
 */
#include "inbound/lmtp_mailbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/str.h"

static atomic_uint name_counter;

int
lmtp_maildir_prepare(const char *dir, struct err *e)
{
	static const char *const subs[] = { "", "/tmp", "/new", "/cur" };
	char path[4096];

	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s%s", dir, subs[i]) >= sizeof(path))
			return err_set(e, ERR_INVALID, "lmtp.forward-maildir: path too long");
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return err_set(e, ERR_IO, "lmtp.forward-maildir: cannot create %s: %s",
			               path, strerror(errno));
		if (access(path, W_OK | X_OK) != 0)
			return err_set(e, ERR_IO, "lmtp.forward-maildir: %s is not writable: %s",
			               path, strerror(errno));
	}
	return 0;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Writes the message to tmp/; the name (relative to the Maildir, without the tmp/ part)
 * goes to name.  Returns 0 or ERR_IO with e set.
 */
static int
maildir_write_tmp(const struct lmtp_mailbox *mb, const struct lmtp_delivery *d, char *name,
                  size_t cap, struct err *e)
{
	char host[128], path[4096];
	struct timeval tv;
	char head[LMTP_PATH_MAX + 32];
	int fd, n;

	/* '/' and ':' may not appear in a Maildir name's host part */
	str_copy(host, sizeof(host), mb->hostname ? mb->hostname : "localhost");
	for (char *h = host; *h; h++)
		if (*h == '/' || *h == ':')
			*h = '_';
	gettimeofday(&tv, NULL);
	snprintf(name, cap, "%lld.M%ldP%ldQ%u.%s", (long long)tv.tv_sec, (long)tv.tv_usec,
	         (long)getpid(), atomic_fetch_add(&name_counter, 1) + 1, host);
	snprintf(path, sizeof(path), "%s/tmp/%s", mb->maildir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
	n = snprintf(head, sizeof(head), "Return-Path: <%s>\r\n", d->sender);
	if (write_all(fd, head, (size_t)n) != 0 ||
	    write_all(fd, d->message.p, d->message.len) != 0 || fsync(fd) != 0) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return ERR_IO;
	}
	if (close(fd) != 0) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		unlink(path);
		return ERR_IO;
	}
	return 0;
}

static void
maildir_drop(const struct lmtp_mailbox *mb, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/tmp/%s", mb->maildir, name);
	unlink(path);
}

static int
maildir_commit(const struct lmtp_mailbox *mb, const char *name, struct err *e)
{
	char from[4096], to[4096];

	snprintf(from, sizeof(from), "%s/tmp/%s", mb->maildir, name);
	snprintf(to, sizeof(to), "%s/new/%s", mb->maildir, name);
	if (rename(from, to) != 0) {
		err_set(e, ERR_IO, "rename %s: %s", from, strerror(errno));
		unlink(from);
		return ERR_IO;
	}
	return 0;
}

static void set_all(const struct lmtp_delivery *d, struct lmtp_reply *r, int code, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));

static void
set_all(const struct lmtp_delivery *d, struct lmtp_reply *r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r[0].text, sizeof(r[0].text), fmt, ap);
	va_end(ap);
	/* the text goes on the wire: keep it one printable line */
	for (char *p = r[0].text; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	r[0].code = code;
	for (size_t i = 1; i < d->nrcpts; i++)
		r[i] = r[0];
}

void
lmtp_mailbox_deliver(void *ctx, const struct lmtp_delivery *d, struct lmtp_reply *replies)
{
	struct lmtp_mailbox *mb = ctx;
	struct ingest_result res = { 0 };
	struct err e = { 0 };
	bool have_dir = mb->maildir != NULL && mb->maildir[0] != '\0';
	bool kept = false;
	char name[512] = "";
	int rc;

	if (have_dir && maildir_write_tmp(mb, d, name, sizeof(name), &e) != 0) {
		log_error("lmtp maildir write failed from=<%s> error=\"%s\"", d->sender, e.msg);
		set_all(d, replies, 451,
		        "4.3.0 Error: cannot write to the mailbox, try again later");
		return;
	}
	rc = ingest_message(mb->in, d->message, &res, &e);
	if (rc == INGEST_ESTORE || (rc != 0 && rc != INGEST_ENOREPORT)) {
		if (have_dir)
			maildir_drop(mb, name);
		log_error("lmtp store failed from=<%s> error=\"%s\"", d->sender, e.msg);
		set_all(d, replies, 451, "4.3.0 Error: report store unavailable, try again later");
		return;
	}
	if (rc == INGEST_ENOREPORT && mb->reject_non_reports) {
		if (have_dir)
			maildir_drop(mb, name);
		log_info("lmtp rejected from=<%s> size=%zu reason=\"%s\"", d->sender,
		         d->message.len, e.msg);
		set_all(d, replies, 554, "5.6.0 Error: not a TLS report: %s", e.msg);
		return;
	}
	if (have_dir && (rc == INGEST_ENOREPORT || mb->forward)) {
		struct err me = { 0 };

		if (maildir_commit(mb, name, &me) != 0) {
			/* a stored report comes again as a duplicate: harmless */
			log_error("lmtp maildir write failed from=<%s> error=\"%s\"", d->sender,
			          me.msg);
			set_all(d, replies, 451,
			        "4.3.0 Error: cannot write to the mailbox, try again later");
			return;
		}
		kept = true;
	} else if (have_dir) {
		maildir_drop(mb, name);
	}
	if (rc == INGEST_ENOREPORT) {
		if (!kept)
			log_warn("lmtp discarded non-report from=<%s> size=%zu reason=\"%s\" "
			         "(no lmtp.forward-maildir)",
			         d->sender, d->message.len, e.msg);
		else
			log_info("lmtp delivered non-report from=<%s> size=%zu maildir=%s",
			         d->sender, d->message.len, name);
		set_all(d, replies, 250, "2.0.0 Ok: not a report; %s",
		        kept ? "delivered to the mailbox" : "discarded");
		return;
	}
	log_info("lmtp ingested from=<%s> rcpts=%zu size=%zu stored=%zu duplicates=%zu "
	         "rejected=%zu dkim=%s%s%s",
	         d->sender, d->nrcpts, d->message.len, res.stored, res.duplicates, res.rejected,
	         res.dkim[0] ? res.dkim : "none", kept ? " maildir=" : "", kept ? name : "");
	set_all(d, replies, 250, "2.0.0 Ok: %zu stored, %zu duplicate%s%s", res.stored,
	        res.duplicates, res.duplicates == 1 ? "" : "s",
	        kept ? "; delivered to the mailbox" : "");
}
