#!/usr/bin/env bash
# Load test (README "Performance", issue 13): the hyper example with and without AuthLayer on
# loopback, driven by wrk, every request carrying a valid v5 session cookie (~270 B of claims).
#   bash scripts/load.sh [seconds per run] [connections] [case ...]
# Cases (default: all three):
#   cycling  1,000 distinct sessions, each request the next one in turn (a realistic app);
#   single   one session on every request (what the README measured before issue 13, then
#            with a static `-H Cookie:` header);
#   unseen   every request a session the server has not seen: a pool of $UNSEEN_POOL (200,000)
#            sessions cycled in order, after a warm-up on another session, so in each run the
#            first $UNSEEN_POOL requests are truly unseen and any later one was last seen
#            $UNSEEN_POOL requests earlier, beyond any cache bound smaller than that. (A
#            scan-resistant cache may still keep a few entries across a cycle: quick_cache hits
#            ~3% when 200,000 keys cycle through 10,000 entries, see the cache_choice bench.)
# Every comparison runs $ROUNDS (2) times, alternating the modes (which one goes first rotates),
# each run on a fresh server; the summary takes the best of each figure over the rounds, and gives
# the medians and the median over rounds of layer / bare (each layer run against the bare run of
# its round), which move less on a machine whose speed drifts between runs. Server on CPU 0, wrk on
# CPU 1, so they don't compete for one core. wrk sends the same pre-formatted requests (a Lua
# script rotating through a file of Cookie values) to both servers. "server CPU" is the share of
# CPU 0 the server used: well under 100% for bare means wrk, not hyper, was the limit.
# A run whose server got less than 85% of CPU 0 is marked and repeated (up to $RETRIES, 2, extra
# runs per case); the best-of takes every run.
# Besides req/s and latencies, each run gives the server's CPU time per request ("us/req": its
# user+system time over the requests wrk completed), the layer's cost under load whichever side
# was the bottleneck. Latency in this closed loop depends on which side that is: wrk on one core
# is about as fast as bare hyper on the other, so with bare hyper part of the queue waits in wrk
# (between a response and the next request, which wrk does not time), and any extra server CPU
# moves it into the server (timed): with 64 connections a request cycle takes 64 / (req/s), and
# what the mean latency leaves of it is the untimed wait. CONTROL_BURN=N adds a control mode
# "burn": bare hyper whose handler spins N rounds (examples/hyper.rs --burn; 400 rounds cost
# about what the layer does on this machine when it is quiet, 0.5-0.7 us), so the latency that
# any added CPU costs can be told from what the layer itself costs.
# Environment: UNSEEN_POOL, CYCLING_SESSIONS (1000), ROUNDS, RETRIES, LAYER_FLAGS (extra flags
# for the server with the layer, e.g. --no-cache), CONTROL_BURN, BASELINE (a git revision: its
# library, built with this tree's hyper example in ~/.cache/tower-nextauth-load-baseline/, runs
# as a third mode "base" in every round, so "the unseen case is no slower than fa02b12" is
# measured as `BASELINE=fa02b12 bash scripts/load.sh 12 64 unseen`; a revision without
# `Builder::session_cache` gets the example without its --no-cache branch).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
conns=${2:-64}
shift $(($# < 2 ? $# : 2))
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(cycling single unseen)
pool=${UNSEEN_POOL:-200000}
cycling=${CYCLING_SESSIONS:-1000}
rounds=${ROUNDS:-2}
read -r -a layer_flags <<<"${LAYER_FLAGS:-}"
case ${CONTROL_BURN:-0} in *[!0-9]*) echo "load.sh: CONTROL_BURN must be a count of rounds" >&2; exit 2 ;; esac
for c in "${cases[@]}"; do
  case $c in cycling | single | unseen) ;; *) echo "load.sh: unknown case $c (cycling, single, unseen)" >&2; exit 2 ;; esac
done

. scripts/wrk-lib.sh
wrk_setup load.sh
cargo build -q --release --example hyper
bin=target/release/examples/hyper
base_bin=
if [ -n "${BASELINE:-}" ]; then
  rev=$(git rev-parse --verify -q "${BASELINE}^{commit}") || { echo "load.sh: unknown revision $BASELINE" >&2; exit 2; }
  # Outside this checkout: an old revision may have no `[workspace]` table of its own.
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/tower-nextauth-load-baseline
  tree=$cache/$rev
  if [ ! -d "$tree" ]; then
    mkdir -p "$cache"
    git worktree add -f --detach "$tree" "$rev" >/dev/null 2>&1 || { git worktree prune; git worktree add -f --detach "$tree" "$rev" >/dev/null; }
  fi
  cp examples/hyper.rs "$tree/examples/hyper.rs"
  if ! grep -q "pub fn session_cache" "$tree"/src/*.rs "$tree"/src/*/*.rs 2>/dev/null; then
    # No cache at that revision: drop the example's `--no-cache` branch (4 lines).
    sed -i '/if args.no_cache {/,/^    }$/d' "$tree/examples/hyper.rs"
  fi
  (cd "$tree" && CARGO_TARGET_DIR="$cache/target" cargo build -q --release --example hyper)
  base_bin=$cache/target/release/examples/hyper
  echo "baseline: $BASELINE ($rev), its library with this tree's hyper example"
