/*
 * zone_store.c - the zone engine inside the server: one shared index,
 * loaded from the database at start, kept in step by the registries'
 * hooks and, across servers, by the zone_changes log; the findings SQL.
 *
 * Lock order: a writer takes the database's write transaction first, then
 * the index lock (zl). Under zl alone only reads of the database happen
 * (following the log), so the two never wait on each other in a cycle.
 */
#include "zone/zone_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/audit.h"
#include "core/clock.h"
#include "core/log.h"
#include "geo/geom.h"
#include "store/store.h"
#include "zone/rules_seed.h"

static pthread_mutex_t zl = PTHREAD_MUTEX_INITIALIZER;
/* who the audit trail names for what the server does by itself */
static const struct audit_actor sys = { .user_id = 0, .username = "system", .client_ip = "server", .request_id = "zone" };
static struct zx *Z;
static int64_t last_seq;
static struct zx_config zcfg = { .radius_m = 200, .margin_m = 5, .threads = 2 };

void zone_configure(double radius_m, double margin_m)
{
	zcfg.radius_m = radius_m;
	zcfg.margin_m = margin_m;
}

struct zx *zone_lock(void)
{
	pthread_mutex_lock(&zl);
	return Z;
}

void zone_unlock(void)
{
	pthread_mutex_unlock(&zl);
}

double zone_radius(void)
{
	return zcfg.radius_m;
}

/*--- loading ------------------------------------------------------------------*/

/* entrances JSON [{"lat","lon","pupils"}] -> points, pupils' gates first */
static int parse_gates(const char *text, struct geo_pt *out, int max, int *npupil)
{
	*npupil = 0;
	json_t *a = text ? json_loads(text, 0, NULL) : NULL;
	int n = 0;
	if (json_is_array(a))
		for (int pass = 0; pass < 2; pass++) {
			size_t i;
			json_t *g;
			json_array_foreach(a, i, g)
			{
				int pupils = json_is_true(json_object_get(g, "pupils"));
				if (pupils != (pass == 0) || n >= max)
					continue;
				json_t *la = json_object_get(g, "lat"), *lo = json_object_get(g, "lon");
				if (!json_is_number(la) || !json_is_number(lo))
					continue;
				out[n].lat = json_number_value(la), out[n].lon = json_number_value(lo);
				n++;
				if (pass == 0)
					(*npupil)++;
			}
		}
	json_decref(a);
	return n;
}

#define SCHOOL_COLS \
	"SELECT s.id, s.lat, s.lon, s.stage, g.path, s.boundary, s.entrances," \
	" CASE WHEN s.deleted_at IS NULL AND s.status = '正常' AND s.lat IS NOT NULL THEN 1 ELSE 0 END" \
	" FROM schools s JOIN regions g ON g.code = s.region_code"

static void school_row(struct stmt *st)
{
	int64_t id = stmt_int64(st, 0);
	if (!stmt_int64(st, 7) || zx_stage_index(stmt_text(st, 3)) < 0) {
		zx_school_del(Z, id);
		return;
	}
	struct geo_area *area = NULL;
	if (!stmt_is_null(st, 5)) {
		json_t *c = json_loads(stmt_text(st, 5), 0, NULL);
		char err[256];
		if (c && !(area = geo_area_from_geojson(c, err, sizeof err)))
			log_warn("zone: school %lld: stored boundary unreadable: %s", (long long)id, err);
		json_decref(c);
	}
	struct geo_pt gates[32];
	int npupil, ngates = parse_gates(stmt_text(st, 6), gates, 32, &npupil);
	struct zx_school_in in = { .id = id, .lat = stmt_double(st, 1), .lon = stmt_double(st, 2),
				   .stage = zx_stage_index(stmt_text(st, 3)), .region_path = stmt_text(st, 4),
				   .area = area, .ngates = ngates, .gates = gates, .npupil_gates = npupil };
	if (zx_school_put(Z, &in))
		log_warn("zone: school %lld not indexed (bad geometry)", (long long)id);
	geo_area_free(area);
}

#define VENUE_COLS \
	"SELECT id, lat, lon, category, status, entrances, CASE WHEN deleted_at IS NULL THEN 1 ELSE 0 END FROM venues"

