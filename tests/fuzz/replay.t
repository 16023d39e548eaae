#!/bin/sh
# Replays every fuzz corpus (tests/fuzz/corpus/<target>/) through its harness, built
# without libFuzzer as $B/tests/fuzz/replay_<target>.  One TAP point per target.
B=${B:-build}
n=0
for src in tests/fuzz/fuzz_*.c; do
	[ -e "$src" ] || continue
	n=$((n + 1))
done
if [ "$n" -eq 0 ]; then
	echo "1..0 # SKIP no fuzz harness yet"
	exit 0
fi
echo "1..$n"
i=0
for src in tests/fuzz/fuzz_*.c; do
	i=$((i + 1))
	name=${src#tests/fuzz/fuzz_}
	name=${name%.c}
	corpus=tests/fuzz/corpus/$name
	bin=$B/tests/fuzz/replay_$name
	if [ ! -d "$corpus" ]; then
		echo "not ok $i - $name: no corpus folder $corpus"
		continue
	fi
	out=$("$bin" "$corpus" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok $i - $name: $(echo "$out" | sed -n 's/^ok 1 - [^:]*: //p')"
	else
		echo "not ok $i - $name: replay exited $rc"
		echo "$out" | tail -n 20 | sed 's/^/# /'
	fi
done
