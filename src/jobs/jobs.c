/*
 * jobs.c - every background job in one table, each a thin call into the
 * module that owns the data (the job's SQL lives there, not here).
 *
 *   session_cleanup    every 10 minutes: delete expired sessions
 *   audit_checkpoint   daily at 02:00 Asia/Shanghai: record the audit
 *                      chain's head where `audit verify` checks it
 *   test_tick          the API tests only (XIAOAN_TEST_JOBS)
 */
#include "jobs/jobs.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/audit.h"
#include "auth/session.h"
#include "core/clock.h"
#include "core/config.h"
#include "jobs/sched.h"
#include "store/store.h"
#include "zone/zone.h"

static const struct config *jobs_cfg;

static int job_session_cleanup(struct db *db, int64_t due, char *err, size_t errlen)
{
	(void)due; /* what has expired by now, not by the due time */
	int64_t n = 0;
	if (session_purge(db, clock_now(), jobs_cfg->session_idle, jobs_cfg->session_absolute, &n)) {
		snprintf(err, errlen, "deleting expired sessions: %s", db_errmsg(db));
		return -1;
	}
	return 0;
}

static int job_audit_checkpoint(struct db *db, int64_t due, char *err, size_t errlen)
{
	(void)due; /* the head as it is when the job runs */
	struct audit_checkpoint ck;
	if (audit_checkpoint(db, &ck)) {
		snprintf(err, errlen, "audit checkpoint: %s", db_errmsg(db));
		return -1;
	}
	return 0;
}

/* The API tests' job (tests/api/test_jobs.py): every minute, appends
 * "due server" to the file XIAOAN_TEST_JOBS names, with one write at the
 * end of the run, so a run that dies part-way leaves no line. First it
 * sleeps while the file XIAOAN_TEST_JOB_SLEEP names holds a positive
 * number, up to that many seconds: a test holds a run open to kill its
 * server. */
static int job_test_tick(struct db *db, int64_t due, char *err, size_t errlen)
{
	(void)db;
	const char *path = getenv("XIAOAN_TEST_JOBS"), *sleep_file = getenv("XIAOAN_TEST_JOB_SLEEP");
	for (int waited = 0; sleep_file && *sleep_file; waited += 100) {
		FILE *f = fopen(sleep_file, "r");
		int secs = 0;
		if (f) {
			if (fscanf(f, "%d", &secs) != 1)
				secs = 0;
			fclose(f);
		}
		if (waited >= secs * 1000)
			break;
		usleep(100000);
	}
	char line[192];
	int n = snprintf(line, sizeof line, "%lld %s\n", (long long)due, sched_server_id());
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, (size_t)n) != n) {
		snprintf(err, errlen, "cannot append to %s", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int job_zone_nightly(struct db *db, int64_t due, char *err, size_t errlen)
{
	(void)due; /* the rules in force when it runs */
	return zone_nightly(db, err, errlen);
}

static const struct sched_job jobs[] = {
	{ .name = "session_cleanup", .every = 600, .run = job_session_cleanup },
	{ .name = "audit_checkpoint", .daily = "02:00", .retry = 600, .run = job_audit_checkpoint },
	{ .name = "zone_nightly", .daily = "00:05", .retry = 600, .run = job_zone_nightly },
	{ 0 },
};

#define NJOBS (sizeof jobs / sizeof jobs[0] - 1)

static const struct sched_job test_job = { .name = "test_tick", .every = 60, .lease = 4, .run = job_test_tick };

const struct sched_job *jobs_table(const struct config *cfg)
{
	jobs_cfg = cfg;
	const char *t = getenv("XIAOAN_TEST_JOBS");
	if (!t || !*t)
		return jobs;
	static struct sched_job with_test[NJOBS + 2]; /* zeroed: the last is the end */
	memcpy(with_test, jobs, NJOBS * sizeof jobs[0]);
	with_test[NJOBS] = test_job;
	return with_test;
}
