/*
 * lmtp.c - the LMTP server protocol (RFC 2033) as a state machine over bytes; see lmtp.h.
 *
 * Follows RFC 2033 (LHLO, one reply per accepted recipient after the final dot, 503 for
 * DATA without a successful RCPT), RFC 5321 (command syntax, section 4.5.2 dot-unstuffing,
 * section 4.5.3.1 line limits: 512 octets for a command line, 1000 for a text line, both
 * with the CRLF), RFC 2920 (PIPELINING: every complete line of the input is processed in
 * order), RFC 3463 / RFC 2034 (enhanced status codes on every reply but the greeting and
 * LHLO), RFC 1870 (SIZE) and RFC 6152 (8BITMIME).
 *
 * Hostile input is answered, never trusted:
 *   - a line over its limit:       500 5.5.2 (a command) or, for the message, 500 5.5.2
 *                                  to every recipient after the final dot; the rest of the
 *                                  line is skipped, the session goes on.
 *   - a command ending in bare LF: 500 5.5.2; a command holding NUL: 500 5.5.2.
 *   - in DATA only CRLF "." CRLF ends the message (bare LF never does: no SMTP smuggling).
 *   - a message over max_message:  552 5.3.4 to every recipient after the final dot; the
 *                                  excess is discarded, and when the client sends more
 *                                  than twice the cap the session ends with 421 4.3.4.
 *   - more than max_recipients:    452 4.5.3 for each extra RCPT.
 *   - more than max_commands commands without a delivered message: 421 4.7.0 and close.
 *
 * Threading: a session is used by one thread at a time; no globals.
 */
#include "inbound/lmtp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/xalloc.h"

enum lmtp_state {
	ST_START, /* no LHLO yet */
	ST_READY, /* LHLO done, no transaction */
	ST_MAIL,  /* MAIL accepted, collecting RCPTs */
	ST_DATA,  /* between 354 and the final dot */
	ST_CLOSED,
};

struct lmtp_session {
	struct lmtp_opts o;
	enum lmtp_state state;
	size_t commands; /* since the last delivered message */

	/* the line being assembled */
	char line[LMTP_TEXT_LINE_MAX + 1];
	size_t llen;
	bool overlong; /* the current line passed its limit: skipping to LF */
	bool tail_cr;  /* the last byte fed was CR (for a skipped line's ending) */

	/* the transaction */
	char *sender;
	char **rcpts;
	size_t nrcpts;

	/* DATA */
	struct buf msg;
	bool bol_crlf;    /* the previous data line ended with CRLF */
	bool too_big;     /* message over max_message: discarding */
	bool long_line;   /* a text line over 1000 octets */
	size_t data_seen; /* bytes received in this DATA */
};

