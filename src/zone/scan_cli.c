/*
 * scan_cli.c - `xiaoan zone scan`: reads schools, venues and optionally
 * rules from CSV files, runs the zone engine's full join and writes every
 * judged pair (禁止, 需审查, 重点关注) as CSV. No database, no data
 * directory: an analyst's tool for files from any county.
 *
 * Input files go through the project's table reader (src/io/table.h: BOM,
 * GB18030, RFC 4180 quoting). That reader caps a file at 100 000 rows, a
 * limit meant for uploads; a province's venues run to a million, so a CSV
 * is decoded to UTF-8 once here and handed to the reader in slices of
 * 50 000 records, each with the header row in front, and row numbers are
 * mapped back to the file's lines. An .xlsx goes to the reader whole.
 *
 * Exit status: 0 done; 1 could not run (arguments, a missing or unreadable
 * file, a missing column, a broken CSV); 2 done, but some rows were bad:
 * each is named on stderr (file, line, reason) and left out.
 */
#include "zone/scan_cli.h"

#include <errno.h>
#include <iconv.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "geo/geom.h"
#include "io/table.h"
#include "zone/engine.h"
#include "zone/rules_seed.h"

static const char scan_usage[] =
	"usage: xiaoan zone scan --schools FILE --venues FILE [--rules FILE] [--radius 200] [--margin 5]\n"
	"                        [--threads N] [--out pairs.csv]\n"
	"\n"
	"Judges every school against every venue within reach by the zone rules, without a database, and\n"
	"writes the pairs that are not cleared (禁止, 需审查, 重点关注) as CSV, sorted by school, then distance.\n"
	"\n"
	"  --schools FILE  CSV (or .xlsx) with a header row; columns by name, any order, unknown ones ignored:\n"
	"                  id (integer), name, lat, lon (WGS84 degrees), stage (幼儿园 小学 初中 九年一贯制 高中\n"
	"                  完全中学 十二年一贯制 中职 特殊教育 高校), region (optional: a region path such as\n"
	"                  /340000/340800/340899/ or a GB/T 2260 code such as 340899), boundary (optional: WKT\n"
	"                  POLYGON or MULTIPOLYGON in lon lat order, or GeoJSON), entrances (optional)\n"
	"  --venues FILE   columns id, name, lat, lon, category (code such as internet_cafe, or the Chinese name\n"
	"                  such as 互联网上网服务营业场所), status (营业 停业 取缔 注销; empty = 营业),\n"
	"                  entrances (optional)\n"
	"                  entrances: \"lat lon;lat lon\" (a school's first entrance is its pupils' gate), or a JSON\n"
	"                  array [{\"lat\":..,\"lon\":..,\"pupils\":true}] as the database stores them\n"
	"  --rules FILE    the zone_rules columns: code, region_path (empty = national; a path or a code),\n"
	"                  category, stages (separated by spaces, commas or 、), distance_m (empty = none),\n"
	"                  method (boundary_straight entrance_straight gate_radius walking), effect (禁止 需审查\n"
	"                  重点关注), confidence (V S M 草案), confirmed (0/1), enabled (0/1, empty = 1).\n"
	"                  Without it: the national rows of the built-in rule set.\n"
	"  --radius M      the surroundings radius for rules without a distance (default 200)\n"
	"  --margin M      a distance this close to a limit is 需审查 (default 5)\n"
	"  --threads N     threads for the join (default: the machine's cores)\n"
	"  --out FILE      write the pairs there (UTF-8 with BOM, for Excel); default standard output\n"
	"\n"
	"Output columns: school_id,school_name,venue_id,venue_name,category,distance_m,method,fallback,rule,\n"
	"limit_m,verdict (metres with 2 decimals; method is the one used, point when the rule's method lacked\n"
	"data, and then fallback is 1 and the verdict at most 需审查).\n"
	"A summary line goes to stderr, with a progress bar on a terminal for inputs over 50 000 rows.\n"
	"\n"
	"Exit status: 0 done; 1 could not run (arguments, missing file or column); 2 done, but bad rows (bad\n"
	"coordinate, unknown stage or category, bad WKT, duplicate id ...) were skipped, each named on stderr.\n";

#define SLICE_ROWS 50000
#define BIG_INPUT 50000

