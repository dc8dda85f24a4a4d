/*
 * regkit.c - request helpers and the column table every registry shares
 * (see regkit.h). The look-ups of regions and units are in regkit_store.c.
 */
#include "io/regkit.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/http.h"
#include "store/store.h"

/*--- request helpers ---*/

int rk_parse_id(struct req *r, int64_t *id)
{
	const char *s = req_param(r, "id");
	char *end = NULL;
	long long v = 0;
	errno = 0;
	if (s && *s >= '1' && *s <= '9')
		v = strtoll(s, &end, 10);
	if (v <= 0 || errno || !end || *end) {
		reply_not_found(r);
		return -1;
	}
	*id = v;
	return 0;
}

int rk_query_page(struct req *r, int64_t *page, int64_t *size)
{
	if (rk_query_int(r, "page", 1, 1000000, 1, page, "页码须为 1 到 1000000 之间的整数") ||
	    rk_query_int(r, "page_size", 1, 200, 20, size, "每页条数须为 1 到 200 之间的整数"))
		return -1;
	return 0;
}

int rk_append_item(void *arg, json_t *rec)
{
	json_array_append((json_t *)arg, rec);
	return 0;
}

int rk_reply_verr(struct req *r, int status, const struct verr *e)
{
	reply_error(r, status, e->code, arena_strdup(r->arena, e->message),
		    e->field ? arena_strdup(r->arena, e->field) : NULL);
	return 0;
}

int rk_verr(struct verr *e, const char *code, const char *field, const char *message)
{
	e->code = code;
	e->field = field;
	snprintf(e->message, sizeof e->message, "%s", message);
	return 1;
}

const char *rk_clip(const char *s, char *out, size_t outlen)
{
	size_t n = strlen(s);
	if (n >= outlen) {
		n = outlen - 1;
		while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return out;
}

int rk_query_int(struct req *r, const char *param, int64_t lo, int64_t hi, int64_t dflt, int64_t *out,
		 const char *msg)
{
	const char *v = req_query(r, param);
	*out = dflt;
	if (!v || !*v)
		return 0;
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (errno || *end || x < lo || x > hi) {
		reply_error(r, 400, "validation.range", msg, param);
		return -1;
	}
	*out = x;
	return 0;
}

int rk_query_field(struct req *r, const char *param, const struct vfield *f, const char **out)
{
	*out = NULL;
	const char *v = req_query(r, param);
	if (!v || !*v)
		return 0;
	struct verr e;
	json_t *j;
	if (valid_cell(f, v, &j, &e) != 0) {
		reply_error(r, 400, e.code, arena_strdup(r->arena, e.message), param);
		return -1;
	}
	*out = json_is_string(j) ? arena_strdup(r->arena, json_string_value(j)) : NULL;
	json_decref(j);
	return 0;
}

int rk_query_q(struct req *r, const char **out)
{
	static const struct vfield q_field = { .name = "q", .label = "关键词", .type = V_STR, .max_len = 100 };
	return rk_query_field(r, "q", &q_field, out);
}

int rk_query_region(struct req *r, const char *param, const char *err_prefix, const char **out)
{
	*out = NULL;
	const char *v = req_query(r, param);
	if (!v || !*v)
		return 0;
	if (!vcheck_region_code(v))
		return reply_error(r, 400, "validation.format", "所属乡镇（街道）须为 6 位或 9 位区划代码", param), -1;
	int rc = rk_region_exists(req_db(r), v);
	if (rc == STORE_NOTFOUND)
		return reply_error(r, 400, arena_printf(r->arena, "%s.region_unknown", err_prefix), "所属乡镇（街道）不存在",
				   param),
		       -1;
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL), -1;
	*out = v;
	return 0;
}

int rk_query_sort(struct req *r, const char *const *map, const char *dflt, const char *msg, const char **sql,
		  int *desc)
{
	const char *v = req_query(r, "sort");
	*desc = 0;
	*sql = NULL;
	if (!v || !*v)
		v = dflt;
	if (*v == '-') {
		*desc = 1;
		v++;
	}
	for (int i = 0; map[i]; i += 2)
		if (strcmp(map[i], v) == 0)
			*sql = map[i + 1];
	if (!*sql)
		return reply_error(r, 400, "validation.enum", msg, "sort"), -1;
	return 0;
}

