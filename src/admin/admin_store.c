/*
 * admin_store.c - the admin module's SQL: regions (行政区划), units (成员单位),
 * roles, users and user_roles, in the dialect SQLite and PostgreSQL share
 * ($N parameters, RETURNING, ON CONFLICT, 0/1 for booleans). Lists take the
 * caller's data scope and filter in SQL. Also the built-in roles.
 */
#include "admin/admin_store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/access.h"
#include "auth/audit.h"
#include "core/clock.h"
#include "core/http.h"
#include "core/valid.h"
#include "schools/schools.h"
#include "store/store.h"

/*--- small helpers ---------------------------------------------------------*/

int adm_refuse(struct adm_err *e, int status, const char *code, const char *field, const char *fmt, ...)
{
	e->status = status;
	e->code = code;
	e->field = field;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return ADM_REFUSED;
}

/* Steps a write statement to its end and finalizes it. */
static int step_done(struct stmt *st)
{
	int rc = stmt_step(st);
	stmt_finalize(st);
	return rc == STORE_DONE || rc == STORE_ROW ? STORE_OK : rc;
}

static void set_text(json_t *o, const char *k, const char *v)
{
	json_t *s = v ? json_string(v) : NULL;
	json_object_set_new(o, k, s ? s : json_null());
}

static void set_col(json_t *o, const char *k, struct stmt *st, int col)
{
	set_text(o, k, stmt_is_null(st, col) ? NULL : stmt_text(st, col));
}

static int has_word(const char *list, const char *w, size_t n)
{
	for (const char *s = list; (s = strstr(s, w)) != NULL; s++)
		if ((s == list || s[-1] == ' ') && (s[n] == ' ' || s[n] == '\0'))
			return 1;
	return 0;
}

int adm_perms_subset(const char *perms, const char *holder)
{
	char w[64];
	for (const char *s = perms; *s;) {
		while (*s == ' ')
			s++;
		size_t n = strcspn(s, " ");
		if (!n)
			break;
		if (n >= sizeof w)
			return 0;
		memcpy(w, s, n);
		w[n] = '\0';
		if (!has_word(holder ? holder : "", w, n))
			return 0;
		s += n;
	}
	return 1;
}

int adm_perms_parse(json_t *arr, char *out, size_t n, struct adm_err *e)
{
	if (!json_is_array(arr))
		return adm_refuse(e, 400, "validation.type", "perms", "权限须为权限代码的数组");
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			return adm_refuse(e, 400, "validation.type", "perms", "权限须为权限代码的数组");
		if (!perm_known(json_string_value(v)))
			return adm_refuse(e, 400, "admin.perm_unknown", "perms", "不认识的权限：%.64s",
					  json_string_value(v));
	}
	/* catalog order, each once */
	size_t len = 0;
	out[0] = '\0';
	for (const struct perm_info *p = perm_catalog; p->code; p++) {
		int want = 0;
		json_array_foreach(arr, i, v)
			if (strcmp(json_string_value(v), p->code) == 0)
				want = 1;
		if (!want)
			continue;
		int k = snprintf(out + len, n - len, "%s%s", len ? " " : "", p->code);
		if (k < 0 || (size_t)k >= n - len)
			return adm_refuse(e, 400, "validation.too_long", "perms", "权限过多");
		len += (size_t)k;
	}
	return 0;
}

json_t *adm_words(const char *s)
{
	json_t *a = json_array();
	for (const char *p = s ? s : ""; *p;) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (!n)
			break;
		json_array_append_new(a, json_stringn(p, n));
		p += n;
	}
	return a;
}

