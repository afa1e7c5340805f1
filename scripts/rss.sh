#!/usr/bin/env bash
# Memory under many sessions (issue 13): the hyper example with AuthLayer on CPU 0, wrk on CPU 1
# sending $1 requests that cycle through $2 distinct valid v5 sessions, the server's RSS sampled
# every $3 seconds. Prints the samples, then the largest deviation of the last 3/4 of them from
# their mean (the first quarter is warm-up: connections, allocator, any cache filling up).
# Target: flat within ±5%; exits 1 when it is not.
#   bash scripts/rss.sh [requests=2000000] [sessions=100000] [interval seconds=2] [connections=64]
# Each session is sent $REPEAT (2) times in a row: the cache stores a token the second time it
# sees it, so every session is stored and the cache fills to its bound and evicts from then on.
# LAYER_FLAGS passes extra flags to the server (e.g. --no-cache).
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-2000000}
sessions=${2:-100000}
interval=${3:-2}
conns=${4:-64}
repeat=${REPEAT:-2}
read -r -a layer_flags <<<"${LAYER_FLAGS:-}"

. scripts/wrk-lib.sh
wrk_setup rss.sh
cargo build -q --release --example hyper
bin=target/release/examples/hyper

tmp=$(mktemp -d)
pid=
sampler=
wrk_pid=
cleanup() {
  if [ -n "$wrk_pid" ]; then kill "$wrk_pid" 2>/dev/null || true; fi
  if [ -n "$sampler" ]; then kill "$sampler" 2>/dev/null || true; fi
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

env -u NEXTAUTH_SECRET -u AUTH_SECRET -u NEXTAUTH_URL -u AUTH_URL "$bin" --mint "$sessions" \
  2>/dev/null >"$tmp/cookies"
[ "$(wc -l <"$tmp/cookies")" -eq "$sessions" ] || { echo "rss.sh: minting failed" >&2; exit 1; }

# wrk: the sessions in turn ($repeat times each), requests formatted once. After a margin over
# $requests (wrk drops the requests in flight when it stops, and asks for some it never sends)
# the thread stops and drops a file; wrk itself only finishes at the end of its duration or on
# SIGINT, which the loop below sends when it sees the file.
write_rotate_lua "$tmp/rotate.lua"

port=$(free_port)
env -u NEXTAUTH_SECRET -u AUTH_SECRET -u NEXTAUTH_URL -u AUTH_URL PORT=$port \
  taskset -c 0 "$bin" "${layer_flags[@]}" >"$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null || { echo "rss.sh: server did not start:" >&2; cat "$tmp/server.log" >&2; exit 1; }

echo "hyper example with AuthLayer (flags: ${LAYER_FLAGS:-none}): $requests requests over $sessions sessions, each $repeat times in a row, $conns connections, RSS every ${interval}s"
echo "RSS at start: $(rss_kib "$pid") KiB"
(
  start=$(date +%s.%N)
  while sleep "$interval"; do
    kb=$(rss_kib "$pid" 2>/dev/null) || exit 0
    printf '%s %s\n' "$(awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }')" "$kb"
  done
) >"$tmp/samples" &
sampler=$!
# The 1-hour duration only guards against a stall.
taskset -c 1 wrk -t1 -c"$conns" -d1h --latency -s "$tmp/rotate.lua" \
  "http://127.0.0.1:$port/" -- "$tmp/cookies" "$((requests + requests / 1000 + 2 * conns))" "$tmp/done" "$repeat" >"$tmp/wrk.out" &
wrk_pid=$!
while kill -0 "$wrk_pid" 2>/dev/null && [ ! -e "$tmp/done" ]; do sleep 0.2; done
kill -INT "$wrk_pid" 2>/dev/null || true
wait "$wrk_pid" || { echo "rss.sh: wrk failed" >&2; cat "$tmp/wrk.out" >&2; exit 1; }
wrk_pid=
out=$(cat "$tmp/wrk.out")
kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; sampler=
kill -0 "$pid" 2>/dev/null || { echo "rss.sh: the server died" >&2; cat "$tmp/server.log" >&2; exit 1; }
echo "RSS at end: $(rss_kib "$pid") KiB"
if grep -q "Non-2xx" <<<"$out"; then
  echo "rss.sh: non-2xx responses (every cookie must be accepted)" >&2; echo "$out" >&2; exit 1
fi
grep -E "requests in|Requests/sec|Socket errors" <<<"$out" | sed 's/^ */wrk: /'
echo "samples (seconds, RSS KiB):"
sed 's/^/  /' "$tmp/samples"
done_reqs=$(awk '/requests in/ {print $1}' <<<"$out")
[ "$done_reqs" -ge "$requests" ] || { echo "rss.sh: only $done_reqs requests ran" >&2; exit 1; }
awk '
  { t[NR] = $1; kb[NR] = $2 }
  END {
    if (NR < 4) { print "rss.sh: fewer than 4 samples; lower the interval or raise the requests"; exit 1 }
    first = int(NR / 4) + 1
    for (i = first; i <= NR; i++) { sum += kb[i]; n++ }
    mean = sum / n
    for (i = first; i <= NR; i++) { d = (kb[i] - mean) / mean * 100; if (d < 0) d = -d; if (d > dev) dev = d }
    printf "last %d of %d samples: mean %.0f KiB, min..max %s..%s KiB, max deviation from the mean %.2f%% (target within 5%%): %s\n",
      n, NR, mean, minof(first), maxof(first), dev, dev <= 5 ? "PASS" : "FAIL"
    exit dev <= 5 ? 0 : 1
  }
  function minof(f,   i, m) { m = kb[f]; for (i = f; i <= NR; i++) if (kb[i] < m) m = kb[i]; return m }
  function maxof(f,   i, m) { m = kb[f]; for (i = f; i <= NR; i++) if (kb[i] > m) m = kb[i]; return m }
' "$tmp/samples"
