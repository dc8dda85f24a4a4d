/*
 * schools_store.c - the school registry's SQL, and only its SQL.
 *
 * Written once in the dialect SQLite and PostgreSQL share ($N, RETURNING,
 * CASE, ||, LIKE ... ESCAPE). Every read that lists or fetches schools for a
 * caller adds scope_sql(), so a school outside the caller's scope is never
 * fetched. Regions and units belong to the admin module: joined here only
 * for their names (resolving what a user typed is io/regkit.h's). The
 * insert, update and soft delete are regkit's, over school_cols.
 */
#include "schools/schools_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/access.h"
#include "core/http.h"
#include "schools/schools.h"
#include "store/store.h"

/*--- the columns ---*/

/* In the schools table's order (also the audit's). The last two are the
 * geometry: the boundary stored as its coordinates' text (stored() makes
 * it), the entrances as a JSON array; row_json() leaves both to
 * school_geom_from_row(). */
const struct rk_col school_cols[] = {
	{ "name", RK_TEXT },
	{ "code", RK_TEXT },
	{ "stage", RK_TEXT },
	{ "ownership", RK_TEXT },
	{ "boarding", RK_BOOL },
	{ "region_code", RK_TEXT },
	{ "address", RK_TEXT },
	{ "lat", RK_REAL },
	{ "lon", RK_REAL },
	{ "enrollment", RK_INT },
	{ "staff_count", RK_INT },
	{ "guard_count", RK_INT },
	{ "principal_name", RK_TEXT },
	{ "principal_phone", RK_TEXT },
	{ "safety_officer_name", RK_TEXT },
	{ "safety_officer_phone", RK_TEXT },
	{ "legal_vp_name", RK_TEXT },
	{ "legal_vp_unit", RK_TEXT },
	{ "legal_vp_phone", RK_TEXT },
	{ "police_unit_id", RK_INT },
	{ "unit_id", RK_INT },
	{ "status", RK_TEXT },
	{ "boundary", RK_NTEXT },
	{ "entrances", RK_JSON },
};
const size_t school_ncols = sizeof school_cols / sizeof school_cols[0];
#define NCOLS ((int)(sizeof school_cols / sizeof school_cols[0]))

/* the data scope of a school row: its township, its own unit, its police
 * station, itself */
static const struct scope_cols school_scope = {
	.region = "s.region_code", .unit = "s.unit_id", .unit2 = "s.police_unit_id", .school = "s.id",
};

/* SELECT list read by row_json(): the stored columns, then these */
#define ROW_COLS (NCOLS + 6)
static char head_sql[2048];
static pthread_once_t head_once = PTHREAD_ONCE_INIT;

static void build_head(void)
{
	struct sqlb b;
	sqlb_init(&b);
	sqlb_add(&b, "SELECT ");
	rk_sql_cols(&b, school_cols, school_ncols, "s");
	sqlb_add(&b, ", s.id, r.name, pu.name, s.created_at, s.updated_at, s.deleted_at"
		     " FROM schools s LEFT JOIN regions r ON r.code = s.region_code"
		     " LEFT JOIN units pu ON pu.id = s.police_unit_id");
	snprintf(head_sql, sizeof head_sql, "%s", b.sql);
	sqlb_free(&b);
}

static void select_head(struct sqlb *b)
{
	pthread_once(&head_once, build_head);
	sqlb_add(b, head_sql);
}

static json_t *row_json(struct stmt *st)
{
	json_t *o = json_object();
	int i = NCOLS;
	const char *t;
	rk_row_read(st, 0, school_cols, school_ncols - 2, o);
	school_geom_from_row(o, stmt_text(st, NCOLS - 2), stmt_text(st, NCOLS - 1));
	json_object_set_new(o, "id", json_integer((json_int_t)stmt_int64(st, i)));
	json_object_set_new(o, "region_name", json_string((t = stmt_text(st, i + 1)) ? t : ""));
	json_object_set_new(o, "police_unit_name", (t = stmt_text(st, i + 2)) ? json_string(t) : json_null());
	json_object_set_new(o, "created_at", json_string((t = stmt_text(st, i + 3)) ? t : ""));
	json_object_set_new(o, "updated_at", json_string((t = stmt_text(st, i + 4)) ? t : ""));
	return o;
}