fi

tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# Sessions: line 1 is the single session (and the unseen case's warm-up), lines 1..$cycling
# the cycling set, lines 2..$pool+1 the unseen pool.
need=$((cycling > 1 ? cycling : 1))
for c in "${cases[@]}"; do [ "$c" != unseen ] || need=$((pool + 1 > need ? pool + 1 : need)); done
env -u NEXTAUTH_SECRET -u AUTH_SECRET -u NEXTAUTH_URL -u AUTH_URL "$bin" --mint "$need" \
  2>/dev/null >"$tmp/all"
[ "$(wc -l <"$tmp/all")" -eq "$need" ] || { echo "load.sh: minting failed" >&2; exit 1; }
head -n 1 "$tmp/all" >"$tmp/single"
head -n "$cycling" "$tmp/all" >"$tmp/cycling"
sed -n "2,$((pool + 1))p" "$tmp/all" >"$tmp/unseen"

# wrk: each request the next Cookie value of the file, requests formatted once at start-up.
write_rotate_lua "$tmp/rotate.lua"

results=$tmp/results # case mode round rps p50us p99us maxus requests rss_before rss_after cpu% us/req
run() { # $1 = case, $2 = bare|layer|base|burn, $3 = round
  local case=$1 mode=$2 round=$3 flags=() server=$bin
  case $mode in
    bare) flags=(--no-auth) ;;
    burn) flags=(--no-auth --burn "$CONTROL_BURN") ;;
    *) flags=("${layer_flags[@]}") ;;
  esac
  [ "$mode" = base ] && server=$base_bin
  local port
  port=$(free_port)
  env -u NEXTAUTH_SECRET -u AUTH_SECRET -u NEXTAUTH_URL -u AUTH_URL PORT=$port \
    taskset -c 0 "$server" "${flags[@]}" >"$tmp/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null || { echo "load.sh: server did not start:" >&2; cat "$tmp/server.log" >&2; exit 1; }
  # Warm up (connections, allocator), then measure. The unseen case warms up on a session
  # outside its pool.
  local warm=$tmp/$case
  [ "$case" = unseen ] && warm=$tmp/single
  taskset -c 1 wrk -t1 -c"$conns" -d3s -s "$tmp/rotate.lua" "http://127.0.0.1:$port/" -- "$warm" >/dev/null
  local before ticks0 out after ticks1
  before=$(rss_kib "$pid")
  ticks0=$(cpu_ticks "$pid")
  out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$tmp/rotate.lua" \
    "http://127.0.0.1:$port/" -- "$tmp/$case")
  ticks1=$(cpu_ticks "$pid")
  after=$(rss_kib "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  if grep -q "Non-2xx" <<<"$out"; then
    echo "load.sh: $case $mode: non-2xx responses (every cookie must be accepted)" >&2
    echo "$out" >&2
    exit 1
  fi
  if grep -q "Socket errors" <<<"$out"; then
    echo "load.sh: warning: $case $mode: $(grep "Socket errors" <<<"$out" | xargs)" >&2
  fi
  local rps mean p50 p99 max reqs cpu per
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  # wrk's "Latency  avg stdev max" line, not its "Latency Distribution" header.
  read -r mean max <<<"$(awk '$1=="Latency" && $2 ~ /^[0-9]/ {print $2, $4}' <<<"$out")"
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  if [ -z "$rps" ] || [ -z "$reqs" ]; then
    echo "load.sh: $case $mode: could not read wrk's output:" >&2
    echo "$out" >&2
    exit 1
  fi
  cpu=$(awk -v t="$((ticks1 - ticks0))" -v hz="$(getconf CLK_TCK)" -v s="$secs" 'BEGIN { printf "%.0f", 100 * t / hz / s }')
  per=$(awk -v t="$((ticks1 - ticks0))" -v hz="$(getconf CLK_TCK)" -v n="$reqs" 'BEGIN { printf "%.2f", 1e6 * t / hz / n }')
  local note=
  [ "$cpu" -ge 85 ] || note="  (server below 85% of its CPU: other work on the machine, or wrk, held it back)"
  printf '%-8s %-6s #%s %10s req/s  mean %-8s p50 %-8s p99 %-8s max %-8s requests %-9s RSS KiB %s -> %s  server CPU %s%%, %s us/req%s\n' \
    "$case" "$mode" "$round" "$rps" "$mean" "$p50" "$p99" "$max" "$reqs" "$before" "$after" "$cpu" "$per" "$note"
  echo "$case $mode $round $rps $(to_us "$p50") $(to_us "$p99") $(to_us "$max") $reqs $before $after $cpu $per" >>"$results"
}

