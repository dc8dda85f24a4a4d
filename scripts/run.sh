#!/bin/sh
# run.sh BINARY DATA_DIR LISTEN - what `make run` does after building:
# on first run create the schema, the administrator and the demo county
# (printing every account's one-time password once), then serve.
set -eu
bin=$1 data=$2 listen=$3
if [ ! -f "$data/xiaoan.db" ]; then
	mkdir -p "$data"
	echo "== first run: creating the demo county in $data"
	pw=$("$bin" init --data "$data" | tail -n 1)
	echo
	echo "   administrator: admin / $pw"
	"$bin" demo --data "$data"
	echo
	echo "   These one-time passwords are shown only now; each account must change"
	echo "   its password at first sign-in. Lost them? xiaoan user passwd --username NAME --data $data"
	echo
fi
echo "== serving on http://$listen/  (Ctrl-C stops)"
exec "$bin" serve --data "$data" --listen "$listen"
