/*
 * store.c - backend selection, dispatch of the store API to the backend
 * (store_sqlite.c or store_pg.c), and the helpers every backend shares:
 * single-value queries and the numbered-parameter SQL builder.
 */
#include "store/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_impl.h"

struct store *store_open(const char *url, int pool, char *err, size_t errlen)
{
	if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
		return pg_store_open(url, pool, err, errlen);
	const char *path = strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
	if (!*path) {
		snprintf(err, errlen, "database url '%s': empty path", url);
		return NULL;
	}
	return sqlite_store_open(path, pool, err, errlen);
}

/*--- dispatch to the backend ----------------------------------------------*/

void store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}

enum store_kind store_kind(const struct store *s)
{
	return s->ops->kind;
}

struct db *store_acquire(struct store *s)
{
	return s->ops->acquire(s);
}

void store_release(struct db *db)
{
	if (db)
		db->store->ops->release(db);
}

struct store *db_store(struct db *db)
{
	return db->store;
}

int store_ping(struct store *s)
{
	struct db *db = store_acquire(s);
	int64_t v = 0;
	int rc = db_query_int64(db, &v, "SELECT 1", 0);
	store_release(db);
	return rc == STORE_OK && v == 1 ? 0 : -1;
}

int db_exec(struct db *db, const char *sql)
{
	return db->store->ops->exec(db, sql);
}

const char *db_errmsg(struct db *db)
{
	return db->store->ops->errmsg(db);
}

int db_begin(struct db *db)
{
	return db->store->ops->begin(db);
}

int db_commit(struct db *db)
{
	return db->store->ops->commit(db);
}

int db_rollback(struct db *db)
{
	return db->store->ops->rollback(db);
}

void db_expect_write(struct db *db)
{
	if (db && db->store->ops->expect_write)
		db->store->ops->expect_write(db);
}

int db_in_tx(struct db *db)
{
	return db->in_tx;
}

int64_t db_changes(struct db *db)
{
	return db->store->ops->changes(db);
}

int db_prepare(struct db *db, struct stmt **out, const char *sql)
{
	return db->store->ops->prepare(db, out, sql);
}

int stmt_bind_text(struct stmt *st, int idx, const char *v)
{
	return st->ops->bind_text(st, idx, v);
}

int stmt_bind_int64(struct stmt *st, int idx, int64_t v)
{
	return st->ops->bind_int64(st, idx, v);
}

int stmt_bind_double(struct stmt *st, int idx, double v)
{
	return st->ops->bind_double(st, idx, v);
}

int stmt_bind_null(struct stmt *st, int idx)
{
	return st->ops->bind_null(st, idx);
}

int stmt_bind_blob(struct stmt *st, int idx, const void *p, size_t n)
{
	return st->ops->bind_blob(st, idx, p, n);
}

int stmt_step(struct stmt *st)
{
	return st->ops->step(st);
}

int stmt_reset(struct stmt *st)
{
	return st->ops->reset(st);
}

int stmt_ncols(struct stmt *st)
{
	return st->ops->ncols(st);
}

const char *stmt_colname(struct stmt *st, int col)
{
	return st->ops->colname(st, col);
}

const char *stmt_text(struct stmt *st, int col)
{
	return st->ops->text(st, col);
}

int64_t stmt_int64(struct stmt *st, int col)
{
	return st->ops->int64(st, col);
}

double stmt_double(struct stmt *st, int col)
{
	return st->ops->dbl(st, col);
}

int stmt_is_null(struct stmt *st, int col)
{
	return st->ops->is_null(st, col);
}

const void *stmt_blob(struct stmt *st, int col, size_t *n)
{
	return st->ops->blob(st, col, n);
}

char *stmt_row_key(struct stmt *st, int first, int n, size_t *len)
{
	/* each value: its kind, its length (4 bytes), its bytes */
	size_t cap = 1024, used = 0;
	char *k = malloc(cap);
	if (!k)
		abort();
	for (int c = first; c < first + n; c++) {
		unsigned char tmp[8];
		size_t vn;
		int kind;
		const void *v = st->ops->raw(st, c, &vn, &kind, tmp);
		if (used + 5 + vn > cap) {
			while (used + 5 + vn > cap)
				cap *= 2;
			if (!(k = realloc(k, cap)))
				abort();
		}
		uint32_t n32 = (uint32_t)vn;
		k[used++] = (char)kind;
		memcpy(k + used, &n32, 4);
		used += 4;
		if (vn)
			memcpy(k + used, v, vn);
		used += vn;
	}
	*len = used;
	return k;
}

void stmt_finalize(struct stmt *st)
{
	if (st)
		st->ops->finalize(st);
}

/*--- helpers every backend shares -------------------------------------------*/

int db_query_int64(struct db *db, int64_t *out, const char *sql, int nparams, ...)
{
	struct stmt *st;
	int rc = db_prepare(db, &st, sql);
	if (rc)
		return rc;
	va_list ap;
	va_start(ap, nparams);
	for (int i = 1; i <= nparams; i++)
		stmt_bind_text(st, i, va_arg(ap, const char *));
	va_end(ap);
	rc = stmt_step(st);
	if (rc == STORE_ROW) {
		*out = stmt_int64(st, 0);
		rc = STORE_OK;
	} else if (rc == STORE_DONE) {
		rc = STORE_NOTFOUND;
	}
	stmt_finalize(st);
	return rc;
}

/* ---- SQL builder ----------------------------------------------------------- */

void sqlb_init(struct sqlb *b)
{
	memset(b, 0, sizeof *b);
}

void sqlb_free(struct sqlb *b)
{
	free(b->sql);
	memset(b, 0, sizeof *b);
}

void sqlb_add(struct sqlb *b, const char *sql)
{
	size_t n = strlen(sql);
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->sql, cap);
		if (!p)
			abort();
		b->sql = p;
		b->cap = cap;
	}
	memcpy(b->sql + b->len, sql, n + 1);
	b->len += n;
}

static struct sqlb_param *next_param(struct sqlb *b)
{
	if (b->np >= SQLB_MAXP)
		abort(); /* a programming error: filters are bounded */
	char tmp[16];
	snprintf(tmp, sizeof tmp, "$%d", b->np + 1);
	sqlb_add(b, tmp);
	return &b->p[b->np++];
}

void sqlb_text(struct sqlb *b, const char *v)
{
	struct sqlb_param *p = next_param(b);
	p->type = SQLB_TEXT;
	p->text = v;
}

void sqlb_int(struct sqlb *b, int64_t v)
{
	struct sqlb_param *p = next_param(b);
	p->type = SQLB_INT;
	p->i = v;
}

void sqlb_double(struct sqlb *b, double v)
{
	struct sqlb_param *p = next_param(b);
	p->type = SQLB_DOUBLE;
	p->d = v;
}

int sqlb_prepare(struct sqlb *b, struct db *db, struct stmt **out)
{
	int rc = db_prepare(db, out, b->sql ? b->sql : "");
	if (rc)
		return rc;
	for (int i = 0; i < b->np; i++) {
		const struct sqlb_param *p = &b->p[i];
		if (p->type == SQLB_TEXT)
			stmt_bind_text(*out, i + 1, p->text);
		else if (p->type == SQLB_INT)
			stmt_bind_int64(*out, i + 1, p->i);
		else
			stmt_bind_double(*out, i + 1, p->d);
	}
	return STORE_OK;
}