echo "hyper example, $conns connections, ${secs}s per run, $rounds rounds, $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on this machine makes the figures noisy)"
echo "sessions: cycling $cycling, unseen pool $pool; layer flags: ${LAYER_FLAGS:-(none)}${CONTROL_BURN:+; control: bare with --burn $CONTROL_BURN}"
# A run whose server got less than 85% of CPU 0 was disturbed (this machine is shared); it is
# repeated, up to $RETRIES times per case, and every run counts towards the best-of.
retries_left=0
attempt() { # $1 = case, $2 = mode, $3 = round
  run "$@"
  while [ "$(tail -n 1 "$results" | awk '{print $11}')" -lt 85 ] && [ "$retries_left" -gt 0 ]; do
    retries_left=$((retries_left - 1))
    run "$1" "$2" "$3+"
  done
}
for case in "${cases[@]}"; do
  retries_left=${RETRIES:-2}
  for round in $(seq "$rounds"); do
    # The modes take turns going first (bare, layer, base; then layer, base, bare; ...): on a
    # machine whose speed drifts within a round, no mode always gets the first slot.
    modes=(bare layer)
    [ -z "$base_bin" ] || modes+=(base)
    [ -z "${CONTROL_BURN:-}" ] || modes+=(burn)
    for k in "${!modes[@]}"; do
      attempt "$case" "${modes[(k + round - 1) % ${#modes[@]}]}" "$round"
    done
  done
done

echo
echo "best of $rounds rounds (each figure on its own: highest req/s, lowest latencies; RSS of the best-req/s run),"
echo "then the medians over the rounds (they move less with a disturbed run), and us/req, the server's CPU time a request:"
printf '%-8s %-6s %11s %9s %9s %9s %22s %9s\n' case mode req/s p50_us p99_us max_us "RSS KiB before->after" server_CPU
for case in "${cases[@]}"; do
  awk -v c="$case" '
    function median(list,   n, i, j, t, v) {
      n = split(list, v, " ")
      for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
      return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    # "a" against "b": best-of, medians, and the median over rounds of each round pair (the run
    # of a against the run of b in the same round, the steadiest figure on a drifting machine).
    function compare(a, b,   r, tp, pp, dp) {
      tp = pp = dp = ""
      for (r in rounds) if (((a, r) in by) && ((b, r) in by)) {
        tp = tp " " by[a, r] / by[b, r]; pp = pp " " p99by[a, r] / p99by[b, r]; dp = dp " " (usby[a, r] - usby[b, r])
      }
      printf "%-8s %s/%s: throughput %.1f%% (medians %.1f%%, paired %.1f%%); p99 %.2fx (medians %.2fx, paired %.2fx); p50 %.2fx; server CPU %+.2f us/req (paired median)\n", c, a, b, 100 * rps[a] / rps[b], 100 * median(all[a]) / median(all[b]), 100 * median(tp), p99[a] / p99[b], median(p99s[a]) / median(p99s[b]), median(pp), p50[a] / p50[b], median(dp)
    }
    $1 == c {
      m = $2
      r = $3; sub(/\+.*/, "", r); rounds[r] = 1
      all[m] = all[m] " " $4; p99s[m] = p99s[m] " " $6; uss[m] = uss[m] " " $12
      # A retried round keeps its best run.
      if (!((m, r) in by) || $4 > by[m, r]) { by[m, r] = $4; p99by[m, r] = $6; usby[m, r] = $12 }
      if (!(m in rps) || $4 > rps[m]) { rps[m] = $4; rss[m] = $9 "->" $10; cpu[m] = $11 }
      if (!(m in p50) || $5 < p50[m]) p50[m] = $5
      if (!(m in p99) || $6 < p99[m]) p99[m] = $6
      if (!(m in mx) || $7 < mx[m]) mx[m] = $7
    }
    END {
      n = split("bare layer base burn", modes, " ")
      for (k = 1; k <= n; k++) { m = modes[k]
        if (!(m in rps)) continue
        printf "%-8s %-6s %11.0f %9d %9d %9d %22s %8s%%   medians: %.0f req/s, p99 %d us, %.2f us/req\n", c, m, rps[m], p50[m], p99[m], mx[m], rss[m], cpu[m], median(all[m]), median(p99s[m]), median(uss[m]) }
      compare("layer", "bare")
      if ("base" in rps) compare("layer", "base")
      if ("burn" in rps) compare("burn", "bare")
    }' "$results"
done
