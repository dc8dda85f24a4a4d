/*
 * sched_store.c - the scheduler's SQL: the jobs table (one row per job:
 * its next due time and its lease) and the job_runs history. See
 * sched_int.h.
 */
#include <stdio.h>
#include <string.h>

#include "jobs/sched_int.h"
#include "store/store.h"

int sched_store_ensure(struct db *db, const char *name, int64_t first_due)
{
	struct stmt *st;
	int rc = db_prepare(db, &st,
			    "INSERT INTO jobs (name, next_due, runs) VALUES ($1, $2, 0) ON CONFLICT (name) DO NOTHING");
	if (rc)
		return rc;
	stmt_bind_text(st, 1, name);
	stmt_bind_int64(st, 2, first_due);
	rc = stmt_step(st);
	stmt_finalize(st);
	return rc == STORE_DONE ? STORE_OK : rc < 0 ? rc : STORE_ERR;
}

int sched_store_get(struct db *db, const char *name, struct sched_row *row)
{
	struct stmt *st;
	int rc = db_prepare(db, &st, "SELECT next_due, lease_owner, lease_until FROM jobs WHERE name = $1");
	if (rc)
		return rc;
	stmt_bind_text(st, 1, name);
	rc = stmt_step(st);
	if (rc == STORE_ROW) {
		row->next_due = stmt_int64(st, 0);
		snprintf(row->lease_owner, sizeof row->lease_owner, "%s", stmt_text(st, 1) ? stmt_text(st, 1) : "");
		row->lease_until = stmt_is_null(st, 2) ? 0 : stmt_int64(st, 2);
		rc = STORE_OK;
	} else if (rc == STORE_DONE) {
		rc = STORE_NOTFOUND;
	}
	stmt_finalize(st);
	return rc;
}

int sched_store_claim(struct db *db, const char *name, int64_t due, int64_t now, const char *me,
		      int64_t lease_until, int *claimed)
{
	/* One statement decides: on SQLite the database's write lock, on
	 * PostgreSQL the row lock (a second UPDATE waits for the first and
	 * then re-checks the WHERE against the row the first left) let only
	 * one server change the row. lease_until without an owner is a failed
	 * run's back-off. */
	struct stmt *st;
	*claimed = 0;
	int rc = db_prepare(db, &st,
			    "UPDATE jobs SET lease_owner = $1, lease_until = $2"
			    " WHERE name = $3 AND next_due = $4 AND next_due <= $5"
			    " AND (lease_until IS NULL OR lease_until < $5)");
	if (rc)
		return rc;
	stmt_bind_text(st, 1, me);
	stmt_bind_int64(st, 2, lease_until);
	stmt_bind_text(st, 3, name);
	stmt_bind_int64(st, 4, due);
	stmt_bind_int64(st, 5, now);
	rc = stmt_step(st);
	if (rc == STORE_DONE) {
		*claimed = db_changes(db) == 1;
		rc = STORE_OK;
	} else if (rc >= 0) {
		rc = STORE_ERR;
	}
	stmt_finalize(st);
	return rc;
}

static int insert_run(struct db *db, const char *name, int64_t due, int64_t started, const int64_t *finished,
		      const char *server, const char *status, int64_t skipped, const char *error)
{
	struct stmt *st;
	int rc = db_prepare(db, &st,
			    "INSERT INTO job_runs (name, due, started_at, finished_at, server, status, skipped, error)"
			    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
	if (rc)
		return rc;
	stmt_bind_text(st, 1, name);
	stmt_bind_int64(st, 2, due);
	stmt_bind_int64(st, 3, started);
	if (finished)
		stmt_bind_int64(st, 4, *finished);
	else
		stmt_bind_null(st, 4);
	stmt_bind_text(st, 5, server);
	stmt_bind_text(st, 6, status);
	stmt_bind_int64(st, 7, skipped);
	stmt_bind_text(st, 8, error);
	rc = stmt_step(st);
	stmt_finalize(st);
	return rc == STORE_DONE ? STORE_OK : rc < 0 ? rc : STORE_ERR;
}

int sched_store_finish(struct db *db, struct sched_result *r)
{
	struct stmt *st = NULL;
	int rc = db_begin(db);
	if (rc)
		return rc;
	/* only the holder of this due time's lease moves the job on; a run
	 * that outlived its lease finds the row taken over (or advanced) */
	if ((rc = db_prepare(db, &st,
			     "UPDATE jobs SET next_due = $1, lease_owner = NULL, lease_until = $2, last_run_at = $3,"
			     " last_status = $4, last_error = $5, runs = runs + 1"
			     " WHERE name = $6 AND next_due = $7 AND lease_owner = $8")))
		goto out;
	stmt_bind_int64(st, 1, r->ok || !r->retry_at ? r->next_due : r->due);
	if (!r->ok && r->retry_at)
		stmt_bind_int64(st, 2, r->retry_at);
	else
		stmt_bind_null(st, 2);
	stmt_bind_int64(st, 3, r->finished_at);
	stmt_bind_text(st, 4, r->ok ? "ok" : "failed");
	stmt_bind_text(st, 5, r->ok ? NULL : r->error);
	stmt_bind_text(st, 6, r->name);
	stmt_bind_int64(st, 7, r->due);
	stmt_bind_text(st, 8, r->server);
	if ((rc = stmt_step(st)) != STORE_DONE)
		goto out;
	r->lease_lost = db_changes(db) != 1;
	stmt_finalize(st);
	st = NULL;
	if ((rc = insert_run(db, r->name, r->due, r->started_at, &r->finished_at, r->server,
			     r->lease_lost ? "late" : r->ok ? "ok" : "failed", r->lease_lost ? 0 : r->skipped,
			     r->ok ? NULL : r->error)))
		goto out;
	/* the history keeps what the console shows, not every run forever */
	if ((rc = db_prepare(db, &st, "DELETE FROM job_runs WHERE name = $1 AND due < $2")))
		goto out;
	stmt_bind_text(st, 1, r->name);
	stmt_bind_int64(st, 2, r->keep_since);
	if ((rc = stmt_step(st)) != STORE_DONE)
		goto out;
	stmt_finalize(st);
	st = NULL;
	rc = db_commit(db);
out:
	stmt_finalize(st);
	if (rc == STORE_ROW || rc == STORE_DONE)
		rc = STORE_ERR;
	if (rc && db_in_tx(db))
		db_rollback(db);
	return rc;
}

int sched_store_abandoned(struct db *db, const char *name, int64_t due, const char *owner, int64_t since)
{
	return insert_run(db, name, due, since, NULL, owner, "abandoned", 0,
			  "the server ended before the run did; its lease expired and the due time was run again");
}
