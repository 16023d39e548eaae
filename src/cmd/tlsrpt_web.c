/*
 * tlsrpt_web.c - `tlsrpt web`: helpers for the web role (issue 9).
 *
 *   tlsrpt web passwd [--user NAME] [--iterations N]
 *
 * Reads a password (from the terminal without echo, asked twice, or the first line of
 * standard input) and prints its PBKDF2-HMAC-SHA256 hash ("$pbkdf2-sha256$ITER$SALT$HASH",
 * see web/web_auth.h); with --user, the whole web.users entry "NAME:$pbkdf2-sha256$...".
 * Exit 0, 1 on failure, 2 on usage errors.
 * Threading: single-threaded.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cmd/tlsrpt.h"
#include "util/str.h"
#include "web/web_auth.h"

static const char usage_text[] = "usage: tlsrpt web passwd [--user NAME] [--iterations N]\n";

/* One line of at most cap-1 bytes without its newline; -1 at EOF or when too long. */
static int
read_line(FILE *f, char *out, size_t cap)
{
	size_t n;

	if (fgets(out, (int)cap, f) == NULL)
		return -1;
	n = strlen(out);
	if (n && out[n - 1] == '\n')
		out[--n] = '\0';
	else if (!feof(f))
		return -1;
	if (n && out[n - 1] == '\r')
		out[--n] = '\0';
	return 0;
}

static int
ask(const char *prompt, char *out, size_t cap)
{
	struct termios old, quiet;
	int rc;

	fputs(prompt, stderr);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &old) != 0)
		return read_line(stdin, out, cap);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	rc = read_line(stdin, out, cap);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	return rc;
}

static int
passwd(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *user = NULL;
	uint64_t iter = WEB_PBKDF2_DEFAULT_ITER;
	char pw[1024], again[1024];
	struct buf out;
	struct err e = { 0 };
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "u:i:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			user = optarg;
			if (*user == '\0' || strchr(user, ':') ||
			    strlen(user) > WEB_USER_NAME_MAX) {
				fprintf(stderr,
				        "tlsrpt: web passwd: --user: 1 to %d bytes without ':'\n",
				        WEB_USER_NAME_MAX);
				return 2;
			}
			break;
		case 'i':
			if (str_to_u64(span_cstr(optarg), &iter) != 0 ||
			    iter < WEB_PBKDF2_MIN_ITER || iter > WEB_PBKDF2_MAX_ITER) {
				fprintf(stderr,
				        "tlsrpt: web passwd: --iterations: expected %d..%d\n",
				        WEB_PBKDF2_MIN_ITER, WEB_PBKDF2_MAX_ITER);
				return 2;
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (isatty(STDIN_FILENO)) {
		if (ask("Password: ", pw, sizeof(pw)) != 0 ||
		    ask("Again: ", again, sizeof(again)) != 0) {
			fprintf(stderr, "tlsrpt: web passwd: no password read\n");
			return 1;
		}
		if (strcmp(pw, again) != 0) {
			fprintf(stderr, "tlsrpt: web passwd: the passwords differ\n");
			return 1;
		}
	} else if (read_line(stdin, pw, sizeof(pw)) != 0) {
		fprintf(stderr, "tlsrpt: web passwd: no password on standard input (one line, at "
		                "most 1023 bytes)\n");
		return 1;
	}
	if (pw[0] == '\0') {
		fprintf(stderr, "tlsrpt: web passwd: empty password\n");
		return 1;
	}
	buf_init(&out, 4096);
	if (user)
		buf_printf(&out, "%s:", user);
	rc = web_passwd_hash(pw, strlen(pw), (unsigned)iter, &out, &e);
	memset(pw, 0, sizeof(pw));
	memset(again, 0, sizeof(again));
	if (rc != 0) {
		fprintf(stderr, "tlsrpt: web passwd: %s\n", e.msg);
		buf_clear(&out);
		return 1;
	}
	printf("%s\n", buf_cstr(&out));
	buf_clear(&out);
	return 0;
}

int
cmd_web(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "passwd") == 0)
		return passwd(argc - 1, argv + 1);
	fputs(usage_text, argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
	return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
}