char *adm_like_escape(const char *s)
{
	char *out = malloc(2 * strlen(s) + 1), *o = out;
	if (!out)
		abort();
	for (; *s; s++) {
		if (*s == '\\' || *s == '%' || *s == '_')
			*o++ = '\\';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

/* "lower(col) LIKE lower('%' || $n || '%') ESCAPE '\'" for a name search;
 * esc is adm_like_escape's result and must outlive the builder's use.
 * lower() on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's
 * does not, and this way both ignore it. */
static void like_contains(struct sqlb *b, const char *col, const char *esc)
{
	sqlb_add(b, "lower(");
	sqlb_add(b, col);
	sqlb_add(b, ") LIKE lower('%' || ");
	sqlb_text(b, esc);
	sqlb_add(b, " || '%') ESCAPE '\\'");
}

struct sortcol {
	const char *name, *sql;
};

/* Appends " ORDER BY ..." for a whitelisted sort name ("-name" descends),
 * tie-broken by tiebreak. Returns 0 or ADM_REFUSED for an unknown name. */
static int order_by(struct sqlb *b, const struct sortcol *cols, const char *sort, const char *tiebreak)
{
	if (!sort || !*sort)
		sort = cols[0].name;
	int desc = sort[0] == '-';
	const char *name = sort + desc;
	for (const struct sortcol *c = cols; c->name; c++) {
		if (strcmp(c->name, name) != 0)
			continue;
		sqlb_add(b, " ORDER BY ");
		sqlb_add(b, c->sql);
		sqlb_add(b, desc ? " DESC" : " ASC");
		if (tiebreak && strcmp(c->sql, tiebreak) != 0) {
			sqlb_add(b, ", ");
			sqlb_add(b, tiebreak);
		}
		return 0;
	}
	return ADM_REFUSED;
}

static void limit_offset(struct sqlb *b, const struct adm_page *pg)
{
	if (!pg)
		return;
	sqlb_add(b, " LIMIT ");
	sqlb_int(b, pg->size);
	sqlb_add(b, " OFFSET ");
	sqlb_int(b, (pg->page - 1) * pg->size);
}

static int count_rows(struct db *db, struct sqlb *b, int64_t *total)
{
	struct stmt *st;
	int rc = sqlb_prepare(b, db, &st);
	if (rc)
		return rc;
	rc = stmt_step(st);
	if (rc == STORE_ROW) {
		*total = stmt_int64(st, 0);
		rc = STORE_OK;
	}
	stmt_finalize(st);
	return rc;
}

/* A list: the count and the page share one filter. count and select are
 * the statements' heads, each ending in "WHERE 1=1" (head, when set,
 * appends the select's instead: it may bind values); where appends the
 * filter; row makes each item. */
struct list_q {
	const char *count, *select;
	void (*head)(struct sqlb *b, const void *arg);
	void (*where)(struct sqlb *b, const void *arg);
	const struct sortcol *sort;
	const char *tiebreak;
	json_t *(*row)(struct stmt *st, const void *arg);
	const void *arg;
};

/* Appends the page's items to items and sets *total (when asked). Returns
 * 0, ADM_REFUSED for an unknown sort name, or a store error. */
static int list_page(struct db *db, const struct list_q *q, const struct adm_page *pg, json_t *items,
		     int64_t *total)
{
	struct sqlb b;
	int rc;
	if (total) {
		sqlb_init(&b);
		sqlb_add(&b, q->count);
		q->where(&b, q->arg);
		rc = count_rows(db, &b, total);
		sqlb_free(&b);
		if (rc)
			return rc;
	}
	sqlb_init(&b);
	if (q->head)
		q->head(&b, q->arg);
	else
		sqlb_add(&b, q->select);
	q->where(&b, q->arg);
	if (order_by(&b, q->sort, pg ? pg->sort : NULL, q->tiebreak)) {
		sqlb_free(&b);
		return ADM_REFUSED;
	}
	limit_offset(&b, pg);
	struct stmt *st;
	rc = sqlb_prepare(&b, db, &st);
	sqlb_free(&b);
	if (rc)
		return rc;
	while ((rc = stmt_step(st)) == STORE_ROW)
		json_array_append_new(items, q->row(st, q->arg));
	stmt_finalize(st);
	return rc == STORE_DONE ? 0 : rc;
}

/*--- regions ---------------------------------------------------------------*/

#define REGION_COLS "r.code, r.name, r.level, r.parent_code, r.path, r.disabled, r.created_at, r.updated_at"

static json_t *region_from(struct stmt *st)
{
	json_t *o = json_object();
	set_col(o, "code", st, 0);
	set_col(o, "name", st, 1);
	set_col(o, "level", st, 2);
	set_col(o, "parent_code", st, 3);
	set_col(o, "path", st, 4);
	json_object_set_new(o, "disabled", json_boolean(stmt_int64(st, 5)));
	set_col(o, "created_at", st, 6);
	set_col(o, "updated_at", st, 7);
	return o;
}

/* The region path the caller's region visibility hangs from, into out:
 * his region (region scope), his unit's region (unit scope) or his
 * school's region (school scope; the same lookup scope_region_ok does).
 * *subtree tells whether what lies below it is visible too. Returns 0,
 * STORE_NOTFOUND when the caller sees no region, or a store error. */
static int region_anchor(struct db *db, const struct principal *p, char *out, size_t n, int *subtree)
{
	const char *sql = NULL;
	*subtree = 1;
	if (strcmp(p->scope_kind, "region") == 0) {
		if (!p->scope_path || !*p->scope_path)
			return STORE_NOTFOUND;
		snprintf(out, n, "%s", p->scope_path);
		return 0;
	}
	if (strcmp(p->scope_kind, "unit") == 0) {
		sql = "SELECT g.path FROM units u JOIN regions g ON g.code = u.region_code WHERE u.code = $1";
	} else if (strcmp(p->scope_kind, "school") == 0) {
		sql = "SELECT g.path FROM schools s JOIN regions g ON g.code = s.region_code"
		      " WHERE s.id = CAST($1 AS INTEGER)";
		*subtree = 0;
	} else {
		return STORE_NOTFOUND;
	}
	struct stmt *st;
	int rc = db_prepare(db, &st, sql);
	if (rc)
		return rc;
	stmt_bind_text(st, 1, p->scope_value);
	rc = stmt_step(st);
	if (rc == STORE_ROW) {
		snprintf(out, n, "%s", stmt_text(st, 0));
		rc = 0;
	} else if (rc == STORE_DONE) {
		rc = STORE_NOTFOUND;
	}
	stmt_finalize(st);
	return rc;
}

static void region_where(struct sqlb *b, const char *anchor, int subtree, const struct adm_region_filter *f,
			 const char *q_esc)
{
	if (anchor) {
		/* paths hold digits and '/', so they need no LIKE escaping */
		sqlb_add(b, subtree ? " AND (r.path LIKE (" : " AND (1=0");
		if (subtree) {
			sqlb_text(b, anchor);
			sqlb_add(b, " || '%')");
		}
		sqlb_add(b, " OR CAST(");
		sqlb_text(b, anchor);
		sqlb_add(b, " AS TEXT) LIKE (r.path || '%'))");
	}
	if (f->code) {
		sqlb_add(b, " AND r.code = ");
		sqlb_text(b, f->code);
	}
	if (f->parent) {
		sqlb_add(b, " AND r.parent_code = ");
		sqlb_text(b, f->parent);
	}
	if (f->level) {
		sqlb_add(b, " AND r.level = ");
		sqlb_text(b, f->level);
	}
	if (q_esc) {
		sqlb_add(b, " AND ");
		like_contains(b, "r.name", q_esc);
	}
	if (f->disabled >= 0) {
		sqlb_add(b, " AND r.disabled = ");
		sqlb_int(b, f->disabled);
	}
}

static const struct sortcol region_sort[] = {
	{ "path", "r.path" }, { "code", "r.code" }, { "name", "r.name" }, { "level", "r.level" }, { 0 },
};

struct region_q {
	const char *anchor; /* NULL: every region (scope all) */
	int subtree;
	const struct adm_region_filter *f;
	const char *q_esc;
};

static void region_list_where(struct sqlb *b, const void *arg)
{
	const struct region_q *q = arg;
	region_where(b, q->anchor, q->subtree, q->f, q->q_esc);
}

/* the columns, then whether the region is an ancestor of the caller's */
static void region_list_head(struct sqlb *b, const void *arg)
{
	const struct region_q *q = arg;
	sqlb_add(b, "SELECT " REGION_COLS ", ");
	if (!q->anchor) {
		sqlb_add(b, "0");
	} else {
		sqlb_add(b, "CASE WHEN r.path <> ");
		sqlb_text(b, q->anchor);
		sqlb_add(b, " AND CAST(");
		sqlb_text(b, q->anchor);
		sqlb_add(b, " AS TEXT) LIKE (r.path || '%') THEN 1 ELSE 0 END");
	}
	sqlb_add(b, " FROM regions r WHERE 1=1");
}

static json_t *region_list_row(struct stmt *st, const void *arg)
{
	(void)arg;
	json_t *o = region_from(st);
	json_object_set_new(o, "ancestor", json_boolean(stmt_int64(st, 8)));
	return o;
}

int adm_region_list(struct db *db, const struct principal *p, const struct adm_region_filter *f,
		    const struct adm_page *pg, json_t **items, int64_t *total)
{
	char anchor[256];
	int subtree = 1, all = strcmp(p->scope_kind, "all") == 0;
	*items = json_array();
	if (total)
		*total = 0;
	if (!all) {
		int rc = region_anchor(db, p, anchor, sizeof anchor, &subtree);
		if (rc == STORE_NOTFOUND)
			return 0;
		if (rc)
			return rc;
	}
	struct region_q rq = { all ? NULL : anchor, subtree, f, f->q && *f->q ? adm_like_escape(f->q) : NULL };
	const struct list_q q = { .count = "SELECT count(*) FROM regions r WHERE 1=1", .head = region_list_head,
				  .where = region_list_where, .sort = region_sort, .tiebreak = "r.code",
				  .row = region_list_row, .arg = &rq };
	int rc = list_page(db, &q, pg, *items, total);
	free((char *)rq.q_esc);
	return rc;
}

int adm_region_get(struct db *db, const char *code, json_t **out)
{
	*out = NULL;
	struct stmt *st;
	int rc = db_prepare(db, &st, "SELECT " REGION_COLS " FROM regions r WHERE r.code = $1");
	if (rc)
		return rc;
	stmt_bind_text(st, 1, code);
	rc = stmt_step(st);
	if (rc == STORE_ROW) {
		*out = region_from(st);
		rc = 0;
	} else if (rc == STORE_DONE) {
		rc = STORE_NOTFOUND;
	}
	stmt_finalize(st);
	return rc;
}

int adm_region_insert(struct db *db, const char *code, const char *name, const char *level,
		      const char *parent_code, const char *path)
{
	char at[32];
	clock_iso(at);
	struct stmt *st;
	int rc = db_prepare(db, &st,
			    "INSERT INTO regions (code, name, level, parent_code, path, disabled, created_at, updated_at)"
			    " VALUES ($1, $2, $3, $4, $5, 0, $6, $6)");
	if (rc)
		return rc;
	stmt_bind_text(st, 1, code);
	stmt_bind_text(st, 2, name);
	stmt_bind_text(st, 3, level);
	stmt_bind_text(st, 4, parent_code);
	stmt_bind_text(st, 5, path);
	stmt_bind_text(st, 6, at);
	return step_done(st);
}

int adm_region_update(struct db *db, const char *code, const char *name, int disabled)
{
	char at[32];
	clock_iso(at);
	struct stmt *st;
	int rc = db_prepare(db, &st,
			    "UPDATE regions SET name = COALESCE($2, name),"
			    " disabled = CASE WHEN $3 < 0 THEN disabled ELSE $3 END, updated_at = $4 WHERE code = $1");
	if (rc)
		return rc;
	stmt_bind_text(st, 1, code);
	stmt_bind_text(st, 2, name);
	stmt_bind_int64(st, 3, disabled);
	stmt_bind_text(st, 4, at);
	return step_done(st);
}

int adm_region_enabled_children(struct db *db, const char *code, int64_t *n)
{
	*n = 0;
	return db_query_int64(db, n, "SELECT count(*) FROM regions WHERE parent_code = $1 AND disabled = 0", 1, code);
}

/*--- units -----------------------------------------------------------------*/

#define UNIT_SELECT                                                                                           \
	"SELECT u.id, u.code, u.name, u.type, u.parent_id, pu.name, u.region_code, g.name, u.path, u.duties,"  \
	" u.phone, u.disabled, u.created_at, u.updated_at"                                                     \
	" FROM units u LEFT JOIN units pu ON pu.id = u.parent_id LEFT JOIN regions g ON g.code = u.region_code"

static json_t *unit_from(struct stmt *st)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(stmt_int64(st, 0)));
	set_col(o, "code", st, 1);
	set_col(o, "name", st, 2);
	set_col(o, "type", st, 3);
	json_object_set_new(o, "parent_id", stmt_is_null(st, 4) ? json_null() : json_integer(stmt_int64(st, 4)));
	set_col(o, "parent_name", st, 5);
	set_col(o, "region_code", st, 6);
	set_col(o, "region_name", st, 7);
	set_col(o, "path", st, 8);
	set_col(o, "duties", st, 9);
	set_col(o, "phone", st, 10);
	json_object_set_new(o, "disabled", json_boolean(stmt_int64(st, 11)));
	set_col(o, "created_at", st, 12);
	set_col(o, "updated_at", st, 13);
	return o;
}

