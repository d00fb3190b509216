#!/usr/bin/env bash
# Installs the Debian 12 packages berth needs to build, test and benchmark.
# Quiet when everything is present; uses apt-get otherwise (needs root or sudo).
set -euo pipefail

# build: compiler, build system, libraries
BUILD="gcc make meson ninja-build pkg-config libmicrohttpd-dev libjansson-dev libssl-dev
       libsqlite3-dev libyaml-dev libcurl4-openssl-dev libarchive-dev"
# tests: the reference clients and helpers the integration tests drive
TEST="python3 skopeo curl util-linux clang libclang-rt-14-dev docker-registry openssl apache2-utils"
# bench: the reference registry, a static server and a load generator
BENCH="nginx-light wrk"

want="$BUILD $TEST"
case "${1:-}" in
  --bench) want="$want $BENCH" ;;
esac

missing=""
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
