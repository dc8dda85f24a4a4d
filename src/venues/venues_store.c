/*
 * venues_store.c - the venue registry's SQL, and only its SQL (venues and
 * venue_categories).
 *
 * Written once in the dialect SQLite and PostgreSQL share. Every read that
 * lists or fetches venues for a caller adds scope_sql(): a region scope
 * sees the venues of its region subtree, a unit scope the venues its unit
 * or a unit below it is responsible for (unit_id), a school scope the
 * venues of its school's own township (the places round its gate are its
 * business; the county's are not).
 */
#include "venues/venues_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/access.h"
#include "store/store.h"

/*--- the columns ---*/

const struct rk_col venue_cols[] = {
	{ "name", RK_TEXT },
	{ "category", RK_TEXT },
	{ "licence_no", RK_TEXT },
	{ "operator_name", RK_TEXT },
	{ "operator_phone", RK_TEXT },
	{ "region_code", RK_TEXT },
	{ "address", RK_TEXT },
	{ "lat", RK_REAL },
	{ "lon", RK_REAL },
	{ "entrances", RK_JSON },
	{ "status", RK_TEXT },
	{ "unit_id", RK_INT },
	{ "note", RK_TEXT },
};
const size_t venue_ncols = sizeof venue_cols / sizeof venue_cols[0];
#define NCOLS ((int)(sizeof venue_cols / sizeof venue_cols[0]))

static const struct scope_cols venue_scope = {
	.region = "v.region_code", .unit = "v.unit_id", .school_region = "v.region_code",
};

const char *const venue_sort_map[] = {
	"name", "v.name", "category", "c.sort", "licence_no", "v.licence_no", "region_code", "v.region_code",
	"status", "v.status", "created_at", "v.created_at", "updated_at", "v.updated_at", NULL,
};

#define FROM                                                                                                        \
	" FROM venues v JOIN venue_categories c ON c.code = v.category LEFT JOIN regions r ON r.code = v.region_code" \
	" LEFT JOIN units u ON u.id = v.unit_id"

/* SELECT list read by row_json(): the stored columns, then these */
static void select_head(struct sqlb *b)
{
	sqlb_add(b, "SELECT ");
	rk_sql_cols(b, venue_cols, venue_ncols, "v");
	sqlb_add(b, ", v.id, c.name, r.name, u.name, v.created_at, v.updated_at, v.deleted_at" FROM);
}

static json_t *row_json(struct stmt *st)
{
	json_t *o = json_object();
	rk_row_read(st, 0, venue_cols, venue_ncols, o);
	int i = NCOLS;
	const char *t;
	json_object_set_new(o, "id", json_integer((json_int_t)stmt_int64(st, i)));
	json_object_set_new(o, "category_name", json_string((t = stmt_text(st, i + 1)) ? t : ""));
	json_object_set_new(o, "region_name", json_string((t = stmt_text(st, i + 2)) ? t : ""));
	json_object_set_new(o, "unit_name", (t = stmt_text(st, i + 3)) ? json_string(t) : json_null());
	json_object_set_new(o, "created_at", json_string((t = stmt_text(st, i + 4)) ? t : ""));
	json_object_set_new(o, "updated_at", json_string((t = stmt_text(st, i + 5)) ? t : ""));
	return o;
}

/*--- lists ---*/

/* Appends the WHERE clause of a list. *pattern receives a malloc'd LIKE
 * pattern the builder points to; free it after the statement is done. */
static void where(struct sqlb *b, const struct principal *p, const struct venue_filter *f, char **pattern)
{
	static const char *const text_cols[] = { "v.name", "v.licence_no", "v.address", NULL };
	*pattern = NULL;
	sqlb_add(b, " WHERE v.deleted_at IS NULL");
	if (f->region)
		rk_sql_region_subtree(b, "v.region_code", f->region);
	if (f->category) {
		sqlb_add(b, " AND v.category = ");
		sqlb_text(b, f->category);
	}
	if (f->status) {
		sqlb_add(b, " AND v.status = ");
		sqlb_text(b, f->status);
	}
	if (f->unit_id) {
		sqlb_add(b, " AND v.unit_id = ");
		sqlb_int(b, f->unit_id);
	}
	if (f->q) {
		*pattern = rk_like_contains(f->q);
		rk_sql_contains(b, text_cols, *pattern);
	}
	scope_sql(p, b, &venue_scope);
}

