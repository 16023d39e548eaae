/*
 * orgdomain.c - Public Suffix List lookup (https://publicsuffix.org/list/ format:
 * normal rules, "*." wildcards, "!" exceptions; the longest matching rule wins and an
 * exception beats everything).  See orgdomain.h.  Pure; a parsed list is read-only.
 */
#include "mail/orgdomain.h"

#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/xalloc.h"

#define PSL_MAX_RULES 200000
#define PSL_MAX_RULE 253

struct orgdomain_psl {
	char **rules; /* sorted, lower-case, as written ("*.ck", "!www.ck", "co.uk") */
	size_t n;
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
orgdomain_psl_parse(struct span text, struct orgdomain_psl **out, struct err *e)
{
	struct orgdomain_psl *p = xcalloc(1, sizeof *p);
	size_t cap = 0, pos = 0, lineno = 0;
	*out = NULL;
	while (pos < text.len) {
		const char *nl = memchr(text.p + pos, '\n', text.len - pos);
		size_t end = nl ? (size_t)(nl - text.p) : text.len;
		struct span line = span_trim(span_make(text.p + pos, end - pos));
		pos = end + 1;
		lineno++;
		if (line.len == 0 || (line.len >= 2 && line.p[0] == '/' && line.p[1] == '/'))
			continue;
		size_t k = 0;
		while (k < line.len && line.p[k] != ' ' && line.p[k] != '\t')
			k++;
		if (k > PSL_MAX_RULE) {
			orgdomain_psl_free(p);
			return err_set(e, ERR_TOOBIG, "public suffix list line %zu: rule too long",
			               lineno);
		}
		if (p->n >= PSL_MAX_RULES) {
			orgdomain_psl_free(p);
			return err_set(e, ERR_TOOBIG, "public suffix list: more than %d rules",
			               PSL_MAX_RULES);
		}
		if (p->n == cap) {
			cap = cap ? cap * 2 : 1024;
			p->rules = xreallocarray(p->rules, cap, sizeof *p->rules);
		}
		char *r = xstrndup(line.p, k);
		str_lower(r, k);
		p->rules[p->n++] = r;
	}
	if (p->n > 0) /* qsort(NULL, 0) is undefined behaviour (found by fuzz_dkim) */
		qsort(p->rules, p->n, sizeof *p->rules, cmp_str);
	*out = p;
	return 0;
}

void
orgdomain_psl_free(struct orgdomain_psl *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->rules[i]);
	free(p->rules);
	free(p);
}

size_t
orgdomain_psl_count(const struct orgdomain_psl *p)
{
	return p ? p->n : 0;
}

static bool
has_rule(const struct orgdomain_psl *p, const char *prefix, const char *s)
{
	char key[PSL_MAX_RULE + 8];
	size_t pl = strlen(prefix), sl = strlen(s);
	if (pl + sl + 1 > sizeof key || p->n == 0)
		return false;
	memcpy(key, prefix, pl);
	memcpy(key + pl, s, sl + 1);
	const char *kp = key;
	return bsearch(&kp, p->rules, p->n, sizeof *p->rules, cmp_str) != NULL;
}

/* Normalises name into buf (lower case, no trailing dot); returns its length or 0. */
static size_t
normalise(const char *name, char *buf, size_t cap)
{
	size_t n = str_copy(buf, cap, name);
	if (n >= cap)
		return 0;
	while (n && buf[n - 1] == '.')
		buf[--n] = '\0';
	str_lower(buf, n);
	return n;
}

int
orgdomain_get(const struct orgdomain_psl *psl, const char *name, char *out, size_t cap)
{
	char n[256];
	size_t len = normalise(name, n, sizeof n);
	if (len == 0)
		return ERR_INVALID;
	/* label start offsets */
	size_t starts[128], nl = 0;
	starts[nl++] = 0;
	for (size_t i = 0; i < len && nl < 128; i++)
		if (n[i] == '.')
			starts[nl++] = i + 1;
	/* suffix_labels: number of labels of the public suffix */
	size_t suffix_labels = 1; /* the default rule "*" */
	if (psl) {
		for (size_t i = 0; i < nl; i++) {
			const char *s = n + starts[i];
			if (has_rule(psl, "!", s)) {
				suffix_labels = nl - i - 1;
				break;
			}
			bool match = has_rule(psl, "", s);
			if (!match && i + 1 < nl)
				match = has_rule(psl, "*.", n + starts[i + 1]);
			if (match) {
				suffix_labels = nl - i;
				break;
			}
		}
	}
	const char *org = n;
	if (suffix_labels < nl)
		org = n + starts[nl - suffix_labels - 1];
	if (str_copy(out, cap, org) >= cap)
		return ERR_INVALID;
	return 0;
}

bool
orgdomain_aligned(const struct orgdomain_psl *psl, const char *a, const char *b)
{
	char na[256], nb[256], oa[256], ob[256];
	if (normalise(a, na, sizeof na) == 0 || normalise(b, nb, sizeof nb) == 0)
		return false;
	if (strcmp(na, nb) == 0)
		return true;
	if (orgdomain_get(psl, na, oa, sizeof oa) != 0 ||
	    orgdomain_get(psl, nb, ob, sizeof ob) != 0)
		return false;
	return strcmp(oa, ob) == 0;
}
