#!/bin/sh
# config_check.t - `tlsrpt config check [FILE]` and `tlsrptd --check-config`: the dump
# of effective values (defaults marked, secrets hidden), every error on stderr, exit 0/1,
# and the daemon refusing to start on a bad configuration.
B=${B:-build}
T=${TLSRPT_TEST_TMP:-/tmp}/config_check
mkdir -p "$T"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
expect() { # expect NAME: compares $T/got with $T/want
	if cmp -s "$T/got" "$T/want"; then ok "$1"; else
		nok "$1"; diff "$T/want" "$T/got" | sed 's/^/# /'; fi
}
status() { # status NAME WANT GOT
	if [ "$3" -eq "$2" ]; then ok "$1"; else nok "$1: got exit $3, want $2"; fi
}
echo "1..16"

"$B/tlsrpt" config check etc/tlsrptd.toml >"$T/out" 2>"$T/err"
status "config check of the example exits 0" 0 $?
grep -E '^(report\.tls\.aggregate\.(send|max-size|sign)|report\.domain|delivery\.workers|store\.password|# store\.url) ' "$T/out" >"$T/got"
cat >"$T/want" <<'W'
report.domain = "parent_domain(config_get('report.submitter'))"  # default; = example.org
report.tls.aggregate.send = "daily"
report.tls.aggregate.max-size = 26214400
report.tls.aggregate.sign = "['rsa']"  # = ["rsa"]
# store.url is not set
delivery.workers = 4  # default
W
expect "config check prints effective values and marks defaults"
[ -s "$T/err" ] && nok "config check of a valid file is silent on stderr" || ok "config check of a valid file is silent on stderr"

cat >"$T/secret.toml" <<'W'
[store]
backend = "postgresql"
url = "postgresql://tlsrptd@db.example.org/tlsrptd"
password = "%{env:TLSRPT_IT_PASSWORD}%"
W
TLSRPT_IT_PASSWORD=hunter2 "$B/tlsrpt" config check "$T/secret.toml" >"$T/out" 2>"$T/err"
status "config check with a secret from the environment exits 0" 0 $?
grep -q '^store.password = <hidden>$' "$T/out" && ok "secrets print as <hidden>" || nok "secrets print as <hidden>"
grep -q hunter2 "$T/out" && nok "the secret never appears" || ok "the secret never appears"

cat >"$T/bad.toml" <<'W'
[collector]
sockt = "/run/x.sock"
flush-interval = "1h"

[report.tls.aggregate]
send = "monthly"
from-name = "'TLS Report"
W
"$B/tlsrpt" config check "$T/bad.toml" >"$T/out" 2>"$T/got"
status "config check of a bad file exits 1" 1 $?
cat >"$T/want" <<W
$T/bad.toml:2: collector.sockt: unknown key (did you mean collector.socket?)
$T/bad.toml:3: collector.flush-interval: must be between 10ms and 1m
$T/bad.toml:6: report.tls.aggregate.send: expected hourly|daily|weekly|never
$T/bad.toml:7: report.tls.aggregate.from-name: expression column 1: unterminated string literal
tlsrpt: $T/bad.toml: 4 errors
W
expect "config check reports every error with file and line"
[ -s "$T/out" ] && nok "nothing on stdout for a bad file" || ok "nothing on stdout for a bad file"

"$B/tlsrpt" config check "$T/missing.toml" >"$T/out" 2>"$T/got"
status "config check of a missing file exits 1" 1 $?
"$B/tlsrpt" config frobnicate >"$T/out" 2>&1
status "config with an unknown action is a usage error" 2 $?

"$B/tlsrptd" --check-config -c etc/tlsrptd.toml >"$T/out" 2>"$T/err"
status "tlsrptd --check-config exits 0 on the example" 0 $?
"$B/tlsrpt" config check etc/tlsrptd.toml >"$T/want"
cp "$T/out" "$T/got"
expect "tlsrptd --check-config prints the same as tlsrpt config check"

"$B/tlsrptd" --foreground -c "$T/bad.toml" >"$T/out" 2>"$T/err"
status "tlsrptd refuses to start on a bad configuration" 1 $?

"$B/tlsrpt" config keys >"$T/out" 2>&1
status "config keys exits 0" 0 $?
grep -A2 '^# report.tls.aggregate.max-size:' "$T/out" >"$T/got"
cat >"$T/want" <<'W'
# report.tls.aggregate.max-size: size, 512 bytes..1gb
#   maximum size of one report; larger reports are split
#   default: 26214400
W
expect "config keys documents type, bounds, description and default"
