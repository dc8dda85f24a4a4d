#!/bin/sh
# run.sh - the web console in a real browser: starts its own xiaoan server
# on a free port with a temporary data directory and the demo county, drives
# Debian's chromium with playwright-core through the console, prints
# "ok - ..." / "not ok - ..." lines and leaves screenshots of every page in
# build/test-output/web/. Needs build/xiaoan and web/dist (make build).
set -u
cd "$(dirname "$0")/../.."
if [ ! -x build/xiaoan ] || [ ! -f web/dist/index.html ] || [ ! -d web/node_modules/playwright-core ]; then
	echo "not ok - browser tests: run 'make build' first (build/xiaoan, web/dist, web/node_modules)"
	exit 1
fi
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
	echo "not ok - browser tests: ${CHROMIUM:-/usr/bin/chromium} missing (make deps installs chromium)"
	exit 1
fi
mkdir -p build/test-output/web
exec timeout -k 5 180 node tests/web/console.test.mjs
