#!/bin/sh
# make_geodesic_ref.sh - regenerates tests/data/geodesic_ref.csv, the
# reference distances tests/unit/test_geom.c checks geo_dist_exact() and
# geo_dist_fast() against.
#
# Tool: GeodSolve from GeographicLib 2.1.2 (Debian 12 package
# geographiclib-tools 2.1.2-1), C. F. F. Karney's C++ implementation -
# independent of the C port inside PROJ that src/geo/geom.c calls.
#
# Commands:
#   1. python3 (random.Random(20240506), whose random() sequence Python
#      guarantees across versions) draws start points across China's
#      latitudes (18-53 N, 75-134 E), azimuths, and distances: 380 pairs
#      log-uniform in 0.5 m .. 2 km, 20 pairs in 2 .. 100 km;
#   2. `GeodSolve -p 9` (direct problem) gives each end point;
#   3. the end points are rounded to 9 decimals (0.1 mm), and
#      `GeodSolve -i -p 6` (inverse problem) gives s12 in metres to the
#      micrometre for exactly the coordinates written to the file.
#
# Output columns: id,lat1,lon1,lat2,lon2,s12_m (the first five are also
# what `xiaoan geo distance` reads).
set -eu
cd "$(dirname "$0")"
command -v GeodSolve >/dev/null || { echo "needs GeodSolve: apt-get install geographiclib-tools" >&2; exit 1; }
GeodSolve --version | grep -q 'version 2.1.2' ||
	echo "warning: not GeographicLib 2.1.2 ($(GeodSolve --version)); values may differ in the last digits" >&2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - >"$tmp/direct.in" <<'PY'
import math, random
r = random.Random(20240506)
for i in range(400):
    lat = 18 + 35 * r.random()
    lon = 75 + 59 * r.random()
    azi = -180 + 360 * r.random()
    if i < 380:
        s = math.exp(math.log(0.5) + (math.log(2000) - math.log(0.5)) * r.random())
    else:
        s = math.exp(math.log(2000) + (math.log(100000) - math.log(2000)) * r.random())
    print("%.9f %.9f %.9f %.6f" % (lat, lon, azi, s))
PY
GeodSolve -p 9 <"$tmp/direct.in" >"$tmp/direct.out"
paste -d ' ' "$tmp/direct.in" "$tmp/direct.out" |
	awk '{ printf "%.9f %.9f %.9f %.9f\n", $1, $2, $5, $6 }' >"$tmp/inverse.in"
GeodSolve -i -p 6 <"$tmp/inverse.in" >"$tmp/inverse.out"
{
	echo "id,lat1,lon1,lat2,lon2,s12_m"
	paste -d ' ' "$tmp/inverse.in" "$tmp/inverse.out" |
		awk '{ printf "p%03d,%s,%s,%s,%s,%s\n", NR, $1, $2, $3, $4, $7 }'
} >geodesic_ref.csv
echo "wrote $(($(wc -l <geodesic_ref.csv) - 1)) pairs to tests/data/geodesic_ref.csv"
