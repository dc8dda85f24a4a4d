/*
 * engine.c - the zone engine: a hash grid over schools and venues and the
 * verdict for each pair (see engine.h for the rules of judgement).
 *
 * Layout, chosen for the full join's memory traffic and for a nation's
 * twenty million venues in well under 2 GiB:
 *  - a venue lives once, as a 32-byte entry inside its grid cell's array
 *    (cells are ~250 m; a join reads a few neighbouring cells' arrays
 *    front to back); venue id -> cell key in an open-addressing map;
 *  - a school lives in the school array; the grid holds its index in every
 *    cell its bounding box (campus, gates) touches;
 *  - rules are resolved per profile (region path, stage): each school
 *    points at its profile's rule lists, one list per category.
 */
#include "zone/engine.h"

#include "geo/coord.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/*--- code tables --------------------------------------------------------------*/

const char *const zx_category_codes[] = {
	"internet_cafe", "game_arcade", "ktv_dance", "bar", "esports_hotel", "script_escape", "hotel", "rental",
	"tobacco", "alcohol", "lottery", "adult", "eatery", "meal_supplier", "stall", "shop", "tutoring",
	"publication", "other", NULL,
};
_Static_assert(sizeof zx_category_codes / sizeof zx_category_codes[0] == ZX_NCATEGORIES + 1,
	       "ZX_NCATEGORIES counts zx_category_codes");
const char *const zx_category_names[] = {
	"互联网上网服务营业场所", "电子游戏/游艺娱乐场所", "歌舞娱乐场所", "酒吧", "电竞酒店", "剧本娱乐/密室逃脱",
	"宾馆/小旅馆", "出租屋/日租房", "烟草零售", "酒类零售", "彩票销售", "成人用品", "餐饮", "校外供餐单位",
	"流动摊点", "小商店/文具店", "校外托管/培训机构", "出版物/音像经营", "其他", NULL,
};
const char *const zx_stage_names[] = {
	"幼儿园", "小学", "初中", "九年一贯制", "高中", "完全中学", "十二年一贯制", "中职", "特殊教育", "高校", NULL,
};
const char *const zx_method_codes[] = {
	"boundary_straight", "entrance_straight", "gate_radius", "walking", "point", NULL,
};
const char *const zx_verdict_names[] = { "", "重点关注", "需审查", "禁止", NULL };

static int lookup(const char *const *tab, const char *s)
{
	if (!s)
		return -1;
	for (int i = 0; tab[i]; i++)
		if (strcmp(tab[i], s) == 0)
			return i;
	return -1;
}

int zx_category_index(const char *s)
{
	int i = lookup(zx_category_codes, s);
	return i >= 0 ? i : lookup(zx_category_names, s);
}

int zx_stage_index(const char *name)
{
	return lookup(zx_stage_names, name);
}

int zx_method_index(const char *code)
{
	int i = lookup(zx_method_codes, code);
	return i == ZX_POINT ? -1 : i;
}

int zx_verdict_index(const char *name)
{
	if (!name || !*name)
		return -1;
	return lookup(zx_verdict_names, name);
}

/*--- an open-addressing map: 64-bit key -> 32-bit value ------------------------*/

#define EMPTY_KEY INT64_MIN
#define TOMB_KEY (INT64_MIN + 1)

struct map {
	int64_t *key;
	uint32_t *val;
	size_t cap, n, used; /* used counts tombstones too */
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* room for n keys at a load of at most 3/4 */
static int map_init(struct map *m, size_t n)
{
	size_t c = 16;
	while (c * 3 < n * 4 + 4)
		c <<= 1;
	m->key = malloc(c * sizeof *m->key);
	m->val = malloc(c * sizeof *m->val);
	if (!m->key || !m->val) {
		free(m->key), free(m->val);
		m->key = NULL, m->val = NULL;
		return -1;
	}
	for (size_t i = 0; i < c; i++)
		m->key[i] = EMPTY_KEY;
	m->cap = c, m->n = 0, m->used = 0;
	return 0;
}

static void map_free(struct map *m)
{
	free(m->key), free(m->val);
	memset(m, 0, sizeof *m);
}

static uint32_t *map_find(const struct map *m, int64_t k)
{
	size_t mask = m->cap - 1;
	for (size_t i = mix((uint64_t)k) & mask;; i = (i + 1) & mask) {
		if (m->key[i] == k)
			return &m->val[i];
		if (m->key[i] == EMPTY_KEY)
			return NULL;
	}
}

static int map_grow(struct map *m, size_t want)
{
	struct map nm;
	if (map_init(&nm, want))
		return -1;
	for (size_t i = 0; i < m->cap; i++)
		if (m->key[i] != EMPTY_KEY && m->key[i] != TOMB_KEY) {
			size_t mask = nm.cap - 1, j = mix((uint64_t)m->key[i]) & mask;
			while (nm.key[j] != EMPTY_KEY)
				j = (j + 1) & mask;
			nm.key[j] = m->key[i], nm.val[j] = m->val[i];
			nm.n++, nm.used++;
		}
	map_free(m);
	*m = nm;
	return 0;
}

/* Returns the value slot for k, inserting it (value 0, *fresh = 1) when
 * absent; NULL when out of memory. */
static uint32_t *map_put(struct map *m, int64_t k, int *fresh)
{
	/* full of keys: double; full of tombstones: rebuild at the same size */
	if ((m->used + 1) * 4 > m->cap * 3 && map_grow(m, (m->n + 1) * 4 > m->cap * 2 ? m->cap : m->n + 1))
		return NULL;
	size_t mask = m->cap - 1, tomb = SIZE_MAX;
	for (size_t i = mix((uint64_t)k) & mask;; i = (i + 1) & mask) {
		if (m->key[i] == k) {
			*fresh = 0;
			return &m->val[i];
		}
		if (m->key[i] == TOMB_KEY && tomb == SIZE_MAX)
			tomb = i;
		if (m->key[i] == EMPTY_KEY) {
			if (tomb != SIZE_MAX)
				i = tomb;
			else
				m->used++;
			m->key[i] = k, m->val[i] = 0, m->n++;
			*fresh = 1;
			return &m->val[i];
		}
	}
}

static void map_del(struct map *m, int64_t k)
{
	uint32_t *v = map_find(m, k);
	if (v) {
		m->key[v - m->val] = TOMB_KEY;
		m->n--;
	}
}

/*--- the grid -------------------------------------------------------------------*/

#define CELL_LAT 0.0025  /* ~278 m */
#define CELL_LON 0.0030  /* ~290 m at 30°N, ~190 m at 50°N */

static int64_t cell_key(int64_t iy, int64_t ix)
{
	return (int64_t)(((uint64_t)(iy & 0xffffffff) << 32) | (uint64_t)(ix & 0xffffffff));
}

static int64_t cell_iy(double lat)
{
	return (int64_t)floor(lat / CELL_LAT);
}

static int64_t cell_ix(double lon)
{
	return (int64_t)floor(lon / CELL_LON);
}

/* a venue, inside its cell */
struct ventry {
	double lat, lon;
	int64_t id;
	uint32_t ent;     /* first entrance in z->ent */
	uint8_t cat, active, nent, pad;
};

struct vcell {
	uint32_t n, cap;
	struct ventry *e;
};

struct scell {
	uint32_t n, cap;
	uint32_t *e;      /* school indices */
};

/*--- rules and profiles -----------------------------------------------------------*/

struct rlist {
	uint32_t off, n;  /* into z->resolved */
};

struct profile {
	char *region_path;
	int stage;
	struct rlist cat[ZX_NCATEGORIES];
};

struct school {
	int64_t id;
	double lat, lon;
	int stage, alive;
	uint32_t profile;
	struct geo_area *area;
	int ngates, npupil;
	struct geo_pt *gates;
	double min_lat, min_lon, max_lat, max_lon; /* box of point, campus and gates */
	/* metres per degree of longitude and latitude near the school:
	 * k(lat) = k0 + k1 * (lat - s->lat), for point_dist */
	double kx0, kx1, ky0, ky1;
};

struct zx {
	struct zx_config cfg;
	double reach;        /* max distance any rule can flag, margin and entrance spread included */
	double ent_spread;   /* the farthest a venue entrance lies from its venue's point */

