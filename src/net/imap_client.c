/*
 * imap_client.c - IMAP over libcurl for `tlsrpt fetch` (see imap_client.h).
 *
 * RFC 9051 / RFC 3501 (IMAP4rev1: UID SEARCH, UID FETCH, UID STORE, UID COPY, EXPUNGE),
 * RFC 6851 (UID MOVE), RFC 4315 (UID EXPUNGE), RFC 5092 (the imap:// URL, as libcurl
 * reads it: imap://user@host/MAILBOX/;UID=n fetches BODY[]).  libcurl does the
 * connection, TLS, STARTTLS, login and SELECT, and keeps the connection between calls;
 * commands other than the whole-message fetch go as custom requests whose untagged
 * answer lines libcurl hands to the write callback, parsed here with caps.  The server's
 * answers are untrusted input: the parsers never read past the span and accept only
 * numbers that fit.
 * Threading: one thread per struct imap; CURLOPT_NOSIGNAL.
 */
#include "net/imap_client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/xalloc.h"

enum { MAX_ANSWER = 16 * 1024 * 1024 };

struct imap {
	CURL *h;
	char *base; /* imaps://user@host[:port]/MAILBOX, no trailing slash */
	char errbuf[CURL_ERROR_SIZE];
};

struct sink {
	struct buf *b;
	bool too_big;
};

static size_t
on_data(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;

	if (buf_append(s->b, p, n) != 0) {
		s->too_big = true;
		return 0; /* aborts the transfer */
	}
	return n;
}

static bool
starts_nocase(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strlen(s) >= n && span_eq_nocase(span_make(s, n), span_make(prefix, n));
}

int
imap_open(const struct imap_opts *o, struct imap **out, struct err *e)
{
	const char *u = o->url, *rest, *slash, *at;
	struct imap *c;
	struct buf b;

	*out = NULL;
	if (u == NULL)
		return err_set(e, ERR_INVALID, "no IMAP URL given");
	if (starts_nocase(u, "imaps://"))
		rest = u + 8;
	else if (starts_nocase(u, "imap://"))
		rest = u + 7;
	else
		return err_set(e, ERR_INVALID, "%s: expected an imaps:// or imap:// URL", u);
	if (strpbrk(u, "?; \t\r\n") != NULL)
		return err_set(e, ERR_INVALID,
		               "%s: expected imaps://user@host[:port]/MAILBOX without ;parameters, "
		               "?query or spaces (write a space as %%20)",
		               u);
	slash = strchr(rest, '/');
	at = strchr(rest, '@');
	if (at == NULL || (slash != NULL && at > slash) || at == rest)
		return err_set(e, ERR_INVALID, "%s: no user name (imaps://user@host/MAILBOX)", u);
	if (at[1] == '\0' || at[1] == '/' || at[1] == ':')
		return err_set(e, ERR_INVALID, "%s: no host name", u);
	buf_init(&b, 8192);
	if (buf_append_str(&b, u) != 0) {
		buf_clear(&b);
		return err_set(e, ERR_INVALID, "IMAP URL too long");
	}
	while (b.len > 0 && b.data[b.len - 1] == '/')
		b.data[--b.len] = '\0';
	if (slash == NULL || slash[strspn(slash, "/")] == '\0')
		buf_append_str(&b, "/INBOX");
	c = xcalloc(1, sizeof(*c));
	c->base = buf_steal(&b, NULL);
	c->h = curl_easy_init();
	if (c->h == NULL) {
		imap_close(c);
		return err_set(e, ERR_AGAIN, "cannot create a libcurl handle");
	}
	curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "imap,imaps");
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	if (o->password != NULL)
		curl_easy_setopt(c->h, CURLOPT_PASSWORD, o->password);
	curl_easy_setopt(c->h, CURLOPT_USE_SSL,
	                 o->starttls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
	curl_easy_setopt(c->h, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
	curl_easy_setopt(c->h, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
	if (o->ca_file != NULL)
		curl_easy_setopt(c->h, CURLOPT_CAINFO, o->ca_file);
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, o->timeout_ms > 0 ? o->timeout_ms : 120000L);
	curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_data);
	*out = c;
	return 0;
}

void
imap_close(struct imap *c)
{
	if (c == NULL)
		return;
	if (c->h != NULL)
		curl_easy_cleanup(c->h); /* sends LOGOUT on the cached connection */
	free(c->base);
	free(c);
}

/* The base URL without the password-free user part, for messages. */
static const char *
where(const struct imap *c)
{
	const char *at = strchr(c->base, '@');

	return at ? at + 1 : c->base;
}

