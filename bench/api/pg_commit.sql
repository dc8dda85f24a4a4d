-- pg_commit.sql - pgbench script: the raw rate of durable single-row
-- PostgreSQL commits, the floor an audited API write on PostgreSQL is
-- measured against (bench/api/run.sh; the twin of sqlite_commit.c).
--
--   pgbench -n -M prepared -f pg_commit.sql -c CLIENTS -j THREADS -T SECONDS DB
--
-- One INSERT per transaction (autocommit), so each transaction is one commit
-- record flushed to the WAL before pgbench sees the answer
-- (synchronous_commit=on, fsync=on). The table is created by run.sh:
--   CREATE TABLE t (id bigserial PRIMARY KEY, thread int NOT NULL,
--                   n bigint NOT NULL, at timestamptz NOT NULL, payload text NOT NULL)
-- The payload is about the size of a school's audit entry, as in sqlite_commit.c.
\set n random(1, 1000000000)
INSERT INTO t (thread, n, at, payload) VALUES (:client_id, :n, now(), '{"enrollment":1234,"name":"示范县第一小学","code":"1234567890","stage":"小学","ownership":"公办","region_code":"340899"}');
