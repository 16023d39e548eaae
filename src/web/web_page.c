/*
 * web_page.c - the dashboard's page frame (head, navigation, range form, CSS) and its
 * inline SVG charts.  No scripts, fonts or external resources: the Content-Security-
 * Policy of web.c allows inline styles only.  Every chart has role="img", a <title>
 * and is followed, by its caller, by a table with the same numbers.
 * Threading: httpd thread only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"
#include "web/web_int.h"
#include "web/web_text.h"

enum { MAX_BUCKETS = 120, MAX_DAYS = 3660 };

static const char css[] =
        "*{box-sizing:border-box}"
        "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;"
        "color:#1d2433;background:#f6f7f9}"
        "header{background:#1d2433;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;"
        "gap:.4rem 1.2rem;align-items:center}"
        "header b{font-size:1.1rem;margin-right:.5rem}"
        "header a{color:#cfd8ea;text-decoration:none;padding:.2rem .1rem}"
        "header a.on{color:#fff;border-bottom:2px solid #6ea8ff}"
        "main{max-width:1200px;margin:0 auto;padding:1rem}"
        "h1{font-size:1.45rem;margin:.4rem 0 1rem}h2{font-size:1.15rem;margin:1.6rem 0 .5rem}"
        "form.range{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end;margin:0 0 1rem}"
        "form.range label{display:flex;flex-direction:column;font-size:.85rem;color:#4a5468}"
        "form.range input{font:inherit;padding:.25rem .4rem;border:1px solid #b9c1d0;"
        "border-radius:4px;min-width:7rem}"
        "form.range label.cb{flex-direction:row;gap:.3rem;align-items:center}"
        "form.range label.cb input{min-width:0}"
        "button{font:inherit;padding:.3rem .9rem;border:0;border-radius:4px;background:#2f6fde;"
        "color:#fff}"
        ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:.7rem}"
        ".card{background:#fff;border:1px solid #e1e5ec;border-radius:6px;padding:.6rem .8rem}"
        ".card .v{font-size:1.4rem;font-weight:600}.card .l{color:#5b6578;font-size:.85rem}"
        ".box{background:#fff;border:1px solid #e1e5ec;border-radius:6px;padding:.6rem;"
        "margin:.4rem 0}"
        "svg{display:block;width:100%;height:auto}"
        ".tw{overflow-x:auto}"
        "table{border-collapse:collapse;width:100%;background:#fff;font-size:.9rem}"
        ".tw table{min-width:600px}"
        "th,td{padding:.3rem .5rem;border-bottom:1px solid #e6e9ef;text-align:left;"
        "vertical-align:top}"
        "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
        "caption{text-align:left;color:#5b6578;font-size:.85rem;padding:.2rem 0}"
        ".ok{color:#1b7f3b}.bad{color:#b3261e}.warn{color:#8a5a00}.muted{color:#6b7385}"
        ".legend span{display:inline-block;margin-right:1rem;font-size:.85rem}"
        ".sw{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;"
        "vertical-align:-1px}"
        "code{font-size:.85rem;word-break:break-all}"
        "@media (max-width:600px){body{font-size:14px}main{padding:.5rem}"
        "th,td{padding:.25rem .3rem}}";

static const char color_ok[] = "#3a9a5b", color_bad[] = "#d04437", color_line[] = "#2f6fde";

int
web_range_args(struct web_req *r, struct web_range *g)
{
	int64_t until;

	memset(g, 0, sizeof(*g));
	if (web_arg_uint(r, "days", 30, 1, MAX_DAYS, &g->days) != 0 ||
	    web_arg_time(r, "until", &until) != 0)
		return -1;
	if (until == 0)
		until = r->now - ((r->now % 86400 + 86400) % 86400) + 86400;
	g->until = until;
	g->since = until - (int64_t)g->days * 86400;
	g->unverified = web_arg_flag(r, "unverified");
	return 0;
}

void
web_range_query(struct web_req *r, struct buf *b)
{
	static const char *const names[] = { "days", "until", "unverified" };
	bool first = true;

	for (size_t i = 0; i < 3; i++) {
		const char *v = web_arg(r, names[i]);

		if (v == NULL)
			continue;
		buf_printf(b, "%s%s=", first ? "" : "&amp;", names[i]);
		web_url(b, v);
		first = false;
	}
}

void
web_page_begin(struct web_req *r, const char *title, const char *active, const struct web_range *g,
               const char *domain)
{
	static const char *const nav[][2] = {
		{ "/", "Overview" },
		{ "/reporters", "Reporters" },
		{ "/outbound", "Outbound" },
	};
	struct buf *b = r->out;
	struct buf q;

	buf_init(&q, 4096);
	web_range_query(r, &q);
	buf_append_str(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	                  "<link rel=\"icon\" href=\"data:,\"><title>");
	web_html(b, title);
	buf_printf(b, " - tlsrptd</title><style>%s</style></head><body><header><b>tlsrptd</b>",
	           css);
	for (size_t i = 0; i < sizeof(nav) / sizeof(nav[0]); i++)
		buf_printf(b, "<a href=\"%s%s%s\"%s>%s</a>", nav[i][0], q.len ? "?" : "",
		           q.len ? buf_cstr(&q) : "",
		           strcmp(active, nav[i][0]) == 0 ? " class=\"on\"" : "", nav[i][1]);
	buf_append_str(b, "</header><main><h1>");
	web_html(b, title);
	buf_append_str(b, "</h1>");
	buf_clear(&q);
	if (g == NULL)
		return;
	char until[16];

	buf_printf(b, "<form class=\"range\" method=\"get\" action=\"%s\">", active);
	if (domain) {
		buf_append_str(b, "<input type=\"hidden\" name=\"d\" value=\"");
		web_html(b, domain);
		buf_append_str(b, "\">");
	}
	buf_printf(b,
	           "<label>Days<input type=\"number\" name=\"days\" min=\"1\" max=\"%d\" "
	           "value=\"%" PRIu64 "\"></label>"
	           "<label>Until (exclusive)<input type=\"date\" name=\"until\" value=\"",
	           MAX_DAYS, g->days);
	web_day(g->until, until);
	buf_printf(b,
	           "%s\"></label><label class=\"cb\"><input type=\"checkbox\" name=\"unverified\" "
	           "value=\"1\"%s>include unverified reports</label><button>Show</button></form>",
	           until, g->unverified ? " checked" : "");
}

void
web_page_end(struct web_req *r)
{
	buf_append_str(r->out, "<p class=\"muted\">JSON: <a href=\"/api/v1/received\">/api/v1/"
	                       "received</a> · see docs/api.md</p></main></body></html>\n");
}

void
web_rate_text(uint64_t success, uint64_t failure, char out[32])
{
	if (success + failure == 0) {
		memcpy(out, "-", 2);
		return;
	}
	snprintf(out, 32, "%.2f %%", 100.0 * (double)failure / (double)(success + failure));
}

size_t
web_buckets(const struct web_range *g, const struct web_groups *days, struct web_bucket **out,
            unsigned *days_per_bucket)
{
	uint64_t per = (g->days + MAX_BUCKETS - 1) / MAX_BUCKETS;
	size_t n = (size_t)((g->days + per - 1) / per);
	struct web_bucket *v = xcalloc(n ? n : 1, sizeof(*v));
	int64_t first_day = g->since / 86400;

	for (size_t i = 0; i < n; i++)
		v[i].start = g->since + (int64_t)(i * per) * 86400;
	for (size_t i = 0; i < days->n; i++) {
		const struct store_received_group_row *x = &days->v[i].row;
		int64_t k = (x->day - first_day) / (int64_t)per;

		if (x->day < first_day || k < 0 || (size_t)k >= n)
			continue;
		v[k].success += x->success;
		v[k].failure += x->failure;
		v[k].reports += x->reports;
	}
	*out = v;
	*days_per_bucket = (unsigned)per;
	return n;
}

/* A round axis maximum >= v: 1, 2, 5 times a power of ten. */
static uint64_t
nice_max(uint64_t v)
{
	uint64_t p = 1;

	if (v == 0)
		return 1;
	while (p <= v / 10)
		p *= 10;
	if (v <= p)
		return p;
	if (v <= 2 * p)
		return 2 * p;
	if (v <= 5 * p)
		return 5 * p;
	return 10 * p;
}

