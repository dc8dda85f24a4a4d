/*
 * regkit.h - the small pieces every registry (学校名录, 场所, and the
 * ledgers to come) needs around its handlers and its SQL, written once:
 *
 *   - request helpers: the :id of a path, query arguments checked as a
 *     field would be, the list filter on text (LIKE-escaped), a field
 *     error answered in the one error shape;
 *   - a column table (name and type) that reads a row into the API's JSON
 *     shape and binds a record's values into INSERT and UPDATE, so a
 *     registry's store lists its columns once;
 *   - look-ups of the admin module's regions and units that registries do
 *     to name them and to resolve what a user typed (read-only; SQL in
 *     regkit_store.c), with a per-import cache.
 *
 * The school registry (src/schools/) and the venue registry (src/venues/)
 * use these. Nothing here keeps global state.
 */
#ifndef XIAOAN_REGKIT_H
#define XIAOAN_REGKIT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/valid.h"

struct req;
struct db;
struct sqlb;
struct stmt;
struct principal;

/*--- a memo of serialised records ---*/

/* A registry's read of one record costs more in building and printing its
 * JSON than in SQL. A memo keeps, per record id, the JSON text made from a
 * row together with that row's exact bytes (stmt_row_key): the next read
 * of the same row (same id, every column equal, whoever changed what in
 * between, on this server or another) reuses the text; any difference in
 * any column makes a new one. It is a pure cache of a function of the row:
 * correctness never depends on invalidation. Fixed size (slots by id),
 * thread-safe; the module owns one. */
struct rk_memo;
struct rk_memo *rk_memo_new(void);
void rk_memo_free(struct rk_memo *m);
/* The text kept for id made from exactly key (malloc'd copy, *len bytes),
 * or NULL. */
char *rk_memo_get(struct rk_memo *m, int64_t id, const char *key, size_t keylen, size_t *len);
/* Keeps text (copied) as made from key for id, replacing what the slot held. */
void rk_memo_put(struct rk_memo *m, int64_t id, const char *key, size_t keylen, const char *text, size_t len);
/* Prepares b (which it frees) and steps to its first row: 0 with *st on
 * it, STORE_NOTFOUND (no row; nothing to finalize) or a store error. */
int rk_step_one(struct db *db, struct sqlb *b, struct stmt **st);
/* A registry's read of record id as JSON text (malloc'd, *len bytes):
 * prepares and steps b (which it frees), and when a row comes back, keys
 * its first ncols columns; the memo's text when it holds those bytes, else
 * to_json(row) printed with flags (kept in the memo). STORE_NOTFOUND when
 * no row. */
int rk_fetch_text(struct db *db, struct sqlb *b, int64_t id, int ncols, json_t *(*to_json)(struct stmt *st),
		  struct rk_memo *memo, size_t flags, char **text, size_t *len);

/*--- request helpers ---*/

/* The :id of the path; anything but a positive integer answers 404 and
 * returns -1. */
int rk_parse_id(struct req *r, int64_t *id);

/* page (1..1000000, default 1) and page_size (1..200, default 20) of a
 * list. Answers 400 and returns -1 when either is bad. */
int rk_query_page(struct req *r, int64_t *page, int64_t *size);
/* An each() callback of the stores' list walkers: appends rec to the JSON
 * array arg. */
int rk_append_item(void *arg, json_t *rec);

/* Answers 400 (or status) with a field error. Returns 0. */
int rk_reply_verr(struct req *r, int status, const struct verr *e);

/* Fills e and returns 1 (a row or field error, as the prepare functions
 * return it). */
int rk_verr(struct verr *e, const char *code, const char *field, const char *message);

/* Copies s into out (outlen bytes) cut at a character boundary, so that
 * messages quoting user text stay valid UTF-8. Returns out. */
const char *rk_clip(const char *s, char *out, size_t outlen);

/* An integer query argument within [lo, hi]; dflt when absent or "".
 * Replies 400 validation.range naming param with msg and returns -1 when
 * bad. */
int rk_query_int(struct req *r, const char *param, int64_t lo, int64_t hi, int64_t dflt, int64_t *out,
		 const char *msg);

/* A query argument checked as field f checks a cell ("" = absent, *out
 * NULL). The value is copied into the request's arena. Replies 400 naming
 * param and returns -1 when bad. */
int rk_query_field(struct req *r, const char *param, const struct vfield *f, const char **out);

/* ?q= checked as text of at most 100 characters (see rk_query_field). */
int rk_query_q(struct req *r, const char **out);

/* ?<param>= as a region code that exists (any level), for list filters
 * on a subtree. Replies 400 (validation.format or <prefix>.region_unknown)
 * and returns -1 when bad. */
int rk_query_region(struct req *r, const char *param, const char *err_prefix, const char **out);

