/*
 * venues_api.c - the venue registry's handlers and route table (场所).
 *
 * Built the way the school registry is:
 *   - one field table (venue_fields) checks the JSON API and, cell by cell,
 *     the import; the entrances (出入口, an array) are checked beside it;
 *   - one function (venue_prepare) turns checked input into the record to
 *     store - defaults, category code or name to code, coordinates and
 *     entrances to WGS84, township and responsible unit checked against the
 *     caller's scope - for POST, PATCH and every imported row;
 *   - the import/export engine (io/importer.h) gets the columns and two
 *     callbacks;
 *   - everything is validated before it is written; each write is one
 *     transaction holding the venue, its audit entry and the zone engine's
 *     re-judging of the venue's findings (zone/zone.h).
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
#include "io/importer.h"
#include "io/regkit.h"
#include "store/store.h"
#include "venues/venues.h"
#include "venues/venues_int.h"
#include "zone/zone.h"

/*--- fields ---*/

/* 状态: 停业 closed for now, 取缔 shut down by an authority, 注销 licence
 * cancelled */
static const char *const statuses[] = { "营业", "停业", "取缔", "注销", NULL };
static const char *const crs_names[] = { "wgs84", "gcj02", "bd09", NULL };

#define PHONE_MSG "须为 11 位手机号或带区号的固定电话（如 0551-12345678）"
#define MAX_ENTRANCES 10
/* an entrance further than this from the venue's point is a typo (swapped
 * or mistyped coordinates), not a door */
#define ENTRANCE_MAX_M 1000.0

const struct vfield venue_fields[] = {
	{ .name = "name", .label = "场所名称", .type = V_STR, .required = 1, .max_len = 100 },
	/* a code (internet_cafe) or the category's Chinese name */
	{ .name = "category", .label = "类别", .type = V_STR, .required = 1, .max_len = 40 },
	{ .name = "licence_no", .label = "许可证号", .type = V_STR, .nullable = 1, .max_len = 50 },
	{ .name = "operator_name", .label = "经营者", .type = V_STR, .nullable = 1, .max_len = 40 },
	{ .name = "operator_phone", .label = "联系电话", .type = V_STR, .nullable = 1, .max_len = 30,
	  .check = vcheck_phone, .check_msg = PHONE_MSG },
	{ .name = "region_code", .label = "所属乡镇", .type = V_STR, .required = 1, .max_len = 9,
	  .check = vcheck_region_code, .check_msg = "须为 6 位县级或 9 位乡镇（街道）区划代码" },
	{ .name = "address", .label = "地址", .type = V_STR, .nullable = 1, .max_len = 200 },
	{ .name = "lat", .label = "纬度", .type = V_NUM, .required = 1, .dmin = -90, .dmax = 90 },
	{ .name = "lon", .label = "经度", .type = V_NUM, .required = 1, .dmin = -180, .dmax = 180 },
	{ .name = "status", .label = "状态", .type = V_ENUM, .enum_vals = statuses },
	{ .name = "unit_id", .label = "责任单位", .type = V_INT, .nullable = 1, .min = 1, .max = INT64_MAX },
	{ .name = "note", .label = "备注", .type = V_STR, .nullable = 1, .max_len = 500, .multiline = 1 },
	/* input switches, never stored (as for schools) */
	{ .name = "crs", .label = "坐标系", .type = V_ENUM, .enum_vals = crs_names },
	{ .name = "allow_outside_china", .label = "允许境外坐标", .type = V_BOOL },
	{ 0 },
};

static int text_field(const char *name)
{
	const struct vfield *f = valid_find(venue_fields, name);
	return f && (f->type == V_STR || f->type == V_ENUM);
}

static json_t *venue_defaults(void)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:n,s:n,s:[],s:s,s:n,s:s}", "name", "", "category", "",
			 "licence_no", "", "operator_name", "", "operator_phone", "", "region_code", "", "address", "",
			 "lat", "lon", "entrances", "status", "营业", "unit_id", "note", "");
}

static int changed(json_t *base, json_t *rec, const char *key)
{
	return !base || !json_equal(json_object_get(base, key), json_object_get(rec, key));
}

/* Checks a body: the scalar fields against venue_fields (unknown fields
 * refused), "entrances" apart. Replies 400 and returns -1 when bad. */
static int check_body(struct req *r, json_t *j, int partial)
{
	json_t *scalars = json_copy(j);
	json_object_del(scalars, "entrances");
	int rc = valid_body(r, scalars, venue_fields, partial);
	json_decref(scalars);
	return rc;
}

static enum geo_crs body_crs(json_t *j)
{
	enum geo_crs c = GEO_WGS84;
	geo_crs_parse(json_string_value(json_object_get(j, "crs")), &c);
	return c;
}

/*--- entrances (出入口) ---*/

static int entrance_err(struct verr *e, size_t i, const char *what)
{
	e->code = "validation.entrances";
	e->field = "entrances";
	snprintf(e->message, sizeof e->message, "出入口第 %zu 项%s", i + 1, what);
	return 1;
}

