/*
 * test_geom.c - unit tests for src/geo/geom.c: ellipsoid distances and
 * campus polygons.
 *
 * What a user would notice if these broke: a lawful shop 201 m from a school
 * reported as 199 m (or the reverse), a venue inside a campus shown as
 * outside it, or a hand-drawn boundary that crosses itself accepted and then
 * measured wrongly.
 *
 * References:
 *  - tests/data/geodesic_ref.csv: 400 pairs whose distances GeographicLib
 *    2.1.2's GeodSolve computed (C++; independent of the C code inside PROJ
 *    that geom.c calls). See tests/data/README.md.
 *  - point to polygon: a brute force over the geodesic edges themselves,
 *    each sampled every 5 cm along the geodesic (geod_inverseline /
 *    geod_position) and measured with geod_inverse; edges that cannot hold
 *    the minimum (by the triangle inequality) are skipped.
 */
#include <geodesic.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "geo/geom.h"

/*--- the reference set ----------------------------------------------------*/

struct ref {
	char id[16];
	double lat1, lon1, lat2, lon2, s12;
};

static struct ref refs[512];
static int nrefs;

static void load_refs(void)
{
	if (nrefs)
		return;
	const char *path = getenv("XIAOAN_GEODESIC_REF");
	FILE *f = fopen(path ? path : "tests/data/geodesic_ref.csv", "r");
	assert_non_null(f);
	char line[256];
	assert_non_null(fgets(line, sizeof line, f)); /* header */
	assert_int_equal(strncmp(line, "id,lat1,lon1,lat2,lon2,s12_m", 28), 0);
	while (fgets(line, sizeof line, f) && nrefs < (int)(sizeof refs / sizeof refs[0])) {
		struct ref *r = &refs[nrefs];
		if (sscanf(line, "%15[^,],%lf,%lf,%lf,%lf,%lf", r->id, &r->lat1, &r->lon1, &r->lat2, &r->lon2, &r->s12) == 6)
			nrefs++;
	}
	fclose(f);
	assert_true(nrefs >= 400);
}

static void test_exact_against_geodsolve(void **state)
{
	(void)state;
	load_refs();
	double worst = 0;
	for (int i = 0; i < nrefs; i++) {
		struct ref *r = &refs[i];
		double e = fabs(geo_dist_exact(r->lat1, r->lon1, r->lat2, r->lon2) - r->s12);
		if (e > worst)
			worst = e;
		if (e >= 0.01)
			fail_msg("%s: exact %.6f, GeodSolve %.6f", r->id, geo_dist_exact(r->lat1, r->lon1, r->lat2, r->lon2),
				 r->s12);
	}
	/* two implementations of the same algorithm: micrometres apart */
	assert_true(worst < 1e-5);
}

static void test_fast_against_geodsolve(void **state)
{
	(void)state;
	load_refs();
	double worst = 0, worst_rel = 0;
	int shorts = 0, longs = 0;
	for (int i = 0; i < nrefs; i++) {
		struct ref *r = &refs[i];
		double got = geo_dist_fast(r->lat1, r->lon1, r->lat2, r->lon2), e = fabs(got - r->s12);
		if (r->s12 <= 2000) {
			shorts++;
			if (e > worst)
				worst = e;
			if (e >= 0.001)
				fail_msg("%s (%.3f m): fast %.6f, GeodSolve %.6f", r->id, r->s12, got, r->s12);
		} else if (r->s12 <= 20000) {
			longs++;
			if (e / r->s12 > worst_rel)
				worst_rel = e / r->s12;
			assert_true(e / r->s12 < 0.001);
		}
	}
	print_message("geo_dist_fast: max error %.3g m over %d pairs up to 2 km; max relative error %.3g over %d pairs "
		      "of 2-20 km\n",
		      worst, shorts, worst_rel, longs);
	assert_true(shorts >= 380);
	assert_true(worst < 0.001);
}

static void test_metres_per_degree(void **state)
{
	(void)state;
	for (double lat = 18; lat <= 53; lat += 5) {
		double mlat, mlon;
		geo_metres_per_degree(lat, &mlat, &mlon);
		/* one microdegree each way, measured exactly */
		assert_true(fabs(mlat * 1e-6 - geo_dist_exact(lat - 5e-7, 120, lat + 5e-7, 120)) < 1e-6);
		assert_true(fabs(mlon * 1e-6 - geo_dist_exact(lat, 120, lat, 120 + 1e-6)) < 1e-6);
	}
}