static void venue_row(struct stmt *st)
{
	int64_t id = stmt_int64(st, 0);
	int cat = zx_category_index(stmt_text(st, 3));
	if (!stmt_int64(st, 6) || cat < 0) {
		zx_venue_del(Z, id);
		return;
	}
	struct geo_pt ent[16];
	int dummy, nent = parse_gates(stmt_text(st, 5), ent, 16, &dummy);
	struct zx_venue_in in = { .id = id, .lat = stmt_double(st, 1), .lon = stmt_double(st, 2), .category = cat,
				  .active = strcmp(stmt_text(st, 4), "营业") == 0, .nent = nent, .ent = ent };
	if (zx_venue_put(Z, &in))
		log_warn("zone: venue %lld not indexed (bad position)", (long long)id);
}

static int load_rows(struct db *db, const char *sql, int64_t id, int with_id, void (*row)(struct stmt *))
{
	struct stmt *st;
	int rc = db_prepare(db, &st, sql);
	if (rc)
		return rc;
	if (with_id)
		stmt_bind_int64(st, 1, id);
	int n = 0;
	while ((rc = stmt_step(st)) == STORE_ROW) {
		row(st);
		n++;
	}
	stmt_finalize(st);
	if (rc != STORE_DONE)
		return rc;
	return n;
}

static int load_school(struct db *db, int64_t id)
{
	int n = load_rows(db, SCHOOL_COLS " WHERE s.id = $1", id, 1, school_row);
	if (n == 0)
		zx_school_del(Z, id);
	return n < 0 ? n : 0;
}

static void walk_row(struct stmt *st)
{
	zx_set_walking(Z, stmt_int64(st, 0), stmt_int64(st, 1), stmt_is_null(st, 2) ? NAN : stmt_double(st, 2));
}

static int load_venue(struct db *db, int64_t id)
{
	int n = load_rows(db, VENUE_COLS " WHERE id = $1", id, 1, venue_row);
	if (n == 0)
		zx_venue_del(Z, id);
	if (n < 0)
		return n;
	n = load_rows(db, "SELECT school_id, venue_id, walking_m FROM zone_findings WHERE venue_id = $1", id, 1,
		      walk_row);
	return n < 0 ? n : 0;
}

/* today's date in China (the rules' effective dates are Beijing dates) */
static void today_cn(char out[16])
{
	time_t t = (time_t)(clock_now() + 8 * 3600);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

static int load_rules(struct db *db)
{
	char today[16];
	today_cn(today);
	struct stmt *st;
	int rc = db_prepare(db, &st,
			    "SELECT r.id, r.version, r.code, COALESCE(g.path, ''), r.category, r.stages, r.distance_m,"
			    " r.method, r.effect, r.confidence, r.confirmed"
			    " FROM zone_rules r LEFT JOIN regions g ON g.code = r.region_code"
			    " WHERE r.enabled = 1 AND (r.region_code IS NOT NULL OR r.jurisdiction = '全国')"
			    " AND (r.effective_from IS NULL OR r.effective_from <= $1)"
			    " AND (r.effective_to IS NULL OR r.effective_to >= $1) ORDER BY r.id");
	if (rc)
		return rc;
	stmt_bind_text(st, 1, today);
	struct zx_rule *rules = NULL;
	size_t n = 0, cap = 0;
	while ((rc = stmt_step(st)) == STORE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			struct zx_rule *nr = realloc(rules, cap * sizeof *nr);
			if (!nr) {
				rc = STORE_ERR;
				break;
			}
			rules = nr;
		}
		struct zx_rule *r = &rules[n];
		memset(r, 0, sizeof *r);
		r->id = stmt_int64(st, 0);
		r->version = (int)stmt_int64(st, 1);
		snprintf(r->code, sizeof r->code, "%s", stmt_text(st, 2));
		snprintf(r->region_path, sizeof r->region_path, "%s", stmt_text(st, 3));
		r->category = zx_category_index(stmt_text(st, 4));
		r->distance_m = stmt_is_null(st, 6) ? NAN : stmt_double(st, 6);
		r->method = zx_method_index(stmt_text(st, 7));
		r->effect = zx_verdict_index(stmt_text(st, 8));
		r->may_forbid = strcmp(stmt_text(st, 9), "V") == 0 || stmt_int64(st, 10);
		if (r->category < 0 || r->method < 0 || r->effect < 0 || zx_stages_parse(stmt_text(st, 5), &r->stages)) {
			log_warn("zone: rule %s not understood; skipped", r->code);
			continue;
		}
		n++;
	}
	stmt_finalize(st);
	if (rc == STORE_DONE)
		rc = zx_set_rules(Z, rules, n) ? STORE_ERR : 0;
	free(rules);
	return rc;
}

