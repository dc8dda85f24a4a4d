/*
 * jobs.h - the one list of every background job (run by the scheduler,
 * sched.h), as routes.h is the one list of every route.
 */
#ifndef XIAOAN_JOBS_H
#define XIAOAN_JOBS_H

struct config;
struct sched_job;

/* Every job, ended by a zeroed entry; for sched_start. Reads what the jobs
 * need from cfg (kept: cfg must outlive the scheduler). With
 * XIAOAN_TEST_JOBS set (the API tests) it also holds the test job. */
const struct sched_job *jobs_table(const struct config *cfg);

#endif
