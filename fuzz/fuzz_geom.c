/*
 * fuzz_geom.c - libFuzzer harness for the campus polygon readers
 * (geo/geom.c): the same bytes go to the WKT reader (GEOS) and, when they
 * parse as JSON, to the GeoJSON reader, as a 校园边界 cell or an API body
 * would. Nothing may crash or leak; a refusal must carry a reason that is
 * valid UTF-8 (it goes into a JSON reply); an accepted area must be valid
 * as documented (rings of 4+ points closed in the output, coordinates in
 * range, area within the limits) and must survive the round trip through
 * its stored coordinates and its WKT.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geo/geom.h"
#include "io/table.h"

static void check_err(const char *err)
{
	size_t n = strnlen(err, 256);
	if (n == 0 || n == 256 || !utf8_valid(err, n))
		abort();
}

static void check_area(const struct geo_area *a)
{
	if (a->npolys < 1 || a->area_m2 < GEO_MIN_AREA_M2 || a->area_m2 > GEO_MAX_AREA_M2)
		abort();
	for (int p = 0; p < a->npolys; p++)
		for (int r = 0; r < a->poly[p].nrings; r++)
			for (int i = 0; i < a->poly[p].ring[r].n; i++) {
				struct geo_pt q = a->poly[p].ring[r].pt[i];
				if (!(fabs(q.lat) <= 90 && fabs(q.lon) <= 180))
					abort();
			}
	/* inside the bounding box's centre or not, the distance is a number */
	double d = geo_dist_to_area(a, (a->min_lat + a->max_lat) / 2, (a->min_lon + a->max_lon) / 2);
	if (!(d >= 0) || (geo_in_area(a, (a->min_lat + a->max_lat) / 2, (a->min_lon + a->max_lon) / 2) && d != 0))
		abort();
	char err[256];
	json_t *coords = geo_area_to_coords(a);
	struct geo_area *b = geo_area_from_stored(coords, err, sizeof err);
	json_decref(coords);
	if (!b)
		abort();
	geo_area_free(b);
	char *wkt = geo_area_to_wkt(a);
	b = geo_area_from_wkt(wkt, err, sizeof err);
	if (b)
		geo_area_free(b); /* rounding to 7 decimals may make a borderline area invalid: not a bug */
	else
		check_err(err);
	free(wkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	char err[256];

	err[0] = '\0';
	struct geo_area *a = geo_area_from_wkt(text, err, sizeof err);
	if (a) {
		check_area(a);
		geo_area_free(a);
	} else {
		check_err(err);
	}

	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (j) {
		err[0] = '\0';
		a = geo_area_from_geojson(j, err, sizeof err);
		if (a) {
			check_area(a);
			geo_area_free(a);
		} else {
			check_err(err);
		}
		json_decref(j);
	}
	free(text);
	return 0;
}