static int reload_all(struct db *db, int *ns, int *nv);

/* Follows the other servers' changes (zl held). When the nightly job has
 * pruned log rows this server never read, the index is built afresh. */
static int follow(struct db *db)
{
	int64_t pruned = 0;
	if (db_query_int64(db, &pruned,
			   "SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'zone_changes_pruned_to'", 0) == 0 &&
	    pruned > last_seq) {
		int ns, nv;
		int64_t seq = 0;
		db_query_int64(db, &seq, "SELECT COALESCE(max(seq), 0) FROM zone_changes", 0);
		int rc = reload_all(db, &ns, &nv);
		if (!rc)
			last_seq = seq;
		return rc;
	}
	struct stmt *st;
	int rc = db_prepare(db, &st, "SELECT seq, kind, ref_id FROM zone_changes WHERE seq > $1 ORDER BY seq LIMIT 5000");
	if (rc)
		return rc;
	stmt_bind_int64(st, 1, last_seq);
	struct ch {
		int64_t seq, id;
		char kind;
	} *chs = NULL;
	size_t n = 0, cap = 0;
	while ((rc = stmt_step(st)) == STORE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			struct ch *c = realloc(chs, cap * sizeof *c);
			if (!c)
				break;
			chs = c;
		}
		chs[n++] = (struct ch){ stmt_int64(st, 0), stmt_int64(st, 2), stmt_text(st, 1)[0] };
	}
	stmt_finalize(st);
	int rules = 0;
	for (size_t i = 0; i < n; i++) {
		if (chs[i].kind == 's')
			load_school(db, chs[i].id);
		else if (chs[i].kind == 'v')
			load_venue(db, chs[i].id);
		else
			rules = 1;
		last_seq = chs[i].seq;
	}
	if (rules)
		load_rules(db);
	free(chs);
	return rc == STORE_DONE || rc == STORE_ROW ? 0 : rc;
}

int zone_follow(struct db *db)
{
	pthread_mutex_lock(&zl);
	int rc = Z ? follow(db) : 0;
	pthread_mutex_unlock(&zl);
	return rc;
}

/*--- findings -------------------------------------------------------------------*/

struct have {
	int64_t id, school_id, venue_id, rule_id, rule_version;
	char verdict[16], state[16], method[24];
	double distance;
	int seen;
};

struct pairs {
	size_t n, cap;
	struct zx_pair *p;
	pthread_mutex_t lock;
};

/* zx_join_batch's callback: one lock per batch of pairs */
static void add_pairs(void *arg, const struct zx_pair *p, size_t n)
{
	struct pairs *s = arg;
	pthread_mutex_lock(&s->lock);
	if (s->n + n > s->cap) {
		size_t c = s->cap ? s->cap : 64;
		while (c < s->n + n)
			c *= 2;
		struct zx_pair *np = realloc(s->p, c * sizeof *np);
		if (!np) {
			pthread_mutex_unlock(&s->lock);
			return;
		}
		s->p = np, s->cap = c;
	}
	memcpy(s->p + s->n, p, n * sizeof *p);
	s->n += n;
	pthread_mutex_unlock(&s->lock);
}

static void add_pair(void *arg, const struct zx_pair *p)
{
	struct pairs *s = arg;
	pthread_mutex_lock(&s->lock);
	if (s->n == s->cap) {
		size_t c = s->cap ? s->cap * 2 : 64;
		struct zx_pair *np = realloc(s->p, c * sizeof *np);
		if (!np) {
			pthread_mutex_unlock(&s->lock);
			return;
		}
		s->p = np, s->cap = c;
	}
	s->p[s->n++] = *p;
	pthread_mutex_unlock(&s->lock);
}

