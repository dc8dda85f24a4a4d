/*
 * config.h - server configuration: defaults, then xiaoan.conf, then
 * XIAOAN_* environment variables, then command-line flags (last wins).
 *
 * xiaoan.conf is "key = value" lines; '#' starts a comment. Keys are the
 * field names below (listen, data_dir, database, ...); the environment
 * variable for a key is XIAOAN_ plus the key in upper case.
 */
#ifndef XIAOAN_CONFIG_H
#define XIAOAN_CONFIG_H

#include <stddef.h>

struct config {
	char listen[128];          /* host:port, default 127.0.0.1:8080 */
	char data_dir[512];        /* default ./var */
	char database[1024];       /* default sqlite:<data_dir>/xiaoan.db */
	char web_root[512];        /* built console, default web/dist when present */
	char tls_cert[512];        /* PEM; with tls_key serves HTTPS itself */
	char tls_key[512];
	int threads;               /* network threads (default: twice the cores, at least 4) */
	int write_threads;         /* threads that run writes (default 8; 0: on the network threads) */
	int max_connections;       /* default 1024 */
	int connection_timeout;    /* seconds idle before a connection is closed, default 30 */
	size_t body_max;           /* default body cap in bytes, default 1 MiB */
	int trust_proxy;           /* honour X-Forwarded-For/-Proto from a loopback proxy ... */
	char trusted_proxies[512]; /* ... and from these addresses (comma-separated), e.g. a balancer host */
	int session_idle;          /* seconds, default 1800 */
	int session_absolute;      /* seconds, default 43200 */
	int lock_failures;         /* failed logins before a lock, default 5 */
	int lock_seconds;          /* default 900 */
	int rate_per_minute;       /* public writes (sign-in) per client address per minute, default 120 */
	char tile_url[512];        /* map tile URL template for the console; empty = offline base */
	char title[128];           /* the console's title, e.g. "示范县校园安全综合治理平台"; default 校安 */
	int sched_tick;            /* seconds between the job scheduler's looks at the jobs table, default 15 */
	int zone_radius;           /* metres: the surroundings rows without a number cover, default 200 */
	int zone_margin;           /* metres: a distance this near a limit is 需审查, default 5 */
};

/* Fills defaults. */
void config_defaults(struct config *c);
/* Reads a conf file; a missing file is fine when !required. Returns 0, or
 * -1 with a one-line reason in err. */
int config_load_file(struct config *c, const char *path, int required, char *err, size_t errlen);
/* Applies XIAOAN_* variables. Returns 0 or -1 with err. */
int config_load_env(struct config *c, char *err, size_t errlen);
/* Sets one key from a string (used by file, env and flags). */
int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen);
/* Derives what depends on others (database from data_dir). */
void config_finish(struct config *c);

#endif
