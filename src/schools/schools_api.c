/*
 * schools_api.c - the school registry's handlers and route table (学校名录).
 *
 * The model every later registry copies:
 *   - one field table (school_fields) checks the JSON API and, cell by cell,
 *     the import;
 *   - one function (school_prepare) turns checked input into the record to
 *     store - defaults, coordinates to WGS84, region and units checked
 *     against the caller's scope - for POST, PATCH and every imported row;
 *   - the import/export engine (io/importer.h) gets the columns and two
 *     callbacks, nothing else;
 *   - everything is validated before db_begin; each write is one
 *     transaction with its audit entry.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/access.h"
#include "auth/audit.h"
#include "core/clock.h"
#include "core/http.h"
#include "core/router.h"
#include "core/valid.h"
#include "geo/coord.h"
#include "io/importer.h"
#include "schools/schools.h"
#include "schools/schools_int.h"
#include "store/store.h"

/*--- fields ---*/

/* 学段: stages of schooling, as the offices' registers name them */
static const char *const stages[] = {
	"幼儿园", "小学", "初中", "九年一贯制", "高中", "完全中学", "十二年一贯制", "中职", "特殊教育", "高校", NULL,
};
/* 办学性质 */
static const char *const ownerships[] = { "公办", "民办", NULL };
/* 状态: 停办 suspended, 撤并 merged away */
static const char *const statuses[] = { "正常", "停办", "撤并", NULL };
static const char *const crs_names[] = { "wgs84", "gcj02", "bd09", NULL };

#define PHONE_MSG "须为 11 位手机号或带区号的固定电话（如 0551-12345678）"

const struct vfield school_fields[] = {
	{ .name = "name", .label = "学校名称", .type = V_STR, .required = 1, .max_len = 100 },
	{ .name = "code", .label = "学校标识码", .type = V_STR, .required = 1, .max_len = 10,
	  .check = vcheck_digits10, .check_msg = "须为 10 位数字" },
	{ .name = "stage", .label = "学段", .type = V_ENUM, .required = 1, .enum_vals = stages },
	{ .name = "ownership", .label = "办学性质", .type = V_ENUM, .required = 1, .enum_vals = ownerships },
	{ .name = "boarding", .label = "是否寄宿", .type = V_BOOL },
	{ .name = "region_code", .label = "所属乡镇（街道）", .type = V_STR, .required = 1, .max_len = 9,
	  .check = vcheck_region_code, .check_msg = "须为 6 位县级或 9 位乡镇（街道）区划代码" },
	{ .name = "address", .label = "地址", .type = V_STR, .nullable = 1, .max_len = 200 },
	{ .name = "lat", .label = "纬度", .type = V_NUM, .nullable = 1, .dmin = -90, .dmax = 90 },
	{ .name = "lon", .label = "经度", .type = V_NUM, .nullable = 1, .dmin = -180, .dmax = 180 },
	{ .name = "enrollment", .label = "在校学生数", .type = V_INT, .nullable = 1, .min = 0, .max = 100000 },
	{ .name = "staff_count", .label = "教职工数", .type = V_INT, .nullable = 1, .min = 0, .max = 20000 },
	{ .name = "guard_count", .label = "专职保安数", .type = V_INT, .nullable = 1, .min = 0, .max = 1000 },
	{ .name = "principal_name", .label = "校长（第一责任人）", .type = V_STR, .nullable = 1, .max_len = 50 },
	{ .name = "principal_phone", .label = "校长电话", .type = V_STR, .nullable = 1, .max_len = 30,
	  .check = vcheck_phone, .check_msg = PHONE_MSG },
	{ .name = "safety_officer_name", .label = "安全干部", .type = V_STR, .nullable = 1, .max_len = 50 },
	{ .name = "safety_officer_phone", .label = "安全干部电话", .type = V_STR, .nullable = 1, .max_len = 30,
	  .check = vcheck_phone, .check_msg = PHONE_MSG },
	{ .name = "legal_vp_name", .label = "法治副校长", .type = V_STR, .nullable = 1, .max_len = 50 },
	{ .name = "legal_vp_unit", .label = "法治副校长单位", .type = V_STR, .nullable = 1, .max_len = 100 },
	{ .name = "legal_vp_phone", .label = "法治副校长电话", .type = V_STR, .nullable = 1, .max_len = 30,
	  .check = vcheck_phone, .check_msg = PHONE_MSG },
	{ .name = "police_unit_id", .label = "责任派出所", .type = V_INT, .nullable = 1, .min = 1, .max = INT64_MAX },
	{ .name = "unit_id", .label = "学校单位", .type = V_INT, .nullable = 1, .min = 1, .max = INT64_MAX },
	{ .name = "status", .label = "状态", .type = V_ENUM, .enum_vals = statuses },
	/* input switches, never stored: the coordinate system lat/lon are in
	 * (a point picked on 高德/腾讯 maps is gcj02, on 百度 bd09), and the
	 * confirmation that a point outside China is meant */
	{ .name = "crs", .label = "坐标系", .type = V_ENUM, .enum_vals = crs_names },
	{ .name = "allow_outside_china", .label = "允许境外坐标", .type = V_BOOL },
	{ 0 },
};

