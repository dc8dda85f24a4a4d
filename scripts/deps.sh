#!/bin/sh
# deps.sh - make sure the Debian 12 packages Xiaoan builds, tests and benchmarks
# with are installed. As root it installs what is missing; otherwise it prints
# the exact apt-get line and fails.
set -eu

PKGS="build-essential pkg-config clang libclang-rt-14-dev
libmicrohttpd-dev libjansson-dev libsqlite3-dev sqlite3 libsodium-dev liboath-dev
libxlsxwriter-dev libcurl4-openssl-dev libcmocka-dev libzip-dev libexpat1-dev libpq-dev
libproj-dev libgeos-dev
python3 wrk nginx-light
chromium fonts-noto-cjk
postgresql postgresql-client"
# libproj-dev: PROJ's geodesic routines (Karney's algorithms) for distances
# on the WGS84 ellipsoid; libgeos-dev: WKT reading and polygon validity.
# `deps.sh --bench` (make bench) adds postgresql-15-postgis-3, the PostGIS
# join bench/zone compares against, and geographiclib-tools, GeodSolve, with
# which tests/data/make_geodesic_ref.sh made the distance reference set;
# neither is needed to build or test, so make test does not install them.
# postgresql: the server binaries tests/pg.sh starts a throwaway cluster with
# for the API tests' PostgreSQL pass (Debian 12's is PostgreSQL 15);
# postgresql-client: psql, through which the tests reach that database.
# The console is built with node and npm (web/, make web). A node already on
# the machine (a newer one from elsewhere) is kept, never replaced by
# Debian's; Debian's comes only where there is none.
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"

[ "${1:-}" = "--bench" ] && PKGS="$PKGS postgresql-15-postgis-3 geographiclib-tools"
[ "${1:-}" = "--list" ] && { echo $PKGS; exit 0; }

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || true
	apt-get install -y -qq --no-install-recommends $missing
else
	echo "deps: missing Debian packages; run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
