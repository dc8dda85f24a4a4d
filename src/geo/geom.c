/*
 * geom.c - distances on the WGS84 ellipsoid and campus polygons (see geom.h).
 *
 * Three layers:
 *   - distances: geo_dist_exact() is PROJ's geod_inverse(); geo_dist_fast()
 *     and the polygon distance use a local plane whose scale comes from the
 *     ellipsoid's radii of curvature at the mid-latitude (a "plane sailing"
 *     formula), whose error grows with the cube of the distance: about
 *     1e-5 m at 2 km, far inside the 1 mm the zone engine needs;
 *   - readers: GeoJSON through jansson, WKT through GEOS's reader; both land
 *     in one in-memory struct geo_area, which is then checked the same way
 *     (structure and ranges here, validity by GEOS, area by PROJ);
 *   - writers: GeoJSON coordinates and WKT, 7 decimals (1 cm).
 */
#include "geo/geom.h"

#include <geodesic.h>
#include <geos_c.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* WGS84 */
#define WGS84_A 6378137.0
#define WGS84_F (1 / 298.257223563)
#define WGS84_E2 (WGS84_F * (2 - WGS84_F))
#define DEG (M_PI / 180)

/* The ellipsoid for PROJ: set once, read-only afterwards (a constant, not
 * state). */
static struct geod_geodesic wgs84;
static pthread_once_t wgs84_once = PTHREAD_ONCE_INIT;

static void wgs84_init(void)
{
	geod_init(&wgs84, WGS84_A, WGS84_F);
}

static const struct geod_geodesic *ellipsoid(void)
{
	pthread_once(&wgs84_once, wgs84_init);
	return &wgs84;
}

/*--- distances ---*/

/* lon2 - lon1 in degrees, folded into [-180, 180]. */
static double dlon_deg(double lon1, double lon2)
{
	double d = lon2 - lon1;
	if (d > 180)
		d -= 360;
	else if (d < -180)
		d += 360;
	return d;
}

double geo_dist_exact(double lat1, double lon1, double lat2, double lon2)
{
	double s12 = 0;
	geod_inverse(ellipsoid(), lat1, lon1, lat2, lon2, &s12, NULL, NULL);
	return s12;
}

/*
 * One cosine per call: sin^2 comes from cos^2. The meridional radius M and
 * the prime-vertical radius N at the mid-latitude scale the two differences.
 */
double geo_dist_fast(double lat1, double lon1, double lat2, double lon2)
{
	double c = cos((lat1 + lat2) * (DEG / 2));
	double w2 = 1 - WGS84_E2 * (1 - c * c);
	double n = WGS84_A / sqrt(w2);
	double m = n * (1 - WGS84_E2) / w2;
	double dx = n * c * dlon_deg(lon1, lon2) * DEG;
	double dy = m * (lat2 - lat1) * DEG;
	return sqrt(dx * dx + dy * dy);
}

void geo_metres_per_degree(double lat, double *m_per_deg_lat, double *m_per_deg_lon)
{
	double c = cos(lat * DEG);
	double w2 = 1 - WGS84_E2 * (1 - c * c);
	double n = WGS84_A / sqrt(w2);
	if (m_per_deg_lat)
		*m_per_deg_lat = n * (1 - WGS84_E2) / w2 * DEG;
	if (m_per_deg_lon)
		*m_per_deg_lon = n * c * DEG;
}

/*
 * A local plane centred on a query point: each vertex is placed with the
 * scale factors of the mid-latitude between it and the centre, so its
 * distance from the centre is geo_dist_fast()'s. The factors are Taylor
 * series in the half latitude difference h around the centre's latitude,
 * so a vertex costs no trigonometry: N cos(phi) to second order (its
 * derivative is -M sin(phi)), M to first order (the next term is below
 * 1e-9 relative within 20 km).
 */
struct local {
	double lat0, lon0;
	double kx0, kx1, kx2; /* N cos(phi) and its first two derivatives, per radian */
	double ky0, ky1;      /* M and its derivative */
};

