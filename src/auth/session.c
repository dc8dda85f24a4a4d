/*
 * session.c - sign-in, sessions and their cache, CSRF tokens, lockout,
 * the forced password change and TOTP enrolment (see session.h).
 */
#include "auth/session.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/access.h"
#include "auth/audit.h"
#include "auth/password.h"
#include "auth/totp.h"
#include "auth/vault.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/http.h"
#include "core/log.h"
#include "core/router.h"
#include "core/server.h"
#include "core/valid.h"
#include "schools/schools.h"
#include "store/store.h"

/* ---- the cache ------------------------------------------------------------ */

#define CACHE_SLOTS 1024
#define RECHECK_SECONDS 5
#define PERSIST_SECONDS 60

struct centry {
	int used;
	char id[65];
	int64_t user_id;
	char username[64], display_name[128], unit_code[64], scope_kind[16], scope_value[64];
	char scope_path[256], perms[1024], roles[256], csrf[48];
	int64_t unit_id;
	int must_change_password, must_enroll_totp;
	int64_t created_at, last_seen, persisted, checked;
};

static struct centry cache[CACHE_SLOTS];
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

static struct centry *slot_of(const char *id)
{
	uint64_t h = 0;
	memcpy(&h, id, sizeof h); /* the id is a hash already */
	return &cache[h % CACHE_SLOTS];
}

void session_forget_user(int64_t user_id)
{
	pthread_mutex_lock(&cache_mu);
	for (int i = 0; i < CACHE_SLOTS; i++)
		if (cache[i].used && cache[i].user_id == user_id)
			cache[i].used = 0;
	pthread_mutex_unlock(&cache_mu);
}

static void forget_session(const char *id)
{
	pthread_mutex_lock(&cache_mu);
	struct centry *e = slot_of(id);
	if (e->used && strcmp(e->id, id) == 0)
		e->used = 0;
	pthread_mutex_unlock(&cache_mu);
}

/* Loads a session and its user from the database into e. Returns 0, or
 * STORE_NOTFOUND when the session or its user is gone or disabled. */
static int load_session(struct db *db, const char *id, struct centry *e)
{
	struct stmt *st;
	int rc = db_prepare(db, &st,
			    "SELECT u.id, u.username, u.display_name, u.unit_id, n.code, u.scope_kind, u.scope_value,"
			    " u.must_change_password, s.csrf, s.created_at, s.last_seen,"
			    " CASE u.scope_kind WHEN 'region' THEN (SELECT path FROM regions WHERE code = u.scope_value)"
			    "  WHEN 'unit' THEN (SELECT path FROM units WHERE code = u.scope_value) ELSE '' END,"
			    " CASE WHEN u.totp_secret IS NULL AND EXISTS (SELECT 1 FROM user_roles ur JOIN roles r"
			    "   ON r.code = ur.role_code WHERE ur.user_id = u.id AND r.require_totp = 1 AND r.disabled = 0)"
			    "  THEN 1 ELSE 0 END"
			    " FROM sessions s JOIN users u ON u.id = s.user_id JOIN units n ON n.id = u.unit_id"
			    " WHERE s.id = $1 AND u.disabled = 0");
	if (rc)
		return rc;
	stmt_bind_text(st, 1, id);
	rc = stmt_step(st);
	if (rc != STORE_ROW) {
		stmt_finalize(st);
		return rc == STORE_DONE ? STORE_NOTFOUND : rc;
	}
	memset(e, 0, sizeof *e);
	snprintf(e->id, sizeof e->id, "%s", id);
	e->user_id = stmt_int64(st, 0);
	snprintf(e->username, sizeof e->username, "%s", stmt_text(st, 1));
	snprintf(e->display_name, sizeof e->display_name, "%s", stmt_text(st, 2));
	e->unit_id = stmt_int64(st, 3);
	snprintf(e->unit_code, sizeof e->unit_code, "%s", stmt_text(st, 4));
	snprintf(e->scope_kind, sizeof e->scope_kind, "%s", stmt_text(st, 5));
	snprintf(e->scope_value, sizeof e->scope_value, "%s", stmt_text(st, 6));
	e->must_change_password = (int)stmt_int64(st, 7);
	snprintf(e->csrf, sizeof e->csrf, "%s", stmt_text(st, 8));
	e->created_at = stmt_int64(st, 9);
	e->last_seen = stmt_int64(st, 10);
	snprintf(e->scope_path, sizeof e->scope_path, "%s", stmt_text(st, 11) ? stmt_text(st, 11) : "");
	e->must_enroll_totp = (int)stmt_int64(st, 12);
	stmt_finalize(st);

	if ((rc = db_prepare(db, &st,
			     "SELECT r.code, r.perms FROM user_roles ur JOIN roles r ON r.code = ur.role_code"
			     " WHERE ur.user_id = $1 AND r.disabled = 0 ORDER BY r.code")))
		return rc;
	stmt_bind_int64(st, 1, e->user_id);
	size_t pl = 0, rl = 0;
	e->perms[pl++] = ' ';
	e->roles[rl++] = ' ';
	while (stmt_step(st) == STORE_ROW) {
		const char *code = stmt_text(st, 0), *perms = stmt_text(st, 1);
		int n = snprintf(e->roles + rl, sizeof e->roles - rl, "%s ", code);
		if (n > 0 && (size_t)n < sizeof e->roles - rl)
			rl += (size_t)n;
		n = snprintf(e->perms + pl, sizeof e->perms - pl, "%s ", perms);
		if (n > 0 && (size_t)n < sizeof e->perms - pl)
			pl += (size_t)n;
	}
	stmt_finalize(st);
	e->used = 1;
	return STORE_OK;
}

