/*
 * store.h - the one store API. Module SQL is written once, in the dialect
 * SQLite and PostgreSQL both accept: $1.. placeholders, RETURNING,
 * ON CONFLICT, CTEs. The backend hides the rest (placeholder mapping,
 * BEGIN IMMEDIATE on SQLite, the writer lock on PostgreSQL, error classes):
 * store_sqlite.c and store_pg.c.
 *
 * A struct store is the process-wide handle (a pool of connections).
 * A struct db is one connection, taken from the pool for the length of a
 * request or command and given back with store_release(). A struct db is
 * used by one thread at a time.
 *
 * Return conventions: 0 on success, a negative enum store_err on failure;
 * stmt_step() returns STORE_ROW or STORE_DONE on success.
 */
#ifndef XIAOAN_STORE_H
#define XIAOAN_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct db;
struct stmt;

enum store_err {
	STORE_OK = 0,
	STORE_ERR = -1,        /* anything else; message in db_errmsg() */
	STORE_CONSTRAINT = -2, /* unique / check / foreign-key violation */
	STORE_BUSY = -3,       /* lock not obtained within the busy timeout, or the
				* database out of reach before anything was written:
				* trying again later is safe */
	STORE_NOTFOUND = -4,   /* convenience for callers: no such row */
};

enum { STORE_ROW = 100, STORE_DONE = 101 };

enum store_kind { STORE_SQLITE = 1, STORE_POSTGRES = 2 };

/* Opens the database named by url ("sqlite:PATH", a plain path, or
 * "postgres://..."), with a pool of up to pool_size connections.
 * On failure returns NULL and writes a reason into err. */
struct store *store_open(const char *url, int pool_size, char *err, size_t errlen);
void store_close(struct store *s);
enum store_kind store_kind(const struct store *s);

/* Takes a connection from the pool (blocks while all are in use). */
struct db *store_acquire(struct store *s);
void store_release(struct db *db);
struct store *db_store(struct db *db);

/* Cheap liveness check for /readyz: 0 when the database answers. */
int store_ping(struct store *s);

/* Runs one or more statements without parameters or results. */
int db_exec(struct db *db, const char *sql);
const char *db_errmsg(struct db *db);

/* Write transactions. On SQLite db_begin takes the write lock at once
 * (BEGIN IMMEDIATE) so that two writers never deadlock on upgrade. On
 * PostgreSQL it takes the writer lock (an advisory lock held to the end of
 * the transaction), so there too write transactions run one at a time.
 * Nesting is not supported; db_in_tx tells whether one is open. */
int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);
int db_in_tx(struct db *db);
/* Says that this connection's request is a write that will soon call
 * db_begin: SQLite keeps its batch of writes open for it a little longer
 * (store_sqlite.c, "Batches"). Consumed by db_begin or the connection's
 * release. Nothing on PostgreSQL. */
void db_expect_write(struct db *db);

/* Prepares sql ($1.. placeholders). Statements may be cached per
 * connection; always pair with stmt_finalize. */
int db_prepare(struct db *db, struct stmt **out, const char *sql);
/* Parameters are numbered from 1 as in the SQL text. Strings are copied. */
int stmt_bind_text(struct stmt *st, int idx, const char *v);   /* NULL binds NULL */
int stmt_bind_int64(struct stmt *st, int idx, int64_t v);
int stmt_bind_double(struct stmt *st, int idx, double v);
int stmt_bind_null(struct stmt *st, int idx);
int stmt_bind_blob(struct stmt *st, int idx, const void *p, size_t n);
int stmt_step(struct stmt *st);
int stmt_reset(struct stmt *st);   /* ready to bind and step again */
int stmt_ncols(struct stmt *st);
const char *stmt_colname(struct stmt *st, int col);
/* Columns are numbered from 0. Text is valid until the next step/finalize;
 * NULL text comes back as NULL. */
const char *stmt_text(struct stmt *st, int col);
int64_t stmt_int64(struct stmt *st, int col);
double stmt_double(struct stmt *st, int col);
int stmt_is_null(struct stmt *st, int col);
const void *stmt_blob(struct stmt *st, int col, size_t *n);
/* The current row's columns [first, first + n) as the database holds them,
 * in one malloc'd byte string (*len bytes) that equals another row's
 * exactly when every value does: a key for caching what is made from a
 * row (io/regkit.h's rk_memo). */
char *stmt_row_key(struct stmt *st, int first, int n, size_t *len);
void stmt_finalize(struct stmt *st);

/* Number of rows the last INSERT/UPDATE/DELETE statement changed. */
int64_t db_changes(struct db *db);

/* ---- convenience for the common single-value query ---------------------- */
/* Runs sql with optional text params (nparams, then const char* values,
 * NULL binds NULL) and stores the first column of the first row.
 * Return STORE_OK, STORE_NOTFOUND (no row) or an error. */
int db_query_int64(struct db *db, int64_t *out, const char *sql, int nparams, ...);

/* ---- dynamic SQL with numbered parameters ------------------------------- */
/* A builder for list queries whose filters are optional: appends text and
 * parameters, numbering $N in order, then binds them all. */
enum sqlb_type { SQLB_TEXT, SQLB_INT, SQLB_DOUBLE };
struct sqlb_param {
	enum sqlb_type type;
	const char *text;
	int64_t i;
	double d;
};
#define SQLB_MAXP 32
struct sqlb {
	char *sql;          /* malloc'd, NUL-terminated */
	size_t len, cap;
	int np;
	struct sqlb_param p[SQLB_MAXP];
};
void sqlb_init(struct sqlb *b);
void sqlb_free(struct sqlb *b);
void sqlb_add(struct sqlb *b, const char *sql);
/* Appends "$N" and records the value (text is not copied; it must outlive
 * the builder's use). */
void sqlb_text(struct sqlb *b, const char *v);
void sqlb_int(struct sqlb *b, int64_t v);
void sqlb_double(struct sqlb *b, double v);
/* Prepares b->sql and binds every recorded parameter. */
int sqlb_prepare(struct sqlb *b, struct db *db, struct stmt **out);

/* ---- migrations ----------------------------------------------------------- */
/* Applies every migration newer than the schema's version, each in its own
 * transaction. Returns 0 or an error; *applied counts what was applied. */
int store_migrate(struct store *s, int *applied, char *err, size_t errlen);
/* The highest migration version this binary knows. */
int store_schema_version(void);

#endif
