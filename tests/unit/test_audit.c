/*
 * test_audit.c - the audit chain: intact after appends; an altered, a
 * deleted, an inserted and a tail-deleted entry each found and named; the
 * store refusing UPDATE and DELETE on the audit table.
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
#include <sodium.h>

#include "auth/audit.h"
#include "store/store.h"

struct fx {
	char path[256];
	struct store *st;
	struct db *db;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_int_equal(sodium_init() >= 0, 1);
	snprintf(f->path, sizeof f->path, "/tmp/xiaoan-test-audit-%d-%ld.db", getpid(), random());
	char err[256];
	f->st = store_open(f->path, 2, err, sizeof err);
	assert_non_null(f->st);
	int applied;
	assert_int_equal(store_migrate(f->st, &applied, err, sizeof err), 0);
	f->db = store_acquire(f->st);
	struct audit_actor a = { .user_id = 7, .username = "zhang", .client_ip = "10.0.0.1", .request_id = "r1" };
	for (int i = 1; i <= 5; i++) {
		char id[16];
		snprintf(id, sizeof id, "%d", i);
		json_t *after = json_pack("{s:s,s:i}", "name", "第一中学", "n", i);
		assert_int_equal(db_begin(f->db), 0);
		assert_int_equal(audit_append(f->db, &a, "update", "school", id, NULL, after), 0);
		assert_int_equal(db_commit(f->db), 0);
		json_decref(after);
	}
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

/* Runs verify and returns its report; *rc gets the exit status. */
static char *verify(struct fx *f, int *rc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	*rc = audit_verify(f->db, out);
	fclose(out);
	return text;
}

/* What an attacker with the database file would do: drop the guard. */
static void attacker(struct fx *f, const char *sql)
{
	assert_int_equal(db_exec(f->db, "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;"), 0);
	assert_int_equal(db_exec(f->db, sql), 0);
}

static void test_intact(void **state)
{
	int rc;
	char *t = verify(*state, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(t, "5 entries, chain intact"));
	free(t);
}

static void test_store_refuses_update_and_delete(void **state)
{
	struct fx *f = *state;
	assert_int_not_equal(db_exec(f->db, "UPDATE audit SET username = 'li' WHERE seq = 2"), 0);
	assert_int_not_equal(db_exec(f->db, "DELETE FROM audit WHERE seq = 2"), 0);
	int rc;
	free(verify(f, &rc));
	assert_int_equal(rc, 0);
}

static void test_altered(void **state)
{
	struct fx *f = *state;
	attacker(f, "UPDATE audit SET after_json = '{\"name\":\"假\"}' WHERE seq = 3");
	int rc;
	char *t = verify(f, &rc);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(t, "entry 3 was altered"));
	assert_null(strstr(t, "entry 2 "));
	free(t);
}

static void test_deleted(void **state)
{
	struct fx *f = *state;
	attacker(f, "DELETE FROM audit WHERE seq = 2");
	int rc;
	char *t = verify(f, &rc);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(t, "entries 2..2 are missing"));
	free(t);
}

static void test_deleted_at_end(void **state)
{
	struct fx *f = *state;
	attacker(f, "DELETE FROM audit WHERE seq = 5");
	int rc;
	char *t = verify(f, &rc);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(t, "recorded head is entry 5"));
	free(t);
}

static void test_inserted(void **state)
{
	struct fx *f = *state;
	/* a forged entry between 3 and 4, renumbering the rest, with a hash
	 * computed the right way over a wrong predecessor */
	attacker(f, "UPDATE audit SET seq = seq + 100 WHERE seq >= 4;"
		    "UPDATE audit SET seq = seq - 99 WHERE seq >= 104;"
		    "INSERT INTO audit (seq, at, user_id, username, client_ip, action, entity, entity_id, before_json,"
		    " after_json, request_id, prev_hash, hash) SELECT 4, at, user_id, username, client_ip, action,"
		    " entity, '99', before_json, after_json, request_id, prev_hash, hash FROM audit WHERE seq = 3;"
		    "UPDATE audit_head SET seq = 6");
	int rc;
	char *t = verify(f, &rc);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(t, "entry 4"));
	free(t);
}

static void test_hash_depends_on_every_field(void **state)
{
	(void)state;
	char a[65], b[65];
	audit_hash("p", 1, "t", 1, "u", "ip", "act", "e", "1", NULL, "{}", "r", a);
	audit_hash("p", 1, "t", 1, "u", "ip", "act", "e", "1", NULL, "{ }", "r", b);
	assert_string_not_equal(a, b);
	/* moving text between fields changes the hash */
	audit_hash("p", 1, "t", 1, "u", "ip", "ac", "te", "1", NULL, "{}", "r", b);
	assert_string_not_equal(a, b);
	/* NULL and empty differ */
	audit_hash("p", 1, "t", 1, "u", "ip", "act", "e", "1", "", "{}", "r", b);
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_intact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_refuses_update_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_altered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_at_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inserted, setup, teardown),
		cmocka_unit_test(test_hash_depends_on_every_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
