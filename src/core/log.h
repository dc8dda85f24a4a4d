/*
 * log.h - one line per event on stderr, timestamped in UTC.
 */
#ifndef XIAOAN_LOG_H
#define XIAOAN_LOG_H

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_set_quiet(int quiet);
/* From here on INFO lines are buffered and written by a thread every few
 * milliseconds (a server's request lines); log_stop() writes what is left
 * and returns to writing each line at once. */
void log_start_async(void);
void log_stop(void);

#endif
