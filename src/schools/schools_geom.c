/*
 * schools_geom.c - a school's campus boundary (校园边界) and its entrances
 * (出入口): checking what users send, converting it to WGS84, the text the
 * schools table stores, and the record's shape.
 *
 * In a record: "boundary" is {"type":"MultiPolygon","coordinates":[...]} or
 * null, "area_m2" its geodesic area (read-only, derived), "entrances" an
 * array of {"lat","lon","name","pupils"}. Stored: schools.boundary holds the
 * MultiPolygon's coordinates (NULL when none), schools.entrances the array.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/valid.h"
#include "geo/coord.h"
#include "geo/geo_cli.h"
#include "geo/geom.h"
#include "schools/schools_int.h"

#define MAX_ENTRANCES 20
#define ENTRANCE_NAME_MAX 40

/* Stored and answered numbers: 15 significant digits print 7 decimals of a
 * longitude exactly and nothing more. */
#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

static int geom_err(struct verr *e, const char *code, const char *field, const char *fmt, const char *detail)
{
	e->code = code;
	e->field = field;
	snprintf(e->message, sizeof e->message, fmt, detail ? detail : "");
	/* a reason cut at the buffer's end must stay valid UTF-8 */
	size_t n = strlen(e->message);
	if (n == sizeof e->message - 1) {
		while (n > 0 && ((unsigned char)e->message[n] & 0xC0) == 0x80)
			n--;
		e->message[n] = '\0';
	}
	return 1;
}

static double round7(double d)
{
	double r = round(d * 1e7) / 1e7;
	return r == 0 ? 0 : r;
}

/*--- boundary ---*/

/* The record's value for an area: {"type":"MultiPolygon","coordinates"}. */
static json_t *boundary_value(json_t *coords)
{
	return json_pack("{s:s,s:o}", "type", "MultiPolygon", "coordinates", coords);
}

/*
 * Reads a boundary (a GeoJSON object, or with text set also a string of WKT
 * or GeoJSON) given in crs, converts every vertex to WGS84 rounded to 1e-7
 * degrees and validates the result as stored. *out: the record's value
 * (new reference). Returns 0 or 1 with e filled.
 */
static int boundary_read(json_t *v, enum geo_crs crs, int text, json_t **out, struct verr *e)
{
	char err[200];
	struct geo_area *a = NULL;
	*out = NULL;
	if (json_is_string(v) && text) {
		const char *s = json_string_value(v);
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '{' || *s == '[') {
			json_error_t je;
			json_t *j = json_loads(s, JSON_DECODE_ANY, &je);
			if (!j)
				return geom_err(e, "school.boundary_invalid", "boundary", "校园边界不是有效的 GeoJSON%s", NULL);
			a = geo_area_from_geojson(j, err, sizeof err);
			json_decref(j);
		} else {
			a = geo_area_from_wkt(s, err, sizeof err);
		}
	} else if (json_is_object(v)) {
		a = geo_area_from_geojson(v, err, sizeof err);
	} else {
		return geom_err(e, "validation.type", "boundary",
				text ? "校园边界须为 WKT（POLYGON/MULTIPOLYGON）或 GeoJSON%s"
				     : "校园边界须为 GeoJSON 的 Polygon 或 MultiPolygon 对象（或 null 清除）%s",
				NULL);
	}
	if (!a)
		return geom_err(e, "school.boundary_invalid", "boundary", "校园边界无效：%s", err);
	for (int p = 0; p < a->npolys; p++)
		for (int r = 0; r < a->poly[p].nrings; r++)
			for (int i = 0; i < a->poly[p].ring[r].n; i++) {
				struct geo_pt *q = &a->poly[p].ring[r].pt[i];
				double lat = q->lat, lon = q->lon;
				if (geo_convert(crs, GEO_WGS84, lat, lon, &lat, &lon) != 0) {
					geo_area_free(a);
					return geom_err(e, "validation.range", "boundary", "校园边界的坐标超出范围%s", NULL);
				}
				q->lat = round7(lat);
				q->lon = round7(lon);
			}
	/* what is stored is validated again: the conversion and the rounding
	 * move vertices a little */
	json_t *coords = geo_area_to_coords(a);
	geo_area_free(a);
	a = geo_area_from_geojson(coords, err, sizeof err);
	if (!a) {
		json_decref(coords);
		return geom_err(e, "school.boundary_invalid", "boundary", "校园边界无效：%s", err);
	}
	geo_area_free(a);
	*out = boundary_value(coords);
	return 0;
}

/*--- entrances ---*/

static int entrance_err(struct verr *e, size_t i, const char *what)
{
	char msg[160];
	snprintf(msg, sizeof msg, "出入口第 %zu 个：%s", i + 1, what);
	return geom_err(e, "school.entrances_invalid", "entrances", "%s", msg);
}

