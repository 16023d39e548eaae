#!/bin/sh
# bench/pg.sh - results/s into PostgreSQL with one collector (`make bench` runs it).
#
# A throw-away cluster (tests/lib/pgcluster.sh, fsync on), the real daemon with
# [store] backend = "postgresql", fed by tests/tools/sendmany (2 sender threads):
# 1,000,000 results over 10,000 and over 100,000 domains; the figure is results divided
# by the time from the first result sent until PostgreSQL holds all of them (psql polls
# sum(success + failure) every 50 ms), so it includes the 1 s flush interval.  Each
# figure is the median of 3 runs; the collector's CPU per result (utime + stime of the
# daemon from /proc) and its peak RSS (VmHWM) are figures of their own.
# Prints name<TAB>value<TAB>unit<TAB>target lines.  Skips (no lines) without PostgreSQL.
set -u
B=${B:-build}
cd "$(dirname "$0")/.." || exit 1
make --no-print-directory -s "$B/tlsrptd" "$B/tests/tools/sendmany" >&2 || exit 1
PG=$(PGCLUSTER_FSYNC=on sh tests/lib/pgcluster.sh start) || {
	echo "bench/pg.sh: no PostgreSQL cluster, skipped" >&2
	exit 0
}
T=$(mktemp -d)
cpid=
trap '[ -n "$cpid" ] && kill "$cpid" 2>/dev/null; wait; sh tests/lib/pgcluster.sh stop "$PG"; rm -rf "$T"' EXIT
cat >"$T/tlsrptd.toml" <<CONF
[collector]
socket = "$T/s"
flush-interval = "1s"
[store]
backend = "postgresql"
url = "postgresql:///tlsrpt?host=$PG/sock"
[log]
destination = "stderr"
CONF
"$B/tlsrptd" --foreground --config "$T/tlsrptd.toml" 2>"$T/log" &
cpid=$!
i=0
while ! grep -q ' ready' "$T/log" 2>/dev/null && [ $i -lt 200 ]; do
	sleep 0.02
	i=$((i + 1))
done
stored() {
	psql -X -q -A -t -h "$PG/sock" -d tlsrpt \
		-c 'SELECT coalesce(sum(success + failure), 0) FROM session_counts'
}
N=1000000
TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
total=0
rates_10000=""
rates_100000=""
cpu=""
for run in 1 2 3; do
	for D in 10000 100000; do
		total=$((total + N))
		c0=$(cpu_ticks $cpid)
		t0=$(date +%s.%N)
		"$B/tests/tools/sendmany" --socket "$T/s" --count $N --domains $D --threads 2 \
			>"$T/send" || exit 1
		i=0
		while [ "$(stored)" -lt $total ] && [ $i -lt 2400 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		t1=$(date +%s.%N)
		c1=$(cpu_ticks $cpid)
		got=$(stored)
		[ "$got" -eq $total ] || echo "bench/pg.sh: stored $got, want $total" >&2
		rate=$(awk -v n=$N -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", n / (b - a) }')
		if [ $D = 10000 ]; then rates_10000="$rates_10000 $rate"; else rates_100000="$rates_100000 $rate"; fi
		cpu="$cpu $(awk -v t=$((c1 - c0)) -v k="$TCK" -v n=$N 'BEGIN { printf "%.2f", t / k * 1e6 / n }')"
	done
done
printf 'PostgreSQL store, 1 collector, 10000 domains\t%s\tresults/s\t>= 100000\n' \
	"$(echo $rates_10000 | tr ' ' '\n' | median)"
printf 'PostgreSQL store, 1 collector, 100000 domains\t%s\tresults/s\t>= 100000\n' \
	"$(echo $rates_100000 | tr ' ' '\n' | median)"
printf 'PostgreSQL store: collector CPU per result\t%s\tus\t-\n' "$(echo $cpu | tr ' ' '\n' | median)"
printf 'PostgreSQL store: collector peak RSS (VmHWM)\t%s\tMB\t-\n' \
	"$(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$cpid/status")"