	struct zx_rule *rules;
	size_t nrules;
	const struct zx_rule **resolved;
	size_t nresolved, capresolved;
	struct profile *prof;
	size_t nprof, capprof;
	struct map profmap;  /* profile_key(path, stage) -> index into prof */

	struct school *sch;
	size_t nsch, capsch;
	uint32_t *freesch;
	size_t nfreesch, capfreesch;
	struct map sid;      /* school id -> index */
	struct map scells;   /* cell key -> index into scell */
	struct scell *scell;
	size_t nscell, capscell;

	/* venue id -> index of its cell in vcell: database ids are dense, so
	 * ids below vdense_cap live in a plain array (cell index + 1, 0 =
	 * none; 4 bytes a venue), others in the map (12+ bytes a venue) */
	uint32_t *vdense;
	uint32_t *vslot;     /* for dense ids: the venue's index inside its cell */
	size_t vdense_cap;
	struct map vid;
	struct map vcells;   /* cell key -> index into vcell */
	struct vcell *vcell;
	size_t nvcell, capvcell;
	size_t nvenues;
	struct geo_pt *ent;
	size_t nent, capent;

	struct map walk;     /* (school, venue) hash -> index into walks */
	struct walk {
		int64_t school_id, venue_id;
		double metres;
	} *walks;
	size_t nwalks, capwalks;

	uint32_t *stamp;     /* per school: last query that saw it */
	size_t capstamp;
	uint32_t qstamp;
};

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 16;
	while (c < need)
		c *= 2;
	void *q = realloc(*p, c * size);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

struct zx *zx_new(const struct zx_config *cfg)
{
	struct zx *z = calloc(1, sizeof *z);
	if (!z)
		return NULL;
	z->cfg = *cfg;
	if (!(z->cfg.radius_m > 0))
		z->cfg.radius_m = 200;
	if (!(z->cfg.margin_m >= 0))
		z->cfg.margin_m = 5;
	z->reach = z->cfg.radius_m + z->cfg.margin_m;
	if (map_init(&z->sid, 64) || map_init(&z->scells, 64) || map_init(&z->vid, 64) || map_init(&z->vcells, 64) ||
	    map_init(&z->walk, 16) || map_init(&z->profmap, 64)) {
		zx_free(z);
		return NULL;
	}
	return z;
}

void zx_free(struct zx *z)
{
	if (!z)
		return;
	for (size_t i = 0; i < z->nsch; i++) {
		geo_area_free(z->sch[i].area);
		free(z->sch[i].gates);
	}
	for (size_t i = 0; i < z->nscell; i++)
		free(z->scell[i].e);
	for (size_t i = 0; i < z->nvcell; i++)
		free(z->vcell[i].e);
	for (size_t i = 0; i < z->nprof; i++)
		free(z->prof[i].region_path);
	free(z->sch), free(z->freesch), free(z->scell), free(z->vcell), free(z->ent), free(z->walks);
	free(z->rules), free(z->resolved), free(z->prof), free(z->stamp), free(z->vdense), free(z->vslot);
	map_free(&z->sid), map_free(&z->scells), map_free(&z->vid), map_free(&z->vcells), map_free(&z->walk);
	map_free(&z->profmap);
	free(z);
}

static void vdense_grow(struct zx *z, size_t nc);

void zx_reserve(struct zx *z, size_t n, size_t m)
{
	if (n > z->sid.cap / 2)
		map_grow(&z->sid, n);
	if (m && m + 1024 > z->vdense_cap)
		vdense_grow(z, m + 1024);
	grow((void **)&z->sch, &z->capsch, n, sizeof *z->sch);
}

size_t zx_nschools(const struct zx *z)
{
	return z->sid.n;
}

size_t zx_nvenues(const struct zx *z)
{
	return z->nvenues;
}

/* Is p a prefix of path (a rule's jurisdiction containing a school's region)? */
static int path_in(const char *p, const char *path)
{
	size_t n = strlen(p);
	return n == 0 || strncmp(p, path, n) == 0;
}

static int resolve_profile(struct zx *z, struct profile *pr)
{
	for (int c = 0; c < ZX_NCATEGORIES; c++) {
		size_t best = 0;
		int found = 0, numbered = 0;
		for (size_t i = 0; i < z->nrules; i++) {
			const struct zx_rule *r = &z->rules[i];
			if (r->category != c || !(r->stages & (1u << pr->stage)) || !path_in(r->region_path, pr->region_path))
				continue;
			size_t d = strlen(r->region_path);
			if (!found || d > best)
				best = d, numbered = 0;
			found = 1;
			if (d == best && !isnan(r->distance_m))
				numbered = 1;
		}
		pr->cat[c].off = (uint32_t)z->nresolved;
		pr->cat[c].n = 0;
		if (!found)
			continue;
		for (size_t i = 0; i < z->nrules; i++) {
			const struct zx_rule *r = &z->rules[i];
			if (r->category != c || !(r->stages & (1u << pr->stage)) || !path_in(r->region_path, pr->region_path) ||
			    strlen(r->region_path) != best || (numbered && isnan(r->distance_m)))
				continue;
			if (grow((void **)&z->resolved, &z->capresolved, z->nresolved + 1, sizeof *z->resolved))
				return -1;
			z->resolved[z->nresolved++] = r;
			pr->cat[c].n++;
		}
	}
	return 0;
}

static void compute_reach(struct zx *z)
{
	double r = z->cfg.radius_m;
	for (size_t i = 0; i < z->nrules; i++)
		if (!isnan(z->rules[i].distance_m) && z->rules[i].distance_m > r)
			r = z->rules[i].distance_m;
	z->reach = r + z->cfg.margin_m + z->ent_spread + 0.01;
}

int zx_set_rules(struct zx *z, const struct zx_rule *rules, size_t n)
{
	struct zx_rule *copy = malloc((n ? n : 1) * sizeof *copy);
	if (!copy)
		return -1;
	if (n)
		memcpy(copy, rules, n * sizeof *copy);
	free(z->rules);
	z->rules = copy;
	z->nrules = n;
	z->nresolved = 0;
	for (size_t i = 0; i < z->nprof; i++)
		if (resolve_profile(z, &z->prof[i]))
			return -1;
	compute_reach(z);
	return 0;
}

static int64_t profile_key(const char *path, int stage)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h = mix(h ^ (uint64_t)(stage + 1));
	return (int64_t)(h >> 2); /* clear of the map's two reserved keys */
}