static void delete_session_row(struct db *db, const char *id)
{
	struct stmt *st;
	if (db_prepare(db, &st, "DELETE FROM sessions WHERE id = $1") == STORE_OK) {
		stmt_bind_text(st, 1, id);
		stmt_step(st);
		stmt_finalize(st);
	}
}

static struct principal *to_principal(struct req *r, const struct centry *e)
{
	struct principal *p = arena_alloc(r->arena, sizeof *p);
	struct arena *a = r->arena;
	p->user_id = e->user_id;
	p->username = arena_strdup(a, e->username);
	p->display_name = arena_strdup(a, e->display_name);
	p->unit_id = e->unit_id;
	p->unit_code = arena_strdup(a, e->unit_code);
	p->scope_kind = arena_strdup(a, e->scope_kind);
	p->scope_value = arena_strdup(a, e->scope_value);
	p->scope_path = arena_strdup(a, e->scope_path);
	p->perms = arena_strdup(a, e->perms);
	p->roles = arena_strdup(a, e->roles);
	p->must_change_password = e->must_change_password;
	p->must_enroll_totp = e->must_enroll_totp;
	p->csrf = arena_strdup(a, e->csrf);
	p->session_id = arena_strdup(a, e->id);
	return p;
}

static void session_id_of(const char *token, char out[65])
{
	sha256_hex(token, strlen(token), out);
}

