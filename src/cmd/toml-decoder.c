/*
 * toml-decoder - the toml-test decoder: TOML on stdin, tagged JSON on stdout.
 *
 * Protocol (../shared/conformance/toml-test/README.md): a table is a JSON object, an
 * array a JSON array, every scalar {"type": T, "value": S} with S a JSON string.
 * Exit 0 on valid input; on invalid input the error goes to stderr and the exit status
 * is 1.  Used by tests/integration/toml_conformance.t.  Single-threaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/toml.h"
#include "util/buf.h"
#include "util/xalloc.h"

static void
put_json_string(struct buf *o, const char *s, size_t len)
{
	buf_putc(o, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"':
			buf_append_str(o, "\\\"");
			break;
		case '\\':
			buf_append_str(o, "\\\\");
			break;
		case '\n':
			buf_append_str(o, "\\n");
			break;
		case '\t':
			buf_append_str(o, "\\t");
			break;
		case '\r':
			buf_append_str(o, "\\r");
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				buf_printf(o, "\\u%04x", c);
			else
				buf_putc(o, (char)c);
		}
	}
	buf_putc(o, '"');
}

static const char *
tag(enum toml_type t)
{
	switch (t) {
	case TOML_STRING:
		return "string";
	case TOML_INTEGER:
		return "integer";
	case TOML_FLOAT:
		return "float";
	case TOML_BOOL:
		return "bool";
	case TOML_DATETIME:
		return "datetime";
	case TOML_DATETIME_LOCAL:
		return "datetime-local";
	case TOML_DATE_LOCAL:
		return "date-local";
	case TOML_TIME_LOCAL:
		return "time-local";
	default:
		return "?";
	}
}

/* Recursion depth is bounded by the parser's depth cap. */
static void
put_value(struct buf *o, const struct toml_value *v)
{
	enum toml_type t = toml_value_type(v);
	size_t n = toml_value_count(v);

	if (t == TOML_TABLE) {
		buf_putc(o, '{');
		for (size_t i = 0; i < n; i++) {
			size_t klen;
			const char *k = toml_value_key(v, i, &klen);
			if (i > 0)
				buf_putc(o, ',');
			put_json_string(o, k, klen);
			buf_putc(o, ':');
			put_value(o, toml_value_at(v, i));
		}
		buf_putc(o, '}');
		return;
	}
	if (t == TOML_ARRAY) {
		buf_putc(o, '[');
		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				buf_putc(o, ',');
			put_value(o, toml_value_at(v, i));
		}
		buf_putc(o, ']');
		return;
	}
	buf_printf(o, "{\"type\":\"%s\",\"value\":", tag(t));
	if (t == TOML_FLOAT) {
		/* the flat text is the shortest text that reads back as the same double */
		size_t len;
		const char *s = toml_value_text(v, &len);
		put_json_string(o, s, len);
	} else if (t == TOML_DATETIME || t == TOML_DATETIME_LOCAL || t == TOML_DATE_LOCAL ||
	           t == TOML_TIME_LOCAL) {
		size_t len;
		const char *s = toml_value_text(v, &len);
		char *tmp = xmemdup(s, len + 1);
		/* toml-test wants 'T' and 'Z'; TOML also allows 't', ' ' and 'z' */
		if (len > 10 && (tmp[10] == 't' || tmp[10] == ' ') && tmp[4] == '-')
			tmp[10] = 'T';
		if (len > 0 && tmp[len - 1] == 'z')
			tmp[len - 1] = 'Z';
		put_json_string(o, tmp, len);
		free(tmp);
	} else {
		size_t len;
		const char *s = toml_value_text(v, &len);
		put_json_string(o, s, len);
	}
	buf_putc(o, '}');
}

int
main(void)
{
	struct buf in, o;
	char chunk[65536];
	struct toml_doc *doc;
	struct err e;
	ssize_t n;

	buf_init(&in, TOML_DEFAULT_MAX_SIZE);
	while ((n = read(0, chunk, sizeof(chunk))) > 0) {
		if (buf_append(&in, chunk, (size_t)n) != 0) {
			fprintf(stderr, "<stdin>: file is larger than the %zu-byte limit\n",
			        TOML_DEFAULT_MAX_SIZE);
			buf_clear(&in);
			return 1;
		}
	}
	if (n < 0) {
		perror("toml-decoder: stdin");
		buf_clear(&in);
		return 2;
	}
	if (toml_parse_tree("<stdin>", buf_cstr(&in), in.len, NULL, &doc, &e) != 0) {
		fprintf(stderr, "%s\n", e.msg);
		buf_clear(&in);
		return 1;
	}
	buf_init(&o, (size_t)1 << 30);
	put_value(&o, toml_doc_root(doc));
	buf_putc(&o, '\n');
	fwrite(o.data, 1, o.len, stdout);
	buf_clear(&o);
	buf_clear(&in);
	toml_free(doc);
	return 0;
}
