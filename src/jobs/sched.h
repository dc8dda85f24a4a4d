/*
 * sched.h - the scheduler for background jobs: the one home of every
 * periodic job (removing expired sessions, the daily audit checkpoint;
 * later reminders, escalations and report deadlines).
 *
 * A job is declared in code (the table in jobs.c): a name, when it is due
 * (every N seconds, or daily at a time of day in Asia/Shanghai, UTC+8
 * without daylight saving) and the function that does it. Each server
 * runs one scheduler thread (`xiaoan serve`); it wakes every sched_tick
 * seconds and reads the time only from clock_now().
 *
 * Exactly once per due time, across every server on one database. The
 * jobs table holds each job's next due time and a lease. A server claims
 * a due job with one conditional UPDATE (the due time still the one it
 * read, due, and no live lease); only the server whose UPDATE changed the
 * row runs it. When the run ends, one transaction records the result in
 * job_runs and advances next_due to the first due time after the run
 * started: due times that passed before a run started are skipped, not
 * run one after another (job_runs.skipped counts them), because a run
 * does everything that is due up to when it runs.
 *
 * Jobs MUST be idempotent. A server that dies mid-run (or stalls past its
 * lease) does not advance next_due; when the lease has expired another
 * server, or the same one restarted, runs that due time again. So a run
 * may be repeated after a partial run, and must leave the same result
 * when it is: delete what is expired, insert with ON CONFLICT DO NOTHING,
 * mark what it sent in the same transaction as the mark's reason. The
 * lease must be longer than a run can take (a few times the expected
 * duration) and far longer than the difference between the servers'
 * clocks (keep them in NTP sync).
 *
 * A failed run (the function returns non-zero) is recorded with its error
 * and tried again after the job's retry seconds, or at the next due time
 * when retry is 0.
 *
 * Jobs run one after another on the scheduler thread, each on a
 * connection of its own from the pool; a job that would take minutes
 * should do its work in batches and keep its lease long enough.
 */
#ifndef XIAOAN_SCHED_H
#define XIAOAN_SCHED_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct db;
struct store;

struct sched_job {
	const char *name;     /* key in the jobs table: [a-z0-9_], up to 48 bytes */
	int every;            /* seconds between due times (multiples of it since
			       * the Unix epoch), or 0 with daily */
	const char *daily;    /* "HH:MM" in Asia/Shanghai, when every is 0 */
	int lease;            /* seconds before another server may run a due time
			       * whose run has not ended; default 60 */
	int retry;            /* seconds after a failed run to try again; 0: at
			       * the next due time */
	/* Does the job for due time `due` (unix seconds). Returns 0, or
	 * non-zero with a one-line reason in err. Runs outside any
	 * transaction; opens its own. */
	int (*run)(struct db *db, int64_t due, char *err, size_t errlen);
};

struct sched;

/* Starts the scheduler thread over jobs (a table ended by a zeroed entry;
 * it must outlive the scheduler). The thread blocks every signal. Aborts
 * on a malformed job declaration (a programming error). Returns the
 * scheduler (free it with sched_stop), or NULL when the thread could not
 * be started. */
struct sched *sched_start(const struct config *cfg, struct store *st, const struct sched_job *jobs);

/* Stops the thread: waits for a run in progress to end and returns when
 * the thread has exited, so the store can then be closed. Frees s; NULL
 * is fine. */
void sched_stop(struct sched *s);

/* This process's identity in leases and job_runs: "host:pid:random". */
const char *sched_server_id(void);

/* The first due time of job strictly after t. */
int64_t sched_next_due(const struct sched_job *job, int64_t t);

#endif