static int event(struct db *db, int64_t fid, const char *at, const char *actor, const char *ev, json_t *detail)
{
	struct stmt *st;
	int rc = db_prepare(db, &st,
			    "INSERT INTO zone_finding_events (finding_id, at, actor, event, detail) VALUES ($1, $2, $3, $4, $5)");
	if (rc)
		return rc;
	char *d = json_dumps(detail, JSON_COMPACT);
	stmt_bind_int64(st, 1, fid);
	stmt_bind_text(st, 2, at);
	stmt_bind_text(st, 3, actor);
	stmt_bind_text(st, 4, ev);
	stmt_bind_text(st, 5, d ? d : "{}");
	rc = stmt_step(st);
	stmt_finalize(st);
	free(d);
	return rc == STORE_DONE ? 0 : rc;
}

static json_t *pair_detail(const struct zx_pair *p)
{
	return json_pack("{s:s,s:f,s:s,s:b,s:s?,s:I}", "verdict", zx_verdict_names[p->verdict],
			 "distance_m", round(p->distance_m * 100) / 100, "method", zx_method_codes[p->method], "fallback", p->fallback,
			 "rule", p->rule ? p->rule->code : NULL, "rule_version", (json_int_t)(p->rule ? p->rule->version : 0));
}

static int cmp_pair(const void *a, const void *b)
{
	const struct zx_pair *x = a, *y = b;
	if (x->school_id != y->school_id)
		return x->school_id < y->school_id ? -1 : 1;
	return x->venue_id < y->venue_id ? -1 : x->venue_id > y->venue_id;
}

static int cmp_have(const void *a, const void *b)
{
	const struct have *x = a, *y = b;
	if (x->school_id != y->school_id)
		return x->school_id < y->school_id ? -1 : 1;
	return x->venue_id < y->venue_id ? -1 : x->venue_id > y->venue_id;
}

static int severity(const char *verdict)
{
	int v = zx_verdict_index(verdict);
	return v < 0 ? 0 : v;
}

/* Brings the findings selected by where (with one bound value) in line with
 * the engine's pairs; *changed counts rows written. */
