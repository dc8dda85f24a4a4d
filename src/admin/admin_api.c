/*
 * admin_api.c - the administration API: regions (行政区划), member units
 * (成员单位), roles and users, and the route table admin_routes.
 *
 * Administration is itself scoped (属地管理): a record outside the caller's
 * data scope answers 404, and nobody can create or edit a region, unit or
 * user outside his scope, give a scope wider than his own, or grant a
 * permission he does not hold. Nothing is deleted: a record is disabled
 * with PATCH {"disabled":true}. Every write is one transaction with its
 * audit entry.
 */
#include "admin/admin.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_store.h"
#include "auth/access.h"
#include "auth/audit.h"
#include "auth/password.h"
#include "auth/session.h"
#include "core/http.h"
#include "core/router.h"
#include "core/valid.h"
#include "store/store.h"

#define ADMIN_BODY_MAX 16384

/*--- helpers ---------------------------------------------------------------*/

static int refused(struct req *r, const struct adm_err *e)
{
	return reply_error(r, e->status, e->code, e->msg, e->field);
}

/* Answers a store error, or a refusal for ADM_REFUSED with e. */
static int failed(struct req *r, int rc, const struct adm_err *e)
{
	if (rc == ADM_REFUSED && e)
		return refused(r, e);
	return reply_store_error(r, rc, NULL, NULL, NULL);
}

static int rollback_failed(struct req *r, int rc, const struct adm_err *e)
{
	db_rollback(req_db(r));
	return failed(r, rc, e);
}

static int is_all(const struct principal *p)
{
	return strcmp(p->scope_kind, "all") == 0;
}

/* The ":id" parameter as a positive integer; else replies 404. */
static int parse_id(struct req *r, int64_t *id)
{
	const char *s = req_param(r, "id");
	char *end;
	long long v = s && *s >= '1' && *s <= '9' ? strtoll(s, &end, 10) : 0;
	if (v <= 0 || *end) {
		reply_not_found(r);
		return -1;
	}
	*id = v;
	return 0;
}

static const char *id_str(struct req *r, int64_t id)
{
	return arena_printf(r->arena, "%lld", (long long)id);
}

/* page (from 1), page_size (1..200, default def) and sort from the query;
 * replies 400 on a bad value. */
static int parse_page(struct req *r, struct adm_page *pg, int64_t def)
{
	pg->page = 1;
	pg->size = def;
	pg->sort = req_query(r, "sort");
	const char *v;
	char *end;
	if ((v = req_query(r, "page"))) {
		pg->page = strtoll(v, &end, 10);
		if (!*v || *end || pg->page < 1 || pg->page > 1000000) {
			reply_error(r, 400, "validation.range", "页码须为正整数", "page");
			return -1;
		}
	}
	if ((v = req_query(r, "page_size"))) {
		pg->size = strtoll(v, &end, 10);
		if (!*v || *end || pg->size < 1 || pg->size > 200) {
			reply_error(r, 400, "validation.range", "每页条数须在 1 到 200 之间", "page_size");
			return -1;
		}
	}
	return 0;
}

/* A boolean query filter: absent -1, else 0 or 1; replies 400 otherwise. */
static int query_bool(struct req *r, const char *name, int *out)
{
	const char *v = req_query(r, name);
	*out = -1;
	if (!v || !*v)
		return 0;
	if (!strcmp(v, "1") || !strcmp(v, "true"))
		*out = 1;
	else if (!strcmp(v, "0") || !strcmp(v, "false"))
		*out = 0;
	else {
		reply_error(r, 400, "validation.type", arena_printf(r->arena, "%s 须为 true 或 false", name), name);
		return -1;
	}
	return 0;
}

/* A positive id query filter (absent 0); replies 400 otherwise. */
static int query_id(struct req *r, const char *name, int64_t *out)
{
	const char *v = req_query(r, name);
	*out = 0;
	if (!v || !*v)
		return 0;
	char *end;
	*out = strtoll(v, &end, 10);
	if (*end || *out <= 0) {
		reply_error(r, 400, "validation.type", arena_printf(r->arena, "%s 须为正整数", name), name);
		return -1;
	}
	return 0;
}

static const char *query_str(struct req *r, const char *name)
{
	const char *v = req_query(r, name);
	return v && *v ? v : NULL;
}

static int reply_list(struct req *r, json_t *items, int64_t total, const struct adm_page *pg)
{
	return reply_page(r, items, total, pg->page, pg->size);
}

static int reply_bad_sort(struct req *r)
{
	return reply_error(r, 400, "validation.sort", "不支持按该字段排序", "sort");
}

/* valid_body for objects that also carry arrays or objects (valid.c knows
 * scalars only): the fields named in skip are left to the caller. */
static int valid_body_except(struct req *r, json_t *j, const struct vfield *fields, int partial,
			     const char *const *skip)
{
	json_t *copy = json_copy(j);
	for (const char *const *s = skip; *s; s++)
		json_object_del(copy, *s);
	int rc = valid_body(r, copy, fields, partial);
	json_decref(copy);
	return rc;
}

static const char *jstr(json_t *j, const char *k)
{
	return json_string_value(json_object_get(j, k));
}

/* Same JSON text, so that an edit that changes nothing is not audited. */
static int same(json_t *a, json_t *b)
{
	return json_equal(a, b);
}

/*--- regions (行政区划) -------------------------------------------------------*/

static const struct vfield region_create_fields[] = {
	{ .name = "code", .label = "区划代码", .type = V_STR, .required = 1, .max_len = 9,
	  .check = vcheck_region_code, .check_msg = "须为 6 位或 9 位数字" },
	{ .name = "name", .label = "区划名称", .type = V_STR, .required = 1, .max_len = 50 },
	{ .name = "parent_code", .label = "上级区划", .type = V_STR, .nullable = 1, .max_len = 9,
	  .check = vcheck_region_code, .check_msg = "须为 6 位或 9 位数字" },
	{ 0 },
};

static const struct vfield region_patch_fields[] = {
	{ .name = "name", .label = "区划名称", .type = V_STR, .required = 1, .max_len = 50 },
	{ .name = "disabled", .label = "停用", .type = V_BOOL },
	{ 0 },
};

static int api_region_list(struct req *r)
{
	struct adm_page pg;
	struct adm_region_filter f = { .parent = query_str(r, "parent"), .level = query_str(r, "level"),
				       .q = query_str(r, "q") };
	if (parse_page(r, &pg, 200) || query_bool(r, "disabled", &f.disabled))
		return 0;
	json_t *items;
	int64_t total;
	int rc = adm_region_list(req_db(r), r->user, &f, &pg, &items, &total);
	if (rc) {
		json_decref(items);
		return rc == ADM_REFUSED ? reply_bad_sort(r) : failed(r, rc, NULL);
	}
	return reply_list(r, items, total, &pg);
}