/* rec as the table stores it (a new reference): the boundary as the text
 * of its coordinates, NULL when there is none. */
static json_t *stored(json_t *rec)
{
	json_t *row = json_copy(rec);
	char *text = school_boundary_text(rec);
	json_object_set_new(row, "boundary", text ? json_string(text) : json_null());
	free(text);
	return row;
}

/*--- lists ---*/

const char *const school_sort_map[] = {
	"name", "s.name", "code", "s.code", "stage", "s.stage", "region_code", "s.region_code",
	"enrollment", "s.enrollment", "updated_at", "s.updated_at", NULL,
};

/* Appends the WHERE clause of a list. *pattern receives a malloc'd LIKE
 * pattern the builder points to; free it after the statement is done. */
static void where(struct sqlb *b, const struct principal *p, const struct school_filter *f, char **pattern)
{
	static const char *const text_cols[] = { "s.name", "s.code", NULL };
	*pattern = NULL;
	sqlb_add(b, " WHERE s.deleted_at IS NULL");
	if (f->region)
		rk_sql_region_subtree(b, "s.region_code", f->region);
	if (f->stage) {
		sqlb_add(b, " AND s.stage = ");
		sqlb_text(b, f->stage);
	}
	if (f->ownership) {
		sqlb_add(b, " AND s.ownership = ");
		sqlb_text(b, f->ownership);
	}
	if (f->status) {
		sqlb_add(b, " AND s.status = ");
		sqlb_text(b, f->status);
	}
	if (f->q) {
		*pattern = rk_like_contains(f->q);
		rk_sql_contains(b, text_cols, *pattern);
	}
	if (f->police_unit_id) {
		sqlb_add(b, " AND s.police_unit_id = ");
		sqlb_int(b, f->police_unit_id);
	}
	scope_sql(p, b, &school_scope);
}

int school_store_list(struct db *db, const struct principal *p, const struct school_filter *f,
		      const char *sort_sql, int desc, int64_t limit, int64_t offset,
		      int (*each)(void *arg, json_t *rec), void *arg)
{
	struct sqlb b;
	char *pat;
	sqlb_init(&b);
	select_head(&b);
	where(&b, p, f, &pat);
	/* NULLs last in either direction, the same on SQLite and PostgreSQL */
	sqlb_add(&b, " ORDER BY (");
	sqlb_add(&b, sort_sql);
	sqlb_add(&b, " IS NULL), ");
	sqlb_add(&b, sort_sql);
	sqlb_add(&b, desc ? " DESC, s.id DESC" : ", s.id");
	if (limit >= 0) {
		sqlb_add(&b, " LIMIT ");
		sqlb_int(&b, limit);
		sqlb_add(&b, " OFFSET ");
		sqlb_int(&b, offset);
	}
	struct stmt *st;
	int rc = sqlb_prepare(&b, db, &st);
	sqlb_free(&b);
	if (rc) {
		free(pat);
		return rc;
	}
	while ((rc = stmt_step(st)) == STORE_ROW) {
		json_t *rec = row_json(st);
		int stop = each(arg, rec);
		json_decref(rec);
		if (stop) {
			rc = stop;
			break;
		}
	}
	stmt_finalize(st);
	free(pat);
	return rc == STORE_DONE ? 0 : rc;
}

int school_store_count(struct db *db, const struct principal *p, const struct school_filter *f, int64_t *n)
{
	struct sqlb b;
	char *pat;
	sqlb_init(&b);
	sqlb_add(&b, "SELECT count(*) FROM schools s");
	where(&b, p, f, &pat);
	struct stmt *st;
	int rc = sqlb_prepare(&b, db, &st);
	sqlb_free(&b);
	if (rc == 0) {
		rc = stmt_step(st);
		*n = rc == STORE_ROW ? stmt_int64(st, 0) : 0;
		rc = rc == STORE_ROW ? 0 : rc;
		stmt_finalize(st);
	}
	free(pat);
	return rc;
}

