/*
 * err.c - filling struct err.  See err.h.  Thread-safe (no state).
 */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}

int
err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

int
err_prefix(struct err *e, const char *fmt, ...)
{
	char prefix[ERR_MSG_MAX];
	va_list ap;
	int n;

	if (e == NULL)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(prefix, sizeof(prefix) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return e->code;
	size_t plen = strlen(prefix);
	memcpy(prefix + plen, ": ", 3);
	plen += 2;
	if (plen >= sizeof(e->msg) - 1)
		plen = sizeof(e->msg) - 1;
	/* shift the old message right, truncating its tail, then put the prefix in front */
	size_t old = strlen(e->msg);
	if (old > sizeof(e->msg) - 1 - plen)
		old = sizeof(e->msg) - 1 - plen;
	memmove(e->msg + plen, e->msg, old);
	e->msg[plen + old] = '\0';
	memcpy(e->msg, prefix, plen);
	return e->code;
}