char *rk_like_contains(const char *q)
{
	size_t n = strlen(q);
	char *pat = malloc(2 * n + 3), *o = pat;
	if (!pat)
		abort();
	*o++ = '%';
	for (const char *s = q; *s; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			*o++ = '\\';
		*o++ = *s;
	}
	*o++ = '%';
	*o = '\0';
	return pat;
}

void rk_sql_contains(struct sqlb *b, const char *const *cols, const char *pat)
{
	/* lower() on both sides: SQLite's LIKE ignores ASCII case,
	 * PostgreSQL's does not; this way both ignore it */
	sqlb_add(b, " AND (");
	for (int i = 0; cols[i]; i++) {
		sqlb_add(b, i ? " OR lower(" : "lower(");
		sqlb_add(b, cols[i]);
		sqlb_add(b, ") LIKE lower(");
		sqlb_text(b, pat);
		sqlb_add(b, ") ESCAPE '\\'");
	}
	sqlb_add(b, ")");
}

void rk_sql_region_subtree(struct sqlb *b, const char *col, const char *region_code)
{
	/* the region and its subtree, by materialised path */
	sqlb_add(b, " AND ");
	sqlb_add(b, col);
	sqlb_add(b, " IN (SELECT code FROM regions WHERE path LIKE (SELECT path FROM regions WHERE code = ");
	sqlb_text(b, region_code);
	sqlb_add(b, ") || '%')");
}

/*--- columns ---*/

void rk_sql_cols(struct sqlb *b, const struct rk_col *cols, size_t n, const char *prefix)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			sqlb_add(b, ", ");
		if (prefix) {
			sqlb_add(b, prefix);
			sqlb_add(b, ".");
		}
		sqlb_add(b, cols[i].name);
	}
}

void rk_row_read(struct stmt *st, int first, const struct rk_col *cols, size_t n, json_t *o)
{
	for (size_t i = 0; i < n; i++) {
		int c = first + (int)i;
		/* numbers are read as numbers: asking SQLite for a number's text
		 * formats it (printf for a REAL) only to be parsed back */
		int texty = cols[i].type == RK_TEXT || cols[i].type == RK_NTEXT || cols[i].type == RK_JSON;
		const char *t = texty ? stmt_text(st, c) : NULL;
		json_t *v;
		switch (cols[i].type) {
		case RK_TEXT:
			v = json_string(t ? t : "");
			break;
		case RK_NTEXT:
			v = t ? json_string(t) : json_null();
			break;
		case RK_JSON:
			v = t ? json_loads(t, 0, NULL) : NULL;
			if (!v)
				v = json_array();
			break;
		case RK_BOOL:
			v = json_boolean(!stmt_is_null(st, c) && stmt_int64(st, c) != 0);
			break;
		case RK_INT:
			v = stmt_is_null(st, c) ? json_null() : json_integer((json_int_t)stmt_int64(st, c));
			break;
		default:
			v = stmt_is_null(st, c) ? json_null() : json_real(stmt_double(st, c));
			break;
		}
		json_object_set_new(o, cols[i].name, v);
	}
}

/* Binds rec's value of column c. A JSON column's text is malloc'd into
 * *owned, which must outlive the statement (the builder does not copy). */
static void bind_col(struct sqlb *b, const struct rk_col *c, json_t *rec, char **owned)
{
	json_t *v = json_object_get(rec, c->name);
	switch (c->type) {
	case RK_TEXT:
		sqlb_text(b, json_is_string(v) ? json_string_value(v) : "");
		break;
	case RK_NTEXT:
		sqlb_text(b, json_is_string(v) ? json_string_value(v) : NULL);
		break;
	case RK_JSON:
		/* 15 significant digits: 7 decimals of a coordinate read back exactly */
		*owned = json_is_array(v) || json_is_object(v) ? json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(15))
							       : strdup("[]");
		if (!*owned)
			abort();
		sqlb_text(b, *owned);
		break;
	case RK_BOOL:
		sqlb_int(b, json_is_true(v));
		break;
	case RK_INT:
		if (json_is_integer(v))
			sqlb_int(b, json_integer_value(v));
		else
			sqlb_text(b, NULL);
		break;
	case RK_REAL:
		if (json_is_number(v))
			sqlb_double(b, json_number_value(v));
		else
			sqlb_text(b, NULL);
		break;
	}
}

static void free_owned(char **owned, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(owned[i]);
	free(owned);
}

int rk_run(struct sqlb *b, struct db *db)
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

