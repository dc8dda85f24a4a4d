/*
 * buf.h - one growable byte buffer for building strings, SQL and bodies.
 *
 * A buf owns its memory (malloc). It is always NUL-terminated after any
 * append, so b->data can be used as a C string. Allocation failure aborts:
 * a server that cannot allocate a few bytes cannot answer anyway.
 */
#ifndef XIAOAN_BUF_H
#define XIAOAN_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT {0}

void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_reset(struct buf *b);          /* length 0, keeps memory */
void buf_free(struct buf *b);           /* releases memory */
/* Hands the bytes to the caller (who frees them); the buf is left empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
