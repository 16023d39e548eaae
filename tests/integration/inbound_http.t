#!/bin/sh
# inbound_http.t - the report upload endpoint of `tlsrpt ingest --listen` with curl on
# 127.0.0.1: every corpus report file POSTed (gzip and JSON, with and without a
# Content-Type) answers 200 "stored report N"; malformed files answer 400 with the
# reader's reason; a second POST is a duplicate; the same report by mail afterwards is
# one report seen over two channels; 413 over --max-body, 405 for GET, 404 elsewhere;
# SIGTERM stops the server with status 0.
B=${B:-build}
SHARED=${SHARED:-../shared}
T=${TLSRPT_TEST_TMP:-/tmp}/inbound_http.$$
mkdir -p "$T"
tlsrpt=$(pwd)/$B/tlsrpt
case $B in /*) tlsrpt=$B/tlsrpt ;; esac
C=$SHARED/corpus
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; [ -n "$2" ] && echo "# $2"; }
check() { # name want got
	if [ "$2" = "$3" ]; then ok "$1"; else nok "$1" "got '$3', want '$2'"; fi
}

command -v curl >/dev/null || { echo "1..0 # SKIP curl not installed"; exit 0; }
"$tlsrpt" ingest --store "$T/db.sqlite" --listen 127.0.0.1:0 --max-body 200000 >"$T/out" 2>"$T/err" &
pid=$!
i=0
while [ $i -lt 50 ] && ! grep -q listening "$T/out"; do sleep 0.1; i=$((i + 1)); done
port=$(sed -n 's/^listening on port \([0-9]*\), path \/tlsrpt$/\1/p' "$T/out")
[ -n "$port" ] || { echo "1..1"; echo "not ok 1 - server did not start: $(cat "$T/err")"; kill $pid; exit 0; }
url=http://127.0.0.1:$port/tlsrpt
post() { # file [content-type]
	if [ -n "$2" ]; then
		curl -s -o "$T/body" -w '%{http_code}' -H "Content-Type: $2" --data-binary "@$1" "$url"
	else
		curl -s -o "$T/body" -w '%{http_code}' -H "Content-Type:" --data-binary "@$1" "$url"
	fi
}

files=$(cd "$C" && find real stalwart sys4/reports -type f \( -name '*.json' -o -name '*.gz' \) | LC_ALL=C sort)
for f in $files; do
	case $f in
	*truncated.gz | *date_error.json | *no-policies.json) continue ;;
	*.gz) code=$(post "$C/$f" application/tlsrpt+gzip) ;;
	*) code=$(post "$C/$f") ;;
	esac
	body=$(cat "$T/body")
	case "$code $body" in
	"200 stored report "* | "200 duplicate of report "*) ok "POST $f: $code $body" ;;
	*) nok "POST $f" "got $code $body" ;;
	esac
done
code=$(post "$C/real/YnkDK_tls_reporting/truncated.gz" application/tlsrpt+gzip)
check "truncated.gz: 400 with the gzip reason" "400 not a TLS report: gzip: truncated stream (expected more input after 12 bytes)" "$code $(cat "$T/body")"
code=$(post "$C/real/YnkDK_tls_reporting/date_error.json" application/tlsrpt+json)
check "date_error.json: 400 with the reader's reason" "400 not a TLS report: date-range.start-datetime: expected an RFC 3339 date-time, got \"April fools\"" "$code $(cat "$T/body")"
code=$(post "$C/real/marcbradshaw_mail-tls-rpt/report.json" application/json)
check "second POST: duplicate" "200 duplicate of report" "$code $(cut -d' ' -f1-3 "$T/body")"
head -c 300000 /dev/zero >"$T/big"
code=$(post "$T/big" application/tlsrpt+gzip)
check "over --max-body: 413" "413 body exceeds the limit of 200000 bytes" "$code $(cat "$T/body")"
code=$(curl -s -o "$T/body" -w '%{http_code}' "$url")
check "GET: 405" "405" "$code"
code=$(curl -s -o "$T/body" -w '%{http_code}' --data-binary x "http://127.0.0.1:$port/other")
check "other path: 404" "404" "$code"
code=$(curl -s -o "$T/body" -w '%{http_code}' --data-binary "" "$url")
check "empty body: 400" "400 empty body: expected a TLS report" "$code $(cat "$T/body")"
kill -TERM $pid
wait $pid
check "SIGTERM: exit 0" 0 $?

# the same report by mail: one report, two channels
"$tlsrpt" ingest --store "$T/db.sqlite" --accept-unsigned --dkim-keys /dev/null \
	<"$C/real/marcbradshaw_mail-tls-rpt/email.eml" 2>"$T/err"
check "mail copy after HTTP: duplicate" "tlsrpt: ingest: <stdin>: 0 stored, 1 duplicate (dkim permerror)" "$(cat "$T/err")"
"$tlsrpt" received list --store "$T/db.sqlite" --csv --reporter google >"$T/list"
case $(grep fastmaildmarc "$T/list") in
*',yes,"http,mail",3') ok "marcbradshaw report: one report seen over http and mail (3 copies)" ;;
*) nok "marcbradshaw report: seen over http and mail" "got $(cat "$T/list")" ;;
esac
echo "1..$n"
rm -rf "$T"