/* The authenticate hook: cookie -> cache (or database) -> r->user. */
static void authenticate(struct req *r)
{
	const char *tok = req_cookie(r, SESSION_COOKIE);
	if (!tok || strlen(tok) != 43)
		return;
	char id[65];
	session_id_of(tok, id);
	int64_t now = clock_now();
	struct centry e;
	int have = 0;

	pthread_mutex_lock(&cache_mu);
	struct centry *c = slot_of(id);
	if (c->used && strcmp(c->id, id) == 0 && now - c->checked < RECHECK_SECONDS) {
		e = *c;
		have = 1;
	}
	pthread_mutex_unlock(&cache_mu);

	if (!have) {
		struct db *db = req_db(r);
		int64_t seen_cached = 0;
		pthread_mutex_lock(&cache_mu);
		if (c->used && strcmp(c->id, id) == 0)
			seen_cached = c->last_seen;
		pthread_mutex_unlock(&cache_mu);
		if (load_session(db, id, &e) != STORE_OK) {
			forget_session(id);
			return;
		}
		if (seen_cached > e.last_seen)
			e.last_seen = seen_cached;
		e.persisted = e.last_seen;
		e.checked = now;
	}
	if (now - e.last_seen > r->cfg->session_idle || now - e.created_at > r->cfg->session_absolute) {
		forget_session(id);
		delete_session_row(req_db(r), id);
		return;
	}
	e.last_seen = now;
	int persist = now - e.persisted >= PERSIST_SECONDS;
	if (persist)
		e.persisted = now;
	pthread_mutex_lock(&cache_mu);
	*c = e;
	pthread_mutex_unlock(&cache_mu);
	if (persist) {
		struct stmt *st;
		struct db *db = req_db(r);
		if (db_prepare(db, &st, "UPDATE sessions SET last_seen = $1 WHERE id = $2") == STORE_OK) {
			stmt_bind_int64(st, 1, now);
			stmt_bind_text(st, 2, id);
			stmt_step(st);
			stmt_finalize(st);
		}
	}
	r->user = to_principal(r, &e);
}

void session_install(void)
{
	static const struct server_hooks h = { .authenticate = authenticate };
	server_set_hooks(&h);
}

int session_revoke_user(struct req *r, int64_t user_id, const char *keep_id)
{
	struct stmt *st;
	int rc = db_prepare(req_db(r), &st, "DELETE FROM sessions WHERE user_id = $1 AND id <> $2");
	if (rc)
		return rc;
	stmt_bind_int64(st, 1, user_id);
	stmt_bind_text(st, 2, keep_id ? keep_id : "");
	rc = stmt_step(st) == STORE_DONE ? STORE_OK : STORE_ERR;
	stmt_finalize(st);
	session_forget_user(user_id);
	return rc;
}

int session_purge(struct db *db, int64_t now, int idle, int absolute, int64_t *deleted)
{
	struct stmt *st;
	*deleted = 0;
	int rc = db_begin(db);
	if (rc)
		return rc;
	if ((rc = db_prepare(db, &st, "DELETE FROM sessions WHERE last_seen < $1 OR created_at < $2"))) {
		db_rollback(db);
		return rc;
	}
	stmt_bind_int64(st, 1, now - idle - PERSIST_SECONDS);
	stmt_bind_int64(st, 2, now - absolute);
	rc = stmt_step(st);
	stmt_finalize(st);
	if (rc != STORE_DONE) {
		db_rollback(db);
		return rc < 0 ? rc : STORE_ERR;
	}
	*deleted = db_changes(db);
	return db_commit(db);
}

/* ---- cookies -------------------------------------------------------------- */

static void set_cookie(struct req *r, const char *token, int max_age)
{
	char *c = arena_printf(r->arena, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", SESSION_COOKIE,
			       token, max_age, r->tls ? "; Secure" : "");
	reply_header(r, "Set-Cookie", c);
}

/* ---- lockout ------------------------------------------------------------------ */

static int64_t ip_locked_until(struct db *db, const char *ip)
{
	int64_t until = 0;
	db_query_int64(db, &until, "SELECT locked_until FROM login_failures WHERE client_ip = $1", 1, ip);
	return until;
}

/* Counts a failure for the user (when known) and the address; locks
 * either after lock_failures. Runs in its own transaction. */
