/*
 * conf_get.c - reading a loaded configuration: typed getters, evaluation of expression
 * keys (if/then/else blocks, config_get, key_get with the host name fallback), the
 * load-time check of constant expressions, and the dump of `config check`.
 *
 * Thread safety: everything here only reads the immutable struct conf.
 */
#include "config/conf_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

enum { CONF_MAX_REF_DEPTH = 8 };

struct conf_item *
conf_item_find(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->items[i].name, name) == 0)
			return &c->items[i];
	return NULL;
}

static const struct conf_item *
typed(const struct conf *c, const char *key, enum conf_type t1, enum conf_type t2)
{
	const struct conf_item *it = conf_item_find(c, key);

	if (it == NULL || (it->key->type != t1 && it->key->type != t2) || !it->has_value)
		return NULL;
	return it;
}

const char *
conf_name(const struct conf *c)
{
	return c->name;
}

const char *
conf_str(const struct conf *c, const char *key)
{
	const struct conf_item *it = conf_item_find(c, key);

	if (it == NULL || !it->has_value ||
	    (it->key->type != CONF_STRING && it->key->type != CONF_PATH &&
	     it->key->type != CONF_ENUM && it->key->type != CONF_MACRO))
		return NULL;
	return it->str;
}

int64_t
conf_int(const struct conf *c, const char *key)
{
	const struct conf_item *it = typed(c, key, CONF_INTEGER, CONF_MODE);
	return it ? it->num : 0;
}

uint64_t
conf_size(const struct conf *c, const char *key)
{
	const struct conf_item *it = typed(c, key, CONF_SIZE, CONF_SIZE);
	return it ? (uint64_t)it->num : 0;
}

int64_t
conf_duration_ms(const struct conf *c, const char *key)
{
	const struct conf_item *it = typed(c, key, CONF_DURATION, CONF_DURATION);
	return it ? it->num : 0;
}

bool
conf_bool(const struct conf *c, const char *key)
{
	const struct conf_item *it = typed(c, key, CONF_BOOL, CONF_BOOL);
	return it ? it->num != 0 : false;
}

const char *
conf_enum(const struct conf *c, const char *key)
{
	const struct conf_item *it = typed(c, key, CONF_ENUM, CONF_ENUM);
	return it ? it->str : NULL;
}

const char *const *
conf_list(const struct conf *c, const char *key, size_t *n)
{
	const struct conf_item *it = typed(c, key, CONF_LIST, CONF_LIST);

	*n = it ? it->nlist : 0;
	return it ? (const char *const *)it->list : NULL;
}

bool
conf_is_set(const struct conf *c, const char *key)
{
	const struct conf_item *it = conf_item_find(c, key);
	return it && it->set;
}

const char *const *
conf_ids(const struct conf *c, const char *group, size_t *n)
{
	for (size_t i = 0; i < c->ngroups; i++) {
		if (strcmp(c->groups[i].name, group) == 0) {
			*n = c->groups[i].n;
			return (const char *const *)c->groups[i].ids;
		}
	}
	*n = 0;
	return NULL;
}