/*--- messages ------------------------------------------------------------------*/

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("xiaoan: zone scan: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

struct bad {
	size_t n;
};

static void bad_row(struct bad *b, const char *path, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void bad_row(struct bad *b, const char *path, size_t line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s 第 %zu 行：", path, line);
	vfprintf(stderr, fmt, ap);
	fputs("，已跳过\n", stderr);
	va_end(ap);
	b->n++;
}

/*--- progress bar -------------------------------------------------------------------*/

struct progress {
	int on;
	int last;        /* last permille drawn */
	const char *what;
};

static void progress_start(struct progress *p, const char *what, size_t total)
{
	p->on = total > BIG_INPUT && isatty(STDERR_FILENO);
	p->last = -1;
	p->what = what;
}

static void progress(struct progress *p, size_t done, size_t total)
{
	if (!p->on || !total)
		return;
	int pm = (int)(1000.0 * (double)done / (double)total);
	if (pm / 10 == p->last / 10 && done != total)
		return;
	p->last = pm;
	char bar[31];
	int fill = pm * 30 / 1000;
	for (int i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '-';
	bar[30] = '\0';
	fprintf(stderr, "\r%s [%s] %3d%% (%zu/%zu)", p->what, bar, pm / 10, done, total);
	fflush(stderr);
}

static void progress_end(struct progress *p)
{
	if (p->on)
		fputs("\r\033[K", stderr);
	p->on = 0;
}

/*--- reading a CSV of any length through the table reader -----------------------------*/

struct doc {
	const char *path;
	struct table **slice;
	size_t *line_off;    /* add to a slice row's line to get the file's line */
	size_t nslice;
	size_t nrows;        /* data rows, all slices */
};

static void doc_free(struct doc *d)
{
	for (size_t i = 0; i < d->nslice; i++)
		table_free(d->slice[i]);
	free(d->slice);
	free(d->line_off);
	memset(d, 0, sizeof *d);
}

static int read_file(const char *path, char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return fail("无法打开 %s：%s", path, strerror(errno));
	struct buf b = BUF_INIT;
	char tmp[1 << 16];
	size_t n;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		buf_append(&b, tmp, n);
	int err = ferror(f);
	fclose(f);
	if (err) {
		buf_free(&b);
		return fail("无法读取 %s", path);
	}
	*data = buf_detach(&b, len);
	if (!*data) { /* empty file */
		*data = calloc(1, 1);
		*len = 0;
	}
	return 0;
}

/* length of the UTF-8 sequence at p (n bytes left), 0 when it is not one */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t k = p[0] < 0x80 ? 1 : p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC0 ? 2 : 0;
	return k && k <= n && utf8_valid((const char *)p, k) ? k : 0;
}

/* Decodes a CSV's bytes to UTF-8 without BOM, as the table reader would:
 * UTF-8 (BOM or not), else GB18030; mostly-UTF-8 with a few bad bytes is
 * refused rather than read as GB18030 garbage. 0 or 1 (message printed). */
static int decode(const char *path, const char *s, size_t n, struct buf *out)
{
	int bom = n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0;
	if (bom)
		s += 3, n -= 3;
	if (utf8_valid(s, n)) {
		buf_append(out, s, n);
		return 0;
	}
	const unsigned char *p = (const unsigned char *)s;
	size_t good = 0, bad = 0;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_len(p + i, n - i);
		if (k > 1)
			good++;
		else if (!k)
			bad++;
		i += k ? k : 1;
	}
	if (bom || (good >= 4 && good >= 8 * bad))
		return fail("%s 含有无效的 UTF-8 字节，文件编码无法识别（请使用 UTF-8 或 GB18030）", path);
	iconv_t cd = iconv_open("UTF-8", "GB18030");
	if (cd == (iconv_t)-1)
		return fail("无法转换 GB18030 编码：%s", strerror(errno));
	char *ip = (char *)s;
	size_t il = n;
	int rc = 0;
	while (il > 0) {
		buf_reserve(out, il + il / 2 + 16);
		char *op = out->data + out->len;
		size_t ol = out->cap - out->len - 1;
		size_t r = iconv(cd, &ip, &il, &op, &ol);
		out->len = (size_t)(op - out->data);
		out->data[out->len] = '\0';
		if (r == (size_t)-1 && errno != E2BIG) {
			rc = fail("%s 文件编码无法识别（请使用 UTF-8 或 GB18030）", path);
			break;
		}
	}
	iconv_close(cd);
	if (!rc && !utf8_valid(out->data, out->len))
		rc = fail("%s 文件编码无法识别（请使用 UTF-8 或 GB18030）", path);
	return rc;
}

/* a line break at s[i] (CRLF counts once, at its CR): its length, else 0 */
static size_t line_break(const char *s, size_t n, size_t i)
{
	if (s[i] == '\n')
		return 1;
	if (s[i] == '\r')
		return i + 1 < n && s[i + 1] == '\n' ? 2 : 1;
	return 0;
}

/* Reads one slice (header text + body text) with the table reader. */
static int add_slice(struct doc *d, const char *hdr, size_t hlen, const char *body, size_t blen, size_t off)
{
	struct buf b = BUF_INIT;
	buf_append(&b, hdr, hlen);
	buf_putc(&b, '\n');
	buf_append(&b, body, blen);
	struct table *t;
	struct table_error err;
	int rc = table_read(b.data, b.len, TABLE_CSV, &t, &err);
	buf_free(&b);
	if (rc) {
		const char *m = err.message;
		if (err.line) { /* "第 N 行：..." counts lines of the slice: say the file's line */
			const char *c = strstr(m, "：");
			m = c ? c + strlen("：") : m;
			return fail("%s 第 %zu 行：%s", d->path, err.line + off, m);
		}
		return fail("%s：%s", d->path, m);
	}
	d->slice = realloc(d->slice, (d->nslice + 1) * sizeof *d->slice);
	d->line_off = realloc(d->line_off, (d->nslice + 1) * sizeof *d->line_off);
	if (!d->slice || !d->line_off) {
		table_free(t);
		return fail("内存不足");
	}
	d->slice[d->nslice] = t;
	d->line_off[d->nslice++] = off;
	d->nrows += t->nrows - 1;
	return 0;
}

static int doc_read(struct doc *d, const char *path)
{
	char *data;
	size_t len;
	memset(d, 0, sizeof *d);
	d->path = path;
	if (read_file(path, &data, &len))
		return 1;
	if (table_sniff(data, len) == TABLE_XLSX) {
		struct table *t;
		struct table_error err;
		int rc = table_read(data, len, TABLE_XLSX, &t, &err);
		free(data);
		if (rc)
			return fail("%s：%s", path, err.message);
		d->slice = malloc(sizeof *d->slice);
		d->line_off = calloc(1, sizeof *d->line_off);
		d->slice[0] = t;
		d->nslice = 1;
		d->nrows = t->nrows - 1;
		return 0;
	}
	struct buf text = BUF_INIT;
	if (len >= 4 && (memchr(data, '\0', len) || ((unsigned char)data[0] >= 0xFE && (unsigned char)data[1] >= 0xFE))) {
		/* UTF-16, .xls or binary: the reader names it */
		struct table *t;
		struct table_error err;
		if (table_read(data, len, TABLE_CSV, &t, &err) == 0)
			table_free(t);
		free(data);
		return fail("%s：%s", path, err.message[0] ? err.message : "不是 CSV 文件");
	}
	int rc = decode(path, data, len, &text);
	free(data);
	if (rc) {
		buf_free(&text);
		return 1;
	}
	const char *s = text.data ? text.data : "";
	size_t n = text.len, i = 0, line = 1, k;
	/* blank lines before the header */
	while (i < n && (k = line_break(s, n, i)))
		i += k, line++;
	size_t h0 = i, hlines = 1;
	int q = 0;
	while (i < n && (q || !(k = line_break(s, n, i)))) {
		if (s[i] == '"')
			q = !q;
		else if (q && (k = line_break(s, n, i))) {
			hlines++;
			i += k;
			continue;
		}
		i++;
	}
	size_t h1 = i;
	if (h1 == h0) {
		buf_free(&text);
		return fail("%s：文件中没有数据（找不到表头行）", path);
	}
	line += hlines - 1;
	if (i < n)
		i += line_break(s, n, i), line++;
	/* the body, in slices of SLICE_ROWS records */
	do {
		size_t b0 = i, first = line, recs = 0;
		q = 0;
		while (i < n && recs < SLICE_ROWS) {
			if (s[i] == '"') {
				q = !q;
				i++;
			} else if ((k = line_break(s, n, i))) {
				i += k, line++;
				recs += !q;
			} else {
				i++;
			}
		}
		if (add_slice(d, s + h0, h1 - h0, s + b0, i - b0, first - hlines - 1)) {
			buf_free(&text);
			doc_free(d);
			return 1;
		}
	} while (i < n);
	buf_free(&text);
	return 0;
}

/* the header's cells */
static const struct table_row *doc_header(const struct doc *d)
{
	return &d->slice[0]->rows[0];
}

/* Column index by any of the names (ASCII case ignored, spaces trimmed), -1 when absent. */
static int column(const struct doc *d, const char *const *names)
{
	const struct table_row *h = doc_header(d);
	for (size_t c = 0; c < h->ncells; c++) {
		const char *cell = h->cells[c];
		while (*cell == ' ')
			cell++;
		size_t len = strlen(cell);
		while (len && cell[len - 1] == ' ')
			len--;
		for (int k = 0; names[k]; k++)
			if (strlen(names[k]) == len && strncasecmp(cell, names[k], len) == 0)
				return (int)c;
	}
	return -1;
}

/* Looks up every column; a missing required one (its first name in req) fails. */
struct colspec {
	const char *const *names;
	int required;
	int idx;
};

static int columns(const struct doc *d, struct colspec *cs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cs[i].idx = column(d, cs[i].names);
		if (cs[i].idx < 0 && cs[i].required)
			return fail("%s 缺少列 %s", d->path, cs[i].names[0]);
	}
	return 0;
}

