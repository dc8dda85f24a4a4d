/*
 * test_zone_engine.c - the zone engine (src/zone/engine.c).
 *
 * What a user would notice if these broke: an internet café 150 m from a
 * primary school missing from the list, or a lawful shop listed as 禁止;
 * a kindergarten judged by the primary-school rule; a local rule leaking
 * outside its region; a closed or moved venue still flagged.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "geo/geom.h"
#include "zone/engine.h"
#include "zone/rules_seed.h"

#define LAT0 30.50
#define LON0 117.05
#define REGION "/340000/340800/340899/340899001/"

static int CAT(const char *c)
{
	int i = zx_category_index(c);
	assert_true(i >= 0);
	return i;
}

static int STAGE(const char *s)
{
	int i = zx_stage_index(s);
	assert_true(i >= 0);
	return i;
}

/* a point dn metres north and de metres east of (lat, lon) */
static void offset(double lat, double lon, double dn, double de, double *olat, double *olon)
{
	double mlat, mlon;
	geo_metres_per_degree(lat, &mlat, &mlon);
	*olat = lat + dn / mlat;
	*olon = lon + de / mlon;
}

/* a square campus of side 2h metres centred on (lat, lon) */
static struct geo_area *square(double lat, double lon, double h)
{
	double a0, o0, a1, o1;
	offset(lat, lon, -h, -h, &a0, &o0);
	offset(lat, lon, h, h, &a1, &o1);
	json_t *g = json_pack("{s:s,s:[[[f,f],[f,f],[f,f],[f,f],[f,f]]]}", "type", "Polygon", "coordinates", o0, a0, o1,
			      a0, o1, a1, o0, a1, o0, a0);
	char err[256];
	struct geo_area *a = geo_area_from_geojson(g, err, sizeof err);
	json_decref(g);
	if (!a)
		fail_msg("square: %s", err);
	return a;
}

static struct zx *national(void)
{
	struct zx_config cfg = { .radius_m = 200, .margin_m = 5, .threads = 1 };
	struct zx *z = zx_new(&cfg);
	assert_non_null(z);
	struct zx_rule r[64];
	size_t n = zx_national_rules(r, 64);
	assert_true(n >= 15);
	assert_int_equal(zx_set_rules(z, r, n), 0);
	return z;
}

static void school(struct zx *z, int64_t id, const char *stage, double lat, double lon, const struct geo_area *a,
		   const char *region)
{
	struct zx_school_in s = { .id = id, .lat = lat, .lon = lon, .stage = STAGE(stage),
				  .region_path = region ? region : REGION, .area = a };
	assert_int_equal(zx_school_put(z, &s), 0);
}

static void venue(struct zx *z, int64_t id, const char *cat, double lat, double lon, int active)
{
	struct zx_venue_in v = { .id = id, .lat = lat, .lon = lon, .category = CAT(cat), .active = active };
	assert_int_equal(zx_venue_put(z, &v), 0);
}

struct got {
	int n;
	struct zx_pair p[64];
};

static void collect(void *arg, const struct zx_pair *p)
{
	struct got *g = arg;
	if (g->n < 64)
		g->p[g->n++] = *p;
}

/* the verdict of venue vid against school sid (ZX_CLEAR when absent) */
static int verdict_of(struct zx *z, int64_t sid, int64_t vid, struct zx_pair *out)
{
	struct got g = { 0 };
	zx_venue_check(z, vid, collect, &g);
	for (int i = 0; i < g.n; i++)
		if (g.p[i].school_id == sid) {
			if (out)
				*out = g.p[i];
			return g.p[i].verdict;
		}
	return ZX_CLEAR;
}

