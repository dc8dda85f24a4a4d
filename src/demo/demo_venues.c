/*
 * demo_venues.c - the demo county's surroundings: about 1 500 venues of
 * every category around its schools, and a campus boundary and gates for
 * 15 schools, so that a newcomer sees 禁止, 需审查 and 重点关注 findings at
 * once and sees a boundary change a verdict.
 *
 * Most venues stand a few hundred metres or more from any school; some are
 * placed on purpose: internet cafés about 80 m from primary schools, one
 * about 150 m from a kindergarten (the national internet-café rule does not
 * cover kindergartens), tobacco about 30 m from gates, bars, e-sports
 * hotels, game rooms and stalls close by, internet cafés just inside and
 * just outside 200 m (the margin), closed and banned ones near schools, and
 * an internet café 290 m from 示范县实验小学's point but about 140 m from
 * its boundary. Everything is generated with a fixed seed. Venues go
 * through venue_add (validated, audited as "system"); the zone engine
 * judges them when the server starts. The school geometry is written with
 * SQL here because the school module has no call for it yet.
 */
#include "demo/demo.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth/audit.h"
#include "core/buf.h"
#include "demo/demo_data.h"
#include "store/store.h"
#include "venues/venues.h"

#define MAX_SCHOOLS 400

struct school {
	int64_t id;
	char name[96];
	char stage[32];
	char region[16];
	double lat, lon;
};

struct vctx {
	struct db *db;
	const struct audit_actor *actor;
	char *err;
	size_t errlen;
	uint64_t rng;
	int n;
	struct school s[MAX_SCHOOLS];
	int ns;
	int64_t unit_wlj, unit_scj, unit_cgj, unit_jyj;
};

static uint32_t rnd(struct vctx *c)
{
	/* xorshift64*, its own fixed seed: the same county every time */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return (uint32_t)((c->rng * 2685821657736338717ULL) >> 32);
}

static double uniform(struct vctx *c, double lo, double hi)
{
	return lo + (hi - lo) * (rnd(c) % 1000000) / 1000000.0;
}

/* The point dist metres from (lat, lon) on bearing deg (0 north, 90 east);
 * a local flat approximation, good to centimetres at these distances. */
static void offset(double lat, double lon, double dist, double deg, double *olat, double *olon)
{
	double b = deg * M_PI / 180;
	*olat = lat + dist * cos(b) / 111132.0;
	*olon = lon + dist * sin(b) / (111320.0 * cos(lat * M_PI / 180));
}

/*--- names ---*/

struct cat {
	const char *code;
	const char *const *stems;
	const char *const *suffixes;
	const char *licence_fmt; /* "%06d" style, NULL = none */
	int weight;              /* share among the ordinary venues */
};

static const char *const s_generic[] = { "阳光", "星际", "老街", "金桥", "兴旺", "红星", "友谊", "万家", "福源", "利民",
					 "鑫鑫", "如意", "天天", "好运来", "长江", "新时代", "蓝天", "德顺", "平安", "开心",
					 NULL };
