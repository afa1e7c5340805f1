#!/usr/bin/env bash
# What the layer costs a request with 1,000 cycling sessions, this tree against another revision,
# in alternating criterion runs (README "Performance"):
#   bash scripts/bench-ab.sh REV [ROUNDS]
# Each round runs the `cycling/` group of the decode bench (the hyper example's handler bare and
# through `AuthLayer`, no network) once for this tree and once for REV's library, which goes
# first alternating, and takes layer - bare from each run: the difference is what the layer adds,
# and pairing each run's two figures cancels most of this machine's drift between runs. REV's
# library is built in a worktree under ~/.cache/tower-nextauth-bench-ab/ with this tree's bench
# file. Prints every run, then the medians over ROUNDS (default 6) rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bash scripts/bench-ab.sh REV [ROUNDS]" >&2; exit 2; }
rev=$(git rev-parse --verify -q "$1^{commit}") || { echo "bench-ab.sh: unknown revision $1" >&2; exit 2; }
rounds=${2:-6}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/tower-nextauth-bench-ab
tree=$cache/$rev
if [ ! -d "$tree" ]; then
  mkdir -p "$cache"
  git worktree add -f --detach "$tree" "$rev" >/dev/null 2>&1 || { git worktree prune; git worktree add -f --detach "$tree" "$rev" >/dev/null; }
fi
cp benches/benches/decode.rs "$tree/benches/benches/decode.rs"

# Prints "bare layer" in ns: criterion's middle estimates for the two benches.
measure() { # $1 = source tree, $2 = target dir
  (cd "$1" && CARGO_TARGET_DIR=$2 cargo bench -q -p tower-nextauth-benches --bench decode -- \
    'cycling/' --warm-up-time 1 --measurement-time 3 2>/dev/null) |
    awk '/time:/ { v = $4; u = $5; v *= (u == "µs" ? 1000 : u == "ms" ? 1e6 : 1); out = out " " v }
         END { n = split(out, f, " "); if (n != 2) exit 1; printf "%.0f %.0f\n", f[1], f[2] }'
}

# Absolute: criterion writes its reports under the target directory as the bench binary sees it,
# and the binary runs in benches/, so a relative one would land in the source tree.
here_target=$(realpath -m "${CARGO_TARGET_DIR:-target}")
base_target=$cache/target
echo "building both (the first round also warms the builds up)..."
measure . "$here_target" >/dev/null
measure "$tree" "$base_target" >/dev/null
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for round in $(seq "$rounds"); do
  if [ $((round % 2)) = 1 ]; then order=(here base); else order=(base here); fi
  for who in "${order[@]}"; do
    if [ "$who" = here ]; then read -r bare layer < <(measure . "$here_target")
    else read -r bare layer < <(measure "$tree" "$base_target"); fi
    printf '#%-2s %-4s bare %5s ns  layer %5s ns  layer adds %5s ns\n' "$round" "$who" "$bare" "$layer" $((layer - bare))
    echo "$round $who $bare $layer" >>"$results"
  done
done
awk -v rev="$1" '
  function median(list,   n, v, i, j, t) {
    n = split(list, v, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  { adds[$2] = adds[$2] " " ($4 - $3); bare[$2] = bare[$2] " " $3; by[$1, $2] = $4 - $3; r[$1] = 1 }
  END {
    for (k in r) diff = diff " " (by[k, "here"] - by[k, "base"])
    printf "medians over the rounds: this tree adds %.0f ns (bare %.0f ns), %s adds %.0f ns (bare %.0f ns);\n", median(adds["here"]), median(bare["here"]), rev, median(adds["base"]), median(bare["base"])
    printf "median of the rounds paired (this tree - %s): %+.0f ns a request\n", rev, median(diff)
  }' "$results"
