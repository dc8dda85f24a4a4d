/*
 * scan_cli.h - `xiaoan zone scan`: the zone engine over CSV files, without
 * a database, for analysts (issue 6, item 7).
 */
#ifndef XIAOAN_ZONE_SCAN_CLI_H
#define XIAOAN_ZONE_SCAN_CLI_H

/* The `zone` command; argv[0] is "zone", argv[1] the subcommand. Returns
 * the exit status: 0 done, 1 could not run (bad arguments, a missing or
 * unreadable file, a missing column), 2 done but some rows were bad and
 * skipped (each named on stderr). */
int zone_cli(int argc, char **argv);

#endif
