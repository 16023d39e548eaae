/*
 * test_imap_client.c - unit tests for the pure parts of src/net/imap_client.h: the
 * UID SEARCH and FETCH RFC822.SIZE answer parsers (table-driven, exact UIDs and
 * counts) and the URL checks of imap_open() (exact messages).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "net/imap_client.h"
#include "net/net_curl.h"

struct search_case {
	const char *name;
	const char *in;
	size_t cap;
	size_t want_total, want_n;
	uint32_t want[6];
};

static void
test_parse_search(void **state)
{
	static const struct search_case cases[] = {
		{ "one line", "* SEARCH 3 7 9\r\n", 6, 3, 3, { 3, 7, 9 } },
		{ "empty answer", "* SEARCH\r\n", 6, 0, 0, { 0 } },
		{ "nothing", "", 6, 0, 0, { 0 } },
		{ "other untagged lines",
		  "* 5 EXISTS\r\n* OK [UIDNEXT 9]\r\n* SEARCH 4\r\n",
		  6,
		  1,
		  1,
		  { 4 } },
		{ "two lines", "* SEARCH 1 2\r\n* SEARCH 3\r\n", 6, 3, 3, { 1, 2, 3 } },
		{ "over the cap", "* SEARCH 1 2 3 4 5\r\n", 2, 5, 2, { 1, 2 } },
		{ "lower case, LF only", "* search 12\n", 6, 1, 1, { 12 } },
		{ "largest UID", "* SEARCH 4294967295\r\n", 6, 1, 1, { 4294967295u } },
		{ "too large, zero, junk, MODSEQ skipped",
		  "* SEARCH 4294967296 0 x7 5 (MODSEQ 9)\r\n",
		  6,
		  1,
		  1,
		  { 5 } },
		{ "SEARCHES is another word", "* SEARCHES 1 2\r\n", 6, 0, 0, { 0 } },
		{ "no CRLF at the end", "* SEARCH 8", 6, 1, 1, { 8 } },
		{ "several spaces", "* SEARCH  10   11 \r\n", 6, 2, 2, { 10, 11 } },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct search_case *c = &cases[i];
		uint32_t uids[6] = { 0 };
		size_t n = 99;
		size_t total = imap_parse_search(span_cstr(c->in), uids, c->cap, &n);

		if (total != c->want_total || n != c->want_n)
			fail_msg("%s: got total %zu n %zu, want %zu %zu", c->name, total, n,
			         c->want_total, c->want_n);
		for (size_t k = 0; k < n; k++)
			if (uids[k] != c->want[k])
				fail_msg("%s: uid %zu: got %u, want %u", c->name, k, uids[k],
				         c->want[k]);
	}
}

struct size_case {
	const char *name;
	const char *in;
	uint32_t uid;
	int want_rc;
	uint64_t want;
};

static void
test_parse_size(void **state)
{
	static const struct size_case cases[] = {
		{ "uid first", "* 4 FETCH (UID 9 RFC822.SIZE 1234)\r\n", 9, 0, 1234 },
		{ "size first", "* 4 FETCH (RFC822.SIZE 55 UID 9)\r\n", 9, 0, 55 },
		{ "lower case", "* 4 fetch (uid 9 rfc822.size 7)\n", 9, 0, 7 },
		{ "other uid", "* 4 FETCH (UID 8 RFC822.SIZE 1234)\r\n", 9, ERR_NOTFOUND, 0 },
		{ "second line",
		  "* 1 FETCH (UID 2 RFC822.SIZE 1)\r\n* 2 FETCH (UID 3 RFC822.SIZE 2)\r\n", 3, 0,
		  2 },
		{ "no size", "* 4 FETCH (UID 9)\r\n", 9, ERR_NOTFOUND, 0 },
		{ "no parenthesis", "* 4 FETCH UID 9 RFC822.SIZE 3\r\n", 9, ERR_NOTFOUND, 0 },
		{ "size 0", "* 4 FETCH (UID 9 RFC822.SIZE 0)\r\n", 9, 0, 0 },
		{ "huge size", "* 4 FETCH (UID 9 RFC822.SIZE 18446744073709551615)\r\n", 9, 0,
		  UINT64_MAX },
		{ "size overflow", "* 4 FETCH (UID 9 RFC822.SIZE 18446744073709551616)\r\n", 9,
		  ERR_NOTFOUND, 0 },
		{ "extra FLAGS item", "* 4 FETCH (UID 9 RFC822.SIZE 10 FLAGS (\\Seen))\r\n", 9, 0,
		  10 },
		{ "tagged line", "A1 OK FETCH done\r\n", 9, ERR_NOTFOUND, 0 },
		{ "empty", "", 9, ERR_NOTFOUND, 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct size_case *c = &cases[i];
		uint64_t size = 0;
		int rc = imap_parse_size(span_cstr(c->in), c->uid, &size);

		if (rc != c->want_rc || (rc == 0 && size != c->want))
			fail_msg("%s: got rc %d size %llu, want %d %llu", c->name, rc,
			         (unsigned long long)size, c->want_rc, (unsigned long long)c->want);
	}
}

struct url_case {
	const char *url;
	const char *want; /* error message, or NULL */
};

static void
test_open_urls(void **state)
{
	static const struct url_case cases[] = {
		{ "imaps://rpt@mail.example/INBOX", NULL },
		{ "IMAP://rpt@127.0.0.1:143/Reports/TLS", NULL },
		{ "imaps://rpt@mail.example", NULL },
		{ "imaps://rpt@mail.example/", NULL },
		{ "https://mail.example/",
		  "https://mail.example/: expected an imaps:// or imap:// URL" },
		{ "imaps://mail.example/INBOX",
		  "imaps://mail.example/INBOX: no user name (imaps://user@host/MAILBOX)" },
		{ "imaps://rpt@/INBOX", "imaps://rpt@/INBOX: no host name" },
		{ "imaps://rpt@host/INBOX;UID=4",
		  "imaps://rpt@host/INBOX;UID=4: expected imaps://user@host[:port]/MAILBOX without "
		  ";parameters, ?query or spaces (write a space as %20)" },
		{ "imaps://rpt@host/a b",
		  "imaps://rpt@host/a b: expected imaps://user@host[:port]/MAILBOX without "
		  ";parameters, ?query or spaces (write a space as %20)" },
		{ "imaps://host/x@y",
		  "imaps://host/x@y: no user name (imaps://user@host/MAILBOX)" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct imap_opts o = { .url = cases[i].url, .password = "pw" };
		struct imap *c = NULL;
		struct err e = { 0 };
		int rc = imap_open(&o, &c, &e);

		if (cases[i].want == NULL && rc != 0)
			fail_msg("%s: got error %s, want success", cases[i].url, e.msg);
		if (cases[i].want != NULL &&
		    (rc != ERR_INVALID || strcmp(e.msg, cases[i].want) != 0))
			fail_msg("%s: got rc %d \"%s\", want \"%s\"", cases[i].url, rc, e.msg,
			         cases[i].want);
		imap_close(c);
	}
	imap_close(NULL);
}

static int
setup(void **state)
{
	(void)state;
	return net_global_init(NULL);
}

static int
teardown(void **state)
{
	(void)state;
	net_global_cleanup();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_search),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_open_urls),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