/*--- random campuses ------------------------------------------------------*/

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static double rnd(void)
{
	/* splitmix64: reproducible everywhere */
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0;
}

static struct geod_geodesic g;

static void setup_geod(void)
{
	geod_init(&g, 6378137, 1 / 298.257223563);
}

/* A star-shaped (hence simple) ring of n vertices around (lat, lon), radii
 * in [rmin, rmax] metres. */
static void star(struct geo_ring *ring, int n, double lat, double lon, double rmin, double rmax)
{
	ring->n = n;
	ring->pt = calloc((size_t)n, sizeof *ring->pt);
	double a0 = 360 * rnd();
	for (int i = 0; i < n; i++) {
		double az = a0 + (i + 0.4 * (rnd() - 0.5)) * 360.0 / n;
		double d = rmin + (rmax - rmin) * rnd();
		geod_direct(&g, lat, lon, az, d, &ring->pt[i].lat, &ring->pt[i].lon, NULL);
	}
}

/* A campus: one or two parts, each with an optional hole. */
static struct geo_area *campus(double lat, double lon, int parts, int holes)
{
	struct geo_area *a = calloc(1, sizeof *a);
	a->npolys = parts;
	a->poly = calloc((size_t)parts, sizeof *a->poly);
	double R = 150 + 450 * rnd();
	for (int p = 0; p < parts; p++) {
		double clat = lat, clon = lon;
		if (p)
			geod_direct(&g, lat, lon, 360 * rnd(), R * (2.6 + rnd()), &clat, &clon, NULL);
		a->poly[p].nrings = holes ? 2 : 1;
		a->poly[p].ring = calloc((size_t)a->poly[p].nrings, sizeof *a->poly[p].ring);
		star(&a->poly[p].ring[0], 8 + (int)(16 * rnd()), clat, clon, 0.7 * R, R);
		if (holes)
			star(&a->poly[p].ring[1], 5 + (int)(5 * rnd()), clat, clon, 0.15 * R, 0.3 * R);
	}
	a->min_lat = a->min_lon = INFINITY;
	a->max_lat = a->max_lon = -INFINITY;
	for (int p = 0; p < parts; p++)
		for (int r = 0; r < a->poly[p].nrings; r++)
			for (int i = 0; i < a->poly[p].ring[r].n; i++) {
				struct geo_pt q = a->poly[p].ring[r].pt[i];
				a->min_lat = fmin(a->min_lat, q.lat);
				a->max_lat = fmax(a->max_lat, q.lat);
				a->min_lon = fmin(a->min_lon, q.lon);
				a->max_lon = fmax(a->max_lon, q.lon);
			}
	return a;
}

/* The distance to the nearest point of any edge, each edge a geodesic
 * sampled every 5 cm. */
static double brute_force(const struct geo_area *a, double lat, double lon)
{
	double best = INFINITY;
	for (int p = 0; p < a->npolys; p++)
		for (int r = 0; r < a->poly[p].nrings; r++)
			for (int i = 0; i < a->poly[p].ring[r].n; i++) {
				double d;
				struct geo_pt u = a->poly[p].ring[r].pt[i];
				geod_inverse(&g, lat, lon, u.lat, u.lon, &d, NULL, NULL);
				best = fmin(best, d);
			}
	for (int p = 0; p < a->npolys; p++)
		for (int r = 0; r < a->poly[p].nrings; r++) {
			const struct geo_ring *ring = &a->poly[p].ring[r];
			for (int i = 0; i < ring->n; i++) {
				struct geo_pt u = ring->pt[i], v = ring->pt[(i + 1) % ring->n];
				double du, dv, len;
				geod_inverse(&g, lat, lon, u.lat, u.lon, &du, NULL, NULL);
				geod_inverse(&g, lat, lon, v.lat, v.lon, &dv, NULL, NULL);
				geod_inverse(&g, u.lat, u.lon, v.lat, v.lon, &len, NULL, NULL);
				if ((du + dv - len) / 2 > best) /* no point of this edge can be nearer */
					continue;
				struct geod_geodesicline l;
				geod_inverseline(&l, &g, u.lat, u.lon, v.lat, v.lon, GEOD_LATITUDE | GEOD_LONGITUDE |
											GEOD_DISTANCE_IN);
				int steps = (int)ceil(len / 0.05);
				for (int k = 0; k <= steps; k++) {
					double plat, plon, d;
					geod_position(&l, len * k / steps, &plat, &plon, NULL);
					geod_inverse(&g, lat, lon, plat, plon, &d, NULL, NULL);
					best = fmin(best, d);
				}
			}
		}
	return best;
}

