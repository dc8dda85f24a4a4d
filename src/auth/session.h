/*
 * session.h - sign-in, sessions, CSRF, the forced password change and the
 * TOTP second factor.
 *
 * A session is a random 256-bit token in an HttpOnly SameSite=Strict
 * cookie (Secure under TLS); the database keeps only its SHA-256. Each
 * session has its own CSRF token that state-changing requests send as
 * X-CSRF-Token. Sessions end after session_idle seconds without a request
 * and session_absolute seconds after sign-in. Sessions are cached in
 * memory and re-read from the database every few seconds, so a logout,
 * a disabled user or a password change takes effect on every server.
 */
#ifndef XIAOAN_SESSION_H
#define XIAOAN_SESSION_H

#include "core/router.h"

#include <stdint.h>

struct db;
struct req;
struct config;

#define SESSION_COOKIE "xiaoan_session"

/* Installs the server hooks (authenticate, cookie refresh). */
void session_install(void);
/* Forgets cached sessions of a user (after disable, password change, role
 * change); the database rows are deleted by the caller's SQL. */
void session_forget_user(int64_t user_id);
/* Deletes every session of a user except keep_id (may be NULL). Runs in
 * the caller's transaction when one is open. Returns 0 or a store error. */
int session_revoke_user(struct req *r, int64_t user_id, const char *keep_id);
/* Deletes the sessions that had ended at `now`: signed in more than
 * `absolute` seconds ago, or idle for more than `idle` seconds. Idleness
 * counts from the last_seen the servers write at most once a minute, so a
 * session is kept a minute longer than idle before its row goes (a server
 * may know a later request). Sets *deleted. Returns 0 or a store error.
 * Idempotent: the background job session_cleanup runs it. */
int session_purge(struct db *db, int64_t now, int idle, int absolute, int64_t *deleted);

extern const struct route auth_routes[];

#endif
