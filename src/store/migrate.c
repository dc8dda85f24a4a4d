/*
 * migrate.c - versioned schema migrations, applied in order at start and
 * by `xiaoan migrate`. Each migration runs in its own transaction and is
 * recorded in schema_migrations. Every migration has a SQLite text and a
 * PostgreSQL text kept equivalent to it.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/store.h"

/* The PostgreSQL text of a migration is the SQLite text with the same
 * tables, columns, constraints, indexes and triggers, in PostgreSQL's
 * types: INTEGER is BIGINT (SQLite's integers are 64-bit), REAL is DOUBLE
 * PRECISION, and an "id INTEGER PRIMARY KEY" that inserts leave to the
 * database (they read it back with RETURNING id) is an identity column.
 * tests/api/test_schema.py compares the two schemas. */
/* Migration 3, the surroundings (场所, school geometry, layered rules,
 * findings), is one text for both databases: ID is the id column, INT a
 * 64-bit integer, DBL a double. */
#define SURROUNDINGS_SQL(ID, INT, DBL) \
	/* 场所 categories: the code table of rules.md section 6 */ \
	"CREATE TABLE venue_categories (" \
	" code TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, sort " INT " NOT NULL);" \
	"INSERT INTO venue_categories (code, name, sort) VALUES" \
	" ('internet_cafe', '互联网上网服务营业场所', 1), ('game_arcade', '电子游戏/游艺娱乐场所', 2)," \
	" ('ktv_dance', '歌舞娱乐场所', 3), ('bar', '酒吧', 4), ('esports_hotel', '电竞酒店', 5)," \
	" ('script_escape', '剧本娱乐/密室逃脱', 6), ('hotel', '宾馆/小旅馆', 7), ('rental', '出租屋/日租房', 8)," \
	" ('tobacco', '烟草零售', 9), ('alcohol', '酒类零售', 10), ('lottery', '彩票销售', 11)," \
	" ('adult', '成人用品', 12), ('eatery', '餐饮', 13), ('meal_supplier', '校外供餐单位', 14)," \
	" ('stall', '流动摊点', 15), ('shop', '小商店/文具店', 16), ('tutoring', '校外托管/培训机构', 17)," \
	" ('publication', '出版物/音像经营', 18), ('other', '其他', 19);" \
	/* 场所: entrances is a JSON array [{"lat","lon","name"}] in WGS84 */ \
	"CREATE TABLE venues (" \
	" id " ID "," \
	" name TEXT NOT NULL," \
	" category TEXT NOT NULL REFERENCES venue_categories(code)," \
	" licence_no TEXT NOT NULL DEFAULT ''," \
	" operator_name TEXT NOT NULL DEFAULT '', operator_phone TEXT NOT NULL DEFAULT ''," \
	" region_code TEXT NOT NULL REFERENCES regions(code)," \
	" address TEXT NOT NULL DEFAULT ''," \
	" lat " DBL " NOT NULL, lon " DBL " NOT NULL," \
	" entrances TEXT NOT NULL DEFAULT '[]'," \
	" status TEXT NOT NULL DEFAULT '营业' CHECK (status IN ('营业','停业','取缔','注销'))," \
	" unit_id " INT " REFERENCES units(id)," \
	" note TEXT NOT NULL DEFAULT ''," \
	" deleted_at TEXT," \
	" created_at TEXT NOT NULL, updated_at TEXT NOT NULL);" \
	"CREATE INDEX venues_region ON venues(region_code);" \
	"CREATE INDEX venues_unit ON venues(unit_id);" \
	"CREATE INDEX venues_category ON venues(category);" \
	"CREATE INDEX venues_licence ON venues(licence_no);" \
	/* school geometry: boundary is a GeoJSON MultiPolygon's coordinates \
	 * ([[[[lon,lat],...]]]) in WGS84, entrances a JSON array \
	 * [{"lat","lon","name","pupils":true}] */ \
	"ALTER TABLE schools ADD COLUMN boundary TEXT;" \
	"ALTER TABLE schools ADD COLUMN entrances TEXT NOT NULL DEFAULT '[]';" \
	/* layered rules: region_code NULL = national; jurisdiction names the \
	 * territory of a seeded local example until an administrator binds it \
	 * to a region; stages is a space-separated list of school stages; \
	 * distance_m NULL = the law gives no number */ \
	"CREATE TABLE zone_rules (" \
	" id " ID "," \
	" code TEXT NOT NULL UNIQUE," \
	" region_code TEXT REFERENCES regions(code)," \
	" jurisdiction TEXT NOT NULL DEFAULT '全国'," \
	" category TEXT NOT NULL REFERENCES venue_categories(code)," \
	" stages TEXT NOT NULL," \
	" distance_m " DBL "," \
	" method TEXT NOT NULL CHECK (method IN ('boundary_straight','entrance_straight','gate_radius','walking'))," \
	" effect TEXT NOT NULL CHECK (effect IN ('禁止','需审查','重点关注'))," \
	" source_doc TEXT NOT NULL DEFAULT '', issuer TEXT NOT NULL DEFAULT ''," \
	" article TEXT NOT NULL DEFAULT '', quote TEXT NOT NULL DEFAULT ''," \
	" confidence TEXT NOT NULL CHECK (confidence IN ('V','S','M','草案'))," \
	" confirmed " INT " NOT NULL DEFAULT 0," \
	" effective_from TEXT, effective_to TEXT," \
	" enabled " INT " NOT NULL DEFAULT 1," \
	" note TEXT NOT NULL DEFAULT ''," \
	" version " INT " NOT NULL DEFAULT 1," \
	" created_at TEXT NOT NULL, updated_at TEXT NOT NULL);" \
	"CREATE INDEX zone_rules_category ON zone_rules(category);" \
	"CREATE TABLE zone_rule_versions (" \
	" rule_id " INT " NOT NULL REFERENCES zone_rules(id)," \
	" version " INT " NOT NULL," \
	" snapshot TEXT NOT NULL," \
	" changed_by TEXT NOT NULL, changed_at TEXT NOT NULL," \
	" PRIMARY KEY (rule_id, version));" \
	/* findings: one row per (school, venue) pair ever judged; state \
	 * 待核实/已确认/已豁免/已消除; method is the method used (point when the \
	 * engine fell back); walking_m an officer's measured walking distance */ \
	"CREATE TABLE zone_findings (" \
	" id " ID "," \
	" school_id " INT " NOT NULL REFERENCES schools(id)," \
	" venue_id " INT " NOT NULL REFERENCES venues(id)," \
	" region_code TEXT NOT NULL," \
	" venue_unit_id " INT "," \
	" category TEXT NOT NULL," \
	" rule_id " INT " REFERENCES zone_rules(id)," \
	" rule_version " INT "," \
	" method TEXT NOT NULL," \
	" fallback " INT " NOT NULL DEFAULT 0," \
	" distance_m " DBL " NOT NULL," \
	" limit_m " DBL "," \
	" verdict TEXT NOT NULL CHECK (verdict IN ('禁止','需审查','重点关注'))," \
	" state TEXT NOT NULL DEFAULT '待核实' CHECK (state IN ('待核实','已确认','已豁免','已消除'))," \
	" reason TEXT NOT NULL DEFAULT ''," \
	" walking_m " DBL "," \
	" created_at TEXT NOT NULL, updated_at TEXT NOT NULL," \
	" UNIQUE (school_id, venue_id));" \
	"CREATE INDEX zone_findings_venue ON zone_findings(venue_id);" \
	"CREATE INDEX zone_findings_region ON zone_findings(region_code);" \
	"CREATE INDEX zone_findings_state ON zone_findings(state, verdict);" \
	/* why a finding changed, oldest first */ \
	"CREATE TABLE zone_finding_events (" \
	" id " ID "," \
	" finding_id " INT " NOT NULL REFERENCES zone_findings(id)," \
	" at TEXT NOT NULL, actor TEXT NOT NULL, event TEXT NOT NULL, detail TEXT NOT NULL);" \
	"CREATE INDEX zone_finding_events_finding ON zone_finding_events(finding_id);" \
	/* every change of a school's or venue's place or status, or of a rule: \
	 * each server's in-memory index follows this log */ \
	"CREATE TABLE zone_changes (" \
	" seq " ID "," \
	" kind TEXT NOT NULL CHECK (kind IN ('school','venue','rule'))," \
	" ref_id " INT " NOT NULL, at TEXT NOT NULL);" \
	/* the built-in roles gain the surroundings permissions */ \
	"UPDATE roles SET perms = perms || ' venue.read venue.write venue.delete venue.import venue.export" \
	" zone.read zone.review zone.rules zone.recompute' WHERE code = 'admin' AND builtin = 1;" \
	"UPDATE roles SET perms = perms || ' venue.read venue.write venue.delete venue.import venue.export" \
	" zone.read zone.review zone.recompute' WHERE code = 'coordinator' AND builtin = 1;" \
	"UPDATE roles SET perms = perms || ' venue.read venue.write venue.import venue.export zone.read zone.review'" \
	" WHERE code = 'cadre' AND builtin = 1;" \
	"UPDATE roles SET perms = perms || ' venue.read zone.read zone.review' WHERE code = 'police' AND builtin = 1;" \
	"UPDATE roles SET perms = perms || ' venue.read zone.read' WHERE code IN ('principal','safety_officer') AND builtin = 1;" \
	"UPDATE roles SET perms = perms || ' venue.read venue.export zone.read' WHERE code = 'inspector' AND builtin = 1;"