static void reply(struct buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
reply(struct buf *out, const char *fmt, ...)
{
	va_list ap;
	size_t mark = out->len;

	va_start(ap, fmt);
	/* a reply is all or nothing: never half a line */
	if (buf_vprintf(out, fmt, ap) != 0 || buf_append(out, "\r\n", 2) != 0) {
		out->len = mark;
		if (out->data)
			out->data[mark] = '\0';
	}
	va_end(ap);
}

static const char *
host(const struct lmtp_session *s)
{
	return s->o.hostname ? s->o.hostname : "localhost";
}

static void
reset_transaction(struct lmtp_session *s)
{
	free(s->sender);
	s->sender = NULL;
	for (size_t i = 0; i < s->nrcpts; i++)
		free(s->rcpts[i]);
	free(s->rcpts);
	s->rcpts = NULL;
	s->nrcpts = 0;
	buf_clear(&s->msg);
	if (s->state == ST_MAIL || s->state == ST_DATA)
		s->state = ST_READY;
}

struct lmtp_session *
lmtp_session_new(const struct lmtp_opts *o, struct buf *out)
{
	struct lmtp_session *s = xcalloc(1, sizeof(*s));

	s->o = *o;
	if (s->o.max_message == 0)
		s->o.max_message = LMTP_DEFAULT_MAX_MESSAGE;
	if (s->o.max_recipients == 0)
		s->o.max_recipients = LMTP_DEFAULT_MAX_RECIPIENTS;
	if (s->o.max_commands == 0)
		s->o.max_commands = LMTP_DEFAULT_MAX_COMMANDS;
	buf_init(&s->msg, s->o.max_message);
	s->state = ST_START;
	reply(out, "220 %s LMTP tlsrptd ready", host(s));
	return s;
}

void
lmtp_session_free(struct lmtp_session *s)
{
	if (s == NULL)
		return;
	reset_transaction(s);
	free(s);
}

bool
lmtp_in_data(const struct lmtp_session *s)
{
	return s->state == ST_DATA;
}

void
lmtp_timeout(struct lmtp_session *s, struct buf *out)
{
	if (s->state == ST_CLOSED)
		return;
	reply(out, "421 4.4.2 %s Error: timeout exceeded", host(s));
	reset_transaction(s);
	s->state = ST_CLOSED;
}

void
lmtp_shutdown(struct lmtp_session *s, struct buf *out)
{
	if (s->state == ST_CLOSED)
		return;
	reply(out, "421 4.3.2 %s Service shutting down, try again later", host(s));
	reset_transaction(s);
	s->state = ST_CLOSED;
}

/* ------------------------------------------------------------------ address patterns */

/* Glob match, ASCII case-insensitive; `*` any run, `?` one character. */
static bool
glob_match(const char *pat, const char *str)
{
	const char *star = NULL, *resume = NULL;

	while (*str) {
		if (*pat == '*') {
			star = pat++;
			resume = str;
		} else if (*pat && (*pat == '?' || ascii_lower(*pat) == ascii_lower(*str))) {
			pat++;
			str++;
		} else if (star) {
			pat = star + 1;
			str = ++resume;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

bool
lmtp_address_match(const char *const *patterns, size_t n, const char *addr, const char *hostname)
{
	char full[LMTP_PATH_MAX + 256];

	if (strchr(addr, '@') == NULL) {
		snprintf(full, sizeof(full), "%s@%s", addr, hostname ? hostname : "localhost");
		addr = full;
	}
	for (size_t i = 0; i < n; i++)
		if (patterns[i] && glob_match(patterns[i], addr))
			return true;
	return false;
}

/* ------------------------------------------------------------------ commands */

/* Client text echoed in a reply: printable ASCII only, at most 64 bytes. */
static const char *
printable(struct span in, char out[65])
{
	size_t n = in.len > 64 ? 64 : in.len;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in.p[i];

		out[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	out[n] = '\0';
	return out;
}

/* Case-insensitive prefix test on a span. */
static bool
starts_nocase(struct span s, const char *prefix)
{
	size_t n = strlen(prefix);

	return s.len >= n && span_eq_nocase(span_make(s.p, n), span_make(prefix, n));
}

/*
 * Parses "<path> [params]" after "FROM:" or "TO:" (spaces before '<' tolerated).  The
 * path without brackets (a source route "@a,@b:" removed) goes to *path, the parameters
 * to *params.  Returns false on a syntax error.
 */
static bool
parse_path(struct span rest, struct span *path, struct span *params)
{
	const char *gt;

	while (rest.len && rest.p[0] == ' ') {
		rest.p++;
		rest.len--;
	}
	if (rest.len == 0 || rest.p[0] != '<')
		return false;
	gt = memchr(rest.p, '>', rest.len);
	if (gt == NULL)
		return false;
	*path = span_make(rest.p + 1, (size_t)(gt - rest.p - 1));
	if (path->len && path->p[0] == '@') {
		const char *colon = memchr(path->p, ':', path->len);

		if (colon == NULL)
			return false;
		*path = span_make(colon + 1, path->len - (size_t)(colon + 1 - path->p));
	}
	*params = span_make(gt + 1, rest.len - (size_t)(gt + 1 - rest.p));
	if (params->len && params->p[0] != ' ')
		return false;
	*params = span_trim(*params);
	return memchr(path->p, ' ', path->len) == NULL && memchr(path->p, '<', path->len) == NULL;
}

/* Next space-separated word of *rest. */
static struct span
next_word(struct span *rest)
{
	struct span w;
	const char *sp;

	while (rest->len && rest->p[0] == ' ') {
		rest->p++;
		rest->len--;
	}
	sp = memchr(rest->p, ' ', rest->len);
	w = span_make(rest->p, sp ? (size_t)(sp - rest->p) : rest->len);
	rest->p += w.len;
	rest->len -= w.len;
	return w;
}

static void
cmd_lhlo(struct lmtp_session *s, struct span arg, struct buf *out)
{
	if (span_trim(arg).len == 0) {
		reply(out, "501 5.5.4 Syntax: LHLO hostname");
		return;
	}
	reset_transaction(s);
	s->state = ST_READY;
	reply(out, "250-%s", host(s));
	reply(out, "250-PIPELINING");
	reply(out, "250-ENHANCEDSTATUSCODES");
	reply(out, "250-8BITMIME");
	reply(out, "250 SIZE %zu", s->o.max_message);
}

/* The common sequence checks; true when the command may go on. */
static bool
need_lhlo(struct lmtp_session *s, struct buf *out)
{
	if (s->state == ST_START) {
		reply(out, "503 5.5.1 Error: send LHLO first");
		return false;
	}
	return true;
}

static void
cmd_mail(struct lmtp_session *s, struct span arg, struct buf *out)
{
	struct span path, params, w;
	uint64_t size;
	char text[65];

	if (!need_lhlo(s, out))
		return;
	if (s->state == ST_MAIL) {
		reply(out, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (!starts_nocase(arg, " FROM:") ||
	    !parse_path(span_sub(arg, 6, arg.len - 6), &path, &params)) {
		reply(out, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	if (path.len > LMTP_PATH_MAX) {
		reply(out, "501 5.1.7 Error: sender address too long");
		return;
	}
	while ((w = next_word(&params)).len) {
		if (starts_nocase(w, "SIZE=")) {
			if (str_to_u64(span_sub(w, 5, w.len - 5), &size) != 0) {
				reply(out, "501 5.5.4 Syntax: SIZE=<number>");
				return;
			}
			if (size > s->o.max_message) {
				reply(out,
				      "552 5.3.4 Error: message size exceeds the limit of %zu "
				      "bytes",
				      s->o.max_message);
				return;
			}
		} else if (!span_eq_nocase(w, SPAN_LIT("BODY=7BIT")) &&
		           !span_eq_nocase(w, SPAN_LIT("BODY=8BITMIME"))) {
			reply(out, "555 5.5.4 Error: unsupported MAIL parameter %s",
			      printable(w, text));
			return;
		}
	}
	s->sender = xstrndup(path.p, path.len);
	s->state = ST_MAIL;
	reply(out, "250 2.1.0 Ok");
}

static void
cmd_rcpt(struct lmtp_session *s, struct span arg, struct buf *out)
{
	struct span path, params;
	char *addr, text[65];

	if (!need_lhlo(s, out))
		return;
	if (s->state != ST_MAIL) {
		reply(out, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (!starts_nocase(arg, " TO:") ||
	    !parse_path(span_sub(arg, 4, arg.len - 4), &path, &params)) {
		reply(out, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (path.len == 0 || path.len > LMTP_PATH_MAX) {
		reply(out, "501 5.1.3 Error: bad recipient address syntax");
		return;
	}
	if (params.len) {
		struct span w = next_word(&params);

		reply(out, "555 5.5.4 Error: unsupported RCPT parameter %s", printable(w, text));
		return;
	}
	if (s->nrcpts >= s->o.max_recipients) {
		reply(out, "452 4.5.3 Error: too many recipients");
		return;
	}
	addr = xstrndup(path.p, path.len);
	if (!lmtp_address_match(s->o.addresses, s->o.naddresses, addr, s->o.hostname)) {
		reply(out, "550 5.1.1 <%s>: Recipient address rejected: not a TLS report address",
		      printable(span_cstr(addr), text));
		free(addr);
		return;
	}
	s->rcpts = xrealloc(s->rcpts, (s->nrcpts + 1) * sizeof(*s->rcpts));
	s->rcpts[s->nrcpts++] = addr;
	reply(out, "250 2.1.5 Ok");
}

static void
cmd_data(struct lmtp_session *s, struct span arg, struct buf *out)
{
	if (arg.len) {
		reply(out, "501 5.5.4 Syntax: DATA");
		return;
	}
	if (!need_lhlo(s, out))
		return;
	if (s->state != ST_MAIL) {
		reply(out, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (s->nrcpts == 0) {
		/* RFC 2033 section 4.2 */
		reply(out, "503 5.5.1 Error: no valid recipients");
		return;
	}
	buf_clear(&s->msg);
	buf_init(&s->msg, s->o.max_message);
	s->bol_crlf = true;
	s->too_big = false;
	s->long_line = false;
	s->data_seen = 0;
	s->state = ST_DATA;
	reply(out, "354 End data with <CR><LF>.<CR><LF>");
}

/* One command line, CRLF removed, no NUL. */
static void
command(struct lmtp_session *s, struct span line, struct buf *out)
{
	const char *sp = memchr(line.p, ' ', line.len);
	struct span verb = span_make(line.p, sp ? (size_t)(sp - line.p) : line.len);
	struct span arg = span_make(line.p + verb.len, line.len - verb.len);

	if (span_eq_nocase(verb, SPAN_LIT("LHLO"))) {
		cmd_lhlo(s, arg, out);
	} else if (span_eq_nocase(verb, SPAN_LIT("MAIL"))) {
		cmd_mail(s, arg, out);
	} else if (span_eq_nocase(verb, SPAN_LIT("RCPT"))) {
		cmd_rcpt(s, arg, out);
	} else if (span_eq_nocase(verb, SPAN_LIT("DATA"))) {
		cmd_data(s, arg, out);
	} else if (span_eq_nocase(verb, SPAN_LIT("RSET"))) {
		if (arg.len) {
			reply(out, "501 5.5.4 Syntax: RSET");
			return;
		}
		reset_transaction(s);
		reply(out, "250 2.0.0 Ok");
	} else if (span_eq_nocase(verb, SPAN_LIT("NOOP"))) {
		reply(out, "250 2.0.0 Ok");
	} else if (span_eq_nocase(verb, SPAN_LIT("QUIT"))) {
		reply(out, "221 2.0.0 %s closing connection", host(s));
		reset_transaction(s);
		s->state = ST_CLOSED;
	} else if (span_eq_nocase(verb, SPAN_LIT("VRFY"))) {
		reply(out, "252 2.0.0 Cannot VRFY user; try RCPT to find out");
	} else if (span_eq_nocase(verb, SPAN_LIT("HELO")) ||
	           span_eq_nocase(verb, SPAN_LIT("EHLO"))) {
		reply(out, "500 5.5.1 Error: this is LMTP, say LHLO");
	} else {
		reply(out, "500 5.5.2 Error: command not recognized");
	}
}

/* ------------------------------------------------------------------ DATA */

static void
finish_data(struct lmtp_session *s, struct buf *out)
{
	struct lmtp_reply *r = xcalloc(s->nrcpts, sizeof(*r));

	if (s->too_big) {
		for (size_t i = 0; i < s->nrcpts; i++)
			reply(out, "552 5.3.4 Error: message too large (limit %zu bytes)",
			      s->o.max_message);
	} else if (s->long_line) {
		for (size_t i = 0; i < s->nrcpts; i++)
			reply(out, "500 5.5.2 Error: line too long (limit %d octets)",
			      LMTP_TEXT_LINE_MAX);
	} else {
		struct lmtp_delivery d = {
			.sender = s->sender ? s->sender : "",
			.rcpts = (const char *const *)s->rcpts,
			.nrcpts = s->nrcpts,
			.message = buf_span(&s->msg),
		};

		for (size_t i = 0; i < s->nrcpts; i++) {
			r[i].code = 451;
			str_copy(r[i].text, sizeof(r[i].text), "4.3.0 Error: delivery failed");
		}
		if (d.message.p == NULL)
			d.message = span_make("", 0);
		s->o.deliver(s->o.deliver_ctx, &d, r);
		for (size_t i = 0; i < s->nrcpts; i++) {
			/* a reply code is three digits 200..599 or the client is confused */
			if (r[i].code < 200 || r[i].code > 599 || strpbrk(r[i].text, "\r\n")) {
				r[i].code = 451;
				str_copy(r[i].text, sizeof(r[i].text),
				         "4.3.0 Error: delivery failed");
			}
			reply(out, "%d %s", r[i].code, r[i].text);
		}
		s->commands = 0;
	}
	free(r);
	reset_transaction(s);
}

/* One line of message text (with its line ending), or NULL for a skipped long one. */
static void
data_line(struct lmtp_session *s, const char *p, size_t n, bool crlf, struct buf *out)
{
	if (p != NULL && s->bol_crlf && n == 3 && memcmp(p, ".\r\n", 3) == 0) {
		finish_data(s, out);
		return;
	}
	s->data_seen += n;
	if (p == NULL) {
		s->long_line = true;
	} else if (!s->too_big) {
		if (p[0] == '.') {
			p++;
			n--;
		}
		if (buf_append(&s->msg, p, n) != 0) {
			s->too_big = true;
			buf_clear(&s->msg);
		}
	}
	s->bol_crlf = crlf;
	if (s->too_big && s->data_seen > 2 * s->o.max_message) {
		reply(out, "421 4.3.4 %s Error: message too large, closing connection", host(s));
		reset_transaction(s);
		s->state = ST_CLOSED;
	}
}

/* ------------------------------------------------------------------ lines */

/* A complete line (p == NULL: it was over its limit and skipped), with its ending. */
static void
line_done(struct lmtp_session *s, const char *p, size_t n, bool crlf, struct buf *out)
{
	if (s->state == ST_DATA) {
		data_line(s, p, n, crlf, out);
		return;
	}
	if (++s->commands > s->o.max_commands) {
		reply(out, "421 4.7.0 %s Error: too many commands, closing connection", host(s));
		reset_transaction(s);
		s->state = ST_CLOSED;
		return;
	}
	if (p == NULL) {
		reply(out, "500 5.5.2 Error: line too long (limit %d octets)",
		      LMTP_COMMAND_LINE_MAX);
		return;
	}
	if (!crlf) {
		reply(out, "500 5.5.2 Error: bare <LF> received, lines end with <CR><LF>");
		return;
	}
	n -= 2;
	if (memchr(p, '\0', n) != NULL) {
		reply(out, "500 5.5.2 Error: NUL character in command");
		return;
	}
	if (n == 0) {
		reply(out, "500 5.5.2 Error: empty command");
		return;
	}
	command(s, span_make(p, n), out);
}

int
lmtp_feed(struct lmtp_session *s, const char *p, size_t n, struct buf *out)
{
	while (n > 0 && s->state != ST_CLOSED) {
		size_t limit = s->state == ST_DATA ? LMTP_TEXT_LINE_MAX : LMTP_COMMAND_LINE_MAX;
		const char *lf = memchr(p, '\n', n);
		size_t seg = lf ? (size_t)(lf - p) + 1 : n;
		bool prev_cr = seg >= 2 ? p[seg - 2] == '\r' : s->tail_cr;

		if (!s->overlong && s->llen + seg > limit) {
			s->overlong = true;
			s->llen = 0;
		}
		if (!s->overlong) {
			memcpy(s->line + s->llen, p, seg);
			s->llen += seg;
		}
		s->tail_cr = p[seg - 1] == '\r';
		p += seg;
		n -= seg;
		if (lf == NULL)
			break;
		if (s->overlong) {
			s->overlong = false;
			line_done(s, NULL, 0, prev_cr, out);
		} else {
			size_t len = s->llen;

			s->llen = 0;
			line_done(s, s->line, len, len >= 2 && s->line[len - 2] == '\r', out);
		}
	}
	return s->state == ST_CLOSED ? LMTP_CLOSED : LMTP_OPEN;
}
