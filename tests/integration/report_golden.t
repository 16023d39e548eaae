#!/bin/sh
# report_golden.t - `tlsrpt report show --json` over every JSON / gzip report of the
# shared corpus, compared byte for byte with tests/data/report/<path with / as __>.json,
# and `tlsrpt report validate` over the same files compared with
# tests/data/report/validate.txt.  Regenerate with: UPDATE_GOLDEN=1 B=build SHARED=../shared
# tests/integration/report_golden.t
B=${B:-build}
SHARED=${SHARED:-../shared}
T=${TLSRPT_TEST_TMP:-/tmp}/report_golden.$$
mkdir -p "$T"
top=$(pwd)
data=$top/tests/data/report
tlsrpt=$top/$B/tlsrpt
case $B in /*) tlsrpt=$B/tlsrpt ;; esac

cd "$SHARED/corpus" || { echo "1..0 # SKIP no corpus at $SHARED/corpus"; exit 0; }
files=$(find real stalwart sys4/reports sys4/http -type f \( -name '*.json' -o -name '*.gz' \) | LC_ALL=C sort)
count=$(echo "$files" | wc -l)
echo "1..$((count + 1))"
n=0
for f in $files; do
	n=$((n + 1))
	golden=$data/$(echo "$f" | sed 's|/|__|g').json
	"$tlsrpt" report show --json "$f" >"$T/golden.out" 2>"$T/golden.err"
	st=$?
	if [ $st -ne 0 ]; then
		# rejected files have a golden of their message instead
		golden=$data/$(echo "$f" | sed 's|/|__|g').rejected
		cp "$T/golden.err" "$T/golden.out"
	fi
	if [ -n "${UPDATE_GOLDEN:-}" ]; then
		cp "$T/golden.out" "$golden"
		echo "ok $n - $f (golden updated)"
	elif [ ! -f "$golden" ]; then
		echo "not ok $n - $f: no golden file $golden (run with UPDATE_GOLDEN=1)"
	elif cmp -s "$T/golden.out" "$golden"; then
		echo "ok $n - $f"
	else
		echo "not ok $n - $f: output differs from $golden"
		diff "$golden" "$T/golden.out" | head -5 | sed 's/^/# /'
	fi
done
n=$((n + 1))
# shellcheck disable=SC2086
"$tlsrpt" report validate $files >"$T/validate.out" 2>&1
st=$?
if [ -n "${UPDATE_GOLDEN:-}" ]; then
	cp "$T/validate.out" "$data/validate.txt"
	echo "ok $n - validate (golden updated)"
elif [ $st -eq 1 ] && cmp -s "$T/validate.out" "$data/validate.txt"; then
	echo "ok $n - validate over the corpus: verdicts as in validate.txt, exit 1"
else
	echo "not ok $n - validate over the corpus: exit $st, output differs from validate.txt"
	diff "$data/validate.txt" "$T/validate.out" | head -5 | sed 's/^/# /'
fi
