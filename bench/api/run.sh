#!/usr/bin/env bash
# shellcheck disable=SC2154 # figures are assigned through eval
# bench/api/run.sh - `make bench`: the API's read and durable-write rates,
# each beside a reference measured in the same run on the same machine.
#
# 1. SQLite:
#    reads:  wrk at 8 and 64 connections against GET /api/schools/:id as a
#            signed-in user, and against Debian's nginx (a private config on
#            loopback) serving a static file with the same JSON body;
#    writes: wrk PATCH /api/schools/:id (each a committed, audited
#            transaction) at 8 and 1 connections, and the raw rate of durable
#            single-row SQLite commits (WAL, synchronous=FULL) on the same disk,
#            1 and 8 threads (bench/api/sqlite_commit.c).
# 2. PostgreSQL (a private PostgreSQL cluster this script starts in its temp
#    dir: shared_buffers=256MB, fsync=on, synchronous_commit=on): the same
#    reads and PATCHes with xiaoan on PostgreSQL, beside the SQLite figures and
#    nginx, and the raw rate of durable single-row PostgreSQL commits
#    (pgbench, bench/api/pg_commit.sql, 1 and 8 clients).
# 3. Load across servers: a private nginx load balancer (upstream keepalive,
#    round robin) in front of one, then two xiaoan servers on that
#    PostgreSQL: reads at 64 connections and PATCHes at 8, with the CPU time
#    each process spent per 1000 requests (/proc/PID/stat) and what that
#    predicts for more cores.
#
# It prints figures and the goals with PASS/MISS words. A benchmark is not a
# test: a figure never makes it fail. It exits non-zero only when it could
# not measure (the server would not build or start, setup failed); when only
# the PostgreSQL part cannot run, it says why and skips it.
#
# Environment: BENCH_SECONDS (default 10) per wrk run, BENCH_WARMUP (2),
# BENCH_RAW_SECONDS (5) per raw-commit run, BENCH_PG=0 skips sections 2 and
# 3, BENCH_NO_BUILD=1 uses build/xiaoan as it is, BENCH_KEEP=1 keeps the temp
# dir (logs, wrk outputs, databases), TMPDIR chooses the disk.
# Takes about 3.5 minutes (1.5 with BENCH_PG=0).
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/bench/api"
SECS=${BENCH_SECONDS:-10}
WARM=${BENCH_WARMUP:-2}
RAWSECS=${BENCH_RAW_SECONDS:-5}
XIAOAN="$ROOT/build/xiaoan"
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)

