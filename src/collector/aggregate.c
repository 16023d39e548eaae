/*
 * aggregate.c - in-memory counters of TLS results.  See aggregate.h.
 *
 * Counting follows ../shared/spec/libtlsrpt-datagram.md: a policy with "f":0 adds one
 * successful session, with "f":1 one failed session, and each failure detail adds one
 * to that detail's failed-session-count (RFC 8460 section 4.4).  Canonical JSON of
 * policies and details uses the RFC 8460 section 4.3/4.4 member names so that the
 * report generator can embed it.
 *
 * Threading: not thread-safe; one owner.
 */
#include "collector/aggregate.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/hash.h"
#include "util/xalloc.h"

struct aggregate {
	struct hmap items; /* struct agg_item, by (kind, bytes) */
	struct hmap sess;  /* struct agg_sess */
	struct hmap fails; /* struct agg_fail_entry */
	size_t item_bytes;
	size_t ctr_bytes;
	uint64_t gen;
	struct buf scratch; /* canonical JSON being built */
};

struct fail_entry {
	struct agg_fail f; /* first: the list links these */
	struct agg_sess *sess;
};

enum item_kind { KIND_DOMAIN = 1, KIND_RECORD, KIND_POLICY, KIND_DETAIL };

struct item_key {
	int kind;
	struct span s;
};

static bool
item_eq(const void *item, const void *key)
{
	const struct agg_item *it = item;
	const struct item_key *k = key;

	/* the kind is folded into the hash and stored in the first byte of data[len+1] */
	return it->len == k->s.len && (unsigned char)it->data[it->len + 1] == k->kind &&
	       memcmp(it->data, k->s.p, k->s.len) == 0;
}

static struct agg_item *
intern(struct aggregate *a, int kind, struct span s, bool *created)
{
	struct item_key k = { kind, s };
	uint64_t h = hash_bytes(s.p, s.len, (uint64_t)kind * 0x9E3779B97F4A7C15ull);
	struct agg_item *it = hmap_find(&a->items, h, item_eq, &k);

	*created = false;
	if (it != NULL)
		return it;
	it = xmalloc(sizeof(*it) + s.len + 2);
	it->hash = h;
	it->store_id = 0;
	it->store_gen = 0;
	it->kind_code = 0;
	it->extra = span_make(NULL, 0);
	it->user = -1;
	it->last = NULL;
	it->len = s.len;
	if (s.len)
		memcpy(it->data, s.p, s.len);
	it->data[s.len] = '\0';
	it->data[s.len + 1] = (char)kind;
	hmap_insert(&a->items, h, it);
	a->item_bytes += sizeof(*it) + s.len + 2 + 16;
	*created = true;
	return it;
}

struct aggregate *
aggregate_new(void)
{
	struct aggregate *a = xcalloc(1, sizeof(*a));

	hmap_init(&a->items);
	hmap_init(&a->sess);
	hmap_init(&a->fails);
	buf_init(&a->scratch, 4 * (size_t)DG_MAX_SIZE);
	a->gen = 1;
	return a;
}

void
aggregate_clear_counts(struct aggregate *a)
{
	void *p;

	for (size_t i = 0; hmap_next(&a->fails, &i, &p);)
		free(p);
	for (size_t i = 0; hmap_next(&a->sess, &i, &p);)
		free(p);
	hmap_clear(&a->fails);
	hmap_clear(&a->sess);
	hmap_init(&a->fails);
	hmap_init(&a->sess);
	a->ctr_bytes = 0;
}

void
aggregate_reset(struct aggregate *a)
{
	void *p;

	aggregate_clear_counts(a);
	for (size_t i = 0; hmap_next(&a->items, &i, &p);)
		free(p);
	hmap_clear(&a->items);
	hmap_init(&a->items);
	a->item_bytes = 0;
}

void
aggregate_free(struct aggregate *a)
{
	if (a == NULL)
		return;
	aggregate_reset(a);
	buf_clear(&a->scratch);
	free(a);
}

uint64_t
aggregate_id_gen(const struct aggregate *a)
{
	return a->gen;
}

void
aggregate_invalidate_ids(struct aggregate *a)
{
	a->gen++;
}

size_t
aggregate_count(const struct aggregate *a)
{
	return a->sess.count;
}

size_t
aggregate_bytes(const struct aggregate *a)
{
	return a->item_bytes + a->ctr_bytes +
	       (a->items.cap + a->sess.cap + a->fails.cap) * sizeof(struct hmap_slot);
}

bool
aggregate_next(const struct aggregate *a, size_t *pos, struct agg_sess **s)
{
	void *p;

	if (!hmap_next(&a->sess, pos, &p))
		return false;
	*s = p;
	return true;
}

/* ---------------------------------------------------------------- canonical JSON */

