#!/usr/bin/env bash
# Pull-and-unpack speed: a real Debian root file system (bench/mkimage.sh: debootstrap minbase, four
# gzip layers, cached under $BERTH_CACHE) is pushed to a fresh `berth serve` on loopback, then timed,
# best of 3 each, every run into a fresh destination and followed by `sync`:
#   (a) berth pull into a fresh overlay2 store (download, verify and unpack in one pass)
#   (b) skopeo copy docker://... oci:DIR, then umoci unpack of that layout
# Prints the seconds and the ratio. Usage: bench/pull.sh [BUILD_DIR] (default build/, a release tree:
# `make` first). Needs root, debootstrap, umoci and skopeo (scripts/deps.sh --bench).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
BERTH="$PWD/$BUILD/berth"
cache="${BERTH_CACHE:-$HOME/.cache/berth}"
layout="$cache/deb-layout"
[ -x "$BERTH" ] || { echo "no $BERTH: run make first" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "needs root (the host store, umoci's owners)" >&2; exit 1; }

if [ ! -f "$layout/index.json" ]; then
	mkdir -p "$cache"
	bash bench/mkimage.sh "$layout:deb"
fi

T=$(mktemp -d /var/tmp/berth-pull-XXXXXX)
srv=""
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	grep -o " $T/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BERTH" serve --addr "127.0.0.1:$port" --data "$T/registry" >"$T/serve.log" 2>&1 &
srv=$!
python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(200):
    try:
        urllib.request.urlopen("http://127.0.0.1:%s/v2/" % sys.argv[1], timeout=1).read()
        break
    except OSError:
        time.sleep(0.05)
PY
ref="127.0.0.1:$port/bench/deb:1"
"$BERTH" copy -q --tls-verify=false "oci:$layout:deb" "docker://$ref" >/dev/null
comp=$(python3 - "$layout" <<'PY'
import json, sys, os
lay = sys.argv[1]
idx = json.load(open(os.path.join(lay, "index.json")))
d = idx["manifests"][0]["digest"].split(":")[1]
m = json.load(open(os.path.join(lay, "blobs", "sha256", d)))
print(len(m["layers"]), sum(l["size"] for l in m["layers"]))
PY
)
set -- $comp
echo "image: Debian bookworm minbase, $1 gzip layers, $(($2 / 1000000)) MB compressed; registry: berth serve on loopback"
# warm the registry's blob files for both sides
find "$T/registry" -type f -exec cat {} + >/dev/null

now() { date +%s.%N; }
secs() { python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$@"; }
best=""
run_berth() {
	rm -rf "$T/store"
	local t0 t1
	t0=$(now)
	"$BERTH" pull -q --tls-verify=false --root "$T/store" --driver overlay2 "$ref" >/dev/null
	sync
	t1=$(now)
	secs "$t0" "$t1"
}
run_skopeo() {
	rm -rf "$T/oci" "$T/bundle"
	local t0 t1
	t0=$(now)
	skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$ref" "oci:$T/oci:deb" >/dev/null
	umoci unpack --image "$T/oci:deb" "$T/bundle" >/dev/null 2>&1
	sync
	t1=$(now)
	secs "$t0" "$t1"
}
min() { python3 -c "import sys; print(min(map(float, sys.argv[1:])))" "$@"; }
b=() s=()
for i in 1 2 3; do
	b+=("$(run_berth)")
	s+=("$(run_skopeo)")
	echo "run $i: berth pull ${b[-1]} s, skopeo copy + umoci unpack ${s[-1]} s"
done
bb=$(min "${b[@]}")
sb=$(min "${s[@]}")
python3 - "$bb" "$sb" <<'PY'
import sys
b, s = map(float, sys.argv[1:])
print("%-45s %8s %9s" % ("best of 3", "seconds", "vs berth"))
print("%-45s %8.2f %9s" % ("berth pull (overlay2, streamed)", b, "1.00x"))
print("%-45s %8.2f %8.2fx" % ("skopeo copy docker:// oci: + umoci unpack", s, s / b))
print("ratio: berth is %.2fx faster" % (s / b))
PY