static void local_init(struct local *l, double lat, double lon)
{
	double phi = lat * DEG, s = sin(phi), c = cos(phi);
	double w2 = 1 - WGS84_E2 * s * s;
	double n = WGS84_A / sqrt(w2);
	double m = n * (1 - WGS84_E2) / w2;
	double dm = 3 * m * WGS84_E2 * s * c / w2;
	l->lat0 = lat;
	l->lon0 = lon;
	l->kx0 = n * c;
	l->kx1 = -m * s;
	l->kx2 = -(dm * s + m * c);
	l->ky0 = m;
	l->ky1 = dm;
}

static void local_xy(const struct local *l, struct geo_pt p, double *x, double *y)
{
	double dlat = (p.lat - l->lat0) * DEG, h = dlat / 2;
	*x = (l->kx0 + h * (l->kx1 + h * l->kx2 / 2)) * dlon_deg(l->lon0, p.lon) * DEG;
	*y = (l->ky0 + h * l->ky1) * dlat;
}

/* Squared distance from the origin to the segment (ax,ay)-(bx,by). */
static double seg_dist2(double ax, double ay, double bx, double by)
{
	double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
	double t = len2 > 0 ? -(ax * dx + ay * dy) / len2 : 0;
	if (t < 0)
		t = 0;
	else if (t > 1)
		t = 1;
	double x = ax + t * dx, y = ay + t * dy;
	return x * x + y * y;
}

/* 1 when the ray from (lat, lon) towards +lon crosses the ring an odd
 * number of times. geo_in_area() and geo_dist_to_area() share it, so a
 * point on an edge gets the same answer from both. */
static int ring_odd(const struct geo_ring *ring, double lat, double lon)
{
	int odd = 0;
	for (int i = 0, j = ring->n - 1; i < ring->n; j = i++) {
		struct geo_pt u = ring->pt[j], v = ring->pt[i];
		if ((u.lat > lat) != (v.lat > lat) && lon < u.lon + (lat - u.lat) * (v.lon - u.lon) / (v.lat - u.lat))
			odd ^= 1;
	}
	return odd;
}

static int poly_in(const struct geo_poly *poly, double lat, double lon)
{
	int odd = 0;
	for (int r = 0; r < poly->nrings; r++)
		odd ^= ring_odd(&poly->ring[r], lat, lon);
	return odd;
}

static int in_box(const struct geo_area *a, double lat, double lon)
{
	return lat >= a->min_lat && lat <= a->max_lat && lon >= a->min_lon && lon <= a->max_lon;
}

double geo_dist_to_area(const struct geo_area *a, double lat, double lon)
{
	if (!a || a->npolys <= 0)
		return INFINITY;
	int box = in_box(a, lat, lon);
	struct local l;
	local_init(&l, lat, lon);
	double best = INFINITY;
	for (int p = 0; p < a->npolys; p++) {
		const struct geo_poly *poly = &a->poly[p];
		if (box && poly_in(poly, lat, lon))
			return 0;
		for (int r = 0; r < poly->nrings; r++) {
			const struct geo_ring *ring = &poly->ring[r];
			if (ring->n < 1)
				continue;
			double px, py;
			local_xy(&l, ring->pt[ring->n - 1], &px, &py);
			for (int i = 0; i < ring->n; i++) {
				double cx, cy;
				local_xy(&l, ring->pt[i], &cx, &cy);
				double d2 = seg_dist2(px, py, cx, cy);
				if (d2 < best)
					best = d2;
				px = cx;
				py = cy;
			}
		}
	}
	return sqrt(best);
}

int geo_in_area(const struct geo_area *a, double lat, double lon)
{
	if (!a || !in_box(a, lat, lon))
		return 0;
	for (int p = 0; p < a->npolys; p++)
		if (poly_in(&a->poly[p], lat, lon))
			return 1;
	return 0;
}

/*--- building an area ---*/

/* Formats a reason into err, cut at a UTF-8 character boundary. Returns
 * NULL so that readers can `return fail(...)`. */
static void *fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if (n >= (int)errlen) {
		size_t k = errlen - 1;
		while (k > 0 && ((unsigned char)err[k] & 0xC0) == 0x80)
			k--;
		err[k] = '\0';
	}
	return NULL;
}

void geo_area_free(struct geo_area *a)
{
	if (!a)
		return;
	for (int p = 0; p < a->npolys; p++) {
		for (int r = 0; r < a->poly[p].nrings; r++)
			free(a->poly[p].ring[r].pt);
		free(a->poly[p].ring);
	}
	free(a->poly);
	free(a);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		abort();
	return p;
}

