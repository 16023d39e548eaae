/*
 * toml_parse.c - TOML 1.0.0 document structure: key/value pairs, [tables],
 * [[arrays of tables]], dotted keys, arrays and inline tables, and the rules that keep
 * a document unambiguous (toml.io/en/v1.0.0, "Table", "Inline Table", "Array of Tables"):
 *
 *   - a key is defined once; a table is defined once by a header;
 *   - dotted keys define the tables they pass through: such a table cannot later be
 *     defined by a header, nor extended by dotted keys from another table section
 *     (TN_DOTTED + the section that created it);
 *   - a table defined by a header cannot be extended by dotted keys from elsewhere
 *     (TN_EXPLICIT);
 *   - inline tables and arrays given as values are immutable (TN_FROZEN): no header,
 *     dotted key or [[header]] may add to them.
 *
 * Recursion (arrays, inline tables, flattening) is bounded by the depth cap, which
 * applies to every node of the tree.  One parser per call; no shared state.
 */
#include "config/toml_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/xalloc.h"

static int parse_value(struct toml_parser *p, unsigned depth, struct toml_value **out);

/* A node positioned at key segment sg (positions were taken when the key was read). */
static struct toml_value *
seg_node(struct toml_parser *p, enum toml_type t, unsigned depth, const struct toml_seg *sg)
{
	struct toml_value *v = toml_node_new(p->doc, t, depth);
	v->line = sg->line;
	v->col = sg->col;
	return v;
}

static struct toml_value *
node_at(struct toml_parser *p, enum toml_type t, unsigned depth, size_t off)
{
	struct toml_value *v = toml_node_new(p->doc, t, depth);
	toml_pos(p, off, &v->line, &v->col);
	return v;
}

/* The first n segments of kp joined by '.', quoted for a message. */
static void
path_repr(const struct toml_keypath *kp, size_t n, char *out, size_t cap)
{
	struct buf b;
	buf_init(&b, 1024);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&b, '.');
		buf_append(&b, kp->v[i].s, kp->v[i].len);
	}
	toml_repr(buf_cstr(&b), b.len, out, cap);
	buf_clear(&b);
}

/* "an integer", "an inline table", "a static array", ... for messages. */
static const char *
what_is(const struct toml_value *v)
{
	switch (v->type) {
	case TOML_STRING:
		return "a string";
	case TOML_INTEGER:
		return "an integer";
	case TOML_FLOAT:
		return "a float";
	case TOML_BOOL:
		return "a boolean";
	case TOML_DATETIME:
		return "a date-time";
	case TOML_DATETIME_LOCAL:
		return "a local date-time";
	case TOML_DATE_LOCAL:
		return "a local date";
	case TOML_TIME_LOCAL:
		return "a local time";
	case TOML_ARRAY:
		return (v->flags & TN_AOT) ? "an array of tables" : "a static array";
	case TOML_TABLE:
		return (v->flags & TN_FROZEN) ? "an inline table" : "a table";
	}
	return "a value";
}

static int
depth_error(struct toml_parser *p, size_t off)
{
	return toml_err_at(p, off, "nesting deeper than %u levels", p->max_depth);
}

/* Line ends, white space and comments inside an array. */
static int
skip_array_space(struct toml_parser *p)
{
	for (;;) {
		toml_skip_ws(p);
		if (p->pos >= p->len)
			return 0;
		char c = p->s[p->pos];
		if (c == '#') {
			if (toml_comment(p) != 0)
				return ERR_INVALID;
		} else if (c == '\n') {
			p->pos++;
		} else if (c == '\r' && p->pos + 1 < p->len && p->s[p->pos + 1] == '\n') {
			p->pos += 2;
		} else if (c == '\r') {
			return toml_err_at(p, p->pos,
			                   "carriage return not followed by a line feed");
		} else {
			return 0;
		}
	}
}

