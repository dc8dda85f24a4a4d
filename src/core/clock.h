/*
 * clock.h - the one clock the platform reads for expiry, lockouts and
 * deadlines. In tests, XIAOAN_CLOCK_FILE names a file holding an offset in
 * seconds that is added to the real time, so a test can move time forward
 * in a running server; without the variable it is the system clock.
 */
#ifndef XIAOAN_CLOCK_H
#define XIAOAN_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Unix seconds. */
int64_t clock_now(void);
/* "YYYY-MM-DDTHH:MM:SSZ" for clock_now() into out[32]. */
void clock_iso(char out[32]);
/* Formats unix seconds the same way. */
void clock_fmt(int64_t t, char out[32]);
/* *ts = now on clock clk (the real one, not the test offset) plus us
 * microseconds: a deadline for pthread_cond_timedwait. */
void clock_deadline(struct timespec *ts, clockid_t clk, long us);

#endif
