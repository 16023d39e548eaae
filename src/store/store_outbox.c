/*
 * store_outbox.c - names of the outbox states (backend-neutral part of the outbox).
 * Pure, thread-safe.
 */
#include <string.h>

#include "store/store.h"

static const char *const report_states[] = { "ready", "invalid" };
static const char *const delivery_states[] = { "pending", "sent", "failed", "given-up" };

const char *
store_report_state_name(enum store_report_state s)
{
	return (unsigned)s < 2 ? report_states[s] : "?";
}

const char *
store_delivery_state_name(enum store_delivery_state s)
{
	return (unsigned)s < 4 ? delivery_states[s] : "?";
}

int
store_delivery_state_parse(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, delivery_states[i]) == 0)
			return i;
	return -1;
}
