#!/bin/sh
# bench/collector.sh - collector ingestion benchmarks (`make bench` runs it), against
# the real daemon (tlsrptd) on a real socket.
#
# Prints name<TAB>value<TAB>unit<TAB>target lines:
#   end-to-end results/s through the client library, blocking, 1 and 2 sender threads
#   (median of 3 runs of 500,000 results over 10,000 domains, 1 in 10 a failure);
#   collector CPU per result (utime+stime of the collector process from /proc, over
#   the 1-thread runs); collector peak RSS (VmHWM); loss rate of a non-blocking burst of
#   100,000 at the current net.unix.max_dgram_qlen; client library cost per result
#   (building the datagram only, median of 3 runs of 2,000,000).
set -u
B=${B:-build}
cd "$(dirname "$0")/.." || exit 1
make --no-print-directory -s "$B/tlsrptd" "$B/tests/tools/sendmany" "$B/tests/tools/count_recv" \
	>&2 || exit 1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
N=500000
TCK=$(getconf CLK_TCK)
qlen=$(cat /proc/sys/net/unix/max_dgram_qlen 2>/dev/null || echo "?")

# The real daemon, from a configuration with its socket and store in $T.
cat >"$T/tlsrptd.toml" <<EOF
[collector]
socket = "$T/s"
[store]
path = "$T/db"
[web]
listen = ""
[log]
destination = "stderr"
EOF
start_collector() {
	rm -f "$T/db" "$T/db-wal" "$T/db-shm" "$T/s"
	"$B/tlsrptd" --foreground --config "$T/tlsrptd.toml" 2>"$T/log" &
	cpid=$!
	i=0
	while ! grep -q ' ready' "$T/log" 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.02
		i=$((i + 1))
	done
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

rates1=""
rates2=""
cpu_per=""
hwm=0
for run in 1 2 3; do
	for threads in 1 2; do
		start_collector
		out=$("$B/tests/tools/sendmany" --socket "$T/s" --count $N --domains 10000 --threads $threads)
		sleep 1.2 # one flush interval: the flush of the last results is counted too
		ticks=$(cpu_ticks $cpid)
		h=$(hwm_kb $cpid)
		[ "$h" -gt "$hwm" ] && hwm=$h
		kill -TERM $cpid
		wait $cpid
		rate=$(echo "$out" | sed -n 's/.*rate=\([0-9]*\).*/\1/p')
		if [ $threads = 1 ]; then
			rates1="$rates1 $rate"
			cpu_per="$cpu_per $(awk -v t="$ticks" -v k="$TCK" -v n=$N 'BEGIN { printf "%.2f", t / k * 1e6 / n }')"
		else
			rates2="$rates2 $rate"
		fi
	done
done
printf 'collector end-to-end, blocking, 1 sender thread\t%s\tresults/s\t>= 200000\n' \
	"$(echo $rates1 | tr ' ' '\n' | median)"
printf 'collector end-to-end, blocking, 2 sender threads\t%s\tresults/s\t>= 200000\n' \
	"$(echo $rates2 | tr ' ' '\n' | median)"
# The physical limit: the same sender against a receiver that only counts.
base=""
for run in 1 2 3; do
	rm -f "$T/b"
	"$B/tests/tools/count_recv" "$T/b" >"$T/bready" &
	bpid=$!
	i=0
	while ! grep -q ready "$T/bready" 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.02
		i=$((i + 1))
	done
	out=$("$B/tests/tools/sendmany" --socket "$T/b" --count $N --domains 10000 --threads 1)
	kill -TERM $bpid
	wait $bpid
	base="$base $(echo "$out" | sed -n 's/.*rate=\([0-9]*\).*/\1/p')"
done
base_med=$(echo $base | tr ' ' '\n' | median)
rate1_med=$(echo $rates1 | tr ' ' '\n' | median)
printf 'baseline: counting-only recvmmsg receiver, 1 sender thread\t%s\tresults/s\t-\n' "$base_med"
printf 'collector throughput as share of the baseline\t%s\t%%\t-\n' \
	"$(awk -v a="$rate1_med" -v b="$base_med" 'BEGIN { printf "%.0f", b ? 100 * a / b : 0 }')"
printf 'collector CPU per result (with syscalls, flush)\t%s\tus\t<= 5\n' \
	"$(echo $cpu_per | tr ' ' '\n' | median)"
printf 'collector peak RSS (VmHWM, 10000 domains)\t%s\tMB\t<= 32\n' \
	"$(awk -v k="$hwm" 'BEGIN { printf "%.1f", k / 1024 }')"

start_collector
out=$("$B/tests/tools/sendmany" --socket "$T/s" --count 100000 --domains 1000 --nonblock)
sleep 1.2
kill -TERM $cpid
wait $cpid
acc=$(sed -n 's/.* stopped datagrams=[0-9]* accepted=\([0-9]*\).*/\1/p' "$T/log")
printf 'collector loss, nonblocking burst 100000, qlen %s\t%s\t%%\t-\n' "$qlen" \
	"$(awk -v a="$acc" 'BEGIN { printf "%.2f", (100000 - a) / 1000 }')"

cl=""
for run in 1 2 3; do
	out=$("$B/tests/tools/sendmany" --build-only --count 2000000)
	cl="$cl $(echo "$out" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' | awk '{ printf "%.0f", $1 * 1e9 / 2000000 }')"
done
printf 'client library per result (build, no send)\t%s\tns\t<= 1000\n' \
	"$(echo $cl | tr ' ' '\n' | median)"
