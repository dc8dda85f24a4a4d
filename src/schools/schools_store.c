/*
 * schools_store.c - the school registry's SQL, and only its SQL.
 *
 * Written once in the dialect SQLite and PostgreSQL share ($N, RETURNING,
 * CASE, ||, LIKE ... ESCAPE). Every read that lists or fetches schools for a
 * caller adds scope_sql(), so a school outside the caller's scope is never
 * fetched. Regions and units belong to the admin module; they are only read
 * here, to name them and to resolve what a user typed.
 */
#include "schools/schools_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/access.h"
#include "core/http.h"
#include "schools/schools.h"
#include "store/store.h"

/*--- the columns ---*/

/* C_GEOM: the boundary, C_JSON: the entrances; both text columns that
 * schools_geom.c turns into the record's values and back */
enum ctype { C_TEXT, C_INT, C_REAL, C_BOOL, C_GEOM, C_JSON };

static const struct {
	const char *name;
	enum ctype type;
} cols[] = {
	{ "name", C_TEXT },
	{ "code", C_TEXT },
	{ "stage", C_TEXT },
	{ "ownership", C_TEXT },
	{ "boarding", C_BOOL },
	{ "region_code", C_TEXT },
	{ "address", C_TEXT },
	{ "lat", C_REAL },
	{ "lon", C_REAL },
	{ "enrollment", C_INT },
	{ "staff_count", C_INT },
	{ "guard_count", C_INT },
	{ "principal_name", C_TEXT },
	{ "principal_phone", C_TEXT },
	{ "safety_officer_name", C_TEXT },
	{ "safety_officer_phone", C_TEXT },
	{ "legal_vp_name", C_TEXT },
	{ "legal_vp_unit", C_TEXT },
	{ "legal_vp_phone", C_TEXT },
	{ "police_unit_id", C_INT },
	{ "unit_id", C_INT },
	{ "status", C_TEXT },
	{ "boundary", C_GEOM },
	{ "entrances", C_JSON },
};
#define NCOLS (sizeof cols / sizeof cols[0])

const char *const school_stored[] = {
	"name", "code", "stage", "ownership", "boarding", "region_code", "address", "lat", "lon", "enrollment",
	"staff_count", "guard_count", "principal_name", "principal_phone", "safety_officer_name",
	"safety_officer_phone", "legal_vp_name", "legal_vp_unit", "legal_vp_phone", "police_unit_id", "unit_id",
	"status", "boundary", "entrances", NULL,
};

/* the data scope of a school row: its township, its own unit, its police
 * station, itself */
static const struct scope_cols school_scope = {
	.region = "s.region_code", .unit = "s.unit_id", .unit2 = "s.police_unit_id", .school = "s.id",
};

/* SELECT list read by row_json(): the stored columns, then these */
static void select_head(struct sqlb *b)
{
	sqlb_add(b, "SELECT ");
	for (size_t i = 0; i < NCOLS; i++) {
		sqlb_add(b, "s.");
		sqlb_add(b, cols[i].name);
		sqlb_add(b, ", ");
	}
	sqlb_add(b, "s.id, r.name, pu.name, s.created_at, s.updated_at, s.deleted_at"
		    " FROM schools s LEFT JOIN regions r ON r.code = s.region_code"
		    " LEFT JOIN units pu ON pu.id = s.police_unit_id");
}

