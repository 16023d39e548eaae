/*
 * toml_doc.c - the TOML document: nodes of the typed tree, key lookup, the flattened
 * Stalwart view (dotted keys, 4-digit array indices) and the read-only accessors.
 *
 * Tables index their keys in a hash map once they grow past a few entries, so large
 * tables stay linear to build.  Every node is also listed in the document, so freeing
 * never recurses.  A finished document is immutable: readers may share it.
 */
#include "config/toml_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define INDEX_AFTER 8 /* tables with more entries get a hash index */
#define HASH_SEED 0x746f6d6c5f6b6579ULL

struct toml_value *
toml_node_new(struct toml_doc *doc, enum toml_type t, unsigned depth)
{
	struct toml_value *v = xcalloc(1, sizeof(*v));
	v->type = t;
	v->depth = depth;
	hmap_init(&v->index);
	if (doc->nnodes == doc->capnodes) {
		doc->capnodes = doc->capnodes ? doc->capnodes * 2 : 64;
		doc->nodes = xrealloc(doc->nodes, doc->capnodes * sizeof(*doc->nodes));
	}
	doc->nodes[doc->nnodes++] = v;
	return v;
}

struct entry_key {
	const char *k;
	size_t klen;
};

static bool
entry_eq(const void *item, const void *key)
{
	const struct toml_entry *en = item;
	const struct entry_key *k = key;
	return en->klen == k->klen && memcmp(en->key, k->k, k->klen) == 0;
}

struct toml_entry *
toml_table_find(const struct toml_value *t, const char *k, size_t klen)
{
	if (t->n > INDEX_AFTER) {
		struct entry_key key = { k, klen };
		return hmap_find(&t->index, hash_bytes(k, klen, HASH_SEED), entry_eq, &key);
	}
	for (size_t i = 0; i < t->n; i++)
		if (t->ents[i]->klen == klen && memcmp(t->ents[i]->key, k, klen) == 0)
			return t->ents[i];
	return NULL;
}

void
toml_table_add(struct toml_value *t, const char *k, size_t klen, struct toml_value *v)
{
	struct toml_entry *en = xmalloc(sizeof(*en));
	en->key = xmalloc(klen + 1);
	memcpy(en->key, k, klen);
	en->key[klen] = '\0';
	en->klen = klen;
	en->val = v;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 4;
		t->ents = xrealloc(t->ents, t->cap * sizeof(*t->ents));
	}
	t->ents[t->n++] = en;
	if (t->n == INDEX_AFTER + 1) {
		for (size_t i = 0; i < t->n; i++)
			hmap_insert(&t->index,
			            hash_bytes(t->ents[i]->key, t->ents[i]->klen, HASH_SEED),
			            t->ents[i]);
	} else if (t->n > INDEX_AFTER + 1) {
		hmap_insert(&t->index, hash_bytes(k, klen, HASH_SEED), en);
	}
}

void
toml_array_add(struct toml_value *a, struct toml_value *v)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 4;
		a->items = xrealloc(a->items, a->cap * sizeof(*a->items));
	}
	a->items[a->n++] = v;
}

/* ---------------------------------------------------------------- flat view */

struct flat_key {
	const struct toml_doc *doc;
	const char *k;
};

static bool
flat_eq(const void *item, const void *key)
{
	const struct flat_key *fk = key;
	size_t i = (size_t)(uintptr_t)item - 1;
	return strcmp(fk->doc->flat[i].key, fk->k) == 0;
}

static int
flat_add(struct toml_parser *p, const struct toml_value *v)
{
	struct toml_doc *doc = p->doc;
	const char *key = buf_cstr(&p->key);
	struct flat_key fk = { doc, key };
	uint64_t h = hash_bytes(key, p->key.len, HASH_SEED);
	void *hit;

	if (memchr(key, '\0', p->key.len) != NULL) {
		char r[200];
		toml_repr(key, p->key.len, r, sizeof(r));
		return err_set(
		        p->e, ERR_INVALID,
		        "%s:%u:%u: key %s contains U+0000, which configuration keys cannot hold",
		        p->name, v->line, v->col, r);
	}
	hit = hmap_find(&doc->flat_index, h, flat_eq, &fk);
	if (hit != NULL) {
		const struct toml_flat *old = &doc->flat[(size_t)(uintptr_t)hit - 1];
		char r[200];
		toml_repr(key, p->key.len, r, sizeof(r));
		/* reported at the later value; both positions in the message */
		return err_set(p->e, ERR_INVALID,
		               "%s:%u:%u: key %s is defined twice: also at %u:%u (table names are "
		               "case-insensitive and quoted keys may contain dots)",
		               p->name, v->line, v->col, r, old->line, old->col);
	}
	p->flat_bytes += p->key.len + 1;
	if (p->flat_bytes > p->flat_max)
		return err_set(p->e, ERR_TOOBIG, "%s:%u:%u: flattened keys exceed %zu bytes",
		               p->name, v->line, v->col, p->flat_max);
	if (doc->nflat == doc->capflat) {
		doc->capflat = doc->capflat ? doc->capflat * 2 : 32;
		doc->flat = xrealloc(doc->flat, doc->capflat * sizeof(*doc->flat));
	}
	struct toml_flat *f = &doc->flat[doc->nflat++];
	f->key = xmemdup(key, p->key.len + 1);
	f->value = v->text;
	f->value_len = v->text_len;
	f->type = v->type;
	f->line = v->line;
	f->col = v->col;
	hmap_insert(&doc->flat_index, h, (void *)(uintptr_t)doc->nflat);
	return 0;
}

/*
 * Adds v under the dotted key in p->key (restored on return).  Recursion is bounded by
 * the depth cap of the tree.
 */
