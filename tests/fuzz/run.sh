#!/usr/bin/env bash
# Builds each tests/fuzz/fuzz_*.c with clang's libFuzzer + ASan + UBSan and runs it for a bounded
# time (FUZZ_SECONDS, default 20). Prints "N passed, N failed" like the other suites.
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-20}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
passed=0
failed=0
srcs="src/base/err.c src/base/buf.c src/base/digest.c src/image/manifest.c src/registry/registry.c
      src/store/fs.c src/meta/meta.c src/meta/sqlite.c src/base/util.c"
for f in tests/fuzz/fuzz_*.c; do
	name=$(basename "$f" .c)
	# shellcheck disable=SC2086
	if ! clang -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-Isrc "$f" $srcs -ljansson -lcrypto -lsqlite3 -lpthread -o "$out/$name" 2>"$out/$name.build"; then
		echo "FAIL $name (build)"; cat "$out/$name.build"; failed=$((failed + 1)); continue
	fi
	mkdir -p "$out/corpus-$name"
	if "$out/$name" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=1024 "$out/corpus-$name" \
		tests/fuzz/corpus/"$name" >"$out/$name.log" 2>&1; then
		echo "ok   $name ($(grep -oE 'Done [0-9]+ runs' "$out/$name.log" | head -1))"
		passed=$((passed + 1))
	else
		echo "FAIL $name"; tail -40 "$out/$name.log"; failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
