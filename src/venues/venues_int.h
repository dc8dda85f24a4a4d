/*
 * venues_int.h - between the venue handlers (venues_api.c) and the venue
 * SQL (venues_store.c); not for other modules.
 *
 * A venue travels as a JSON object: the stored fields by their API names
 * (text "" when empty, numbers or null, entrances an array of
 * {"lat","lon","name"}), plus id, category_name, region_name, unit_name,
 * created_at and updated_at when read back.
 */
#ifndef XIAOAN_VENUES_INT_H
#define XIAOAN_VENUES_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "io/regkit.h"

struct db;
struct principal;

/* The stored columns, in the venues table's order (also the audit's). */
extern const struct rk_col venue_cols[];
extern const size_t venue_ncols;

/* List filters; NULL / 0 = not filtered. Values were validated. */
struct venue_filter {
	const char *region;   /* the region and everything below it */
	const char *category; /* a category code */
	const char *status;
	const char *q;        /* name, licence number or address contains */
	int64_t unit_id;
};

/* Sortable columns: NULL-terminated pairs API name, SQL. */
extern const char *const venue_sort_map[];

/* Calls each(arg, rec) for every venue in p's scope matching f, in order
 * (sort_sql from venue_sort_map, desc for descending), limit < 0 = all.
 * rec is borrowed. Stops when each returns non-zero and returns that
 * value; else 0 or a store error. */
int venue_store_list(struct db *db, const struct principal *p, const struct venue_filter *f, const char *sort_sql,
		     int desc, int64_t limit, int64_t offset, int (*each)(void *arg, json_t *rec), void *arg);
int venue_store_count(struct db *db, const struct principal *p, const struct venue_filter *f, int64_t *n);

/* {"total","by_category","by_status","by_region"} (new reference). */
int venue_store_stats(struct db *db, const struct principal *p, const struct venue_filter *f, json_t **out);

/* One venue. p NULL = no scope check; with_deleted also finds
 * soft-deleted ones (*deleted tells; may be NULL). *rec is new.
 * STORE_NOTFOUND when absent or outside the scope. */
/* One venue as JSON text dumped with flags, reused from memo while its row
 * is unchanged (regkit.h). */
int venue_store_get_text(struct db *db, const struct principal *p, int64_t id, struct rk_memo *memo, size_t flags,
			 char **text, size_t *len);
int venue_store_get(struct db *db, const struct principal *p, int64_t id, int with_deleted, json_t **rec,
		    int *deleted);

/* The venue holding a licence number, whatever the scope: a live one
 * first, else the most recently deleted. STORE_NOTFOUND when none. */
int venue_store_find_licence(struct db *db, const char *licence, int64_t *id, int *deleted);

/* Writes rec's stored fields (update also revives a soft-deleted venue). */
int venue_store_insert(struct db *db, json_t *rec, const char *at, int64_t *id);
int venue_store_update(struct db *db, int64_t id, json_t *rec, const char *at);
int venue_store_delete(struct db *db, int64_t id, const char *at);

/* A category by code or by its Chinese name: writes the code (code[32])
 * and the name. STORE_NOTFOUND when neither. */
int venue_store_category(struct db *db, const char *text, char code[32], char *name, size_t namelen);
/* {"items":[{"code","name"}]} in their order (new reference). */
int venue_store_categories(struct db *db, json_t **out);

#endif
