/*
 * sched.c - the scheduler thread: due times, claiming a due job under a
 * lease, running it and moving it on (see sched.h; its SQL is in
 * sched_store.c).
 */
#include "jobs/sched.h"

#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "jobs/sched_int.h"
#include "store/store.h"

#define DAY 86400
#define SHANGHAI (8 * 3600)           /* Asia/Shanghai: UTC+8, no daylight saving */
#define DEFAULT_LEASE 60
#define KEEP_RUNS (90 * DAY)          /* job_runs history kept per job */

struct sched {
	struct store *store;
	const struct sched_job *jobs;
	int njobs;
	int tick;                    /* seconds between looks */
	unsigned char *ready;        /* per job: its row is known to exist */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;           /* on CLOCK_MONOTONIC: a moved clock does not stretch a tick */
	int stop;
};

/*--- due times -----------------------------------------------------------------*/

/* Due times are base + k * step for every integer k: every N seconds is
 * step N from the epoch; daily at HH:MM Shanghai is step one day from
 * HH:MM - 8 h UTC. */
static void grid(const struct sched_job *job, int64_t *base, int64_t *step)
{
	if (job->every > 0) {
		*base = 0;
		*step = job->every;
		return;
	}
	int h = (job->daily[0] - '0') * 10 + (job->daily[1] - '0');
	int m = (job->daily[3] - '0') * 10 + (job->daily[4] - '0');
	*base = (int64_t)h * 3600 + m * 60 - SHANGHAI;
	*step = DAY;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t sched_next_due(const struct sched_job *job, int64_t t)
{
	int64_t base, step;
	grid(job, &base, &step);
	return base + (floor_div(t - base, step) + 1) * step;
}

/* How many due times lie in (a, b]. */
static int64_t due_between(const struct sched_job *job, int64_t a, int64_t b)
{
	int64_t base, step;
	grid(job, &base, &step);
	int64_t n = floor_div(b - base, step) - floor_div(a - base, step);
	return n > 0 ? n : 0;
}

/* A malformed declaration is a programming error: found at start. */
static void check_job(const struct sched_job *job)
{
	const char *why = NULL;
	size_t n = job->name ? strlen(job->name) : 0;
	if (!n || n > 48 || strspn(job->name, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
		why = "name must be 1..48 of [a-z0-9_]";
	else if (!job->run)
		why = "no run function";
	else if (job->every < 0 || job->lease < 0 || job->retry < 0)
		why = "negative every, lease or retry";
	else if (job->every == 0) {
		const char *d = job->daily;
		if (!d || strlen(d) != 5 || d[2] != ':' || strspn(d, "0123456789:") != 5 ||
		    (d[0] - '0') * 10 + (d[1] - '0') > 23 || d[3] > '5')
			why = "needs every > 0 or daily \"HH:MM\"";
	} else if (job->daily) {
		why = "has both every and daily";
	}
	if (why) {
		log_error("sched: job '%s': %s", job->name ? job->name : "(null)", why);
		abort();
	}
}

/*--- the server's identity ---------------------------------------------------*/

static char server_id[128];
static pthread_once_t server_once = PTHREAD_ONCE_INIT;

static void make_server_id(void)
{
	char host[64] = "";
	if (gethostname(host, sizeof host) != 0 || !host[0])
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	/* the random part tells apart two processes that reused a pid (a
	 * container restarted) */
	snprintf(server_id, sizeof server_id, "%s:%ld:%08x", host, (long)getpid(), (unsigned)randombytes_random());
}

const char *sched_server_id(void)
{
	pthread_once(&server_once, make_server_id);
	return server_id;
}

/*--- one look at the jobs --------------------------------------------------------*/

/* Runs the job's due time `due`, claimed at `started`, and records the result. */
static void run_claimed(struct db *db, const struct sched_job *job, int64_t due, int64_t started)
{
	const char *me = sched_server_id();
	char err[512] = "";
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int failed = job->run(db, due, err, sizeof err) != 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
	if (db_in_tx(db))
		db_rollback(db); /* a job that forgot its transaction must not hold the writer lock */
	if (failed && !err[0])
		snprintf(err, sizeof err, "failed without a reason");

	int64_t finished = clock_now();
	struct sched_result r = {
		.name = job->name,
		.server = me,
		.due = due,
		.started_at = started,
		.finished_at = finished,
		.ok = !failed,
		.error = err,
		/* due times that had passed when the run began were covered by it */
		.next_due = sched_next_due(job, started),
		.retry_at = failed && job->retry ? finished + job->retry : 0,
		.skipped = due_between(job, due, started),
		.keep_since = finished - KEEP_RUNS,
	};
	char at[32];
	clock_fmt(due, at);
	if (sched_store_finish(db, &r)) {
		/* the lease runs out and the due time runs again */
		log_error("sched: job %s (due %s) ended (%s) but could not be recorded: %s", job->name, at,
			  failed ? "failed" : "ok", db_errmsg(db));
		return;
	}
	if (r.lease_lost)
		log_warn("sched: job %s (due %s) ended after %ld ms, after its lease: another server had taken it over",
			 job->name, at, ms);
	else if (failed)
		log_warn("sched: job %s (due %s) failed after %ld ms: %s%s", job->name, at, ms, err,
			 job->retry ? "; will retry" : "");
	else if (r.skipped)
		log_info("sched: job %s (due %s) done in %ld ms; %lld due time(s) missed meanwhile skipped", job->name,
			 at, ms, (long long)r.skipped);
	else
		log_info("sched: job %s (due %s) done in %ld ms", job->name, at, ms);
}

/* Looks at every job once, running those that are due. Returns 0, or -1
 * when the database could not be reached. */
static int look(struct sched *s)
{
	struct db *db = store_acquire(s->store);
	int rc = 0;
	for (int i = 0; i < s->njobs; i++) {
		pthread_mutex_lock(&s->mu);
		int stop = s->stop;
		pthread_mutex_unlock(&s->mu);
		if (stop)
			break;
		const struct sched_job *job = &s->jobs[i];
		int64_t now = clock_now();
		if (!s->ready[i]) {
			if (sched_store_ensure(db, job->name, sched_next_due(job, now)) != STORE_OK) {
				rc = -1;
				break;
			}
			s->ready[i] = 1;
		}
		struct sched_row row;
		int got = sched_store_get(db, job->name, &row);
		if (got == STORE_NOTFOUND) {
			s->ready[i] = 0; /* the row was deleted by hand: add it again next time */
			continue;
		}
		if (got != STORE_OK) {
			rc = -1;
			break;
		}
		if (row.next_due > now || (row.lease_until && row.lease_until >= now))
			continue;
		int lease = job->lease ? job->lease : DEFAULT_LEASE;
		int claimed = 0;
		if (sched_store_claim(db, job->name, row.next_due, now, sched_server_id(), now + lease, &claimed) !=
		    STORE_OK) {
			rc = -1;
			break;
		}
		if (!claimed)
			continue; /* another server was quicker */
		if (row.lease_owner[0]) {
			/* the previous holder's lease ran out with the run unfinished */
			char at[32];
			clock_fmt(row.next_due, at);
			log_warn("sched: job %s (due %s): the run by %s did not end within its lease; running it again",
				 job->name, at, row.lease_owner);
			if (sched_store_abandoned(db, job->name, row.next_due, row.lease_owner, row.lease_until - lease))
				log_warn("sched: job %s: could not record the abandoned run: %s", job->name,
					 db_errmsg(db));
		}
		run_claimed(db, job, row.next_due, now);
	}
	if (rc)
		log_warn("sched: cannot read or claim jobs: %s", db_errmsg(db));
	store_release(db);
	return rc;
}

static void *sched_main(void *arg)
{
	struct sched *s = arg;
	for (;;) {
		look(s);
		/* looks fall on whole multiples of the tick in real time: a job
		 * due on the minute runs on the minute, and every server looks at
		 * the same moments (so the claim, not luck, decides who runs) */
		struct timespec real, until;
		clock_gettime(CLOCK_REALTIME, &real);
		int64_t wait_ns = (int64_t)(s->tick - real.tv_sec % s->tick) * 1000000000 - real.tv_nsec;
		if (wait_ns < 100000000)
			wait_ns += (int64_t)s->tick * 1000000000; /* just looked */
		pthread_mutex_lock(&s->mu);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)(wait_ns / 1000000000);
		until.tv_nsec += (long)(wait_ns % 1000000000);
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
			;
		int stop = s->stop;
		pthread_mutex_unlock(&s->mu);
		if (stop)
			break;
	}
	return NULL;
}

/*--- start and stop --------------------------------------------------------------*/

struct sched *sched_start(const struct config *cfg, struct store *st, const struct sched_job *jobs)
{
	struct sched *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	s->store = st;
	s->jobs = jobs;
	while (jobs[s->njobs].name)
		check_job(&jobs[s->njobs++]);
	s->ready = calloc((size_t)s->njobs + 1, 1);
	if (!s->ready)
		abort();
	s->tick = cfg->sched_tick > 0 ? cfg->sched_tick : 15;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	sched_server_id();

	/* SIGTERM and SIGINT are for the thread that waits for them
	 * (server_run): the scheduler thread blocks every signal */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&s->thread, NULL, sched_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_error("sched: cannot start the scheduler thread");
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		free(s->ready);
		free(s);
		return NULL;
	}
	log_info("sched: %d job(s), every %d s, as %s", s->njobs, s->tick, sched_server_id());
	return s;
}

void sched_stop(struct sched *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->ready);
	free(s);
}