static void record_failure(struct req *r, int64_t user_id, const char *username, const char *why)
{
	struct db *db = req_db(r);
	int64_t now = clock_now();
	int max = r->cfg->lock_failures, lock = r->cfg->lock_seconds;
	if (db_begin(db))
		return;
	struct stmt *st;
	if (db_prepare(db, &st,
		       "INSERT INTO login_failures (client_ip, failures, locked_until, updated_at) VALUES ($1, 1, 0, $2)"
		       " ON CONFLICT (client_ip) DO UPDATE SET failures = CASE WHEN login_failures.locked_until > 0"
		       " AND login_failures.locked_until <= $2 THEN 1 ELSE login_failures.failures + 1 END,"
		       " locked_until = CASE WHEN login_failures.locked_until > 0 AND login_failures.locked_until <= $2"
		       " THEN 0 ELSE login_failures.locked_until END, updated_at = $2") == STORE_OK) {
		stmt_bind_text(st, 1, r->client_ip);
		stmt_bind_int64(st, 2, now);
		stmt_step(st);
		stmt_finalize(st);
	}
	if (db_prepare(db, &st, "UPDATE login_failures SET locked_until = $1, failures = 0 WHERE client_ip = $2 AND failures >= $3") ==
	    STORE_OK) {
		stmt_bind_int64(st, 1, now + lock);
		stmt_bind_text(st, 2, r->client_ip);
		stmt_bind_int64(st, 3, max);
		stmt_step(st);
		stmt_finalize(st);
	}
	if (user_id && db_prepare(db, &st,
				  "UPDATE users SET failed_logins = failed_logins + 1,"
				  " locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END"
				  " WHERE id = $1") == STORE_OK) {
		stmt_bind_int64(st, 1, user_id);
		stmt_bind_int64(st, 2, max);
		stmt_bind_int64(st, 3, now + lock);
		stmt_step(st);
		stmt_finalize(st);
		if (db_prepare(db, &st, "UPDATE users SET failed_logins = 0 WHERE id = $1 AND locked_until > $2") == STORE_OK) {
			stmt_bind_int64(st, 1, user_id);
			stmt_bind_int64(st, 2, now);
			stmt_step(st);
			stmt_finalize(st);
		}
	}
	struct audit_actor a = { .user_id = user_id, .username = username, .client_ip = r->client_ip,
				 .request_id = r->request_id };
	json_t *j = json_pack("{s:s}", "reason", why);
	char uid[24];
	snprintf(uid, sizeof uid, "%lld", (long long)user_id);
	audit_append(db, &a, "login_failed", "user", uid, NULL, j);
	json_decref(j);
	db_commit(db);
}

/* ---- POST /api/auth/login ---------------------------------------------------- */

static const struct vfield login_fields[] = {
	{ .name = "username", .label = "用户名", .type = V_STR, .required = 1, .max_len = 64 },
	{ .name = "password", .label = "密码", .type = V_STR, .required = 1, .max_len = PASSWORD_MAX_LEN },
	{ .name = "totp", .label = "动态验证码", .type = V_STR, .max_len = 6 },
	{ 0 },
};

static json_t *me_json(struct req *r, const struct principal *p);

static int locked_reply(struct req *r, int64_t until)
{
	int64_t left = until - clock_now();
	char ra[24];
	snprintf(ra, sizeof ra, "%lld", (long long)(left > 0 ? left : 1));
	reply_header(r, "Retry-After", ra);
	return reply_error(r, 429, "auth.locked",
			   arena_printf(r->arena, "登录失败次数过多，已锁定，请 %lld 分钟后再试", (long long)((left + 59) / 60)),
			   NULL);
}

