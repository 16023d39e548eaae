/*
 * mime.h - zero-copy MIME parser (RFC 5322, RFC 2045-2047, RFC 2231, RFC 6522) and the
 * locator of TLS report parts in a report e-mail (RFC 8460 section 5).
 *
 * mime_parse() turns a raw message (a span the caller keeps alive) into a flat table of
 * parts (part 0 is the whole message) and header fields.  Every span points into the
 * original bytes, so DKIM can canonicalize exactly what was received.  CRLF and bare LF
 * line endings are both accepted.  Decoding (transfer encodings, RFC 2047 words, header
 * unfolding) happens on request into capped struct bufs.
 */
#ifndef TLSRPTD_MAIL_MIME_H
#define TLSRPTD_MAIL_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/span.h"

/* Module error codes (besides the generic ERR_* ones). */
enum {
	MIME_ENOREPORT = -120, /* mime_find_reports(): no report part in the message */
};

/* Caps; mime_limits_default() fills the defaults named in brackets. */
struct mime_limits {
	size_t max_message; /* bytes of the raw message [64 MiB] */
	size_t max_headers; /* header fields in the whole message [1000] */
	size_t max_name;    /* bytes of one field name [1 KiB] */
	size_t max_value;   /* bytes of one field value, folded [64 KiB] */
	size_t max_parts;   /* entities including the root [100] */
	unsigned max_depth; /* nesting of multiparts / message/rfc822 [10] */
	bool headers_only;  /* parse only the top-level header block [false] */
};

void mime_limits_default(struct mime_limits *l);

enum mime_cte {
	MIME_CTE_7BIT = 0, /* also the default when the field is absent */
	MIME_CTE_8BIT,
	MIME_CTE_BINARY,
	MIME_CTE_QP,
	MIME_CTE_BASE64,
	MIME_CTE_OTHER, /* unknown encoding: mime_part_decode() returns the bytes as they are */
};

struct mime_header {
	struct span name;  /* field name as written (no colon) */
	struct span value; /* after the colon up to (not including) the final line ending */
	struct span raw;   /* the whole field including its final line ending */
};

#define MIME_TYPE_MAX 96

struct mime_part {
	struct span raw;     /* header block + blank line + body */
	struct span headers; /* the header block (fields with their line endings) */
	struct span body;    /* the body, still transfer-encoded */
	size_t hdr_first;    /* index of the first header field in mime_msg.hdrs */
	size_t hdr_count;    /* number of header fields of this part */
	int parent;          /* index of the parent part, -1 for the root */
	unsigned depth;      /* 0 for the root */
	bool container;      /* multipart/... or message/rfc822 with child parts */
	/* lower-case "type/subtype" (text/plain when absent or unparsable, RFC 2045 5.2) */
	char type[MIME_TYPE_MAX];
	enum mime_cte cte;
};

struct mime_msg {
	struct span raw;
	struct mime_header *hdrs; /* all header fields of all parts, in order */
	size_t nhdrs;
	struct mime_part *parts; /* parts[0] is the message itself, then depth-first order */
	size_t nparts;
	struct mime_limits lim;
};

/*
 * Parses raw into *m (caller-owned, initialised by this call).  raw must stay valid and
 * unchanged while m is used.  lim NULL means the defaults.  Returns 0, ERR_TOOBIG when a
 * cap is exceeded, or ERR_INVALID for a message that is not a message (e.g. no header
 * field at all); e says which and where.  After any return, mime_msg_clear() frees m.
 */
int mime_parse(struct mime_msg *m, struct span raw, const struct mime_limits *lim, struct err *e);
void mime_msg_clear(struct mime_msg *m);

/*
 * Index (into m->hdrs) of the first / next header field of part `part` named name
 * (ASCII case-insensitive); -1 when there is none.  mime_header_next() continues after
 * index prev.
 */
long mime_header_find(const struct mime_msg *m, size_t part, const char *name);
long mime_header_next(const struct mime_msg *m, size_t part, const char *name, long prev);

/* Appends the unfolded, trimmed value of field value v to out.  Returns 0 or BUF_ETOOBIG. */
int mime_unfold(struct span v, struct buf *out);

/*
 * Appends the unfolded, trimmed value of the first field `name` of part 0 to out.
 * Returns 0, ERR_NOTFOUND (nothing appended) or BUF_ETOOBIG.
 */
int mime_header_get(const struct mime_msg *m, const char *name, struct buf *out);