static int
parse_array(struct toml_parser *p, unsigned depth, struct toml_value **out)
{
	struct toml_value *a = node_at(p, TOML_ARRAY, depth, p->pos);
	size_t open = p->pos;
	char what[32];

	*out = a;
	a->flags |= TN_FROZEN;
	p->pos++;
	for (;;) {
		if (skip_array_space(p) != 0)
			return ERR_INVALID;
		if (p->pos < p->len && p->s[p->pos] == ']') {
			p->pos++;
			return 0;
		}
		if (p->pos >= p->len)
			return toml_err_at(p, open, "unterminated array: missing \"]\"");
		struct toml_value *item;
		if (parse_value(p, depth + 1, &item) != 0)
			return ERR_INVALID;
		toml_array_add(a, item);
		if (skip_array_space(p) != 0)
			return ERR_INVALID;
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == ']') {
			p->pos++;
			return 0;
		}
		if (p->pos >= p->len)
			return toml_err_at(p, open, "unterminated array: missing \"]\"");
		toml_describe(p, p->pos, what, sizeof(what));
		return toml_err_at(p, p->pos,
		                   "expected \",\" or \"]\" after an array item, found %s", what);
	}
}

/*
 * Adds val under the dotted key kp to table tbl, creating the tables the key passes
 * through.  section identifies the table section or inline table being parsed.
 */
static int
insert_keyval(struct toml_parser *p, struct toml_value *tbl, const struct toml_keypath *kp,
              struct toml_value *val, unsigned section)
{
	struct toml_value *t = tbl;
	char name[160], part[160];

	for (size_t i = 0; i + 1 < kp->n; i++) {
		const struct toml_seg *sg = &kp->v[i];
		struct toml_entry *en = toml_table_find(t, sg->s, sg->len);
		if (en == NULL) {
			if (t->depth + 1 > p->max_depth)
				return depth_error(p, sg->off);
			struct toml_value *c = seg_node(p, TOML_TABLE, t->depth + 1, sg);
			c->flags = TN_DOTTED;
			c->section = section;
			toml_table_add(t, sg->s, sg->len, c);
			t = c;
			continue;
		}
		struct toml_value *c = en->val;
		if (c->type == TOML_TABLE && !(c->flags & (TN_FROZEN | TN_EXPLICIT)) &&
		    (!(c->flags & TN_DOTTED) || c->section == section)) {
			c->flags |= TN_DOTTED;
			c->section = section;
			t = c;
			continue;
		}
		path_repr(kp, kp->n, name, sizeof(name));
		path_repr(kp, i + 1, part, sizeof(part));
		if (c->type == TOML_ARRAY)
			return toml_err_at(
			        p, sg->off,
			        "cannot define key %s: %s is an array (defined at %u:%u), "
			        "not a table",
			        name, part, c->line, c->col);
		if (c->type != TOML_TABLE)
			return toml_err_at(
			        p, sg->off,
			        "cannot define key %s: %s is already %s (defined at %u:%u)", name,
			        part, what_is(c), c->line, c->col);
		if (c->flags & TN_FROZEN)
			return toml_err_at(
			        p, sg->off,
			        "cannot define key %s: inline table %s (defined at %u:%u) "
			        "cannot be extended",
			        name, part, c->line, c->col);
		if ((c->flags & TN_EXPLICIT) || ((c->flags & TN_DOTTED) && c->section != section))
			return toml_err_at(p, sg->off,
			                   "cannot define key %s: table %s was already defined at "
			                   "%u:%u; add the key in that table's section",
			                   name, part, c->line, c->col);
		c->flags |= TN_DOTTED;
		c->section = section;
		t = c;
	}
	const struct toml_seg *last = &kp->v[kp->n - 1];
	struct toml_entry *en = toml_table_find(t, last->s, last->len);
	if (en != NULL) {
		path_repr(kp, kp->n, name, sizeof(name));
		return toml_err_at(p, kp->v[0].off, "duplicate key %s (first defined at %u:%u)",
		                   name, en->val->line, en->val->col);
	}
	toml_table_add(t, last->s, last->len, val);
	return 0;
}