int
toml_flatten(struct toml_parser *p, const struct toml_value *v)
{
	size_t mark = p->key.len;
	int rc = 0;

	if (v->type == TOML_ARRAY) {
		for (size_t i = 0; i < v->n && rc == 0; i++) {
			p->key.len = mark;
			if (buf_printf(&p->key, "%s%04zu", mark ? "." : "", i) != 0)
				return err_set(p->e, ERR_TOOBIG, "%s:%u:%u: key too long", p->name,
				               v->line, v->col);
			rc = toml_flatten(p, v->items[i]);
		}
	} else if (v->type == TOML_TABLE) {
		for (size_t i = 0; i < v->n && rc == 0; i++) {
			p->key.len = mark;
			if ((mark && buf_putc(&p->key, '.') != 0) ||
			    buf_append(&p->key, v->ents[i]->key, v->ents[i]->klen) != 0)
				return err_set(p->e, ERR_TOOBIG, "%s:%u:%u: key too long", p->name,
				               v->line, v->col);
			rc = toml_flatten(p, v->ents[i]->val);
		}
	} else {
		rc = flat_add(p, v);
	}
	p->key.len = mark;
	if (p->key.data)
		p->key.data[mark] = '\0';
	return rc;
}

size_t
toml_flat_count(const struct toml_doc *doc)
{
	return doc ? doc->nflat : 0;
}

const struct toml_flat *
toml_flat_at(const struct toml_doc *doc, size_t i)
{
	return doc && i < doc->nflat ? &doc->flat[i] : NULL;
}

const struct toml_flat *
toml_flat_find(const struct toml_doc *doc, const char *key)
{
	if (doc == NULL || key == NULL)
		return NULL;
	struct flat_key fk = { doc, key };
	void *hit =
	        hmap_find(&doc->flat_index, hash_bytes(key, strlen(key), HASH_SEED), flat_eq, &fk);
	return hit ? &doc->flat[(size_t)(uintptr_t)hit - 1] : NULL;
}

const char *
toml_doc_name(const struct toml_doc *doc)
{
	return doc ? doc->name : NULL;
}

void
toml_free(struct toml_doc *doc)
{
	if (doc == NULL)
		return;
	for (size_t i = 0; i < doc->nnodes; i++) {
		struct toml_value *v = doc->nodes[i];
		for (size_t k = 0; v->ents && k < v->n; k++) {
			free(v->ents[k]->key);
			free(v->ents[k]);
		}
		free(v->ents);
		free(v->items);
		hmap_clear(&v->index);
		free(v->text);
		free(v->raw);
		free(v);
	}
	for (size_t i = 0; i < doc->nflat; i++)
		free((char *)doc->flat[i].key);
	free(doc->flat);
	hmap_clear(&doc->flat_index);
	free(doc->nodes);
	free(doc->name);
	free(doc);
}

/* ---------------------------------------------------------------- typed tree */

const struct toml_value *
toml_doc_root(const struct toml_doc *doc)
{
	return doc ? doc->root : NULL;
}

enum toml_type
toml_value_type(const struct toml_value *v)
{
	return v->type;
}

void
toml_value_pos(const struct toml_value *v, unsigned *line, unsigned *col)
{
	*line = v->line;
	*col = v->col;
}

size_t
toml_value_count(const struct toml_value *v)
{
	return v && (v->type == TOML_ARRAY || v->type == TOML_TABLE) ? v->n : 0;
}

const struct toml_value *
toml_value_at(const struct toml_value *v, size_t i)
{
	if (v == NULL || i >= v->n)
		return NULL;
	if (v->type == TOML_ARRAY)
		return v->items[i];
	if (v->type == TOML_TABLE)
		return v->ents[i]->val;
	return NULL;
}

const char *
toml_value_key(const struct toml_value *v, size_t i, size_t *len)
{
	if (v == NULL || v->type != TOML_TABLE || i >= v->n)
		return NULL;
	if (len)
		*len = v->ents[i]->klen;
	return v->ents[i]->key;
}

const struct toml_value *
toml_value_get(const struct toml_value *v, const char *key, size_t key_len)
{
	if (v == NULL || v->type != TOML_TABLE)
		return NULL;
	struct toml_entry *en = toml_table_find(v, key, key_len);
	return en ? en->val : NULL;
}

const char *
toml_value_text(const struct toml_value *v, size_t *len)
{
	if (v == NULL || v->type == TOML_ARRAY || v->type == TOML_TABLE)
		return NULL;
	if (len)
		*len = v->text_len;
	return v->text;
}

const char *
toml_value_raw(const struct toml_value *v)
{
	if (v == NULL || v->type == TOML_ARRAY || v->type == TOML_TABLE)
		return NULL;
	return v->raw ? v->raw : v->text;
}

int64_t
toml_value_int(const struct toml_value *v)
{
	return v && v->type == TOML_INTEGER ? v->i : 0;
}

double
toml_value_float(const struct toml_value *v)
{
	return v && v->type == TOML_FLOAT ? v->f : 0;
}

bool
toml_value_bool(const struct toml_value *v)
{
	return v && v->type == TOML_BOOL ? v->b : false;
}

const char *
toml_type_name(enum toml_type t)
{
	switch (t) {
	case TOML_STRING:
		return "string";
	case TOML_INTEGER:
		return "integer";
	case TOML_FLOAT:
		return "float";
	case TOML_BOOL:
		return "boolean";
	case TOML_DATETIME:
		return "date-time";
	case TOML_DATETIME_LOCAL:
		return "local date-time";
	case TOML_DATE_LOCAL:
		return "local date";
	case TOML_TIME_LOCAL:
		return "local time";
	case TOML_ARRAY:
		return "array";
	case TOML_TABLE:
		return "table";
	}
	return "value";
}
