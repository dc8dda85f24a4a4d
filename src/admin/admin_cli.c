/*
 * admin_cli.c - `xiaoan init` (the built-in roles, the system unit and the
 * first administrator), `xiaoan user add|passwd|disable|enable|list`, and
 * admin_user_create, which the CLI and the demo seed share (the API runs the
 * same checks and insert from admin_store.c, plus the caller's rights).
 *
 * The CLI acts as the system: audit entries name user 0 "system" from
 * client "cli". A one-time password is printed once, alone on the last
 * line, so that scripts can take it with `tail -n 1`.
 */
#include "admin/admin.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_store.h"
#include "auth/audit.h"
#include "auth/password.h"
#include "core/valid.h"
#include "store/store.h"

/*--- seeding helpers ------------------------------------------------------------*/

int admin_region_add(struct db *db, const struct audit_actor *actor, const char *code, const char *name,
		     const char *level, const char *parent_code, char *err, size_t errlen)
{
	json_t *parent = NULL, *after = NULL;
	char path[256];
	int rc;
	if (parent_code) {
		if ((rc = adm_region_get(db, parent_code, &parent))) {
			snprintf(err, errlen, "上级区划不存在：%s", parent_code);
			return -1;
		}
		snprintf(path, sizeof path, "%s%s/", json_string_value(json_object_get(parent, "path")), code);
		json_decref(parent);
	} else {
		snprintf(path, sizeof path, "/%s/", code);
	}
	if ((rc = adm_region_insert(db, code, name, level, parent_code, path)) || (rc = adm_region_get(db, code, &after)) ||
	    (rc = audit_append(db, actor, "create", "region", code, NULL, after))) {
		json_decref(after);
		snprintf(err, errlen, "区划 %s：%s", code, db_errmsg(db));
		return -1;
	}
	json_decref(after);
	return 0;
}

int admin_unit_add(struct db *db, const struct audit_actor *actor, const char *code, const char *name,
		   const char *type, const char *parent_code, const char *region_code, const char *duties,
		   int64_t *id, char *err, size_t errlen)
{
	struct adm_unit_in u = { .code = code, .name = name, .type = type, .region_code = region_code,
				 .duties = duties ? duties : "", .phone = "" };
	json_t *parent = NULL, *after = NULL;
	int rc;
	if (parent_code) {
		if ((rc = adm_unit_get(db, 0, parent_code, &parent))) {
			snprintf(err, errlen, "上级单位不存在：%s", parent_code);
			return -1;
		}
		u.parent_id = json_integer_value(json_object_get(parent, "id"));
		json_decref(parent);
	}
	char ids[24];
	if ((rc = adm_unit_insert(db, &u, id)) || (rc = adm_unit_get(db, *id, NULL, &after)) ||
	    (snprintf(ids, sizeof ids, "%lld", (long long)*id) < 0) ||
	    (rc = audit_append(db, actor, "create", "unit", ids, NULL, after))) {
		json_decref(after);
		snprintf(err, errlen, "单位 %s：%s", code, db_errmsg(db));
		return -1;
	}
	json_decref(after);
	return 0;
}

/*--- shared: creating a user -----------------------------------------------*/

/* Parses "all", "region:CODE", "unit:CODE" or "school:ID". */
static int split_scope(const char *scope, char kind[16], char value[64])
{
	if (strcmp(scope, "all") == 0) {
		snprintf(kind, 16, "all");
		value[0] = '\0';
		return 0;
	}
	const char *colon = strchr(scope, ':');
	if (!colon || colon == scope || (size_t)(colon - scope) >= 16 || !colon[1] || strlen(colon + 1) >= 64)
		return -1;
	snprintf(kind, 16, "%.*s", (int)(colon - scope), scope);
	snprintf(value, 64, "%s", colon + 1);
	if (strcmp(kind, "region") && strcmp(kind, "unit") && strcmp(kind, "school"))
		return -1;
	return 0;
}

