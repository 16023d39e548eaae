#!/bin/sh
# bench/pg.sh - the PostgreSQL store under load (`make bench` runs it).
#
# A throw-away cluster (tests/lib/pgcluster.sh, fsync on) and real daemons (tlsrptd with
# [store] backend = "postgresql", each on its own socket) fed by tests/tools/sendmany:
#   - results/s into PostgreSQL with 1 and with 3 collector processes (3 MTA hosts
#     sharing one database; every sender sends its share of 1,000,000 results over the
#     same D domains, so the collectors flush into the same rows), D = 10,000 and
#     100,000; the figure is all results divided by the time from the first result sent
#     until PostgreSQL holds every one of them (psql polls every 50 ms), so it includes
#     the 1 s flush interval; median of 3 runs, each on emptied tables with fresh
#     daemons.  "known domains": the day's windows, policies and failure details exist
#     (one result per domain was collected first; the normal state of a running fleet);
#     "new domains": every window, policy and detail is created during the run;
#   - report generation for the 100,000 windows of the last 100,000-domain run: one
#     `tlsrpt generate` process, then (windows reopened, outbox emptied) two racing ones
#     as two reporter hosts; each checks that every window got exactly one report.
# Prints name<TAB>value<TAB>unit<TAB>target lines.  Skips (no lines) without PostgreSQL.
# BENCH_PG_RESULTS and BENCH_PG_RUNS override 1,000,000 and 3; BENCH_PG_DOMAINS and
# BENCH_PG_COLLECTORS the lists "10000 100000" and "1 3"; BENCH_PG_GENERATE=0 skips
# generation.
set -u
B=${B:-build}
cd "$(dirname "$0")/.." || exit 1
make --no-print-directory -s "$B/tlsrptd" "$B/tlsrpt" "$B/tests/tools/sendmany" >&2 || exit 1
PG=$(PGCLUSTER_FSYNC=on sh tests/lib/pgcluster.sh start) || {
	echo "bench/pg.sh: no PostgreSQL cluster, skipped" >&2
	exit 0
}
T=$(mktemp -d)
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; wait; sh tests/lib/pgcluster.sh stop "$PG"; rm -rf "$T"' EXIT
N=${BENCH_PG_RESULTS:-1000000}
RUNS=${BENCH_PG_RUNS:-3}

q() { psql -X -q -A -t -h "$PG/sock" -d tlsrpt -c "$1"; }
now() { date +%s.%N; }

for i in 1 2 3; do
	cat >"$T/c$i.toml" <<CONF
[collector]
socket = "$T/s$i"
flush-interval = "1s"
[store]
backend = "postgresql"
url = "postgresql:///tlsrpt?host=$PG/sock"
[web]
listen = ""
[report]
submitter = "'mx.example.org'"
[report.tls.aggregate]
org-name = "'Example Org'"
from-address = "'noreply-tls@example.org'"
sign = []
[log]
destination = "stderr"
CONF
done

start_collectors() {
	pids=
	for i in $(seq 1 "$1"); do
		"$B/tlsrptd" --foreground --config "$T/c$i.toml" 2>"$T/log$i" &
		pids="$pids $!"
	done
	for i in $(seq 1 "$1"); do
		k=0
		while ! grep -q ' ready' "$T/log$i" 2>/dev/null && [ $k -lt 500 ]; do
			sleep 0.02
			k=$((k + 1))
		done
	done
}

stop_collectors() {
	for p in $pids; do kill "$p"; done
	wait $pids
	pids=
}

stored() { q 'SELECT coalesce(sum(success + failure), 0) FROM session_counts'; }

# CPU ticks (utime + stime) of all collector daemons, and their largest VmHWM in kB
TCK=$(getconf CLK_TCK)
cpu_ticks() { for p in $pids; do awk '{ print $14 + $15 }' "/proc/$p/stat"; done | awk '{ s += $1 } END { print s + 0 }'; }
peak_rss() { for p in $pids; do awk '/^VmHWM/ { print $2 }' "/proc/$p/status"; done | sort -n | tail -1; }