/* The profile of (path, stage), made and resolved when new. A hash map
 * finds it (a nation has some 400 000 region-stage pairs); on the rare
 * hash collision the second profile is found by a scan. */
static int profile_of(struct zx *z, const char *path, int stage, uint32_t *out)
{
	if (!path)
		path = "";
	int64_t key = profile_key(path, stage);
	uint32_t *hit = map_find(&z->profmap, key);
	if (hit && z->prof[*hit].stage == stage && strcmp(z->prof[*hit].region_path, path) == 0) {
		*out = *hit;
		return 0;
	}
	if (hit) /* a collision: scan */
		for (size_t i = 0; i < z->nprof; i++)
			if (z->prof[i].stage == stage && strcmp(z->prof[i].region_path, path) == 0) {
				*out = (uint32_t)i;
				return 0;
			}
	if (grow((void **)&z->prof, &z->capprof, z->nprof + 1, sizeof *z->prof))
		return -1;
	struct profile *pr = &z->prof[z->nprof];
	memset(pr, 0, sizeof *pr);
	if (!(pr->region_path = strdup(path)))
		return -1;
	pr->stage = stage;
	if (resolve_profile(z, pr)) {
		free(pr->region_path);
		return -1;
	}
	*out = (uint32_t)z->nprof++;
	if (!hit) {
		int fresh;
		uint32_t *v = map_put(&z->profmap, key, &fresh);
		if (v)
			*v = *out;  /* else found by the scan next time */
	}
	return 0;
}

/*--- schools ------------------------------------------------------------------------*/

static int scell_add(struct zx *z, int64_t key, uint32_t si)
{
	int fresh;
	uint32_t *slot = map_put(&z->scells, key, &fresh);
	if (!slot)
		return -1;
	if (fresh) {
		if (grow((void **)&z->scell, &z->capscell, z->nscell + 1, sizeof *z->scell)) {
			map_del(&z->scells, key);
			return -1;
		}
		memset(&z->scell[z->nscell], 0, sizeof z->scell[0]);
		*slot = (uint32_t)z->nscell++;
	}
	struct scell *c = &z->scell[*slot];
	if (c->n == c->cap) {
		uint32_t nc = c->cap ? c->cap * 2 : 4;
		uint32_t *e = realloc(c->e, nc * sizeof *e);
		if (!e)
			return -1;
		c->e = e, c->cap = nc;
	}
	c->e[c->n++] = si;
	return 0;
}

static void school_cells(const struct school *s, int64_t *y0, int64_t *y1, int64_t *x0, int64_t *x1)
{
	*y0 = cell_iy(s->min_lat), *y1 = cell_iy(s->max_lat);
	*x0 = cell_ix(s->min_lon), *x1 = cell_ix(s->max_lon);
}

static void school_unlink(struct zx *z, uint32_t si)
{
	int64_t y0, y1, x0, x1;
	school_cells(&z->sch[si], &y0, &y1, &x0, &x1);
	for (int64_t y = y0; y <= y1; y++)
		for (int64_t x = x0; x <= x1; x++) {
			uint32_t *slot = map_find(&z->scells, cell_key(y, x));
			if (!slot)
				continue;
			struct scell *c = &z->scell[*slot];
			for (uint32_t i = 0; i < c->n; i++)
				if (c->e[i] == si) {
					c->e[i] = c->e[--c->n];
					break;
				}
		}
}

int zx_school_del(struct zx *z, int64_t id)
{
	uint32_t *v = map_find(&z->sid, id);
	if (!v)
		return -1;
	uint32_t si = (uint32_t)*v;
	struct school *s = &z->sch[si];
	school_unlink(z, si);
	geo_area_free(s->area);
	free(s->gates);
	memset(s, 0, sizeof *s);
	map_del(&z->sid, id);
	if (grow((void **)&z->freesch, &z->capfreesch, z->nfreesch + 1, sizeof *z->freesch) == 0)
		z->freesch[z->nfreesch++] = si;
	return 0;
}

