/*
 * zone_api.c - the surroundings API: a school's surroundings, findings and
 * their review (confirm, exempt, measure), full recompute, schools near a
 * point, and the layered rules with their versions.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/access.h"
#include "auth/audit.h"
#include "core/clock.h"
#include "core/http.h"
#include "core/router.h"
#include "core/valid.h"
#include "geo/coord.h"
#include "io/regkit.h"
#include "store/store.h"
#include "zone/rules_seed.h"
#include "zone/zone_int.h"

/*--- small helpers -------------------------------------------------------------*/

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


/* A number query argument in [lo, hi]; dflt when absent. */
static int query_num(struct req *r, const char *name, double lo, double hi, double dflt, double *out, const char *msg)
{
	const char *v = req_query(r, name);
	*out = dflt;
	if (!v || !*v) {
		if (isnan(dflt))
			return reply_error(r, 400, "validation.required", msg, name), -1;
		return 0;
	}
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (errno || *end || !isfinite(x) || x < lo || x > hi)
		return reply_error(r, 400, "validation.range", msg, name), -1;
	*out = x;
	return 0;
}

static const struct scope_cols school_scope = {
	.region = "s.region_code", .unit = "s.unit_id", .unit2 = "s.police_unit_id", .school = "s.id",
};

/* findings: the school's region and units, or the venue's responsible unit */
static const struct scope_cols finding_scope = {
	.region = "f.region_code", .unit = "f.venue_unit_id", .unit2 = "s.police_unit_id", .school = "f.school_id",
};

static json_t *text_json(struct stmt *st, int col)
{
	if (stmt_is_null(st, col))
		return json_null();
	json_t *j = json_loads(stmt_text(st, col), 0, NULL);
	return j ? j : json_null();
}

static json_t *num_or_null(struct stmt *st, int col)
{
	return stmt_is_null(st, col) ? json_null() : json_real(stmt_double(st, col));
}

/*--- GET /api/schools/:id/surroundings -----------------------------------------------*/

struct surr {
	size_t n, cap;
	struct zx_pair *p;
};

static void surr_add(void *arg, const struct zx_pair *p)
{
	struct surr *s = arg;
	if (s->n == s->cap) {
		size_t c = s->cap ? s->cap * 2 : 64;
		struct zx_pair *np = realloc(s->p, c * sizeof *np);
		if (!np)
			return;
		s->p = np, s->cap = c;
	}
	s->p[s->n++] = *p;
}

static int by_distance(const void *a, const void *b)
{
	const struct zx_pair *x = a, *y = b;
	return x->distance_m < y->distance_m ? -1 : x->distance_m > y->distance_m;
}

static json_t *rule_brief(const struct zx_rule *ru)
{
	if (!ru)
		return json_null();
	return json_pack("{s:I,s:s,s:i,s:s,s:o,s:s}", "id", (json_int_t)ru->id, "code", ru->code, "version", ru->version,
			 "method", zx_method_codes[ru->method], "distance_m",
			 isnan(ru->distance_m) ? json_null() : json_real(ru->distance_m), "effect",
			 zx_verdict_names[ru->effect]);
}

struct buffers {
	json_t *arr;
};

static void add_buffer(void *arg, const struct zx_rule *ru)
{
	struct buffers *b = arg;
	if (isnan(ru->distance_m))
		return;
	json_array_append_new(b->arr, json_pack("{s:s,s:s,s:s,s:s,s:f,s:s}", "rule_code", ru->code, "category",
						zx_category_codes[ru->category], "category_name",
						zx_category_names[ru->category], "method", zx_method_codes[ru->method],
						"distance_m", ru->distance_m, "effect", zx_verdict_names[ru->effect]));
}

static int api_surroundings(struct req *r)
{
	int64_t id;
	double radius;
	if (rk_parse_id(r, &id) || query_num(r, "radius", 1, 2000, zone_radius(), &radius, "半径须为 1 到 2000 米"))
		return 0;
	struct db *db = req_db(r);
	struct sqlb b;
	sqlb_init(&b);
	sqlb_add(&b, "SELECT s.id, s.name, s.stage, s.lat, s.lon, s.boundary, s.entrances FROM schools s WHERE s.id = ");
	sqlb_int(&b, id);
	sqlb_add(&b, " AND s.deleted_at IS NULL");
	scope_sql(r->user, &b, &school_scope);
	struct stmt *st;
	int rc = sqlb_prepare(&b, db, &st);
	sqlb_free(&b);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	if ((rc = stmt_step(st)) != STORE_ROW) {
		stmt_finalize(st);
		return rc == STORE_DONE ? reply_not_found(r) : reply_store_error(r, rc, NULL, NULL, NULL);
	}
	json_t *boundary = text_json(st, 5);
	json_t *school = json_pack("{s:I,s:s,s:s,s:o,s:o,s:o,s:o}", "id", (json_int_t)id, "name", stmt_text(st, 1),
				   "stage", stmt_text(st, 2), "lat", num_or_null(st, 3), "lon", num_or_null(st, 4),
				   "boundary",
				   json_is_array(boundary) ? json_pack("{s:s,s:O}", "type", "MultiPolygon", "coordinates",
								       boundary)
							   : json_null(),
				   "entrances", text_json(st, 6));
	json_decref(boundary);
	stmt_finalize(st);
	zone_follow(db);
	struct surr s = { 0 };
	struct buffers bufs = { json_array() };
	struct zx *z = zone_lock();
	long n = z ? zx_surroundings(z, id, radius, surr_add, &s) : -1;
	if (z)
		zx_school_rules(z, id, add_buffer, &bufs);
	/* copy the rule fields out while the index is locked */
	json_t *rules = json_array();
	for (size_t i = 0; i < s.n; i++)
		json_array_append_new(rules, rule_brief(s.p[i].rule));
	zone_unlock();
	json_t *items = json_array();
	if (n > 0) {
		qsort(s.p, s.n, sizeof *s.p, by_distance);
		/* the rule briefs were made in index order: redo them sorted */
		json_decref(rules);
		rules = json_array();
		z = zone_lock();
		for (size_t i = 0; i < s.n; i++)
			json_array_append_new(rules, rule_brief(s.p[i].rule));
		zone_unlock();
	}
	for (size_t i = 0; i < s.n && n > 0; i++) {
		const struct zx_pair *p = &s.p[i];
		if ((rc = db_prepare(db, &st,
				     "SELECT v.name, v.category, c.name, v.status, v.lat, v.lon, v.entrances, f.id, f.state"
				     " FROM venues v JOIN venue_categories c ON c.code = v.category"
				     " LEFT JOIN zone_findings f ON f.venue_id = v.id AND f.school_id = $2"
				     " WHERE v.id = $1 AND v.deleted_at IS NULL")))
			break;
		stmt_bind_int64(st, 1, p->venue_id);
		stmt_bind_int64(st, 2, id);
		if (stmt_step(st) == STORE_ROW) {
			json_t *finding = stmt_is_null(st, 7) ? json_null()
							      : json_pack("{s:I,s:s}", "id", (json_int_t)stmt_int64(st, 7),
									  "state", stmt_text(st, 8));
			json_array_append_new(
				items, json_pack("{s:I,s:s,s:s,s:s,s:s,s:f,s:f,s:o,s:f,s:s,s:b,s:s,s:o,s:O,s:o}", "venue_id",
						 (json_int_t)p->venue_id, "name", stmt_text(st, 0), "category",
						 stmt_text(st, 1), "category_name", stmt_text(st, 2), "status",
						 stmt_text(st, 3), "lat", stmt_double(st, 4), "lon", stmt_double(st, 5),
						 "entrances", text_json(st, 6), "distance_m",
						 round(p->distance_m * 100) / 100, "method", zx_method_codes[p->method],
						 "fallback", p->fallback, "verdict", zx_verdict_names[p->verdict],
						 "limit_m", isnan(p->limit_m) ? json_null() : json_real(p->limit_m), "rule",
						 json_array_get(rules, i), "finding", finding));
		}
		stmt_finalize(st);
	}
	free(s.p);
	json_decref(rules);
	if (n < 0) {
		/* known to the registry but not indexed: no coordinates, or not 正常 */
		json_decref(school);
		json_decref(items);
		json_decref(bufs.arr);
		return reply_error(r, 409, "zone.school_not_indexed", "该学校没有坐标或不在正常办学状态，无法计算周边",
				   "lat");
	}
	return reply_json(r, 200, json_pack("{s:o,s:f,s:o,s:o}", "school", school, "radius", radius, "buffers",
					    bufs.arr, "items", items));
}