/* Units in the caller's scope: as scope_unit_ok decides (a school-scoped
 * caller sees his own unit). */
static void unit_scope(const struct principal *p, struct sqlb *b)
{
	if (strcmp(p->scope_kind, "school") == 0) {
		sqlb_add(b, " AND u.id = ");
		sqlb_int(b, p->unit_id);
		return;
	}
	static const struct scope_cols c = { .region = "u.region_code", .unit = "u.id" };
	scope_sql(p, b, &c);
}

static void unit_where(struct sqlb *b, const struct principal *p, const struct adm_unit_filter *f, const char *q_esc)
{
	if (p)
		unit_scope(p, b);
	if (f->id) {
		sqlb_add(b, " AND u.id = ");
		sqlb_int(b, f->id);
	}
	if (f->type) {
		sqlb_add(b, " AND u.type = ");
		sqlb_text(b, f->type);
	}
	if (f->region) {
		sqlb_add(b, " AND u.region_code IN (SELECT x.code FROM regions x WHERE x.path LIKE"
			    " ((SELECT y.path FROM regions y WHERE y.code = ");
		sqlb_text(b, f->region);
		sqlb_add(b, ") || '%'))");
	}
	if (q_esc) {
		sqlb_add(b, " AND ");
		like_contains(b, "u.name", q_esc);
	}
	if (f->parent) {
		sqlb_add(b, " AND u.parent_id = ");
		sqlb_int(b, f->parent);
	}
	if (f->disabled >= 0) {
		sqlb_add(b, " AND u.disabled = ");
		sqlb_int(b, f->disabled);
	}
}

static const struct sortcol unit_sort[] = {
	{ "id", "u.id" }, { "code", "u.code" }, { "name", "u.name" }, { "type", "u.type" }, { "path", "u.path" },
	{ 0 },
};

struct unit_q {
	const struct principal *p;
	const struct adm_unit_filter *f;
	const char *q_esc;
};

static void unit_list_where(struct sqlb *b, const void *arg)
{
	const struct unit_q *q = arg;
	unit_where(b, q->p, q->f, q->q_esc);
}

static json_t *unit_list_row(struct stmt *st, const void *arg)
{
	(void)arg;
	return unit_from(st);
}

int adm_unit_list(struct db *db, const struct principal *p, const struct adm_unit_filter *f,
		  const struct adm_page *pg, json_t **items, int64_t *total)
{
	*items = json_array();
	struct unit_q uq = { p, f, f->q && *f->q ? adm_like_escape(f->q) : NULL };
	const struct list_q q = { .count = "SELECT count(*) FROM units u WHERE 1=1", .select = UNIT_SELECT " WHERE 1=1",
				  .where = unit_list_where, .sort = unit_sort, .tiebreak = "u.id",
				  .row = unit_list_row, .arg = &uq };
	int rc = list_page(db, &q, pg, *items, total);
	free((char *)uq.q_esc);
	return rc;
}

