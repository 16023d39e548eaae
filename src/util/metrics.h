/*
 * metrics.h - a small process-wide metrics registry rendered in the Prometheus text
 * exposition format 0.0.4 (GET /metrics).
 *
 * A metric family is a static struct metrics_family owned by the module that counts
 * (collector, outbound, inbound, ...), registered once before main() with
 * METRICS_REGISTER(family) (a constructor), so every family is exported, with zeros,
 * from the start.  A family has 0, 1 or 2 labels; each label has either
 *   - a FIXED list of values known at compile time (index = position in the list; by
 *     convention a list that needs a fallback ends in "other"), or
 *   - an OPEN set of values that come from outside (domains, reporters): the first
 *     `n` distinct values get their own series, every later value is counted under
 *     the value "other".  n is the family's documented cardinality cap.
 * Counters and gauges hold one 64-bit cell per label combination; a histogram (no
 * labels) has one cell per bucket plus the sum in nanoseconds.
 *
 * Cost: metrics_add() is one relaxed atomic add (no lock); resolving an open label
 * value (metrics_index) takes a mutex and is meant for cold paths (one report, one
 * delivery), never per datagram.
 *
 * Threading: every function may be called from any thread at any time.  Families must
 * stay alive until exit (they are static).  Scrape-time sources (metrics_source_add)
 * are called from the thread calling metrics_write() and must be removed before their
 * context is freed.
 */
#ifndef TLSRPTD_UTIL_METRICS_H
#define TLSRPTD_UTIL_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

enum metrics_type {
	METRICS_COUNTER = 0, /* monotonic; names end in _total */
	METRICS_GAUGE = 1,   /* a signed value that is set */
	METRICS_HISTOGRAM = 2,
};

enum { METRICS_MAX_LABELS = 2, METRICS_MAX_BOUNDS = 16 };

struct metrics_label {
	const char *name;
	const char *const *values; /* fixed values; NULL for an open label */
	unsigned n;                /* fixed: number of values; open: the cap (+ "other") */
};

struct metrics_open; /* the values seen so far of an open label */

struct metrics_family {
	const char *name; /* [a-zA-Z_:][a-zA-Z0-9_:]* */
	const char *help;
	enum metrics_type type;
	unsigned nlabels;
	struct metrics_label label[METRICS_MAX_LABELS];
	const double *bounds; /* histogram: bucket upper bounds in seconds, ascending */
	unsigned nbounds;
	/* set by metrics_register(); do not touch */
	_Atomic uint64_t *cells;
	unsigned rows;  /* values of the first label (1 without labels) */
	unsigned width; /* cells per value of the first label */
	struct metrics_open *open[METRICS_MAX_LABELS];
	struct metrics_family *next;
};

/*
 * Adds f to the registry (idempotent).  Aborts on a malformed family (bad name, too
 * many labels or bounds, a counter whose name does not end in _total): a programming
 * error found at start-up.
 */
void metrics_register(struct metrics_family *f);

/* Registers a static family before main(). */
#define METRICS_REGISTER(fam)                                                                      \
	__attribute__((constructor)) static void metrics_ctor_##fam(void)                          \
	{                                                                                          \
		metrics_register(&(fam));                                                          \
	}

/*
 * The index of value for label `which` of f: for a fixed label its position in the
 * list, or the last position when it is not listed (the "other" convention); for an
 * open label the value's slot, a new slot while fewer than n values are known, else n
 * ("other").  NULL counts as "other" / the last value.
 */
unsigned metrics_index(struct metrics_family *f, unsigned which, const char *value);

/* Pointer to the cell of (a, b); NULL when an index is out of range. */
static inline _Atomic uint64_t *
metrics_cell(struct metrics_family *f, unsigned a, unsigned b)
{
	if (f->cells == NULL || a >= f->rows || b >= f->width)
		return NULL;
	return &f->cells[(size_t)a * f->width + b];
}

/* Adds n to the counter (or gauge) at label indexes (a, b) (0 for missing labels). */
static inline void
metrics_add(struct metrics_family *f, unsigned a, unsigned b, uint64_t n)
{
	_Atomic uint64_t *c = metrics_cell(f, a, b);

	if (c != NULL)
		atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Sets the gauge at (a, b) to v. */
static inline void
metrics_set(struct metrics_family *f, unsigned a, unsigned b, int64_t v)
{
	_Atomic uint64_t *c = metrics_cell(f, a, b);

	if (c != NULL)
		atomic_store_explicit(c, (uint64_t)v, memory_order_relaxed);
}

/* Adds n to the series named by the label values (open labels resolved, see above). */
void metrics_add_named(struct metrics_family *f, const char *v0, const char *v1, uint64_t n);

/* Records one duration of a histogram family. */
void metrics_observe_ns(struct metrics_family *f, int64_t ns);

/* The value of a counter/gauge cell (tests, status output); 0 out of range. */
uint64_t metrics_value(struct metrics_family *f, unsigned a, unsigned b);

/*
 * A scrape-time source: appends complete families (HELP, TYPE, samples) to out, names
 * not used by any registered family.  Returns 0 or a negative code with e set.  It runs
 * under the registry's lock: it must not call other metrics_* functions.
 */
typedef int (*metrics_source_fn)(void *ctx, struct buf *out, struct err *e);

/* Adds / removes a source (removal waits for a running metrics_write()). */
void metrics_source_add(metrics_source_fn fn, void *ctx);
void metrics_source_remove(metrics_source_fn fn, void *ctx);

/*
 * Renders every registered family (sorted by name), then every source, in the text
 * format 0.0.4:
 *   # HELP name text        (\ and newline escaped)
 *   # TYPE name counter|gauge|histogram
 *   name{label="value",...} 123
 * with label values escaped (\\, \", \n).  Appends to out; returns 0, or ERR_TOOBIG
 * when out's cap is reached (out then holds a prefix), or a source's error.
 */
int metrics_write(struct buf *out, struct err *e);

/* Appends s as the inside of a quoted label value (\\, \" and \n escaped). */
int metrics_escape_label(struct buf *out, const char *s);

/* Zeroes every cell and forgets open label values (tests only; not while counting). */
void metrics_reset(void);

#endif
