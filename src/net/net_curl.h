/*
 * net_curl.h - process-wide set-up of libcurl for the HTTP and SMTP clients.
 *
 * libcurl's global state is not thread-safe to create: main() calls net_global_init()
 * once before any thread starts, and net_global_cleanup() once after the last thread
 * using http_post() / smtp_send*() has ended.  Tests do the same in their set-up and
 * tear-down.
 */
#ifndef TLSRPTD_NET_NET_CURL_H
#define TLSRPTD_NET_NET_CURL_H

#include "util/err.h"

/* Initialises libcurl (SSL included).  Returns 0, or ERR_BADSTATE with a message.
 * Calls after the first successful one only count up; each needs a cleanup. */
int net_global_init(struct err *e);
/* Undoes one net_global_init(); the last one releases libcurl's global state. */
void net_global_cleanup(void);

/* "tlsrptd/<version>", the User-Agent of our HTTP requests. */
const char *net_user_agent(void);

#endif
