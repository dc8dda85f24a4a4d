/*
 * test_sched.c - unit tests for the scheduler's due times (src/jobs/sched.c).
 *
 * What a user would notice if these broke: the daily audit checkpoint taken
 * at 10:00 Beijing time instead of 02:00 (a time zone slip), a job run twice
 * at its due time (not strictly after), or a ten-minute job drifting off
 * the clock's tens of minutes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "jobs/sched.h"

static int noop(struct db *db, int64_t due, char *err, size_t errlen)
{
	(void)db, (void)due, (void)err, (void)errlen;
	return 0;
}

/* 2026-03-01T00:00:00Z */
#define MAR1 1772323200LL

static void test_every_is_aligned_and_strictly_after(void **state)
{
	(void)state;
	struct sched_job j = { .name = "t", .every = 600, .run = noop };
	assert_int_equal(sched_next_due(&j, MAR1), MAR1 + 600);          /* at a due time: the next one */
	assert_int_equal(sched_next_due(&j, MAR1 + 1), MAR1 + 600);
	assert_int_equal(sched_next_due(&j, MAR1 + 599), MAR1 + 600);
	assert_int_equal(sched_next_due(&j, MAR1 + 600), MAR1 + 1200);
	assert_int_equal(sched_next_due(&j, 0), 600);
	assert_int_equal(sched_next_due(&j, -1), 0);                    /* floor, not truncation */
}

static void test_daily_is_in_shanghai_time(void **state)
{
	(void)state;
	struct sched_job j = { .name = "t", .daily = "02:00", .run = noop };
	/* 02:00 in Beijing is 18:00 UTC the day before */
	int64_t due = MAR1 - 6 * 3600;                                    /* 2026-02-28T18:00Z = 03-01 02:00 +08 */
	assert_int_equal(sched_next_due(&j, MAR1 - 7 * 3600), due);
	assert_int_equal(sched_next_due(&j, due - 1), due);
	assert_int_equal(sched_next_due(&j, due), due + 86400);
	assert_int_equal(sched_next_due(&j, MAR1), due + 86400);          /* 08:00 Beijing: tomorrow's */
	assert_int_equal(sched_next_due(&j, MAR1 + 17 * 3600), due + 86400);
	assert_int_equal(sched_next_due(&j, MAR1 + 18 * 3600), due + 2 * 86400);
	struct sched_job m = { .name = "t", .daily = "00:00", .run = noop };
	assert_int_equal(sched_next_due(&m, MAR1), MAR1 + 16 * 3600);     /* midnight Beijing = 16:00Z */
	struct sched_job e = { .name = "t", .daily = "23:59", .run = noop };
	assert_int_equal(sched_next_due(&e, MAR1), MAR1 + 15 * 3600 + 59 * 60);
}

static void test_server_id(void **state)
{
	(void)state;
	const char *id = sched_server_id();
	assert_non_null(id);
	assert_ptr_equal(id, sched_server_id());                          /* one per process */
	int colons = 0;
	for (const char *p = id; *p; p++)
		colons += *p == ':';
	assert_int_equal(colons, 2);                                      /* host:pid:random */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_is_aligned_and_strictly_after),
		cmocka_unit_test(test_daily_is_in_shanghai_time),
		cmocka_unit_test(test_server_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
