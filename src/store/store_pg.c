/*
 * store_pg.c - the store API on PostgreSQL (libpq), selected by a
 * "postgres://" or "postgresql://" database URL.
 *
 * A pool of connections (as many as the SQLite backend's: the server's
 * threads plus four), opened as needed. "$N" placeholders are PostgreSQL's
 * own; values travel as text (blobs as binary) and the server infers their
 * types from the statement, so module SQL binds exactly as on SQLite.
 * Results come back whole, as text: stmt_text is PQgetvalue (NULL for SQL
 * NULL), stmt_int64 and stmt_double parse it. Each connection caches its
 * prepared statements by SQL text (PQprepare under a generated name),
 * evicting idle ones round robin when full, as the SQLite backend does.
 *
 * Writers. On SQLite a write transaction (BEGIN IMMEDIATE behind the
 * in-process writer mutex) runs alone, and module code relies on it: a
 * handler reads, checks and then writes inside db_begin, and the audit
 * chain reads its head row and advances it. On PostgreSQL, under READ
 * COMMITTED, two such transactions would interleave. So db_begin takes a
 * transaction-scoped advisory lock, the writer lock, right after BEGIN:
 * write transactions run one at a time across every server on the
 * database, exactly as on SQLite, and each of their statements sees every
 * commit made before it. Reads outside db_begin are not held up. Waiting
 * for the lock (or any row lock) ends after lock_timeout, 10 s like
 * SQLite's busy timeout, with STORE_BUSY. The audit trail also locks its
 * head row on its own (audit.c), so the chain stays safe even for a writer
 * that would not take the writer lock.
 *
 * Errors: SQLSTATE class 23 is STORE_CONSTRAINT; 40001, 40P01 and 55P03
 * (serialization failure, deadlock, lock not available) are STORE_BUSY.
 *
 * A dropped connection (the server restarted, or ended the session) is
 * noticed before anything is sent on it: the server's goodbye (a FATAL
 * message, then end of file) is waiting on the idle socket. Outside a
 * transaction the connection is then reset and the statement sent on the
 * new one, so nothing is lost and nothing runs twice. A statement, or a
 * COMMIT, that was sent when the connection died is never sent again: its
 * outcome is unknown, and the caller gets STORE_ERR. Inside a transaction
 * a lost connection means the transaction never commits: STORE_BUSY, and
 * the connection is reset once the caller has rolled back.
 */
#include <ctype.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_impl.h"

#define STMT_CACHE 96
#define MAXP 64
/* the writer lock's key: any constant every Xiaoan server agrees on
 * ("xiaoan" in ASCII); advisory locks are per database */
#define WRITER_LOCK "SELECT pg_advisory_xact_lock(132394001588590)"

struct pg_stmt {
	struct stmt base;
	struct pg_db *db;
	char *sql;            /* the text; the cache key when cached */
	uint64_t hash;        /* of sql, compared before the text */
	char name[16];        /* prepared statement name (cached ones) */
	unsigned gen;         /* connection generation it was prepared on; 0 never */
	int cached, in_use;
	int nparams;          /* the highest $N in the text */
	char *val[MAXP];      /* bound values (malloc'd); NULL is SQL NULL */
	int len[MAXP], fmt[MAXP];
	int executed, rc;     /* sent since the last reset, and how that went */
	PGresult *res;
	int row, nrows;
	unsigned char *blob;  /* stmt_blob's unescaped copy of the current cell */
};

struct pg_db {
	struct db base;       /* base.in_tx: a db_begin transaction is open */
	struct pg_store *store;
	PGconn *c;
	unsigned gen;         /* bumped on every (re)connect */
	int closing;          /* the server announced it is ending this session */
	int tx_lost;          /* the connection dropped inside the transaction */
	int64_t changes;
	unsigned next_name;
	char err[512];
	struct pg_stmt *cache[STMT_CACHE];
	int ncache, evict;
	struct pg_db *next_free;
};

struct pg_store {
	struct store base;
	char *url;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pg_db **all;
	int nall, max;
	struct pg_db *free_list;
};

static const struct store_ops pg_ops;

#define PDB(d) ((struct pg_db *)(d))
#define PST(s) ((struct pg_stmt *)(s))

/*--- errors ------------------------------------------------------------------*/