# one run: prints results/s of C collectors, N results over D domains; with WARM=1 the
# day's windows, policies and details exist already (one result per domain first)
run_once() {
	C=$1 D=$2
	q "TRUNCATE windows, policies, failure_details, session_counts, failure_counts,
	   outbox_reports, outbox_deliveries" >/dev/null 2>&1 # no tables before the first run
	start_collectors "$C"
	base=0
	if [ "$WARM" = 1 ]; then
		"$B/tests/tools/sendmany" --socket "$T/s1" --count "$D" --domains "$D" --retry \
			>"$T/warm"
		k=0
		while [ "$(stored)" -lt "$D" ] && [ $k -lt 600 ]; do
			sleep 0.05
			k=$((k + 1))
		done
		base=$(stored)
		[ "$base" -eq "$D" ] || echo "bench/pg.sh: warm-up stored $base, want $D: $(cat "$T/warm")" >&2
	fi
	per=$((N / C))
	total=$((per * C + base))
	threads=$((C == 1 ? 2 : 1))
	c0=$(cpu_ticks)
	t0=$(now)
	senders=
	for i in $(seq 1 "$C"); do
		"$B/tests/tools/sendmany" --socket "$T/s$i" --count $per --domains "$D" \
			--threads $threads --retry >"$T/send$i" &
		senders="$senders $!"
	done
	wait $senders
	k=0
	while [ "$(stored)" -lt $total ] && [ $k -lt 6000 ]; do
		sleep 0.05
		k=$((k + 1))
	done
	t1=$(now)
	c1=$(cpu_ticks)
	awk -v t=$((c1 - c0)) -v k="$TCK" -v n=$((total - base)) \
		'BEGIN { printf "%.2f\n", t / k * 1e6 / n }' >>"$T/cpu"
	peak_rss >>"$T/rss"
	got=$(stored)
	[ "$got" -eq $total ] || echo "bench/pg.sh: stored $got, want $total: $(cat "$T"/send*)" >&2
	stop_collectors
	awk -v n=$((total - base)) -v a="$t0" -v b="$t1" 'BEGIN { printf "%d\n", n / (b - a) }'
}

: >"$T/cpu"
: >"$T/rss"
for WARM in ${BENCH_PG_WARM:-1 0}; do
	for D in ${BENCH_PG_DOMAINS:-10000 100000}; do
		for C in ${BENCH_PG_COLLECTORS:-1 3}; do
			: >"$T/rates"
			for r in $(seq 1 "$RUNS"); do
				run_once $C $D >>"$T/rates"
			done
			what=$([ "$WARM" = 1 ] && echo "known domains" || echo "new domains")
			echo "bench/pg.sh: $C collector(s), $D $what: $(tr '\n' ' ' <"$T/rates")" >&2
			printf 'PostgreSQL store, %d collector(s), %d %s\t%s\tresults/s\t%s\n' \
				$C $D "$what" "$(sort -n "$T/rates" | sed -n "$(((RUNS + 1) / 2))p")" \
				"$([ "$WARM" = 1 ] && echo '>= 100000' || echo -)"
		done
	done
done
printf 'PostgreSQL store: collector CPU per result (median of all runs)\t%s\tus\t-\n' \
	"$(sort -n "$T/cpu" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"
printf 'PostgreSQL store: collector peak RSS (largest VmHWM)\t%s\tMB\t-\n' \
	"$(sort -n "$T/rss" | tail -1 | awk '{ printf "%.1f", $1 / 1024 }')"

[ "${BENCH_PG_GENERATE:-1}" = 0 ] && exit 0
# the last run left 100,000 windows (one policy and one failure detail each)
later=$(($(date +%s) + 2 * 86400))
windows=$(q 'SELECT count(*) FROM windows')
gen() { "$B/tlsrpt" generate --config "$T/c1.toml" --now $later --immediate; }
check() {
	got=$(q "SELECT count(*) || ' ' || count(DISTINCT window_id) FROM outbox_reports")
	[ "$got" = "$windows $windows" ] || echo "bench/pg.sh: outbox $got, want $windows $windows" >&2
}
t0=$(now)
gen >"$T/gen1" 2>"$T/gen1.err" || echo "bench/pg.sh: generate failed: $(tail -1 "$T/gen1.err")" >&2
t1=$(now)
check
printf 'PostgreSQL store: generate %d windows, 1 process\t%s\ts\t-\n' "$windows" \
	"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
q "TRUNCATE outbox_reports, outbox_deliveries; UPDATE windows SET state = 0, reported_at = NULL" \
	>/dev/null
t0=$(now)
gen >"$T/gen2" 2>"$T/gen2.err" &
g1=$!
gen >"$T/gen3" 2>"$T/gen3.err" &
wait $g1 $!
t1=$(now)
check
echo "bench/pg.sh: racing generators: $(cat "$T/gen2") | $(cat "$T/gen3")" >&2
printf 'PostgreSQL store: generate %d windows, 2 racing processes\t%s\ts\t-\n' "$windows" \
	"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
