/*
 * zone_int.h - between the zone handlers (zone_api.c) and the engine glue
 * and SQL (zone_store.c); not for other modules.
 */
#ifndef XIAOAN_ZONE_INT_H
#define XIAOAN_ZONE_INT_H

#include <jansson.h>
#include <stdint.h>

#include "zone/engine.h"
#include "zone/zone.h"

struct db;
struct principal;
struct audit_actor;

/* The shared index, locked (zone_lock returns NULL before zone_start). */
struct zx *zone_lock(void);
void zone_unlock(void);
double zone_radius(void);
void zone_configure(double radius_m, double margin_m);

/* Applies the other servers' changes logged in zone_changes. */
int zone_follow(struct db *db);

/* Re-judges every school under region_path ("" = all) with the rules as
 * stored, inside the caller's write transaction; reload = 1 first builds
 * the index afresh from the database (for records written by other tools). */
int zone_recompute(struct db *db, const struct audit_actor *a, const char *region_path, const char *why, int reload,
		   int64_t *pairs, int64_t *changed);
/* After a rolled-back rule change: the index takes the stored rules again. */
void zone_rules_rolled_back(struct db *db);
int zone_set_walking(int64_t school_id, int64_t venue_id, double metres);

/* A rule as JSON (p NULL: no scope). STORE_NOTFOUND when absent. */
int zone_rule_get(struct db *db, const struct principal *p, int64_t id, json_t **out);
/* Records snapshot as version v of rule id. */
int zone_rule_version(struct db *db, int64_t id, int64_t v, json_t *snapshot, const char *by, const char *at);

#endif
