#!/usr/bin/env bash
# Installs the Debian 12 packages berth needs to build, test and benchmark.
# Quiet when everything is present; uses apt-get otherwise (needs root or sudo).
set -euo pipefail

# build: compiler, build system, libraries
BUILD="gcc make meson ninja-build pkg-config libmicrohttpd-dev libjansson-dev libssl-dev
       libsqlite3-dev libyaml-dev libcurl4-openssl-dev
       libarchive-dev zlib1g-dev libzstd-dev libisal-dev
       libgpgme-dev libsodium-dev"
# tests: the reference clients and helpers the integration tests drive (skopeo, umoci, gnupg, btrfs-progs
# for the loop-mounted btrfs store); dpkg's and rpm's own version comparison (libdpkg-dev,
# librpm-dev) for the differential tests of scan/ver, rpm (rpmbuild, rpm --initdb) to make real rpm
# databases as test fixtures, and db5.3-util (the Berkeley DB library's db_load) to write the old
# Berkeley DB rpm database format, which Debian's rpm can read but no longer write; the client's
# auth and TLS tests run docker-registry with htpasswd (apache2-utils) and with certificates and
# token keys made by the openssl CLI
TEST="python3 skopeo curl util-linux clang libclang-rt-14-dev umoci btrfs-progs libdpkg-dev librpm-dev rpm
      db5.3-util gnupg docker-registry openssl apache2-utils"
# bench: a static server, a load generator, image builders (the reference registry is in TEST)
BENCH="nginx-light wrk debootstrap umoci"

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