/* 1 when base already has an entrance at (lat, lon). */
static int entrance_kept(json_t *base, double lat, double lon)
{
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(base, "entrances"), i, x) {
		json_t *a = json_object_get(x, "lat"), *o = json_object_get(x, "lon");
		if (json_is_number(a) && json_is_number(o) && fabs(json_number_value(a) - lat) < 1e-9 &&
		    fabs(json_number_value(o) - lon) < 1e-9)
			return 1;
	}
	return 0;
}

/*
 * Checks entrances as sent (null or an array of at most 10
 * {"lat","lon","name"?}) and converts them from crs to WGS84 (1e-7°);
 * each must lie within ENTRANCE_MAX_M of the venue's point (vlat, vlon,
 * WGS84). *out is a new array. Returns 0, or 1 with e filled.
 */
static int entrances_check(json_t *v, json_t *base, enum geo_crs crs, int allow_outside, double vlat, double vlon,
			   json_t **out, struct verr *e)
{
	*out = NULL;
	if (!v || json_is_null(v)) {
		*out = json_array();
		return 0;
	}
	if (!json_is_array(v))
		return rk_verr(e, "validation.type", "entrances", "出入口须为数组：[{\"lat\":纬度,\"lon\":经度,\"name\":\"名称\"}]");
	if (json_array_size(v) > MAX_ENTRANCES)
		return rk_verr(e, "validation.range", "entrances", "出入口最多 10 个");
	json_t *a = json_array();
	size_t i;
	json_t *x;
	json_array_foreach(v, i, x) {
		const char *k;
		json_t *kv;
		int bad = 0;
		if (!json_is_object(x)) {
			bad = entrance_err(e, i, "须为对象 {\"lat\",\"lon\",\"name\"}");
			goto fail;
		}
		json_object_foreach(x, k, kv) {
			if (strcmp(k, "lat") && strcmp(k, "lon") && strcmp(k, "name")) {
				bad = entrance_err(e, i, "只能包含 lat、lon、name");
				goto fail;
			}
		}
		json_t *la = json_object_get(x, "lat"), *lo = json_object_get(x, "lon"), *nm = json_object_get(x, "name");
		if (!json_is_number(la) || !json_is_number(lo)) {
			bad = entrance_err(e, i, "须填写数字纬度 lat 和经度 lon");
			goto fail;
		}
		double lat, lon;
		if (fabs(json_number_value(la)) > 90 || fabs(json_number_value(lo)) > 180 ||
		    geo_convert(crs, GEO_WGS84, json_number_value(la), json_number_value(lo), &lat, &lon) != 0) {
			bad = entrance_err(e, i, "坐标超出范围");
			goto fail;
		}
		if (nm && !json_is_null(nm) && !json_is_string(nm)) {
			bad = entrance_err(e, i, "的名称须为文本");
			goto fail;
		}
		const char *name = json_is_string(nm) ? json_string_value(nm) : "";
		if (utf8_chars(name) > 30) {
			bad = entrance_err(e, i, "的名称不能超过 30 个字");
			goto fail;
		}
		for (const char *c = name; *c; c++)
			if ((unsigned char)*c < 0x20) {
				bad = entrance_err(e, i, "的名称含有控制字符");
				goto fail;
			}
		lat = round(lat * 1e7) / 1e7;
		lon = round(lon * 1e7) / 1e7;
		if (!allow_outside && !geo_in_china(lat, lon) && !entrance_kept(base, lat, lon)) {
			bad = entrance_err(e, i, "不在中国境内，请检查坐标；确在境外请选择“允许境外坐标”");
			goto fail;
		}
		if (geo_haversine_m(vlat, vlon, lat, lon) > ENTRANCE_MAX_M) {
			bad = entrance_err(e, i, "距场所位置超过 1 公里，请检查坐标或坐标系");
			goto fail;
		}
		json_array_append_new(a, json_pack("{s:f,s:f,s:s}", "lat", lat, "lon", lon, "name", name));
		continue;
	fail:
		json_decref(a);
		return bad;
	}
	*out = a;
	return 0;
}

/*--- the one check of what will be stored ---*/

/*
 * Merges in (checked by check_body; for PATCH only what changes) over base
 * (NULL on create) into *out, the full record to store (new reference):
 * defaults; the category (code or name) to its code; lat/lon and entrances
 * converted from crs to WGS84 and checked; township and unit checked to
 * exist and against the caller's scope. The licence number's uniqueness is
 * the caller's check. Returns 0; 1 with e filled; or a negative store
 * error.
 */
static int venue_prepare(struct req *r, json_t *in, json_t *base, enum geo_crs crs, int allow_outside, json_t **out,
			 struct verr *e)
{
	struct db *db = req_db(r);
	const struct principal *p = r->user;
	json_t *rec = base ? json_deep_copy(base) : venue_defaults();
	int rc = 0;
	char name[256];
	*out = NULL;
	for (size_t i = 0; i < venue_ncols; i++) {
		const char *k = venue_cols[i].name;
		json_t *v = json_object_get(in, k);
		if (!v || strcmp(k, "entrances") == 0)
			continue;
		if (json_is_null(v) && text_field(k))
			json_object_set_new(rec, k, json_string(""));
		else
			json_object_set(rec, k, v);
	}

