/*
 * store_pg_ids.c - window, policy and failure-detail ids for the PostgreSQL store's
 * collector ops, without one round trip per row: per-handle caches, ids taken from the
 * tables' sequences in blocks, and the rows a flush creates written in batches at commit.
 *
 * window_open: the cache holds every window of a (period, start) loaded in one query on
 * the first miss in it, plus the windows this handle created; a window not there gets
 * an id from the windows sequence and is inserted at commit (pg_ids_apply).  policy_id
 * and detail_id: the cache is filled incrementally (rows with a higher id than any seen)
 * on the first miss of a transaction; a key still missing is new and is handled like a
 * new window.  At commit the new rows are inserted sorted by key (every host inserts in
 * the same order, so racing inserts wait instead of deadlocking) with ON CONFLICT DO
 * NOTHING.  When another host created the same row meanwhile, its id wins: the pending
 * deltas are renumbered to it, and so are ids handed out before (remap table), so an id
 * the caller cached keeps working.
 *
 * Reported windows: a window the cache believes open may have been reported by another
 * host since.  At commit the open windows this transaction was told about are locked
 * FOR KEY SHARE (in id order) and must still be open; report generation's window_claim
 * locks the row FOR UPDATE, so either the flush commits first (and the report includes
 * it) or it sees the window reported.  Then the cache learns the state and the commit
 * fails with ERR_AGAIN: the collector rolls back and flushes again, now hopping to the
 * next open window as it does with SQLite.
 *
 * Bounds: window entries up to CACHE_MAX_BYTES (then forgotten at the next begin),
 * policy and detail entries up to CACHE_MAX_BYTES each (then further misses take the
 * per-row round trip path).  The remap table only grows when two hosts create the same
 * row at the same moment.
 * Threading: as store.h (one connection per thread).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_pg_int.h"
#include "util/buf.h"
#include "util/hash.h"
#include "util/xalloc.h"

enum {
	I_SEQ_POLICY = 64,
	I_SEQ_DETAIL,
	I_SEQ_WINDOW,
	I_LOAD_POLICY,
	I_LOAD_DETAIL,
	I_LOAD_GROUP,
	I_INS_POLICY,
	I_INS_DETAIL,
	I_INS_WINDOW,
	I_GET_POLICY,
	I_GET_DETAIL,
	I_GET_WINDOW,
	I_CHECK,
	I_STATES,
	I_SYNC_INS_POLICY,
	I_SYNC_SEL_POLICY,
	I_SYNC_INS_DETAIL,
	I_SYNC_SEL_DETAIL,
	I_LAST_ = I_SYNC_SEL_DETAIL,
};

_Static_assert(I_LAST_ <= 95, "ids own statement slots 64..95");

enum { K_POLICY = 0, K_DETAIL = 1, K_WINDOW = 2 };

static const char *const sql_seq[3] = {
	"SELECT nextval('policies_id_seq') FROM generate_series(1, $1::integer)",
	"SELECT nextval('failure_details_id_seq') FROM generate_series(1, $1::integer)",
	"SELECT nextval('windows_id_seq') FROM generate_series(1, $1::integer)",
};
static const char *const sql_load[2] = {
	"SELECT id, key FROM policies WHERE id > $1::bigint ORDER BY id LIMIT $2::bigint",
	"SELECT id, key FROM failure_details WHERE id > $1::bigint ORDER BY id LIMIT $2::bigint",
};
static const char sql_load_group[] = "SELECT id, domain, record, state FROM windows "
                                     "WHERE period = $1::integer AND start = $2::bigint";
static const char *const sql_ins[3] = {
	"INSERT INTO policies(id, key, policy_type, policy_domain) SELECT * FROM "
	"unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) "
	"ON CONFLICT (key) DO NOTHING RETURNING id",
	"INSERT INTO failure_details(id, key, result_type) SELECT * FROM "
	"unnest($1::bigint[], $2::text[], $3::text[]) ON CONFLICT (key) DO NOTHING RETURNING id",
	"INSERT INTO windows(id, period, start, domain, record, end_time) SELECT * FROM "
	"unnest($1::bigint[], $2::integer[], $3::bigint[], $4::text[], $5::text[], $6::bigint[]) "
	"ON CONFLICT (period, start, domain, record) DO NOTHING RETURNING id",
};
/* the rows another host created first: (our id, theirs[, state]) */
static const char *const sql_get[3] = {
	"SELECT u.pid, p.id FROM unnest($1::bigint[], $2::text[]) AS u(pid, key) "
	"JOIN policies p ON p.key = u.key",
	"SELECT u.pid, d.id FROM unnest($1::bigint[], $2::text[]) AS u(pid, key) "
	"JOIN failure_details d ON d.key = u.key",
	"SELECT u.pid, w.id, w.state FROM unnest($1::bigint[], $2::integer[], $3::bigint[], "
	"$4::text[], $5::text[]) AS u(pid, period, start, domain, record) "
	"JOIN windows w ON w.period = u.period AND w.start = u.start AND w.domain = u.domain "
	"AND w.record = u.record",
};
static const char sql_check[] = "SELECT id FROM windows WHERE id = ANY($1::bigint[]) "
                                "AND state = 0 ORDER BY id FOR KEY SHARE";