static void
svg_begin(struct buf *b, const char *title, int w, int h)
{
	buf_printf(b, "<div class=\"box\"><svg viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", w,
	           h);
	web_html(b, title);
	buf_append_str(b, "\"><title>");
	web_html(b, title);
	buf_append_str(b, "</title>");
}

static void
legend(struct buf *b, const char *a, const char *ca, const char *x, const char *cx)
{
	buf_printf(b,
	           "</svg><div class=\"legend\"><span><i class=\"sw\" style=\"background:%s\">"
	           "</i>",
	           ca);
	web_html(b, a);
	buf_append_str(b, "</span>");
	if (x) {
		buf_printf(b, "<span><i class=\"sw\" style=\"background:%s\"></i>", cx);
		web_html(b, x);
		buf_append_str(b, "</span>");
	}
	buf_append_str(b, "</div></div>");
}

static void
axis_label(struct buf *b, int x, int y, const char *anchor, const char *text)
{
	buf_printf(b,
	           "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#5b6578\" text-anchor=\"%s\">",
	           x, y, anchor);
	web_html(b, text);
	buf_append_str(b, "</text>");
}

enum { CW = 900, CH = 260, ML = 56, MR = 10, MT = 10, MB = 26 };

static void
y_axis(struct buf *b, uint64_t max, bool percent)
{
	for (int i = 0; i <= 4; i++) {
		int y = MT + (CH - MT - MB) * (4 - i) / 4;
		char t[32];

		if (percent)
			snprintf(t, sizeof(t), "%d %%", (int)(max * (uint64_t)i / 4));
		else
			web_count(max * (uint64_t)i / 4, t);
		buf_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#e6e9ef\"/>",
		           ML, CW - MR, y, y);
		axis_label(b, ML - 6, y + 4, "end", t);
	}
}

