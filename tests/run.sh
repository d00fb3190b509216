#!/usr/bin/env bash
# Runs every test: the unit binaries of build-asan/ (ASan + UBSan), then the integration suite
# against build-asan/berth. Prints each suite's output and ends with one line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-asan}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0
failed=0
skipped=0

# Adds the counts from a suite's "N passed, N failed[, N skipped]" line; a suite that printed no such
# line (it crashed) counts as one failure.
tally() {
	local name=$1 out=$2 rc=$3 line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
	if [ -z "$line" ]; then
		echo "FAIL $name: no result line (exit $rc)"
		failed=$((failed + 1))
		return
	fi
	set -- $(echo "$line" | grep -oE '[0-9]+')
	passed=$((passed + $1))
	failed=$((failed + $2))
	skipped=$((skipped + ${3:-0}))
	if [ "$rc" -ne 0 ] && [ "$2" -eq 0 ]; then
		echo "FAIL $name: exit status $rc"
		failed=$((failed + 1))
	fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for t in "$BUILD"/tests/test_*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	name=$(basename "$t")
	echo "== unit: $name"
	"$t" >"$tmp/$name.out" 2>&1
	rc=$?
	grep -vE '^ok ' "$tmp/$name.out"
	tally "$name" "$tmp/$name.out" "$rc"
done

echo "== fuzz (bounded: ${FUZZ_SECONDS:-20} s per target)"
bash tests/fuzz/run.sh >"$tmp/fuzz.out" 2>&1
rc=$?
cat "$tmp/fuzz.out"
tally fuzz "$tmp/fuzz.out" "$rc"

if [ -f tests/integration/run.py ]; then
	echo "== integration"
	BERTH_BIN="$PWD/$BUILD/berth" python3 tests/integration/run.py "$@" 2>&1 | tee "$tmp/integration.out"
	tally integration "$tmp/integration.out" "${PIPESTATUS[0]}"
fi

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