static const char sql_states[] = "SELECT id, state FROM windows WHERE id = ANY($1::bigint[])";
static const char *const sql_sync_ins[2] = {
	"INSERT INTO policies(key, policy_type, policy_domain) VALUES ($1, $2, $3) "
	"ON CONFLICT (key) DO NOTHING RETURNING id",
	"INSERT INTO failure_details(key, result_type) VALUES ($1, $2) "
	"ON CONFLICT (key) DO NOTHING RETURNING id",
};
static const char *const sql_sync_sel[2] = {
	"SELECT id FROM policies WHERE key = $1",
	"SELECT id FROM failure_details WHERE key = $1",
};

enum {
	CACHE_MAX_BYTES = 64 << 20,
	SEQ_BLOCK = 4096,
	BATCH = 5000,
	ARRAY_MAX = 1 << 30,
};

/* A window the handle knows: data holds the domain, then the record. */
struct wentry {
	uint64_t hash;
	int64_t id;
	int state;
	bool tx;   /* created by the open transaction, not committed yet */
	bool sent; /* inserted by an earlier apply of the open transaction */
	int period;
	int64_t start;
	size_t dlen, rlen;
	char data[];
};

/* A policy or failure detail: data holds the key, then type and domain (NUL-ended). */
struct kentry {
	uint64_t hash;
	int64_t id;
	bool tx, sent;
	size_t len;
	char *type, *pdomain; /* inside data */
	char data[];
};

struct remap {
	int kind;
	int64_t from, to;
};

struct pg_cache {
	struct hmap win;
	size_t win_bytes;
	int64_t (*groups)[2]; /* (period, start) loaded */
	size_t ngroups, capgroups;
	struct hmap keys[2];
	size_t key_bytes[2];
	int64_t loaded_max[2];
	bool full[2], loaded_tx[2];
	struct hmap remap;
	int64_t *block[3];
	size_t nblock[3], posblock[3];
	/* the open transaction */
	struct wentry **txw;
	size_t ntxw, captxw, sentw;
	struct kentry **txk[2];
	size_t ntxk[2], captxk[2], sentk[2];
	int64_t *told; /* ids of existing windows handed out as open */
	size_t ntold, captold, checked;
};

struct wkey {
	int period;
	int64_t start;
	struct span domain, record;
};

static uint64_t
whash(const struct wkey *k)
{
	uint64_t h = hash_bytes(k->domain.p, k->domain.len, 0x77696e646f77ULL);

	h = hash_mix(h, hash_bytes(k->record.p, k->record.len, 0));
	h = hash_mix(h, (uint64_t)k->period);
	return hash_mix(h, (uint64_t)k->start);
}

static bool
weq(const void *item, const void *key)
{
	const struct wentry *w = item;
	const struct wkey *k = key;

	return w->period == k->period && w->start == k->start && w->dlen == k->domain.len &&
	       w->rlen == k->record.len && memcmp(w->data, k->domain.p, w->dlen) == 0 &&
	       memcmp(w->data + w->dlen, k->record.p, w->rlen) == 0;
}

static bool
keq(const void *item, const void *key)
{
	const struct kentry *k = item;
	const struct span *s = key;

	return k->len == s->len && memcmp(k->data, s->p, s->len) == 0;
}

static bool
same_item(const void *item, const void *key)
{
	return item == key;
}

static bool
remap_eq(const void *item, const void *key)
{
	const struct remap *a = item, *b = key;

	return a->kind == b->kind && a->from == b->from;
}

static uint64_t
remap_hash(int kind, int64_t from)
{
	return hash_mix((uint64_t)kind + 1, (uint64_t)from);
}

static struct pg_cache *
cache_of(struct store_pg *s)
{
	if (s->cache == NULL) {
		s->cache = xcalloc(1, sizeof(*s->cache));
		hmap_init(&s->cache->win);
		hmap_init(&s->cache->keys[0]);
		hmap_init(&s->cache->keys[1]);
		hmap_init(&s->cache->remap);
	}
	return s->cache;
}

static void
push_ptr(void ***v, size_t *n, size_t *cap, void *p)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[(*n)++] = p;
}

static void
push_i64(int64_t **v, size_t *n, size_t *cap, int64_t x)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 256;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[(*n)++] = x;
}

static int
code_of(const struct err *e)
{
	return e != NULL && e->code != 0 ? e->code : ERR_IO;
}

/* ------------------------------------------------------------------ forgetting */