static void internet_cafe_rule(void **state)
{
	(void)state;
	struct zx *z = national();
	double lat, lon;
	struct geo_area *a = square(LAT0, LON0, 100);
	school(z, 1, "小学", LAT0, LON0, a, NULL);
	/* 150 m from the wall (250 m from the centre): 禁止 by the boundary */
	offset(LAT0, LON0, 250, 0, &lat, &lon);
	venue(z, 10, "internet_cafe", lat, lon, 1);
	struct zx_pair p;
	assert_int_equal(verdict_of(z, 1, 10, &p), ZX_FORBID);
	assert_int_equal(p.method, ZX_BOUNDARY);
	assert_false(p.fallback);
	assert_true(fabs(p.distance_m - 150) < 0.05);
	assert_string_equal(p.rule->code, "Z-NET-1");
	/* the same café beside a school without a boundary: point distance 250 m, cleared */
	school(z, 2, "小学", LAT0 + 0.05, LON0, NULL, NULL);
	offset(LAT0 + 0.05, LON0, 150, 0, &lat, &lon);
	venue(z, 11, "internet_cafe", lat, lon, 1);
	/* no boundary: falls back to the point, at most 需审查 */
	assert_int_equal(verdict_of(z, 2, 11, &p), ZX_REVIEW);
	assert_true(p.fallback);
	assert_int_equal(p.method, ZX_POINT);
	/* margin: 203 m and 197 m from the wall are 需审查, 210 m is clear */
	offset(LAT0, LON0, 0, 303, &lat, &lon);
	venue(z, 12, "internet_cafe", lat, lon, 1);
	assert_int_equal(verdict_of(z, 1, 12, NULL), ZX_REVIEW);
	offset(LAT0, LON0, 0, 297, &lat, &lon);
	venue(z, 13, "internet_cafe", lat, lon, 1);
	assert_int_equal(verdict_of(z, 1, 13, NULL), ZX_REVIEW);
	offset(LAT0, LON0, 0, 310, &lat, &lon);
	venue(z, 14, "internet_cafe", lat, lon, 1);
	assert_int_equal(verdict_of(z, 1, 14, NULL), ZX_CLEAR);
	offset(LAT0, LON0, 0, 294, &lat, &lon);
	venue(z, 15, "internet_cafe", lat, lon, 1);
	assert_int_equal(verdict_of(z, 1, 15, NULL), ZX_FORBID);
	/* inside the campus: distance 0 */
	venue(z, 16, "internet_cafe", LAT0, LON0 + 0.0001, 1);
	assert_int_equal(verdict_of(z, 1, 16, &p), ZX_FORBID);
	assert_true(p.distance_m == 0);
	geo_area_free(a);
	zx_free(z);
}

static void stages_and_categories(void **state)
{
	(void)state;
	struct zx *z = national();
	double lat, lon;
	school(z, 1, "幼儿园", LAT0, LON0, NULL, NULL);
	school(z, 2, "高校", LAT0 + 0.1, LON0, NULL, NULL);
	offset(LAT0, LON0, 120, 0, &lat, &lon);
	/* kindergartens are not in the internet-café rule: no number, 需审查 */
	venue(z, 10, "internet_cafe", lat, lon, 1);
	struct zx_pair p;
	assert_int_equal(verdict_of(z, 1, 10, &p), ZX_REVIEW);
	assert_true(isnan(p.limit_m));
	/* tobacco: the law has no number, 需审查 within the 200 m surroundings */
	venue(z, 11, "tobacco", lat, lon, 1);
	assert_int_equal(verdict_of(z, 1, 11, NULL), ZX_REVIEW);
	/* e-sports hotel: watch */
	venue(z, 12, "esports_hotel", lat, lon, 1);
	assert_int_equal(verdict_of(z, 1, 12, NULL), ZX_WATCH);
	/* "other": no rule, nothing */
	venue(z, 13, "other", lat, lon, 1);
	assert_int_equal(verdict_of(z, 1, 13, NULL), ZX_CLEAR);
	/* tobacco at 250 m: beyond the surroundings */
	offset(LAT0, LON0, 250, 0, &lat, &lon);
	venue(z, 14, "tobacco", lat, lon, 1);
	assert_int_equal(verdict_of(z, 1, 14, NULL), ZX_CLEAR);
	/* universities: no national row covers them */
	offset(LAT0 + 0.1, LON0, 50, 0, &lat, &lon);
	venue(z, 15, "internet_cafe", lat, lon, 1);
	assert_int_equal(verdict_of(z, 2, 15, NULL), ZX_CLEAR);
	zx_free(z);
}

