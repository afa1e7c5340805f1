#!/usr/bin/env bash
# Load test (README "Performance"): the hyper example with and without AuthLayer on loopback,
# every request carrying a valid v5 session cookie, driven by wrk.
#   bash scripts/load.sh [seconds per run] [connections]
# The server runs on CPU 0 and wrk on CPU 1, so they don't compete for one core.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
conns=${2:-64}
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
cargo build -q --release --example hyper
bin=target/release/examples/hyper
cookie=$(env -u NEXTAUTH_SECRET -u AUTH_SECRET -u NEXTAUTH_URL -u AUTH_URL "$bin" --mint 2>/dev/null)

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

run() { # $1 = label, rest = server flags
  local label=$1; shift
  local port=$((20000 + RANDOM % 20000))
  env -u NEXTAUTH_SECRET -u AUTH_SECRET -u NEXTAUTH_URL -u AUTH_URL PORT=$port \
    taskset -c 0 "$bin" "$@" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  # Warm up, then measure.
  taskset -c 1 wrk -t1 -c"$conns" -d3s -H "Cookie: $cookie" "http://127.0.0.1:$port/" >/dev/null
  local before; before=$(rss $pid)
  local out; out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --latency -H "Cookie: $cookie" "http://127.0.0.1:$port/")
  local after; after=$(rss $pid)
  kill $pid; wait $pid 2>/dev/null || true
  if grep -q "Non-2xx" <<<"$out"; then echo "$label: non-2xx responses"; echo "$out"; exit 1; fi
  local rps p50 p99 max reqs
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  max=$(awk '$1=="Latency" {print $4}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  printf '%-12s %10s req/s  p50 %-8s p99 %-8s max %-8s requests %-9s RSS KiB %s -> %s\n' \
    "$label" "$rps" "$p50" "$p99" "$max" "$reqs" "$before" "$after"
  eval "${label//-/_}_rps=$rps"
}

echo "hyper example, $conns connections, ${secs}s per run, $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
run bare --no-auth
run with-layer
awk -v a="$with_layer_rps" -v b="$bare_rps" 'BEGIN { printf "throughput with the layer: %.1f%% of bare\n", 100 * a / b }'