/* Runs "SELECT <key columns>, count(*) ... GROUP BY" into an array of
 * objects named by keys (one or two text columns). */
static int group_counts(struct db *db, const struct principal *p, const struct school_filter *f,
			const char *select, const char *group, const char *k1, const char *k2, json_t **out)
{
	struct sqlb b;
	char *pat;
	sqlb_init(&b);
	sqlb_add(&b, select);
	sqlb_add(&b, " FROM schools s LEFT JOIN regions r ON r.code = s.region_code");
	where(&b, p, f, &pat);
	sqlb_add(&b, group);
	struct stmt *st;
	int rc = sqlb_prepare(&b, db, &st);
	sqlb_free(&b);
	if (rc) {
		free(pat);
		return rc;
	}
	json_t *a = json_array();
	while ((rc = stmt_step(st)) == STORE_ROW) {
		json_t *o = json_object();
		int c = 0;
		json_object_set_new(o, k1, json_string(stmt_text(st, c) ? stmt_text(st, c) : ""));
		c++;
		if (k2) {
			json_object_set_new(o, k2, json_string(stmt_text(st, c) ? stmt_text(st, c) : ""));
			c++;
		}
		json_object_set_new(o, "count", json_integer((json_int_t)stmt_int64(st, c)));
		json_array_append_new(a, o);
	}
	stmt_finalize(st);
	free(pat);
	if (rc != STORE_DONE) {
		json_decref(a);
		return rc;
	}
	*out = a;
	return 0;
}

int school_store_stats(struct db *db, const struct principal *p, const struct school_filter *f, json_t **out)
{
	*out = NULL;
	struct sqlb b;
	char *pat;
	sqlb_init(&b);
	sqlb_add(&b, "SELECT count(*), COALESCE(sum(CASE WHEN s.boarding = 1 THEN 1 ELSE 0 END), 0) FROM schools s");
	where(&b, p, f, &pat);
	struct stmt *st;
	int rc = sqlb_prepare(&b, db, &st);
	sqlb_free(&b);
	int64_t total = 0, boarding = 0;
	if (rc == 0) {
		if ((rc = stmt_step(st)) == STORE_ROW) {
			total = stmt_int64(st, 0);
			boarding = stmt_int64(st, 1);
			rc = 0;
		}
		stmt_finalize(st);
	}
	free(pat);
	if (rc)
		return rc;
	json_t *stage = NULL, *region = NULL, *own = NULL, *status = NULL;
	if ((rc = group_counts(db, p, f, "SELECT s.stage, count(*)", " GROUP BY s.stage ORDER BY count(*) DESC, s.stage",
			       "stage", NULL, &stage)) ||
	    (rc = group_counts(db, p, f, "SELECT s.region_code, r.name, count(*)",
			       " GROUP BY s.region_code, r.name ORDER BY s.region_code", "region_code", "region_name",
			       &region)) ||
	    (rc = group_counts(db, p, f, "SELECT s.ownership, count(*)",
			       " GROUP BY s.ownership ORDER BY count(*) DESC, s.ownership", "ownership", NULL, &own)) ||
	    (rc = group_counts(db, p, f, "SELECT s.status, count(*)", " GROUP BY s.status ORDER BY count(*) DESC, s.status",
			       "status", NULL, &status))) {
		json_decref(stage);
		json_decref(region);
		json_decref(own);
		return rc;
	}
	*out = json_pack("{s:I,s:o,s:o,s:o,s:o,s:I}", "total", (json_int_t)total, "by_stage", stage, "by_region",
			 region, "by_ownership", own, "by_status", status, "boarding", (json_int_t)boarding);
	return 0;
}

/*--- one school ---*/

/* The query of one school (in p's scope when p is given) into b. */
static void one_sql(struct sqlb *b, const struct principal *p, int64_t id, int with_deleted)
{
	sqlb_init(b);
	select_head(b);
	sqlb_add(b, " WHERE s.id = ");
	sqlb_int(b, id);
	if (!with_deleted)
		sqlb_add(b, " AND s.deleted_at IS NULL");
	if (p)
		scope_sql(p, b, &school_scope);
}

