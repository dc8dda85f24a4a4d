/*
 * server.h - the HTTP server: libmicrohttpd with an internal thread pool.
 */
#ifndef XIAOAN_SERVER_H
#define XIAOAN_SERVER_H

#include <stddef.h>

struct config;
struct store;

/* Serves until SIGTERM or SIGINT, then stops accepting, lets requests in
 * flight finish (up to 10 s) and returns 0; -1 if it could not start. */
int server_run(struct config *cfg, struct store *st);

/* The hooks the server calls around every request; set by the auth module
 * (kept as pointers so core does not depend on auth). */
struct req;
struct server_hooks {
	/* Reads the session cookie and fills r->user, or leaves it NULL. */
	void (*authenticate)(struct req *r);
	/* Called when the response is known, before it is sent (cookie refresh). */
	void (*finish)(struct req *r);
};
void server_set_hooks(const struct server_hooks *h);

/* Fixed-window limiter per client address, shared by public routes.
 * Returns 1 when the caller is over limit_per_minute. */
int ratelimit_hit(const char *client, int limit_per_minute);

/* Is ip one of the comma-separated addresses in list (the trusted_proxies
 * setting)? Exact matches only. */
int server_proxy_listed(const char *list, const char *ip);

/* Embedded mode, for fuzzing whole requests in-process: a daemon without
 * a listening socket; feed() hands it one raw HTTP request over a socket
 * pair (client address 127.0.0.1) and returns the bytes of the answer
 * (at most cap). */
struct server_embedded;
struct server_embedded *server_embedded_start(struct config *cfg, struct store *st);
size_t server_embedded_feed(struct server_embedded *e, const void *req, size_t len, char *resp, size_t cap);
void server_embedded_stop(struct server_embedded *e);

#endif