static int api_region_get(struct req *r)
{
	struct adm_region_filter f = { .code = req_param(r, "code"), .disabled = -1 };
	json_t *items;
	int rc = adm_region_list(req_db(r), r->user, &f, NULL, &items, NULL);
	if (rc || json_array_size(items) == 0) {
		json_decref(items);
		return rc ? failed(r, rc, NULL) : reply_not_found(r);
	}
	json_t *o = json_incref(json_array_get(items, 0));
	json_decref(items);
	return reply_json(r, 200, o);
}

/* The level a code denotes (GB/T 2260 and the 9-digit township codes), and
 * the rule its parent's code must follow. Returns 0 or ADM_REFUSED. */
static int region_level(const char *code, const char *parent, const char **level, struct adm_err *e)
{
	size_t n = strlen(code);
	if (strncmp(code, "00", 2) == 0)
		return adm_refuse(e, 400, "validation.format", "code", "区划代码不正确");
	char prov[8], city[8];
	snprintf(prov, sizeof prov, "%.2s0000", code);
	snprintf(city, sizeof city, "%.4s00", code);
	if (n == 9) {
		*level = "township";
		if (!parent || strncmp(parent, code, 6) != 0 || strlen(parent) != 6)
			return adm_refuse(e, 400, "admin.parent_mismatch", "parent_code",
					  "乡镇街道的上级须为代码前 6 位所示的区县（%.6s）", code);
		return 0;
	}
	if (strcmp(code + 2, "0000") == 0) {
		*level = "province";
		if (parent)
			return adm_refuse(e, 400, "admin.parent_mismatch", "parent_code", "省级区划不能有上级区划");
		return 0;
	}
	if (strcmp(code + 4, "00") == 0) {
		*level = "city";
		if (!parent || strcmp(parent, prov) != 0)
			return adm_refuse(e, 400, "admin.parent_mismatch", "parent_code",
					  "地市级区划的上级须为所属省份（%s）", prov);
		return 0;
	}
	*level = "county";
	if (!parent || (strcmp(parent, city) != 0 && strcmp(parent, prov) != 0))
		return adm_refuse(e, 400, "admin.parent_mismatch", "parent_code",
				  "区县级区划的上级须为所属地市（%s）或直辖的省级区划（%s）", city, prov);
	return 0;
}

static int api_region_create(struct req *r)
{
	json_t *j = req_json(r);
	if (!j || valid_body(r, j, region_create_fields, 0))
		return 0;
	struct db *db = req_db(r);
	const char *code = jstr(j, "code"), *name = jstr(j, "name"), *parent = jstr(j, "parent_code");
	if (parent && !*parent)
		parent = NULL;
	struct adm_err e;
	const char *level = NULL;
	if (region_level(code, parent, &level, &e))
		return refused(r, &e);
	json_t *pr = NULL, *existing = NULL;
	char *path;
	int rc;
	if (!parent) {
		if (!is_all(r->user))
			return reply_error(r, 403, "admin.scope_too_wide", "只有数据范围为全部的管理员可以新增省级区划",
					   "code");
		path = arena_printf(r->arena, "/%s/", code);
	} else {
		rc = adm_region_get(db, parent, &pr);
		if (rc == STORE_NOTFOUND)
			return reply_error(r, 400, "admin.parent_not_found", "上级区划不存在", "parent_code");
		if (rc)
			return failed(r, rc, NULL);
		const char *plevel = arena_strdup(r->arena, jstr(pr, "level"));
		int disabled = json_is_true(json_object_get(pr, "disabled"));
		path = arena_printf(r->arena, "%s%s/", jstr(pr, "path"), code);
		json_decref(pr);
		if (!strcmp(level, "township") && strcmp(plevel, "county") && strcmp(plevel, "city"))
			return reply_error(r, 400, "admin.parent_mismatch", "乡镇街道的上级须为区县", "parent_code");
		if (!is_all(r->user) && !scope_region_ok(db, r->user, parent))
			return reply_error(r, 403, "admin.scope_too_wide", "新增的区划须在本人管辖范围之内", "parent_code");
		if (disabled)
			return reply_error(r, 400, "admin.parent_disabled", "上级区划已停用", "parent_code");
	}
	if ((rc = adm_region_get(db, code, &existing)) != STORE_NOTFOUND) {
		json_decref(existing);
		return rc ? failed(r, rc, NULL) : reply_error(r, 409, "admin.region_code_taken", "区划代码已存在", "code");
	}

	json_t *after = NULL;
	if ((rc = db_begin(db)))
		return failed(r, rc, NULL);
	if ((rc = adm_region_insert(db, code, name, level, parent, path)) || (rc = adm_region_get(db, code, &after)) ||
	    (rc = audit_write(r, "create", "region", code, NULL, after)) || (rc = db_commit(db))) {
		json_decref(after);
		db_rollback(db);
		return reply_store_error(r, rc, "admin.region_code_taken", "区划代码已存在", "code");
	}
	return reply_json(r, 201, after);
}

/* "disable"/"enable" when only the disabled flag changed, else "update". */
static const char *write_action(json_t *changes, json_t *before)
{
	json_t *d = json_object_get(changes, "disabled");
	if (!d || json_object_size(changes) != 1)
		return "update";
	if (json_equal(d, json_object_get(before, "disabled")))
		return "update";
	return json_is_true(d) ? "disable" : "enable";
}