static void
x_labels(struct buf *b, const struct web_bucket *v, size_t n)
{
	size_t idx[3] = { 0, n / 2, n - 1 };
	const char *anchor[3] = { "start", "middle", "end" };
	double bw = (double)(CW - ML - MR) / (double)n;

	for (int i = 0; i < 3; i++) {
		char day[16];
		int x = i == 0 ? ML : i == 2 ? CW - MR : (int)(ML + bw * ((double)idx[1] + 0.5));

		if (n < 3 && i == 1)
			continue;
		web_day(v[idx[i]].start, day);
		axis_label(b, x, CH - 8, anchor[i], day);
	}
}

void
web_chart_stacked(struct buf *b, const char *title, const struct web_bucket *v, size_t n,
                  unsigned days_per_bucket)
{
	uint64_t max = 0;
	double bw;

	for (size_t i = 0; i < n; i++)
		if (v[i].success + v[i].failure > max)
			max = v[i].success + v[i].failure;
	max = nice_max(max);
	svg_begin(b, title, CW, CH);
	y_axis(b, max, false);
	bw = (double)(CW - ML - MR) / (double)(n ? n : 1);
	for (size_t i = 0; i < n; i++) {
		double h = CH - MT - MB, hs = h * (double)v[i].success / (double)max,
		       hf = h * (double)v[i].failure / (double)max;
		double x = ML + bw * (double)i + (bw > 4 ? bw * 0.1 : 0),
		       w = bw > 4 ? bw * 0.8 : bw;
		char day[16];

		web_day(v[i].start, day);
		if (v[i].success)
			buf_printf(b,
			           "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			           "fill=\"%s\"><title>%s: %" PRIu64 " successful</title></rect>",
			           x, CH - MB - hs, w, hs, color_ok, day, v[i].success);
		if (v[i].failure)
			buf_printf(b,
			           "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			           "fill=\"%s\"><title>%s: %" PRIu64 " failed</title></rect>",
			           x, CH - MB - hs - hf, w, hf < 1 ? 1.0 : hf, color_bad, day,
			           v[i].failure);
	}
	if (n)
		x_labels(b, v, n);
	legend(b, days_per_bucket > 1 ? "successful sessions (per bucket)" : "successful sessions",
	       color_ok, "failed sessions", color_bad);
}

void
web_chart_rate(struct buf *b, const char *title, const struct web_bucket *v, size_t n,
               unsigned days_per_bucket)
{
	double maxr = 0, bw;
	uint64_t max;
	bool open = false;

	(void)days_per_bucket;
	for (size_t i = 0; i < n; i++) {
		uint64_t t = v[i].success + v[i].failure;
		double r = t ? 100.0 * (double)v[i].failure / (double)t : 0;

		if (r > maxr)
			maxr = r;
	}
	max = nice_max((uint64_t)(maxr + 0.999));
	if (max < 4)
		max = 4;
	svg_begin(b, title, CW, CH);
	y_axis(b, max, true);
	bw = (double)(CW - ML - MR) / (double)(n ? n : 1);
	for (size_t i = 0; i < n; i++) {
		uint64_t t = v[i].success + v[i].failure;
		double r, x, y;

		if (t == 0) {
			if (open)
				buf_append_str(b, "\"/>");
			open = false;
			continue;
		}
		r = 100.0 * (double)v[i].failure / (double)t;
		x = ML + bw * ((double)i + 0.5);
		y = CH - MB - (CH - MT - MB) * r / (double)max;
		if (!open)
			buf_printf(b,
			           "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
			           "points=\"",
			           color_line);
		buf_printf(b, "%.1f,%.1f ", x, y);
		open = true;
	}
	if (open)
		buf_append_str(b, "\"/>");
	for (size_t i = 0; i < n; i++) {
		uint64_t t = v[i].success + v[i].failure;
		double r;
		char day[16];

		if (t == 0)
			continue;
		r = 100.0 * (double)v[i].failure / (double)t;
		web_day(v[i].start, day);
		buf_printf(
		        b,
		        "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"><title>%s: %.2f %%"
		        "</title></circle>",
		        ML + bw * ((double)i + 0.5), CH - MB - (CH - MT - MB) * r / (double)max,
		        color_line, day, r);
	}
	if (n)
		x_labels(b, v, n);
	legend(b, "failure rate", color_line, NULL, NULL);
}

