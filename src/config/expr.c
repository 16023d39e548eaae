/*
 * expr.c - Stalwart's configuration expression language: lexer, recursive-descent
 * parser into a node array, and a tree-walking evaluator.  See expr.h.
 *
 * The source is capped at EXPR_MAX_LEN bytes and EXPR_MAX_DEPTH nesting levels, so the
 * node array and the evaluator's recursion are bounded.  Values built while evaluating
 * are capped at EXPR_MAX_STRING bytes and EXPR_MAX_LIST items.
 *
 * Evaluation is in expr_eval.c.
 *
 * Thread safety: compiled expressions are immutable after expr_compile().
 */
#include "config/expr.h"

#include "config/expr_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/xalloc.h"

const struct expr_fn expr_functions[] = {
	[FN_CONFIG_GET] = { "config_get", 1, 1 },
	[FN_KEY_GET] = { "key_get", 2, 2 },
	[FN_IS_EMPTY] = { "is_empty", 1, 1 },
	[FN_CONTAINS] = { "contains", 2, 2 },
	[FN_STARTS_WITH] = { "starts_with", 2, 2 },
	[FN_ENDS_WITH] = { "ends_with", 2, 2 },
	[FN_LOWER] = { "lower", 1, 1 },
	[FN_UPPER] = { "upper", 1, 1 },
	[FN_CONCAT] = { "concat", 0, EXPR_MAX_LIST },
	[FN_PARENT_DOMAIN] = { "parent_domain", 1, 1 },
};
const size_t expr_nfunctions = sizeof(expr_functions) / sizeof(expr_functions[0]);

/* ------------------------------------------------------------------ values */

void
expr_value_clear(struct expr_value *v)
{
	if (v == NULL)
		return;
	if (v->type == EXPR_STRING) {
		free(v->u.s.p);
	} else if (v->type == EXPR_LIST) {
		for (size_t i = 0; i < v->u.list.n; i++)
			expr_value_clear(&v->u.list.items[i]);
		free(v->u.list.items);
	}
	memset(v, 0, sizeof(*v));
	v->type = EXPR_STRING;
}

void
expr_value_set_string(struct expr_value *v, const char *s, size_t len)
{
	v->type = EXPR_STRING;
	v->u.s.p = xstrndup(s ? s : "", s ? len : 0);
	v->u.s.len = s ? len : 0;
}

void
expr_value_copy(struct expr_value *dst, const struct expr_value *src)
{
	*dst = *src;
	if (src->type == EXPR_STRING) {
		dst->u.s.p = xstrndup(src->u.s.p ? src->u.s.p : "", src->u.s.len);
	} else if (src->type == EXPR_LIST) {
		dst->u.list.items =
		        xcalloc(src->u.list.n ? src->u.list.n : 1, sizeof(struct expr_value));
		for (size_t i = 0; i < src->u.list.n; i++)
			expr_value_copy(&dst->u.list.items[i], &src->u.list.items[i]);
	}
}

static int
format_quoted(const struct expr_value *v, struct buf *b)
{
	int rc = buf_putc(b, '"');

	for (size_t i = 0; rc == 0 && i < v->u.s.len; i++) {
		char c = v->u.s.p[i];
		if (c == '"' || c == '\\')
			rc = buf_putc(b, '\\');
		if (rc == 0)
			rc = buf_putc(b, c);
	}
	return rc ? rc : buf_putc(b, '"');
}

int
expr_value_format(const struct expr_value *v, struct buf *b)
{
	switch (v->type) {
	case EXPR_STRING:
		return buf_append(b, v->u.s.p ? v->u.s.p : "", v->u.s.len);
	case EXPR_INTEGER:
		return buf_printf(b, "%" PRId64, v->u.i);
	case EXPR_FLOAT:
		return buf_printf(b, "%.17g", v->u.f);
	case EXPR_BOOL:
		return buf_append_str(b, v->u.b ? "true" : "false");
	case EXPR_LIST: {
		int rc = buf_putc(b, '[');
		for (size_t i = 0; rc == 0 && i < v->u.list.n; i++) {
			const struct expr_value *it = &v->u.list.items[i];
			if (i > 0)
				rc = buf_append_str(b, ", ");
			if (rc == 0)
				rc = it->type == EXPR_STRING ? format_quoted(it, b)
				                             : expr_value_format(it, b);
		}
		return rc ? rc : buf_putc(b, ']');
	}
	}
	return 0;
}