void
conf_strv_free(char **items, size_t n)
{
	if (items == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

/* ------------------------------------------------------------------ evaluation */

struct eval_ctx {
	const struct conf *c;
	const struct expr_var *vars;
	size_t nvars;
	int depth;
};

static int
cb_config_get(void *arg, const char *key, struct expr_value *out, struct err *e)
{
	const struct eval_ctx *ctx = arg;
	const struct conf_item *it = conf_item_find(ctx->c, key);

	if ((it == NULL || !it->has_value) && strcmp(key, "server.hostname") == 0) {
		/* as in Stalwart, the server's name defaults to the machine's */
		expr_value_set_string(out, ctx->c->hostname, strlen(ctx->c->hostname));
		return 0;
	}
	if (it == NULL || !it->has_value) {
		expr_value_set_string(out, "", 0);
		return 0;
	}
	if (it->key->flags & CONF_F_SECRET)
		return err_set(e, ERR_INVALID, "config_get('%s'): secrets cannot be read", key);
	switch (it->key->type) {
	case CONF_EXPR:
		if (ctx->depth >= CONF_MAX_REF_DEPTH)
			return err_set(
			        e, ERR_INVALID,
			        "config_get('%s'): references nested deeper than %d (a loop?)", key,
			        CONF_MAX_REF_DEPTH);
		return conf_item_eval(ctx->c, it, NULL, ctx->vars, ctx->nvars, ctx->depth + 1, out,
		                      e);
	case CONF_INTEGER:
	case CONF_SIZE:
	case CONF_DURATION:
	case CONF_MODE:
		out->type = EXPR_INTEGER;
		out->u.i = it->num;
		return 0;
	case CONF_BOOL:
		out->type = EXPR_BOOL;
		out->u.b = it->num != 0;
		return 0;
	case CONF_LIST:
		out->type = EXPR_LIST;
		out->u.list.n = it->nlist;
		out->u.list.items = xcalloc(it->nlist ? it->nlist : 1, sizeof(struct expr_value));
		for (size_t i = 0; i < it->nlist; i++)
			expr_value_set_string(&out->u.list.items[i], it->list[i],
			                      strlen(it->list[i]));
		return 0;
	default:
		expr_value_set_string(out, it->str ? it->str : "", it->str ? strlen(it->str) : 0);
		return 0;
	}
}

static int
cb_key_get(void *arg, const char *store, const char *key, struct expr_value *out, struct err *e)
{
	const struct eval_ctx *ctx = arg;
	char name[512];
	(void)e;

	snprintf(name, sizeof(name), "lookup.%s.%s", store, key);
	const struct conf_item *it = conf_item_find(ctx->c, name);
	if (it && it->str) {
		expr_value_set_string(out, it->str, strlen(it->str));
		return 0;
	}
	if (strcmp(store, "default") == 0 && strcmp(key, "hostname") == 0) {
		/* documented fallback: server.hostname, then the machine's host name */
		const char *h = conf_str(ctx->c, "server.hostname");
		if (h == NULL)
			h = ctx->c->hostname;
		expr_value_set_string(out, h, strlen(h));
		return 0;
	}
	expr_value_set_string(out, "", 0);
	return 0;
}

/*
 * Evaluates x (when not NULL) or the item's effective value: the first true branch,
 * the else branch, the single value, the default.
 */
int
conf_item_eval(const struct conf *c, const struct conf_item *it, const struct expr *x,
               const struct expr_var *vars, size_t nvars, int depth, struct expr_value *out,
               struct err *e)
{
	struct eval_ctx ctx = { c, vars, nvars, depth };
	const struct expr_env env = { vars, nvars, cb_config_get, cb_key_get, &ctx };
	int rc;

	out->type = EXPR_STRING;
	out->u.s.p = NULL;
	out->u.s.len = 0;
	if (x)
		return expr_eval(x, &env, out, e);
	for (size_t i = 0; i < it->nbr; i++) {
		struct expr_value cond = { .type = EXPR_STRING };
		if (it->br[i].cond == NULL || it->br[i].value == NULL)
			continue;
		rc = expr_eval(it->br[i].cond, &env, &cond, e);
		if (rc)
			return err_prefix(e, "%s.%04zu.if", it->name, i);
		bool take = expr_value_truthy(&cond);
		expr_value_clear(&cond);
		if (take)
			return expr_eval(it->br[i].value, &env, out, e);
	}
	if (it->has_else && it->otherwise)
		return expr_eval(it->otherwise, &env, out, e);
	if (it->expr)
		return expr_eval(it->expr, &env, out, e);
	if (it->def_expr)
		return expr_eval(it->def_expr, &env, out, e);
	return err_set(e, ERR_NOTFOUND, "%s is not set", it->name);
}

int
conf_eval(const struct conf *c, const char *key, const struct expr_var *vars, size_t nvars,
          struct expr_value *out, struct err *e)
{
	const struct conf_item *it = conf_item_find(c, key);

	out->type = EXPR_STRING;
	out->u.s.p = NULL;
	out->u.s.len = 0;
	if (it == NULL || it->key->type != CONF_EXPR)
		return err_set(e, ERR_NOTFOUND, "%s is not an expression key", key);
	return conf_item_eval(c, it, NULL, vars, nvars, 0, out, e);
}

int
conf_eval_string(const struct conf *c, const char *key, const struct expr_var *vars, size_t nvars,
                 char **out, struct err *e)
{
	struct expr_value v;
	struct buf b;
	int rc;

	*out = NULL;
	rc = conf_eval(c, key, vars, nvars, &v, e);
	if (rc)
		return rc;
	if (v.type == EXPR_LIST) {
		expr_value_clear(&v);
		return err_set(e, ERR_INVALID, "%s: expected a string, got a list", key);
	}
	buf_init(&b, EXPR_MAX_STRING);
	rc = expr_value_format(&v, &b);
	expr_value_clear(&v);
	if (rc) {
		buf_clear(&b);
		return err_set(e, ERR_TOOBIG, "%s: value too long", key);
	}
	*out = buf_steal(&b, NULL);
	return 0;
}

int
conf_eval_list(const struct conf *c, const char *key, const struct expr_var *vars, size_t nvars,
               char ***items, size_t *n, struct err *e)
{
	struct expr_value v;
	int rc;

	*items = NULL;
	*n = 0;
	rc = conf_eval(c, key, vars, nvars, &v, e);
	if (rc)
		return rc;
	size_t count = v.type == EXPR_LIST ? v.u.list.n : 1;
	const struct expr_value *src = v.type == EXPR_LIST ? v.u.list.items : &v;
	char **out = xcalloc(count ? count : 1, sizeof(*out));
	size_t k = 0;
	for (size_t i = 0; i < count; i++) {
		struct buf b;
		buf_init(&b, EXPR_MAX_STRING);
		if (src[i].type == EXPR_LIST || expr_value_format(&src[i], &b) != 0) {
			buf_clear(&b);
			conf_strv_free(out, k);
			expr_value_clear(&v);
			return err_set(e, ERR_INVALID, "%s: expected a list of strings", key);
		}
		if (b.len == 0 && v.type != EXPR_LIST) {
			buf_clear(&b);
			continue; /* "" is the empty list */
		}
		out[k++] = buf_steal(&b, NULL);
	}
	expr_value_clear(&v);
	*items = out;
	*n = k;
	return 0;
}

int
conf_eval_send(const struct conf *c, const struct expr_var *vars, size_t nvars,
               enum window_period *out, struct err *e)
{
	static const char key[] = "report.tls.aggregate.send";
	struct expr_value v;
	int rc;

	rc = conf_eval(c, key, vars, nvars, &v, e);
	if (rc)
		return rc;
	if (v.type == EXPR_BOOL && !v.u.b) {
		*out = WINDOW_NEVER;
		return 0;
	}
	rc = 0;
	if (v.type != EXPR_STRING || window_period_parse(span_make(v.u.s.p, v.u.s.len), out))
		rc = err_set(e, ERR_INVALID, "%s: expected hourly|daily|weekly|never", key);
	expr_value_clear(&v);
	return rc;
}

/* ------------------------------------------------------------------ load-time checks */

static void
check_one(struct loader *ld, const struct conf_item *it, const struct expr *x, unsigned line,
          const char *where, bool validate)
{
	struct expr_value v;
	struct err e = { 0 };

	if (x == NULL || !expr_is_constant(x))
		return;
	if (conf_item_eval(ld->c, it, x, NULL, 0, 0, &v, &e) != 0) {
		conf_error(ld, line, where, "%s", e.msg);
		return;
	}
	if (validate && it->key->validate && it->key->validate(&v, &e) != 0)
		conf_error(ld, line, where, "%s", e.msg);
	expr_value_clear(&v);
}

/*
 * Evaluates every constant expression once (values, branches, defaults in use) so that
 * `send = "monthly"` or `1 / 0` is a load error instead of a failure at report time.
 */
void
conf_check_exprs(struct loader *ld)
{
	for (size_t i = 0; i < ld->c->n; i++) {
		const struct conf_item *it = &ld->c->items[i];
		char where[192];
		if (it->key->type != CONF_EXPR || !it->set)
			continue;
		check_one(ld, it, it->expr, it->line, it->name, true);
		for (size_t j = 0; j < it->nbr; j++) {
			snprintf(where, sizeof(where), "%s.%04zu.if", it->name, j);
			check_one(ld, it, it->br[j].cond, it->br[j].line, where, false);
			snprintf(where, sizeof(where), "%s.%04zu.then", it->name, j);
			check_one(ld, it, it->br[j].value, it->br[j].then_line, where, true);
		}
		if (it->has_else) {
			snprintf(where, sizeof(where), "%s.%04zu.else", it->name, it->nbr);
			check_one(ld, it, it->otherwise, it->else_line, where, true);
		}
	}
	/* defaults in use, only when the given values are fine (no cascades of errors) */
	for (size_t i = 0; ld->nerr == 0 && i < ld->c->n; i++) {
		const struct conf_item *it = &ld->c->items[i];
		if (it->key->type == CONF_EXPR && (!it->set || (it->nbr > 0 && !it->has_else)))
			check_one(ld, it, it->def_expr, 0, it->name, true);
	}
}

/* ------------------------------------------------------------------ dump */

static bool
is_bare(const char *s)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
		return true;
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/*
 * For an expression that does not depend on variables, appends its value as a comment
 * ("  # = example.org"), so that the operator sees what defaults work out to.
 */
static int
dump_value(const struct conf *c, const struct conf_item *it, struct buf *out)
{
	const struct expr *x = it->set ? it->expr : it->def_expr;
	struct expr_value v;
	struct err e;
	int rc;

	if (it->key->type != CONF_EXPR || x == NULL || it->nbr > 0 || !expr_is_constant(x) ||
	    expr_is_literal(x) || (it->key->flags & CONF_F_SECRET))
		return 0;
	if (conf_item_eval(c, it, x, NULL, 0, 0, &v, &e) != 0)
		return 0;
	rc = buf_append_str(out, it->set ? "  # = " : "; = ");
	if (rc == 0)
		rc = expr_value_format(&v, out);
	expr_value_clear(&v);
	return rc;
}

int
conf_dump(const struct conf *c, struct buf *out)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		const struct conf_item *it = &c->items[i];
		const char *def = it->key->def;
		if (!it->has_value) {
			rc = buf_printf(out, "# %s is not set\n", it->name);
			continue;
		}
		rc = buf_printf(out, "%s = ", it->name);
		if (rc)
			break;
		if (it->key->flags & CONF_F_SECRET) {
			rc = buf_append_str(out, "<hidden>");
		} else if (it->set) {
			rc = buf_append_str(out, it->display ? it->display : "\"\"");
		} else if (it->key->type == CONF_LIST) {
			rc = buf_putc(out, '[');
			for (size_t j = 0; rc == 0 && j < it->nlist; j++)
				rc = buf_printf(out, "%s\"%s\"", j ? ", " : "", it->list[j]);
			if (rc == 0)
				rc = buf_putc(out, ']');
		} else if (is_bare(def) && it->key->type != CONF_STRING &&
		           it->key->type != CONF_EXPR) {
			rc = buf_append_str(out, def);
		} else {
			rc = buf_putc(out, '"');
			for (const char *p = def; rc == 0 && *p; p++) {
				if (*p == '"' || *p == '\\')
					rc = buf_putc(out, '\\');
				if (rc == 0)
					rc = buf_putc(out, *p);
			}
			if (rc == 0)
				rc = buf_putc(out, '"');
		}
		if (rc == 0 && !it->set)
			rc = buf_append_str(out, "  # default");
		if (rc == 0)
			rc = dump_value(c, it, out);
		if (rc == 0)
			rc = buf_putc(out, '\n');
	}
	return rc;
}

