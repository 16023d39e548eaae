/*
 * gzip.h - gzip (RFC 1952) compression and capped decompression on zlib.
 *
 * RFC 8460 section 5.2: reports SHOULD be gzip-compressed; receivers see
 * application/tlsrpt+gzip.  The reader is for untrusted input: it stops as soon as the
 * decompressed size would pass its cap (a bomb costs at most the cap), requires a
 * complete stream, accepts concatenated members and rejects trailing bytes.
 * A struct gzip_writer is used by one thread at a time.
 */
#ifndef TLSRPTD_REPORT_GZIP_H
#define TLSRPTD_REPORT_GZIP_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/span.h"

/* Default cap on decompressed bytes (DESIGN.md: 25 MiB). */
#define GZIP_DEFAULT_MAX_OUT ((size_t)25 * 1024 * 1024)

/* True when s starts with the gzip magic 1f 8b. */
bool gzip_is_gzip(struct span s);

struct gzip_writer;

/*
 * A streaming compressor appending one gzip member to out (out's cap applies; the
 * caller owns out and keeps it alive until gzip_writer_free()).  level is 0..9 or -1
 * for zlib's default.  Caller frees with gzip_writer_free().  Never fails (OOM aborts).
 */
struct gzip_writer *gzip_writer_new(struct buf *out, int level);
/* Compresses n bytes.  Returns 0, or ERR_TOOBIG when out's cap is reached. */
int gzip_writer_write(struct gzip_writer *gz, const void *p, size_t n, struct err *e);
/* Writes the trailer.  Returns 0 or ERR_TOOBIG.  No writes are allowed afterwards. */
int gzip_writer_finish(struct gzip_writer *gz, struct err *e);
/* Frees the writer (not out); gzip_writer_free(NULL) is a no-op. */
void gzip_writer_free(struct gzip_writer *gz);

/* One-shot: appends the gzip of in to out.  Returns 0 or ERR_TOOBIG. */
int gzip_compress(struct span in, struct buf *out, struct err *e);

/*
 * Decompresses the gzip stream in (one or more members) and appends the data to out.
 * At most max_out bytes are ever produced: past that it stops with ERR_TOOBIG
 * ("gzip: decompressed data exceeds the cap of N bytes").  A stream that ends early
 * gives ERR_INVALID "gzip: truncated stream (expected more input after N bytes)";
 * corrupt data and bytes after the last member give ERR_INVALID with a message.
 */
int gzip_decompress(struct span in, size_t max_out, struct buf *out, struct err *e);

#endif
