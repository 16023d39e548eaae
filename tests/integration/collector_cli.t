#!/bin/sh
# collector_cli.t - `tlsrpt record` sends results through the client library, the
# collector counts them, `tlsrpt stats` shows them per domain, window and result.
B=${B:-build}
T=${TLSRPT_TEST_TMP:-/tmp}/collector_cli
rm -rf "$T"
mkdir -p "$T"
echo "1..10"
n=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
"$B"/tests/tools/collectord --socket "$T/s" --store "$T/db" --flush-ms 100 --mode 0660 \
	>"$T/out" 2>"$T/err" &
pid=$!
i=0
while [ ! -S "$T/s" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ -S "$T/s" ]; ok $? "collector socket exists"
mode=$(stat -c %a "$T/s")
[ "$mode" = 660 ]; ok $? "socket mode 0660 (got $mode)"
"$B"/tlsrpt record --socket "$T/s" --domain Cli.Example. --record 'v=TLSRPTv1; rua=mailto:r@cli.example' \
	--policy sts --policy-domain cli.example --policy-string 'version: STSv1' \
	--policy-string 'mode: enforce' --mx-host '*.cli.example' --count 3
r1=$?
"$B"/tlsrpt record --socket "$T/s" --domain cli.example --record 'v=TLSRPTv1; rua=mailto:r@cli.example' \
	--policy sts --policy-domain cli.example --policy-string 'version: STSv1' \
	--policy-string 'mode: enforce' --mx-host '*.cli.example' --result certificate-expired \
	--sending-ip 192.0.2.1 --mx mx.cli.example --helo 'mx ESMTP' --receiving-ip 198.51.100.1 \
	--reason 'X509_V_ERR_CERT_HAS_EXPIRED' --count 2
r2=$?
"$B"/tlsrpt record --socket "$T/s" --domain cli.example --record r --policy none --report-delivery
r3=$?
[ $r1 = 0 ] && [ $r2 = 0 ] && [ $r3 = 0 ]; ok $? "tlsrpt record exits 0"
"$B"/tlsrpt record --socket "$T/s" --domain cli.example --policy bogus 2>"$T/usage"
[ $? = 2 ] && grep -q "expected sts|tlsa|none" "$T/usage"; ok $? "bad --policy is a usage error"
"$B"/tests/tools/collectord --socket "$T/s" --store "$T/db2" >/dev/null 2>"$T/live"
[ $? = 1 ] && grep -q "another collector is listening on it" "$T/live"; ok $? "refuses a socket a live collector answers on"
: >"$T/file"
"$B"/tests/tools/collectord --socket "$T/file" --store "$T/db2" >/dev/null 2>"$T/notsock"
[ $? = 1 ] && grep -q "exists and is not a socket" "$T/notsock"; ok $? "refuses a path that is not a socket"
kill -TERM $pid
wait $pid
ok $? "collector exits 0"
day=$(date -u +%Y-%m-%dT00:00:00Z)
cat >"$T/want" <<EOW
domain	window-start	period	state	policy-type	policy-domain	result	sessions
cli.example	$day	daily	open	sts	cli.example	success	3
cli.example	$day	daily	open	sts	cli.example	failure	2
cli.example	$day	daily	open	sts	cli.example	certificate-expired	2
EOW
"$B"/tlsrpt stats --store "$T/db" >"$T/got"
diff "$T/want" "$T/got" >"$T/diff"
ok $? "tlsrpt stats shows sessions by policy and result"
sed 's/^/# /' "$T/diff"
# memory bound: with --max-memory 1 every batch is flushed at once, long before the 100 s tick
"$B"/tests/tools/collectord --socket "$T/m" --store "$T/dbm" --flush-ms 100000 --max-memory 1 \
	>/dev/null 2>"$T/errm" &
mpid=$!
i=0
while [ ! -S "$T/m" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
"$B"/tlsrpt record --socket "$T/m" --domain mem.example --policy none --count 5
i=0
got=0
while [ $i -lt 40 ]; do
	got=$("$B"/tlsrpt stats --store "$T/dbm" | awk -F '\t' '$7 == "success" { s += $8 } END { print s + 0 }')
	[ "$got" = 5 ] && break
	sleep 0.05
	i=$((i + 1))
done
kill -TERM $mpid
wait $mpid
[ "$got" = 5 ]; ok $? "early flush when the aggregate passes max-memory (got $got of 5 before the tick)"
"$B"/tlsrpt record --socket "$T/s" --domain cli.example --policy none 2>"$T/nosock"
[ $? = 1 ] && grep -q "collector socket not reachable" "$T/nosock"; ok $? "record without collector fails with exit 1"
