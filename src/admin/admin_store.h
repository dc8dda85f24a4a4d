/*
 * admin_store.h - inside the admin module only: the SQL over regions,
 * units, roles, users and user_roles (admin_store.c), and the checks the
 * API, the CLI and the demo share. Other modules use admin.h.
 *
 * Records come back as jansson objects (new references, the caller
 * decrefs) in the shape the API answers with; user objects never hold
 * password hashes or TOTP secrets.
 *
 * Return convention: 0 on success, a negative enum store_err on a store
 * failure, and ADM_REFUSED (1) when the input was refused, with the
 * reason in a struct adm_err.
 */
#ifndef XIAOAN_ADMIN_STORE_H
#define XIAOAN_ADMIN_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct principal;
struct audit_actor;

#define ADM_REFUSED 1

/* Why an input was refused: HTTP status, error code, Chinese message and
 * the field it concerns (may be NULL). */
struct adm_err {
	int status;
	const char *code;
	const char *field;
	char msg[256];
};

/* Fills e and returns ADM_REFUSED. */
int adm_refuse(struct adm_err *e, int status, const char *code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* A page of a list: page from 1, size 1..200, sort a whitelisted name
 * ("name", "-name"; NULL = the list's default). */
struct adm_page {
	int64_t page, size;
	const char *sort;
};

/* ---- permissions ---------------------------------------------------------- */

/* Is every word of perms (space-separated) in holder (space-separated)? */
int adm_perms_subset(const char *perms, const char *holder);
/* Checks a JSON array of permission codes and writes them, deduplicated and
 * in catalog order, space-separated into out. Returns 0 or ADM_REFUSED. */
int adm_perms_parse(json_t *arr, char *out, size_t n, struct adm_err *e);
/* A new JSON array of the words of s. */
json_t *adm_words(const char *s);
/* Escapes \ % _ with a backslash for LIKE ... ESCAPE '\'; malloc'd. */
char *adm_like_escape(const char *s);

/* ---- regions (行政区划) ----------------------------------------------------- */

struct adm_region_filter {
	const char *code;    /* exact */
	const char *parent;  /* direct children of this code */
	const char *level;
	const char *q;       /* name contains */
	int disabled;        /* -1 any, 0, 1 */
};

/* Regions the caller may see: his region subtree (region and unit scope)
 * or his school's region, plus their ancestors flagged "ancestor":true.
 * pg NULL = every match; total may be NULL. Returns 0, ADM_REFUSED for an
 * unknown sort, or a store error. */
int adm_region_list(struct db *db, const struct principal *p, const struct adm_region_filter *f,
		    const struct adm_page *pg, json_t **items, int64_t *total);
/* One region regardless of scope; STORE_NOTFOUND when there is none. */
int adm_region_get(struct db *db, const char *code, json_t **out);
int adm_region_insert(struct db *db, const char *code, const char *name, const char *level,
		      const char *parent_code, const char *path);
/* name NULL keeps it; disabled -1 keeps it. */
int adm_region_update(struct db *db, const char *code, const char *name, int disabled);
int adm_region_enabled_children(struct db *db, const char *code, int64_t *n);

/* ---- units (成员单位) --------------------------------------------------------- */

struct adm_unit_filter {
	int64_t id;          /* 0 any */
	const char *type;
	const char *region;  /* in this region's subtree */
	const char *q;       /* name contains */
	int64_t parent;      /* direct children; 0 any */
	int disabled;        /* -1 any */
};

int adm_unit_list(struct db *db, const struct principal *p, const struct adm_unit_filter *f,
		  const struct adm_page *pg, json_t **items, int64_t *total);
/* One unit regardless of scope, by id or (id 0) by code. */
int adm_unit_get(struct db *db, int64_t id, const char *code, json_t **out);

struct adm_unit_in {
	const char *code, *name, *type, *region_code, *duties, *phone;
	int64_t parent_id;   /* 0 = none */
};
/* Inserts and sets the path (parent path + id + "/"). *id gets the id. */
int adm_unit_insert(struct db *db, const struct adm_unit_in *u, int64_t *id);
/* Applies the changed fields of a PATCH (a JSON object already checked)
 * and, when the parent changes, moves the paths of the whole subtree. */
int adm_unit_update(struct db *db, int64_t id, json_t *changes);
/* 1 when candidate is unit id itself or below it. */
int adm_unit_in_subtree(struct db *db, int64_t id, int64_t candidate);

/* ---- roles (角色) ---------------------------------------------------------- */

struct adm_role {
	char code[64], name[128], perms[1024];
	int builtin, disabled, require_totp;
};
int adm_role_list(struct db *db, const char *code, const struct adm_page *pg, json_t **items, int64_t *total);
int adm_role_get(struct db *db, const char *code, struct adm_role *out);
json_t *adm_role_json(const struct adm_role *r);
int adm_role_insert(struct db *db, const struct adm_role *r);
int adm_role_update(struct db *db, const struct adm_role *r);
/* Ids of the users holding the role, as a JSON array of integers. */
int adm_role_users(struct db *db, const char *code, json_t **ids);
/* Creates every built-in role that does not exist yet, auditing each. */
int adm_builtin_roles(struct db *db, const struct audit_actor *a);

/* ---- users (用户) ------------------------------------------------------------ */

struct adm_user_filter {
	int64_t id;          /* 0 any */
	const char *username;
	const char *q;       /* username or display name contains */
	int64_t unit;        /* 0 any */
	const char *role;
	int disabled;        /* -1 any */
	int with_phone;      /* personal data: only for a single record */
};
/* Users whose unit lies in the caller's scope (p NULL = everyone); a
 * school-scoped caller sees only himself. */
int adm_user_list(struct db *db, const struct principal *p, const struct adm_user_filter *f,
		  const struct adm_page *pg, json_t **items, int64_t *total);
/* One user as the API shows it (with phone) regardless of scope. */
int adm_user_get(struct db *db, int64_t id, json_t **out);

/* What the write checks need of an existing user. */
struct adm_user {
	int64_t id, unit_id;
	char username[64], scope_kind[16], scope_value[64];
	char roles[512];   /* space-separated codes */
	char perms[1024];  /* union of the roles' permissions */
	int disabled;
};
/* By id, or (id 0) by username. STORE_NOTFOUND when there is none. */
int adm_user_row(struct db *db, int64_t id, const char *username, struct adm_user *out);

struct adm_user_in {
	const char *username, *display_name, *phone;
	int64_t unit_id;
	const char *roles;        /* space-separated, at least one */
	const char *scope_kind;   /* all, region, unit, school */
	const char *scope_value;  /* "" for all */
};
/* Checks a new user against the database: formats, the username is free,
 * the unit exists and is enabled, the roles exist and are enabled, the
 * scope names an existing region, unit or school. Not the caller's rights.
 * Returns 0, ADM_REFUSED or a store error. */
int adm_user_check(struct db *db, const struct adm_user_in *u, struct adm_err *e);
/* Inserts the user with the given password hash and must_change_password
 * set, its roles, and the audit entry "create" by actor. *id gets the id. */
int adm_user_insert(struct db *db, const struct audit_actor *a, const struct adm_user_in *u, const char *hash,
		    int64_t *id);
/* Applies changed fields (display_name, phone, unit_id, scope_kind,
 * scope_value, disabled); roles when roles is not NULL. */
int adm_user_update(struct db *db, int64_t id, json_t *changes, const char *roles);
/* New password hash, must_change_password, unlocked, counters cleared. */
int adm_user_set_password(struct db *db, int64_t id, const char *hash);
int adm_user_clear_totp(struct db *db, int64_t id);
/* Deletes every session of the user. The API uses session_revoke_user;
 * this is for the CLI, which has no request. */
int adm_user_drop_sessions(struct db *db, int64_t id);
/* The default scope of a user of a unit: its region subtree when it has a
 * region, else the unit itself. kind[16], value[64]. */
int adm_default_scope(struct db *db, int64_t unit_id, char *kind, char *value);

#endif
