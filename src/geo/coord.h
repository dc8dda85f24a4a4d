/*
 * coord.h - coordinate reference systems used by Chinese maps, and the
 * conversions between them.
 *
 * We store WGS84 (what GPS receivers report). Maps served in China draw in
 * GCJ-02 (国测局坐标, "火星坐标": 高德 AMap, 腾讯 Tencent, Apple/Google inside
 * China) or BD-09 (百度坐标: Baidu), so every coordinate a user picks on a
 * map is converted here before it is stored, and converted back before it is
 * drawn. GCJ-02 only shifts points inside a rough bounding box around China;
 * outside it every conversion to and from GCJ-02 is the identity.
 *
 * All functions take and return (latitude, longitude) in decimal degrees, in
 * that order. Nothing here allocates; everything is thread-safe.
 */
#ifndef XIAOAN_GEO_COORD_H
#define XIAOAN_GEO_COORD_H

enum geo_crs {
	GEO_WGS84 = 0,
	GEO_GCJ02 = 1,
	GEO_BD09 = 2,
};

/* Parses "wgs84", "gcj02" or "bd09" (case-insensitive) into *out.
 * Returns 0, or -1 (and leaves *out alone) for NULL or any other string. */
int geo_crs_parse(const char *s, enum geo_crs *out);

/* The lower-case name geo_crs_parse() accepts; "unknown" for a bad value. */
const char *geo_crs_name(enum geo_crs c);

/* 1 when the point lies in the rough box GCJ-02 implementations shift
 * (lon 72.004..137.8347, lat 0.8293..55.8271, bounds included), else 0.
 * NaN gives 0. */
int geo_in_china(double lat, double lon);

/* WGS84 -> GCJ-02 with the public Krasovsky-ellipsoid formula; identity
 * outside geo_in_china(). */
void geo_wgs84_to_gcj02(double lat, double lon, double *olat, double *olon);

/* GCJ-02 -> WGS84: the exact inverse of geo_wgs84_to_gcj02(), found by
 * fixed-point iteration to better than 1e-9 degrees (0.1 mm), not the
 * common one-step approximation that is off by up to 5 m. */
void geo_gcj02_to_wgs84(double lat, double lon, double *olat, double *olon);

/* GCJ-02 -> BD-09 with Baidu's public formula (x_pi = pi * 3000 / 180). */
void geo_gcj02_to_bd09(double lat, double lon, double *olat, double *olon);

/* BD-09 -> GCJ-02: the usual closed-form inverse, refined by fixed-point
 * iteration so that geo_gcj02_to_bd09() of the result gives back the input
 * to better than 1e-9 degrees (the closed form alone is off by up to about
 * 0.2 m inside China). */
void geo_bd09_to_gcj02(double lat, double lon, double *olat, double *olon);

/* BD-09 <-> WGS84, through GCJ-02. */
void geo_bd09_to_wgs84(double lat, double lon, double *olat, double *olon);
void geo_wgs84_to_bd09(double lat, double lon, double *olat, double *olon);

/* Converts (lat, lon) from one system to another (from == to copies).
 * Returns 0, or -1 when a system is unknown or the point fails
 * geo_valid_latlon(); on error *olat and *olon are not written. */
int geo_convert(enum geo_crs from, enum geo_crs to, double lat, double lon,
		double *olat, double *olon);

/* 1 when both are finite, |lat| <= 90 and |lon| <= 180, else 0. */
int geo_valid_latlon(double lat, double lon);

/* Great-circle distance in metres on a sphere of the Earth's mean radius.
 * Off by up to ~0.5 % against the ellipsoid: for sanity checks and "how far
 * apart are these", never for surveying. */
double geo_haversine_m(double lat1, double lon1, double lat2, double lon2);

#endif
