/*
 * access.h - data scope (属地管理, 分级负责) as SQL.
 *
 * A user's data scope is one of: all; a region subtree (scope_path is the
 * region's materialised path); a unit and its children (scope_path is the
 * unit's path); one school (scope_value is its id). Every list and read
 * adds scope_sql() to its WHERE clause, so records outside the scope are
 * never fetched; a single record outside it answers 404.
 */
#ifndef XIAOAN_ACCESS_H
#define XIAOAN_ACCESS_H

#include <stdint.h>

struct principal;
struct sqlb;
struct db;

/* The columns of a table that link a row to the scope kinds. Any may be
 * NULL: a row without that link is invisible to that scope kind. */
struct scope_cols {
	const char *region;  /* a regions.code column, e.g. "s.region_code" */
	const char *unit;    /* a units.id column */
	const char *unit2;   /* a second units.id column (e.g. the responsible police station) */
	const char *school;  /* a schools.id column */
	/* for rows not linked to a school (venues): a regions.code column a
	 * school scope matches against its school's own township */
	const char *school_region;
};

/* Appends " AND (...)" limiting rows to the caller's scope. */
void scope_sql(const struct principal *p, struct sqlb *b, const struct scope_cols *c);

/* Is a region (code) inside the caller's scope? For unit and school
 * scopes: is it the region of the caller's unit or school or below it. */
int scope_region_ok(struct db *db, const struct principal *p, const char *region_code);
/* Is a unit inside the caller's scope (region subtree, unit subtree,
 * or the school scope's own unit)? */
int scope_unit_ok(struct db *db, const struct principal *p, int64_t unit_id);

/* Would a user with scope (kind, value) see only what the caller sees?
 * Used so that an administrator cannot create a wider scope than his own.
 * Returns 1 when contained, 0 when not, -1 when value names nothing. */
int scope_contains(struct db *db, const struct principal *p, const char *kind, const char *value);

/* Every permission the platform knows, with its Chinese label, for the
 * role editor and for checking role definitions. NULL-terminated. */
struct perm_info {
	const char *code;
	const char *label;
};
extern const struct perm_info perm_catalog[];
int perm_known(const char *code);

#endif