/*
 * Runs one request: custom command cmd on the mailbox (NULL: fetch url_suffix).  The
 * answer goes to out.  Returns 0, ERR_TOOBIG (out's cap), ERR_INVALID (the server
 * refused the command: NO or BAD), or ERR_AGAIN.
 */
static int
perform(struct imap *c, const char *cmd, const char *url_suffix, struct buf *out, struct err *e)
{
	struct sink s = { .b = out };
	struct buf url;
	CURLcode cc;

	buf_init(&url, 16384);
	buf_append_str(&url, c->base);
	if (url_suffix != NULL)
		buf_append_str(&url, url_suffix);
	c->errbuf[0] = '\0';
	curl_easy_setopt(c->h, CURLOPT_URL, buf_cstr(&url));
	curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, cmd);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &s);
	cc = curl_easy_perform(c->h);
	buf_clear(&url);
	if (cc == CURLE_OK)
		return 0;
	if (s.too_big)
		return err_set(e, ERR_TOOBIG, "%s: answer larger than %zu bytes", where(c),
		               out->max);
	if (cc == CURLE_QUOTE_ERROR)
		return err_set(e, ERR_INVALID, "%s: the server refused %s", where(c),
		               cmd ? cmd : "FETCH");
	if (cc == CURLE_LOGIN_DENIED)
		return err_set(e, ERR_AGAIN, "%s: login denied", where(c));
	return err_set(e, ERR_AGAIN, "%s: %s", where(c),
	               c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
}

/* perform() for commands whose refusal is not expected: every failure is ERR_AGAIN. */
static int
command(struct imap *c, const char *cmd, struct buf *out, struct err *e)
{
	if (perform(c, cmd, NULL, out, e) == 0)
		return 0;
	if (e != NULL)
		e->code = ERR_AGAIN;
	return ERR_AGAIN;
}

int
imap_search_unseen(struct imap *c, uint32_t *uids, size_t cap, size_t *n, bool *more, struct err *e)
{
	struct buf ans;
	size_t total;
	int rc;

	*n = 0;
	*more = false;
	buf_init(&ans, MAX_ANSWER);
	rc = command(c, "UID SEARCH UNSEEN", &ans, e);
	if (rc == 0) {
		total = imap_parse_search(buf_span(&ans), uids, cap, n);
		*more = total > *n;
	}
	buf_clear(&ans);
	return rc;
}

int
imap_size(struct imap *c, uint32_t uid, uint64_t *size, struct err *e)
{
	char cmd[64];
	struct buf ans;
	int rc;

	snprintf(cmd, sizeof(cmd), "UID FETCH %u RFC822.SIZE", uid);
	buf_init(&ans, 65536);
	rc = command(c, cmd, &ans, e);
	if (rc == 0 && imap_parse_size(buf_span(&ans), uid, size) != 0)
		rc = err_set(e, ERR_NOTFOUND, "%s: message UID %u is gone", where(c), uid);
	buf_clear(&ans);
	return rc;
}

int
imap_fetch(struct imap *c, uint32_t uid, struct buf *out, struct err *e)
{
	char suffix[32];
	int rc;

	snprintf(suffix, sizeof(suffix), "/;UID=%u", uid);
	rc = perform(c, NULL, suffix, out, e);
	if (rc != 0 && rc != ERR_TOOBIG) {
		rc = ERR_AGAIN;
		if (e != NULL)
			e->code = rc;
	}
	return rc;
}

int
imap_set_seen(struct imap *c, uint32_t uid, bool seen, struct err *e)
{
	char cmd[64];
	struct buf ans;
	int rc;

	snprintf(cmd, sizeof(cmd), "UID STORE %u %cFLAGS (\\Seen)", uid, seen ? '+' : '-');
	buf_init(&ans, 65536);
	rc = command(c, cmd, &ans, e);
	buf_clear(&ans);
	return rc;
}

