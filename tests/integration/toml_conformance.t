#!/bin/sh
# toml_conformance.t - runs the TOML 1.0.0 cases of toml-test ($SHARED/conformance/toml-test)
# against $B/toml-decoder.  One TAP point for the suite (carrying the "N passed, N failed"
# figure), one failing point per failed case.
B=${B:-build}
SHARED=${SHARED:-../shared}
run=$SHARED/conformance/toml-test/run
if [ ! -e "$run" ]; then
	echo "1..0 # SKIP no conformance suite"
	exit 0
fi
out=$("$run" "$B/toml-decoder" 2>&1)
rc=$?
summary=$(echo "$out" | sed -n 's/^toml-test: //p' | tail -n 1)
fails=$(echo "$out" | grep -c '^FAIL ')
echo "1..$((1 + fails))"
if [ $rc -eq 0 ] && [ "$fails" -eq 0 ] && [ -n "$summary" ]; then
	echo "ok 1 - toml-test 1.0.0: $summary"
else
	echo "not ok 1 - toml-test 1.0.0: ${summary:-runner failed (exit $rc)}"
	echo "$out" | tail -n 5 | sed 's/^/# /'
fi
i=1
echo "$out" | grep '^FAIL ' | while IFS= read -r line; do
	i=$((i + 1))
	echo "not ok $i - $line"
done
