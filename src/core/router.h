/*
 * router.h - one route table per module, matched by one router.
 *
 * Each module exports `const struct route name_routes[]` ending in a
 * zeroed entry. The router answers 404 (no path), 405 (path but not the
 * method, with Allow), 413 (body over the route's cap), 415 (a body that is
 * not of an accepted type) and HEAD itself; then the server checks the
 * session, CSRF and permission before the handler runs.
 */
#ifndef XIAOAN_ROUTER_H
#define XIAOAN_ROUTER_H

#include <stddef.h>

struct req;

typedef int (*route_fn)(struct req *r);

enum route_flags {
	ROUTE_PUBLIC = 1 << 0,      /* no session needed */
	ROUTE_NO_CSRF = 1 << 1,     /* state-changing but exempt from CSRF (login) */
	ROUTE_UPLOAD = 1 << 2,      /* body is a file: text/csv or .xlsx, not JSON */
	ROUTE_PWCHANGE_OK = 1 << 3, /* allowed while a password change is forced */
	ROUTE_OPTIONAL_AUTH = 1 << 4, /* public, but a session is read when present */
};

struct route {
	const char *method;   /* "GET", "POST", "PATCH", "PUT", "DELETE" */
	const char *pattern;  /* "/api/schools/:id" */
	route_fn handler;
	const char *perm;     /* permission needed, NULL = any signed-in user */
	size_t body_max;      /* 0 = default cap (1 MiB) */
	unsigned flags;
};

#define ROUTE_BODY_DEFAULT ((size_t)1 << 20)

/* Registers a module's table (called once at start, before serving). */
void router_add(const struct route *table);
void router_reset(void);

enum router_match {
	ROUTER_FOUND = 0,
	ROUTER_NO_PATH = 404,
	ROUTER_NO_METHOD = 405,
};

/* Matches method+path. On ROUTER_FOUND *out is the route and params are
 * filled (pointing into a copy made in the arena-less buffer the caller
 * passes: path_copy, at least strlen(path)+1 bytes). On ROUTER_NO_METHOD
 * allow receives the allowed methods ("GET, HEAD, POST"). */
struct router_result {
	const struct route *route;
	int nparams;
	const char *pname[4];
	const char *pval[4];
	char allow[64];
};
int router_match(const char *method, const char *path, char *path_copy, struct router_result *res);

/* Walks every registered route (for tests and the OpenAPI check). */
size_t router_count(void);
const struct route *router_at(size_t i);

/* True when a captured parameter's pattern name (as stored in pname,
 * which points into the pattern) is `name`. */
int router_param_is(const char *pname, const char *name);

#endif
