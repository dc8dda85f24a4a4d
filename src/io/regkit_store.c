/*
 * regkit_store.c - the look-ups registries make of the admin module's
 * regions and units (see regkit.h): read only, to name a linked record and
 * to resolve what a user typed into a form or a file.
 */
#include <stdio.h>
#include <string.h>

#include "auth/access.h"
#include "io/regkit.h"
#include "store/store.h"

static int one_name(struct db *db, const char *sql, const char *text, int64_t num, char *name, size_t namelen)
{
	struct stmt *st;
	int rc = db_prepare(db, &st, sql);
	if (rc)
		return rc;
	if (text)
		stmt_bind_text(st, 1, text);
	else
		stmt_bind_int64(st, 1, num);
	rc = stmt_step(st);
	if (rc == STORE_ROW) {
		if (name && namelen)
			snprintf(name, namelen, "%s", stmt_text(st, 0) ? stmt_text(st, 0) : "");
		rc = 0;
	} else if (rc == STORE_DONE) {
		rc = STORE_NOTFOUND;
	}
	stmt_finalize(st);
	return rc;
}

int rk_region_usable(struct db *db, const char *code, char *name, size_t namelen)
{
	return one_name(db,
			"SELECT name FROM regions WHERE code = $1 AND disabled = 0 AND level IN ('county', 'township')",
			code, 0, name, namelen);
}

int rk_region_exists(struct db *db, const char *code)
{
	return one_name(db, "SELECT name FROM regions WHERE code = $1", code, 0, NULL, 0);
}

int rk_unit_usable(struct db *db, int64_t id, char *name, size_t namelen)
{
	return one_name(db, "SELECT name FROM units WHERE id = $1 AND disabled = 0", NULL, id, name, namelen);
}

#define MAX_CANDIDATES 16

int rk_region_find(struct db *db, const struct principal *p, const char *text, char code[16])
{
	struct stmt *st;
	int rc = db_prepare(db, &st,
			    "SELECT code FROM regions WHERE (code = $1 OR name = $1) AND disabled = 0"
			    " AND level IN ('county', 'township')"
			    " ORDER BY CASE WHEN code = $1 THEN 0 ELSE 1 END, code");
	if (rc)
		return rc;
	stmt_bind_text(st, 1, text);
	char cand[MAX_CANDIDATES][16];
	int n = 0, exact = 0;
	while ((rc = stmt_step(st)) == STORE_ROW && n < MAX_CANDIDATES) {
		const char *c = stmt_text(st, 0);
		if (!c || strlen(c) >= 16)
			continue;
		if (n == 0 && strcmp(c, text) == 0)
			exact = 1;
		snprintf(cand[n++], 16, "%s", c);
	}
	stmt_finalize(st);
	if (rc != STORE_DONE && rc != STORE_ROW)
		return rc;
	if (exact) {
		/* a code is a code: it never falls back to a name */
		if (!scope_region_ok(db, p, cand[0]))
			return STORE_NOTFOUND;
		memcpy(code, cand[0], 16);
		return 0;
	}
	/* a name: it must be unique among the regions the caller may use */
	int found = 0;
	for (int i = 0; i < n; i++) {
		if (!scope_region_ok(db, p, cand[i]))
			continue;
		if (found++)
			return 1;
		memcpy(code, cand[i], 16);
	}
	return found ? 0 : STORE_NOTFOUND;
}

int rk_unit_find(struct db *db, const char *text, int64_t *id)
{
	struct stmt *st;
	int rc = db_prepare(db, &st,
			    "SELECT id, code FROM units WHERE (code = $1 OR name = $1) AND disabled = 0"
			    " ORDER BY CASE WHEN code = $1 THEN 0 ELSE 1 END, id");
	if (rc)
		return rc;
	stmt_bind_text(st, 1, text);
	int n = 0;
	while ((rc = stmt_step(st)) == STORE_ROW) {
		const char *c = stmt_text(st, 1);
		if (n == 0) {
			*id = stmt_int64(st, 0);
			if (c && strcmp(c, text) == 0) {
				n = 1;
				rc = STORE_DONE;
				break;
			}
		}
		if (++n > 1)
			break;
	}
	stmt_finalize(st);
	if (rc != STORE_DONE && rc != STORE_ROW)
		return rc;
	return n == 0 ? STORE_NOTFOUND : n > 1 ? 1 : 0;
}