int venue_store_list(struct db *db, const struct principal *p, const struct venue_filter *f, const char *sort_sql,
		     int desc, int64_t limit, int64_t offset, int (*each)(void *arg, json_t *rec), void *arg)
{
	struct sqlb b;
	char *pat;
	sqlb_init(&b);
	select_head(&b);
	where(&b, p, f, &pat);
	sqlb_add(&b, " ORDER BY ");
	sqlb_add(&b, sort_sql);
	sqlb_add(&b, desc ? " DESC, v.id DESC" : ", v.id");
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

int venue_store_count(struct db *db, const struct principal *p, const struct venue_filter *f, int64_t *n)
{
	struct sqlb b;
	char *pat;
	sqlb_init(&b);
	sqlb_add(&b, "SELECT count(*) FROM venues v");
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
static int group_counts(struct db *db, const struct principal *p, const struct venue_filter *f, const char *select,
			const char *group, const char *k1, const char *k2, json_t **out)
{
	struct sqlb b;
	char *pat;
	sqlb_init(&b);
	sqlb_add(&b, select);
	sqlb_add(&b, FROM);
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
		const char *t;
		int c = 0;
		json_object_set_new(o, k1, json_string((t = stmt_text(st, c++)) ? t : ""));
		if (k2)
			json_object_set_new(o, k2, json_string((t = stmt_text(st, c++)) ? t : ""));
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

int venue_store_stats(struct db *db, const struct principal *p, const struct venue_filter *f, json_t **out)
{
	*out = NULL;
	int64_t total = 0;
	int rc = venue_store_count(db, p, f, &total);
	if (rc)
		return rc;
	json_t *cat = NULL, *status = NULL, *region = NULL;
	if ((rc = group_counts(db, p, f, "SELECT v.category, c.name, count(*)",
			       " GROUP BY v.category, c.name, c.sort ORDER BY c.sort", "code", "name", &cat)) ||
	    (rc = group_counts(db, p, f, "SELECT v.status, count(*)",
			       " GROUP BY v.status ORDER BY count(*) DESC, v.status", "status", NULL, &status)) ||
	    (rc = group_counts(db, p, f, "SELECT v.region_code, r.name, count(*)",
			       " GROUP BY v.region_code, r.name ORDER BY v.region_code", "region_code", "region_name",
			       &region))) {
		json_decref(cat);
		json_decref(status);
		return rc;
	}
	*out = json_pack("{s:I,s:o,s:o,s:o}", "total", (json_int_t)total, "by_category", cat, "by_status", status,
			 "by_region", region);
	return 0;
}

/*--- one venue ---*/

/* The query of one venue (in p's scope when p is given) into b. */
static void one_sql(struct sqlb *b, const struct principal *p, int64_t id, int with_deleted)
{
	sqlb_init(b);
	select_head(b);
	sqlb_add(b, " WHERE v.id = ");
	sqlb_int(b, id);
	if (!with_deleted)
		sqlb_add(b, " AND v.deleted_at IS NULL");
	if (p)
		scope_sql(p, b, &venue_scope);
}

int venue_store_get(struct db *db, const struct principal *p, int64_t id, int with_deleted, json_t **rec,
		    int *deleted)
{
	*rec = NULL;
	struct sqlb b;
	struct stmt *st;
	one_sql(&b, p, id, with_deleted);
	int rc = rk_step_one(db, &b, &st);
	if (rc)
		return rc;
	*rec = row_json(st);
	if (deleted)
		*deleted = !stmt_is_null(st, NCOLS + 6);
	stmt_finalize(st);
	return 0;
}

int venue_store_get_text(struct db *db, const struct principal *p, int64_t id, struct rk_memo *memo, size_t flags,
			 char **text, size_t *len)
{
	struct sqlb b;
	one_sql(&b, p, id, 0);
	return rk_fetch_text(db, &b, id, NCOLS + 7, row_json, memo, flags, text, len);
}

int venue_store_find_licence(struct db *db, const char *licence, int64_t *id, int *deleted)
{
	struct stmt *st;
	int rc = db_prepare(db, &st,
			    "SELECT id, deleted_at FROM venues WHERE licence_no = $1"
			    " ORDER BY CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END, id DESC LIMIT 1");
	if (rc)
		return rc;
	stmt_bind_text(st, 1, licence);
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

int venue_store_insert(struct db *db, json_t *rec, const char *at, int64_t *id)
{
	return rk_insert(db, "venues", venue_cols, venue_ncols, rec, at, id);
}

int venue_store_update(struct db *db, int64_t id, json_t *rec, const char *at)
{
	return rk_update(db, "venues", venue_cols, venue_ncols, id, rec, at);
}

int venue_store_delete(struct db *db, int64_t id, const char *at)
{
	return rk_soft_delete(db, "venues", id, at);
}

/*--- categories ---*/

int venue_store_category(struct db *db, const char *text, char code[32], char *name, size_t namelen)
{
	struct stmt *st;
	int rc = db_prepare(db, &st, "SELECT code, name FROM venue_categories WHERE code = $1 OR name = $1");
	if (rc)
		return rc;
	stmt_bind_text(st, 1, text);
	rc = stmt_step(st);
	if (rc == STORE_ROW) {
		snprintf(code, 32, "%s", stmt_text(st, 0));
		if (name && namelen)
			snprintf(name, namelen, "%s", stmt_text(st, 1));
		rc = 0;
	} else if (rc == STORE_DONE) {
		rc = STORE_NOTFOUND;
	}
	stmt_finalize(st);
	return rc;
}

int venue_store_categories(struct db *db, json_t **out)
{
	struct stmt *st;
	int rc = db_prepare(db, &st, "SELECT code, name FROM venue_categories ORDER BY sort, code");
	if (rc)
		return rc;
	json_t *items = json_array();
	while ((rc = stmt_step(st)) == STORE_ROW)
		json_array_append_new(items, json_pack("{s:s,s:s}", "code", stmt_text(st, 0), "name", stmt_text(st, 1)));
	stmt_finalize(st);
	if (rc != STORE_DONE) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:o}", "items", items);
	return 0;
}