/*--- GET /api/geo/nearby ------------------------------------------------------------------*/

struct near {
	size_t n, cap;
	struct {
		int64_t id;
		double d;
	} *e;
};

static void near_add(void *arg, int64_t id, double d)
{
	struct near *s = arg;
	if (s->n == s->cap) {
		size_t c = s->cap ? s->cap * 2 : 32;
		void *ne = realloc(s->e, c * sizeof *s->e);
		if (!ne)
			return;
		s->e = ne, s->cap = c;
	}
	s->e[s->n].id = id, s->e[s->n].d = d, s->n++;
}

static int near_cmp(const void *a, const void *b)
{
	const double x = *(const double *)((const char *)a + sizeof(int64_t));
	const double y = *(const double *)((const char *)b + sizeof(int64_t));
	return x < y ? -1 : x > y;
}

static int api_nearby(struct req *r)
{
	double lat, lon, radius;
	if (query_num(r, "lat", -90, 90, NAN, &lat, "纬度须为 -90 到 90 之间的数") ||
	    query_num(r, "lon", -180, 180, NAN, &lon, "经度须为 -180 到 180 之间的数") ||
	    query_num(r, "radius", 1, 5000, 500, &radius, "半径须为 1 到 5000 米"))
		return 0;
	const char *crs = req_query(r, "crs");
	enum geo_crs from = GEO_WGS84;
	if (crs && *crs && geo_crs_parse(crs, &from))
		return reply_error(r, 400, "validation.enum", "坐标系须为 wgs84、gcj02 或 bd09", "crs");
	double wlat, wlon;
	if (geo_convert(from, GEO_WGS84, lat, lon, &wlat, &wlon))
		return reply_error(r, 400, "validation.range", "坐标无效", "lat");
	struct db *db = req_db(r);
	zone_follow(db);
	struct near s = { 0 };
	struct zx *z = zone_lock();
	if (z)
		zx_nearby(z, wlat, wlon, radius, near_add, &s);
	zone_unlock();
	qsort(s.e, s.n, sizeof *s.e, near_cmp);
	json_t *items = json_array();
	for (size_t i = 0; i < s.n && json_array_size(items) < 200; i++) {
		struct sqlb b;
		sqlb_init(&b);
		sqlb_add(&b, "SELECT s.id, s.name, s.stage, s.lat, s.lon, s.address FROM schools s WHERE s.id = ");
		sqlb_int(&b, s.e[i].id);
		sqlb_add(&b, " AND s.deleted_at IS NULL");
		scope_sql(r->user, &b, &school_scope);
		struct stmt *st;
		int rc = sqlb_prepare(&b, db, &st);
		sqlb_free(&b);
		if (rc)
			break;
		if (stmt_step(st) == STORE_ROW)
			json_array_append_new(items, json_pack("{s:I,s:s,s:s,s:f,s:f,s:s,s:f}", "id",
							       (json_int_t)stmt_int64(st, 0), "name", stmt_text(st, 1),
							       "stage", stmt_text(st, 2), "lat", stmt_double(st, 3), "lon",
							       stmt_double(st, 4), "address", stmt_text(st, 5), "distance_m",
							       round(s.e[i].d * 10) / 10));
		stmt_finalize(st);
	}
	free(s.e);
	return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/*--- findings --------------------------------------------------------------------------------*/

#define FINDING_SELECT \
	"SELECT f.id, f.school_id, s.name, f.venue_id, v.name, f.category, c.name, f.distance_m, f.method," \
	" f.fallback, f.limit_m, f.verdict, f.state, f.reason, f.walking_m, f.rule_id, ru.code, f.rule_version," \
	" f.region_code, g.name, f.updated_at, f.created_at" \
	" FROM zone_findings f JOIN schools s ON s.id = f.school_id JOIN venues v ON v.id = f.venue_id" \
	" JOIN venue_categories c ON c.code = f.category LEFT JOIN zone_rules ru ON ru.id = f.rule_id" \
	" LEFT JOIN regions g ON g.code = f.region_code WHERE 1 = 1"

static json_t *finding_json(struct stmt *st)
{
	return json_pack("{s:I,s:I,s:s,s:I,s:s,s:s,s:s,s:f,s:s,s:b,s:o,s:s,s:s,s:s,s:o,s:o,s:s?,s:o,s:s,s:s?,s:s,s:s}",
			 "id", (json_int_t)stmt_int64(st, 0), "school_id", (json_int_t)stmt_int64(st, 1),
			 "school_name", stmt_text(st, 2), "venue_id", (json_int_t)stmt_int64(st, 3), "venue_name",
			 stmt_text(st, 4), "category", stmt_text(st, 5), "category_name", stmt_text(st, 6),
			 "distance_m", stmt_double(st, 7), "method", stmt_text(st, 8), "fallback",
			 (int)stmt_int64(st, 9), "limit_m", num_or_null(st, 10), "verdict", stmt_text(st, 11), "state",
			 stmt_text(st, 12), "reason", stmt_text(st, 13), "walking_m", num_or_null(st, 14), "rule_id",
			 stmt_is_null(st, 15) ? json_null() : json_integer(stmt_int64(st, 15)), "rule_code",
			 stmt_is_null(st, 16) ? NULL : stmt_text(st, 16), "rule_version",
			 stmt_is_null(st, 17) ? json_null() : json_integer(stmt_int64(st, 17)), "region_code",
			 stmt_text(st, 18), "region_name", stmt_is_null(st, 19) ? NULL : stmt_text(st, 19), "updated_at",
			 stmt_text(st, 20), "created_at", stmt_text(st, 21));
}

static const char *const verdicts[] = { "禁止", "需审查", "重点关注", NULL };
static const char *const states[] = { "待核实", "已确认", "已豁免", "已消除", NULL };

static int in_list(const char *const *l, const char *v)
{
	for (; *l; l++)
		if (strcmp(*l, v) == 0)
			return 1;
	return 0;
}

/* Adds the list filters; replies 400 and returns -1 on a bad one. */
static int finding_filters(struct req *r, struct sqlb *b)
{
	const char *v;
	if ((v = req_query(r, "verdict")) && *v) {
		if (!in_list(verdicts, v))
			return reply_error(r, 400, "validation.enum", "判定须为 禁止、需审查、重点关注 之一", "verdict"), -1;
		sqlb_add(b, " AND f.verdict = ");
		sqlb_text(b, v);
	}
	if ((v = req_query(r, "state")) && *v) {
		if (!in_list(states, v))
			return reply_error(r, 400, "validation.enum", "状态须为 待核实、已确认、已豁免、已消除 之一", "state"), -1;
		sqlb_add(b, " AND f.state = ");
		sqlb_text(b, v);
	} else if (!(v = req_query(r, "all")) || strcmp(v, "1") != 0) {
		sqlb_add(b, " AND f.state <> '已消除'");
	}
	if ((v = req_query(r, "category")) && *v) {
		int c = zx_category_index(v);
		if (c < 0)
			return reply_error(r, 400, "validation.enum", "场所类别不存在", "category"), -1;
		sqlb_add(b, " AND f.category = ");
		sqlb_text(b, zx_category_codes[c]);
	}
	if ((v = req_query(r, "region")) && *v) {
		if (!vcheck_region_code(v))
			return reply_error(r, 400, "validation.format", "区划代码须为 6 位或 9 位数字", "region"), -1;
		sqlb_add(b, " AND f.region_code IN (SELECT code FROM regions WHERE path LIKE (SELECT path FROM regions"
			    " WHERE code = ");
		sqlb_text(b, v);
		sqlb_add(b, ") || '%')");
	}
	if ((v = req_query(r, "rule")) && *v) {
		if (strlen(v) > 32)
			return reply_error(r, 400, "validation.length", "规则编号过长", "rule"), -1;
		sqlb_add(b, " AND ru.code = ");
		sqlb_text(b, v);
	}
	static const char *const idf[] = { "school_id", "venue_id", NULL };
	for (int i = 0; idf[i]; i++)
		if ((v = req_query(r, idf[i])) && *v) {
			char *end;
			errno = 0;
			long long x = strtoll(v, &end, 10);
			if (errno || *end || x <= 0)
				return reply_error(r, 400, "validation.type", "须为正整数", idf[i]), -1;
			sqlb_add(b, i ? " AND f.venue_id = " : " AND f.school_id = ");
			sqlb_int(b, x);
		}
	return 0;
}

static int query_page(struct req *r, int64_t *page, int64_t *per)
{
	double p, n;
	if (query_num(r, "page", 1, 1000000, 1, &p, "页码须为正整数") ||
	    query_num(r, "page_size", 1, 500, 20, &n, "每页条数须为 1 到 500"))
		return -1;
	*page = (int64_t)p, *per = (int64_t)n;
	return 0;
}

static int api_findings(struct req *r)
{
	int64_t page, per;
	if (query_page(r, &page, &per))
		return 0;
	struct db *db = req_db(r);
	struct sqlb b;
	sqlb_init(&b);
	sqlb_add(&b, "SELECT count(*) FROM zone_findings f JOIN schools s ON s.id = f.school_id"
		     " LEFT JOIN zone_rules ru ON ru.id = f.rule_id WHERE 1 = 1");
	if (finding_filters(r, &b)) {
		sqlb_free(&b);
		return 0;
	}
	scope_sql(r->user, &b, &finding_scope);
	struct stmt *st;
	int64_t total = 0;
	int rc = sqlb_prepare(&b, db, &st);
	sqlb_free(&b);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	if (stmt_step(st) == STORE_ROW)
		total = stmt_int64(st, 0);
	stmt_finalize(st);
	sqlb_init(&b);
	sqlb_add(&b, FINDING_SELECT);
	finding_filters(r, &b);
	scope_sql(r->user, &b, &finding_scope);
	sqlb_add(&b, " ORDER BY CASE f.verdict WHEN '禁止' THEN 0 WHEN '需审查' THEN 1 ELSE 2 END, f.distance_m, f.id"
		     " LIMIT ");
	sqlb_int(&b, per);
	sqlb_add(&b, " OFFSET ");
	sqlb_int(&b, (page - 1) * per);
	rc = sqlb_prepare(&b, db, &st);
	sqlb_free(&b);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	json_t *items = json_array();
	while ((rc = stmt_step(st)) == STORE_ROW)
		json_array_append_new(items, finding_json(st));
	stmt_finalize(st);
	if (rc != STORE_DONE) {
		json_decref(items);
		return reply_store_error(r, rc, NULL, NULL, NULL);
	}
	return reply_page(r, items, total, page, per);
}

static int api_finding_stats(struct req *r)
{
	struct db *db = req_db(r);
	json_t *out = json_object();
	for (int k = 0; k < 2; k++) {
		struct sqlb b;
		sqlb_init(&b);
		sqlb_add(&b, k ? "SELECT f.state, count(*) FROM zone_findings f JOIN schools s ON s.id = f.school_id"
				 " WHERE 1 = 1"
			       : "SELECT f.verdict, count(*) FROM zone_findings f JOIN schools s ON s.id = f.school_id"
				 " WHERE f.state <> '已消除'");
		scope_sql(r->user, &b, &finding_scope);
		sqlb_add(&b, k ? " GROUP BY f.state" : " GROUP BY f.verdict");
		struct stmt *st;
		int rc = sqlb_prepare(&b, db, &st);
		sqlb_free(&b);
		if (rc) {
			json_decref(out);
			return reply_store_error(r, rc, NULL, NULL, NULL);
		}
		json_t *o = json_object();
		for (const char *const *l = k ? states : verdicts; *l; l++)
			json_object_set_new(o, *l, json_integer(0));
		while (stmt_step(st) == STORE_ROW)
			json_object_set_new(o, stmt_text(st, 0), json_integer(stmt_int64(st, 1)));
		stmt_finalize(st);
		json_object_set_new(out, k ? "by_state" : "by_verdict", o);
	}
	return reply_json(r, 200, out);
}

/* One finding in the caller's scope; STORE_NOTFOUND otherwise. */
static int finding_get(struct db *db, const struct principal *p, int64_t id, json_t **out)
{
	struct sqlb b;
	sqlb_init(&b);
	sqlb_add(&b, FINDING_SELECT " AND f.id = ");
	sqlb_int(&b, id);
	if (p)
		scope_sql(p, &b, &finding_scope);
	struct stmt *st;
	int rc = sqlb_prepare(&b, db, &st);
	sqlb_free(&b);
	if (rc)
		return rc;
	rc = stmt_step(st);
	if (rc == STORE_ROW)
		*out = finding_json(st);
	stmt_finalize(st);
	return rc == STORE_ROW ? 0 : rc == STORE_DONE ? STORE_NOTFOUND : rc;
}

static int api_finding(struct req *r)
{
	int64_t id;
	if (rk_parse_id(r, &id))
		return 0;
	struct db *db = req_db(r);
	json_t *f;
	int rc = finding_get(db, r->user, id, &f);
	if (rc)
		return rc == STORE_NOTFOUND ? reply_not_found(r) : reply_store_error(r, rc, NULL, NULL, NULL);
	struct stmt *st;
	json_t *events = json_array();
	if (!db_prepare(db, &st, "SELECT at, actor, event, detail FROM zone_finding_events WHERE finding_id = $1"
				 " ORDER BY id")) {
		stmt_bind_int64(st, 1, id);
		while (stmt_step(st) == STORE_ROW)
			json_array_append_new(events, json_pack("{s:s,s:s,s:s,s:o}", "at", stmt_text(st, 0), "actor",
								stmt_text(st, 1), "event", stmt_text(st, 2), "detail",
								text_json(st, 3)));
		stmt_finalize(st);
	}
	json_object_set_new(f, "events", events);
	return reply_json(r, 200, f);
}

static const struct vfield review_fields[] = {
	{ .name = "note", .label = "说明", .type = V_STR, .nullable = 1, .max_len = 500, .multiline = 1 },
	{ .name = "reason", .label = "豁免理由", .type = V_STR, .nullable = 1, .max_len = 500, .multiline = 1 },
	{ .name = "walking_m", .label = "步行距离", .type = V_NUM, .dmin = 0, .dmax = 5000 },
	{ 0 },
};

enum review { REV_CONFIRM, REV_EXEMPT, REV_MEASURE };

static int review(struct req *r, enum review what)
{
	int64_t id;
	if (rk_parse_id(r, &id))
		return 0;
	json_t *j = req_json(r);
	if (!j || valid_body(r, j, review_fields, 1))
		return 0;
	const char *note = json_string_value(json_object_get(j, "note"));
	const char *reason = json_string_value(json_object_get(j, "reason"));
	json_t *wj = json_object_get(j, "walking_m");
	if (what == REV_EXEMPT && (!reason || !*reason))
		return reply_error(r, 400, "validation.required", "豁免须填写理由", "reason");
	if (what == REV_MEASURE && !json_is_number(wj))
		return reply_error(r, 400, "validation.required", "请填写实测步行距离（米）", "walking_m");
	struct db *db = req_db(r);
	json_t *before = NULL, *after = NULL;
	int rc = db_begin(db);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	if ((rc = finding_get(db, r->user, id, &before)))
		goto fail;
	const char *state = json_string_value(json_object_get(before, "state"));
	if (strcmp(state, "已消除") == 0) {
		db_rollback(db);
		json_decref(before);
		return reply_error(r, 409, "zone.finding_cleared", "该发现已消除，无需处理", "state");
	}
	if (what == REV_MEASURE && strcmp(json_string_value(json_object_get(before, "method")), "walking") != 0) {
		db_rollback(db);
		json_decref(before);
		return reply_error(r, 409, "zone.not_walking", "该发现适用的规则不按步行距离测量", "walking_m");
	}
	char at[32];
	clock_iso(at);
	struct stmt *st;
	const char *ev;
	char evbuf[160];
	json_t *detail;
	if (what == REV_MEASURE) {
		double w = json_number_value(wj);
		if ((rc = db_prepare(db, &st, "UPDATE zone_findings SET walking_m = $2, updated_at = $3 WHERE id = $1")))
			goto fail;
		stmt_bind_int64(st, 1, id);
		stmt_bind_double(st, 2, w);
		stmt_bind_text(st, 3, at);
		snprintf(evbuf, sizeof evbuf, "录入实测步行距离 %.1f 米", w);
		ev = evbuf;
		detail = json_pack("{s:f,s:s?}", "walking_m", w, "note", note);
	} else {
		const char *ns = what == REV_CONFIRM ? "已确认" : "已豁免";
		if ((rc = db_prepare(db, &st, "UPDATE zone_findings SET state = $2, reason = $3, updated_at = $4 WHERE id = $1")))
			goto fail;
		stmt_bind_int64(st, 1, id);
		stmt_bind_text(st, 2, ns);
		stmt_bind_text(st, 3, what == REV_EXEMPT ? reason : (note ? note : ""));
		stmt_bind_text(st, 4, at);
		ev = what == REV_CONFIRM ? "确认" : "豁免";
		detail = json_pack("{s:s?}", "reason", what == REV_EXEMPT ? reason : note);
	}
	rc = stmt_step(st);
	stmt_finalize(st);
	rc = rc == STORE_DONE ? 0 : rc;
	struct audit_actor a;
	audit_actor_of(r, &a);
	if (!rc) {
		struct stmt *e;
		if (!(rc = db_prepare(db, &e, "INSERT INTO zone_finding_events (finding_id, at, actor, event, detail)"
					      " VALUES ($1, $2, $3, $4, $5)"))) {
			char *d = json_dumps(detail, JSON_COMPACT);
			stmt_bind_int64(e, 1, id);
			stmt_bind_text(e, 2, at);
			stmt_bind_text(e, 3, r->user->username);
			stmt_bind_text(e, 4, ev);
			stmt_bind_text(e, 5, d ? d : "{}");
			rc = stmt_step(e) == STORE_DONE ? 0 : STORE_ERR;
			stmt_finalize(e);
			free(d);
		}
	}
	json_decref(detail);
	int64_t school_id = json_integer_value(json_object_get(before, "school_id"));
	int64_t venue_id = json_integer_value(json_object_get(before, "venue_id"));
	if (!rc && what == REV_MEASURE) {
		zone_set_walking(school_id, venue_id, json_number_value(wj));
		rc = zone_venue_changed(db, &a, venue_id, "录入步行距离");
	}
	char ids[24];
	snprintf(ids, sizeof ids, "%lld", (long long)id);
	if (rc || (rc = finding_get(db, NULL, id, &after)) ||
	    (rc = audit_write(r, what == REV_CONFIRM ? "confirm" : what == REV_EXEMPT ? "exempt" : "measure",
			      "zone_finding", ids, before, after)) ||
	    (rc = db_commit(db)))
		goto fail;
	json_decref(before);
	return reply_json(r, 200, after);
fail:
	if (db_in_tx(db))
		db_rollback(db);
	if (what == REV_MEASURE && before)
		zone_venue_rolled_back(db, json_integer_value(json_object_get(before, "venue_id")));
	json_decref(before);
	json_decref(after);
	if (rc == STORE_NOTFOUND)
		return reply_not_found(r);
	return reply_store_error(r, rc, NULL, NULL, NULL);
}

static int api_confirm(struct req *r)
{
	return review(r, REV_CONFIRM);
}

static int api_exempt(struct req *r)
{
	return review(r, REV_EXEMPT);
}

static int api_measure(struct req *r)
{
	return review(r, REV_MEASURE);
}

/*--- POST /api/zone/recompute ------------------------------------------------------------------*/

static const struct vfield recompute_fields[] = {
	{ .name = "region", .label = "行政区划", .type = V_STR, .nullable = 1, .max_len = 9, .check = vcheck_region_code,
	  .check_msg = "须为 6 位或 9 位区划代码" },
	{ 0 },
};

/* The region path a caller may recompute: his scope's region, or the
 * region he names inside it. */
static int recompute_path(struct req *r, struct db *db, const char *region, char *path, size_t len)
{
	const struct principal *p = r->user;
	if (region && *region) {
		if (!scope_region_ok(db, p, region))
			return reply_error(r, 404, "not_found", "行政区划不存在或不在您的管辖范围内", "region"), -1;
		struct stmt *st;
		if (db_prepare(db, &st, "SELECT path FROM regions WHERE code = $1"))
			return reply_internal(r, "region path"), -1;
		stmt_bind_text(st, 1, region);
		int ok = stmt_step(st) == STORE_ROW;
		if (ok)
			snprintf(path, len, "%s", stmt_text(st, 0));
		stmt_finalize(st);
		if (!ok)
			return reply_error(r, 404, "not_found", "行政区划不存在", "region"), -1;
		return 0;
	}
	if (strcmp(p->scope_kind, "all") == 0) {
		path[0] = 0;
		return 0;
	}
	if (strcmp(p->scope_kind, "region") == 0) {
		snprintf(path, len, "%s", p->scope_path);
		return 0;
	}
	return reply_error(r, 400, "validation.required", "请指定要重新计算的行政区划", "region"), -1;
}

static int api_recompute(struct req *r)
{
	json_t *j = req_json(r);
	if (!j || valid_body(r, j, recompute_fields, 1))
		return 0;
	struct db *db = req_db(r);
	char path[160];
	if (recompute_path(r, db, json_string_value(json_object_get(j, "region")), path, sizeof path))
		return 0;
	int64_t t0 = mono_us();
	struct audit_actor a;
	audit_actor_of(r, &a);
	int64_t pairs = 0, changed = 0;
	int rc = db_begin(db);
	if (!rc)
		rc = zone_recompute(db, &a, path, "重新计算", 1, &pairs, &changed);
	json_t *info = json_pack("{s:s,s:I,s:I}", "region_path", path, "pairs", (json_int_t)pairs, "changed",
				 (json_int_t)changed);
	if (!rc)
		rc = audit_write(r, "recompute", "zone", path[0] ? path : "/", NULL, info);
	if (!rc)
		rc = db_commit(db);
	json_decref(info);
	if (rc) {
		if (db_in_tx(db))
			db_rollback(db);
		return reply_store_error(r, rc, NULL, NULL, NULL);
	}
	return reply_json(r, 200, json_pack("{s:I,s:I,s:f}", "pairs", (json_int_t)pairs, "changed", (json_int_t)changed,
					    "ms", (double)(mono_us() - t0) / 1000.0));
}

/*--- rules ----------------------------------------------------------------------------------------*/

#define RULE_SELECT \
	"SELECT r.id, r.code, r.region_code, g.name, r.jurisdiction, r.category, c.name, r.stages, r.distance_m," \
	" r.method, r.effect, r.source_doc, r.issuer, r.article, r.quote, r.confidence, r.confirmed," \
	" r.effective_from, r.effective_to, r.enabled, r.note, r.version, r.updated_at" \
	" FROM zone_rules r JOIN venue_categories c ON c.code = r.category" \
	" LEFT JOIN regions g ON g.code = r.region_code"

static json_t *stages_json(const char *s)
{
	json_t *a = json_array();
	uint32_t bits;
	if (zx_stages_parse(s, &bits) == 0)
		for (int i = 0; zx_stage_names[i]; i++)
			if (bits & (1u << i))
				json_array_append_new(a, json_string(zx_stage_names[i]));
	return a;
}

static json_t *rule_json(struct stmt *st)
{
	return json_pack("{s:I,s:s,s:s?,s:s?,s:s,s:s,s:s,s:o,s:o,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s?,s:s?,s:b,s:s,"
			 "s:I,s:s}",
			 "id", (json_int_t)stmt_int64(st, 0), "code", stmt_text(st, 1), "region_code",
			 stmt_is_null(st, 2) ? NULL : stmt_text(st, 2), "region_name",
			 stmt_is_null(st, 3) ? NULL : stmt_text(st, 3), "jurisdiction", stmt_text(st, 4), "category",
			 stmt_text(st, 5), "category_name", stmt_text(st, 6), "stages", stages_json(stmt_text(st, 7)),
			 "distance_m", num_or_null(st, 8), "method", stmt_text(st, 9), "effect", stmt_text(st, 10),
			 "source_doc", stmt_text(st, 11), "issuer", stmt_text(st, 12), "article", stmt_text(st, 13),
			 "quote", stmt_text(st, 14), "confidence", stmt_text(st, 15), "confirmed",
			 (int)stmt_int64(st, 16), "effective_from", stmt_is_null(st, 17) ? NULL : stmt_text(st, 17),
			 "effective_to", stmt_is_null(st, 18) ? NULL : stmt_text(st, 18), "enabled",
			 (int)stmt_int64(st, 19), "note", stmt_text(st, 20), "version", (json_int_t)stmt_int64(st, 21),
			 "updated_at", stmt_text(st, 22));
}

int zone_rule_get(struct db *db, const struct principal *p, int64_t id, json_t **out)
{
	(void)p; /* rules are public law: every holder of zone.read sees them all */
	struct stmt *st;
	int rc = db_prepare(db, &st, RULE_SELECT " WHERE r.id = $1");
	if (rc)
		return rc;
	stmt_bind_int64(st, 1, id);
	rc = stmt_step(st);
	if (rc == STORE_ROW)
		*out = rule_json(st);
	stmt_finalize(st);
	return rc == STORE_ROW ? 0 : rc == STORE_DONE ? STORE_NOTFOUND : rc;
}

int zone_rule_version(struct db *db, int64_t id, int64_t v, json_t *snapshot, const char *by, const char *at)
{
	struct stmt *st;
	int rc = db_prepare(db, &st,
			    "INSERT INTO zone_rule_versions (rule_id, version, snapshot, changed_by, changed_at)"
			    " VALUES ($1, $2, $3, $4, $5)");
	if (rc)
		return rc;
	char *s = json_dumps(snapshot, JSON_COMPACT | JSON_SORT_KEYS);
	stmt_bind_int64(st, 1, id);
	stmt_bind_int64(st, 2, v);
	stmt_bind_text(st, 3, s ? s : "{}");
	stmt_bind_text(st, 4, by);
	stmt_bind_text(st, 5, at);
	rc = stmt_step(st);
	stmt_finalize(st);
	free(s);
	return rc == STORE_DONE ? 0 : rc;
}

static int api_rules(struct req *r)
{
	struct db *db = req_db(r);
	struct stmt *st;
	int rc = db_prepare(db, &st, RULE_SELECT " ORDER BY CASE WHEN r.jurisdiction = '全国' THEN 0 ELSE 1 END, r.id");
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	json_t *items = json_array();
	while ((rc = stmt_step(st)) == STORE_ROW)
		json_array_append_new(items, rule_json(st));
	stmt_finalize(st);
	return reply_json(r, 200, json_pack("{s:o,s:I,s:i,s:i}", "items", items, "total",
					    (json_int_t)json_array_size(items), "page", 1, "page_size",
					    (int)json_array_size(items)));
}

static int api_rule(struct req *r)
{
	int64_t id;
	if (rk_parse_id(r, &id))
		return 0;
	json_t *j;
	int rc = zone_rule_get(req_db(r), r->user, id, &j);
	if (rc)
		return rc == STORE_NOTFOUND ? reply_not_found(r) : reply_store_error(r, rc, NULL, NULL, NULL);
	return reply_json(r, 200, j);
}

static int api_rule_versions(struct req *r)
{
	int64_t id;
	if (rk_parse_id(r, &id))
		return 0;
	struct db *db = req_db(r);
	json_t *cur;
	int rc = zone_rule_get(db, r->user, id, &cur);
	if (rc)
		return rc == STORE_NOTFOUND ? reply_not_found(r) : reply_store_error(r, rc, NULL, NULL, NULL);
	json_decref(cur);
	struct stmt *st;
	if ((rc = db_prepare(db, &st, "SELECT version, snapshot, changed_by, changed_at FROM zone_rule_versions"
				      " WHERE rule_id = $1 ORDER BY version DESC")))
		return reply_store_error(r, rc, NULL, NULL, NULL);
	stmt_bind_int64(st, 1, id);
	json_t *items = json_array();
	while (stmt_step(st) == STORE_ROW)
		json_array_append_new(items, json_pack("{s:I,s:o,s:s,s:s}", "version", (json_int_t)stmt_int64(st, 0),
						       "snapshot", text_json(st, 1), "changed_by", stmt_text(st, 2),
						       "changed_at", stmt_text(st, 3)));
	stmt_finalize(st);
	return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

static const char *const methods[] = { "boundary_straight", "entrance_straight", "gate_radius", "walking", NULL };
static const char *const effects[] = { "禁止", "需审查", "重点关注", NULL };

static int vcheck_date(const char *s)
{
	int y, m, d;
	char tail;
	return strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && y >= 1990 && y <= 2100 &&
	       m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static const struct vfield rule_fields[] = {
	{ .name = "enabled", .label = "启用", .type = V_BOOL },
	{ .name = "region_code", .label = "适用行政区划", .type = V_STR, .nullable = 1, .max_len = 9,
	  .check = vcheck_region_code, .check_msg = "须为 6 位或 9 位区划代码" },
	{ .name = "distance_m", .label = "距离（米）", .type = V_NUM, .nullable = 1, .dmin = 1, .dmax = 2000 },
	{ .name = "method", .label = "测量方法", .type = V_ENUM, .enum_vals = methods },
	{ .name = "effect", .label = "效力", .type = V_ENUM, .enum_vals = effects },
	{ .name = "stages", .label = "适用学段", .type = V_STR, .max_len = 200 },  /* an array, checked below */
	{ .name = "confirmed", .label = "管理员已核实", .type = V_BOOL },
	{ .name = "effective_from", .label = "生效日期", .type = V_STR, .nullable = 1, .max_len = 10,
	  .check = vcheck_date, .check_msg = "须为 YYYY-MM-DD" },
	{ .name = "effective_to", .label = "失效日期", .type = V_STR, .nullable = 1, .max_len = 10, .check = vcheck_date,
	  .check_msg = "须为 YYYY-MM-DD" },
	{ .name = "note", .label = "备注", .type = V_STR, .nullable = 1, .max_len = 500, .multiline = 1 },
	{ 0 },
};

/* stages arrive as an array of names; turns it into the stored string */
static int stages_from_json(struct req *r, json_t *a, char *out, size_t len)
{
	if (!json_is_array(a) || json_array_size(a) == 0)
		return reply_error(r, 400, "validation.type", "适用学段须为非空的学段列表", "stages"), -1;
	out[0] = 0;
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v) || zx_stage_index(json_string_value(v)) < 0)
			return reply_error(r, 400, "validation.enum", "学段不存在", "stages"), -1;
		if (strlen(out) + strlen(json_string_value(v)) + 2 >= len)
			return reply_error(r, 400, "validation.length", "学段过多", "stages"), -1;
		if (out[0])
			strcat(out, " ");
		strcat(out, json_string_value(v));
	}
	return 0;
}

