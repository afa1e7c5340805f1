#!/usr/bin/env bash
# Peer comparison (README "Performance"): criterion medians for our decode, then next-auth@4
# getToken, @auth/core decode and our `inspect` batch mode on the same tokens, 100 B to 12 KB of
# claims, then the scaling chart; then the whole-process batch comparison (inspect_batch.mjs).
#   bash benches/peers/run.sh          everything
#   bash benches/peers/run.sh batch    only the batch comparison: 30,000 distinct tokens, one
#                                      `inspect` process against getToken / decode (issue 13)
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
command -v node >/dev/null || { echo "run.sh: node is required" >&2; exit 1; }
npm ci --no-audit --no-fund >/dev/null
if [ "${1:-}" = batch ]; then
  (cd "$root" && cargo build -q --release --example inspect)
  exec node --expose-gc inspect_batch.mjs "$root/target/release/examples/inspect" "${2:-30000}" "${3:-3}"
fi
(cd "$root" && cargo build -q --release --example inspect && cargo bench -q -p tower-nextauth-benches --bench decode -- 'decode/|scaling/' >/dev/null 2>&1)
node peers.mjs "$root/target/release/examples/inspect" results.json
node report.mjs results.json "$root/target/criterion"
node chart.mjs results.json scaling.svg
node --expose-gc inspect_batch.mjs "$root/target/release/examples/inspect"
