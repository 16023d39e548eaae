/*
 * expr_eval.c - evaluating compiled expressions: a walk over the node tree whose depth
 * the parser bounded.  Strings built here are capped at EXPR_MAX_STRING bytes; integer
 * overflow and division by zero are errors, never undefined behaviour.  See expr.h.
 *
 * Thread safety: reads the immutable compiled expression only; callbacks decide the rest.
 */
#include "config/expr.h"

#include "config/expr_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/xalloc.h"

/* ------------------------------------------------------------------ evaluation */

struct evaluator {
	const struct expr *x;
	const struct expr_env *env;
	struct err *e;
};

static int eval_node(struct evaluator *ev, size_t id, struct expr_value *out);

static int
set_string_checked(struct evaluator *ev, struct expr_value *out, struct buf *b)
{
	if (b->len > EXPR_MAX_STRING) {
		buf_clear(b);
		return err_set(ev->e, ERR_TOOBIG, "string longer than %d bytes", EXPR_MAX_STRING);
	}
	out->type = EXPR_STRING;
	out->u.s.p = buf_steal(b, &out->u.s.len);
	return 0;
}

/* Text form of v into b, capped; lists are formatted like expr_value_format. */
static int
to_text(struct evaluator *ev, const struct expr_value *v, struct buf *b)
{
	if (expr_value_format(v, b) != 0)
		return err_set(ev->e, ERR_TOOBIG, "string longer than %d bytes", EXPR_MAX_STRING);
	return 0;
}

static bool
is_num(const struct expr_value *v)
{
	return v->type == EXPR_INTEGER || v->type == EXPR_FLOAT;
}

static double
num_f(const struct expr_value *v)
{
	return v->type == EXPR_INTEGER ? (double)v->u.i : v->u.f;
}

static int
compare(struct evaluator *ev, const struct expr_value *a, const struct expr_value *b, int *cmp)
{
	if (is_num(a) && is_num(b)) {
		if (a->type == EXPR_INTEGER && b->type == EXPR_INTEGER)
			*cmp = a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
		else
			*cmp = num_f(a) < num_f(b) ? -1 : num_f(a) > num_f(b);
		return 0;
	}
	if (a->type == EXPR_BOOL && b->type == EXPR_BOOL) {
		*cmp = (int)a->u.b - (int)b->u.b;
		return 0;
	}
	struct buf ta, tb;
	int rc;
	buf_init(&ta, EXPR_MAX_STRING);
	buf_init(&tb, EXPR_MAX_STRING);
	rc = to_text(ev, a, &ta);
	if (rc == 0)
		rc = to_text(ev, b, &tb);
	if (rc == 0) {
		size_t n = ta.len < tb.len ? ta.len : tb.len;
		int c = n ? memcmp(buf_cstr(&ta), buf_cstr(&tb), n) : 0;
		*cmp = c != 0 ? (c < 0 ? -1 : 1) : (ta.len < tb.len ? -1 : ta.len > tb.len);
	}
	buf_clear(&ta);
	buf_clear(&tb);
	return rc;
}