static struct geo_area *area_copy(const struct geo_area *a)
{
	struct geo_area *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	*c = *a;
	c->poly = calloc((size_t)a->npolys, sizeof *c->poly);
	if (!c->poly)
		goto fail;
	for (int p = 0; p < a->npolys; p++) {
		c->poly[p].nrings = a->poly[p].nrings;
		c->poly[p].ring = calloc((size_t)a->poly[p].nrings, sizeof *c->poly[p].ring);
		if (!c->poly[p].ring)
			goto fail;
		for (int r = 0; r < a->poly[p].nrings; r++) {
			const struct geo_ring *src = &a->poly[p].ring[r];
			c->poly[p].ring[r].n = src->n;
			c->poly[p].ring[r].pt = malloc((size_t)src->n * sizeof *src->pt);
			if (!c->poly[p].ring[r].pt)
				goto fail;
			memcpy(c->poly[p].ring[r].pt, src->pt, (size_t)src->n * sizeof *src->pt);
		}
	}
	return c;
fail:
	if (c->poly) {
		c->npolys = a->npolys;
		for (int p = 0; p < a->npolys; p++)
			if (!c->poly[p].ring)
				c->poly[p].nrings = 0;
	} else {
		c->npolys = 0;
	}
	geo_area_free(c);
	return NULL;
}

int zx_school_put(struct zx *z, const struct zx_school_in *in)
{
	if (!geo_valid_latlon(in->lat, in->lon) || in->stage < 0 || in->stage >= ZX_MAX_STAGES || in->ngates < 0 ||
	    in->npupil_gates < 0 || in->npupil_gates > in->ngates)
		return -1;
	struct school s;
	memset(&s, 0, sizeof s);
	s.id = in->id, s.lat = in->lat, s.lon = in->lon, s.stage = in->stage, s.alive = 1;
	if (profile_of(z, in->region_path, in->stage, &s.profile))
		return -1;
	s.min_lat = s.max_lat = in->lat;
	s.min_lon = s.max_lon = in->lon;
	double ylo, xlo, yhi, xhi;
	geo_metres_per_degree(in->lat, &s.ky0, &s.kx0);
	geo_metres_per_degree(in->lat - 0.01, &ylo, &xlo);
	geo_metres_per_degree(in->lat + 0.01, &yhi, &xhi);
	s.ky1 = (yhi - ylo) / 0.02, s.kx1 = (xhi - xlo) / 0.02;
	if (in->area) {
		if (!(s.area = area_copy(in->area)))
			return -1;
		s.min_lat = fmin(s.min_lat, in->area->min_lat), s.max_lat = fmax(s.max_lat, in->area->max_lat);
		s.min_lon = fmin(s.min_lon, in->area->min_lon), s.max_lon = fmax(s.max_lon, in->area->max_lon);
	}
	if (in->ngates) {
		if (!(s.gates = malloc((size_t)in->ngates * sizeof *s.gates))) {
			geo_area_free(s.area);
			return -1;
		}
		memcpy(s.gates, in->gates, (size_t)in->ngates * sizeof *s.gates);
		s.ngates = in->ngates, s.npupil = in->npupil_gates;
		for (int i = 0; i < in->ngates; i++) {
			s.min_lat = fmin(s.min_lat, in->gates[i].lat), s.max_lat = fmax(s.max_lat, in->gates[i].lat);
			s.min_lon = fmin(s.min_lon, in->gates[i].lon), s.max_lon = fmax(s.max_lon, in->gates[i].lon);
		}
	}
	/* a box of a few km at most: anything larger is bad data, not a campus */
	if (s.max_lat - s.min_lat > 0.1 || s.max_lon - s.min_lon > 0.1) {
		geo_area_free(s.area);
		free(s.gates);
		return -1;
	}
	zx_school_del(z, in->id);
	uint32_t si;
	if (z->nfreesch) {
		si = z->freesch[--z->nfreesch];
	} else {
		if (grow((void **)&z->sch, &z->capsch, z->nsch + 1, sizeof *z->sch))
			goto oom;
		si = (uint32_t)z->nsch++;
	}
	z->sch[si] = s;
	int fresh;
	uint32_t *slot = map_put(&z->sid, in->id, &fresh);
	if (!slot)
		goto oom;
	*slot = si;
	int64_t y0, y1, x0, x1;
	school_cells(&s, &y0, &y1, &x0, &x1);
	for (int64_t y = y0; y <= y1; y++)
		for (int64_t x = x0; x <= x1; x++)
			if (scell_add(z, cell_key(y, x), si))
				goto oom;
	return 0;
oom:
	geo_area_free(s.area);
	free(s.gates);
	return -1;
}

/*--- venues -------------------------------------------------------------------------*/

static void vdense_grow(struct zx *z, size_t nc)
{
	uint32_t *d = realloc(z->vdense, nc * sizeof *d);
	if (!d)
		return;
	z->vdense = d;
	uint32_t *sl = realloc(z->vslot, nc * sizeof *sl);
	if (!sl)
		return;   /* vdense is larger, harmlessly; vdense_cap stays */
	z->vslot = sl;
	memset(d + z->vdense_cap, 0, (nc - z->vdense_cap) * sizeof *d);
	z->vdense_cap = nc;
}

static int dense(const struct zx *z, int64_t id)
{
	return id >= 0 && (uint64_t)id < z->vdense_cap;
}

/* The cell index of venue id: 1 and *ci (and *slot, its index in the
 * cell, or UINT32_MAX when not known), or 0 when unknown. */
static int vid_get(const struct zx *z, int64_t id, uint32_t *ci, uint32_t *slot)
{
	*slot = UINT32_MAX;
	if (dense(z, id) && z->vdense[id]) {
		*ci = z->vdense[id] - 1;
		*slot = z->vslot[id];
		return 1;
	}
	const uint32_t *v = map_find(&z->vid, id);
	if (v)
		*ci = *v;
	return v != NULL;
}

static void vid_del(struct zx *z, int64_t id)
{
	if (dense(z, id) && z->vdense[id])
		z->vdense[id] = 0;
	else
		map_del(&z->vid, id);
}

/* The entry at e moved to (or was put at) index i of its cell. */
static void vid_slot(struct zx *z, int64_t id, uint32_t i)
{
	if (dense(z, id))
		z->vslot[id] = i;
}

