/*
 * store_sqlite.c - the store API on SQLite: a pool of connections to one
 * file in WAL mode, foreign keys on, a busy timeout, and a per-connection
 * cache of prepared statements. "$N" placeholders are SQLite named
 * parameters; binding by number maps N to the parameter's index.
 *
 * Durability with group commit. Writers queue on an in-process mutex and
 * commit with synchronous=NORMAL, which appends the transaction to the WAL
 * without an fsync; db_commit() then does not return until the WAL has been
 * fsynced past that commit. One committer at a time runs the fsync for all
 * commits made so far, the others wait for it, and the next writer's
 * transaction proceeds meanwhile. So a commit that returned (and a request
 * that was answered 2xx) is on disk exactly as with synchronous=FULL, and
 * concurrent commits share one fsync instead of paying one each.
 * (synchronous=NORMAL keeps WAL consistency; SQLite syncs the WAL before
 * every checkpoint and the database after it.) XIAOAN_SYNC=full selects
 * plain synchronous=FULL instead, for comparison.
 *
 * One writer connection. Every write transaction runs on the same SQLite
 * connection: at db_begin the request's connection lends its identity to
 * the store's writer connection (their handles and statement caches trade
 * places while the writer mutex is held) and takes them back at commit or
 * rollback. In WAL mode a connection drops its whole page cache whenever
 * another connection has written, so with writes spread over the pool
 * every transaction re-read its pages through pread(); the one writer's
 * cache stays warm. (A connection holding an unfinished statement at
 * db_begin keeps its own handle.)
 *
 * Batches. Writers that come together share one SQLite transaction:
 * each request's transaction is a savepoint inside a batch the writer
 * connection holds open. When a request's work is done (RELEASE, or
 * ROLLBACK TO for a request that fails, which undoes only its own part)
 * while the fsync of the batch before is still running, and another
 * writer is queued for the lock or on its way (a write request that said
 * so with db_expect_write and has not begun yet), the batch stays open and
 * the lock passes on. Otherwise, or with the batch at BATCH_MAX requests
 * or BATCH_US old, it is committed at once. When the fsync ends, a member
 * of the open batch commits it if nobody is inside the lock (else the one
 * inside does, when done), so the disk syncs one batch after another
 * without a pause, each covering what gathered during the one before; a
 * member whose batch is still open BATCH_US after it was released
 * commits it whatever happens. Every member waits for
 * the batch's commit and its fsync before its db_commit() returns, so
 * nothing is answered 2xx before it is on disk, as before; if the batch's
 * COMMIT fails, every member's db_commit() fails. What a batch saves is
 * what each commit costs besides the fsync: BEGIN and COMMIT, and the WAL
 * frames, since the pages every write touches (the audit trail's leaf and
 * index pages, its head, the record's page) are written once per batch
 * instead of once per request. A lone writer never waits for anyone; a
 * request in a batch waits for the requests after it in the same batch,
 * about BATCH_US at most plus the last one's length.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "store/store.h"
#include "store/store_impl.h"

#define STMT_CACHE 96
#define BATCH_MAX 16     /* requests in one batch at most */
#define BATCH_US 2000    /* a batch older than this is committed */
#define MAXP 64

struct sq_stmt {
	struct stmt base;
	struct sq_db *db;
	sqlite3_stmt *s;
	const char *sql;      /* cache key (owned copy) */
	uint64_t hash;        /* of sql, compared before the text */
	int cached, in_use;
	int map[MAXP + 1];    /* $N -> sqlite index */
	int nmap;
};

struct sq_db {
	struct db base;       /* base.in_tx: a db_begin transaction is open */
	struct sq_store *store;
	sqlite3 *h;
	int holds_wlock;      /* this connection holds the store's writer mutex */
	int member;           /* its transaction is a savepoint in the open batch */
	int expecting;        /* counted in the store's `coming` */
	uint64_t unit;        /* the commit unit its transaction belongs to */
	struct sq_stmt *cache[STMT_CACHE];
	int ncache, evict;
	int live;             /* uncached statements not yet finalized */
	int lent;             /* h and cache are the writer connection's now */
	char lasterr[256];    /* the writer's last error, kept when handing it back */
	struct sq_db *next_free;
};

