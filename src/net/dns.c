/*
 * dns.c - DNS lookups (TXT, MX, A/AAAA, TLSA) over libunbound with an answer cache.
 *
 * Used by report delivery: the `_smtp._tls` TXT record (RFC 8460 section 3: each
 * record's strings are joined without spaces), MX hosts for mailto: rua addresses
 * (RFC 5321 section 5.1, null MX RFC 7505) and their addresses, TLSA for `tlsrpt dns
 * check`.  Record data comes from the network and is parsed with bounds checks only;
 * a malformed record is skipped with a log line, never trusted.
 *
 * The cache keeps positive and negative (NXDOMAIN, no data) answers until their TTL,
 * clamped to [min_ttl, max_ttl], runs out on the injectable clock.  SERVFAIL and bogus
 * answers are not cached (libunbound keeps its own short-lived cache underneath).  When
 * the cache is full, expired answers go first, then the one closest to expiry.
 *
 * Threading: see dns.h.  The ub_ctx is shared by threads (libunbound allows blocking
 * ub_resolve() from several threads on one context); the cache has a mutex.
 */
#include "net/dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unbound.h>
#include <unistd.h>

#include "util/file.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/str.h"
#include "util/xalloc.h"

struct cache_entry {
	char key_name[DNS_NAME_MAX];
	int key_type;
	int64_t expires;
	struct dns_answer *ans;
};

struct cache_key {
	const char *name;
	int type;
};

struct dns {
	struct ub_ctx *ctx;
	struct dns_opts opts;
	pthread_mutex_t lock; /* guards cache */
	struct hmap cache;
};

void
dns_opts_default(struct dns_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = DNS_MODE_FORWARD;
	o->cache_max = 4096;
	o->min_ttl = 5;
	o->max_ttl = 86400;
	o->negative_ttl = 300;
	o->negative_max_ttl = 3600;
}

const char *
dns_rcode_name(int rcode)
{
	static const char *const names[] = { "NOERROR",  "FORMERR", "SERVFAIL",
		                             "NXDOMAIN", "NOTIMP",  "REFUSED" };
	if (rcode >= 0 && rcode < (int)(sizeof(names) / sizeof(names[0])))
		return names[rcode];
	return "RCODE-OTHER";
}

const char *
dns_sec_name(enum dns_sec sec)
{
	switch (sec) {
	case DNS_SEC_SECURE:
		return "secure";
	case DNS_SEC_BOGUS:
		return "bogus";
	case DNS_SEC_INSECURE:
		break;
	}
	return "insecure";
}

static int
ub_fail(struct err *e, int rc, const char *what)
{
	return err_set(e, ERR_INVALID, "dns: %s: %s", what, ub_strerror(rc));
}