static int vid_set(struct zx *z, int64_t id, uint32_t ci, uint32_t i)
{
	/* the dense array grows while ids stay below four times the count */
	if (id >= 0 && (uint64_t)id >= z->vdense_cap && (uint64_t)id < 4 * (z->nvenues + 1024) && id < (1LL << 31)) {
		size_t nc = z->vdense_cap ? z->vdense_cap : 1024;
		while (nc <= (uint64_t)id)
			nc *= 2;
		vdense_grow(z, nc);
	}
	if (dense(z, id)) {
		map_del(&z->vid, id);  /* it may have been stored there before the array reached it */
		z->vdense[id] = ci + 1;
		z->vslot[id] = i;
		return 0;
	}
	int fresh;
	uint32_t *v = map_put(&z->vid, id, &fresh);
	if (!v)
		return -1;
	*v = ci;
	return 0;
}

static struct ventry *venue_find(struct zx *z, int64_t id, struct vcell **cell)
{
	uint32_t ci, slot;
	if (!vid_get(z, id, &ci, &slot))
		return NULL;
	struct vcell *c = &z->vcell[ci];
	if (slot < c->n && c->e[slot].id == id) {
		if (cell)
			*cell = c;
		return &c->e[slot];
	}
	for (uint32_t i = 0; i < c->n; i++)
		if (c->e[i].id == id) {
			if (cell)
				*cell = c;
			return &c->e[i];
		}
	return NULL;
}

int zx_venue_del(struct zx *z, int64_t id)
{
	struct vcell *c;
	struct ventry *e = venue_find(z, id, &c);
	if (!e)
		return -1;
	*e = c->e[--c->n];
	if (e != &c->e[c->n])
		vid_slot(z, e->id, (uint32_t)(e - c->e));
	vid_del(z, id);
	z->nvenues--;
	return 0;
}

int zx_venue_put(struct zx *z, const struct zx_venue_in *in)
{
	if (!geo_valid_latlon(in->lat, in->lon) || in->category < 0 || in->category >= ZX_NCATEGORIES ||
	    in->nent < 0 || in->nent > 255)
		return -1;
	for (int i = 0; i < in->nent; i++)
		if (!geo_valid_latlon(in->ent[i].lat, in->ent[i].lon))
			return -1;
	struct ventry e = { .lat = in->lat, .lon = in->lon, .id = in->id, .cat = (uint8_t)in->category,
			    .active = in->active ? 1 : 0, .nent = (uint8_t)in->nent };
	struct vcell *oc = NULL;
	struct ventry *old = venue_find(z, in->id, &oc);
	size_t oci = old ? (size_t)(oc - z->vcell) : 0; /* z->vcell may move when a cell is added */
	if (in->nent) {
		if (old && old->nent >= in->nent) {
			e.ent = old->ent;   /* the old slots are reused: moves do not grow the pool */
		} else {
			if (grow((void **)&z->ent, &z->capent, z->nent + (size_t)in->nent, sizeof *z->ent))
				return -1;
			e.ent = (uint32_t)z->nent;
			z->nent += (size_t)in->nent;
		}
		memcpy(&z->ent[e.ent], in->ent, (size_t)in->nent * sizeof *in->ent);
		double spread = 0;
		for (int i = 0; i < in->nent; i++)
			spread = fmax(spread, geo_dist_fast(in->lat, in->lon, in->ent[i].lat, in->ent[i].lon));
		if (spread > z->ent_spread) {
			z->ent_spread = spread;
			compute_reach(z);
		}
	}
	int64_t key = cell_key(cell_iy(in->lat), cell_ix(in->lon));
	int fresh;
	uint32_t *slot = map_put(&z->vcells, key, &fresh);
	if (!slot)
		return -1;
	if (fresh) {
		if (grow((void **)&z->vcell, &z->capvcell, z->nvcell + 1, sizeof *z->vcell)) {
			map_del(&z->vcells, key);
			return -1;
		}
		memset(&z->vcell[z->nvcell], 0, sizeof z->vcell[0]);
		*slot = (uint32_t)z->nvcell++;
	}
	if (old)
		oc = &z->vcell[oci];
	struct vcell *c = &z->vcell[*slot];
	if (old && oc == c) {
		*old = e;           /* same cell: in place */
		return 0;
	}
	if (c->n == c->cap) {
		uint32_t nc = c->cap ? c->cap + c->cap / 2 + 1 : 4;
		struct ventry *ne = realloc(c->e, nc * sizeof *ne);
		if (!ne)
			return -1;
		c->e = ne, c->cap = nc;
	}
	if (old) {
		*old = oc->e[--oc->n];
		if (old != &oc->e[oc->n])
			vid_slot(z, old->id, (uint32_t)(old - oc->e));
		z->nvenues--;
	}
	if (vid_set(z, in->id, (uint32_t)(c - z->vcell), c->n))
		return -1;
	c->e[c->n++] = e;
	z->nvenues++;
	return 0;
}

void zx_shrink(struct zx *z)
{
	/* an eighth kept free, so that venues moving in later rarely realloc */
	for (size_t i = 0; i < z->nvcell; i++) {
		struct vcell *c = &z->vcell[i];
		uint32_t want = c->n + c->n / 8 + 1;
		if (c->cap > want) {
			struct ventry *e = realloc(c->e, want * sizeof *e);
			if (e)
				c->e = e, c->cap = want;
		}
	}
	for (size_t i = 0; i < z->nscell; i++) {
		struct scell *c = &z->scell[i];
		if (c->cap > c->n && c->n) {
			uint32_t *e = realloc(c->e, c->n * sizeof *e);
			if (e)
				c->e = e, c->cap = c->n;
		}
	}
}

/*--- walking distances ----------------------------------------------------------------*/

static int64_t pair_key(int64_t s, int64_t v)
{
	return (int64_t)(mix((uint64_t)s) ^ ((uint64_t)v * 0x9e3779b97f4a7c15ULL));
}

static double walking_of(const struct zx *z, int64_t sid, int64_t vid)
{
	if (!z->nwalks)
		return NAN;
	uint32_t *i = map_find(&z->walk, pair_key(sid, vid));
	if (!i)
		return NAN;
	const struct walk *w = &z->walks[*i];
	return w->school_id == sid && w->venue_id == vid ? w->metres : NAN;
}

