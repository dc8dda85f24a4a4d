#!/bin/sh
# pg.sh - a PostgreSQL server for the API tests' PostgreSQL pass.
#
#   tests/pg.sh start       prints PG_BASE=<url> and PG_DIR=<dir> for eval
#   tests/pg.sh stop DIR    stops the cluster started in DIR and removes it
#
# With XIAOAN_TEST_PG set to the URL of an existing server (a user that may
# CREATE DATABASE, e.g. postgres://postgres@127.0.0.1:5432), start uses it
# and starts nothing; each test server gets its own database there
# (tests/api/xa.py), dropped when it is done.
#
# Otherwise start creates a throwaway cluster with Debian's PostgreSQL (15;
# `make deps` installs it): a temporary directory, a free port on loopback,
# the socket in that directory, trust authentication on 127.0.0.1 only,
# fsync off (nothing in it outlives the run). initdb refuses to run as root,
# so as root the cluster belongs to the postgres user.
set -eu

die() { echo "pg.sh: $*" >&2; exit 1; }

case "${1:-}" in
start)
	if [ -n "${XIAOAN_TEST_PG:-}" ]; then
		echo "PG_BASE='$XIAOAN_TEST_PG'"
		echo "PG_DIR=''"
		exit 0
	fi
	bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
	[ -x "$bin/initdb" ] || bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	[ -n "$bin" ] && [ -x "$bin/initdb" ] || die "no PostgreSQL server binaries (apt-get install postgresql, or run make deps)"
	command -v psql >/dev/null || die "no psql (apt-get install postgresql-client)"
	dir=$(mktemp -d "${TMPDIR:-/tmp}/xiaoan-pg-XXXXXX")
	as=""
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || die "running as root needs the postgres user (Debian's postgresql package creates it)"
		chown postgres: "$dir"
		as="runuser -u postgres --"
	fi
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	$as "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; rm -rf "$dir"; die "initdb failed"; }
	$as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "-c listen_addresses=127.0.0.1 -c port=$port \
-c unix_socket_directories=$dir -c fsync=off -c full_page_writes=off -c max_connections=300" start >/dev/null ||
		{ cat "$dir/server.log" >&2; $as "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true;
		  rm -rf "$dir"; die "the cluster did not start"; }
	echo "$bin" > "$dir/bin"
	echo "PG_BASE='postgres://postgres@127.0.0.1:$port'"
	echo "PG_DIR='$dir'"
	;;
stop)
	dir=${2:-}
	[ -n "$dir" ] && [ -f "$dir/bin" ] || exit 0
	as=""
	[ "$(id -u)" = 0 ] && as="runuser -u postgres --"
	$as "$(cat "$dir/bin")/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 ||
		$as "$(cat "$dir/bin")/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$dir"
	;;
*)
	echo "usage: tests/pg.sh start | stop DIR" >&2
	exit 2
	;;
esac