struct dns *
dns_new(const struct dns_opts *opts, struct err *e)
{
	struct dns *dns = xcalloc(1, sizeof(*dns));
	int rc = 0;

	dns->opts = *opts;
	pthread_mutex_init(&dns->lock, NULL);
	hmap_init(&dns->cache);
	dns->ctx = ub_ctx_create();
	if (!dns->ctx) {
		err_set(e, ERR_NOMEM, "dns: cannot create the libunbound context");
		goto fail;
	}
	switch (opts->mode) {
	case DNS_MODE_FORWARD: {
		const char *rc_file = opts->resolv_conf ? opts->resolv_conf : "/etc/resolv.conf";
		const char *hosts = opts->hosts_file ? opts->hosts_file : "/etc/hosts";

		rc = ub_ctx_resolvconf(dns->ctx, rc_file);
		if (rc) {
			ub_fail(e, rc, rc_file);
			goto fail;
		}
		if (*hosts) {
			rc = ub_ctx_hosts(dns->ctx, hosts);
			if (rc) {
				ub_fail(e, rc, hosts);
				goto fail;
			}
		}
		if (opts->trust_anchor_file) {
			if (access(opts->trust_anchor_file, R_OK) != 0) {
				err_set(e, ERR_IO, "dns: trust anchor %s: %s",
				        opts->trust_anchor_file, strerror(errno));
				goto fail;
			}
			rc = ub_ctx_add_ta_file(dns->ctx, opts->trust_anchor_file);
			if (rc) {
				ub_fail(e, rc, opts->trust_anchor_file);
				goto fail;
			}
		}
		break;
	}
	case DNS_MODE_RECURSIVE: {
		const char *ta = opts->trust_anchor_file ? opts->trust_anchor_file
		                                         : "/usr/share/dns/root.key";
		/* libunbound reads the file only at the first query: check it now. */
		if (access(ta, R_OK) != 0) {
			err_set(e, ERR_IO, "dns: trust anchor %s: %s", ta, strerror(errno));
			goto fail;
		}
		rc = ub_ctx_add_ta_file(dns->ctx, ta);
		if (rc) {
			ub_fail(e, rc, ta);
			goto fail;
		}
		break;
	}
	case DNS_MODE_LOCAL:
		/*
		 * Nothing may leave the process: every name is in the static root zone
		 * (unknown names are NXDOMAIN), and should a transparent zone pass a
		 * query on, the only forwarder is a loopback address that
		 * do-not-query-localhost forbids, so it fails at once with SERVFAIL.
		 */
		rc = ub_ctx_set_option(dns->ctx, "do-not-query-localhost:", "yes");
		if (!rc)
			rc = ub_ctx_set_fwd(dns->ctx, "127.0.0.1@9");
		if (!rc)
			rc = ub_ctx_zone_add(dns->ctx, ".", "static");
		if (rc) {
			ub_fail(e, rc, "local mode");
			goto fail;
		}
		break;
	default:
		err_set(e, ERR_INVALID, "dns: unknown mode %d", (int)opts->mode);
		goto fail;
	}
	return dns;
fail:
	dns_free(dns);
	return NULL;
}

void
dns_free(struct dns *dns)
{
	if (!dns)
		return;
	dns_cache_flush(dns);
	hmap_clear(&dns->cache);
	if (dns->ctx)
		ub_ctx_delete(dns->ctx);
	pthread_mutex_destroy(&dns->lock);
	free(dns);
}

int
dns_add_local_zone(struct dns *dns, const char *zone, const char *type, struct err *e)
{
	int rc = ub_ctx_zone_add(dns->ctx, zone, type);

	if (rc)
		return err_set(e, ERR_INVALID, "dns: local zone %s %s: %s", zone, type,
		               ub_strerror(rc));
	return 0;
}

int
dns_add_local_data(struct dns *dns, const char *rr, struct err *e)
{
	int rc = ub_ctx_data_add(dns->ctx, rr);

	if (rc)
		return err_set(e, ERR_INVALID, "dns: local data \"%s\": %s", rr, ub_strerror(rc));
	return 0;
}

int
dns_add_local_file(struct dns *dns, const char *path, struct err *e)
{
	struct buf b;
	size_t lineno = 0;
	int rc;

	buf_init(&b, 16 << 20);
	rc = file_read(path, &b, e);
	if (rc != 0) {
		buf_clear(&b);
		return err_prefix(e, "%s", path);
	}
	char *p = b.data ? b.data : (char *)"", *end = p + b.len;
	while (rc == 0 && p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *next = nl ? nl + 1 : end;

		if (nl)
			*nl = '\0';
		lineno++;
		struct span line = span_trim(span_cstr(p));
		if (line.len > 0 && line.p[0] != '#' && line.p[0] != ';') {
			((char *)line.p)[line.len] = '\0'; /* drops a trailing CR or blanks */
			rc = dns_add_local_data(dns, line.p, e);
			if (rc != 0)
				err_prefix(e, "%s:%zu", path, lineno);
		}
		p = next;
	}
	buf_clear(&b);
	return rc;
}

/* ------------------------------------------------------------------ answers */