static void layering_and_methods(void **state)
{
	(void)state;
	struct zx_config cfg = { .radius_m = 200, .margin_m = 5 };
	struct zx *z = zx_new(&cfg);
	struct zx_rule r[70];
	size_t n = zx_national_rules(r, 64);
	/* a county's tobacco plan: 50 m round the pupils' gate */
	struct zx_rule loc = { .id = 900, .version = 3, .code = "L-TOB", .region_path = "/340000/340800/340899/",
			       .category = CAT("tobacco"), .distance_m = 50, .method = ZX_GATE, .effect = ZX_FORBID,
			       .may_forbid = 1 };
	assert_int_equal(zx_stages_parse("小学 初中", &loc.stages), 0);
	r[n++] = loc;
	assert_int_equal(zx_set_rules(z, r, n), 0);
	double glat, glon, lat, lon;
	offset(LAT0, LON0, 80, 0, &glat, &glon);   /* the gate, 80 m north of the point */
	struct geo_pt gate = { glat, glon };
	struct zx_school_in s = { .id = 1, .lat = LAT0, .lon = LON0, .stage = STAGE("小学"), .region_path = REGION,
				  .ngates = 1, .gates = &gate, .npupil_gates = 1 };
	assert_int_equal(zx_school_put(z, &s), 0);
	/* the same school in another county: the national row only */
	s.id = 2, s.lat = LAT0 + 0.05;
	offset(s.lat, LON0, 80, 0, &gate.lat, &gate.lon);
	s.region_path = "/340000/340800/340811/340811001/";
	assert_int_equal(zx_school_put(z, &s), 0);
	/* tobacco 30 m from the gate (110 m from the point) */
	offset(glat, glon, 30, 0, &lat, &lon);
	venue(z, 10, "tobacco", lat, lon, 1);
	struct zx_pair p;
	assert_int_equal(verdict_of(z, 1, 10, &p), ZX_FORBID);
	assert_string_equal(p.rule->code, "L-TOB");
	assert_int_equal(p.rule->version, 3);
	assert_int_equal(p.method, ZX_GATE);
	assert_true(fabs(p.distance_m - 30) < 0.05);
	offset(gate.lat, gate.lon, 30, 0, &lat, &lon);
	venue(z, 11, "tobacco", lat, lon, 1);
	assert_int_equal(verdict_of(z, 2, 11, &p), ZX_REVIEW);
	assert_string_equal(p.rule->code, "Z-M59-TOB");
	/* 70 m from the gate: the local row (the more specific) clears it,
	 * although the national row alone would ask for a review */
	offset(glat, glon, 70, 0, &lat, &lon);
	venue(z, 12, "tobacco", lat, lon, 1);
	assert_int_equal(verdict_of(z, 1, 12, NULL), ZX_CLEAR);
	/* kindergarten in the county: the local row does not cover it */
	struct zx_school_in k = { .id = 3, .lat = LAT0 - 0.05, .lon = LON0, .stage = STAGE("幼儿园"), .region_path = REGION };
	assert_int_equal(zx_school_put(z, &k), 0);
	offset(k.lat, k.lon, 70, 0, &lat, &lon);
	venue(z, 13, "tobacco", lat, lon, 1);
	assert_int_equal(verdict_of(z, 3, 13, &p), ZX_REVIEW);
	assert_string_equal(p.rule->code, "Z-M59-TOB");
	/* without gates the gate rule falls back to the point: at most 需审查 */
	k.id = 4, k.stage = STAGE("小学"), k.lat = LAT0 - 0.1;
	assert_int_equal(zx_school_put(z, &k), 0);
	offset(k.lat, k.lon, 20, 0, &lat, &lon);
	venue(z, 14, "tobacco", lat, lon, 1);
	assert_int_equal(verdict_of(z, 4, 14, &p), ZX_REVIEW);
	assert_true(p.fallback);
	/* a rule that may not forbid (below V, unconfirmed) yields 需审查 */
	r[n - 1].may_forbid = 0;
	assert_int_equal(zx_set_rules(z, r, n), 0);
	assert_int_equal(verdict_of(z, 1, 10, NULL), ZX_REVIEW);
	zx_free(z);
}

