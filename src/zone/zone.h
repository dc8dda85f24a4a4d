/*
 * zone.h - the zone engine inside the server: the shared index, kept in
 * step with the database, and the hooks the registries call when a school
 * or a venue changes.
 *
 * A registry calls zone_*_changed() inside the write transaction that
 * changed the record (after writing it, before committing): the engine
 * re-judges that record's findings in the same transaction, writes a row
 * to zone_changes (other servers follow that log) and records why each
 * finding changed. When the transaction is rolled back instead, the
 * registry calls zone_*_rolled_back() after the rollback so that the index
 * matches the database again.
 */
#ifndef XIAOAN_ZONE_H
#define XIAOAN_ZONE_H

#include <stdint.h>

struct db;
struct store;
struct audit_actor;
#include "core/router.h"

/* why: a short Chinese phrase for the findings' history, e.g. "场所新增",
 * "场所迁址", "场所停业", "学校边界修改". */
int zone_venue_changed(struct db *db, const struct audit_actor *a, int64_t venue_id, const char *why);
void zone_venue_rolled_back(struct db *db, int64_t venue_id);
int zone_school_changed(struct db *db, const struct audit_actor *a, int64_t school_id, const char *why);
void zone_school_rolled_back(struct db *db, int64_t school_id);

/* Loads the index from the database (at start); seeds the rule rows of
 * docs/domain.md when missing. Returns 0 or a store error. */
int zone_start(struct store *s);
void zone_stop(void);

/* The nightly job: re-judges with the rules in force today and prunes the
 * change log to a week (servers that missed pruned rows rebuild their
 * index). 0, or -1 with err. */
int zone_nightly(struct db *db, char *err, size_t errlen);

extern const struct route zone_routes[];

#endif