/* Prepares and steps the read of one school: 0 with st on its row,
 * STORE_NOTFOUND, or an error. */
static int fetch(struct db *db, const struct principal *p, int64_t id, int with_deleted, struct stmt **st)
{
	struct sqlb b;
	one_sql(&b, p, id, with_deleted);
	return rk_step_one(db, &b, st);
}

int school_store_get_text(struct db *db, const struct principal *p, int64_t id, struct rk_memo *memo, size_t flags,
			  char **text, size_t *len)
{
	struct sqlb b;
	one_sql(&b, p, id, 0);
	return rk_fetch_text(db, &b, id, ROW_COLS, row_json, memo, flags, text, len);
}

int school_store_fetch(struct db *db, const struct principal *p, int64_t id, const char *known, size_t knownlen,
		       json_t **rec, char **key, size_t *keylen)
{
	*rec = NULL;
	struct stmt *st;
	int rc = fetch(db, p, id, 0, &st);
	if (rc)
		return rc;
	size_t klen;
	char *k = stmt_row_key(st, 0, ROW_COLS, &klen);
	if (!known || knownlen != klen || memcmp(known, k, knownlen) != 0)
		*rec = row_json(st);
	stmt_finalize(st);
	if (keylen)
		*keylen = klen;
	if (key)
		*key = k;
	else
		free(k);
	return 0;
}

int school_store_get(struct db *db, const struct principal *p, int64_t id, int with_deleted, json_t **rec,
		     int *deleted)
{
	*rec = NULL;
	struct stmt *st;
	int rc = fetch(db, p, id, with_deleted, &st);
	if (rc)
		return rc;
	*rec = row_json(st);
	if (deleted)
		*deleted = !stmt_is_null(st, NCOLS + 5);
	stmt_finalize(st);
	return 0;
}

int school_store_find_code(struct db *db, const char *code, int64_t *id, int *deleted)
{
	struct stmt *st;
	int rc = db_prepare(db, &st, "SELECT id, deleted_at FROM schools WHERE code = $1");
	if (rc)
		return rc;
	stmt_bind_text(st, 1, code);
	rc = stmt_step(st);
	if (rc == STORE_ROW) {
		*id = stmt_int64(st, 0);
		*deleted = !stmt_is_null(st, 1);
		rc = 0;
	} else if (rc == STORE_DONE) {
		rc = STORE_NOTFOUND;
	}
	stmt_finalize(st);
	return rc;
}

int school_visible(struct db *db, const struct principal *p, int64_t id, char *name, size_t namelen)
{
	struct sqlb b;
	sqlb_init(&b);
	sqlb_add(&b, "SELECT s.name FROM schools s WHERE s.deleted_at IS NULL AND s.id = ");
	sqlb_int(&b, id);
	if (p)
		scope_sql(p, &b, &school_scope);
	struct stmt *st;
	int rc = sqlb_prepare(&b, db, &st);
	sqlb_free(&b);
	if (rc)
		return rc;
	rc = stmt_step(st);
	if (rc == STORE_ROW) {
		if (name && namelen)
			snprintf(name, namelen, "%s", stmt_text(st, 0));
		rc = 0;
	} else if (rc == STORE_DONE) {
		rc = STORE_NOTFOUND;
	}
	stmt_finalize(st);
	return rc;
}

int school_store_insert(struct db *db, json_t *rec, const char *at, int64_t *id)
{
	json_t *row = stored(rec);
	int rc = rk_insert(db, "schools", school_cols, school_ncols, row, at, id);
	json_decref(row);
	return rc;
}

int school_store_update(struct db *db, int64_t id, json_t *rec, const char *at)
{
	json_t *row = stored(rec);
	int rc = rk_update(db, "schools", school_cols, school_ncols, id, row, at);
	json_decref(row);
	return rc;
}

int school_store_delete(struct db *db, int64_t id, const char *at)
{
	return rk_soft_delete(db, "schools", id, at);
}