bool
expr_value_truthy(const struct expr_value *v)
{
	switch (v->type) {
	case EXPR_STRING:
		return v->u.s.len > 0;
	case EXPR_INTEGER:
		return v->u.i != 0;
	case EXPR_FLOAT:
		return v->u.f != 0.0;
	case EXPR_BOOL:
		return v->u.b;
	case EXPR_LIST:
		return v->u.list.n > 0;
	}
	return false;
}

/* ------------------------------------------------------------------ lexer */

enum tok_kind {
	T_END,
	T_INT,
	T_FLOAT,
	T_STR,
	T_IDENT,
	T_LPAREN,
	T_RPAREN,
	T_LBRACK,
	T_RBRACK,
	T_COMMA,
	T_PLUS,
	T_MINUS,
	T_STAR,
	T_SLASH,
	T_NOT,
	T_EQ,
	T_NE,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_AND,
	T_OR,
};

struct token {
	enum tok_kind kind;
	size_t pos, len; /* in the source */
	int64_t i;
	double f;
	char *s; /* T_STR: unescaped text (owned by the parser); T_IDENT: NULL */
	size_t slen;
};

struct parser {
	const char *src;
	size_t len, pos;
	const struct expr_opts *opts;
	struct expr *x;
	struct token tok;
	int depth;
	struct err *e;
};

static int
perr(struct parser *p, size_t pos, const char *msg, const char *arg)
{
	if (arg)
		return err_set(p->e, ERR_INVALID, "expression column %zu: %s '%s'", pos + 1, msg,
		               arg);
	return err_set(p->e, ERR_INVALID, "expression column %zu: %s", pos + 1, msg);
}

static bool
is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_ident_char(char c)
{
	return is_ident_start(c) || is_digit(c);
}

static int
lex_string(struct parser *p)
{
	char quote = p->src[p->pos];
	size_t start = p->pos;
	struct buf b;

	buf_init(&b, EXPR_MAX_LEN);
	p->pos++;
	for (;;) {
		if (p->pos >= p->len) {
			buf_clear(&b);
			return perr(p, start, "unterminated string literal", NULL);
		}
		char c = p->src[p->pos];
		if (c == quote) {
			p->pos++;
			break;
		}
		if (c == '\\') {
			if (p->pos + 1 >= p->len) {
				buf_clear(&b);
				return perr(p, start, "unterminated string literal", NULL);
			}
			char n = p->src[p->pos + 1];
			switch (n) {
			case '\'':
			case '"':
			case '\\':
				c = n;
				break;
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			default: {
				char esc[3] = { '\\', n, '\0' };
				buf_clear(&b);
				if ((unsigned char)n < 0x20 || (unsigned char)n >= 0x7f)
					return perr(p, p->pos, "invalid escape", NULL);
				return perr(p, p->pos, "invalid escape", esc);
			}
			}
			p->pos += 2;
		} else {
			p->pos++;
		}
		(void)buf_putc(&b, c); /* cannot exceed: the source is shorter */
	}
	p->tok.kind = T_STR;
	p->tok.slen = b.len;
	p->tok.s = buf_steal(&b, NULL);
	return 0;
}