/* Import cells that take what offices type rather than what the API takes:
 * a township's name or code, a police station's name or code. */
static const struct vfield region_cell = {
	.name = "region_code", .label = "所属乡镇（街道）", .type = V_STR, .required = 1, .max_len = 100,
};
static const struct vfield police_cell = {
	.name = "police_unit_id", .label = "责任派出所", .type = V_STR, .nullable = 1, .max_len = 100,
};

static int text_field(const char *name)
{
	const struct vfield *f = valid_find(school_fields, name);
	return f && (f->type == V_STR || f->type == V_ENUM);
}

/* Copies s into out (outlen bytes) cut at a character boundary, so
 * messages quoting user text stay valid UTF-8. */
static const char *clip(const char *s, char *out, size_t outlen)
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

static int verr_set(struct verr *e, const char *code, const char *field, const char *message)
{
	e->code = code;
	e->field = field;
	snprintf(e->message, sizeof e->message, "%s", message);
	return 1;
}

/*--- the one check of what will be stored ---*/

static json_t *school_defaults(void)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:n,s:n,s:n,s:n,s:n,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:n,s:n,s:s}",
			 "name", "", "code", "", "stage", "", "ownership", "", "boarding", 0, "region_code", "",
			 "address", "", "lat", "lon", "enrollment", "staff_count", "guard_count", "principal_name", "",
			 "principal_phone", "", "safety_officer_name", "", "safety_officer_phone", "", "legal_vp_name",
			 "", "legal_vp_unit", "", "legal_vp_phone", "", "police_unit_id", "unit_id", "status", "正常");
}

/* 1 when a and b store the same values. */
static int same_record(json_t *a, json_t *b)
{
	for (const char *const *k = school_stored; *k; k++) {
		json_t *x = json_object_get(a, *k), *y = json_object_get(b, *k);
		if (json_is_number(x) && json_is_number(y)) {
			if (fabs(json_number_value(x) - json_number_value(y)) > 1e-9)
				return 0;
		} else if (!json_equal(x ? x : json_null(), y ? y : json_null())) {
			return 0;
		}
	}
	return 1;
}

static int changed(json_t *base, json_t *rec, const char *key)
{
	return !base || !json_equal(json_object_get(base, key), json_object_get(rec, key));
}

/*
 * Merges in (checked by school_fields; for PATCH only what changes) over
 * base (NULL on create) into *out, the full record to store (new
 * reference): defaults, lat/lon converted from crs to WGS84 and checked,
 * township and units checked to exist, and the township and, for a unit
 * scope, the units checked against the caller's scope. The 学校标识码's
 * uniqueness is the caller's check (an answer differs between API and
 * import). Returns 0; 1 with e filled; or a negative store error.
 */
