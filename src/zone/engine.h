/*
 * engine.h - the zone engine: an in-memory spatial index over schools and
 * venues, the layered rules, and the verdict for every (school, venue)
 * pair within reach. No database here: zone_store.c loads it and writes
 * the findings; `xiaoan zone scan` and bench/zone drive it from files.
 *
 * The index is a hash grid of cells about 250 m square; a school lives in
 * every cell its campus (or its point) touches, widened by the reach (the
 * largest rule distance or the surroundings radius, plus the margin). A
 * venue lives in the one cell of its position. A check looks at the cells
 * around one object; a full join walks every school's cells.
 *
 * Verdicts (docs/domain.md has the whole table):
 *  - the rules that apply to a school for a category are the enabled,
 *    effective rows covering its stage whose jurisdiction contains its
 *    region, at the most specific jurisdiction level present; at that
 *    level a row with a distance beats rows without one;
 *  - a row without a distance: a venue within the surroundings radius gets
 *    the row's effect, but never 禁止 (at most 需审查);
 *  - a row with distance D: the distance d by the row's method (falling
 *    back to point-to-point when data is missing, capping the verdict at
 *    需审查); d <= D - margin: the effect; |d - D| <= margin: 需审查 (or the
 *    effect when it is milder); d > D + margin: cleared;
 *  - walking: the straight line between entrances is a lower bound: beyond
 *    D + margin clears; otherwise 需审查 until a measured walking distance
 *    decides as above;
 *  - a row that may not forbid (confidence below V and not confirmed by an
 *    administrator) yields at most 需审查.
 *  Among several rows at the chosen level, the most severe verdict wins.
 *
 * Not thread-safe for writers: the server serialises puts and checks
 * behind its own lock (zone.c); zx_join may use several threads itself.
 */
#ifndef XIAOAN_ZONE_ENGINE_H
#define XIAOAN_ZONE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "geo/geom.h"

enum zx_method {
	ZX_BOUNDARY = 0,  /* boundary_straight: from any point of the campus boundary */
	ZX_ENTRANCE,      /* entrance_straight: nearest pair of entrances */
	ZX_GATE,          /* gate_radius: from the pupils' gate */
	ZX_WALKING,       /* walking: measured by an officer; straight line between entrances bounds it */
	ZX_POINT,         /* the fallback: school point to venue point */
	ZX_NMETHODS
};

enum zx_verdict {
	ZX_CLEAR = 0,     /* no finding */
	ZX_WATCH = 1,     /* 重点关注 */
	ZX_REVIEW = 2,    /* 需审查 */
	ZX_FORBID = 3,    /* 禁止 */
};

#define ZX_NCATEGORIES 19   /* the entries of zx_category_codes */
#define ZX_MAX_STAGES 16

/* The venue categories and school stages the engine knows, by index. */
extern const char *const zx_category_codes[];   /* "internet_cafe", ..., NULL */
extern const char *const zx_category_names[];   /* "互联网上网服务营业场所", ..., NULL */
extern const char *const zx_stage_names[];      /* "幼儿园", "小学", ..., NULL */
extern const char *const zx_method_codes[];     /* "boundary_straight", ..., "point" */
extern const char *const zx_verdict_names[];    /* "", "重点关注", "需审查", "禁止" */
int zx_category_index(const char *code_or_name); /* -1 when unknown */
int zx_stage_index(const char *name);            /* -1 when unknown */
int zx_method_index(const char *code);           /* -1 when unknown (ZX_POINT is not a rule method) */
int zx_verdict_index(const char *name);          /* -1 when unknown */

struct zx_rule {
	int64_t id;
	int version;
	char code[32];
	char region_path[128];  /* "" = national; else the region's path "/340000/340800/" */
	int category;
	uint32_t stages;        /* bit per zx_stage_names index */
	double distance_m;      /* NAN = none */
	int method;             /* enum zx_method, not ZX_POINT */
	int effect;             /* ZX_WATCH, ZX_REVIEW or ZX_FORBID */
	int may_forbid;         /* confidence V, or confirmed by an administrator */
};

struct zx_config {
	double radius_m;        /* the surroundings radius rows without a number use (200) */
	double margin_m;        /* a distance this close to a limit is 需审查 (5) */
	int threads;            /* for zx_join; 0 = one */
};

