/*
 * expr_int.h - the compiled form of expressions, shared by expr.c (values, lexer,
 * parser) and expr_eval.c (evaluation).  Not for other modules.
 */
#ifndef TLSRPTD_CONFIG_EXPR_INT_H
#define TLSRPTD_CONFIG_EXPR_INT_H

#include "config/expr.h"

enum node_kind {
	N_LIT,  /* lit */
	N_VAR,  /* name */
	N_NOT,  /* a */
	N_NEG,  /* a */
	N_BIN,  /* op, a, b */
	N_AND,  /* a, b (short-circuit) */
	N_OR,   /* a, b (short-circuit) */
	N_CALL, /* fn, args[a .. a+b) */
	N_LIST, /* args[a .. a+b) */
};

enum bin_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_ADD, OP_SUB, OP_MUL, OP_DIV };

enum fn_id {
	FN_CONFIG_GET,
	FN_KEY_GET,
	FN_IS_EMPTY,
	FN_CONTAINS,
	FN_STARTS_WITH,
	FN_ENDS_WITH,
	FN_LOWER,
	FN_UPPER,
	FN_CONCAT,
	FN_PARENT_DOMAIN,
};

struct expr_fn {
	const char *name;
	int min_args, max_args;
};

/* The functions by enum fn_id (expr.c). */
extern const struct expr_fn expr_functions[];
extern const size_t expr_nfunctions;

struct expr_node {
	enum node_kind kind;
	int op; /* enum bin_op or enum fn_id */
	size_t a, b;
	char *name;
	struct expr_value lit;
};

struct expr {
	struct expr_node *nodes;
	size_t nnodes, cap;
	size_t *args; /* argument / list item node indices */
	size_t nargs, args_cap;
	size_t root;
	bool constant; /* no variable reference */
	bool literal;  /* a bare constant or a single literal */
};

#endif
