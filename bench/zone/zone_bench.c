/*
 * zone_bench.c - the zone engine on synthetic data (gen.h), one size per
 * run, beside a plain C grid join with an exact ellipsoid check measured in
 * the same process. bench/zone/run.sh runs it per size and adds PostGIS and
 * the API; bench/zone/README.md explains the figures.
 *
 *   zone_bench SIZE [--seed N] [--checks N] [--moves N] [--threads N]
 *              [--no-baseline] [--no-p2p] [--pg-dir DIR]
 *
 * Prints readable lines and, for run.sh, lines "@ KEY VALUE". With
 * --pg-dir it writes schools.csv and venues.csv (id,lat,lon) for COPY and
 * pairs.csv (school,venue,metres: the baseline's point-to-point pairs).
 * Exits non-zero only when it cannot measure (unknown size, out of memory).
 */
#include <geodesic.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "gen.h"
#include "geo/geom.h"
#include "zone/engine.h"
#include "zone/rules_seed.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* resident set now, bytes (/proc/self/statm) */
static double rss_now(void)
{
	long pages = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (double)res * (double)sysconf(_SC_PAGESIZE);
}

static double rss_peak(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss * 1024.0;
}

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static void die(const char *m)
{
	fprintf(stderr, "zone_bench: %s\n", m);
	exit(1);
}

/*--- loading the engine from the generator ----------------------------------------*/

struct area_buf {
	struct geo_area a;
	struct geo_poly p;
	struct geo_ring r;
	struct geo_pt pt[GEN_MAX_VERTS];
	struct geo_pt gate[GEN_MAX_GATES];
	struct geo_pt ent[GEN_MAX_ENT];
};

static void school_in(const struct gen_school *s, struct area_buf *b, struct zx_school_in *in, int points_only)
{
	memset(in, 0, sizeof *in);
	in->id = s->id;
	in->lat = s->lat, in->lon = s->lon;
	in->stage = zx_stage_index(gen_stage_names[s->stage]);
	in->region_path = s->region_path;
	if (points_only)
		return;
	if (s->npts) {
		b->a.npolys = 1, b->a.poly = &b->p;
		b->p.nrings = 1, b->p.ring = &b->r;
		b->r.n = s->npts, b->r.pt = b->pt;
		b->a.min_lat = b->a.min_lon = 1e9, b->a.max_lat = b->a.max_lon = -1e9;
		for (int k = 0; k < s->npts; k++) {
			b->pt[k] = (struct geo_pt){ s->pts[k].lat, s->pts[k].lon };
			b->a.min_lat = fmin(b->a.min_lat, s->pts[k].lat), b->a.max_lat = fmax(b->a.max_lat, s->pts[k].lat);
			b->a.min_lon = fmin(b->a.min_lon, s->pts[k].lon), b->a.max_lon = fmax(b->a.max_lon, s->pts[k].lon);
		}
		b->a.area_m2 = s->area_m2;
		in->area = &b->a;
	}
	for (int k = 0; k < s->ngates; k++)
		b->gate[k] = (struct geo_pt){ s->gates[k].lat, s->gates[k].lon };
	in->ngates = s->ngates, in->npupil_gates = s->npupil_gates, in->gates = b->gate;
}

static void venue_in(const struct gen_venue *v, struct area_buf *b, struct zx_venue_in *in, int points_only)
{
	memset(in, 0, sizeof *in);
	in->id = v->id;
	in->lat = v->lat, in->lon = v->lon;
	in->category = zx_category_index(gen_category_codes[v->category]);
	in->active = v->status == 0;
	if (points_only)
		return;
	for (int k = 0; k < v->nent; k++)
		b->ent[k] = (struct geo_pt){ v->ent[k].lat, v->ent[k].lon };
	in->nent = v->nent, in->ent = b->ent;
}

static struct zx *engine_new(int threads)
{
	struct zx_config cfg = { .radius_m = 200, .margin_m = 5, .threads = threads };
	struct zx_rule rules[64];
	size_t n = zx_national_rules(rules, 64);
	struct zx *z = zx_new(&cfg);
	if (!z || zx_set_rules(z, rules, n))
		die("out of memory");
	return z;
}