static const char *const x_net[] = { "网咖", "网吧", "电竞网咖", "网络会所", NULL };
static const char *const s_net[] = { "星际", "极速", "天网", "蓝海", "零度", "风云", "战神", "网鱼", "竞界", "飞越", NULL };
static const char *const x_game[] = { "电玩城", "游艺厅", "动漫游戏城", NULL };
static const char *const x_ktv[] = { "KTV", "量贩式KTV", "歌舞厅", NULL };
static const char *const x_bar[] = { "酒吧", "清吧", "音乐酒吧", NULL };
static const char *const x_esh[] = { "电竞酒店", "电竞主题酒店", NULL };
static const char *const x_script[] = { "剧本杀", "密室逃脱", "推理馆", NULL };
static const char *const x_hotel[] = { "宾馆", "旅馆", "快捷酒店", "招待所", NULL };
static const char *const s_hotel[] = { "如家", "汉庭", "锦江之星", "好再来", "悦来", "客来", "迎宾", "福满楼", NULL };
static const char *const x_rental[] = { "日租房", "公寓", "短租房", NULL };
static const char *const x_tob[] = { "烟酒店", "烟酒商行", "烟酒副食", NULL };
static const char *const x_alc[] = { "酒行", "名酒专卖", "酒水批发", NULL };
static const char *const x_lot[] = { "福利彩票投注站", "体育彩票销售点", NULL };
static const char *const x_adult[] = { "成人用品店", "情趣用品店", NULL };
static const char *const x_eat[] = { "小吃店", "面馆", "快餐店", "烧烤店", "奶茶店", "炸鸡店", NULL };
static const char *const x_meal[] = { "学生营养餐配送中心", "团餐配送公司", NULL };
static const char *const x_stall[] = { "流动早餐摊", "烤肠摊", "水果摊", "小玩具摊", "臭豆腐摊", NULL };
static const char *const x_shop[] = { "便利店", "文具店", "超市", "小卖部", "文体用品店", NULL };
static const char *const x_tut[] = { "托管中心", "培训学校", "课外辅导班", "午托班", NULL };
static const char *const x_pub[] = { "书店", "书报亭", "音像店", NULL };
static const char *const x_other[] = { "台球室", "棋牌室", "理发店", "网约车停靠点", NULL };

static const struct cat cats[] = {
	{ "internet_cafe", s_net, x_net, "网文许字（2024）第%04d号", 2 },
	{ "game_arcade", s_generic, x_game, "娱经许（2023）%04d号", 1 },
	{ "ktv_dance", s_generic, x_ktv, "娱经许（2022）%04d号", 1 },
	{ "bar", s_generic, x_bar, "JY134089910%05d", 1 },
	{ "esports_hotel", s_net, x_esh, "特行340899%05d", 1 },
	{ "script_escape", s_generic, x_script, "92340899MA2%05d", 1 },
	{ "hotel", s_hotel, x_hotel, "特行340899H%04d", 4 },
	{ "rental", s_generic, x_rental, NULL, 3 },
	{ "tobacco", s_generic, x_tob, "340899%06d", 9 },
	{ "alcohol", s_generic, x_alc, "JY234089910%05d", 3 },
	{ "lottery", s_generic, x_lot, "34089900%04d", 3 },
	{ "adult", s_generic, x_adult, "92340899MA3%05d", 1 },
	{ "eatery", s_generic, x_eat, "JY334089910%05d", 20 },
	{ "meal_supplier", s_generic, x_meal, "JY434089910%05d", 1 },
	{ "stall", s_generic, x_stall, NULL, 6 },
	{ "shop", s_generic, x_shop, "92340899MA4%05d", 20 },
	{ "tutoring", s_generic, x_tut, "教民340899%05d", 5 },
	{ "publication", s_generic, x_pub, "新出发340899%05d", 2 },
	{ "other", s_generic, x_other, NULL, 4 },
};
#define NCATS ((int)(sizeof cats / sizeof cats[0]))

static const struct cat *cat_of(const char *code)
{
	for (int i = 0; i < NCATS; i++)
		if (strcmp(cats[i].code, code) == 0)
			return &cats[i];
	return &cats[NCATS - 1];
}

static int count_of(const char *const *a)
{
	int n = 0;
	while (a[n])
		n++;
	return n;
}

static const struct cat *weighted_cat(struct vctx *c)
{
	int total = 0;
	for (int i = 0; i < NCATS; i++)
		total += cats[i].weight;
	int k = (int)(rnd(c) % (uint32_t)total);
	for (int i = 0; i < NCATS; i++)
		if ((k -= cats[i].weight) < 0)
			return &cats[i];
	return &cats[NCATS - 1];
}

/* Which member unit answers for a category: 文旅 for entertainment and
 * publications, 城管 for stalls, 教育 for tutoring, the township's police
 * station for lodging, 市场监管 for the rest. */