static int
arith(struct evaluator *ev, int op, const struct expr_value *a, const struct expr_value *b,
      struct expr_value *out)
{
	if (op == OP_ADD && (a->type == EXPR_STRING || b->type == EXPR_STRING)) {
		struct buf t;
		int rc;
		buf_init(&t, EXPR_MAX_STRING);
		rc = to_text(ev, a, &t);
		if (rc == 0)
			rc = to_text(ev, b, &t);
		if (rc) {
			buf_clear(&t);
			return rc;
		}
		return set_string_checked(ev, out, &t);
	}
	const char *sym = op == OP_ADD ? "+" : op == OP_SUB ? "-" : op == OP_MUL ? "*" : "/";
	if (!is_num(a) || !is_num(b))
		return err_set(ev->e, ERR_INVALID, "operator '%s' needs numbers", sym);
	if (op == OP_DIV &&
	    ((b->type == EXPR_INTEGER && b->u.i == 0) || (b->type == EXPR_FLOAT && b->u.f == 0.0)))
		return err_set(ev->e, ERR_INVALID, "division by zero");
	if (a->type == EXPR_INTEGER && b->type == EXPR_INTEGER) {
		int64_t r = 0;
		bool ovf = false;
		switch (op) {
		case OP_ADD:
			ovf = __builtin_add_overflow(a->u.i, b->u.i, &r);
			break;
		case OP_SUB:
			ovf = __builtin_sub_overflow(a->u.i, b->u.i, &r);
			break;
		case OP_MUL:
			ovf = __builtin_mul_overflow(a->u.i, b->u.i, &r);
			break;
		default:
			ovf = a->u.i == INT64_MIN && b->u.i == -1;
			if (!ovf)
				r = a->u.i / b->u.i;
			break;
		}
		if (ovf)
			return err_set(ev->e, ERR_INVALID, "integer overflow in '%s'", sym);
		out->type = EXPR_INTEGER;
		out->u.i = r;
		return 0;
	}
	double x = num_f(a), y = num_f(b), r;
	r = op == OP_ADD ? x + y : op == OP_SUB ? x - y : op == OP_MUL ? x * y : x / y;
	if (!isfinite(r))
		return err_set(ev->e, ERR_INVALID, "number out of range in '%s'", sym);
	out->type = EXPR_FLOAT;
	out->u.f = r;
	return 0;
}

static bool
values_equal(const struct expr_value *a, const struct expr_value *b)
{
	if (a->type == EXPR_STRING && b->type == EXPR_STRING)
		return a->u.s.len == b->u.s.len && memcmp(a->u.s.p, b->u.s.p, a->u.s.len) == 0;
	if (is_num(a) && is_num(b))
		return a->type == EXPR_INTEGER && b->type == EXPR_INTEGER ? a->u.i == b->u.i
		                                                          : num_f(a) == num_f(b);
	if (a->type == EXPR_BOOL && b->type == EXPR_BOOL)
		return a->u.b == b->u.b;
	if (a->type == EXPR_LIST && b->type == EXPR_LIST) {
		if (a->u.list.n != b->u.list.n)
			return false;
		for (size_t i = 0; i < a->u.list.n; i++)
			if (!values_equal(&a->u.list.items[i], &b->u.list.items[i]))
				return false;
		return true;
	}
	return false;
}

static int
need_string(struct evaluator *ev, const char *fn, const struct expr_value *v, struct buf *b)
{
	if (v->type == EXPR_LIST)
		return err_set(ev->e, ERR_INVALID, "%s: expected a string, got a list", fn);
	return to_text(ev, v, b);
}

static void
set_bool(struct expr_value *out, bool b)
{
	out->type = EXPR_BOOL;
	out->u.b = b;
}

static void
parent_domain(const char *s, size_t len, const char **p, size_t *n)
{
	size_t dots = 0, first = len;

	while (len > 0 && s[len - 1] == '.')
		len--; /* the root label */
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (dots == 0)
				first = i;
			dots++;
		}
	}
	if (dots >= 2) {
		*p = s + first + 1;
		*n = len - first - 1;
	} else {
		*p = s;
		*n = len;
	}
}