static const char *cell(const struct table_row *r, int col)
{
	return col >= 0 && (size_t)col < r->ncells ? r->cells[col] : "";
}

/* Walks the data rows of every slice. */
#define DOC_FOREACH(d, row, fileline)                                                                          \
	for (size_t s_ = 0; s_ < (d)->nslice; s_++)                                                           \
		for (size_t r_ = 1; r_ < (d)->slice[s_]->nrows &&                                             \
				    ((row) = &(d)->slice[s_]->rows[r_],                                       \
				    (fileline) = (row)->line + (d)->line_off[s_], 1);                         \
		     r_++)

/*--- field parsers ------------------------------------------------------------------*/

static const char *trim(const char *s, char *tmp, size_t n)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len >= n)
		len = n - 1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return tmp;
}

static int parse_id(const char *s, int64_t *out)
{
	char tmp[32];
	s = trim(s, tmp, sizeof tmp);
	if (!*s)
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v <= 0)
		return -1;
	*out = v;
	return 0;
}

static int parse_coord(const char *slat, const char *slon, double *lat, double *lon)
{
	char a[64], b[64];
	return table_parse_number(trim(slat, a, sizeof a), lat) && table_parse_number(trim(slon, b, sizeof b), lon) &&
			       fabs(*lat) <= 90 && fabs(*lon) <= 180
		       ? 0
		       : -1;
}

/* A region path from a path or a GB/T 2260 code: "340899" gives
 * "/340000/340800/340899/", "340899101" adds "/340899101/". 0 or -1. */