void
web_chart_hbars(struct buf *out, const char *title, const char *const *labels, const uint64_t *a,
                const uint64_t *b, size_t n, const char *a_name, const char *b_name)
{
	enum { ROW = 22, LW = 260, W = 900 };
	uint64_t max = 0;
	int h = (int)(n ? n : 1) * ROW + 8;

	for (size_t i = 0; i < n; i++)
		if (a[i] + (b ? b[i] : 0) > max)
			max = a[i] + (b ? b[i] : 0);
	max = max ? max : 1;
	svg_begin(out, title, W, h);
	for (size_t i = 0; i < n; i++) {
		int y = 4 + (int)i * ROW;
		double wa = (double)(W - LW - 90) * (double)a[i] / (double)max;
		double wb = b ? (double)(W - LW - 90) * (double)b[i] / (double)max : 0;
		char t[32];
		char lab[48];
		size_t L = strlen(labels[i] ? labels[i] : "(none)");
		const char *src = labels[i] ? labels[i] : "(none)";

		/* long labels are cut in the chart; the table below has them whole */
		if (L > 38) {
			size_t cut = 36;

			while (cut > 0 && ((unsigned char)src[cut] & 0xC0) == 0x80)
				cut--;
			memcpy(lab, src, cut);
			memcpy(lab + cut, "...", 4);
		} else {
			memcpy(lab, src, L + 1);
		}
		buf_printf(out,
		           "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#1d2433\" "
		           "text-anchor=\"end\">",
		           LW - 6, y + 15);
		web_html(out, lab);
		buf_append_str(out, "</text>");
		if (a[i])
			buf_printf(out,
			           "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
			           "fill=\"%s\"/>",
			           LW, y + 3, wa < 1 ? 1.0 : wa, ROW - 6, b ? color_ok : color_bad);
		if (b && b[i])
			buf_printf(out,
			           "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
			           "fill=\"%s\"/>",
			           LW + wa, y + 3, wb < 1 ? 1.0 : wb, ROW - 6, color_bad);
		web_count(a[i] + (b ? b[i] : 0), t);
		buf_printf(out, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" fill=\"#5b6578\">",
		           LW + wa + wb + 5, y + 15);
		web_html(out, t);
		buf_append_str(out, "</text>");
	}
	legend(out, a_name, b ? color_ok : color_bad, b_name, color_bad);
}

/* ------------------------------------------------------------ tables */

void
web_td_count(struct buf *b, uint64_t v)
{
	char t[32];

	web_count(v, t);
	buf_printf(b, "<td class=\"n\">%s</td>", t);
}

void
web_td_text(struct buf *b, const char *s)
{
	buf_append_str(b, "<td>");
	if (s)
		web_html(b, s);
	else
		buf_append_str(b, "<span class=\"muted\">(none)</span>");
	buf_append_str(b, "</td>");
}

void
web_td_day(struct buf *b, int64_t t)
{
	char d[16];

	if (t == 0) {
		buf_append_str(b, "<td>-</td>");
		return;
	}
	web_day(t, d);
	buf_printf(b, "<td class=\"n\">%s</td>", d);
}

void
web_table_begin(struct buf *b, const char *caption, const char *const *cols)
{
	buf_append_str(b, "<div class=\"tw\"><table><caption>");
	web_html(b, caption);
	buf_append_str(b, "</caption><thead><tr>");
	for (; *cols; cols++)
		buf_printf(b, "<th%s>%s</th>", (*cols)[0] == '#' ? " class=\"n\"" : "",
		           (*cols)[0] == '#' ? *cols + 1 : *cols);
	buf_append_str(b, "</tr></thead><tbody>");
}

void
web_table_end(struct buf *b, size_t rows, size_t cols, const char *empty)
{
	if (rows == 0)
		buf_printf(b, "<tr><td colspan=\"%zu\" class=\"muted\">%s</td></tr>", cols, empty);
	buf_append_str(b, "</tbody></table></div>");
}