static void free_campus(struct geo_area *a)
{
	geo_area_free(a);
}

static void test_area_distance_brute_force(void **state)
{
	(void)state;
	setup_geod();
	double worst = 0;
	int checked = 0, inside = 0;
	for (int c = 0; c < 12; c++) {
		double lat = 18 + 35 * rnd(), lon = 75 + 59 * rnd();
		struct geo_area *a = campus(lat, lon, 1 + c % 2, c % 3 != 0);
		for (int k = 0; k < 18; k++) {
			double qlat, qlon;
			geod_direct(&g, lat, lon, 360 * rnd(), 2000 * sqrt(rnd()), &qlat, &qlon, NULL);
			double got = geo_dist_to_area(a, qlat, qlon);
			if (got == 0) {
				/* inside: the other predicate agrees */
				assert_true(geo_in_area(a, qlat, qlon));
				inside++;
				continue;
			}
			assert_false(geo_in_area(a, qlat, qlon));
			double want = brute_force(a, qlat, qlon), e = fabs(got - want);
			if (e > worst)
				worst = e;
			if (e >= 0.01)
				fail_msg("campus %d point %d: %.4f m, brute force %.4f m", c, k, got, want);
			checked++;
		}
		/* the centre: inside, or in the hole (then as far as the hole's edge) */
		double at_centre = geo_dist_to_area(a, lat, lon);
		if (a->poly[0].nrings == 1) {
			assert_true(at_centre == 0);
		} else {
			assert_true(at_centre > 0);
			assert_true(fabs(at_centre - brute_force(a, lat, lon)) < 0.01);
		}
		free_campus(a);
	}
	print_message("point to polygon: max error %.3g m over %d points outside, %d inside\n", worst, checked, inside);
	assert_true(checked > 100);
}

static void test_inside_is_zero(void **state)
{
	(void)state;
	char err[256];
	/* a 1 km square near Hefei with a 200 m hole */
	struct geo_area *a = geo_area_from_wkt(
		"POLYGON ((117.2 31.8, 117.21 31.8, 117.21 31.81, 117.2 31.81, 117.2 31.8),"
		" (117.204 31.804, 117.206 31.804, 117.206 31.806, 117.204 31.806, 117.204 31.804))",
		err, sizeof err);
	assert_non_null(a);
	assert_true(geo_dist_to_area(a, 31.801, 117.201) == 0);
	assert_true(geo_in_area(a, 31.801, 117.201));
	/* in the hole: outside, 0.001 deg of longitude (~94.6 m) from its
	 * east and west edges, nearer than the north and south ones (~111 m) */
	assert_false(geo_in_area(a, 31.805, 117.205));
	double d = geo_dist_to_area(a, 31.805, 117.205);
	assert_true(fabs(d - geo_dist_exact(31.805, 117.205, 31.805, 117.206)) < 0.01);
	/* due south of the square */
	d = geo_dist_to_area(a, 31.79, 117.205);
	assert_true(fabs(d - geo_dist_exact(31.79, 117.205, 31.8, 117.205)) < 0.01);
	/* no area: infinitely far */
	assert_true(isinf(geo_dist_to_area(NULL, 31.8, 117.2)));
	geo_area_free(a);
}

/*--- readers --------------------------------------------------------------*/

static struct geo_area *from_json_text(const char *text, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &je);
	if (!j) {
		snprintf(err, errlen, "json: %s", je.text);
		return NULL;
	}
	struct geo_area *a = geo_area_from_geojson(j, err, errlen);
	json_decref(j);
	return a;
}

#define SQUARE "[[117.2,31.8],[117.201,31.8],[117.201,31.801],[117.2,31.801],[117.2,31.8]]"
#define SQUARE2 "[[117.203,31.8],[117.204,31.8],[117.204,31.801],[117.203,31.801],[117.203,31.8]]"