static struct geo_area *area_new(int npolys)
{
	struct geo_area *a = xcalloc(1, sizeof *a);
	a->npolys = npolys;
	a->poly = xcalloc((size_t)npolys, sizeof *a->poly);
	return a;
}

/* "外环" / "第 2 个内环", prefixed by "第 3 个多边形的" when there are several. */
static const char *ring_name(char *buf, size_t len, int npolys, int p, int r)
{
	char part[48] = "";
	if (npolys > 1)
		snprintf(part, sizeof part, "第 %d 个多边形的", p + 1);
	if (r == 0)
		snprintf(buf, len, "%s外环", part);
	else
		snprintf(buf, len, "%s第 %d 个内环", part, r);
	return buf;
}

/*
 * Checks what the readers filled (rings still closed: the last point
 * repeats the first): sizes, closure, ranges. Returns 0 or -1 with err.
 */
static int check_rings(const struct geo_area *a, char *err, size_t errlen)
{
	char where[96];
	int total = 0;
	if (a->npolys < 1)
		return fail(err, errlen, "边界中没有多边形"), -1;
	if (a->npolys > GEO_MAX_PARTS)
		return fail(err, errlen, "边界中的多边形过多（不能超过 %d 个）", GEO_MAX_PARTS), -1;
	for (int p = 0; p < a->npolys; p++) {
		if (a->poly[p].nrings < 1)
			return fail(err, errlen, "第 %d 个多边形没有外环", p + 1), -1;
		for (int r = 0; r < a->poly[p].nrings; r++) {
			const struct geo_ring *ring = &a->poly[p].ring[r];
			ring_name(where, sizeof where, a->npolys, p, r);
			if (ring->n < 4)
				return fail(err, errlen, "%s只有 %d 个点，每个环至少需要 4 个点（首尾两点相同）", where,
					    ring->n),
				       -1;
			total += ring->n;
			if (total > GEO_MAX_POINTS)
				return fail(err, errlen, "边界的点过多（不能超过 %d 个）", GEO_MAX_POINTS), -1;
			for (int i = 0; i < ring->n; i++) {
				struct geo_pt q = ring->pt[i];
				if (!isfinite(q.lat) || !isfinite(q.lon))
					return fail(err, errlen, "%s第 %d 个点的坐标不是有效数字", where, i + 1), -1;
				if (q.lat < -90 || q.lat > 90)
					return fail(err, errlen, "%s第 %d 个点的纬度 %g 超出范围（-90 到 90）", where, i + 1,
						    q.lat),
					       -1;
				if (q.lon < -180 || q.lon > 180)
					return fail(err, errlen, "%s第 %d 个点的经度 %g 超出范围（-180 到 180）", where, i + 1,
						    q.lon),
					       -1;
			}
			if (ring->pt[0].lat != ring->pt[ring->n - 1].lat || ring->pt[0].lon != ring->pt[ring->n - 1].lon)
				return fail(err, errlen, "多边形未闭合：%s的首点与末点不同", where), -1;
			int distinct = 1;
			for (int i = 1; i < ring->n - 1; i++)
				distinct += ring->pt[i].lat != ring->pt[i - 1].lat || ring->pt[i].lon != ring->pt[i - 1].lon;
			if (distinct < 3)
				return fail(err, errlen, "%s的不同点少于 3 个，围不成面", where), -1;
		}
	}
	return 0;
}

/* Bounding box and geodesic area; drops the closing points. */
static void finish(struct geo_area *a)
{
	a->min_lat = a->min_lon = INFINITY;
	a->max_lat = a->max_lon = -INFINITY;
	a->area_m2 = 0;
	for (int p = 0; p < a->npolys; p++) {
		for (int r = 0; r < a->poly[p].nrings; r++) {
			struct geo_ring *ring = &a->poly[p].ring[r];
			if (ring->n > 1 && ring->pt[0].lat == ring->pt[ring->n - 1].lat &&
			    ring->pt[0].lon == ring->pt[ring->n - 1].lon)
				ring->n--;
			struct geod_polygon gp;
			geod_polygon_init(&gp, 0);
			for (int i = 0; i < ring->n; i++) {
				struct geo_pt q = ring->pt[i];
				geod_polygon_addpoint(ellipsoid(), &gp, q.lat, q.lon);
				if (q.lat < a->min_lat)
					a->min_lat = q.lat;
				if (q.lat > a->max_lat)
					a->max_lat = q.lat;
				if (q.lon < a->min_lon)
					a->min_lon = q.lon;
				if (q.lon > a->max_lon)
					a->max_lon = q.lon;
			}
			double area = 0;
			geod_polygon_compute(ellipsoid(), &gp, 0, 1, &area, NULL);
			a->area_m2 += r == 0 ? fabs(area) : -fabs(area);
		}
	}
}