static int api_rule_patch(struct req *r)
{
	int64_t id;
	if (rk_parse_id(r, &id))
		return 0;
	json_t *j = req_json(r);
	if (!j)
		return 0;
	/* validate all but stages with the table, stages by hand */
	json_t *stages = json_object_get(j, "stages");
	json_t *rest = json_copy(j);
	json_object_del(rest, "stages");
	int bad = valid_body(r, rest, rule_fields, 1);
	json_decref(rest);
	if (bad)
		return 0;
	char stagebuf[256] = "";
	if (stages && stages_from_json(r, stages, stagebuf, sizeof stagebuf))
		return 0;
	struct db *db = req_db(r);
	json_t *before = NULL, *after = NULL;
	int rc = db_begin(db);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	if ((rc = zone_rule_get(db, r->user, id, &before)))
		goto fail;
	int national = strcmp(json_string_value(json_object_get(before, "jurisdiction")), "全国") == 0;
	const struct principal *p = r->user;
	int all = strcmp(p->scope_kind, "all") == 0;
	const char *cur_region = json_string_value(json_object_get(before, "region_code"));
	json_t *rj = json_object_get(j, "region_code");
	const char *new_region = rj ? json_string_value(rj) : cur_region;
	/* national rows are changed by an all-scope administrator only; a
	 * local row only inside the editor's jurisdiction */
	if (national && !all) {
		db_rollback(db);
		json_decref(before);
		return reply_error(r, 403, "zone.rule_national", "全国性规则只能由全局管理员修改", NULL);
	}
	if (national && rj && !json_is_null(rj)) {
		db_rollback(db);
		json_decref(before);
		return reply_error(r, 400, "zone.rule_national", "全国性规则不能绑定行政区划；请启用或新增地方规则", "region_code");
	}
	if (!national && ((cur_region && !scope_region_ok(db, p, cur_region)) ||
			  (new_region && !scope_region_ok(db, p, new_region)) || (!cur_region && !all && !new_region))) {
		db_rollback(db);
		json_decref(before);
		return reply_error(r, 403, "zone.rule_scope", "该地方规则不在您的管辖范围内", "region_code");
	}
	if (new_region) {
		int64_t n = 0;
		db_query_int64(db, &n, "SELECT count(*) FROM regions WHERE code = $1", 1, new_region);
		if (!n) {
			db_rollback(db);
			json_decref(before);
			return reply_error(r, 400, "validation.not_found", "行政区划不存在", "region_code");
		}
	}
	json_t *en = json_object_get(j, "enabled");
	int enabled = en ? json_is_true(en) : json_is_true(json_object_get(before, "enabled"));
	if (!national && enabled && !new_region) {
		db_rollback(db);
		json_decref(before);
		return reply_error(r, 400, "zone.rule_needs_region", "地方规则须先指定适用的行政区划才能启用", "region_code");
	}
	json_t *dj = json_object_get(j, "distance_m");
	json_t *ej = json_object_get(j, "effect");
	char at[32];
	clock_iso(at);
	struct stmt *st;
	if ((rc = db_prepare(db, &st,
			     "UPDATE zone_rules SET enabled = $2, region_code = $3,"
			     " distance_m = CASE WHEN $4 = 1 THEN $5 ELSE distance_m END,"
			     " method = COALESCE($6, method), effect = COALESCE($7, effect), stages = COALESCE($8, stages),"
			     " confirmed = COALESCE($9, confirmed),"
			     " effective_from = CASE WHEN $10 = 1 THEN $11 ELSE effective_from END,"
			     " effective_to = CASE WHEN $12 = 1 THEN $13 ELSE effective_to END,"
			     " note = COALESCE($14, note), version = version + 1, updated_at = $15 WHERE id = $1")))
		goto fail;
	stmt_bind_int64(st, 1, id);
	stmt_bind_int64(st, 2, enabled);
	stmt_bind_text(st, 3, new_region);
	stmt_bind_int64(st, 4, dj != NULL);
	if (json_is_number(dj))
		stmt_bind_double(st, 5, json_number_value(dj));
	else
		stmt_bind_null(st, 5);
	stmt_bind_text(st, 6, json_string_value(json_object_get(j, "method")));
	stmt_bind_text(st, 7, json_string_value(ej));
	stmt_bind_text(st, 8, stages ? stagebuf : NULL);
	json_t *cj = json_object_get(j, "confirmed");
	if (cj)
		stmt_bind_int64(st, 9, json_is_true(cj));
	else
		stmt_bind_null(st, 9);
	json_t *fj = json_object_get(j, "effective_from"), *tj = json_object_get(j, "effective_to");
	stmt_bind_int64(st, 10, fj != NULL);
	stmt_bind_text(st, 11, json_string_value(fj));
	stmt_bind_int64(st, 12, tj != NULL);
	stmt_bind_text(st, 13, json_string_value(tj));
	stmt_bind_text(st, 14, json_string_value(json_object_get(j, "note")));
	stmt_bind_text(st, 15, at);
	rc = stmt_step(st);
	stmt_finalize(st);
	if (rc != STORE_DONE)
		goto fail;
	if ((rc = zone_rule_get(db, NULL, id, &after)))
		goto fail;
	/* the stored effective window must make sense */
	const char *ef = json_string_value(json_object_get(after, "effective_from"));
	const char *et = json_string_value(json_object_get(after, "effective_to"));
	if (ef && et && strcmp(ef, et) > 0) {
		db_rollback(db);
		json_decref(before);
		json_decref(after);
		return reply_error(r, 400, "validation.range", "失效日期不能早于生效日期", "effective_to");
	}
	char ids[24];
	snprintf(ids, sizeof ids, "%lld", (long long)id);
	struct audit_actor a;
	audit_actor_of(r, &a);
	int64_t pairs, changed;
	/* re-judge where the rule reaches: its region before and after */
	char path[160] = "";
	const char *reg = new_region ? new_region : cur_region;
	if (reg && cur_region && new_region && strcmp(cur_region, new_region) != 0)
		reg = NULL; /* moved between regions: everything */
	if (reg) {
		struct stmt *ps;
		if (!db_prepare(db, &ps, "SELECT path FROM regions WHERE code = $1")) {
			stmt_bind_text(ps, 1, reg);
			if (stmt_step(ps) == STORE_ROW)
				snprintf(path, sizeof path, "%s", stmt_text(ps, 0));
			stmt_finalize(ps);
		}
	}
	char why[96];
	snprintf(why, sizeof why, "规则 %s 修改为第 %lld 版", json_string_value(json_object_get(after, "code")),
		 (long long)json_integer_value(json_object_get(after, "version")));
	if ((rc = zone_rule_version(db, id, json_integer_value(json_object_get(after, "version")), after,
				    r->user->username, at)) ||
	    (rc = audit_write(r, "update", "zone_rule", ids, before, after)) ||
	    (rc = zone_recompute(db, &a, path, why, 0, &pairs, &changed)) || (rc = db_commit(db)))
		goto fail;
	json_decref(before);
	return reply_json(r, 200, after);
fail:
	if (db_in_tx(db))
		db_rollback(db);
	/* the index may hold the rolled-back rules: reload them */
	zone_rules_rolled_back(db);
	json_decref(before);
	json_decref(after);
	if (rc == STORE_NOTFOUND)
		return reply_not_found(r);
	return reply_store_error(r, rc, NULL, NULL, NULL);
}

