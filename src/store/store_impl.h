/*
 * store_impl.h - what the backends export to store.c. Not for modules.
 */
#ifndef XIAOAN_STORE_IMPL_H
#define XIAOAN_STORE_IMPL_H

#include <stddef.h>

struct store;
struct db;

struct store *sqlite_store_open(const char *path, int pool, char *err, size_t errlen);
void *sqlite_handle(struct db *db);

#endif
