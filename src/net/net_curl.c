/*
 * net_curl.c - libcurl global initialisation shared by http_client and smtp_client.
 *
 * Threading: net_global_init() / net_global_cleanup() run in main() (or a test's
 * set-up) while no other thread uses libcurl; the counter is only a guard against
 * unbalanced calls, not a licence to call them from several threads.
 */
#include "net/net_curl.h"

#include <curl/curl.h>

static int init_count;

int
net_global_init(struct err *e)
{
	if (init_count == 0) {
		CURLcode rc = curl_global_init(CURL_GLOBAL_ALL);
		if (rc != CURLE_OK)
			return err_set(e, ERR_BADSTATE, "net: libcurl initialisation failed: %s",
			               curl_easy_strerror(rc));
	}
	init_count++;
	return 0;
}

void
net_global_cleanup(void)
{
	if (init_count == 0)
		return;
	if (--init_count == 0)
		curl_global_cleanup();
}

const char *
net_user_agent(void)
{
	return "tlsrptd/" TLSRPTD_VERSION;
}
