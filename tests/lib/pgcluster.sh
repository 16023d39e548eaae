#!/bin/sh
# pgcluster.sh - a throw-away PostgreSQL cluster for tests: Unix socket only, no TCP.
#
#   sh tests/lib/pgcluster.sh start      creates and starts a cluster with database
#                                        "tlsrpt"; prints its folder D (socket dir D/sock)
#   sh tests/lib/pgcluster.sh stop D     stops the cluster and removes D
#   sh tests/lib/pgcluster.sh down D     stops it, keeping the data (outage tests)
#   sh tests/lib/pgcluster.sh up D       starts it again
#
# The cluster runs as the postgres user (initdb refuses root) with trust authentication
# on the socket; its superuser is named after the calling user, so the URL
# postgresql:///tlsrpt?host=D/sock works for the test without a password.  fsync is off
# (the data is thrown away) unless PGCLUSTER_FSYNC=on (benchmarks).
# Exit status of start: 0 started; 2 PostgreSQL is not installed (the caller may skip,
# except in CI); 1 it is installed but did not start (messages on stderr).
set -u

bindir() {
	d=$(pg_config --bindir 2>/dev/null)
	if [ -n "$d" ] && [ -x "$d/initdb" ]; then
		echo "$d"
		return 0
	fi
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && last=$d
	done
	[ -n "${last:-}" ] && echo "$last"
}

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pgstart() {
	as_pg "$BIN/pg_ctl" -D "$1/data" -l "$1/log" -w -t 30 \
		-o "-k $1/sock -c listen_addresses='' -c fsync=${PGCLUSTER_FSYNC:-off}" \
		start >/dev/null
}

BIN=$(bindir)
cmd=${1:-}
case "$cmd" in
start)
	if [ -z "$BIN" ]; then
		echo "pgcluster: PostgreSQL server not installed (no initdb)" >&2
		exit 2
	fi
	D=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-pg.XXXXXX") || exit 1
	mkdir -p "$D/sock" "$D/data"
	chmod 755 "$D"
	[ "$(id -u)" -eq 0 ] && chown -R postgres "$D"
	if ! as_pg "$BIN/initdb" -D "$D/data" -U "$(id -un)" --auth=trust -E UTF8 \
		--locale=C.UTF-8 >"$D/initdb.log" 2>&1; then
		cat "$D/initdb.log" >&2
		rm -rf "$D"
		exit 1
	fi
	if ! pgstart "$D"; then
		cat "$D/log" >&2
		rm -rf "$D"
		exit 1
	fi
	if ! "$BIN/createdb" -h "$D/sock" tlsrpt; then
		as_pg "$BIN/pg_ctl" -D "$D/data" -m immediate stop >/dev/null 2>&1
		rm -rf "$D"
		exit 1
	fi
	echo "$D"
	;;
stop)
	as_pg "$BIN/pg_ctl" -D "$2/data" -m immediate -w stop >/dev/null 2>&1
	rm -rf "$2"
	;;
down)
	as_pg "$BIN/pg_ctl" -D "$2/data" -m fast -w stop >/dev/null
	;;
up)
	pgstart "$2"
	;;
*)
	echo "usage: pgcluster.sh start | stop DIR | down DIR | up DIR" >&2
	exit 2
	;;
esac
