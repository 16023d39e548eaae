/*
 * store.c - opens the configured store backend.  See store.h.
 *
 * Threading: no shared state.
 */
#include "store/store.h"

#include <string.h>

#include "config/conf.h"

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

int
store_open_conf(const struct conf *conf, struct store **out, struct err *e)
{
	const char *backend = conf_enum(conf, "store.backend");

	if (strcmp(backend, "postgresql") == 0)
		return store_open_pg(conf_str(conf, "store.url"), conf_str(conf, "store.password"),
		                     out, e);
	return store_open(backend, conf_str(conf, "store.path"), out, e);
}

int
store_supports(const struct store *s, enum store_area area, struct err *e)
{
	const struct store_ops *o = s->ops;
	bool ok = true;
	const char *what = "";

	switch (area) {
	case STORE_AREA_OUTBOX:
		ok = o->outbox_insert && o->outbox_list && o->outbox_get && o->outbox_max_part &&
		     o->outbox_delivery_update && o->purge;
		what = "the outbox (report generation and delivery)";
		break;
	case STORE_AREA_RECEIVED:
		ok = o->received_add && o->received_walk && o->received_raw && o->received_purge;
		what = "received reports";
		break;
	case STORE_AREA_DELIVERY:
		ok = o->outbox_get && o->outbox_delivery_update && o->outbox_due &&
		     o->outbox_claim && o->outbox_reset;
		what = "report delivery state";
		break;
	}
	if (ok)
		return 0;
	return err_set(e, ERR_BADSTATE,
	               "the %s store does not hold %s yet; use store.backend = \"sqlite\" for it",
	               o->name, what);
}

void
store_close(struct store *s)
{
	if (s != NULL)
		s->ops->close(s);
}