static int api_region_patch(struct req *r)
{
	const char *code = req_param(r, "code");
	struct db *db = req_db(r);
	json_t *before = NULL;
	int rc = adm_region_get(db, code, &before);
	if (rc == STORE_NOTFOUND || (!rc && !is_all(r->user) && !scope_region_ok(db, r->user, code))) {
		json_decref(before);
		return reply_not_found(r);
	}
	if (rc)
		return failed(r, rc, NULL);
	json_t *j = req_json(r);
	if (!j || valid_body(r, j, region_patch_fields, 1)) {
		json_decref(before);
		return 0;
	}
	json_t *d = json_object_get(j, "disabled");
	int disabled = d ? json_is_true(d) : -1;
	const char *name = jstr(j, "name");
	int was_disabled = json_is_true(json_object_get(before, "disabled"));
	if (name && !strcmp(name, jstr(before, "name")))
		name = NULL;
	if (disabled == was_disabled)
		disabled = -1;
	if (!name && disabled < 0)
		return reply_json(r, 200, before); /* nothing changes: no write, no audit entry */
	if (disabled == 1) {
		int64_t n = 0;
		if ((rc = adm_region_enabled_children(db, code, &n))) {
			json_decref(before);
			return failed(r, rc, NULL);
		}
		if (n) {
			json_decref(before);
			return reply_error(r, 409, "admin.region_has_children", "请先停用全部下级区划", "disabled");
		}
	}
	const char *action = !name ? (disabled ? "disable" : "enable") : "update";
	json_t *after = NULL;
	if ((rc = db_begin(db)) || (rc = adm_region_update(db, code, name, disabled)) ||
	    (rc = adm_region_get(db, code, &after)) || (rc = audit_write(r, action, "region", code, before, after)) ||
	    (rc = db_commit(db))) {
		json_decref(before);
		json_decref(after);
		return rollback_failed(r, rc, NULL);
	}
	json_decref(before);
	return reply_json(r, 200, after);
}

/*--- units (成员单位) ---------------------------------------------------------*/

static const char *const unit_types[] = {
	"综治办/政法委", "公安局", "派出所", "交警",   "教育局",   "市场监管局", "城管局", "文旅局",
	"交通局",        "司法局", "卫健委", "法院",   "检察院",   "乡镇街道",   "学校",   "其他",
	NULL,
};

#define UNIT_COMMON_FIELDS                                                                                      \
	{ .name = "name", .label = "单位名称", .type = V_STR, .required = 1, .max_len = 100 },                   \
		{ .name = "type", .label = "单位类型", .type = V_ENUM, .required = 1, .enum_vals = unit_types },   \
		{ .name = "parent_id", .label = "上级单位", .type = V_INT, .nullable = 1, .min = 1,               \
		  .max = INT64_MAX },                                                                             \
		{ .name = "region_code", .label = "所属行政区划", .type = V_STR, .nullable = 1, .max_len = 9,       \
		  .check = vcheck_region_code, .check_msg = "须为 6 位或 9 位数字" },                              \
		{ .name = "duties", .label = "工作职责", .type = V_STR, .nullable = 1, .max_len = 2000,             \
		  .multiline = 1 },                                                                               \
		{ .name = "phone", .label = "联系电话", .type = V_STR, .nullable = 1, .max_len = 32,               \
		  .check = vcheck_phone, .check_msg = "须为 11 位手机号或带区号的固定电话" }

static const struct vfield unit_create_fields[] = {
	{ .name = "code", .label = "单位代码", .type = V_STR, .required = 1, .max_len = 32, .check = vcheck_code,
	  .check_msg = "须为 1 到 32 个字母、数字或 _ . -" },
	UNIT_COMMON_FIELDS,
	{ 0 },
};

/* the code is fixed once created: user scopes name units by code */
static const struct vfield unit_patch_fields[] = {
	UNIT_COMMON_FIELDS,
	{ .name = "disabled", .label = "停用", .type = V_BOOL },
	{ 0 },
};

/* The unit with this id if the caller may see it; NULL after replying 404
 * or an error. */
static json_t *visible_unit(struct req *r, int64_t id)
{
	struct adm_unit_filter f = { .id = id, .disabled = -1 };
	json_t *items;
	int rc = adm_unit_list(req_db(r), r->user, &f, NULL, &items, NULL);
	json_t *o = rc ? NULL : json_incref(json_array_get(items, 0));
	json_decref(items);
	if (!o)
		rc ? failed(r, rc, NULL) : reply_not_found(r);
	return o;
}

static int api_unit_list(struct req *r)
{
	struct adm_page pg;
	struct adm_unit_filter f = { .type = query_str(r, "type"), .region = query_str(r, "region"),
				     .q = query_str(r, "q") };
	if (parse_page(r, &pg, 20) || query_id(r, "parent", &f.parent) || query_bool(r, "disabled", &f.disabled))
		return 0;
	json_t *items;
	int64_t total;
	int rc = adm_unit_list(req_db(r), r->user, &f, &pg, &items, &total);
	if (rc) {
		json_decref(items);
		return rc == ADM_REFUSED ? reply_bad_sort(r) : failed(r, rc, NULL);
	}
	return reply_list(r, items, total, &pg);
}

static int api_unit_get(struct req *r)
{
	int64_t id;
	if (parse_id(r, &id))
		return 0;
	json_t *o = visible_unit(r, id);
	return o ? reply_json(r, 200, o) : 0;
}

/* Checks a parent unit (visible, enabled) for a unit being created or
 * moved; *region gets the parent's region (malloc'd, may be NULL). */
static int check_parent_unit(struct req *r, int64_t parent, char **region, struct adm_err *e)
{
	struct db *db = req_db(r);
	json_t *pu = NULL;
	int rc = adm_unit_get(db, parent, NULL, &pu);
	if (rc == STORE_NOTFOUND || (!rc && !scope_unit_ok(db, r->user, parent))) {
		json_decref(pu);
		return adm_refuse(e, 400, "admin.parent_not_found", "parent_id", "上级单位不存在或不在您的管辖范围内");
	}
	if (rc)
		return rc;
	int off = json_is_true(json_object_get(pu, "disabled"));
	if (region) {
		const char *g = jstr(pu, "region_code");
		*region = g ? strdup(g) : NULL;
	}
	json_decref(pu);
	if (off)
		return adm_refuse(e, 400, "admin.parent_disabled", "parent_id", "上级单位已停用");
	return 0;
}

/* Checks a region a unit is put in: exists, enabled, in the caller's scope. */
static int check_unit_region(struct req *r, const char *code, struct adm_err *e)
{
	struct db *db = req_db(r);
	json_t *g = NULL;
	int rc = adm_region_get(db, code, &g);
	if (rc == STORE_NOTFOUND)
		return adm_refuse(e, 400, "admin.region_not_found", "region_code", "所属行政区划不存在");
	if (rc)
		return rc;
	int off = json_is_true(json_object_get(g, "disabled"));
	json_decref(g);
	if (!is_all(r->user) && !scope_region_ok(db, r->user, code))
		return adm_refuse(e, 403, "admin.scope_too_wide", "region_code", "所属行政区划不在您的管辖范围内");
	if (off)
		return adm_refuse(e, 400, "admin.region_disabled", "region_code", "所属行政区划已停用");
	return 0;
}

