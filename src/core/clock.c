/*
 * clock.c - system time plus an optional test offset (see clock.h).
 */
#include "core/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int64_t clock_now(void)
{
	int64_t t = (int64_t)time(NULL);
	const char *f = getenv("XIAOAN_CLOCK_FILE");
	if (f && *f) {
		FILE *fp = fopen(f, "r");
		if (fp) {
			long long off = 0;
			if (fscanf(fp, "%lld", &off) == 1)
				t += off;
			fclose(fp);
		}
	}
	return t;
}

void clock_fmt(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void clock_iso(char out[32])
{
	clock_fmt(clock_now(), out);
}

void clock_deadline(struct timespec *ts, clockid_t clk, long us)
{
	clock_gettime(clk, ts);
	ts->tv_sec += us / 1000000;
	ts->tv_nsec += (us % 1000000) * 1000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}
