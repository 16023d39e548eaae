/*
 * metrics.c - the process-wide metrics registry and its Prometheus text rendering
 * (see metrics.h).  Format: Prometheus text exposition format 0.0.4.
 *
 * Threading: the family list, the open label tables and the source list are guarded by
 * one mutex (`mu`); cells are atomics updated without it.  metrics_write() takes the
 * mutex for the whole render, so a render sees a consistent set of families and open
 * values, while the cell values may move during it (each value is read once).
 */
#include "util/metrics.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

struct metrics_open {
	unsigned n; /* values known */
	char **values;
};

struct source {
	metrics_source_fn fn;
	void *ctx;
	struct source *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct metrics_family *families; /* sorted by name */
static struct source *sources;          /* in order of addition */

static bool
valid_name(const char *s, bool label)
{
	if (s == NULL || *s == '\0')
		return false;
	for (const char *p = s; *p; p++) {
		bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
		             (!label && *p == ':');
		if (!alpha && !(p > s && *p >= '0' && *p <= '9'))
			return false;
	}
	return true;
}

static unsigned
label_size(const struct metrics_label *l)
{
	return l->values ? l->n : l->n + 1; /* open: + "other" */
}

static void
bad_family(const struct metrics_family *f, const char *why)
{
	fprintf(stderr, "metrics: family %s: %s\n", f->name ? f->name : "(null)", why);
	abort();
}

void
metrics_register(struct metrics_family *f)
{
	size_t nl = f->name ? strlen(f->name) : 0;

	pthread_mutex_lock(&mu);
	if (f->cells != NULL) {
		pthread_mutex_unlock(&mu);
		return;
	}
	if (!valid_name(f->name, false))
		bad_family(f, "invalid metric name");
	if (f->type == METRICS_COUNTER && (nl < 7 || strcmp(f->name + nl - 6, "_total") != 0))
		bad_family(f, "a counter's name must end in _total");
	if (f->nlabels > METRICS_MAX_LABELS || (f->type == METRICS_HISTOGRAM && f->nlabels != 0))
		bad_family(f, "too many labels");
	if (f->type == METRICS_HISTOGRAM && (f->nbounds == 0 || f->nbounds > METRICS_MAX_BOUNDS))
		bad_family(f, "a histogram needs 1 to 16 bounds");
	for (unsigned i = 0; i < f->nlabels; i++) {
		if (!valid_name(f->label[i].name, true) ||
		    strncmp(f->label[i].name, "__", 2) == 0 || f->label[i].n == 0)
			bad_family(f, "invalid label");
		if (f->label[i].values == NULL)
			f->open[i] = xcalloc(1, sizeof(*f->open[i]));
	}
	f->rows = f->nlabels > 0 ? label_size(&f->label[0]) : 1;
	if (f->type == METRICS_HISTOGRAM)
		f->width = f->nbounds + 2; /* buckets, +Inf, sum of nanoseconds */
	else
		f->width = f->nlabels > 1 ? label_size(&f->label[1]) : 1;
	f->cells = xcalloc((size_t)f->rows * f->width, sizeof(*f->cells));
	for (unsigned i = 0; i < (size_t)f->rows * f->width; i++)
		atomic_init(&f->cells[i], 0);
	struct metrics_family **pp = &families;
	while (*pp && strcmp((*pp)->name, f->name) < 0)
		pp = &(*pp)->next;
	if (*pp && strcmp((*pp)->name, f->name) == 0)
		bad_family(f, "registered twice");
	f->next = *pp;
	*pp = f;
	pthread_mutex_unlock(&mu);
}

unsigned
metrics_index(struct metrics_family *f, unsigned which, const char *value)
{
	const struct metrics_label *l;
	struct metrics_open *o;
	unsigned i;

	if (which >= f->nlabels)
		return 0;
	l = &f->label[which];
	if (l->values != NULL) {
		for (i = 0; value != NULL && i < l->n; i++)
			if (strcmp(l->values[i], value) == 0)
				return i;
		return l->n - 1;
	}
	if (value == NULL || f->open[which] == NULL)
		return l->n;
	o = f->open[which];
	pthread_mutex_lock(&mu);
	for (i = 0; i < o->n; i++)
		if (strcmp(o->values[i], value) == 0)
			break;
	if (i == o->n) {
		if (o->n < l->n && strcmp(value, "other") != 0) {
			if (o->values == NULL)
				o->values = xcalloc(l->n, sizeof(*o->values));
			o->values[o->n++] = xstrdup(value);
		} else {
			i = l->n;
		}
	}
	pthread_mutex_unlock(&mu);
	return i;
}

void
metrics_add_named(struct metrics_family *f, const char *v0, const char *v1, uint64_t n)
{
	metrics_add(f, metrics_index(f, 0, v0), metrics_index(f, 1, v1), n);
}

void
metrics_observe_ns(struct metrics_family *f, int64_t ns)
{
	unsigned b = 0;

	if (f->type != METRICS_HISTOGRAM || f->cells == NULL)
		return;
	if (ns < 0)
		ns = 0;
	while (b < f->nbounds && (double)ns > f->bounds[b] * 1e9)
		b++;
	atomic_fetch_add_explicit(&f->cells[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&f->cells[f->nbounds + 1], (uint64_t)ns, memory_order_relaxed);
}

uint64_t
metrics_value(struct metrics_family *f, unsigned a, unsigned b)
{
	_Atomic uint64_t *c = metrics_cell(f, a, b);

	return c ? atomic_load_explicit(c, memory_order_relaxed) : 0;
}

void
metrics_source_add(metrics_source_fn fn, void *ctx)
{
	struct source *s = xcalloc(1, sizeof(*s)), **pp = &sources;

	s->fn = fn;
	s->ctx = ctx;
	pthread_mutex_lock(&mu);
	while (*pp)
		pp = &(*pp)->next;
	*pp = s;
	pthread_mutex_unlock(&mu);
}

void
metrics_source_remove(metrics_source_fn fn, void *ctx)
{
	pthread_mutex_lock(&mu);
	for (struct source **pp = &sources; *pp; pp = &(*pp)->next) {
		if ((*pp)->fn == fn && (*pp)->ctx == ctx) {
			struct source *s = *pp;
			*pp = s->next;
			free(s);
			break;
		}
	}
	pthread_mutex_unlock(&mu);
}

/* ------------------------------------------------------------------ rendering */

int
metrics_escape_label(struct buf *out, const char *s)
{
	int rc = 0;

	for (const char *p = s; rc == 0 && *p; p++) {
		if (*p == '\\')
			rc = buf_append(out, "\\\\", 2);
		else if (*p == '"')
			rc = buf_append(out, "\\\"", 2);
		else if (*p == '\n')
			rc = buf_append(out, "\\n", 2);
		else
			rc = buf_putc(out, *p);
	}
	return rc;
}

static int
write_help(struct buf *out, const struct metrics_family *f)
{
	static const char *const type_names[] = { "counter", "gauge", "histogram" };
	int rc = buf_printf(out, "# HELP %s ", f->name);

	/* HELP text escapes only backslash and newline */
	for (const char *p = f->help ? f->help : ""; rc == 0 && *p; p++) {
		if (*p == '\\')
			rc = buf_append(out, "\\\\", 2);
		else if (*p == '\n')
			rc = buf_append(out, "\\n", 2);
		else
			rc = buf_putc(out, *p);
	}
	if (rc == 0)
		rc = buf_printf(out, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
	return rc;
}

static const char *
label_value(const struct metrics_family *f, unsigned which, unsigned idx)
{
	const struct metrics_label *l = &f->label[which];

	if (l->values != NULL)
		return l->values[idx];
	if (idx < f->open[which]->n)
		return f->open[which]->values[idx];
	return "other";
}

/* True when idx of an open label names no series (a slot not taken yet). */
static bool
unused(const struct metrics_family *f, unsigned which, unsigned idx)
{
	return f->label[which].values == NULL && idx < f->label[which].n &&
	       idx >= f->open[which]->n;
}

static int
write_series(struct buf *out, const struct metrics_family *f, unsigned a, unsigned b)
{
	uint64_t v =
	        atomic_load_explicit(&f->cells[(size_t)a * f->width + b], memory_order_relaxed);
	int rc = buf_append_str(out, f->name);

	for (unsigned i = 0; rc == 0 && i < f->nlabels; i++) {
		rc = buf_printf(out, "%c%s=\"", i == 0 ? '{' : ',', f->label[i].name);
		if (rc == 0)
			rc = metrics_escape_label(out, label_value(f, i, i == 0 ? a : b));
		if (rc == 0)
			rc = buf_putc(out, '"');
	}
	if (rc == 0 && f->nlabels > 0)
		rc = buf_putc(out, '}');
	if (rc == 0 && f->type == METRICS_GAUGE)
		rc = buf_printf(out, " %" PRId64 "\n", (int64_t)v);
	else if (rc == 0)
		rc = buf_printf(out, " %" PRIu64 "\n", v);
	return rc;
}

static int
write_histogram(struct buf *out, const struct metrics_family *f)
{
	uint64_t cum = 0, sum_ns;
	int rc = 0;

	for (unsigned b = 0; rc == 0 && b <= f->nbounds; b++) {
		cum += atomic_load_explicit(&f->cells[b], memory_order_relaxed);
		if (b < f->nbounds)
			rc = buf_printf(out, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", f->name,
			                f->bounds[b], cum);
		else
			rc = buf_printf(out, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", f->name, cum);
	}
	sum_ns = atomic_load_explicit(&f->cells[f->nbounds + 1], memory_order_relaxed);
	if (rc == 0)
		rc = buf_printf(out, "%s_sum %" PRIu64 ".%09" PRIu64 "\n", f->name,
		                sum_ns / 1000000000u, sum_ns % 1000000000u);
	/* the count is the +Inf bucket, so the two always agree */
	if (rc == 0)
		rc = buf_printf(out, "%s_count %" PRIu64 "\n", f->name, cum);
	return rc;
}

static int
write_family(struct buf *out, const struct metrics_family *f)
{
	int rc = write_help(out, f);

	if (rc == 0 && f->type == METRICS_HISTOGRAM)
		return write_histogram(out, f);
	for (unsigned a = 0; rc == 0 && a < f->rows; a++) {
		if (f->nlabels > 0 && unused(f, 0, a))
			continue;
		for (unsigned b = 0; rc == 0 && b < f->width; b++) {
			if (f->nlabels > 1 && unused(f, 1, b))
				continue;
			rc = write_series(out, f, a, b);
		}
	}
	return rc;
}

int
metrics_write(struct buf *out, struct err *e)
{
	int rc = 0;

	pthread_mutex_lock(&mu);
	for (const struct metrics_family *f = families; rc == 0 && f; f = f->next)
		rc = write_family(out, f);
	if (rc != 0)
		rc = err_set(e, ERR_TOOBIG, "metrics: output larger than %zu bytes", out->max);
	for (const struct source *s = sources; rc == 0 && s; s = s->next)
		rc = s->fn(s->ctx, out, e);
	pthread_mutex_unlock(&mu);
	return rc;
}

void
metrics_reset(void)
{
	pthread_mutex_lock(&mu);
	for (struct metrics_family *f = families; f; f = f->next) {
		for (size_t i = 0; i < (size_t)f->rows * f->width; i++)
			atomic_store_explicit(&f->cells[i], 0, memory_order_relaxed);
		for (unsigned l = 0; l < f->nlabels; l++) {
			struct metrics_open *o = f->open[l];
			for (unsigned i = 0; o && i < o->n; i++)
				free(o->values[i]);
			if (o)
				o->n = 0;
		}
	}
	pthread_mutex_unlock(&mu);
}