static int region_path(const char *in, char *out, size_t n)
{
	char tmp[160];
	const char *s = trim(in, tmp, sizeof tmp);
	if (!*s) {
		out[0] = '\0';
		return 0;
	}
	if (s[0] == '/') {
		size_t len = strlen(s);
		if (len + 2 > n)
			return -1;
		for (size_t i = 0; i < len; i++)
			if (!(s[i] == '/' || (s[i] >= '0' && s[i] <= '9')))
				return -1;
		snprintf(out, n, "%s%s", s, s[len - 1] == '/' ? "" : "/");
		return 0;
	}
	size_t len = strlen(s);
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	if (len != 6 && len != 9)
		return -1;
	int p = snprintf(out, n, "/%.2s0000/", s);
	if (memcmp(s + 2, "00", 2) != 0)
		p += snprintf(out + p, n - (size_t)p, "%.4s00/", s);
	if (memcmp(s + 4, "00", 2) != 0)
		p += snprintf(out + p, n - (size_t)p, "%.6s/", s);
	if (len == 9)
		snprintf(out + p, n - (size_t)p, "%.9s/", s);
	return 0;
}

/* Entrances: "lat lon;lat lon" or a JSON array of {"lat","lon","pupils"}
 * or [lat, lon]. Pupils' gates are moved first, *npupil counts them (the
 * plain form: the first). Allocates *pts (NULL when none). 0 or -1. */
static int parse_entrances(const char *s, struct geo_pt **pts, int *npts, int *npupil)
{
	*pts = NULL;
	*npts = *npupil = 0;
	while (*s == ' ')
		s++;
	if (!*s)
		return 0;
	struct geo_pt *p = NULL;
	int n = 0, pupils = 0;
	if (*s == '[') {
		json_error_t je;
		json_t *a = json_loads(s, 0, &je);
		if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > 64) {
			json_decref(a);
			return -1;
		}
		size_t na = json_array_size(a);
		p = malloc(na * sizeof *p);
		int *pu = calloc(na, sizeof *pu);
		for (size_t i = 0; i < na; i++) {
			json_t *e = json_array_get(a, i), *la, *lo;
			if (json_is_object(e)) {
				la = json_object_get(e, "lat"), lo = json_object_get(e, "lon");
				pu[i] = json_is_true(json_object_get(e, "pupils"));
			} else if (json_is_array(e) && json_array_size(e) == 2) {
				la = json_array_get(e, 0), lo = json_array_get(e, 1);
			} else {
				la = lo = NULL;
			}
			if (!json_is_number(la) || !json_is_number(lo) || fabs(json_number_value(la)) > 90 ||
			    fabs(json_number_value(lo)) > 180) {
				json_decref(a);
				free(p);
				free(pu);
				return -1;
			}
			p[i] = (struct geo_pt){ json_number_value(la), json_number_value(lo) };
		}
		json_decref(a);
		/* pupils' gates first, order kept otherwise */
		struct geo_pt *sorted = malloc(na * sizeof *sorted);
		for (int pass = 1; pass >= 0; pass--)
			for (size_t i = 0; i < na; i++)
				if (pu[i] == pass)
					sorted[n++] = p[i];
		for (size_t i = 0; i < na; i++)
			pupils += pu[i];
		free(p);
		free(pu);
		p = sorted;
	} else {
		char *copy = strdup(s), *save = NULL;
		for (char *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
			double la, lo;
			char *end;
			la = strtod(tok, &end);
			if (end == tok || (*end != ' ' && *end != ','))
				goto bad;
			lo = strtod(end + 1, &end);
			while (*end == ' ')
				end++;
			if (*end || !isfinite(la) || !isfinite(lo) || fabs(la) > 90 || fabs(lo) > 180 || n >= 64)
				goto bad;
			p = realloc(p, (size_t)(n + 1) * sizeof *p);
			p[n++] = (struct geo_pt){ la, lo };
			continue;
		bad:
			free(copy);
			free(p);
			return -1;
		}
		free(copy);
		pupils = n ? 1 : 0;
	}
	*pts = p;
	*npts = n;
	*npupil = pupils;
	return 0;
}

static const char *const venue_status_names[] = { "营业", "停业", "取缔", "注销", NULL };

/* the built-in national rows (src/zone/rules_seed.c, from rules.md) */
static struct zx_rule *national_rules(size_t *n)
{
	size_t k = 0;
	while (rule_seeds[k].code)
		k++;
	struct zx_rule *r = calloc(k ? k : 1, sizeof *r);
	*n = r ? zx_national_rules(r, k) : 0;
	return r;
}

/*--- inputs ------------------------------------------------------------------------*/

struct named {
	int64_t id;
	const char *name;
};

static int cmp_named(const void *a, const void *b)
{
	int64_t x = ((const struct named *)a)->id, y = ((const struct named *)b)->id;
	return x < y ? -1 : x > y;
}

static const char *name_of(const struct named *v, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].id == id ? v[lo].name : "";
}

/* The ids read so far: an open-addressing set sized for the file's rows
 * (ids are positive, 0 marks a free slot), so that any id, a 10-digit
 * 学校标识码 included, costs the same. */
struct seen {
	int64_t *slot;
	size_t mask;
};

static void seen_init(struct seen *s, size_t rows)
{
	size_t cap = 1024;
	while (cap < 2 * rows)
		cap *= 2;
	s->slot = calloc(cap, sizeof *s->slot);
	s->mask = cap - 1;
	if (!s->slot) {
		fail("内存不足");
		exit(1);
	}
}