/*--- validity (GEOS) ---*/

struct geos_msg {
	char text[256];
};

static void geos_on_error(const char *message, void *userdata)
{
	struct geos_msg *m = userdata;
	if (!m->text[0])
		snprintf(m->text, sizeof m->text, "%s", message ? message : "");
}

static GEOSContextHandle_t geos_open(struct geos_msg *m)
{
	m->text[0] = '\0';
	GEOSContextHandle_t h = GEOS_init_r();
	if (h) {
		GEOSContext_setErrorMessageHandler_r(h, geos_on_error, m);
		GEOSContext_setNoticeMessageHandler_r(h, NULL, NULL);
	}
	return h;
}

/* GEOS text may quote what the user typed: keep it printable ASCII so the
 * reason stays valid UTF-8 and short. */
static const char *ascii(const char *s, char *out, size_t outlen)
{
	size_t o = 0;
	for (; s && *s && o + 1 < outlen; s++)
		out[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	out[o] = '\0';
	return out;
}

static GEOSGeometry *ring_geos(GEOSContextHandle_t h, const struct geo_ring *ring)
{
	GEOSCoordSequence *s = GEOSCoordSeq_create_r(h, (unsigned)ring->n, 2);
	if (!s)
		return NULL;
	for (int i = 0; i < ring->n; i++)
		GEOSCoordSeq_setXY_r(h, s, (unsigned)i, ring->pt[i].lon, ring->pt[i].lat);
	return GEOSGeom_createLinearRing_r(h, s); /* takes s, also on failure */
}

static GEOSGeometry *poly_geos(GEOSContextHandle_t h, const struct geo_poly *poly)
{
	GEOSGeometry *shell = ring_geos(h, &poly->ring[0]);
	if (!shell)
		return NULL;
	int nholes = poly->nrings - 1;
	GEOSGeometry **holes = xcalloc((size_t)nholes, sizeof *holes);
	for (int r = 0; r < nholes; r++) {
		if (!(holes[r] = ring_geos(h, &poly->ring[r + 1]))) {
			for (int k = 0; k < r; k++)
				GEOSGeom_destroy_r(h, holes[k]);
			GEOSGeom_destroy_r(h, shell);
			free(holes);
			return NULL;
		}
	}
	GEOSGeometry *g = GEOSGeom_createPolygon_r(h, shell, holes, (unsigned)nholes);
	free(holes);
	return g;
}

/* GEOS's reasons (TopologyValidationError) in the users' words. */
static const char *reason_zh(const char *reason, int multi)
{
	static const struct {
		const char *en, *zh;
	} map[] = {
		{ "Ring Self-intersection", "边界环自相交（环在某点与自身接触）" },
		{ "Self-intersection", "边界自相交" },
		{ "Nested shells", "多个多边形相互包含" },
		{ "Hole lies outside shell", "内环（洞）不在外环之内" },
		{ "Holes are nested", "内环（洞）相互嵌套" },
		{ "Interior is disconnected", "内环把多边形分隔成不相连的部分" },
		{ "Duplicate Rings", "存在重复的环" },
		{ "Too few distinct points in geometry component", "环的不同点太少（至少需要 3 个不同的点）" },
		{ "Too few points in geometry component", "环的不同点太少（至少需要 3 个不同的点）" },
		{ "Invalid Coordinate", "坐标无效" },
		{ "Ring is not closed", "多边形未闭合" },
	};
	if (multi && reason && strncmp(reason, "Self-intersection", 17) == 0)
		return "多个多边形相互重叠或共用边线";
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (reason && strncmp(reason, map[i].en, strlen(map[i].en)) == 0)
			return map[i].zh;
	return NULL;
}

/* Returns 1 valid, 0 invalid (err filled), -1 GEOS failed (err filled). */
static int geos_valid(GEOSContextHandle_t h, const GEOSGeometry *g, int multi, const char *prefix, char *err,
		      size_t errlen)
{
	char *reason = NULL;
	GEOSGeometry *loc = NULL;
	char v = GEOSisValidDetail_r(h, g, 0, &reason, &loc);
	if (v == 1)
		return 1;
	if (v != 0) {
		fail(err, errlen, "无法检查边界的有效性");
		return -1;
	}
	double x = NAN, y = NAN;
	if (loc && GEOSGeomTypeId_r(h, loc) == GEOS_POINT) {
		GEOSGeomGetX_r(h, loc, &x);
		GEOSGeomGetY_r(h, loc, &y);
	}
	char tmp[128], at[96] = "";
	const char *zh = reason_zh(reason, multi);
	if (isfinite(x) && isfinite(y))
		snprintf(at, sizeof at, "，位置约在纬度 %.7f、经度 %.7f", y, x);
	if (zh)
		fail(err, errlen, "%s%s%s", prefix, zh, at);
	else
		fail(err, errlen, "%s边界无效（%s）%s", prefix, ascii(reason, tmp, sizeof tmp), at);
	if (reason)
		GEOSFree_r(h, reason);
	if (loc)
		GEOSGeom_destroy_r(h, loc);
	return 0;
}

/* Each part on its own (so the reason can name the part), then the parts
 * together (overlaps between parts). Returns 0 or -1 with err. */
static int check_validity(const struct geo_area *a, char *err, size_t errlen)
{
	struct geos_msg m;
	GEOSContextHandle_t h = geos_open(&m);
	if (!h)
		return fail(err, errlen, "无法检查边界的有效性"), -1;
	int rc = 0, n = a->npolys;
	GEOSGeometry **parts = xcalloc((size_t)n, sizeof *parts);
	char prefix[48] = "";
	for (int p = 0; p < n && rc == 0; p++) {
		if (!(parts[p] = poly_geos(h, &a->poly[p]))) {
			char tmp[160];
			fail(err, errlen, "边界无效（%s）", ascii(m.text, tmp, sizeof tmp));
			rc = -1;
			break;
		}
		if (n > 1)
			snprintf(prefix, sizeof prefix, "第 %d 个多边形：", p + 1);
		if (geos_valid(h, parts[p], 0, prefix, err, errlen) != 1)
			rc = -1;
	}
	if (rc == 0 && n > 1) {
		GEOSGeometry *mp = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, (unsigned)n);
		if (!mp) {
			fail(err, errlen, "无法检查边界的有效性");
			rc = -1;
		} else {
			memset(parts, 0, (size_t)n * sizeof *parts); /* now owned by mp */
			if (geos_valid(h, mp, 1, "", err, errlen) != 1)
				rc = -1;
			GEOSGeom_destroy_r(h, mp);
		}
	}
	for (int p = 0; p < n; p++)
		if (parts[p])
			GEOSGeom_destroy_r(h, parts[p]);
	free(parts);
	GEOS_finish_r(h);
	return rc;
}