static int
call_fn(struct evaluator *ev, int fn, struct expr_value *args, size_t nargs, struct expr_value *out)
{
	const char *name = expr_functions[fn].name;
	struct buf a, b;
	int rc = 0;

	buf_init(&a, EXPR_MAX_STRING);
	buf_init(&b, EXPR_MAX_STRING);
	switch (fn) {
	case FN_CONFIG_GET:
		rc = need_string(ev, name, &args[0], &a);
		if (rc == 0 && ev->env && ev->env->config_get)
			rc = ev->env->config_get(ev->env->arg, buf_cstr(&a), out, ev->e);
		else if (rc == 0)
			expr_value_set_string(out, "", 0);
		break;
	case FN_KEY_GET:
		rc = need_string(ev, name, &args[0], &a);
		if (rc == 0)
			rc = need_string(ev, name, &args[1], &b);
		if (rc == 0 && ev->env && ev->env->key_get)
			rc = ev->env->key_get(ev->env->arg, buf_cstr(&a), buf_cstr(&b), out, ev->e);
		else if (rc == 0)
			expr_value_set_string(out, "", 0);
		break;
	case FN_IS_EMPTY:
		set_bool(out, (args[0].type == EXPR_STRING && args[0].u.s.len == 0) ||
		                      (args[0].type == EXPR_LIST && args[0].u.list.n == 0));
		break;
	case FN_CONTAINS:
		if (args[0].type == EXPR_LIST) {
			bool found = false;
			for (size_t i = 0; !found && i < args[0].u.list.n; i++)
				found = values_equal(&args[0].u.list.items[i], &args[1]);
			set_bool(out, found);
			break;
		}
		rc = need_string(ev, name, &args[0], &a);
		if (rc == 0)
			rc = need_string(ev, name, &args[1], &b);
		if (rc == 0)
			set_bool(out,
			         b.len == 0 || (a.len >= b.len &&
			                        memmem(buf_cstr(&a), a.len, buf_cstr(&b), b.len)));
		break;
	case FN_STARTS_WITH:
	case FN_ENDS_WITH:
		rc = need_string(ev, name, &args[0], &a);
		if (rc == 0)
			rc = need_string(ev, name, &args[1], &b);
		if (rc == 0) {
			size_t off = fn == FN_STARTS_WITH ? 0 : a.len - b.len;
			set_bool(out, a.len >= b.len &&
			                      memcmp(buf_cstr(&a) + off, buf_cstr(&b), b.len) == 0);
		}
		break;
	case FN_LOWER:
	case FN_UPPER:
		rc = need_string(ev, name, &args[0], &a);
		if (rc == 0) {
			for (size_t i = 0; i < a.len; i++)
				a.data[i] = fn == FN_LOWER ? ascii_lower(a.data[i])
				                           : ascii_upper(a.data[i]);
			rc = set_string_checked(ev, out, &a);
		}
		break;
	case FN_CONCAT:
		for (size_t i = 0; rc == 0 && i < nargs; i++)
			rc = to_text(ev, &args[i], &a);
		if (rc == 0)
			rc = set_string_checked(ev, out, &a);
		break;
	case FN_PARENT_DOMAIN:
		rc = need_string(ev, name, &args[0], &a);
		if (rc == 0) {
			const char *p;
			size_t n;
			parent_domain(buf_cstr(&a), a.len, &p, &n);
			expr_value_set_string(out, p, n);
		}
		break;
	default:
		rc = err_set(ev->e, ERR_INVALID, "unknown function");
		break;
	}
	buf_clear(&a);
	buf_clear(&b);
	return rc;
}

static int
eval_items(struct evaluator *ev, const struct expr_node *n, struct expr_value **items)
{
	int rc = 0;

	*items = xcalloc(n->b ? n->b : 1, sizeof(struct expr_value));
	for (size_t i = 0; i < n->b; i++) {
		(*items)[i].type = EXPR_STRING;
		if (rc == 0)
			rc = eval_node(ev, ev->x->args[n->a + i], &(*items)[i]);
	}
	if (rc) {
		for (size_t i = 0; i < n->b; i++)
			expr_value_clear(&(*items)[i]);
		free(*items);
		*items = NULL;
	}
	return rc;
}