/* 1 when id was added before, else adds it and returns 0 */
static int seen_add(struct seen *s, int64_t id)
{
	uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull;
	for (size_t i = (size_t)(h >> 20) & s->mask;; i = (i + 1) & s->mask) {
		if (s->slot[i] == id)
			return 1;
		if (s->slot[i] == 0) {
			s->slot[i] = id;
			return 0;
		}
	}
}

/* The id and position columns every input shares (cs[0], cs[2], cs[3]).
 * 0, or -1 with the row reported. */
static int row_id_pos(struct bad *bad, const struct doc *d, size_t line, const struct table_row *r,
		      const struct colspec *cs, int64_t *id, double *lat, double *lon)
{
	if (parse_id(cell(r, cs[0].idx), id)) {
		bad_row(bad, d->path, line, "id 不是正整数：“%s”", cell(r, cs[0].idx));
		return -1;
	}
	if (parse_coord(cell(r, cs[2].idx), cell(r, cs[3].idx), lat, lon)) {
		bad_row(bad, d->path, line, "坐标无效：“%s, %s”", cell(r, cs[2].idx), cell(r, cs[3].idx));
		return -1;
	}
	return 0;
}

/* Records a loaded row's name, or reports a duplicate id or a refused put. */
static void row_kept(struct bad *bad, const struct doc *d, size_t line, int64_t id, int put_rc,
		     const char *why, const char *name, struct named *names, size_t *nnames)
{
	if (put_rc) {
		bad_row(bad, d->path, line, "%s", why);
		return;
	}
	names[*nnames].id = id;
	names[(*nnames)++].name = name;
}

static int load_schools(struct zx *z, const struct doc *d, struct named **names, size_t *nnames, struct bad *bad)
{
	static const char *const n_id[] = { "id", NULL }, *const n_name[] = { "name", "名称", "学校名称", NULL },
				 *const n_lat[] = { "lat", "纬度", NULL }, *const n_lon[] = { "lon", "lng", "经度", NULL },
				 *const n_stage[] = { "stage", "学段", NULL },
				 *const n_region[] = { "region", "region_path", "region_code", NULL },
				 *const n_bound[] = { "boundary", "boundary_wkt", "边界", NULL },
				 *const n_ent[] = { "entrances", "gates", "出入口", NULL };
	struct colspec cs[] = { { n_id, 1, -1 },     { n_name, 0, -1 },   { n_lat, 1, -1 },  { n_lon, 1, -1 },
				{ n_stage, 1, -1 },  { n_region, 0, -1 }, { n_bound, 0, -1 }, { n_ent, 0, -1 } };
	if (columns(d, cs, sizeof cs / sizeof cs[0]))
		return 1;
	*names = malloc((d->nrows ? d->nrows : 1) * sizeof **names);
	*nnames = 0;
	struct seen seen;
	seen_init(&seen, d->nrows);
	struct progress pg;
	progress_start(&pg, "载入学校", d->nrows);
	const struct table_row *r;
	size_t line, done = 0;
	DOC_FOREACH(d, r, line)
	{
		progress(&pg, ++done, d->nrows);
		struct zx_school_in in = { 0 };
		char path[160], err[256];
		if (row_id_pos(bad, d, line, r, cs, &in.id, &in.lat, &in.lon))
			continue;
		char st[64];
		if ((in.stage = zx_stage_index(trim(cell(r, cs[4].idx), st, sizeof st))) < 0) {
			bad_row(bad, d->path, line, "未知的学段“%s”", cell(r, cs[4].idx));
			continue;
		}
		if (region_path(cell(r, cs[5].idx), path, sizeof path)) {
			bad_row(bad, d->path, line, "行政区划无效：“%s”（应为区划代码或 /340000/340800/ 式路径）",
				cell(r, cs[5].idx));
			continue;
		}
		in.region_path = path;
		struct geo_area *area = NULL;
		const char *b = cell(r, cs[6].idx);
		while (*b == ' ')
			b++;
		if (*b) {
			err[0] = '\0';
			if (*b == '{' || *b == '[') {
				json_error_t je;
				json_t *j = json_loads(b, 0, &je);
				area = j ? geo_area_from_geojson(j, err, sizeof err) : NULL;
				if (!j)
					snprintf(err, sizeof err, "GeoJSON 格式错误");
				json_decref(j);
			} else {
				area = geo_area_from_wkt(b, err, sizeof err);
			}
			if (!area) {
				bad_row(bad, d->path, line, "边界无效：%s", err[0] ? err : "无法解析");
				continue;
			}
		}
		in.area = area;
		struct geo_pt *gates;
		if (parse_entrances(cell(r, cs[7].idx), &gates, &in.ngates, &in.npupil_gates)) {
			geo_area_free(area);
			bad_row(bad, d->path, line, "出入口无效：“%s”（应为 “纬度 经度;纬度 经度” 或 JSON 数组）",
				cell(r, cs[7].idx));
			continue;
		}
		in.gates = gates;
		if (seen_add(&seen, in.id))
			bad_row(bad, d->path, line, "学校 id %lld 重复", (long long)in.id);
		else
			row_kept(bad, d, line, in.id, zx_school_put(z, &in), "无法载入（出入口或边界离学校位置过远？）",
				 cell(r, cs[1].idx), *names, nnames);
		geo_area_free(area);
		free(gates);
	}
	progress_end(&pg);
	free(seen.slot);
	qsort(*names, *nnames, sizeof **names, cmp_named);
	return 0;
}

