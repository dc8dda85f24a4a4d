/*
 * arena.h - per-request bump allocator.
 *
 * Every request gets one arena, hung off the connection closure and freed
 * when libmicrohttpd reports the request complete. Anything allocated from
 * it lives exactly as long as the request; nothing is freed individually.
 */
#ifndef XIAOAN_ARENA_H
#define XIAOAN_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena_new(void);
void arena_free(struct arena *a);
/* Returns zeroed memory aligned for any type; aborts on exhaustion. */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