static int64_t unit_for(struct vctx *c, const char *code, const char *region)
{
	static const char *const wlj[] = { "internet_cafe", "game_arcade", "ktv_dance", "bar", "script_escape",
					   "publication", NULL };
	for (int i = 0; wlj[i]; i++)
		if (strcmp(code, wlj[i]) == 0)
			return c->unit_wlj;
	if (strcmp(code, "stall") == 0)
		return c->unit_cgj;
	if (strcmp(code, "tutoring") == 0)
		return c->unit_jyj;
	if (!strcmp(code, "hotel") || !strcmp(code, "rental") || !strcmp(code, "esports_hotel")) {
		int64_t id = 0;
		char pcs[16];
		snprintf(pcs, sizeof pcs, "pcs%s", strlen(region) == 9 ? region + 6 : "001");
		if (db_query_int64(c->db, &id, "SELECT id FROM units WHERE code = $1", 1, pcs) == 0)
			return id;
	}
	return c->unit_scj;
}

static const char *township_name(const char *code)
{
	for (int t = 0; t < demo_ntownships; t++)
		if (strcmp(demo_townships[t].code, code) == 0)
			return demo_townships[t].name;
	return "示范县";
}

/* Adds one venue of category code at (lat, lon) in region; name NULL =
 * generated. */
static int add(struct vctx *c, const char *code, const char *name, double lat, double lon, const char *region,
	       const char *status)
{
	const struct cat *k = cat_of(code);
	char nm[128], lic[64] = "", phone[16], addr[160], oper[32];
	if (!name) {
		snprintf(nm, sizeof nm, "%s%s", k->stems[rnd(c) % (uint32_t)count_of(k->stems)],
			 k->suffixes[rnd(c) % (uint32_t)count_of(k->suffixes)]);
		name = nm;
	}
	c->n++;
	if (k->licence_fmt && rnd(c) % 20 != 0) /* a few trade without one */
		snprintf(lic, sizeof lic, k->licence_fmt, c->n);
	snprintf(phone, sizeof phone, "1%d%09u", 3 + (int)(rnd(c) % 7), rnd(c) % 1000000000u);
	snprintf(oper, sizeof oper, "%s%s", demo_surnames[rnd(c) % (uint32_t)demo_nsurnames],
		 demo_given[rnd(c) % (uint32_t)demo_ngiven]);
	snprintf(addr, sizeof addr, "示范县%s%s路%d号", township_name(region),
		 demo_villages[rnd(c) % (uint32_t)demo_nvillages], 1 + (int)(rnd(c) % 400));
	lat = round(lat * 1e7) / 1e7;
	lon = round(lon * 1e7) / 1e7;
	json_t *ent = json_array();
	int ne = rnd(c) % 10 < 3 ? 1 + (int)(rnd(c) % 2) : 0;
	for (int i = 0; i < ne; i++) {
		double elat, elon;
		offset(lat, lon, uniform(c, 4, 18), uniform(c, 0, 360), &elat, &elon);
		json_array_append_new(ent, json_pack("{s:f,s:f,s:s}", "lat", round(elat * 1e7) / 1e7, "lon",
						     round(elon * 1e7) / 1e7, "name", i ? "后门" : "正门"));
	}
	int64_t unit = unit_for(c, code, region);
	json_t *rec = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:f,s:f,s:o,s:s,s:I,s:s}", "name", name, "category", code,
				"licence_no", lic, "operator_name", strcmp(code, "stall") ? oper : "",
				"operator_phone", phone, "region_code", region, "address", addr, "lat", lat, "lon", lon,
				"entrances", ent, "status", status, "unit_id", (json_int_t)unit, "note", "");
	if (!unit)
		json_object_set_new(rec, "unit_id", json_null());
	int64_t id;
	int rc = venue_add(c->db, c->actor, rec, &id, c->err, c->errlen);
	json_decref(rec);
	return rc;
}

/* Adds a venue dist metres from school s on a random bearing. */
static int near(struct vctx *c, const struct school *s, const char *code, const char *name, double dist,
		const char *status)
{
	double lat, lon;
	offset(s->lat, s->lon, dist, uniform(c, 0, 360), &lat, &lon);
	return add(c, code, name, lat, lon, s->region, status);
}