static int load_venues(struct zx *z, const struct doc *d, struct named **names, size_t *nnames, struct bad *bad)
{
	static const char *const n_id[] = { "id", NULL }, *const n_name[] = { "name", "名称", "场所名称", NULL },
				 *const n_lat[] = { "lat", "纬度", NULL }, *const n_lon[] = { "lon", "lng", "经度", NULL },
				 *const n_cat[] = { "category", "类别", NULL }, *const n_status[] = { "status", "状态", NULL },
				 *const n_ent[] = { "entrances", "出入口", NULL };
	struct colspec cs[] = { { n_id, 1, -1 },  { n_name, 0, -1 },   { n_lat, 1, -1 }, { n_lon, 1, -1 },
				{ n_cat, 1, -1 }, { n_status, 0, -1 }, { n_ent, 0, -1 } };
	if (columns(d, cs, sizeof cs / sizeof cs[0]))
		return 1;
	*names = malloc((d->nrows ? d->nrows : 1) * sizeof **names);
	*nnames = 0;
	zx_reserve(z, 0, d->nrows);
	struct seen seen;
	seen_init(&seen, d->nrows);
	struct progress pg;
	progress_start(&pg, "载入场所", d->nrows);
	const struct table_row *r;
	size_t line, done = 0;
	DOC_FOREACH(d, r, line)
	{
		progress(&pg, ++done, d->nrows);
		struct zx_venue_in in = { 0 };
		char tmp[128];
		if (row_id_pos(bad, d, line, r, cs, &in.id, &in.lat, &in.lon))
			continue;
		if ((in.category = zx_category_index(trim(cell(r, cs[4].idx), tmp, sizeof tmp))) < 0) {
			bad_row(bad, d->path, line, "未知的场所类别“%s”", cell(r, cs[4].idx));
			continue;
		}
		const char *st = trim(cell(r, cs[5].idx), tmp, sizeof tmp);
		int status = 0;
		if (*st) {
			for (status = 0; venue_status_names[status] && strcmp(venue_status_names[status], st); status++)
				;
			if (!venue_status_names[status]) {
				bad_row(bad, d->path, line, "未知的经营状态“%s”（应为 营业、停业、取缔 或 注销）", st);
				continue;
			}
		}
		in.active = status == 0;
		struct geo_pt *ent;
		int npupil;
		if (parse_entrances(cell(r, cs[6].idx), &ent, &in.nent, &npupil)) {
			bad_row(bad, d->path, line, "出入口无效：“%s”（应为 “纬度 经度;纬度 经度” 或 JSON 数组）",
				cell(r, cs[6].idx));
			continue;
		}
		in.ent = ent;
		if (seen_add(&seen, in.id))
			bad_row(bad, d->path, line, "场所 id %lld 重复", (long long)in.id);
		else
			row_kept(bad, d, line, in.id, zx_venue_put(z, &in), "无法载入（出入口无效？）",
				 cell(r, cs[1].idx), *names, nnames);
		free(ent);
	}
	progress_end(&pg);
	free(seen.slot);
	qsort(*names, *nnames, sizeof **names, cmp_named);
	return 0;
}

static int parse_flag(const char *s, int dflt, int *out)
{
	char tmp[16];
	s = trim(s, tmp, sizeof tmp);
	if (!*s)
		*out = dflt;
	else if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcmp(s, "是"))
		*out = 1;
	else if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcmp(s, "否"))
		*out = 0;
	else
		return -1;
	return 0;
}