static void test_reads_good_geojson(void **state)
{
	(void)state;
	static const char *const good[] = {
		"{\"type\":\"Polygon\",\"coordinates\":[" SQUARE "]}",
		"{\"type\":\"MultiPolygon\",\"coordinates\":[[" SQUARE "]]}",
		"{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[" SQUARE "]}}",
		"[[" SQUARE "]]",
	};
	char err[256];
	/* 0.001 deg x 0.001 deg at 31.8 N: ~110.9 m x ~94.6 m */
	double want = geo_dist_exact(31.8, 117.2, 31.801, 117.2) * geo_dist_exact(31.8005, 117.2, 31.8005, 117.201);
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct geo_area *a = from_json_text(good[i], err, sizeof err);
		if (!a)
			fail_msg("%s: %s", good[i], err);
		assert_int_equal(a->npolys, 1);
		assert_int_equal(a->poly[0].nrings, 1);
		assert_int_equal(a->poly[0].ring[0].n, 4); /* open in memory */
		assert_true(fabs(a->area_m2 - want) < 1);
		assert_true(a->min_lat == 31.8 && a->max_lat == 31.801 && a->min_lon == 117.2 && a->max_lon == 117.201);
		double clat, clon;
		geo_area_center(a, &clat, &clon);
		assert_true(fabs(clat - 31.8005) < 1e-9 && fabs(clon - 117.2005) < 1e-9);
		/* back out: closed rings, 7 decimals, same points */
		json_t *c = geo_area_to_coords(a);
		char *s = json_dumps(c, JSON_COMPACT | JSON_REAL_PRECISION(15));
		assert_string_equal(s, "[[" SQUARE "]]");
		free(s);
		json_decref(c);
		char *wkt = geo_area_to_wkt(a);
		assert_string_equal(wkt, "POLYGON ((117.2 31.8, 117.201 31.8, 117.201 31.801, 117.2 31.801, 117.2 31.8))");
		struct geo_area *b = geo_area_from_wkt(wkt, err, sizeof err);
		assert_non_null(b);
		assert_true(fabs(b->area_m2 - a->area_m2) < 1e-6);
		geo_area_free(b);
		free(wkt);
		geo_area_free(a);
	}
	/* two parts and a hole */
	struct geo_area *a = from_json_text(
		"{\"type\":\"MultiPolygon\",\"coordinates\":[[" SQUARE ",[[117.2004,31.8004],[117.2006,31.8004],"
		"[117.2006,31.8006],[117.2004,31.8006],[117.2004,31.8004]]],[" SQUARE2 "]]}",
		err, sizeof err);
	if (!a)
		fail_msg("%s", err);
	assert_int_equal(a->npolys, 2);
	assert_int_equal(a->poly[0].nrings, 2);
	assert_true(fabs(a->area_m2 - want * (2 - 0.04)) < 2);
	char *wkt = geo_area_to_wkt(a);
	assert_true(strncmp(wkt, "MULTIPOLYGON (((117.2 31.8,", 27) == 0);
	struct geo_area *b = geo_area_from_wkt(wkt, err, sizeof err);
	assert_non_null(b);
	assert_int_equal(b->npolys, 2);
	json_t *stored = geo_area_to_coords(b);
	struct geo_area *c = geo_area_from_stored(stored, err, sizeof err);
	assert_non_null(c);
	assert_true(fabs(c->area_m2 - a->area_m2) < 1e-6);
	json_decref(stored);
	geo_area_free(c);
	geo_area_free(b);
	free(wkt);
	geo_area_free(a);
}

static void test_reads_good_wkt(void **state)
{
	(void)state;
	static const char *const good[] = {
		"POLYGON((117.2 31.8,117.201 31.8,117.201 31.801,117.2 31.801,117.2 31.8))",
		"polygon ((117.2 31.8, 117.201 31.8, 117.201 31.801, 117.2 31.801, 117.2 31.8))",
		"MULTIPOLYGON(((117.2 31.8,117.201 31.8,117.201 31.801,117.2 31.801,117.2 31.8)),"
		"((117.203 31.8,117.204 31.8,117.204 31.801,117.203 31.801,117.203 31.8)))",
		"POLYGON Z ((117.2 31.8 5, 117.201 31.8 5, 117.201 31.801 5, 117.2 31.801 5, 117.2 31.8 5))",
	};
	char err[256];
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct geo_area *a = geo_area_from_wkt(good[i], err, sizeof err);
		if (!a)
			fail_msg("%s: %s", good[i], err);
		assert_true(a->area_m2 > 10000 && a->area_m2 < 22000);
		assert_true(a->min_lon == 117.2 && a->min_lat == 31.8);
		geo_area_free(a);
	}
}