static int
parse_inline_table(struct toml_parser *p, unsigned depth, struct toml_value **out)
{
	struct toml_value *t = node_at(p, TOML_TABLE, depth, p->pos);
	unsigned id = ++p->ids;
	char what[32];
	int rc = 0;

	*out = t;
	p->pos++;
	toml_skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == '}') {
		p->pos++;
		t->flags |= TN_FROZEN;
		return 0;
	}
	for (;;) {
		struct toml_keypath kp = { 0 };
		struct toml_value *val;
		rc = toml_key(p, &kp);
		if (rc == 0 && (p->pos >= p->len || p->s[p->pos] != '=')) {
			toml_describe(p, p->pos, what, sizeof(what));
			rc = toml_err_at(p, p->pos, "expected \"=\" after the key, found %s", what);
		}
		if (rc == 0) {
			p->pos++;
			toml_skip_ws(p);
			rc = parse_value(p, depth + (unsigned)kp.n, &val);
		}
		if (rc == 0)
			rc = insert_keyval(p, t, &kp, val, id);
		toml_keypath_clear(&kp);
		if (rc != 0)
			return rc;
		toml_skip_ws(p);
		int c = p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
		if (c == ',') {
			p->pos++;
			toml_skip_ws(p);
			if (p->pos < p->len && p->s[p->pos] == '}')
				return toml_err_at(
				        p, p->pos - 1,
				        "trailing comma in inline table; remove the \",\" "
				        "before \"}\"");
			continue;
		}
		if (c == '}') {
			p->pos++;
			break;
		}
		if (c == '\n' || c == '\r')
			return toml_err_at(
			        p, p->pos,
			        "line end inside an inline table; an inline table must be "
			        "on one line (use a [table] for more keys)");
		toml_describe(p, p->pos, what, sizeof(what));
		return toml_err_at(p, p->pos, "expected \",\" or \"}\" in inline table, found %s",
		                   what);
	}
	t->flags |= TN_FROZEN;
	return 0;
}

static int
parse_value(struct toml_parser *p, unsigned depth, struct toml_value **out)
{
	*out = NULL;
	if (depth > p->max_depth)
		return depth_error(p, p->pos);
	if (p->pos < p->len && p->s[p->pos] == '[')
		return parse_array(p, depth, out);
	if (p->pos < p->len && p->s[p->pos] == '{')
		return parse_inline_table(p, depth, out);
	struct toml_value *v = node_at(p, TOML_STRING, depth, p->pos);
	*out = v;
	return toml_scalar(p, v);
}

/* key = value at the section level, then its flat entries. */
static int
parse_keyval(struct toml_parser *p)
{
	struct toml_keypath kp = { 0 };
	struct toml_value *val = NULL;
	char what[32];
	int rc = toml_key(p, &kp);

	if (rc == 0 && (p->pos >= p->len || p->s[p->pos] != '=')) {
		toml_describe(p, p->pos, what, sizeof(what));
		rc = toml_err_at(p, p->pos, "expected \"=\" after the key, found %s", what);
	}
	if (rc == 0) {
		p->pos++;
		toml_skip_ws(p);
		rc = parse_value(p, p->cur->depth + (unsigned)kp.n, &val);
	}
	if (rc == 0)
		rc = insert_keyval(p, p->cur, &kp, val, p->section);
	if (rc == 0 && !p->no_flat) {
		buf_reset(&p->key);
		if (buf_append(&p->key, buf_cstr(&p->prefix), p->prefix.len) != 0)
			rc = toml_err_at(p, kp.v[0].off, "key too long");
		for (size_t i = 0; rc == 0 && i < kp.n; i++) {
			if ((p->key.len > 0 && buf_putc(&p->key, '.') != 0) ||
			    buf_append(&p->key, kp.v[i].s, kp.v[i].len) != 0)
				rc = toml_err_at(p, kp.v[0].off, "key too long");
		}
		if (rc == 0)
			rc = toml_flatten(p, val);
	}
	toml_keypath_clear(&kp);
	if (rc == 0)
		rc = toml_eol(p, "the value");
	return rc;
}

static int
prefix_add(struct toml_parser *p, const struct toml_seg *sg, size_t off)
{
	size_t mark = p->prefix.len;
	if ((mark > 0 && buf_putc(&p->prefix, '.') != 0) ||
	    buf_append(&p->prefix, sg->s, sg->len) != 0)
		return toml_err_at(p, off, "table name too long");
	str_lower(p->prefix.data + mark, p->prefix.len - mark);
	return 0;
}