int adm_unit_get(struct db *db, int64_t id, const char *code, json_t **out)
{
	*out = NULL;
	struct stmt *st;
	int rc = db_prepare(db, &st, id ? UNIT_SELECT " WHERE u.id = $1" : UNIT_SELECT " WHERE u.code = $1");
	if (rc)
		return rc;
	if (id)
		stmt_bind_int64(st, 1, id);
	else
		stmt_bind_text(st, 1, code);
	rc = stmt_step(st);
	if (rc == STORE_ROW) {
		*out = unit_from(st);
		rc = 0;
	} else if (rc == STORE_DONE) {
		rc = STORE_NOTFOUND;
	}
	stmt_finalize(st);
	return rc;
}

/* The path of unit id into out ("" for id 0). */
static int unit_path(struct db *db, int64_t id, char *out, size_t n)
{
	out[0] = '\0';
	if (!id)
		return 0;
	struct stmt *st;
	int rc = db_prepare(db, &st, "SELECT path FROM units WHERE id = $1");
	if (rc)
		return rc;
	stmt_bind_int64(st, 1, id);
	rc = stmt_step(st);
	if (rc == STORE_ROW) {
		snprintf(out, n, "%s", stmt_text(st, 0));
		rc = 0;
	} else if (rc == STORE_DONE) {
		rc = STORE_NOTFOUND;
	}
	stmt_finalize(st);
	return rc;
}

int adm_unit_insert(struct db *db, const struct adm_unit_in *u, int64_t *id)
{
	char at[32], ppath[512], path[600];
	clock_iso(at);
	int rc = unit_path(db, u->parent_id, ppath, sizeof ppath);
	if (rc)
		return rc;
	struct stmt *st;
	/* the path needs the id: insert with a placeholder, then set it */
	if ((rc = db_prepare(db, &st,
			     "INSERT INTO units (code, name, type, parent_id, region_code, path, duties, phone, disabled,"
			     " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, '', $6, $7, 0, $8, $8) RETURNING id")))
		return rc;
	stmt_bind_text(st, 1, u->code);
	stmt_bind_text(st, 2, u->name);
	stmt_bind_text(st, 3, u->type);
	if (u->parent_id)
		stmt_bind_int64(st, 4, u->parent_id);
	else
		stmt_bind_null(st, 4);
	stmt_bind_text(st, 5, u->region_code);
	stmt_bind_text(st, 6, u->duties ? u->duties : "");
	stmt_bind_text(st, 7, u->phone ? u->phone : "");
	stmt_bind_text(st, 8, at);
	rc = stmt_step(st);
	if (rc == STORE_ROW)
		*id = stmt_int64(st, 0);
	stmt_finalize(st);
	if (rc != STORE_ROW)
		return rc == STORE_DONE ? STORE_ERR : rc;
	snprintf(path, sizeof path, "%s%lld/", u->parent_id ? ppath : "/", (long long)*id);
	if ((rc = db_prepare(db, &st, "UPDATE units SET path = $1 WHERE id = $2")))
		return rc;
	stmt_bind_text(st, 1, path);
	stmt_bind_int64(st, 2, *id);
	return step_done(st);
}

int adm_unit_in_subtree(struct db *db, int64_t id, int64_t candidate)
{
	int64_t n = 0;
	char a[24], c[24];
	snprintf(a, sizeof a, "%lld", (long long)id);
	snprintf(c, sizeof c, "%lld", (long long)candidate);
	if (db_query_int64(db, &n,
			   "SELECT count(*) FROM units c, units a WHERE a.id = CAST($1 AS INTEGER)"
			   " AND c.id = CAST($2 AS INTEGER) AND c.path LIKE (a.path || '%')",
			   2, a, c))
		return 0;
	return n > 0;
}

int adm_unit_update(struct db *db, int64_t id, json_t *changes)
{
	static const char *const text_cols[] = { "name", "type", "region_code", "duties", "phone", NULL };
	char at[32];
	clock_iso(at);
	struct sqlb b;
	sqlb_init(&b);
	sqlb_add(&b, "UPDATE units SET updated_at = ");
	sqlb_text(&b, at);
	for (const char *const *c = text_cols; *c; c++) {
		json_t *v = json_object_get(changes, *c);
		if (!v)
			continue;
		sqlb_add(&b, ", ");
		sqlb_add(&b, *c);
		if (json_is_null(v) && strcmp(*c, "region_code") == 0) {
			sqlb_add(&b, " = NULL");
		} else {
			sqlb_add(&b, " = ");
			sqlb_text(&b, json_is_string(v) ? json_string_value(v) : "");
		}
	}
	json_t *dis = json_object_get(changes, "disabled");
	if (dis) {
		sqlb_add(&b, ", disabled = ");
		sqlb_int(&b, json_is_true(dis));
	}
	json_t *par = json_object_get(changes, "parent_id");
	if (par) {
		sqlb_add(&b, ", parent_id = ");
		if (json_is_integer(par))
			sqlb_int(&b, json_integer_value(par));
		else
			sqlb_add(&b, "NULL");
	}
	sqlb_add(&b, " WHERE id = ");
	sqlb_int(&b, id);
	struct stmt *st;
	int rc = sqlb_prepare(&b, db, &st);
	sqlb_free(&b);
	if (rc || (rc = step_done(st)))
		return rc;
	if (!par)
		return 0;
	/* moved: the unit and everything below it get the new prefix */
	char old[512], ppath[512], path[600];
	if ((rc = unit_path(db, id, old, sizeof old)))
		return rc;
	if ((rc = unit_path(db, json_is_integer(par) ? json_integer_value(par) : 0, ppath, sizeof ppath)))
		return rc;
	snprintf(path, sizeof path, "%s%s%lld/", ppath, *ppath ? "" : "/", (long long)id);
	if (strcmp(path, old) == 0)
		return 0;
	if ((rc = db_prepare(db, &st,
			     "UPDATE units SET path = CAST($1 AS TEXT) || substr(path, $2) WHERE path LIKE (CAST($3 AS TEXT) || '%')")))
		return rc;
	stmt_bind_text(st, 1, path);
	stmt_bind_int64(st, 2, (int64_t)strlen(old) + 1);
	stmt_bind_text(st, 3, old);
	return step_done(st);
}

/*--- roles -----------------------------------------------------------------*/

#define ROLE_COLS "r.code, r.name, r.perms, r.require_totp, r.builtin, r.disabled, r.created_at, r.updated_at"