int rk_insert(struct db *db, const char *table, const struct rk_col *cols, size_t n, json_t *rec, const char *at,
	      int64_t *id)
{
	struct sqlb b;
	sqlb_init(&b);
	sqlb_add(&b, "INSERT INTO ");
	sqlb_add(&b, table);
	sqlb_add(&b, " (");
	rk_sql_cols(&b, cols, n, NULL);
	sqlb_add(&b, ", created_at, updated_at) VALUES (");
	char **owned = calloc(n, sizeof *owned);
	if (!owned)
		abort();
	for (size_t i = 0; i < n; i++) {
		bind_col(&b, &cols[i], rec, &owned[i]);
		sqlb_add(&b, ", ");
	}
	sqlb_text(&b, at);
	sqlb_add(&b, ", ");
	sqlb_text(&b, at);
	sqlb_add(&b, ") RETURNING id");
	struct stmt *st;
	int rc = sqlb_prepare(&b, db, &st);
	sqlb_free(&b);
	if (rc == 0) {
		rc = stmt_step(st);
		if (rc == STORE_ROW) {
			*id = stmt_int64(st, 0);
			rc = 0;
		} else if (rc == STORE_DONE) {
			rc = STORE_ERR;
		}
		stmt_finalize(st);
	}
	free_owned(owned, n);
	return rc;
}

/* Does the stored column (col of the current row of st) already hold what
 * bind_col would bind for rec? (owned: the JSON text bind_col made.) */
static int same_stored(struct stmt *st, int col, const struct rk_col *c, json_t *rec, const char *owned)
{
	json_t *v = json_object_get(rec, c->name);
	int null = stmt_is_null(st, col);
	const char *t = null || c->type == RK_BOOL || c->type == RK_INT || c->type == RK_REAL ? NULL : stmt_text(st, col);
	switch (c->type) {
	case RK_TEXT:
		return strcmp(t ? t : "", json_is_string(v) ? json_string_value(v) : "") == 0;
	case RK_NTEXT:
		return json_is_string(v) ? t && strcmp(t, json_string_value(v)) == 0 : null;
	case RK_JSON:
		return t && owned && strcmp(t, owned) == 0;
	case RK_BOOL:
		return !null && (stmt_int64(st, col) != 0) == json_is_true(v);
	case RK_INT:
		return json_is_integer(v) ? !null && stmt_int64(st, col) == json_integer_value(v) : null;
	case RK_REAL:
		return json_is_number(v) ? !null && stmt_double(st, col) == json_number_value(v) : null;
	}
	return 0;
}

/* Sets only the columns whose stored value differs: SQLite rewrites an
 * index's entry whenever its column is named in SET, even to the same
 * value, so naming every column cost a write-ahead-log page per index on
 * every edit. */
int rk_update(struct db *db, const char *table, const struct rk_col *cols, size_t n, int64_t id, json_t *rec,
	      const char *at)
{
	char **owned = calloc(n, sizeof *owned);
	if (!owned)
		abort();
	for (size_t i = 0; i < n; i++)
		if (cols[i].type == RK_JSON) {
			json_t *v = json_object_get(rec, cols[i].name);
			owned[i] = json_is_array(v) || json_is_object(v) ? json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(15))
								   : strdup("[]");
			if (!owned[i])
				abort();
		}
	struct sqlb q;
	sqlb_init(&q);
	sqlb_add(&q, "SELECT ");
	rk_sql_cols(&q, cols, n, table);
	sqlb_add(&q, " FROM ");
	sqlb_add(&q, table);
	sqlb_add(&q, " WHERE id = ");
	sqlb_int(&q, id);
	struct stmt *st;
	int rc = sqlb_prepare(&q, db, &st);
	sqlb_free(&q);
	if (rc) {
		free_owned(owned, n);
		return rc;
	}
	if ((rc = stmt_step(st)) != STORE_ROW) {
		stmt_finalize(st);
		free_owned(owned, n);
		return rc == STORE_DONE ? STORE_NOTFOUND : rc;
	}
	char *same = calloc(n ? n : 1, 1);
	if (!same)
		abort();
	for (size_t i = 0; i < n; i++)
		same[i] = (char)same_stored(st, (int)i, &cols[i], rec, owned[i]);
	stmt_finalize(st);
	struct sqlb b;
	sqlb_init(&b);
	sqlb_add(&b, "UPDATE ");
	sqlb_add(&b, table);
	sqlb_add(&b, " SET ");
	for (size_t i = 0; i < n; i++) {
		if (same[i])
			continue;
		sqlb_add(&b, cols[i].name);
		sqlb_add(&b, " = ");
		if (cols[i].type == RK_JSON)
			sqlb_text(&b, owned[i]);
		else
			bind_col(&b, &cols[i], rec, &owned[i]);
		sqlb_add(&b, ", ");
	}
	free(same);
	sqlb_add(&b, "updated_at = ");
	sqlb_text(&b, at);
	sqlb_add(&b, ", deleted_at = NULL WHERE id = ");
	sqlb_int(&b, id);
	rc = rk_run(&b, db);
	free_owned(owned, n);
	if (rc == 0 && db_changes(db) != 1)
		rc = STORE_NOTFOUND;
	return rc;
}