int
imap_move(struct imap *c, uint32_t uid, const char *folder, struct err *e)
{
	char cmd[1200];
	struct buf ans;
	int rc;

	if (folder[0] == '\0' || strpbrk(folder, "\"\\\r\n") != NULL || strlen(folder) > 1000)
		return err_set(e, ERR_INVALID, "%s: not a usable mailbox name", folder);
	buf_init(&ans, 65536);
	snprintf(cmd, sizeof(cmd), "UID MOVE %u \"%s\"", uid, folder);
	rc = perform(c, cmd, NULL, &ans, e);
	if (rc == ERR_INVALID) {
		/* no MOVE extension: copy, flag \Deleted, expunge (UID EXPUNGE with UIDPLUS) */
		snprintf(cmd, sizeof(cmd), "UID COPY %u \"%s\"", uid, folder);
		rc = command(c, cmd, &ans, e);
		if (rc == 0) {
			snprintf(cmd, sizeof(cmd), "UID STORE %u +FLAGS (\\Deleted)", uid);
			rc = command(c, cmd, &ans, e);
		}
		if (rc == 0) {
			snprintf(cmd, sizeof(cmd), "UID EXPUNGE %u", uid);
			if (perform(c, cmd, NULL, &ans, e) != 0)
				rc = command(c, "EXPUNGE", &ans, e);
		}
	} else if (rc != 0) {
		rc = ERR_AGAIN;
		if (e != NULL)
			e->code = rc;
	}
	buf_clear(&ans);
	return rc;
}

/* ------------------------------------------------------------------ parsers */

/* The next line of *s (without CR LF); false at the end. */
static bool
next_line(struct span *s, struct span *line)
{
	const char *nl;

	if (s->len == 0)
		return false;
	nl = memchr(s->p, '\n', s->len);
	line->p = s->p;
	line->len = nl ? (size_t)(nl - s->p) : s->len;
	s->p += nl ? line->len + 1 : line->len;
	s->len -= nl ? line->len + 1 : line->len;
	if (line->len > 0 && line->p[line->len - 1] == '\r')
		line->len--;
	return true;
}

/* The next space-separated token of *s; false at the end. */
static bool
next_token(struct span *s, struct span *tok)
{
	while (s->len > 0 && s->p[0] == ' ') {
		s->p++;
		s->len--;
	}
	if (s->len == 0)
		return false;
	tok->p = s->p;
	tok->len = 0;
	while (tok->len < s->len && s->p[tok->len] != ' ')
		tok->len++;
	s->p += tok->len;
	s->len -= tok->len;
	return true;
}

/* A decimal number of 1..max digits with value <= max_value. */
static bool
number(struct span t, uint64_t max_value, uint64_t *v)
{
	uint64_t x = 0;

	if (t.len == 0 || t.len > 20)
		return false;
	for (size_t i = 0; i < t.len; i++) {
		unsigned d = (unsigned char)t.p[i] - '0';

		if (d > 9 || x > (max_value - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

static bool
prefix_nocase(struct span s, const char *word)
{
	size_t n = strlen(word);

	return s.len >= n && span_eq_nocase(span_make(s.p, n), span_make(word, n));
}

size_t
imap_parse_search(struct span resp, uint32_t *uids, size_t cap, size_t *n)
{
	struct span line, tok;
	size_t total = 0;

	*n = 0;
	while (next_line(&resp, &line)) {
		if (!prefix_nocase(line, "* SEARCH") || (line.len > 8 && line.p[8] != ' '))
			continue;
		line.p += 8;
		line.len -= 8;
		while (next_token(&line, &tok)) {
			uint64_t v;

			if (!number(tok, UINT32_MAX, &v) || v == 0)
				continue;
			total++;
			if (*n < cap)
				uids[(*n)++] = (uint32_t)v;
		}
	}
	return total;
}

int
imap_parse_size(struct span resp, uint32_t uid, uint64_t *size)
{
	struct span line, tok;

	while (next_line(&resp, &line)) {
		uint64_t v, got_uid = 0, got_size = 0;
		bool have_size = false;

		if (!next_token(&line, &tok) || !span_eq(tok, SPAN_LIT("*")))
			continue;
		if (!next_token(&line, &tok) || !number(tok, UINT32_MAX, &v))
			continue;
		if (!next_token(&line, &tok) || !span_eq_nocase(tok, SPAN_LIT("FETCH")))
			continue;
		if (line.len < 3 || line.p[0] != ' ' || line.p[1] != '(' ||
		    line.p[line.len - 1] != ')')
			continue;
		line.p += 2;
		line.len -= 3;
		while (next_token(&line, &tok)) {
			struct span val;

			if (!next_token(&line, &val))
				break;
			if (span_eq_nocase(tok, SPAN_LIT("UID")) && number(val, UINT32_MAX, &v))
				got_uid = v;
			else if (span_eq_nocase(tok, SPAN_LIT("RFC822.SIZE")) &&
			         number(val, UINT64_MAX, &v)) {
				got_size = v;
				have_size = true;
			}
		}
		if (got_uid == uid && have_size) {
			*size = got_size;
			return 0;
		}
	}
	return ERR_NOTFOUND;
}