	/* 纬度/经度: required, together; stored in WGS84 to 1e-7° (1 cm) */
	json_t *la = json_object_get(in, "lat"), *lo = json_object_get(in, "lon");
	if (!la != !lo) {
		rc = rk_verr(e, "validation.required", la ? "lon" : "lat", "纬度和经度须同时填写");
		goto out;
	}
	if (la) {
		double lat, lon;
		if (geo_convert(crs, GEO_WGS84, json_number_value(la), json_number_value(lo), &lat, &lon) != 0) {
			rc = rk_verr(e, "validation.range", "lat", "坐标超出范围");
			goto out;
		}
		lat = round(lat * 1e7) / 1e7;
		lon = round(lon * 1e7) / 1e7;
		/* a point outside China needs saying so once; the same point
		 * coming back (an export re-imported) is not asked again */
		json_t *blat = json_object_get(base, "lat"), *blon = json_object_get(base, "lon");
		int kept = json_is_number(blat) && json_is_number(blon) && fabs(json_number_value(blat) - lat) < 1e-9 &&
			   fabs(json_number_value(blon) - lon) < 1e-9;
		if (!allow_outside && !kept && !geo_in_china(lat, lon)) {
			rc = rk_verr(e, "venue.outside_china", "lat",
				     "坐标不在中国境内，请检查纬度、经度是否填反或坐标系是否选对；确在境外请选择“允许境外坐标”");
			goto out;
		}
		json_object_set_new(rec, "lat", json_real(lat));
		json_object_set_new(rec, "lon", json_real(lon));
	}
	if (json_object_get(in, "entrances")) {
		json_t *ent;
		if ((rc = entrances_check(json_object_get(in, "entrances"), base, crs, allow_outside,
					  json_number_value(json_object_get(rec, "lat")),
					  json_number_value(json_object_get(rec, "lon")), &ent, e)))
			goto out;
		json_object_set_new(rec, "entrances", ent);
	}

	/* 类别: a code or its Chinese name, stored as the code */
	if (json_object_get(in, "category")) {
		char code[32];
		const char *text = json_string_value(json_object_get(rec, "category"));
		if ((rc = venue_store_category(db, text ? text : "", code, name, sizeof name)) == STORE_NOTFOUND) {
			char quoted[96];
			e->code = "venue.category_unknown";
			e->field = "category";
			snprintf(e->message, sizeof e->message, "类别“%s”不存在，请选择场所类别表中的类别",
				 rk_clip(text ? text : "", quoted, sizeof quoted));
			rc = 1;
			goto out;
		}
		if (rc < 0)
			goto out;
		json_object_set_new(rec, "category", json_string(code));
		json_object_set_new(rec, "category_name", json_string(name));
	}

	const char *region = json_string_value(json_object_get(rec, "region_code"));
	if (changed(base, rec, "region_code")) {
		if ((rc = rk_region_usable(db, region, name, sizeof name)) == STORE_NOTFOUND) {
			rc = rk_verr(e, "venue.region_unknown", "region_code", "所属乡镇须为已登记的县级或乡镇（街道）区划");
			goto out;
		}
		if (rc < 0)
			goto out;
		if (!scope_region_ok(db, p, region)) {
			rc = rk_verr(e, "venue.region_scope", "region_code", "所属乡镇不在您的管辖范围内");
			goto out;
		}
		json_object_set_new(rec, "region_name", json_string(name));
	}