static void role_from(struct stmt *st, struct adm_role *r)
{
	memset(r, 0, sizeof *r);
	snprintf(r->code, sizeof r->code, "%s", stmt_text(st, 0));
	snprintf(r->name, sizeof r->name, "%s", stmt_text(st, 1));
	snprintf(r->perms, sizeof r->perms, "%s", stmt_text(st, 2));
	r->require_totp = (int)stmt_int64(st, 3);
	r->builtin = (int)stmt_int64(st, 4);
	r->disabled = (int)stmt_int64(st, 5);
}

json_t *adm_role_json(const struct adm_role *r)
{
	json_t *o = json_object();
	set_text(o, "code", r->code);
	set_text(o, "name", r->name);
	json_object_set_new(o, "perms", adm_words(r->perms));
	json_object_set_new(o, "require_totp", json_boolean(r->require_totp));
	json_object_set_new(o, "builtin", json_boolean(r->builtin));
	json_object_set_new(o, "disabled", json_boolean(r->disabled));
	return o;
}

static const struct sortcol role_sort[] = {
	{ "default", "r.builtin DESC, r.code" }, { "code", "r.code" }, { "name", "r.name" }, { 0 },
};

static void role_list_where(struct sqlb *b, const void *arg)
{
	const char *code = arg;
	if (code) {
		sqlb_add(b, " AND r.code = ");
		sqlb_text(b, code);
	}
}

static json_t *role_list_row(struct stmt *st, const void *arg)
{
	(void)arg;
	struct adm_role r;
	role_from(st, &r);
	json_t *o = adm_role_json(&r);
	set_col(o, "created_at", st, 6);
	set_col(o, "updated_at", st, 7);
	return o;
}

int adm_role_list(struct db *db, const char *code, const struct adm_page *pg, json_t **items, int64_t *total)
{
	*items = json_array();
	const struct list_q q = { .count = "SELECT count(*) FROM roles r WHERE 1=1",
				  .select = "SELECT " ROLE_COLS " FROM roles r WHERE 1=1", .where = role_list_where,
				  .sort = role_sort, .tiebreak = "r.code", .row = role_list_row, .arg = code };
	return list_page(db, &q, pg, *items, total);
}

int adm_role_get(struct db *db, const char *code, struct adm_role *out)
{
	struct stmt *st;
	int rc = db_prepare(db, &st, "SELECT " ROLE_COLS " FROM roles r WHERE r.code = $1");
	if (rc)
		return rc;
	stmt_bind_text(st, 1, code);
	rc = stmt_step(st);
	if (rc == STORE_ROW) {
		role_from(st, out);
		rc = 0;
	} else if (rc == STORE_DONE) {
		rc = STORE_NOTFOUND;
	}
	stmt_finalize(st);
	return rc;
}

int adm_role_insert(struct db *db, const struct adm_role *r)
{
	char at[32];
	clock_iso(at);
	struct stmt *st;
	int rc = db_prepare(db, &st,
			    "INSERT INTO roles (code, name, perms, require_totp, builtin, disabled, created_at, updated_at)"
			    " VALUES ($1, $2, $3, $4, $5, 0, $6, $6)");
	if (rc)
		return rc;
	stmt_bind_text(st, 1, r->code);
	stmt_bind_text(st, 2, r->name);
	stmt_bind_text(st, 3, r->perms);
	stmt_bind_int64(st, 4, r->require_totp ? 1 : 0);
	stmt_bind_int64(st, 5, r->builtin ? 1 : 0);
	stmt_bind_text(st, 6, at);
	return step_done(st);
}

int adm_role_update(struct db *db, const struct adm_role *r)
{
	char at[32];
	clock_iso(at);
	struct stmt *st;
	int rc = db_prepare(db, &st,
			    "UPDATE roles SET name = $2, perms = $3, require_totp = $4, disabled = $5, updated_at = $6"
			    " WHERE code = $1");
	if (rc)
		return rc;
	stmt_bind_text(st, 1, r->code);
	stmt_bind_text(st, 2, r->name);
	stmt_bind_text(st, 3, r->perms);
	stmt_bind_int64(st, 4, r->require_totp ? 1 : 0);
	stmt_bind_int64(st, 5, r->disabled ? 1 : 0);
	stmt_bind_text(st, 6, at);
	return step_done(st);
}

int adm_role_users(struct db *db, const char *code, json_t **ids)
{
	*ids = json_array();
	struct stmt *st;
	int rc = db_prepare(db, &st, "SELECT user_id FROM user_roles WHERE role_code = $1");
	if (rc)
		return rc;
	stmt_bind_text(st, 1, code);
	while ((rc = stmt_step(st)) == STORE_ROW)
		json_array_append_new(*ids, json_integer(stmt_int64(st, 0)));
	stmt_finalize(st);
	return rc == STORE_DONE ? 0 : rc;
}

/* The built-in roles (内置角色). The administrator's permissions are the
 * whole catalog, filled in at run time. */
static const struct {
	const char *code, *name, *perms;
} builtin_roles[] = {
	{ "admin", "系统管理员", NULL },
	{ "coordinator", "综治办统筹",
	  "school.read school.write school.delete school.import school.export unit.read region.read user.read audit.read"
	  " venue.read venue.write venue.delete venue.import venue.export zone.read zone.review zone.recompute" },
	{ "cadre", "成员单位干部",
	  "school.read school.export unit.read region.read venue.read venue.write venue.import venue.export zone.read"
	  " zone.review" },
	{ "police", "公安民警", "school.read unit.read region.read venue.read zone.read zone.review" },
	{ "principal", "学校校长", "school.read school.write school.export unit.read venue.read zone.read" },
	{ "safety_officer", "学校安全干部", "school.read school.write unit.read venue.read zone.read" },
	{ "inspector", "督导只读",
	  "school.read school.export unit.read region.read audit.read venue.read venue.export zone.read" },
};

int adm_builtin_roles(struct db *db, const struct audit_actor *a)
{
	char all[1024] = "";
	size_t len = 0;
	for (const struct perm_info *p = perm_catalog; p->code; p++) {
		int k = snprintf(all + len, sizeof all - len, "%s%s", len ? " " : "", p->code);
		if (k > 0 && (size_t)k < sizeof all - len)
			len += (size_t)k;
	}
	char at[32];
	clock_iso(at);
	for (size_t i = 0; i < sizeof builtin_roles / sizeof builtin_roles[0]; i++) {
		struct adm_role r;
		memset(&r, 0, sizeof r);
		snprintf(r.code, sizeof r.code, "%s", builtin_roles[i].code);
		snprintf(r.name, sizeof r.name, "%s", builtin_roles[i].name);
		snprintf(r.perms, sizeof r.perms, "%s", builtin_roles[i].perms ? builtin_roles[i].perms : all);
		r.builtin = 1;
		struct stmt *st;
		int rc = db_prepare(db, &st,
				    "INSERT INTO roles (code, name, perms, require_totp, builtin, disabled, created_at,"
				    " updated_at) VALUES ($1, $2, $3, 0, 1, 0, $4, $4) ON CONFLICT DO NOTHING");
		if (rc)
			return rc;
		stmt_bind_text(st, 1, r.code);
		stmt_bind_text(st, 2, r.name);
		stmt_bind_text(st, 3, r.perms);
		stmt_bind_text(st, 4, at);
		if ((rc = step_done(st)))
			return rc;
		if (db_changes(db) == 0)
			continue;
		json_t *after = adm_role_json(&r);
		rc = audit_append(db, a, "create", "role", r.code, NULL, after);
		json_decref(after);
		if (rc)
			return rc;
	}
	return 0;
}