int zx_set_walking(struct zx *z, int64_t school_id, int64_t venue_id, double metres)
{
	int fresh;
	uint32_t *i = map_put(&z->walk, pair_key(school_id, venue_id), &fresh);
	if (!i)
		return -1;
	if (fresh) {
		if (grow((void **)&z->walks, &z->capwalks, z->nwalks + 1, sizeof *z->walks))
			return -1;
		*i = (uint32_t)z->nwalks++;
	}
	z->walks[*i] = (struct walk){ school_id, venue_id, metres };
	return 0;
}

/*--- measuring and judging ------------------------------------------------------------------*/

/* Exactness near a limit: the fast formula is within 1 mm; where a
 * distance falls within 1 cm of a threshold, the exact geodesic decides. */
/* Exactness near a limit: the fast formula is within 1 mm; where a
 * distance falls within 1 cm of a threshold, the exact geodesic decides.
 * The fast formula is geo_dist_fast's (flat, the ellipsoid's radii at the
 * mid-latitude) with the metres per degree taken from the school's own
 * first-order expansion, so the inner loop needs no trigonometry. */
static double point_dist(const struct school *s, double la1, double lo1, double la2, double lo2, const double *thr,
			 int nthr)
{
	double dm = 0.5 * (la1 + la2) - s->lat;
	double dx = (lo2 - lo1) * (s->kx0 + s->kx1 * dm), dy = (la2 - la1) * (s->ky0 + s->ky1 * dm);
	double d = sqrt(dx * dx + dy * dy);
	for (int i = 0; i < nthr; i++)
		if (fabs(d - thr[i]) < 0.01)
			return geo_dist_exact(la1, lo1, la2, lo2);
	return d;
}

static double min_pairs(const struct school *s, const struct geo_pt *a, int na, const struct geo_pt *b, int nb,
			const double *thr, int nthr)
{
	double best = INFINITY;
	for (int i = 0; i < na; i++)
		for (int j = 0; j < nb; j++)
			best = fmin(best, point_dist(s, a[i].lat, a[i].lon, b[j].lat, b[j].lon, thr, nthr));
	return best;
}

/* The distance by method m; *used is the method used, *fb 1 when it fell back. */
static double measure(const struct zx *z, const struct school *s, const struct ventry *v, int m, const double *thr,
		      int nthr, int *used, int *fb)
{
	const struct geo_pt vp = { v->lat, v->lon };
	const struct geo_pt *vent = v->nent ? &z->ent[v->ent] : NULL;
	*fb = 0;
	*used = m;
	switch (m) {
	case ZX_BOUNDARY:
		if (s->area)
			return geo_dist_to_area(s->area, v->lat, v->lon);
		break;
	case ZX_GATE:
		if (s->npupil)
			return min_pairs(s, s->gates, s->npupil, &vp, 1, thr, nthr);
		break;
	case ZX_ENTRANCE:
	case ZX_WALKING:
		if (s->ngates && vent)
			return min_pairs(s, s->gates, s->ngates, vent, v->nent, thr, nthr);
		break;
	case ZX_POINT:
		return point_dist(s, s->lat, s->lon, v->lat, v->lon, thr, nthr);
	}
	*fb = 1;
	*used = ZX_POINT;
	return point_dist(s, s->lat, s->lon, v->lat, v->lon, thr, nthr);
}

/* "How near" for rows without a number and for the surroundings list:
 * the campus boundary when the school has one, else its point. */
static double base_dist(const struct school *s, const struct ventry *v, const double *thr, int nthr, int *used)
{
	if (s->area) {
		*used = ZX_BOUNDARY;
		return geo_dist_to_area(s->area, v->lat, v->lon);
	}
	*used = ZX_POINT;
	return point_dist(s, s->lat, s->lon, v->lat, v->lon, thr, nthr);
}

static int judge_rule(const struct zx *z, const struct school *s, const struct ventry *v, const struct zx_rule *r,
		      struct zx_pair *out)
{
	double M = z->cfg.margin_m, D = r->distance_m;
	int verdict, used, fb;
	double d;
	out->rule = r;
	out->limit_m = D;
	if (isnan(D)) {
		double thr[1] = { z->cfg.radius_m };
		d = base_dist(s, v, thr, 1, &used);
		fb = used == ZX_POINT;
		verdict = d <= z->cfg.radius_m ? r->effect : ZX_CLEAR;
		if (verdict > ZX_REVIEW)
			verdict = ZX_REVIEW;   /* a rule without a number never forbids */
	} else {
		double thr[2] = { D - M, D + M };
		d = measure(z, s, v, r->method, thr, 2, &used, &fb);
		if (r->method == ZX_WALKING) {
			double w = walking_of(z, s->id, v->id);
			if (!isnan(w)) {
				d = w, used = ZX_WALKING, fb = 0;
			} else if (d <= D + M) {
				/* the straight line bounds the walk from below: only a
				 * measured walking distance can decide */
				out->distance_m = d, out->method = used, out->fallback = fb;
				out->verdict = r->effect < ZX_REVIEW ? r->effect : ZX_REVIEW;
				return out->verdict;
			}
		}
		if (d > D + M)
			verdict = ZX_CLEAR;
		else if (d >= D - M)
			verdict = r->effect < ZX_REVIEW ? r->effect : ZX_REVIEW;
		else
			verdict = r->effect;
		if ((fb || !r->may_forbid) && verdict > ZX_REVIEW)
			verdict = ZX_REVIEW;
	}
	out->distance_m = d, out->method = used, out->fallback = fb, out->verdict = verdict;
	return verdict;
}

/* The verdict of one pair under the school's rules for the venue's
 * category; 0 (ZX_CLEAR) when nothing applies or all rows clear it. */
