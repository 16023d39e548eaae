/*
 * web_text.h - escaping for the web role: HTML text and attributes, URL query
 * components, JSON strings; number formatting for pages.
 *
 * Every string that did not come from our own code (report fields, query arguments,
 * store contents) goes through one of these before it reaches a response.
 * Pure functions; thread-safe.
 */
#ifndef TLSRPTD_WEB_WEB_TEXT_H
#define TLSRPTD_WEB_WEB_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/*
 * Appends s (NULL: nothing) with & < > " ' escaped as entities, so that the result is
 * safe in element text and in quoted attribute values.  Bytes that are not valid UTF-8
 * and control characters other than tab/newline become U+FFFD.  Returns 0 or BUF_ETOOBIG.
 */
int web_html(struct buf *out, const char *s);
/* Appends s percent-encoded for a URL query component (unreserved bytes kept). */
int web_url(struct buf *out, const char *s);
/*
 * Appends s as a JSON string with quotes (NULL: null).  Escapes " \ and control
 * characters, and < > & as \u003c... so that JSON never forms markup; invalid UTF-8
 * becomes U+FFFD.
 */
int web_json(struct buf *out, const char *s);
/* "1,234,567" into out (at least 32 bytes). */
void web_count(uint64_t v, char out[32]);
/* "YYYY-MM-DD" of a UTC time into out (at least 16 bytes). */
void web_day(int64_t t, char out[16]);

#endif