static json_t *row_json(struct stmt *st)
{
	json_t *o = json_object();
	int i;
	for (i = 0; i < (int)NCOLS; i++) {
		json_t *v;
		if (cols[i].type == C_GEOM || cols[i].type == C_JSON)
			continue; /* below, together */
		if (cols[i].type == C_TEXT)
			v = json_string(stmt_text(st, i) ? stmt_text(st, i) : "");
		else if (stmt_is_null(st, i))
			v = json_null();
		else if (cols[i].type == C_BOOL)
			v = json_boolean(stmt_int64(st, i) != 0);
		else if (cols[i].type == C_INT)
			v = json_integer((json_int_t)stmt_int64(st, i));
		else
			v = json_real(stmt_double(st, i));
		json_object_set_new(o, cols[i].name, v);
	}
	school_geom_from_row(o, stmt_text(st, NCOLS - 2), stmt_text(st, NCOLS - 1));
	json_object_set_new(o, "id", json_integer((json_int_t)stmt_int64(st, i)));
	json_object_set_new(o, "region_name", json_string(stmt_text(st, i + 1) ? stmt_text(st, i + 1) : ""));
	json_object_set_new(o, "police_unit_name", stmt_text(st, i + 2) ? json_string(stmt_text(st, i + 2)) : json_null());
	json_object_set_new(o, "created_at", json_string(stmt_text(st, i + 3) ? stmt_text(st, i + 3) : ""));
	json_object_set_new(o, "updated_at", json_string(stmt_text(st, i + 4) ? stmt_text(st, i + 4) : ""));
	return o;
}

/* Binds one stored field of rec. Text columns are NOT NULL: null is "".
 * The texts made for C_GEOM and C_JSON go into hold[i] (sqlb does not copy
 * them); free them with free_held() once the statement has run. */
static void bind_col(struct sqlb *b, size_t i, json_t *rec, char **hold)
{
	json_t *v = json_object_get(rec, cols[i].name);
	switch (cols[i].type) {
	case C_GEOM:
		sqlb_text(b, hold[i] = school_boundary_text(rec));
		break;
	case C_JSON:
		sqlb_text(b, hold[i] = school_entrances_text(rec));
		break;
	case C_TEXT:
		sqlb_text(b, json_is_string(v) ? json_string_value(v) : "");
		break;
	case C_BOOL:
		sqlb_int(b, json_is_true(v));
		break;
	case C_INT:
		if (json_is_integer(v))
			sqlb_int(b, json_integer_value(v));
		else
			sqlb_text(b, NULL);
		break;
	case C_REAL:
		if (json_is_number(v))
			sqlb_double(b, json_number_value(v));
		else
			sqlb_text(b, NULL);
		break;
	}
}

static void free_held(char **hold)
{
	for (size_t i = 0; i < NCOLS; i++)
		free(hold[i]);
}

/*--- lists ---*/

const char *school_sort_sql(const char *api_name)
{
	static const char *const map[] = {
		"name", "s.name", "code", "s.code", "stage", "s.stage", "region_code", "s.region_code",
		"enrollment", "s.enrollment", "updated_at", "s.updated_at", NULL,
	};
	for (int i = 0; map[i]; i += 2)
		if (strcmp(map[i], api_name) == 0)
			return map[i + 1];
	return NULL;
}

/* Appends the WHERE clause of a list. *pattern receives a malloc'd LIKE
 * pattern the builder points to; free it after the statement is done. */