static int judge(const struct zx *z, const struct school *s, const struct ventry *v, struct zx_pair *out)
{
	memset(out, 0, sizeof *out);
	out->school_id = s->id, out->venue_id = v->id, out->category = v->cat;
	out->limit_m = NAN;
	out->verdict = ZX_CLEAR;
	if (!v->active)
		return ZX_CLEAR;
	const struct rlist *l = &z->prof[s->profile].cat[v->cat];
	for (uint32_t i = 0; i < l->n; i++) {
		struct zx_pair p;
		p.school_id = s->id, p.venue_id = v->id, p.category = v->cat;
		if (judge_rule(z, s, v, z->resolved[l->off + i], &p) > out->verdict ||
		    (p.verdict == out->verdict && p.verdict && p.distance_m < out->distance_m))
			*out = p;
	}
	return out->verdict;
}

/* The cell range within radius r (metres) of a box. */
static void cells_around(double min_lat, double min_lon, double max_lat, double max_lon, double r, int64_t *y0,
			 int64_t *y1, int64_t *x0, int64_t *x1)
{
	double mlat, mlon;
	double far_lat = fabs(min_lat) > fabs(max_lat) ? min_lat : max_lat;
	geo_metres_per_degree(far_lat, &mlat, &mlon);
	double dlat = r / mlat * 1.001, dlon = r / fmax(mlon, 1e-3) * 1.001;
	*y0 = cell_iy(min_lat - dlat), *y1 = cell_iy(max_lat + dlat);
	*x0 = cell_ix(min_lon - dlon), *x1 = cell_ix(max_lon + dlon);
}

/* Visits the venues near school s; for each within the box widened by r,
 * calls fn. */
static size_t school_scan(const struct zx *z, const struct school *s, double r,
			  size_t (*fn)(const struct zx *z, const struct school *s, const struct ventry *v, void *ctx),
			  void *ctx)
{
	int64_t y0, y1, x0, x1;
	cells_around(s->min_lat, s->min_lon, s->max_lat, s->max_lon, r, &y0, &y1, &x0, &x1);
	double mlat, mlon;
	geo_metres_per_degree(fabs(s->min_lat) > fabs(s->max_lat) ? s->min_lat : s->max_lat, &mlat, &mlon);
	double dlat = r / mlat * 1.001, dlon = r / fmax(mlon, 1e-3) * 1.001;
	double a0 = s->min_lat - dlat, a1 = s->max_lat + dlat, o0 = s->min_lon - dlon, o1 = s->max_lon + dlon;
	size_t n = 0;
	for (int64_t y = y0; y <= y1; y++)
		for (int64_t x = x0; x <= x1; x++) {
			const uint32_t *slot = map_find(&z->vcells, cell_key(y, x));
			if (!slot)
				continue;
			const struct vcell *c = &z->vcell[*slot];
			for (uint32_t i = 0; i < c->n; i++) {
				const struct ventry *v = &c->e[i];
				if (v->lat < a0 || v->lat > a1 || v->lon < o0 || v->lon > o1)
					continue;
				n += fn(z, s, v, ctx);
			}
		}
	return n;
}

struct emit {
	void (*cb)(void *arg, const struct zx_pair *p);
	void *arg;
};

static size_t judge_emit(const struct zx *z, const struct school *s, const struct ventry *v, void *ctx)
{
	struct emit *e = ctx;
	struct zx_pair p;
	if (judge(z, s, v, &p) == ZX_CLEAR)
		return 0;
	if (e->cb)
		e->cb(e->arg, &p);
	return 1;
}

static const struct school *school_get(const struct zx *z, int64_t id)
{
	uint32_t *v = map_find(&z->sid, id);
	return v ? &z->sch[*v] : NULL;
}

size_t zx_school_check(struct zx *z, int64_t school_id, void (*cb)(void *arg, const struct zx_pair *p), void *arg)
{
	const struct school *s = school_get(z, school_id);
	if (!s)
		return 0;
	struct emit e = { cb, arg };
	return school_scan(z, s, z->reach, judge_emit, &e);
}

size_t zx_venue_check(struct zx *z, int64_t venue_id, void (*cb)(void *arg, const struct zx_pair *p), void *arg)
{
	const struct ventry *v = venue_find(z, venue_id, NULL);
	if (!v)
		return 0;
	if (z->capstamp < z->nsch) {
		size_t old = z->capstamp;
		if (grow((void **)&z->stamp, &z->capstamp, z->nsch, sizeof *z->stamp))
			return 0;
		memset(z->stamp + old, 0, (z->capstamp - old) * sizeof *z->stamp);
	}
	int64_t y0, y1, x0, x1;
	cells_around(v->lat, v->lon, v->lat, v->lon, z->reach, &y0, &y1, &x0, &x1);
	size_t n = 0;
	z->qstamp++;
	for (int64_t y = y0; y <= y1; y++)
		for (int64_t x = x0; x <= x1; x++) {
			uint32_t *slot = map_find(&z->scells, cell_key(y, x));
			if (!slot)
				continue;
			const struct scell *c = &z->scell[*slot];
			for (uint32_t i = 0; i < c->n; i++) {
				uint32_t si = c->e[i];
				if (z->stamp[si] == z->qstamp)
					continue;
				z->stamp[si] = z->qstamp;
				struct zx_pair p;
				if (judge(z, &z->sch[si], v, &p) == ZX_CLEAR)
					continue;
				if (cb)
					cb(arg, &p);
				n++;
			}
		}
	return n;
}

/*--- the full join ---------------------------------------------------------------------------*/

#define JOIN_BATCH 512

struct joinwork {
	struct zx *z;
	const char *region_path;
	void (*batch)(void *arg, const struct zx_pair *p, size_t n);
	void *arg;
	_Atomic size_t *next;   /* the next school to take, shared: threads take 64 at a time */
	size_t n;
	size_t nbuf;
	struct zx_pair buf[JOIN_BATCH];  /* this thread's pairs, handed over in batches */
};

static size_t join_emit(const struct zx *z, const struct school *s, const struct ventry *v, void *ctx)
{
	struct joinwork *w = ctx;
	if (judge(z, s, v, &w->buf[w->nbuf]) == ZX_CLEAR)
		return 0;
	if (++w->nbuf == JOIN_BATCH) {
		if (w->batch)
			w->batch(w->arg, w->buf, w->nbuf);
		w->nbuf = 0;
	}
	return 1;
}