void
dns_answer_free(struct dns_answer *a)
{
	if (!a)
		return;
	for (size_t i = 0; a->txt && i < a->n; i++) {
		for (size_t j = 0; j < a->txt[i].nstrings; j++)
			free((char *)a->txt[i].strings[j].p);
		free(a->txt[i].strings);
		free((char *)a->txt[i].joined.p);
	}
	free(a->txt);
	free(a->mx);
	free(a->addr);
	for (size_t i = 0; a->tlsa && i < a->n; i++)
		free(a->tlsa[i].data);
	free(a->tlsa);
	free(a);
}

/* Copy of p[0..len) plus a NUL (never NULL, never reads past len). */
static unsigned char *
dup_bytes(const void *p, size_t len)
{
	unsigned char *m = xmalloc(len + 1);

	if (len)
		memcpy(m, p, len);
	m[len] = 0;
	return m;
}

static struct dns_answer *
answer_dup(const struct dns_answer *src)
{
	struct dns_answer *a = xmemdup(src, sizeof(*src));

	a->txt = NULL;
	a->mx = NULL;
	a->addr = NULL;
	a->tlsa = NULL;
	if (src->txt) {
		a->txt = xcalloc(src->n ? src->n : 1, sizeof(*a->txt));
		for (size_t i = 0; i < src->n; i++) {
			const struct dns_txt *s = &src->txt[i];
			struct dns_txt *d = &a->txt[i];

			d->nstrings = s->nstrings;
			d->strings = xcalloc(s->nstrings ? s->nstrings : 1, sizeof(*d->strings));
			for (size_t j = 0; j < s->nstrings; j++)
				d->strings[j] =
				        span_make(xstrndup(s->strings[j].p, s->strings[j].len),
				                  s->strings[j].len);
			d->joined = span_make(xstrndup(s->joined.p, s->joined.len), s->joined.len);
		}
	}
	if (src->mx)
		a->mx = xmemdup(src->mx, (src->n ? src->n : 1) * sizeof(*src->mx));
	if (src->addr)
		a->addr = xmemdup(src->addr, (src->n ? src->n : 1) * sizeof(*src->addr));
	if (src->tlsa) {
		a->tlsa = xmemdup(src->tlsa, (src->n ? src->n : 1) * sizeof(*src->tlsa));
		for (size_t i = 0; i < src->n; i++)
			a->tlsa[i].data = dup_bytes(src->tlsa[i].data, src->tlsa[i].len);
	}
	return a;
}

/* ------------------------------------------------------------------ rdata parsing */

/*
 * Wire-format name (uncompressed, as libunbound hands out rdata) to lower-case
 * presentation form without the trailing dot.  Bytes other than letters, digits, '-'
 * and '_' are written as \DDD.  Returns the wire length consumed, or -1.
 */
static int
wire_name(const unsigned char *p, size_t len, char *out, size_t cap)
{
	size_t i = 0, o = 0;

	for (;;) {
		if (i >= len)
			return -1;
		size_t l = p[i++];
		if (l == 0)
			break;
		if (l > 63 || i + l > len)
			return -1;
		if (o > 0) {
			if (o + 1 >= cap)
				return -1;
			out[o++] = '.';
		}
		for (size_t k = 0; k < l; k++) {
			unsigned char c = p[i + k];
			bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			             (c >= '0' && c <= '9') || c == '-' || c == '_';
			if (plain) {
				if (o + 1 >= cap)
					return -1;
				out[o++] = ascii_lower((char)c);
			} else {
				if (o + 4 >= cap)
					return -1;
				snprintf(out + o, cap - o, "\\%03u", c);
				o += 4;
			}
		}
		i += l;
	}
	if (o >= cap)
		return -1;
	out[o] = '\0';
	return (int)i;
}

