"""The SQLite and PostgreSQL schemas are one schema: `xiaoan migrate` on an
empty SQLite file and on an empty PostgreSQL database gives the same tables,
the same columns in the same order (name, type class, NOT NULL), the same
indexes and the same append-only triggers, and on PostgreSQL the ids that
inserts leave to the database are generated. Needs the PostgreSQL server,
so it runs in the pg pass and is skipped in the SQLite one."""
import os
import shutil
import sqlite3
import subprocess
import tempfile

import xa

OWN_SERVER = True

# a normalised type class per declared type
CLASS = {"integer": "integer", "bigint": "integer", "text": "text", "real": "real", "double precision": "real"}


def migrate(binary, data, url):
    env = dict(os.environ, XIAOAN_PW_COST="fast")
    env.pop("XIAOAN_DATABASE", None)
    p = subprocess.run([binary, "migrate", "--data", data, "--database", url], env=env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr


def sqlite_schema(path):
    db = sqlite3.connect(path)
    try:
        tables, rowid = {}, set()
        for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"):
            info = db.execute("PRAGMA table_info(%s)" % t).fetchall()
            # a primary key is NOT NULL on PostgreSQL; SQLite only says so for rowid aliases
            tables[t] = [(name, CLASS[typ.lower()], bool(notnull or pk)) for _, name, typ, notnull, _, pk in info]
            pks = [row for row in info if row[5]]
            if len(pks) == 1 and pks[0][2].upper() == "INTEGER":
                rowid.add("%s.%s" % (t, pks[0][1]))
        indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
        triggers = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        return tables, rowid, indexes, triggers
    finally:
        db.close()


def pg_schema(url):
    db = xa.PgConn(url)
    tables, identity = {}, set()
    for t, name, typ, nullable, ident in db.execute(
            "SELECT table_name, column_name, data_type, is_nullable, is_identity FROM information_schema.columns"
            " WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"):
        assert typ in CLASS, "%s.%s has type %s, which SQLite has no class for" % (t, name, typ)
        tables.setdefault(t, []).append((name, CLASS[typ], nullable == "NO"))
        if ident == "YES":
            identity.add("%s.%s" % (t, name))
    # indexes made by CREATE INDEX, not those behind PRIMARY KEY / UNIQUE
    indexes = {r[0] for r in db.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
                                        " AND indexname NOT IN (SELECT conname FROM pg_constraint)")}
    triggers = {r[0] for r in db.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}
    return tables, identity, indexes, triggers


def test_both_schemas_have_the_same_tables_and_columns(binary):
    if not xa.PG:
        raise xa.Skip("needs PostgreSQL (runs in the pg pass)")
    d = tempfile.mkdtemp(prefix="xiaoan-schema-")
    name = xa.pg_create_database()
    try:
        migrate(binary, d, "sqlite:" + os.path.join(d, "xiaoan.db"))
        migrate(binary, d, xa.pg_url(name))
        s_tables, rowid, s_indexes, s_triggers = sqlite_schema(os.path.join(d, "xiaoan.db"))
        p_tables, identity, p_indexes, p_triggers = pg_schema(xa.pg_url(name))
        assert sorted(s_tables) == sorted(p_tables), (sorted(s_tables), sorted(p_tables))
        for t in s_tables:
            assert s_tables[t] == p_tables[t], "table %s:\n  sqlite %r\n  pg     %r" % (t, s_tables[t], p_tables[t])
        assert s_indexes == p_indexes, (s_indexes, p_indexes)
        # the append-only guard; PostgreSQL also refuses TRUNCATE, which SQLite lacks
        assert s_triggers == {"audit_no_update", "audit_no_delete", "audit_checkpoints_no_update",
                              "audit_checkpoints_no_delete"}, s_triggers
        assert p_triggers == s_triggers | {"audit_no_truncate", "audit_checkpoints_no_truncate"}, p_triggers
        # the ids inserts leave to the database (RETURNING id) are generated;
        # the audit chain numbers its entries itself
        assert identity == {"units.id", "users.id", "schools.id", "job_runs.id", "venues.id", "zone_rules.id",
                            "zone_findings.id", "zone_finding_events.id", "zone_changes.seq"}, identity
        assert identity <= rowid
        # migrating again changes nothing, on either
        migrate(binary, d, "sqlite:" + os.path.join(d, "xiaoan.db"))
        migrate(binary, d, xa.pg_url(name))
        assert xa.PgConn(xa.pg_url(name)).execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == \
            sqlite3.connect(os.path.join(d, "xiaoan.db")).execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    finally:
        xa.pg_drop_database(name)
        shutil.rmtree(d, ignore_errors=True)
