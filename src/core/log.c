/*
 * log.c - timestamped log lines on stderr.
 *
 * Each line is formatted whole, so lines from worker threads never
 * interleave. A command-line run writes every line at once. A server
 * (log_start_async) appends INFO lines, one per request, to a buffer that a
 * flusher thread writes every few milliseconds with one write(2): a busy
 * server pays one system call per batch instead of one per request. WARN and
 * ERROR lines go out at once, after whatever is buffered, so order holds.
 * What a killed server loses is at most the last few milliseconds of INFO
 * lines; log_stop() writes the rest at a graceful stop.
 */
#include "core/log.h"

#include "core/clock.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_BUF (256 * 1024)
#define FLUSH_MS 5

static int quiet;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int async_on, stopping;
static pthread_t flusher;
static char pending[LOG_BUF];
static size_t npending;

void log_set_quiet(int q)
{
	quiet = q;
}

static void write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w <= 0)
			return; /* nowhere to report a failing stderr */
		p += w;
		n -= (size_t)w;
	}
}

/* Writes what is buffered. Called with mu held. */
static void drain_locked(void)
{
	write_all(pending, npending);
	npending = 0;
}

static void *flush_loop(void *arg)
{
	(void)arg;
	static char out[LOG_BUF];
	pthread_mutex_lock(&mu);
	while (!stopping) {
		struct timespec until;
		clock_deadline(&until, CLOCK_REALTIME, FLUSH_MS * 1000L);
		pthread_cond_timedwait(&cv, &mu, &until);
		if (npending == 0)
			continue;
		/* copy out and write without the lock: workers keep appending */
		size_t n = npending;
		memcpy(out, pending, n);
		npending = 0;
		pthread_mutex_unlock(&mu);
		write_all(out, n);
		pthread_mutex_lock(&mu);
	}
	drain_locked();
	pthread_mutex_unlock(&mu);
	return NULL;
}

void log_start_async(void)
{
	pthread_mutex_lock(&mu);
	if (!async_on) {
		stopping = 0;
		if (pthread_create(&flusher, NULL, flush_loop, NULL) == 0)
			async_on = 1;
	}
	pthread_mutex_unlock(&mu);
}

void log_stop(void)
{
	pthread_mutex_lock(&mu);
	int on = async_on;
	stopping = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	if (on)
		pthread_join(flusher, NULL);
	pthread_mutex_lock(&mu);
	async_on = 0;
	drain_locked();
	pthread_mutex_unlock(&mu);
}

static void emit(const char *line, size_t n, int urgent)
{
	pthread_mutex_lock(&mu);
	if (!async_on || urgent || npending + n > sizeof pending) {
		drain_locked();
		write_all(line, n);
	} else {
		memcpy(pending + npending, line, n);
		npending += n;
		if (npending > sizeof pending / 2)
			pthread_cond_signal(&cv);
	}
	pthread_mutex_unlock(&mu);
}

static void vlog(const char *level, int urgent, const char *fmt, va_list ap)
{
	char line[4096];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
	n += snprintf(line + n, sizeof line - (size_t)n, ".%03ldZ %s ", ts.tv_nsec / 1000000, level);
	int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	emit(line, (size_t)n, urgent);
}

#define LOGFN(name, lvl, urgent, skip)          \
	void name(const char *fmt, ...)         \
	{                                       \
		if (skip)                       \
			return;                 \
		va_list ap;                     \
		va_start(ap, fmt);              \
		vlog(lvl, urgent, fmt, ap);     \
		va_end(ap);                     \
	}

LOGFN(log_info, "INFO", 0, quiet)
LOGFN(log_warn, "WARN", 1, 0)
LOGFN(log_error, "ERROR", 1, 0)
