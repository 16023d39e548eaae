/*
 * file.h - reading a whole file into a capped buffer.
 *
 * For the CLI, tools and tests: the cap is the buffer's (struct buf max).  Thread-safe.
 */
#ifndef TLSRPTD_UTIL_FILE_H
#define TLSRPTD_UTIL_FILE_H

#include "util/buf.h"
#include "util/err.h"

/*
 * Appends the contents of the file at path to out.  Returns 0, ERR_IO with
 * "cannot open: <reason>" or "read error: <reason>", or ERR_TOOBIG with
 * "file larger than N bytes" (N = out->max) when it does not fit.  e may be NULL.
 */
int file_read(const char *path, struct buf *out, struct err *e);

#endif