static struct school *find_school(struct vctx *c, const char *name)
{
	for (int i = 0; i < c->ns; i++)
		if (strcmp(c->s[i].name, name) == 0)
			return &c->s[i];
	return NULL;
}

/* The k-th school (from 0) whose stage is stage, or NULL. */
static struct school *nth_stage(struct vctx *c, const char *stage, int k)
{
	for (int i = 0; i < c->ns; i++)
		if (strcmp(c->s[i].stage, stage) == 0 && k-- == 0)
			return &c->s[i];
	return NULL;
}

/*--- campus boundaries and gates ---*/

/* Writes a boundary (x east, y north in metres from the school's point: an
 * irregular polygon inside the box [x0,x1]×[y0,y1]) and gates. */
static int set_geometry(struct vctx *c, struct school *s, double x0, double x1, double y0, double y1, double jitter,
			int ngates)
{
	double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, a = (x1 - x0) / 2, b = (y1 - y0) / 2;
	int n = 8 + (int)(rnd(c) % 5);
	struct buf ring = BUF_INIT;
	double first_lat = 0, first_lon = 0;
	buf_puts(&ring, "[[[");
	for (int k = 0; k < n; k++) {
		/* counter-clockwise from east; the radius of the box at that
		 * angle, pulled in a little: a star-shaped, hence simple, ring */
		double th = 2 * M_PI * (k + uniform(c, -0.2, 0.2)) / n;
		double rx = fabs(cos(th)) > 1e-9 ? a / fabs(cos(th)) : 1e9;
		double ry = fabs(sin(th)) > 1e-9 ? b / fabs(sin(th)) : 1e9;
		double rr = (rx < ry ? rx : ry) * uniform(c, 1 - jitter, 1);
		double lat, lon;
		double x = cx + rr * cos(th), y = cy + rr * sin(th);
		offset(s->lat, s->lon, hypot(x, y), atan2(x, y) * 180 / M_PI, &lat, &lon);
		if (k == 0) {
			first_lat = lat;
			first_lon = lon;
		}
		buf_printf(&ring, "%s[%.7f,%.7f]", k ? "," : "", lon, lat);
	}
	buf_printf(&ring, ",[%.7f,%.7f]]]]", first_lon, first_lat);

	/* gates: the pupils' gate at the school's point (on the south side),
	 * then an east side gate and a north back gate */
	json_t *gates = json_array();
	static const char *const gname[] = { "正门", "东侧门", "后门" };
	for (int g = 0; g < ngates && g < 3; g++) {
		double x = g == 0 ? 0 : g == 1 ? x1 : cx, y = g == 0 ? 0 : g == 1 ? cy : y1, lat, lon;
		offset(s->lat, s->lon, hypot(x, y), atan2(x, y) * 180 / M_PI, &lat, &lon);
		json_array_append_new(gates, json_pack("{s:f,s:f,s:s,s:b}", "lat", round(lat * 1e7) / 1e7, "lon",
						       round(lon * 1e7) / 1e7, "name", gname[g], "pupils", g == 0));
	}
	char *gtext = json_dumps(gates, JSON_COMPACT | JSON_REAL_PRECISION(15));
	struct stmt *st;
	int rc = db_prepare(c->db, &st, "UPDATE schools SET boundary = $1, entrances = $2 WHERE id = $3");
	if (rc == 0) {
		stmt_bind_text(st, 1, ring.data);
		stmt_bind_text(st, 2, gtext);
		stmt_bind_int64(st, 3, s->id);
		rc = stmt_step(st) == STORE_DONE ? 0 : STORE_ERR;
		stmt_finalize(st);
	}
	if (rc == 0) {
		char ids[24];
		snprintf(ids, sizeof ids, "%lld", (long long)s->id);
		json_t *before = json_pack("{s:n,s:[]}", "boundary", "entrances");
		json_t *after = json_pack("{s:s,s:O}", "boundary", ring.data, "entrances", gates);
		rc = audit_append(c->db, c->actor, "update", "school", ids, before, after);
		json_decref(before);
		json_decref(after);
	}
	if (rc)
		snprintf(c->err, c->errlen, "学校 %s 边界：%s", s->name, db_errmsg(c->db));
	free(gtext);
	json_decref(gates);
	buf_free(&ring);
	return rc ? -1 : 0;
}

