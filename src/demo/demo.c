/*
 * demo.c - the synthetic demo county (示范县): regions, member units with
 * their duties, a police station and a township office per township,
 * about 120 schools with realistic names, stages, sizes and coordinates,
 * and one user per role. Everything is generated from demo_data.c with a
 * fixed seed, so every newcomer sees the same county. It is created
 * through the admin and school modules' own functions, audited as
 * "system", in one transaction.
 */
#include "demo/demo.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "auth/audit.h"
#include "demo/demo_data.h"
#include "schools/schools.h"
#include "store/store.h"

#define COUNTY "340899"

static uint64_t rng = 0x5EED2026ULL;

static uint32_t rnd(void)
{
	/* xorshift64*: deterministic, good enough for names and sizes */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 2685821657736338717ULL) >> 32);
}

static int between(int lo, int hi)
{
	return lo + (int)(rnd() % (uint32_t)(hi - lo + 1));
}

static void person(char *out, size_t n)
{
	snprintf(out, n, "%s%s", demo_surnames[rnd() % (uint32_t)demo_nsurnames], demo_given[rnd() % (uint32_t)demo_ngiven]);
}

static void mobile(char *out, size_t n)
{
	static const char *const prefix[] = { "139", "138", "137", "135", "150", "151", "158", "187", "189", "133" };
	snprintf(out, n, "%s%08u", prefix[rnd() % 10], rnd() % 100000000u);
}

struct ctx {
	struct db *db;
	struct audit_actor actor;
	char *err;
	size_t errlen;
	int nschools;
	int64_t police[32];     /* per township: 派出所 unit id */
	int64_t principal_school;
	int64_t principal_unit;
};

struct kind {
	const char *stage;
	const char *ownership;
	int lo, hi;           /* enrollment */
	int boarding;         /* percent */
};

static const struct kind K_KG_PUB = { "幼儿园", "公办", 90, 380, 0 };
static const struct kind K_KG_PRIV = { "幼儿园", "民办", 60, 260, 0 };
static const struct kind K_PRI_VIL = { "小学", "公办", 35, 320, 0 };
static const struct kind K_PRI_CTR = { "小学", "公办", 600, 1600, 10 };
static const struct kind K_MID = { "初中", "公办", 500, 1600, 60 };
static const struct kind K_HIGH = { "高中", "公办", 1500, 3600, 90 };
static const struct kind K_FULL = { "完全中学", "公办", 2000, 4200, 80 };
static const struct kind K_NINE = { "九年一贯制", "公办", 400, 1300, 30 };
static const struct kind K_NINE_PRIV = { "九年一贯制", "民办", 600, 1800, 70 };
static const struct kind K_VOC = { "中职", "公办", 800, 2200, 80 };
static const struct kind K_SPEC = { "特殊教育", "公办", 60, 160, 50 };