static void
forget_windows(struct pg_cache *c)
{
	struct hmap keep;
	void *item;

	hmap_init(&keep);
	c->win_bytes = 0;
	for (size_t i = 0; hmap_next(&c->win, &i, &item);) {
		struct wentry *w = item;
		if (w->tx) { /* rows of the open transaction stay until it ends */
			hmap_insert(&keep, w->hash, w);
			c->win_bytes += sizeof(*w) + w->dlen + w->rlen;
		} else {
			free(w);
		}
	}
	hmap_clear(&c->win);
	c->win = keep;
	c->ngroups = 0;
}

void
pg_cache_forget_windows(struct store_pg *s)
{
	if (s->cache != NULL)
		forget_windows(s->cache);
}

void
pg_ids_marked(struct store_pg *s, int64_t window_id)
{
	struct pg_cache *c = s->cache;
	size_t m;

	if (c == NULL)
		return;
	forget_windows(c);
	/* this transaction reports it: not a window that changed behind its back */
	m = c->checked;
	for (size_t i = c->checked; i < c->ntold; i++)
		if (c->told[i] != window_id)
			c->told[m++] = c->told[i];
	c->ntold = m;
}

void
pg_ids_free(struct store_pg *s)
{
	struct pg_cache *c = s->cache;
	void *item;

	if (c == NULL)
		return;
	for (size_t i = 0; hmap_next(&c->win, &i, &item);)
		free(item);
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; hmap_next(&c->keys[k], &i, &item);)
			free(item);
		hmap_clear(&c->keys[k]);
		free(c->txk[k]);
	}
	for (size_t i = 0; hmap_next(&c->remap, &i, &item);)
		free(item);
	hmap_clear(&c->win);
	hmap_clear(&c->remap);
	for (int k = 0; k < 3; k++)
		free(c->block[k]);
	free(c->groups);
	free(c->txw);
	free(c->told);
	free(c);
	s->cache = NULL;
}

/* ------------------------------------------------------------------ transactions */

static void
tx_reset(struct pg_cache *c)
{
	c->ntxw = c->sentw = 0;
	c->ntxk[0] = c->ntxk[1] = c->sentk[0] = c->sentk[1] = 0;
	c->ntold = c->checked = 0;
	c->loaded_tx[0] = c->loaded_tx[1] = false;
}

void
pg_ids_begin(struct store_pg *s)
{
	struct pg_cache *c = cache_of(s);

	if (c->win_bytes > CACHE_MAX_BYTES)
		forget_windows(c);
	tx_reset(c);
}

void
pg_ids_committed(struct store_pg *s)
{
	struct pg_cache *c = s->cache;

	if (c == NULL)
		return;
	for (size_t i = 0; i < c->ntxw; i++)
		c->txw[i]->tx = false;
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < c->ntxk[k]; i++)
			c->txk[k][i]->tx = false;
	tx_reset(c);
}

void
pg_ids_rolled_back(struct store_pg *s)
{
	struct pg_cache *c = s->cache;

	if (c == NULL)
		return;
	for (size_t i = 0; i < c->ntxw; i++) {
		struct wentry *w = c->txw[i];
		if (!w->tx)
			continue; /* another host's row: known for good */
		hmap_remove(&c->win, w->hash, same_item, w);
		c->win_bytes -= sizeof(*w) + w->dlen + w->rlen;
		free(w);
	}
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < c->ntxk[k]; i++) {
			struct kentry *e = c->txk[k][i];
			if (!e->tx)
				continue;
			hmap_remove(&c->keys[k], e->hash, same_item, e);
			c->key_bytes[k] -= sizeof(*e) + e->len;
			free(e);
		}
	tx_reset(c);
}

/* ------------------------------------------------------------------ new ids */

/* The next id of kind's sequence, fetched SEQ_BLOCK at a time. */
static int
next_id(struct store_pg *s, int kind, int64_t *id, struct err *e)
{
	struct pg_cache *c = s->cache;

	if (c->posblock[kind] == c->nblock[kind]) {
		char n[24];
		const char *v[1] = { pg_i64(n, SEQ_BLOCK) };
		PGresult *r = pg_exec(s, (unsigned)I_SEQ_POLICY + (unsigned)kind, sql_seq[kind], 1,
		                      v, NULL, NULL, "allocate ids", e);
		int rows;

		if (r == NULL)
			return code_of(e);
		rows = PQntuples(r);
		if (c->block[kind] == NULL)
			c->block[kind] = xmalloc(SEQ_BLOCK * sizeof(int64_t));
		for (int i = 0; i < rows && i < SEQ_BLOCK; i++)
			c->block[kind][i] = pg_col_i64(r, i, 0);
		c->nblock[kind] = rows < SEQ_BLOCK ? (size_t)rows : SEQ_BLOCK;
		c->posblock[kind] = 0;
		PQclear(r);
		if (c->nblock[kind] == 0)
			return err_set(e, ERR_IO, "%s: allocate ids: no rows", s->where);
	}
	*id = c->block[kind][c->posblock[kind]++];
	return 0;
}

