/*
 * sched_int.h - between the scheduler (sched.c) and its SQL
 * (sched_store.c); not for other modules.
 *
 * Times in the jobs and job_runs tables are unix seconds (INTEGER): the
 * scheduler compares and adds them.
 */
#ifndef XIAOAN_SCHED_INT_H
#define XIAOAN_SCHED_INT_H

#include <stddef.h>
#include <stdint.h>

struct db;

/* One job's row as the scheduler reads it before claiming. */
struct sched_row {
	int64_t next_due;
	char lease_owner[128];   /* "" when no server holds the lease */
	int64_t lease_until;     /* 0 when NULL */
};

/* Adds the job's row with its first due time unless it exists.
 * Returns 0 or a store error. */
int sched_store_ensure(struct db *db, const char *name, int64_t first_due);

/* Reads a job's row. Returns 0, STORE_NOTFOUND or a store error. */
int sched_store_get(struct db *db, const char *name, struct sched_row *row);

/* Claims due time `due` of a job for server `me` until lease_until: one
 * conditional UPDATE that changes the row only when next_due is still
 * `due`, it is due at `now`, and no lease is live. *claimed is 1 when this
 * call changed the row. Returns 0 or a store error. */
int sched_store_claim(struct db *db, const char *name, int64_t due, int64_t now, const char *me,
		      int64_t lease_until, int *claimed);

/* The end of a run, recorded in one transaction. */
struct sched_result {
	const char *name, *server;
	int64_t due, started_at, finished_at;
	int ok;                  /* the job returned 0 */
	const char *error;       /* when !ok */
	int64_t next_due;        /* when ok, or failed without a retry */
	int64_t retry_at;        /* when failed with a retry: the lease stays
				  * off until then and next_due stays `due` */
	int64_t skipped;         /* due times passed over */
	int64_t keep_since;      /* job_runs of this job due before this go */
	int lease_lost;          /* out: another server had taken the due time
				  * over, so the row was left to it */
};

/* Records the run in job_runs and, while this server still holds the due
 * time's lease, advances the job's row (clears the lease, next_due, last_*
 * and runs). Returns 0 or a store error (nothing recorded). */
int sched_store_finish(struct db *db, struct sched_result *r);

/* Records in job_runs that `owner`'s run of due time `due` never ended
 * (found by the server taking the due time over). Returns 0 or a store
 * error. */
int sched_store_abandoned(struct db *db, const char *name, int64_t due, const char *owner, int64_t since);

#endif