static int school_prepare(struct req *r, json_t *in, json_t *base, enum geo_crs crs, int allow_outside,
			  json_t **out, struct verr *e)
{
	struct db *db = req_db(r);
	const struct principal *p = r->user;
	json_t *rec = base ? json_deep_copy(base) : school_defaults();
	int rc = 0;
	*out = NULL;
	for (const char *const *k = school_stored; *k; k++) {
		json_t *v = json_object_get(in, *k);
		if (!v)
			continue;
		if (json_is_null(v) && text_field(*k))
			json_object_set_new(rec, *k, json_string(""));
		else
			json_object_set(rec, *k, v);
	}

	/* 纬度/经度: together or not at all; stored in WGS84 to 1e-7° (1 cm) */
	json_t *la = json_object_get(in, "lat"), *lo = json_object_get(in, "lon");
	if (!la != !lo || (la && json_is_null(la) != json_is_null(lo))) {
		rc = verr_set(e, "validation.required", (!la || json_is_null(la)) ? "lat" : "lon",
			      "纬度和经度须同时填写（或同时清空）");
		goto out;
	}
	if (la && !json_is_null(la)) {
		double lat, lon;
		if (geo_convert(crs, GEO_WGS84, json_number_value(la), json_number_value(lo), &lat, &lon) != 0) {
			rc = verr_set(e, "validation.range", "lat", "坐标超出范围");
			goto out;
		}
		lat = round(lat * 1e7) / 1e7;
		lon = round(lon * 1e7) / 1e7;
		/* a point outside China needs saying so once; the same point coming
		 * back (an export re-imported) is not asked again */
		json_t *blat = json_object_get(base, "lat"), *blon = json_object_get(base, "lon");
		int kept = json_is_number(blat) && json_is_number(blon) && fabs(json_number_value(blat) - lat) < 1e-9 &&
			   fabs(json_number_value(blon) - lon) < 1e-9;
		if (!allow_outside && !kept && !geo_in_china(lat, lon)) {
			rc = verr_set(e, "school.outside_china", "lat",
				      "坐标不在中国境内，请检查纬度、经度是否填反或坐标系是否选对；确在境外请选择“允许境外坐标”");
			goto out;
		}
		json_object_set_new(rec, "lat", json_real(lat));
		json_object_set_new(rec, "lon", json_real(lon));
	}

	char name[256];
	const char *region = json_string_value(json_object_get(rec, "region_code"));
	if (changed(base, rec, "region_code")) {
		if ((rc = school_store_region(db, region, name, sizeof name)) == STORE_NOTFOUND) {
			rc = verr_set(e, "school.region_unknown", "region_code", "所属乡镇（街道）须为已登记的县级或乡镇（街道）区划");
			goto out;
		}
		if (rc < 0)
			goto out;
		if (!scope_region_ok(db, p, region)) {
			rc = verr_set(e, "school.region_scope", "region_code", "所属乡镇（街道）不在您的管辖范围内");
			goto out;
		}
		json_object_set_new(rec, "region_name", json_string(name));
	}

	static const struct {
		const char *field, *name_key, *msg;
	} units[] = {
		{ "police_unit_id", "police_unit_name", "责任派出所不存在或已停用" },
		{ "unit_id", NULL, "学校单位不存在或已停用" },
	};
	int units_changed = 0;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		json_t *v = json_object_get(rec, units[i].field);
		if (!changed(base, rec, units[i].field))
			continue;
		units_changed = 1;
		if (!json_is_integer(v)) {
			if (units[i].name_key)
				json_object_set_new(rec, units[i].name_key, json_null());
			continue;
		}
		rc = school_store_unit(db, json_integer_value(v), name, sizeof name);
		if (rc == STORE_NOTFOUND) {
			rc = verr_set(e, "school.unit_unknown", units[i].field, units[i].msg);
			goto out;
		}
		if (rc < 0)
			goto out;
		if (units[i].name_key)
			json_object_set_new(rec, units[i].name_key, json_string(name));
	}
	/* a unit-scope caller (a police station, a member unit) sees the schools
	 * linked to its units; it must not save one it could not see again */
	if (strcmp(p->scope_kind, "unit") == 0 && units_changed) {
		json_t *pu = json_object_get(rec, "police_unit_id"), *su = json_object_get(rec, "unit_id");
		if (!(json_is_integer(pu) && scope_unit_ok(db, p, json_integer_value(pu))) &&
		    !(json_is_integer(su) && scope_unit_ok(db, p, json_integer_value(su)))) {
			rc = verr_set(e, "school.unit_scope", "police_unit_id",
				      "责任派出所须为您的单位或下级单位，否则保存后您将无法查看这所学校");
			goto out;
		}
	}
out:
	if (rc)
		json_decref(rec);
	else
		*out = rec;
	return rc;
}

/* Reads "crs" and "allow_outside_china" from a checked body. */
static enum geo_crs body_crs(json_t *j)
{
	enum geo_crs c = GEO_WGS84;
	geo_crs_parse(json_string_value(json_object_get(j, "crs")), &c);
	return c;
}

/*--- helpers for handlers ---*/

/* The :id of the path; anything but a positive integer answers 404. */
static int parse_id(struct req *r, int64_t *id)
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

static int reply_verr(struct req *r, int status, const struct verr *e)
{
	return reply_error(r, status, e->code, arena_strdup(r->arena, e->message),
			   e->field ? arena_strdup(r->arena, e->field) : NULL);
}