static void set_err(struct pg_db *db, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(db->err, sizeof db->err, fmt, ap);
	va_end(ap);
	size_t n = strlen(db->err);
	while (n && (db->err[n - 1] == '\n' || db->err[n - 1] == ' '))
		db->err[--n] = '\0';
}

static int conn_ok(struct pg_db *db)
{
	return PQstatus(db->c) == CONNECTION_OK && !db->closing;
}

/* The store code of a failed result (res may be NULL), with its message
 * kept for db_errmsg. A statement that failed because the connection went
 * away is STORE_BUSY inside a transaction (which can then never commit) and
 * STORE_ERR outside one (it may or may not have run). */
static int fail_rc(struct pg_db *db, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : "";
	set_err(db, "%s", msg && *msg ? msg : PQerrorMessage(db->c));
	if (!conn_ok(db)) {
		if (db->base.in_tx) {
			db->tx_lost = 1;
			return STORE_BUSY;
		}
		return STORE_ERR;
	}
	if (!state)
		return STORE_ERR;
	if (strncmp(state, "23", 2) == 0)
		return STORE_CONSTRAINT;
	if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"))
		return STORE_BUSY;
	return STORE_ERR;
}

static int res_ok(const PGresult *res)
{
	ExecStatusType t = PQresultStatus(res);
	return t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK || t == PGRES_EMPTY_QUERY;
}

/*--- connections ---------------------------------------------------------------*/

/* Messages that arrive while no query runs come here. The server's FATAL
 * (or an operator-intervention code, 57P01 on shutdown) says the session
 * is ending; ordinary notices (CREATE ... IF NOT EXISTS) are dropped
 * rather than printed on stderr. */
static void on_notice(void *arg, const PGresult *res)
{
	struct pg_db *db = arg;
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if ((sev && (!strcmp(sev, "FATAL") || !strcmp(sev, "PANIC"))) || (state && !strncmp(state, "57P", 3)))
		db->closing = 1;
}

/* Session settings, after every connect and reset. */
static int conn_setup(struct pg_db *db)
{
	db->gen++;
	db->closing = 0;
	PQsetNoticeReceiver(db->c, on_notice, db);
	PGresult *res = PQexec(db->c, "SET lock_timeout = '10s'");
	int rc = res_ok(res) ? STORE_OK : fail_rc(db, res);
	PQclear(res);
	return rc;
}

static struct pg_db *conn_open(struct pg_store *s, char *err, size_t errlen)
{
	struct pg_db *db = calloc(1, sizeof *db);
	if (!db)
		abort();
	db->base.store = &s->base;
	db->store = s;
	/* defaults first: the URL may override them */
	static const char *const keys[] = { "connect_timeout", "application_name", "client_encoding", "dbname", NULL };
	const char *vals[] = { "10", "xiaoan", "UTF8", s->url, NULL };
	db->c = PQconnectdbParams(keys, vals, 1);
	if (!db->c)
		abort();
	if (PQstatus(db->c) != CONNECTION_OK || conn_setup(db) != STORE_OK) {
		snprintf(err, errlen, "postgres: %s", PQerrorMessage(db->c));
		size_t n = strlen(err);
		while (n && err[n - 1] == '\n')
			err[--n] = '\0';
		PQfinish(db->c);
		free(db);
		return NULL;
	}
	return db;
}

static void stmt_clear(struct pg_stmt *st)
{
	PQclear(st->res);
	st->res = NULL;
	PQfreemem(st->blob);
	st->blob = NULL;
	for (int i = 0; i < st->nparams; i++) {
		free(st->val[i]);
		st->val[i] = NULL;
		st->len[i] = st->fmt[i] = 0;
	}
	st->executed = 0;
	st->rc = 0;
	st->row = -1;
	st->nrows = 0;
}

static void stmt_free(struct pg_stmt *st)
{
	stmt_clear(st);
	free(st->sql);
	free(st);
}

static void conn_close(struct pg_db *db)
{
	for (int i = 0; i < db->ncache; i++)
		stmt_free(db->cache[i]);
	PQfinish(db->c);
	free(db);
}

/* Is the connection fit to send on? Data waiting on an idle connection is
 * the server's notice that it is closing the session (or end of file): read
 * it now, before a statement is sent into a dead session. */