/*--- loading ---*/

static int load(struct vctx *c)
{
	struct stmt *st;
	int rc = db_prepare(c->db, &st,
			    "SELECT id, name, stage, region_code, lat, lon FROM schools"
			    " WHERE deleted_at IS NULL AND lat IS NOT NULL ORDER BY id");
	if (rc)
		goto fail;
	while ((rc = stmt_step(st)) == STORE_ROW && c->ns < MAX_SCHOOLS) {
		struct school *s = &c->s[c->ns++];
		s->id = stmt_int64(st, 0);
		snprintf(s->name, sizeof s->name, "%s", stmt_text(st, 1));
		snprintf(s->stage, sizeof s->stage, "%s", stmt_text(st, 2));
		snprintf(s->region, sizeof s->region, "%s", stmt_text(st, 3));
		s->lat = stmt_double(st, 4);
		s->lon = stmt_double(st, 5);
	}
	stmt_finalize(st);
	if (rc != STORE_DONE && rc != STORE_ROW)
		goto fail;
	if ((rc = db_query_int64(c->db, &c->unit_wlj, "SELECT id FROM units WHERE code = 'wlj'", 0)) ||
	    (rc = db_query_int64(c->db, &c->unit_scj, "SELECT id FROM units WHERE code = 'scjgj'", 0)) ||
	    (rc = db_query_int64(c->db, &c->unit_cgj, "SELECT id FROM units WHERE code = 'cgj'", 0)) ||
	    (rc = db_query_int64(c->db, &c->unit_jyj, "SELECT id FROM units WHERE code = 'jyj'", 0)))
		goto fail;
	return 0;
fail:
	snprintf(c->err, c->errlen, "场所演示数据：%s", db_errmsg(c->db));
	return -1;
}

/*--- the county ---*/

static int deliberate(struct vctx *c)
{
	struct school *s;
	/* internet cafés about 80 m from four primary schools: 禁止 */
	for (int k = 0; k < 4; k++)
		if ((s = nth_stage(c, "小学", 2 + 3 * k)) && near(c, s, "internet_cafe", NULL, uniform(c, 70, 90), "营业"))
			return -1;
	/* one about 150 m from a kindergarten: the national rule does not
	 * cover kindergartens */
	if ((s = nth_stage(c, "幼儿园", 0)) && near(c, s, "internet_cafe", "童趣网咖", 150, "营业"))
		return -1;
	/* just inside and just outside the limit: the margin makes both 需审查 */
	if ((s = nth_stage(c, "初中", 0)) && (near(c, s, "internet_cafe", "边界线网吧", 198, "营业") ||
					      near(c, s, "internet_cafe", "一步之遥网咖", 203, "营业")))
		return -1;
	/* closed and banned ones near schools: nothing to forbid any more */
	if ((s = nth_stage(c, "小学", 1)) && (near(c, s, "internet_cafe", "旧时光网吧", 70, "停业") ||
					      near(c, s, "internet_cafe", "黑网吧（已取缔）", 60, "取缔")))
		return -1;
	/* tobacco at the gate, stalls at the door, and the rest close by */
	for (int k = 0; k < 6; k++) {
		s = &c->s[(k * 17 + 3) % c->ns];
		if (near(c, s, "tobacco", NULL, uniform(c, 25, 35), "营业") || near(c, s, "stall", NULL, uniform(c, 15, 25), "营业") ||
		    near(c, s, "lottery", NULL, uniform(c, 50, 70), "营业"))
			return -1;
	}
	static const struct {
		const char *stage, *code;
		double dist;
	} close_by[] = {
		{ "初中", "bar", 120 },           { "高中", "bar", 90 },
		{ "高中", "esports_hotel", 150 }, { "完全中学", "esports_hotel", 110 },
		{ "小学", "game_arcade", 90 },    { "初中", "ktv_dance", 180 },
		{ "小学", "script_escape", 160 }, { "初中", "adult", 100 },
		{ "小学", "tutoring", 50 },       { "幼儿园", "alcohol", 40 },
		{ "九年一贯制", "internet_cafe", 130 }, { "中职", "internet_cafe", 170 },
		{ "特殊教育", "game_arcade", 140 }, { "小学", "hotel", 60 },
		{ "初中", "rental", 80 },         { "小学", "meal_supplier", 120 },
	};
	for (size_t i = 0; i < sizeof close_by / sizeof close_by[0]; i++)
		if ((s = nth_stage(c, close_by[i].stage, (int)i % 3)) &&
		    near(c, s, close_by[i].code, NULL, close_by[i].dist, "营业"))
			return -1;
	return 0;
}