static int add_school(struct ctx *c, int t, const char *name, const struct kind *k, double spread_km)
{
	const struct demo_township *tw = &demo_townships[t];
	char code[24], pname[32], pphone[24], sname[32], sphone[24], lvp[32], lphone[24];
	snprintf(code, sizeof code, "2134089%03d", (++c->nschools) % 1000);
	person(pname, sizeof pname);
	mobile(pphone, sizeof pphone);
	person(sname, sizeof sname);
	mobile(sphone, sizeof sphone);
	person(lvp, sizeof lvp);
	mobile(lphone, sizeof lphone);
	int enrollment = between(k->lo, k->hi);
	int staff = enrollment / between(11, 16) + 3;
	/* most schools meet the guard rule (2 for the first 1000 pupils, more
	 * above); a few fall short, as inspections find */
	int guards = enrollment < 200 ? between(0, 1) : 2 + enrollment / 1000;
	if (rnd() % 10 == 0 && guards > 0)
		guards--;
	double ang = (rnd() % 3600) / 3600.0 * 2 * M_PI, dist = (rnd() % 1000) / 1000.0 * spread_km;
	double lat = tw->lat + dist * cos(ang) / 111.0;
	double lon = tw->lon + dist * sin(ang) / (111.0 * cos(tw->lat * M_PI / 180));
	char addr[160];
	snprintf(addr, sizeof addr, "示范县%s%s路%d号", tw->name, demo_villages[rnd() % (uint32_t)demo_nvillages],
		 between(1, 399));
	char vpunit[96];
	snprintf(vpunit, sizeof vpunit, "示范县公安局%s派出所", tw->short_name);
	json_t *rec = json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:f,s:f,s:i,s:i,s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s}",
				"name", name, "code", code, "stage", k->stage, "ownership", k->ownership, "boarding",
				(int)(rnd() % 100) < k->boarding, "region_code", tw->code, "address", addr, "lat",
				round(lat * 1e6) / 1e6, "lon", round(lon * 1e6) / 1e6, "enrollment", enrollment,
				"staff_count", staff, "guard_count", guards, "principal_name", pname, "principal_phone",
				pphone, "safety_officer_name", sname, "safety_officer_phone", sphone, "legal_vp_name", lvp,
				"legal_vp_unit", vpunit, "legal_vp_phone", lphone, "police_unit_id",
				(json_int_t)c->police[t], "status", "正常");
	int64_t id = 0;
	int rc = school_add(c->db, &c->actor, rec, &id, c->err, c->errlen);
	json_decref(rec);
	if (rc == 0 && !c->principal_school && strcmp(name, "示范县实验小学") == 0)
		c->principal_school = id;
	return rc;
}

static int seed_schools(struct ctx *c)
{
	char name[96];
	int v = 0;
	for (int t = 0; t < demo_ntownships; t++) {
		const struct demo_township *tw = &demo_townships[t];
		if (tw->is_seat) {
			const char *east[] = { "示范县实验小学", "示范县第一中学", "示范县实验幼儿园", "示范县职业教育中心",
					       "示范县特殊教育学校", "示范县育才学校", "示范县阳光幼儿园", "城东小学",
					       "城东第二小学", "城东幼儿园", "示范县第三中学", "示范县启明星幼儿园",
					       "示范县城东初级中学", "示范县新星幼儿园", "示范县城东第三小学" };
			const struct kind *ek[] = { &K_PRI_CTR, &K_FULL, &K_KG_PUB, &K_VOC, &K_SPEC, &K_NINE_PRIV, &K_KG_PRIV,
						    &K_PRI_CTR, &K_PRI_CTR, &K_KG_PUB, &K_MID, &K_KG_PRIV, &K_MID, &K_KG_PRIV,
						    &K_PRI_CTR };
			const char *west[] = { "示范县第二实验小学", "示范县高级中学", "示范县第二中学", "城西小学",
					       "城西幼儿园", "示范县博雅幼儿园", "示范县城西初级中学", "城西第二小学",
					       "示范县金色童年幼儿园", "示范县城西九年一贯制学校", "示范县第四中学",
					       "城西第二幼儿园", "示范县小天使幼儿园" };
			const struct kind *wk[] = { &K_PRI_CTR, &K_HIGH, &K_MID, &K_PRI_CTR, &K_KG_PUB, &K_KG_PRIV, &K_MID,
						    &K_PRI_CTR, &K_KG_PRIV, &K_NINE, &K_HIGH, &K_KG_PUB, &K_KG_PRIV };
			int east_side = t == 0;
			int n = east_side ? (int)(sizeof east / sizeof east[0]) : (int)(sizeof west / sizeof west[0]);
			for (int i = 0; i < n; i++)
				if (add_school(c, t, east_side ? east[i] : west[i], east_side ? ek[i] : wk[i], 1.8))
					return -1;
			continue;
		}
		snprintf(name, sizeof name, "%s镇中心小学", tw->short_name);
		if (strstr(tw->name, "乡"))
			snprintf(name, sizeof name, "%s乡中心小学", tw->short_name);
		if (add_school(c, t, name, &K_PRI_CTR, 0.8))
			return -1;
		snprintf(name, sizeof name, "%s%s初级中学", tw->short_name, strstr(tw->name, "乡") ? "乡" : "镇");
		if (add_school(c, t, name, t % 4 == 3 ? &K_NINE : &K_MID, 1.2))
			return -1;
		snprintf(name, sizeof name, "%s%s中心幼儿园", tw->short_name, strstr(tw->name, "乡") ? "乡" : "镇");
		if (add_school(c, t, name, &K_KG_PUB, 0.8))
			return -1;
		snprintf(name, sizeof name, "%s%s幼儿园", tw->short_name, t % 2 ? "小太阳" : "童乐");
		if (add_school(c, t, name, &K_KG_PRIV, 1.5))
			return -1;
		if (tw->villages >= 4) {
			snprintf(name, sizeof name, "%s%s第二小学", tw->short_name, strstr(tw->name, "乡") ? "乡" : "镇");
			if (add_school(c, t, name, &K_PRI_CTR, 1.5))
				return -1;
		}
		for (int i = 0; i < tw->villages; i++) {
			snprintf(name, sizeof name, "%s镇%s小学", tw->short_name, demo_villages[v++ % demo_nvillages]);
			if (strstr(tw->name, "乡"))
				snprintf(name, sizeof name, "%s乡%s小学", tw->short_name, demo_villages[(v - 1) % demo_nvillages]);
			if (add_school(c, t, name, &K_PRI_VIL, 4.5))
				return -1;
		}
	}
	return 0;
}