say() { printf '%s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# --- tools --------------------------------------------------------------------
NGINX=$(command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)
missing=""
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
[ -n "$NGINX" ] || missing="$missing nginx-light"
command -v sqlite3 >/dev/null 2>&1 || missing="$missing sqlite3"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
command -v cc >/dev/null 2>&1 || missing="$missing build-essential"
[ -e /usr/include/sqlite3.h ] || missing="$missing libsqlite3-dev"
if [ -n "$missing" ]; then
	say "bench: missing tools; install them (as root) and run again:"
	say "  apt-get install -y$missing"
	exit 0
fi

# PostgreSQL: Debian's server binaries (initdb, pg_ctl, pgbench) and psql
PG_SKIP=""
PGBIN="" PSQL="" AS=""
if [ "${BENCH_PG:-1}" = 0 ]; then
	PG_SKIP="BENCH_PG=0"
else
	for d in ${PG_BIN:-} /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/pgbench" ]; then
			PGBIN=$d
			break
		fi
	done
	if [ -x "$PGBIN/psql" ]; then PSQL="$PGBIN/psql"; else PSQL=$(command -v psql 2>/dev/null || true); fi
	if [ -z "$PGBIN" ] || [ -z "$PSQL" ]; then
		PG_SKIP="no PostgreSQL server binaries (initdb, pg_ctl, pgbench) or psql; install them (as root):
  apt-get install -y postgresql postgresql-client"
	elif [ "$(id -u)" = 0 ]; then
		# initdb refuses to run as root: the cluster belongs to the postgres user
		if id postgres >/dev/null 2>&1 && command -v runuser >/dev/null 2>&1; then
			AS="runuser -u postgres --"
		else
			PG_SKIP="running as root needs the postgres user (Debian's postgresql package creates it) and runuser"
		fi
	fi
fi

# --- build --------------------------------------------------------------------
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
	make -C "$ROOT" --no-print-directory build >/dev/null || die "make build failed"
fi
[ -x "$XIAOAN" ] || die "no $XIAOAN after make build"

# --- temp dir, cleanup ----------------------------------------------------------
T=$(mktemp -d "${TMPDIR:-/tmp}/xiaoan-bench.XXXXXX") || die "mktemp failed"
# XPID: the xiaoan server measured (SQLite, then the first on PostgreSQL);
# X2PID: the second server; NPID: nginx (static, then the load balancer);
# PGPID: the postmaster; WPID: wrk
XPID="" X2PID="" NPID="" WPID="" PGPID="" PGDATA=""
stop_pids() { # PID... : TERM, up to 2 s, then KILL
	local p
	for p in "$@"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "$@"; do
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}
pg_stop() {
	[ -n "$PGPID" ] || return 0
	$AS "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 20 stop >/dev/null 2>&1 ||
		$AS "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate -w -t 10 stop >/dev/null 2>&1
	kill -0 "$PGPID" 2>/dev/null && kill -KILL "$PGPID" 2>/dev/null
	PGPID=""
}
cleanup() {
	trap - EXIT INT TERM HUP
	stop_pids $WPID $NPID $X2PID $XPID
	pg_stop
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		say "bench: kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'say "bench: interrupted"; exit 130' INT TERM HUP

# runs wrk in the background so a signal reaches the trap at once
run_wrk() { # OUTFILE wrk-args...
	local out=$1
	shift
	wrk "$@" >"$out" 2>&1 &
	WPID=$!
	wait "$WPID"
	WPID=""
}

# CPU accounting. snap prints the machine's busy ticks (/proc/stat) and, for
# each of the four roles (xiaoan, second xiaoan, postgres, nginx), the
# utime+stime+cutime+cstime of its process plus utime+stime of its live
# children (PostgreSQL backends and nginx workers are children; a child that
# exited is in its parent's cutime). A role not running counts 0.
snap() {
	{
		awk '/^cpu / { print "M", $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
		cat /proc/[0-9]*/stat 2>/dev/null
	} | awk -v roots="${XPID:--1} ${X2PID:--1} ${PGPID:--1} ${NPID:--1}" '
	BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) if (r[i] != -1) idx[r[i]] = i }
	$1 == "M" { m = $2; next }
	{
		if (!match($0, /^.*\) /)) next
		split(substr($0, RLENGTH + 1), f, " ")
		if ($1 in idx) t[idx[$1]] += f[12] + f[13] + f[14] + f[15]
		else if (f[2] in idx) t[idx[f[2]]] += f[12] + f[13]
	}
	END { printf "%d", m; for (i = 1; i <= n; i++) printf " %d", t[i]; print "" }'
}
# wrk with a CPU snapshot before and after: OUT.cpu holds both lines
measure() { # OUTFILE wrk-args...
	local out=$1 a
	a=$(snap)
	run_wrk "$@"
	{ echo "$a"; snap; } >"$out.cpu"
}
# CPU milliseconds per 1000 requests of a measured run:
# "machine xiaoan xiaoan2 postgres nginx rest" (rest: machine minus the four,
# i.e. wrk, the kernel's share not charged to a process, anything else)
cpu_per_k() { # OUTFILE
	local reqs
	reqs=$(awk '/ requests in / { print $1 }' "$1")
	awk -v reqs="${reqs:-0}" -v hz="$HZ" '
	NR == 1 { for (i = 1; i <= NF; i++) a[i] = $i }
	NR == 2 { for (i = 1; i <= NF; i++) d[i] = $i - a[i] }
	END {
		k = reqs > 0 ? 1e6 / (hz * reqs) : 0
		rest = d[1] - d[2] - d[3] - d[4] - d[5]
		if (rest < 0) rest = 0
		printf "%.1f %.1f %.1f %.1f %.1f %.1f\n", d[1] * k, d[2] * k, d[3] * k, d[4] * k, d[5] * k, rest * k
	}' "$1.cpu"
}
# share of the machine's CPU that was busy during a measured run, percent
cpu_busy_run() { # OUTFILE SECONDS
	awk -v hz="$HZ" -v s="$2" -v n="$(nproc)" 'NR == 1 { a = $1 } NR == 2 { printf "%.0f", 100 * ($1 - a) / (hz * s * n) }' "$1.cpu"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_http() { # PORT PATH
	python3 - "$1" "$2" <<'PYEOF'
import http.client, sys, time
port, path = int(sys.argv[1]), sys.argv[2]
end = time.time() + 30
while time.time() < end:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        c.request("GET", path)
        if c.getresponse().status == 200:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.05)
sys.exit(1)
PYEOF
}

# wrk output -> "RPS P99MS NON2XX ERRORS REQUESTS"
wrk_figures() {
	awk '
	function ms(v) {
		if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
		if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
		if (v ~ /m$/)  return substr(v, 1, length(v) - 1) * 60000
		if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
		return v + 0
	}
	/^Requests\/sec:/ { rps = $2 }
	/ requests in / { reqs = $1 }
	/^ *99%/ { p99 = ms($2) }
	/Non-2xx or 3xx responses:/ { non2xx = $NF }
	/Socket errors:/ { gsub(/,/, ""); err = $4 + $6 + $8 + $10 }
	END { printf "%s %.2f %d %d %d\n", (rps == "" ? 0 : rps), p99, non2xx, err, reqs }' "$1"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# the nginx config header every private nginx here shares
nginx_head() {
	[ "$(id -u)" = 0 ] && echo "user root;"
	cat <<NGEOF
worker_processes auto;
daemon off;
pid $1.pid;
error_log $1-error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	default_type application/json;
	keepalive_requests 1000000;
	client_body_temp_path $T/nginx-tmp/body;
NGEOF
	local nv m
	nv=$("$NGINX" -V 2>&1)
	for m in proxy fastcgi uwsgi scgi; do
		case "$nv" in *"--without-http_${m}_module"*) ;; *) echo "	${m}_temp_path $T/nginx-tmp/$m;" ;; esac
	done
}
start_nginx() { # CONF PORT PATH -> NPID
	"$NGINX" -e "${1%.conf}-error.log" -c "$1" -p "$T" >"${1%.conf}.out" 2>&1 &
	NPID=$!
	wait_http "$2" "$3" || die "nginx did not start: $(cat "${1%.conf}.out" "${1%.conf}-error.log" 2>/dev/null | tail -5)"
}