struct migration {
	int version;
	const char *name;
	const char *sqlite;
	const char *pg;
};

static const struct migration migrations[] = {
	{ 1, "foundation",
	  /* regions: GB/T 2260 codes (6 digits) and 9-digit township codes,
	   * with a materialised path "/340000/340800/340822/" for subtree scope */
	  "CREATE TABLE regions ("
	  " code TEXT PRIMARY KEY,"
	  " name TEXT NOT NULL,"
	  " level TEXT NOT NULL CHECK (level IN ('province','city','county','township')),"
	  " parent_code TEXT REFERENCES regions(code),"
	  " path TEXT NOT NULL UNIQUE,"
	  " disabled INTEGER NOT NULL DEFAULT 0,"
	  " created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
	  "CREATE INDEX regions_parent ON regions(parent_code);"
	  /* 成员单位: member units, a tree with their own path */
	  "CREATE TABLE units ("
	  " id INTEGER PRIMARY KEY,"
	  " code TEXT NOT NULL UNIQUE,"
	  " name TEXT NOT NULL,"
	  " type TEXT NOT NULL,"
	  " parent_id INTEGER REFERENCES units(id),"
	  " region_code TEXT REFERENCES regions(code),"
	  " path TEXT NOT NULL,"
	  " duties TEXT NOT NULL DEFAULT '',"
	  " phone TEXT NOT NULL DEFAULT '',"
	  " disabled INTEGER NOT NULL DEFAULT 0,"
	  " created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
	  "CREATE INDEX units_region ON units(region_code);"
	  "CREATE INDEX units_path ON units(path);"
	  "CREATE TABLE roles ("
	  " code TEXT PRIMARY KEY,"
	  " name TEXT NOT NULL UNIQUE,"
	  " perms TEXT NOT NULL,"
	  " require_totp INTEGER NOT NULL DEFAULT 0,"
	  " builtin INTEGER NOT NULL DEFAULT 0,"
	  " disabled INTEGER NOT NULL DEFAULT 0,"
	  " created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
	  "CREATE TABLE users ("
	  " id INTEGER PRIMARY KEY,"
	  " username TEXT NOT NULL UNIQUE,"
	  " display_name TEXT NOT NULL,"
	  " phone TEXT NOT NULL DEFAULT '',"
	  " unit_id INTEGER NOT NULL REFERENCES units(id),"
	  " scope_kind TEXT NOT NULL CHECK (scope_kind IN ('all','region','unit','school')),"
	  " scope_value TEXT NOT NULL,"
	  " password_hash TEXT NOT NULL,"
	  " must_change_password INTEGER NOT NULL DEFAULT 1,"
	  " totp_secret TEXT,"
	  " totp_pending TEXT,"
	  " totp_last_step INTEGER NOT NULL DEFAULT 0,"
	  " failed_logins INTEGER NOT NULL DEFAULT 0,"
	  " locked_until INTEGER NOT NULL DEFAULT 0,"
	  " disabled INTEGER NOT NULL DEFAULT 0,"
	  " created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
	  "CREATE TABLE user_roles ("
	  " user_id INTEGER NOT NULL REFERENCES users(id),"
	  " role_code TEXT NOT NULL REFERENCES roles(code),"
	  " PRIMARY KEY (user_id, role_code));"
	  /* sessions: the token itself is never stored, only its SHA-256 */
	  "CREATE TABLE sessions ("
	  " id TEXT PRIMARY KEY,"
	  " user_id INTEGER NOT NULL REFERENCES users(id),"
	  " csrf TEXT NOT NULL,"
	  " created_at INTEGER NOT NULL,"
	  " last_seen INTEGER NOT NULL,"
	  " client_ip TEXT NOT NULL DEFAULT '');"
	  "CREATE INDEX sessions_user ON sessions(user_id);"
	  /* failed logins per client address */
	  "CREATE TABLE login_failures ("
	  " client_ip TEXT PRIMARY KEY,"
	  " failures INTEGER NOT NULL DEFAULT 0,"
	  " locked_until INTEGER NOT NULL DEFAULT 0,"
	  " updated_at INTEGER NOT NULL);"
	  /* the audit trail: append-only, hash-chained */
	  "CREATE TABLE audit ("
	  " seq INTEGER PRIMARY KEY,"
	  " at TEXT NOT NULL,"
	  " user_id INTEGER,"
	  " username TEXT NOT NULL,"
	  " client_ip TEXT NOT NULL,"
	  " action TEXT NOT NULL,"
	  " entity TEXT NOT NULL,"
	  " entity_id TEXT NOT NULL,"
	  " before_json TEXT,"
	  " after_json TEXT,"
	  " request_id TEXT NOT NULL,"
	  " prev_hash TEXT NOT NULL,"
	  " hash TEXT NOT NULL);"
	  "CREATE INDEX audit_entity ON audit(entity, entity_id);"
	  "CREATE INDEX audit_user ON audit(user_id);"
	  "CREATE INDEX audit_at ON audit(at);"
	  "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	  " BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;"
	  "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	  " BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;"
	  "CREATE TABLE audit_head ("
	  " id INTEGER PRIMARY KEY CHECK (id = 1),"
	  " seq INTEGER NOT NULL,"
	  " hash TEXT NOT NULL);"
	  "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');"
	  /* the school registry */
	  "CREATE TABLE schools ("
	  " id INTEGER PRIMARY KEY,"
	  " code TEXT NOT NULL UNIQUE,"
	  " name TEXT NOT NULL,"
	  " stage TEXT NOT NULL,"
	  " ownership TEXT NOT NULL,"
	  " boarding INTEGER NOT NULL DEFAULT 0,"
	  " region_code TEXT NOT NULL REFERENCES regions(code),"
	  " address TEXT NOT NULL DEFAULT '',"
	  " lat REAL, lon REAL,"
	  " enrollment INTEGER, staff_count INTEGER, guard_count INTEGER,"
	  " principal_name TEXT NOT NULL DEFAULT '', principal_phone TEXT NOT NULL DEFAULT '',"
	  " safety_officer_name TEXT NOT NULL DEFAULT '', safety_officer_phone TEXT NOT NULL DEFAULT '',"
	  " legal_vp_name TEXT NOT NULL DEFAULT '', legal_vp_unit TEXT NOT NULL DEFAULT '',"
	  " legal_vp_phone TEXT NOT NULL DEFAULT '',"
	  " police_unit_id INTEGER REFERENCES units(id),"
	  " unit_id INTEGER REFERENCES units(id),"
	  " status TEXT NOT NULL DEFAULT '正常',"
	  " deleted_at TEXT,"
	  " created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
	  "CREATE INDEX schools_region ON schools(region_code);"
	  "CREATE INDEX schools_police ON schools(police_unit_id);"
	  "CREATE INDEX schools_unit ON schools(unit_id);"
	  "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
	  /* PostgreSQL */
	  "CREATE TABLE regions ("
	  " code TEXT PRIMARY KEY,"
	  " name TEXT NOT NULL,"
	  " level TEXT NOT NULL CHECK (level IN ('province','city','county','township')),"
	  " parent_code TEXT REFERENCES regions(code),"
	  " path TEXT NOT NULL UNIQUE,"
	  " disabled BIGINT NOT NULL DEFAULT 0,"
	  " created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
	  "CREATE INDEX regions_parent ON regions(parent_code);"
	  "CREATE TABLE units ("
	  " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	  " code TEXT NOT NULL UNIQUE,"
	  " name TEXT NOT NULL,"
	  " type TEXT NOT NULL,"
	  " parent_id BIGINT REFERENCES units(id),"
	  " region_code TEXT REFERENCES regions(code),"
	  " path TEXT NOT NULL,"
	  " duties TEXT NOT NULL DEFAULT '',"
	  " phone TEXT NOT NULL DEFAULT '',"
	  " disabled BIGINT NOT NULL DEFAULT 0,"
	  " created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
	  "CREATE INDEX units_region ON units(region_code);"
	  "CREATE INDEX units_path ON units(path);"
	  "CREATE TABLE roles ("
	  " code TEXT PRIMARY KEY,"
	  " name TEXT NOT NULL UNIQUE,"
	  " perms TEXT NOT NULL,"
	  " require_totp BIGINT NOT NULL DEFAULT 0,"
	  " builtin BIGINT NOT NULL DEFAULT 0,"
	  " disabled BIGINT NOT NULL DEFAULT 0,"
	  " created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
	  "CREATE TABLE users ("
	  " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	  " username TEXT NOT NULL UNIQUE,"
	  " display_name TEXT NOT NULL,"
	  " phone TEXT NOT NULL DEFAULT '',"
	  " unit_id BIGINT NOT NULL REFERENCES units(id),"
	  " scope_kind TEXT NOT NULL CHECK (scope_kind IN ('all','region','unit','school')),"
	  " scope_value TEXT NOT NULL,"
	  " password_hash TEXT NOT NULL,"
	  " must_change_password BIGINT NOT NULL DEFAULT 1,"
	  " totp_secret TEXT,"
	  " totp_pending TEXT,"
	  " totp_last_step BIGINT NOT NULL DEFAULT 0,"
	  " failed_logins BIGINT NOT NULL DEFAULT 0,"
	  " locked_until BIGINT NOT NULL DEFAULT 0,"
	  " disabled BIGINT NOT NULL DEFAULT 0,"
	  " created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
	  "CREATE TABLE user_roles ("
	  " user_id BIGINT NOT NULL REFERENCES users(id),"
	  " role_code TEXT NOT NULL REFERENCES roles(code),"
	  " PRIMARY KEY (user_id, role_code));"
	  "CREATE TABLE sessions ("
	  " id TEXT PRIMARY KEY,"
	  " user_id BIGINT NOT NULL REFERENCES users(id),"
	  " csrf TEXT NOT NULL,"
	  " created_at BIGINT NOT NULL,"
	  " last_seen BIGINT NOT NULL,"
	  " client_ip TEXT NOT NULL DEFAULT '');"
	  "CREATE INDEX sessions_user ON sessions(user_id);"
	  "CREATE TABLE login_failures ("
	  " client_ip TEXT PRIMARY KEY,"
	  " failures BIGINT NOT NULL DEFAULT 0,"
	  " locked_until BIGINT NOT NULL DEFAULT 0,"
	  " updated_at BIGINT NOT NULL);"
	  /* seq is given by audit.c (the chain's next number), not generated */
	  "CREATE TABLE audit ("
	  " seq BIGINT PRIMARY KEY,"
	  " at TEXT NOT NULL,"
	  " user_id BIGINT,"
	  " username TEXT NOT NULL,"
	  " client_ip TEXT NOT NULL,"
	  " action TEXT NOT NULL,"
	  " entity TEXT NOT NULL,"
	  " entity_id TEXT NOT NULL,"
	  " before_json TEXT,"
	  " after_json TEXT,"
	  " request_id TEXT NOT NULL,"
	  " prev_hash TEXT NOT NULL,"
	  " hash TEXT NOT NULL);"
	  "CREATE INDEX audit_entity ON audit(entity, entity_id);"
	  "CREATE INDEX audit_user ON audit(user_id);"
	  "CREATE INDEX audit_at ON audit(at);"
	  /* append-only: the same two triggers, and TRUNCATE (which skips row
	   * triggers, and which SQLite does not have) refused as well */
	  "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$"
	  " BEGIN RAISE EXCEPTION 'audit trail is append-only'; END $$;"
	  "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	  " FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
	  "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	  " FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
	  "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit"
	  " FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();"
	  "CREATE TABLE audit_head ("
	  " id BIGINT PRIMARY KEY CHECK (id = 1),"
	  " seq BIGINT NOT NULL,"
	  " hash TEXT NOT NULL);"
	  "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');"
	  "CREATE TABLE schools ("
	  " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	  " code TEXT NOT NULL UNIQUE,"
	  " name TEXT NOT NULL,"
	  " stage TEXT NOT NULL,"
	  " ownership TEXT NOT NULL,"
	  " boarding BIGINT NOT NULL DEFAULT 0,"
	  " region_code TEXT NOT NULL REFERENCES regions(code),"
	  " address TEXT NOT NULL DEFAULT '',"
	  " lat DOUBLE PRECISION, lon DOUBLE PRECISION,"
	  " enrollment BIGINT, staff_count BIGINT, guard_count BIGINT,"
	  " principal_name TEXT NOT NULL DEFAULT '', principal_phone TEXT NOT NULL DEFAULT '',"
	  " safety_officer_name TEXT NOT NULL DEFAULT '', safety_officer_phone TEXT NOT NULL DEFAULT '',"
	  " legal_vp_name TEXT NOT NULL DEFAULT '', legal_vp_unit TEXT NOT NULL DEFAULT '',"
	  " legal_vp_phone TEXT NOT NULL DEFAULT '',"
	  " police_unit_id BIGINT REFERENCES units(id),"
	  " unit_id BIGINT REFERENCES units(id),"
	  " status TEXT NOT NULL DEFAULT '正常',"
	  " deleted_at TEXT,"
	  " created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
	  "CREATE INDEX schools_region ON schools(region_code);"
	  "CREATE INDEX schools_police ON schools(police_unit_id);"
	  "CREATE INDEX schools_unit ON schools(unit_id);"
	  "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);" },
	{ 2, "jobs",
	  /* the scheduler (src/jobs/): one row per job, its next due time and
	   * the lease of the server running it; times are unix seconds */
	  "CREATE TABLE jobs ("
	  " name TEXT PRIMARY KEY,"
	  " next_due INTEGER NOT NULL,"
	  " lease_owner TEXT,"
	  " lease_until INTEGER,"
	  " last_run_at INTEGER,"
	  " last_status TEXT,"
	  " last_error TEXT,"
	  " runs INTEGER NOT NULL DEFAULT 0);"
	  "CREATE TABLE job_runs ("
	  " id INTEGER PRIMARY KEY,"
	  " name TEXT NOT NULL,"
	  " due INTEGER NOT NULL,"
	  " started_at INTEGER NOT NULL,"
	  " finished_at INTEGER,"
	  " server TEXT NOT NULL,"
	  " status TEXT NOT NULL CHECK (status IN ('ok','failed','late','abandoned')),"
	  " skipped INTEGER NOT NULL DEFAULT 0,"
	  " error TEXT);"
	  "CREATE INDEX job_runs_name_due ON job_runs(name, due);"
	  /* the audit chain's head, copied daily: append-only like the trail */
	  "CREATE TABLE audit_checkpoints ("
	  " seq INTEGER PRIMARY KEY,"
	  " hash TEXT NOT NULL,"
	  " at TEXT NOT NULL);"
	  "CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints"
	  " BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;"
	  "CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints"
	  " BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;",
	  /* PostgreSQL */
	  "CREATE TABLE jobs ("
	  " name TEXT PRIMARY KEY,"
	  " next_due BIGINT NOT NULL,"
	  " lease_owner TEXT,"
	  " lease_until BIGINT,"
	  " last_run_at BIGINT,"
	  " last_status TEXT,"
	  " last_error TEXT,"
	  " runs BIGINT NOT NULL DEFAULT 0);"
	  "CREATE TABLE job_runs ("
	  " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	  " name TEXT NOT NULL,"
	  " due BIGINT NOT NULL,"
	  " started_at BIGINT NOT NULL,"
	  " finished_at BIGINT,"
	  " server TEXT NOT NULL,"
	  " status TEXT NOT NULL CHECK (status IN ('ok','failed','late','abandoned')),"
	  " skipped BIGINT NOT NULL DEFAULT 0,"
	  " error TEXT);"
	  "CREATE INDEX job_runs_name_due ON job_runs(name, due);"
	  "CREATE TABLE audit_checkpoints ("
	  " seq BIGINT PRIMARY KEY,"
	  " hash TEXT NOT NULL,"
	  " at TEXT NOT NULL);"
	  "CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints"
	  " FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
	  "CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints"
	  " FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
	  "CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints"
	  " FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();" },
	{ 3, "surroundings",
	  SURROUNDINGS_SQL("INTEGER PRIMARY KEY", "INTEGER", "REAL"),
	  SURROUNDINGS_SQL("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "BIGINT", "DOUBLE PRECISION") },
};

int store_schema_version(void)
{
	return migrations[sizeof migrations / sizeof migrations[0] - 1].version;
}

int store_migrate(struct store *s, int *applied, char *err, size_t errlen)
{
	*applied = 0;
	struct db *db = store_acquire(s);
	int pg = store_kind(s) == STORE_POSTGRES;
	/* in a write transaction: servers starting together on one
	 * PostgreSQL database take turns (db_begin's writer lock) */
	int rc = db_begin(db);
	if (rc == STORE_OK)
		rc = db_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
				 " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
	if (rc == STORE_OK)
		rc = db_commit(db);
	if (rc) {
		snprintf(err, errlen, "migrate: %s", db_errmsg(db));
		if (db_in_tx(db))
			db_rollback(db);
		goto out;
	}
	for (size_t i = 0; i < sizeof migrations / sizeof migrations[0]; i++) {
		const struct migration *m = &migrations[i];
		if ((rc = db_begin(db))) {
			snprintf(err, errlen, "migrate: %s", db_errmsg(db));
			goto out;
		}
		int64_t have = 0;
		char v[16];
		snprintf(v, sizeof v, "%d", m->version);
		rc = db_query_int64(db, &have, "SELECT count(*) FROM schema_migrations WHERE version = CAST($1 AS INTEGER)",
				    1, v);
		if (rc == STORE_OK && have) {
			db_rollback(db);
			continue;
		}
		if (rc || (rc = db_exec(db, pg ? m->pg : m->sqlite))) {
			snprintf(err, errlen, "migration %d (%s): %s", m->version, m->name, db_errmsg(db));
			db_rollback(db);
			goto out;
		}
		time_t t = time(NULL);
		struct tm tm;
		char at[32];
		gmtime_r(&t, &tm);
		strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
		struct stmt *st;
		if ((rc = db_prepare(db, &st, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")))
			goto fail;
		stmt_bind_int64(st, 1, m->version);
		stmt_bind_text(st, 2, m->name);
		stmt_bind_text(st, 3, at);
		rc = stmt_step(st);
		stmt_finalize(st);
		if (rc != STORE_DONE)
			goto fail;
		if ((rc = db_commit(db)))
			goto fail;
		(*applied)++;
		continue;
fail:
		snprintf(err, errlen, "migration %d (%s): %s", m->version, m->name, db_errmsg(db));
		db_rollback(db);
		rc = rc ? rc : STORE_ERR;
		goto out;
	}
	rc = 0;
out:
	store_release(db);
	return rc;
}