/* Every check and the derived values; frees a and returns NULL on error. */
static struct geo_area *complete(struct geo_area *a, int validate, char *err, size_t errlen)
{
	if (check_rings(a, err, errlen) || (validate && check_validity(a, err, errlen))) {
		geo_area_free(a);
		return NULL;
	}
	finish(a);
	if (validate && a->area_m2 > GEO_MAX_AREA_M2) {
		fail(err, errlen, "面积过大（约 %.1f 平方公里，超过 20 平方公里），请检查坐标", a->area_m2 / 1e6);
		geo_area_free(a);
		return NULL;
	}
	if (validate && a->area_m2 < GEO_MIN_AREA_M2) {
		fail(err, errlen, "面积过小（约 %.1f 平方米，不足 20 平方米），请检查坐标", a->area_m2);
		geo_area_free(a);
		return NULL;
	}
	return a;
}

/*--- GeoJSON ---*/

/* Reads rings [[lon,lat],...] of polygon p into a. Returns 0 or -1. */
static int json_poly(struct geo_area *a, int p, const json_t *rings, char *err, size_t errlen)
{
	char where[96];
	struct geo_poly *poly = &a->poly[p];
	if (!json_is_array(rings))
		return fail(err, errlen, "边界格式不正确：第 %d 个多边形须为环的数组", p + 1), -1;
	size_t nr = json_array_size(rings);
	if (nr > GEO_MAX_POINTS)
		return fail(err, errlen, "边界的点过多（不能超过 %d 个）", GEO_MAX_POINTS), -1;
	poly->ring = xcalloc(nr, sizeof *poly->ring);
	poly->nrings = (int)nr;
	for (size_t r = 0; r < nr; r++) {
		const json_t *pts = json_array_get(rings, r);
		ring_name(where, sizeof where, a->npolys, p, (int)r);
		if (!json_is_array(pts))
			return fail(err, errlen, "边界格式不正确：%s须为点的数组", where), -1;
		size_t n = json_array_size(pts);
		if (n > GEO_MAX_POINTS)
			return fail(err, errlen, "边界的点过多（不能超过 %d 个）", GEO_MAX_POINTS), -1;
		struct geo_ring *ring = &poly->ring[r];
		ring->pt = xcalloc(n, sizeof *ring->pt);
		ring->n = (int)n;
		for (size_t i = 0; i < n; i++) {
			const json_t *pos = json_array_get(pts, i);
			const json_t *x = json_array_get(pos, 0), *y = json_array_get(pos, 1);
			if (!json_is_array(pos) || json_array_size(pos) < 2 || json_array_size(pos) > 3 ||
			    !json_is_number(x) || !json_is_number(y) ||
			    (json_array_size(pos) == 3 && !json_is_number(json_array_get(pos, 2))))
				return fail(err, errlen, "边界格式不正确：%s第 %zu 个点须为 [经度, 纬度] 数字对", where,
					    i + 1),
				       -1;
			ring->pt[i].lon = json_number_value(x);
			ring->pt[i].lat = json_number_value(y);
		}
	}
	return 0;
}