static int api_login(struct req *r)
{
	json_t *j = req_json(r);
	if (!j || valid_body(r, j, login_fields, 0))
		return 0;
	const char *username = json_string_value(json_object_get(j, "username"));
	const char *pw = json_string_value(json_object_get(j, "password"));
	const char *code = json_string_value(json_object_get(j, "totp"));
	struct db *db = req_db(r);
	int64_t now = clock_now();

	int64_t until = ip_locked_until(db, r->client_ip);
	if (until > now)
		return locked_reply(r, until);

	struct stmt *st;
	int rc = db_prepare(db, &st,
			    "SELECT id, password_hash, locked_until, totp_secret, totp_last_step FROM users"
			    " WHERE username = $1 AND disabled = 0");
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	stmt_bind_text(st, 1, username);
	int64_t uid = 0, ulocked = 0, last_step = 0;
	char hash[256] = "", *totp_sealed = NULL;
	if (stmt_step(st) == STORE_ROW) {
		uid = stmt_int64(st, 0);
		snprintf(hash, sizeof hash, "%s", stmt_text(st, 1));
		ulocked = stmt_int64(st, 2);
		totp_sealed = stmt_text(st, 3) ? arena_strdup(r->arena, stmt_text(st, 3)) : NULL;
		last_step = stmt_int64(st, 4);
	}
	stmt_finalize(st);

	if (uid && ulocked > now)
		return locked_reply(r, ulocked);
	if (!uid) {
		/* spend the same time as a real check so that timing does not
		 * reveal which usernames exist */
		static char dummy[128];
		if (!dummy[0])
			password_hash("dummy-Password-1", dummy);
		password_verify(dummy, pw);
		record_failure(r, 0, username, "unknown user");
		return reply_error(r, 401, "auth.invalid", "用户名或密码错误", NULL);
	}
	if (password_verify(hash, pw) != 0) {
		record_failure(r, uid, username, "wrong password");
		return reply_error(r, 401, "auth.invalid", "用户名或密码错误", NULL);
	}
	int64_t step = 0;
	if (totp_sealed) {
		if (!code || !*code)
			return reply_error(r, 401, "auth.totp_required", "请输入动态验证码（6 位数字）", "totp");
		char *secret = vault_open(totp_sealed);
		int ok = secret && totp_verify(secret, code, now, last_step, &step) == 0;
		free(secret);
		if (!ok) {
			record_failure(r, uid, username, "wrong totp");
			return reply_error(r, 401, "auth.totp_invalid", "动态验证码错误或已使用", "totp");
		}
	}

	char token[48], id[65], csrf[48];
	token_random(token);
	token_random(csrf);
	session_id_of(token, id);
	if ((rc = db_begin(db)))
		return reply_store_error(r, rc, NULL, NULL, NULL);
	if ((rc = db_prepare(db, &st,
			     "INSERT INTO sessions (id, user_id, csrf, created_at, last_seen, client_ip)"
			     " VALUES ($1, $2, $3, $4, $4, $5)")))
		goto fail;
	stmt_bind_text(st, 1, id);
	stmt_bind_int64(st, 2, uid);
	stmt_bind_text(st, 3, csrf);
	stmt_bind_int64(st, 4, now);
	stmt_bind_text(st, 5, r->client_ip);
	rc = stmt_step(st);
	stmt_finalize(st);
	if (rc != STORE_DONE)
		goto fail;
	if ((rc = db_prepare(db, &st,
			     "UPDATE users SET failed_logins = 0, locked_until = 0,"
			     " totp_last_step = CASE WHEN $2 > 0 THEN $2 ELSE totp_last_step END WHERE id = $1")))
		goto fail;
	stmt_bind_int64(st, 1, uid);
	stmt_bind_int64(st, 2, step);
	rc = stmt_step(st);
	stmt_finalize(st);
	if (rc != STORE_DONE)
		goto fail;
	if ((rc = db_prepare(db, &st, "DELETE FROM login_failures WHERE client_ip = $1")))
		goto fail;
	stmt_bind_text(st, 1, r->client_ip);
	stmt_step(st);
	stmt_finalize(st);
	struct audit_actor a = { .user_id = uid, .username = username, .client_ip = r->client_ip,
				 .request_id = r->request_id };
	char uids[24];
	snprintf(uids, sizeof uids, "%lld", (long long)uid);
	if ((rc = audit_append(db, &a, "login", "user", uids, NULL, NULL)))
		goto fail;
	if ((rc = db_commit(db)))
		goto fail;

	struct centry e;
	if (load_session(db, id, &e) != STORE_OK)
		return reply_internal(r, "session vanished after login");
	r->user = to_principal(r, &e);
	set_cookie(r, token, r->cfg->session_absolute);
	return reply_json(r, 200, me_json(r, r->user));
fail:
	db_rollback(db);
	return reply_store_error(r, rc == STORE_DONE || rc == STORE_ROW ? STORE_ERR : rc, NULL, NULL, NULL);
}

