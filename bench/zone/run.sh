#!/usr/bin/env bash
# shellcheck disable=SC2154 # figures are assigned through eval
# bench/zone/run.sh - `make bench` (after bench/api) and `make bench-zone`:
# the zone engine on synthetic data, each figure beside a reference
# measured in the same run on the same machine.
#
# 1. Per size (county 300 x 20 000, province 30 000 x 1 000 000, nation
#    500 000 x 20 000 000; bench/zone/gen.c), build/bench/zone_bench: the
#    engine's load, full join with the national rules, one venue's
#    incremental check, a move, memory; a plain C grid join with PROJ's
#    geod_inverse on every candidate (the baseline) and the engine's own
#    point-to-point pairs compared with it. County and province also time
#    `xiaoan zone scan` on the same data written as CSV.
# 2. PostGIS (Debian's postgresql-15-postgis-3) on a private cluster on
#    loopback: the same county and province points, geography columns with
#    GiST indexes, the point-to-point 200 m join with ST_DWithin as a plain
#    join and with the schools driving the venues' index; each twice, the
#    second timed; the pair sets compared with the baseline's.
# 3. The API: xiaoan serve on the demo county, PATCH /api/venues/:id moving
#    a venue (incremental check in the server) against PATCH of its note.
#
# It prints figures and the goals with PASS/MISS words; a figure never makes
# it fail. It exits non-zero only when it could not measure at all.
#
# Environment: BENCH_ZONE_SIZES (default county,province,nation; the nation
# runs only with MemAvailable >= 6 GiB), BENCH_PG=0 skips PostGIS,
# BENCH_API=0 skips the API part, BENCH_API_ROUNDS (2000), BENCH_NO_BUILD=1
# uses the binaries as they are, BENCH_KEEP=1 keeps the temp dir, TMPDIR
# chooses the disk. County alone takes seconds; with the province about a
# minute (PostGIS's plain join most of it); the nation a few minutes.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/bench/zone"
XIAOAN="$ROOT/build/xiaoan"
ZB="$ROOT/build/bench/zone_bench"
ZG="$ROOT/build/bench/zone_gen"
SIZES=${BENCH_ZONE_SIZES:-county,province,nation}
ROUNDS=${BENCH_API_ROUNDS:-2000}