/* ------------------------------------------------------------------ windows */

static bool
group_loaded(const struct pg_cache *c, int period, int64_t start)
{
	for (size_t i = 0; i < c->ngroups; i++)
		if (c->groups[i][0] == period && c->groups[i][1] == start)
			return true;
	return false;
}

static struct wentry *
add_window(struct pg_cache *c, const struct wkey *k, uint64_t h, int64_t id, int state)
{
	struct wentry *w = xmalloc(sizeof(*w) + k->domain.len + k->record.len + 1);

	w->hash = h;
	w->id = id;
	w->state = state;
	w->tx = w->sent = false;
	w->period = k->period;
	w->start = k->start;
	w->dlen = k->domain.len;
	w->rlen = k->record.len;
	memcpy(w->data, k->domain.p, w->dlen);
	memcpy(w->data + w->dlen, k->record.p, w->rlen);
	w->data[w->dlen + w->rlen] = '\0';
	hmap_insert(&c->win, h, w);
	c->win_bytes += sizeof(*w) + w->dlen + w->rlen;
	return w;
}

/* Every window of (period, start) into the cache, as far as the bound allows. */
static int
load_group(struct store_pg *s, int period, int64_t start, struct err *e)
{
	struct pg_cache *c = s->cache;
	char p[24], st[24];
	const char *v[2] = { pg_i64(p, period), pg_i64(st, start) };
	PGresult *r = pg_exec(s, I_LOAD_GROUP, sql_load_group, 2, v, NULL, NULL, "load windows", e);
	int rows;

	if (r == NULL)
		return code_of(e);
	rows = PQntuples(r);
	for (int i = 0; i < rows && c->win_bytes <= CACHE_MAX_BYTES; i++) {
		struct wkey k = { period, start,
			          span_make(PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1)),
			          span_make(PQgetvalue(r, i, 2), (size_t)PQgetlength(r, i, 2)) };
		uint64_t h = whash(&k);

		if (hmap_find(&c->win, h, weq, &k) == NULL)
			add_window(c, &k, h, pg_col_i64(r, i, 0), (int)pg_col_i64(r, i, 3));
	}
	PQclear(r);
	if (c->ngroups == c->capgroups) {
		c->capgroups = c->capgroups ? 2 * c->capgroups : 8;
		c->groups = xrealloc(c->groups, c->capgroups * sizeof(*c->groups));
	}
	c->groups[c->ngroups][0] = period;
	c->groups[c->ngroups][1] = start;
	c->ngroups++;
	return 0;
}

int
pg_ids_window(struct store_pg *s, const struct store_window_key *key, int64_t *id,
              enum store_window_state *state, struct err *e)
{
	struct pg_cache *c = cache_of(s);
	struct wkey k = { (int)key->period, key->start, key->domain, key->record };
	uint64_t h;
	struct wentry *w;
	int64_t nid;
	int rc;

	if (k.domain.p == NULL)
		k.domain = span_make("", 0);
	if (k.record.p == NULL)
		k.record = span_make("", 0);
	h = whash(&k);
	w = hmap_find(&c->win, h, weq, &k);
	if (w == NULL && !group_loaded(c, k.period, k.start)) {
		rc = load_group(s, k.period, k.start, e);
		if (rc)
			return rc;
		w = hmap_find(&c->win, h, weq, &k);
	}
	if (w == NULL) { /* new: inserted at commit */
		rc = next_id(s, K_WINDOW, &nid, e);
		if (rc)
			return rc;
		w = add_window(c, &k, h, nid, STORE_WINDOW_OPEN);
		w->tx = true;
		push_ptr((void ***)&c->txw, &c->ntxw, &c->captxw, w);
	} else if (w->state == STORE_WINDOW_OPEN && !w->tx) {
		push_i64(&c->told, &c->ntold, &c->captold, w->id);
	}
	*id = w->id;
	*state = w->state ? STORE_WINDOW_REPORTED : STORE_WINDOW_OPEN;
	return 0;
}

/* ------------------------------------------------------------------ policies, details */

static struct kentry *
add_key(struct pg_cache *c, int kind, struct span key, uint64_t h, int64_t id, const char *type,
        struct span pdomain)
{
	size_t tl = type != NULL ? strlen(type) : 0;
	struct kentry *k = xmalloc(sizeof(*k) + key.len + tl + pdomain.len + 3);