static struct geo_area *json_area(const json_t *coords, int multi, int validate, char *err, size_t errlen)
{
	if (!json_is_array(coords))
		return fail(err, errlen, "边界格式不正确：coordinates 须为数组");
	size_t np = multi ? json_array_size(coords) : 1;
	if (np > GEO_MAX_PARTS)
		return fail(err, errlen, "边界中的多边形过多（不能超过 %d 个）", GEO_MAX_PARTS);
	struct geo_area *a = area_new((int)np);
	for (size_t p = 0; p < np; p++)
		if (json_poly(a, (int)p, multi ? json_array_get(coords, p) : coords, err, errlen)) {
			geo_area_free(a);
			return NULL;
		}
	return complete(a, validate, err, errlen);
}

struct geo_area *geo_area_from_geojson(const json_t *j, char *err, size_t errlen)
{
	if (json_is_array(j))
		return json_area(j, 1, 1, err, errlen);
	if (!json_is_object(j))
		return fail(err, errlen, "边界须为 GeoJSON 的 Polygon 或 MultiPolygon");
	const char *type = json_string_value(json_object_get(j, "type"));
	if (type && strcmp(type, "Feature") == 0) {
		j = json_object_get(j, "geometry");
		if (!json_is_object(j))
			return fail(err, errlen, "GeoJSON 要素（Feature）中没有几何图形（geometry）");
		type = json_string_value(json_object_get(j, "type"));
	}
	if (type && strcmp(type, "Polygon") == 0)
		return json_area(json_object_get(j, "coordinates"), 0, 1, err, errlen);
	if (type && strcmp(type, "MultiPolygon") == 0)
		return json_area(json_object_get(j, "coordinates"), 1, 1, err, errlen);
	return fail(err, errlen, "边界的类型须为 Polygon 或 MultiPolygon");
}

struct geo_area *geo_area_from_stored(const json_t *coords, char *err, size_t errlen)
{
	return json_area(coords, 1, 0, err, errlen);
}

/*--- WKT ---*/

/* Copies a GEOS ring's coordinates into ring. Returns 0 or -1. */
static int geos_ring(GEOSContextHandle_t h, const GEOSGeometry *g, struct geo_ring *ring, int *total)
{
	const GEOSCoordSequence *s = g ? GEOSGeom_getCoordSeq_r(h, g) : NULL;
	unsigned n = 0;
	if (!s || !GEOSCoordSeq_getSize_r(h, s, &n))
		return -1;
	*total += (int)n;
	if (*total > GEO_MAX_POINTS)
		return -2;
	ring->pt = xcalloc(n, sizeof *ring->pt);
	ring->n = (int)n;
	for (unsigned i = 0; i < n; i++)
		if (!GEOSCoordSeq_getXY_r(h, s, i, &ring->pt[i].lon, &ring->pt[i].lat))
			return -1;
	return 0;
}