static void walking_rule(void **state)
{
	(void)state;
	struct zx_config cfg = { .radius_m = 200, .margin_m = 5 };
	struct zx *z = zx_new(&cfg);
	struct zx_rule w = { .id = 1, .version = 1, .code = "L-WALK", .region_path = "", .category = CAT("internet_cafe"),
			     .distance_m = 200, .method = ZX_WALKING, .effect = ZX_FORBID, .may_forbid = 1 };
	assert_int_equal(zx_stages_parse("小学", &w.stages), 0);
	assert_int_equal(zx_set_rules(z, &w, 1), 0);
	struct geo_pt gate = { LAT0, LON0 };
	struct zx_school_in s = { .id = 1, .lat = LAT0, .lon = LON0, .stage = STAGE("小学"), .region_path = REGION,
				  .ngates = 1, .gates = &gate, .npupil_gates = 1 };
	assert_int_equal(zx_school_put(z, &s), 0);
	struct geo_pt door;
	offset(LAT0, LON0, 150, 0, &door.lat, &door.lon);
	struct zx_venue_in v = { .id = 10, .lat = door.lat, .lon = door.lon, .category = CAT("internet_cafe"),
				 .active = 1, .nent = 1, .ent = &door };
	assert_int_equal(zx_venue_put(z, &v), 0);
	struct zx_pair p;
	/* 150 m straight: the walk may be longer, a person must measure */
	assert_int_equal(verdict_of(z, 1, 10, &p), ZX_REVIEW);
	assert_int_equal(p.method, ZX_WALKING);
	assert_false(p.fallback);
	assert_int_equal(zx_set_walking(z, 1, 10, 260), 0);
	assert_int_equal(verdict_of(z, 1, 10, NULL), ZX_CLEAR);
	assert_int_equal(zx_set_walking(z, 1, 10, 180), 0);
	assert_int_equal(verdict_of(z, 1, 10, NULL), ZX_FORBID);
	assert_int_equal(zx_set_walking(z, 1, 10, NAN), 0);
	assert_int_equal(verdict_of(z, 1, 10, NULL), ZX_REVIEW);
	/* 240 m straight: more than the limit and the margin, cleared without measuring */
	offset(LAT0, LON0, 240, 0, &door.lat, &door.lon);
	v.lat = door.lat, v.lon = door.lon;
	assert_int_equal(zx_venue_put(z, &v), 0);
	assert_int_equal(verdict_of(z, 1, 10, NULL), ZX_CLEAR);
	zx_free(z);
}

static void updates(void **state)
{
	(void)state;
	struct zx *z = national();
	double lat, lon;
	school(z, 1, "初中", LAT0, LON0, NULL, NULL);
	offset(LAT0, LON0, 0, 100, &lat, &lon);
	venue(z, 10, "internet_cafe", lat, lon, 1);
	assert_int_equal(verdict_of(z, 1, 10, NULL), ZX_REVIEW);
	/* closes */
	venue(z, 10, "internet_cafe", lat, lon, 0);
	assert_int_equal(verdict_of(z, 1, 10, NULL), ZX_CLEAR);
	/* reopens and moves away */
	offset(LAT0, LON0, 0, 600, &lat, &lon);
	venue(z, 10, "internet_cafe", lat, lon, 1);
	assert_int_equal(verdict_of(z, 1, 10, NULL), ZX_CLEAR);
	assert_int_equal(zx_nvenues(z), 1);
	/* the school gains a campus reaching towards the café: 禁止 now */
	struct geo_area *a = square(LAT0, LON0, 450);
	school(z, 1, "初中", LAT0, LON0, a, NULL);
	struct zx_pair p;
	assert_int_equal(verdict_of(z, 1, 10, &p), ZX_FORBID);
	assert_true(fabs(p.distance_m - 150) < 0.05);
	struct got g = { 0 };
	assert_int_equal(zx_school_check(z, 1, collect, &g), 1);
	/* an id far beyond the others (kept in the id map, not the dense array) */
	venue(z, 900000000000LL, "internet_cafe", lat, lon, 1);
	assert_int_equal(verdict_of(z, 1, 900000000000LL, NULL), ZX_FORBID);
	assert_int_equal(zx_nvenues(z), 2);
	assert_int_equal(zx_venue_del(z, 900000000000LL), 0);
	assert_int_equal(verdict_of(z, 1, 900000000000LL, NULL), ZX_CLEAR);
	/* deleted */
	assert_int_equal(zx_venue_del(z, 10), 0);
	assert_int_equal(verdict_of(z, 1, 10, NULL), ZX_CLEAR);
	assert_int_equal(zx_school_del(z, 1), 0);
	assert_int_equal(zx_nschools(z), 0);
	geo_area_free(a);
	zx_free(z);
}

