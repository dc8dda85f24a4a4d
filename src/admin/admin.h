/*
 * admin.h - administration of regions, units, roles and users: the API
 * (/api/regions, /api/units, /api/roles, /api/users), the built-in roles,
 * `xiaoan init` and the `xiaoan user` commands.
 */
#ifndef XIAOAN_ADMIN_H
#define XIAOAN_ADMIN_H

#include "core/router.h"

#include <stddef.h>
#include <stdint.h>

struct store;
struct db;
struct audit_actor;

/* Creates (idempotently) the built-in roles and the system unit, and a
 * first administrator `username` with scope all. Writes its one-time
 * password into pw. Fails when that user exists. Audited as "system". */
int admin_init(struct store *st, const char *username, char pw[17], char *err, size_t errlen);

/* `xiaoan user add|passwd|disable|list ...`; argv[0] is "user". st is NULL
 * when only --help was asked. Returns the exit code. */
int admin_cli_user(struct store *st, int argc, char **argv);

/* Creates a user in the caller's open transaction (used by the CLI, the
 * API and the demo): validates, hashes a fresh one-time password into pw
 * and audits. scope is "region:CODE", "unit:CODE", "school:ID" or "all".
 * Returns the new id (>0) or -1 with a Chinese reason in err. */
int64_t admin_user_create(struct db *db, const struct audit_actor *actor, const char *username,
			  const char *display_name, const char *role_codes /* space-separated */,
			  const char *unit_code, const char *scope, char pw[17], char *err, size_t errlen);

/* Seeding helpers (the demo county, bulk set-up): insert one region or
 * unit inside the caller's open transaction, audited as actor. The parent
 * must exist; the path is derived. Return 0, or -1 with a reason in err. */
int admin_region_add(struct db *db, const struct audit_actor *actor, const char *code, const char *name,
		     const char *level, const char *parent_code, char *err, size_t errlen);
int admin_unit_add(struct db *db, const struct audit_actor *actor, const char *code, const char *name,
		   const char *type, const char *parent_code, const char *region_code, const char *duties,
		   int64_t *id, char *err, size_t errlen);

extern const struct route admin_routes[];

#endif
