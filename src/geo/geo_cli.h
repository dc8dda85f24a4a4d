/*
 * geo_cli.h - `xiaoan geo`: distances and coordinate conversions on CSV
 * for analysts and for checking, without a database.
 */
#ifndef XIAOAN_GEO_CLI_H
#define XIAOAN_GEO_CLI_H

/* argv[0] is "geo". Reads standard input, writes standard output, one line
 * per bad row on standard error. Returns the exit status: 0 when every row
 * was good, 1 when a row was bad (the good rows are still written), 2 for a
 * usage error. */
int geo_cli(int argc, char **argv);

/* Splits line in place on sep into at most max fields (f[i] trimmed of
 * spaces, tabs and line ends); returns how many fields the line has,
 * which may exceed max. For plain numeric lists, no quoting. */
int geo_split_fields(char *line, char sep, char **f, int max);

#endif