/* GEOS's reader stops after the first geometry and ignores what follows
 * ("POLYGON((...)) POLYGON((...))" would lose the second): 1 when
 * something other than white space follows the outermost parentheses. */
static int trailing_text(const char *wkt)
{
	int depth = 0, opened = 0;
	for (const char *p = wkt; *p; p++) {
		if (opened && depth == 0 && !strchr(" \t\r\n", *p))
			return 1;
		if (*p == '(')
			depth++, opened = 1;
		else if (*p == ')')
			depth--;
	}
	return 0;
}

struct geo_area *geo_area_from_wkt(const char *wkt, char *err, size_t errlen)
{
	if (!wkt || !*wkt)
		return fail(err, errlen, "边界为空");
	if (trailing_text(wkt))
		return fail(err, errlen, "WKT 格式不正确（最后一个右括号之后还有内容）");
	struct geos_msg m;
	GEOSContextHandle_t h = geos_open(&m);
	if (!h)
		return fail(err, errlen, "无法读取 WKT");
	GEOSWKTReader *rd = GEOSWKTReader_create_r(h);
	GEOSGeometry *g = rd ? GEOSWKTReader_read_r(h, rd, wkt) : NULL;
	struct geo_area *a = NULL;
	char tmp[160];
	if (!g) {
		if (strcasestr(wkt, "nan") || strcasestr(wkt, "inf"))
			fail(err, errlen, "WKT 中有不是有效数字的坐标（NaN 或 Inf）");
		else if (strstr(m.text, "closed linestring"))
			fail(err, errlen, "多边形未闭合：环的首点与末点须相同");
		else if (strstr(m.text, "Invalid number of points in LinearRing"))
			fail(err, errlen, "每个环至少需要 4 个点（首尾两点相同）");
		else
			fail(err, errlen, "WKT 格式不正确（%s）", ascii(m.text, tmp, sizeof tmp));
		goto out;
	}
	int type = GEOSGeomTypeId_r(h, g);
	if (type != GEOS_POLYGON && type != GEOS_MULTIPOLYGON) {
		fail(err, errlen, "WKT 须为 POLYGON 或 MULTIPOLYGON");
		goto out;
	}
	if (GEOSisEmpty_r(h, g)) {
		fail(err, errlen, "边界为空（EMPTY）");
		goto out;
	}
	int np = type == GEOS_POLYGON ? 1 : GEOSGetNumGeometries_r(h, g);
	if (np < 1 || np > GEO_MAX_PARTS) {
		fail(err, errlen, np < 1 ? "边界中没有多边形" : "边界中的多边形过多（不能超过 %d 个）", GEO_MAX_PARTS);
		goto out;
	}
	a = area_new(np);
	int total = 0;
	for (int p = 0; p < np; p++) {
		const GEOSGeometry *pg = type == GEOS_POLYGON ? g : GEOSGetGeometryN_r(h, g, p);
		int nh = pg && !GEOSisEmpty_r(h, pg) ? GEOSGetNumInteriorRings_r(h, pg) : -1;
		if (nh < 0 || nh >= GEO_MAX_POINTS) {
			fail(err, errlen, nh < 0 ? "第 %d 个多边形为空" : "边界的点过多", p + 1);
			goto bad;
		}
		a->poly[p].ring = xcalloc((size_t)nh + 1, sizeof *a->poly[p].ring);
		a->poly[p].nrings = nh + 1;
		for (int r = 0; r <= nh; r++) {
			const GEOSGeometry *rg = r == 0 ? GEOSGetExteriorRing_r(h, pg) : GEOSGetInteriorRingN_r(h, pg, r - 1);
			int rc = geos_ring(h, rg, &a->poly[p].ring[r], &total);
			if (rc == -2) {
				fail(err, errlen, "边界的点过多（不能超过 %d 个）", GEO_MAX_POINTS);
				goto bad;
			}
			if (rc) {
				fail(err, errlen, "无法读取 WKT 中的坐标");
				goto bad;
			}
		}
	}
	GEOSGeom_destroy_r(h, g);
	GEOSWKTReader_destroy_r(h, rd);
	GEOS_finish_r(h);
	return complete(a, 1, err, errlen);
bad:
	geo_area_free(a);
	a = NULL;
out:
	if (g)
		GEOSGeom_destroy_r(h, g);
	if (rd)
		GEOSWKTReader_destroy_r(h, rd);
	GEOS_finish_r(h);
	return a;
}

