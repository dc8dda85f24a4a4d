/*
 * coord.c - WGS84 / GCJ-02 / BD-09 conversions.
 *
 * GCJ-02 is not published as a standard; the formula below is the one
 * that leaked publicly long ago and that the common open-source converters use
 * (Krasovsky 1940 ellipsoid a = 6378245.0, e^2 = 0.00669342162296594323, and
 * two fixed trigonometric series in the offset from (105E, 35N)); it is the
 * formula AMap and Tencent coordinates are widely reported to follow. BD-09
 * is Baidu's further rotation and scaling of GCJ-02 with
 * x_pi = pi * 3000 / 180, likewise public but not officially documented.
 *
 * Neither forward transform has a closed-form inverse, so the inverses are
 * solved numerically. Both forward maps are within a few thousandths of the
 * identity in their derivatives, so the plain fixed-point step
 * x <- x - (f(x) - target) contracts by a factor of a hundred or more per
 * round; measured over the whole GCJ-02 box it reaches 1e-11 degrees in at
 * most six rounds (BD-09: four).
 */
#include "geo/coord.h"

#include <math.h>
#include <strings.h>

/*--- Constants -------------------------------------------------------------*/

#define GCJ_A 6378245.0                 /* Krasovsky semi-major axis, metres */
#define GCJ_EE 0.00669342162296594323   /* Krasovsky first eccentricity squared */
#define BD_X_PI (M_PI * 3000.0 / 180.0)

/* The box every public GCJ-02 implementation uses to decide "in China". */
#define CHINA_LON_MIN 72.004
#define CHINA_LON_MAX 137.8347
#define CHINA_LAT_MIN 0.8293
#define CHINA_LAT_MAX 55.8271

/* Inverse solvers stop when the forward image is this close (degrees) to the
 * target, or after this many rounds (never reached in practice: see above). */
#define INVERSE_TOL 1e-11
#define INVERSE_MAX_ROUNDS 40

#define EARTH_MEAN_RADIUS_M 6371008.8

/*--- CRS names -------------------------------------------------------------*/

static const char *const crs_names[] = {
	[GEO_WGS84] = "wgs84",
	[GEO_GCJ02] = "gcj02",
	[GEO_BD09] = "bd09",
};

#define CRS_COUNT (sizeof(crs_names) / sizeof(crs_names[0]))

int geo_crs_parse(const char *s, enum geo_crs *out)
{
	if (!s || !out)
		return -1;
	for (unsigned i = 0; i < CRS_COUNT; i++) {
		if (strcasecmp(s, crs_names[i]) == 0) {
			*out = (enum geo_crs)i;
			return 0;
		}
	}
	return -1;
}

const char *geo_crs_name(enum geo_crs c)
{
	unsigned i = (unsigned)c;
	return i < CRS_COUNT ? crs_names[i] : "unknown";
}

/*--- Validity --------------------------------------------------------------*/

int geo_valid_latlon(double lat, double lon)
{
	return isfinite(lat) && isfinite(lon) && fabs(lat) <= 90.0 &&
	       fabs(lon) <= 180.0;
}

int geo_in_china(double lat, double lon)
{
	/* Written so that NaN compares false and lands outside. */
	return lon >= CHINA_LON_MIN && lon <= CHINA_LON_MAX &&
	       lat >= CHINA_LAT_MIN && lat <= CHINA_LAT_MAX;
}

/*--- GCJ-02 ----------------------------------------------------------------*/

/* The two offset series of the public GCJ-02 formula, in its own units;
 * x is longitude - 105, y is latitude - 35. */
static double gcj_series_lat(double x, double y)
{
	double r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y +
		   0.2 * sqrt(fabs(x));
	r += (20.0 * sin(6.0 * x * M_PI) + 20.0 * sin(2.0 * x * M_PI)) * 2.0 / 3.0;
	r += (20.0 * sin(y * M_PI) + 40.0 * sin(y / 3.0 * M_PI)) * 2.0 / 3.0;
	r += (160.0 * sin(y / 12.0 * M_PI) + 320.0 * sin(y * M_PI / 30.0)) * 2.0 / 3.0;
	return r;
}

static double gcj_series_lon(double x, double y)
{
	double r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y +
		   0.1 * sqrt(fabs(x));
	r += (20.0 * sin(6.0 * x * M_PI) + 20.0 * sin(2.0 * x * M_PI)) * 2.0 / 3.0;
	r += (20.0 * sin(x * M_PI) + 40.0 * sin(x / 3.0 * M_PI)) * 2.0 / 3.0;
	r += (150.0 * sin(x / 12.0 * M_PI) + 300.0 * sin(x / 30.0 * M_PI)) * 2.0 / 3.0;
	return r;
}

void geo_wgs84_to_gcj02(double lat, double lon, double *olat, double *olon)
{
	if (!geo_in_china(lat, lon)) {
		*olat = lat;
		*olon = lon;
		return;
	}
	double dlat = gcj_series_lat(lon - 105.0, lat - 35.0);
	double dlon = gcj_series_lon(lon - 105.0, lat - 35.0);
	double radlat = lat / 180.0 * M_PI;
	double magic = sin(radlat);
	magic = 1.0 - GCJ_EE * magic * magic;
	double sqrtmagic = sqrt(magic);
	/* Scale the series from metres-ish to degrees on the ellipsoid:
	 * meridian radius of curvature for latitude, parallel radius for
	 * longitude. */
	dlat = (dlat * 180.0) / ((GCJ_A * (1.0 - GCJ_EE)) / (magic * sqrtmagic) * M_PI);
	dlon = (dlon * 180.0) / (GCJ_A / sqrtmagic * cos(radlat) * M_PI);
	*olat = lat + dlat;
	*olon = lon + dlon;
}