	k->hash = h;
	k->id = id;
	k->tx = k->sent = false;
	k->len = key.len;
	memcpy(k->data, key.p, key.len);
	k->data[key.len] = '\0';
	k->type = k->data + key.len + 1;
	memcpy(k->type, type != NULL ? type : "", tl);
	k->type[tl] = '\0';
	k->pdomain = k->type + tl + 1;
	if (pdomain.len)
		memcpy(k->pdomain, pdomain.p, pdomain.len);
	k->pdomain[pdomain.len] = '\0';
	hmap_insert(&c->keys[kind], h, k);
	c->key_bytes[kind] += sizeof(*k) + key.len;
	if (c->key_bytes[kind] > CACHE_MAX_BYTES)
		c->full[kind] = true;
	return k;
}

/* The rows created since the last load (higher ids), as far as the bound allows. */
static int
load_keys(struct store_pg *s, int kind, struct err *e)
{
	struct pg_cache *c = s->cache;
	char a[24], b[24];
	const char *v[2] = { pg_i64(a, c->loaded_max[kind]), pg_i64(b, 1000000) };
	PGresult *r;
	int rows;

	r = pg_exec(s, (unsigned)I_LOAD_POLICY + (unsigned)kind, sql_load[kind], 2, v, NULL, NULL,
	            "load ids", e);
	if (r == NULL)
		return code_of(e);
	rows = PQntuples(r);
	for (int i = 0; i < rows && !c->full[kind]; i++) {
		struct span key = span_make(PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1));
		uint64_t h = hash_bytes(key.p, key.len, (uint64_t)kind);
		int64_t id = pg_col_i64(r, i, 0);

		if (hmap_find(&c->keys[kind], h, keq, &key) == NULL)
			add_key(c, kind, key, h, id, NULL, span_make(NULL, 0));
		if (id > c->loaded_max[kind])
			c->loaded_max[kind] = id;
	}
	PQclear(r);
	c->loaded_tx[kind] = true;
	return 0;
}

/* The cache is full: INSERT ... DO NOTHING RETURNING id, else SELECT id (round trips). */
static int
intern_sync(struct store_pg *s, int kind, struct span key, const char *type, struct span pdomain,
            int64_t *id, struct err *e)
{
	char *k = xstrndup(key.p != NULL ? key.p : "", key.len);
	char *d = xstrndup(pdomain.p != NULL ? pdomain.p : "", pdomain.len);
	const char *v[3] = { k, type, d };
	PGresult *r;
	int rc = 0;

	*id = 0;
	for (int step = 0; step < 2 && *id == 0 && rc == 0; step++) {
		unsigned slot = (unsigned)(step == 0 ? I_SYNC_INS_POLICY : I_SYNC_SEL_POLICY) +
		                2u * (unsigned)kind;
		const char *sql = step == 0 ? sql_sync_ins[kind] : sql_sync_sel[kind];
		r = pg_exec(s, slot, sql, step == 0 ? 3 - kind : 1, v, NULL, NULL, "id lookup", e);
		if (r == NULL) {
			rc = code_of(e);
			break;
		}
		if (PQntuples(r) == 1)
			*id = pg_col_i64(r, 0, 0);
		PQclear(r);
	}
	if (rc == 0 && *id == 0)
		rc = err_set(e, ERR_IO, "%s: id lookup: row vanished", s->where);
	free(k);
	free(d);
	return rc;
}

int
pg_ids_intern(struct store_pg *s, int kind, struct span key, const char *type, struct span pdomain,
              int64_t *id, struct err *e)
{
	struct pg_cache *c = cache_of(s);
	uint64_t h;
	struct kentry *k;
	int64_t nid;
	int rc;

	if (key.p == NULL)
		key = span_make("", 0);
	h = hash_bytes(key.p, key.len, (uint64_t)kind);
	k = hmap_find(&c->keys[kind], h, keq, &key);
	if (k == NULL && !c->loaded_tx[kind] && !c->full[kind]) {
		rc = load_keys(s, kind, e);
		if (rc)
			return rc;
		k = hmap_find(&c->keys[kind], h, keq, &key);
	}
	if (k != NULL) {
		*id = k->id;
		return 0;
	}
	if (c->full[kind])
		return intern_sync(s, kind, key, type, pdomain, id, e);
	rc = next_id(s, kind, &nid, e);
	if (rc)
		return rc;
	k = add_key(c, kind, key, h, nid, type, pdomain);
	k->tx = true;
	push_ptr((void ***)&c->txk[kind], &c->ntxk[kind], &c->captxk[kind], k);
	*id = nid;
	return 0;
}

/* ------------------------------------------------------------------ commit */

/* Appends one element to a text[] literal: quoted, " and \ escaped. */
static void
arr_text(struct buf *b, const char *p, size_t n)
{
	if (b->len > 1)
		buf_putc(b, ',');
	buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			buf_putc(b, '\\');
		buf_putc(b, p[i]);
	}
	buf_putc(b, '"');
}

static void
arr_i64(struct buf *b, int64_t v)
{
	buf_printf(b, "%s%" PRId64, b->len > 1 ? "," : "", v);
}