/*--- POST /api/zone/rules: a local rule -------------------------------------------------------*/

static const char *const confidences[] = { "V", "S", "M", "草案", NULL };

static int vcheck_rule_code(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > 32)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '_'))
			return 0;
	return 1;
}

static const struct vfield rule_new_fields[] = {
	{ .name = "code", .label = "规则编号", .type = V_STR, .required = 1, .max_len = 32, .check = vcheck_rule_code,
	  .check_msg = "须为 2 到 32 位字母、数字、- 或 _" },
	{ .name = "region_code", .label = "适用行政区划", .type = V_STR, .required = 1, .max_len = 9,
	  .check = vcheck_region_code, .check_msg = "须为 6 位或 9 位区划代码" },
	{ .name = "category", .label = "场所类别", .type = V_STR, .required = 1, .max_len = 40 },
	{ .name = "distance_m", .label = "距离（米）", .type = V_NUM, .nullable = 1, .dmin = 1, .dmax = 2000 },
	{ .name = "method", .label = "测量方法", .type = V_ENUM, .required = 1, .enum_vals = methods },
	{ .name = "effect", .label = "效力", .type = V_ENUM, .required = 1, .enum_vals = effects },
	{ .name = "source_doc", .label = "依据文件", .type = V_STR, .required = 1, .max_len = 200 },
	{ .name = "issuer", .label = "制定机关", .type = V_STR, .nullable = 1, .max_len = 100 },
	{ .name = "article", .label = "条款", .type = V_STR, .nullable = 1, .max_len = 50 },
	{ .name = "quote", .label = "原文摘录", .type = V_STR, .nullable = 1, .max_len = 500, .multiline = 1 },
	{ .name = "confidence", .label = "可信度", .type = V_ENUM, .required = 1, .enum_vals = confidences },
	{ .name = "confirmed", .label = "管理员已核实", .type = V_BOOL },
	{ .name = "enabled", .label = "启用", .type = V_BOOL },
	{ .name = "effective_from", .label = "生效日期", .type = V_STR, .nullable = 1, .max_len = 10,
	  .check = vcheck_date, .check_msg = "须为 YYYY-MM-DD" },
	{ .name = "effective_to", .label = "失效日期", .type = V_STR, .nullable = 1, .max_len = 10, .check = vcheck_date,
	  .check_msg = "须为 YYYY-MM-DD" },
	{ .name = "note", .label = "备注", .type = V_STR, .nullable = 1, .max_len = 500, .multiline = 1 },
	{ 0 },
};