struct zx_school_in {
	int64_t id;
	double lat, lon;
	int stage;                    /* zx_stage_names index */
	const char *region_path;      /* copied */
	const struct geo_area *area;  /* may be NULL; copied */
	int ngates;                   /* entrances, pupils' gates first */
	const struct geo_pt *gates;   /* copied */
	int npupil_gates;             /* how many of the first gates pupils use */
};

struct zx_venue_in {
	int64_t id;
	double lat, lon;
	int category;
	int active;                   /* 营业 (status other than 停业/取缔/注销) */
	int nent;
	const struct geo_pt *ent;     /* copied */
};

/* One judged pair. */
struct zx_pair {
	int64_t school_id, venue_id;
	int category;
	double distance_m;            /* by the method used */
	int method;                   /* the method used (ZX_POINT when it fell back) */
	int fallback;                 /* 1 when the rule's method lacked data */
	const struct zx_rule *rule;   /* the deciding rule (NULL only for ZX_CLEAR) */
	int verdict;
	double limit_m;               /* the rule's distance, NAN when none */
};

struct zx;

struct zx *zx_new(const struct zx_config *cfg);
void zx_free(struct zx *z);

/* Replaces the rule set (copied); every school's applicable rules are
 * resolved again. Returns 0 or -1 (out of memory). */
int zx_set_rules(struct zx *z, const struct zx_rule *rules, size_t n);

/* Inserts or replaces by id. Return 0 or -1 (out of memory, bad input). */
int zx_school_put(struct zx *z, const struct zx_school_in *s);
int zx_school_del(struct zx *z, int64_t id);
int zx_venue_put(struct zx *z, const struct zx_venue_in *v);
int zx_venue_del(struct zx *z, int64_t id);
/* Presizes for n schools and m venues (optional; faster bulk loads). */
void zx_reserve(struct zx *z, size_t n, size_t m);
/* Gives back most of the slack the cell arrays grew with during a bulk
 * load (an eighth stays for venues moving in). */
void zx_shrink(struct zx *z);
size_t zx_nschools(const struct zx *z);
size_t zx_nvenues(const struct zx *z);

/* A measured walking distance for a pair (NAN clears it); it decides
 * walking rules for that pair. */
int zx_set_walking(struct zx *z, int64_t school_id, int64_t venue_id, double metres);

/* The verdicts of one venue against every school in reach, or of one
 * school against every venue in reach: cb is called for each pair whose
 * verdict is not ZX_CLEAR. Returns the number of such pairs. */
size_t zx_venue_check(struct zx *z, int64_t venue_id, void (*cb)(void *arg, const struct zx_pair *p), void *arg);
size_t zx_school_check(struct zx *z, int64_t school_id, void (*cb)(void *arg, const struct zx_pair *p), void *arg);

/* Every pair not ZX_CLEAR, for schools whose region path starts with
 * region_path ("" = all). cb may be called from several threads at once
 * when cfg.threads > 1 (never concurrently for one school). Returns the
 * number of pairs. */
size_t zx_join(struct zx *z, const char *region_path, void (*cb)(void *arg, const struct zx_pair *p), void *arg);
/* The same, the pairs handed over in batches of up to 512 per call (one
 * lock per batch instead of one per pair in a collecting callback). */
size_t zx_join_batch(struct zx *z, const char *region_path,
		     void (*batch)(void *arg, const struct zx_pair *p, size_t n), void *arg);

/* Venues within radius_m of a school (campus boundary when it has one,
 * else its point), judged; cb for each, verdict ZX_CLEAR included, in no
 * particular order. Returns the count, or -1 when the school is unknown. */
long zx_surroundings(struct zx *z, int64_t school_id, double radius_m,
		     void (*cb)(void *arg, const struct zx_pair *p), void *arg);

/* Schools within radius_m of a point (boundary distance when known):
 * cb(arg, school_id, metres). Returns the count. */
size_t zx_nearby(struct zx *z, double lat, double lon, double radius_m,
		 void (*cb)(void *arg, int64_t school_id, double metres), void *arg);

/* The rules that apply to a school, category by category (the chosen
 * level's rows): cb(arg, rule) for each. Returns the count, -1 when the
 * school is unknown. */
long zx_school_rules(struct zx *z, int64_t school_id, void (*cb)(void *arg, const struct zx_rule *r), void *arg);

/* The distance by one method between a school and a venue (for tests and
 * the surroundings list); *fallback tells when the method lacked data.
 * NAN when either is unknown. */
double zx_measure(struct zx *z, int64_t school_id, int64_t venue_id, int method, int *fallback);

#endif