static int conn_alive(struct pg_db *db)
{
	if (!conn_ok(db))
		return 0;
	struct pollfd p = { .fd = PQsocket(db->c), .events = POLLIN };
	if (p.fd < 0)
		return 0;
	if (poll(&p, 1, 0) > 0) {
		if (!PQconsumeInput(db->c))
			return 0;
		PGnotify *n;
		while ((n = PQnotifies(db->c)) != NULL)
			PQfreemem(n);
	}
	return conn_ok(db);
}

/* Makes the connection usable before a statement is sent. Outside a
 * transaction a dropped connection is reset (nothing was sent on it, so
 * nothing is lost or repeated); inside one the transaction is gone. */
static int conn_ready(struct pg_db *db)
{
	if (db->tx_lost) {
		set_err(db, "the connection to PostgreSQL was lost; the transaction was rolled back");
		return STORE_BUSY;
	}
	if (conn_alive(db))
		return STORE_OK;
	if (db->base.in_tx) {
		db->tx_lost = 1;
		set_err(db, "the connection to PostgreSQL was lost; the transaction was rolled back");
		return STORE_BUSY;
	}
	PQreset(db->c);
	if (PQstatus(db->c) != CONNECTION_OK) {
		set_err(db, "postgres: %s", PQerrorMessage(db->c));
		return STORE_BUSY;
	}
	return conn_setup(db);
}

/*--- the store -------------------------------------------------------------------*/

struct store *pg_store_open(const char *url, int pool, char *err, size_t errlen)
{
	if (!PQisthreadsafe()) {
		snprintf(err, errlen, "postgres: this libpq is not thread-safe");
		return NULL;
	}
	struct pg_store *s = calloc(1, sizeof *s);
	if (!s || !(s->url = strdup(url)))
		abort();
	s->base.ops = &pg_ops;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->max = pool > 0 ? pool : 4;
	s->all = calloc((size_t)s->max, sizeof *s->all);
	if (!s->all)
		abort();
	/* one now, so that a wrong URL fails at start, not at the first request */
	struct pg_db *db = conn_open(s, err, errlen);
	if (!db) {
		free(s->all);
		free(s->url);
		free(s);
		return NULL;
	}
	s->all[s->nall++] = db;
	s->free_list = db;
	return &s->base;
}

static void pg_close(struct store *s_)
{
	struct pg_store *s = (struct pg_store *)s_;
	for (int i = 0; i < s->max; i++)
		if (s->all[i])
			conn_close(s->all[i]);
	free(s->all);
	free(s->url);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

static struct db *pg_acquire(struct store *s_)
{
	struct pg_store *s = (struct pg_store *)s_;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		if (s->free_list) {
			struct pg_db *db = s->free_list;
			s->free_list = db->next_free;
			pthread_mutex_unlock(&s->mu);
			return &db->base;
		}
		if (s->nall < s->max) {
			/* connecting takes round trips: not under the lock. nall
			 * counts the slots taken, the connection goes into a free
			 * one. There is always at least one connection (opened by
			 * pg_store_open, and never closed: a dropped one reconnects
			 * on use), so when this connect fails, wait for it. */
			s->nall++;
			pthread_mutex_unlock(&s->mu);
			char err[256];
			struct pg_db *db = conn_open(s, err, sizeof err);
			pthread_mutex_lock(&s->mu);
			if (db) {
				for (int i = 0; i < s->max; i++)
					if (!s->all[i]) {
						s->all[i] = db;
						break;
					}
				pthread_mutex_unlock(&s->mu);
				return &db->base;
			}
			s->nall--;
		}
		pthread_cond_wait(&s->cv, &s->mu);
	}
}

static int pg_rollback(struct db *db_);