/* The index finds exactly the pairs a brute force over every pair finds. */
struct pairset {
	size_t n, cap;
	struct zx_pair *p;
};

static pthread_mutex_t pair_lock = PTHREAD_MUTEX_INITIALIZER;

/* zx_join calls back from several threads at once */
static void add_pair(void *arg, const struct zx_pair *p)
{
	struct pairset *s = arg;
	pthread_mutex_lock(&pair_lock);
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->p = realloc(s->p, s->cap * sizeof *s->p);
		assert_non_null(s->p);
	}
	s->p[s->n++] = *p;
	pthread_mutex_unlock(&pair_lock);
}

static int cmp_pair(const void *a, const void *b)
{
	const struct zx_pair *x = a, *y = b;
	if (x->school_id != y->school_id)
		return x->school_id < y->school_id ? -1 : 1;
	return x->venue_id < y->venue_id ? -1 : x->venue_id > y->venue_id;
}

static void index_matches_brute_force(void **state)
{
	(void)state;
	srand(12345);
	struct zx_config cfg = { .radius_m = 200, .margin_m = 5, .threads = 2 };
	struct zx *z = zx_new(&cfg);
	struct zx_rule r[64];
	size_t nr = zx_national_rules(r, 64);
	assert_int_equal(zx_set_rules(z, r, nr), 0);
	enum { NS = 150, NV = 6000 };
	static double slat[NS], slon[NS];
	static struct geo_area *area[NS];
	static int stage[NS];
	static double vlat[NV], vlon[NV];
	static int vcat[NV], vact[NV];
	for (int i = 0; i < NS; i++) {
		/* clusters: schools in 10 towns */
		int town = i % 10;
		offset(LAT0 + town * 0.03, LON0, (rand() % 2000) - 1000, (rand() % 2000) - 1000, &slat[i], &slon[i]);
		stage[i] = rand() % 10;
		area[i] = i % 3 == 0 ? square(slat[i], slon[i], 40 + rand() % 120) : NULL;
		struct zx_school_in s = { .id = 1000 + i, .lat = slat[i], .lon = slon[i], .stage = stage[i],
					  .region_path = REGION, .area = area[i] };
		assert_int_equal(zx_school_put(z, &s), 0);
	}
	for (int i = 0; i < NV; i++) {
		int near = rand() % NS;
		offset(slat[near], slon[near], (rand() % 1200) - 600, (rand() % 1200) - 600, &vlat[i], &vlon[i]);
		vcat[i] = rand() % 19;
		vact[i] = rand() % 10 != 0;
		struct zx_venue_in v = { .id = 5000 + i, .lat = vlat[i], .lon = vlon[i], .category = vcat[i],
					 .active = vact[i] };
		assert_int_equal(zx_venue_put(z, &v), 0);
	}
	for (int round = 0; round < 2; round++) {
		if (round == 1) {
			/* a third of the venues move (some within their cell, some far),
			 * some close or reopen: the index follows */
			for (int j = 0; j < NV; j += 3) {
				offset(vlat[j], vlon[j], (rand() % 600) - 300, (rand() % 600) - 300, &vlat[j], &vlon[j]);
				vact[j] = rand() % 10 != 0;
				struct zx_venue_in v = { .id = 5000 + j, .lat = vlat[j], .lon = vlon[j], .category = vcat[j],
							 .active = vact[j] };
				assert_int_equal(zx_venue_put(z, &v), 0);
			}
			zx_shrink(z);
			assert_int_equal(zx_nvenues(z), NV);
		}
		struct pairset got = { 0 };
		size_t n = zx_join(z, "", add_pair, &got);
		assert_int_equal(n, got.n);
		assert_true(n > 500);
		qsort(got.p, got.n, sizeof *got.p, cmp_pair);
		/* brute force: every pair, judged by zx_surroundings' distance and the
		 * verdict rules restated here for the national rows */
		size_t want = 0, k = 0, forbid = 0;
		for (int i = 0; i < NS; i++)
			for (int j = 0; j < NV; j++) {
				if (!vact[j])
					continue;
				double d = area[i] ? geo_dist_to_area(area[i], vlat[j], vlon[j])
						   : geo_dist_exact(slat[i], slon[i], vlat[j], vlon[j]);
				int v = ZX_CLEAR;
				const char *cat = zx_category_codes[vcat[j]];
				int kg = stage[i] == 0, he = stage[i] == 9;
				if (he)
					v = ZX_CLEAR;
				else if (strcmp(cat, "internet_cafe") == 0 && !kg)
					v = d <= 195 ? (area[i] ? ZX_FORBID : ZX_REVIEW) : d <= 205 ? ZX_REVIEW : ZX_CLEAR;
				else if (d > 200 || strcmp(cat, "other") == 0)
					v = ZX_CLEAR;
				else if (strcmp(cat, "esports_hotel") == 0 || strcmp(cat, "script_escape") == 0 ||
					 strcmp(cat, "hotel") == 0 || strcmp(cat, "rental") == 0 || strcmp(cat, "eatery") == 0 ||
					 strcmp(cat, "meal_supplier") == 0 || strcmp(cat, "stall") == 0 ||
					 strcmp(cat, "shop") == 0 || strcmp(cat, "tutoring") == 0 || strcmp(cat, "publication") == 0)
					v = ZX_WATCH;
				else if (strcmp(cat, "adult") == 0 && kg)
					v = ZX_CLEAR;
				else
					v = ZX_REVIEW;
				if (v == ZX_CLEAR)
					continue;
				want++;
				forbid += v == ZX_FORBID;
				/* the index's pair for (i, j) */
				while (k < got.n && (got.p[k].school_id < 1000 + i ||
						     (got.p[k].school_id == 1000 + i && got.p[k].venue_id < 5000 + j)))
					k++;
				if (k >= got.n || got.p[k].school_id != 1000 + i || got.p[k].venue_id != 5000 + j)
					fail_msg("pair school %d venue %d (%s, %.2f m) missing from the join", 1000 + i, 5000 + j, cat,
						 d);
				if (got.p[k].verdict != v)
					fail_msg("pair school %d venue %d (%s, %.2f m): verdict %d, brute force %d", 1000 + i, 5000 + j,
						 cat, d, got.p[k].verdict, v);
				assert_true(fabs(got.p[k].distance_m - d) < 0.01);
			}
		assert_int_equal(want, got.n);
		assert_true(forbid > 0);
		/* one venue's check agrees with the join */
		for (int j = 0; j < NV; j += 97) {
			struct pairset one = { 0 };
			zx_venue_check(z, 5000 + j, add_pair, &one);
			size_t expect = 0;
			for (size_t q = 0; q < got.n; q++)
				expect += got.p[q].venue_id == 5000 + j;
			assert_int_equal(one.n, expect);
			free(one.p);
		}
		free(got.p);
	}
	for (int i = 0; i < NS; i++)
		geo_area_free(area[i]);
	zx_free(z);
}