static int
prefix_index(struct toml_parser *p, size_t i, size_t off)
{
	if (buf_printf(&p->prefix, ".%04zu", i) != 0)
		return toml_err_at(p, off, "table name too long");
	return 0;
}

/* [table] or [[array of tables]]: makes its table the current section. */
static int
parse_header(struct toml_parser *p)
{
	struct toml_keypath kp = { 0 };
	size_t open = p->pos;
	bool aot = p->pos + 1 < p->len && p->s[p->pos + 1] == '[';
	char what[32], name[160], part[160];
	struct toml_value *t = p->doc->root;
	int rc;

	p->pos += aot ? 2 : 1;
	rc = toml_key(p, &kp);
	if (rc == 0 && (p->pos >= p->len || p->s[p->pos] != ']' ||
	                (aot && (p->pos + 1 >= p->len || p->s[p->pos + 1] != ']')))) {
		size_t at = p->pos < p->len && p->s[p->pos] == ']' ? p->pos + 1 : p->pos;
		toml_describe(p, at, what, sizeof(what));
		rc = toml_err_at(p, at, "expected \"%s\" to close the %s header, found %s",
		                 aot ? "]]" : "]", aot ? "array of tables" : "table", what);
	}
	if (rc != 0)
		goto out;
	p->pos += aot ? 2 : 1;
	rc = toml_eol(p, aot ? "the array of tables header" : "the table header");
	if (rc != 0)
		goto out;
	path_repr(&kp, kp.n, name, sizeof(name));
	buf_reset(&p->prefix);
	for (size_t i = 0; i + 1 < kp.n; i++) {
		const struct toml_seg *sg = &kp.v[i];
		struct toml_entry *en = toml_table_find(t, sg->s, sg->len);
		rc = prefix_add(p, sg, open);
		if (rc != 0)
			goto out;
		if (en == NULL) {
			if (t->depth + 1 > p->max_depth) {
				rc = depth_error(p, sg->off);
				goto out;
			}
			struct toml_value *c = seg_node(p, TOML_TABLE, t->depth + 1, sg);
			toml_table_add(t, sg->s, sg->len, c);
			t = c;
			continue;
		}
		struct toml_value *c = en->val;
		path_repr(&kp, i + 1, part, sizeof(part));
		if (c->type == TOML_TABLE && !(c->flags & TN_FROZEN)) {
			t = c;
		} else if (c->type == TOML_ARRAY && (c->flags & TN_AOT)) {
			t = c->items[c->n - 1];
			rc = prefix_index(p, c->n - 1, open);
			if (rc != 0)
				goto out;
		} else {
			rc = toml_err_at(
			        p, sg->off,
			        "cannot define table %s: %s is %s (defined at %u:%u), which "
			        "cannot be extended",
			        name, part, what_is(c), c->line, c->col);
			goto out;
		}
	}
	const struct toml_seg *last = &kp.v[kp.n - 1];
	struct toml_entry *en = toml_table_find(t, last->s, last->len);
	struct toml_value *c = en ? en->val : NULL;
	rc = prefix_add(p, last, open);
	if (rc != 0)
		goto out;
	if (!aot) {
		if (c == NULL) {
			if (t->depth + 1 > p->max_depth) {
				rc = depth_error(p, last->off);
				goto out;
			}
			c = seg_node(p, TOML_TABLE, t->depth + 1, last);
			toml_table_add(t, last->s, last->len, c);
		} else if (c->type == TOML_TABLE &&
		           !(c->flags & (TN_EXPLICIT | TN_DOTTED | TN_FROZEN))) {
			c->line = last->line;
			c->col = last->col;
		} else if (c->type == TOML_TABLE) {
			rc = toml_err_at(p, kp.v[0].off, "table %s is already defined%s (at %u:%u)",
			                 name,
			                 (c->flags & TN_FROZEN)   ? " as an inline table"
			                 : (c->flags & TN_DOTTED) ? " by dotted keys"
			                                          : "",
			                 c->line, c->col);
			goto out;
		} else {
			rc = toml_err_at(
			        p, kp.v[0].off,
			        "cannot define table %s: it is already %s (defined at %u:%u)", name,
			        what_is(c), c->line, c->col);
			goto out;
		}
		c->flags |= TN_EXPLICIT;
		t = c;
	} else {
		if (c == NULL) {
			if (t->depth + 2 > p->max_depth) {
				rc = depth_error(p, last->off);
				goto out;
			}
			c = seg_node(p, TOML_ARRAY, t->depth + 1, last);
			c->flags = TN_AOT;
			toml_table_add(t, last->s, last->len, c);
		} else if (c->type != TOML_ARRAY || !(c->flags & TN_AOT)) {
			rc = toml_err_at(p, kp.v[0].off,
			                 "cannot define array of tables %s: it is already %s "
			                 "(defined at %u:%u)",
			                 name, what_is(c), c->line, c->col);
			goto out;
		}
		struct toml_value *item = seg_node(p, TOML_TABLE, c->depth + 1, last);
		item->flags = TN_EXPLICIT;
		toml_array_add(c, item);
		rc = prefix_index(p, c->n - 1, open);
		if (rc != 0)
			goto out;
		t = item;
	}
	p->cur = t;
	p->section = ++p->ids;
out:
	toml_keypath_clear(&kp);
	return rc;
}