static int reply_code_taken(struct req *r, int deleted)
{
	return reply_error(r, 409, "school.code_taken", deleted ? "该学校标识码属于已删除的学校" : "学校标识码已存在",
			   "code");
}

/* A query argument checked as field f would check it; "" counts as absent.
 * Replies 400 naming param and returns -1 when bad. */
static int query_value(struct req *r, const char *param, const char *field, const char **out)
{
	*out = NULL;
	const char *v = req_query(r, param);
	if (!v || !*v)
		return 0;
	struct verr e;
	json_t *j;
	if (valid_cell(valid_find(school_fields, field), v, &j, &e) != 0) {
		reply_error(r, 400, e.code, arena_strdup(r->arena, e.message), param);
		return -1;
	}
	*out = json_is_string(j) ? arena_strdup(r->arena, json_string_value(j)) : NULL;
	json_decref(j);
	return 0;
}

/* A positive integer query argument; 0 when absent. */
static int query_int(struct req *r, const char *param, int64_t lo, int64_t hi, int64_t dflt, int64_t *out,
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

static const struct vfield q_field = { .name = "q", .label = "关键词", .type = V_STR, .max_len = 100 };

/* The list filters shared by list, stats and export. Replies 400 on a bad
 * value and returns -1. */
static int parse_filter(struct req *r, struct school_filter *f)
{
	memset(f, 0, sizeof *f);
	if (query_value(r, "stage", "stage", &f->stage) || query_value(r, "ownership", "ownership", &f->ownership) ||
	    query_value(r, "status", "status", &f->status))
		return -1;
	const char *v = req_query(r, "region");
	if (v && *v) {
		if (!vcheck_region_code(v))
			return reply_error(r, 400, "validation.format", "所属乡镇（街道）须为 6 位或 9 位区划代码", "region"), -1;
		int rc = school_store_region_exists(req_db(r), v);
		if (rc == STORE_NOTFOUND)
			return reply_error(r, 400, "school.region_unknown", "所属乡镇（街道）不存在", "region"), -1;
		if (rc)
			return reply_store_error(r, rc, NULL, NULL, NULL), -1;
		f->region = v;
	}
	if ((v = req_query(r, "q")) && *v) {
		struct verr e;
		json_t *j;
		if (valid_cell(&q_field, v, &j, &e) != 0)
			return reply_error(r, 400, e.code, arena_strdup(r->arena, e.message), "q"), -1;
		f->q = json_is_string(j) ? arena_strdup(r->arena, json_string_value(j)) : NULL;
		json_decref(j);
	}
	return query_int(r, "police_unit_id", 1, INT64_MAX, 0, &f->police_unit_id, "责任派出所须为正整数 id");
}

/* ?sort=name|-name|...; default name. */
static int parse_sort(struct req *r, const char **sql, int *desc)
{
	const char *v = req_query(r, "sort");
	*desc = 0;
	if (!v || !*v)
		v = "name";
	if (*v == '-') {
		*desc = 1;
		v++;
	}
	if (!(*sql = school_sort_sql(v)))
		return reply_error(r, 400, "validation.enum",
				   "排序字段须为 name、code、stage、region_code、enrollment、updated_at 之一（前加 - 为降序）",
				   "sort"),
		       -1;
	return 0;
}

/*--- GET /api/schools ---*/

static int append_item(void *arg, json_t *rec)
{
	json_array_append((json_t *)arg, rec);
	return 0;
}

static int api_school_list(struct req *r)
{
	struct school_filter f;
	const char *sort;
	int desc;
	int64_t page, size, total = 0;
	if (parse_filter(r, &f) || parse_sort(r, &sort, &desc) ||
	    query_int(r, "page", 1, 1000000, 1, &page, "页码须为 1 到 1000000 之间的整数") ||
	    query_int(r, "page_size", 1, 200, 20, &size, "每页条数须为 1 到 200 之间的整数"))
		return 0;
	struct db *db = req_db(r);
	int rc = school_store_count(db, r->user, &f, &total);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	json_t *items = json_array();
	if ((rc = school_store_list(db, r->user, &f, sort, desc, size, (page - 1) * size, append_item, items))) {
		json_decref(items);
		return reply_store_error(r, rc, NULL, NULL, NULL);
	}
	return reply_json(r, 200, json_pack("{s:o,s:I,s:I,s:I}", "items", items, "total", (json_int_t)total, "page",
					    (json_int_t)page, "page_size", (json_int_t)size));
}

/*--- GET /api/schools/stats ---*/

static int api_school_stats(struct req *r)
{
	struct school_filter f;
	if (parse_filter(r, &f))
		return 0;
	json_t *out;
	int rc = school_store_stats(req_db(r), r->user, &f, &out);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	return reply_json(r, 200, out);
}

/*--- GET /api/schools/:id ---*/

static int api_school_get(struct req *r)
{
	int64_t id;
	if (parse_id(r, &id))
		return 0;
	json_t *rec;
	int rc = school_store_get(req_db(r), r->user, id, 0, &rec, NULL);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL); /* STORE_NOTFOUND: 404 */
	return reply_json(r, 200, rec);
}