/*--- users -----------------------------------------------------------------*/

#define USER_SELECT                                                                                          \
	"SELECT u.id, u.username, u.display_name, u.phone, u.unit_id, n.code, n.name, u.scope_kind,"         \
	" u.scope_value, CASE u.scope_kind WHEN 'region' THEN (SELECT x.name FROM regions x"                  \
	"  WHERE x.code = u.scope_value) WHEN 'unit' THEN (SELECT y.name FROM units y WHERE y.code ="        \
	"  u.scope_value) ELSE NULL END, u.must_change_password,"                                            \
	" CASE WHEN u.totp_secret IS NULL THEN 0 ELSE 1 END, u.locked_until, u.disabled, u.created_at,"      \
	" u.updated_at FROM users u JOIN units n ON n.id = u.unit_id"

/* A school scope is named by the school module (the school's name). */
static void school_scope_names(struct db *db, json_t *items)
{
	size_t i;
	json_t *u;
	json_array_foreach(items, i, u) {
		json_t *scope = json_object_get(u, "scope");
		if (strcmp(json_string_value(json_object_get(scope, "kind")), "school") != 0)
			continue;
		char name[256];
		const char *v = json_string_value(json_object_get(scope, "value"));
		if (school_visible(db, NULL, strtoll(v ? v : "0", NULL, 10), name, sizeof name) == 0)
			json_object_set_new(scope, "name", json_string(name));
	}
}

static json_t *user_from(struct stmt *st, int with_phone)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(stmt_int64(st, 0)));
	set_col(o, "username", st, 1);
	set_col(o, "display_name", st, 2);
	if (with_phone)
		set_col(o, "phone", st, 3);
	json_t *unit = json_object();
	json_object_set_new(unit, "id", json_integer(stmt_int64(st, 4)));
	set_col(unit, "code", st, 5);
	set_col(unit, "name", st, 6);
	json_object_set_new(o, "unit", unit);
	json_t *scope = json_object();
	set_col(scope, "kind", st, 7);
	set_col(scope, "value", st, 8);
	if (strcmp(stmt_text(st, 7), "all") == 0)
		set_text(scope, "name", "全部");
	else
		set_col(scope, "name", st, 9);
	json_object_set_new(o, "scope", scope);
	json_object_set_new(o, "must_change_password", json_boolean(stmt_int64(st, 10)));
	json_object_set_new(o, "totp_enabled", json_boolean(stmt_int64(st, 11)));
	json_object_set_new(o, "locked", json_boolean(stmt_int64(st, 12) > clock_now()));
	json_object_set_new(o, "disabled", json_boolean(stmt_int64(st, 13)));
	set_col(o, "created_at", st, 14);
	set_col(o, "updated_at", st, 15);
	return o;
}

/* Users whose unit is in the caller's scope; a school-scoped caller sees
 * himself only. */
static void user_scope(const struct principal *p, struct sqlb *b)
{
	if (strcmp(p->scope_kind, "school") == 0) {
		sqlb_add(b, " AND u.id = ");
		sqlb_int(b, p->user_id);
		return;
	}
	static const struct scope_cols c = { .region = "n.region_code", .unit = "n.id" };
	scope_sql(p, b, &c);
}

static void user_where(struct sqlb *b, const struct principal *p, const struct adm_user_filter *f, const char *q_esc)
{
	if (p)
		user_scope(p, b);
	if (f->id) {
		sqlb_add(b, " AND u.id = ");
		sqlb_int(b, f->id);
	}
	if (f->username) {
		sqlb_add(b, " AND u.username = ");
		sqlb_text(b, f->username);
	}
	if (q_esc) {
		sqlb_add(b, " AND (");
		like_contains(b, "u.username", q_esc);
		sqlb_add(b, " OR ");
		like_contains(b, "u.display_name", q_esc);
		sqlb_add(b, ")");
	}
	if (f->unit) {
		sqlb_add(b, " AND u.unit_id = ");
		sqlb_int(b, f->unit);
	}
	if (f->role) {
		sqlb_add(b, " AND EXISTS (SELECT 1 FROM user_roles z WHERE z.user_id = u.id AND z.role_code = ");
		sqlb_text(b, f->role);
		sqlb_add(b, ")");
	}
	if (f->disabled >= 0) {
		sqlb_add(b, " AND u.disabled = ");
		sqlb_int(b, f->disabled);
	}
}

static const struct sortcol user_sort[] = {
	{ "id", "u.id" },       { "username", "u.username" },     { "display_name", "u.display_name" },
	{ "unit", "n.name" },   { "created_at", "u.created_at" }, { 0 },
};

/* Adds "roles":[codes] to each user object of items. */
static int add_roles(struct db *db, json_t *items)
{
	struct stmt *st;
	size_t i;
	json_t *o;
	json_array_foreach(items, i, o) {
		int rc = db_prepare(db, &st, "SELECT role_code FROM user_roles WHERE user_id = $1 ORDER BY role_code");
		if (rc)
			return rc;
		stmt_bind_int64(st, 1, json_integer_value(json_object_get(o, "id")));
		json_t *roles = json_array();
		while ((rc = stmt_step(st)) == STORE_ROW)
			json_array_append_new(roles, json_string(stmt_text(st, 0)));
		stmt_finalize(st);
		json_object_set_new(o, "roles", roles);
		if (rc != STORE_DONE)
			return rc;
	}
	return 0;
}

struct user_q {
	const struct principal *p;
	const struct adm_user_filter *f;
	const char *q_esc;
};

static void user_list_where(struct sqlb *b, const void *arg)
{
	const struct user_q *q = arg;
	user_where(b, q->p, q->f, q->q_esc);
}

static json_t *user_list_row(struct stmt *st, const void *arg)
{
	const struct user_q *q = arg;
	return user_from(st, q->f->with_phone);
}

