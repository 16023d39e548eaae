/*
 * gzip.c - gzip compression and capped decompression.  See gzip.h.
 *
 * RFC 1952 (gzip members, section 2.2 allows several members in one file), RFC 8460
 * section 5.2.  The decompressor hands zlib at most (cap - produced + 1) bytes of
 * output space at a time, so a bomb is stopped within one chunk of the cap.
 * Thread-safe as long as each gzip_writer has one user.
 */
#include "report/gzip.h"

#include <stdlib.h>
#include <stdint.h>
#include <zlib.h>

#include "util/xalloc.h"

enum { GZ_CHUNK = 16384 };

struct gzip_writer {
	z_stream zs;
	struct buf *out;
	bool finished;
};

bool
gzip_is_gzip(struct span s)
{
	return s.len >= 2 && (unsigned char)s.p[0] == 0x1f && (unsigned char)s.p[1] == 0x8b;
}

struct gzip_writer *
gzip_writer_new(struct buf *out, int level)
{
	struct gzip_writer *gz = xcalloc(1, sizeof(*gz));

	gz->out = out;
	/* 15 window bits + 16 = gzip header and trailer; 8 = default memory level */
	if (deflateInit2(&gz->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort(); /* only on OOM or bad parameters: both our bugs */
	return gz;
}

static int
deflate_some(struct gzip_writer *gz, int flush, struct err *e)
{
	char chunk[GZ_CHUNK];
	int zrc;

	do {
		gz->zs.next_out = (Bytef *)chunk;
		gz->zs.avail_out = sizeof(chunk);
		zrc = deflate(&gz->zs, flush);
		if (zrc == Z_STREAM_ERROR)
			return err_set(e, ERR_BADSTATE, "gzip: deflate state error");
		size_t have = sizeof(chunk) - gz->zs.avail_out;
		if (have > 0 && buf_append(gz->out, chunk, have) != 0)
			return err_set(e, ERR_TOOBIG,
			               "gzip: compressed output exceeds the cap of %zu bytes",
			               gz->out->max);
	} while (gz->zs.avail_out == 0 || (flush == Z_FINISH && zrc != Z_STREAM_END));
	return 0;
}

int
gzip_writer_write(struct gzip_writer *gz, const void *p, size_t n, struct err *e)
{
	const unsigned char *q = p;

	if (gz->finished)
		return err_set(e, ERR_BADSTATE, "gzip: write after finish");
	while (n > 0) {
		uInt step = n > (1u << 30) ? (1u << 30) : (uInt)n;
		gz->zs.next_in = (Bytef *)q;
		gz->zs.avail_in = step;
		int rc = deflate_some(gz, Z_NO_FLUSH, e);
		if (rc != 0)
			return rc;
		q += step;
		n -= step;
	}
	return 0;
}

int
gzip_writer_finish(struct gzip_writer *gz, struct err *e)
{
	if (gz->finished)
		return err_set(e, ERR_BADSTATE, "gzip: finish called twice");
	gz->zs.next_in = NULL;
	gz->zs.avail_in = 0;
	int rc = deflate_some(gz, Z_FINISH, e);
	if (rc == 0)
		gz->finished = true;
	return rc;
}

void
gzip_writer_free(struct gzip_writer *gz)
{
	if (gz == NULL)
		return;
	deflateEnd(&gz->zs);
	free(gz);
}

int
gzip_compress(struct span in, struct buf *out, struct err *e)
{
	struct gzip_writer *gz = gzip_writer_new(out, Z_DEFAULT_COMPRESSION);
	int rc = gzip_writer_write(gz, in.p, in.len, e);

	if (rc == 0)
		rc = gzip_writer_finish(gz, e);
	gzip_writer_free(gz);
	return rc;
}

int
gzip_decompress(struct span in, size_t max_out, struct buf *out, struct err *e)
{
	z_stream zs = { 0 };
	size_t produced = 0, members = 0;
	int rc = 0;

	if (!gzip_is_gzip(in))
		return err_set(e, ERR_INVALID, "gzip: not a gzip stream (magic 1f 8b missing)");
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return err_set(e, ERR_NOMEM, "gzip: cannot initialise zlib");
	zs.next_in = (Bytef *)in.p;
	zs.avail_in = (uInt)(in.len > UINT32_MAX ? UINT32_MAX : in.len);
	if (in.len > UINT32_MAX) {
		rc = err_set(e, ERR_TOOBIG, "gzip: compressed input larger than 4 GiB");
		goto out;
	}
	for (;;) {
		/* room for at most the cap plus one byte, so passing the cap is detected */
		unsigned char chunk[GZ_CHUNK];
		size_t left = max_out - produced;
		size_t room = left >= sizeof(chunk) ? sizeof(chunk) : left + 1;
		zs.next_out = chunk;
		zs.avail_out = (uInt)room;
		int zrc = inflate(&zs, Z_NO_FLUSH);
		size_t have = room - zs.avail_out;
		produced += have;
		if (produced > max_out) {
			have -= produced - max_out;
			buf_append(out, chunk, have);
			rc = err_set(e, ERR_TOOBIG,
			             "gzip: decompressed data exceeds the cap of %zu bytes",
			             max_out);
			goto out;
		}
		if (have > 0 && buf_append(out, chunk, have) != 0) {
			rc = err_set(e, ERR_TOOBIG, "gzip: output buffer cap of %zu bytes reached",
			             out->max);
			goto out;
		}
		if (zrc == Z_STREAM_END) {
			members++;
			size_t used = in.len - zs.avail_in;
			if (zs.avail_in == 0)
				break;
			if (!gzip_is_gzip(span_sub(in, used, 2))) {
				rc = err_set(
				        e, ERR_INVALID,
				        "gzip: %u bytes of trailing garbage after member %zu at "
				        "offset %zu",
				        zs.avail_in, members, used);
				goto out;
			}
			if (inflateReset(&zs) != Z_OK) {
				rc = err_set(e, ERR_INVALID, "gzip: cannot reset zlib");
				goto out;
			}
			continue;
		}
		if (zrc == Z_BUF_ERROR && zs.avail_in == 0) {
			rc = err_set(e, ERR_INVALID,
			             "gzip: truncated stream (expected more input after %zu bytes)",
			             in.len);
			goto out;
		}
		if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
			rc = err_set(e, ERR_INVALID, "gzip: corrupt data at input offset %zu: %s",
			             in.len - zs.avail_in, zs.msg ? zs.msg : "inflate error");
			goto out;
		}
		if (zrc == Z_OK && zs.avail_in == 0 && zs.avail_out > 0) {
			/* zlib consumed everything and wants more but has no more to give */
			rc = err_set(e, ERR_INVALID,
			             "gzip: truncated stream (expected more input after %zu bytes)",
			             in.len);
			goto out;
		}
	}
out:
	inflateEnd(&zs);
	return rc;
}