static int seed_units(struct ctx *c)
{
	int64_t id;
	for (int i = 0; i < demo_nunits; i++) {
		const struct demo_unit *u = &demo_units[i];
		if (admin_unit_add(c->db, &c->actor, u->code, u->name, u->type, u->parent, COUNTY, u->duties, &id, c->err,
				   c->errlen))
			return -1;
	}
	for (int t = 0; t < demo_ntownships; t++) {
		const struct demo_township *tw = &demo_townships[t];
		char code[32], name[96];
		snprintf(code, sizeof code, "pcs%s", tw->code + 6);
		snprintf(name, sizeof name, "示范县公安局%s派出所", tw->short_name);
		if (admin_unit_add(c->db, &c->actor, code, name, "派出所", "gaj", tw->code,
				   "负责辖区学校周边巡逻防控、高峰勤务和护学岗，处置涉校警情。", &c->police[t], c->err, c->errlen))
			return -1;
		snprintf(code, sizeof code, "xz%s", tw->code + 6);
		snprintf(name, sizeof name, "%s%s", strstr(tw->name, "街道") ? "示范县" : "", tw->name);
		if (admin_unit_add(c->db, &c->actor, code, name, "乡镇街道", "zzb", tw->code,
				   "落实属地管理责任，组织辖区校园周边环境排查整治和矛盾纠纷化解。", &id, c->err, c->errlen))
			return -1;
	}
	return 0;
}

static int seed_regions(struct ctx *c)
{
	if (admin_region_add(c->db, &c->actor, "340000", "安徽省", "province", NULL, c->err, c->errlen) ||
	    admin_region_add(c->db, &c->actor, "340800", "安庆市", "city", "340000", c->err, c->errlen) ||
	    admin_region_add(c->db, &c->actor, COUNTY, "示范县", "county", "340800", c->err, c->errlen))
		return -1;
	for (int t = 0; t < demo_ntownships; t++)
		if (admin_region_add(c->db, &c->actor, demo_townships[t].code, demo_townships[t].name, "township", COUNTY,
				     c->err, c->errlen))
			return -1;
	return 0;
}

struct demo_user {
	const char *username, *display, *role, *unit, *scope, *what;
};