struct bad {
	const char *input;
	const char *reason; /* a piece of the Chinese reason */
};

static void expect_refused(const struct bad *b, size_t n, int wkt)
{
	char err[256];
	for (size_t i = 0; i < n; i++) {
		err[0] = '\0';
		struct geo_area *a = wkt ? geo_area_from_wkt(b[i].input, err, sizeof err)
					 : from_json_text(b[i].input, err, sizeof err);
		if (a)
			fail_msg("accepted: %s", b[i].input);
		if (!strstr(err, b[i].reason))
			fail_msg("%s: reason \"%s\" lacks \"%s\"", b[i].input, err, b[i].reason);
	}
}

static void test_refuses_bad_geojson(void **state)
{
	(void)state;
	static const struct bad bad[] = {
		/* bow-tie: the edges cross at (117.2005, 31.8005) */
		{ "{\"type\":\"Polygon\",\"coordinates\":[[[117.2,31.8],[117.201,31.801],[117.201,31.8],[117.2,31.801],"
		  "[117.2,31.8]]]}",
		  "自相交" },
		{ "{\"type\":\"Polygon\",\"coordinates\":[[[117.2,31.8],[117.201,31.801],[117.201,31.8],[117.2,31.801],"
		  "[117.2,31.8]]]}",
		  "纬度 31.8005000、经度 117.2005000" },
		{ "{\"type\":\"Polygon\",\"coordinates\":[[[117.2,31.8],[117.201,31.8],[117.201,31.801],[117.2,31.801]]]}",
		  "未闭合" },
		{ "{\"type\":\"Polygon\",\"coordinates\":[[[117.2,31.8],[117.201,31.8],[117.2,31.8]]]}", "至少需要 4 个点" },
		/* ~7.8 km x 6.6 km */
		{ "{\"type\":\"Polygon\",\"coordinates\":[[[117.2,31.8],[117.27,31.8],[117.27,31.87],[117.2,31.87],[117.2,"
		  "31.8]]]}",
		  "面积过大" },
		/* ~2.2 m x 1.9 m */
		{ "{\"type\":\"Polygon\",\"coordinates\":[[[117.2,31.8],[117.20002,31.8],[117.20002,31.80002],[117.2,"
		  "31.80002],[117.2,31.8]]]}",
		  "面积过小" },
		{ "{\"type\":\"Polygon\",\"coordinates\":[[[117.2,91],[117.201,91],[117.201,31.801],[117.2,31.801],[117.2,"
		  "91]]]}",
		  "纬度 91 超出范围" },
		{ "{\"type\":\"Polygon\",\"coordinates\":[[[181,31.8],[117.201,31.8],[117.201,31.801],[181,31.8]]]}",
		  "经度 181 超出范围" },
		{ "{\"type\":\"Polygon\",\"coordinates\":[[[117.2,\"NaN\"],[117.201,31.8],[117.201,31.801],[117.2,31.801],"
		  "[117.2,31.8]]]}",
		  "第 1 个点须为 [经度, 纬度]" },
		{ "{\"type\":\"Polygon\",\"coordinates\":[[[\"117.2\",31.8],[117.201,31.8],[117.201,31.801],[117.2,31.801],"
		  "[117.2,31.8]]]}",
		  "数字对" },
		{ "{\"type\":\"Polygon\",\"coordinates\":[[[117.2,31.8],[117.201,31.8],[117.201,31.801],[117.2,31.801],"
		  "[117.2,31.8]],[[117.2004,31.8004],[117.2006,31.8004],[117.2006,31.8004],[117.2004,31.8004]]]}",
		  "第 1 个内环" },
		/* two parts overlapping */
		{ "{\"type\":\"MultiPolygon\",\"coordinates\":[[" SQUARE "],[[[117.2005,31.8005],[117.2015,31.8005],"
		  "[117.2015,31.8015],[117.2005,31.8015],[117.2005,31.8005]]]]}",
		  "多个多边形相互重叠" },
		/* one part inside the other */
		{ "{\"type\":\"MultiPolygon\",\"coordinates\":[[" SQUARE "],[[[117.2004,31.8004],[117.2006,31.8004],"
		  "[117.2006,31.8006],[117.2004,31.8006],[117.2004,31.8004]]]]}",
		  "相互包含" },
		/* the second part crosses itself: named */
		{ "{\"type\":\"MultiPolygon\",\"coordinates\":[[" SQUARE "],[[[117.203,31.8],[117.204,31.801],"
		  "[117.204,31.8],[117.203,31.801],[117.203,31.8]]]]}",
		  "第 2 个多边形：边界自相交" },
		{ "{\"type\":\"Point\",\"coordinates\":[117.2,31.8]}", "Polygon 或 MultiPolygon" },
		{ "{\"type\":\"Polygon\",\"coordinates\":[]}", "没有外环" },
		{ "{\"type\":\"MultiPolygon\",\"coordinates\":[]}", "没有多边形" },
		{ "{\"type\":\"Polygon\"}", "coordinates 须为数组" },
		{ "{\"type\":\"Feature\",\"geometry\":null}", "没有几何图形" },
		{ "\"POLYGON\"", "GeoJSON" },
	};
	expect_refused(bad, sizeof bad / sizeof bad[0], 0);
}

