/*
 * config.c - defaults, xiaoan.conf, XIAOAN_* variables and flags.
 */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->listen, sizeof c->listen, "127.0.0.1:8080");
	snprintf(c->data_dir, sizeof c->data_dir, "var");
	/* twice the cores, at least 4: a thread waiting on a commit's fsync
	 * stalls the connections it polls, so keep spares */
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	c->threads = n > 2 ? 2 * (int)n : 4;
	c->write_threads = 8;
	c->max_connections = 1024;
	c->connection_timeout = 30;
	c->body_max = (size_t)1 << 20;
	c->session_idle = 1800;
	c->session_absolute = 43200;
	c->lock_failures = 5;
	c->lock_seconds = 900;
	c->rate_per_minute = 120;
	c->sched_tick = 15;
	c->zone_radius = 200;
	c->zone_margin = 5;
	snprintf(c->title, sizeof c->title, "校安");
}

enum ktype { K_STR, K_INT, K_SIZE };

struct key {
	const char *name;
	enum ktype type;
	size_t off, size;
	long min, max;
};

#define S(f) { #f, K_STR, offsetof(struct config, f), sizeof(((struct config *)0)->f), 0, 0 }
#define I(f, lo, hi) { #f, K_INT, offsetof(struct config, f), sizeof(int), lo, hi }

static const struct key keys[] = {
	S(listen), S(data_dir), S(database), S(web_root), S(tls_cert), S(tls_key), S(tile_url), S(title), S(trusted_proxies),
	I(threads, 1, 256),
	I(write_threads, 0, 256),
	I(max_connections, 1, 100000),
	I(connection_timeout, 1, 3600),
	{ "body_max", K_SIZE, offsetof(struct config, body_max), sizeof(size_t), 1024, 1L << 30 },
	I(trust_proxy, 0, 1),
	I(session_idle, 60, 86400),
	I(session_absolute, 300, 7 * 86400),
	I(lock_failures, 1, 100),
	I(lock_seconds, 1, 86400),
	I(rate_per_minute, 1, 1000000),
	I(sched_tick, 1, 3600),
	I(zone_radius, 10, 2000),
	I(zone_margin, 0, 100),
};

int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const struct key *k = &keys[i];
		if (strcmp(k->name, key) != 0)
			continue;
		char *dst = (char *)c + k->off;
		if (k->type == K_STR) {
			if (strlen(value) >= k->size) {
				snprintf(err, errlen, "config %s: value too long", key);
				return -1;
			}
			memcpy(dst, value, strlen(value) + 1);
			return 0;
		}
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (errno || end == value || *end || v < k->min || v > k->max) {
			snprintf(err, errlen, "config %s: expected a whole number from %ld to %ld, got '%s'", key,
				 k->min, k->max, value);
			return -1;
		}
		if (k->type == K_INT)
			*(int *)dst = (int)v;
		else
			*(size_t *)dst = (size_t)v;
		return 0;
	}
	snprintf(err, errlen, "config: unknown key '%s'", key);
	return -1;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int config_load_file(struct config *c, const char *path, int required, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		if (!required && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "config %s: %s", path, strerror(errno));
		return -1;
	}
	char line[2048];
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		char *h = strchr(line, '#');
		if (h)
			*h = '\0';
		char *s = trim(line);
		if (!*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "config %s:%d: expected key = value", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		char *k = trim(s), *v = trim(eq + 1);
		size_t vl = strlen(v);
		if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
			v[vl - 1] = '\0';
			v++;
		}
		char e2[256];
		if (config_set(c, k, v, e2, sizeof e2) < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, e2);
			rc = -1;
			break;
		}
	}
	fclose(f);
	return rc;
}

int config_load_env(struct config *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		char name[64] = "XIAOAN_";
		size_t n = strlen(name);
		for (const char *p = keys[i].name; *p && n < sizeof name - 1; p++)
			name[n++] = (char)toupper((unsigned char)*p);
		name[n] = '\0';
		const char *v = getenv(name);
		if (!v && strcmp(keys[i].name, "data_dir") == 0)
			v = getenv("XIAOAN_DATA");
		if (v && config_set(c, keys[i].name, v, err, errlen) < 0)
			return -1;
	}
	return 0;
}

void config_finish(struct config *c)
{
	if (!c->database[0])
		snprintf(c->database, sizeof c->database, "sqlite:%s/xiaoan.db", c->data_dir);
	if (!c->web_root[0] && access("web/dist/index.html", R_OK) == 0)
		snprintf(c->web_root, sizeof c->web_root, "web/dist");
}