static void pg_release(struct db *db_)
{
	struct pg_db *db = PDB(db_);
	struct pg_store *s = db->store;
	if (db->base.in_tx)
		pg_rollback(db_);
	pthread_mutex_lock(&s->mu);
	db->next_free = s->free_list;
	s->free_list = db;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/*--- plain statements and transactions ---------------------------------------*/

static int pg_exec(struct db *db_, const char *sql)
{
	struct pg_db *db = PDB(db_);
	int rc = conn_ready(db);
	if (rc)
		return rc;
	PGresult *res = PQexec(db->c, sql);
	rc = res_ok(res) ? STORE_OK : fail_rc(db, res);
	PQclear(res);
	return rc;
}

static const char *pg_errmsg(struct db *db_)
{
	return PDB(db_)->err;
}

static int pg_begin(struct db *db_)
{
	struct pg_db *db = PDB(db_);
	int rc = conn_ready(db);
	if (rc)
		return rc;
	PGresult *res = PQexec(db->c, "BEGIN; " WRITER_LOCK);
	if (res_ok(res)) {
		PQclear(res);
		db->base.in_tx = 1;
		db->tx_lost = 0;
		return STORE_OK;
	}
	rc = fail_rc(db, res);
	PQclear(res);
	if (conn_ok(db))
		PQclear(PQexec(db->c, "ROLLBACK"));
	else if (rc == STORE_ERR)
		rc = STORE_BUSY; /* nothing was written: the caller may try again */
	return rc;
}

static int pg_commit(struct db *db_)
{
	struct pg_db *db = PDB(db_);
	if (db->tx_lost || !conn_alive(db)) {
		/* the session is gone, and its transaction with it */
		db->base.in_tx = 0;
		db->tx_lost = 0;
		set_err(db, "the connection to PostgreSQL was lost; the transaction was rolled back");
		return STORE_BUSY;
	}
	PGresult *res = PQexec(db->c, "COMMIT");
	db->base.in_tx = 0;
	int rc;
	if (!res_ok(res)) {
		rc = fail_rc(db, res); /* a deferred constraint, or the outcome is unknown */
		if (!conn_ok(db)) {
			set_err(db, "the connection to PostgreSQL was lost during COMMIT; the outcome is unknown");
			rc = STORE_ERR;
		}
	} else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		/* COMMIT of a failed transaction answers ROLLBACK */
		set_err(db, "the transaction had failed and was rolled back");
		rc = STORE_ERR;
	} else {
		rc = STORE_OK;
	}
	PQclear(res);
	db->tx_lost = 0;
	return rc;
}

static int pg_rollback(struct db *db_)
{
	struct pg_db *db = PDB(db_);
	db->base.in_tx = 0;
	db->tx_lost = 0;
	if (!conn_ok(db))
		return STORE_OK; /* the server rolled it back when the session ended */
	PGresult *res = PQexec(db->c, "ROLLBACK");
	int rc = res_ok(res) ? STORE_OK : fail_rc(db, res);
	PQclear(res);
	return rc;
}

static int64_t pg_changes(struct db *db_)
{
	return PDB(db_)->changes;
}

/*--- prepared statements ---------------------------------------------------------*/

static uint64_t sql_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The highest $N in sql, outside quotes and comments; -1 above MAXP. */
static int max_param(const char *sql)
{
	int max = 0;
	for (const char *p = sql; *p; p++) {
		if (*p == '\'' || *p == '"') {
			char q = *p;
			while (p[1] && p[1] != q)
				p++;
			if (!p[1])
				break;
			p++;
		} else if (p[0] == '-' && p[1] == '-') {
			while (p[1] && p[1] != '\n')
				p++;
		} else if (*p == '$' && isdigit((unsigned char)p[1])) {
			long n = strtol(p + 1, NULL, 10);
			if (n > MAXP)
				return -1;
			if (n > max)
				max = (int)n;
			while (isdigit((unsigned char)p[1]))
				p++;
		}
	}
	return max;
}

