#!/bin/sh
# daemon_collector.t - the real daemon, started from a configuration file, collects
# results sent by `tlsrpt record` and by raw datagrams, survives bad datagrams, flushes
# on SIGTERM, removes its socket, and `tlsrpt stats --config` reads the store back.
B=${B:-build}
T=${TLSRPT_TEST_TMP:-/tmp}/daemon_collector
rm -rf "$T"; mkdir -p "$T"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
echo "1..10"

sed -e "s|^socket = .*|socket = \"$T/collector.sock\"|" \
    -e "s|^path = .*|path = \"$T/tlsrptd.sqlite\"|" \
    -e "s|^listen = .*|listen = \"127.0.0.1:0\"|" \
    -e "s|^send = .*|send = \"daily\"|" etc/tlsrptd.toml >"$T/tlsrptd.toml"

"$B/tlsrptd" --foreground --config "$T/tlsrptd.toml" 2>"$T/d.err" &
pid=$!
i=0
while [ $i -lt 200 ] && ! grep -q ' ready' "$T/d.err" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
if grep -q 'collector listening socket=' "$T/d.err" && [ -S "$T/collector.sock" ]; then
	ok "daemon binds the configured socket"
else
	nok "daemon binds the configured socket"; sed 's/^/# /' "$T/d.err"
fi

"$B/tlsrpt" record --config "$T/tlsrptd.toml" --domain example.com \
	--record 'v=TLSRPTv1; rua=mailto:tls@example.com' --policy sts \
	--policy-string 'version: STSv1' --policy-string 'mode: enforce' \
	--mx-host mx.example.com --count 5 && ok "tlsrpt record --config sends 5 successes" \
	|| nok "tlsrpt record --config sends 5 successes"
"$B/tlsrpt" record --config "$T/tlsrptd.toml" --domain example.com \
	--record 'v=TLSRPTv1; rua=mailto:tls@example.com' --policy sts \
	--policy-string 'version: STSv1' --policy-string 'mode: enforce' \
	--mx-host mx.example.com --result certificate-expired --mx mx.example.com \
	--receiving-ip 192.0.2.1 --count 2 && ok "tlsrpt record --config sends 2 failures" \
	|| nok "tlsrpt record --config sends 2 failures"

# the four datagrams that kill the reference collector, then one more good result
/usr/bin/python3 - "$T/collector.sock" "$SHARED/corpus/sys4/datagrams" <<'PY'
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
d = sys.argv[2]
for f in ("invalid-json.bin", "json-number.bin", "policies-not-objects.json", "invalid-utf8-ehlo.bin"):
    p = os.path.join(d, f)
    s.sendto(open(p, "rb").read() if os.path.exists(p) else b"{not json", sys.argv[1])
PY
"$B/tlsrpt" record --config "$T/tlsrptd.toml" --domain other.example --policy none \
	&& ok "collector still serves after bad datagrams" || nok "collector still serves after bad datagrams"

# the report upload endpoint of the same daemon (web.listen, port 0: logged)
port=$(sed -n 's/.*report upload endpoint listening=.* port=\([0-9]*\) .*/\1/p' "$T/d.err")
code=$(curl -s -o "$T/up.out" -w '%{http_code}' -H 'Content-Type: application/tlsrpt+gzip' \
	--data-binary @"$SHARED/corpus/real/Neztore_tls-rpt-monitor/microsoft-report.json.gz" \
	"http://127.0.0.1:$port/tlsrpt")
[ "$code" = 200 ] && ok "daemon accepts a report upload on web.listen (200)" \
	|| { nok "daemon accepts a report upload on web.listen: got $code"; sed 's/^/# /' "$T/up.out"; }

sleep 0.3
kill -TERM $pid
wait $pid
st=$?
[ $st -eq 0 ] && ok "daemon exits 0 on SIGTERM" || { nok "daemon exits 0 on SIGTERM: got $st"; sed 's/^/# /' "$T/d.err"; }
[ ! -e "$T/collector.sock" ] && ok "socket file removed at shutdown" || nok "socket file removed at shutdown"
# 5 + 2 + 1 good + the Latin-1 EHLO datagram (repaired and counted) = 9 sessions;
# invalid JSON, a bare number and policies:[5] are rejected
if grep -q 'stopped datagrams=12 accepted=9 rejected=3 sessions=9' "$T/d.err"; then
	ok "final statistics: 12 datagrams, 9 accepted, 3 rejected"
else
	nok "final statistics"; grep stopped "$T/d.err" | sed 's/^/# /'
fi

if "$B/tlsrpt" received list --config "$T/tlsrptd.toml" --csv 2>&1 | grep -q 'Microsoft'; then
	ok "the uploaded report is stored (tlsrpt received list)"
else
	nok "the uploaded report is stored (tlsrpt received list)"
	"$B/tlsrpt" received list --config "$T/tlsrptd.toml" --csv 2>&1 | sed 's/^/# /'
fi

"$B/tlsrpt" stats --config "$T/tlsrptd.toml" >"$T/stats" 2>&1
day=$(date -u +%Y-%m-%dT00:00:00Z)
cat >"$T/want" <<EOS
domain	window-start	period	state	policy-type	policy-domain	result	sessions
example.com	$day	daily	open	sts	example.com	success	5
example.com	$day	daily	open	sts	example.com	failure	2
example.com	$day	daily	open	sts	example.com	certificate-expired	2
latin1.example	$day	daily	open	no-policy-found	latin1.example	failure	1
latin1.example	$day	daily	open	no-policy-found	latin1.example	starttls-not-supported	1
other.example	$day	daily	open	no-policy-found	other.example	success	1
EOS
if diff "$T/stats" "$T/want" >"$T/diff"; then
	ok "tlsrpt stats --config shows the counted sessions"
else
	nok "tlsrpt stats --config shows the counted sessions"; sed 's/^/# /' "$T/stats" "$T/diff"
fi