/* One entrance {"lat","lon","name","pupils"} in crs into a WGS84 object. */
static int entrance_read(json_t *v, size_t i, enum geo_crs crs, int allow_outside, json_t **out, struct verr *e)
{
	*out = NULL;
	if (!json_is_object(v))
		return entrance_err(e, i, "须为对象 {\"lat\",\"lon\",\"name\",\"pupils\"}");
	const char *key;
	json_t *x;
	json_object_foreach(v, key, x) {
		if (strcmp(key, "lat") && strcmp(key, "lon") && strcmp(key, "name") && strcmp(key, "pupils"))
			return entrance_err(e, i, "只能有 lat、lon、name、pupils 四个字段");
	}
	json_t *la = json_object_get(v, "lat"), *lo = json_object_get(v, "lon");
	json_t *name = json_object_get(v, "name"), *pupils = json_object_get(v, "pupils");
	if (!json_is_number(la) || !json_is_number(lo))
		return entrance_err(e, i, "纬度（lat）和经度（lon）须为数字");
	double lat = json_number_value(la), lon = json_number_value(lo);
	if (!geo_valid_latlon(lat, lon))
		return entrance_err(e, i, "坐标超出范围（纬度 -90 到 90，经度 -180 到 180）");
	if (geo_convert(crs, GEO_WGS84, lat, lon, &lat, &lon) != 0)
		return entrance_err(e, i, "坐标超出范围");
	lat = round7(lat);
	lon = round7(lon);
	if (!allow_outside && !geo_in_china(lat, lon))
		return entrance_err(e, i, "坐标不在中国境内，请检查纬度、经度是否填反或坐标系是否选对");
	if (name && !json_is_null(name) && !json_is_string(name))
		return entrance_err(e, i, "名称（name）须为文本");
	const char *n = json_is_string(name) ? json_string_value(name) : "";
	if (utf8_chars(n) > ENTRANCE_NAME_MAX)
		return entrance_err(e, i, "名称不能超过 40 个字符");
	for (const char *c = n; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return entrance_err(e, i, "名称含有不允许的控制字符");
	if (pupils && !json_is_null(pupils) && !json_is_boolean(pupils))
		return entrance_err(e, i, "是否学生出入口（pupils）须为 true 或 false");
	*out = json_pack("{s:f,s:f,s:s,s:b}", "lat", lat, "lon", lon, "name", n, "pupils", json_is_true(pupils));
	return 0;
}

/* 1 when s (trimmed by the caller) says an entrance is the pupils' gate. */
static int pupils_word(const char *s, int *out)
{
	static const char *const yes[] = { "学生", "是", "1", "true", "学生出入口", NULL };
	static const char *const no[] = { "", "否", "0", "false", NULL };
	for (int k = 0; yes[k]; k++)
		if (!strcasecmp(s, yes[k]))
			return *out = 1, 1;
	for (int k = 0; no[k]; k++)
		if (!strcasecmp(s, no[k]))
			return *out = 0, 1;
	return 0;
}

/* Replaces every full-width "，" and "；" (3 bytes) by "," and ";" in place. */
static void fold_punct(char *s)
{
	char *o = s;
	for (char *p = s; *p;) {
		if (!strncmp(p, "\xEF\xBC\x8C", 3)) {
			*o++ = ',';
			p += 3;
		} else if (!strncmp(p, "\xEF\xBC\x9B", 3)) {
			*o++ = ';';
			p += 3;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
}

/*
 * The simple form a spreadsheet cell holds: "lat,lon,名称,学生;lat,lon,名称"
 * (full-width ，； too), name and the pupils mark optional. Into a JSON
 * array of entrance objects as the API takes them.
 */
static int entrances_simple(const char *text, json_t **out, struct verr *e)
{
	char *copy = strdup(text);
	if (!copy)
		abort();
	fold_punct(copy);
	json_t *arr = json_array();
	size_t i = 0;
	int rc = 0;
	char *save = NULL;
	for (char *item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save), i++) {
		char *f[4];
		int n = geo_split_fields(item, ',', f, 4);
		if (n == 1 && !*f[0]) {
			i--;
			continue; /* a trailing ";" */
		}
		if (n < 2 || n > 4) {
			rc = entrance_err(e, i, "须写作“纬度,经度,名称,学生”，多个出入口用分号隔开");
			break;
		}
		double v[2];
		for (int k = 0; k < 2 && rc == 0; k++) {
			char *end;
			errno = 0;
			v[k] = strtod(f[k], &end);
			if (!*f[k] || *end || errno || !isfinite(v[k]))
				rc = entrance_err(e, i, k ? "经度不是数字" : "纬度不是数字");
		}
		int pupils = 0;
		if (rc == 0 && n == 4 && !pupils_word(f[3], &pupils))
			rc = entrance_err(e, i, "第四项须为“学生”或留空");
		if (rc)
			break;
		json_array_append_new(arr, json_pack("{s:f,s:f,s:s,s:b}", "lat", v[0], "lon", v[1], "name",
						     n >= 3 ? f[2] : "", "pupils", pupils));
	}
	free(copy);
	if (rc) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

static int entrances_read(json_t *v, enum geo_crs crs, int allow_outside, int text, json_t **out, struct verr *e)
{
	json_t *arr = NULL;
	int rc;
	*out = NULL;
	if (json_is_null(v))
		return *out = json_array(), 0;
	if (json_is_string(v) && text) {
		const char *s = json_string_value(v);
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '[') {
			if (!(arr = json_loads(s, 0, NULL)))
				return geom_err(e, "school.entrances_invalid", "entrances", "出入口不是有效的 JSON 数组%s", NULL);
		} else if ((rc = entrances_simple(s, &arr, e))) {
			return rc;
		}
	} else if (json_is_array(v)) {
		arr = json_incref(v);
	} else {
		return geom_err(e, "validation.type", "entrances",
				"出入口须为数组 [{\"lat\",\"lon\",\"name\",\"pupils\"}]（或 null 清除）%s", NULL);
	}
	if (json_array_size(arr) > MAX_ENTRANCES) {
		json_decref(arr);
		return geom_err(e, "school.entrances_invalid", "entrances", "出入口不能超过 20 个%s", NULL);
	}
	json_t *res = json_array(), *x;
	size_t i;
	rc = 0;
	json_array_foreach(arr, i, x) {
		json_t *one;
		if ((rc = entrance_read(x, i, crs, allow_outside, &one, e)))
			break;
		json_array_append_new(res, one);
	}
	json_decref(arr);
	if (rc) {
		json_decref(res);
		return rc;
	}
	*out = res;
	return 0;
}

/*--- what school_prepare and the stores call ---*/

int school_geom_prepare(json_t *in, json_t *rec, enum geo_crs crs, int allow_outside, int text, struct verr *e)
{
	json_t *b = json_object_get(in, "boundary"), *en = json_object_get(in, "entrances"), *v;
	int rc;
	if (b) {
		if (json_is_null(b)) {
			json_object_set_new(rec, "boundary", json_null());
		} else {
			if ((rc = boundary_read(b, crs, text, &v, e)))
				return rc;
			json_object_set_new(rec, "boundary", v);
		}
	}
	if (en) {
		if ((rc = entrances_read(en, crs, allow_outside, text, &v, e)))
			return rc;
		json_object_set_new(rec, "entrances", v);
	}
	return 0;
}

void school_geom_from_row(json_t *rec, const char *boundary, const char *entrances)
{
	json_t *coords = boundary && *boundary ? json_loads(boundary, 0, NULL) : NULL;
	struct geo_area *a = NULL;
	char err[200];
	if (coords && !(a = geo_area_from_stored(coords, err, sizeof err))) {
		json_decref(coords);
		coords = NULL;
	}
	json_object_set_new(rec, "boundary", coords ? boundary_value(coords) : json_null());
	json_object_set_new(rec, "area_m2", a ? json_real(round(a->area_m2 * 10) / 10) : json_null());
	geo_area_free(a);
	json_t *en = entrances && *entrances ? json_loads(entrances, 0, NULL) : NULL;
	json_object_set_new(rec, "entrances", json_is_array(en) ? en : json_array());
	if (en && !json_is_array(en))
		json_decref(en);
}

char *school_boundary_text(json_t *rec)
{
	json_t *coords = json_object_get(json_object_get(rec, "boundary"), "coordinates");
	return json_is_array(coords) ? json_dumps(coords, DUMP_FLAGS) : NULL;
}

void school_geom_export(json_t *rec)
{
	json_t *coords = json_object_get(json_object_get(rec, "boundary"), "coordinates");
	char err[200];
	struct geo_area *a = json_is_array(coords) ? geo_area_from_stored(coords, err, sizeof err) : NULL;
	if (a) {
		char *wkt = geo_area_to_wkt(a);
		json_object_set_new(rec, "boundary_wkt", json_string(wkt));
		free(wkt);
		geo_area_free(a);
	}
	json_t *en = json_object_get(rec, "entrances");
	if (json_array_size(en)) {
		char *s = json_dumps(en, DUMP_FLAGS);
		json_object_set_new(rec, "entrances_text", json_string(s));
		free(s);
	}
}
