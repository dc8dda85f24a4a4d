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
#include <math.h>
#include <pthread.h>
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
#include "geo/geom.h"
#include "io/importer.h"
#include "io/regkit.h"
#include "schools/schools.h"
#include "schools/schools_int.h"
#include "store/store.h"
#include "zone/zone.h"

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
/* 校园边界: WKT or GeoJSON text; 出入口: a JSON array or
 * "lat,lon,名称,学生;lat,lon,名称" (school_geom_prepare reads both) */
static const struct vfield boundary_cell = {
	.name = "boundary", .label = "校园边界", .type = V_STR, .nullable = 1, .max_len = 1000000, .multiline = 1,
};
static const struct vfield entrances_cell = {
	.name = "entrances", .label = "出入口", .type = V_STR, .nullable = 1, .max_len = 100000, .multiline = 1,
};

static int text_field(const char *name)
{
	const struct vfield *f = valid_find(school_fields, name);
	return f && (f->type == V_STR || f->type == V_ENUM);
}

/*--- the one check of what will be stored ---*/

static json_t *school_defaults(void)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:n,s:n,s:n,s:n,s:n,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:n,s:n,s:s,"
			 "s:n,s:[]}",
			 "name", "", "code", "", "stage", "", "ownership", "", "boarding", 0, "region_code", "",
			 "address", "", "lat", "lon", "enrollment", "staff_count", "guard_count", "principal_name", "",
			 "principal_phone", "", "safety_officer_name", "", "safety_officer_phone", "", "legal_vp_name",
			 "", "legal_vp_unit", "", "legal_vp_phone", "", "police_unit_id", "unit_id", "status", "正常",
			 "boundary", "entrances");
}

/* 1 when a and b store the same values (numbers to 1e-9; every number a
 * school stores is rounded to 1e-7 first, see schools_geom.c). */
static int same_record(json_t *a, json_t *b)
{
	return rk_same(school_cols, school_ncols, a, b);
}

static int changed(json_t *base, json_t *rec, const char *key)
{
	return !base || !json_equal(json_object_get(base, key), json_object_get(rec, key));
}

/* The fields the school's geometry lives in: they are not in school_fields
 * (valid.c has no JSON-valued type) and school_geom_prepare checks them. */
static int geom_field(const char *k)
{
	return !strcmp(k, "boundary") || !strcmp(k, "entrances");
}

/* Checks a body against school_fields, leaving out the geometry fields.
 * Replies 400 and returns -1 when bad. */
static int valid_school_body(struct req *r, json_t *j, int partial)
{
	json_t *plain = json_copy(j);
	json_object_del(plain, "boundary");
	json_object_del(plain, "entrances");
	int rc = valid_body(r, plain, school_fields, partial);
	json_decref(plain);
	return rc;
}

/*
 * Tells the zone engine, inside the write transaction, that school id
 * changed in a way its findings depend on (before = NULL: created, after =
 * NULL: deleted). Returns 0 (nothing it depends on changed, too) or its
 * error.
 */