	json_t *unit = json_object_get(rec, "unit_id");
	if (changed(base, rec, "unit_id")) {
		if (json_is_integer(unit)) {
			rc = rk_unit_usable(db, json_integer_value(unit), name, sizeof name);
			if (rc == STORE_NOTFOUND) {
				rc = rk_verr(e, "venue.unit_unknown", "unit_id", "责任单位不存在或已停用");
				goto out;
			}
			if (rc < 0)
				goto out;
			json_object_set_new(rec, "unit_name", json_string(name));
		} else {
			json_object_set_new(rec, "unit_name", json_null());
		}
		/* a unit-scope caller sees the venues its units answer for; it
		 * must not save one it could not see again */
		if (strcmp(p->scope_kind, "unit") == 0 &&
		    !(json_is_integer(unit) && scope_unit_ok(db, p, json_integer_value(unit)))) {
			rc = rk_verr(e, "venue.unit_scope", "unit_id",
				     "责任单位须为您的单位或下级单位，否则保存后您将无法查看这个场所");
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

/* Is licence (non-empty) held by a live venue other than self? Returns 0
 * (free), 1 (taken) or a store error. */
static int licence_taken(struct db *db, json_t *rec, int64_t self)
{
	const char *lic = json_string_value(json_object_get(rec, "licence_no"));
	if (!lic || !*lic)
		return 0;
	int64_t id;
	int deleted;
	int rc = venue_store_find_licence(db, lic, &id, &deleted);
	if (rc == STORE_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	return !deleted && id != self;
}

static int reply_licence_taken(struct req *r)
{
	return reply_error(r, 409, "venue.licence_taken", "许可证号已被其他场所使用", "licence_no");
}

/* Why a change of before into after matters to the zone engine, or NULL
 * when it does not (a new name, phone or note moves no finding). */
static const char *zone_why(json_t *before, json_t *after)
{
	const char *bs = json_string_value(json_object_get(before, "status"));
	const char *as = json_string_value(json_object_get(after, "status"));
	if (bs && as && strcmp(bs, as)) {
		if (strcmp(as, "营业") == 0)
			return "场所恢复营业";
		if (strcmp(bs, "营业") == 0)
			return "场所停业";
		return "场所变更";
	}
	static const struct rk_col place[] = { { "lat", RK_REAL }, { "lon", RK_REAL }, { "entrances", RK_JSON } };
	if (!rk_same(place, 3, before, after))
		return "场所迁址";
	static const struct rk_col other[] = { { "category", RK_TEXT }, { "unit_id", RK_INT } };
	if (!rk_same(other, 2, before, after))
		return "场所变更";
	return NULL;
}

/*--- list filters ---*/

static const struct vfield category_filter = { .name = "category", .label = "类别", .type = V_STR, .max_len = 40 };

/* The list filters shared by list, stats and export. Replies 400 on a bad
 * value and returns -1. */
static int parse_filter(struct req *r, struct venue_filter *f)
{
	memset(f, 0, sizeof *f);
	const char *cat;
	if (rk_query_field(r, "status", valid_find(venue_fields, "status"), &f->status) ||
	    rk_query_field(r, "category", &category_filter, &cat) || rk_query_q(r, &f->q) ||
	    rk_query_region(r, "region", "venue", &f->region) ||
	    rk_query_int(r, "unit_id", 1, INT64_MAX, 0, &f->unit_id, "责任单位须为正整数 id"))
		return -1;
	if (cat) {
		char code[32];
		int rc = venue_store_category(req_db(r), cat, code, NULL, 0);
		if (rc == STORE_NOTFOUND)
			return reply_error(r, 400, "venue.category_unknown", "类别不存在", "category"), -1;
		if (rc)
			return reply_store_error(r, rc, NULL, NULL, NULL), -1;
		f->category = arena_strdup(r->arena, code);
	}
	return 0;
}

#define SORT_MSG "排序字段须为 name、category、licence_no、region_code、status、created_at、updated_at 之一（前加 - 为降序）"

/*--- GET /api/venues ---*/

static int api_venue_list(struct req *r)
{
	struct venue_filter f;
	const char *sort;
	int desc;
	int64_t page, size, total = 0;
	if (parse_filter(r, &f) || rk_query_sort(r, venue_sort_map, "name", SORT_MSG, &sort, &desc) ||
	    rk_query_page(r, &page, &size))
		return 0;
	struct db *db = req_db(r);
	int rc = venue_store_count(db, r->user, &f, &total);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	json_t *items = json_array();
	if ((rc = venue_store_list(db, r->user, &f, sort, desc, size, (page - 1) * size, rk_append_item, items))) {
		json_decref(items);
		return reply_store_error(r, rc, NULL, NULL, NULL);
	}
	return reply_page(r, items, total, page, size);
}

/*--- GET /api/venues/stats, /categories ---*/

static int api_venue_stats(struct req *r)
{
	struct venue_filter f;
	if (parse_filter(r, &f))
		return 0;
	json_t *out;
	int rc = venue_store_stats(req_db(r), r->user, &f, &out);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	return reply_json(r, 200, out);
}

static int api_venue_categories(struct req *r)
{
	json_t *out;
	int rc = venue_store_categories(req_db(r), &out);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	return reply_json(r, 200, out);
}

/*--- GET /api/venues/:id ---*/

/* the printed records of venues read lately (regkit.h's rk_memo) */
static struct rk_memo *memo;
static pthread_once_t memo_once = PTHREAD_ONCE_INIT;
static void memo_init(void)
{
	memo = rk_memo_new();
}

static int api_venue_get(struct req *r)
{
	int64_t id;
	if (rk_parse_id(r, &id))
		return 0;
	pthread_once(&memo_once, memo_init);
	char *text;
	size_t len;
	int rc = venue_store_get_text(req_db(r), r->user, id, memo, REPLY_JSON_FLAGS, &text, &len);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL); /* STORE_NOTFOUND: 404 */
	return reply_take(r, 200, REPLY_JSON_TYPE, text, len);
}

/*--- writes ---*/

/* Rolls back a write transaction that may have touched venue id (0: none
 * yet) and tells the zone engine, whose index followed the write. */
static void rollback(struct db *db, int64_t id)
{
	if (db_in_tx(db))
		db_rollback(db);
	if (id)
		zone_venue_rolled_back(db, id);
}

static int zone_hook(struct req *r, int64_t id, const char *why)
{
	struct audit_actor a;
	if (!why)
		return 0;
	audit_actor_of(r, &a);
	return zone_venue_changed(req_db(r), &a, id, why);
}

/*--- POST /api/venues ---*/

static int api_venue_create(struct req *r)
{
	json_t *j = req_json(r);
	if (!j || check_body(r, j, 0))
		return 0;
	struct db *db = req_db(r);
	struct verr e;
	json_t *rec = NULL, *after = NULL;
	int64_t id = 0;
	int rc = venue_prepare(r, j, NULL, body_crs(j), json_is_true(json_object_get(j, "allow_outside_china")), &rec,
			       &e);
	if (rc > 0)
		return rk_reply_verr(r, 400, &e);
	if (rc < 0)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	char at[32], ids[24];
	clock_iso(at);
	if ((rc = db_begin(db)))
		goto fail;
	/* inside the transaction: writers are serialised, so no other venue
	 * takes the licence number between the check and the insert */
	if ((rc = licence_taken(db, rec, 0)) == 1) {
		rollback(db, 0);
		json_decref(rec);
		return reply_licence_taken(r);
	}
	if (rc || (rc = venue_store_insert(db, rec, at, &id)) || (rc = venue_store_get(db, NULL, id, 0, &after, NULL)))
		goto fail;
	snprintf(ids, sizeof ids, "%lld", (long long)id);
	if ((rc = audit_write(r, "create", "venue", ids, NULL, after)) || (rc = zone_hook(r, id, "场所新增")) ||
	    (rc = db_commit(db)))
		goto fail;
	json_decref(rec);
	return reply_json(r, 201, after);
fail:
	rollback(db, id);
	json_decref(rec);
	json_decref(after);
	return reply_store_error(r, rc, NULL, NULL, NULL);
}

/*--- PATCH /api/venues/:id ---*/

static int api_venue_patch(struct req *r)
{
	int64_t id;
	if (rk_parse_id(r, &id))
		return 0;
	json_t *j = req_json(r);
	if (!j || check_body(r, j, 1))
		return 0;
	struct db *db = req_db(r);
	json_t *before = NULL, *rec = NULL, *after = NULL;
	int wrote = 0;
	/* read, check and write in one write transaction: "before" is what
	 * this update replaces */
	int rc = db_begin(db);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	if ((rc = venue_store_get(db, r->user, id, 0, &before, NULL)))
		goto fail;
	struct verr e;
	rc = venue_prepare(r, j, before, body_crs(j), json_is_true(json_object_get(j, "allow_outside_china")), &rec,
			   &e);
	if (rc > 0) {
		rollback(db, 0);
		json_decref(before);
		return rk_reply_verr(r, 400, &e);
	}
	if (rc < 0)
		goto fail;
	if ((rc = licence_taken(db, rec, id)) == 1) {
		rollback(db, 0);
		json_decref(before);
		json_decref(rec);
		return reply_licence_taken(r);
	}
	if (rc)
		goto fail;
	if (rk_same(venue_cols, venue_ncols, before, rec)) {
		/* nothing to change: no write, no audit entry */
		rollback(db, 0);
		json_decref(rec);
		return reply_json(r, 200, before);
	}
	char at[32], ids[24];
	clock_iso(at);
	snprintf(ids, sizeof ids, "%lld", (long long)id);
	wrote = 1;
	if ((rc = venue_store_update(db, id, rec, at)) || (rc = venue_store_get(db, NULL, id, 0, &after, NULL)) ||
	    (rc = audit_write(r, "update", "venue", ids, before, after)) ||
	    (rc = zone_hook(r, id, zone_why(before, after))) || (rc = db_commit(db)))
		goto fail;
	json_decref(before);
	json_decref(rec);
	return reply_json(r, 200, after);
fail:
	rollback(db, wrote ? id : 0);
	json_decref(before);
	json_decref(rec);
	json_decref(after);
	return reply_store_error(r, rc, NULL, NULL, NULL);
}

/*--- DELETE /api/venues/:id ---*/

static int api_venue_delete(struct req *r)
{
	int64_t id;
	if (rk_parse_id(r, &id))
		return 0;
	struct db *db = req_db(r);
	json_t *before = NULL;
	int rc = db_begin(db);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	if ((rc = venue_store_get(db, r->user, id, 0, &before, NULL))) {
		rollback(db, 0);
		return reply_store_error(r, rc, NULL, NULL, NULL);
	}
	char at[32], ids[24];
	clock_iso(at);
	snprintf(ids, sizeof ids, "%lld", (long long)id);
	if ((rc = venue_store_delete(db, id, at)) || (rc = audit_write(r, "delete", "venue", ids, before, NULL)) ||
	    (rc = zone_hook(r, id, "场所删除")) || (rc = db_commit(db))) {
		rollback(db, id);
		json_decref(before);
		return reply_store_error(r, rc, NULL, NULL, NULL);
	}
	json_decref(before);
	return reply_no_content(r);
}

/*--- GET /api/venues/:id/audit ---*/

static int api_venue_audit(struct req *r)
{
	int64_t id;
	if (rk_parse_id(r, &id))
		return 0;
	struct db *db = req_db(r);
	json_t *rec;
	int rc = venue_store_get(db, r->user, id, 0, &rec, NULL);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	json_decref(rec);
	char ids[24];
	snprintf(ids, sizeof ids, "%lld", (long long)id);
	json_t *items = audit_history(db, "venue", ids, 100);
	if (!items)
		return reply_store_error(r, STORE_ERR, NULL, NULL, NULL);
	return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/*--- import and export ---*/

/* Import cells that take what offices type rather than what the API
 * takes: a township's name or code, a unit's name or code, entrances as
 * text. */
static const struct vfield region_cell = {
	.name = "region_code", .label = "所属乡镇", .type = V_STR, .required = 1, .max_len = 100,
};
static const struct vfield unit_cell = {
	.name = "unit_id", .label = "责任单位", .type = V_STR, .nullable = 1, .max_len = 100,
};
static const struct vfield entrances_cell = {
	.name = "entrances", .label = "出入口", .type = V_STR, .nullable = 1, .max_len = 2000,
};

/* The offices' column order (场所台账), which export writes and import reads. */
static const struct io_column venue_columns[] = {
	{ .header = "场所名称", .aliases = "名称|店名|单位名称|场所", .field = "name" },
	{ .header = "类别", .aliases = "场所类别|类型|行业类别|行业", .field = "category", .out_field = "category_name" },
	{ .header = "许可证号", .aliases = "许可证编号|经营许可证号|证照号码|许可证", .field = "licence_no" },
	{ .header = "经营者", .aliases = "经营者姓名|负责人|业主|法定代表人", .field = "operator_name" },
	{ .header = "联系电话", .aliases = "电话|经营者电话|联系方式|手机", .field = "operator_phone" },
	{ .header = "所属乡镇", .aliases = "所属乡镇（街道）|所属街道|乡镇（街道）|乡镇街道|乡镇|街道|区划代码",
	  .field = "region_code", .cell = &region_cell, .out_field = "region_name" },
	{ .header = "地址", .aliases = "经营地址|场所地址|详细地址", .field = "address" },
	{ .header = "纬度", .field = "lat", .xlsx_type = 'n' },
	{ .header = "经度", .field = "lon", .xlsx_type = 'n' },
	{ .header = "坐标系", .field = "crs" },
	{ .header = "出入口", .aliases = "出入口坐标", .field = "entrances", .cell = &entrances_cell,
	  .out_field = "entrances_text" },
	{ .header = "状态", .aliases = "经营状态", .field = "status" },
	{ .header = "责任单位", .aliases = "监管单位|责任部门|主管部门", .field = "unit_id", .cell = &unit_cell,
	  .out_field = "unit_name" },
	{ .header = "备注", .aliases = "说明", .field = "note" },
	{ 0 },
};

static const char *str_or_empty(json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "";
}

/* 1 when an entrance name would break the cell's text form. */
static int name_needs_json(const char *s)
{
	static const char *const seps[] = { ";", ":", ",", "；", "：", "，", "\n", "[", NULL };
	for (int i = 0; seps[i]; i++)
		if (strstr(s, seps[i]))
			return 1;
	return 0;
}

/* The 出入口 cell: "名称:纬度,经度;名称:纬度,经度" (the name and its colon
 * optional), or the JSON array when a name holds a separator. Malloc'd. */
static char *entrances_text(json_t *ents)
{
	size_t i;
	json_t *x;
	json_array_foreach(ents, i, x) {
		if (name_needs_json(str_or_empty(json_object_get(x, "name"))))
			return json_dumps(ents, JSON_COMPACT | JSON_REAL_PRECISION(15));
	}
	size_t cap = 64 * json_array_size(ents) + 1, len = 0;
	char *out = malloc(cap);
	if (!out)
		abort();
	out[0] = '\0';
	json_array_foreach(ents, i, x) {
		char lat[40], lon[40];
		const char *name = str_or_empty(json_object_get(x, "name"));
		io_format_real(json_number_value(json_object_get(x, "lat")), lat, sizeof lat);
		io_format_real(json_number_value(json_object_get(x, "lon")), lon, sizeof lon);
		size_t need = strlen(name) + strlen(lat) + strlen(lon) + 4;
		if (len + need >= cap) {
			cap = 2 * (len + need);
			if (!(out = realloc(out, cap)))
				abort();
		}
		len += (size_t)snprintf(out + len, cap - len, "%s%s%s%s,%s", i ? ";" : "", name, *name ? ":" : "", lat,
					lon);
	}
	return out;
}

/* Reads a number that fills the whole of [s, end) (spaces around allowed). */
static int parse_num(const char *s, const char *end, double *out)
{
	char tmp[64];
	while (s < end && *s == ' ')
		s++;
	while (end > s && end[-1] == ' ')
		end--;
	size_t n = (size_t)(end - s);
	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	char *e;
	*out = strtod(tmp, &e);
	return *e || !isfinite(*out) ? -1 : 0;
}

/* Finds the first of ASCII sep or its full-width form wide in [s, end). */
static const char *find_sep(const char *s, const char *end, char sep, const char *wide)
{
	size_t wl = strlen(wide);
	for (const char *p = s; p < end; p++) {
		if (*p == sep)
			return p;
		if ((size_t)(end - p) >= wl && memcmp(p, wide, wl) == 0)
			return p;
	}
	return NULL;
}

static size_t sep_len(const char *p)
{
	return (unsigned char)*p < 0x80 ? 1 : 3;
}

/* Parses the 出入口 cell into the API's array (still in the row's crs). */
static int entrances_parse(const char *text, json_t **out, struct verr *e)
{
	*out = NULL;
	if (!text || !*text) {
		*out = json_array();
		return 0;
	}
	if (*text == '[') {
		json_error_t je;
		json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
		if (!j)
			return rk_verr(e, "validation.entrances", "entrances", "出入口不是合法的 JSON 数组");
		*out = j;
		return 0;
	}
	json_t *a = json_array();
	const char *s = text, *end = text + strlen(text);
	size_t i = 0;
	while (s < end) {
		const char *semi = find_sep(s, end, ';', "；");
		const char *nl = find_sep(s, semi ? semi : end, '\n', "\n");
		const char *stop = nl ? nl : semi ? semi : end;
		const char *colon = find_sep(s, stop, ':', "：");
		const char *num = colon ? colon + sep_len(colon) : s;
		const char *comma = find_sep(num, stop, ',', "，");
		double lat, lon;
		int blank = 1;
		for (const char *p = s; p < stop; p++)
			blank &= *p == ' ' || *p == '\r';
		if (!blank) {
			if (!comma || parse_num(num, comma, &lat) || parse_num(comma + sep_len(comma), stop, &lon)) {
				json_decref(a);
				return entrance_err(e, i, "须写成“名称:纬度,经度”，多个出入口之间用分号隔开");
			}
			const char *n0 = s, *n1 = colon ? colon : s;
			while (n0 < n1 && *n0 == ' ')
				n0++;
			while (n1 > n0 && n1[-1] == ' ')
				n1--;
			json_t *nm = json_stringn(n0, (size_t)(n1 - n0));
			json_array_append_new(a, json_pack("{s:f,s:f,s:o}", "lat", lat, "lon", lon, "name",
							   nm ? nm : json_string("")));
			i++;
		}
		s = stop < end ? stop + sep_len(stop) : end;
	}
	*out = a;
	return 0;
}

/* Per import: the file's coordinate system, what names resolved to, and
 * the venues written (for the zone engine, should the import roll back). */
struct import_ctx {
	enum geo_crs crs;
	int allow_outside;
	json_t *regions;
	json_t *units;
	json_t *written;
};

/* 1 when a cell names what base already links to: an export re-imports
 * cleanly even where a township or unit name is not unique. */
static int names_base(json_t *base, const char *name_key, const char *text)
{
	const char *have = json_string_value(json_object_get(base, name_key));
	return have && strcmp(have, text) == 0;
}

/* Turns a township or unit cell into the API's value through the cache.
 * Returns 0, 1 with e filled, or a store error. */
static int resolve_cell(struct req *r, struct import_ctx *c, json_t *row, json_t *base, int region, struct verr *e)
{
	const char *field = region ? "region_code" : "unit_id";
	const char *text = json_string_value(json_object_get(row, field));
	char quoted[96];
	json_t *hit;
	if (!text)
		return 0;
	if (names_base(base, region ? "region_name" : "unit_name", text)) {
		json_object_set(row, field, json_object_get(base, field));
		return 0;
	}
	int rc = rk_resolve_cached(r, region ? c->regions : c->units, text, region, &hit);
	if (rc)
		return rc;
	if (region ? json_is_string(hit) : json_is_object(hit)) {
		json_object_set(row, field, region ? hit : json_object_get(hit, "id"));
		return 0;
	}
	e->code = region ? "venue.region_unknown" : "venue.unit_unknown";
	e->field = field;
	rk_clip(text, quoted, sizeof quoted);
	if (region)
		snprintf(e->message, sizeof e->message,
			 json_integer_value(hit) ? "有多个名为“%s”的乡镇（街道），请改填区划代码"
						 : "所属乡镇“%s”不存在或不在您的管辖范围内",
			 quoted);
	else
		snprintf(e->message, sizeof e->message,
			 json_integer_value(hit) ? "有多个名为“%s”的单位，请改填单位代码" : "责任单位“%s”不存在或已停用",
			 quoted);
	return 1;
}

static int import_resolve(struct req *r, void *vctx, json_t *row, enum io_action *action, struct verr *e)
{
	struct import_ctx *c = vctx;
	struct db *db = req_db(r);
	json_t *base = NULL, *rec = NULL, *ent = NULL;
	int rc;

	/* upsert by 许可证号: a venue outside the caller's scope is never
	 * touched; a soft-deleted one in scope comes back. A row without a
	 * licence number is always a new venue. */
	int64_t id = 0;
	int deleted = 0;
	const char *lic = json_string_value(json_object_get(row, "licence_no"));
	if (lic && *lic) {
		rc = venue_store_find_licence(db, lic, &id, &deleted);
		if (rc == 0) {
			rc = venue_store_get(db, r->user, id, 1, &base, NULL);
			if (rc == STORE_NOTFOUND)
				return rk_verr(e, "venue.licence_scope", "licence_no", "许可证号已被管辖范围外的场所使用");
			if (rc)
				return rc;
		} else if (rc != STORE_NOTFOUND) {
			return rc;
		}
	}
	if ((rc = resolve_cell(r, c, row, base, 1, e)) || (rc = resolve_cell(r, c, row, base, 0, e)))
		goto out;
	json_t *ev = json_object_get(row, "entrances");
	if (ev) {
		if ((rc = entrances_parse(json_string_value(ev), &ent, e)))
			goto out;
		json_object_set_new(row, "entrances", ent);
	}
	enum geo_crs crs = c->crs;
	const char *rcrs = json_string_value(json_object_get(row, "crs"));
	if (rcrs && *rcrs)
		geo_crs_parse(rcrs, &crs);
	if ((rc = venue_prepare(r, row, base, crs, c->allow_outside, &rec, e)))
		goto out;
	*action = !base ? IO_CREATE : (deleted || !rk_same(venue_cols, venue_ncols, base, rec)) ? IO_UPDATE : IO_UNCHANGED;
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
		if ((rc = venue_store_insert(db, row, at, &id)))
			return rc;
	} else {
		if ((rc = venue_store_get(db, NULL, id, 1, &w->before, &deleted)))
			return rc;
		if (deleted)
			json_object_set_new(w->before, "deleted", json_true());
		if ((rc = venue_store_update(db, id, row, at)))
			return rc;
	}
	json_array_append_new(c->written, json_integer((json_int_t)id));
	snprintf(w->id, sizeof w->id, "%lld", (long long)id);
	if ((rc = venue_store_get(db, NULL, id, 0, &w->after, NULL)))
		return rc;
	return zone_hook(r, id, "场所导入");
}

static const struct io_registry venue_io = {
	.entity = "venue",
	.title = "场所台账",
	.columns = venue_columns,
	.fields = venue_fields,
	.key_field = "licence_no",
	.row_resolve = import_resolve,
	.row_write = import_write,
};

static int api_venue_import_preview(struct req *r)
{
	return io_preview(r, &venue_io);
}

static int api_venue_import(struct req *r)
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
	io_import(r, &venue_io, &c);
	if (r->status != 200) {
		/* the engine rolled the import back: tell the zone engine about
		 * every venue it had been told of */
		size_t i;
		json_t *id;
		json_array_foreach(c.written, i, id)
			zone_venue_rolled_back(req_db(r), json_integer_value(id));
	}
	json_decref(c.regions);
	json_decref(c.units);
	json_decref(c.written);
	return 0;
}

struct export_args {
	struct venue_filter f;
	const char *sort;
	int desc;
};

static int add_to_sink(void *sink, json_t *rec)
{
	char *ent = entrances_text(json_object_get(rec, "entrances"));
	json_object_set_new(rec, "entrances_text", json_string(ent));
	json_object_set_new(rec, "crs", json_string("wgs84"));
	free(ent);
	return io_sink_add(sink, rec);
}

static int export_rows(struct req *r, void *arg, struct io_sink *s)
{
	struct export_args *a = arg;
	return venue_store_list(req_db(r), r->user, &a->f, a->sort, a->desc, -1, 0, add_to_sink, s);
}

static int api_venue_export(struct req *r)
{
	struct export_args a;
	if (parse_filter(r, &a.f) || rk_query_sort(r, venue_sort_map, "name", SORT_MSG, &a.sort, &a.desc))
		return 0;
	return io_export(r, &venue_io, req_query(r, "format"), export_rows, &a);
}

/*--- routes ---*/

#define UPLOAD_MAX ((size_t)20 << 20)

/* literal paths before ":id", which would otherwise take them */
const struct route venue_routes[] = {
	{ .method = "GET", .pattern = "/api/venues", .handler = api_venue_list, .perm = "venue.read" },
	{ .method = "POST", .pattern = "/api/venues", .handler = api_venue_create, .perm = "venue.write",
	  .body_max = 64 * 1024 },
	{ .method = "GET", .pattern = "/api/venues/categories", .handler = api_venue_categories, .perm = "venue.read" },
	{ .method = "GET", .pattern = "/api/venues/stats", .handler = api_venue_stats, .perm = "venue.read" },
	{ .method = "GET", .pattern = "/api/venues/export", .handler = api_venue_export, .perm = "venue.export" },
	{ .method = "POST", .pattern = "/api/venues/import/preview", .handler = api_venue_import_preview,
	  .perm = "venue.import", .body_max = UPLOAD_MAX, .flags = ROUTE_UPLOAD },
	{ .method = "POST", .pattern = "/api/venues/import", .handler = api_venue_import, .perm = "venue.import",
	  .body_max = UPLOAD_MAX, .flags = ROUTE_UPLOAD },
	{ .method = "GET", .pattern = "/api/venues/:id", .handler = api_venue_get, .perm = "venue.read" },
	{ .method = "PATCH", .pattern = "/api/venues/:id", .handler = api_venue_patch, .perm = "venue.write",
	  .body_max = 64 * 1024 },
	{ .method = "DELETE", .pattern = "/api/venues/:id", .handler = api_venue_delete, .perm = "venue.delete" },
	{ .method = "GET", .pattern = "/api/venues/:id/audit", .handler = api_venue_audit, .perm = "venue.read" },
	{ 0 },
};
