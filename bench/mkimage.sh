#!/usr/bin/env bash
# mkimage.sh LAYOUT[:TAG] [ROOTFS]: builds a multi-layer OCI image of a real Debian root file system
# (debootstrap --variant=minbase, gzip layers made by umoci) into the OCI layout LAYOUT, tag deb by default.
#   layer 1: everything but /usr/share        layer 2: /usr/share
#   layer 3: docs and man pages deleted (whiteouts), /etc/motd changed
#   layer 4: /var/cache/apt replaced by a fresh directory (opaque), a hard link and a symlink added
# ROOTFS is a debootstrap tree to reuse (made under $BERTH_CACHE, default ~/.cache/berth, when absent).
# Needs root, debootstrap and umoci (scripts/deps.sh --bench).
set -euo pipefail
dest="${1:?usage: mkimage.sh LAYOUT[:TAG] [ROOTFS]}"
layout="${dest%%:*}"
tag="deb"
[ "$dest" != "$layout" ] && tag="${dest#*:}"
cache="${BERTH_CACHE:-$HOME/.cache/berth}"
rootfs="${2:-$cache/rootfs-bookworm}"
log() { printf '[mkimage %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ ! -x "$rootfs/bin/sh" ]; then
  log "debootstrap --variant=minbase bookworm $rootfs"
  mkdir -p "$(dirname "$rootfs")"
  debootstrap --variant=minbase bookworm "$rootfs" >"$cache/debootstrap.log" 2>&1 ||
    { tail -5 "$cache/debootstrap.log" >&2; exit 1; }
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rm -rf "$layout"
umoci init --layout "$layout"
umoci new --image "$layout:$tag"
umoci config --image "$layout:$tag" --config.cmd /bin/bash --os linux --architecture amd64 \
  --history.created_by "berth bench/mkimage.sh"

# step N: unpack the image so far, run the shell snippet in the bundle's rootfs, repack as a new layer
step() {
  local what="$1" script="$2"
  log "layer: $what"
  rm -rf "$work/bundle"
  umoci unpack --image "$layout:$tag" "$work/bundle" >/dev/null
  (cd "$work/bundle/rootfs" && eval "$script")
  umoci repack --image "$layout:$tag" --history.created_by "$what" "$work/bundle"
}

step "base without /usr/share" "tar -C '$rootfs' --exclude=./usr/share -cf - . | tar -xpf -"
step "/usr/share" "mkdir -p usr/share && tar -C '$rootfs/usr/share' -cf - . | tar -C usr/share -xpf -"
step "remove docs and man pages" "rm -rf usr/share/doc/* usr/share/man && echo 'built by berth bench' > etc/motd"
step "replace /var/cache/apt" "rm -rf var/cache/apt && mkdir -p var/cache/apt && echo fresh > var/cache/apt/NOTE &&
  ln etc/motd etc/motd.hardlink && ln -s ../etc/motd root/motd.link"
umoci gc --layout "$layout"
log "done: $layout:$tag ($(du -sh "$layout" | cut -f1))"
