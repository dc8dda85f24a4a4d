/*
 * schools_int.h - between the school handlers (schools_api.c) and the
 * school SQL (schools_store.c); not for other modules.
 *
 * A school travels as a JSON object: the stored fields by their API names
 * (strings "" when empty, numbers or null), plus id, region_name,
 * police_unit_name, created_at and updated_at when read back. Regions and
 * units are read through io/regkit.h, to name them and to resolve what a
 * user typed; the school module never writes them.
 */
#ifndef XIAOAN_SCHOOLS_INT_H
#define XIAOAN_SCHOOLS_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "geo/coord.h"
#include "io/regkit.h"

struct db;
struct principal;

/* The stored columns, in the schools table's order (also the audit's). */
extern const struct rk_col school_cols[];
extern const size_t school_ncols;

/* List filters; NULL / 0 = not filtered. Values were validated. */
struct school_filter {
	const char *region;      /* region code: the region and everything below it */
	const char *stage;
	const char *ownership;
	const char *status;
	const char *q;           /* name or code contains (LIKE wildcards are escaped) */
	int64_t police_unit_id;
};

/* Sortable columns: NULL-terminated pairs API name, SQL. */
extern const char *const school_sort_map[];

/* Calls each(arg, rec) for every school in p's scope matching f, in order
 * (sort_sql from school_sort_map, desc for descending), limit < 0 = all.
 * rec is borrowed. Stops when each returns non-zero and returns that value;
 * else 0 or a store error. */
int school_store_list(struct db *db, const struct principal *p, const struct school_filter *f,
		      const char *sort_sql, int desc, int64_t limit, int64_t offset,
		      int (*each)(void *arg, json_t *rec), void *arg);
int school_store_count(struct db *db, const struct principal *p, const struct school_filter *f, int64_t *n);

/* {"total","by_stage","by_region","by_ownership","by_status","boarding"} (new reference). */
int school_store_stats(struct db *db, const struct principal *p, const struct school_filter *f, json_t **out);

/* One school. p NULL = no scope check; with_deleted also finds soft-deleted
 * schools (*deleted tells; may be NULL). *rec is a new reference.
 * STORE_NOTFOUND when absent (or outside the scope). */
/* One school as JSON text dumped with flags, reused from memo while its row
 * is unchanged (regkit.h). */
int school_store_get_text(struct db *db, const struct principal *p, int64_t id, struct rk_memo *memo, size_t flags,
			  char **text, size_t *len);
/* One school (not deleted) as school_store_get reads it, and its row's key
 * (stmt_row_key; malloc'd into *key when key is not NULL). When the row's
 * key equals known, *rec is left NULL: the caller's copy is current. */
int school_store_fetch(struct db *db, const struct principal *p, int64_t id, const char *known, size_t knownlen,
		       json_t **rec, char **key, size_t *keylen);
int school_store_get(struct db *db, const struct principal *p, int64_t id, int with_deleted, json_t **rec,
		     int *deleted);
/* The school holding a 学校标识码, deleted or not, whatever the scope.
 * STORE_NOTFOUND when none. */
int school_store_find_code(struct db *db, const char *code, int64_t *id, int *deleted);

/* Writes rec's stored fields. insert sets *id. update also revives a
 * soft-deleted school. at = clock_iso(). */
int school_store_insert(struct db *db, json_t *rec, const char *at, int64_t *id);
int school_store_update(struct db *db, int64_t id, json_t *rec, const char *at);
int school_store_delete(struct db *db, int64_t id, const char *at);

/*--- geometry (schools_geom.c) ---*/

struct verr;

/* Reads "boundary" and "entrances" from in, when present, into rec:
 * checked, converted from crs to WGS84 (1e-7 degrees), in the record's
 * shape. text = 1 (import) also takes them as text: WKT or GeoJSON for the
 * boundary, a JSON array or "lat,lon,名称,学生;..." for the entrances.
 * allow_outside: entrances outside China accepted. Returns 0, or 1 with e
 * filled (field "boundary" or "entrances"); rec is then partly written. */
int school_geom_prepare(json_t *in, json_t *rec, enum geo_crs crs, int allow_outside, int text, struct verr *e);

/* Sets rec's boundary, area_m2 and entrances from the stored texts (either
 * may be NULL). */
void school_geom_from_row(json_t *rec, const char *boundary, const char *entrances);

/* The text to store of the boundary: its coordinates (NULL when none).
 * malloc'd. */
char *school_boundary_text(json_t *rec);

/* Adds "boundary_wkt" and "entrances_text" (the export's cells) to rec when
 * it has a boundary / entrances. */
void school_geom_export(json_t *rec);

#endif