/* ---- me, logout ------------------------------------------------------------------ */

static json_t *words(const char *s)
{
	json_t *a = json_array();
	char *copy = strdup(s ? s : ""), *save = NULL;
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		json_array_append_new(a, json_string(w));
	free(copy);
	return a;
}

static json_t *me_json(struct req *r, const struct principal *p)
{
	struct db *db = req_db(r);
	json_t *unit = json_null();
	struct stmt *st;
	if (db_prepare(db, &st, "SELECT code, name, type FROM units WHERE id = $1") == STORE_OK) {
		stmt_bind_int64(st, 1, p->unit_id);
		if (stmt_step(st) == STORE_ROW)
			unit = json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)p->unit_id, "code", stmt_text(st, 0),
					 "name", stmt_text(st, 1), "type", stmt_text(st, 2));
		stmt_finalize(st);
	}
	/* a readable name for the scope, for the console's header */
	const char *label = "全部";
	if (!strcmp(p->scope_kind, "region"))
		label = "SELECT name FROM regions WHERE code = $1";
	else if (!strcmp(p->scope_kind, "unit"))
		label = "SELECT name FROM units WHERE code = $1";
	char *scope_name = arena_strdup(r->arena, "全部");
	if (!strcmp(p->scope_kind, "school")) {
		char name[256];
		if (school_visible(db, NULL, strtoll(p->scope_value, NULL, 10), name, sizeof name) == 0)
			scope_name = arena_strdup(r->arena, name);
	} else if (strcmp(p->scope_kind, "all") && db_prepare(db, &st, label) == STORE_OK) {
		stmt_bind_text(st, 1, p->scope_value);
		if (stmt_step(st) == STORE_ROW)
			scope_name = arena_strdup(r->arena, stmt_text(st, 0));
		stmt_finalize(st);
	}
	return json_pack("{s:I,s:s,s:s,s:o,s:{s:s,s:s,s:s},s:o,s:o,s:b,s:b,s:s}", "id", (json_int_t)p->user_id,
			 "username", p->username, "display_name", p->display_name, "unit", unit, "scope", "kind",
			 p->scope_kind, "value", p->scope_value, "name", scope_name, "roles", words(p->roles),
			 "permissions", words(p->perms), "must_change_password", p->must_change_password,
			 "totp_setup_required", p->must_enroll_totp, "csrf", p->csrf);
}

static int api_me(struct req *r)
{
	return reply_json(r, 200, me_json(r, r->user));
}

static int api_logout(struct req *r)
{
	struct db *db = req_db(r);
	int rc = db_begin(db);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	delete_session_row(db, r->user->session_id);
	char uid[24];
	snprintf(uid, sizeof uid, "%lld", (long long)r->user->user_id);
	if ((rc = audit_write(r, "logout", "user", uid, NULL, NULL)) || (rc = db_commit(db))) {
		db_rollback(db);
		return reply_store_error(r, rc, NULL, NULL, NULL);
	}
	forget_session(r->user->session_id);
	set_cookie(r, "", 0);
	return reply_no_content(r);
}

/* ---- POST /api/auth/password ------------------------------------------------------ */

static const struct vfield password_fields[] = {
	{ .name = "old_password", .label = "原密码", .type = V_STR, .required = 1, .max_len = PASSWORD_MAX_LEN },
	{ .name = "new_password", .label = "新密码", .type = V_STR, .required = 1, .max_len = PASSWORD_MAX_LEN },
	{ 0 },
};