# --- machine ------------------------------------------------------------------
say "== bench/api  $(date -u +%Y-%m-%dT%H:%M:%SZ)  $("$XIAOAN" version 2>/dev/null | head -1)"
say "cpu: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)  kernel $(uname -r)"
say "tools: $(wrk --version 2>&1 | head -1 | awk '{print $1, $2}'), $("$NGINX" -v 2>&1 | sed 's/.*: //'), sqlite $(sqlite3 --version | awk '{print $1}')$([ -n "$PGBIN" ] && [ -z "$PG_SKIP" ] && echo ", $("$PGBIN/postgres" --version | sed 's/^postgres (PostgreSQL) /PostgreSQL /')")"
say "temp dir $T on:"
df -T "$T" | sed 's/^/  /'
say "note: wrk runs on the same cores as the servers it measures"
cpu_busy() { # percent of all CPU time not idle over the next second
	local a b
	a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
	sleep 1
	b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
	echo "$a $b" | awk '{ u = $3 - $1; i = $4 - $2; p = 0; if (u + i > 0) p = 100 * u / (u + i); printf "%.0f", p }'
}
section_busy() { # warns when other work runs between sections (all servers idle)
	local b
	b=$(cpu_busy)
	[ "$b" -gt 10 ] && say "   WARNING: ${b}% of the CPU was busy with other work before this section: its figures will be low and noisy"
}
BUSY=$(cpu_busy)
say "cpu busy before the run: ${BUSY}% (load average $(cut -d' ' -f1-3 /proc/loadavg))"
[ "$BUSY" -gt 10 ] && say "   WARNING: the machine is not idle; other work shares the cores and the disk, figures will be low and noisy"

# --- server and data ----------------------------------------------------------
D="$T/data"
mkdir -p "$D" "$T/www" "$T/raw" "$T/out" "$T/nginx-tmp"
export XIAOAN_PW_COST=fast
"$XIAOAN" init --data "$D" >"$T/init.out" 2>"$T/init.err" || die "xiaoan init failed: $(tail -5 "$T/init.err")"
OTP=$(awk 'NF { l = $0 } END { print l }' "$T/init.out")
XPORT=$(free_port)
"$XIAOAN" serve --data "$D" --listen "127.0.0.1:$XPORT" >"$T/xiaoan.log" 2>&1 &
XPID=$!
wait_http "$XPORT" /healthz || die "xiaoan did not start: $(tail -20 "$T/xiaoan.log")"

SCHOOL_ID="" COOKIE="" CSRF="" BODY_BYTES=""
BODY="$T/body.json"
python3 "$HERE/setup.py" "$XPORT" "$OTP" "$BODY" >"$T/setup.env" || die "setup failed (server log: $T/xiaoan.log)"
. "$T/setup.env"
[ -n "$SCHOOL_ID" ] && [ -n "$COOKIE" ] || die "setup printed no session"
P="/api/schools/$SCHOOL_ID"
mkdir -p "$T/www/api/schools"
cp "$BODY" "$T/www$P"

# --- nginx --------------------------------------------------------------------
NPORT=$(free_port)
NCONF="$T/nginx.conf"
{
	nginx_head "$T/nginx"
	cat <<EOF2
	server {
		listen 127.0.0.1:$NPORT;
		root $T/www;
		location / { }
	}
}
EOF2
} >"$NCONF"
start_nginx "$NCONF" "$NPORT" "$P"

XURL="http://127.0.0.1:$XPORT$P"
NURL="http://127.0.0.1:$NPORT$P"
HDR="Cookie: xiaoan_session=$COOKIE"

# --- reads --------------------------------------------------------------------
say ""
say "== 1. SQLite"
say "== reads: GET $P (JSON body $BODY_BYTES bytes) vs nginx serving the same body as a static file"
say "   wrk -t2 --latency, ${SECS}s per run after a ${WARM}s warm-up of each target; cpu: ms of the server's CPU per 1000 requests"
run_wrk "$T/out/warm-x" -t2 -c64 -d"${WARM}s" -H "$HDR" "$XURL"
run_wrk "$T/out/warm-n" -t2 -c64 -d"${WARM}s" "$NURL"
for c in 8 64; do
	measure "$T/out/get-x-$c" -t2 -c"$c" -d"${SECS}s" --latency -H "$HDR" "$XURL"
	measure "$T/out/get-n-$c" -t2 -c"$c" -d"${SECS}s" --latency "$NURL"
done
printf '%-6s %-8s %12s %10s %9s %8s %9s\n' conns target "requests/s" "p99 ms" "non-2xx" errors "cpu ms/1k"
for c in 8 64; do
	for t in x n; do
		# shellcheck disable=SC2046
		set -- $(wrk_figures "$T/out/get-$t-$c")
		# shellcheck disable=SC2046
		set -- "$@" $(cpu_per_k "$T/out/get-$t-$c")
		name=xiaoan cpu=$7
		[ "$t" = n ] && name=nginx cpu=${10}
		printf '%-6s %-8s %12.0f %10.2f %9d %8d %9.1f\n' "$c" "$name" "$1" "$2" "$3" "$4" "$cpu"
		eval "RPS_${t}_$c=$1 P99_${t}_$c=$2 NON_${t}_$c=$3 CPU_${t}_$c=$cpu"
	done