int64_t admin_user_create(struct db *db, const struct audit_actor *actor, const char *username,
			  const char *display_name, const char *role_codes, const char *unit_code, const char *scope,
			  char pw[17], char *err, size_t errlen)
{
	json_t *unit = NULL;
	int rc = adm_unit_get(db, 0, unit_code ? unit_code : "", &unit);
	if (rc == STORE_NOTFOUND) {
		snprintf(err, errlen, "所属单位不存在：%s", unit_code ? unit_code : "");
		return -1;
	}
	if (rc)
		goto store_err;
	int64_t unit_id = json_integer_value(json_object_get(unit, "id"));
	json_decref(unit);

	char kind[16], value[64];
	if (!scope || !*scope)
		rc = adm_default_scope(db, unit_id, kind, value);
	else if (split_scope(scope, kind, value)) {
		snprintf(err, errlen, "数据范围须为 all、region:区划代码、unit:单位代码 或 school:学校编号：%s", scope);
		return -1;
	}
	if (rc)
		goto store_err;

	struct adm_user_in u = { .username = username, .display_name = display_name ? display_name : username,
				 .phone = "", .unit_id = unit_id, .roles = role_codes, .scope_kind = kind,
				 .scope_value = value };
	struct adm_err e;
	if ((rc = adm_user_check(db, &u, &e)) == ADM_REFUSED) {
		snprintf(err, errlen, "%s", e.msg);
		return -1;
	}
	if (rc)
		goto store_err;
	char hash[PASSWORD_HASH_LEN];
	password_generate(pw);
	if (password_hash(pw, hash) != 0) {
		snprintf(err, errlen, "密码散列失败（内存不足）");
		return -1;
	}
	int64_t id = 0;
	if ((rc = adm_user_insert(db, actor, &u, hash, &id)) == STORE_CONSTRAINT) {
		snprintf(err, errlen, "用户名已存在");
		return -1;
	}
	if (rc)
		goto store_err;
	return id;
store_err:
	snprintf(err, errlen, "数据库错误：%s", db_errmsg(db));
	return -1;
}

/*--- xiaoan init -----------------------------------------------------------*/

int admin_init(struct store *st, const char *username, char pw[17], char *err, size_t errlen)
{
	if (!username || !vcheck_username(username)) {
		snprintf(err, errlen, "invalid username '%s': 3 to 32 of a-z 0-9 _ . -, starting with a letter",
			 username ? username : "");
		return -1;
	}
	const struct audit_actor a = { .user_id = 0, .username = "system", .client_ip = "cli", .request_id = "init" };
	char hash[PASSWORD_HASH_LEN];
	password_generate(pw);
	if (password_hash(pw, hash) != 0) {
		snprintf(err, errlen, "cannot hash the password (out of memory)");
		return -1;
	}
	struct db *db = store_acquire(st);
	json_t *unit = NULL;
	int64_t unit_id = 0;
	struct adm_user existing;
	int rc = db_begin(db);
	if (rc)
		goto store_err;
	if ((rc = adm_builtin_roles(db, &a)))
		goto store_err;
	rc = adm_unit_get(db, 0, "system", &unit);
	if (rc == STORE_NOTFOUND) {
		const struct adm_unit_in u = { .code = "system", .name = "系统管理", .type = "其他" };
		if ((rc = adm_unit_insert(db, &u, &unit_id)) || (rc = adm_unit_get(db, unit_id, NULL, &unit)))
			goto store_err;
		char ids[24];
		snprintf(ids, sizeof ids, "%lld", (long long)unit_id);
		if ((rc = audit_append(db, &a, "create", "unit", ids, NULL, unit)))
			goto store_err;
	} else if (rc) {
		goto store_err;
	}
	unit_id = json_integer_value(json_object_get(unit, "id"));
	rc = adm_user_row(db, 0, username, &existing);
	if (rc == 0) {
		snprintf(err, errlen,
			 "user '%s' already exists (to give it a new password: xiaoan user passwd --username %s)",
			 username, username);
		goto fail;
	}
	if (rc != STORE_NOTFOUND)
		goto store_err;
	const struct adm_user_in u = { .username = username, .display_name = "系统管理员", .phone = "",
				       .unit_id = unit_id, .roles = "admin", .scope_kind = "all", .scope_value = "" };
	int64_t id;
	if ((rc = adm_user_insert(db, &a, &u, hash, &id)) || (rc = db_commit(db)))
		goto store_err;
	json_decref(unit);
	store_release(db);
	return 0;
store_err:
	snprintf(err, errlen, "database: %s", db_errmsg(db));
fail:
	db_rollback(db);
	json_decref(unit);
	store_release(db);
	sodium_memzero(pw, 17);
	return -1;
}

