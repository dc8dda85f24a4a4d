/*
 * test_admin.c - unit tests for src/admin: `xiaoan init` (built-in roles,
 * the system unit, the first administrator), admin_user_create (defaults,
 * refusals), the permission helpers, and which regions and units a scoped
 * administrator sees. Runs on a fresh SQLite file per test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "admin/admin.h"
#include "admin/admin_store.h"
#include "auth/access.h"
#include "auth/audit.h"
#include "auth/password.h"
#include "core/http.h"
#include "store/store.h"

struct fx {
	char dir[64];
	struct store *st;
	struct db *db;
};

static const struct audit_actor actor = { .user_id = 0, .username = "system", .client_ip = "test",
					  .request_id = "t" };

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/xiaoan-test-admin-XXXXXX");
	if (!f || !mkdtemp(f->dir) || password_init() != 0)
		return -1;
	password_set_cost(1, (size_t)8 << 20);
	char url[128], err[256];
	snprintf(url, sizeof url, "sqlite:%s/x.db", f->dir);
	int applied;
	if (!(f->st = store_open(url, 2, err, sizeof err)) || store_migrate(f->st, &applied, err, sizeof err))
		return -1;
	f->db = store_acquire(f->st);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char path[128];
	store_release(f->db);
	store_close(f->st);
	static const char *const files[] = { "x.db", "x.db-wal", "x.db-shm" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", f->dir, files[i]);
		unlink(path);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static int64_t count(struct db *db, const char *sql)
{
	int64_t n = -1;
	assert_int_equal(db_query_int64(db, &n, sql, 0), STORE_OK);
	return n;
}

/* A small county: 安徽省 > 安庆市 > 怀宁县 (> 高河镇) and 枞阳县, with a unit in each county. */
static void county(struct db *db)
{
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(adm_region_insert(db, "340000", "安徽省", "province", NULL, "/340000/"), 0);
	assert_int_equal(adm_region_insert(db, "340800", "安庆市", "city", "340000", "/340000/340800/"), 0);
	assert_int_equal(adm_region_insert(db, "340822", "怀宁县", "county", "340800", "/340000/340800/340822/"), 0);
	assert_int_equal(adm_region_insert(db, "340823", "枞阳县", "county", "340800", "/340000/340800/340823/"), 0);
	assert_int_equal(adm_region_insert(db, "340822100", "高河镇", "township", "340822",
					   "/340000/340800/340822/340822100/"),
			 0);
	int64_t id;
	struct adm_unit_in hn = { .code = "hn-gaj", .name = "怀宁县公安局", .type = "公安局", .region_code = "340822" };
	assert_int_equal(adm_unit_insert(db, &hn, &id), 0);
	struct adm_unit_in pcs = { .code = "hn-pcs", .name = "高河派出所", .type = "派出所", .parent_id = id };
	assert_int_equal(adm_unit_insert(db, &pcs, &id), 0);
	struct adm_unit_in zy = { .code = "zy-gaj", .name = "枞阳县公安局", .type = "公安局", .region_code = "340823" };
	assert_int_equal(adm_unit_insert(db, &zy, &id), 0);
	struct adm_unit_in free_unit = { .code = "lone", .name = "无区划单位", .type = "其他" };
	assert_int_equal(adm_unit_insert(db, &free_unit, &id), 0);
	assert_int_equal(db_commit(db), 0);
}

/* xiaoan init: seven built-in roles, the administrator with every
 * permission and scope all, a one-time password, and an intact audit. */
