#!/bin/bash
# Scan pipeline figures: index throughput of a large gzip layer vs zcat, peak RSS while indexing,
# and the time to re-match 10,000 stored images (synthetic rows) after an errata import.
# Usage: bash bench/scan.sh [BUILD_DIR]   (default build/, the release tree)
set -eu
b=${1:-build}
ninja -C "$b" >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
adv=${BERTH_ADVISORY_DATA:-$(dirname "$0")/../tests/data/advisories}
# a large gzip layer: /usr tarred (what is readable), plus a fake dpkg status so the indexer keeps something
mkdir -p "$tmp/extra/var/lib/dpkg"
cp /var/lib/dpkg/status "$tmp/extra/var/lib/dpkg/status"
tar -C / -cf - --ignore-failed-read usr 2>/dev/null | cat >"$tmp/usr.tar" || true
tar -C "$tmp/extra" -rf "$tmp/usr.tar" var
gzip -1 -c "$tmp/usr.tar" >"$tmp/layer.tar.gz"
rm "$tmp/usr.tar"
echo "layer: $(stat -c %s "$tmp/layer.tar.gz") bytes gzip"
s=$(date +%s.%N); zcat "$tmp/layer.tar.gz" >/dev/null; e=$(date +%s.%N)
echo "zcat: $(echo "$e - $s" | bc) s"
/usr/bin/time -v "$b/tests/scan_bench" index "$tmp/layer.tar.gz" 2>"$tmp/time.txt"
grep -E "Maximum resident|Elapsed" "$tmp/time.txt"
if [ "${BIG:-0}" = 1 ]; then
	# a 2 GiB layer: random data is incompressible, so gzip -1 of 2 GiB of it
	head -c $((2 << 30)) /dev/urandom >"$tmp/big"
	tar -C "$tmp" -cf - big | gzip -1 >"$tmp/big.tar.gz"
	rm "$tmp/big"
	/usr/bin/time -v "$b/tests/scan_bench" index "$tmp/big.tar.gz" 2>"$tmp/time2.txt"
	grep -E "Maximum resident|Elapsed" "$tmp/time2.txt"
fi
"$b/tests/scan_bench" rematch "$tmp" 10000 "$adv/debian-security-tracker/DSA-list"
