/*
 * http.h - what a handler sees of a request and how it answers.
 *
 * The server (core/server.c) owns libmicrohttpd; it builds a struct req per
 * request with its own arena, runs the router's central checks (route,
 * method, body size, content type, session, CSRF, permission) and only then
 * calls the handler. A handler answers through reply_*; exactly one reply
 * per request. Errors always go through reply_error so they share one shape:
 *   {"error":{"code":"...","message":"<Chinese>","field":"..."}}
 */
#ifndef XIAOAN_HTTP_H
#define XIAOAN_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

struct db;
struct store;
struct config;

#define REQ_MAX_PARAMS 4

/* The caller, once the session is checked (auth/session.c fills it). */
struct principal {
	int64_t user_id;
	const char *username;
	const char *display_name;
	int64_t unit_id;
	const char *unit_code;
	/* data scope: 属地管理/分级负责 */
	const char *scope_kind;   /* "region", "unit", "school", "all" */
	const char *scope_value;  /* region code, unit code, school id */
	const char *scope_path;   /* region: materialised path "/code/.../"; unit: unit path */
	const char *perms;        /* space-separated permissions, " p1 p2 " */
	const char *roles;        /* space-separated role codes */
	int must_change_password;
	int must_enroll_totp;      /* a role requires TOTP and none is set up yet */
	const char *csrf;
	const char *session_id;   /* hash of the token; never the token */
};

struct req {
	struct arena *arena;
	struct config *cfg;
	struct store *store;
	struct db *db;              /* taken lazily by req_db(); released by the server */
	const char *method;         /* "GET", ... (HEAD is served as GET) */
	const char *path;
	const char *request_id;
	const char *client_ip;
	int tls;                    /* the request came over TLS (directly or via trusted proxy) */
	const char *content_type;
	const char *body;           /* NUL-terminated copy; may contain NULs for binary uploads */
	size_t body_len;
	void *conn;                 /* struct MHD_Connection * */
	const struct route *route;
	int nparams;
	const char *pname[REQ_MAX_PARAMS];
	const char *pval[REQ_MAX_PARAMS];
	struct principal *user;     /* NULL on public routes without a session */
	json_t *json_owned;         /* body parsed by req_json, freed with the request */
	int64_t started_us;         /* monotonic start, for the log line */
	/* the answer */
	int status;
	const char *resp_type;
	char *resp_body;            /* malloc'd; the server frees it */
	size_t resp_len;
	int nheaders;
	const char *hname[8];
	const char *hval[8];
};

/* Route parameter (":id") by name, or NULL. */
const char *req_param(struct req *r, const char *name);
/* Query-string argument by name (decoded), or NULL. */
const char *req_query(struct req *r, const char *name);
/* Request header by name, or NULL. */
const char *req_header(struct req *r, const char *name);
/* Cookie by name, or NULL. */
const char *req_cookie(struct req *r, const char *name);
/* The connection for this request, taken from the pool on first use. */
struct db *req_db(struct req *r);

/* Parses the body as a JSON object. On failure it has already replied 400
 * (or 415) and returns NULL. The object is freed with the request. */
json_t *req_json(struct req *r);

/* How reply_json prints JSON (for modules that keep printed bodies). */
#define REPLY_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))
#define REPLY_JSON_TYPE "application/json; charset=utf-8"

/* Answers. reply_json steals the reference to j. */
int reply_json(struct req *r, int status, json_t *j);
/* A page of a list: 200 {"items":[...],"total":N,"page":P,"page_size":S}
 * (steals items). */
int reply_page(struct req *r, json_t *items, int64_t total, int64_t page, int64_t size);
int reply_raw(struct req *r, int status, const char *type, const void *body, size_t len);
/* Takes ownership of a malloc'd body. */
int reply_take(struct req *r, int status, const char *type, char *body, size_t len);
int reply_error(struct req *r, int status, const char *code, const char *message, const char *field);
int reply_no_content(struct req *r);
void reply_header(struct req *r, const char *name, const char *value);

/* Common errors, one place for their wording. */
int reply_not_found(struct req *r);       /* 404 not_found 记录不存在 */
int reply_forbidden(struct req *r);       /* 403 forbidden 没有权限 */
int reply_internal(struct req *r, const char *what); /* 500, logs what */
/* Maps a store error to 409 (constraint), 503 (busy) or 500. */
int reply_store_error(struct req *r, int rc, const char *conflict_code, const char *conflict_msg,
		      const char *field);

/* Principal helpers. */
int principal_has(const struct principal *p, const char *perm);

#endif