static void init_creates_roles_and_administrator(void **state)
{
	struct fx *f = *state;
	char pw[17], err[256];
	assert_int_equal(admin_init(f->st, "admin", pw, err, sizeof err), 0);
	assert_int_equal(strlen(pw), 16);
	assert_int_equal(password_policy_check(pw, NULL, NULL), 0);
	assert_int_equal(count(f->db, "SELECT count(*) FROM roles WHERE builtin = 1"), 7);
	struct adm_role r;
	assert_int_equal(adm_role_get(f->db, "admin", &r), 0);
	for (const struct perm_info *p = perm_catalog; p->code; p++)
		assert_true(adm_perms_subset(p->code, r.perms));
	assert_int_equal(adm_role_get(f->db, "police", &r), 0);
	assert_string_equal(r.perms, "school.read unit.read region.read venue.read zone.read zone.review");
	struct adm_user u;
	assert_int_equal(adm_user_row(f->db, 0, "admin", &u), 0);
	assert_string_equal(u.scope_kind, "all");
	assert_string_equal(u.roles, "admin");
	assert_int_equal(count(f->db, "SELECT must_change_password FROM users WHERE username = 'admin'"), 1);
	assert_int_equal(count(f->db, "SELECT count(*) FROM units WHERE code = 'system' AND path = '/1/'"), 1);
	/* the hash is stored, never the password */
	assert_int_equal(count(f->db, "SELECT count(*) FROM users WHERE password_hash LIKE '$argon2id$%'"), 1);

	/* a second init refuses and changes nothing */
	char pw2[17];
	assert_int_equal(admin_init(f->st, "admin", pw2, err, sizeof err), -1);
	assert_non_null(strstr(err, "already exists"));
	assert_int_equal(count(f->db, "SELECT count(*) FROM users"), 1);
	assert_int_equal(admin_init(f->st, "Admin!", pw2, err, sizeof err), -1);
	FILE *quiet = fopen("/dev/null", "w");
	assert_int_equal(audit_verify(f->db, quiet), 0);
	fclose(quiet);
}

/* admin_user_create: the default scope follows the unit, refusals say why. */
static void user_create_defaults_and_refusals(void **state)
{
	struct fx *f = *state;
	char pw[17], err[256];
	assert_int_equal(admin_init(f->st, "admin", pw, err, sizeof err), 0);
	county(f->db);
	assert_int_equal(db_begin(f->db), 0);
	int64_t a = admin_user_create(f->db, &actor, "cop", "民警", "police", "hn-gaj", NULL, pw, err, sizeof err);
	assert_true(a > 0);
	int64_t b = admin_user_create(f->db, &actor, "lone", NULL, "police cadre", "lone", NULL, pw, err, sizeof err);
	assert_true(b > 0);
	assert_int_equal(admin_user_create(f->db, &actor, "cop", "x", "police", "hn-gaj", NULL, pw, err, sizeof err), -1);
	assert_string_equal(err, "用户名已存在");
	assert_int_equal(admin_user_create(f->db, &actor, "x1x", "x", "nope", "hn-gaj", NULL, pw, err, sizeof err), -1);
	assert_non_null(strstr(err, "角色不存在"));
	assert_int_equal(admin_user_create(f->db, &actor, "x1x", "x", "police", "nope", NULL, pw, err, sizeof err), -1);
	assert_int_equal(
		admin_user_create(f->db, &actor, "x1x", "x", "police", "hn-gaj", "region:999999", pw, err, sizeof err), -1);
	assert_int_equal(admin_user_create(f->db, &actor, "x1x", "x", "police", "hn-gaj", "moon:1", pw, err, sizeof err),
			 -1);
	assert_int_equal(admin_user_create(f->db, &actor, "x1x", "x", "", "hn-gaj", NULL, pw, err, sizeof err), -1);
	assert_int_equal(db_commit(f->db), 0);

	struct adm_user u;
	assert_int_equal(adm_user_row(f->db, a, NULL, &u), 0);
	assert_string_equal(u.scope_kind, "region");
	assert_string_equal(u.scope_value, "340822");
	assert_int_equal(adm_user_row(f->db, b, NULL, &u), 0);
	assert_string_equal(u.scope_kind, "unit");
	assert_string_equal(u.scope_value, "lone");
	assert_string_equal(u.roles, "cadre police");
	json_t *o;
	assert_int_equal(adm_user_get(f->db, a, &o), 0);
	assert_null(json_object_get(o, "password_hash"));
	assert_null(json_object_get(o, "totp_secret"));
	json_decref(o);
}