static void load(struct zx *z, const struct gen *g, int points_only, double *ts, double *tv)
{
	const struct gen_size *sz = gen_sizeof(g);
	struct area_buf b;
	double t0 = now_s();
	zx_reserve(z, sz->nschools, sz->nvenues);
	for (size_t i = 0; i < sz->nschools; i++) {
		struct gen_school s;
		struct zx_school_in in;
		gen_school(g, i, &s);
		school_in(&s, &b, &in, points_only);
		if (zx_school_put(z, &in))
			die("zx_school_put refused a generated school");
	}
	double t1 = now_s();
	for (size_t i = 0; i < sz->nvenues; i++) {
		struct gen_venue v;
		struct zx_venue_in in;
		gen_venue(g, i, &v);
		venue_in(&v, &b, &in, points_only);
		if (zx_venue_put(z, &in))
			die("zx_venue_put refused a generated venue");
	}
	zx_shrink(z); /* as the server does after loading */
	*ts = t1 - t0;
	*tv = now_s() - t1;
}

/*--- callbacks ---------------------------------------------------------------------------*/

struct counts {
	atomic_size_t by[4];
};

/* zx_join_batch's callback: counts a batch, then one atomic add per verdict */
static void count_cb(void *arg, const struct zx_pair *p, size_t n)
{
	struct counts *c = arg;
	size_t by[4] = { 0 };
	for (size_t i = 0; i < n; i++)
		by[p[i].verdict & 3]++;
	for (int v = 0; v < 4; v++)
		if (by[v])
			atomic_fetch_add_explicit(&c->by[v], by[v], memory_order_relaxed);
}

static void nothing_cb(void *arg, const struct zx_pair *p)
{
	(void)p;
	++*(size_t *)arg;
}

/* a point-to-point pair */
struct pp {
	int64_t s, v;
	double d;
};

struct ppvec {
	struct pp *v;
	size_t n, cap;
	int64_t school;
};

static void pp_add(struct ppvec *pv, int64_t s, int64_t v, double d)
{
	if (pv->n == pv->cap) {
		pv->cap = pv->cap ? 2 * pv->cap : 1 << 16;
		if (!(pv->v = realloc(pv->v, pv->cap * sizeof *pv->v)))
			die("out of memory");
	}
	pv->v[pv->n++] = (struct pp){ s, v, d };
}

static void surr_cb(void *arg, const struct zx_pair *p)
{
	struct ppvec *pv = arg;
	pp_add(pv, p->school_id, p->venue_id, p->distance_m);
}

static int cmp_pp(const void *a, const void *b)
{
	const struct pp *x = a, *y = b;
	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	return x->v < y->v ? -1 : x->v > y->v;
}

/*--- the baseline: a plain single-threaded grid join, geod_inverse on every candidate ---*/

struct gkey {
	uint64_t key;
	uint32_t idx;
};

static int cmp_gkey(const void *a, const void *b)
{
	const struct gkey *x = a, *y = b;
	return x->key < y->key ? -1 : x->key > y->key;
}