struct sq_store {
	struct store base;
	char path[1024];
	/* Writers queue here, in the process, rather than in SQLite's busy
	 * handler: a writer waiting on the file lock sleeps in growing steps
	 * (up to 100 ms) and holds a server thread meanwhile; on the mutex it
	 * wakes the moment the previous commit ends. */
	pthread_mutex_t wmu;
	/* group commit: commits numbered in commit order, and how far the WAL
	 * is known durable */
	int group;                 /* 0: synchronous=FULL, each commit syncs */
	pthread_mutex_t gmu;
	pthread_cond_t gcv;
	uint64_t committed, durable;
	atomic_int syncing;        /* written under gmu, read anywhere */
	atomic_int waiters;        /* writers queued for wmu */
	atomic_int coming;         /* writes announced (db_expect_write), not begun */
	/* commit units (a batch, or a transaction outside one) are numbered
	 * when they begin; one is open at a time, so number order is commit
	 * order. committed: the last one ended; failed: a ring of the last
	 * units whose COMMIT failed (their members must not succeed) */
	uint64_t next_unit;
	uint64_t failed[16];
	unsigned nfailed;
	/* the open batch: only the holder of wmu touches these */
	int batch_open;
	int batch_members;         /* requests released into it */
	int64_t batch_started;     /* monotonic microseconds */
	uint64_t batch_unit;
	int wal_fd;
	ino_t wal_ino;
	struct sq_db *writer;      /* the connection every write transaction runs on */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct sq_db **all;
	int nall, max;
	struct sq_db *free_list;
};

static const struct store_ops sq_ops;

#define SDB(d) ((struct sq_db *)(d))
#define SST(s) ((struct sq_stmt *)(s))

static int map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
		return STORE_OK;
	case SQLITE_ROW:
		return STORE_ROW;
	case SQLITE_DONE:
		return STORE_DONE;
	case SQLITE_CONSTRAINT:
		return STORE_CONSTRAINT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_BUSY;
	default:
		return STORE_ERR;
	}
}

static struct sq_db *conn_open(struct sq_store *s, char *err, size_t errlen)
{
	struct sq_db *db = calloc(1, sizeof *db);
	if (!db)
		abort();
	db->base.store = &s->base;
	db->store = s;
	int rc = sqlite3_open_v2(s->path, &db->h,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "sqlite %s: %s", s->path, db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
		sqlite3_close(db->h);
		free(db);
		return NULL;
	}
	sqlite3_busy_timeout(db->h, 10000);
	sqlite3_extended_result_codes(db->h, 1);
	char *e = NULL;
	rc = sqlite3_exec(db->h,
			  s->group ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
				   "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16000;"
				   : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
			  "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16000;",
			  NULL, NULL, &e);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "sqlite %s: %s", s->path, e ? e : sqlite3_errstr(rc));
		sqlite3_free(e);
		sqlite3_close(db->h);
		free(db);
		return NULL;
	}
	return db;
}

static void conn_close(struct sq_db *db)
{
	for (int i = 0; i < db->ncache; i++) {
		sqlite3_finalize(db->cache[i]->s);
		free((char *)db->cache[i]->sql);
		free(db->cache[i]);
	}
	sqlite3_close_v2(db->h);
	free(db);
}

struct store *sqlite_store_open(const char *path, int pool, char *err, size_t errlen)
{
	struct sq_store *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	s->base.ops = &sq_ops;
	snprintf(s->path, sizeof s->path, "%s", path);
	pthread_mutex_init(&s->mu, NULL);
	/* adaptive: the lock passes from writer to writer many times a
	 * millisecond; a short spin saves the sleep and wake-up */
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&s->wmu, &ma);
	pthread_mutexattr_destroy(&ma);
	pthread_mutex_init(&s->gmu, NULL);
	pthread_cond_init(&s->gcv, NULL);
	const char *sync = getenv("XIAOAN_SYNC");
	s->group = !(sync && strcmp(sync, "full") == 0);
	s->wal_fd = -1;
	pthread_cond_init(&s->cv, NULL);
	s->max = pool > 0 ? pool : 4;
	s->all = calloc((size_t)s->max, sizeof *s->all);
	/* open one now so that a bad path fails at start, not at first request */
	struct sq_db *db = conn_open(s, err, errlen);
	if (!db) {
		free(s->all);
		free(s);
		return NULL;
	}
	s->all[s->nall++] = db;
	db->next_free = NULL;
	s->free_list = db;
	if (s->group && !(s->writer = conn_open(s, err, errlen))) {
		conn_close(db);
		free(s->all);
		free(s);
		return NULL;
	}
	return &s->base;
}