static int pg_prepare(struct db *db_, struct stmt **out, const char *sql)
{
	struct pg_db *db = PDB(db_);
	*out = NULL;
	uint64_t h = sql_hash(sql);
	for (int i = 0; i < db->ncache; i++) {
		struct pg_stmt *st = db->cache[i];
		if (!st->in_use && st->hash == h && strcmp(st->sql, sql) == 0) {
			st->in_use = 1;
			*out = &st->base;
			return STORE_OK;
		}
	}
	int np = max_param(sql);
	if (np < 0) {
		set_err(db, "more than %d parameters", MAXP);
		return STORE_ERR;
	}
	struct pg_stmt *st = calloc(1, sizeof *st);
	if (!st || !(st->sql = strdup(sql)))
		abort();
	st->base.ops = &pg_ops;
	st->base.db = &db->base;
	st->db = db;
	st->nparams = np;
	st->hash = h;
	st->row = -1;
	st->in_use = 1;
	int slot = -1;
	if (db->ncache < STMT_CACHE) {
		slot = db->ncache++;
	} else {
		for (int k = 0; k < STMT_CACHE && slot < 0; k++) {
			int i = (db->evict + k) % STMT_CACHE;
			if (!db->cache[i]->in_use)
				slot = i;
		}
		if (slot >= 0) {
			struct pg_stmt *old = db->cache[slot];
			if (old->gen == db->gen && conn_ok(db) && PQtransactionStatus(db->c) != PQTRANS_INERROR) {
				/* a DEALLOCATE inside a failed transaction would fail;
				 * one left behind is freed when the session ends */
				char q[40];
				snprintf(q, sizeof q, "DEALLOCATE %s", old->name);
				PQclear(PQexec(db->c, q));
			}
			stmt_free(old);
			db->evict = (slot + 1) % STMT_CACHE;
		}
	}
	if (slot >= 0) {
		/* prepared on the server at the first step */
		st->cached = 1;
		snprintf(st->name, sizeof st->name, "x%u", ++db->next_name);
		db->cache[slot] = st;
	}
	*out = &st->base;
	return STORE_OK;
}

static int param(struct pg_stmt *st, int n)
{
	if (n < 1 || n > st->nparams)
		return -1;
	free(st->val[n - 1]);
	st->val[n - 1] = NULL;
	st->len[n - 1] = st->fmt[n - 1] = 0;
	return n - 1;
}

static int pg_bind_text(struct stmt *st_, int n, const char *v)
{
	struct pg_stmt *st = PST(st_);
	int i = param(st, n);
	if (i < 0)
		return STORE_ERR;
	if (v && !(st->val[i] = strdup(v)))
		abort();
	return STORE_OK;
}

static int pg_bind_int64(struct stmt *st_, int n, int64_t v)
{
	char b[24];
	snprintf(b, sizeof b, "%lld", (long long)v);
	return pg_bind_text(st_, n, b);
}

static int pg_bind_double(struct stmt *st_, int n, double v)
{
	char b[32];
	snprintf(b, sizeof b, "%.17g", v);
	return pg_bind_text(st_, n, b);
}

static int pg_bind_null(struct stmt *st_, int n)
{
	return pg_bind_text(st_, n, NULL);
}

static int pg_bind_blob(struct stmt *st_, int n, const void *p, size_t len)
{
	struct pg_stmt *st = PST(st_);
	int i = param(st, n);
	if (i < 0 || len > (size_t)0x7fffffff)
		return STORE_ERR;
	if (!(st->val[i] = malloc(len ? len : 1)))
		abort();
	if (len)
		memcpy(st->val[i], p, len);
	st->len[i] = (int)len;
	st->fmt[i] = 1;
	return STORE_OK;
}

/* Sends the statement with its parameters and keeps the whole result. */
static int run(struct pg_stmt *st)
{
	struct pg_db *db = st->db;
	PGresult *res;
	for (int attempt = 0;; attempt++) {
		int rc = conn_ready(db);
		if (rc)
			return rc;
		if (!st->cached || st->gen == db->gen)
			break;
		res = PQprepare(db->c, st->name, st->sql, 0, NULL);
		if (res_ok(res)) {
			PQclear(res);
			st->gen = db->gen;
			break;
		}
		rc = fail_rc(db, res);
		PQclear(res);
		/* preparing runs nothing: on a connection that died under it,
		 * outside a transaction, prepare again on a fresh one */
		if (attempt || conn_ok(db) || db->base.in_tx)
			return rc;
	}
	const char *const *vals = (const char *const *)st->val;
	if (st->cached)
		res = PQexecPrepared(db->c, st->name, st->nparams, vals, st->len, st->fmt, 0);
	else
		res = PQexecParams(db->c, st->sql, st->nparams, NULL, vals, st->len, st->fmt, 0);
	if (!res_ok(res)) {
		int rc = fail_rc(db, res);
		PQclear(res);
		return rc;
	}
	const char *cmd = PQcmdStatus(res);
	if (!strncmp(cmd, "INSERT", 6) || !strncmp(cmd, "UPDATE", 6) || !strncmp(cmd, "DELETE", 6))
		db->changes = strtoll(PQcmdTuples(res), NULL, 10);
	st->res = res;
	st->nrows = PQntuples(res);
	st->row = -1;
	return STORE_OK;
}

