/*
 * access.c - data scope checks written as SQL, and the permission catalog.
 */
#include "auth/access.h"

#include <stdlib.h>
#include <string.h>

#include "core/http.h"
#include "store/store.h"

const struct perm_info perm_catalog[] = {
	{ "school.read", "查看学校" },
	{ "school.write", "新增和修改学校" },
	{ "school.delete", "删除学校" },
	{ "school.import", "导入学校" },
	{ "school.export", "导出学校" },
	{ "unit.read", "查看成员单位" },
	{ "unit.write", "管理成员单位" },
	{ "region.read", "查看行政区划" },
	{ "region.write", "管理行政区划" },
	{ "user.read", "查看用户" },
	{ "user.write", "管理用户" },
	{ "role.read", "查看角色" },
	{ "role.write", "管理角色" },
	{ "audit.read", "查看操作审计" },
	{ "venue.read", "查看场所" },
	{ "venue.write", "新增和修改场所" },
	{ "venue.delete", "删除场所" },
	{ "venue.import", "导入场所" },
	{ "venue.export", "导出场所" },
	{ "zone.read", "查看周边发现" },
	{ "zone.review", "核实周边发现" },
	{ "zone.rules", "管理周边规则" },
	{ "zone.recompute", "重新计算周边" },
	{ NULL, NULL },
};

int perm_known(const char *code)
{
	for (const struct perm_info *p = perm_catalog; p->code; p++)
		if (strcmp(p->code, code) == 0)
			return 1;
	return 0;
}

static void like_prefix(struct sqlb *b, const struct principal *p)
{
	/* path LIKE 'prefix%': paths hold only digits and '/', so no escaping
	 * is needed, and the value is bound, never formatted into the SQL */
	sqlb_add(b, "(");
	sqlb_text(b, p->scope_path);
	sqlb_add(b, " || '%')");
}

void scope_sql(const struct principal *p, struct sqlb *b, const struct scope_cols *c)
{
	const char *k = p->scope_kind;
	if (strcmp(k, "all") == 0)
		return;
	if (strcmp(k, "region") == 0) {
		if (!c->region) {
			sqlb_add(b, " AND 1=0");
			return;
		}
		sqlb_add(b, " AND ");
		sqlb_add(b, c->region);
		sqlb_add(b, " IN (SELECT code FROM regions WHERE path LIKE ");
		like_prefix(b, p);
		sqlb_add(b, ")");
		return;
	}
	if (strcmp(k, "unit") == 0) {
		if (!c->unit && !c->unit2) {
			sqlb_add(b, " AND 1=0");
			return;
		}
		sqlb_add(b, " AND (");
		const char *cols[2] = { c->unit, c->unit2 };
		int first = 1;
		for (int i = 0; i < 2; i++) {
			if (!cols[i])
				continue;
			if (!first)
				sqlb_add(b, " OR ");
			first = 0;
			sqlb_add(b, cols[i]);
			sqlb_add(b, " IN (SELECT id FROM units WHERE path LIKE ");
			like_prefix(b, p);
			sqlb_add(b, ")");
		}
		sqlb_add(b, ")");
		return;
	}
	if (strcmp(k, "school") == 0 && !c->school && c->school_region) {
		sqlb_add(b, " AND ");
		sqlb_add(b, c->school_region);
		sqlb_add(b, " = (SELECT region_code FROM schools WHERE id = ");
		sqlb_int(b, strtoll(p->scope_value, NULL, 10));
		sqlb_add(b, ")");
		return;
	}
	if (strcmp(k, "school") == 0 && c->school) {
		sqlb_add(b, " AND ");
		sqlb_add(b, c->school);
		sqlb_add(b, " = ");
		sqlb_int(b, strtoll(p->scope_value, NULL, 10));
		return;
	}
	sqlb_add(b, " AND 1=0");
}

static int exists(struct db *db, struct sqlb *b)
{
	struct stmt *st;
	int found = 0;
	if (sqlb_prepare(b, db, &st) == STORE_OK) {
		found = stmt_step(st) == STORE_ROW;
		stmt_finalize(st);
	}
	sqlb_free(b);
	return found;
}

int scope_region_ok(struct db *db, const struct principal *p, const char *region_code)
{
	struct sqlb b;
	sqlb_init(&b);
	sqlb_add(&b, "SELECT 1 FROM regions r WHERE r.code = ");
	sqlb_text(&b, region_code);
	const char *k = p->scope_kind;
	if (strcmp(k, "region") == 0) {
		sqlb_add(&b, " AND r.path LIKE ");
		like_prefix(&b, p);
	} else if (strcmp(k, "unit") == 0) {
		/* the region of the caller's unit, or below it */
		sqlb_add(&b, " AND r.path LIKE (SELECT g.path FROM units u JOIN regions g ON g.code = u.region_code"
			     " WHERE u.path = ");
		sqlb_text(&b, p->scope_path);
		sqlb_add(&b, ") || '%'");
	} else if (strcmp(k, "school") == 0) {
		sqlb_add(&b, " AND r.code = (SELECT region_code FROM schools WHERE id = ");
		sqlb_int(&b, strtoll(p->scope_value, NULL, 10));
		sqlb_add(&b, ")");
	}
	return exists(db, &b);
}

int scope_unit_ok(struct db *db, const struct principal *p, int64_t unit_id)
{
	struct sqlb b;
	sqlb_init(&b);
	sqlb_add(&b, "SELECT 1 FROM units u WHERE u.id = ");
	sqlb_int(&b, unit_id);
	if (strcmp(p->scope_kind, "school") == 0) {
		sqlb_add(&b, " AND u.id = ");
		sqlb_int(&b, p->unit_id);
	} else {
		struct scope_cols c = { .region = "u.region_code", .unit = "u.id" };
		scope_sql(p, &b, &c);
	}
	return exists(db, &b);
}

int scope_contains(struct db *db, const struct principal *p, const char *kind, const char *value)
{
	if (strcmp(kind, "all") == 0)
		return strcmp(p->scope_kind, "all") == 0;
	struct sqlb b;
	sqlb_init(&b);
	if (strcmp(kind, "region") == 0) {
		int64_t n = 0;
		if (db_query_int64(db, &n, "SELECT count(*) FROM regions WHERE code = $1", 1, value) || !n)
			return -1;
		if (strcmp(p->scope_kind, "unit") == 0 || strcmp(p->scope_kind, "school") == 0)
			return 0; /* a region is always wider than a unit or a school */
		return scope_region_ok(db, p, value);
	}
	if (strcmp(kind, "unit") == 0) {
		int64_t id = 0;
		if (db_query_int64(db, &id, "SELECT id FROM units WHERE code = $1", 1, value))
			return -1;
		if (strcmp(p->scope_kind, "school") == 0)
			return 0;
		return scope_unit_ok(db, p, id);
	}
	if (strcmp(kind, "school") == 0) {
		char *end;
		long long id = strtoll(value, &end, 10);
		if (*end || id <= 0)
			return -1;
		sqlb_add(&b, "SELECT 1 FROM schools s WHERE s.deleted_at IS NULL AND s.id = ");
		sqlb_int(&b, id);
		int found = exists(db, &b);
		if (!found)
			return -1;
		sqlb_init(&b);
		sqlb_add(&b, "SELECT 1 FROM schools s WHERE s.id = ");
		sqlb_int(&b, id);
		struct scope_cols c = { .region = "s.region_code", .unit = "s.unit_id", .unit2 = "s.police_unit_id",
					.school = "s.id" };
		scope_sql(p, &b, &c);
		return exists(db, &b);
	}
	return -1;
}
