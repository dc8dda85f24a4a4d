/*
 * ops.h - operator commands over a whole database: `xiaoan copy` (every
 * table to an empty database, SQLite or PostgreSQL in either direction:
 * a county moving up to a province server) and `xiaoan backup` (SQLite's
 * online backup while serving, with the vault key beside it).
 */
#ifndef XIAOAN_OPS_H
#define XIAOAN_OPS_H

#include <stddef.h>

struct config;
struct db;

/* `xiaoan copy --from URL --to URL`; argv[0] is "copy". Prints the counts
 * per table and the copy's audit verification on stdout, progress on
 * stderr. Returns the exit code: 0 when every count matches and the chain
 * verifies on the target, 1 otherwise (one line on stderr saying why). */
int ops_copy_cli(int argc, char **argv);

/* `xiaoan backup PATH`; argv[0] is "backup". Backs up cfg's SQLite
 * database into PATH (never overwriting), checks the copy (integrity_check,
 * audit verify) and writes the data directory's secret.key to PATH.key
 * (mode 0600). On PostgreSQL it refuses and points to pg_dump. Returns
 * the exit code. */
int ops_backup_cli(const struct config *cfg, int argc, char **argv);

/* Checks that db's tables are exactly the ones copy knows (its ordered
 * list, plus schema_migrations): a migration that adds a table must add it
 * to copy.c's list too. Returns 0, or -1 with the first difference in err. */
int copy_check_tables(struct db *db, char *err, size_t errlen);

#endif
