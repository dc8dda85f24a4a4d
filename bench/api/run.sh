#!/usr/bin/env bash
# bench/api/run.sh - `make bench`: the API's read and durable-write rates,
# each beside a reference measured in the same run on the same machine.
#
#   reads:  wrk at 8 and 64 connections against GET /api/schools/:id as a
#           signed-in user, and against Debian's nginx (a private config on
#           loopback) serving a static file with the same JSON body;
#   writes: wrk PATCH /api/schools/:id (each a committed, audited
#           transaction) at 8 and 1 connections, and the raw rate of durable
#           single-row SQLite commits (WAL, synchronous=FULL) on the same disk,
#           1 and 8 threads (bench/api/sqlite_commit.c).
#
# It prints figures and the goals with PASS/MISS words. A benchmark is not a
# test: a figure never makes it fail. It exits non-zero only when it could
# not measure (the server would not build or start, setup failed).
#
# Environment: BENCH_SECONDS (default 10) per wrk run, BENCH_WARMUP (2),
# BENCH_RAW_SECONDS (5) per raw-commit run, BENCH_NO_BUILD=1 uses build/xiaoan
# as it is, BENCH_KEEP=1 keeps the temp dir
# (logs, wrk outputs, databases), TMPDIR chooses the disk.
# Takes about 1.5 minutes.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/bench/api"
SECS=${BENCH_SECONDS:-10}
WARM=${BENCH_WARMUP:-2}
RAWSECS=${BENCH_RAW_SECONDS:-5}
XIAOAN="$ROOT/build/xiaoan"

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

# --- build --------------------------------------------------------------------
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
	make -C "$ROOT" --no-print-directory build >/dev/null || die "make build failed"
fi
[ -x "$XIAOAN" ] || die "no $XIAOAN after make build"

# --- temp dir, cleanup ----------------------------------------------------------
T=$(mktemp -d "${TMPDIR:-/tmp}/xiaoan-bench.XXXXXX") || die "mktemp failed"
XPID="" NPID="" WPID=""
cleanup() {
	trap - EXIT INT TERM HUP
	for p in $WPID $NPID $XPID; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $WPID $NPID $XPID; do
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
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

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_http() { # PORT PATH
	python3 - "$1" "$2" <<'EOF'
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
EOF
}

# wrk output -> "RPS P99MS NON2XX ERRORS"
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
	/^ *99%/ { p99 = ms($2) }
	/Non-2xx or 3xx responses:/ { non2xx = $NF }
	/Socket errors:/ { gsub(/,/, ""); err = $4 + $6 + $8 + $10 }
	END { printf "%s %.2f %d %d\n", (rps == "" ? 0 : rps), p99, non2xx, err }' "$1"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# --- machine ------------------------------------------------------------------
say "== bench/api  $(date -u +%Y-%m-%dT%H:%M:%SZ)  $("$XIAOAN" version 2>/dev/null | head -1)"
say "cpu: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)  kernel $(uname -r)"
say "tools: $(wrk --version 2>&1 | head -1 | awk '{print $1, $2}'), $("$NGINX" -v 2>&1 | sed 's/.*: //'), sqlite $(sqlite3 --version | awk '{print $1}')"
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
	[ "$(id -u)" = 0 ] && echo "user root;"
	cat <<EOF
worker_processes auto;
daemon off;
pid $T/nginx.pid;
error_log $T/nginx-error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	default_type application/json;
	keepalive_requests 1000000;
	client_body_temp_path $T/nginx-tmp/body;
EOF
	nv=$("$NGINX" -V 2>&1)
	for m in proxy fastcgi uwsgi scgi; do
		case "$nv" in *"--without-http_${m}_module"*) ;; *) echo "	${m}_temp_path $T/nginx-tmp/$m;" ;; esac
	done
	cat <<EOF
	server {
		listen 127.0.0.1:$NPORT;
		root $T/www;
		location / { }
	}
}
EOF
} >"$NCONF"
"$NGINX" -e "$T/nginx-error.log" -c "$NCONF" -p "$T" >"$T/nginx.out" 2>&1 &
NPID=$!
wait_http "$NPORT" "$P" || die "nginx did not start: $(cat "$T/nginx.out" "$T/nginx-error.log" 2>/dev/null | tail -5)"

XURL="http://127.0.0.1:$XPORT$P"
NURL="http://127.0.0.1:$NPORT$P"
HDR="Cookie: xiaoan_session=$COOKIE"

# --- reads --------------------------------------------------------------------
say ""
say "== reads: GET $P (JSON body $BODY_BYTES bytes) vs nginx serving the same body as a static file"
say "   wrk -t2 --latency, ${SECS}s per run after a ${WARM}s warm-up of each target"
run_wrk "$T/out/warm-x" -t2 -c64 -d"${WARM}s" -H "$HDR" "$XURL"
run_wrk "$T/out/warm-n" -t2 -c64 -d"${WARM}s" "$NURL"
for c in 8 64; do
	run_wrk "$T/out/get-x-$c" -t2 -c"$c" -d"${SECS}s" --latency -H "$HDR" "$XURL"
	run_wrk "$T/out/get-n-$c" -t2 -c"$c" -d"${SECS}s" --latency "$NURL"
