/*
 * geo_cli.c - `xiaoan geo distance` and `xiaoan geo convert` (see geo_cli.h).
 *
 * The input is CSV of plain numbers (no quoting), so a line is split on
 * commas and each number read with strtod; the rows stream through, so a
 * file of any length runs in constant memory. A bad row (wrong field count,
 * a quote, not a number, out of range) gets one line on standard error
 * naming its line number and the reason, in Chinese; processing continues
 * and the exit status says that something was skipped.
 */
#include "geo/geo_cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo/coord.h"
#include "geo/geom.h"

#define MAX_FIELDS 8

static const char distance_help[] =
	"usage: xiaoan geo distance < pairs.csv > distances.csv\n"
	"Reads CSV rows id,lat1,lon1,lat2,lon2 (WGS84 decimal degrees; a header line first) on standard input\n"
	"and writes id,s12_m: the geodesic distance on the WGS84 ellipsoid in metres (PROJ geod_inverse,\n"
	"Karney's algorithm), to 0.1 mm. A bad row is named on standard error and skipped; the exit status\n"
	"is then 1.\n";

static const char convert_help[] =
	"usage: xiaoan geo convert --from gcj02|bd09|wgs84 --to wgs84|gcj02|bd09 < points.csv > out.csv\n"
	"Reads CSV rows id,lat,lon (a header line first) in the --from system and writes id,lat,lon in the\n"
	"--to system with 9 decimals. GCJ-02 (高德, 腾讯) and BD-09 (百度) to WGS84 is an iterated inverse\n"
	"accurate to far better than 0.5 m. A bad row is named on standard error and skipped; the exit\n"
	"status is then 1.\n";

static const char geo_help[] =
	"usage: xiaoan geo distance|convert [--help]\n"
	"  distance   id,lat1,lon1,lat2,lon2 -> id,s12_m (geodesic metres on WGS84)\n"
	"  convert    --from gcj02|bd09|wgs84 --to wgs84|gcj02|bd09: id,lat,lon -> id,lat,lon\n";

struct row {
	int n;
	char *f[MAX_FIELDS];
};

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

int geo_split_fields(char *line, char sep, char **f, int max)
{
	int n = 0;
	char *p = line;
	for (;;) {
		char *c = strchr(p, sep);
		if (c)
			*c = '\0';
		if (n < max)
			f[n] = trim(p);
		n++;
		if (!c)
			return n;
		p = c + 1;
	}
}

/* Splits line in place. Returns 0, or -1 when it holds a quote. */
static int split(char *line, struct row *r)
{
	if (strchr(line, '"'))
		return -1;
	r->n = geo_split_fields(line, ',', r->f, MAX_FIELDS);
	return 0;
}

/* A plain decimal number (digits, one sign, a point, an exponent): no hex,
 * no inf or nan, which strtod would take. */
static int number(const char *s, double *out)
{
	if (!*s)
		return -1;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p) && !strchr("+-.eE", *p))
			return -1;
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (errno || *end || !isfinite(d))
		return -1;
	*out = d;
	return 0;
}

static const char *const lat_names[] = { "lat1", "lat2", "lat" };

/* Reads fields [first, first + 2*npts) as lat, lon pairs into v. Returns 0,
 * or -1 after naming the problem on stderr. */
static int read_points(const char *cmd, size_t line, const struct row *r, int first, int npts, double *v)
{
	for (int k = 0; k < 2 * npts; k++) {
		const char *s = r->f[first + k];
		const char *name = npts == 1 ? (k ? "lon" : "lat")
				 : k % 2 ? (k / 2 ? "lon2" : "lon1")
					 : lat_names[k / 2];
		if (number(s, &v[k])) {
			fprintf(stderr, "xiaoan geo %s: 第 %zu 行：%s “%.40s”不是数字\n", cmd, line, name, s);
			return -1;
		}
		double lim = k % 2 ? 180 : 90;
		if (fabs(v[k]) > lim) {
			fprintf(stderr, "xiaoan geo %s: 第 %zu 行：%s %s 超出范围（-%g 到 %g）\n", cmd, line, name, s, lim,
				lim);
			return -1;
		}
	}
	return 0;
}

/* Runs each data row of standard input through one of the commands.
 * Returns the exit status. */