static int zone_notify(struct db *db, const struct audit_actor *a, int64_t id, json_t *before, json_t *after)
{
	static const struct {
		const char *key, *why;
	} watched[] = {
		{ "lat", "学校位置修改" },   { "boundary", "学校边界修改" },     { "entrances", "学校出入口修改" },
		{ "stage", "学校学段变更" }, { "region_code", "学校所属乡镇变更" }, { "status", "学校状态变更" },
	};
	if (!before)
		return zone_school_changed(db, a, id, "学校新增");
	if (!after)
		return zone_school_changed(db, a, id, "学校删除");
	char why[160] = "";
	for (size_t i = 0; i < sizeof watched / sizeof watched[0]; i++) {
		int moved = !json_equal(json_object_get(before, watched[i].key), json_object_get(after, watched[i].key));
		if (i == 0)
			moved |= !json_equal(json_object_get(before, "lon"), json_object_get(after, "lon"));
		if (moved && strlen(why) + strlen(watched[i].why) + 4 < sizeof why) {
			if (*why)
				strcat(why, "、");
			strcat(why, watched[i].why);
		}
	}
	return *why ? zone_school_changed(db, a, id, why) : 0;
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
static int school_prepare(struct req *r, json_t *in, json_t *base, enum geo_crs crs, int allow_outside, int text,
			  json_t **out, struct verr *e)
{
	struct db *db = req_db(r);
	const struct principal *p = r->user;
	json_t *rec = base ? json_deep_copy(base) : school_defaults();
	int rc = 0;
	*out = NULL;
	for (size_t i = 0; i < school_ncols; i++) {
		const char *k = school_cols[i].name;
		json_t *v = json_object_get(in, k);
		if (!v || geom_field(k))
			continue;
		if (json_is_null(v) && text_field(k))
			json_object_set_new(rec, k, json_string(""));
		else
			json_object_set(rec, k, v);
	}

	/* 纬度/经度: together or not at all; stored in WGS84 to 1e-7° (1 cm) */
	json_t *la = json_object_get(in, "lat"), *lo = json_object_get(in, "lon");
	if (!la != !lo || (la && json_is_null(la) != json_is_null(lo))) {
		rc = rk_verr(e, "validation.required", (!la || json_is_null(la)) ? "lat" : "lon",
			      "纬度和经度须同时填写（或同时清空）");
		goto out;
	}
	if (la && !json_is_null(la)) {
		double lat, lon;
		if (geo_convert(crs, GEO_WGS84, json_number_value(la), json_number_value(lo), &lat, &lon) != 0) {
			rc = rk_verr(e, "validation.range", "lat", "坐标超出范围");
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
			rc = rk_verr(e, "school.outside_china", "lat",
				      "坐标不在中国境内，请检查纬度、经度是否填反或坐标系是否选对；确在境外请选择“允许境外坐标”");
			goto out;
		}
		json_object_set_new(rec, "lat", json_real(lat));
		json_object_set_new(rec, "lon", json_real(lon));
	}
	/* 校园边界, 出入口: in the same coordinate system as lat/lon */
	if ((rc = school_geom_prepare(in, rec, crs, allow_outside, text, e)))
		goto out;

	char name[256];
	const char *region = json_string_value(json_object_get(rec, "region_code"));
	if (changed(base, rec, "region_code")) {
		if ((rc = rk_region_usable(db, region, name, sizeof name)) == STORE_NOTFOUND) {
			rc = rk_verr(e, "school.region_unknown", "region_code", "所属乡镇（街道）须为已登记的县级或乡镇（街道）区划");
			goto out;
		}
		if (rc < 0)
			goto out;
		if (!scope_region_ok(db, p, region)) {
			rc = rk_verr(e, "school.region_scope", "region_code", "所属乡镇（街道）不在您的管辖范围内");
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
		rc = rk_unit_usable(db, json_integer_value(v), name, sizeof name);
		if (rc == STORE_NOTFOUND) {
			rc = rk_verr(e, "school.unit_unknown", units[i].field, units[i].msg);
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
			rc = rk_verr(e, "school.unit_scope", "police_unit_id",
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

static int reply_code_taken(struct req *r, int deleted)
{
	return reply_error(r, 409, "school.code_taken", deleted ? "该学校标识码属于已删除的学校" : "学校标识码已存在",
			   "code");
}

/* The list filters shared by list, stats and export. Replies 400 on a bad
 * value and returns -1. */
static int parse_filter(struct req *r, struct school_filter *f)
{
	memset(f, 0, sizeof *f);
	if (rk_query_field(r, "stage", valid_find(school_fields, "stage"), &f->stage) ||
	    rk_query_field(r, "ownership", valid_find(school_fields, "ownership"), &f->ownership) ||
	    rk_query_field(r, "status", valid_find(school_fields, "status"), &f->status) ||
	    rk_query_region(r, "region", "school", &f->region) || rk_query_q(r, &f->q) ||
	    rk_query_int(r, "police_unit_id", 1, INT64_MAX, 0, &f->police_unit_id, "责任派出所须为正整数 id"))
		return -1;
	return 0;
}

#define SORT_MSG "排序字段须为 name、code、stage、region_code、enrollment、updated_at 之一（前加 - 为降序）"

/*--- GET /api/schools ---*/

static int api_school_list(struct req *r)
{
	struct school_filter f;
	const char *sort;
	int desc;
	int64_t page, size, total = 0;
	if (parse_filter(r, &f) || rk_query_sort(r, school_sort_map, "name", SORT_MSG, &sort, &desc) ||
	    rk_query_page(r, &page, &size))
		return 0;
	struct db *db = req_db(r);
	int rc = school_store_count(db, r->user, &f, &total);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	json_t *items = json_array();
	if ((rc = school_store_list(db, r->user, &f, sort, desc, size, (page - 1) * size, rk_append_item, items))) {
		json_decref(items);
		return reply_store_error(r, rc, NULL, NULL, NULL);
	}
	return reply_page(r, items, total, page, size);
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

/* the printed records of schools read lately (regkit.h's rk_memo) */
static struct rk_memo *memo;
static pthread_once_t memo_once = PTHREAD_ONCE_INIT;
static void memo_init(void)
{
	memo = rk_memo_new();
}

static int api_school_get(struct req *r)
{
	int64_t id;
	if (rk_parse_id(r, &id))
		return 0;
	pthread_once(&memo_once, memo_init);
	char *text;
	size_t len;
	int rc = school_store_get_text(req_db(r), r->user, id, memo, REPLY_JSON_FLAGS, &text, &len);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL); /* STORE_NOTFOUND: 404 */
	return reply_take(r, 200, REPLY_JSON_TYPE, text, len);
}

/*--- POST /api/schools ---*/

static int api_school_create(struct req *r)
{
	/* a school-scope account (校长, 安全干部) keeps its own school, it does
	 * not add schools */
	if (strcmp(r->user->scope_kind, "school") == 0)
		return reply_forbidden(r);
	json_t *j = req_json(r);
	if (!j || valid_school_body(r, j, 0))
		return 0;
	struct db *db = req_db(r);
	struct verr e;
	json_t *rec = NULL, *after = NULL;
	int rc = school_prepare(r, j, NULL, body_crs(j), json_is_true(json_object_get(j, "allow_outside_china")), 0,
				&rec, &e);
	if (rc > 0)
		return rk_reply_verr(r, 400, &e);
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
	struct audit_actor actor;
	audit_actor_of(r, &actor);
	clock_iso(at);
	id = 0;
	if ((rc = db_begin(db)))
		goto fail;
	if ((rc = school_store_insert(db, rec, at, &id)) || (rc = school_store_get(db, NULL, id, 0, &after, NULL)))
		goto fail;
	snprintf(ids, sizeof ids, "%lld", (long long)id);
	if ((rc = audit_write(r, "create", "school", ids, NULL, after)) ||
	    (rc = zone_notify(db, &actor, id, NULL, after)) || (rc = db_commit(db)))
		goto fail;
	json_decref(rec);
	return reply_json(r, 201, after);
fail:
	if (db_in_tx(db)) {
		db_rollback(db);
		if (id)
			zone_school_rolled_back(db, id);
	}
	json_decref(rec);
	json_decref(after);
	return reply_store_error(r, rc, "school.code_taken", "学校标识码已存在", "code");
}

/*--- PATCH /api/schools/:id ---*/

/* The update of before by the body j: *rec as it will be stored, or 1 with
 * e set (a bad field), or a store error. */
static int patch_prepare(struct req *r, json_t *j, json_t *before, json_t **rec, struct verr *e)
{
	return school_prepare(r, j, before, body_crs(j), json_is_true(json_object_get(j, "allow_outside_china")), 0, rec,
			      e);
}

/* The school as it reads after the update, without reading it: NULL when
 * what changed is joined or derived at read time (the township's or police
 * station's name, the geometry); then the caller reads it back. */
static json_t *patch_after(json_t *before, json_t *rec, const char *at)
{
	if (changed(before, rec, "region_code") || changed(before, rec, "police_unit_id") ||
	    changed(before, rec, "boundary") || changed(before, rec, "entrances"))
		return NULL;
	json_t *after = rk_rec_after(school_cols, school_ncols - 2, before, rec);
	if (after)
		json_object_set_new(after, "updated_at", json_string(at));
	return after;
}

/*
 * The work is done before the write lock where it can be: the school is
 * read, the update prepared and checked, and the audit texts printed
 * without holding up other writers. Inside the write transaction the row
 * is read again: when its bytes are those read before (stmt_row_key), the
 * prepared update stands; when someone changed the school in between, it
 * is prepared again from the current row. So "before" is always what this
 * update replaces (no lost update, no stale audit entry, no reviving a
 * school deleted meanwhile).
 */
static int api_school_patch(struct req *r)
{
	int64_t id;
	if (rk_parse_id(r, &id))
		return 0;
	json_t *j = req_json(r);
	if (!j || valid_school_body(r, j, 1))
		return 0;
	struct db *db = req_db(r);
	json_t *before = NULL, *rec = NULL, *after = NULL, *cur = NULL;
	char *key = NULL, *bj = NULL, *aj = NULL;
	size_t klen = 0;
	char at[32], ids[24];
	struct verr e;
	int rc = school_store_fetch(db, r->user, id, NULL, 0, &before, &key, &klen);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL); /* STORE_NOTFOUND: 404 */
	rc = patch_prepare(r, j, before, &rec, &e);
	if (rc)
		goto early;
	if (same_record(before, rec)) {
		/* nothing to change: no write, no audit entry */
		free(key);
		json_decref(rec);
		return reply_json(r, 200, before);
	}
	clock_iso(at);
	if ((after = patch_after(before, rec, at))) {
		bj = audit_json(before);
		aj = audit_json(after);
	}

	if ((rc = db_begin(db)))
		goto early;
	if ((rc = school_store_fetch(db, r->user, id, key, klen, &cur, NULL, NULL)))
		goto fail;
	if (cur) {
		/* changed since it was read: prepare again from the current row */
		json_decref(before), json_decref(rec), json_decref(after);
		free(bj), free(aj);
		before = cur, rec = after = NULL, bj = aj = NULL;
		if ((rc = patch_prepare(r, j, before, &rec, &e)))
			goto fail;
		if (same_record(before, rec)) {
			db_rollback(db);
			free(key);
			json_decref(rec);
			return reply_json(r, 200, before);
		}
		after = patch_after(before, rec, at);
	}
	if (changed(before, rec, "code")) {
		int64_t other;
		int deleted;
		rc = school_store_find_code(db, json_string_value(json_object_get(rec, "code")), &other, &deleted);
		if (rc == 0) {
			db_rollback(db);
			json_decref(before), json_decref(rec), json_decref(after);
			free(key), free(bj), free(aj);
			return reply_code_taken(r, deleted);
		}
		if (rc != STORE_NOTFOUND)
			goto fail;
	}
	struct audit_actor actor;
	audit_actor_of(r, &actor);
	snprintf(ids, sizeof ids, "%lld", (long long)id);
	if ((rc = school_store_update(db, id, rec, at)))
		goto fail;
	if (!after && (rc = school_store_get(db, NULL, id, 0, &after, NULL)))
		goto fail;
	if (!bj)
		bj = audit_json(before);
	if (!aj)
		aj = audit_json(after);
	if ((rc = audit_append_text(db, &actor, "update", "school", ids, bj, aj)) ||
	    (rc = zone_notify(db, &actor, id, before, after)) || (rc = db_commit(db)))
		goto fail;
	json_decref(before);
	json_decref(rec);
	free(key), free(bj), free(aj);
	return reply_json(r, 200, after);
fail:
	if (db_in_tx(db)) {
		db_rollback(db);
		zone_school_rolled_back(db, id);
	}
early:
	json_decref(before);
	json_decref(rec);
	json_decref(after);
	free(key), free(bj), free(aj);
	if (rc > 0)
		return rk_reply_verr(r, 400, &e);
	return reply_store_error(r, rc, "school.code_taken", "学校标识码已存在", "code");
}

/*--- DELETE /api/schools/:id ---*/

static int api_school_delete(struct req *r)
{
	int64_t id;
	if (rk_parse_id(r, &id))
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
	struct audit_actor actor;
	audit_actor_of(r, &actor);
	clock_iso(at);
	snprintf(ids, sizeof ids, "%lld", (long long)id);
	if ((rc = school_store_delete(db, id, at)) || (rc = audit_write(r, "delete", "school", ids, before, NULL)) ||
	    (rc = zone_notify(db, &actor, id, before, NULL)) || (rc = db_commit(db))) {
		if (db_in_tx(db)) {
			db_rollback(db);
			zone_school_rolled_back(db, id);
		}
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
	if (rk_parse_id(r, &id))
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
	{ .header = "校园边界", .aliases = "边界|学校边界|校园范围|边界WKT", .field = "boundary", .cell = &boundary_cell,
	  .out_field = "boundary_wkt" },
	{ .header = "出入口", .aliases = "校门|学校出入口", .field = "entrances", .cell = &entrances_cell,
	  .out_field = "entrances_text" },
	{ 0 },
};

/* Per import: the coordinate system of the file and what names resolved to
 * (a file names the same few townships and stations thousands of times). */
struct import_ctx {
	enum geo_crs crs;
	int allow_outside;
	json_t *written;  /* ids of the schools written, for the zone engine if the import rolls back */
	json_t *regions; /* text → code, or an integer: 0 unknown, 1 ambiguous */
	json_t *units;   /* text → id as {"id":N}, or an integer: 0 unknown, 1 ambiguous */
};

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
			return rk_verr(e, "school.code_scope", "code", "学校标识码已被管辖范围外的学校使用");
		if (rc)
			return rc;
	} else if (rc != STORE_NOTFOUND) {
		return rc;
	} else if (strcmp(r->user->scope_kind, "school") == 0) {
		return rk_verr(e, "forbidden", "code", "您的账号只能维护本校信息，不能新增学校");
	}

	const char *text = json_string_value(json_object_get(row, "region_code"));
	if (text && names_base(base, "region_name", text)) {
		json_object_set(row, "region_code", json_object_get(base, "region_code"));
	} else if (text) {
		if ((rc = rk_resolve_cached(r, c->regions, text, 1, &hit)))
			goto out;
		if (!json_is_string(hit)) {
			e->code = "school.region_unknown";
			e->field = "region_code";
			snprintf(e->message, sizeof e->message,
				 json_integer_value(hit) ? "有多个名为“%s”的乡镇（街道），请改填区划代码"
							 : "所属乡镇（街道）“%s”不存在或不在您的管辖范围内",
				 rk_clip(text, quoted, sizeof quoted));
			rc = 1;
			goto out;
		}
		json_object_set(row, "region_code", hit);
	}
	text = json_string_value(json_object_get(row, "police_unit_id"));
	if (text && names_base(base, "police_unit_name", text)) {
		json_object_set(row, "police_unit_id", json_object_get(base, "police_unit_id"));
	} else if (text) {
		if ((rc = rk_resolve_cached(r, c->units, text, 0, &hit)))
			goto out;
		if (!json_is_object(hit)) {
			e->code = "school.unit_unknown";
			e->field = "police_unit_id";
			snprintf(e->message, sizeof e->message,
				 json_integer_value(hit) ? "有多个名为“%s”的单位，请改填单位代码" : "责任派出所“%s”不存在或已停用",
				 rk_clip(text, quoted, sizeof quoted));
			rc = 1;
			goto out;
		}
		json_object_set(row, "police_unit_id", json_object_get(hit, "id"));
	}

	if ((rc = school_prepare(r, row, base, c->crs, c->allow_outside, 1, &rec, e)))
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
	struct import_ctx *c = vctx;
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
	json_array_append_new(c->written, json_integer((json_int_t)id));
	if ((rc = school_store_get(db, NULL, id, 0, &w->after, NULL)))
		return rc;
	struct audit_actor actor;
	audit_actor_of(r, &actor);
	/* a revived school counts as new for the engine */
	return zone_notify(db, &actor, id, deleted ? NULL : w->before, w->after);
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
	c.written = json_array();
	io_import(r, &school_io, &c);
	/* the engine heard of every written row; unless the import committed
	 * (200 on a real run) they were rolled back */
	const char *dr = req_query(r, "dry_run");
	int dry = dr && (!strcmp(dr, "1") || !strcmp(dr, "true"));
	if (r->status != 200 || dry) {
		size_t i;
		json_t *v;
		json_array_foreach(c.written, i, v)
			zone_school_rolled_back(req_db(r), json_integer_value(v));
	}
	json_decref(c.written);
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
	school_geom_export(rec); /* rec is this row's own copy */
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
	if (parse_filter(r, &a.f) || rk_query_sort(r, school_sort_map, "name", SORT_MSG, &a.sort, &a.desc))
		return 0;
	return io_export(r, &school_io, req_query(r, "format"), export_rows, &a);
}

/*--- POST /api/schools/boundaries/import ---*/

/* Features in one collection; 8 MiB hold a few thousand campuses. */
#define MAX_FEATURES 20000

static void feature_error(json_t *errors, size_t index, const char *code, const char *field, const char *message)
{
	json_array_append_new(errors, json_pack("{s:I,s:s?,s:s?,s:s}", "index", (json_int_t)index, "code", code,
						"field", field, "message", message));
}

/* ?dry_run= and ?crs= and ?allow_outside_china= as the table import reads
 * them. Replies 400 and returns -1 when bad. */
static int boundary_import_args(struct req *r, int *dry_run, enum geo_crs *crs, int *allow_outside)
{
	const char *v = req_query(r, "dry_run");
	*dry_run = v && (!strcmp(v, "1") || !strcmp(v, "true"));
	if (v && *v && !*dry_run && strcmp(v, "0") && strcmp(v, "false"))
		return reply_error(r, 400, "validation.type", "dry_run 须为 1 或 0", "dry_run"), -1;
	*crs = GEO_WGS84;
	v = req_query(r, "crs");
	if (v && *v && geo_crs_parse(v, crs) != 0)
		return reply_error(r, 400, "validation.enum", "坐标系须为以下之一：wgs84、gcj02、bd09", "crs"), -1;
	v = req_query(r, "allow_outside_china");
	*allow_outside = v && (!strcmp(v, "1") || !strcmp(v, "true"));
	return 0;
}

/*
 * Checks one feature (read-only): its 学校标识码 names a school in the
 * caller's scope, its geometry and entrances are valid. On success appends
 * {"id","set"} to plans (set: the record fields it changes) and counts it
 * as updated or unchanged. A bad feature goes to errors. Returns 0 or a
 * store error.
 */
static int boundary_feature(struct req *r, json_t *f, size_t i, enum geo_crs crs, int allow_outside, json_t *seen,
			    json_t *plans, json_t *errors, size_t *updated, size_t *unchanged)
{
	char msg[256], quoted[64];
	json_t *props = json_object_get(f, "properties");
	const char *code = json_string_value(json_object_get(props, "code"));
	if (!json_is_object(f) || !json_is_string(json_object_get(f, "type")) ||
	    strcmp(json_string_value(json_object_get(f, "type")), "Feature") != 0) {
		feature_error(errors, i, code, "type", "须为 GeoJSON 要素（type 为 Feature）");
		return 0;
	}
	if (!code || !vcheck_digits10(code)) {
		feature_error(errors, i, NULL, "properties.code", "properties.code 须为学校的 10 位学校标识码");
		return 0;
	}
	json_t *first = json_object_get(seen, code);
	if (first) {
		snprintf(msg, sizeof msg, "学校标识码与第 %lld 个要素重复", (long long)json_integer_value(first) + 1);
		feature_error(errors, i, code, "properties.code", msg);
		return 0;
	}
	json_object_set_new(seen, code, json_integer((json_int_t)i));
	json_t *geometry = json_object_get(f, "geometry");
	if (!json_is_object(geometry)) {
		feature_error(errors, i, code, "geometry", "缺少几何图形（geometry），须为 Polygon 或 MultiPolygon");
		return 0;
	}

	/* a school outside the caller's scope is reported as not found */
	int64_t id;
	int deleted = 0;
	json_t *base = NULL;
	int rc = school_store_find_code(req_db(r), code, &id, &deleted);
	if (rc == 0 && !deleted)
		rc = school_store_get(req_db(r), r->user, id, 0, &base, NULL);
	else if (rc == 0)
		rc = STORE_NOTFOUND;
	if (rc == STORE_NOTFOUND) {
		snprintf(msg, sizeof msg, "学校标识码 %s 不存在或不在您的管辖范围内", rk_clip(code, quoted, sizeof quoted));
		feature_error(errors, i, code, "properties.code", msg);
		return 0;
	}
	if (rc)
		return rc;

	json_t *in = json_pack("{s:O}", "boundary", geometry);
	json_t *ents = json_object_get(props, "entrances");
	if (ents)
		json_object_set(in, "entrances", ents);
	json_t *set = json_object();
	struct verr e;
	if (school_geom_prepare(in, set, crs, allow_outside, 0, &e)) {
		feature_error(errors, i, code,
			      e.field && !strcmp(e.field, "entrances") ? "properties.entrances" : "geometry", e.message);
	} else {
		json_t *rec = json_deep_copy(base);
		json_object_update(rec, set);
		if (same_record(base, rec))
			(*unchanged)++;
		else
			(*updated)++;
		json_decref(rec);
		json_array_append_new(plans, json_pack("{s:I,s:O}", "id", (json_int_t)id, "set", set));
	}
	json_decref(set);
	json_decref(in);
	json_decref(base);
	return 0;
}

/* Writes every plan in the open transaction, each audited and told to the
 * zone engine; ids written go to written. Returns 0, STORE_NOTFOUND when a
 * school went away meanwhile, or a store error. */
static int boundary_write(struct req *r, json_t *plans, json_t *written)
{
	struct db *db = req_db(r);
	struct audit_actor actor;
	audit_actor_of(r, &actor);
	char at[32], ids[24];
	clock_iso(at);
	size_t k;
	json_t *p;
	int rc = 0;
	json_array_foreach(plans, k, p) {
		int64_t id = json_integer_value(json_object_get(p, "id"));
		json_t *before = NULL, *rec = NULL, *after = NULL;
		if ((rc = school_store_get(db, r->user, id, 0, &before, NULL)))
			break;
		rec = json_deep_copy(before);
		json_object_update(rec, json_object_get(p, "set"));
		if (!same_record(before, rec)) {
			snprintf(ids, sizeof ids, "%lld", (long long)id);
			json_array_append_new(written, json_integer((json_int_t)id));
			if (!(rc = school_store_update(db, id, rec, at)) &&
			    !(rc = school_store_get(db, NULL, id, 0, &after, NULL)) &&
			    !(rc = audit_write(r, "boundary_import", "school", ids, before, after)))
				rc = zone_notify(db, &actor, id, before, after);
		}
		json_decref(before);
		json_decref(rec);
		json_decref(after);
		if (rc)
			break;
	}
	return rc;
}

static int api_school_boundaries_import(struct req *r)
{
	int dry_run, allow_outside;
	enum geo_crs crs;
	if (boundary_import_args(r, &dry_run, &crs, &allow_outside))
		return 0;
	json_t *j = req_json(r);
	if (!j)
		return 0;
	const char *type = json_string_value(json_object_get(j, "type")), *key;
	json_t *features = json_object_get(j, "features"), *v;
	if (!type || strcmp(type, "FeatureCollection") != 0)
		return reply_error(r, 400, "validation.type", "请求体须为 GeoJSON 要素集合（type 为 FeatureCollection）",
				   "type");
	/* the members GIS tools write; the old "crs" member is ignored (?crs= decides) */
	json_object_foreach(j, key, v) {
		if (strcmp(key, "type") && strcmp(key, "features") && strcmp(key, "name") && strcmp(key, "crs") &&
		    strcmp(key, "bbox")) {
			char quoted[64];
			const char *k = arena_strdup(r->arena, rk_clip(key, quoted, sizeof quoted));
			return reply_error(r, 400, "validation.unknown_field", arena_printf(r->arena, "不认识的字段：%s", k),
					   k);
		}
	}
	if (!json_is_array(features) || json_array_size(features) == 0)
		return reply_error(r, 400, "validation.required", "要素集合中没有要素（features 须为非空数组）", "features");
	if (json_array_size(features) > MAX_FEATURES)
		return reply_error(r, 400, "validation.range", "一次最多导入 20000 个要素，请分批导入", "features");

	json_t *errors = json_array(), *plans = json_array(), *seen = json_object(), *written = json_array(), *f;
	size_t i, updated = 0, unchanged = 0, total = json_array_size(features);
	int rc = 0;
	json_array_foreach(features, i, f) {
		if ((rc = boundary_feature(r, f, i, crs, allow_outside, seen, plans, errors, &updated, &unchanged)))
			break;
	}
	json_t *out = NULL;
	if (rc) {
		reply_store_error(r, rc, NULL, NULL, NULL);
		goto done;
	}
	size_t nerr = json_array_size(errors);
	out = json_pack("{s:b,s:b,s:I,s:I,s:I,s:O}", "dry_run", dry_run, "ok", nerr == 0, "total", (json_int_t)total,
			"updated", (json_int_t)(nerr ? 0 : updated), "unchanged", (json_int_t)(nerr ? 0 : unchanged),
			"errors", errors);
	if (dry_run) {
		json_object_set_new(out, "updated", json_integer((json_int_t)updated));
		json_object_set_new(out, "unchanged", json_integer((json_int_t)unchanged));
		reply_json(r, 200, out);
		out = NULL;
		goto done;
	}
	if (nerr) {
		json_object_set_new(out, "error",
				    json_pack("{s:s,s:s,s:n}", "code", "import.invalid_features", "message",
					      arena_printf(r->arena, "有 %zu 个要素不合格，未导入任何边界；请按错误列表修改后重新导入",
							   nerr),
					      "field"));
		reply_json(r, 422, out);
		out = NULL;
		goto done;
	}
	struct db *db = req_db(r);
	if ((rc = db_begin(db)) == 0 && (rc = boundary_write(r, plans, written)) == 0 && (rc = db_commit(db)) == 0) {
		reply_json(r, 200, out);
		out = NULL;
		goto done;
	}
	if (db_in_tx(db))
		db_rollback(db);
	json_array_foreach(written, i, f)
		zone_school_rolled_back(db, json_integer_value(f));
	if (rc == STORE_NOTFOUND)
		reply_error(r, 409, "import.changed", "导入期间学校名录发生了变化，未导入任何边界，请重新导入", NULL);
	else
		reply_store_error(r, rc, NULL, NULL, NULL);
done:
	json_decref(out);
	json_decref(errors);
	json_decref(plans);
	json_decref(seen);
	json_decref(written);
	return 0;
}

/*--- routes ---*/

#define UPLOAD_MAX ((size_t)20 << 20)
#define GEOJSON_MAX ((size_t)8 << 20)

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
	{ .method = "POST", .pattern = "/api/schools/boundaries/import", .handler = api_school_boundaries_import,
	  .perm = "school.write", .body_max = GEOJSON_MAX },
	{ .method = "GET", .pattern = "/api/schools/:id", .handler = api_school_get, .perm = "school.read" },
	{ .method = "PATCH", .pattern = "/api/schools/:id", .handler = api_school_patch, .perm = "school.write",
	  .body_max = 64 * 1024 },
	{ .method = "DELETE", .pattern = "/api/schools/:id", .handler = api_school_delete, .perm = "school.delete" },
	{ .method = "GET", .pattern = "/api/schools/:id/audit", .handler = api_school_audit, .perm = "school.read" },
	{ 0 },
};
