#!/usr/bin/env bash
# Is serde_json's `preserve_order` worth its cost on the default claims path (issue 13)? The
# `inspect` example decodes each line into the default `Token` (a JSON map) and prints it; this
# builds it twice, as is (a `BTreeMap`, the crate's default) and with
# `--features serde_json/preserve_order` (an `IndexMap`), feeds both the same $1 (30,000) distinct
# v5 tokens with ~270 B of claims, alternating, $2 (5) runs each, and prints the best whole-process
# time of each. (The `jose` feature turns `preserve_order` on through josekit, and so does the
# benches crate, which has josekit as a dev-dependency: its `_map` figures are IndexMap ones.)
#   bash scripts/preserve-order.sh [tokens=30000] [runs=5]
set -euo pipefail
cd "$(dirname "$0")/.."
tokens=${1:-30000}
runs=${2:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cargo build -q --release --example hyper --example inspect
cp target/release/examples/inspect "$tmp/inspect-btree"
CARGO_TARGET_DIR=target/preserve-order cargo build -q --release --example inspect \
  --features serde_json/preserve_order
cp target/preserve-order/release/examples/inspect "$tmp/inspect-indexmap"

# The hyper example mints `name=value` lines under the quickstart's development secret.
env -u NEXTAUTH_SECRET -u AUTH_SECRET -u NEXTAUTH_URL -u AUTH_URL target/release/examples/hyper \
  --mint "$tokens" 2>/dev/null >"$tmp/cookies"
export NEXTAUTH_SECRET=tower-nextauth-quickstart-development-secret
unset AUTH_SECRET NEXTAUTH_URL AUTH_URL

# Same claims, whichever order each map prints them in.
"$tmp/inspect-btree" --v5 <"$tmp/cookies" >"$tmp/out-btree"
"$tmp/inspect-indexmap" --v5 <"$tmp/cookies" >"$tmp/out-indexmap"
[ "$(wc -l <"$tmp/out-btree")" -eq "$tokens" ] || { echo "preserve-order.sh: inspect failed" >&2; exit 1; }
if grep -q '"error"' "$tmp/out-btree" "$tmp/out-indexmap"; then
  echo "preserve-order.sh: a token did not decode" >&2; exit 1
fi
cmp -s "$tmp/out-btree" "$tmp/out-indexmap" && echo "note: both builds print the same bytes"

best_btree= best_indexmap=
for _ in $(seq "$runs"); do
  for map in btree indexmap; do
    start=$(date +%s%N)
    "$tmp/inspect-$map" --v5 <"$tmp/cookies" >/dev/null
    ms=$((($(date +%s%N) - start) / 1000))
    var=best_$map
    if [ -z "${!var}" ] || [ "$ms" -lt "${!var}" ]; then printf -v "$var" '%s' "$ms"; fi
  done
done
awk -v b="$best_btree" -v i="$best_indexmap" -v n="$tokens" -v r="$runs" 'BEGIN {
  printf "%d v5 tokens, best of %d whole-process runs each\n", n, r
  printf "BTreeMap (default):          %8.1f ms  %.3f us per token\n", b / 1000, b / n
  printf "IndexMap (preserve_order):   %8.1f ms  %.3f us per token  (%+.1f%%)\n", i / 1000, i / n, 100 * (i - b) / b
}'
