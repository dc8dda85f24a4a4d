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

extern const struct route auth_routes[];

#endif