done
printf '%-6s %-8s %12s %10s %9s %8s\n' conns target "requests/s" "p99 ms" "non-2xx" errors
for c in 8 64; do
	for t in x n; do
		# shellcheck disable=SC2046
		set -- $(wrk_figures "$T/out/get-$t-$c")
		name=xiaoan
		[ "$t" = n ] && name=nginx
		printf '%-6s %-8s %12.0f %10.2f %9d %8d\n' "$c" "$name" "$1" "$2" "$3" "$4"
		eval "RPS_${t}_$c=$1 P99_${t}_$c=$2 NON_${t}_$c=$3"
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

patch_run() { # CONNS THREADS NAME
	local before after ok other name=$3
	before=$(audit_count)
	run_wrk "$T/out/$3" -t"$2" -c"$1" -d"${SECS}s" --latency -s "$HERE/patch.lua" \
		"http://127.0.0.1:$XPORT" -- "$P" "$COOKIE" "$CSRF"
	sleep 0.3 # requests still in flight when wrk stopped finish
	after=$(audit_count)
	ok=$(awk '/^PATCH_2XX/ { print $2 }' "$T/out/$3")
	other=$(awk '/^PATCH_OTHER/ { print $2 }' "$T/out/$3")
	# shellcheck disable=SC2046
	set -- "$1" $(wrk_figures "$T/out/$name")
	eval "PRPS_$1=$2 PP99_$1=$3 PERR_$1=$5"
	local delta=$((after - before)) check
	if [ "$delta" = "${ok:-x}" ]; then
		check="OK: audit +$delta = $ok 2xx responses"
	elif [ -n "$ok" ] && [ "$delta" -gt "$ok" ] && [ "$delta" -le $((ok + $1)) ]; then
		check="OK: audit +$delta for $ok 2xx responses (+$((delta - ok)) answered after wrk stopped reading)"
	else
		check="MISMATCH: audit +$delta for ${ok:-?} 2xx responses"
	fi
	PLINE_1="$check; ${other:-?} non-2xx"
	if [ "${other:-0}" != 0 ]; then
		PLINE_1="$PLINE_1 (first: $(sed -n 's/^PATCH_FIRST_OTHER //p' "$T/out/$name" | head -1))"
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
CHECK8=$PLINE_1
patch_run 1 1 patch-1
CHECK1=$PLINE_1
R1B=$(raw 1)
R8=$(raw 8)
R1=$(awk -v a="$R1A" -v b="$R1B" 'BEGIN { printf "%.1f", (a + b) / 2 }')

printf '%-50s %10s %9s %7s\n' "" "per second" "p99 ms" errors
printf '%-50s %10.0f %9.2f %7d\n' "xiaoan PATCH $P, 8 connections" "$PRPS_8" "$PP99_8" "$PERR_8"
printf '%-50s %10.0f %9.2f %7d\n' "xiaoan PATCH $P, 1 connection" "$PRPS_1" "$PP99_1" "$PERR_1"
printf '%-50s %10.0f   (before %.0f, after %.0f)\n' "raw SQLite single-row commits, 1 thread" "$R1" "$R1A" "$R1B"
printf '%-50s %10.0f\n' "raw SQLite single-row commits, 8 threads" "$R8"
awk -v a="$R1A" -v b="$R1B" 'BEGIN { d = a > b ? a / b : b / a; if (d > 1.25)
	printf "   note: the raw rate moved %.0f%% during the run: the disk is shared or cached; ratios are rough\n", (d - 1) * 100 }'
say "audit check, 8 connections: $CHECK8"
say "audit check, 1 connection:  $CHECK1"
r=$(ratio "$PRPS_8" "$R1")
verdict=MISS
ge "$r" 0.5 && verdict=PASS
say "PATCH (8 conns) / raw commits (1 thread): $r   goal >= 0.50: $verdict"
say "PATCH (1 conn)  / raw commits (1 thread): $(ratio "$PRPS_1" "$R1")"
say "PATCH (8 conns) / raw commits (8 threads): $(ratio "$PRPS_8" "$R8")"
if "$XIAOAN" audit verify --data "$D" >"$T/verify.out" 2>&1; then
	say "xiaoan audit verify: $(tail -1 "$T/verify.out")"
else
	say "xiaoan audit verify FAILED: $(tail -3 "$T/verify.out")"
fi
BUSY=$(cpu_busy)
say ""
say "cpu busy after the run (servers idle): ${BUSY}%"
[ "$BUSY" -gt 10 ] && say "   WARNING: something else is using the CPU: figures are not trustworthy"
say "(figures only: a benchmark never fails on a figure; see bench/README.md)"
exit 0