int adm_user_list(struct db *db, const struct principal *p, const struct adm_user_filter *f,
		  const struct adm_page *pg, json_t **items, int64_t *total)
{
	*items = json_array();
	struct user_q uq = { p, f, f->q && *f->q ? adm_like_escape(f->q) : NULL };
	const struct list_q q = { .count = "SELECT count(*) FROM users u JOIN units n ON n.id = u.unit_id WHERE 1=1",
				  .select = USER_SELECT " WHERE 1=1", .where = user_list_where, .sort = user_sort,
				  .tiebreak = "u.id", .row = user_list_row, .arg = &uq };
	int rc = list_page(db, &q, pg, *items, total);
	if (rc == 0)
		rc = add_roles(db, *items);
	if (rc == 0)
		school_scope_names(db, *items);
	free((char *)uq.q_esc);
	return rc;
}

int adm_user_get(struct db *db, int64_t id, json_t **out)
{
	struct adm_user_filter f = { .id = id, .disabled = -1, .with_phone = 1 };
	json_t *items;
	*out = NULL;
	int rc = adm_user_list(db, NULL, &f, NULL, &items, NULL);
	if (rc == 0 && json_array_size(items) == 0)
		rc = STORE_NOTFOUND;
	if (rc == 0)
		*out = json_incref(json_array_get(items, 0));
	json_decref(items);
	return rc;
}

int adm_user_row(struct db *db, int64_t id, const char *username, struct adm_user *out)
{
	memset(out, 0, sizeof *out);
	struct stmt *st;
	int rc = db_prepare(db, &st,
			    id ? "SELECT id, unit_id, username, scope_kind, scope_value, disabled FROM users WHERE id = $1"
			       : "SELECT id, unit_id, username, scope_kind, scope_value, disabled FROM users"
				 " WHERE username = $1");
	if (rc)
		return rc;
	if (id)
		stmt_bind_int64(st, 1, id);
	else
		stmt_bind_text(st, 1, username);
	rc = stmt_step(st);
	if (rc == STORE_ROW) {
		out->id = stmt_int64(st, 0);
		out->unit_id = stmt_int64(st, 1);
		snprintf(out->username, sizeof out->username, "%s", stmt_text(st, 2));
		snprintf(out->scope_kind, sizeof out->scope_kind, "%s", stmt_text(st, 3));
		snprintf(out->scope_value, sizeof out->scope_value, "%s", stmt_text(st, 4));
		out->disabled = (int)stmt_int64(st, 5);
	}
	stmt_finalize(st);
	if (rc != STORE_ROW)
		return rc == STORE_DONE ? STORE_NOTFOUND : rc;
	/* every role counts, disabled ones too: they may be enabled again */
	if ((rc = db_prepare(db, &st,
			     "SELECT r.code, r.perms FROM user_roles ur JOIN roles r ON r.code = ur.role_code"
			     " WHERE ur.user_id = $1 ORDER BY r.code")))
		return rc;
	stmt_bind_int64(st, 1, out->id);
	size_t rl = 0, pl = 0;
	while ((rc = stmt_step(st)) == STORE_ROW) {
		int k = snprintf(out->roles + rl, sizeof out->roles - rl, "%s%s", rl ? " " : "", stmt_text(st, 0));
		if (k > 0 && (size_t)k < sizeof out->roles - rl)
			rl += (size_t)k;
		k = snprintf(out->perms + pl, sizeof out->perms - pl, "%s%s", pl ? " " : "", stmt_text(st, 1));
		if (k > 0 && (size_t)k < sizeof out->perms - pl)
			pl += (size_t)k;
	}
	stmt_finalize(st);
	return rc == STORE_DONE ? 0 : rc;
}

/* A caller that sees everything, for checking that a scope names
 * something (scope_contains answers -1 when it does not). */
static const struct principal everyone = { .scope_kind = "all", .scope_value = "", .scope_path = "" };

static int utf8_ok(const char *s)
{
	json_t *j = json_string(s);
	json_decref(j);
	return j != NULL;
}

