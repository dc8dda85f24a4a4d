/*
 * gen.c - clustered synthetic schools and venues for bench/zone (gen.h
 * says what they look like). Every item is drawn from its own counter-based
 * random stream (splitmix64 of seed, kind and index), so any item can be
 * regenerated alone and in any order.
 */
#include "gen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/*--- sizes ---*/

static const struct gen_size sizes[] = {
	/* a county of about 45 x 45 km (安庆-like), 14 towns */
	{ "county", 300, 20000, 14, 30.35, 116.85, 30.75, 117.35, 1, 1, 1, 34, 8, 99 },
	/* a province (安徽's box), 16 cities of 7 counties, ~1500 towns */
	{ "province", 30000, 1000000, 1500, 29.40, 114.90, 34.60, 119.60, 1, 16, 7, 34, 1, 1 },
	/* the nation's populated part, 31 provinces, ~38 000 towns */
	{ "nation", 500000, 20000000, 38000, 21.00, 100.00, 42.00, 122.00, 31, 12, 7, 11, 1, 1 },
};

const struct gen_size *gen_size_find(const char *name)
{
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		if (!strcmp(sizes[i].name, name))
			return &sizes[i];
	return NULL;
}

/*--- mixes ---*/

const char *const gen_stage_names[] = { "幼儿园", "小学", "初中", "九年一贯制", "高中", "完全中学",
					"十二年一贯制", "中职", "特殊教育", "高校", NULL };
/* shares of schools by stage, roughly the national education statistics
 * (kindergartens about half, 小学 with 教学点 about a third) */
static const double stage_mix[] = { 0.520, 0.314, 0.070, 0.035, 0.020, 0.012, 0.004, 0.014, 0.005, 0.006 };

const char *const gen_category_codes[] = {
	"internet_cafe", "game_arcade", "ktv_dance", "bar", "esports_hotel", "script_escape", "hotel",
	"rental", "tobacco", "alcohol", "lottery", "adult", "eatery", "meal_supplier", "stall", "shop",
	"tutoring", "publication", "other", NULL,
};
/* percent of venues by category: what a street near a school holds */
static const double category_mix[] = { 2, 1, 1.5, 1, 0.5, 0.5, 5, 6, 9, 5, 3, 1, 30, 0.5, 6, 18, 5, 1.5, 3 };

const char *const gen_status_names[] = { "营业", "停业", "注销", "取缔", NULL };
static const double status_mix[] = { 92, 5, 2, 1 };

/*--- random streams ---*/

struct rng {
	uint64_t s;
};

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static struct rng stream(uint64_t seed, unsigned kind, uint64_t i)
{
	struct rng r = { seed ^ ((uint64_t)kind << 56) ^ (i * 0xD1B54A32D192ED03ull) };
	splitmix(&r.s);
	return r;
}

static double uni(struct rng *r) /* [0, 1) */
{
	return (double)(splitmix(&r->s) >> 11) * 0x1.0p-53;
}

