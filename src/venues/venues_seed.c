/*
 * venues_seed.c - creating venues outside a request: the demo county and
 * bulk set-up tools. Same validation table and audit as the API; no zone
 * hook (the zone engine judges every venue when the server starts).
 */
#include <stdio.h>

#include "auth/audit.h"
#include "core/clock.h"
#include "core/valid.h"
#include "store/store.h"
#include "venues/venues.h"
#include "venues/venues_int.h"

int venue_add(struct db *db, const struct audit_actor *actor, json_t *rec, int64_t *id, char *err, size_t errlen)
{
	struct verr e;
	json_t *scalars = json_copy(rec);
	json_object_del(scalars, "entrances");
	int bad = valid_json(scalars, venue_fields, 0, &e);
	json_decref(scalars);
	if (bad) {
		snprintf(err, errlen, "%s（%s）", e.message, e.field ? e.field : "");
		return -1;
	}
	char at[32], ids[24];
	json_t *after = NULL;
	clock_iso(at);
	int rc = venue_store_insert(db, rec, at, id);
	if (rc == STORE_OK) {
		snprintf(ids, sizeof ids, "%lld", (long long)*id);
		rc = venue_store_get(db, NULL, *id, 0, &after, NULL);
	}
	if (rc == STORE_OK)
		rc = audit_append(db, actor, "create", "venue", ids, NULL, after);
	json_decref(after);
	if (rc) {
		snprintf(err, errlen, "场所 %s：%s", json_string_value(json_object_get(rec, "name")), db_errmsg(db));
		return -1;
	}
	return 0;
}