static void nearby_and_surroundings(void **state)
{
	(void)state;
	struct zx *z = national();
	double lat, lon;
	school(z, 1, "小学", LAT0, LON0, NULL, NULL);
	school(z, 2, "初中", LAT0 + 0.004, LON0, NULL, NULL);   /* ~444 m north */
	struct got g = { 0 };
	assert_int_equal(zx_nearby(z, LAT0 + 0.001, LON0, 200, NULL, NULL), 1);
	assert_int_equal(zx_nearby(z, LAT0 + 0.002, LON0, 300, NULL, NULL), 2);
	offset(LAT0, LON0, 0, 100, &lat, &lon);
	venue(z, 10, "other", lat, lon, 1);
	venue(z, 11, "internet_cafe", lat, lon, 1);
	offset(LAT0, LON0, 0, 350, &lat, &lon);
	venue(z, 12, "internet_cafe", lat, lon, 1);
	/* within 200 m: both at 100 m, the "other" one listed without a verdict */
	assert_int_equal(zx_surroundings(z, 1, 200, collect, &g), 2);
	assert_int_equal(zx_surroundings(z, 1, 400, NULL, NULL), 3);
	assert_int_equal(zx_surroundings(z, 99, 200, NULL, NULL), -1);
	zx_free(z);
}