/* ?sort=name|-name: the SQL of the named column from map (NULL-terminated
 * pairs api name, SQL), dflt when absent. Replies 400 validation.enum with
 * msg and returns -1 for another name. */
int rk_query_sort(struct req *r, const char *const *map, const char *dflt, const char *msg, const char **sql,
		  int *desc);

/* A LIKE pattern "%q%" with % _ and \ escaped by \ (use ESCAPE '\').
 * Returns a malloc'd string; the caller frees it. */
char *rk_like_contains(const char *q);

/* Appends " AND (lower(c1) LIKE lower(pat) ESCAPE '\' OR ...)" for each of
 * the NULL-terminated columns. pat must outlive the statement. */
void rk_sql_contains(struct sqlb *b, const char *const *cols, const char *pat);

/* Appends " AND col IN (<region code> and its subtree)". */
void rk_sql_region_subtree(struct sqlb *b, const char *col, const char *region_code);

/*--- a registry's columns ---*/

enum rk_ctype {
	RK_TEXT,  /* NOT NULL text: JSON null is stored as "" and read back as "" */
	RK_NTEXT, /* nullable text: a JSON string, else NULL (read back as null) */
	RK_INT,   /* nullable integer */
	RK_REAL,  /* nullable double */
	RK_BOOL,  /* 0/1 */
	RK_JSON,  /* NOT NULL text holding JSON (an array or object) */
};

struct rk_col {
	const char *name; /* the column and the API's field name */
	enum rk_ctype type;
};

/* Appends "prefix.c1, prefix.c2, ..." (no trailing comma). */
void rk_sql_cols(struct sqlb *b, const struct rk_col *cols, size_t n, const char *prefix);

/* Reads columns first..first+n-1 of the current row into o by name. */
void rk_row_read(struct stmt *st, int first, const struct rk_col *cols, size_t n, json_t *o);

/* INSERT INTO table (cols..., created_at, updated_at) VALUES (...)
 * RETURNING id. Returns 0 with *id, or a store error. */
int rk_insert(struct db *db, const char *table, const struct rk_col *cols, size_t n, json_t *rec, const char *at,
	      int64_t *id);

/* UPDATE table SET cols..., updated_at = at, deleted_at = NULL WHERE id:
 * also revives a soft-deleted row. STORE_NOTFOUND when no row has id. */
int rk_update(struct db *db, const char *table, const struct rk_col *cols, size_t n, int64_t id, json_t *rec,
	      const char *at);

/* Soft delete: deleted_at = updated_at = at where not deleted yet.
 * STORE_NOTFOUND when no live row has id. */
int rk_soft_delete(struct db *db, const char *table, int64_t id, const char *at);

/* The record as reading it back after rk_update(before -> rec) would give
 * it, built without the read: a copy of before with each changed column
 * set to rec's value as the table stores and rk_row_read returns it. Only
 * for the columns given; NULL when a changed column is RK_JSON (read that
 * back). The caller sets updated_at and anything joined from elsewhere. */
json_t *rk_rec_after(const struct rk_col *cols, size_t n, json_t *before, json_t *rec);

/* 1 when a and b hold the same values for every column (numbers compared
 * to 1e-9). */
int rk_same(const struct rk_col *cols, size_t n, json_t *a, json_t *b);

/* Steps a write statement built in b (and frees b); STORE_DONE and
 * STORE_ROW are success (0). */
int rk_run(struct sqlb *b, struct db *db);

/*--- regions and units (the admin module's tables, read only) ---*/

/* A county or township a record may belong to: enabled, level county or
 * township; writes its name. STORE_NOTFOUND otherwise. */
int rk_region_usable(struct db *db, const char *code, char *name, size_t namelen);
/* Any region by code. 0 or STORE_NOTFOUND. */
int rk_region_exists(struct db *db, const char *code);
/* Resolves a code, or a name unique among the county/township regions p
 * may use, into code[16]. 0, STORE_NOTFOUND, 1 when the name is
 * ambiguous, or a store error. */
int rk_region_find(struct db *db, const struct principal *p, const char *text, char code[16]);
/* An enabled unit by id; writes its name. STORE_NOTFOUND otherwise. */
int rk_unit_usable(struct db *db, int64_t id, char *name, size_t namelen);
/* Resolves an enabled unit's code or name into *id: 0, STORE_NOTFOUND, 1
 * when the name is ambiguous, or a store error. */
int rk_unit_find(struct db *db, const char *text, int64_t *id);

/* Resolves a township (region=1) or unit (region=0) cell text through
 * cache (a JSON object owned by the caller, one per import: files name the
 * same few places thousands of times). *hit (borrowed) is a region code
 * string, {"id":N} for a unit, or an integer: 0 unknown, 1 ambiguous.
 * Returns 0 or a store error. */
int rk_resolve_cached(struct req *r, json_t *cache, const char *text, int region, json_t **hit);

#endif