static void
arrs_open(struct buf *a, int n)
{
	for (int i = 0; i < n; i++) {
		buf_reset(&a[i]);
		buf_putc(&a[i], '{');
	}
}

static int
arrs_close(struct store_pg *s, struct buf *a, int n, const char **v, struct err *e)
{
	for (int i = 0; i < n; i++) {
		if (buf_putc(&a[i], '}') != 0)
			return err_set(e, ERR_TOOBIG, "%s: batch too large", s->where);
		v[i] = buf_cstr(&a[i]);
	}
	return 0;
}

static int
cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
}

static int
cmp_kentry(const void *x, const void *y)
{
	const struct kentry *a = *(struct kentry *const *)x, *b = *(struct kentry *const *)y;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->data, b->data, n);

	return c ? c : (a->len > b->len) - (a->len < b->len);
}

static int
cmp_wentry(const void *x, const void *y)
{
	const struct wentry *a = *(struct wentry *const *)x, *b = *(struct wentry *const *)y;

	if (a->period != b->period)
		return a->period < b->period ? -1 : 1;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	size_t n = a->dlen + a->rlen < b->dlen + b->rlen ? a->dlen + a->rlen : b->dlen + b->rlen;
	int c = memcmp(a->data, b->data, n); /* domain then record: a total order */
	if (c)
		return c;
	if (a->dlen != b->dlen)
		return a->dlen < b->dlen ? -1 : 1;
	return (a->rlen > b->rlen) - (a->rlen < b->rlen);
}

static void
add_remap(struct pg_cache *c, int kind, int64_t from, int64_t to)
{
	struct remap key = { kind, from, to };
	uint64_t h = remap_hash(kind, from);
	struct remap *m = hmap_find(&c->remap, h, remap_eq, &key);

	if (m != NULL) {
		m->to = to;
		return;
	}
	m = xmalloc(sizeof(*m));
	*m = key;
	hmap_insert(&c->remap, h, m);
}

static int64_t
remapped(const struct pg_cache *c, int kind, int64_t id)
{
	struct remap key = { kind, id, 0 };
	const struct remap *m = hmap_find(&c->remap, remap_hash(kind, id), remap_eq, &key);

	return m != NULL ? m->to : id;
}

/* Sorted ids of a result's first column, for bsearch. */
static int64_t *
sorted_ids(const PGresult *r, size_t *n)
{
	int rows = PQntuples(r);
	int64_t *v = xmalloc(((size_t)rows + 1) * sizeof(*v));

	for (int i = 0; i < rows; i++)
		v[i] = pg_col_i64(r, i, 0);
	qsort(v, (size_t)rows, sizeof(*v), cmp_i64);
	*n = (size_t)rows;
	return v;
}

/* Inserts this transaction's new policies or details; renumbers what others created. */
static int
create_keys(struct store_pg *s, int kind, struct buf *a, struct err *e)
{
	struct pg_cache *c = s->cache;
	struct kentry **v = c->txk[kind] + c->sentk[kind];
	size_t n = c->ntxk[kind] - c->sentk[kind];
	int ncols = kind == K_POLICY ? 4 : 3;
	int rc = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_kentry);
	for (size_t at = 0; at < n && rc == 0; at += BATCH) {
		size_t end = at + BATCH < n ? at + BATCH : n, nret = 0, nlost = 0;
		const char *vals[4];
		PGresult *r;
		int64_t *ret;

		arrs_open(a, ncols);
		for (size_t i = at; i < end; i++) {
			arr_i64(&a[0], v[i]->id);
			arr_text(&a[1], v[i]->data, v[i]->len);
			arr_text(&a[2], v[i]->type, strlen(v[i]->type));
			if (kind == K_POLICY)
				arr_text(&a[3], v[i]->pdomain, strlen(v[i]->pdomain));
		}
		rc = arrs_close(s, a, ncols, vals, e);
		if (rc)
			break;
		r = pg_exec(s, (unsigned)I_INS_POLICY + (unsigned)kind, sql_ins[kind], ncols, vals,
		            NULL, NULL, kind == K_POLICY ? "insert policies" : "insert details", e);
		if (r == NULL)
			return code_of(e);
		ret = sorted_ids(r, &nret);
		PQclear(r);
		arrs_open(a, 2);
		for (size_t i = at; i < end; i++) {
			v[i]->sent = true;
			if (bsearch(&v[i]->id, ret, nret, sizeof(*ret), cmp_i64) != NULL)
				continue;
			arr_i64(&a[0], v[i]->id);
			arr_text(&a[1], v[i]->data, v[i]->len);
			nlost++;
		}
		free(ret);
		if (nlost == 0)
			continue;
		/* another host inserted some of these keys first: use its ids */
		rc = arrs_close(s, a, 2, vals, e);
		if (rc)
			break;
		r = pg_exec(s, (unsigned)I_GET_POLICY + (unsigned)kind, sql_get[kind], 2, vals,
		            NULL, NULL, "look up ids", e);
		if (r == NULL)
			return code_of(e);
		size_t found = (size_t)PQntuples(r);
		for (size_t i = 0; i < found; i++)
			add_remap(c, kind, pg_col_i64(r, (int)i, 0), pg_col_i64(r, (int)i, 1));
		PQclear(r);
		for (size_t i = at; i < end; i++) {
			int64_t to = remapped(c, kind, v[i]->id);
			if (to != v[i]->id) {
				v[i]->id = to;
				v[i]->tx = false; /* committed by the other host */
			}
		}
		if (found < nlost)
			rc = err_set(e, ERR_AGAIN, "%s: a new id row vanished; retry", s->where);
	}
	c->sentk[kind] = c->ntxk[kind];
	return rc;
}