static const char *const type_names[] = {
	[CONF_STRING] = "string",   [CONF_PATH] = "path",         [CONF_INTEGER] = "integer",
	[CONF_SIZE] = "size",       [CONF_DURATION] = "duration", [CONF_BOOL] = "boolean",
	[CONF_ENUM] = "enum",       [CONF_MODE] = "octal mode",   [CONF_LIST] = "list of strings",
	[CONF_EXPR] = "expression", [CONF_MACRO] = "string",
};

int
conf_describe(struct buf *out)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		rc = buf_printf(out, "# %s: %s", k->name, type_names[k->type]);
		if (rc == 0 && k->type == CONF_ENUM)
			rc = buf_printf(out, " %s", k->choices);
		if (rc == 0 && k->vars)
			rc = buf_printf(out, " (variables: %s)", k->vars);
		if (rc == 0 && (k->min || k->max) &&
		    (k->type == CONF_INTEGER || k->type == CONF_SIZE || k->type == CONF_DURATION)) {
			char lo[32], hi[32];
			conf_format_bound(k, k->min, lo, sizeof(lo));
			conf_format_bound(k, k->max, hi, sizeof(hi));
			rc = buf_printf(out, ", %s..%s", lo, hi);
		}
		if (rc == 0 && (k->flags & CONF_F_SECRET))
			rc = buf_append_str(out, ", secret");
		if (rc == 0 && (k->flags & CONF_F_REQUIRED))
			rc = buf_append_str(out, ", required");
		if (rc == 0)
			rc = buf_printf(out, "\n#   %s\n", k->desc);
		if (rc == 0 && k->def)
			rc = buf_printf(out, "#   default: %s\n", k->def);
	}
	return rc;
}