static int
lex_number(struct parser *p)
{
	size_t start = p->pos;
	bool is_float = false;
	char tmp[64];

	while (p->pos < p->len && is_digit(p->src[p->pos]))
		p->pos++;
	if (p->pos + 1 < p->len && p->src[p->pos] == '.' && is_digit(p->src[p->pos + 1])) {
		is_float = true;
		p->pos++;
		while (p->pos < p->len && is_digit(p->src[p->pos]))
			p->pos++;
	}
	if (p->pos < p->len && is_ident_char(p->src[p->pos]))
		return perr(p, start, "invalid number", NULL);
	size_t n = p->pos - start;
	if (n >= sizeof(tmp))
		return perr(p, start, "number out of range", NULL);
	memcpy(tmp, p->src + start, n);
	tmp[n] = '\0';
	if (is_float) {
		p->tok.kind = T_FLOAT;
		p->tok.f = strtod(tmp, NULL);
		if (!isfinite(p->tok.f))
			return perr(p, start, "number out of range", NULL);
	} else {
		p->tok.kind = T_INT;
		if (str_to_i64(span_make(tmp, n), &p->tok.i) != 0)
			return perr(p, start, "number out of range", NULL);
	}
	return 0;
}

/* Reads the next token into p->tok.  Frees the previous token's string. */
static int
lex(struct parser *p)
{
	free(p->tok.s);
	memset(&p->tok, 0, sizeof(p->tok));
	while (p->pos < p->len && (p->src[p->pos] == ' ' || p->src[p->pos] == '\t' ||
	                           p->src[p->pos] == '\n' || p->src[p->pos] == '\r'))
		p->pos++;
	p->tok.pos = p->pos;
	if (p->pos >= p->len) {
		p->tok.kind = T_END;
		return 0;
	}

	char c = p->src[p->pos];
	char n = p->pos + 1 < p->len ? p->src[p->pos + 1] : '\0';
	int rc = 0;
	size_t width = 1;

	if (c == '\'' || c == '"') {
		rc = lex_string(p);
		p->tok.len = p->pos - p->tok.pos;
		return rc;
	}
	if (is_digit(c)) {
		rc = lex_number(p);
		p->tok.len = p->pos - p->tok.pos;
		return rc;
	}
	if (is_ident_start(c)) {
		while (p->pos < p->len && is_ident_char(p->src[p->pos]))
			p->pos++;
		p->tok.kind = T_IDENT;
		p->tok.len = p->pos - p->tok.pos;
		return 0;
	}
	switch (c) {
	case '(':
		p->tok.kind = T_LPAREN;
		break;
	case ')':
		p->tok.kind = T_RPAREN;
		break;
	case '[':
		p->tok.kind = T_LBRACK;
		break;
	case ']':
		p->tok.kind = T_RBRACK;
		break;
	case ',':
		p->tok.kind = T_COMMA;
		break;
	case '+':
		p->tok.kind = T_PLUS;
		break;
	case '-':
		p->tok.kind = T_MINUS;
		break;
	case '*':
		p->tok.kind = T_STAR;
		break;
	case '/':
		p->tok.kind = T_SLASH;
		break;
	case '!':
		p->tok.kind = n == '=' ? T_NE : T_NOT;
		width = n == '=' ? 2 : 1;
		break;
	case '=':
		if (n != '=')
			return perr(p, p->pos, "expected '==' instead of '='", NULL);
		p->tok.kind = T_EQ;
		width = 2;
		break;
	case '<':
		p->tok.kind = n == '=' ? T_LE : T_LT;
		width = n == '=' ? 2 : 1;
		break;
	case '>':
		p->tok.kind = n == '=' ? T_GE : T_GT;
		width = n == '=' ? 2 : 1;
		break;
	case '&':
		if (n != '&')
			return perr(p, p->pos, "expected '&&'", NULL);
		p->tok.kind = T_AND;
		width = 2;
		break;
	case '|':
		if (n != '|')
			return perr(p, p->pos, "expected '||'", NULL);
		p->tok.kind = T_OR;
		width = 2;
		break;
	default: {
		char s[2] = { c, '\0' };
		if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
			return perr(p, p->pos, "unexpected character", NULL);
		return perr(p, p->pos, "unexpected character", s);
	}
	}
	p->pos += width;
	p->tok.len = width;
	return 0;
}

/* ------------------------------------------------------------------ parser */