static int reconcile(struct db *db, const struct audit_actor *a, const char *why, const char *where,
		     const char *value, struct pairs *ps, int64_t *changed)
{
	char sql[512], at[32];
	clock_iso(at);
	const char *actor = a && a->username ? a->username : "system";
	snprintf(sql, sizeof sql,
		 "SELECT id, school_id, venue_id, COALESCE(rule_id, 0), COALESCE(rule_version, 0), verdict, state, method,"
		 " distance_m FROM zone_findings WHERE %s",
		 where);
	struct stmt *st;
	int rc = db_prepare(db, &st, sql);
	if (rc)
		return rc;
	if (value)
		stmt_bind_text(st, 1, value);
	struct have *h = NULL;
	size_t nh = 0, caph = 0;
	while ((rc = stmt_step(st)) == STORE_ROW) {
		if (nh == caph) {
			caph = caph ? caph * 2 : 64;
			struct have *nhv = realloc(h, caph * sizeof *nhv);
			if (!nhv) {
				rc = STORE_ERR;
				break;
			}
			h = nhv;
		}
		struct have *x = &h[nh++];
		memset(x, 0, sizeof *x);
		x->id = stmt_int64(st, 0), x->school_id = stmt_int64(st, 1), x->venue_id = stmt_int64(st, 2);
		x->rule_id = stmt_int64(st, 3), x->rule_version = stmt_int64(st, 4);
		snprintf(x->verdict, sizeof x->verdict, "%s", stmt_text(st, 5));
		snprintf(x->state, sizeof x->state, "%s", stmt_text(st, 6));
		snprintf(x->method, sizeof x->method, "%s", stmt_text(st, 7));
		x->distance = stmt_double(st, 8);
	}
	stmt_finalize(st);
	if (rc != STORE_DONE) {
		free(h);
		return rc;
	}
	if (nh)
		qsort(h, nh, sizeof *h, cmp_have);
	if (ps->n)
		qsort(ps->p, ps->n, sizeof *ps->p, cmp_pair);
	rc = 0;
	for (size_t i = 0; i < ps->n && !rc; i++) {
		const struct zx_pair *p = &ps->p[i];
		struct have key = { .school_id = p->school_id, .venue_id = p->venue_id };
		struct have *x = nh ? bsearch(&key, h, nh, sizeof *h, cmp_have) : NULL;
		const char *verdict = zx_verdict_names[p->verdict], *method = zx_method_codes[p->method];
		double dist = round(p->distance_m * 100) / 100;
		json_t *detail = pair_detail(p);
		if (!x) {
			struct stmt *in;
			if (!(rc = db_prepare(db, &in,
					      "INSERT INTO zone_findings (school_id, venue_id, region_code, venue_unit_id,"
					      " category, rule_id, rule_version, method, fallback, distance_m, limit_m, verdict,"
					      " state, reason, created_at, updated_at)"
					      " SELECT s.id, v.id, s.region_code, v.unit_id, v.category, $3, $4, $5, $6, $7, $8,"
					      " $9, '待核实', '', $10, $10 FROM schools s, venues v WHERE s.id = $1 AND v.id = $2"
					      " RETURNING id"))) {
				stmt_bind_int64(in, 1, p->school_id);
				stmt_bind_int64(in, 2, p->venue_id);
				stmt_bind_int64(in, 3, p->rule->id);
				stmt_bind_int64(in, 4, p->rule->version);
				stmt_bind_text(in, 5, method);
				stmt_bind_int64(in, 6, p->fallback);
				stmt_bind_double(in, 7, dist);
				if (isnan(p->limit_m))
					stmt_bind_null(in, 8);
				else
					stmt_bind_double(in, 8, p->limit_m);
				stmt_bind_text(in, 9, verdict);
				stmt_bind_text(in, 10, at);
				int64_t fid = 0;
				rc = stmt_step(in);
				if (rc == STORE_ROW)
					fid = stmt_int64(in, 0);
				stmt_finalize(in);
				rc = rc == STORE_ROW ? 0 : rc == STORE_DONE ? 0 : rc;
				if (!rc && fid) {
					char ev[160];
					snprintf(ev, sizeof ev, "发现（%s）", why);
					rc = event(db, fid, at, actor, ev, detail);
					(*changed)++;
				}
			}
		} else {
			x->seen = 1;
			int cleared = strcmp(x->state, "已消除") == 0;
			int same = !cleared && strcmp(x->verdict, verdict) == 0 && x->rule_id == p->rule->id &&
				   x->rule_version == p->rule->version && strcmp(x->method, method) == 0 &&
				   fabs(x->distance - dist) < 0.005;
			if (!same) {
				/* a verdict that grows more severe, or a finding that
				 * comes back, needs looking at again */
				const char *state = cleared || p->verdict > severity(x->verdict) ? "待核实" : x->state;
				struct stmt *up;
				if (!(rc = db_prepare(db, &up,
						      "UPDATE zone_findings SET rule_id = $2, rule_version = $3, method = $4,"
						      " fallback = $5, distance_m = $6, limit_m = $7, verdict = $8, state = $9,"
						      " reason = CASE WHEN $9 = state THEN reason ELSE '' END, updated_at = $10"
						      " WHERE id = $1"))) {
					stmt_bind_int64(up, 1, x->id);
					stmt_bind_int64(up, 2, p->rule->id);
					stmt_bind_int64(up, 3, p->rule->version);
					stmt_bind_text(up, 4, method);
					stmt_bind_int64(up, 5, p->fallback);
					stmt_bind_double(up, 6, dist);
					if (isnan(p->limit_m))
						stmt_bind_null(up, 7);
					else
						stmt_bind_double(up, 7, p->limit_m);
					stmt_bind_text(up, 8, verdict);
					stmt_bind_text(up, 9, state);
					stmt_bind_text(up, 10, at);
					rc = stmt_step(up);
					stmt_finalize(up);
					rc = rc == STORE_DONE ? 0 : rc;
				}
				if (!rc) {
					char ev[200];
					if (cleared)
						snprintf(ev, sizeof ev, "重新出现（%s）", why);
					else if (strcmp(x->verdict, verdict))
						snprintf(ev, sizeof ev, "重新判定：%s → %s（%s）", x->verdict, verdict, why);
					else
						snprintf(ev, sizeof ev, "重新测算（%s）", why);
					rc = event(db, x->id, at, actor, ev, detail);
					(*changed)++;
				}
			}
		}
		json_decref(detail);
	}
	for (size_t i = 0; i < nh && !rc; i++) {
		if (h[i].seen || strcmp(h[i].state, "已消除") == 0)
			continue;
		struct stmt *up;
		if ((rc = db_prepare(db, &up,
				     "UPDATE zone_findings SET state = '已消除', reason = $2, updated_at = $3 WHERE id = $1")))
			break;
		stmt_bind_int64(up, 1, h[i].id);
		stmt_bind_text(up, 2, why);
		stmt_bind_text(up, 3, at);
		rc = stmt_step(up);
		stmt_finalize(up);
		rc = rc == STORE_DONE ? 0 : rc;
		if (!rc) {
			char ev[160];
			snprintf(ev, sizeof ev, "消除（%s）", why);
			json_t *d = json_pack("{s:s}", "previous_verdict", h[i].verdict);
			rc = event(db, h[i].id, at, actor, ev, d);
			json_decref(d);
			(*changed)++;
		}
	}
	free(h);
	return rc;
}