static int api_unit_create(struct req *r)
{
	json_t *j = req_json(r);
	if (!j || valid_body(r, j, unit_create_fields, 0))
		return 0;
	struct db *db = req_db(r);
	struct adm_err e;
	struct adm_unit_in u = { .code = jstr(j, "code"), .name = jstr(j, "name"), .type = jstr(j, "type"),
				 .region_code = jstr(j, "region_code"), .duties = jstr(j, "duties"),
				 .phone = jstr(j, "phone") };
	json_t *pv = json_object_get(j, "parent_id");
	u.parent_id = json_is_integer(pv) ? json_integer_value(pv) : 0;
	if (u.region_code && !*u.region_code)
		u.region_code = NULL;
	char *inherited = NULL;
	int rc = 0;
	if (u.parent_id && (rc = check_parent_unit(r, u.parent_id, &inherited, &e)))
		goto out;
	if (!u.region_code && inherited)
		u.region_code = arena_strdup(r->arena, inherited); /* a unit lies where its parent lies */
	if (u.region_code && (rc = check_unit_region(r, u.region_code, &e)))
		goto out;
	/* the new unit must be one the caller will see */
	const char *k = r->user->scope_kind;
	if (!strcmp(k, "region") && !u.region_code)
		rc = adm_refuse(&e, 400, "validation.required", "region_code", "所属行政区划不能为空");
	else if (!strcmp(k, "unit") && !u.parent_id)
		rc = adm_refuse(&e, 403, "admin.scope_too_wide", "parent_id", "须在本人管辖的单位之下新建单位");
	else if (!strcmp(k, "school"))
		rc = adm_refuse(&e, 403, "admin.scope_too_wide", NULL, "学校数据范围的用户不能新建单位");
	if (rc)
		goto out;
	json_t *existing = NULL;
	if ((rc = adm_unit_get(db, 0, u.code, &existing)) != STORE_NOTFOUND) {
		json_decref(existing);
		if (!rc)
			rc = adm_refuse(&e, 409, "admin.unit_code_taken", "code", "单位代码已存在");
		goto out;
	}
	int64_t id = 0;
	json_t *after = NULL;
	if ((rc = db_begin(db)))
		goto out;
	if ((rc = adm_unit_insert(db, &u, &id)) || (rc = adm_unit_get(db, id, NULL, &after)) ||
	    (rc = audit_write(r, "create", "unit", id_str(r, id), NULL, after)) || (rc = db_commit(db))) {
		json_decref(after);
		db_rollback(db);
		free(inherited);
		return reply_store_error(r, rc, "admin.unit_code_taken", "单位代码已存在", "code");
	}
	free(inherited);
	return reply_json(r, 201, after);
out:
	free(inherited);
	return failed(r, rc, &e);
}

static int api_unit_patch(struct req *r)
{
	int64_t id;
	if (parse_id(r, &id))
		return 0;
	json_t *before = visible_unit(r, id);
	if (!before)
		return 0;
	struct db *db = req_db(r);
	json_t *j = req_json(r), *after = NULL;
	struct adm_err e;
	int rc = 0;
	if (!j || valid_body(r, j, unit_patch_fields, 1)) {
		json_decref(before);
		return 0;
	}
	json_t *pv = json_object_get(j, "parent_id");
	if (json_is_integer(pv) && !json_equal(pv, json_object_get(before, "parent_id"))) {
		int64_t parent = json_integer_value(pv);
		if (adm_unit_in_subtree(db, id, parent)) {
			rc = adm_refuse(&e, 400, "admin.parent_cycle", "parent_id", "上级单位不能是本单位或其下级单位");
			goto out;
		}
		if ((rc = check_parent_unit(r, parent, NULL, &e)))
			goto out;
	}
	const char *region = jstr(j, "region_code");
	if (region && *region && !json_equal(json_object_get(j, "region_code"), json_object_get(before, "region_code")) &&
	    (rc = check_unit_region(r, region, &e)))
		goto out;
	if (region && !*region)
		json_object_set_new(j, "region_code", json_null());

	if ((rc = db_begin(db)))
		goto out;
	if ((rc = adm_unit_update(db, id, j)) || (rc = adm_unit_get(db, id, NULL, &after)))
		goto fail;
	json_t *b2 = json_deep_copy(before), *a2 = json_deep_copy(after);
	json_object_del(b2, "updated_at");
	json_object_del(a2, "updated_at");
	int unchanged = same(b2, a2);
	json_decref(b2);
	json_decref(a2);
	if (unchanged) {
		db_rollback(db);
		json_decref(after);
		return reply_json(r, 200, before);
	}
	/* an edit may not carry the unit out of the editor's own scope */
	if (!scope_unit_ok(db, r->user, id)) {
		rc = adm_refuse(&e, 403, "admin.scope_too_wide", json_object_get(j, "parent_id") ? "parent_id" : "region_code",
				"修改后该单位将超出您的管辖范围");
		goto fail;
	}
	if ((rc = audit_write(r, write_action(j, before), "unit", id_str(r, id), before, after)) || (rc = db_commit(db)))
		goto fail;
	json_decref(before);
	return reply_json(r, 200, after);
fail:
	db_rollback(db);
out:
	json_decref(before);
	json_decref(after);
	return failed(r, rc, &e);
}

/*--- roles (角色) ------------------------------------------------------------*/

static const struct vfield role_create_fields[] = {
	{ .name = "code", .label = "角色代码", .type = V_STR, .required = 1, .max_len = 32, .check = vcheck_code,
	  .check_msg = "须为 1 到 32 个字母、数字或 _ . -" },
	{ .name = "name", .label = "角色名称", .type = V_STR, .required = 1, .max_len = 50 },
	{ .name = "require_totp", .label = "要求动态验证码", .type = V_BOOL },
	{ 0 },
};

static const struct vfield role_patch_fields[] = {
	{ .name = "name", .label = "角色名称", .type = V_STR, .required = 1, .max_len = 50 },
	{ .name = "require_totp", .label = "要求动态验证码", .type = V_BOOL },
	{ .name = "disabled", .label = "停用", .type = V_BOOL },
	{ 0 },
};

static const char *const role_arrays[] = { "perms", NULL };

static int api_role_list(struct req *r)
{
	struct adm_page pg;
	if (parse_page(r, &pg, 200))
		return 0;
	json_t *items;
	int64_t total;
	int rc = adm_role_list(req_db(r), NULL, &pg, &items, &total);
	if (rc) {
		json_decref(items);
		return rc == ADM_REFUSED ? reply_bad_sort(r) : failed(r, rc, NULL);
	}
	return reply_list(r, items, total, &pg);
}