int rk_soft_delete(struct db *db, const char *table, int64_t id, const char *at)
{
	struct sqlb b;
	sqlb_init(&b);
	sqlb_add(&b, "UPDATE ");
	sqlb_add(&b, table);
	sqlb_add(&b, " SET deleted_at = ");
	sqlb_text(&b, at);
	sqlb_add(&b, ", updated_at = ");
	sqlb_text(&b, at);
	sqlb_add(&b, " WHERE deleted_at IS NULL AND id = ");
	sqlb_int(&b, id);
	int rc = rk_run(&b, db);
	if (rc == 0 && db_changes(db) != 1)
		rc = STORE_NOTFOUND;
	return rc;
}

/* Numbers equal to 1e-9 anywhere inside x and y (entrances are arrays of
 * objects holding numbers). */
static int same_value(json_t *x, json_t *y)
{
	if (json_is_number(x) && json_is_number(y))
		return fabs(json_number_value(x) - json_number_value(y)) <= 1e-9;
	if (json_is_array(x) && json_is_array(y)) {
		if (json_array_size(x) != json_array_size(y))
			return 0;
		for (size_t i = 0; i < json_array_size(x); i++)
			if (!same_value(json_array_get(x, i), json_array_get(y, i)))
				return 0;
		return 1;
	}
	if (json_is_object(x) && json_is_object(y)) {
		if (json_object_size(x) != json_object_size(y))
			return 0;
		const char *k;
		json_t *v;
		json_object_foreach(x, k, v) {
			if (!same_value(v, json_object_get(y, k)))
				return 0;
		}
		return 1;
	}
	return json_equal(x ? x : json_null(), y ? y : json_null());
}

json_t *rk_rec_after(const struct rk_col *cols, size_t n, json_t *before, json_t *rec)
{
	json_t *o = json_copy(before); /* shallow: only top-level values are replaced */
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(rec, cols[i].name), *nv;
		if (same_value(json_object_get(before, cols[i].name), v))
			continue; /* rk_update leaves it as it is */
		switch (cols[i].type) {
		case RK_TEXT:
			nv = json_string(json_is_string(v) ? json_string_value(v) : "");
			break;
		case RK_NTEXT:
			nv = json_is_string(v) ? json_string(json_string_value(v)) : json_null();
			break;
		case RK_BOOL:
			nv = json_boolean(json_is_true(v));
			break;
		case RK_INT:
			nv = json_is_integer(v) ? json_integer(json_integer_value(v)) : json_null();
			break;
		case RK_REAL:
			nv = json_is_number(v) ? json_real(json_number_value(v)) : json_null();
			break;
		default: /* a JSON column is read back through its text: re-read it */
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, cols[i].name, nv);
	}
	return o;
}

int rk_same(const struct rk_col *cols, size_t n, json_t *a, json_t *b)
{
	for (size_t i = 0; i < n; i++)
		if (!same_value(json_object_get(a, cols[i].name), json_object_get(b, cols[i].name)))
			return 0;
	return 1;
}

/*--- the per-import cache ---*/

int rk_resolve_cached(struct req *r, json_t *cache, const char *text, int region, json_t **hit)
{
	if ((*hit = json_object_get(cache, text)))
		return 0;
	json_t *v;
	if (region) {
		char code[16];
		int rc = rk_region_find(req_db(r), r->user, text, code);
		if (rc < 0 && rc != STORE_NOTFOUND)
			return rc;
		v = rc == 0 ? json_string(code) : json_integer(rc == 1);
	} else {
		int64_t id = 0;
		int rc = rk_unit_find(req_db(r), text, &id);
		if (rc < 0 && rc != STORE_NOTFOUND)
			return rc;
		v = rc == 0 ? json_pack("{s:I}", "id", (json_int_t)id) : json_integer(rc == 1);
	}
	json_object_set_new(cache, text, v);
	*hit = v;
	return 0;
}
