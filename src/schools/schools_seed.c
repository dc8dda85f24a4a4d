/*
 * schools_seed.c - creating schools outside a request: the demo county and
 * bulk set-up tools. Same validation table and audit as the API.
 */
#include <stdio.h>

#include "auth/audit.h"
#include "core/clock.h"
#include "core/valid.h"
#include "schools/schools.h"
#include "schools/schools_int.h"
#include "store/store.h"
#include "zone/zone.h"

int school_add(struct db *db, const struct audit_actor *actor, json_t *rec, int64_t *id, char *err, size_t errlen)
{
	struct verr e;
	/* the geometry (WGS84) is checked by school_geom_prepare, the rest by
	 * the field table */
	json_t *plain = json_copy(rec);
	json_object_del(plain, "boundary");
	json_object_del(plain, "entrances");
	int bad = valid_json(plain, school_fields, 0, &e);
	json_decref(plain);
	if (bad || school_geom_prepare(rec, rec, GEO_WGS84, 1, 0, &e)) {
		snprintf(err, errlen, "%s（%s）", e.message, e.field ? e.field : "");
		return -1;
	}
	char at[32], ids[24];
	json_t *after = NULL;
	clock_iso(at);
	int rc = school_store_insert(db, rec, at, id);
	if (rc == STORE_OK) {
		snprintf(ids, sizeof ids, "%lld", (long long)*id);
		rc = school_store_get(db, NULL, *id, 0, &after, NULL);
	}
	if (rc == STORE_OK)
		rc = audit_append(db, actor, "create", "school", ids, NULL, after);
	if (rc == STORE_OK)
		rc = zone_school_changed(db, actor, *id, "学校新增");
	json_decref(after);
	if (rc) {
		snprintf(err, errlen, "学校 %s：%s", json_string_value(json_object_get(rec, "code")), db_errmsg(db));
		return -1;
	}
	return 0;
}
