#!/usr/bin/env bash
# Unpack speed of a big multi-layer image into the host store: berth (`berth copy oci: local:` into an overlay2
# store: verify + unpack, layers in parallel) against umoci unpack, and against skopeo copy (layout to
# layout, as a pull would) followed by umoci unpack, all on the same OCI layout with a warm page cache.
# The layers are tars of this machine's own /usr trees, gzip-compressed, so content is realistic.
# Usage: bench/unpack.sh [BUILD_DIR]   (default build/, a release tree: `make` first). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
BERTH="$BUILD/berth"
T=$(mktemp -d /var/tmp/berth-unpack-XXXXXX)
cleanup() {
	grep -o " $T/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

# Four layers from system trees (whatever of them exists), the last one deleting a file of the first.
dirs=(/usr/lib/x86_64-linux-gnu /usr/share /usr/lib/python3 /usr/include)
mkdir -p "$T/layout/blobs/sha256"
echo '{"imageLayoutVersion":"1.0.0"}' >"$T/layout/oci-layout"
layers="" diffs="" n=0 total=0
for d in "${dirs[@]}"; do
	[ -d "$d" ] || continue
	tar -C / --numeric-owner -cf "$T/l.tar" "${d#/}" 2>/dev/null || true
	diff=$(sha256sum "$T/l.tar" | cut -d' ' -f1)
	total=$((total + $(stat -c %s "$T/l.tar")))
	gzip -6 -n <"$T/l.tar" >"$T/l.tgz"
	dig=$(sha256sum "$T/l.tgz" | cut -d' ' -f1)
	size=$(stat -c %s "$T/l.tgz")
	mv "$T/l.tgz" "$T/layout/blobs/sha256/$dig"
	layers="$layers${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$dig\",\"size\":$size}"
	diffs="$diffs${diffs:+,}\"sha256:$diff\""
	n=$((n + 1))
done
rm -f "$T/l.tar"
cfg="{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[$diffs]}}"
printf '%s' "$cfg" >"$T/cfg"
cd_=$(sha256sum "$T/cfg" | cut -d' ' -f1)
mv "$T/cfg" "$T/layout/blobs/sha256/$cd_"
man="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$cd_\",\"size\":${#cfg}},\"layers\":[$layers]}"
printf '%s' "$man" >"$T/man"
md=$(sha256sum "$T/man" | cut -d' ' -f1)
ms=$(stat -c %s "$T/man")
mv "$T/man" "$T/layout/blobs/sha256/$md"
echo "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$md\",\"size\":$ms,\"annotations\":{\"org.opencontainers.image.ref.name\":\"big\"}}]}" >"$T/layout/index.json"
comp=$(du -sb "$T/layout/blobs" | cut -f1)
cat "$T"/layout/blobs/sha256/* >/dev/null # warm the page cache for everyone
echo "image: $n layers, $((total / 1000000)) MB of tar, $((comp / 1000000)) MB compressed"

secs() { python3 -c "import sys,time; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$@"; }
now() { date +%s.%N; }

t0=$(now); "$BERTH" copy -q --root "$T/store" --driver overlay2 "oci:$T/layout:big" local:big:1 >/dev/null; sync; t1=$(now)
b=$(secs "$t0" "$t1")
t0=$(now); umoci unpack --image "$T/layout:big" "$T/bundle" >/dev/null 2>&1; sync; t1=$(now)
u=$(secs "$t0" "$t1")
rm -rf "$T/bundle"
t0=$(now); skopeo --insecure-policy copy -q "oci:$T/layout:big" "oci:$T/copy:big" >/dev/null
umoci unpack --image "$T/copy:big" "$T/bundle" >/dev/null 2>&1; sync; t1=$(now)
su=$(secs "$t0" "$t1")
python3 - "$total" "$b" "$u" "$su" <<'PY'
import sys
total, b, u, su = int(sys.argv[1]), *map(float, sys.argv[2:])
mb = total / 1e6
print("%-40s %8s %10s %8s" % ("", "seconds", "MB/s (tar)", "vs berth"))
print("%-40s %8.2f %10.0f %8s" % ("berth copy oci: local: (overlay2)", b, mb / b, "1.00x"))
print("%-40s %8.2f %10.0f %7.2fx" % ("umoci unpack", u, mb / u, u / b))
print("%-40s %8.2f %10.0f %7.2fx" % ("skopeo copy + umoci unpack", su, mb / su, su / b))
PY
