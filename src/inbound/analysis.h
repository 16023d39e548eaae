/*
 * analysis.h - summaries of received reports for `tlsrpt received summary` (issue 8).
 *
 * Fed with the rows of store_ops.received_walk() (analysis_row is a store_received_fn),
 * it groups successes and failures by day, reporter, MX, result type, sending IP or
 * policy, with the top failure reasons of each group.
 *
 * Grouping rules: by day / reporter / policy the policy summary counts are summed
 * (total-successful-session-count, total-failure-session-count) and failure details
 * only give the reasons.  By result-type / sending-ip / mx failures come from the
 * failure details (failed-session-count); failures a policy counts but no detail
 * explains go to the group "(no failure details)" (by mx: the policy's mx-host);
 * successes go to "(successful sessions)" (by mx: the policy's mx-host list).
 * The totals (struct analysis success/failure) are always the policy summary counts,
 * whatever the grouping; groups built from failure details can add up to more when a
 * reporter's details exceed its summary (quirk failure-sum-mismatch).
 * Threading: a struct analysis is used by one thread.
 */
#ifndef TLSRPTD_INBOUND_ANALYSIS_H
#define TLSRPTD_INBOUND_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum analysis_by {
	ANALYSIS_BY_DAY = 0,
	ANALYSIS_BY_REPORTER,
	ANALYSIS_BY_MX,
	ANALYSIS_BY_RESULT_TYPE,
	ANALYSIS_BY_SENDING_IP,
	ANALYSIS_BY_POLICY,
};

/* Parses "day", "reporter", "mx", "result-type", "sending-ip", "policy"; 0 or -1. */
int analysis_by_parse(const char *s, enum analysis_by *out);
const char *analysis_by_name(enum analysis_by by);

struct analysis_reason {
	char *name; /* result-type */
	uint64_t count;
};

struct analysis_group {
	char *key;
	uint64_t success, failure;
	struct analysis_reason *reasons; /* sorted by count descending after finish */
	size_t n_reasons;
};

struct analysis {
	enum analysis_by by;
	struct analysis_group *groups;
	size_t n, cap;
	uint64_t success, failure; /* totals of the policy summary counts */
	size_t reports;
	/* walk state */
	char *report_key;     /* day / reporter of the current report */
	char *policy_key;     /* policy / mx key of the current policy */
	uint64_t unexplained; /* failures of the current policy not yet explained */
};

void analysis_init(struct analysis *a, enum analysis_by by);
/* A store_received_fn; ctx is the struct analysis.  Always returns 0. */
int analysis_row(void *ctx, const struct store_received_row *row);
/* Ends the walk and sorts: by day and policy by key, else by sessions descending. */
void analysis_finish(struct analysis *a);
void analysis_free(struct analysis *a);

/* failures / (successes + failures), 0 when both are 0. */
double analysis_rate(uint64_t success, uint64_t failure);

#endif
