/*
 * test_copy.c - `xiaoan copy` knows every table of the schema: its ordered
 * table list matches the migrated schema exactly, so a migration that adds
 * a table fails here until the table is added to src/ops/copy.c (and is
 * then copied); a table the list lacks is named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ops/ops.h"
#include "store/store.h"

struct fx {
	char path[256];
	struct store *st;
	struct db *db;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	snprintf(f->path, sizeof f->path, "/tmp/xiaoan-test-copy-%d-%ld.db", getpid(), random());
	char err[256];
	f->st = store_open(f->path, 2, err, sizeof err);
	assert_non_null(f->st);
	int applied;
	assert_int_equal(store_migrate(f->st, &applied, err, sizeof err), 0);
	f->db = store_acquire(f->st);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_release(f->db);
	store_close(f->st);
	char p[300];
	unlink(f->path);
	snprintf(p, sizeof p, "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", f->path);
	unlink(p);
	free(f);
	return 0;
}

static void test_list_matches_the_migrated_schema(void **state)
{
	struct fx *f = *state;
	char err[512] = "";
	int rc = copy_check_tables(f->db, err, sizeof err);
	if (rc)
		fail_msg("%s", err);
}

static void test_a_table_the_list_lacks_is_named(void **state)
{
	struct fx *f = *state;
	char err[512] = "";
	assert_int_equal(db_exec(f->db, "CREATE TABLE incidents (id INTEGER PRIMARY KEY, name TEXT)"), 0);
	assert_int_equal(copy_check_tables(f->db, err, sizeof err), -1);
	assert_non_null(strstr(err, "incidents"));
	assert_non_null(strstr(err, "src/ops/copy.c"));
}

static void test_a_missing_table_is_named(void **state)
{
	struct fx *f = *state;
	char err[512] = "";
	assert_int_equal(db_exec(f->db, "DROP TABLE settings"), 0);
	assert_int_equal(copy_check_tables(f->db, err, sizeof err), -1);
	assert_non_null(strstr(err, "settings"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list_matches_the_migrated_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_table_the_list_lacks_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_missing_table_is_named, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