static void permission_helpers(void **state)
{
	(void)state;
	assert_true(adm_perms_subset("school.read unit.read", " school.read unit.read region.read "));
	assert_false(adm_perms_subset("school.read user.write", "school.read unit.read"));
	assert_false(adm_perms_subset("school.rea", "school.read"));
	assert_true(adm_perms_subset("", "school.read"));
	char out[256];
	struct adm_err e;
	json_t *a = json_pack("[s,s,s]", "unit.read", "school.read", "unit.read");
	assert_int_equal(adm_perms_parse(a, out, sizeof out, &e), 0);
	assert_string_equal(out, "school.read unit.read");
	json_decref(a);
	a = json_pack("[s]", "school.fly");
	assert_int_equal(adm_perms_parse(a, out, sizeof out, &e), ADM_REFUSED);
	assert_string_equal(e.field, "perms");
	json_decref(a);
	char *s = adm_like_escape("50%_a\\b");
	assert_string_equal(s, "50\\%\\_a\\\\b");
	free(s);
}

static size_t codes_of(json_t *items, char *out, size_t n)
{
	size_t i, len = 0;
	json_t *v;
	out[0] = '\0';
	json_array_foreach(items, i, v) {
		const char *key = json_object_get(v, "code") ? "code" : "username";
		len += (size_t)snprintf(out + len, n - len, "%s%s%s", len ? " " : "", json_string_value(json_object_get(v, key)),
					json_is_true(json_object_get(v, "ancestor")) ? "^" : "");
	}
	return json_array_size(items);
}

/* A county administrator sees his county and below, and its ancestors
 * (flagged) for the breadcrumb; not the neighbouring county. */
static void scoped_lists(void **state)
{
	struct fx *f = *state;
	county(f->db);
	struct principal p = { .user_id = 99, .scope_kind = "region", .scope_value = "340822",
			       .scope_path = "/340000/340800/340822/", .perms = " unit.read " };
	struct adm_region_filter rf = { .disabled = -1 };
	struct adm_page pg = { .page = 1, .size = 200 };
	json_t *items;
	int64_t total;
	char got[512];
	assert_int_equal(adm_region_list(f->db, &p, &rf, &pg, &items, &total), 0);
	codes_of(items, got, sizeof got);
	assert_string_equal(got, "340000^ 340800^ 340822 340822100");
	assert_int_equal(total, 4);
	json_decref(items);

	struct adm_unit_filter uf = { .disabled = -1 };
	assert_int_equal(adm_unit_list(f->db, &p, &uf, &pg, &items, &total), 0);
	codes_of(items, got, sizeof got);
	/* the police station has no region of its own, so a region scope does not see it */
	assert_string_equal(got, "hn-gaj");
	json_decref(items);

	/* unit scope: the unit and its children; regions: the unit's region down, plus ancestors */
	struct principal q = { .user_id = 98, .scope_kind = "unit", .scope_value = "hn-gaj", .scope_path = "/1/",
			       .perms = " unit.read " };
	assert_int_equal(adm_unit_list(f->db, &q, &uf, &pg, &items, &total), 0);
	codes_of(items, got, sizeof got);
	assert_string_equal(got, "hn-gaj hn-pcs");
	json_decref(items);
	assert_int_equal(adm_region_list(f->db, &q, &rf, &pg, &items, &total), 0);
	codes_of(items, got, sizeof got);
	assert_string_equal(got, "340000^ 340800^ 340822 340822100");
	json_decref(items);

	/* a name search takes % literally */
	struct adm_unit_filter like = { .q = "%", .disabled = -1 };
	assert_int_equal(adm_unit_list(f->db, NULL, &like, &pg, &items, &total), 0);
	assert_int_equal(total, 0);
	json_decref(items);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(init_creates_roles_and_administrator, setup, teardown),
		cmocka_unit_test_setup_teardown(user_create_defaults_and_refusals, setup, teardown),
		cmocka_unit_test(permission_helpers),
		cmocka_unit_test_setup_teardown(scoped_lists, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