static int load_rules(const struct doc *d, struct zx_rule **out, size_t *nout, struct bad *bad)
{
	static const char *const n_code[] = { "code", NULL }, *const n_region[] = { "region_path", "region", "region_code", NULL },
				 *const n_cat[] = { "category", NULL }, *const n_stages[] = { "stages", NULL },
				 *const n_dist[] = { "distance_m", NULL }, *const n_method[] = { "method", NULL },
				 *const n_effect[] = { "effect", NULL }, *const n_conf[] = { "confidence", NULL },
				 *const n_confirmed[] = { "confirmed", NULL }, *const n_enabled[] = { "enabled", NULL };
	struct colspec cs[] = { { n_code, 1, -1 },   { n_region, 1, -1 }, { n_cat, 1, -1 },       { n_stages, 1, -1 },
				{ n_dist, 1, -1 },   { n_method, 1, -1 }, { n_effect, 1, -1 },    { n_conf, 1, -1 },
				{ n_confirmed, 0, -1 }, { n_enabled, 0, -1 } };
	if (columns(d, cs, sizeof cs / sizeof cs[0]))
		return 1;
	struct zx_rule *rules = calloc(d->nrows ? d->nrows : 1, sizeof *rules);
	size_t n = 0;
	const struct table_row *r;
	size_t line;
	DOC_FOREACH(d, r, line)
	{
		struct zx_rule ru = { 0 };
		char tmp[256];
		const char *code = trim(cell(r, cs[0].idx), tmp, sizeof tmp);
		if (!*code || strlen(code) >= sizeof ru.code) {
			bad_row(bad, d->path, line, "规则代码为空或过长");
			continue;
		}
		snprintf(ru.code, sizeof ru.code, "%s", code);
		if (region_path(cell(r, cs[1].idx), ru.region_path, sizeof ru.region_path)) {
			bad_row(bad, d->path, line, "行政区划无效：“%s”", cell(r, cs[1].idx));
			continue;
		}
		if ((ru.category = zx_category_index(trim(cell(r, cs[2].idx), tmp, sizeof tmp))) < 0) {
			bad_row(bad, d->path, line, "未知的场所类别“%s”", cell(r, cs[2].idx));
			continue;
		}
		if (zx_stages_parse(cell(r, cs[3].idx), &ru.stages) || !ru.stages) {
			bad_row(bad, d->path, line, "学段列表无效：“%s”（如 “小学 初中”）", cell(r, cs[3].idx));
			continue;
		}
		const char *dist = trim(cell(r, cs[4].idx), tmp, sizeof tmp);
		ru.distance_m = NAN;
		if (*dist && (!table_parse_number(dist, &ru.distance_m) || ru.distance_m <= 0 || ru.distance_m > 5000)) {
			bad_row(bad, d->path, line, "距离无效：“%s”（应为 0–5000 米，或留空表示无距离）", dist);
			continue;
		}
		if ((ru.method = zx_method_index(trim(cell(r, cs[5].idx), tmp, sizeof tmp))) < 0) {
			bad_row(bad, d->path, line, "未知的测量方法“%s”", cell(r, cs[5].idx));
			continue;
		}
		ru.effect = zx_verdict_index(trim(cell(r, cs[6].idx), tmp, sizeof tmp));
		if (ru.effect <= ZX_CLEAR) {
			bad_row(bad, d->path, line, "未知的处理结论“%s”（应为 禁止、需审查 或 重点关注）", cell(r, cs[6].idx));
			continue;
		}
		const char *conf = trim(cell(r, cs[7].idx), tmp, sizeof tmp);
		if (strcmp(conf, "V") && strcmp(conf, "S") && strcmp(conf, "M") && strcmp(conf, "草案")) {
			bad_row(bad, d->path, line, "未知的可信度“%s”（应为 V、S、M 或 草案）", conf);
			continue;
		}
		int v = !strcmp(conf, "V"), confirmed, enabled;
		if (parse_flag(cell(r, cs[8].idx), 0, &confirmed) || parse_flag(cell(r, cs[9].idx), 1, &enabled)) {
			bad_row(bad, d->path, line, "confirmed 或 enabled 应为 0 或 1");
			continue;
		}
		if (!enabled)
			continue;
		ru.may_forbid = v || confirmed;
		ru.id = (int64_t)line;
		ru.version = 1;
		rules[n++] = ru;
	}
	*out = rules;
	*nout = n;
	return 0;
}

/*--- the join and the output --------------------------------------------------------*/

struct opair {
	int64_t school_id, venue_id;
	double distance_m, limit_m;
	const struct zx_rule *rule;
	int8_t category, method, fallback, verdict;
};

struct sink {
	pthread_mutex_t mu;
	struct opair *v;
	size_t n, cap;
	int oom;
};

static void collect(void *arg, const struct zx_pair *p)
{
	struct sink *s = arg;
	pthread_mutex_lock(&s->mu);
	if (s->n == s->cap) {
		size_t nc = s->cap ? 2 * s->cap : 4096;
		struct opair *nv = realloc(s->v, nc * sizeof *nv);
		if (!nv) {
			s->oom = 1;
			pthread_mutex_unlock(&s->mu);
			return;
		}
		s->v = nv, s->cap = nc;
	}
	s->v[s->n++] = (struct opair){ p->school_id, p->venue_id, p->distance_m, p->limit_m, p->rule,
				       (int8_t)p->category, (int8_t)p->method, (int8_t)p->fallback, (int8_t)p->verdict };
	pthread_mutex_unlock(&s->mu);
}

static int cmp_pair(const void *a, const void *b)
{
	const struct opair *x = a, *y = b;
	if (x->school_id != y->school_id)
		return x->school_id < y->school_id ? -1 : 1;
	if (x->distance_m != y->distance_m)
		return x->distance_m < y->distance_m ? -1 : 1;
	return x->venue_id < y->venue_id ? -1 : x->venue_id > y->venue_id;
}