static int api_rule_create(struct req *r)
{
	json_t *j = req_json(r);
	if (!j)
		return 0;
	json_t *stages = json_object_get(j, "stages");
	json_t *rest = json_copy(j);
	json_object_del(rest, "stages");
	int bad = valid_body(r, rest, rule_new_fields, 0);
	json_decref(rest);
	if (bad)
		return 0;
	char stagebuf[256];
	if (!stages)
		return reply_error(r, 400, "validation.required", "请选择适用学段", "stages");
	if (stages_from_json(r, stages, stagebuf, sizeof stagebuf))
		return 0;
	int cat = zx_category_index(json_string_value(json_object_get(j, "category")));
	if (cat < 0)
		return reply_error(r, 400, "validation.enum", "场所类别不存在", "category");
	const char *ef = json_string_value(json_object_get(j, "effective_from"));
	const char *et = json_string_value(json_object_get(j, "effective_to"));
	if (ef && et && strcmp(ef, et) > 0)
		return reply_error(r, 400, "validation.range", "失效日期不能早于生效日期", "effective_to");
	const char *region = json_string_value(json_object_get(j, "region_code"));
	struct db *db = req_db(r);
	char rname[128] = "", path[160] = "";
	struct stmt *st;
	int rc = db_prepare(db, &st, "SELECT name, path FROM regions WHERE code = $1");
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	stmt_bind_text(st, 1, region);
	int found = stmt_step(st) == STORE_ROW;
	if (found) {
		snprintf(rname, sizeof rname, "%s", stmt_text(st, 0));
		snprintf(path, sizeof path, "%s", stmt_text(st, 1));
	}
	stmt_finalize(st);
	if (!found || !scope_region_ok(db, r->user, region))
		return reply_error(r, 404, "not_found", "行政区划不存在或不在您的管辖范围内", "region_code");
	json_t *dj = json_object_get(j, "distance_m");
	char at[32];
	clock_iso(at);
	json_t *after = NULL;
	if ((rc = db_begin(db)))
		return reply_store_error(r, rc, NULL, NULL, NULL);
	if ((rc = db_prepare(db, &st,
			     "INSERT INTO zone_rules (code, region_code, jurisdiction, category, stages, distance_m, method,"
			     " effect, source_doc, issuer, article, quote, confidence, confirmed, effective_from,"
			     " effective_to, enabled, note, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5,"
			     " $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 1, $19, $19) RETURNING id")))
		goto fail;
	stmt_bind_text(st, 1, json_string_value(json_object_get(j, "code")));
	stmt_bind_text(st, 2, region);
	stmt_bind_text(st, 3, rname);
	stmt_bind_text(st, 4, zx_category_codes[cat]);
	stmt_bind_text(st, 5, stagebuf);
	if (json_is_number(dj))
		stmt_bind_double(st, 6, json_number_value(dj));
	else
		stmt_bind_null(st, 6);
	stmt_bind_text(st, 7, json_string_value(json_object_get(j, "method")));
	stmt_bind_text(st, 8, json_string_value(json_object_get(j, "effect")));
	static const char *const texts[] = { "source_doc", "issuer", "article", "quote" };
	for (int i = 0; i < 4; i++) {
		const char *v = json_string_value(json_object_get(j, texts[i]));
		stmt_bind_text(st, 9 + i, v ? v : "");
	}
	stmt_bind_text(st, 13, json_string_value(json_object_get(j, "confidence")));
	stmt_bind_int64(st, 14, json_is_true(json_object_get(j, "confirmed")));
	stmt_bind_text(st, 15, ef);
	stmt_bind_text(st, 16, et);
	json_t *en = json_object_get(j, "enabled");
	stmt_bind_int64(st, 17, en ? json_is_true(en) : 1);
	const char *note = json_string_value(json_object_get(j, "note"));
	stmt_bind_text(st, 18, note ? note : "");
	stmt_bind_text(st, 19, at);
	rc = stmt_step(st);
	int64_t id = rc == STORE_ROW ? stmt_int64(st, 0) : 0;
	stmt_finalize(st);
	if (rc != STORE_ROW)
		goto fail;
	char ids[24], why[96];
	snprintf(ids, sizeof ids, "%lld", (long long)id);
	snprintf(why, sizeof why, "新增规则 %s", json_string_value(json_object_get(j, "code")));
	struct audit_actor a;
	audit_actor_of(r, &a);
	int64_t pairs, changed;
	if ((rc = zone_rule_get(db, NULL, id, &after)) ||
	    (rc = zone_rule_version(db, id, 1, after, r->user->username, at)) ||
	    (rc = audit_write(r, "create", "zone_rule", ids, NULL, after)) ||
	    (rc = zone_recompute(db, &a, path, why, 0, &pairs, &changed)) || (rc = db_commit(db)))
		goto fail;
	return reply_json(r, 201, after);
fail:
	if (db_in_tx(db))
		db_rollback(db);
	zone_rules_rolled_back(db);
	json_decref(after);
	return reply_store_error(r, rc, "zone.rule_code_taken", "规则编号已存在", "code");
}