static size_t
node_add(struct expr *x, enum node_kind kind)
{
	if (x->nnodes == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 16;
		x->nodes = xreallocarray(x->nodes, x->cap, sizeof(*x->nodes));
	}
	struct expr_node *n = &x->nodes[x->nnodes];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->lit.type = EXPR_STRING;
	return x->nnodes++;
}

static size_t
args_add(struct expr *x, const size_t *items, size_t n)
{
	size_t start = x->nargs;

	if (x->nargs + n > x->args_cap) {
		x->args_cap = (x->nargs + n) * 2;
		x->args = xreallocarray(x->args, x->args_cap, sizeof(*x->args));
	}
	if (n > 0)
		memcpy(x->args + x->nargs, items, n * sizeof(*items));
	x->nargs += n;
	return start;
}

static const char *
tok_text(const struct parser *p, char *tmp, size_t cap)
{
	if (p->tok.kind == T_END)
		return "end of expression";
	size_t n = p->tok.len < cap - 1 ? p->tok.len : cap - 1;
	memcpy(tmp, p->src + p->tok.pos, n);
	tmp[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)tmp[i] < 0x20 || (unsigned char)tmp[i] >= 0x7f)
			tmp[i] = '?';
	return tmp;
}

static int
unexpected(struct parser *p)
{
	char tmp[32];

	if (p->tok.kind == T_END)
		return perr(p, p->tok.pos, "unexpected end of expression", NULL);
	return perr(p, p->tok.pos, "unexpected", tok_text(p, tmp, sizeof(tmp)));
}

static int
expect(struct parser *p, enum tok_kind kind, const char *what)
{
	char tmp[32], msg[64];

	if (p->tok.kind == kind)
		return lex(p);
	snprintf(msg, sizeof(msg), "expected %s but found", what);
	return perr(p, p->tok.pos, msg, tok_text(p, tmp, sizeof(tmp)));
}

static int parse_or(struct parser *p, size_t *out);

static bool
var_known(const struct expr_opts *opts, const char *name, size_t len)
{
	if (opts == NULL)
		return false;
	for (size_t i = 0; i < opts->nvars; i++)
		if (strlen(opts->vars[i]) == len && memcmp(opts->vars[i], name, len) == 0)
			return true;
	return false;
}

/* Parses comma-separated expressions up to the closing token; stores the list. */
static int
parse_items(struct parser *p, enum tok_kind close, const char *close_name, size_t *start,
            size_t *count)
{
	size_t items[EXPR_MAX_LIST];
	size_t n = 0;
	int rc;

	while (p->tok.kind != close) {
		if (n == EXPR_MAX_LIST)
			return perr(p, p->tok.pos, "too many items", NULL);
		rc = parse_or(p, &items[n]);
		if (rc)
			return rc;
		n++;
		if (p->tok.kind == T_COMMA) {
			rc = lex(p);
			if (rc)
				return rc;
		} else if (p->tok.kind != close) {
			return expect(p, close, close_name);
		}
	}
	*start = args_add(p->x, items, n);
	*count = n;
	return lex(p);
}