/* Answers with the role as GET /api/roles/:code shows it. */
static int reply_role(struct req *r, int status, const char *code)
{
	json_t *items;
	int rc = adm_role_list(req_db(r), code, NULL, &items, NULL);
	if (rc || json_array_size(items) == 0) {
		json_decref(items);
		return rc ? failed(r, rc, NULL) : reply_not_found(r);
	}
	json_t *o = json_incref(json_array_get(items, 0));
	json_decref(items);
	return reply_json(r, status, o);
}

static int api_role_get(struct req *r)
{
	return reply_role(r, 200, req_param(r, "code"));
}

static int api_permissions(struct req *r)
{
	json_t *items = json_array();
	for (const struct perm_info *p = perm_catalog; p->code; p++)
		json_array_append_new(items, json_pack("{s:s,s:s}", "code", p->code, "label", p->label));
	struct adm_page pg = { .page = 1, .size = (int64_t)json_array_size(items) };
	return reply_list(r, items, pg.size, &pg);
}

/* Is there another role with this name? */
static int role_name_taken(struct db *db, const char *name, const char *except, int *taken)
{
	int64_t n = 0;
	int rc = db_query_int64(db, &n, "SELECT count(*) FROM roles WHERE name = $1 AND code <> $2", 2, name, except);
	*taken = n > 0;
	return rc;
}

/* Roles are shared by every jurisdiction, so only an administrator whose
 * scope is everything may define or change them; a county administrator
 * assigns the roles that exist. */
static int roles_editable(struct req *r)
{
	if (is_all(r->user))
		return 1;
	reply_error(r, 403, "admin.roles_global", "角色为全局设置，仅全局管理员可新增或修改", NULL);
	return 0;
}

static int api_role_create(struct req *r)
{
	if (!roles_editable(r))
		return 0;
	json_t *j = req_json(r);
	if (!j || valid_body_except(r, j, role_create_fields, 0, role_arrays))
		return 0;
	struct db *db = req_db(r);
	struct adm_err e;
	struct adm_role role;
	memset(&role, 0, sizeof role);
	snprintf(role.code, sizeof role.code, "%s", jstr(j, "code"));
	snprintf(role.name, sizeof role.name, "%s", jstr(j, "name"));
	role.require_totp = json_is_true(json_object_get(j, "require_totp"));
	json_t *perms = json_object_get(j, "perms");
	if (!perms)
		return reply_error(r, 400, "validation.required", "权限不能为空", "perms");
	if (adm_perms_parse(perms, role.perms, sizeof role.perms, &e))
		return refused(r, &e);
	if (!role.perms[0])
		return reply_error(r, 400, "validation.required", "权限至少选择一项", "perms");
	if (!adm_perms_subset(role.perms, r->user->perms))
		return reply_error(r, 403, "admin.role_too_wide", "不能授予本人没有的权限", "perms");
	struct adm_role existing;
	int rc = adm_role_get(db, role.code, &existing), taken = 0;
	if (rc != STORE_NOTFOUND)
		return rc ? failed(r, rc, NULL) : reply_error(r, 409, "admin.role_code_taken", "角色代码已存在", "code");
	if ((rc = role_name_taken(db, role.name, "", &taken)))
		return failed(r, rc, NULL);
	if (taken)
		return reply_error(r, 409, "admin.role_name_taken", "角色名称已存在", "name");
	json_t *after = adm_role_json(&role);
	if ((rc = db_begin(db)) || (rc = adm_role_insert(db, &role)) ||
	    (rc = audit_write(r, "create", "role", role.code, NULL, after)) || (rc = db_commit(db))) {
		json_decref(after);
		db_rollback(db);
		return reply_store_error(r, rc, "admin.role_taken", "角色代码或名称已存在", "code");
	}
	json_decref(after);
	return reply_role(r, 201, role.code);
}

static int api_role_patch(struct req *r)
{
	if (!roles_editable(r))
		return 0;
	const char *code = req_param(r, "code");
	struct db *db = req_db(r);
	struct adm_role old, role;
	int rc = adm_role_get(db, code, &old);
	if (rc)
		return failed(r, rc, NULL);
	json_t *j = req_json(r);
	if (!j || valid_body_except(r, j, role_patch_fields, 1, role_arrays))
		return 0;
	/* whoever edits a role must hold all of it, before and after */
	if (!adm_perms_subset(old.perms, r->user->perms))
		return reply_error(r, 403, "admin.role_too_wide", "不能修改权限超出本人权限的角色", NULL);
	role = old;
	struct adm_err e;
	json_t *v;
	if ((v = json_object_get(j, "name")))
		snprintf(role.name, sizeof role.name, "%s", json_string_value(v));
	if ((v = json_object_get(j, "require_totp")))
		role.require_totp = json_is_true(v);
	if ((v = json_object_get(j, "disabled")))
		role.disabled = json_is_true(v);
	if ((v = json_object_get(j, "perms"))) {
		if (adm_perms_parse(v, role.perms, sizeof role.perms, &e))
			return refused(r, &e);
		if (!role.perms[0])
			return reply_error(r, 400, "validation.required", "权限至少选择一项", "perms");
		if (!adm_perms_subset(role.perms, r->user->perms))
			return reply_error(r, 403, "admin.role_too_wide", "不能授予本人没有的权限", "perms");
	}
	int perms_changed = strcmp(role.perms, old.perms) != 0, dis_changed = role.disabled != old.disabled;
	if (!strcmp(role.code, "admin") && (perms_changed || role.disabled))
		return reply_error(r, 409, "admin.role_protected", "系统管理员角色的权限不能修改，也不能停用",
				   perms_changed ? "perms" : "disabled");
	if (old.builtin && (perms_changed || dis_changed) && !is_all(r->user))
		return reply_error(r, 403, "admin.builtin_role", "内置角色的权限和启停只能由数据范围为全部的管理员修改",
				   perms_changed ? "perms" : "disabled");
	if (strcmp(role.name, old.name) != 0) {
		int taken = 0;
		if ((rc = role_name_taken(db, role.name, role.code, &taken)))
			return failed(r, rc, NULL);
		if (taken)
			return reply_error(r, 409, "admin.role_name_taken", "角色名称已存在", "name");
	}
	json_t *before = adm_role_json(&old), *after = adm_role_json(&role), *users = NULL;
	if (same(before, after)) {
		json_decref(before);
		json_decref(after);
		return reply_role(r, 200, role.code);
	}
	const char *action = write_action(j, before);
	if ((rc = db_begin(db)) || (rc = adm_role_update(db, &role)) ||
	    (rc = audit_write(r, action, "role", role.code, before, after)) || (rc = adm_role_users(db, role.code, &users)) ||
	    (rc = db_commit(db))) {
		json_decref(before);
		json_decref(after);
		json_decref(users);
		db_rollback(db);
		return reply_store_error(r, rc, "admin.role_name_taken", "角色名称已存在", "name");
	}
	/* sessions cache permissions: their holders get them re-read */
	size_t i;
	json_t *uid;
	json_array_foreach(users, i, uid)
		session_forget_user(json_integer_value(uid));
	json_decref(users);
	json_decref(before);
	json_decref(after);
	return reply_role(r, 200, role.code);
}