static int run(const char *cmd, int nfields, const char *fields, const char *out_header, enum geo_crs from,
	       enum geo_crs to)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int bad = 0;
	printf("%s\n", out_header);
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		lineno++;
		if (lineno == 1 && len >= 3 && (unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB &&
		    (unsigned char)line[2] == 0xBF)
			memmove(line, line + 3, (size_t)len - 2); /* Excel's UTF-8 mark */
		if ((size_t)len != strlen(line)) {
			fprintf(stderr, "xiaoan geo %s: 第 %zu 行：含有 NUL 字符\n", cmd, lineno);
			bad = 1;
			continue;
		}
		struct row r;
		if (*trim(line) == '\0')
			continue; /* blank line */
		if (split(line, &r)) {
			fprintf(stderr, "xiaoan geo %s: 第 %zu 行：不支持带引号的字段，字段须为不带引号的 %s\n", cmd, lineno,
				fields);
			bad = 1;
			continue;
		}
		double probe;
		if (lineno == 1 && !(r.n >= 2 && number(r.f[1], &probe) == 0))
			continue; /* the header */
		if (r.n != nfields) {
			fprintf(stderr, "xiaoan geo %s: 第 %zu 行：须有 %d 个字段（%s），实有 %d 个\n", cmd, lineno, nfields,
				fields, r.n);
			bad = 1;
			continue;
		}
		double v[4];
		if (read_points(cmd, lineno, &r, 1, nfields == 5 ? 2 : 1, v)) {
			bad = 1;
			continue;
		}
		if (nfields == 5) {
			printf("%s,%.4f\n", r.f[0], geo_dist_exact(v[0], v[1], v[2], v[3]));
		} else {
			double lat, lon;
			if (geo_convert(from, to, v[0], v[1], &lat, &lon) != 0) {
				fprintf(stderr, "xiaoan geo %s: 第 %zu 行：坐标无法转换\n", cmd, lineno);
				bad = 1;
				continue;
			}
			printf("%s,%.9f,%.9f\n", r.f[0], lat, lon);
		}
	}
	free(line);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "xiaoan geo %s: 写入标准输出失败\n", cmd);
		return 1;
	}
	if (lineno == 0)
		fprintf(stderr, "xiaoan geo %s: 输入为空：第一行须为表头（%s）\n", cmd, fields);
	return bad;
}

static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

static int cmd_distance(int argc, char **argv)
{
	if (wants_help(argc, argv)) {
		fputs(distance_help, stdout);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "xiaoan geo distance: 多余的参数 '%s'（xiaoan geo distance --help）\n", argv[1]);
		return 2;
	}
	return run("distance", 5, "id,lat1,lon1,lat2,lon2", "id,s12_m", GEO_WGS84, GEO_WGS84);
}

static int cmd_convert(int argc, char **argv)
{
	if (wants_help(argc, argv)) {
		fputs(convert_help, stdout);
		return 0;
	}
	enum geo_crs from = GEO_WGS84, to = GEO_WGS84;
	int have_from = 0, have_to = 0;
	for (int i = 1; i < argc; i += 2) {
		int is_from = !strcmp(argv[i], "--from"), is_to = !strcmp(argv[i], "--to");
		if (!is_from && !is_to) {
			fprintf(stderr, "xiaoan geo convert: 不认识的参数 '%s'（xiaoan geo convert --help）\n", argv[i]);
			return 2;
		}
		if (i + 1 >= argc || geo_crs_parse(argv[i + 1], is_from ? &from : &to) != 0) {
			fprintf(stderr, "xiaoan geo convert: %s 须为 wgs84、gcj02 或 bd09 之一\n", argv[i]);
			return 2;
		}
		*(is_from ? &have_from : &have_to) = 1;
	}
	if (!have_from || !have_to) {
		fprintf(stderr, "xiaoan geo convert: 须同时给出 --from 和 --to（xiaoan geo convert --help）\n");
		return 2;
	}
	return run("convert", 3, "id,lat,lon", "id,lat,lon", from, to);
}

int geo_cli(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "distance"))
		return cmd_distance(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "convert"))
		return cmd_convert(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(geo_help, stdout);
		return 0;
	}
	fputs(geo_help, stderr);
	return 2;
}