static int api_password(struct req *r)
{
	json_t *j = req_json(r);
	if (!j || valid_body(r, j, password_fields, 0))
		return 0;
	const char *old = json_string_value(json_object_get(j, "old_password"));
	const char *pw = json_string_value(json_object_get(j, "new_password"));
	struct db *db = req_db(r);
	char hash[256] = "";
	struct stmt *st;
	int rc = db_prepare(db, &st, "SELECT password_hash FROM users WHERE id = $1");
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	stmt_bind_int64(st, 1, r->user->user_id);
	if (stmt_step(st) == STORE_ROW)
		snprintf(hash, sizeof hash, "%s", stmt_text(st, 0));
	stmt_finalize(st);
	if (password_verify(hash, old) != 0) {
		record_failure(r, r->user->user_id, r->user->username, "wrong old password");
		return reply_error(r, 400, "auth.wrong_password", "原密码不正确", "old_password");
	}
	const char *why;
	if (password_policy_check(pw, r->user->username, &why) != 0)
		return reply_error(r, 400, "auth.weak_password", why, "new_password");
	if (strcmp(old, pw) == 0)
		return reply_error(r, 400, "auth.same_password", "新密码不能与原密码相同", "new_password");
	char nh[128];
	if (password_hash(pw, nh) != 0)
		return reply_internal(r, "password hash failed");
	if ((rc = db_begin(db)))
		return reply_store_error(r, rc, NULL, NULL, NULL);
	if ((rc = db_prepare(db, &st,
			     "UPDATE users SET password_hash = $1, must_change_password = 0, updated_at = $3 WHERE id = $2")))
		goto fail;
	char at[32];
	clock_iso(at);
	stmt_bind_text(st, 1, nh);
	stmt_bind_int64(st, 2, r->user->user_id);
	stmt_bind_text(st, 3, at);
	rc = stmt_step(st);
	stmt_finalize(st);
	if (rc != STORE_DONE)
		goto fail;
	/* other sessions of this user end: whoever knew the old password is out */
	if ((rc = session_revoke_user(r, r->user->user_id, r->user->session_id)))
		goto fail;
	char uid[24];
	snprintf(uid, sizeof uid, "%lld", (long long)r->user->user_id);
	json_t *after = json_pack("{s:s}", "password", "changed");
	rc = audit_write(r, "password_change", "user", uid, NULL, after);
	json_decref(after);
	if (rc || (rc = db_commit(db)))
		goto fail;
	session_forget_user(r->user->user_id);
	return reply_no_content(r);
fail:
	db_rollback(db);
	return reply_store_error(r, rc == STORE_DONE || rc == STORE_ROW ? STORE_ERR : rc, NULL, NULL, NULL);
}

/* ---- TOTP enrolment ---------------------------------------------------------------- */

static int api_totp_setup(struct req *r)
{
	/* a second factor already bound is replaced only by an administrator
	 * (reset_totp), never from a session alone */
	int64_t bound = 0;
	char uid[24];
	snprintf(uid, sizeof uid, "%lld", (long long)r->user->user_id);
	if (db_query_int64(req_db(r), &bound, "SELECT count(*) FROM users WHERE id = CAST($1 AS INTEGER) AND totp_secret IS NOT NULL",
			   1, uid) == STORE_OK && bound)
		return reply_error(r, 409, "auth.totp_already", "已绑定动态验证码；如需更换，请联系管理员重置", NULL);
	char secret[64];
	if (totp_new_secret(secret) != 0)
		return reply_internal(r, "totp secret");
	char *sealed = vault_seal(secret);
	if (!sealed)
		return reply_internal(r, "vault seal");
	struct db *db = req_db(r);
	struct stmt *st;
	int rc = db_begin(db);
	if (rc == STORE_OK && (rc = db_prepare(db, &st, "UPDATE users SET totp_pending = $1 WHERE id = $2")) == STORE_OK) {
		stmt_bind_text(st, 1, sealed);
		stmt_bind_int64(st, 2, r->user->user_id);
		rc = stmt_step(st) == STORE_DONE ? STORE_OK : STORE_ERR;
		stmt_finalize(st);
	}
	free(sealed);
	if (rc == STORE_OK) {
		json_t *after = json_pack("{s:s}", "totp", "setup started");
		rc = audit_write(r, "totp_setup", "user", uid, NULL, after);
		json_decref(after);
	}
	if (rc == STORE_OK)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		return reply_store_error(r, rc, NULL, NULL, NULL);
	}
	char *uri = totp_uri(secret, r->user->username);
	json_t *out = json_pack("{s:s,s:s}", "secret", secret, "otpauth_uri", uri);
	free(uri);
	return reply_json(r, 200, out);
}