static int pg_step(struct stmt *st_)
{
	struct pg_stmt *st = PST(st_);
	PQfreemem(st->blob);
	st->blob = NULL;
	if (!st->executed) {
		st->executed = 1;
		st->rc = run(st);
	}
	if (st->rc)
		return st->rc;
	if (st->row + 1 < st->nrows) {
		st->row++;
		return STORE_ROW;
	}
	st->row = st->nrows;
	return STORE_DONE;
}

static int pg_reset(struct stmt *st_)
{
	stmt_clear(PST(st_));
	return STORE_OK;
}

static int pg_ncols(struct stmt *st_)
{
	struct pg_stmt *st = PST(st_);
	return st->res ? PQnfields(st->res) : 0;
}

static const char *pg_colname(struct stmt *st_, int col)
{
	struct pg_stmt *st = PST(st_);
	return st->res && col >= 0 && col < PQnfields(st->res) ? PQfname(st->res, col) : NULL;
}

/* The current row's cell, NULL for SQL NULL or outside the result. */
static const char *cell(struct pg_stmt *st, int col)
{
	if (!st->res || st->row < 0 || st->row >= st->nrows || col < 0 || col >= PQnfields(st->res) ||
	    PQgetisnull(st->res, st->row, col))
		return NULL;
	return PQgetvalue(st->res, st->row, col);
}

static const char *pg_col_text(struct stmt *st_, int col)
{
	return cell(PST(st_), col);
}

static int64_t pg_col_int64(struct stmt *st_, int col)
{
	const char *v = cell(PST(st_), col);
	if (!v)
		return 0;
	/* a boolean expression reads as 0/1, as SQLite gives it */
	if (!strcmp(v, "t"))
		return 1;
	if (!strcmp(v, "f"))
		return 0;
	if (strpbrk(v, ".eE"))
		return (int64_t)strtod(v, NULL);
	return strtoll(v, NULL, 10);
}

static double pg_col_double(struct stmt *st_, int col)
{
	const char *v = cell(PST(st_), col);
	return v ? strtod(v, NULL) : 0.0;
}

static int pg_is_null(struct stmt *st_, int col)
{
	return cell(PST(st_), col) == NULL;
}

static const void *pg_col_blob(struct stmt *st_, int col, size_t *n)
{
	struct pg_stmt *st = PST(st_);
	const char *v = cell(st, col);
	*n = 0;
	if (!v)
		return NULL;
	PQfreemem(st->blob);
	st->blob = PQunescapeBytea((const unsigned char *)v, n);
	return st->blob;
}

static const void *pg_col_raw(struct stmt *st_, int col, size_t *n, int *kind, unsigned char tmp[8])
{
	struct pg_stmt *st = PST(st_);
	const char *v = cell(st, col);
	if (!v) {
		*kind = 0, *n = 0;
		return tmp;
	}
	*kind = 2, *n = (size_t)PQgetlength(st->res, st->row, col);
	return v;
}

static void pg_finalize(struct stmt *st_)
{
	struct pg_stmt *st = PST(st_);
	if (st->cached) {
		stmt_clear(st);
		st->in_use = 0;
		return;
	}
	stmt_free(st);
}

static const struct store_ops pg_ops = {
	.kind = STORE_POSTGRES,
	.close = pg_close,
	.acquire = pg_acquire,
	.release = pg_release,
	.exec = pg_exec,
	.errmsg = pg_errmsg,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.changes = pg_changes,
	.prepare = pg_prepare,
	.bind_text = pg_bind_text,
	.bind_int64 = pg_bind_int64,
	.bind_double = pg_bind_double,
	.bind_null = pg_bind_null,
	.bind_blob = pg_bind_blob,
	.step = pg_step,
	.reset = pg_reset,
	.ncols = pg_ncols,
	.colname = pg_colname,
	.text = pg_col_text,
	.int64 = pg_col_int64,
	.dbl = pg_col_double,
	.is_null = pg_is_null,
	.blob = pg_col_blob,
	.raw = pg_col_raw,
	.finalize = pg_finalize,
};
