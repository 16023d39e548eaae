/*
 * file.c - reading a whole file into a capped buffer.  See file.h.
 */
#include "util/file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int
file_read(const char *path, struct buf *out, struct err *e)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;
	int rc = 0;

	if (f == NULL)
		return err_set(e, ERR_IO, "cannot open: %s", strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(out, chunk, n) != 0) {
			rc = err_set(e, ERR_TOOBIG, "file larger than %zu bytes", out->max);
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = err_set(e, ERR_IO, "read error: %s", strerror(errno));
	fclose(f);
	return rc;
}
