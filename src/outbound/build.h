/*
 * build.h - building the RFC 8460 aggregate reports of one collected window.
 *
 * outbound_build() turns a window's counters (store_ops.list_counts) into one report
 * model with every policy of the window; outbound_split() cuts it into parts of at most
 * max-size bytes of JSON (whole policies per part; only a policy that alone exceeds the
 * limit loses its rarest failure details, its summary counts staying exact) and names
 * each part (report-id from naming.h, part 1, 2, ...).
 *
 * RFC 8460 sections 4 and 4.4; DESIGN.md "Rules for outgoing reports".
 * Threading: no shared state; a struct store is used by one thread at a time.
 */
#ifndef TLSRPTD_OUTBOUND_BUILD_H
#define TLSRPTD_OUTBOUND_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "config/conf.h"
#include "report/report.h"
#include "store/store.h"
#include "util/err.h"

/* Who we are, evaluated for one report domain (rcpt_domain). */
struct outbound_ident {
	char *org_name;     /* organization-name */
	char *contact_info; /* contact-info (the from-address when unset) */
	char *submitter;    /* report.submitter */
};

/*
 * Evaluates org-name, contact-info (falling back to from-address) and report.submitter
 * with rcpt_domain = domain.  Returns 0 and fills *out (free with outbound_ident_clear),
 * or a negative code with e naming the key.
 */
int outbound_ident_eval(const struct conf *c, const char *domain, struct outbound_ident *out,
                        struct err *e);
void outbound_ident_clear(struct outbound_ident *id);

/*
 * Builds the whole report of window w from its counters: date-range = window start ..
 * last second, organization-name and contact-info from id, no report-id (set by
 * outbound_split).  Policies in canonical-JSON order, failure details likewise.
 * Returns 0 and *out (caller frees with report_free; *out has no policies when the
 * window has no counters), or a negative code with e set.  *state receives the state
 * the store reports for the window (STORE_WINDOW_OPEN when it has no rows).
 */
int outbound_build(struct store *s, const struct store_window *w, const struct outbound_ident *id,
                   struct report **out, enum store_window_state *state, struct err *e);

/* The parts of one window's report. */
struct outbound_parts {
	struct report **r; /* n reports, each with its report-id; owned */
	size_t n;
	uint64_t dropped;      /* failure details dropped to fit max_size (all parts) */
	uint64_t *dropped_per; /* n entries: dropped in part i */
	char **too_big;        /* n entries: why part i still exceeds max_size, or NULL */
};

/*
 * Splits full (consumed: freed or moved into the parts) into reports of at most
 * max_size bytes of JSON, named with naming_report_id(window start, domain, part,
 * submitter) for part = first_part, first_part + 1, ...  (first_part > 1 when another
 * window of the same domain and start, with another TLSRPT record, already used the
 * lower part numbers: report-ids stay distinct).
 * A report with no policies gives one part with no policies.  A part that
 * cannot fit even without failure details keeps its policy and has too_big set.
 * Returns 0 and fills *out (free with outbound_parts_clear), or a negative code.
 */
int outbound_split(struct report *full, const char *domain, const char *submitter,
                   unsigned first_part, size_t max_size, struct outbound_parts *out, struct err *e);
void outbound_parts_clear(struct outbound_parts *p);

#endif