static int ordinary(struct vctx *c, int target)
{
	static const char *const closed[] = { "停业", "取缔", "注销" };
	/* round every school: shops, eateries, lodging... mostly beyond 200 m */
	for (int i = 0; i < c->ns && c->n < target; i++) {
		int k = 5 + (int)(rnd(c) % 5);
		for (int j = 0; j < k; j++) {
			const struct cat *cat = weighted_cat(c);
			int r = (int)(rnd(c) % 100);
			const char *status = r < 4 ? closed[rnd(c) % 3] : "营业";
			double dist = r % 5 == 0 ? uniform(c, 60, 200) : uniform(c, 200, 900);
			if (near(c, &c->s[i], cat->code, NULL, dist, status))
				return -1;
		}
	}
	/* and across the townships, where no school is */
	while (c->n < target) {
		const struct demo_township *tw = &demo_townships[rnd(c) % (uint32_t)demo_ntownships];
		double lat, lon;
		offset(tw->lat, tw->lon, uniform(c, 100, tw->is_seat ? 2500 : 3500), uniform(c, 0, 360), &lat, &lon);
		const struct cat *cat = weighted_cat(c);
		if (add(c, cat->code, NULL, lat, lon, tw->code, rnd(c) % 100 < 4 ? closed[rnd(c) % 3] : "营业"))
			return -1;
	}
	return 0;
}

static int boundaries(struct vctx *c)
{
	/* 示范县实验小学: a long campus reaching 150 m east of its gate; an
	 * internet café 290 m east of the gate is ~140 m from the wall */
	struct school *s = find_school(c, "示范县实验小学");
	if (s) {
		double lat, lon;
		if (set_geometry(c, s, -80, 150, -10, 150, 0.04, 3))
			return -1;
		offset(s->lat, s->lon, 290, 90, &lat, &lon);
		if (add(c, "internet_cafe", "网鱼电竞网咖（人民路店）", lat, lon, s->region, "营业"))
			return -1;
	}
	int done = s ? 1 : 0;
	for (int i = 4; i < c->ns && done < 15; i += 8) {
		if (&c->s[i] == s)
			continue;
		double a = uniform(c, 55, 120), b = uniform(c, 45, 100);
		if (set_geometry(c, &c->s[i], -a, a, -10, 2 * b - 10, 0.12, 1 + (int)(rnd(c) % 3)))
			return -1;
		done++;
	}
	return 0;
}

int demo_venues(struct db *db, const struct audit_actor *actor, char *err, size_t errlen)
{
	struct vctx *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->db = db;
	c->actor = actor;
	c->err = err;
	c->errlen = errlen;
	c->rng = 0x5EEDFACEULL;
	int rc = load(c);
	if (rc == 0 && c->ns > 0)
		rc = boundaries(c) || deliberate(c) || ordinary(c, 1500) ? -1 : 0;
	free(c);
	return rc;
}
