/*
 * httpd_metrics.h - tlsrpt_http_requests_total{status} (docs/metrics.md): every answer
 * of the HTTP server counted by status code.  Lock-free; any thread.
 */
#ifndef TLSRPTD_NET_HTTPD_METRICS_H
#define TLSRPTD_NET_HTTPD_METRICS_H

/* Counts one answer with this status (unlisted codes count as "other"). */
void httpd_metrics_count(int status);

#endif