/* Inserts this transaction's new windows; takes over the ones another host created. */
static int
create_windows(struct store_pg *s, struct buf *a, bool *stale, struct err *e)
{
	struct pg_cache *c = s->cache;
	struct wentry **v = c->txw + c->sentw;
	size_t n = c->ntxw - c->sentw;
	int rc = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_wentry);
	for (size_t at = 0; at < n && rc == 0; at += BATCH) {
		size_t end = at + BATCH < n ? at + BATCH : n, nret = 0, nlost = 0;
		const char *vals[6];
		PGresult *r;
		int64_t *ret;

		arrs_open(a, 6);
		for (size_t i = at; i < end; i++) {
			arr_i64(&a[0], v[i]->id);
			arr_i64(&a[1], v[i]->period);
			arr_i64(&a[2], v[i]->start);
			arr_text(&a[3], v[i]->data, v[i]->dlen);
			arr_text(&a[4], v[i]->data + v[i]->dlen, v[i]->rlen);
			arr_i64(&a[5],
			        v[i]->start + window_length((enum window_period)v[i]->period));
		}
		rc = arrs_close(s, a, 6, vals, e);
		if (rc)
			break;
		r = pg_exec(s, I_INS_WINDOW, sql_ins[K_WINDOW], 6, vals, NULL, NULL,
		            "insert windows", e);
		if (r == NULL)
			return code_of(e);
		ret = sorted_ids(r, &nret);
		PQclear(r);
		arrs_open(a, 5);
		for (size_t i = at; i < end; i++) {
			v[i]->sent = true;
			if (bsearch(&v[i]->id, ret, nret, sizeof(*ret), cmp_i64) != NULL)
				continue;
			arr_i64(&a[0], v[i]->id);
			arr_i64(&a[1], v[i]->period);
			arr_i64(&a[2], v[i]->start);
			arr_text(&a[3], v[i]->data, v[i]->dlen);
			arr_text(&a[4], v[i]->data + v[i]->dlen, v[i]->rlen);
			nlost++;
		}
		free(ret);
		if (nlost == 0)
			continue;
		rc = arrs_close(s, a, 5, vals, e);
		if (rc)
			break;
		r = pg_exec(s, I_GET_WINDOW, sql_get[K_WINDOW], 5, vals, NULL, NULL,
		            "look up windows", e);
		if (r == NULL)
			return code_of(e);
		size_t found = (size_t)PQntuples(r);
		int64_t(*got)[3] = xmalloc((found + 1) * sizeof(*got)); /* ours, theirs, state */
		for (size_t i = 0; i < found; i++) {
			got[i][0] = pg_col_i64(r, (int)i, 0);
			got[i][1] = pg_col_i64(r, (int)i, 1);
			got[i][2] = pg_col_i64(r, (int)i, 2);
			add_remap(c, K_WINDOW, got[i][0], got[i][1]);
		}
		PQclear(r);
		qsort(got, found, sizeof(*got), cmp_i64);
		for (size_t j = at; j < end; j++) {
			int64_t(*hit)[3] = bsearch(&v[j]->id, got, found, sizeof(*got), cmp_i64);
			if (hit == NULL)
				continue;
			v[j]->id = (*hit)[1];
			v[j]->state = (int)(*hit)[2];
			v[j]->tx = false; /* the other host's row */
			if (v[j]->state != STORE_WINDOW_OPEN)
				*stale = true;
		}
		free(got);
		if (found < nlost)
			rc = err_set(e, ERR_AGAIN, "%s: a new window vanished; retry", s->where);
	}
	c->sentw = c->ntxw;
	return rc;
}

static void learn_states(struct pg_cache *c, const PGresult *r, const int64_t *bad, size_t nbad);

