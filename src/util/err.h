/*
 * err.h - the error struct every fallible function fills.
 *
 * Fallible functions return int: 0 on success, a negative code of their module on
 * failure, and write a message a user can act on into a caller-owned struct err
 * ("tlsrptd.toml:12: report.tls.aggregate.send: expected hourly|daily|weekly|never").
 * A NULL struct err pointer is allowed everywhere and means "caller does not care".
 * The struct is plain storage: no allocation, nothing to free.
 */
#ifndef TLSRPTD_UTIL_ERR_H
#define TLSRPTD_UTIL_ERR_H

#include <stddef.h>

#define ERR_MSG_MAX 512

struct err {
	int code;              /* the negative code that was returned; 0 = none */
	char msg[ERR_MSG_MAX]; /* NUL-terminated, truncated to fit, never NULL */
};

/* Generic codes shared by all modules; modules may define their own below -100. */
enum {
	ERR_OK = 0,
	ERR_INVALID = -1,  /* bad input or argument */
	ERR_NOMEM = -2,    /* a cap was exceeded or memory ran out */
	ERR_IO = -3,       /* an operating-system call failed (errno in the message) */
	ERR_NOTFOUND = -4, /* the named thing does not exist */
	ERR_TOOBIG = -5,   /* input larger than its configured cap */
	ERR_AGAIN = -6,    /* temporary failure: try again later */
	ERR_BADSTATE = -7, /* call not valid in the current state */
};

/* Empty e (code 0, message ""). */
void err_clear(struct err *e);

/*
 * Sets e->code = code and formats the message.  Returns code, so a caller can write
 * `return err_set(e, ERR_INVALID, "...")`.  e may be NULL.
 */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Prepends "prefix: " to the message already in e (for adding context such as a file
 * name on the way up).  Returns e->code.  e may be NULL (returns 0 then).
 */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