static void
put_str(struct buf *b, struct span s)
{
	static const char hex[] = "0123456789abcdef";
	const char *p = s.p, *run = s.p, *end = s.p + s.len;

	buf_putc(b, '"');
	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;
		char esc[6];
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		buf_append(b, run, (size_t)(p - run));
		run = p + 1;
		esc[0] = '\\';
		switch (c) {
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		buf_append(b, esc, n);
	}
	buf_append(b, run, (size_t)(p - run));
	buf_putc(b, '"');
}

static void
put_list(struct buf *b, const char *name, const struct datagram *dg, unsigned first, unsigned n)
{
	buf_append_str(b, ",\"");
	buf_append_str(b, name);
	buf_append_str(b, "\":[");
	for (unsigned i = 0; i < n; i++) {
		if (i)
			buf_putc(b, ',');
		put_str(b, dg->strings[first + i]);
	}
	buf_putc(b, ']');
}

static struct agg_item *
intern_policy(struct aggregate *a, const struct datagram *dg, const struct dg_policy *pol)
{
	struct buf *b = &a->scratch;
	struct agg_item *it;
	bool created;

	buf_reset(b);
	buf_append_str(b, "{\"policy-type\":\"");
	buf_append_str(b, datagram_policy_type_name(pol->type));
	buf_putc(b, '"');
	if (pol->nstrings)
		put_list(b, "policy-string", dg, pol->first_string, pol->nstrings);
	buf_append_str(b, ",\"policy-domain\":");
	put_str(b, pol->domain);
	if (pol->nmx)
		put_list(b, "mx-host", dg, pol->first_mx, pol->nmx);
	buf_putc(b, '}');
	it = intern(a, KIND_POLICY, buf_span(b), &created);
	if (created) {
		it->kind_code = pol->type;
		/* the raw policy-domain, for the store's column */
		struct agg_item *dom = intern(a, KIND_DOMAIN, pol->domain, &created);
		it->extra = span_make(dom->data, dom->len);
	}
	return it;
}

static struct agg_item *
intern_detail(struct aggregate *a, const struct dg_detail *d)
{
	struct buf *b = &a->scratch;
	struct agg_item *it;
	bool created;

	buf_reset(b);
	buf_append_str(b, "{\"result-type\":\"");
	buf_append_str(b, datagram_result_name(d->code));
	buf_putc(b, '"');
	for (int f = 0; f < DG_F_COUNT_; f++) {
		if (d->field[f].p == NULL)
			continue;
		buf_append_str(b, ",\"");
		buf_append_str(b, datagram_field_name((enum dg_field)f));
		buf_append_str(b, "\":");
		put_str(b, d->field[f]);
	}
	buf_putc(b, '}');
	it = intern(a, KIND_DETAIL, buf_span(b), &created);
	if (created)
		it->kind_code = d->code;
	return it;
}

/* ---------------------------------------------------------------- counters */

struct sess_key {
	int64_t start;
	enum window_period period;
	const struct agg_item *domain, *record, *policy;
};

static bool
sess_eq(const void *item, const void *key)
{
	const struct agg_sess *s = item;
	const struct sess_key *k = key;

	return s->start == k->start && s->period == k->period && s->domain == k->domain &&
	       s->record == k->record && s->policy == k->policy;
}

struct fail_key {
	const struct agg_sess *sess;
	const struct agg_item *detail;
};

static bool
fail_eq(const void *item, const void *key)
{
	const struct fail_entry *f = item;
	const struct fail_key *k = key;

	return f->sess == k->sess && f->f.detail == k->detail;
}

struct agg_item *
aggregate_domain(struct aggregate *a, struct span domain)
{
	bool created;

	return intern(a, KIND_DOMAIN, domain, &created);
}

/* The session counter of a key, created (zero) when new. */
static struct agg_sess *
sess_get(struct aggregate *a, enum window_period period, int64_t start, struct agg_item *domain,
         struct agg_item *record, struct agg_item *policy)
{
	struct sess_key k = { start, period, domain, record, policy };
	uint64_t h = hash_mix(hash_mix(hash_mix((uint64_t)start, (uint64_t)period), domain->hash),
	                      hash_mix(record->hash, policy->hash));
	struct agg_sess *s = hmap_find(&a->sess, h, sess_eq, &k);

	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		s->start = start;
		s->period = period;
		s->domain = domain;
		s->record = record;
		s->policy = policy;
		hmap_insert(&a->sess, h, s);
		a->ctr_bytes += sizeof(*s) + 16;
	}
	return s;
}

/* The failure counter of detail under session counter s, created (zero) when new. */
static struct agg_fail *
fail_get(struct aggregate *a, struct agg_sess *s, struct agg_item *detail)
{
	struct fail_key fk = { s, detail };
	uint64_t fh = hash_mix((uint64_t)(uintptr_t)s, detail->hash);
	struct fail_entry *fe = hmap_find(&a->fails, fh, fail_eq, &fk);

	if (fe == NULL) {
		fe = xcalloc(1, sizeof(*fe));
		fe->sess = s;
		fe->f.detail = detail;
		fe->f.next = s->fails;
		s->fails = &fe->f;
		hmap_insert(&a->fails, fh, fe);
		a->ctr_bytes += sizeof(*fe) + 16;
	}
	return &fe->f;
}

