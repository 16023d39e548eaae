#!/bin/sh
# outbound_crash.t - exactly-once report generation: results collected by the real
# daemon, then `tlsrpt generate` is killed (SIGKILL through TLSRPT_OUTBOUND_FAULT)
# right after building, after the outbox inserts and just before the commit; a rerun
# must then generate every window exactly once, and a further run nothing.  Also the
# `tlsrpt outbox list|show|preview` output.
B=${B:-build}
T=${TLSRPT_TEST_TMP:-/tmp}/outbound_crash
rm -rf "$T"; mkdir -p "$T"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1: got '$2', want '$3'"; fi; }
echo "1..21"

sed -e "s|^socket = .*|socket = \"$T/collector.sock\"|" \
    -e "s|^path = .*|path = \"$T/tlsrptd.sqlite\"|" \
    -e "s|^listen = .*|listen = \"127.0.0.1:0\"|" \
    -e "s|^send = .*|send = \"daily\"|" etc/tlsrptd.toml >"$T/tlsrptd.toml"

"$B/tlsrptd" --foreground --config "$T/tlsrptd.toml" 2>"$T/d.err" &
pid=$!
i=0
while [ $i -lt 200 ] && ! grep -q ' ready' "$T/d.err" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done

now=$(date +%s)
two_days_ago=$((now - 2 * 86400))
for d in a.example b.example c.example; do
	"$B/tlsrpt" record --socket "$T/collector.sock" --domain $d \
		--record "v=TLSRPTv1; rua=mailto:tls@$d,https://rpt.$d/v1" --policy sts \
		--policy-string 'version: STSv1' --policy-string 'mode: enforce' \
		--mx-host mx.$d --time $two_days_ago --count 3
	"$B/tlsrpt" record --socket "$T/collector.sock" --domain $d \
		--record "v=TLSRPTv1; rua=mailto:tls@$d" --policy none \
		--result starttls-not-supported --mx mx.$d --sending-ip 192.0.2.9 \
		--time $two_days_ago --count 2
done
kill -TERM $pid
wait $pid
cp "$T/tlsrptd.sqlite" "$T/clean.sqlite"

reports() { "$B/tlsrpt" outbox list --config "$T/tlsrptd.toml" | tail -n +2 | wc -l; }

for step in build insert commit; do
	cp "$T/clean.sqlite" "$T/tlsrptd.sqlite"
	rm -f "$T/tlsrptd.sqlite-wal" "$T/tlsrptd.sqlite-shm"
	TLSRPT_OUTBOUND_FAULT=$step "$B/tlsrpt" generate --config "$T/tlsrptd.toml" \
		>"$T/gen.out" 2>"$T/gen.err"
	rc=$?
	check "generate killed at step $step (exit 137)" "$rc" 137
	check "after the kill at $step the outbox is empty" "$(reports)" 0
	"$B/tlsrpt" generate --config "$T/tlsrptd.toml" >"$T/gen.out" 2>"$T/gen.err"
	check "rerun after kill at $step generates the 6 windows once" \
		"$(cat "$T/gen.out")" \
		"windows=6 reports=6 invalid=0 split=0 dropped-details=0 not-yet=0"
	"$B/tlsrpt" generate --config "$T/tlsrptd.toml" >"$T/gen.out" 2>"$T/gen.err"
	check "a further run after $step generates nothing; outbox holds 6 reports" \
		"$(cat "$T/gen.out") $(reports)" \
		"windows=0 reports=0 invalid=0 split=0 dropped-details=0 not-yet=0 6"
done

# outbox list / show
"$B/tlsrpt" outbox list --config "$T/tlsrptd.toml" --domain b.example >"$T/list" 2>&1
check "outbox list --domain shows the 2 reports of b.example (2 records)" \
	"$(tail -n +2 "$T/list" | cut -f2 | sort | uniq -c | tr -s ' ')" " 2 b.example"
check "outbox list --state pending lists all 6" \
	"$("$B/tlsrpt" outbox list --config "$T/tlsrptd.toml" --state pending | tail -n +2 | wc -l)" 6
check "outbox list --state sent lists none" \
	"$("$B/tlsrpt" outbox list --config "$T/tlsrptd.toml" --state sent | tail -n +2 | wc -l)" 0
id=$(tail -n +2 "$T/list" | head -1 | cut -f1)
"$B/tlsrpt" outbox show --config "$T/tlsrptd.toml" "$id" >"$T/show" 2>&1
if tail -1 "$T/show" | "$B/tlsrpt" report validate - >/dev/null 2>&1 ||
   tail -1 "$T/show" | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["policies"][0]["policy"]["policy-domain"]=="b.example"'; then
	ok "outbox show prints the report JSON last"
else
	nok "outbox show prints the report JSON last"; sed 's/^/# /' "$T/show"
fi
check "outbox show lists the delivery rows" \
	"$(grep -c '^delivery: .* pending attempts=0' "$T/show")" \
	"$(grep -c '^record: .*https' "$T/show" | sed 's/1/2/;s/0/1/')"
"$B/tlsrpt" outbox show --config "$T/tlsrptd.toml" 999 >/dev/null 2>"$T/show.err"
check "outbox show of a missing id fails" "$?:$(cat "$T/show.err")" \
	"1:tlsrpt: outbox show: outbox: no report 999"
"$B/tlsrpt" outbox preview --config "$T/tlsrptd.toml" --domain a.example \
	--window $two_days_ago >"$T/preview" 2>&1
check "outbox preview builds the reports of a window without storing them" \
	"$(wc -l <"$T/preview") $(reports)" "2 6"
check "outbox purge deletes the reported windows older than a day, keeps new reports" \
	"$("$B/tlsrpt" outbox purge --config "$T/tlsrptd.toml" --older-than-days 1) $(reports)" \
	"reports=0 windows=6 6"

# the daemon generates the windows it missed while it was down, at start
cp "$T/clean.sqlite" "$T/tlsrptd.sqlite"
rm -f "$T/tlsrptd.sqlite-wal" "$T/tlsrptd.sqlite-shm"
"$B/tlsrptd" --foreground --config "$T/tlsrptd.toml" 2>"$T/d2.err" &
pid=$!
i=0
while [ $i -lt 200 ] && ! grep -q 'scheduler pass' "$T/d2.err" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
kill -TERM $pid
wait $pid
check "the daemon generates the missed windows at start" \
	"$(grep -o 'scheduler pass" windows=[0-9]* reports=[0-9]*' "$T/d2.err") $(reports)" \
	'scheduler pass" windows=6 reports=6 6'