static int
eval_node(struct evaluator *ev, size_t id, struct expr_value *out)
{
	const struct expr_node *n = &ev->x->nodes[id];
	struct expr_value a = { .type = EXPR_STRING }, b = { .type = EXPR_STRING };
	struct expr_value *items = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->type = EXPR_STRING;
	switch (n->kind) {
	case N_LIT:
		if (n->lit.type == EXPR_STRING && n->lit.u.s.p == NULL)
			expr_value_set_string(out, "", 0);
		else
			expr_value_copy(out, &n->lit);
		return 0;
	case N_VAR: {
		const char *val = "";
		if (ev->env) {
			for (size_t i = 0; i < ev->env->nvars; i++) {
				if (strcmp(ev->env->vars[i].name, n->name) == 0) {
					val = ev->env->vars[i].value ? ev->env->vars[i].value : "";
					break;
				}
			}
		}
		size_t len = strlen(val);
		if (len > EXPR_MAX_STRING)
			return err_set(ev->e, ERR_TOOBIG, "variable %s longer than %d bytes",
			               n->name, EXPR_MAX_STRING);
		expr_value_set_string(out, val, len);
		return 0;
	}
	case N_NOT:
		rc = eval_node(ev, n->a, &a);
		if (rc == 0)
			set_bool(out, !expr_value_truthy(&a));
		break;
	case N_NEG:
		rc = eval_node(ev, n->a, &a);
		if (rc == 0 && a.type == EXPR_INTEGER) {
			if (a.u.i == INT64_MIN)
				rc = err_set(ev->e, ERR_INVALID, "integer overflow in '-'");
			out->type = EXPR_INTEGER;
			out->u.i = rc ? 0 : -a.u.i;
		} else if (rc == 0 && a.type == EXPR_FLOAT) {
			out->type = EXPR_FLOAT;
			out->u.f = -a.u.f;
		} else if (rc == 0) {
			rc = err_set(ev->e, ERR_INVALID, "operator '-' needs a number");
		}
		if (rc)
			out->type = EXPR_STRING;
		break;
	case N_AND:
	case N_OR:
		rc = eval_node(ev, n->a, &a);
		if (rc)
			break;
		if (expr_value_truthy(&a) == (n->kind == N_OR)) {
			set_bool(out, n->kind == N_OR);
			break;
		}
		rc = eval_node(ev, n->b, &b);
		if (rc == 0)
			set_bool(out, expr_value_truthy(&b));
		break;
	case N_BIN:
		rc = eval_node(ev, n->a, &a);
		if (rc == 0)
			rc = eval_node(ev, n->b, &b);
		if (rc)
			break;
		if (n->op == OP_EQ || n->op == OP_NE) {
			bool eq = values_equal(&a, &b);
			if (!eq && a.type != b.type && a.type != EXPR_LIST && b.type != EXPR_LIST) {
				int c = 1;
				rc = compare(ev, &a, &b, &c);
				eq = c == 0;
			}
			set_bool(out, n->op == OP_EQ ? eq : !eq);
		} else if (n->op >= OP_LT && n->op <= OP_GE) {
			int c = 0;
			if (a.type == EXPR_LIST || b.type == EXPR_LIST)
				rc = err_set(ev->e, ERR_INVALID, "cannot order lists");
			else
				rc = compare(ev, &a, &b, &c);
			if (rc == 0)
				set_bool(out, n->op == OP_LT   ? c < 0
				              : n->op == OP_LE ? c <= 0
				              : n->op == OP_GT ? c > 0
				                               : c >= 0);
		} else {
			rc = arith(ev, n->op, &a, &b, out);
		}
		break;
	case N_LIST:
		rc = eval_items(ev, n, &items);
		if (rc == 0) {
			out->type = EXPR_LIST;
			out->u.list.items = items;
			out->u.list.n = n->b;
		}
		return rc;
	case N_CALL:
		rc = eval_items(ev, n, &items);
		if (rc == 0) {
			rc = call_fn(ev, n->op, items, n->b, out);
			for (size_t i = 0; i < n->b; i++)
				expr_value_clear(&items[i]);
			free(items);
		}
		break;
	}
	expr_value_clear(&a);
	expr_value_clear(&b);
	if (rc) {
		expr_value_clear(out);
		out->type = EXPR_STRING;
	}
	return rc;
}

int
expr_eval(const struct expr *x, const struct expr_env *env, struct expr_value *out, struct err *e)
{
	struct evaluator ev = { .x = x, .env = env, .e = e };

	return eval_node(&ev, x->root, out);
}
