#!/bin/sh
# bench/pg_fleet.sh - results/s into PostgreSQL with three collectors at once (`make bench`
# runs it; bench/pg.sh has the one-collector figures).
#
# A throw-away cluster (tests/lib/pgcluster.sh, fsync on), three real daemons with
# server.roles = ["collector"] and [store] backend = "postgresql" (1 s flush interval),
# each fed 1,000,000 results by its own tests/tools/sendmany (1 thread) at the same
# time, for overlapping domains (collector i: 10,000 domains from d<5000 i>, so most
# rows get deltas from two collectors).  The figure is 3,000,000 divided by the time
# from the first result sent until PostgreSQL holds all of them (psql polls every 50 ms;
# includes the flush interval).  Prints name<TAB>value<TAB>unit<TAB>target lines.
# Skips (no lines) without PostgreSQL.
set -u
B=${B:-build}
cd "$(dirname "$0")/.." || exit 1
make --no-print-directory -s "$B/tlsrptd" "$B/tests/tools/sendmany" >&2 || exit 1
PG=$(PGCLUSTER_FSYNC=on sh tests/lib/pgcluster.sh start) || {
	echo "bench/pg_fleet.sh: no PostgreSQL cluster, skipped" >&2
	exit 0
}
T=$(mktemp -d)
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; wait; sh tests/lib/pgcluster.sh stop "$PG"; rm -rf "$T"' EXIT
N=1000000
D=10000
for h in 0 1 2; do
	cat >"$T/c$h.toml" <<CONF
[server]
roles = ["collector"]
[collector]
socket = "$T/c$h.sock"
flush-interval = "1s"
[store]
backend = "postgresql"
url = "postgresql:///tlsrpt?host=$PG/sock"
[log]
destination = "stderr"
CONF
	"$B/tlsrptd" --foreground --config "$T/c$h.toml" 2>"$T/c$h.log" &
	pids="$pids $!"
done
for h in 0 1 2; do
	i=0
	while ! grep -q ' ready' "$T/c$h.log" 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.02
		i=$((i + 1))
	done
done
stored() {
	psql -X -q -A -t -h "$PG/sock" -d tlsrpt \
		-c 'SELECT coalesce(sum(success + failure), 0) FROM session_counts'
}
total=$((3 * N))
t0=$(date +%s.%N)
senders=
for h in 0 1 2; do
	"$B/tests/tools/sendmany" --socket "$T/c$h.sock" --count $N --domains $D \
		--first $((h * D / 2)) >"$T/send$h" &
	senders="$senders $!"
done
for s in $senders; do
	wait "$s"
done
i=0
while [ "$(stored)" -lt $total ] && [ $i -lt 2400 ]; do
	sleep 0.05
	i=$((i + 1))
done
t1=$(date +%s.%N)
got=$(stored)
[ "$got" -eq $total ] || echo "bench/pg_fleet.sh: stored $got, want $total" >&2
rate=$(awk -v n=$total -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", n / (b - a) }')
printf 'PostgreSQL store, 3 collectors at once, %d domains each\t%s\tresults/s\t>= 100000\n' \
	"$D" "$rate"