static size_t lower(const struct gkey *k, size_t n, uint64_t key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (k[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void baseline(const struct gen *g, struct ppvec *out, double *t_build, double *t_join, double *t_pre,
		     size_t *ncand)
{
	const struct gen_size *sz = gen_sizeof(g);
	struct geod_geodesic geod;
	geod_init(&geod, 6378137.0, 1 / 298.257223563);
	/* cells at least 200 m wide everywhere in the box */
	double clat = 0.0025;
	double clon = 0.0025 / cos(fmax(fabs(sz->max_lat), fabs(sz->min_lat)) * M_PI / 180) * 1.01;
	double *lat = malloc(sz->nvenues * sizeof *lat), *lon = malloc(sz->nvenues * sizeof *lon);
	struct gkey *k = malloc(sz->nvenues * sizeof *k);
	if (!lat || !lon || !k)
		die("out of memory");
	for (size_t i = 0; i < sz->nvenues; i++) {
		struct gen_venue v;
		gen_venue(g, i, &v);
		lat[i] = v.lat, lon[i] = v.lon;
	}
	double t0 = now_s();
	for (size_t i = 0; i < sz->nvenues; i++) {
		uint64_t iy = (uint64_t)((lat[i] - sz->min_lat + 1) / clat), ix = (uint64_t)((lon[i] - sz->min_lon + 1) / clon);
		k[i] = (struct gkey){ iy << 32 | ix, (uint32_t)i };
	}
	qsort(k, sz->nvenues, sizeof *k, cmp_gkey);
	double t1 = now_s();
	*ncand = 0;
	for (size_t i = 0; i < sz->nschools; i++) {
		struct gen_school s;
		gen_school(g, i, &s);
		uint64_t iy = (uint64_t)((s.lat - sz->min_lat + 1) / clat), ix = (uint64_t)((s.lon - sz->min_lon + 1) / clon);
		for (uint64_t y = iy - 1; y <= iy + 1; y++) {
			size_t a = lower(k, sz->nvenues, y << 32 | (ix - 1)), e = lower(k, sz->nvenues, y << 32 | (ix + 2));
			for (size_t j = a; j < e; j++) {
				double d;
				uint32_t vi = k[j].idx;
				geod_inverse(&geod, s.lat, s.lon, lat[vi], lon[vi], &d, NULL, NULL);
				++*ncand;
				if (d <= 200.0)
					pp_add(out, s.id, (int64_t)vi + 1, d);
			}
		}
	}
	*t_join = now_s() - t1;
	*t_build = t1 - t0;
	/* the same join with a cheap flat-earth test first (1 % and 1 m of
	 * slack, so no pair within 200 m is lost): geod_inverse only on the
	 * candidates that pass */
	size_t n2 = 0;
	double t2 = now_s();
	for (size_t i = 0; i < sz->nschools; i++) {
		struct gen_school s;
		gen_school(g, i, &s);
		double ky = 111132.954 - 559.822 * cos(2 * s.lat * M_PI / 180), kx = 111412.84 * cos(s.lat * M_PI / 180);
		uint64_t iy = (uint64_t)((s.lat - sz->min_lat + 1) / clat), ix = (uint64_t)((s.lon - sz->min_lon + 1) / clon);
		for (uint64_t y = iy - 1; y <= iy + 1; y++) {
			size_t a = lower(k, sz->nvenues, y << 32 | (ix - 1)), e = lower(k, sz->nvenues, y << 32 | (ix + 2));
			for (size_t j = a; j < e; j++) {
				uint32_t vi = k[j].idx;
				double dy = (lat[vi] - s.lat) * ky, dx = (lon[vi] - s.lon) * kx, d;
				if (dx * dx + dy * dy > 203.0 * 203.0)
					continue;
				geod_inverse(&geod, s.lat, s.lon, lat[vi], lon[vi], &d, NULL, NULL);
				n2 += d <= 200.0;
			}
		}
	}
	*t_pre = now_s() - t2;
	if (n2 != out->n)
		fprintf(stderr, "zone_bench: the prefiltered baseline found %zu pairs, the plain one %zu\n", n2, out->n);
	free(lat);
	free(lon);
	free(k);
}

/*--- main ----------------------------------------------------------------------------------*/

static void usage(void)
{
	fputs("usage: zone_bench county|province|nation [--seed N] [--checks N] [--moves N] [--threads N]\n"
	      "                  [--no-baseline] [--no-p2p] [--pg-dir DIR]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	const struct gen_size *sz = gen_size_find(argv[1]);
	if (!sz)
		usage();
	uint64_t seed = 20260601;
	size_t checks = 100000, moves = 100000;
	int threads = (int)sysconf(_SC_NPROCESSORS_ONLN), do_base = 1, do_p2p = 1;
	const char *pgdir = NULL;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--no-baseline"))
			do_base = 0;
		else if (!strcmp(a, "--no-p2p"))
			do_p2p = 0;
		else if (!v)
			usage();
		else if (!strcmp(a, "--seed"))
			seed = strtoull(v, NULL, 10), i++;
		else if (!strcmp(a, "--checks"))
			checks = strtoull(v, NULL, 10), i++;
		else if (!strcmp(a, "--moves"))
			moves = strtoull(v, NULL, 10), i++;
		else if (!strcmp(a, "--threads"))
			threads = atoi(v), i++;
		else if (!strcmp(a, "--pg-dir"))
			pgdir = v, i++;
		else
			usage();
	}
	if (threads < 1)
		threads = 1;

	double rss0 = rss_now(), t = now_s();
	struct gen *g = gen_new(sz, seed);
	if (!g)
		die("out of memory");
	printf("== %s: %zu schools x %zu venues in %zu towns, box %.2f-%.2fN %.2f-%.2fE (generated in %.2f s)\n",
	       sz->name, sz->nschools, sz->nvenues, sz->ntowns, sz->min_lat, sz->max_lat, sz->min_lon, sz->max_lon,
	       now_s() - t);
	printf("@ schools %zu\n@ venues %zu\n@ threads %d\n", sz->nschools, sz->nvenues, threads);

	if (pgdir) {
		char p[4096];
		FILE *f;
		snprintf(p, sizeof p, "%s/schools.csv", pgdir);
		if (!(f = fopen(p, "w")) || gen_write_points_csv(g, 0, f) || fclose(f))
			die("cannot write the PostGIS schools file");
		snprintf(p, sizeof p, "%s/venues.csv", pgdir);
		if (!(f = fopen(p, "w")) || gen_write_points_csv(g, 1, f) || fclose(f))
			die("cannot write the PostGIS venues file");
	}

	/* 1. load */
	double rss_g = rss_now(), ts, tv;
	struct zx *z = engine_new(threads);
	load(z, g, 0, &ts, &tv);
	double rss_l = rss_now(), eng = rss_l - rss_g;
	printf("load: schools %.3f s, venues %.3f s (%.0f venues/s); engine memory %.1f MiB = %.1f bytes per venue "
	       "(schools, cells and maps included)\n",
	       ts, tv, (double)sz->nvenues / tv, eng / 1048576, eng / (double)sz->nvenues);
	printf("@ load_s %.4f\n@ engine_bytes %.0f\n@ bytes_per_venue %.1f\n", ts + tv, eng, eng / (double)sz->nvenues);

	/* 2. full join with the national rules: twice, the second counts */
	struct counts c;
	double tj[2];
	size_t pairs = 0;
	for (int run = 0; run < 2; run++) {
		memset(&c, 0, sizeof c);
		t = now_s();
		pairs = zx_join_batch(z, "", count_cb, &c);
		tj[run] = now_s() - t;
	}
	printf("full join (national rules, exact verdicts, %d threads): %.4f s (first run %.4f s); %zu pairs: "
	       "禁止 %zu, 需审查 %zu, 重点关注 %zu\n",
	       threads, tj[1], tj[0], pairs, (size_t)c.by[ZX_FORBID], (size_t)c.by[ZX_REVIEW], (size_t)c.by[ZX_WATCH]);
	printf("@ join_s %.5f\n@ join_pairs %zu\n@ forbid %zu\n@ review %zu\n@ watch %zu\n", tj[1], pairs,
	       (size_t)c.by[ZX_FORBID], (size_t)c.by[ZX_REVIEW], (size_t)c.by[ZX_WATCH]);

	/* 3. one venue's incremental check, random venues */
	uint64_t rs = seed ^ 0xC0FFEE;
	int64_t *ids = malloc((checks > moves ? checks : moves) * sizeof *ids);
	if (!ids)
		die("out of memory");
	for (size_t i = 0; i < checks; i++)
		ids[i] = (int64_t)(rnd(&rs) % sz->nvenues) + 1;
	size_t found = 0;
	t = now_s();
	for (size_t i = 0; i < checks; i++)
		zx_venue_check(z, ids[i], nothing_cb, &found);
	double tc = now_s() - t;
	printf("incremental check (zx_venue_check), %zu random venues: %.3f us each (%zu findings seen)\n", checks,
	       1e6 * tc / (double)checks, found);
	printf("@ check_us %.4f\n", 1e6 * tc / (double)checks);

	/* 4. a move: put the venue 30 m away and check it; restored afterwards */
	struct area_buf b;
	size_t *idx = malloc(moves * sizeof *idx);
	if (!idx)
		die("out of memory");
	for (size_t i = 0; i < moves; i++)
		idx[i] = (size_t)(rnd(&rs) % sz->nvenues);
	found = 0;
	double tm = 0;
	for (size_t i = 0; i < moves; i++) {
		struct gen_venue v;
		struct zx_venue_in in;
		gen_venue(g, idx[i], &v);
		v.lat += 30.0 / 111000.0;
		for (int e = 0; e < v.nent; e++)
			v.ent[e].lat += 30.0 / 111000.0;
		venue_in(&v, &b, &in, 0);
		t = now_s();
		if (zx_venue_put(z, &in))
			die("zx_venue_put refused a move");
		zx_venue_check(z, in.id, nothing_cb, &found);
		tm += now_s() - t;
	}
	for (size_t i = 0; i < moves; i++) {
		struct gen_venue v;
		struct zx_venue_in in;
		gen_venue(g, idx[i], &v);
		venue_in(&v, &b, &in, 0);
		zx_venue_put(z, &in);
	}
	printf("move (zx_venue_put 30 m away + zx_venue_check), %zu random venues: %.3f us each\n", moves,
	       1e6 * tm / (double)moves);
	printf("@ move_us %.4f\n", 1e6 * tm / (double)moves);
	free(idx);
	free(ids);
	double peak_engine = rss_peak();
	zx_free(z);

	/* the same join on one thread, for comparison with the single-threaded
	 * baseline and PostGIS (not for the nation: another load of minutes) */
	if (threads > 1 && sz->nvenues <= 5000000) {
		struct zx *z1 = engine_new(1);
		load(z1, g, 0, &ts, &tv);
		for (int run = 0; run < 2; run++) {
			t = now_s();
			zx_join_batch(z1, "", count_cb, &c);
			tj[run] = now_s() - t;
		}
		zx_free(z1);
		printf("full join on 1 thread: %.4f s (first run %.4f s)\n", tj[1], tj[0]);
		printf("@ join1_s %.5f\n", tj[1]);
	}

	/* 5. baseline and the engine's point-to-point pairs */
	struct ppvec base = { 0 }, eng_pp = { 0 };
	if (do_base) {
		double tb, tjn, tpre;
		size_t ncand;
		baseline(g, &base, &tb, &tjn, &tpre, &ncand);
		printf("baseline: plain C grid join, 1 thread, PROJ geod_inverse on each of %zu candidate pairs: "
		       "%.4f s (+ %.4f s sorting venues into the grid); %zu point-to-point pairs <= 200 m\n",
		       ncand, tjn, tb, base.n);
		printf("baseline with a flat-earth prefilter (geod_inverse only within 203 m by the flat formula): %.4f s\n",
		       tpre);
		printf("@ base_join_s %.5f\n@ base_build_s %.5f\n@ base_pre_s %.5f\n@ base_pairs %zu\n", tjn, tb, tpre,
		       base.n);
		qsort(base.v, base.n, sizeof *base.v, cmp_pp);
		if (pgdir) {
			char p[4096];
			snprintf(p, sizeof p, "%s/pairs.csv", pgdir);
			FILE *f = fopen(p, "w");
			if (!f)
				die("cannot write pairs.csv");
			for (size_t i = 0; i < base.n; i++)
				fprintf(f, "%lld,%lld,%.6f\n", (long long)base.v[i].s, (long long)base.v[i].v, base.v[i].d);
			if (fclose(f))
				die("cannot write pairs.csv");
		}
	}
	if (do_p2p) {
		/* the engine with points only (no campus, no entrances): every venue
		 * within 200 m of every school by zx_surroundings */
		double ts2, tv2;
		struct zx *zp = engine_new(1);
		load(zp, g, 1, &ts2, &tv2);
		t = now_s();
		for (size_t i = 0; i < sz->nschools; i++)
			zx_surroundings(zp, (int64_t)i + 1, 200, surr_cb, &eng_pp);
		double tp = now_s() - t;
		zx_free(zp);
		printf("engine point-to-point: zx_surroundings(200 m) for every school, points only, 1 thread: %.4f s; "
		       "%zu pairs\n",
		       tp, eng_pp.n);
		printf("@ p2p_s %.5f\n@ p2p_pairs %zu\n", tp, eng_pp.n);
		qsort(eng_pp.v, eng_pp.n, sizeof *eng_pp.v, cmp_pp);
	}
	if (do_base && do_p2p) {
		size_t i = 0, j = 0, only_b = 0, only_e = 0, both = 0;
		double worst = 0, edge = 0;
		while (i < base.n || j < eng_pp.n) {
			int c2 = i == base.n ? 1 : j == eng_pp.n ? -1 : cmp_pp(&base.v[i], &eng_pp.v[j]);
			if (c2 == 0) {
				worst = fmax(worst, fabs(base.v[i].d - eng_pp.v[j].d));
				both++, i++, j++;
			} else if (c2 < 0) {
				edge = fmax(edge, fabs(base.v[i].d - 200));
				only_b++, i++;
			} else {
				edge = fmax(edge, fabs(eng_pp.v[j].d - 200));
				only_e++, j++;
			}
		}
		printf("engine vs baseline pairs: %zu in both, %zu only in the baseline, %zu only in the engine "
		       "(farthest from 200 m among those: %.4f m); worst distance difference %.2e m\n",
		       both, only_b, only_e, edge, worst);
		printf("@ p2p_only_base %zu\n@ p2p_only_engine %zu\n@ p2p_worst_m %.3e\n", only_b, only_e, worst);
	}
	free(base.v);
	free(eng_pp.v);
	gen_free(g);
	printf("peak RSS: %.1f MiB during the engine part, %.1f MiB overall (process start %.1f MiB)\n",
	       peak_engine / 1048576, rss_peak() / 1048576, rss0 / 1048576);
	printf("@ peak_engine_bytes %.0f\n@ peak_bytes %.0f\n", peak_engine, rss_peak());
	return 0;
}