done
for c in 8 64; do
	rx="" rn="" px="" nx=""
	eval "rx=\$RPS_x_$c rn=\$RPS_n_$c px=\$P99_x_$c nx=\$NON_x_$c"
	r=$(ratio "$rx" "$rn")
	line="xiaoan/nginx requests/s at $c connections: $r   (xiaoan p99 ${px} ms)"
	if [ "$c" = 64 ]; then
		verdict=MISS
		ge "$r" 0.5 && lt "$px" 10 && verdict=PASS
		line="$line   goal >= 0.50 with p99 < 10 ms: $verdict"
	fi
	say "$line"
	[ "$nx" -gt 0 ] && say "   WARNING: $nx xiaoan responses at $c connections were not 2xx (session lost?): the rate is not meaningful"
done

# --- durable writes -----------------------------------------------------------
audit_count() { sqlite3 "$D/xiaoan.db" 'select count(*) from audit' 2>/dev/null || echo -1; }

# PATCH run: CONNS THREADS NAME [BASE-URL]; the audit table (audit_count)
# must grow by the number of 2xx answers. Sets PRPS_NAME PP99_NAME PERR_NAME
# PCPU_NAME (the cpu_per_k line) and PLINE.
patch_run() {
	local before after ok other name=$3 base=${4:-http://127.0.0.1:$XPORT} v
	before=$(audit_count)
	measure "$T/out/$name" -t"$2" -c"$1" -d"${SECS}s" --latency -s "$HERE/patch.lua" \
		"$base" -- "$P" "$COOKIE" "$CSRF"
	sleep 0.3 # requests still in flight when wrk stopped finish
	after=$(audit_count)
	ok=$(awk '/^PATCH_2XX/ { print $2 }' "$T/out/$name")
	other=$(awk '/^PATCH_OTHER/ { print $2 }' "$T/out/$name")
	# shellcheck disable=SC2046
	set -- "$1" $(wrk_figures "$T/out/$name")
	v=${name//-/_}
	eval "PRPS_$v=$2 PP99_$v=$3 PERR_$v=$5"
	eval "PCPU_$v=\"$(cpu_per_k "$T/out/$name")\""
	local delta=$((after - before)) check
	if [ "$delta" = "${ok:-x}" ]; then
		check="OK: audit +$delta = $ok 2xx responses"
	elif [ -n "$ok" ] && [ "$delta" -gt "$ok" ] && [ "$delta" -le $((ok + $1)) ]; then
		check="OK: audit +$delta for $ok 2xx responses (+$((delta - ok)) answered after wrk stopped reading)"
	else
		check="MISMATCH: audit +$delta for ${ok:-?} 2xx responses"
	fi
	PLINE="$check; ${other:-?} non-2xx"
	if [ "${other:-0}" != 0 ]; then
		PLINE="$PLINE (first: $(sed -n 's/^PATCH_FIRST_OTHER //p' "$T/out/$name" | head -1))"
	fi
}

FS=$(df -T "$T" | awk 'NR == 2 { print $1 " " $2 }')
say ""
say "== durable writes on $FS (raw: WAL, synchronous=FULL, one fsync per commit; xiaoan: WAL with group commit — each answered write fdatasync'ed, fsyncs shared)"
cc -O2 -o "$T/sqlite_commit" "$HERE/sqlite_commit.c" -lsqlite3 -lpthread || die "cannot build sqlite_commit"
raw() { # THREADS -> commits/s
	"$T/sqlite_commit" "$T/raw/commit.db" "$RAWSECS" "$1" >"$T/out/raw-$1" ||
		{ echo "bench: sqlite_commit $1 failed" >&2; echo 0; return; }
	awk '{ print $6 }' "$T/out/raw-$1"
}
# the disk's rate drifts (other tenants, write-back caches): the 1-thread raw
# rate is measured before and after the PATCH runs and the mean is used
R1A=$(raw 1)
patch_run 8 2 patch-8
CHECK8=$PLINE
patch_run 1 1 patch-1
CHECK1=$PLINE
R1B=$(raw 1)
R8=$(raw 8)
R1=$(awk -v a="$R1A" -v b="$R1B" 'BEGIN { printf "%.1f", (a + b) / 2 }')
rm -f "$T/raw/commit.db"*

printf '%-50s %10s %9s %7s %9s\n' "" "per second" "p99 ms" errors "cpu ms/1k"
printf '%-50s %10.0f %9.2f %7d %9.1f\n' "xiaoan PATCH $P, 8 connections" "$PRPS_patch_8" "$PP99_patch_8" "$PERR_patch_8" "$(echo "$PCPU_patch_8" | cut -d' ' -f2)"
printf '%-50s %10.0f %9.2f %7d %9.1f\n' "xiaoan PATCH $P, 1 connection" "$PRPS_patch_1" "$PP99_patch_1" "$PERR_patch_1" "$(echo "$PCPU_patch_1" | cut -d' ' -f2)"
printf '%-50s %10.0f   (before %.0f, after %.0f)\n' "raw SQLite single-row commits, 1 thread" "$R1" "$R1A" "$R1B"
printf '%-50s %10.0f\n' "raw SQLite single-row commits, 8 threads" "$R8"
awk -v a="$R1A" -v b="$R1B" 'BEGIN { d = a > b ? a / b : b / a; if (d > 1.25)
	printf "   note: the raw rate moved %.0f%% during the run: the disk is shared or cached; ratios are rough\n", (d - 1) * 100 }'
say "audit check, 8 connections: $CHECK8"
say "audit check, 1 connection:  $CHECK1"
r=$(ratio "$PRPS_patch_8" "$R1")
verdict=MISS
ge "$r" 0.5 && verdict=PASS
say "PATCH (8 conns) / raw commits (1 thread): $r   goal >= 0.50: $verdict"
say "PATCH (1 conn)  / raw commits (1 thread): $(ratio "$PRPS_patch_1" "$R1")"
say "PATCH (8 conns) / raw commits (8 threads): $(ratio "$PRPS_patch_8" "$R8")"
if "$XIAOAN" audit verify --data "$D" >"$T/verify.out" 2>&1; then
	say "xiaoan audit verify: $(tail -1 "$T/verify.out")"
else
	say "xiaoan audit verify FAILED: $(tail -3 "$T/verify.out")"
fi
SQ_BODY_BYTES=$BODY_BYTES

# --- 2. PostgreSQL ------------------------------------------------------------
pg_sql() { # DB SQL... : psql on the private cluster, unaligned, tuples only
	local db=$1
	shift
	PGCONNECT_TIMEOUT=10 "$PSQL" -h 127.0.0.1 -p "$PGPORT" -U postgres -d "$db" -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}
pg_raw() { # CLIENTS -> commits/s (pgbench, one INSERT per transaction)
	local j=1
	[ "$1" -gt 1 ] && j=2
	pg_sql bench_raw -c "TRUNCATE t" >/dev/null 2>&1
	"$PGBIN/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -n -M prepared -f "$HERE/pg_commit.sql" \
		-c "$1" -j "$j" -T "$RAWSECS" bench_raw >"$T/out/pgraw-$1" 2>&1 ||
		{ echo "bench: pgbench -c $1 failed: $(tail -2 "$T/out/pgraw-$1")" >&2; echo 0; return; }
	awk '/^tps = / { print $3; exit }' "$T/out/pgraw-$1"
}
# cpu_per_k's fields of a run: "machine x x2 pg nginx rest"
cpu_field() { # OUTFILE FIELD(1-6)
	cpu_per_k "$1" | cut -d' ' -f"$2"
}

pg_part() {
	say ""
	say "== 2. PostgreSQL"
	# the SQLite server and the static nginx are done: stop them so they hold nothing
	stop_pids $NPID $XPID
	NPID="" XPID=""
	section_busy
	local PGT="$T/pg"
	mkdir -p "$PGT"
	if [ -n "$AS" ]; then
		chmod 711 "$T" # the postgres user reaches its own directory in here
		chown postgres: "$PGT"
	fi
	PGDATA="$PGT/data"
	PGPORT=$(free_port)
	$AS "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --no-locale >"$T/pg-initdb.log" 2>&1 ||
		{ say "bench: initdb failed, PostgreSQL part skipped: $(tail -3 "$T/pg-initdb.log")"; return 1; }
	# a benchmark cluster, durable like the SQLite runs: fsync, synchronous
	# commit and full page writes on (the defaults, spelled out)
	local opts="-c listen_addresses=127.0.0.1 -c port=$PGPORT -c unix_socket_directories=$PGT"
	opts="$opts -c shared_buffers=256MB -c fsync=on -c synchronous_commit=on -c full_page_writes=on -c max_connections=100"
	if ! $AS "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGT/server.log" -w -t 60 -o "$opts" start >"$T/pg-start.out" 2>&1; then
		say "bench: the PostgreSQL cluster did not start, PostgreSQL part skipped: $(tail -5 "$PGT/server.log" 2>/dev/null)"
		PGPID=$(head -1 "$PGDATA/postmaster.pid" 2>/dev/null)
		return 1
	fi
	PGPID=$(head -1 "$PGDATA/postmaster.pid")
	pg_sql postgres -c "CREATE DATABASE xiaoan_bench" -c "CREATE DATABASE bench_raw" >/dev/null &&
		pg_sql bench_raw -c "CREATE TABLE t (id bigserial PRIMARY KEY, thread int NOT NULL, n bigint NOT NULL,
			at timestamptz NOT NULL, payload text NOT NULL)" >/dev/null ||
		{ say "bench: cannot create the databases, PostgreSQL part skipped"; return 1; }
	say "private cluster $("$PGBIN/postgres" --version | awk '{ print $3 }') in $PGT on 127.0.0.1:$PGPORT (same filesystem as above): $(pg_sql postgres -c "SELECT
		'shared_buffers=' || current_setting('shared_buffers') || ' fsync=' || current_setting('fsync') ||
		' synchronous_commit=' || current_setting('synchronous_commit') || ' full_page_writes=' ||
		current_setting('full_page_writes') || ' wal_sync_method=' || current_setting('wal_sync_method')")"

	# xiaoan on it: its own data directory (secret.key), the database by URL
	PGURL="postgres://postgres@127.0.0.1:$PGPORT/xiaoan_bench"
	D="$T/pgx"
	mkdir -p "$D"
	"$XIAOAN" init --data "$D" --database "$PGURL" >"$T/pg-init.out" 2>"$T/pg-init.err" ||
		{ say "bench: xiaoan init on PostgreSQL failed, PostgreSQL part skipped: $(tail -5 "$T/pg-init.err")"; return 1; }
	OTP=$(awk 'NF { l = $0 } END { print l }' "$T/pg-init.out")
	XPORT=$(free_port)
	XIAOAN_TRUST_PROXY=1 "$XIAOAN" serve --data "$D" --database "$PGURL" --listen "127.0.0.1:$XPORT" >"$T/xiaoan-pg1.log" 2>&1 &
	XPID=$!
	wait_http "$XPORT" /healthz ||
		{ say "bench: xiaoan on PostgreSQL did not start, PostgreSQL part skipped: $(tail -5 "$T/xiaoan-pg1.log")"; return 1; }
	SCHOOL_ID="" COOKIE="" CSRF="" BODY_BYTES=""
	python3 "$HERE/setup.py" "$XPORT" "$OTP" "$T/pg-body.json" >"$T/pg-setup.env" ||
		{ say "bench: setup on PostgreSQL failed, PostgreSQL part skipped (log: $T/xiaoan-pg1.log)"; return 1; }
	. "$T/pg-setup.env"
	P="/api/schools/$SCHOOL_ID"
	XURL="http://127.0.0.1:$XPORT$P"
	HDR="Cookie: xiaoan_session=$COOKIE"
	audit_count() { pg_sql xiaoan_bench -c 'select count(*) from audit' 2>/dev/null || echo -1; }

	# reads
	say "xiaoan: one server, $(nproc) cores -> 4 network threads, 8 write threads and a pool of 16 connections (threads + write threads + 4)"
	say "== reads on PostgreSQL: GET $P (body $BODY_BYTES bytes; SQLite's $SQ_BODY_BYTES) - the same wrk runs as in 1."
	run_wrk "$T/out/pg-warm" -t2 -c64 -d"${WARM}s" -H "$HDR" "$XURL"
	for c in 8 64; do
		measure "$T/out/pg-get-$c" -t2 -c"$c" -d"${SECS}s" --latency -H "$HDR" "$XURL"
	done
	printf '%-6s %11s %11s %11s %10s %9s %9s %8s %10s %9s\n' conns "SQLite r/s" "PG r/s" "nginx r/s" "PG/SQLite" \
		"PG/nginx" "PG p99ms" "non2xx" "xiaoan/1k" "pg/1k"
	local c rs rn
	for c in 8 64; do
		# shellcheck disable=SC2046
		set -- $(wrk_figures "$T/out/pg-get-$c")
		eval "rs=\$RPS_x_$c rn=\$RPS_n_$c"
		eval "RPS_pg_$c=$1 P99_pg_$c=$2"
		printf '%-6s %11.0f %11.0f %11.0f %10s %9s %9.2f %8d %10.1f %9.1f\n' "$c" "$rs" "$1" "$rn" "$(ratio "$1" "$rs")" \
			"$(ratio "$1" "$rn")" "$2" "$(($3 + $4))" "$(cpu_field "$T/out/pg-get-$c" 2)" "$(cpu_field "$T/out/pg-get-$c" 4)"
		[ "$3" -gt 0 ] && say "   WARNING: $3 responses at $c connections were not 2xx (session lost?): the rate is not meaningful"
	done
	say "(xiaoan/1k, pg/1k: CPU ms per 1000 requests of the xiaoan process and of all PostgreSQL processes; xiaoan on SQLite: $CPU_x_64 ms at 64 conns)"
	local r verdict
	r=$(ratio "$RPS_pg_64" "$RPS_x_64")
	verdict=MISS
	ge "$r" 0.5 && lt "$P99_pg_64" 10 && verdict=PASS
	say "PG/SQLite reads at 64 connections: $r (PG p99 $P99_pg_64 ms)   goal >= 0.50 with p99 < 10 ms: $verdict"

	# writes
	say ""
	say "== durable writes on PostgreSQL, same disk (raw: pgbench, one INSERT per transaction, commit flushed to the WAL;"
	say "   xiaoan: each PATCH one transaction under the writer lock, answered after its commit is flushed)"
	PR1A=$(pg_raw 1)
	patch_run 8 2 pg-patch-8
	local check8=$PLINE
	patch_run 1 1 pg-patch-1
	local check1=$PLINE
	PR1B=$(pg_raw 1)
	PR8=$(pg_raw 8)
	PR1=$(awk -v a="$PR1A" -v b="$PR1B" 'BEGIN { printf "%.1f", (a + b) / 2 }')
	printf '%-44s %11s %11s %10s %9s %7s %10s %9s\n' "" "SQLite /s" "PG /s" "PG/SQLite" "PG p99ms" errors "xiaoan/1k" "pg/1k"
	printf '%-44s %11.0f %11.0f %10s %9.2f %7d %10.1f %9.1f\n' "xiaoan PATCH $P, 8 connections" "$PRPS_patch_8" \
		"$PRPS_pg_patch_8" "$(ratio "$PRPS_pg_patch_8" "$PRPS_patch_8")" "$PP99_pg_patch_8" "$PERR_pg_patch_8" \
		"$(echo "$PCPU_pg_patch_8" | cut -d' ' -f2)" "$(echo "$PCPU_pg_patch_8" | cut -d' ' -f4)"
	printf '%-44s %11.0f %11.0f %10s %9.2f %7d %10.1f %9.1f\n' "xiaoan PATCH $P, 1 connection" "$PRPS_patch_1" \
		"$PRPS_pg_patch_1" "$(ratio "$PRPS_pg_patch_1" "$PRPS_patch_1")" "$PP99_pg_patch_1" "$PERR_pg_patch_1" \
		"$(echo "$PCPU_pg_patch_1" | cut -d' ' -f2)" "$(echo "$PCPU_pg_patch_1" | cut -d' ' -f4)"
	printf '%-44s %11.0f %11.0f %10s   (PG before %.0f, after %.0f)\n' "raw single-row commits, 1 thread/client" "$R1" "$PR1" \
		"$(ratio "$PR1" "$R1")" "$PR1A" "$PR1B"
	printf '%-44s %11.0f %11.0f %10s\n' "raw single-row commits, 8 threads/clients" "$R8" "$PR8" "$(ratio "$PR8" "$R8")"
	awk -v a="$PR1A" -v b="$PR1B" 'BEGIN { if (a > 0 && b > 0) { d = a > b ? a / b : b / a; if (d > 1.25)
		printf "   note: the raw PostgreSQL rate moved %.0f%% during the run: the disk is shared or cached; ratios are rough\n", (d - 1) * 100 } }'
	say "audit check, 8 connections: $check8"
	say "audit check, 1 connection:  $check1"
	r=$(ratio "$PRPS_pg_patch_8" "$PR1")
	verdict=MISS
	ge "$r" 0.5 && verdict=PASS
	say "PG PATCH (8 conns) / raw PG commits (1 client): $r   goal >= 0.50: $verdict"
	say "PG PATCH (1 conn)  / raw PG commits (1 client): $(ratio "$PRPS_pg_patch_1" "$PR1")"
	say "PG PATCH (8 conns) / raw PG commits (8 clients): $(ratio "$PRPS_pg_patch_8" "$PR8")"
	if "$XIAOAN" audit verify --data "$D" --database "$PGURL" >"$T/pg-verify.out" 2>&1; then
		say "xiaoan audit verify: $(tail -1 "$T/pg-verify.out")"
	else
		say "xiaoan audit verify FAILED: $(tail -3 "$T/pg-verify.out")"
	fi
	lb_part
}