static int
parse_primary(struct parser *p, size_t *out)
{
	struct expr *x = p->x;
	struct token t = p->tok;
	size_t id;
	int rc;

	switch (t.kind) {
	case T_INT:
	case T_FLOAT:
		id = node_add(x, N_LIT);
		x->nodes[id].lit.type = t.kind == T_INT ? EXPR_INTEGER : EXPR_FLOAT;
		if (t.kind == T_INT)
			x->nodes[id].lit.u.i = t.i;
		else
			x->nodes[id].lit.u.f = t.f;
		*out = id;
		return lex(p);
	case T_STR:
		id = node_add(x, N_LIT);
		x->nodes[id].lit.u.s.p = p->tok.s;
		x->nodes[id].lit.u.s.len = p->tok.slen;
		p->tok.s = NULL; /* the node owns it now */
		*out = id;
		return lex(p);
	case T_LPAREN:
		rc = lex(p);
		if (rc == 0)
			rc = parse_or(p, out);
		if (rc == 0)
			rc = expect(p, T_RPAREN, "')'");
		return rc;
	case T_LBRACK: {
		size_t start = 0, count = 0;
		rc = lex(p);
		if (rc == 0)
			rc = parse_items(p, T_RBRACK, "']'", &start, &count);
		if (rc)
			return rc;
		id = node_add(x, N_LIST);
		x->nodes[id].a = start;
		x->nodes[id].b = count;
		*out = id;
		return 0;
	}
	case T_IDENT:
		break;
	default:
		return unexpected(p);
	}

	/* identifier: true/false, a function call or a variable */
	const char *name = p->src + t.pos;
	size_t nlen = t.len;
	char tmp[64];
	size_t tn = nlen < sizeof(tmp) - 1 ? nlen : sizeof(tmp) - 1;
	memcpy(tmp, name, tn);
	tmp[tn] = '\0';

	rc = lex(p);
	if (rc)
		return rc;
	if (p->tok.kind == T_LPAREN) {
		size_t fn = expr_nfunctions;
		for (size_t i = 0; i < fn; i++) {
			if (strlen(expr_functions[i].name) == nlen &&
			    memcmp(expr_functions[i].name, name, nlen) == 0) {
				fn = i;
				break;
			}
		}
		if (fn == expr_nfunctions)
			return perr(p, t.pos, "unknown function", tmp);
		size_t start = 0, count = 0;
		rc = lex(p);
		if (rc == 0)
			rc = parse_items(p, T_RPAREN, "')'", &start, &count);
		if (rc)
			return rc;
		if ((int)count < expr_functions[fn].min_args ||
		    (int)count > expr_functions[fn].max_args) {
			char msg[96];
			snprintf(msg, sizeof(msg), "function %s takes %d argument%s, got %zu",
			         expr_functions[fn].name, expr_functions[fn].min_args,
			         expr_functions[fn].min_args == 1 ? "" : "s", count);
			return perr(p, t.pos, msg, NULL);
		}
		id = node_add(x, N_CALL);
		x->nodes[id].op = (int)fn;
		x->nodes[id].a = start;
		x->nodes[id].b = count;
		*out = id;
		return 0;
	}
	if ((nlen == 4 && memcmp(name, "true", 4) == 0) ||
	    (nlen == 5 && memcmp(name, "false", 5) == 0)) {
		id = node_add(x, N_LIT);
		x->nodes[id].lit.type = EXPR_BOOL;
		x->nodes[id].lit.u.b = nlen == 4;
		*out = id;
		return 0;
	}
	if (!var_known(p->opts, name, nlen))
		return perr(p, t.pos, "unknown variable", tmp);
	id = node_add(x, N_VAR);
	x->nodes[id].name = xstrndup(name, nlen);
	x->constant = false;
	*out = id;
	return 0;
}

static int
parse_unary(struct parser *p, size_t *out)
{
	int rc;

	if (++p->depth > EXPR_MAX_DEPTH)
		return perr(p, p->tok.pos, "expression nested too deeply", NULL);
	if (p->tok.kind == T_NOT || p->tok.kind == T_MINUS) {
		enum node_kind kind = p->tok.kind == T_NOT ? N_NOT : N_NEG;
		size_t child;
		rc = lex(p);
		if (rc == 0)
			rc = parse_unary(p, &child);
		if (rc == 0) {
			*out = node_add(p->x, kind);
			p->x->nodes[*out].a = child;
		}
	} else {
		rc = parse_primary(p, out);
	}
	p->depth--;
	return rc;
}

static int
binop_of(enum tok_kind k, int level)
{
	switch (level) {
	case 0:
		return k == T_STAR ? OP_MUL : k == T_SLASH ? OP_DIV : -1;
	case 1:
		return k == T_PLUS ? OP_ADD : k == T_MINUS ? OP_SUB : -1;
	case 2:
		switch (k) {
		case T_EQ:
			return OP_EQ;
		case T_NE:
			return OP_NE;
		case T_LT:
			return OP_LT;
		case T_LE:
			return OP_LE;
		case T_GT:
			return OP_GT;
		case T_GE:
			return OP_GE;
		default:
			return -1;
		}
	}
	return -1;
}