static int log_change(struct db *db, const char *kind, int64_t id)
{
	char at[32];
	clock_iso(at);
	struct stmt *st;
	int rc = db_prepare(db, &st, "INSERT INTO zone_changes (kind, ref_id, at) VALUES ($1, $2, $3)");
	if (rc)
		return rc;
	stmt_bind_text(st, 1, kind);
	stmt_bind_int64(st, 2, id);
	stmt_bind_text(st, 3, at);
	rc = stmt_step(st);
	stmt_finalize(st);
	return rc == STORE_DONE ? 0 : rc;
}

/*--- hooks -------------------------------------------------------------------------*/

static int changed_one(struct db *db, const struct audit_actor *a, int64_t id, const char *why, int venue)
{
	pthread_mutex_lock(&zl);
	int rc = 0;
	if (!Z)
		goto out;
	follow(db);
	if ((rc = venue ? load_venue(db, id) : load_school(db, id)))
		goto out;
	struct pairs ps = { .lock = PTHREAD_MUTEX_INITIALIZER };
	if (venue)
		zx_venue_check(Z, id, add_pair, &ps);
	else
		zx_school_check(Z, id, add_pair, &ps);
	char v[24];
	snprintf(v, sizeof v, "%lld", (long long)id);
	int64_t changed = 0;
	rc = reconcile(db, a, why, venue ? "venue_id = CAST($1 AS INTEGER)" : "school_id = CAST($1 AS INTEGER)", v, &ps,
		       &changed);
	free(ps.p);
	if (!rc)
		rc = log_change(db, venue ? "venue" : "school", id);
out:
	pthread_mutex_unlock(&zl);
	return rc;
}

int zone_venue_changed(struct db *db, const struct audit_actor *a, int64_t venue_id, const char *why)
{
	return changed_one(db, a, venue_id, why, 1);
}

int zone_school_changed(struct db *db, const struct audit_actor *a, int64_t school_id, const char *why)
{
	return changed_one(db, a, school_id, why, 0);
}

void zone_venue_rolled_back(struct db *db, int64_t venue_id)
{
	pthread_mutex_lock(&zl);
	if (Z)
		load_venue(db, venue_id);
	pthread_mutex_unlock(&zl);
}

void zone_school_rolled_back(struct db *db, int64_t school_id)
{
	pthread_mutex_lock(&zl);
	if (Z)
		load_school(db, school_id);
	pthread_mutex_unlock(&zl);
}