void
aggregate_add(struct aggregate *a, enum window_period period, int64_t start,
              struct agg_item *domain, const struct datagram *dg, const struct dg_policy *pol)
{
	struct agg_item *record;
	struct agg_sess *s;
	bool created;

	/* a domain nearly always comes with the same record: skip the lookup then */
	if (domain->last != NULL && domain->last->len == dg->record.len &&
	    memcmp(domain->last->data, dg->record.p, dg->record.len) == 0) {
		record = domain->last;
	} else {
		domain->last = intern(a, KIND_RECORD, dg->record, &created);
		record = domain->last;
	}
	s = sess_get(a, period, start, domain, record, intern_policy(a, dg, pol));
	if (pol->failed)
		s->failure++;
	else
		s->success++;
	for (unsigned i = 0; i < pol->ndetails; i++)
		fail_get(a, s, intern_detail(a, &dg->detail[pol->first_detail + i]))->count++;
}

/* The item of dst equal to src's item it (same kind and bytes), copied when new. */
static struct agg_item *
intern_copy(struct aggregate *dst, const struct agg_item *it)
{
	int kind = (unsigned char)it->data[it->len + 1];
	bool created;
	struct agg_item *n = intern(dst, kind, span_make(it->data, it->len), &created);

	if (created) {
		n->kind_code = it->kind_code;
		n->user = it->user;
		if (kind == KIND_POLICY) {
			/* extra points into an interned domain of the same aggregate */
			struct agg_item *d = intern(dst, KIND_DOMAIN, it->extra, &created);
			n->extra = span_make(d->data, d->len);
		}
	}
	return n;
}

/* Adds one session counter of another aggregate (with its failure counters) to a. */
static void
merge_sess(struct aggregate *a, const struct agg_sess *from)
{
	struct agg_sess *s = sess_get(a, from->period, from->start, intern_copy(a, from->domain),
	                              intern_copy(a, from->record), intern_copy(a, from->policy));

	s->success += from->success;
	s->failure += from->failure;
	for (const struct agg_fail *f = from->fails; f; f = f->next)
		fail_get(a, s, intern_copy(a, f->detail))->count += f->count;
}

void
aggregate_merge(struct aggregate *dst, const struct aggregate *src)
{
	void *p;

	for (size_t i = 0; hmap_next(&src->sess, &i, &p);)
		merge_sess(dst, p);
}

/* Oldest window first; then by period, domain, record and policy (a stable order). */
static int
age_cmp(const void *x, const void *y)
{
	const struct agg_sess *a = *(const struct agg_sess *const *)x;
	const struct agg_sess *b = *(const struct agg_sess *const *)y;
	int c;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->period != b->period)
		return a->period < b->period ? -1 : 1;
	if ((c = strcmp(a->domain->data, b->domain->data)) != 0)
		return c;
	if ((c = strcmp(a->record->data, b->record->data)) != 0)
		return c;
	return strcmp(a->policy->data, b->policy->data);
}

/* Exchanges the contents of two aggregates. */
static void
swap_aggregates(struct aggregate *a, struct aggregate *b)
{
	struct aggregate t = *a;

	*a = *b;
	*b = t;
}

void
aggregate_drop_oldest(struct aggregate *a, size_t target, struct aggregate_dropped *out)
{
	size_t n = a->sess.count, keep;
	struct aggregate *kept;
	struct agg_sess **v;
	void *p;

	memset(out, 0, sizeof(*out));
	if (aggregate_bytes(a) <= target || n == 0)
		return;
	v = xmalloc(n * sizeof(*v));
	n = 0;
	for (size_t i = 0; hmap_next(&a->sess, &i, &p);)
		v[n++] = p;
	qsort(v, n, sizeof(*v), age_cmp);
	/* keep the newest counters that fit: first estimated at the average size */
	keep = target / (aggregate_bytes(a) / n + 1);
	if (keep >= n)
		keep = n - 1;
	for (;;) {
		size_t got, next;

		kept = aggregate_new();
		for (size_t i = n - keep; i < n; i++)
			merge_sess(kept, v[i]);
		got = aggregate_bytes(kept);
		if (got <= target || keep == 0)
			break;
		aggregate_free(kept);
		next = (size_t)((double)keep * (double)target / (double)got);
		keep = next < keep ? next : keep - 1;
	}
	for (size_t i = 0; i < n - keep; i++) {
		out->sessions += v[i]->success + v[i]->failure;
		out->counters++;
	}
	out->oldest_start = v[0]->start;
	out->newest_start = v[n - keep - 1]->start;
	free(v);
	swap_aggregates(a, kept);
	aggregate_free(kept);
}