static int
parse_txt(const unsigned char *p, size_t len, struct dns_txt *t)
{
	size_t i = 0, n = 0, total = 0;

	/* First pass: count and validate. */
	while (i < len) {
		size_t l = p[i++];
		if (i + l > len)
			return -1;
		i += l;
		total += l;
		n++;
	}
	t->nstrings = n;
	t->strings = xcalloc(n ? n : 1, sizeof(*t->strings));
	char *joined = xmalloc(total + 1);
	size_t jo = 0;
	i = 0;
	for (size_t k = 0; k < n; k++) {
		size_t l = p[i++];
		t->strings[k] = span_make(xstrndup((const char *)p + i, l), l);
		memcpy(joined + jo, p + i, l);
		jo += l;
		i += l;
	}
	joined[jo] = '\0';
	t->joined = span_make(joined, jo);
	return 0;
}

static int
mx_cmp(const void *a, const void *b)
{
	const struct dns_mx *x = a, *y = b;

	if (x->preference != y->preference)
		return x->preference < y->preference ? -1 : 1;
	return strcmp(x->host, y->host);
}

/* Fills a's data array from count RDATA; malformed records are skipped and logged. */
static void
fill_records(struct dns_answer *a, const struct span *rd, size_t count)
{
	switch (a->type) {
	case DNS_TYPE_TXT:
		a->txt = xcalloc(count ? count : 1, sizeof(*a->txt));
		break;
	case DNS_TYPE_MX:
		a->mx = xcalloc(count ? count : 1, sizeof(*a->mx));
		break;
	case DNS_TYPE_A:
	case DNS_TYPE_AAAA:
		a->addr = xcalloc(count ? count : 1, sizeof(*a->addr));
		break;
	case DNS_TYPE_TLSA:
		a->tlsa = xcalloc(count ? count : 1, sizeof(*a->tlsa));
		break;
	}
	for (size_t i = 0; i < count; i++) {
		const unsigned char *p = (const unsigned char *)rd[i].p;
		size_t len = rd[i].len;
		bool ok = false;

		switch (a->type) {
		case DNS_TYPE_TXT:
			ok = parse_txt(p, len, &a->txt[a->n]) == 0;
			break;
		case DNS_TYPE_MX: {
			struct dns_mx *m = &a->mx[a->n];
			if (len < 3)
				break;
			m->preference = (uint16_t)(p[0] << 8 | p[1]);
			int used = wire_name(p + 2, len - 2, m->host, sizeof(m->host));
			ok = used >= 0 && (size_t)used + 2 == len;
			break;
		}
		case DNS_TYPE_A:
		case DNS_TYPE_AAAA: {
			struct dns_addr *d = &a->addr[a->n];
			d->family = a->type == DNS_TYPE_A ? AF_INET : AF_INET6;
			if (len != (a->type == DNS_TYPE_A ? 4u : 16u))
				break;
			ok = inet_ntop(d->family, p, d->text, sizeof(d->text)) != NULL;
			break;
		}
		case DNS_TYPE_TLSA: {
			struct dns_tlsa *t = &a->tlsa[a->n];
			if (len < 3)
				break;
			t->usage = p[0];
			t->selector = p[1];
			t->mtype = p[2];
			t->len = len - 3;
			t->data = dup_bytes(p + 3, t->len);
			ok = true;
			break;
		}
		}
		if (ok)
			a->n++;
		else
			log_warn("dns: malformed record skipped name=%s type=%d len=%zu", a->qname,
			         (int)a->type, len);
	}
	if (a->type == DNS_TYPE_MX && a->n > 1)
		qsort(a->mx, a->n, sizeof(*a->mx), mx_cmp);
	a->null_mx = a->type == DNS_TYPE_MX && a->n == 1 && a->mx[0].host[0] == '\0';
}

struct dns_answer *
dns_answer_from_rdata(const char *qname, enum dns_type type, const struct span *rdata, size_t n)
{
	struct dns_answer *a = xcalloc(1, sizeof(*a));

	str_copy(a->qname, sizeof(a->qname), qname ? qname : "");
	a->type = type;
	fill_records(a, rdata, n);
	return a;
}

/* ------------------------------------------------------------------ cache */

static bool
cache_eq(const void *item, const void *key)
{
	const struct cache_entry *ce = item;
	const struct cache_key *k = key;

	return ce->key_type == k->type && strcmp(ce->key_name, k->name) == 0;
}