/* Locks the windows handed out as open and checks they still are. */
static int
check_told(struct store_pg *s, struct buf *a, bool *stale, struct err *e)
{
	struct pg_cache *c = s->cache;
	int64_t *v = c->told + c->checked, *open, *bad;
	size_t n = c->ntold - c->checked, m = 0, nopen = 0, nbad = 0;
	const char *vals[1];
	PGresult *r;
	int rc;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_i64);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || v[m - 1] != v[i])
			v[m++] = v[i];
	c->ntold = c->checked + m;
	c->checked = c->ntold;
	arrs_open(a, 1);
	for (size_t i = 0; i < m; i++)
		arr_i64(&a[0], v[i]);
	rc = arrs_close(s, a, 1, vals, e);
	if (rc)
		return rc;
	r = pg_exec(s, I_CHECK, sql_check, 1, vals, NULL, NULL, "check windows", e);
	if (r == NULL)
		return code_of(e);
	open = sorted_ids(r, &nopen);
	PQclear(r);
	if (nopen == m) {
		free(open);
		return 0;
	}
	/* reported (or purged) since the cache learnt them: learn their state now */
	arrs_open(a, 1);
	bad = xmalloc(m * sizeof(*bad));
	for (size_t i = 0; i < m; i++)
		if (bsearch(&v[i], open, nopen, sizeof(*open), cmp_i64) == NULL) {
			arr_i64(&a[0], v[i]);
			bad[nbad++] = v[i];
		}
	free(open);
	*stale = true;
	rc = arrs_close(s, a, 1, vals, e);
	r = rc ? NULL : pg_exec(s, I_STATES, sql_states, 1, vals, NULL, NULL, "window states", e);
	if (r != NULL) {
		learn_states(c, r, bad, nbad);
		PQclear(r);
	} else if (rc == 0) {
		rc = code_of(e);
	}
	free(bad);
	return rc;
}

static int
cmp_pair(const void *x, const void *y)
{
	return cmp_i64(x, y); /* by the first member, the id */
}

/* The cache takes the states in r (id, state) of the windows bad[nbad] (sorted) it had
 * as open; those missing from r were purged and are forgotten. */
static void
learn_states(struct pg_cache *c, const PGresult *r, const int64_t *bad, size_t nbad)
{
	size_t n = (size_t)PQntuples(r), ngone = 0, capgone = 0;
	int64_t(*st)[2] = xmalloc((n + 1) * sizeof(*st));
	struct wentry **gone = NULL;
	void *item;

	for (size_t i = 0; i < n; i++) {
		st[i][0] = pg_col_i64(r, (int)i, 0);
		st[i][1] = pg_col_i64(r, (int)i, 1);
	}
	qsort(st, n, sizeof(*st), cmp_pair);
	for (size_t i = 0; hmap_next(&c->win, &i, &item);) {
		struct wentry *w = item;
		int64_t(*hit)[2];

		if (w->tx || w->state != STORE_WINDOW_OPEN ||
		    bsearch(&w->id, bad, nbad, sizeof(*bad), cmp_i64) == NULL)
			continue;
		hit = bsearch(&w->id, st, n, sizeof(*st), cmp_pair);
		if (hit != NULL)
			w->state = (int)(*hit)[1];
		else
			push_ptr((void ***)&gone, &ngone, &capgone, w);
	}
	for (size_t i = 0; i < ngone; i++) {
		hmap_remove(&c->win, gone[i]->hash, same_item, gone[i]);
		c->win_bytes -= sizeof(*gone[i]) + gone[i]->dlen + gone[i]->rlen;
		free(gone[i]);
	}
	free(gone);
	free(st);
}

int
pg_ids_apply(struct store_pg *s, struct err *e)
{
	struct pg_cache *c = s->cache;
	struct buf a[6];
	bool stale = false;
	int rc = 0;

	if (c == NULL)
		return 0;
	if (c->ntxk[0] == c->sentk[0] && c->ntxk[1] == c->sentk[1] && c->ntxw == c->sentw &&
	    c->ntold == c->checked && c->remap.count == 0)
		return 0;
	for (int i = 0; i < 6; i++)
		buf_init(&a[i], ARRAY_MAX);
	rc = create_keys(s, K_POLICY, a, e);
	if (rc == 0)
		rc = create_keys(s, K_DETAIL, a, e);
	if (rc == 0)
		rc = create_windows(s, a, &stale, e);
	if (rc == 0)
		rc = check_told(s, a, &stale, e);
	for (int i = 0; i < 6; i++)
		buf_clear(&a[i]);
	if (rc)
		return rc;
	if (stale)
		return err_set(e, ERR_AGAIN,
		               "%s: a window of this flush was reported meanwhile; flushing again "
		               "into the next open window",
		               s->where);
	if (c->remap.count > 0)
		for (int kind = 0; kind < 2; kind++)
			for (size_t i = 0; i < s->npend[kind]; i++) {
				struct delta *d = &s->pend[kind][i];
				d->w = remapped(c, K_WINDOW, d->w);
				d->p = remapped(c, K_POLICY, d->p);
				if (kind == 1)
					d->d = remapped(c, K_DETAIL, d->d);
			}
	return 0;
}