static void where(struct sqlb *b, const struct principal *p, const struct school_filter *f, char **pattern)
{
	*pattern = NULL;
	sqlb_add(b, " WHERE s.deleted_at IS NULL");
	if (f->region) {
		/* the region and its subtree, by materialised path */
		sqlb_add(b, " AND s.region_code IN (SELECT code FROM regions WHERE path LIKE"
			    " (SELECT path FROM regions WHERE code = ");
		sqlb_text(b, f->region);
		sqlb_add(b, ") || '%')");
	}
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
		size_t n = strlen(f->q);
		char *pat = malloc(2 * n + 3), *o = pat;
		if (!pat)
			abort();
		*o++ = '%';
		for (const char *s = f->q; *s; s++) {
			if (*s == '%' || *s == '_' || *s == '\\')
				*o++ = '\\';
			*o++ = *s;
		}
		*o++ = '%';
		*o = '\0';
		*pattern = pat;
		/* lower() on both sides: SQLite's LIKE ignores ASCII case,
		 * PostgreSQL's does not; this way both ignore it */
		sqlb_add(b, " AND (lower(s.name) LIKE lower(");
		sqlb_text(b, pat);
		sqlb_add(b, ") ESCAPE '\\' OR lower(s.code) LIKE lower(");
		sqlb_text(b, pat);
		sqlb_add(b, ") ESCAPE '\\')");
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

int school_store_get(struct db *db, const struct principal *p, int64_t id, int with_deleted, json_t **rec,
		     int *deleted)
{
	*rec = NULL;
	struct sqlb b;
	sqlb_init(&b);
	select_head(&b);
	sqlb_add(&b, " WHERE s.id = ");
	sqlb_int(&b, id);
	if (!with_deleted)
		sqlb_add(&b, " AND s.deleted_at IS NULL");
	if (p)
		scope_sql(p, &b, &school_scope);
	struct stmt *st;
	int rc = sqlb_prepare(&b, db, &st);
	sqlb_free(&b);
	if (rc)
		return rc;
	rc = stmt_step(st);
	if (rc == STORE_ROW) {
		*rec = row_json(st);
		if (deleted)
			*deleted = !stmt_is_null(st, (int)NCOLS + 5);
		rc = 0;
	} else if (rc == STORE_DONE) {
		rc = STORE_NOTFOUND;
	}
	stmt_finalize(st);
	return rc;
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

/* Steps a write statement; STORE_DONE and STORE_ROW are success. */
static int run(struct sqlb *b, struct db *db)
{
	struct stmt *st;
	int rc = sqlb_prepare(b, db, &st);
	sqlb_free(b);
	if (rc)
		return rc;
	rc = stmt_step(st);
	stmt_finalize(st);
	return rc == STORE_DONE || rc == STORE_ROW ? 0 : rc;
}

int school_store_insert(struct db *db, json_t *rec, const char *at, int64_t *id)
{
	struct sqlb b;
	sqlb_init(&b);
	sqlb_add(&b, "INSERT INTO schools (");
	for (size_t i = 0; i < NCOLS; i++) {
		sqlb_add(&b, cols[i].name);
		sqlb_add(&b, ", ");
	}
	sqlb_add(&b, "created_at, updated_at) VALUES (");
	char *hold[NCOLS] = { 0 };
	for (size_t i = 0; i < NCOLS; i++) {
		bind_col(&b, i, rec, hold);
		sqlb_add(&b, ", ");
	}
	sqlb_text(&b, at);
	sqlb_add(&b, ", ");
	sqlb_text(&b, at);
	sqlb_add(&b, ") RETURNING id");
	struct stmt *st;
	int rc = sqlb_prepare(&b, db, &st);
	sqlb_free(&b);
	free_held(hold);
	if (rc)
		return rc;
	rc = stmt_step(st);
	if (rc == STORE_ROW) {
		*id = stmt_int64(st, 0);
		rc = 0;
	} else if (rc == STORE_DONE) {
		rc = STORE_ERR;
	}
	stmt_finalize(st);
	return rc;
}

int school_store_update(struct db *db, int64_t id, json_t *rec, const char *at)
{
	struct sqlb b;
	sqlb_init(&b);
	sqlb_add(&b, "UPDATE schools SET ");
	char *hold[NCOLS] = { 0 };
	for (size_t i = 0; i < NCOLS; i++) {
		sqlb_add(&b, cols[i].name);
		sqlb_add(&b, " = ");
		bind_col(&b, i, rec, hold);
		sqlb_add(&b, ", ");
	}
	sqlb_add(&b, "updated_at = ");
	sqlb_text(&b, at);
	sqlb_add(&b, ", deleted_at = NULL WHERE id = ");
	sqlb_int(&b, id);
	int rc = run(&b, db);
	free_held(hold);
	if (rc == 0 && db_changes(db) != 1)
		rc = STORE_NOTFOUND;
	return rc;
}

int school_store_delete(struct db *db, int64_t id, const char *at)
{
	struct sqlb b;
	sqlb_init(&b);
	sqlb_add(&b, "UPDATE schools SET deleted_at = ");
	sqlb_text(&b, at);
	sqlb_add(&b, ", updated_at = ");
	sqlb_text(&b, at);
	sqlb_add(&b, " WHERE deleted_at IS NULL AND id = ");
	sqlb_int(&b, id);
	int rc = run(&b, db);
	if (rc == 0 && db_changes(db) != 1)
		rc = STORE_NOTFOUND;
	return rc;
}