static void sq_close(struct store *s_)
{
	struct sq_store *s = (struct sq_store *)s_;
	for (int i = 0; i < s->nall; i++)
		conn_close(s->all[i]);
	if (s->writer)
		conn_close(s->writer);
	free(s->all);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->wmu);
	pthread_mutex_destroy(&s->gmu);
	pthread_cond_destroy(&s->gcv);
	if (s->wal_fd >= 0)
		close(s->wal_fd);
	pthread_cond_destroy(&s->cv);
	free(s);
}

static struct db *sq_acquire(struct store *s_)
{
	struct sq_store *s = (struct sq_store *)s_;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		if (s->free_list) {
			struct sq_db *db = s->free_list;
			s->free_list = db->next_free;
			pthread_mutex_unlock(&s->mu);
			return &db->base;
		}
		if (s->nall < s->max) {
			char err[256];
			struct sq_db *db = conn_open(s, err, sizeof err);
			if (db) {
				s->all[s->nall++] = db;
				pthread_mutex_unlock(&s->mu);
				return &db->base;
			}
		}
		pthread_cond_wait(&s->cv, &s->mu);
	}
}

static int sq_rollback(struct db *db_);

static void sq_release(struct db *db_)
{
	struct sq_db *db = SDB(db_);
	struct sq_store *s = db->store;
	if (db->base.in_tx)
		sq_rollback(db_);
	if (db->expecting) {
		atomic_fetch_sub(&s->coming, 1);
		db->expecting = 0;
	}
	pthread_mutex_lock(&s->mu);
	db->next_free = s->free_list;
	s->free_list = db;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static int sq_exec(struct db *db_, const char *sql)
{
	struct sq_db *db = SDB(db_);
	return map_rc(sqlite3_exec(db->h, sql, NULL, NULL, NULL));
}

static const char *sq_errmsg(struct db *db_)
{
	struct sq_db *db = SDB(db_);
	if (db->lasterr[0] && sqlite3_errcode(db->h) == SQLITE_OK)
		return db->lasterr; /* the failure happened on the writer connection */
	return sqlite3_errmsg(db->h);
}

static void return_writer(struct sq_db *db);

static void wunlock(struct sq_db *db)
{
	return_writer(db);
	if (db->holds_wlock) {
		db->holds_wlock = 0;
		pthread_mutex_unlock(&db->store->wmu);
	}
}

/* Trades handle and statement cache between a and b; the cached
 * statements follow their cache. Called with the writer mutex held. */
static void trade(struct sq_db *a, struct sq_db *b)
{
	sqlite3 *h = a->h;
	a->h = b->h, b->h = h;
	struct sq_stmt *tmp[STMT_CACHE];
	memcpy(tmp, a->cache, sizeof tmp);
	memcpy(a->cache, b->cache, sizeof tmp);
	memcpy(b->cache, tmp, sizeof tmp);
	int n = a->ncache, e = a->evict;
	a->ncache = b->ncache, a->evict = b->evict;
	b->ncache = n, b->evict = e;
	for (int i = 0; i < a->ncache; i++)
		a->cache[i]->db = a, a->cache[i]->base.db = &a->base;
	for (int i = 0; i < b->ncache; i++)
		b->cache[i]->db = b, b->cache[i]->base.db = &b->base;
}

static int busy_stmts(const struct sq_db *db)
{
	int n = db->live;
	for (int i = 0; i < db->ncache; i++)
		n += db->cache[i]->in_use;
	return n;
}

/* Takes the writer connection's place (see the top of the file). */
static void borrow_writer(struct sq_db *db)
{
	struct sq_db *w = db->store->writer;
	db->lasterr[0] = 0;
	if (!w || db->lent || busy_stmts(db))
		return;
	trade(db, w);
	db->lent = 1;
}

static void return_writer(struct sq_db *db)
{
	if (!db->lent)
		return;
	if (sqlite3_errcode(db->h) != SQLITE_OK)
		snprintf(db->lasterr, sizeof db->lasterr, "%s", sqlite3_errmsg(db->h));
	trade(db, db->store->writer);
	db->lent = 0;
}

static int sq_prepare(struct db *db_, struct stmt **out, const char *sql);
static int sq_step(struct stmt *st_);
static void sq_finalize(struct stmt *st_);

/* Runs a statement without parameters through the statement cache (the
 * savepoint statements run several times per batch: no parsing each time). */
static int run_cached(struct sq_db *db, const char *sql)
{
	struct stmt *st;
	int rc = sq_prepare(&db->base, &st, sql);
	if (rc != STORE_OK)
		return rc;
	rc = sq_step(st);
	sq_finalize(st);
	return rc == STORE_DONE || rc == STORE_ROW ? STORE_OK : rc;
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t new_unit(struct sq_store *s)
{
	pthread_mutex_lock(&s->gmu);
	uint64_t u = ++s->next_unit;
	pthread_mutex_unlock(&s->gmu);
	return u;
}

/* Unit u has ended (committed when ok, else failed or rolled back with
 * members to tell): wakes whoever waits for it. */
static void publish(struct sq_store *s, uint64_t u, int ok)
{
	pthread_mutex_lock(&s->gmu);
	if (!ok)
		s->failed[s->nfailed++ % 16] = u;
	if (u > s->committed)
		s->committed = u;
	pthread_cond_broadcast(&s->gcv);
	pthread_mutex_unlock(&s->gmu);
}

static int unit_failed(struct sq_store *s, uint64_t u)
{
	for (unsigned i = 0; i < 16 && i < s->nfailed; i++)
		if (s->failed[i] == u)
			return 1;
	return 0;
}

/* Commits (ok) or rolls back the open batch on the writer's handle h.
 * Called with wmu held. Returns the COMMIT's result. */
static int batch_end(struct sq_store *s, sqlite3 *h, int commit)
{
	int rc = STORE_OK;
	if (!sqlite3_get_autocommit(h)) {
		rc = commit ? map_rc(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL)) : STORE_OK;
		if (rc != STORE_OK || !commit)
			sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
	} else if (s->batch_members) {
		rc = STORE_ERR; /* SQLite rolled it back itself (an I/O error, a full disk) */
	}
	s->batch_open = 0;
	publish(s, s->batch_unit, rc == STORE_OK);
	return rc;
}

/* A member's part of the batch is over (released or rolled back): keeps
 * the batch open while the fsync before it runs and a writer is queued or
 * announced (within BATCH_MAX and BATCH_US), else ends it; then lets go of
 * the lock. Returns the batch's COMMIT result when this call ended it. */
static int settle(struct sq_db *db)
{
	struct sq_store *s = db->store;
	int rc = STORE_OK;
	int queued = atomic_load(&s->waiters) + atomic_load(&s->coming), syncing = atomic_load(&s->syncing);
	if (sqlite3_get_autocommit(db->h))
		rc = batch_end(s, db->h, 0) == STORE_OK && !s->batch_members ? STORE_OK : STORE_ERR;
	else if (!syncing || !queued || s->batch_members >= BATCH_MAX || mono_us() - s->batch_started >= BATCH_US)
		rc = batch_end(s, db->h, s->batch_members > 0);
	wunlock(db);
	return rc;
}

static int sq_begin(struct db *db_)
{
	struct sq_db *db = SDB(db_);
	struct sq_store *s = db->store;
	if (s->group)
		atomic_fetch_add(&s->waiters, 1);
	pthread_mutex_lock(&s->wmu);
	db->holds_wlock = 1;
	if (s->group) {
		atomic_fetch_sub(&s->waiters, 1);
		if (db->expecting)
			atomic_fetch_sub(&s->coming, 1);
		db->expecting = 0;
	}
	borrow_writer(db);
	int rc;
	if (s->group && db->lent) {
		if (!s->batch_open) {
			/* another process (the CLI, a backup) may still hold the
			 * file lock: that wait is the busy timeout's */
			if ((rc = sq_exec(db_, "BEGIN IMMEDIATE")) != STORE_OK) {
				wunlock(db);
				return rc;
			}
			s->batch_open = 1;
			s->batch_members = 0;
			s->batch_started = mono_us();
			s->batch_unit = new_unit(s);
		}
		if ((rc = run_cached(db, "SAVEPOINT w")) != STORE_OK) {
			settle(db);
			return rc;
		}
		db->member = 1;
		db->unit = s->batch_unit;
	} else {
		/* a connection that cannot take the writer's place: the open
		 * batch is committed first (the writer's handle is not lent) */
		if (s->batch_open)
			batch_end(s, s->writer->h, s->batch_members > 0);
		if ((rc = sq_exec(db_, "BEGIN IMMEDIATE")) != STORE_OK) {
			wunlock(db);
			return rc;
		}
		db->member = 0;
		db->unit = s->group ? new_unit(s) : 0;
	}
	db->base.in_tx = 1;
	return STORE_OK;
}

/* fsyncs the WAL file (reopening it when SQLite has replaced it). Called
 * by one committer at a time, without locks held. Returns 0 or -1. */
static int wal_sync(struct sq_store *s)
{
	char path[1100];
	snprintf(path, sizeof path, "%s-wal", s->path);
	struct stat sb;
	if (stat(path, &sb) != 0)
		return 0; /* no WAL: everything was checkpointed, and synced by SQLite */
	if (s->wal_fd < 0 || sb.st_ino != s->wal_ino) {
		if (s->wal_fd >= 0)
			close(s->wal_fd);
		s->wal_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (s->wal_fd < 0)
			return -1;
		s->wal_ino = sb.st_ino;
	}
	return fdatasync(s->wal_fd);
}

static void sq_expect_write(struct db *db_)
{
	struct sq_db *db = SDB(db_);
	struct sq_store *s = db->store;
	if (!s->group || db->expecting || db->base.in_tx)
		return;
	atomic_fetch_add(&s->coming, 1);
	db->expecting = 1;
}

/* Commits the batch numbered u if it is still open and nobody is inside
 * the writer lock (wait: take the lock even if that means waiting for
 * it). Called without locks held. */
static void close_open(struct sq_store *s, uint64_t u, int wait)
{
	if (wait)
		pthread_mutex_lock(&s->wmu);
	else if (pthread_mutex_trylock(&s->wmu) != 0)
		return; /* whoever is inside commits it when done */
	if (s->batch_open && s->batch_unit == u)
		batch_end(s, s->writer->h, s->batch_members > 0); /* the writer is not lent: wmu is ours */
	pthread_mutex_unlock(&s->wmu);
}

/* Waits until unit `mine` is committed and durable, running the fsync for
 * everyone when nobody else is. -1 when the unit failed or the fsync did. */
static int group_sync(struct sq_store *s, uint64_t mine)
{
	int rc = 0;
	pthread_mutex_lock(&s->gmu);
	for (;;) {
		if (unit_failed(s, mine)) {
			rc = -1;
			break;
		}
		if (s->durable >= mine)
			break;
		if (s->committed < mine) {
			/* my batch is open: it is committed when the fsync under
			 * way ends (by whoever is inside the lock then, else by a
			 * member), or after BATCH_US whatever happens */
			if (!s->syncing) {
				pthread_mutex_unlock(&s->gmu);
				close_open(s, mine, 0);
				pthread_mutex_lock(&s->gmu);
				if (s->committed >= mine)
					continue;
			}
			struct timespec until;
			clock_deadline(&until, CLOCK_REALTIME, BATCH_US);
			if (pthread_cond_timedwait(&s->gcv, &s->gmu, &until) == ETIMEDOUT && s->committed < mine) {
				pthread_mutex_unlock(&s->gmu);
				close_open(s, mine, 1);
				pthread_mutex_lock(&s->gmu);
			}
			continue;
		}
		if (s->syncing) {
			pthread_cond_wait(&s->gcv, &s->gmu);
			continue;
		}
		s->syncing = 1;
		uint64_t target = s->committed;
		pthread_mutex_unlock(&s->gmu);
		int r = wal_sync(s);
		pthread_mutex_lock(&s->gmu);
		s->syncing = 0;
		if (r == 0 && target > s->durable)
			s->durable = target;
		pthread_cond_broadcast(&s->gcv);
		if (r != 0) {
			rc = -1;
			break;
		}
	}
	pthread_mutex_unlock(&s->gmu);
	return rc;
}

static int sq_commit(struct db *db_)
{
	struct sq_db *db = SDB(db_);
	struct sq_store *s = db->store;
	uint64_t mine = db->unit;
	int rc;
	db->base.in_tx = 0;
	if (db->member) {
		db->member = 0;
		if ((rc = run_cached(db, "RELEASE w")) != STORE_OK) {
			if (!sqlite3_get_autocommit(db->h)) {
				run_cached(db, "ROLLBACK TO w");
				run_cached(db, "RELEASE w");
			}
			settle(db);
			return rc;
		}
		s->batch_members++;
		if ((rc = settle(db)) != STORE_OK)
			return rc;
	} else {
		if ((rc = sq_exec(db_, "COMMIT")) != STORE_OK)
			sq_exec(db_, "ROLLBACK");
		if (s->group)
			publish(s, mine, rc == STORE_OK);
		wunlock(db);
		if (rc != STORE_OK)
			return rc;
	}
	if (s->group && group_sync(s, mine) != 0)
		return STORE_ERR; /* committed but not known durable, or the batch failed: do not acknowledge */
	return STORE_OK;
}

static int sq_rollback(struct db *db_)
{
	struct sq_db *db = SDB(db_);
	struct sq_store *s = db->store;
	db->base.in_tx = 0;
	if (db->member) {
		/* undoes this request's part only; the batch goes on */
		db->member = 0;
		if (!sqlite3_get_autocommit(db->h)) {
			run_cached(db, "ROLLBACK TO w");
			run_cached(db, "RELEASE w");
		}
		settle(db);
		return STORE_OK;
	}
	int rc = sq_exec(db_, "ROLLBACK");
	if (s->group && db->unit)
		publish(s, db->unit, 1);
	wunlock(db);
	return rc;
}

static int64_t sq_changes(struct db *db_)
{
	return sqlite3_changes64(SDB(db_)->h);
}

static void build_map(struct sq_stmt *st)
{
	int n = sqlite3_bind_parameter_count(st->s);
	st->nmap = 0;
	memset(st->map, 0, sizeof st->map);
	for (int i = 1; i <= n; i++) {
		const char *name = sqlite3_bind_parameter_name(st->s, i);
		if (name && name[0] == '$') {
			int k = atoi(name + 1);
			if (k > 0 && k <= MAXP) {
				st->map[k] = i;
				if (k > st->nmap)
					st->nmap = k;
			}
		}
	}
}

static uint64_t sql_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int sq_prepare(struct db *db_, struct stmt **out, const char *sql)
{
	struct sq_db *db = SDB(db_);
	*out = NULL;
	uint64_t h = sql_hash(sql);
	for (int i = 0; i < db->ncache; i++) {
		struct sq_stmt *st = db->cache[i];
		if (!st->in_use && st->hash == h && strcmp(st->sql, sql) == 0) {
			st->in_use = 1;
			*out = &st->base;
			return STORE_OK;
		}
	}
	struct sq_stmt *st = calloc(1, sizeof *st);
	if (!st)
		abort();
	st->base.ops = &sq_ops;
	st->base.db = &db->base;
	st->db = db;
	int slot = -1;
	if (db->ncache < STMT_CACHE) {
		slot = db->ncache;
	} else {
		/* full: evict the next idle entry, round robin, so that lists
		 * with many filter combinations do not leave the hot statements
		 * uncached */
		for (int k = 0; k < STMT_CACHE && slot < 0; k++) {
			int i = (db->evict + k) % STMT_CACHE;
			if (!db->cache[i]->in_use)
				slot = i;
		}
		if (slot >= 0) {
			struct sq_stmt *old = db->cache[slot];
			sqlite3_finalize(old->s);
			free((char *)old->sql);
			free(old);
			db->cache[slot] = NULL;
			db->evict = (slot + 1) % STMT_CACHE;
		}
	}
	int cache = slot >= 0;
	int rc = sqlite3_prepare_v3(db->h, sql, -1, cache ? SQLITE_PREPARE_PERSISTENT : 0, &st->s, NULL);
	if (rc != SQLITE_OK) {
		free(st);
		if (cache && slot < db->ncache) {
			/* keep the array dense: move the last entry into the hole */
			db->cache[slot] = db->cache[--db->ncache];
			db->cache[db->ncache] = NULL;
		}
		return map_rc(rc) == STORE_BUSY ? STORE_BUSY : STORE_ERR;
	}
	build_map(st);
	st->in_use = 1;
	if (!cache)
		db->live++;
	if (cache) {
		st->cached = 1;
		st->hash = h;
		st->sql = strdup(sql);
		db->cache[slot] = st;
		if (slot == db->ncache)
			db->ncache++;
	}
	*out = &st->base;
	return STORE_OK;
}

static int idx(struct sq_stmt *st, int n)
{
	return n > 0 && n <= MAXP ? st->map[n] : 0;
}

static int sq_bind_null(struct stmt *st_, int n);

static int sq_bind_text(struct stmt *st_, int n, const char *v)
{
	struct sq_stmt *st = SST(st_);
	if (!v)
		return sq_bind_null(st_, n);
	return map_rc(sqlite3_bind_text(st->s, idx(st, n), v, -1, SQLITE_TRANSIENT));
}

static int sq_bind_int64(struct stmt *st_, int n, int64_t v)
{
	struct sq_stmt *st = SST(st_);
	return map_rc(sqlite3_bind_int64(st->s, idx(st, n), v));
}

static int sq_bind_double(struct stmt *st_, int n, double v)
{
	struct sq_stmt *st = SST(st_);
	return map_rc(sqlite3_bind_double(st->s, idx(st, n), v));
}

static int sq_bind_null(struct stmt *st_, int n)
{
	struct sq_stmt *st = SST(st_);
	return map_rc(sqlite3_bind_null(st->s, idx(st, n)));
}

static int sq_bind_blob(struct stmt *st_, int n, const void *p, size_t len)
{
	struct sq_stmt *st = SST(st_);
	return map_rc(sqlite3_bind_blob64(st->s, idx(st, n), p, len, SQLITE_TRANSIENT));
}

static int sq_step(struct stmt *st_)
{
	struct sq_stmt *st = SST(st_);
	return map_rc(sqlite3_step(st->s));
}

static int sq_reset(struct stmt *st_)
{
	struct sq_stmt *st = SST(st_);
	sqlite3_reset(st->s);
	sqlite3_clear_bindings(st->s);
	return STORE_OK;
}

static int sq_ncols(struct stmt *st_)
{
	struct sq_stmt *st = SST(st_);
	return sqlite3_column_count(st->s);
}

static const char *sq_colname(struct stmt *st_, int col)
{
	struct sq_stmt *st = SST(st_);
	return sqlite3_column_name(st->s, col);
}

static const char *sq_text(struct stmt *st_, int col)
{
	struct sq_stmt *st = SST(st_);
	return (const char *)sqlite3_column_text(st->s, col);
}

static int64_t sq_int64(struct stmt *st_, int col)
{
	struct sq_stmt *st = SST(st_);
	return sqlite3_column_int64(st->s, col);
}

static double sq_double(struct stmt *st_, int col)
{
	struct sq_stmt *st = SST(st_);
	return sqlite3_column_double(st->s, col);
}

static int sq_is_null(struct stmt *st_, int col)
{
	struct sq_stmt *st = SST(st_);
	return sqlite3_column_type(st->s, col) == SQLITE_NULL;
}

static const void *sq_blob(struct stmt *st_, int col, size_t *n)
{
	struct sq_stmt *st = SST(st_);
	const void *p = sqlite3_column_blob(st->s, col);
	*n = (size_t)sqlite3_column_bytes(st->s, col);
	return p;
}

static const void *sq_raw(struct stmt *st_, int col, size_t *n, int *kind, unsigned char tmp[8])
{
	sqlite3_stmt *s = SST(st_)->s;
	switch (sqlite3_column_type(s, col)) {
	case SQLITE_NULL:
		*kind = 0, *n = 0;
		return tmp;
	case SQLITE_INTEGER: {
		int64_t v = sqlite3_column_int64(s, col);
		memcpy(tmp, &v, 8);
		*kind = 1, *n = 8;
		return tmp;
	}
	case SQLITE_FLOAT: {
		double v = sqlite3_column_double(s, col);
		memcpy(tmp, &v, 8);
		*kind = 3, *n = 8;
		return tmp;
	}
	default: {
		const void *p = sqlite3_column_blob(s, col);
		*kind = 2, *n = (size_t)sqlite3_column_bytes(s, col);
		return p ? p : tmp;
	}
	}
}

static void sq_finalize(struct stmt *st_)
{
	struct sq_stmt *st = SST(st_);
	if (!st)
		return;
	if (st->cached) {
		sqlite3_reset(st->s);
		sqlite3_clear_bindings(st->s);
		st->in_use = 0;
		return;
	}
	st->db->live--;
	sqlite3_finalize(st->s);
	free(st);
}

/* Raw handle for the few SQLite-only tools (backup, integrity check). */
void *sqlite_handle(struct db *db)
{
	return db->store->ops == &sq_ops ? SDB(db)->h : NULL;
}

/*--- online backup ------------------------------------------------------------*/

/* The backup reads through a read transaction held open across every step:
 * sqlite3_backup_step uses a read transaction the source connection already
 * has instead of opening one per step, so all chunks come from one
 * snapshot, and a commit by the server between two steps does not restart
 * the backup (it would, again and again, under steady writes). In WAL mode
 * a reader does not block writers; it only keeps the WAL from being
 * checkpointed past its snapshot until the backup ends. */
#define BACKUP_STEP_PAGES 1024

static int backup_fail(const char *path, int created, char *err, size_t errlen, const char *fmt, const char *a,
		       const char *b)
{
	snprintf(err, errlen, fmt, a, b);
	if (created) {
		char p[1100];
		unlink(path);
		snprintf(p, sizeof p, "%s-journal", path);
		unlink(p);
	}
	return -1;
}

int sqlite_backup_to(struct store *s_, const char *path, int *pages, char *err, size_t errlen)
{
	*pages = 0;
	if (s_->ops != &sq_ops)
		return backup_fail(path, 0, err, errlen, "%s%s", "the database is not SQLite", "");
	struct sq_store *s = (struct sq_store *)s_;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return backup_fail(path, 0, err, errlen, "%s: %s", path,
				   errno == EEXIST ? "exists; a backup never overwrites a file" : strerror(errno));
	close(fd);

	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b = NULL;
	int rc = -1;
	if (sqlite3_open_v2(s->path, &src, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		backup_fail(path, 1, err, errlen, "%s: %s", s->path, src ? sqlite3_errmsg(src) : "cannot open");
		goto out;
	}
	sqlite3_busy_timeout(src, 10000);
	if (sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_master;", NULL, NULL, NULL) != SQLITE_OK) {
		backup_fail(path, 1, err, errlen, "%s: %s", s->path, sqlite3_errmsg(src));
		goto out;
	}
	if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		backup_fail(path, 1, err, errlen, "%s: %s", path, dst ? sqlite3_errmsg(dst) : "cannot open");
		goto out;
	}
	sqlite3_busy_timeout(dst, 10000);
	if (!(b = sqlite3_backup_init(dst, "main", src, "main"))) {
		backup_fail(path, 1, err, errlen, "%s: %s", path, sqlite3_errmsg(dst));
		goto out;
	}
	int r, waits = 0;
	while ((r = sqlite3_backup_step(b, BACKUP_STEP_PAGES)) == SQLITE_OK ||
	       ((r == SQLITE_BUSY || r == SQLITE_LOCKED) && ++waits < 500))
		if (r != SQLITE_OK)
			sqlite3_sleep(20); /* up to 10 s, as the busy timeout */
	*pages = sqlite3_backup_pagecount(b);
	sqlite3_backup_finish(b);
	if (r != SQLITE_DONE) {
		backup_fail(path, 1, err, errlen, "backup: %s%s", sqlite3_errstr(r), "");
		goto out;
	}
	sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);

	/* the copy, as a database of its own */
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(dst, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
		backup_fail(path, 0, err, errlen, "integrity_check: %s%s", sqlite3_errmsg(dst), "");
		rc = 1;
		goto out;
	}
	rc = 1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		if (v && strcmp(v, "ok") == 0)
			rc = 0;
		else
			snprintf(err, errlen, "integrity_check: %s", v ? v : "no answer");
	} else {
		snprintf(err, errlen, "integrity_check: %s", sqlite3_errmsg(dst));
	}
	sqlite3_finalize(st);
out:
	sqlite3_close(dst);
	sqlite3_close(src);
	return rc;
}

static const struct store_ops sq_ops = {
	.kind = STORE_SQLITE,
	.close = sq_close,
	.acquire = sq_acquire,
	.release = sq_release,
	.exec = sq_exec,
	.errmsg = sq_errmsg,
	.begin = sq_begin,
	.expect_write = sq_expect_write,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.changes = sq_changes,
	.prepare = sq_prepare,
	.bind_text = sq_bind_text,
	.bind_int64 = sq_bind_int64,
	.bind_double = sq_bind_double,
	.bind_null = sq_bind_null,
	.bind_blob = sq_bind_blob,
	.step = sq_step,
	.reset = sq_reset,
	.ncols = sq_ncols,
	.colname = sq_colname,
	.text = sq_text,
	.int64 = sq_int64,
	.dbl = sq_double,
	.is_null = sq_is_null,
	.blob = sq_blob,
	.raw = sq_raw,
	.finalize = sq_finalize,
};