/* Builds the index afresh from the database (zl held). */
static int reload_all(struct db *db, int *ns, int *nv)
{
	struct zx *fresh = zx_new(&zcfg);
	if (!fresh)
		return STORE_ERR;
	zx_free(Z);
	Z = fresh;
	int rc = load_rules(db);
	if (!rc && (*ns = load_rows(db, SCHOOL_COLS, 0, 0, school_row)) < 0)
		rc = *ns;
	if (!rc && (*nv = load_rows(db, VENUE_COLS, 0, 0, venue_row)) < 0)
		rc = *nv;
	if (!rc) {
		int nw = load_rows(db, "SELECT school_id, venue_id, walking_m FROM zone_findings WHERE walking_m IS NOT NULL",
				   0, 0, walk_row);
		rc = nw < 0 ? nw : 0;
	}
	zx_shrink(Z);
	return rc;
}

int zone_recompute(struct db *db, const struct audit_actor *a, const char *region_path, const char *why, int reload,
		   int64_t *pairs, int64_t *changed)
{
	pthread_mutex_lock(&zl);
	int rc = 0;
	*pairs = *changed = 0;
	if (!Z)
		goto out;
	follow(db);
	if (reload) {
		int ns, nv;
		rc = reload_all(db, &ns, &nv);
	} else {
		rc = load_rules(db);
	}
	if (rc)
		goto out;
	struct pairs ps = { .lock = PTHREAD_MUTEX_INITIALIZER };
	zx_join_batch(Z, region_path ? region_path : "", add_pairs, &ps);
	*pairs = (int64_t)ps.n;
	char like[160];
	snprintf(like, sizeof like, "%s%%", region_path ? region_path : "");
	rc = reconcile(db, a, why,
		       "region_code IN (SELECT code FROM regions WHERE path LIKE $1)", like, &ps, changed);
	free(ps.p);
	if (!rc)
		rc = log_change(db, "rule", 0);
out:
	pthread_mutex_unlock(&zl);
	return rc;
}

void zone_rules_rolled_back(struct db *db)
{
	pthread_mutex_lock(&zl);
	if (Z && load_rules(db))
		log_warn("zone: reloading the rules after a rollback failed: %s", db_errmsg(db));
	pthread_mutex_unlock(&zl);
}

int zone_set_walking(int64_t school_id, int64_t venue_id, double metres)
{
	pthread_mutex_lock(&zl);
	int rc = Z ? zx_set_walking(Z, school_id, venue_id, metres) : 0;
	pthread_mutex_unlock(&zl);
	return rc;
}

/*--- start ------------------------------------------------------------------------------*/

static int seed_rules(struct db *db)
{
	char at[32];
	clock_iso(at);
	int rc = 0;
	for (const struct rule_seed *s = rule_seeds; s->code && !rc; s++) {
		struct stmt *st;
		if ((rc = db_prepare(db, &st,
				     "INSERT INTO zone_rules (code, region_code, jurisdiction, category, stages, distance_m,"
				     " method, effect, source_doc, issuer, article, quote, confidence, confirmed,"
				     " effective_from, effective_to, enabled, note, version, created_at, updated_at)"
				     " VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, NULL, $14, $15,"
				     " 1, $16, $16) ON CONFLICT (code) DO NOTHING RETURNING id")))
			break;
		stmt_bind_text(st, 1, s->code);
		stmt_bind_text(st, 2, s->jurisdiction);
		stmt_bind_text(st, 3, s->category);
		stmt_bind_text(st, 4, s->stages);
		if (isnan(s->distance_m))
			stmt_bind_null(st, 5);
		else
			stmt_bind_double(st, 5, s->distance_m);
		stmt_bind_text(st, 6, s->method);
		stmt_bind_text(st, 7, s->effect);
		stmt_bind_text(st, 8, s->source_doc);
		stmt_bind_text(st, 9, s->issuer);
		stmt_bind_text(st, 10, s->article);
		stmt_bind_text(st, 11, s->quote);
		stmt_bind_text(st, 12, s->confidence);
		stmt_bind_text(st, 13, s->effective_from);
		stmt_bind_int64(st, 14, s->enabled);
		stmt_bind_text(st, 15, s->note);
		stmt_bind_text(st, 16, at);
		rc = stmt_step(st);
		int64_t id = rc == STORE_ROW ? stmt_int64(st, 0) : 0;
		stmt_finalize(st);
		rc = rc == STORE_ROW || rc == STORE_DONE ? 0 : rc;
		if (!rc && id) {
			json_t *r = NULL;
			if ((rc = zone_rule_get(db, NULL, id, &r)))
				break;
			rc = zone_rule_version(db, id, 1, r, "system", at);
			if (!rc)
				rc = audit_append(db, &sys, "create", "zone_rule", s->code, NULL, r);
			json_decref(r);
		}
	}
	return rc;
}