/*--- users (用户) ------------------------------------------------------------*/

static const struct vfield user_create_fields[] = {
	{ .name = "username", .label = "用户名", .type = V_STR, .required = 1, .max_len = 32, .check = vcheck_username,
	  .check_msg = "须为 3 到 32 个小写字母、数字或 _ . -，以字母开头" },
	{ .name = "display_name", .label = "姓名", .type = V_STR, .required = 1, .max_len = 50 },
	{ .name = "phone", .label = "手机号码", .type = V_STR, .nullable = 1, .max_len = 32, .check = vcheck_phone,
	  .check_msg = "须为 11 位手机号或带区号的固定电话" },
	{ .name = "unit_id", .label = "所属单位", .type = V_INT, .required = 1, .min = 1, .max = INT64_MAX },
	{ 0 },
};

static const struct vfield user_patch_fields[] = {
	{ .name = "display_name", .label = "姓名", .type = V_STR, .required = 1, .max_len = 50 },
	{ .name = "phone", .label = "手机号码", .type = V_STR, .nullable = 1, .max_len = 32, .check = vcheck_phone,
	  .check_msg = "须为 11 位手机号或带区号的固定电话" },
	{ .name = "unit_id", .label = "所属单位", .type = V_INT, .min = 1, .max = INT64_MAX },
	{ .name = "disabled", .label = "停用", .type = V_BOOL },
	{ .name = "reset_password", .label = "重置密码", .type = V_BOOL },
	{ .name = "reset_totp", .label = "重置动态验证码", .type = V_BOOL },
	{ 0 },
};

static const char *const user_arrays[] = { "roles", "scope", NULL };

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Reads "roles" (an array of role codes) into codes (sorted, space-
 * separated) and the union of their permissions into perms. A disabled
 * role is refused unless held already lists it. */
static int parse_roles(struct db *db, json_t *arr, const char *held, char *codes, size_t ncodes, char *perms,
		       size_t nperms, struct adm_err *e)
{
	if (!json_is_array(arr))
		return adm_refuse(e, 400, "validation.type", "roles", "角色须为角色代码的数组");
	size_t n = json_array_size(arr);
	if (n == 0)
		return adm_refuse(e, 400, "validation.required", "roles", "角色至少选择一个");
	if (n > 16)
		return adm_refuse(e, 400, "validation.too_long", "roles", "角色不能超过 16 个");
	const char *list[16];
	for (size_t i = 0; i < n; i++) {
		list[i] = json_string_value(json_array_get(arr, i));
		if (!list[i] || !vcheck_code(list[i]))
			return adm_refuse(e, 400, "validation.type", "roles", "角色须为角色代码的数组");
	}
	qsort(list, n, sizeof list[0], cmp_str);
	size_t cl = 0, pl = 0;
	codes[0] = perms[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(list[i], list[i - 1]))
			continue;
		struct adm_role role;
		int rc = adm_role_get(db, list[i], &role);
		if (rc == STORE_NOTFOUND)
			return adm_refuse(e, 400, "admin.role_unknown", "roles", "角色不存在：%s", list[i]);
		if (rc)
			return rc;
		if (role.disabled && !(held && adm_perms_subset(role.code, held)))
			return adm_refuse(e, 400, "admin.role_disabled", "roles", "角色已停用：%s", role.name);
		int k = snprintf(codes + cl, ncodes - cl, "%s%s", cl ? " " : "", role.code);
		if (k > 0 && (size_t)k < ncodes - cl)
			cl += (size_t)k;
		k = snprintf(perms + pl, nperms - pl, "%s%s", pl ? " " : "", role.perms);
		if (k > 0 && (size_t)k < nperms - pl)
			pl += (size_t)k;
	}
	return 0;
}

/* Reads "scope": {"kind": "all|region|unit|school", "value": "..."}. */
static int parse_scope(json_t *v, char kind[16], char value[64], struct adm_err *e)
{
	if (!json_is_object(v))
		return adm_refuse(e, 400, "validation.type", "scope", "数据范围须为 {\"kind\":...,\"value\":...}");
	const char *key;
	json_t *x;
	json_object_foreach(v, key, x)
		if (strcmp(key, "kind") && strcmp(key, "value") && strcmp(key, "name"))
			return adm_refuse(e, 400, "validation.unknown_field", "scope", "不认识的字段：scope.%.60s", key);
	const char *k = json_string_value(json_object_get(v, "kind"));
	if (!k || (strcmp(k, "all") && strcmp(k, "region") && strcmp(k, "unit") && strcmp(k, "school")))
		return adm_refuse(e, 400, "validation.enum", "scope", "数据范围须为以下之一：all、region、unit、school");
	snprintf(kind, 16, "%s", k);
	x = json_object_get(v, "value");
	value[0] = '\0';
	if (json_is_integer(x))
		snprintf(value, 64, "%lld", (long long)json_integer_value(x));
	else if (json_is_string(x) && json_string_length(x) < 64)
		snprintf(value, 64, "%s", json_string_value(x));
	else if (x && !json_is_null(x))
		return adm_refuse(e, 400, "validation.type", "scope", "数据范围的值须为区划代码、单位代码或学校编号");
	if (!strcmp(k, "all"))
		value[0] = '\0';
	else if (!value[0])
		return adm_refuse(e, 400, "validation.required", "scope", "数据范围须指明区划代码、单位代码或学校编号");
	return 0;
}

/* May the caller give scope (kind, value)? 0, or ADM_REFUSED. */
static int check_scope_grant(struct req *r, const char *kind, const char *value, struct adm_err *e)
{
	int c = scope_contains(req_db(r), r->user, kind, value);
	if (c < 0)
		return adm_refuse(e, 400, "admin.scope_invalid", "scope", "数据范围指向的%s不存在",
				  !strcmp(kind, "region") ? "行政区划" : !strcmp(kind, "unit") ? "单位" : "学校");
	if (c == 0)
		return adm_refuse(e, 403, "admin.scope_too_wide", "scope", "不能授予超出本人管辖范围的数据权限");
	return 0;
}