/* Every seeded row, alone: a venue of its category at half its distance
 * from a school of a covered stage gets its effect (capped as the law
 * requires), beyond the distance and the margin nothing; a stage the row
 * does not cover, nothing. The school has a campus, a pupils' gate and
 * the venue an entrance, so every method has its data. */
static void every_seed_row(void **state)
{
	(void)state;
	int rows = 0;
	for (const struct rule_seed *sd = rule_seeds; sd->code; sd++, rows++) {
		struct zx_rule r;
		assert_int_equal(rule_seed_to_zx(sd, &r), 0);
		r.id = 1;
		r.may_forbid = 1;  /* as if confirmed by an administrator */
		struct zx_config cfg = { .radius_m = 200, .margin_m = 5 };
		struct zx *z = zx_new(&cfg);
		assert_int_equal(zx_set_rules(z, &r, 1), 0);
		int covered = -1, uncovered = -1;
		for (int i = 0; zx_stage_names[i]; i++) {
			if ((r.stages & (1u << i)) && covered < 0)
				covered = i;
			if (!(r.stages & (1u << i)) && uncovered < 0)
				uncovered = i;
		}
		assert_true(covered >= 0);
		/* a 100 m square campus; its pupils' gate in the middle of the north wall */
		struct geo_area *a = square(LAT0, LON0, 50);
		struct geo_pt gate;
		offset(LAT0, LON0, 50, 0, &gate.lat, &gate.lon);
		struct zx_school_in s = { .id = 1, .lat = LAT0, .lon = LON0, .stage = covered, .region_path = REGION,
					  .area = a, .ngates = 1, .gates = &gate, .npupil_gates = 1 };
		assert_int_equal(zx_school_put(z, &s), 0);
		if (uncovered >= 0) {
			s.id = 2, s.stage = uncovered;
			assert_int_equal(zx_school_put(z, &s), 0);
		}
		double limit = isnan(r.distance_m) ? cfg.radius_m : r.distance_m;
		/* north of the gate: the same distance from wall, gate and entrance */
		struct geo_pt door;
		offset(gate.lat, gate.lon, limit / 2, 0, &door.lat, &door.lon);
		struct zx_venue_in v = { .id = 10, .lat = door.lat, .lon = door.lon, .category = r.category, .active = 1,
					 .nent = 1, .ent = &door };
		assert_int_equal(zx_venue_put(z, &v), 0);
		struct zx_pair p;
		int want = r.effect;
		if (isnan(r.distance_m) || r.method == ZX_WALKING)
			want = want > ZX_REVIEW ? ZX_REVIEW : want;  /* no number, or a walk not yet measured */
		int got = verdict_of(z, 1, 10, &p);
		if (got != want)
			fail_msg("%s at %.0f m: verdict %d, want %d", sd->code, limit / 2, got, want);
		assert_true(fabs(p.distance_m - limit / 2) < 0.05);
		if (uncovered >= 0 && verdict_of(z, 2, 10, NULL) != ZX_CLEAR)
			fail_msg("%s judged a %s school it does not cover", sd->code, zx_stage_names[uncovered]);
		/* beyond the limit and the margin: nothing */
		offset(gate.lat, gate.lon, limit + 6, 0, &door.lat, &door.lon);
		v.lat = door.lat, v.lon = door.lon;
		assert_int_equal(zx_venue_put(z, &v), 0);
		if (verdict_of(z, 1, 10, NULL) != ZX_CLEAR)
			fail_msg("%s at %.0f m is not cleared", sd->code, limit + 6);
		geo_area_free(a);
		zx_free(z);
	}
	assert_true(rows >= 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(internet_cafe_rule),
		cmocka_unit_test(stages_and_categories),
		cmocka_unit_test(layering_and_methods),
		cmocka_unit_test(walking_rule),
		cmocka_unit_test(updates),
		cmocka_unit_test(index_matches_brute_force),
		cmocka_unit_test(nearby_and_surroundings),
		cmocka_unit_test(every_seed_row),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