static int write_pairs(FILE *f, int bom, const struct sink *s, const struct named *sn, size_t nsn,
		       const struct named *vn, size_t nvn)
{
	struct buf b = BUF_INIT;
	if (bom)
		csv_begin(&b);
	static const char *const head[] = { "school_id", "school_name", "venue_id",  "venue_name",
					    "category",  "distance_m",  "method",    "fallback",
					    "rule",      "limit_m",     "verdict" };
	csv_write_row(&b, head, 11);
	for (size_t i = 0; i < s->n; i++) {
		const struct opair *p = &s->v[i];
		char sid[24], vid[24], dist[32], lim[32];
		snprintf(sid, sizeof sid, "%lld", (long long)p->school_id);
		snprintf(vid, sizeof vid, "%lld", (long long)p->venue_id);
		snprintf(dist, sizeof dist, "%.2f", p->distance_m);
		if (isnan(p->limit_m))
			lim[0] = '\0';
		else
			snprintf(lim, sizeof lim, "%.2f", p->limit_m);
		const char *cells[11] = { sid,
					  name_of(sn, nsn, p->school_id),
					  vid,
					  name_of(vn, nvn, p->venue_id),
					  zx_category_names[p->category],
					  dist,
					  zx_method_codes[p->method],
					  p->fallback ? "1" : "0",
					  p->rule ? p->rule->code : "",
					  lim,
					  zx_verdict_names[p->verdict] };
		csv_write_row(&b, cells, 11);
		if (b.len > (1 << 20)) {
			fwrite(b.data, 1, b.len, f);
			buf_reset(&b);
		}
	}
	fwrite(b.data, 1, b.len, f);
	buf_free(&b);
	return ferror(f) ? -1 : 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int num_opt(const char *flag, const char *v, double lo, double hi, double *out)
{
	if (!v || !table_parse_number(v, out) || *out < lo || *out > hi)
		return fail("%s 应为 %g 到 %g 之间的数", flag, lo, hi);
	return 0;
}

static int cmd_scan(int argc, char **argv)
{
	const char *schools = NULL, *venues = NULL, *rules_path = NULL, *out = NULL;
	double radius = 200, margin = 5, threads = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(scan_usage, stdout);
			return 0;
		}
		if (!strcmp(a, "--schools") || !strcmp(a, "--venues") || !strcmp(a, "--rules") || !strcmp(a, "--out") ||
		    !strcmp(a, "--radius") || !strcmp(a, "--margin") || !strcmp(a, "--threads")) {
			if (!v)
				return fail("%s 需要一个值", a);
			i++;
			if (!strcmp(a, "--schools"))
				schools = v;
			else if (!strcmp(a, "--venues"))
				venues = v;
			else if (!strcmp(a, "--rules"))
				rules_path = v;
			else if (!strcmp(a, "--out"))
				out = v;
			else if (!strcmp(a, "--radius") ? num_opt(a, v, 1, 5000, &radius)
				 : !strcmp(a, "--margin") ? num_opt(a, v, 0, 100, &margin)
							  : num_opt(a, v, 1, 256, &threads))
				return 1;
			continue;
		}
		return fail("未知参数 '%s'（xiaoan zone scan --help）", a);
	}
	if (!schools || !venues)
		return fail("需要 --schools FILE 和 --venues FILE（xiaoan zone scan --help）");

	double t0 = now_s();
	struct bad bad = { 0 };
	struct doc ds = { 0 }, dv = { 0 }, dr = { 0 };
	struct zx *z = NULL;
	struct zx_rule *rules = NULL;
	struct named *sn = NULL, *vn = NULL;
	size_t nsn = 0, nvn = 0, nrules = 0;
	struct sink sink = { .mu = PTHREAD_MUTEX_INITIALIZER };
	int rc = 1;

	if (doc_read(&ds, schools) || doc_read(&dv, venues) || (rules_path && doc_read(&dr, rules_path)))
		goto out;
	if (rules_path) {
		if (load_rules(&dr, &rules, &nrules, &bad))
			goto out;
	} else if (!(rules = national_rules(&nrules))) {
		fail("内存不足");
		goto out;
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct zx_config cfg = { .radius_m = radius, .margin_m = margin,
				 .threads = threads > 0 ? (int)threads : (int)(cores > 0 ? cores : 1) };
	if (!(z = zx_new(&cfg)) || zx_set_rules(z, rules, nrules)) {
		fail("内存不足");
		goto out;
	}
	zx_reserve(z, ds.nrows, dv.nrows);
	if (load_schools(z, &ds, &sn, &nsn, &bad) || load_venues(z, &dv, &vn, &nvn, &bad))
		goto out;

	int big = isatty(STDERR_FILENO) && dv.nrows + ds.nrows > BIG_INPUT;
	if (big)
		fputs("判定中…", stderr);
	zx_join(z, "", collect, &sink);
	if (big)
		fputs("\r\033[K", stderr);
	if (sink.oom) {
		fail("内存不足");
		goto out;
	}
	if (sink.n)
		qsort(sink.v, sink.n, sizeof *sink.v, cmp_pair);

	FILE *f = out ? fopen(out, "wb") : stdout;
	if (!f) {
		fail("无法写入 %s：%s", out, strerror(errno));
		goto out;
	}
	int werr = write_pairs(f, out != NULL, &sink, sn, nsn, vn, nvn);
	if (out ? fclose(f) != 0 || werr : fflush(f) != 0 || werr) {
		fail("写入 %s 失败：%s", out ? out : "标准输出", strerror(errno));
		goto out;
	}
	size_t by[4] = { 0 };
	for (size_t i = 0; i < sink.n; i++)
		by[sink.v[i].verdict & 3]++;
	fprintf(stderr,
		"zone scan: 学校 %zu 所，场所 %zu 个，结果 %zu 对（禁止 %zu，需审查 %zu，重点关注 %zu），"
		"跳过的坏行 %zu，用时 %.2f 秒\n",
		nsn, nvn, sink.n, by[ZX_FORBID], by[ZX_REVIEW], by[ZX_WATCH], bad.n, now_s() - t0);
	rc = bad.n ? 2 : 0;
out:
	zx_free(z);
	free(rules);
	free(sn);
	free(vn);
	free(sink.v);
	doc_free(&ds);
	doc_free(&dv);
	doc_free(&dr);
	return rc;
}

int zone_cli(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "scan"))
		return cmd_scan(argc - 1, argv + 1);
	int help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
	fputs("usage: xiaoan zone scan --schools FILE --venues FILE [--rules FILE] [--radius 200] [--out pairs.csv]\n"
	      "(xiaoan zone scan --help for the columns)\n",
	      help ? stdout : stderr);
	return help ? 0 : 1;
}