/*--- writers ---*/

static double round7(double d)
{
	double r = round(d * 1e7) / 1e7;
	return r == 0 ? 0 : r; /* no -0 */
}

json_t *geo_area_to_coords(const struct geo_area *a)
{
	json_t *mp = json_array();
	for (int p = 0; a && p < a->npolys; p++) {
		json_t *poly = json_array();
		for (int r = 0; r < a->poly[p].nrings; r++) {
			const struct geo_ring *ring = &a->poly[p].ring[r];
			json_t *pts = json_array();
			for (int i = 0; i <= ring->n && ring->n > 0; i++) {
				struct geo_pt q = ring->pt[i % ring->n];
				json_array_append_new(pts, json_pack("[f,f]", round7(q.lon), round7(q.lat)));
			}
			json_array_append_new(poly, pts);
		}
		json_array_append_new(mp, poly);
	}
	return mp;
}

/* A coordinate with at most 7 decimals and no trailing zeros. */
static void put_coord(struct buf *b, double d)
{
	char s[48];
	snprintf(s, sizeof s, "%.7f", round7(d));
	char *e = s + strlen(s) - 1;
	while (*e == '0')
		*e-- = '\0';
	if (*e == '.')
		*e = '\0';
	buf_puts(b, s);
}

char *geo_area_to_wkt(const struct geo_area *a)
{
	struct buf b = BUF_INIT;
	int multi = a->npolys > 1;
	buf_puts(&b, multi ? "MULTIPOLYGON (" : "POLYGON ");
	for (int p = 0; p < a->npolys; p++) {
		buf_puts(&b, p ? ", (" : "(");
		for (int r = 0; r < a->poly[p].nrings; r++) {
			const struct geo_ring *ring = &a->poly[p].ring[r];
			buf_puts(&b, r ? ", (" : "(");
			for (int i = 0; i <= ring->n && ring->n > 0; i++) {
				struct geo_pt q = ring->pt[i % ring->n];
				if (i)
					buf_puts(&b, ", ");
				put_coord(&b, q.lon);
				buf_putc(&b, ' ');
				put_coord(&b, q.lat);
			}
			buf_putc(&b, ')');
		}
		buf_putc(&b, ')');
	}
	if (multi)
		buf_putc(&b, ')');
	size_t n;
	return buf_detach(&b, &n);
}

void geo_area_center(const struct geo_area *a, double *lat, double *lon)
{
	/* the area-weighted centroid of the largest part's outer ring, in
	 * degrees (a plane is fine at campus size) */
	double best = -1, clat = NAN, clon = NAN;
	for (int p = 0; a && p < a->npolys; p++) {
		const struct geo_ring *ring = &a->poly[p].ring[0];
		if (ring->n < 1)
			continue;
		double x0 = ring->pt[0].lon, y0 = ring->pt[0].lat, s = 0, sx = 0, sy = 0, mx = 0, my = 0;
		for (int i = 0; i < ring->n; i++) {
			struct geo_pt u = ring->pt[i], v = ring->pt[(i + 1) % ring->n];
			double ux = u.lon - x0, uy = u.lat - y0, vx = v.lon - x0, vy = v.lat - y0;
			double c = ux * vy - vx * uy;
			s += c;
			sx += (ux + vx) * c;
			sy += (uy + vy) * c;
			mx += ux;
			my += uy;
		}
		double size = fabs(s);
		if (size <= best)
			continue;
		best = size;
		if (s != 0) {
			clon = x0 + sx / (3 * s);
			clat = y0 + sy / (3 * s);
		} else {
			clon = x0 + mx / ring->n;
			clat = y0 + my / ring->n;
		}
	}
	if (lat)
		*lat = clat;
	if (lon)
		*lon = clon;
}
