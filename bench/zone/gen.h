/*
 * gen.h - clustered synthetic schools and venues for bench/zone.
 *
 * A size names a region's bounding box, a number of towns (clusters: a
 * county seat and townships) and how many schools and venues to place. Every
 * school and every venue is a pure function of (seed, size, index): the
 * driver can stream twenty million venues into the engine without holding
 * them, and regenerate the same ones later for the baseline join or the
 * CSV files PostGIS loads.
 *
 *  - towns: uniform in the box, a weight (seats 8, townships 1-3) and a
 *    radius of 800 m x sqrt(weight); each town has 3-5 "streets" (segments
 *    through its centre);
 *  - schools: a town by weight, a Gaussian offset of half its radius; the
 *    stage from the mix of Chinese schools (教育统计, rounded); 30 % have an
 *    irregular star-shaped campus of 1-10 ha with 1-3 entrances (the first
 *    is the pupils' gate), a fifth of the rest one gate 30-60 m away;
 *  - venues: 30 % within 260 m of a random school (about 60 % of those
 *    within 200 m), 45 % along a street (12 m either side), 25 % scattered
 *    round a town; the category mix follows rules.md section 6 (eateries and
 *    shops dominate, internet cafes are 2 %); 92 % 营业; 30 % have one or
 *    two entrances 5-15 m from the point.
 *
 * Nothing here allocates per item; gen_new allocates the towns and the
 * school points (16 bytes a school). Thread-safe after gen_new.
 */
#ifndef XIAOAN_BENCH_ZONE_GEN_H
#define XIAOAN_BENCH_ZONE_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GEN_MAX_VERTS 12
#define GEN_MAX_GATES 3
#define GEN_MAX_ENT 2

struct gen_size {
	const char *name;            /* "county", "province", "nation" */
	size_t nschools, nvenues, ntowns;
	double min_lat, min_lon, max_lat, max_lon;
	/* region codes: provinces, cities per province, counties per city, and
	 * the first codes used (so the county is /340000/340800/340899/) */
	int nprov, ncity, ncounty;
	int prov0, city0, county0;
};

/* The size by name, or NULL. */
const struct gen_size *gen_size_find(const char *name);

struct gen_ll {
	double lat, lon;
};

struct gen_school {
	int64_t id;                  /* index + 1 */
	double lat, lon;             /* the campus centre, or the point */
	int stage;                   /* index into gen_stage_names */
	char region_path[48];        /* "/340000/340800/340899/340899101/" */
	int npts;                    /* outer ring, open; 0 = no campus polygon */
	struct gen_ll pts[GEN_MAX_VERTS];
	double area_m2;              /* planar estimate of the polygon's area */
	int ngates, npupil_gates;    /* pupils' gates first */
	struct gen_ll gates[GEN_MAX_GATES];
};

struct gen_venue {
	int64_t id;                  /* index + 1 */
	double lat, lon;
	int category;                /* index into gen_category_codes */
	int status;                  /* index into gen_status_names; 0 = 营业 */
	int nent;
	struct gen_ll ent[GEN_MAX_ENT];
};

extern const char *const gen_stage_names[];    /* Chinese, as docs/domain.md; NULL-terminated */
extern const char *const gen_category_codes[]; /* venue_categories codes; NULL-terminated */
extern const char *const gen_status_names[];   /* 营业, 停业, 注销, 取缔; NULL-terminated */

struct gen;

/* Places the towns and the schools' points. NULL when out of memory. */
struct gen *gen_new(const struct gen_size *size, uint64_t seed);
void gen_free(struct gen *g);
const struct gen_size *gen_sizeof(const struct gen *g);

/* Item i (0-based) of the size; deterministic. */
void gen_school(const struct gen *g, size_t i, struct gen_school *out);
void gen_venue(const struct gen *g, size_t i, struct gen_venue *out);

/* CSV in the columns `xiaoan zone scan` reads (UTF-8, header first):
 *   schools: id,name,lat,lon,stage,region,boundary,entrances
 *            (boundary WKT POLYGON((lon lat,...)), entrances "lat lon;lat lon")
 *   venues:  id,name,lat,lon,category,status,entrances
 * Returns 0, or -1 with errno set by stdio. */
int gen_write_schools_csv(const struct gen *g, FILE *f);
int gen_write_venues_csv(const struct gen *g, FILE *f);

/* Plain id,lat,lon rows without a header (COPY ... CSV for PostGIS). */
int gen_write_points_csv(const struct gen *g, int venues, FILE *f);

#endif