static double gauss(struct rng *r)
{
	double u = uni(r), v = uni(r);
	return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

static int pick(struct rng *r, const double *mix, int n)
{
	double total = 0, x;
	for (int i = 0; i < n; i++)
		total += mix[i];
	x = uni(r) * total;
	for (int i = 0; i < n; i++)
		if ((x -= mix[i]) < 0)
			return i;
	return n - 1;
}

/*--- geometry: metres on a local tangent plane ---*/

static double m_per_deg_lat(double lat)
{
	double p = lat * M_PI / 180;
	return 111132.954 - 559.822 * cos(2 * p) + 1.175 * cos(4 * p);
}

static double m_per_deg_lon(double lat)
{
	double p = lat * M_PI / 180;
	return 111412.84 * cos(p) - 93.5 * cos(3 * p);
}

/* Rounded to 7 decimals (about 1 cm): k / 1e7 is the double nearest the
 * decimal, so what "%.7f" writes reads back as the very same double, and
 * PostGIS, the baseline and the engine all see identical points. */
static double q7(double x)
{
	return round(x * 1e7) / 1e7;
}

/* (lat, lon) moved by dn metres north and de metres east, rounded */
static struct gen_ll offset(double lat, double lon, double dn, double de)
{
	return (struct gen_ll){ q7(lat + dn / m_per_deg_lat(lat)), q7(lon + de / m_per_deg_lon(lat)) };
}

/*--- the generator ---*/

enum { K_TOWN = 1, K_STREET, K_SCHOOL, K_CAMPUS, K_VENUE };

struct town {
	double lat, lon, radius_m;
};

struct gen {
	const struct gen_size *size;
	uint64_t seed;
	struct town *town;
	double *cum;                 /* cumulative town weights */
	struct gen_ll *school_pt;    /* schools' points, for venues placed near them */
};

static size_t pick_town(const struct gen *g, struct rng *r)
{
	double x = uni(r) * g->cum[g->size->ntowns - 1];
	size_t lo = 0, hi = g->size->ntowns - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (g->cum[mid] > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

struct gen *gen_new(const struct gen_size *size, uint64_t seed)
{
	struct gen *g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	g->size = size;
	g->seed = seed;
	g->town = malloc(size->ntowns * sizeof *g->town);
	g->cum = malloc(size->ntowns * sizeof *g->cum);
	g->school_pt = malloc(size->nschools * sizeof *g->school_pt);
	if (!g->town || !g->cum || !g->school_pt) {
		gen_free(g);
		return NULL;
	}
	int counties = size->nprov * size->ncity * size->ncounty;
	size_t per_county = (size->ntowns + (size_t)counties - 1) / (size_t)counties;
	double total = 0;
	for (size_t t = 0; t < size->ntowns; t++) {
		struct rng r = stream(seed, K_TOWN, t);
		double w = t % per_county == 0 ? 8.0 : 1.0 + 2.0 * uni(&r); /* the seat is big */
		g->town[t].lat = size->min_lat + uni(&r) * (size->max_lat - size->min_lat);
		g->town[t].lon = size->min_lon + uni(&r) * (size->max_lon - size->min_lon);
		g->town[t].radius_m = 800.0 * sqrt(w);
		total += w;
		g->cum[t] = total;
	}
	for (size_t i = 0; i < size->nschools; i++) {
		struct rng r = stream(seed, K_SCHOOL, i);
		const struct town *t = &g->town[pick_town(g, &r)];
		g->school_pt[i] = offset(t->lat, t->lon, gauss(&r) * t->radius_m / 2, gauss(&r) * t->radius_m / 2);
	}
	return g;
}

void gen_free(struct gen *g)
{
	if (!g)
		return;
	free(g->town);
	free(g->cum);
	free(g->school_pt);
	free(g);
}

const struct gen_size *gen_sizeof(const struct gen *g)
{
	return g->size;
}

static void region_path(const struct gen *g, size_t town, char *out, size_t n)
{
	const struct gen_size *s = g->size;
	size_t counties = (size_t)s->nprov * (size_t)s->ncity * (size_t)s->ncounty;
	size_t per_county = (s->ntowns + counties - 1) / counties;
	size_t c = town / per_county; /* county index */
	int prov = s->prov0 + (int)(c / ((size_t)s->ncity * (size_t)s->ncounty));
	int city = s->city0 + (int)(c / (size_t)s->ncounty % (size_t)s->ncity);
	int county = s->county0 + (int)(c % (size_t)s->ncounty);
	int tw = 101 + (int)(town % per_county);
	snprintf(out, n, "/%02d0000/%02d%02d00/%02d%02d%02d/%02d%02d%02d%03d/", prov, prov, city, prov, city, county,
		 prov, city, county, tw);
}

void gen_school(const struct gen *g, size_t i, struct gen_school *s)
{
	struct rng r = stream(g->seed, K_SCHOOL, i);
	size_t town = pick_town(g, &r); /* the same draws as gen_new */
	memset(s, 0, sizeof *s);
	s->id = (int64_t)i + 1;
	s->lat = g->school_pt[i].lat;
	s->lon = g->school_pt[i].lon;
	region_path(g, town, s->region_path, sizeof s->region_path);

	struct rng c = stream(g->seed, K_CAMPUS, i);
	s->stage = pick(&c, stage_mix, (int)(sizeof stage_mix / sizeof stage_mix[0]));
	if (uni(&c) < 0.30) {
		/* a star-shaped ring (angles increasing, so never self-intersecting),
		 * scaled to an area of 1-10 ha */
		int n = 6 + (int)(uni(&c) * (GEN_MAX_VERTS - 5));
		double ang[GEN_MAX_VERTS], rad[GEN_MAX_VERTS], area = 0;
		double target = 1e4 * exp(uni(&c) * log(10.0));
		double phase = uni(&c) * 2 * M_PI;
		for (int k = 0; k < n; k++) {
			ang[k] = phase + 2 * M_PI * (k + 0.7 * uni(&c)) / n;
			rad[k] = 0.75 + 0.5 * uni(&c);
		}
		for (int k = 0; k < n; k++) {
			int j = (k + 1) % n;
			area += 0.5 * rad[k] * rad[j] * sin(ang[j] - ang[k] + (j == 0 ? 2 * M_PI : 0));
		}
		double scale = sqrt(target / area);
		for (int k = 0; k < n; k++)
			s->pts[k] = offset(s->lat, s->lon, scale * rad[k] * sin(ang[k]), scale * rad[k] * cos(ang[k]));
		s->npts = n;
		s->area_m2 = target;
		s->ngates = 1 + (int)(uni(&c) * GEN_MAX_GATES);
		s->npupil_gates = 1;
		for (int k = 0; k < s->ngates; k++) { /* midpoints of edges spread round the ring */
			int a = k * n / s->ngates, b = (a + 1) % n;
			s->gates[k] = (struct gen_ll){ q7((s->pts[a].lat + s->pts[b].lat) / 2),
						       q7((s->pts[a].lon + s->pts[b].lon) / 2) };
		}
	} else if (uni(&c) < 0.20) {
		double d = 30 + 30 * uni(&c), a = uni(&c) * 2 * M_PI;
		s->gates[0] = offset(s->lat, s->lon, d * sin(a), d * cos(a));
		s->ngates = s->npupil_gates = 1;
	}
}

void gen_venue(const struct gen *g, size_t i, struct gen_venue *v)
{
	const struct gen_size *sz = g->size;
	struct rng r = stream(g->seed, K_VENUE, i);
	struct gen_ll p;
	double u = uni(&r);
	memset(v, 0, sizeof *v);
	v->id = (int64_t)i + 1;
	if (u < 0.30) { /* near a school */
		const struct gen_ll *s = &g->school_pt[(size_t)(uni(&r) * (double)sz->nschools)];
		double d = 260.0 * sqrt(uni(&r)), a = uni(&r) * 2 * M_PI;
		p = offset(s->lat, s->lon, d * sin(a), d * cos(a));
	} else if (u < 0.75) { /* along a street of a town */
		size_t t = pick_town(g, &r);
		const struct town *tw = &g->town[t];
		struct rng sr = stream(g->seed, K_STREET, t);
		int nstreets = 3 + (int)(uni(&sr) * 3), which = (int)(uni(&r) * nstreets);
		struct gen_ll mid = { tw->lat, tw->lon };
		double a = 0, half = 0;
		for (int k = 0; k <= which; k++) { /* street k of the town, drawn in order */
			double oa = uni(&sr) * 2 * M_PI, od = uni(&sr) * tw->radius_m / 3;
			a = uni(&sr) * M_PI;
			half = tw->radius_m * (0.8 + 0.6 * uni(&sr));
			mid = offset(tw->lat, tw->lon, od * sin(oa), od * cos(oa));
		}
		double along = (2 * uni(&r) - 1) * half, side = 12.0 * gauss(&r);
		p = offset(mid.lat, mid.lon, along * sin(a) + side * cos(a), along * cos(a) - side * sin(a));
	} else { /* scattered round a town */
		const struct town *tw = &g->town[pick_town(g, &r)];
		p = offset(tw->lat, tw->lon, gauss(&r) * tw->radius_m, gauss(&r) * tw->radius_m);
	}
	v->lat = p.lat;
	v->lon = p.lon;
	v->category = pick(&r, category_mix, (int)(sizeof category_mix / sizeof category_mix[0]));
	v->status = pick(&r, status_mix, (int)(sizeof status_mix / sizeof status_mix[0]));
	double e = uni(&r);
	v->nent = e < 0.25 ? 1 : e < 0.30 ? 2 : 0;
	for (int k = 0; k < v->nent; k++) {
		double d = 5 + 10 * uni(&r), a = uni(&r) * 2 * M_PI;
		v->ent[k] = offset(v->lat, v->lon, d * sin(a), d * cos(a));
	}
}

/*--- CSV ---*/

int gen_write_schools_csv(const struct gen *g, FILE *f)
{
	struct gen_school s;
	fputs("id,name,lat,lon,stage,region,boundary,entrances\n", f);
	for (size_t i = 0; i < g->size->nschools; i++) {
		gen_school(g, i, &s);
		fprintf(f, "%lld,学校%lld,%.7f,%.7f,%s,%s,", (long long)s.id, (long long)s.id, s.lat, s.lon,
			gen_stage_names[s.stage], s.region_path);
		if (s.npts) {
			fputs("\"POLYGON((", f);
			for (int k = 0; k <= s.npts; k++)
				fprintf(f, "%s%.7f %.7f", k ? "," : "", s.pts[k % s.npts].lon, s.pts[k % s.npts].lat);
			fputs("))\"", f);
		}
		fputc(',', f);
		for (int k = 0; k < s.ngates; k++)
			fprintf(f, "%s%.7f %.7f", k ? ";" : "", s.gates[k].lat, s.gates[k].lon);
		fputc('\n', f);
	}
	return ferror(f) ? -1 : 0;
}

int gen_write_venues_csv(const struct gen *g, FILE *f)
{
	struct gen_venue v;
	fputs("id,name,lat,lon,category,status,entrances\n", f);
	for (size_t i = 0; i < g->size->nvenues; i++) {
		gen_venue(g, i, &v);
		fprintf(f, "%lld,场所%lld,%.7f,%.7f,%s,%s,", (long long)v.id, (long long)v.id, v.lat, v.lon,
			gen_category_codes[v.category], gen_status_names[v.status]);
		for (int k = 0; k < v.nent; k++)
			fprintf(f, "%s%.7f %.7f", k ? ";" : "", v.ent[k].lat, v.ent[k].lon);
		fputc('\n', f);
	}
	return ferror(f) ? -1 : 0;
}

int gen_write_points_csv(const struct gen *g, int venues, FILE *f)
{
	size_t n = venues ? g->size->nvenues : g->size->nschools;
	for (size_t i = 0; i < n; i++) {
		double lat, lon;
		if (venues) {
			struct gen_venue v;
			gen_venue(g, i, &v);
			lat = v.lat, lon = v.lon;
		} else {
			lat = g->school_pt[i].lat, lon = g->school_pt[i].lon;
		}
		fprintf(f, "%zu,%.7f,%.7f\n", i + 1, lat, lon);
	}
	return ferror(f) ? -1 : 0;
}
