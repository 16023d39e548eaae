/*
 * httpd_metrics.c - the HTTP server's request counter (see httpd_metrics.h).  The
 * status label has a fixed set of values (the codes our handlers and libmicrohttpd's
 * own answers use, plus "other"), so a client cannot grow it.
 * Threading: registered before main(); afterwards only atomic adds.
 */
#include "net/httpd_metrics.h"

#include "util/metrics.h"

static const char *const status_values[] = {
	"200", "201", "202", "204", "301", "302", "304", "400", "401", "403",
	"404", "405", "408", "411", "413", "415", "429", "500", "503", "other",
};
static const int status_codes[] = { 200, 201, 202, 204, 301, 302, 304, 400, 401, 403,
	                            404, 405, 408, 411, 413, 415, 429, 500, 503 };
enum { N_STATUS = sizeof(status_values) / sizeof(status_values[0]) };

static struct metrics_family m_requests = {
	.name = "tlsrpt_http_requests_total",
	.help = "HTTP requests answered, by status code.",
	.type = METRICS_COUNTER,
	.nlabels = 1,
	.label = { { "status", status_values, N_STATUS } },
};
METRICS_REGISTER(m_requests)

void
httpd_metrics_count(int status)
{
	unsigned i = 0;

	while (i < N_STATUS - 1 && status_codes[i] != status)
		i++;
	metrics_add(&m_requests, i, 0, 1);
}