/*--- xiaoan user -----------------------------------------------------------*/

static const char user_usage[] =
	"usage: xiaoan user add --username U --role ROLE[,ROLE...] --unit UNIT_CODE\n"
	"                       [--scope all|region:CODE|unit:CODE|school:ID] [--name 显示名]\n"
	"       xiaoan user passwd --username U\n"
	"       xiaoan user disable --username U\n"
	"       xiaoan user enable --username U\n"
	"       xiaoan user list\n"
	"\n"
	"add      creates an account; prints the one-time password alone on the last line.\n"
	"         The scope defaults to the unit's region (region:CODE), or to the unit\n"
	"         itself (unit:CODE) when the unit has no region.\n"
	"passwd   gives the account a new one-time password (printed alone on the last line),\n"
	"         unlocks it and ends its sessions; it must be changed at the next login.\n"
	"disable  stops the account from signing in and ends its sessions; enable undoes it.\n"
	"list     prints every account.\n"
	"Built-in roles: admin coordinator cadre police principal safety_officer inspector.\n"
	"Changes are recorded in the audit trail as user \"system\".\n";

static const struct audit_actor cli_actor = { .user_id = 0, .username = "system", .client_ip = "cli",
					      .request_id = "cli" };

static int usage_error(const char *sub, const char *what, const char *arg)
{
	fprintf(stderr, "xiaoan: user%s%s: %s%s%s (xiaoan user --help)\n", sub ? " " : "", sub ? sub : "", what,
		arg ? " " : "", arg ? arg : "");
	return 2;
}

static int fail(const char *sub, const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "xiaoan: user %s: ", sub);
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return 1;
}

struct cli_opts {
	const char *username, *role, *unit, *scope, *name;
};

/* Reads --flag VALUE pairs; allowed lists the flags the subcommand takes. */
static int parse_opts(const char *sub, int argc, char **argv, const char *allowed, struct cli_opts *o)
{
	memset(o, 0, sizeof *o);
	for (int i = 2; i < argc; i++) {
		static const char *const flags[] = { "--username", "--role", "--unit", "--scope", "--name" };
		const char **slot[] = { &o->username, &o->role, &o->unit, &o->scope, &o->name };
		size_t k;
		for (k = 0; k < 5; k++)
			if (!strcmp(argv[i], flags[k]) && strstr(allowed, flags[k]))
				break;
		if (k == 5)
			return usage_error(sub, "unexpected argument", argv[i]);
		if (i + 1 >= argc)
			return usage_error(sub, "missing value for", argv[i]);
		*slot[k] = argv[++i];
	}
	return 0;
}

