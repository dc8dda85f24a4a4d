/*
 * geom.h - distances on the WGS84 ellipsoid and campus polygons.
 *
 * Exact distances come from PROJ's geodesic routines (C. F. F. Karney's
 * algorithms, geodesic.h). The zone engine's inner loop uses
 * geo_dist_fast(), a local flat-earth formula with the ellipsoid's radii of
 * curvature taken at the mid-latitude, within 1 mm of the exact value up to
 * 2 km (tests/unit/test_geom.c checks both against a reference set made
 * with GeographicLib's GeodSolve).
 *
 * Polygons: a campus is a multipolygon (split campuses have several parts),
 * each part an outer ring and zero or more holes, stored in WGS84 as the
 * coordinates of a GeoJSON MultiPolygon ([[[[lon,lat],...]]], rings closed
 * in the GeoJSON, open in memory). They are read from GeoJSON (jansson) or
 * WKT (GEOS's reader), and validated with GEOS (closed rings, no
 * self-intersection, a plausible area) before they are stored.
 *
 * Everything takes (lat, lon) in decimal degrees in that order. Nothing
 * here keeps global state; everything is thread-safe.
 */
#ifndef XIAOAN_GEO_GEOM_H
#define XIAOAN_GEO_GEOM_H

#include <jansson.h>
#include <stddef.h>

/* Geodesic distance in metres on WGS84 (PROJ geod_inverse). */
double geo_dist_exact(double lat1, double lon1, double lat2, double lon2);

/* Fast distance in metres, within 1 mm of geo_dist_exact() up to 2 km
 * and within 0.1 % up to 20 km; for the zone engine's candidate checks. */
double geo_dist_fast(double lat1, double lon1, double lat2, double lon2);

/* Metres per degree of latitude and of longitude at latitude lat. */
void geo_metres_per_degree(double lat, double *m_per_deg_lat, double *m_per_deg_lon);

struct geo_pt {
	double lat, lon;
};

struct geo_ring {
	int n;              /* points, the closing point not repeated */
	struct geo_pt *pt;
};

struct geo_poly {
	int nrings;         /* ring 0 is the outer ring, the rest are holes */
	struct geo_ring *ring;
};

struct geo_area {
	int npolys;
	struct geo_poly *poly;
	/* bounding box, filled by the readers */
	double min_lat, min_lon, max_lat, max_lon;
	double area_m2;     /* geodesic area (PROJ geod_polygonarea), holes subtracted */
};

/* The shortest distance in metres from (lat, lon) to the area: 0 inside
 * (holes count as outside), else the distance to the nearest edge, within
 * 1 cm of the geodesic value for points up to 2 km away. */
double geo_dist_to_area(const struct geo_area *a, double lat, double lon);

/* 1 when (lat, lon) lies inside the area (not in a hole), else 0. */
int geo_in_area(const struct geo_area *a, double lat, double lon);

/* Readers. Each returns a new area (free with geo_area_free) or NULL with
 * a one-line reason in Chinese in err (e.g. "边界自相交", "多边形未闭合",
 * "面积过大（超过 20 平方公里）"). Accepted: a GeoJSON geometry of type
 * Polygon or MultiPolygon, a Feature holding one, or the bare coordinates
 * array of a MultiPolygon ([[[[lon,lat],...]]]); WKT POLYGON or
 * MULTIPOLYGON. Every area is validated: rings of at least 4 positions,
 * closed (first == last), coordinates in range, no self-intersection or
 * overlapping parts (GEOS isValid), area between 20 m^2 and 20 km^2. */
struct geo_area *geo_area_from_geojson(const json_t *j, char *err, size_t errlen);
struct geo_area *geo_area_from_wkt(const char *wkt, char *err, size_t errlen);

/* Limits the readers enforce. GEO_MAX_POINTS keeps the WKT of an area
 * (about 24 characters a point) inside one spreadsheet cell (32 767). */
#define GEO_MAX_POINTS 1000
#define GEO_MAX_PARTS 50
#define GEO_MIN_AREA_M2 20.0
#define GEO_MAX_AREA_M2 20e6

/* Reads coordinates stored by geo_area_to_coords() (which were validated
 * before they were stored): the structure and ranges are checked, GEOS
 * validity and the area limits are not. For loading from the database. */
struct geo_area *geo_area_from_stored(const json_t *coords, char *err, size_t errlen);

/* The coordinates array of a GeoJSON MultiPolygon, rings closed, 7
 * decimals (new reference). */
json_t *geo_area_to_coords(const struct geo_area *a);

/* WKT: POLYGON for one part, else MULTIPOLYGON; lon lat, 7 decimals
 * without trailing zeros. Returns a malloc'd string. */
char *geo_area_to_wkt(const struct geo_area *a);

/* A centroid good enough for a label or a fallback point. */
void geo_area_center(const struct geo_area *a, double *lat, double *lon);

void geo_area_free(struct geo_area *a);

#endif