int demo_seed(struct store *st, FILE *out, char *err, size_t errlen)
{
	struct db *db = store_acquire(st);
	struct ctx c = { .db = db, .actor = { .user_id = 0, .username = "system", .client_ip = "cli", .request_id = "demo" },
			 .err = err, .errlen = errlen };
	int64_t seeded = 0;
	int rc = db_query_int64(db, &seeded, "SELECT count(*) FROM settings WHERE key = 'demo_county'", 0);
	if (rc == STORE_OK && seeded) {
		store_release(db);
		fprintf(out, "demo county already present; nothing to do\n");
		return 0;
	}
	if (db_begin(db)) {
		snprintf(err, errlen, "%s", db_errmsg(db));
		store_release(db);
		return -1;
	}
	rng = 0x5EED2026ULL;
	if (seed_regions(&c) || seed_units(&c) || seed_schools(&c) || demo_venues(db, &c.actor, err, errlen))
		goto fail;

	/* the demo principal's school gets its own unit under the education bureau */
	int64_t sid = c.principal_school;
	if (admin_unit_add(db, &c.actor, "sch-syxx", "示范县实验小学", "学校", "jyj", "340899001",
			   "落实校园安全主体责任，校长为第一责任人。", &c.principal_unit, err, errlen))
		goto fail;
	char school_scope[40];
	snprintf(school_scope, sizeof school_scope, "school:%lld", (long long)sid);
	const struct demo_user users[] = {
		{ "zongzhi", "县综治办 陈立新", "coordinator", "zzb", "region:" COUNTY, "综治办统筹：全县" },
		{ "jiaoyu", "县教育局 王海燕", "cadre", "jyj", "region:" COUNTY, "成员单位干部：全县" },
		{ "chengdong", "城东街道 刘文斌", "cadre", "xz001", "region:340899001", "成员单位干部：城东街道" },
		{ "minjing", "城东派出所 张志强", "police", "pcs001", "unit:pcs001", "公安民警：城东派出所辖区学校" },
		{ "xiaozhang", "实验小学 李秀英", "principal", "sch-syxx", school_scope, "学校校长：示范县实验小学" },
		{ "anquan", "实验小学 周明辉", "safety_officer", "sch-syxx", school_scope, "学校安全干部：示范县实验小学" },
		{ "duzhi", "县政府督导室 赵德胜", "inspector", "zzb", "region:" COUNTY, "督导只读：全县" },
	};
	char pws[sizeof users / sizeof users[0]][17];
	for (size_t i = 0; i < sizeof users / sizeof users[0]; i++)
		if (admin_user_create(db, &c.actor, users[i].username, users[i].display, users[i].role, users[i].unit,
				      users[i].scope, pws[i], err, errlen) < 0)
			goto fail;
	if (db_exec(db, "INSERT INTO settings (key, value) VALUES ('demo_county', '340899')")) {
		snprintf(err, errlen, "%s", db_errmsg(db));
		goto fail;
	}
	if (db_commit(db)) {
		snprintf(err, errlen, "commit: %s", db_errmsg(db));
		goto fail;
	}
	int64_t nvenues = 0, nbound = 0;
	db_query_int64(db, &nvenues, "SELECT count(*) FROM venues", 0);
	db_query_int64(db, &nbound, "SELECT count(*) FROM schools WHERE boundary IS NOT NULL", 0);
	fprintf(out, "demo county 示范县 (340899): %d townships, %d member units, %d schools (%lld with a campus boundary), "
		"%lld venues around them\n", demo_ntownships, demo_nunits + 2 * demo_ntownships + 1, c.nschools,
		(long long)nbound, (long long)nvenues);
	fprintf(out, "demo accounts (one per role; change the password at first sign-in):\n");
	for (size_t i = 0; i < sizeof users / sizeof users[0]; i++)
		fprintf(out, "   %-10s %s  %s\n", users[i].username, pws[i], users[i].what);
	store_release(db);
	return 0;
fail:
	db_rollback(db);
	store_release(db);
	return -1;
}
