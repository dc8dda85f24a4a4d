/*
 * test_batch.c - the SQLite store's batches of writes and the row keys the
 * registries' memo is keyed by:
 *   - concurrent writers, some committing and some rolling back or failing
 *     on a constraint, each get exactly their own outcome: every committed
 *     row is there, no rolled-back one is, whatever batch they shared;
 *   - a failed statement inside a batch undoes only its request's part;
 *   - stmt_row_key tells apart what differs (an integer and a real, NULL and
 *     "", where text splits) and matches what is equal;
 *   - rk_memo gives back a text only for the same id and the same row bytes.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/regkit.h"
#include "store/store.h"

#define THREADS 8
#define ROUNDS 60

struct fx {
	char path[256];
	struct store *st;
};

static void remove_db(const char *path)
{
	char p[300];
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	snprintf(f->path, sizeof f->path, "/tmp/xiaoan-test-batch-%d-%ld.db", getpid(), random());
	char err[256];
	f->st = store_open(f->path, THREADS + 2, err, sizeof err);
	assert_non_null(f->st);
	struct db *db = store_acquire(f->st);
	assert_int_equal(db_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, who INTEGER NOT NULL, n INTEGER NOT NULL);"
				     "CREATE TABLE k (a, b)"),
			 0);
	store_release(db);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_close(f->st);
	remove_db(f->path);
	free(f);
	return 0;
}

static int64_t count(struct store *st, const char *sql)
{
	struct db *db = store_acquire(st);
	int64_t n = -1;
	assert_int_equal(db_query_int64(db, &n, sql, 0), 0);
	store_release(db);
	return n;
}

struct worker {
	struct store *st;
	int who;
	int committed, rolled_back, refused, errors;
};

/* Writer `who`: round k commits row who*1000+k, except every third round,
 * which inserts and rolls back, and every fifth, which also inserts row 1
 * (taken: a constraint failure inside the transaction) and then rolls back. */
static void *writer(void *arg)
{
	struct worker *w = arg;
	for (int k = 0; k < ROUNDS; k++) {
		struct db *db = store_acquire(w->st);
		db_expect_write(db);
		if (db_begin(db) != 0) {
			w->errors++;
			store_release(db);
			continue;
		}
		/* no cmocka asserts in a thread: outcomes are counted */
		struct stmt *s;
		int rc = db_prepare(db, &s, "INSERT INTO t (id, who, n) VALUES ($1, $2, $3)");
		if (rc == 0) {
			stmt_bind_int64(s, 1, w->who * 1000 + k);
			stmt_bind_int64(s, 2, w->who);
			stmt_bind_int64(s, 3, k);
			rc = stmt_step(s);
			stmt_finalize(s);
		}
		if (rc != STORE_DONE) {
			w->errors++;
			db_rollback(db);
			store_release(db);
			continue;
		}
		if (k % 5 == 4) {
			rc = db_prepare(db, &s, "INSERT INTO t (id, who, n) VALUES (1, 0, 0)");
			if (rc == 0) {
				rc = stmt_step(s);
				stmt_finalize(s);
			}
			if (rc == STORE_CONSTRAINT)
				w->refused++;
			db_rollback(db);
		} else if (k % 3 == 2) {
			db_rollback(db);
			w->rolled_back++;
		} else if (db_commit(db) == 0) {
			w->committed++;
		} else {
			w->errors++;
		}
		store_release(db);
	}
	return NULL;
}

static void test_concurrent_writers_get_their_own_outcome(void **state)
{
	struct fx *f = *state;
	struct db *db = store_acquire(f->st);
	assert_int_equal(db_exec(db, "INSERT INTO t (id, who, n) VALUES (1, 0, 0)"), 0);
	store_release(db);

	pthread_t th[THREADS];
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .st = f->st, .who = i + 1 };
		assert_int_equal(pthread_create(&th[i], NULL, writer, &w[i]), 0);
	}
	int committed = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].errors, 0);
		assert_int_equal(w[i].refused, ROUNDS / 5);
		committed += w[i].committed;
	}
	/* every committed row and only those: the rolled-back and the refused
	 * rounds left nothing, and took nobody else's row with them */
	assert_int_equal(count(f->st, "SELECT count(*) FROM t WHERE who > 0"), committed);
	char sql[200];
	for (int i = 0; i < THREADS; i++) {
		snprintf(sql, sizeof sql, "SELECT count(*) FROM t WHERE who = %d AND (n %% 5 = 4 OR n %% 3 = 2)", i + 1);
		assert_int_equal(count(f->st, sql), 0);
		snprintf(sql, sizeof sql, "SELECT count(*) FROM t WHERE who = %d", i + 1);
		assert_int_equal(count(f->st, sql), w[i].committed);
	}
	/* and they are in the file: a fresh connection of a new store sees them */
	store_close(f->st);
	char err[256];
	f->st = store_open(f->path, 2, err, sizeof err);
	assert_non_null(f->st);
	assert_int_equal(count(f->st, "SELECT count(*) FROM t WHERE who > 0"), committed);
}