static int cli_add(struct store *st, int argc, char **argv)
{
	struct cli_opts o;
	int rc = parse_opts("add", argc, argv, "--username --role --unit --scope --name", &o);
	if (rc)
		return rc;
	if (!o.username || !o.role || !o.unit)
		return usage_error("add", "needs --username, --role and --unit", NULL);
	char roles[512];
	snprintf(roles, sizeof roles, "%s", o.role);
	for (char *c = roles; *c; c++)
		if (*c == ',')
			*c = ' ';
	char pw[17], err[256];
	struct db *db = store_acquire(st);
	int64_t id = -1;
	if ((rc = db_begin(db))) {
		snprintf(err, sizeof err, "database: %s", db_errmsg(db));
	} else {
		id = admin_user_create(db, &cli_actor, o.username, o.name, roles, o.unit, o.scope, pw, err, sizeof err);
		if (id < 0 || db_commit(db)) {
			if (id > 0)
				snprintf(err, sizeof err, "database: %s", db_errmsg(db));
			db_rollback(db);
			id = -1;
		}
	}
	store_release(db);
	if (id < 0)
		return fail("add", "%s%s", err, "");
	printf("user '%s' created (id %lld); change the password at first login.\n", o.username, (long long)id);
	printf("%s\n", pw);
	sodium_memzero(pw, sizeof pw);
	return 0;
}

/* passwd, disable and enable: one user, one transaction, one audit entry. */
static int cli_one(struct store *st, const char *sub, int argc, char **argv)
{
	struct cli_opts o;
	int rc = parse_opts(sub, argc, argv, "--username", &o);
	if (rc)
		return rc;
	if (!o.username)
		return usage_error(sub, "needs --username", NULL);
	int passwd = !strcmp(sub, "passwd"), disable = !strcmp(sub, "disable");
	char pw[17] = "", hash[PASSWORD_HASH_LEN];
	if (passwd) {
		password_generate(pw);
		if (password_hash(pw, hash) != 0)
			return fail(sub, "%s%s", "cannot hash the password (out of memory)", "");
	}
	struct db *db = store_acquire(st);
	struct adm_user u;
	json_t *before = NULL, *after = NULL;
	char ids[24];
	int code = 0;
	rc = adm_user_row(db, 0, o.username, &u);
	if (rc == STORE_NOTFOUND) {
		code = fail(sub, "no user '%s'%s", o.username, "");
		goto out;
	}
	if (rc)
		goto store_err;
	if (!passwd && u.disabled == disable) {
		printf("user '%s' is already %s\n", o.username, disable ? "disabled" : "enabled");
		goto out;
	}
	snprintf(ids, sizeof ids, "%lld", (long long)u.id);
	if ((rc = db_begin(db)))
		goto store_err;
	if (passwd) {
		json_t *a = json_pack("{s:b}", "must_change_password", 1);
		if (!(rc = adm_user_set_password(db, u.id, hash)) && !(rc = adm_user_drop_sessions(db, u.id)))
			rc = audit_append(db, &cli_actor, "reset_password", "user", ids, NULL, a);
		json_decref(a);
	} else {
		json_t *ch = json_pack("{s:b}", "disabled", disable);
		if (!(rc = adm_user_get(db, u.id, &before)) && !(rc = adm_user_update(db, u.id, ch, NULL)) &&
		    !(rc = disable ? adm_user_drop_sessions(db, u.id) : 0) && !(rc = adm_user_get(db, u.id, &after)))
			rc = audit_append(db, &cli_actor, sub, "user", ids, before, after);
		json_decref(ch);
	}
	if (rc || (rc = db_commit(db)))
		goto store_err;
	if (passwd) {
		printf("password of user '%s' reset; its sessions ended; it must be changed at the next login.\n",
		       o.username);
		printf("%s\n", pw);
	} else {
		printf("user '%s' %s%s\n", o.username, disable ? "disabled" : "enabled",
		       disable ? "; its sessions ended" : "");
	}
	goto out;
store_err:
	code = fail(sub, "database: %s%s", db_errmsg(db), "");
	db_rollback(db);
out:
	json_decref(before);
	json_decref(after);
	store_release(db);
	sodium_memzero(pw, sizeof pw);
	return code;
}

/* Terminal columns of a UTF-8 string: CJK takes two. */
static int columns(const char *s)
{
	int n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x80)
			n++;
		else if (*p >= 0xe0)
			n += 2; /* three- and four-byte sequences: CJK and the like */
		else if (*p >= 0xc0)
			n++;
	}
	return n;
}

