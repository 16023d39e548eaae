/*
 * store.c - opens the configured store backend.  See store.h.
 *
 * Threading: no shared state.
 */
#include "store/store.h"

#include <string.h>

int
store_open(const char *backend, const char *path, struct store **out, struct err *e)
{
	if (backend == NULL || strcmp(backend, "sqlite") == 0)
		return store_open_sqlite(path, out, e);
	if (strcmp(backend, "postgresql") == 0)
		return store_open_pg(path, NULL, out, e);
	return err_set(e, ERR_INVALID,
	               "store.backend: unknown backend '%s' (expected sqlite or postgresql)",
	               backend);
}

void
store_close(struct store *s)
{
	if (s != NULL)
		s->ops->close(s);
}
