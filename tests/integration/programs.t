#!/bin/sh
# programs.t - the two programs: --help, --version, usage errors, and the daemon's
# clean stop on SIGTERM and SIGINT.
B=${B:-build}
T=${TLSRPT_TEST_TMP:-/tmp}/programs
rm -rf "$T"; mkdir -p "$T"
# the example configuration with the socket and store in the scratch folder
sed -e "s|^socket = .*|socket = \"$T/collector.sock\"|" \
    -e "s|^path = .*|path = \"$T/tlsrptd.sqlite\"|" \
    -e "s|^listen = .*|listen = \"127.0.0.1:0\"|" etc/tlsrptd.toml >"$T/tlsrptd.toml"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { # check NAME WANT_STATUS CMD...
	name=$1; want=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" -eq "$want" ]; then ok "$name"; else nok "$name: got exit $got, want $want"; fi
}
echo "1..14"
check "tlsrpt --help exits 0" 0 "$B/tlsrpt" --help
grep -q '^usage: tlsrpt' "$T/out" && ok "tlsrpt --help prints usage on stdout" || nok "tlsrpt --help prints usage on stdout"
check "tlsrpt --version exits 0" 0 "$B/tlsrpt" --version
grep -q '^tlsrpt [0-9]' "$T/out" && ok "tlsrpt --version prints the version" || nok "tlsrpt --version prints the version"
check "tlsrpt without a command is a usage error" 2 "$B/tlsrpt"
check "tlsrpt unknown command is a usage error" 2 "$B/tlsrpt" frobnicate
grep -q "unknown command 'frobnicate'" "$T/err" && ok "unknown command is named" || nok "unknown command is named"
check "tlsrptd --help exits 0" 0 "$B/tlsrptd" --help
check "tlsrptd --version exits 0" 0 "$B/tlsrptd" --version
check "tlsrptd bad option is a usage error" 2 "$B/tlsrptd" --no-such-option
check "tlsrptd stray argument is a usage error" 2 "$B/tlsrptd" stray

for sig in TERM INT; do
	# a fresh log: else the previous run's "starting" may be seen before the shell
	# truncates the file for the new daemon, and the signal comes too early
	rm -f "$T/d.err"
	"$B/tlsrptd" --foreground --config "$T/tlsrptd.toml" >"$T/d.out" 2>"$T/d.err" &
	pid=$!
	i=0
	while [ $i -lt 100 ] && ! grep -q ' ready' "$T/d.err" 2>/dev/null; do
		sleep 0.05; i=$((i + 1))
	done
	kill -$sig $pid
	wait $pid
	st=$?
	if [ $st -eq 0 ] && grep -q 'stopped' "$T/d.err"; then
		ok "tlsrptd stops cleanly on SIG$sig"
	else
		nok "tlsrptd stops cleanly on SIG$sig: exit $st"; sed 's/^/# /' "$T/d.err"
	fi
done
"$B/tlsrptd" --foreground --config "$T/tlsrptd.toml" >"$T/d.out" 2>"$T/d.err" &
pid=$!
sleep 0.2
kill -0 $pid 2>/dev/null && ok "tlsrptd keeps running until told to stop" || nok "tlsrptd keeps running until told to stop"
kill -TERM $pid; wait $pid
