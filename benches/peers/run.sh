#!/usr/bin/env bash
# Peer comparison (README "Performance"): criterion medians for our decode, then next-auth@4
# getToken, @auth/core decode and our `inspect` batch mode on the same tokens, 100 B to 12 KB of
# claims, then the scaling chart.   bash benches/peers/run.sh
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
npm ci --no-audit --no-fund >/dev/null
(cd "$root" && cargo build -q --release --example inspect && cargo bench -q -p tower-nextauth-benches --bench decode -- 'decode/|scaling/' >/dev/null 2>&1)
node peers.mjs "$root/target/release/examples/inspect" results.json
node report.mjs results.json "$root/target/criterion"
node chart.mjs results.json scaling.svg