void geo_gcj02_to_wgs84(double lat, double lon, double *olat, double *olon)
{
	if (!geo_in_china(lat, lon)) {
		*olat = lat;
		*olon = lon;
		return;
	}
	double wlat = lat, wlon = lon;
	for (int i = 0; i < INVERSE_MAX_ROUNDS; i++) {
		double glat, glon;
		geo_wgs84_to_gcj02(wlat, wlon, &glat, &glon);
		double elat = glat - lat, elon = glon - lon;
		if (fabs(elat) < INVERSE_TOL && fabs(elon) < INVERSE_TOL)
			break;
		wlat -= elat;
		wlon -= elon;
	}
	*olat = wlat;
	*olon = wlon;
}

/*--- BD-09 -----------------------------------------------------------------*/

void geo_gcj02_to_bd09(double lat, double lon, double *olat, double *olon)
{
	double x = lon, y = lat;
	double z = sqrt(x * x + y * y) + 0.00002 * sin(y * BD_X_PI);
	double theta = atan2(y, x) + 0.000003 * cos(x * BD_X_PI);
	*olon = z * cos(theta) + 0.0065;
	*olat = z * sin(theta) + 0.006;
}

/* The closed-form inverse everyone publishes; evaluates the perturbation
 * terms at the BD-09 point instead of the unknown GCJ-02 one, hence the
 * refinement below. */
static void bd09_to_gcj02_approx(double lat, double lon, double *olat, double *olon)
{
	double x = lon - 0.0065, y = lat - 0.006;
	double z = sqrt(x * x + y * y) - 0.00002 * sin(y * BD_X_PI);
	double theta = atan2(y, x) - 0.000003 * cos(x * BD_X_PI);
	*olon = z * cos(theta);
	*olat = z * sin(theta);
}

void geo_bd09_to_gcj02(double lat, double lon, double *olat, double *olon)
{
	double glat, glon;
	bd09_to_gcj02_approx(lat, lon, &glat, &glon);
	for (int i = 0; i < INVERSE_MAX_ROUNDS; i++) {
		double blat, blon;
		geo_gcj02_to_bd09(glat, glon, &blat, &blon);
		double elat = blat - lat, elon = blon - lon;
		if (fabs(elat) < INVERSE_TOL && fabs(elon) < INVERSE_TOL)
			break;
		glat -= elat;
		glon -= elon;
	}
	*olat = glat;
	*olon = glon;
}

void geo_bd09_to_wgs84(double lat, double lon, double *olat, double *olon)
{
	double glat, glon;
	geo_bd09_to_gcj02(lat, lon, &glat, &glon);
	geo_gcj02_to_wgs84(glat, glon, olat, olon);
}

void geo_wgs84_to_bd09(double lat, double lon, double *olat, double *olon)
{
	double glat, glon;
	geo_wgs84_to_gcj02(lat, lon, &glat, &glon);
	geo_gcj02_to_bd09(glat, glon, olat, olon);
}

/*--- Dispatch --------------------------------------------------------------*/

int geo_convert(enum geo_crs from, enum geo_crs to, double lat, double lon,
		double *olat, double *olon)
{
	if ((unsigned)from >= CRS_COUNT || (unsigned)to >= CRS_COUNT)
		return -1;
	if (!geo_valid_latlon(lat, lon))
		return -1;

	if (from == to) {
		*olat = lat;
		*olon = lon;
		return 0;
	}
	if (from == GEO_GCJ02 && to == GEO_BD09) {
		geo_gcj02_to_bd09(lat, lon, olat, olon);
		return 0;
	}
	if (from == GEO_BD09 && to == GEO_GCJ02) {
		geo_bd09_to_gcj02(lat, lon, olat, olon);
		return 0;
	}
	/* Every other pair goes through WGS84. */
	double wlat = lat, wlon = lon;
	switch (from) {
	case GEO_WGS84:
		break;
	case GEO_GCJ02:
		geo_gcj02_to_wgs84(lat, lon, &wlat, &wlon);
		break;
	case GEO_BD09:
		geo_bd09_to_wgs84(lat, lon, &wlat, &wlon);
		break;
	}
	switch (to) {
	case GEO_WGS84:
		*olat = wlat;
		*olon = wlon;
		break;
	case GEO_GCJ02:
		geo_wgs84_to_gcj02(wlat, wlon, olat, olon);
		break;
	case GEO_BD09:
		geo_wgs84_to_bd09(wlat, wlon, olat, olon);
		break;
	}
	return 0;
}

/*--- Distance --------------------------------------------------------------*/

double geo_haversine_m(double lat1, double lon1, double lat2, double lon2)
{
	double p1 = lat1 * M_PI / 180.0, p2 = lat2 * M_PI / 180.0;
	double dp = p2 - p1, dl = (lon2 - lon1) * M_PI / 180.0;
	double h = sin(dp / 2) * sin(dp / 2) +
		   cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
	if (h > 1.0)
		h = 1.0;
	return 2.0 * EARTH_MEAN_RADIUS_M * asin(sqrt(h));
}
