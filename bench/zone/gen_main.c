/*
 * gen_main.c - zone_gen: writes a size's synthetic schools and venues as the
 * CSV files `xiaoan zone scan` reads (gen.h has the columns).
 *
 *   zone_gen county|province|nation DIR [--seed N]
 *
 * DIR/schools.csv and DIR/venues.csv; the nation's venues are ~1.6 GB.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

int main(int argc, char **argv)
{
	const struct gen_size *sz = argc >= 3 ? gen_size_find(argv[1]) : NULL;
	unsigned long long seed = 20260601;
	if (argc == 5 && !strcmp(argv[3], "--seed"))
		seed = strtoull(argv[4], NULL, 10);
	else if (argc != 3)
		sz = NULL;
	if (!sz) {
		fputs("usage: zone_gen county|province|nation DIR [--seed N]\n", stderr);
		return 2;
	}
	struct gen *g = gen_new(sz, seed);
	if (!g) {
		fputs("zone_gen: out of memory\n", stderr);
		return 1;
	}
	char path[4096];
	FILE *f;
	snprintf(path, sizeof path, "%s/schools.csv", argv[2]);
	if (!(f = fopen(path, "w")) || gen_write_schools_csv(g, f) || fclose(f)) {
		perror(path);
		return 1;
	}
	snprintf(path, sizeof path, "%s/venues.csv", argv[2]);
	if (!(f = fopen(path, "w")) || gen_write_venues_csv(g, f) || fclose(f)) {
		perror(path);
		return 1;
	}
	gen_free(g);
	return 0;
}