static void cell(const char *s, int width, int last)
{
	fputs(s, stdout);
	if (last) {
		putchar('\n');
		return;
	}
	for (int k = columns(s); k < width + 2; k++)
		putchar(' ');
}

#define NCOLS 7

static int cli_list(struct store *st, int argc, char **argv)
{
	struct cli_opts o;
	int rc = parse_opts("list", argc, argv, "", &o);
	if (rc)
		return rc;
	struct db *db = store_acquire(st);
	struct adm_user_filter f = { .disabled = -1 };
	json_t *items = NULL;
	rc = adm_user_list(db, NULL, &f, NULL, &items, NULL);
	if (rc) {
		json_decref(items);
		rc = fail("list", "database: %s%s", db_errmsg(db), "");
		store_release(db);
		return rc;
	}
	store_release(db);
	size_t n = json_array_size(items);
	char **cells = calloc((n + 1) * NCOLS, sizeof *cells);
	if (!cells)
		abort();
	static const char *const head[NCOLS] = { "ID", "USERNAME", "NAME", "UNIT", "ROLES", "SCOPE", "STATUS" };
	for (int c = 0; c < NCOLS; c++)
		cells[c] = strdup(head[c]);
	for (size_t i = 0; i < n; i++) {
		json_t *u = json_array_get(items, i), *scope = json_object_get(u, "scope"), *x;
		char **row = cells + (i + 1) * NCOLS, roles[512] = "";
		size_t k;
		json_array_foreach(json_object_get(u, "roles"), k, x) {
			size_t l = strlen(roles);
			snprintf(roles + l, sizeof roles - l, "%s%s", l ? "," : "", json_string_value(x));
		}
		const char *kind = json_string_value(json_object_get(scope, "kind"));
		if (asprintf(&row[0], "%lld", (long long)json_integer_value(json_object_get(u, "id"))) < 0 ||
		    asprintf(&row[5], "%s%s%s", kind, strcmp(kind, "all") ? ":" : "",
			     strcmp(kind, "all") ? json_string_value(json_object_get(scope, "value")) : "") < 0)
			abort();
		row[1] = strdup(json_string_value(json_object_get(u, "username")));
		row[2] = strdup(json_string_value(json_object_get(u, "display_name")));
		row[3] = strdup(json_string_value(json_object_get(json_object_get(u, "unit"), "name")));
		row[4] = strdup(roles);
		row[6] = strdup(json_is_true(json_object_get(u, "disabled")) ? "disabled"
				: json_is_true(json_object_get(u, "locked"))  ? "locked"
									       : "active");
	}
	int width[NCOLS] = { 0 };
	for (size_t i = 0; i <= n; i++)
		for (int c = 0; c < NCOLS; c++)
			if (columns(cells[i * NCOLS + c]) > width[c])
				width[c] = columns(cells[i * NCOLS + c]);
	for (size_t i = 0; i <= n; i++)
		for (int c = 0; c < NCOLS; c++)
			cell(cells[i * NCOLS + c], width[c], c == NCOLS - 1);
	for (size_t i = 0; i < (n + 1) * NCOLS; i++)
		free(cells[i]);
	free(cells);
	json_decref(items);
	return 0;
}

int admin_cli_user(struct store *st, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(user_usage, stdout);
			return 0;
		}
	if (!sub)
		return usage_error(NULL, "missing subcommand: add, passwd, disable, enable or list", NULL);
	if (strcmp(sub, "add") && strcmp(sub, "passwd") && strcmp(sub, "disable") && strcmp(sub, "enable") &&
	    strcmp(sub, "list"))
		return usage_error(NULL, "unknown subcommand", sub);
	if (!st) {
		fprintf(stderr, "xiaoan: user %s: no database\n", sub);
		return 1;
	}
	if (!strcmp(sub, "add"))
		return cli_add(st, argc, argv);
	if (!strcmp(sub, "list"))
		return cli_list(st, argc, argv);
	return cli_one(st, sub, argc, argv);
}