/*--- POST /api/schools ---*/

static int api_school_create(struct req *r)
{
	/* a school-scope account (校长, 安全干部) keeps its own school, it does
	 * not add schools */
	if (strcmp(r->user->scope_kind, "school") == 0)
		return reply_forbidden(r);
	json_t *j = req_json(r);
	if (!j || valid_body(r, j, school_fields, 0))
		return 0;
	struct db *db = req_db(r);
	struct verr e;
	json_t *rec = NULL, *after = NULL;
	int rc = school_prepare(r, j, NULL, body_crs(j), json_is_true(json_object_get(j, "allow_outside_china")), &rec,
				&e);
	if (rc > 0)
		return reply_verr(r, 400, &e);
	if (rc < 0)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	int64_t id;
	int deleted;
	rc = school_store_find_code(db, json_string_value(json_object_get(rec, "code")), &id, &deleted);
	if (rc == 0) {
		json_decref(rec);
		return reply_code_taken(r, deleted);
	}
	if (rc != STORE_NOTFOUND) {
		json_decref(rec);
		return reply_store_error(r, rc, NULL, NULL, NULL);
	}

	char at[32], ids[24];
	clock_iso(at);
	if ((rc = db_begin(db)))
		goto fail;
	if ((rc = school_store_insert(db, rec, at, &id)) || (rc = school_store_get(db, NULL, id, 0, &after, NULL)))
		goto fail;
	snprintf(ids, sizeof ids, "%lld", (long long)id);
	if ((rc = audit_write(r, "create", "school", ids, NULL, after)) || (rc = db_commit(db)))
		goto fail;
	json_decref(rec);
	return reply_json(r, 201, after);
fail:
	if (db_in_tx(db))
		db_rollback(db);
	json_decref(rec);
	json_decref(after);
	return reply_store_error(r, rc, "school.code_taken", "学校标识码已存在", "code");
}

/*--- PATCH /api/schools/:id ---*/

static int api_school_patch(struct req *r)
{
	int64_t id;
	if (parse_id(r, &id))
		return 0;
	json_t *j = req_json(r);
	if (!j || valid_body(r, j, school_fields, 1))
		return 0;
	struct db *db = req_db(r);
	json_t *before = NULL, *rec = NULL, *after = NULL;
	/* read, check and write in one write transaction: writers are
	 * serialised, so "before" is what this update replaces (no lost
	 * update, no stale audit entry, no reviving a school deleted
	 * meanwhile) */
	int rc = db_begin(db);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	rc = school_store_get(db, r->user, id, 0, &before, NULL);
	if (rc)
		goto fail;
	struct verr e;
	rc = school_prepare(r, j, before, body_crs(j), json_is_true(json_object_get(j, "allow_outside_china")), &rec,
			    &e);
	if (rc > 0) {
		db_rollback(db);
		json_decref(before);
		return reply_verr(r, 400, &e);
	}
	if (rc < 0)
		goto fail;
	if (changed(before, rec, "code")) {
		int64_t other;
		int deleted;
		rc = school_store_find_code(db, json_string_value(json_object_get(rec, "code")), &other, &deleted);
		if (rc == 0) {
			db_rollback(db);
			json_decref(before);
			json_decref(rec);
			return reply_code_taken(r, deleted);
		}
		if (rc != STORE_NOTFOUND)
			goto fail;
	}
	if (same_record(before, rec)) {
		/* nothing to change: no write, no audit entry */
		db_rollback(db);
		json_decref(rec);
		return reply_json(r, 200, before);
	}
	char at[32], ids[24];
	clock_iso(at);
	snprintf(ids, sizeof ids, "%lld", (long long)id);
	if ((rc = school_store_update(db, id, rec, at)) || (rc = school_store_get(db, NULL, id, 0, &after, NULL)) ||
	    (rc = audit_write(r, "update", "school", ids, before, after)) || (rc = db_commit(db)))
		goto fail;
	json_decref(before);
	json_decref(rec);
	return reply_json(r, 200, after);
fail:
	if (db_in_tx(db))
		db_rollback(db);
	json_decref(before);
	json_decref(rec);
	json_decref(after);
	return reply_store_error(r, rc, "school.code_taken", "学校标识码已存在", "code");
}

