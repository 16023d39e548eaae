/*
 * web_int.h - internals shared by the files of the web role (src/web/web*.c).
 * Not for use outside src/web/ (tests excepted).
 * Threading: as web.h (httpd thread only).
 */
#ifndef TLSRPTD_WEB_WEB_INT_H
#define TLSRPTD_WEB_WEB_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"
#include "util/buf.h"
#include "web/web.h"
#include "web/web_auth.h"

struct web {
	struct web_opts o;
	bool have_token;
	struct web_user *users;
	size_t n_users;
	/* SHA-256 of the last Authorization value that passed a basic-auth check, so that
	 * a browser's repeated header costs one PBKDF2 instead of one per request */
	unsigned char ok_digest[32];
	bool have_ok;
};

/* One request being answered. */
struct web_req {
	struct web *w;
	const struct httpd_request *req;
	struct httpd_response *resp;
	struct buf *out; /* &resp->body */
	int64_t now;
	bool json; /* errors answer JSON (API) or HTML (pages) */
};

/* Sets status and an error body ({"error": msg} or a small HTML page) in r's format. */
void web_error(struct web_req *r, int status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* The query argument name, NULL when absent or empty. */
const char *web_arg(struct web_req *r, const char *name);
/*
 * Integer argument within [min, max] (def when absent) into *out; on a bad value answers
 * 400 naming the argument and returns -1.
 */
int web_arg_uint(struct web_req *r, const char *name, uint64_t def, uint64_t min, uint64_t max,
                 uint64_t *out);
/* Date argument (YYYY-MM-DD or RFC 3339) into *out (0 when absent); 400 and -1 when bad. */
int web_arg_time(struct web_req *r, const char *name, int64_t *out);
/* "1", "true", "yes", "on" */
bool web_arg_flag(struct web_req *r, const char *name);

/* One group of struct store_received_group_row with owned strings. */
struct web_group {
	struct store_received_group_row row; /* key/key2 point into the strings below */
	char *key, *key2;
};

struct web_groups {
	struct web_group *v;
	size_t n, cap;
};

/*
 * Runs store_ops.received_group (or, for a backend without it, the same aggregation over
 * received_walk) into *g (free with web_groups_free).  Returns 0 or a store error.
 */
int web_groups_get(struct web *w, const struct store_received_group_query *q, struct web_groups *g,
                   struct err *e);
void web_groups_free(struct web_groups *g);

/* web_api.c */
void web_api_received(struct web_req *r);
void web_api_received_one(struct web_req *r);
void web_api_summary(struct web_req *r);
void web_api_groups(struct web_req *r);
void web_api_outbound(struct web_req *r);
void web_api_outbox(struct web_req *r);
void web_api_collector(struct web_req *r);
void web_healthz(struct web_req *r);

/* web_page.c: layout, charts */

/* The time range of a page: days (1..3660, default 30) ending before until (default: the
 * end of today, UTC); include unverified reports when asked. */
struct web_range {
	int64_t since, until;
	uint64_t days;
	bool unverified;
};

/* Reads days= until= unverified= into *g; -1 after an error answer. */
int web_range_args(struct web_req *r, struct web_range *g);
/* Appends the range's query arguments as given ("days=30&until=...&unverified=1"). */
void web_range_query(struct web_req *r, struct buf *b);
/* The page head (title escaped), navigation with `active` marked, and the range form. */
void web_page_begin(struct web_req *r, const char *title, const char *active,
                    const struct web_range *g, const char *domain);
void web_page_end(struct web_req *r);

/* One bucket of a per-day chart. */
struct web_bucket {
	int64_t start; /* first second */
	uint64_t success, failure, reports;
};

/*
 * Buckets of [g->since, g->until): one day each up to 120 days, else enough days per
 * bucket to stay within 120; filled from STORE_RGROUP_DAY groups.  Caller frees *out.
 */
size_t web_buckets(const struct web_range *g, const struct web_groups *days,
                   struct web_bucket **out, unsigned *days_per_bucket);
/* Stacked bars (successful / failed sessions per bucket) as inline SVG. */
void web_chart_stacked(struct buf *b, const char *title, const struct web_bucket *v, size_t n,
                       unsigned days_per_bucket);
/* The failure rate per bucket as a line (buckets without sessions are gaps). */
void web_chart_rate(struct buf *b, const char *title, const struct web_bucket *v, size_t n,
                    unsigned days_per_bucket);
/* Horizontal bars: labels[i] with values a[i] (+ b[i] stacked when b is not NULL). */
void web_chart_hbars(struct buf *out, const char *title, const char *const *labels,
                     const uint64_t *a, const uint64_t *b, size_t n, const char *a_name,
                     const char *b_name);
/* Table cells: a count (right-aligned, thousands separators), escaped text ("(none)"
 * for NULL), a UTC day ("-" for 0). */
void web_td_count(struct buf *b, uint64_t v);
void web_td_text(struct buf *b, const char *s);
void web_td_day(struct buf *b, int64_t t);
/* A table with caption and column heads; a head starting with '#' is numeric. */
void web_table_begin(struct buf *b, const char *caption, const char *const *cols);
/* Ends it; with no rows, one row saying `empty` (static text, not escaped). */
void web_table_end(struct buf *b, size_t rows, size_t cols, const char *empty);
/* "12.34 %" of failure / (success + failure); "-" when both are 0. */
void web_rate_text(uint64_t success, uint64_t failure, char out[32]);

/* web_pages.c, web_pages_more.c */
void web_page_overview(struct web_req *r);
void web_page_domain(struct web_req *r);
void web_page_reporters(struct web_req *r);
void web_page_outbound(struct web_req *r);

#endif