static uint64_t
cache_hash(const char *name, int type)
{
	return hash_mix(hash_bytes(name, strlen(name), 0x646e73), (uint64_t)type);
}

static void
cache_entry_free(struct cache_entry *ce)
{
	dns_answer_free(ce->ans);
	free(ce);
}

/* Removes expired entries; when still at the cap, the one expiring first. Locked. */
static void
cache_make_room(struct dns *dns, int64_t now)
{
	struct cache_entry *ce, *oldest = NULL;
	void *item;
	size_t pos = 0;
	bool removed = true;

	while (removed) {
		removed = false;
		pos = 0;
		while (hmap_next(&dns->cache, &pos, &item)) {
			ce = item;
			if (ce->expires <= now) {
				struct cache_key k = { ce->key_name, ce->key_type };
				hmap_remove(&dns->cache, cache_hash(ce->key_name, ce->key_type),
				            cache_eq, &k);
				cache_entry_free(ce);
				removed = true;
				break;
			}
		}
	}
	if (dns->cache.count < dns->opts.cache_max)
		return;
	pos = 0;
	while (hmap_next(&dns->cache, &pos, &item)) {
		ce = item;
		if (!oldest || ce->expires < oldest->expires)
			oldest = ce;
	}
	if (oldest) {
		struct cache_key k = { oldest->key_name, oldest->key_type };
		hmap_remove(&dns->cache, cache_hash(k.name, k.type), cache_eq, &k);
		cache_entry_free(oldest);
	}
}

static struct dns_answer *
cache_get(struct dns *dns, const char *name, int type, int64_t now)
{
	struct cache_key k = { name, type };
	uint64_t h = cache_hash(name, type);
	struct dns_answer *a = NULL;

	pthread_mutex_lock(&dns->lock);
	struct cache_entry *ce = hmap_find(&dns->cache, h, cache_eq, &k);
	if (ce && ce->expires <= now) {
		hmap_remove(&dns->cache, h, cache_eq, &k);
		cache_entry_free(ce);
		ce = NULL;
	}
	if (ce) {
		a = answer_dup(ce->ans);
		a->ttl = (uint32_t)(ce->expires - now);
		a->from_cache = true;
	}
	pthread_mutex_unlock(&dns->lock);
	return a;
}

static void
cache_put(struct dns *dns, const struct dns_answer *a, int64_t now)
{
	struct cache_key k = { a->qname, (int)a->type };
	uint64_t h = cache_hash(a->qname, (int)a->type);

	if (dns->opts.cache_max == 0 || a->ttl == 0)
		return;
	pthread_mutex_lock(&dns->lock);
	struct cache_entry *old = hmap_remove(&dns->cache, h, cache_eq, &k);
	if (old)
		cache_entry_free(old);
	if (dns->cache.count >= dns->opts.cache_max)
		cache_make_room(dns, now);
	struct cache_entry *ce = xcalloc(1, sizeof(*ce));
	str_copy(ce->key_name, sizeof(ce->key_name), a->qname);
	ce->key_type = (int)a->type;
	ce->expires = now + a->ttl;
	ce->ans = answer_dup(a);
	hmap_insert(&dns->cache, h, ce);
	pthread_mutex_unlock(&dns->lock);
}

void
dns_cache_flush(struct dns *dns)
{
	void *item;
	size_t pos = 0;

	pthread_mutex_lock(&dns->lock);
	while (hmap_next(&dns->cache, &pos, &item))
		cache_entry_free(item);
	hmap_clear(&dns->cache);
	hmap_init(&dns->cache);
	pthread_mutex_unlock(&dns->lock);
}

size_t
dns_cache_count(struct dns *dns)
{
	size_t n;

	pthread_mutex_lock(&dns->lock);
	n = dns->cache.count;
	pthread_mutex_unlock(&dns->lock);
	return n;
}

/* ------------------------------------------------------------------ lookup */