/* The user with this id if the caller may see it (with phone when asked);
 * NULL after replying 404 or an error. */
static json_t *visible_user(struct req *r, int64_t id, int with_phone)
{
	struct adm_user_filter f = { .id = id, .disabled = -1, .with_phone = with_phone };
	json_t *items;
	int rc = adm_user_list(req_db(r), r->user, &f, NULL, &items, NULL);
	json_t *o = rc ? NULL : json_incref(json_array_get(items, 0));
	json_decref(items);
	if (!o)
		rc ? failed(r, rc, NULL) : reply_not_found(r);
	return o;
}

static int api_user_list(struct req *r)
{
	struct adm_page pg;
	struct adm_user_filter f = { .q = query_str(r, "q"), .role = query_str(r, "role") };
	if (parse_page(r, &pg, 20) || query_id(r, "unit", &f.unit) || query_bool(r, "disabled", &f.disabled))
		return 0;
	json_t *items;
	int64_t total;
	int rc = adm_user_list(req_db(r), r->user, &f, &pg, &items, &total);
	if (rc) {
		json_decref(items);
		return rc == ADM_REFUSED ? reply_bad_sort(r) : failed(r, rc, NULL);
	}
	return reply_list(r, items, total, &pg);
}

static int api_user_get(struct req *r)
{
	int64_t id;
	if (parse_id(r, &id))
		return 0;
	json_t *o = visible_user(r, id, 1);
	if (!o)
		return 0;
	/* the phone is personal data: its reading is on the record */
	int rc = audit_read(r, "user", id_str(r, id), "phone");
	if (rc) {
		json_decref(o);
		return failed(r, rc, NULL);
	}
	return reply_json(r, 200, o);
}

static int api_user_create(struct req *r)
{
	json_t *j = req_json(r);
	if (!j || valid_body_except(r, j, user_create_fields, 0, user_arrays))
		return 0;
	struct db *db = req_db(r);
	struct adm_err e;
	char codes[512], perms[2048], kind[16], value[64];
	int64_t unit_id = json_integer_value(json_object_get(j, "unit_id"));
	int rc;
	if (!scope_unit_ok(db, r->user, unit_id))
		return reply_error(r, 400, "admin.unit_not_found", "所属单位不存在或不在您的管辖范围内", "unit_id");
	json_t *roles = json_object_get(j, "roles");
	if (!roles)
		return reply_error(r, 400, "validation.required", "角色至少选择一个", "roles");
	if ((rc = parse_roles(db, roles, NULL, codes, sizeof codes, perms, sizeof perms, &e)))
		return failed(r, rc, &e);
	if (!adm_perms_subset(perms, r->user->perms))
		return reply_error(r, 403, "admin.role_too_wide", "不能授予权限超出本人权限的角色", "roles");
	json_t *sv = json_object_get(j, "scope");
	if (sv)
		rc = parse_scope(sv, kind, value, &e);
	else
		rc = adm_default_scope(db, unit_id, kind, value);
	if (rc || (rc = check_scope_grant(r, kind, value, &e)))
		return failed(r, rc, &e);
	struct adm_user_in u = { .username = jstr(j, "username"), .display_name = jstr(j, "display_name"),
				 .phone = jstr(j, "phone"), .unit_id = unit_id, .roles = codes, .scope_kind = kind,
				 .scope_value = value };
	if ((rc = adm_user_check(db, &u, &e)))
		return failed(r, rc, &e);

	/* hashing takes a while: before the write lock, not under it */
	char pw[17], hash[PASSWORD_HASH_LEN];
	password_generate(pw);
	if (password_hash(pw, hash) != 0)
		return reply_internal(r, "password hash failed");
	struct audit_actor a;
	audit_actor_of(r, &a);
	int64_t id = 0;
	if ((rc = db_begin(db)) || (rc = adm_user_insert(db, &a, &u, hash, &id)) || (rc = db_commit(db))) {
		db_rollback(db);
		return reply_store_error(r, rc, "admin.username_taken", "用户名已存在", "username");
	}
	json_t *out = NULL;
	if ((rc = adm_user_get(db, id, &out)))
		return failed(r, rc, NULL);
	json_object_set_new(out, "one_time_password", json_string(pw));
	sodium_memzero(pw, sizeof pw);
	return reply_json(r, 201, out);
}

