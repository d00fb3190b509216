#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.c) in a clang tree, build-fuzz/, configured with
# -Dfuzz=true and ASan + UBSan, and runs each for a bounded time (FUZZ_SECONDS, default 20; the
# scan targets, fuzz_scan_*, FUZZ_SCAN_SECONDS, default 10 or FUZZ_SECONDS when that is less).
# Prints "N passed, N failed" like the other suites.
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-20}
scan_secs=${FUZZ_SCAN_SECONDS:-$((secs < 10 ? secs : 10))}
BUILD=${FUZZ_BUILD:-build-fuzz}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if [ ! -f "$BUILD/build.ninja" ] &&
	! CC=clang meson setup "$BUILD" --buildtype=debugoptimized -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false >"$out/setup.log" 2>&1; then
	cat "$out/setup.log"
	echo "0 passed, 1 failed"
	exit 1
fi
passed=0
failed=0
for f in tests/fuzz/fuzz_*.c; do
	name=$(basename "$f" .c)
	if ! ninja -C "$BUILD" "tests/$name" >"$out/$name.build" 2>&1; then
		echo "FAIL $name (build)"; tail -40 "$out/$name.build"; failed=$((failed + 1)); continue
	fi
	mkdir -p "$out/corpus-$name"
	t=$secs
	case $name in fuzz_scan_*) t=$scan_secs ;; esac
	if UBSAN_OPTIONS=halt_on_error=1 "$BUILD/tests/$name" -max_total_time="$t" -max_len=65536 -rss_limit_mb=1024 \
		"$out/corpus-$name" "tests/fuzz/corpus/$name" >"$out/$name.log" 2>&1; then
		echo "ok   $name ($(grep -oE 'Done [0-9]+ runs' "$out/$name.log" | head -1))"
		passed=$((passed + 1))
	else
		echo "FAIL $name"; tail -40 "$out/$name.log"; failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