/* Lower case, no trailing dot; rejects what cannot be a presentation-form name. */
static int
normalize_name(const char *name, char out[DNS_NAME_MAX], struct err *e)
{
	size_t len = name ? strlen(name) : 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return err_set(e, ERR_INVALID, "dns: \"%s\" is not a domain name",
		               name ? name : "");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c <= ' ' || c >= 0x7f || c == '"' || c == ';' || c == '(' || c == ')')
			return err_set(e, ERR_INVALID,
			               "dns: \"%s\" is not a domain name (byte 0x%02x)", name, c);
		if (c == '.' && (i == 0 || name[i - 1] == '.'))
			return err_set(e, ERR_INVALID, "dns: \"%s\" has an empty label", name);
		out[i] = ascii_lower((char)c);
	}
	out[len] = '\0';
	return 0;
}

static uint32_t
clamp_ttl(const struct dns_opts *o, const struct dns_answer *a, int raw_ttl)
{
	bool negative = a->rcode == DNS_RCODE_NXDOMAIN || a->n == 0;
	uint64_t ttl = raw_ttl > 0 ? (uint64_t)raw_ttl : 0;
	uint32_t neg_cap = o->negative_max_ttl ? o->negative_max_ttl : o->max_ttl;

	if (negative && ttl == 0)
		ttl = o->negative_ttl;
	if (ttl < o->min_ttl)
		ttl = o->min_ttl;
	if (o->max_ttl && ttl > o->max_ttl)
		ttl = o->max_ttl;
	if (negative && neg_cap && ttl > neg_cap)
		ttl = neg_cap;
	return (uint32_t)ttl;
}

int
dns_lookup(struct dns *dns, const char *name, enum dns_type type, struct dns_answer **out,
           struct err *e)
{
	char qname[DNS_NAME_MAX];
	struct ub_result *r = NULL;
	struct dns_answer *a;
	int64_t now = clock_now(dns->opts.clock);
	int rc;

	*out = NULL;
	rc = normalize_name(name, qname, e);
	if (rc)
		return rc;
	a = cache_get(dns, qname, (int)type, now);
	if (a) {
		*out = a;
		return 0;
	}
	a = xcalloc(1, sizeof(*a));
	str_copy(a->qname, sizeof(a->qname), qname);
	a->type = type;
	*out = a;
	rc = ub_resolve(dns->ctx, qname, (int)type, 1 /* IN */, &r);
	if (rc) {
		a->rcode = DNS_RCODE_SERVFAIL;
		return err_set(e, DNS_ETEMP, "dns: %s %d: resolver error: %s", qname, (int)type,
		               ub_strerror(rc));
	}
	a->rcode = r->rcode;
	a->sec = r->bogus ? DNS_SEC_BOGUS : r->secure ? DNS_SEC_SECURE : DNS_SEC_INSECURE;
	if (r->bogus) {
		str_copy(a->why_bogus, sizeof(a->why_bogus),
		         r->why_bogus ? r->why_bogus : "validation failed");
		rc = err_set(e, DNS_EBOGUS, "dns: %s: DNSSEC validation failed: %s", qname,
		             a->why_bogus);
		goto out;
	}
	if (r->rcode != DNS_RCODE_NOERROR && r->rcode != DNS_RCODE_NXDOMAIN) {
		rc = err_set(e, DNS_ETEMP, "dns: %s: %s", qname, dns_rcode_name(r->rcode));
		goto out;
	}
	if (r->havedata) {
		size_t count = 0;
		while (r->data && r->data[count])
			count++;
		struct span *rd = xcalloc(count ? count : 1, sizeof(*rd));
		for (size_t i = 0; i < count; i++)
			rd[i] = span_make(r->data[i], r->len[i] > 0 ? (size_t)r->len[i] : 0);
		fill_records(a, rd, count);
		free(rd);
	}
	a->ttl = clamp_ttl(&dns->opts, a, r->ttl);
	cache_put(dns, a, now);
out:
	ub_resolve_free(r);
	return rc;
}