const struct route zone_routes[] = {
	{ .method = "GET", .pattern = "/api/schools/:id/surroundings", .handler = api_surroundings, .perm = "zone.read" },
	{ .method = "GET", .pattern = "/api/geo/nearby", .handler = api_nearby, .perm = "school.read" },
	{ .method = "GET", .pattern = "/api/zone/findings", .handler = api_findings, .perm = "zone.read" },
	{ .method = "GET", .pattern = "/api/zone/findings/stats", .handler = api_finding_stats, .perm = "zone.read" },
	{ .method = "GET", .pattern = "/api/zone/findings/:id", .handler = api_finding, .perm = "zone.read" },
	{ .method = "POST", .pattern = "/api/zone/findings/:id/confirm", .handler = api_confirm, .perm = "zone.review",
	  .body_max = 8 * 1024 },
	{ .method = "POST", .pattern = "/api/zone/findings/:id/exempt", .handler = api_exempt, .perm = "zone.review",
	  .body_max = 8 * 1024 },
	{ .method = "POST", .pattern = "/api/zone/findings/:id/measure", .handler = api_measure, .perm = "zone.review",
	  .body_max = 8 * 1024 },
	{ .method = "POST", .pattern = "/api/zone/recompute", .handler = api_recompute, .perm = "zone.recompute",
	  .body_max = 4 * 1024 },
	{ .method = "GET", .pattern = "/api/zone/rules", .handler = api_rules, .perm = "zone.read" },
	{ .method = "POST", .pattern = "/api/zone/rules", .handler = api_rule_create, .perm = "zone.rules",
	  .body_max = 16 * 1024 },
	{ .method = "GET", .pattern = "/api/zone/rules/:id", .handler = api_rule, .perm = "zone.read" },
	{ .method = "PATCH", .pattern = "/api/zone/rules/:id", .handler = api_rule_patch, .perm = "zone.rules",
	  .body_max = 16 * 1024 },
	{ .method = "GET", .pattern = "/api/zone/rules/:id/versions", .handler = api_rule_versions, .perm = "zone.read" },
	{ 0 },
};
