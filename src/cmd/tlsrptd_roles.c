/*
 * tlsrptd_roles.c - which parts of the daemon run on this host: server.roles
 * (issue 10, many MTA hosts sharing one PostgreSQL store).  See tlsrptd_roles.h.
 * Threading: pure functions of the configuration.
 */
#include "cmd/tlsrptd_roles.h"

#include <string.h>

static const struct {
	const char *name;
	unsigned bit;
} role_names[] = {
	{ "collector", ROLE_COLLECTOR },
	{ "reporter", ROLE_REPORTER },
	{ "receiver", ROLE_RECEIVER },
	{ "web", ROLE_WEB },
	{ "all", ROLE_ALL },
};

unsigned
roles_of(const struct conf *conf)
{
	size_t n = 0;
	const char *const *v = conf_list(conf, "server.roles", &n);
	unsigned roles = 0;

	/* the loader validated every item (conf_table.c); unknown ones cannot get here */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < sizeof(role_names) / sizeof(role_names[0]); j++)
			if (strcmp(v[i], role_names[j].name) == 0)
				roles |= role_names[j].bit;
	return roles;
}

void
roles_format(unsigned roles, char *out, size_t cap)
{
	size_t o = 0;

	if (cap == 0)
		return;
	out[0] = '\0';
	for (size_t j = 0; j + 1 < sizeof(role_names) / sizeof(role_names[0]); j++) {
		size_t len = strlen(role_names[j].name);
		if (!(roles & role_names[j].bit) || o + len + 2 > cap)
			continue;
		if (o > 0)
			out[o++] = ',';
		memcpy(out + o, role_names[j].name, len + 1);
		o += len;
	}
	if (o == 0 && cap > 4)
		memcpy(out, "none", 5);
}
