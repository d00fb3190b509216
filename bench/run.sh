#!/usr/bin/env bash
# berth benchmark: berth vs Debian's docker-registry (distribution 2.x), plus
# the machine's ceilings (nginx, fdatasync write, sha256), all from one run.
#
# usage: bench/run.sh [--quick] [--only-reference]
#   --quick           64 MiB blob, 3 s wrk runs, 256 MiB big file / dd write
#   --only-reference  skip berth (measure docker-registry and ceilings only)
# env:
#   BERTH_BIN   berth binary (default build/berth, relative to the repo root)
#   BENCH_TMP   parent of the temporary work dir (default /tmp)
#   BENCH_KEEP  set: keep the work dir (server logs, data) for a look afterwards
#   BERTH_LOG_LEVEL  berth's log level during the run (default error, like the
#               reference, whose access log is also disabled)
#
# Progress goes to stderr, the Markdown report to stdout.
# Needs: wrk nginx(-light) docker-registry curl python3 openssl (scripts/deps.sh --bench).
set -uo pipefail
export LC_ALL=C

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }

QUICK=0
ONLY_REF=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --only-reference) ONLY_REF=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
  esac
done

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
cd "$ROOT" || exit 1

if [ "$QUICK" -eq 1 ]; then
  BLOB_MIB=64; WRK_SECS=3; BIG_MIB=256; SSL_SECS=1; DL_ROUNDS=3
else
  BLOB_MIB=512; WRK_SECS=10; BIG_MIB=2048; SSL_SECS=3; DL_ROUNDS=6
fi
CHUNK_MIB=8
DD_MIB=$BIG_MIB            # fdatasync write ceiling: 2 GiB full, 256 MiB quick
TAGS=100
PUSH_IMAGES=50
PUSH_CLIENTS=8
WRK_ARGS=(-t2 -c64 "-d${WRK_SECS}s" --latency --timeout 5s)
ACCEPT_MANIFEST="Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json"