static void test_refuses_bad_wkt(void **state)
{
	(void)state;
	static const struct bad bad[] = {
		{ "POLYGON((117.2 31.8,117.201 31.801,117.201 31.8,117.2 31.801,117.2 31.8))", "自相交" },
		{ "POLYGON((117.2 31.8,117.201 31.8,117.201 31.801,117.2 31.801))", "未闭合" },
		{ "POLYGON((117.2 31.8,117.201 31.8,117.2 31.8))", "至少需要 4 个点" },
		{ "POLYGON((117.2 31.8,117.27 31.8,117.27 31.87,117.2 31.87,117.2 31.8))", "面积过大" },
		{ "POLYGON((117.2 31.8,117.20002 31.8,117.20002 31.80002,117.2 31.80002,117.2 31.8))", "面积过小" },
		{ "POLYGON((117.2 91,117.201 91,117.201 31.801,117.2 31.801,117.2 91))", "纬度 91 超出范围" },
		{ "POLYGON((117.2 NaN,117.201 31.8,117.201 31.801,117.2 31.801,117.2 NaN))", "不是有效数字" },
		{ "POLYGON((117.2 abc,117.201 31.8,117.201 31.801,117.2 31.801,117.2 31.8))", "WKT 格式不正确" },
		{ "MULTIPOLYGON(((117.2 31.8,117.201 31.8,117.201 31.801,117.2 31.801,117.2 31.8)),"
		  "((117.2005 31.8005,117.2015 31.8005,117.2015 31.8015,117.2005 31.8015,117.2005 31.8005)))",
		  "多个多边形相互重叠" },
		{ "LINESTRING(117.2 31.8,117.201 31.8)", "须为 POLYGON 或 MULTIPOLYGON" },
		{ "POLYGON EMPTY", "为空" },
		{ "", "为空" },
		{ "POLYGON((117.2 31.8,117.201 31.8,117.201 31.801,117.2 31.801,117.2 31.8)) trailing \xff", "WKT 格式不正确" },
	};
	expect_refused(bad, sizeof bad / sizeof bad[0], 1);
}

static void test_too_many_points(void **state)
{
	(void)state;
	/* a circle of GEO_MAX_POINTS + 1 vertices, radius 300 m */
	setup_geod();
	char *wkt = malloc(64 * (GEO_MAX_POINTS + 4));
	size_t o = (size_t)sprintf(wkt, "POLYGON((");
	for (int i = 0; i <= GEO_MAX_POINTS + 1; i++) {
		double lat, lon;
		geod_direct(&g, 31.8, 117.2, 360.0 * (i % (GEO_MAX_POINTS + 1)) / (GEO_MAX_POINTS + 1), 300, &lat, &lon,
			    NULL);
		o += (size_t)sprintf(wkt + o, "%s%.9f %.9f", i ? "," : "", lon, lat);
	}
	strcpy(wkt + o, "))");
	char err[256];
	assert_null(geo_area_from_wkt(wkt, err, sizeof err));
	assert_non_null(strstr(err, "点过多"));
	free(wkt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_against_geodsolve),
		cmocka_unit_test(test_fast_against_geodsolve),
		cmocka_unit_test(test_metres_per_degree),
		cmocka_unit_test(test_area_distance_brute_force),
		cmocka_unit_test(test_inside_is_zero),
		cmocka_unit_test(test_reads_good_geojson),
		cmocka_unit_test(test_reads_good_wkt),
		cmocka_unit_test(test_refuses_bad_geojson),
		cmocka_unit_test(test_refuses_bad_wkt),
		cmocka_unit_test(test_too_many_points),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