/* Levels 0 (* /), 1 (+ -), 2 (comparisons), 3 (&&), 4 (||). */
static int
parse_level(struct parser *p, int level, size_t *out)
{
	size_t lhs, rhs;
	int rc;

	rc = level == 0 ? parse_unary(p, &lhs) : parse_level(p, level - 1, &lhs);
	while (rc == 0) {
		int op = -1;
		enum node_kind kind = N_BIN;
		if (level == 3 && p->tok.kind == T_AND)
			kind = N_AND;
		else if (level == 4 && p->tok.kind == T_OR)
			kind = N_OR;
		else if (level <= 2)
			op = binop_of(p->tok.kind, level);
		if (kind == N_BIN && op < 0)
			break;
		rc = lex(p);
		if (rc == 0)
			rc = level == 0 ? parse_unary(p, &rhs) : parse_level(p, level - 1, &rhs);
		if (rc == 0) {
			size_t id = node_add(p->x, kind);
			p->x->nodes[id].op = op;
			p->x->nodes[id].a = lhs;
			p->x->nodes[id].b = rhs;
			lhs = id;
		}
	}
	if (rc == 0)
		*out = lhs;
	return rc;
}

static int
parse_or(struct parser *p, size_t *out)
{
	int rc;

	if (++p->depth > EXPR_MAX_DEPTH)
		return perr(p, p->tok.pos, "expression nested too deeply", NULL);
	rc = parse_level(p, 4, out);
	p->depth--;
	return rc;
}

/* The bare-constant rule of expr.h. */
static bool
is_bare_word(const char *s, size_t len, const struct expr_opts *opts)
{
	if (len == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_ident_char(s[i]) && s[i] != '.' && s[i] != '-')
			return false;
	if ((len == 4 && memcmp(s, "true", 4) == 0) || (len == 5 && memcmp(s, "false", 5) == 0))
		return false;
	return !var_known(opts, s, len);
}

void
expr_free(struct expr *x)
{
	if (x == NULL)
		return;
	for (size_t i = 0; i < x->nnodes; i++) {
		free(x->nodes[i].name);
		expr_value_clear(&x->nodes[i].lit);
	}
	free(x->nodes);
	free(x->args);
	free(x);
}

int
expr_compile(const char *src, size_t len, const struct expr_opts *opts, struct expr **out,
             struct err *e)
{
	struct parser p = { .src = src, .len = len, .opts = opts, .e = e };
	struct expr *x;
	int rc;

	*out = NULL;
	if (len > EXPR_MAX_LEN)
		return err_set(e, ERR_TOOBIG,
		               "expression column %d: expression longer than %d bytes",
		               EXPR_MAX_LEN + 1, EXPR_MAX_LEN);
	x = xcalloc(1, sizeof(*x));
	x->constant = true;
	p.x = x;

	struct span t = span_trim(span_make(src, len));
	if (opts && (opts->flags & EXPR_BARE) && is_bare_word(t.p, t.len, opts)) {
		size_t id = node_add(x, N_LIT);
		expr_value_set_string(&x->nodes[id].lit, t.p, t.len);
		x->root = id;
		x->literal = true;
		*out = x;
		return 0;
	}

	rc = lex(&p);
	if (rc == 0 && p.tok.kind == T_END)
		rc = perr(&p, p.tok.pos, "empty expression", NULL);
	if (rc == 0)
		rc = parse_or(&p, &x->root);
	if (rc == 0 && p.tok.kind != T_END)
		rc = unexpected(&p);
	free(p.tok.s);
	if (rc) {
		expr_free(x);
		return rc;
	}
	x->literal = x->nodes[x->root].kind == N_LIT;
	*out = x;
	return 0;
}

bool
expr_is_constant(const struct expr *x)
{
	return x->constant;
}

bool
expr_is_literal(const struct expr *x)
{
	return x->literal;
}