/*--- DELETE /api/schools/:id ---*/

static int api_school_delete(struct req *r)
{
	int64_t id;
	if (parse_id(r, &id))
		return 0;
	struct db *db = req_db(r);
	json_t *before = NULL;
	int rc = db_begin(db);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	if ((rc = school_store_get(db, r->user, id, 0, &before, NULL))) {
		db_rollback(db);
		return reply_store_error(r, rc, NULL, NULL, NULL);
	}
	char at[32], ids[24];
	clock_iso(at);
	snprintf(ids, sizeof ids, "%lld", (long long)id);
	if ((rc = school_store_delete(db, id, at)) ||
	    (rc = audit_write(r, "delete", "school", ids, before, NULL)) || (rc = db_commit(db))) {
		if (db_in_tx(db))
			db_rollback(db);
		json_decref(before);
		return reply_store_error(r, rc, NULL, NULL, NULL);
	}
	json_decref(before);
	return reply_no_content(r);
}

/*--- GET /api/schools/:id/audit ---*/

static int api_school_audit(struct req *r)
{
	int64_t id;
	if (parse_id(r, &id))
		return 0;
	struct db *db = req_db(r);
	int rc = school_visible(db, r->user, id, NULL, 0);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	char ids[24];
	snprintf(ids, sizeof ids, "%lld", (long long)id);
	json_t *items = audit_history(db, "school", ids, 100);
	if (!items)
		return reply_store_error(r, STORE_ERR, NULL, NULL, NULL);
	return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/*--- import and export ---*/

/* The offices' column order (学校名录), which export writes and import reads. */
static const struct io_column school_columns[] = {
	{ .header = "学校名称", .aliases = "学校全称|名称|单位名称", .field = "name" },
	{ .header = "学校标识码", .aliases = "标识码|学校代码|学校识别码", .field = "code" },
	{ .header = "学段", .aliases = "学校类型|办学类型|学校类别", .field = "stage" },
	{ .header = "办学性质", .aliases = "公办/民办|性质", .field = "ownership" },
	{ .header = "是否寄宿", .aliases = "寄宿|寄宿制|是否寄宿制", .field = "boarding" },
	{ .header = "所属乡镇（街道）", .aliases = "所属乡镇|所属街道|乡镇（街道）|乡镇街道|乡镇|街道|所属区划|区划代码",
	  .field = "region_code", .cell = &region_cell, .out_field = "region_name" },
	{ .header = "地址", .aliases = "学校地址|详细地址", .field = "address" },
	{ .header = "经度", .field = "lon", .xlsx_type = 'n' },
	{ .header = "纬度", .field = "lat", .xlsx_type = 'n' },
	{ .header = "在校学生数", .aliases = "在校生数|学生数|在校学生人数", .field = "enrollment", .xlsx_type = 'n' },
	{ .header = "教职工数", .aliases = "教职工人数|教职员工数", .field = "staff_count", .xlsx_type = 'n' },
	{ .header = "专职保安数", .aliases = "专职保安员数|保安人数|保安数", .field = "guard_count", .xlsx_type = 'n' },
	{ .header = "校长（第一责任人）", .aliases = "校长|校长姓名|第一责任人", .field = "principal_name" },
	{ .header = "校长电话", .aliases = "校长联系电话|校长手机", .field = "principal_phone" },
	{ .header = "安全干部", .aliases = "安全干部姓名|安全负责人|分管安全负责人", .field = "safety_officer_name" },
	{ .header = "安全干部电话", .aliases = "安全干部联系电话|安全负责人电话", .field = "safety_officer_phone" },
	{ .header = "法治副校长", .aliases = "法治副校长姓名", .field = "legal_vp_name" },
	{ .header = "法治副校长单位", .aliases = "法治副校长工作单位", .field = "legal_vp_unit" },
	{ .header = "法治副校长电话", .aliases = "法治副校长联系电话", .field = "legal_vp_phone" },
	{ .header = "责任派出所", .aliases = "辖区派出所|所属派出所|派出所", .field = "police_unit_id", .cell = &police_cell,
	  .out_field = "police_unit_name" },
	{ .header = "状态", .aliases = "办学状态", .field = "status" },
	{ 0 },
};

/* Per import: the coordinate system of the file and what names resolved to
 * (a file names the same few townships and stations thousands of times). */
struct import_ctx {
	enum geo_crs crs;
	int allow_outside;
	json_t *regions; /* text → code, or an integer: 0 unknown, 1 ambiguous */
	json_t *units;   /* text → id as {"id":N}, or an integer: 0 unknown, 1 ambiguous */
};

/* Resolves a name-or-code cell through cache; *hit is borrowed. */
static int resolve_cached(struct req *r, json_t *cache, const char *text, int region, json_t **hit)
{
	if ((*hit = json_object_get(cache, text)))
		return 0;
	json_t *v;
	if (region) {
		char code[16];
		int rc = school_store_region_find(req_db(r), r->user, text, code);
		if (rc < 0 && rc != STORE_NOTFOUND)
			return rc;
		v = rc == 0 ? json_string(code) : json_integer(rc == 1);
	} else {
		int64_t id = 0;
		int rc = school_store_unit_find(req_db(r), text, &id);
		if (rc < 0 && rc != STORE_NOTFOUND)
			return rc;
		v = rc == 0 ? json_pack("{s:I}", "id", (json_int_t)id) : json_integer(rc == 1);
	}
	json_object_set_new(cache, text, v);
	*hit = v;
	return 0;
}

/* 1 when a cell names what base already links to: an export re-imports
 * cleanly even where a township or station name is not unique. */
static int names_base(json_t *base, const char *name_key, const char *text)
{
	const char *have = json_string_value(json_object_get(base, name_key));
	return have && strcmp(have, text) == 0;
}

static int import_resolve(struct req *r, void *vctx, json_t *row, enum io_action *action, struct verr *e)
{
	struct import_ctx *c = vctx;
	struct db *db = req_db(r);
	char quoted[96];
	json_t *hit, *base = NULL, *rec = NULL;
	int rc;

	/* upsert by 学校标识码: a school outside the caller's scope is never
	 * touched; a soft-deleted one in scope comes back */
	int64_t id = 0;
	int deleted = 0;
	rc = school_store_find_code(db, json_string_value(json_object_get(row, "code")), &id, &deleted);
	if (rc == 0) {
		rc = school_store_get(db, r->user, id, 1, &base, NULL);
		if (rc == STORE_NOTFOUND)
			return verr_set(e, "school.code_scope", "code", "学校标识码已被管辖范围外的学校使用");
		if (rc)
			return rc;
	} else if (rc != STORE_NOTFOUND) {
		return rc;
	} else if (strcmp(r->user->scope_kind, "school") == 0) {
		return verr_set(e, "forbidden", "code", "您的账号只能维护本校信息，不能新增学校");
	}

	const char *text = json_string_value(json_object_get(row, "region_code"));
	if (text && names_base(base, "region_name", text)) {
		json_object_set(row, "region_code", json_object_get(base, "region_code"));
	} else if (text) {
		if ((rc = resolve_cached(r, c->regions, text, 1, &hit)))
			goto out;
		if (!json_is_string(hit)) {
			e->code = "school.region_unknown";
			e->field = "region_code";
			snprintf(e->message, sizeof e->message,
				 json_integer_value(hit) ? "有多个名为“%s”的乡镇（街道），请改填区划代码"
							 : "所属乡镇（街道）“%s”不存在或不在您的管辖范围内",
				 clip(text, quoted, sizeof quoted));
			rc = 1;
			goto out;
		}
		json_object_set(row, "region_code", hit);
	}
	text = json_string_value(json_object_get(row, "police_unit_id"));
	if (text && names_base(base, "police_unit_name", text)) {
		json_object_set(row, "police_unit_id", json_object_get(base, "police_unit_id"));
	} else if (text) {
		if ((rc = resolve_cached(r, c->units, text, 0, &hit)))
			goto out;
		if (!json_is_object(hit)) {
			e->code = "school.unit_unknown";
			e->field = "police_unit_id";
			snprintf(e->message, sizeof e->message,
				 json_integer_value(hit) ? "有多个名为“%s”的单位，请改填单位代码" : "责任派出所“%s”不存在或已停用",
				 clip(text, quoted, sizeof quoted));
			rc = 1;
			goto out;
		}
		json_object_set(row, "police_unit_id", json_object_get(hit, "id"));
	}

	if ((rc = school_prepare(r, row, base, c->crs, c->allow_outside, &rec, e)))
		goto out;
	*action = !base ? IO_CREATE : (deleted || !same_record(base, rec)) ? IO_UPDATE : IO_UNCHANGED;
	json_object_clear(row);
	json_object_update(row, rec);
	if (base)
		json_object_set_new(row, "id", json_integer((json_int_t)id));
out:
	json_decref(base);
	json_decref(rec);
	return rc;
}

static int import_write(struct req *r, void *vctx, json_t *row, enum io_action action, struct io_written *w)
{
	(void)vctx;
	struct db *db = req_db(r);
	char at[32];
	clock_iso(at);
	int64_t id = json_integer_value(json_object_get(row, "id"));
	int rc, deleted = 0;
	if (action == IO_CREATE) {
		if ((rc = school_store_insert(db, row, at, &id)))
			return rc;
	} else {
		if ((rc = school_store_get(db, NULL, id, 1, &w->before, &deleted)))
			return rc;
		if (deleted)
			json_object_set_new(w->before, "deleted", json_true());
		if ((rc = school_store_update(db, id, row, at)))
			return rc;
	}
	snprintf(w->id, sizeof w->id, "%lld", (long long)id);
	return school_store_get(db, NULL, id, 0, &w->after, NULL);
}

static const struct io_registry school_io = {
	.entity = "school",
	.title = "学校名录",
	.columns = school_columns,
	.fields = school_fields,
	.key_field = "code",
	.row_resolve = import_resolve,
	.row_write = import_write,
};

static int api_school_import_preview(struct req *r)
{
	return io_preview(r, &school_io);
}

static int api_school_import(struct req *r)
{
	struct import_ctx c = { .crs = GEO_WGS84 };
	const char *v = req_query(r, "crs");
	if (v && *v && geo_crs_parse(v, &c.crs) != 0)
		return reply_error(r, 400, "validation.enum", "坐标系须为以下之一：wgs84、gcj02、bd09", "crs");
	v = req_query(r, "allow_outside_china");
	c.allow_outside = v && (!strcmp(v, "1") || !strcmp(v, "true"));
	c.regions = json_object();
	c.units = json_object();
	io_import(r, &school_io, &c);
	json_decref(c.regions);
	json_decref(c.units);
	return 0;
}

struct export_args {
	struct school_filter f;
	const char *sort;
	int desc;
};

static int add_to_sink(void *sink, json_t *rec)
{
	return io_sink_add(sink, rec);
}

static int export_rows(struct req *r, void *arg, struct io_sink *s)
{
	struct export_args *a = arg;
	return school_store_list(req_db(r), r->user, &a->f, a->sort, a->desc, -1, 0, add_to_sink, s);
}

static int api_school_export(struct req *r)
{
	struct export_args a;
	if (parse_filter(r, &a.f) || parse_sort(r, &a.sort, &a.desc))
		return 0;
	return io_export(r, &school_io, req_query(r, "format"), export_rows, &a);
}

/*--- routes ---*/

#define UPLOAD_MAX ((size_t)20 << 20)

/* literal paths before ":id", which would otherwise take them */
const struct route school_routes[] = {
	{ .method = "GET", .pattern = "/api/schools", .handler = api_school_list, .perm = "school.read" },
	{ .method = "POST", .pattern = "/api/schools", .handler = api_school_create, .perm = "school.write",
	  .body_max = 64 * 1024 },
	{ .method = "GET", .pattern = "/api/schools/stats", .handler = api_school_stats, .perm = "school.read" },
	{ .method = "GET", .pattern = "/api/schools/export", .handler = api_school_export, .perm = "school.export" },
	{ .method = "POST", .pattern = "/api/schools/import/preview", .handler = api_school_import_preview,
	  .perm = "school.import", .body_max = UPLOAD_MAX, .flags = ROUTE_UPLOAD },
	{ .method = "POST", .pattern = "/api/schools/import", .handler = api_school_import, .perm = "school.import",
	  .body_max = UPLOAD_MAX, .flags = ROUTE_UPLOAD },
	{ .method = "GET", .pattern = "/api/schools/:id", .handler = api_school_get, .perm = "school.read" },
	{ .method = "PATCH", .pattern = "/api/schools/:id", .handler = api_school_patch, .perm = "school.write",
	  .body_max = 64 * 1024 },
	{ .method = "DELETE", .pattern = "/api/schools/:id", .handler = api_school_delete, .perm = "school.delete" },
	{ .method = "GET", .pattern = "/api/schools/:id/audit", .handler = api_school_audit, .perm = "school.read" },
	{ 0 },
};