BERTH="${BERTH_BIN:-build/berth}"
case "$BERTH" in /*) ;; *) BERTH="$ROOT/$BERTH" ;; esac
REGISTRY_BIN="$(command -v docker-registry || echo /usr/bin/docker-registry)"
NGINX_BIN="$(command -v nginx || echo /usr/sbin/nginx)"
PY="$(command -v python3)"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

missing=""
for t in wrk curl openssl dd sha256sum cc timeout "$PY" "$REGISTRY_BIN" "$NGINX_BIN"; do
  command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
[ -z "$missing" ] || die "missing tools:$missing (run scripts/deps.sh --bench)"
if [ "$ONLY_REF" -eq 0 ] && [ ! -x "$BERTH" ]; then
  die "berth binary not found at $BERTH (build it, set BERTH_BIN, or use --only-reference)"
fi

# ---------------------------------------------------------------- work dir
mkdir -p "${BENCH_TMP:-/tmp}" || die "cannot create ${BENCH_TMP:-/tmp}"
WORK="$(mktemp -d "${BENCH_TMP:-/tmp}/berth-bench.XXXXXX")" || die "mktemp failed"
RES="$WORK/results.txt"
: >"$RES"
PIDS=()

stop_pid() {  # stop_pid PID: TERM, wait (bounded), then KILL
  local pid="$1"
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

cleanup() {
  local p
  trap - EXIT INT TERM
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  [ -n "${BENCH_KEEP:-}" ] && { log "kept $WORK"; return; }
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

put() { printf '%s=%s\n' "$1" "$2" >>"$RES"; }

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_ready URL PID NAME: poll URL until HTTP 200/401 (bounded: ~20 s)
wait_ready() {
  local url="$1" pid="$2" name="$3" code
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || { log "$name exited during startup"; return 1; }
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2>/dev/null)"
    case "$code" in 200|401) return 0 ;; esac
    sleep 0.1
  done
  log "$name did not answer $url"
  return 1
}

# wrk_run KEY URL [get|head] [HEADER]: records KEY_rps, KEY_p99 (ms), KEY_err.
# GET uses wrk; HEAD uses bench/headload.c (same model and output format),
# because wrk 4.1 waits for a body after a HEAD response and stalls (even
# against nginx), so `wrk -s head.lua` measures 0 req/s.
wrk_run() {
  local key="$1" url="$2" method="${3:-get}" hdr="${4:-}" out="$WORK/wrk-$1.txt"
  local cmd
  if [ "$method" = head ]; then
    if [ -z "$HEADLOAD" ]; then put "${key}_rps" ERR; return 1; fi
    cmd=("$HEADLOAD" -t2 -c64 -d "$WRK_SECS" -m HEAD)
  else
    cmd=(wrk "${WRK_ARGS[@]}")
  fi
  [ -n "$hdr" ] && cmd+=(-H "$hdr")
  if ! timeout $((WRK_SECS + 30)) "${cmd[@]}" "$url" >"$out" 2>&1; then
    log "load generator failed for $key: $(tail -n 3 "$out" | tr '\n' ' ')"
    put "${key}_rps" ERR; return 1
  fi
  local parsed
  parsed="$(awk '
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /m$/)  { sub(/m$/, "", v);  return v * 60000 }
      if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
      return -1
    }
    /^Requests\/sec:/ { rps = $2 }
    /^ +99%/ { p99 = ms($2) }
    /requests in/ { total = $1 }
    /Non-2xx or 3xx responses:/ { bad += $NF }
    /Socket errors:/ { gsub(/,/, ""); bad += $4 + $6 + $8 + $10 }
    END { printf "%s %s %d %d\n", rps, p99, bad, total }' "$out")"
  local rps p99 bad total
  read -r rps p99 bad total <<<"$parsed"
  if [ -z "$rps" ] || [ "${total:-0}" -eq 0 ] || [ "$bad" -ge "$total" ]; then
    log "$key: no successful requests ($(grep -E 'Non-2xx|Socket errors' "$out" | tr '\n' ' '))"
    put "${key}_rps" ERR; return 1
  fi
  [ "$bad" -gt 0 ] && log "$key: $bad of $total requests failed (non-2xx/3xx or socket errors)"
  put "${key}_rps" "$rps"; put "${key}_p99" "$p99"; put "${key}_err" "$bad"
  log "$key: $rps req/s, p99 $p99 ms"
}

# curl_get URL SIZE: one GET to /dev/null; prints "SECONDS" or fails (wrong status or size)
curl_get() {
  local r code secs got
  r="$(curl -s -o /dev/null --max-time 300 -w '%{http_code} %{time_total} %{size_download}' "$1")" || true
  read -r code secs got <<<"$r"
  if [ "$code" != "200" ] || [ "$got" != "$2" ]; then
    log "GET $1 -> HTTP ${code:-none}, ${got:-0} of $2 bytes"; return 1
  fi
  printf '%s\n' "$secs"
}

# download_paired KEY URL SIZE: DL_ROUNDS rounds, each one GET of URL and one of nginx's big file,
# alternating which goes first. Loopback throughput here swings by 2x from one second to the next
# (scheduling of the two cores), so a registry measured a minute after nginx can look 20% slower
# or faster than it is; paired rounds see the same conditions. Records KEY_mbps and KEY_nginx_mbps
# (total bytes / total seconds of each), and adds nginx's rounds to the ceiling.
NG_BIG_BYTES=0; NG_BIG_SECS=0
download_paired() {
  local key="$1" url="$2" size="$3" i t sb=0 ss=0 nb=0 ns=0 first second
  for i in $(seq 1 "$DL_ROUNDS"); do
    if [ $((i % 2)) -eq 1 ]; then first=s; else first=n; fi
    for second in "$first" x; do
      [ "$second" = x ] && { [ "$first" = s ] && second=n || second=s; }
      if [ "$second" = n ] && [ -z "$NG_BIG_URL" ]; then
        continue
      elif [ "$second" = s ]; then
        t="$(curl_get "$url" "$size")" || { put "${key}_mbps" ERR; return 1; }
        sb=$((sb + size)); ss="$(awk -v a="$ss" -v b="$t" 'BEGIN { print a + b }')"
      else
        t="$(curl_get "$NG_BIG_URL" "$NG_BIG_SIZE")" || { put "${key}_mbps" ERR; return 1; }
        nb=$((nb + NG_BIG_SIZE)); ns="$(awk -v a="$ns" -v b="$t" 'BEGIN { print a + b }')"
      fi
    done
  done
  NG_BIG_BYTES=$((NG_BIG_BYTES + nb)); NG_BIG_SECS="$(awk -v a="$NG_BIG_SECS" -v b="$ns" 'BEGIN { print a + b }')"
  put "${key}_mbps" "$(awk -v b="$sb" -v t="$ss" 'BEGIN { printf "%.1f", b / t / 1e6 }')"
  [ "$nb" -gt 0 ] && put "${key}_nginx_mbps" "$(awk -v b="$nb" -v t="$ns" 'BEGIN { printf "%.1f", b / t / 1e6 }')"
  log "$key: $(awk -v b="$sb" -v t="$ss" 'BEGIN { printf "%.1f", b / t / 1e6 }') MB/s;" \
    "nginx in the same rounds $(awk -v b="$nb" -v t="$ns" 'BEGIN { printf "%.1f", b / t / 1e6 }') MB/s"
}

HEADLOAD="$WORK/headload"
if ! cc -O2 -pthread -o "$HEADLOAD" "$BENCH_DIR/headload.c" 2>"$WORK/headload.err"; then
  log "cannot build bench/headload.c (HEAD results will be ERR): $(head -n 3 "$WORK/headload.err")"
  HEADLOAD=""
fi

# ---------------------------------------------------------------- inputs
log "work dir $WORK; mode $([ "$QUICK" -eq 1 ] && echo quick || echo full)"
put mode "$([ "$QUICK" -eq 1 ] && echo quick || echo full)"
put date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
put cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo) x $(nproc)"
put mem_mib "$(awk '/^MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)"
put loadavg "$(cut -d' ' -f1-3 /proc/loadavg)"
put blob_mib "$BLOB_MIB"; put chunk_mib "$CHUNK_MIB"; put big_mib "$BIG_MIB"; put dd_mib "$DD_MIB"
put wrk_secs "$WRK_SECS"; put tags "$TAGS"; put push_images "$PUSH_IMAGES"; put push_clients "$PUSH_CLIENTS"
put ref_version "$("$REGISTRY_BIN" --version 2>/dev/null | awk '{ print $NF }')"
put nginx_version "$("$NGINX_BIN" -v 2>&1 | sed 's|.*nginx/||')"

log "generating ${BLOB_MIB} MiB random blob"
BLOB="$WORK/blob.bin"
head -c $((BLOB_MIB << 20)) /dev/urandom >"$BLOB" || die "cannot write $BLOB"
BLOB_DIGEST="sha256:$(sha256sum "$BLOB" | cut -d' ' -f1)"

# ---------------------------------------------------------------- ceilings
log "ceiling: ${DD_MIB} MiB write with fdatasync"
dd_out="$(dd if=/dev/zero of="$WORK/dd.bin" bs=8M count=$((DD_MIB / 8)) conv=fdatasync 2>&1)"
rm -f "$WORK/dd.bin"
dd_mbps="$(printf '%s\n' "$dd_out" | awk '/bytes.*copied/ {
  for (i = 1; i <= NF; i++) if ($i == "s," || $i == "s") secs = $(i-1)
  if (secs > 0) printf "%.1f", $1 / secs / 1e6 }')"
put ceil_dd_mbps "${dd_mbps:-ERR}"
log "dd: ${dd_mbps:-ERR} MB/s"

log "ceiling: openssl speed sha256 (16 KiB blocks, one core)"
TASKSET=()
command -v taskset >/dev/null 2>&1 && TASKSET=(taskset -c 0)
sha_k="$("${TASKSET[@]}" openssl speed -evp sha256 -bytes 16384 -seconds "$SSL_SECS" 2>/dev/null |
  awk 'tolower($1) ~ /^sha(2-)?256$/ { v = $NF; sub(/k$/, "", v); print v }' | tail -n 1)"
put ceil_sha256_mbps "$(awk -v k="${sha_k:-0}" 'BEGIN { if (k > 0) printf "%.1f", k / 1000; else print "ERR" }')"

log "ceiling: nginx"
NG="$WORK/nginx"
mkdir -p "$NG/www" "$NG/tmp"
NG_PORT="$(free_port)"
head -c 512 /dev/urandom | base64 -w 0 | head -c 512 >"$NG/www/tiny.txt"
for _ in $(seq 1 $((BIG_MIB / BLOB_MIB))); do cat "$BLOB"; done >"$NG/www/big.bin"
cat >"$NG/nginx.conf" <<EOF
user $(id -un) $(id -gn);
worker_processes 2;
daemon off;
pid $NG/nginx.pid;
error_log $NG/error.log error;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  keepalive_timeout 60s;
  default_type application/octet-stream;
  client_body_temp_path $NG/tmp/body;
  proxy_temp_path $NG/tmp/proxy;
  fastcgi_temp_path $NG/tmp/fastcgi;
  uwsgi_temp_path $NG/tmp/uwsgi;
  scgi_temp_path $NG/tmp/scgi;
  server {
    listen 127.0.0.1:$NG_PORT;
    root $NG/www;
  }
}
EOF
"$NGINX_BIN" -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log" >"$NG/stdout.log" 2>&1 &
NG_PID=$!
PIDS+=("$NG_PID")
# nginx keeps running: its big-file downloads are paired with each registry's (download_paired)
NG_BIG_URL=""
NG_BIG_SIZE=$(( (BIG_MIB / BLOB_MIB) * (BLOB_MIB << 20) ))
if wait_ready "http://127.0.0.1:$NG_PORT/tiny.txt" "$NG_PID" nginx; then
  wrk_run ceil_nginx "http://127.0.0.1:$NG_PORT/tiny.txt"
  NG_BIG_URL="http://127.0.0.1:$NG_PORT/big.bin"
else
  log "nginx failed: $(tail -n 5 "$NG/error.log" "$NG/stdout.log" 2>/dev/null | tr '\n' ' ')"
  put ceil_nginx_rps ERR
fi

# ---------------------------------------------------------------- registries
# run_helper KEY CMD...: run a python helper, parse "k=v ..." into HELPER_OUT
run_helper() {
  local key="$1"; shift
  if ! HELPER_OUT="$("$@" 2>"$WORK/$key.err")"; then
    log "$key failed: $(tail -n 3 "$WORK/$key.err" | tr '\n' ' ')"
    return 1
  fi
}
kv() { printf '%s\n' "$HELPER_OUT" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }

# bench_server S BASE_URL PID: the per-registry suite; S is berth or ref
bench_server() {
  local s="$1" url="$2" pid="$3" digest

  log "$s: seeding repo bench/app with $TAGS tags"
  if run_helper "$s.seed" "$PY" "$BENCH_DIR/push_images.py" seed --url "$url" --repo bench/app --tags "$TAGS"; then
    digest="$(kv digest)"
  else
    digest=""
  fi

  log "$s: monolithic upload of ${BLOB_MIB} MiB"
  if run_helper "$s.mono" "$PY" "$BENCH_DIR/upload.py" --url "$url" --repo bench/mono \
      --file "$BLOB" --digest "$BLOB_DIGEST" --mode mono; then
    put "${s}_mono_mbps" "$(awk -v b="$(kv bytes)" -v t="$(kv seconds)" 'BEGIN { printf "%.1f", b / t / 1e6 }')"
    put "${s}_mono_method" "$(kv method)"
    log "$s: mono $(tail -n 2 "$RES" | tr '\n' ' ')"
  else
    put "${s}_mono_mbps" ERR
  fi

  log "$s: chunked upload of ${BLOB_MIB} MiB in ${CHUNK_MIB} MiB chunks"
  if run_helper "$s.chunked" "$PY" "$BENCH_DIR/upload.py" --url "$url" --repo bench/chunked \
      --file "$BLOB" --digest "$BLOB_DIGEST" --mode chunked --chunk $((CHUNK_MIB << 20)); then
    put "${s}_chunked_mbps" "$(awk -v b="$(kv bytes)" -v t="$(kv seconds)" 'BEGIN { printf "%.1f", b / t / 1e6 }')"
    log "$s: chunked $(tail -n 1 "$RES")"
  else
    put "${s}_chunked_mbps" ERR
  fi

  log "$s: blob download, $DL_ROUNDS rounds paired with nginx's big file"
  download_paired "${s}_download" "$url/v2/bench/mono/blobs/$BLOB_DIGEST" $((BLOB_MIB << 20))

  if [ -n "$digest" ]; then
    log "$s: wrk manifest GET / HEAD, tags list"
    wrk_run "${s}_get" "$url/v2/bench/app/manifests/tag-000" get "$ACCEPT_MANIFEST"
    wrk_run "${s}_head" "$url/v2/bench/app/manifests/tag-000" head "$ACCEPT_MANIFEST"
    wrk_run "${s}_tags" "$url/v2/bench/app/tags/list"
  else
    put "${s}_get_rps" ERR; put "${s}_head_rps" ERR; put "${s}_tags_rps" ERR
  fi

  log "$s: pushing $PUSH_IMAGES small images with $PUSH_CLIENTS clients"
  if run_helper "$s.push" "$PY" "$BENCH_DIR/push_images.py" push --url "$url" --repo bench/push \
      --images "$PUSH_IMAGES" --clients "$PUSH_CLIENTS"; then
    put "${s}_push_ips" "$(awk -v n="$(kv images)" -v t="$(kv seconds)" 'BEGIN { printf "%.1f", n / t }')"
    log "$s: push $(tail -n 1 "$RES")"
  else
    put "${s}_push_ips" ERR
  fi

  local hwm
  hwm="$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)"
  put "${s}_rss_kib" "${hwm:-ERR}"
  log "$s: peak RSS ${hwm:-?} kB"
}

# reference: docker-registry
REF_PORT="$(free_port)"
mkdir -p "$WORK/ref-data"
cat >"$WORK/ref-config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $WORK/ref-data
  cache:
    blobdescriptor: inmemory
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REF_PORT
EOF
# Each server starts on a quiet disk: docker-registry never fsyncs, so the gigabyte it was sent is
# still being written back (and its deletion journaled) when the next server starts, and berth's
# fsyncs at commit would wait behind it. sync first, for both servers alike.
quiet_disk() { sync; sleep 2; }
quiet_disk
log "starting docker-registry on 127.0.0.1:$REF_PORT"
"$REGISTRY_BIN" serve "$WORK/ref-config.yml" >"$WORK/ref.log" 2>&1 &
REF_PID=$!
PIDS+=("$REF_PID")
if wait_ready "http://127.0.0.1:$REF_PORT/v2/" "$REF_PID" docker-registry; then
  bench_server ref "http://127.0.0.1:$REF_PORT" "$REF_PID"
else
  log "docker-registry log: $(tail -n 5 "$WORK/ref.log" | tr '\n' ' ')"
fi
stop_pid "$REF_PID"
rm -rf "$WORK/ref-data"

# berth
if [ "$ONLY_REF" -eq 0 ]; then
  put servers "berth ref"
  BERTH_PORT="$(free_port)"
  mkdir -p "$WORK/berth-data"
  # run a private copy: the build may relink build/berth while we measure
  cp "$BERTH" "$WORK/berth" || die "cannot copy $BERTH"
  # log level error like the reference (whose access log is disabled too)
  quiet_disk
  log "starting berth ($BERTH, BERTH_LOG_LEVEL=${BERTH_LOG_LEVEL:-error}) on 127.0.0.1:$BERTH_PORT"
  BERTH_LOG_LEVEL="${BERTH_LOG_LEVEL:-error}" \
    "$WORK/berth" serve --addr "127.0.0.1:$BERTH_PORT" --data "$WORK/berth-data" >"$WORK/berth.log" 2>&1 &
  BERTH_PID=$!
  PIDS+=("$BERTH_PID")
  if wait_ready "http://127.0.0.1:$BERTH_PORT/v2/" "$BERTH_PID" berth; then
    bench_server berth "http://127.0.0.1:$BERTH_PORT" "$BERTH_PID"
  else
    log "berth log: $(tail -n 5 "$WORK/berth.log" | tr '\n' ' ')"
  fi
  stop_pid "$BERTH_PID"
else
  put servers "ref"
fi

if [ "$NG_BIG_BYTES" -gt 0 ]; then
  put ceil_nginx_big_mbps "$(awk -v b="$NG_BIG_BYTES" -v t="$NG_BIG_SECS" 'BEGIN { printf "%.1f", b / t / 1e6 }')"
else
  put ceil_nginx_big_mbps ERR
fi
stop_pid "$NG_PID"
rm -f "$NG/www/big.bin"

"$PY" "$BENCH_DIR/report.py" "$RES"
