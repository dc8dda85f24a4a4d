/*
 * store_impl.h - what the backends share with store.c. Not for modules.
 *
 * Each backend's store, connection and statement begin with the base
 * structs below (the backend's own struct embeds them as its first member),
 * so store.c can reach the backend's operations from any handle and the
 * public API in store.h is one set of functions for both databases.
 */
#ifndef XIAOAN_STORE_IMPL_H
#define XIAOAN_STORE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct store_ops {
	enum store_kind kind;
	void (*close)(struct store *s);
	struct db *(*acquire)(struct store *s);
	void (*release)(struct db *db);
	int (*exec)(struct db *db, const char *sql);
	const char *(*errmsg)(struct db *db);
	int (*begin)(struct db *db);
	void (*expect_write)(struct db *db); /* may be NULL */
	int (*commit)(struct db *db);
	int (*rollback)(struct db *db);
	int64_t (*changes)(struct db *db);
	int (*prepare)(struct db *db, struct stmt **out, const char *sql);
	int (*bind_text)(struct stmt *st, int idx, const char *v);
	int (*bind_int64)(struct stmt *st, int idx, int64_t v);
	int (*bind_double)(struct stmt *st, int idx, double v);
	int (*bind_null)(struct stmt *st, int idx);
	int (*bind_blob)(struct stmt *st, int idx, const void *p, size_t n);
	int (*step)(struct stmt *st);
	int (*reset)(struct stmt *st);
	int (*ncols)(struct stmt *st);
	const char *(*colname)(struct stmt *st, int col);
	const char *(*text)(struct stmt *st, int col);
	int64_t (*int64)(struct stmt *st, int col);
	double (*dbl)(struct stmt *st, int col);
	int (*is_null)(struct stmt *st, int col);
	const void *(*blob)(struct stmt *st, int col, size_t *n);
	/* a column's value as the database holds it: *kind 0 NULL, 1 an
	 * integer's or 3 a double's eight bytes (put in tmp), 2 the bytes of
	 * text or a blob */
	const void *(*raw)(struct stmt *st, int col, size_t *n, int *kind, unsigned char tmp[8]);
	void (*finalize)(struct stmt *st);
};

struct store {
	const struct store_ops *ops;
};

struct db {
	struct store *store;
	int in_tx;            /* a transaction opened by db_begin is open */
};

struct stmt {
	const struct store_ops *ops;
	struct db *db;
};

struct store *sqlite_store_open(const char *path, int pool, char *err, size_t errlen);
struct store *pg_store_open(const char *url, int pool, char *err, size_t errlen);

/* Raw handle for SQLite-only tools (backup, integrity check); NULL when db
 * is not a SQLite connection. Modules never use it. */
void *sqlite_handle(struct db *db);

/* SQLite's online backup of s's database into a new file at path (refused
 * when path exists; created with mode 0600), for `xiaoan backup`. Reads one
 * snapshot in chunks on a connection of its own: a server writing to the
 * database meanwhile is not held up, and its later commits are not in the
 * copy. Then runs PRAGMA integrity_check on the copy. *pages gets the
 * number of pages copied. Returns 0; -1 with a reason in err (a partial
 * copy is removed); 1 when the copy was written but integrity_check
 * reported problems (the first of them in err). */
int sqlite_backup_to(struct store *s, const char *path, int *pages, char *err, size_t errlen);

#endif