say() { printf '%s\n' "$*"; }
die() { printf 'bench/zone: %s\n' "$*" >&2; exit 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
verdict() { if "$@"; then echo PASS; else echo MISS; fi; }

if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
	make -C "$ROOT" --no-print-directory build/xiaoan build/bench/zone_bench build/bench/zone_gen >/dev/null ||
		die "make build/xiaoan build/bench/zone_bench build/bench/zone_gen failed"
fi
[ -x "$ZB" ] && [ -x "$ZG" ] || die "no $ZB or $ZG (make build/bench/zone_bench build/bench/zone_gen)"

# PostgreSQL with PostGIS: Debian's binaries, as bench/api/run.sh finds them
PG_SKIP="" PGBIN="" PSQL="" AS=""
if [ "${BENCH_PG:-1}" = 0 ]; then
	PG_SKIP="BENCH_PG=0"
else
	for d in ${PG_BIN:-} /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			PGBIN=$d
			break
		fi
	done
	if [ -x "$PGBIN/psql" ]; then PSQL="$PGBIN/psql"; else PSQL=$(command -v psql 2>/dev/null || true); fi
	PGVER=$(basename "$(dirname "$PGBIN")" 2>/dev/null)
	if [ -z "$PGBIN" ] || [ -z "$PSQL" ]; then
		PG_SKIP="no PostgreSQL server binaries or psql; install them (as root): apt-get install -y postgresql postgresql-client"
	elif ! ls /usr/share/postgresql/"$PGVER"/extension/postgis.control >/dev/null 2>&1; then
		PG_SKIP="no PostGIS for PostgreSQL $PGVER; install it (as root): apt-get install -y postgresql-$PGVER-postgis-3"
	elif [ "$(id -u)" = 0 ]; then
		if id postgres >/dev/null 2>&1 && command -v runuser >/dev/null 2>&1; then
			AS="runuser -u postgres --"
		else
			PG_SKIP="running as root needs the postgres user (Debian's postgresql package creates it) and runuser"
		fi
	fi
fi

# --- temp dir, cleanup ---------------------------------------------------------
T=$(mktemp -d "${TMPDIR:-/tmp}/xiaoan-bench-zone.XXXXXX") || die "mktemp failed"
XPID="" PGPID="" PGDATA="" CPID=""
pg_stop() {
	[ -n "$PGPID" ] || return 0
	$AS "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 20 stop >/dev/null 2>&1 ||
		$AS "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate -w -t 10 stop >/dev/null 2>&1
	kill -0 "$PGPID" 2>/dev/null && kill -KILL "$PGPID" 2>/dev/null
	PGPID=""
}
cleanup() {
	trap - EXIT INT TERM HUP
	[ -n "$CPID" ] && kill -TERM "$CPID" 2>/dev/null
	if [ -n "$XPID" ]; then
		kill -TERM "$XPID" 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			kill -0 "$XPID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$XPID" 2>/dev/null
	fi
	pg_stop
	if [ "${BENCH_KEEP:-0}" = 1 ]; then say "bench/zone: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'say "bench/zone: interrupted"; exit 130' INT TERM HUP

# runs a command in the background so a signal reaches the trap at once
run_bg() { # OUTFILE cmd...
	local out=$1
	shift
	"$@" >"$out" 2>&1 &
	CPID=$!
	wait "$CPID"
	local rc=$?
	CPID=""
	return $rc
}

cpu_busy() { # percent of all CPU time not idle over the next second
	local a b
	a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
	sleep 1
	b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
	echo "$a $b" | awk '{ u = $3 - $1; i = $4 - $2; p = 0; if (u + i > 0) p = 100 * u / (u + i); printf "%.0f", p }'
}
# "@ KEY VALUE" lines of a zone_bench output -> Z_<size>_<key>=value
figures() { # SIZE FILE
	eval "$(awk -v s="$1" '$1 == "@" { printf "Z_%s_%s=%s\n", s, $2, $3 }' "$2")"
}
fig() { # SIZE KEY -> value or empty
	eval "printf '%s' \"\${Z_$1_$2:-}\""
}

say "== bench/zone  $(date -u +%Y-%m-%dT%H:%M:%SZ)  $("$XIAOAN" version 2>/dev/null | head -1)"
say "cpu: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); memory available $(awk '/MemAvailable/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
BUSY=$(cpu_busy)
say "cpu busy before the run: ${BUSY}% (load average $(cut -d' ' -f1-3 /proc/loadavg))"
[ "$BUSY" -gt 10 ] && say "   WARNING: the machine is not idle; other work shares the cores, figures will be low and noisy"

# --- 1. the engine per size ------------------------------------------------------
RAN=""
for size in ${SIZES//,/ }; do
	case "$size" in county | province | nation) ;; *)
		say "bench/zone: unknown size '$size' (county, province, nation)"
		continue
		;;
	esac
	say ""
	if [ "$size" = nation ]; then
		avail=$(awk '/MemAvailable/ { print int($2 / 1024) }' /proc/meminfo)
		if [ "${avail:-0}" -lt 6144 ]; then
			say "== nation: skipped: MemAvailable is ${avail} MiB; the nation needs about 6 GiB free (engine < 2 GiB, the"
			say "   generator, the point-only engine and the baseline's arrays beside it)"
			continue
		fi
	fi
	mkdir -p "$T/$size"
	args=""
	[ -z "$PG_SKIP" ] && [ "$size" != nation ] && args="--pg-dir $T/$size"
	# the nation: no baseline and no point-only engine (their arrays would
	# blur the engine's memory figure); its PostGIS run would take an hour
	[ "$size" = nation ] && args="--no-baseline --no-p2p"
	# shellcheck disable=SC2086
	run_bg "$T/$size/bench.out" "$ZB" "$size" $args || { say "bench/zone: zone_bench $size failed:"; tail -5 "$T/$size/bench.out"; continue; }
	grep -v '^@' "$T/$size/bench.out"
	figures "$size" "$T/$size/bench.out"
	RAN="$RAN $size"
	# xiaoan zone scan on the same data written as CSV (county, province)
	if [ "$size" != nation ] && [ -x "$XIAOAN" ]; then
		mkdir -p "$T/$size/csv"
		"$ZG" "$size" "$T/$size/csv" || { say "bench/zone: zone_gen $size failed"; continue; }
		t0=$(date +%s.%N)
		run_bg "$T/$size/scan.out" "$XIAOAN" zone scan --schools "$T/$size/csv/schools.csv" \
			--venues "$T/$size/csv/venues.csv" --out "$T/$size/csv/pairs.csv"
		rc=$?
		t1=$(date +%s.%N)
		rows=$(($(wc -l <"$T/$size/csv/pairs.csv" 2>/dev/null || echo 1) - 1))
		same="the same count as the join above"
		[ "$rows" = "$(fig "$size" join_pairs)" ] || same="NOT the join's $(fig "$size" join_pairs)"
		say "xiaoan zone scan on the same data as CSV ($(du -sh "$T/$size/csv/venues.csv" | cut -f1) of venues): exit $rc," \
			"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s wall (reading, parsing, joining, writing), $rows pairs: $same"
		eval "Z_${size}_scan_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
		rm -rf "$T/$size/csv"
	fi
done

# --- 2. PostGIS ------------------------------------------------------------------
pg_sql() { # DB SQL... : psql on the private cluster, unaligned, tuples only
	local db=$1
	shift
	PGCONNECT_TIMEOUT=10 "$PSQL" -h 127.0.0.1 -p "$PGPORT" -U postgres -d "$db" -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}
# the milliseconds of the last "Time:" line psql's \timing printed
pg_time() { # DB SQL -> "ms result"
	local out
	out=$(pg_sql "$1" -c '\timing on' -c "$2" 2>&1) || { echo "0 error"; return 1; }
	printf '%s %s\n' "$(printf '%s\n' "$out" | awk '/^Time: / { t = $2 } END { print t + 0 }')" \
		"$(printf '%s\n' "$out" | grep -v '^Time: ' | head -1)"
}
PLAIN="SELECT count(*) FROM s JOIN v ON ST_DWithin(s.g, v.g, 200)"
TUNED="SELECT count(*) FROM s CROSS JOIN LATERAL (SELECT 1 FROM v WHERE ST_DWithin(s.g, v.g, 200)) x"
TUNED_SET="SET enable_seqscan = off; SET enable_hashjoin = off; SET enable_mergejoin = off; SET max_parallel_workers_per_gather = 0; SET jit = off"
pg_part() {
	say ""
	say "== 2. PostGIS: the point-to-point 200 m join, ST_DWithin on geography (spheroid), GiST indexes"
	local PGT="$T/pg"
	mkdir -p "$PGT"
	if [ -n "$AS" ]; then
		chmod 711 "$T"
		chown postgres: "$PGT"
	fi
	PGDATA="$PGT/data"
	PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	$AS "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --no-locale --no-sync >"$T/pg-initdb.log" 2>&1 ||
		{ say "bench/zone: initdb failed, PostGIS part skipped: $(tail -3 "$T/pg-initdb.log")"; return 1; }
	# a query benchmark: memory as a small server would have it; durability
	# settings do not matter for reads (loading is not timed)
	local opts="-c listen_addresses=127.0.0.1 -c port=$PGPORT -c unix_socket_directories=$PGT"
	opts="$opts -c shared_buffers=1GB -c work_mem=64MB -c maintenance_work_mem=512MB -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	if ! $AS "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGT/server.log" -w -t 60 -o "$opts" start >"$T/pg-start.out" 2>&1; then
		say "bench/zone: the PostgreSQL cluster did not start, PostGIS part skipped: $(tail -5 "$PGT/server.log" 2>/dev/null)"
		PGPID=$(head -1 "$PGDATA/postmaster.pid" 2>/dev/null)
		return 1
	fi
	PGPID=$(head -1 "$PGDATA/postmaster.pid")
	pg_sql postgres -c "CREATE EXTENSION postgis" >/dev/null ||
		{ say "bench/zone: CREATE EXTENSION postgis failed, PostGIS part skipped"; return 1; }
	say "private cluster $("$PGBIN/postgres" --version | awk '{ print $3 }') with PostGIS $(pg_sql postgres -c "SELECT postgis_lib_version()")" \
		"on 127.0.0.1:$PGPORT: shared_buffers=1GB work_mem=64MB max_parallel_workers_per_gather=$(pg_sql postgres -c 'SHOW max_parallel_workers_per_gather')"
	say "plain:  $PLAIN"
	say "tuned:  $TUNED"
	say "        with $TUNED_SET"
	say "        (the schools drive: a nested loop over the schools, each probing the venues' GiST index once; jit off,"
	say "        since the disabled scans' huge costs would otherwise make PostgreSQL JIT-compile the query, ~130 ms)"
	local size
	for size in county province; do
		[ -f "$T/$size/venues.csv" ] || continue
		local db="z_$size"
		pg_sql postgres -c "CREATE DATABASE $db" >/dev/null && pg_sql "$db" -c "CREATE EXTENSION postgis" >/dev/null ||
			{ say "bench/zone: cannot create $db"; continue; }
		local t0 t1
		t0=$(date +%s.%N)
		pg_sql "$db" -c "CREATE TABLE s0 (id int, lat float8, lon float8)" -c "CREATE TABLE v0 (id int, lat float8, lon float8)" \
			-c "\\copy s0 FROM '$T/$size/schools.csv' CSV" -c "\\copy v0 FROM '$T/$size/venues.csv' CSV" \
			-c "CREATE TABLE s AS SELECT id, ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography AS g FROM s0" \
			-c "CREATE TABLE v AS SELECT id, ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography AS g FROM v0" \
			-c "ALTER TABLE s ADD PRIMARY KEY (id)" -c "ALTER TABLE v ADD PRIMARY KEY (id)" \
			-c "CREATE INDEX s_g ON s USING gist (g)" -c "CREATE INDEX v_g ON v USING gist (g)" \
			-c "DROP TABLE s0" -c "DROP TABLE v0" -c "VACUUM ANALYZE s" -c "VACUUM ANALYZE v" >/dev/null ||
			{ say "bench/zone: loading $size into PostGIS failed"; continue; }
		t1=$(date +%s.%N)
		say ""
		say "-- $size: $(pg_sql "$db" -c "SELECT count(*) FROM s") schools, $(pg_sql "$db" -c "SELECT count(*) FROM v") venues loaded (COPY, geography, GiST, ANALYZE) in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
		local r1 r2 plan
		plan=$(pg_sql "$db" -c "EXPLAIN $PLAIN" | grep -oE '(Nested Loop|Hash Join|Merge Join|Parallel [A-Za-z ]+Scan|Index Scan|Seq Scan|Bitmap [A-Za-z ]+Scan|Gather)( using [a-z_]+)?( on [a-z]+)?' | paste -sd, -)
		pg_time "$db" "$PLAIN" >/dev/null
		r1=$(pg_time "$db" "$PLAIN")
		say "plain join, second run: $(echo "$r1" | awk '{ printf "%.3f s, %s pairs", $1 / 1000, $2 }')   plan: $plan"
		plan=$(pg_sql "$db" -c "$TUNED_SET" -c "EXPLAIN $TUNED" | grep -oE '(Nested Loop|Hash Join|Merge Join|Parallel [A-Za-z ]+Scan|Index Scan|Seq Scan|Bitmap [A-Za-z ]+Scan|Gather)( using [a-z_]+)?( on [a-z]+)?' | paste -sd, -)
		pg_time "$db" "$TUNED_SET; $TUNED" >/dev/null
		r2=$(pg_time "$db" "$TUNED_SET; $TUNED")
		say "tuned join, second run: $(echo "$r2" | awk '{ printf "%.3f s, %s pairs", $1 / 1000, $2 }')   plan: $plan"
		eval "PG_${size}_plain_s=$(echo "$r1" | awk '{ printf "%.4f", $1 / 1000 }') PG_${size}_tuned_s=$(echo "$r2" | awk '{ printf "%.4f", $1 / 1000 }')"
		eval "PG_${size}_pairs=$(echo "$r2" | awk '{ print $2 + 0 }')"
		# the pair sets: PostGIS's against the baseline's (geod_inverse)
		if [ -f "$T/$size/pairs.csv" ]; then
			pg_sql "$db" -c "$TUNED_SET" \
				-c "CREATE TABLE gp AS SELECT s.id AS sid, x.id AS vid, ST_Distance(s.g, x.g) AS d FROM s CROSS JOIN LATERAL (SELECT id, g FROM v WHERE ST_DWithin(s.g, v.g, 200)) x" \
				-c "CREATE TABLE bp (sid int, vid int, d float8)" -c "\\copy bp FROM '$T/$size/pairs.csv' CSV" >/dev/null ||
				{ say "bench/zone: the pair comparison failed"; continue; }
			local cmp
			cmp=$(pg_sql "$db" -F ' ' -c "SELECT count(*) FILTER (WHERE gp.sid IS NOT NULL AND bp.sid IS NOT NULL),
				count(*) FILTER (WHERE bp.sid IS NULL), count(*) FILTER (WHERE gp.sid IS NULL),
				coalesce(max(abs(gp.d - bp.d)), 0), coalesce(max(abs(coalesce(gp.d, bp.d) - 200)) FILTER (WHERE gp.sid IS NULL OR bp.sid IS NULL), 0)
				FROM gp FULL JOIN bp ON gp.sid = bp.sid AND gp.vid = bp.vid")
			# shellcheck disable=SC2086
			set -- $cmp
			say "pairs vs the baseline (geod_inverse <= 200 m): $1 in both, $2 only in PostGIS, $3 only in the baseline;"
			say "   worst |ST_Distance - geod_inverse| over common pairs $(awk -v d="$4" 'BEGIN { printf "%.2e", d }') m;" \
				"the differing pairs lie within $(awk -v d="$5" 'BEGIN { printf "%.4f", d }') m of 200 m"
			[ "$(($2 + $3))" -gt 0 ] && say "   (why: PostGIS's spheroid distance is its own series, not Karney's geod_inverse; pairs at 200 m to within" \
				"a fraction of a millimetre fall either way)"
			eval "PG_${size}_diff=$(($2 + $3)) PG_${size}_worst=$4"
		fi
	done
	pg_stop
}
if [ -n "$PG_SKIP" ]; then
	say ""
	say "== 2. PostGIS: skipped: $PG_SKIP"
elif [ -z "$(ls "$T"/county/venues.csv "$T"/province/venues.csv 2>/dev/null)" ]; then
	say ""
	say "== 2. PostGIS: skipped: neither county nor province ran"
else
	pg_part
fi

# --- 3. the API ------------------------------------------------------------------------
api_part() {
	say ""
	say "== 3. The API: PATCH /api/venues/:id moving a venue (the incremental check runs in the write) vs PATCH of its note"
	local D="$T/api"
	mkdir -p "$D"
	export XIAOAN_PW_COST=fast
	"$XIAOAN" init --data "$D" >"$T/api-init.out" 2>"$T/api-init.err" ||
		{ say "bench/zone: xiaoan init failed, API part skipped: $(tail -3 "$T/api-init.err")"; return 1; }
	local otp
	otp=$(awk 'NF { l = $0 } END { print l }' "$T/api-init.out")
	"$XIAOAN" demo --data "$D" >"$T/api-demo.out" 2>&1 ||
		{ say "bench/zone: xiaoan demo failed, API part skipped: $(tail -3 "$T/api-demo.out")"; return 1; }
	local port
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"$XIAOAN" serve --data "$D" --listen "127.0.0.1:$port" >"$T/api-xiaoan.log" 2>&1 &
	XPID=$!
	local up=0
	for _ in $(seq 1 300); do
		if python3 -c "import http.client,sys; c=http.client.HTTPConnection('127.0.0.1',$port,timeout=1); c.request('GET','/healthz'); sys.exit(c.getresponse().status!=200)" 2>/dev/null; then
			up=1
			break
		fi
		sleep 0.1
	done
	[ "$up" = 1 ] || { say "bench/zone: xiaoan did not start, API part skipped: $(tail -5 "$T/api-xiaoan.log")"; return 1; }
	say "demo county on SQLite (WAL, every PATCH a committed, audited transaction); one keep-alive connection, python client"
	if ! run_bg "$T/api.out" python3 "$HERE/api.py" "$port" "$otp" "$ROUNDS"; then
		say "bench/zone: the API part could not measure: $(tail -3 "$T/api.out")"
		return 1
	fi
	grep -v '^@' "$T/api.out"
	eval "$(awk '$1 == "@" { printf "A_%s=%s\n", $2, $3 }' "$T/api.out")"
}
if [ "${BENCH_API:-1}" = 0 ]; then
	say ""
	say "== 3. The API: skipped: BENCH_API=0"
elif [ ! -x "$XIAOAN" ]; then
	say ""
	say "== 3. The API: skipped: no $XIAOAN"
else
	api_part
fi

# --- summary -------------------------------------------------------------------------------
say ""
say "== summary (load average now $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-9s %9s %10s %9s %9s %9s %9s %9s %10s %10s %9s\n' size "load s" "join s" "pairs" "check us" "move us" "B/venue" \
	"engine MiB" "base s" "PG plain" "PG tuned"
for size in $RAN; do
	printf '%-9s %9s %10s %9s %9s %9s %9s %10s %10s %10s %9s\n' "$size" "$(fig "$size" load_s)" "$(fig "$size" join_s)" \
		"$(fig "$size" join_pairs)" "$(fig "$size" check_us)" "$(fig "$size" move_us)" "$(fig "$size" bytes_per_venue)" \
		"$(awk -v b="$(fig "$size" engine_bytes)" 'BEGIN { printf "%.0f", b / 1048576 }')" "$(fig "$size" base_join_s)" \
		"$(eval "printf '%s' \"\${PG_${size}_plain_s:--}\"")" "$(eval "printf '%s' \"\${PG_${size}_tuned_s:--}\"")"
done
say ""
say "goals:"
if [ -n "${PG_province_tuned_s:-}" ] && [ -n "$(fig province join_s)" ]; then
	r=$(ratio "$PG_province_tuned_s" "$(fig province join_s)")
	say "  province full recompute (exact verdicts) vs tuned PostGIS point join: ${r}x   goal >= 20x: $(verdict ge "$r" 20)"
	[ -n "$(fig province join1_s)" ] && say "     on 1 thread, as PostGIS's tuned join runs: $(fig province join1_s) s," \
		"$(ratio "$PG_province_tuned_s" "$(fig province join1_s)")x"
	say "     (the engine judges every pair by the rules, campus polygons and gates included; PostGIS only finds the"
	say "      point pairs; the engine's own point-to-point join took $(fig province p2p_s) s on 1 thread:" \
		"$(ratio "$PG_province_tuned_s" "$(fig province p2p_s)")x)"
elif [ -n "${PG_county_tuned_s:-}" ] && [ -n "$(fig county join_s)" ]; then
	r=$(ratio "$PG_county_tuned_s" "$(fig county join_s)")
	say "  county full recompute vs tuned PostGIS: ${r}x (the goal is stated for the province, which did not run)"
else
	say "  full recompute vs tuned PostGIS: not measured (PostGIS or the province did not run)"
fi
for size in province county; do
	c=$(fig "$size" check_us)
	[ -n "$c" ] || continue
	say "  one venue's incremental check in process ($size): $c us   goal < 5 us: $(verdict lt "$c" 5)"
	break
done
if [ -n "$(fig nation engine_bytes)" ]; then
	m=$(awk -v b="$(fig nation engine_bytes)" 'BEGIN { printf "%.2f", b / 1073741824 }')
	p=$(awk -v b="$(fig nation peak_bytes)" 'BEGIN { printf "%.2f", b / 1073741824 }')
	say "  nation memory: engine $m GiB (process peak $p GiB)   goal < 2 GiB: $(verdict lt "$m" 2)"
else
	say "  nation memory: not measured (the nation did not run)"
fi
if [ -n "${A_api_diff_p50:-}" ]; then
	say "  through-API incremental cost: p50 ${A_api_diff_p50} ms, p99 ${A_api_diff_p99} ms   goal < 1 ms: $(verdict lt "$A_api_diff_p50" 1)" \
		"(p50; $A_api_errors errors)"
else
	say "  through-API incremental cost: not measured"
fi
BUSY=$(cpu_busy)
say "cpu busy after the run: ${BUSY}%"
[ "$BUSY" -gt 10 ] && say "   WARNING: something else is using the CPU: figures are not trustworthy"
say "(figures only: a benchmark never fails on a figure; see bench/zone/README.md)"
exit 0
