#!/usr/bin/env bash
# Soak test (SECURITY.md): the quickstart (release build, embedded dev secret) under 256
# concurrent connections for 60 s with valid, expired, tampered, garbage and oversized cookies.
#   bash scripts/soak.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/wrk-lib.sh # free_port
secs=${1:-60}
conns=${2:-256}
ulimit -n 65536 2>/dev/null || true
cargo build -q --release --example quickstart --features axum,tracing
cargo bench --no-run -q -p tower-nextauth-benches --bench soak
port=$(free_port)
env -u NEXTAUTH_SECRET -u AUTH_SECRET -u NEXTAUTH_URL -u AUTH_URL PORT=$port \
  target/release/examples/quickstart >target/soak-server.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
kill -0 $pid
cargo bench -q -p tower-nextauth-benches --bench soak -- --url "http://127.0.0.1:$port" --pid $pid --secs "$secs" --conns "$conns"
kill -0 $pid  # the server is still alive: no panic took it down
if grep -n "panicked" target/soak-server.log; then
  echo "soak FAILED: the server logged a panic (target/soak-server.log)" >&2
  exit 1
fi
echo "quickstart still running after the soak (pid $pid), no panic in target/soak-server.log"