static int
parse_document(struct toml_parser *p)
{
	for (;;) {
		toml_skip_ws(p);
		if (p->pos >= p->len)
			return 0;
		char c = p->s[p->pos];
		int rc = 0;
		if (c == '#')
			rc = toml_eol(p, "the comment");
		else if (c == '\n')
			p->pos++;
		else if (c == '\r')
			rc = toml_eol(p, "");
		else if (c == '[')
			rc = parse_header(p);
		else
			rc = parse_keyval(p);
		if (rc != 0)
			return rc;
	}
}

static int
parse(const char *name, const char *data, size_t len, const struct toml_limits *lim, bool flat,
      struct toml_doc **out, struct err *e)
{
	struct toml_parser p = { 0 };
	int rc;

	*out = NULL;
	err_clear(e);
	if (name == NULL)
		name = "<input>";
	p.max_size = lim && lim->max_size ? lim->max_size : TOML_DEFAULT_MAX_SIZE;
	p.max_depth = lim && lim->max_depth ? lim->max_depth : TOML_DEFAULT_MAX_DEPTH;
	if (p.max_depth > TOML_MAX_DEPTH)
		p.max_depth = TOML_MAX_DEPTH;
	if (len > p.max_size)
		return err_set(e, ERR_TOOBIG, "%s: file is larger than the %zu-byte limit", name,
		               p.max_size);
	if (data == NULL)
		data = "";
	p.name = name;
	p.s = data;
	p.len = len;
	p.e = e;
	p.no_flat = !flat;
	p.flat_max = p.max_size > SIZE_MAX / 16 ? SIZE_MAX : p.max_size * 16;
	buf_init(&p.prefix, p.flat_max);
	buf_init(&p.key, p.flat_max);
	p.doc = xcalloc(1, sizeof(*p.doc));
	p.doc->name = xstrdup(name);
	hmap_init(&p.doc->flat_index);
	p.doc->root = toml_node_new(p.doc, TOML_TABLE, 0);
	p.doc->root->line = p.doc->root->col = 1;
	p.doc->root->flags = TN_EXPLICIT;
	p.cur = p.doc->root;
	p.section = p.ids = 1;
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		p.pos = p.bom = 3;
	size_t valid = utf8_valid_prefix(data + p.bom, len - p.bom);
	if (valid != len - p.bom)
		rc = toml_err_at(&p, p.bom + valid,
		                 "invalid UTF-8 (byte 0x%02X); the file must be UTF-8",
		                 (unsigned char)data[p.bom + valid]);
	else
		rc = parse_document(&p);
	buf_clear(&p.prefix);
	buf_clear(&p.key);
	if (rc != 0) {
		toml_free(p.doc);
		return rc;
	}
	*out = p.doc;
	return 0;
}

int
toml_parse(const char *name, const char *data, size_t len, const struct toml_limits *lim,
           struct toml_doc **out, struct err *e)
{
	return parse(name, data, len, lim, true, out, e);
}

int
toml_parse_tree(const char *name, const char *data, size_t len, const struct toml_limits *lim,
                struct toml_doc **out, struct err *e)
{
	return parse(name, data, len, lim, false, out, e);
}