static void put_row(struct db *db, const char *values)
{
	char sql[200];
	snprintf(sql, sizeof sql, "DELETE FROM k; INSERT INTO k VALUES (%s)", values);
	assert_int_equal(db_exec(db, sql), 0);
}

/* the key of the one row of k */
static char *key_of(struct db *db, size_t *len)
{
	struct stmt *s;
	assert_int_equal(db_prepare(db, &s, "SELECT a, b FROM k"), 0);
	assert_int_equal(stmt_step(s), STORE_ROW);
	char *k = stmt_row_key(s, 0, 2, len);
	stmt_finalize(s);
	return k;
}

static int same_key(struct db *db, const char *v1, const char *v2)
{
	size_t n1, n2;
	put_row(db, v1);
	char *k1 = key_of(db, &n1);
	put_row(db, v2);
	char *k2 = key_of(db, &n2);
	int same = n1 == n2 && memcmp(k1, k2, n1) == 0;
	free(k1);
	free(k2);
	return same;
}

static void test_row_keys(void **state)
{
	struct fx *f = *state;
	struct db *db = store_acquire(f->st);
	assert_true(same_key(db, "'ab', 'c'", "'ab', 'c'"));
	assert_true(same_key(db, "1, NULL", "1, NULL"));
	assert_true(same_key(db, "30.52, 'x'", "30.52, 'x'"));
	assert_false(same_key(db, "'ab', 'c'", "'a', 'bc'"));
	assert_false(same_key(db, "NULL, 'x'", "'', 'x'"));
	assert_false(same_key(db, "1, 'x'", "1.0, 'x'"));
	assert_false(same_key(db, "30.52, 'x'", "30.520000001, 'x'"));
	assert_false(same_key(db, "'示范县', 1", "'示范区', 1"));
	store_release(db);
}

static void test_memo(void **state)
{
	(void)state;
	struct rk_memo *m = rk_memo_new();
	size_t len = 0;
	assert_null(rk_memo_get(m, 7, "k1", 2, &len));
	rk_memo_put(m, 7, "k1", 2, "{\"a\":1}", 7);
	char *t = rk_memo_get(m, 7, "k1", 2, &len);
	assert_non_null(t);
	assert_int_equal(len, 7);
	assert_string_equal(t, "{\"a\":1}");
	free(t);
	/* another row's bytes, another id, a longer key: no text */
	assert_null(rk_memo_get(m, 7, "k2", 2, &len));
	assert_null(rk_memo_get(m, 8, "k1", 2, &len));
	assert_null(rk_memo_get(m, 7, "k1x", 3, &len));
	/* the newer text replaces the older */
	rk_memo_put(m, 7, "k2", 2, "{\"a\":2}", 7);
	assert_null(rk_memo_get(m, 7, "k1", 2, &len));
	t = rk_memo_get(m, 7, "k2", 2, &len);
	assert_string_equal(t, "{\"a\":2}");
	free(t);
	/* many ids sharing slots never answer for one another */
	for (int64_t id = 1; id <= 5000; id++) {
		char key[32], text[32];
		int kn = snprintf(key, sizeof key, "key%lld", (long long)id);
		int tn = snprintf(text, sizeof text, "text%lld", (long long)id);
		rk_memo_put(m, id, key, (size_t)kn, text, (size_t)tn);
	}
	for (int64_t id = 1; id <= 5000; id++) {
		char key[32], text[32];
		int kn = snprintf(key, sizeof key, "key%lld", (long long)id);
		snprintf(text, sizeof text, "text%lld", (long long)id);
		char *got = rk_memo_get(m, id, key, (size_t)kn, &len);
		if (got) {
			assert_string_equal(got, text);
			free(got);
		}
	}
	rk_memo_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_concurrent_writers_get_their_own_outcome, setup, teardown),
		cmocka_unit_test_setup_teardown(test_row_keys, setup, teardown),
		cmocka_unit_test(test_memo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