static const struct vfield totp_fields[] = {
	{ .name = "code", .label = "动态验证码", .type = V_STR, .required = 1, .max_len = 6 },
	{ 0 },
};

static int api_totp_enable(struct req *r)
{
	json_t *j = req_json(r);
	if (!j || valid_body(r, j, totp_fields, 0))
		return 0;
	struct db *db = req_db(r);
	struct stmt *st;
	char *pending = NULL;
	int rc = db_prepare(db, &st, "SELECT totp_pending FROM users WHERE id = $1");
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	stmt_bind_int64(st, 1, r->user->user_id);
	if (stmt_step(st) == STORE_ROW && stmt_text(st, 0))
		pending = arena_strdup(r->arena, stmt_text(st, 0));
	stmt_finalize(st);
	if (!pending)
		return reply_error(r, 409, "auth.totp_not_started", "请先获取动态验证码密钥", NULL);
	char *secret = vault_open(pending);
	int64_t step = 0;
	int ok = secret && totp_verify(secret, json_string_value(json_object_get(j, "code")), clock_now(), 0, &step) == 0;
	free(secret);
	if (!ok)
		return reply_error(r, 400, "auth.totp_invalid", "动态验证码错误，请核对手机上的验证器", "code");
	if ((rc = db_begin(db)))
		return reply_store_error(r, rc, NULL, NULL, NULL);
	if ((rc = db_prepare(db, &st,
			     "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $2"
			     " WHERE id = $1")))
		goto fail;
	stmt_bind_int64(st, 1, r->user->user_id);
	stmt_bind_int64(st, 2, step);
	rc = stmt_step(st);
	stmt_finalize(st);
	if (rc != STORE_DONE)
		goto fail;
	char uid[24];
	snprintf(uid, sizeof uid, "%lld", (long long)r->user->user_id);
	json_t *after = json_pack("{s:b}", "totp", 1);
	rc = audit_write(r, "totp_enable", "user", uid, NULL, after);
	json_decref(after);
	if (rc || (rc = db_commit(db)))
		goto fail;
	session_forget_user(r->user->user_id);
	return reply_no_content(r);
fail:
	db_rollback(db);
	return reply_store_error(r, rc == STORE_DONE || rc == STORE_ROW ? STORE_ERR : rc, NULL, NULL, NULL);
}

const struct route auth_routes[] = {
	{ .method = "POST", .pattern = "/api/auth/login", .handler = api_login, .flags = ROUTE_PUBLIC | ROUTE_NO_CSRF,
	  .body_max = 4096 },
	{ .method = "POST", .pattern = "/api/auth/logout", .handler = api_logout, .flags = ROUTE_PWCHANGE_OK },
	{ .method = "GET", .pattern = "/api/auth/me", .handler = api_me, .flags = ROUTE_PWCHANGE_OK },
	{ .method = "POST", .pattern = "/api/auth/password", .handler = api_password, .flags = ROUTE_PWCHANGE_OK,
	  .body_max = 4096 },
	{ .method = "POST", .pattern = "/api/auth/totp/setup", .handler = api_totp_setup, .flags = ROUTE_PWCHANGE_OK },
	{ .method = "POST", .pattern = "/api/auth/totp/enable", .handler = api_totp_enable, .flags = ROUTE_PWCHANGE_OK,
	  .body_max = 4096 },
	{ 0 },
};