int zone_start(struct store *s)
{
	struct db *db = store_acquire(s);
	int rc = db_begin(db);
	if (!rc && !(rc = seed_rules(db)))
		rc = db_commit(db);
	if (rc && db_in_tx(db))
		db_rollback(db);
	if (rc) {
		log_error("zone: seeding rules: %s", db_errmsg(db));
		store_release(db);
		return rc;
	}
	pthread_mutex_lock(&zl);
	int64_t seq = 0;
	if (!rc)
		rc = db_query_int64(db, &seq, "SELECT COALESCE(max(seq), 0) FROM zone_changes", 0);
	last_seq = seq;
	int ns = 0, nv = 0;
	if (!rc)
		rc = reload_all(db, &ns, &nv);
	pthread_mutex_unlock(&zl);
	if (!rc)
		log_info("zone: %d schools, %d venues indexed", ns, nv);
	/* a database whose findings were never computed (a new or demo
	 * county, or venues imported by another tool) gets them now */
	int64_t nf = 0;
	if (!rc && nv > 0 && db_query_int64(db, &nf, "SELECT count(*) FROM zone_findings", 0) == 0 && nf == 0) {
			int64_t pairs, changed;
		if (!(rc = db_begin(db)) &&
		    !(rc = zone_recompute(db, &sys, "", "首次计算", 0, &pairs, &changed)) && !(rc = db_commit(db)))
			log_info("zone: first computation: %lld findings", (long long)pairs);
		if (rc && db_in_tx(db))
			db_rollback(db);
	}
	store_release(db);
	return rc;
}

void zone_stop(void)
{
	pthread_mutex_lock(&zl);
	zx_free(Z);
	Z = NULL;
	pthread_mutex_unlock(&zl);
}

/* The nightly job (00:05 Beijing time): rules that came into or went out of
 * force today re-judge everything; the change log keeps a week. */
int zone_nightly(struct db *db, char *err, size_t errlen)
{
	int64_t pairs = 0, changed = 0, keep = 0;
	int rc = db_begin(db);
	if (!rc)
		rc = zone_recompute(db, &sys, "", "规则生效日期变化（每日重新判定）", 0, &pairs, &changed);
	char cutoff[32];
	clock_fmt(clock_now() - 7 * 86400, cutoff);
	if (!rc)
		rc = db_query_int64(db, &keep, "SELECT COALESCE(max(seq), 0) FROM zone_changes WHERE at < $1", 1, cutoff);
	if (!rc && keep > 0) {
		char v[24];
		snprintf(v, sizeof v, "%lld", (long long)keep);
		struct stmt *st;
		if (!(rc = db_prepare(db, &st, "DELETE FROM zone_changes WHERE seq <= CAST($1 AS INTEGER)"))) {
			stmt_bind_text(st, 1, v);
			rc = stmt_step(st) == STORE_DONE ? 0 : STORE_ERR;
			stmt_finalize(st);
		}
		if (!rc && !(rc = db_prepare(db, &st,
					     "INSERT INTO settings (key, value) VALUES ('zone_changes_pruned_to', $1)"
					     " ON CONFLICT (key) DO UPDATE SET value = excluded.value"))) {
			stmt_bind_text(st, 1, v);
			rc = stmt_step(st) == STORE_DONE ? 0 : STORE_ERR;
			stmt_finalize(st);
		}
	}
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		snprintf(err, errlen, "zone nightly: %s", db_errmsg(db));
		if (db_in_tx(db))
			db_rollback(db);
		return -1;
	}
	if (changed)
		log_info("zone: nightly re-judgement changed %lld finding(s)", (long long)changed);
	return 0;
}
