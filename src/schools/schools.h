/*
 * schools.h - the school registry (学校名录): what other modules may use.
 *
 * The registry holds every school, kindergarten and vocational school of a
 * county with its 学校标识码 (the Ministry of Education's 10-digit school
 * code), its township (所属乡镇（街道）), its duty contacts (校长, 安全干部,
 * 法治副校长) and its responsible police station (责任派出所). Other modules
 * (venues, zones, ledgers) link to a school by id and ask here whether the
 * caller may see it; they never read the schools table themselves.
 */
#ifndef XIAOAN_SCHOOLS_H
#define XIAOAN_SCHOOLS_H

#include <stddef.h>
#include <stdint.h>

#include "core/router.h"
#include "core/valid.h"

struct db;
struct principal;

/* GET/POST/PATCH/DELETE /api/schools..., stats, audit, import, export. */
extern const struct route school_routes[];

/* The one field table of a school, shared by the JSON API and the import
 * (and the JSON fuzzer). Besides the stored fields it holds the two input
 * switches "crs" and "allow_outside_china". */
extern const struct vfield school_fields[];

/* Is school id (not deleted) inside p's data scope (p NULL: any scope)?
 * Writes its name into name (may be NULL) when found. Returns 0, STORE_NOTFOUND (absent,
 * deleted or outside the scope: callers answer 404) or a store error. */
int school_visible(struct db *db, const struct principal *p, int64_t id, char *name, size_t namelen);

struct audit_actor;
/* Creates a school from a JSON record in the API's shape (WGS84
 * coordinates) inside the caller's open transaction, audited as actor;
 * no scope check (for seeding). Returns 0, or -1 with a reason in err. */
int school_add(struct db *db, const struct audit_actor *actor, json_t *rec, int64_t *id, char *err, size_t errlen);

#endif