int adm_user_check(struct db *db, const struct adm_user_in *u, struct adm_err *e)
{
	if (!u->username || !vcheck_username(u->username))
		return adm_refuse(e, 400, "validation.format", "username",
				  "用户名须为 3 到 32 个小写字母、数字或 _ . -，以字母开头");
	if (!u->display_name || !*u->display_name || !utf8_ok(u->display_name))
		return adm_refuse(e, 400, "validation.required", "display_name", "姓名不能为空");
	if (utf8_chars(u->display_name) > 50)
		return adm_refuse(e, 400, "validation.too_long", "display_name", "姓名不能超过 50 个字符");
	for (const char *c = u->display_name; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return adm_refuse(e, 400, "validation.control_char", "display_name", "姓名含有不允许的控制字符");
	if (u->phone && *u->phone && !vcheck_phone(u->phone))
		return adm_refuse(e, 400, "validation.format", "phone", "手机号码须为 11 位手机号或带区号的固定电话");

	int64_t n = 0;
	int rc = db_query_int64(db, &n, "SELECT count(*) FROM users WHERE username = $1", 1, u->username);
	if (rc)
		return rc;
	if (n)
		return adm_refuse(e, 409, "admin.username_taken", "username", "用户名已存在");

	json_t *unit = NULL;
	rc = adm_unit_get(db, u->unit_id, NULL, &unit);
	if (rc == STORE_NOTFOUND)
		return adm_refuse(e, 400, "admin.unit_not_found", "unit_id", "所属单位不存在或不在您的管辖范围内");
	if (rc)
		return rc;
	int off = json_is_true(json_object_get(unit, "disabled"));
	json_decref(unit);
	if (off)
		return adm_refuse(e, 400, "admin.unit_disabled", "unit_id", "所属单位已停用");

	int nroles = 0;
	for (const char *s = u->roles ? u->roles : ""; *s;) {
		while (*s == ' ')
			s++;
		size_t k = strcspn(s, " ");
		if (!k)
			break;
		char code[64];
		snprintf(code, sizeof code, "%.*s", (int)(k < sizeof code ? k : sizeof code - 1), s);
		s += k;
		struct adm_role r;
		rc = adm_role_get(db, code, &r);
		if (rc == STORE_NOTFOUND)
			return adm_refuse(e, 400, "admin.role_unknown", "roles", "角色不存在：%.64s", code);
		if (rc)
			return rc;
		if (r.disabled)
			return adm_refuse(e, 400, "admin.role_disabled", "roles", "角色已停用：%s", r.name);
		nroles++;
	}
	if (!nroles)
		return adm_refuse(e, 400, "validation.required", "roles", "角色至少选择一个");

	const char *k = u->scope_kind ? u->scope_kind : "";
	if (strcmp(k, "all") && strcmp(k, "region") && strcmp(k, "unit") && strcmp(k, "school"))
		return adm_refuse(e, 400, "validation.enum", "scope", "数据范围须为 all、region、unit 或 school");
	if (strcmp(k, "all") && (!u->scope_value || !*u->scope_value || strlen(u->scope_value) > 63))
		return adm_refuse(e, 400, "validation.required", "scope", "数据范围须指明区划代码、单位代码或学校编号");
	if (scope_contains(db, &everyone, k, u->scope_value ? u->scope_value : "") != 1)
		return adm_refuse(e, 400, "admin.scope_invalid", "scope", "数据范围指向的%s不存在",
				  !strcmp(k, "region") ? "行政区划" : !strcmp(k, "unit") ? "单位" : "学校");
	return 0;
}

static int insert_roles(struct db *db, int64_t id, const char *roles)
{
	for (const char *s = roles; *s;) {
		while (*s == ' ')
			s++;
		size_t k = strcspn(s, " ");
		if (!k)
			break;
		char code[64];
		snprintf(code, sizeof code, "%.*s", (int)(k < sizeof code ? k : sizeof code - 1), s);
		s += k;
		struct stmt *st;
		int rc = db_prepare(db, &st,
				    "INSERT INTO user_roles (user_id, role_code) VALUES ($1, $2) ON CONFLICT DO NOTHING");
		if (rc)
			return rc;
		stmt_bind_int64(st, 1, id);
		stmt_bind_text(st, 2, code);
		if ((rc = step_done(st)))
			return rc;
	}
	return 0;
}

int adm_user_insert(struct db *db, const struct audit_actor *a, const struct adm_user_in *u, const char *hash,
		    int64_t *id)
{
	char at[32];
	clock_iso(at);
	struct stmt *st;
	int rc = db_prepare(db, &st,
			    "INSERT INTO users (username, display_name, phone, unit_id, scope_kind, scope_value,"
			    " password_hash, must_change_password, disabled, created_at, updated_at)"
			    " VALUES ($1, $2, $3, $4, $5, $6, $7, 1, 0, $8, $8) RETURNING id");
	if (rc)
		return rc;
	stmt_bind_text(st, 1, u->username);
	stmt_bind_text(st, 2, u->display_name);
	stmt_bind_text(st, 3, u->phone ? u->phone : "");
	stmt_bind_int64(st, 4, u->unit_id);
	stmt_bind_text(st, 5, u->scope_kind);
	stmt_bind_text(st, 6, strcmp(u->scope_kind, "all") ? u->scope_value : "");
	stmt_bind_text(st, 7, hash);
	stmt_bind_text(st, 8, at);
	rc = stmt_step(st);
	if (rc == STORE_ROW)
		*id = stmt_int64(st, 0);
	stmt_finalize(st);
	if (rc != STORE_ROW)
		return rc == STORE_DONE ? STORE_ERR : rc;
	if ((rc = insert_roles(db, *id, u->roles)))
		return rc;
	json_t *after = NULL;
	if ((rc = adm_user_get(db, *id, &after)))
		return rc;
	char ids[24];
	snprintf(ids, sizeof ids, "%lld", (long long)*id);
	rc = audit_append(db, a, "create", "user", ids, NULL, after);
	json_decref(after);
	return rc;
}

int adm_user_update(struct db *db, int64_t id, json_t *changes, const char *roles)
{
	static const char *const text_cols[] = { "display_name", "phone", "scope_kind", "scope_value", NULL };
	char at[32];
	clock_iso(at);
	struct sqlb b;
	sqlb_init(&b);
	sqlb_add(&b, "UPDATE users SET updated_at = ");
	sqlb_text(&b, at);
	for (const char *const *c = text_cols; *c; c++) {
		json_t *v = json_object_get(changes, *c);
		if (!v)
			continue;
		sqlb_add(&b, ", ");
		sqlb_add(&b, *c);
		sqlb_add(&b, " = ");
		sqlb_text(&b, json_is_string(v) ? json_string_value(v) : "");
	}
	json_t *v;
	if ((v = json_object_get(changes, "unit_id"))) {
		sqlb_add(&b, ", unit_id = ");
		sqlb_int(&b, json_integer_value(v));
	}
	if ((v = json_object_get(changes, "disabled"))) {
		sqlb_add(&b, ", disabled = ");
		sqlb_int(&b, json_is_true(v));
	}
	sqlb_add(&b, " WHERE id = ");
	sqlb_int(&b, id);
	struct stmt *st;
	int rc = sqlb_prepare(&b, db, &st);
	sqlb_free(&b);
	if (rc || (rc = step_done(st)))
		return rc;
	if (!roles)
		return 0;
	if ((rc = db_prepare(db, &st, "DELETE FROM user_roles WHERE user_id = $1")))
		return rc;
	stmt_bind_int64(st, 1, id);
	if ((rc = step_done(st)))
		return rc;
	return insert_roles(db, id, roles);
}

int adm_user_set_password(struct db *db, int64_t id, const char *hash)
{
	char at[32];
	clock_iso(at);
	struct stmt *st;
	int rc = db_prepare(db, &st,
			    "UPDATE users SET password_hash = $2, must_change_password = 1, failed_logins = 0,"
			    " locked_until = 0, updated_at = $3 WHERE id = $1");
	if (rc)
		return rc;
	stmt_bind_int64(st, 1, id);
	stmt_bind_text(st, 2, hash);
	stmt_bind_text(st, 3, at);
	return step_done(st);
}

int adm_user_clear_totp(struct db *db, int64_t id)
{
	char at[32];
	clock_iso(at);
	struct stmt *st;
	int rc = db_prepare(db, &st,
			    "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = 0, updated_at = $2"
			    " WHERE id = $1");
	if (rc)
		return rc;
	stmt_bind_int64(st, 1, id);
	stmt_bind_text(st, 2, at);
	return step_done(st);
}

int adm_user_drop_sessions(struct db *db, int64_t id)
{
	struct stmt *st;
	int rc = db_prepare(db, &st, "DELETE FROM sessions WHERE user_id = $1");
	if (rc)
		return rc;
	stmt_bind_int64(st, 1, id);
	return step_done(st);
}

int adm_default_scope(struct db *db, int64_t unit_id, char *kind, char *value)
{
	json_t *u = NULL;
	int rc = adm_unit_get(db, unit_id, NULL, &u);
	if (rc)
		return rc;
	const char *region = json_string_value(json_object_get(u, "region_code"));
	snprintf(kind, 16, "%s", region ? "region" : "unit");
	snprintf(value, 64, "%s", region ? region : json_string_value(json_object_get(u, "code")));
	json_decref(u);
	return 0;
}