static void *join_part(void *arg)
{
	struct joinwork *w = arg;
	const struct zx *z = w->z;
	for (;;) {
		size_t from = atomic_fetch_add(w->next, 64), to = from + 64 < z->nsch ? from + 64 : z->nsch;
		if (from >= z->nsch)
			break;
		for (size_t i = from; i < to; i++) {
			const struct school *s = &z->sch[i];
			if (!s->alive || !path_in(w->region_path, z->prof[s->profile].region_path))
				continue;
			w->n += school_scan(z, s, z->reach, join_emit, w);
		}
	}
	if (w->nbuf && w->batch)
		w->batch(w->arg, w->buf, w->nbuf);
	w->nbuf = 0;
	return NULL;
}

size_t zx_join_batch(struct zx *z, const char *region_path,
		     void (*batch)(void *arg, const struct zx_pair *p, size_t n), void *arg)
{
	int nt = z->cfg.threads > 1 ? z->cfg.threads : 1;
	if (nt > 64)
		nt = 64;
	if ((size_t)nt > z->nsch)
		nt = z->nsch ? (int)z->nsch : 1;
	struct joinwork *w = calloc((size_t)nt, sizeof *w);
	if (!w)
		return 0;
	pthread_t th[64];
	int started[64] = { 0 };
	_Atomic size_t next = 0;
	for (int t = 0; t < nt; t++) {
		w[t].z = z, w[t].region_path = region_path ? region_path : "", w[t].batch = batch, w[t].arg = arg;
		w[t].next = &next;
		if (t > 0 && pthread_create(&th[t], NULL, join_part, &w[t]) == 0)
			started[t] = 1;
	}
	join_part(&w[0]);
	size_t n = w[0].n;
	for (int t = 1; t < nt; t++) {
		if (started[t])
			pthread_join(th[t], NULL);
		else
			join_part(&w[t]);   /* no thread: do its part here */
		n += w[t].n;
	}
	free(w);
	return n;
}

struct one_by_one {
	void (*cb)(void *arg, const struct zx_pair *p);
	void *arg;
};

static void each_of_batch(void *arg, const struct zx_pair *p, size_t n)
{
	const struct one_by_one *o = arg;
	for (size_t i = 0; i < n; i++)
		o->cb(o->arg, &p[i]);
}

size_t zx_join(struct zx *z, const char *region_path, void (*cb)(void *arg, const struct zx_pair *p), void *arg)
{
	struct one_by_one o = { cb, arg };
	return zx_join_batch(z, region_path, cb ? each_of_batch : NULL, &o);
}

/*--- queries ----------------------------------------------------------------------------------*/

struct surr {
	double radius;
	struct emit e;
};

static size_t surr_visit(const struct zx *z, const struct school *s, const struct ventry *v, void *ctx)
{
	struct surr *q = ctx;
	int used;
	double thr[1] = { q->radius };
	double d = base_dist(s, v, thr, 1, &used);
	if (d > q->radius)
		return 0;
	struct zx_pair p;
	if (judge(z, s, v, &p) == ZX_CLEAR) {
		/* listed all the same, measured as "how near" */
		p.distance_m = d, p.method = used, p.fallback = 0, p.rule = NULL, p.limit_m = NAN;
	}
	if (q->e.cb)
		q->e.cb(q->e.arg, &p);
	return 1;
}

long zx_surroundings(struct zx *z, int64_t school_id, double radius_m,
		     void (*cb)(void *arg, const struct zx_pair *p), void *arg)
{
	const struct school *s = school_get(z, school_id);
	if (!s || !(radius_m > 0))
		return -1;
	struct surr q = { radius_m, { cb, arg } };
	return (long)school_scan(z, s, radius_m, surr_visit, &q);
}

size_t zx_nearby(struct zx *z, double lat, double lon, double radius_m,
		 void (*cb)(void *arg, int64_t school_id, double metres), void *arg)
{
	if (!geo_valid_latlon(lat, lon) || !(radius_m > 0))
		return 0;
	if (z->capstamp < z->nsch) {
		size_t old = z->capstamp;
		if (grow((void **)&z->stamp, &z->capstamp, z->nsch, sizeof *z->stamp))
			return 0;
		memset(z->stamp + old, 0, (z->capstamp - old) * sizeof *z->stamp);
	}
	int64_t y0, y1, x0, x1;
	cells_around(lat, lon, lat, lon, radius_m, &y0, &y1, &x0, &x1);
	if ((y1 - y0 + 1) * (x1 - x0 + 1) > 40000)
		return 0;   /* callers cap the radius; a query this wide is refused */
	z->qstamp++;
	size_t n = 0;
	for (int64_t y = y0; y <= y1; y++)
		for (int64_t x = x0; x <= x1; x++) {
			uint32_t *slot = map_find(&z->scells, cell_key(y, x));
			if (!slot)
				continue;
			const struct scell *c = &z->scell[*slot];
			for (uint32_t i = 0; i < c->n; i++) {
				uint32_t si = c->e[i];
				if (z->stamp[si] == z->qstamp)
					continue;
				z->stamp[si] = z->qstamp;
				const struct school *s = &z->sch[si];
				double d = s->area ? geo_dist_to_area(s->area, lat, lon) : geo_dist_fast(s->lat, s->lon, lat, lon);
				if (d <= radius_m) {
					if (cb)
						cb(arg, s->id, d);
					n++;
				}
			}
		}
	return n;
}

double zx_measure(struct zx *z, int64_t school_id, int64_t venue_id, int method, int *fallback)
{
	const struct school *s = school_get(z, school_id);
	const struct ventry *v = venue_find(z, venue_id, NULL);
	int used, fb = 0;
	if (!s || !v || method < 0 || method >= ZX_NMETHODS)
		return NAN;
	double d = measure(z, s, v, method, NULL, 0, &used, &fb);
	if (fallback)
		*fallback = fb;
	return d;
}

long zx_school_rules(struct zx *z, int64_t school_id, void (*cb)(void *arg, const struct zx_rule *r), void *arg)
{
	const struct school *s = school_get(z, school_id);
	if (!s)
		return -1;
	long n = 0;
	for (int c = 0; c < ZX_NCATEGORIES; c++) {
		const struct rlist *l = &z->prof[s->profile].cat[c];
		for (uint32_t i = 0; i < l->n; i++, n++)
			if (cb)
				cb(arg, z->resolved[l->off + i]);
	}
	return n;
}