/*
 * Appends the display form of an unstructured header value: unfolded, RFC 2047
 * encoded-words (B and Q; utf-8, us-ascii, iso-8859-1) decoded to UTF-8, other charsets
 * and malformed words left as written.  Returns 0 or BUF_ETOOBIG (out holds a prefix).
 */
int mime_decode_words(struct span v, struct buf *out);

/* The decoded Subject of the message (mime_decode_words of the first Subject). */
int mime_subject(const struct mime_msg *m, struct buf *out);

/*
 * Lower-cased domain of the first address in From (the part after the last '@' of the
 * angle-addr, or of the bare addr-spec).  Returns 0, ERR_NOTFOUND or ERR_INVALID.
 */
int mime_from_domain(const struct mime_msg *m, char *out, size_t cap);

/*
 * The RFC 8460 section 5.3 fields of the message: TLS-Report-Domain and
 * TLS-Report-Submitter, unfolded and trimmed (appended to out).  Returns 0,
 * ERR_NOTFOUND or BUF_ETOOBIG.
 */
int mime_report_domain(const struct mime_msg *m, struct buf *out);
int mime_report_submitter(const struct mime_msg *m, struct buf *out);

/* The Date field as UTC seconds.  Returns 0, ERR_NOTFOUND, or ERR_INVALID (unparsable). */
int mime_date(const struct mime_msg *m, int64_t *t);

/*
 * File name of part `part`: Content-Disposition filename, else Content-Type name, else a
 * Content-Description that looks like a report file name (Microsoft).  "" when none.
 */
void mime_part_filename(const struct mime_msg *m, size_t part, char *out, size_t cap);

/* Message-ID without the angle brackets.  Returns 0, ERR_NOTFOUND or BUF_ETOOBIG. */
int mime_message_id(const struct mime_msg *m, struct buf *out);

/*
 * Parses an RFC 5322 date-time ("Fri, 3 Feb 2023 05:09:22 +0000"; day name, seconds and
 * comments optional; obsolete zone names UT/GMT/EST.. accepted).  Returns 0 and sets *t
 * (UTC seconds), or -1.
 */
int mime_parse_date(struct span v, int64_t *t);

/*
 * Content-Type / Content-Disposition parameter lookup over a field value: copies the
 * value of parameter name (case-insensitive; quoted strings unquoted, RFC 2231 name*
 * and name*0.. continuations joined and %-decoded) to out[0..cap).  Returns 0, -1 when
 * absent, or ERR_TOOBIG when it does not fit (out truncated).
 */
int mime_param(struct span value, const char *name, char *out, size_t cap);

/*
 * Appends the transfer-decoded body of part `part` (base64 tolerant of white space and
 * line breaks, quoted-printable, 7bit/8bit/binary as they are) to out.  Returns 0,
 * ERR_INVALID for a container part, or BUF_ETOOBIG when out's cap is reached.
 */
int mime_part_decode(const struct mime_msg *m, size_t part, struct buf *out);

/* The decoders on their own (append to out; 0 or BUF_ETOOBIG). */
int mime_decode_base64(struct span in, struct buf *out);
int mime_decode_qp(struct span in, struct buf *out);

/* How mime_find_reports() recognised a part. */
enum mime_found {
	MIME_FOUND_TYPE = 1,  /* by media type */
	MIME_FOUND_NAME = 2,  /* by file name */
	MIME_FOUND_SNIFF = 3, /* by content */
};

struct mime_report {
	size_t part; /* index into m->parts */
	char type[MIME_TYPE_MAX];
	char filename[256]; /* "" when the part names none */
	struct buf data;    /* decoded bytes (owned; freed by mime_reports_free) */
	bool gzip;          /* data starts with the gzip magic 1f 8b */
	enum mime_found how;
};

/*
 * Finds every TLS report part in m (DESIGN.md "Rules for incoming reports"): by media
 * type (application/tlsrpt+gzip, +json, application/tlsrpt, application/gzip,
 * application/x-gzip, application/json, application/octet-stream), then by file name
 * (.json.gz, .json, .gz in Content-Disposition filename or Content-Type name), then by
 * sniffing (gzip magic or '{'; text parts only as the last resort).  Each part is
 * decoded into a buffer capped at max_decoded bytes.  On success *out is an array of *n
 * (>= 1) reports that the caller frees with mime_reports_free().  Returns 0,
 * MIME_ENOREPORT ("no TLS report found in message") or BUF_ETOOBIG (a part decodes to
 * more than max_decoded).
 */
int mime_find_reports(const struct mime_msg *m, size_t max_decoded, struct mime_report **out,
                      size_t *n, struct err *e);
void mime_reports_free(struct mime_report *r, size_t n);

#endif
