#!/bin/sh
# run.sh - every test, normal and ASan+UBSan builds: cmocka unit tests, the
# API tests against a real server (on SQLite, then on PostgreSQL), the fuzz
# harnesses briefly on their corpora. Prints TAP-style lines and ends with
# "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
out=build/test-output
mkdir -p "$out"
log="$out/tap.txt"
: > "$log"

section() { printf '\n== %s\n' "$*"; }

# cmocka prints TAP when asked
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export XIAOAN_PW_COST=fast

for dir in build build-asan; do
	section "unit tests ($dir)"
	for t in "$dir"/tests/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		if "$t" > "$out/$dir-$name.txt" 2>&1; then st=0; else st=$?; fi
		grep -E '^(not )?ok ' "$out/$dir-$name.txt" | sed "s/^\(\(not \)\{0,1\}ok\) [0-9]* - /\1 - $dir $name: /" | tee -a "$log"
		if [ "$st" != 0 ] && ! grep -q '^not ok' "$out/$dir-$name.txt"; then
			echo "not ok - $dir $name: exited $st" | tee -a "$log"
			tail -20 "$out/$dir-$name.txt"
		fi
	done
done

# The API tests run twice per binary: on SQLite, then on PostgreSQL (lines
# labelled "pg"), on a throwaway cluster tests/pg.sh starts here and stops
# at exit, or on the server XIAOAN_TEST_PG names.
pg_base="" pg_dir=""
section "PostgreSQL for the pg pass"
if pg_env=$(tests/pg.sh start 2>"$out/pg-start.txt"); then
	eval "$pg_env"
	pg_base=$PG_BASE pg_dir=$PG_DIR
	trap 'tests/pg.sh stop "$pg_dir"' EXIT
	trap 'exit 130' INT TERM
	echo "ok - PostgreSQL for the pg pass: ${pg_dir:+a private cluster, }$(psql -X -At -d "$pg_base" -c 'SHOW server_version' 2>&1)" | tee -a "$log"
else
	echo "not ok - PostgreSQL for the pg pass did not start (see $out/pg-start.txt)" | tee -a "$log"
	tail -20 "$out/pg-start.txt"
fi

api() { # api BINARY OUTPUT-NAME [PG_BASE]: on SQLite, or on PostgreSQL at PG_BASE
	env XIAOAN_TEST_PG_BASE="${3:-}" python3 tests/api/run.py "$1" ${API_TESTS:-} 2>&1 | tee "$out/api-$2.txt" | grep -E '^(not ok|ok|#)' | grep -v '^#   server' | tee -a "$log" | grep -E '^(not ok|#)' || true
}

for bin in build/xiaoan build-asan/xiaoan; do
	d=$(dirname $bin)
	section "API tests ($bin)"
	api "$bin" "$d"
	grep -c '^ok' "$out/api-$d.txt" | sed 's/$/ API tests passed/'
	[ -n "$pg_base" ] || continue
	section "API tests ($bin, PostgreSQL)"
	api "$bin" "$d-pg" "$pg_base"
	grep -c '^ok' "$out/api-$d-pg.txt" | sed 's/$/ API tests passed on PostgreSQL/'
done

section "fuzz harnesses (brief, on the committed corpora)"
for f in build-fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	n=${f#build-fuzz/fuzz_}
	mkdir -p "fuzz/corpus/$n"
	# new inputs go to a scratch directory; the committed corpus is only read
	rm -rf "$out/fuzz-$n-new" && mkdir -p "$out/fuzz-$n-new"
	if "$f" -max_total_time="${FUZZ_BRIEF_SECONDS:-10}" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$out/fuzz-$n-" \
		"$out/fuzz-$n-new" "fuzz/corpus/$n" > "$out/fuzz-$n.txt" 2>&1; then
		echo "ok - fuzz $n: $(grep -Eo 'Done [0-9]+ runs' "$out/fuzz-$n.txt" | tail -1)" | tee -a "$log"
	else
		echo "not ok - fuzz $n (see $out/fuzz-$n.txt)" | tee -a "$log"
		tail -30 "$out/fuzz-$n.txt"
	fi
done

if [ -x tests/web/run.sh ]; then
	section "browser tests"
	tests/web/run.sh 2>&1 | tee "$out/web.txt" | grep -E '^(not ok|ok|#)' | tee -a "$log" || true
fi

pass=$(grep -c '^ok' "$log")
fail=$(grep -c '^not ok' "$log")
echo
if [ "$fail" != 0 ]; then
	echo "failed:"
	grep '^not ok' "$log"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
