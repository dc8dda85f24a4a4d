/*
 * sqlite_commit.c - the raw rate of durable single-row SQLite commits on a
 * disk: the floor a durable, audited API write is measured against.
 *
 *   sqlite_commit DBFILE SECONDS THREADS
 *
 * DBFILE is created fresh (any old file and its -wal/-shm are removed).
 * Every thread opens its own connection with the settings xiaoan uses
 * (journal_mode=WAL, synchronous=FULL, a 10 s busy timeout) and loops
 * BEGIN IMMEDIATE; INSERT one row; COMMIT for SECONDS seconds. Each COMMIT
 * is one fsync of the WAL, so one thread measures the disk's fsync rate as
 * SQLite sees it; several threads show what concurrent writers get (SQLite
 * has one writer at a time and does not batch commits).
 *
 * Prints one line: "commits N seconds S rate R threads T".
 * Build: cc -O2 -o sqlite_commit sqlite_commit.c -lsqlite3 -lpthread
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *path;
static double seconds;
static double t_start, t_end;
static pthread_barrier_t barrier;

struct worker {
	int id;
	long commits;
	long errors;
	const char *err;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static sqlite3 *open_db(void)
{
	sqlite3 *db = NULL;
	if (sqlite3_open(path, &db) != SQLITE_OK) {
		fprintf(stderr, "sqlite_commit: open %s: %s\n", path, db ? sqlite3_errmsg(db) : "out of memory");
		exit(1);
	}
	sqlite3_busy_timeout(db, 10000);
	char *msg = NULL;
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "sqlite_commit: pragmas: %s\n", msg ? msg : "?");
		exit(1);
	}
	return db;
}

static int exec_stmt(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : rc;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	sqlite3 *db = open_db();
	sqlite3_stmt *begin, *ins, *commit, *rollback;
	if (sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO t(thread, n, at, payload) VALUES (?1, ?2, ?3, ?4)", -1, &ins, NULL) ||
	    sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) ||
	    sqlite3_prepare_v2(db, "ROLLBACK", -1, &rollback, NULL)) {
		fprintf(stderr, "sqlite_commit: prepare: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	/* a payload about the size of a school's audit entry */
	static const char payload[] = "{\"enrollment\":1234,\"name\":\"示范县第一小学\",\"code\":\"1234567890\","
				      "\"stage\":\"小学\",\"ownership\":\"公办\",\"region_code\":\"340899\"}";
	pthread_barrier_wait(&barrier);
	while (now() < t_end) {
		int rc = exec_stmt(begin);
		if (rc) {
			w->errors++;
			continue;
		}
		sqlite3_bind_int(ins, 1, w->id);
		sqlite3_bind_int64(ins, 2, w->commits);
		sqlite3_bind_double(ins, 3, now());
		sqlite3_bind_text(ins, 4, payload, -1, SQLITE_STATIC);
		if (exec_stmt(ins) || exec_stmt(commit)) {
			w->errors++;
			exec_stmt(rollback);
			continue;
		}
		w->commits++;
	}
	sqlite3_finalize(begin);
	sqlite3_finalize(ins);
	sqlite3_finalize(commit);
	sqlite3_finalize(rollback);
	sqlite3_close(db);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: sqlite_commit DBFILE SECONDS THREADS\n");
		return 2;
	}
	path = argv[1];
	seconds = atof(argv[2]);
	int n = atoi(argv[3]);
	if (seconds <= 0 || n < 1 || n > 256) {
		fprintf(stderr, "sqlite_commit: SECONDS > 0 and 1 <= THREADS <= 256\n");
		return 2;
	}
	char side[4096];
	unlink(path);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);

	sqlite3 *db = open_db();
	char *msg = NULL;
	if (sqlite3_exec(db,
			 "CREATE TABLE t (id INTEGER PRIMARY KEY, thread INTEGER NOT NULL, n INTEGER NOT NULL,"
			 " at REAL NOT NULL, payload TEXT NOT NULL)",
			 NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "sqlite_commit: create: %s\n", msg ? msg : "?");
		return 1;
	}

	struct worker *w = calloc((size_t)n, sizeof *w);
	pthread_t *th = calloc((size_t)n, sizeof *th);
	if (!w || !th)
		return 1;
	pthread_barrier_init(&barrier, NULL, (unsigned)n + 1);
	t_end = now() + 3600; /* set for real once every thread is ready */
	for (int i = 0; i < n; i++) {
		w[i].id = i;
		if (pthread_create(&th[i], NULL, run, &w[i])) {
			fprintf(stderr, "sqlite_commit: pthread_create failed\n");
			return 1;
		}
	}
	t_start = now();
	t_end = t_start + seconds;
	__sync_synchronize();
	pthread_barrier_wait(&barrier);
	long commits = 0, errors = 0;
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		commits += w[i].commits;
		errors += w[i].errors;
	}
	double el = now() - t_start;

	/* check: the rows are really there */
	sqlite3_stmt *st;
	long rows = -1;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		rows = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (rows != commits)
		fprintf(stderr, "sqlite_commit: %ld commits but %ld rows\n", commits, rows);
	printf("commits %ld seconds %.2f rate %.1f threads %d errors %ld\n", commits, el, (double)commits / el, n,
	       errors);
	free(w);
	free(th);
	return 0;
}