static int api_user_patch(struct req *r)
{
	int64_t id;
	if (parse_id(r, &id))
		return 0;
	json_t *before = visible_user(r, id, 1);
	if (!before)
		return 0;
	struct db *db = req_db(r);
	json_t *j = req_json(r), *changes = NULL, *after = NULL, *v;
	struct adm_err e;
	struct adm_user t;
	char codes[512], perms[2048], kind[16], value[64], pw[17] = "", hash[PASSWORD_HASH_LEN];
	const char *new_roles = NULL;
	int self = id == r->user->user_id, revoke = 0, rc = 0;
	if (!j || valid_body_except(r, j, user_patch_fields, 1, user_arrays)) {
		json_decref(before);
		return 0;
	}
	if ((rc = adm_user_row(db, id, NULL, &t)))
		goto out;
	/* an administrator edits only users no wider than himself: otherwise
	 * a county administrator could reset the password of a city one */
	if ((!is_all(r->user) && scope_contains(db, r->user, t.scope_kind, t.scope_value) != 1) ||
	    !adm_perms_subset(t.perms, r->user->perms)) {
		rc = adm_refuse(&e, 403, "admin.target_too_wide", NULL, "不能修改权限或管辖范围超出本人的用户");
		goto out;
	}
	changes = json_object();
	if ((v = json_object_get(j, "display_name")) && !json_equal(v, json_object_get(before, "display_name")))
		json_object_set(changes, "display_name", v);
	if ((v = json_object_get(j, "phone"))) {
		json_t *p = json_is_null(v) ? json_string("") : json_incref(v);
		if (!json_equal(p, json_object_get(before, "phone")))
			json_object_set(changes, "phone", p);
		json_decref(p);
	}
	if ((v = json_object_get(j, "disabled")) && !json_equal(v, json_object_get(before, "disabled"))) {
		if (self && json_is_true(v)) {
			rc = adm_refuse(&e, 400, "admin.self_disable", "disabled", "不能停用自己的账号");
			goto out;
		}
		json_object_set(changes, "disabled", v);
		revoke |= json_is_true(v);
	}
	if ((v = json_object_get(j, "unit_id")) && json_integer_value(v) != t.unit_id) {
		json_t *unit = NULL;
		if (!scope_unit_ok(db, r->user, json_integer_value(v))) {
			rc = adm_refuse(&e, 400, "admin.unit_not_found", "unit_id", "所属单位不存在或不在您的管辖范围内");
			goto out;
		}
		if ((rc = adm_unit_get(db, json_integer_value(v), NULL, &unit)))
			goto out;
		int off = json_is_true(json_object_get(unit, "disabled"));
		json_decref(unit);
		if (off) {
			rc = adm_refuse(&e, 400, "admin.unit_disabled", "unit_id", "所属单位已停用");
			goto out;
		}
		json_object_set(changes, "unit_id", v);
		revoke = 1;
	}
	if ((v = json_object_get(j, "roles"))) {
		if ((rc = parse_roles(db, v, t.roles, codes, sizeof codes, perms, sizeof perms, &e)))
			goto out;
		if (!adm_perms_subset(perms, r->user->perms)) {
			rc = adm_refuse(&e, 403, "admin.role_too_wide", "roles", "不能授予权限超出本人权限的角色");
			goto out;
		}
		if (strcmp(codes, t.roles) != 0) {
			new_roles = codes;
			revoke = 1;
		}
	}
	if ((v = json_object_get(j, "scope"))) {
		if ((rc = parse_scope(v, kind, value, &e)))
			goto out;
		if (strcmp(kind, t.scope_kind) || strcmp(value, t.scope_value)) {
			if ((rc = check_scope_grant(r, kind, value, &e)))
				goto out;
			json_object_set_new(changes, "scope_kind", json_string(kind));
			json_object_set_new(changes, "scope_value", json_string(value));
			revoke = 1;
		}
	}
	int reset_pw = json_is_true(json_object_get(j, "reset_password"));
	int reset_totp = json_is_true(json_object_get(j, "reset_totp"));
	if (!json_object_size(changes) && !new_roles && !reset_pw && !reset_totp) {
		json_decref(changes);
		return reply_json(r, 200, before);
	}
	if (reset_pw) {
		password_generate(pw);
		if (password_hash(pw, hash) != 0) {
			json_decref(changes);
			json_decref(before);
			return reply_internal(r, "password hash failed");
		}
		revoke = 1;
	}

	const char *ids = id_str(r, id);
	if ((rc = db_begin(db)))
		goto out;
	if (json_object_size(changes) || new_roles) {
		const char *action = new_roles ? "update" : write_action(changes, before);
		if ((rc = adm_user_update(db, id, changes, new_roles)) || (rc = adm_user_get(db, id, &after)) ||
		    (rc = audit_write(r, action, "user", ids, before, after)))
			goto fail;
	}
	if (reset_pw) {
		json_t *a = json_pack("{s:b}", "must_change_password", 1);
		rc = adm_user_set_password(db, id, hash);
		if (!rc)
			rc = audit_write(r, "reset_password", "user", ids, NULL, a);
		json_decref(a);
		if (rc)
			goto fail;
	}
	if (reset_totp) {
		json_t *a = json_pack("{s:b}", "totp_enabled", 0);
		rc = adm_user_clear_totp(db, id);
		if (!rc)
			rc = audit_write(r, "reset_totp", "user", ids, NULL, a);
		json_decref(a);
		if (rc)
			goto fail;
	}
	/* new rights, a new password or a disabled account end the sessions;
	 * an administrator editing himself keeps the one he is using */
	if (revoke && (rc = session_revoke_user(r, id, self ? r->user->session_id : NULL)))
		goto fail;
	if ((rc = db_commit(db)))
		goto fail;
	session_forget_user(id);
	json_decref(after);
	json_decref(changes);
	json_decref(before);
	if ((rc = adm_user_get(db, id, &after)))
		return failed(r, rc, NULL);
	if (reset_pw) {
		json_object_set_new(after, "one_time_password", json_string(pw));
		sodium_memzero(pw, sizeof pw);
	}
	return reply_json(r, 200, after);
fail:
	db_rollback(db);
out:
	json_decref(changes);
	json_decref(after);
	json_decref(before);
	return failed(r, rc, &e);
}

/*--- the route table -------------------------------------------------------*/

const struct route admin_routes[] = {
	{ .method = "GET", .pattern = "/api/regions", .handler = api_region_list, .perm = "region.read" },
	{ .method = "POST", .pattern = "/api/regions", .handler = api_region_create, .perm = "region.write",
	  .body_max = ADMIN_BODY_MAX },
	{ .method = "GET", .pattern = "/api/regions/:code", .handler = api_region_get, .perm = "region.read" },
	{ .method = "PATCH", .pattern = "/api/regions/:code", .handler = api_region_patch, .perm = "region.write",
	  .body_max = ADMIN_BODY_MAX },
	{ .method = "GET", .pattern = "/api/units", .handler = api_unit_list, .perm = "unit.read" },
	{ .method = "POST", .pattern = "/api/units", .handler = api_unit_create, .perm = "unit.write",
	  .body_max = ADMIN_BODY_MAX },
	{ .method = "GET", .pattern = "/api/units/:id", .handler = api_unit_get, .perm = "unit.read" },
	{ .method = "PATCH", .pattern = "/api/units/:id", .handler = api_unit_patch, .perm = "unit.write",
	  .body_max = ADMIN_BODY_MAX },
	{ .method = "GET", .pattern = "/api/permissions", .handler = api_permissions, .perm = "role.read" },
	{ .method = "GET", .pattern = "/api/roles", .handler = api_role_list, .perm = "role.read" },
	{ .method = "POST", .pattern = "/api/roles", .handler = api_role_create, .perm = "role.write",
	  .body_max = ADMIN_BODY_MAX },
	{ .method = "GET", .pattern = "/api/roles/:code", .handler = api_role_get, .perm = "role.read" },
	{ .method = "PATCH", .pattern = "/api/roles/:code", .handler = api_role_patch, .perm = "role.write",
	  .body_max = ADMIN_BODY_MAX },
	{ .method = "GET", .pattern = "/api/users", .handler = api_user_list, .perm = "user.read" },
	{ .method = "POST", .pattern = "/api/users", .handler = api_user_create, .perm = "user.write",
	  .body_max = ADMIN_BODY_MAX },
	{ .method = "GET", .pattern = "/api/users/:id", .handler = api_user_get, .perm = "user.read" },
	{ .method = "PATCH", .pattern = "/api/users/:id", .handler = api_user_patch, .perm = "user.write",
	  .body_max = ADMIN_BODY_MAX },
	{ 0 },
};
