/*
 * router.c - matches a method and path against every module's route table.
 *
 * Tables are few and short, so matching is a linear walk comparing path
 * segments; ":name" segments capture. A path that matches some route but
 * not the method yields 405 with the Allow list.
 */
#include "core/router.h"

#include <string.h>

#define MAX_TABLES 32

static const struct route *tables[MAX_TABLES];
static size_t ntables;

void router_add(const struct route *table)
{
	for (size_t i = 0; i < ntables; i++)
		if (tables[i] == table)
			return;
	if (ntables < MAX_TABLES)
		tables[ntables++] = table;
}

void router_reset(void)
{
	ntables = 0;
}

size_t router_count(void)
{
	size_t n = 0;
	for (size_t t = 0; t < ntables; t++)
		for (const struct route *r = tables[t]; r->method; r++)
			n++;
	return n;
}

const struct route *router_at(size_t i)
{
	for (size_t t = 0; t < ntables; t++)
		for (const struct route *r = tables[t]; r->method; r++)
			if (i-- == 0)
				return r;
	return NULL;
}

/* Matches pattern against path (a writable copy); on success fills params
 * pointing into path, whose '/' separators get cut to NULs. Path is only
 * modified on success. */
static int match(const char *pattern, char *path, struct router_result *res)
{
	const char *p = pattern;
	const char *s = path;
	const char *names[4], *vals[4];
	size_t vlen[4];
	int n = 0;
	while (*p && *s) {
		if (*p != '/' || *s != '/')
			return 0;
		p++, s++;
		const char *pe = strchr(p, '/');
		size_t pl = pe ? (size_t)(pe - p) : strlen(p);
		const char *se = strchr(s, '/');
		size_t sl = se ? (size_t)(se - s) : strlen(s);
		if (*p == ':') {
			if (sl == 0 || n == 4)
				return 0;
			names[n] = p + 1;
			vals[n] = s;
			vlen[n] = sl;
			n++;
		} else if (pl != sl || memcmp(p, s, pl) != 0) {
			return 0;
		}
		p += pl;
		s += sl;
	}
	if (*p || *s)
		return 0;
	/* commit: cut the captured values */
	res->nparams = n;
	for (int i = 0; i < n; i++) {
		char *v = path + (vals[i] - path);
		v[vlen[i]] = '\0';
		res->pval[i] = v;
		res->pname[i] = names[i];
	}
	return 1;
}

static int name_eq(const char *name, const char *pat_after_colon)
{
	size_t n = strlen(name);
	return strncmp(name, pat_after_colon, n) == 0 &&
	       (pat_after_colon[n] == '/' || pat_after_colon[n] == '\0');
}

/* Params point into the pattern for names; callers compare with
 * router_param_name_eq semantics via req_param. */
int router_param_is(const char *pname, const char *name)
{
	return name_eq(name, pname);
}

int router_match(const char *method, const char *path, char *path_copy, struct router_result *res)
{
	memset(res, 0, sizeof *res);
	const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
	size_t plen = strlen(path);
	int path_seen = 0;
	for (size_t t = 0; t < ntables; t++) {
		for (const struct route *r = tables[t]; r->method; r++) {
			memcpy(path_copy, path, plen + 1);
			struct router_result tmp = {0};
			if (!match(r->pattern, path_copy, &tmp))
				continue;
			if (strcmp(r->method, m) == 0) {
				*res = tmp;
				res->route = r;
				return ROUTER_FOUND;
			}
			if (!path_seen) {
				path_seen = 1;
				res->allow[0] = '\0';
			}
			if (!strstr(res->allow, r->method)) {
				size_t al = strlen(res->allow);
				const char *extra = strcmp(r->method, "GET") == 0 ? "GET, HEAD" : r->method;
				if (al + strlen(extra) + 3 < sizeof res->allow) {
					if (al)
						strcat(res->allow, ", ");
					strcat(res->allow, extra);
				}
			}
		}
	}
	return path_seen ? ROUTER_NO_METHOD : ROUTER_NO_PATH;
}