# --- 3. load across servers ---------------------------------------------------
lb_part() {
	say ""
	say "== 3. Load across servers: nginx (round robin, upstream keepalive) -> one or two xiaoan servers on one PostgreSQL"
	X2PORT=$(free_port)
	XIAOAN_TRUST_PROXY=1 "$XIAOAN" serve --data "$D" --database "$PGURL" --listen "127.0.0.1:$X2PORT" >"$T/xiaoan-pg2.log" 2>&1 &
	X2PID=$!
	wait_http "$X2PORT" /healthz ||
		{ say "bench: the second xiaoan server did not start, section skipped: $(tail -5 "$T/xiaoan-pg2.log")"; return 1; }
	local L1 L2 conf="$T/nginx-lb.conf" proxy
	L1=$(free_port)
	L2=$(free_port)
	proxy='proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; proxy_set_header X-Forwarded-For $remote_addr;'
	{
		nginx_head "$T/nginx-lb"
		cat <<EOF2
	upstream one { server 127.0.0.1:$XPORT; keepalive 64; keepalive_timeout 20s; }
	upstream two { server 127.0.0.1:$XPORT; server 127.0.0.1:$X2PORT; keepalive 64; keepalive_timeout 20s; }
	server { listen 127.0.0.1:$L1; location / { proxy_pass http://one; $proxy } }
	server { listen 127.0.0.1:$L2; location / { proxy_pass http://two; $proxy } }
}
EOF2
	} >"$conf"
	start_nginx "$conf" "$L2" /healthz
	section_busy
	# a session made through the balancer must work on both servers
	SESSIONS=""
	python3 "$HERE/setup.py" --login "$L2" "$SCHOOL_ID" "$XPORT" "$X2PORT" >"$T/lb-setup.env" ||
		{ say "bench: sessions do not work across the servers, section skipped"; return 1; }
	. "$T/lb-setup.env"
	HDR="Cookie: xiaoan_session=$COOKIE"
	say "sessions: $SESSIONS"
	say "both servers: 4 network and 8 write threads, a pool of 16 connections each; wrk -t2, ${SECS}s per run; the direct rows are from 2."
	run_wrk "$T/out/lb-warm-1" -t2 -c64 -d"${WARM}s" -H "$HDR" "http://127.0.0.1:$L1$P"
	run_wrk "$T/out/lb-warm-2" -t2 -c64 -d"${WARM}s" -H "$HDR" "http://127.0.0.1:$L2$P"
	measure "$T/out/lb-get-1" -t2 -c64 -d"${SECS}s" --latency -H "$HDR" "http://127.0.0.1:$L1$P"
	measure "$T/out/lb-get-2" -t2 -c64 -d"${SECS}s" --latency -H "$HDR" "http://127.0.0.1:$L2$P"
	patch_run 8 2 lb-patch-1 "http://127.0.0.1:$L1"
	local check1=$PLINE
	patch_run 8 2 lb-patch-2 "http://127.0.0.1:$L2"
	local check2=$PLINE

	printf '%-34s %8s %8s %6s | %-38s | %5s\n' "" "" "" "non2xx" "CPU ms per 1000 requests" "cpu"
	printf '%-34s %8s %8s %6s | %7s %7s %7s %7s %7s | %5s\n' run "req/s" "p99 ms" "+err" xiaoan1 xiaoan2 postgres nginx rest busy
	local row name out
	for row in "GET, 64 conns, direct (1 server)|pg-get-64" "GET, 64 conns, nginx -> 1 server|lb-get-1" \
		"GET, 64 conns, nginx -> 2 servers|lb-get-2" "PATCH, 8 conns, direct (1 server)|pg-patch-8" \
		"PATCH, 8 conns, nginx -> 1 server|lb-patch-1" "PATCH, 8 conns, nginx -> 2 servers|lb-patch-2"; do
		name=${row%|*} out="$T/out/${row#*|}"
		# shellcheck disable=SC2046
		set -- $(wrk_figures "$out") $(cpu_per_k "$out")
		printf '%-34s %8.0f %8.2f %6d | %7.1f %7.1f %7.1f %7.1f %7.1f | %4s%%\n' "$name" "$1" "$2" "$(($3 + $4))" \
			"$7" "$8" "$9" "${10}" "${11}" "$(cpu_busy_run "$out" "$SECS")"
	done
	say "audit check, nginx -> 1 server: $check1"
	say "audit check, nginx -> 2 servers: $check2"
	local g1 g2 gd
	g1=$(wrk_figures "$T/out/lb-get-1" | cut -d' ' -f1)
	g2=$(wrk_figures "$T/out/lb-get-2" | cut -d' ' -f1)
	gd=$(wrk_figures "$T/out/pg-get-64" | cut -d' ' -f1)
	say "2 servers / 1 server behind nginx: reads $(ratio "$g2" "$g1"), PATCH $(ratio "$PRPS_lb_patch_2" "$PRPS_lb_patch_1");" \
		"nginx -> 1 server / direct: reads $(ratio "$g1" "$gd"), PATCH $(ratio "$PRPS_lb_patch_1" "$PRPS_pg_patch_8")"

	# what more cores would buy, from the CPU each process spent per request
	# (ms per 1000 requests = µs per request) in the two-server runs
	say ""
	say "what more cores buy (per-request CPU of the two-server runs; 'rest' is wrk and unattributed kernel time):"
	# shellcheck disable=SC2046
	set -- $(cpu_per_k "$T/out/lb-get-2")
	awk -v x="$(awk -v a="$2" -v b="$3" 'BEGIN { print a + b }')" -v p="$4" -v n="$5" -v rest="$6" -v got="$g2" -v cores="$(nproc)" 'BEGIN {
		s = x + p + n
		if (s <= 0 || x <= 0) { print "  (no CPU figures)"; exit }
		printf "  read:  xiaoan %.0f + PostgreSQL %.0f + nginx %.0f = %.0f µs of CPU (rest %.0f µs); measured %.0f/s on %d shared cores\n", x, p, n, s, rest, got, cores
		printf "         the stack alone, if it scaled linearly: %.0f reads/s per core: 2 cores %.0f, 8 cores %.0f, 32 cores %.0f (an upper bound)\n", 1e6 / s, 2e6 / s, 8e6 / s, 32e6 / s
		printf "         one core of xiaoan serves %.0f reads/s and needs %.2f core of PostgreSQL and %.2f of nginx beside it\n", 1e6 / x, p / x, n / x
	}'
	# shellcheck disable=SC2046
	set -- $(cpu_per_k "$T/out/lb-patch-2")
	awk -v x="$(awk -v a="$2" -v b="$3" 'BEGIN { print a + b }')" -v p="$4" -v n="$5" -v got="$PRPS_lb_patch_2" -v raw="$PR1" \
		-v cores="$(nproc)" -v busy="$(cpu_busy_run "$T/out/lb-patch-2" "$SECS")" 'BEGIN {
		s = x + p + n
		if (s <= 0 || got <= 0) { print "  (no CPU figures)"; exit }
		printf "  PATCH: xiaoan %.0f + PostgreSQL %.0f + nginx %.0f = %.0f µs of CPU: the CPU would allow %.0f/s on %d cores, but\n", x, p, n, s, cores * 1e6 / s, cores
		printf "         %.0f/s were measured with the machine %d%% busy: the bound is the writer lock, not CPU. Writes take it one at a\n", got, busy
		printf "         time across all servers and hold it through every statement and the commit flush (%.2f ms each at this rate;\n", 1000 / got
		printf "         a raw commit alone takes %.2f ms), so more servers or cores add no writes\n", 1000 / raw
	}'
}

if [ -n "$PG_SKIP" ]; then
	say ""
	say "== 2. PostgreSQL and 3. load across servers: skipped: $PG_SKIP"
else
	pg_part
fi

BUSY=$(cpu_busy)
say ""
say "cpu busy after the run (servers idle): ${BUSY}%"
[ "$BUSY" -gt 10 ] && say "   WARNING: something else is using the CPU: figures are not trustworthy"
say "(figures only: a benchmark never fails on a figure; see bench/README.md)"
exit 0
