/*
 * venues.h - the venue registry (场所): what other modules may use.
 *
 * A venue is a business or a place the surroundings rules name - an
 * internet café (互联网上网服务营业场所), a bar, a tobacco retailer, a stall,
 * a small hotel... (the 19 categories of venue_categories, rules.md §6) -
 * with its licence (许可证号), operator, township, position in WGS84 and
 * zero or more entrances, its status (营业, 停业, 取缔, 注销) and the member
 * unit responsible for it (责任单位). The zone engine reads venues through
 * its own loader; other modules link to a venue by id.
 */
#ifndef XIAOAN_VENUES_H
#define XIAOAN_VENUES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/router.h"
#include "core/valid.h"

struct db;
struct audit_actor;

/* GET/POST/PATCH/DELETE /api/venues..., categories, stats, audit, import,
 * export. */
extern const struct route venue_routes[];

/* The field table of a venue's scalar fields, shared by the JSON API and
 * the import; "entrances" (an array) is checked beside it. Holds the two
 * input switches "crs" and "allow_outside_china". */
extern const struct vfield venue_fields[];

/* Creates a venue from a record in the API's shape (WGS84, category as a
 * code, entrances an array) inside the caller's open transaction, audited
 * as actor; no scope check and no zone hook (for seeding: the zone engine
 * judges everything when it starts). Returns 0, or -1 with a reason in
 * err. */
int venue_add(struct db *db, const struct audit_actor *actor, json_t *rec, int64_t *id, char *err, size_t errlen);

#endif
