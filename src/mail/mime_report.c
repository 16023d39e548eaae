/*
 * mime_report.c - finds the TLS report parts of a parsed report e-mail.
 *
 * RFC 8460 section 5.3 (multipart/report with an application/tlsrpt+gzip or +json
 * part), RFC 6522, and what real senders do (spec digest section 14, Q16-Q18, Q24):
 * HTML first parts, the unregistered application/tlsrpt, generic gzip / octet-stream
 * types, file names only in name= or Content-Description, gateway banners in the text
 * part.  Order of evidence (DESIGN.md "Rules for incoming reports"): media type, then
 * file name, then content sniffing; text parts only as the last resort.  Every report
 * part is returned, not only the first.  Pure; thread-safe on distinct objects.
 */
#include "mail/mime.h"

#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/xalloc.h"

static const char *const report_types[] = {
	"application/tlsrpt+gzip",  "application/tlsrpt+json", "application/tlsrpt",
	"application/gzip",         "application/x-gzip",      "application/json",
	"application/octet-stream",
};

static bool
type_is_report(const char *t)
{
	for (size_t i = 0; i < sizeof report_types / sizeof report_types[0]; i++)
		if (strcmp(t, report_types[i]) == 0)
			return true;
	return false;
}

static bool
ends_with_nocase(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && str_casecmp(s + n - k, suffix) == 0;
}

static bool
name_is_report(const char *f)
{
	return ends_with_nocase(f, ".json.gz") || ends_with_nocase(f, ".json") ||
	       ends_with_nocase(f, ".gz");
}

void
mime_part_filename(const struct mime_msg *m, size_t part, char *out, size_t cap)
{
	out[0] = '\0';
	long h = mime_header_find(m, part, "Content-Disposition");
	if (h >= 0 && mime_param(m->hdrs[h].value, "filename", out, cap) == 0 && out[0])
		return;
	h = mime_header_find(m, part, "Content-Type");
	if (h >= 0 && mime_param(m->hdrs[h].value, "name", out, cap) == 0 && out[0])
		return;
	out[0] = '\0';
	h = mime_header_find(m, part, "Content-Description");
	if (h >= 0) {
		struct buf b;
		buf_init(&b, cap > 0 ? cap - 1 : 0);
		if (mime_unfold(m->hdrs[h].value, &b) == 0 && name_is_report(buf_cstr(&b)) &&
		    strchr(buf_cstr(&b), ' ') == NULL)
			str_copy(out, cap, buf_cstr(&b));
		buf_clear(&b);
	}
}

/* Content sniff of decoded bytes: 1 gzip, 2 JSON object, 0 neither. */
static int
sniff(struct span d)
{
	if (d.len >= 2 && (unsigned char)d.p[0] == 0x1f && (unsigned char)d.p[1] == 0x8b)
		return 1;
	size_t i = 0;
	if (d.len >= 3 && memcmp(d.p, "\xef\xbb\xbf", 3) == 0)
		i = 3; /* UTF-8 byte order mark */
	while (i < d.len && (d.p[i] == ' ' || d.p[i] == '\t' || d.p[i] == '\r' || d.p[i] == '\n'))
		i++;
	return i < d.len && d.p[i] == '{' ? 2 : 0;
}

void
mime_reports_free(struct mime_report *r, size_t n)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		buf_clear(&r[i].data);
	free(r);
}

struct found {
	struct mime_report *r;
	size_t n;
};

static int
add_report(const struct mime_msg *m, struct found *f, size_t part, const char *filename,
           struct buf *data, enum mime_found how)
{
	f->r = xreallocarray(f->r, f->n + 1, sizeof *f->r);
	struct mime_report *r = &f->r[f->n++];
	memset(r, 0, sizeof *r);
	r->part = part;
	str_copy(r->type, sizeof r->type, m->parts[part].type);
	str_copy(r->filename, sizeof r->filename, filename);
	r->data = *data; /* takes the memory */
	buf_init(data, data->max);
	r->gzip = sniff(buf_span(&r->data)) == 1;
	r->how = how;
	return 0;
}

int
mime_find_reports(const struct mime_msg *m, size_t max_decoded, struct mime_report **out, size_t *n,
                  struct err *e)
{
	struct found f = { NULL, 0 };
	unsigned char *taken = xcalloc(m->nparts ? m->nparts : 1, 1);
	struct buf data;
	char fname[256];
	int rc = 0;

	*out = NULL;
	*n = 0;
	buf_init(&data, max_decoded);
	/* pass 1: media type; pass 2: file name; pass 3: sniff non-text; pass 4: sniff text parts */
	for (int pass = 1; pass <= 4 && f.n == 0 && rc == 0; pass++) {
		for (size_t i = 0; i < m->nparts && rc == 0; i++) {
			const struct mime_part *p = &m->parts[i];
			if (p->container || taken[i])
				continue;
			/* the top-level body of a multipart message is never a report */
			if (m->nparts > 1 && i == 0)
				continue;
			bool is_text = strncmp(p->type, "text/", 5) == 0;
			mime_part_filename(m, i, fname, sizeof fname);
			bool want;
			enum mime_found how;
			if (pass == 1) {
				want = type_is_report(p->type);
				how = MIME_FOUND_TYPE;
			} else if (pass == 2) {
				want = name_is_report(fname);
				how = MIME_FOUND_NAME;
			} else {
				want = (pass == 3) != is_text;
				how = MIME_FOUND_SNIFF;
			}
			if (!want)
				continue;
			buf_reset(&data);
			rc = mime_part_decode(m, i, &data);
			if (rc == BUF_ETOOBIG) {
				err_set(e, ERR_TOOBIG,
				        "MIME part %zu (%s%s%s) decodes to more than %zu bytes "
				        "(cap)",
				        i, p->type, fname[0] ? ", " : "", fname, max_decoded);
				break;
			}
			rc = 0;
			int kind = sniff(buf_span(&data));
			/* generic types must look like a report; tlsrpt types are taken as they are */
			bool specific = strncmp(p->type, "application/tlsrpt", 18) == 0;
			if (kind == 0 && !(pass == 1 && specific) && !(pass == 2 && !is_text))
				continue;
			if (pass == 2 && kind == 0 && data.len == 0)
				continue;
			taken[i] = 1;
			add_report(m, &f, i, fname, &data, how);
		}
	}
	buf_clear(&data);
	free(taken);
	if (rc) {
		mime_reports_free(f.r, f.n);
		return ERR_TOOBIG;
	}
	if (f.n == 0)
		return err_set(e, MIME_ENOREPORT, "no TLS report found in message");
	*out = f.r;
	*n = f.n;
	return 0;
}
