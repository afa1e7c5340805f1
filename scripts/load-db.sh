#!/usr/bin/env bash
# Load test of database sessions (README "Performance", issue 14): the quickstart on database
# sessions (`AuthLayer::database`, PostgreSQL, the store's 5 s cache on) against the same binary
# on JWT sessions, both serving `GET /api/me` (a guarded JSON route) to wrk, 1,000 distinct
# sessions cycled request after request.
#   bash scripts/load-db.sh [seconds per run] [connections]
#
# - A throw-away cluster (scripts/postgres.sh, with pg_stat_statements) in a temporary
#   directory, stopped and removed on exit. The quickstart's database gets the adapter's schema
#   (`database::SCHEMA`, as src/database.rs has it: no index on "sessionToken") and 1,000 users,
#   each with a session expiring in 29.5 days, so no sliding `UPDATE` (due 1 day after the last
#   extension) happens during the run.
# - The JWT run uses 1,000 cookies minted by `examples/hyper.rs --mint 1000` (~270 B of claims
#   each) under a secret both binaries are given.
# - The server on CPU 0, wrk on CPU 1 (PostgreSQL is not pinned), RUST_LOG=warn. Every run
#   starts a fresh server, warms it up for 3 s, then measures. $ROUNDS (2) rounds, alternating
#   JWT and database; the summary takes the best of each figure.
# - Around each measured database run the script reads `calls` of the lookup statement
#   (`SELECT … FROM sessions s JOIN users u …`) and of every statement in the database from
#   pg_stat_statements, and reports them per second and as a share of requests.
#
# Fails (non-zero) on any non-2xx response, or when the lookups per second reach 1% of the
# requests per second in any database run.
# Environment: ROUNDS (2), SESSIONS (1000).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
conns=${2:-64}
rounds=${ROUNDS:-2}
sessions=${SESSIONS:-1000}
die() { echo "load-db.sh: $*" >&2; exit 1; }

. scripts/wrk-lib.sh
wrk_setup load-db.sh
command -v psql >/dev/null || die "psql is required (Debian's postgresql-client)"

work=$(mktemp -d)
# The cluster's owner (postgres, when we are root) must reach its data directory inside.
chmod 755 "$work"
pgdir=$work/pg
pid=
cleanup() {
  local status=$?
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  bash scripts/postgres.sh stop "$pgdir" >/dev/null 2>&1 ||
    echo "load-db.sh: could not stop the cluster in $pgdir" >&2
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building the quickstart (release, axum,tracing,postgres) and the hyper example (to mint JWTs)" >&2
cargo build -q --release --example quickstart --features axum,tracing,postgres
cargo build -q --release --example hyper
bin=target/release/examples/quickstart

# One secret for the minted JWTs and the quickstart; no app URL (plain `authjs.session-token`).
secret="load-db-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
clean_env=(env -u NEXTAUTH_SECRET -u AUTH_SECRET -u AUTH_SECRET_1 -u AUTH_SECRET_2 -u AUTH_SECRET_3
  -u NEXTAUTH_URL -u AUTH_URL -u DATABASE_URL -u ADMIN_EMAILS NEXTAUTH_SECRET="$secret")

# ---- The cluster, the schema, the sessions ----
started=$(bash scripts/postgres.sh start "$pgdir") || die "scripts/postgres.sh could not start a cluster"
db_url=$(sed -n 's/^DATABASE_URL=//p' <<<"$started")
[ -n "$db_url" ] || die "scripts/postgres.sh printed no DATABASE_URL"
sql() { psql -X -q -v ON_ERROR_STOP=1 -tA "$db_url" "$@"; }

schema=$(sed -n '/^pub const SCHEMA: &str = r#"/,/^"#;$/p' src/database.rs | sed '1s/^.*r#"//; $d')
grep -q 'CREATE TABLE sessions' <<<"$schema" || die "could not read database::SCHEMA from src/database.rs"
sql -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
sql <<<"$schema" >/dev/null
sql >/dev/null <<EOF
INSERT INTO users (name, email)
  SELECT 'Load Test ' || lpad(i::text, 7, '0'), 'load.test.' || lpad(i::text, 7, '0') || '@example.com'
  FROM generate_series(1, $sessions) AS i;
INSERT INTO sessions ("userId", expires, "sessionToken")
  SELECT id, now() + interval '29.5 days', gen_random_uuid()::text FROM users ORDER BY id;
ANALYZE;
EOF
sql -c 'SELECT '\''authjs.session-token='\'' || "sessionToken" FROM sessions ORDER BY id' >"$work/database.cookies"
[ "$(wc -l <"$work/database.cookies")" -eq "$sessions" ] || die "expected $sessions session rows"

"${clean_env[@]}" target/release/examples/hyper --mint "$sessions" 2>/dev/null >"$work/jwt.cookies" ||
  die "examples/hyper.rs --mint $sessions failed"
[ "$(wc -l <"$work/jwt.cookies")" -eq "$sessions" ] ||
  die "examples/hyper.rs --mint $sessions printed $(wc -l <"$work/jwt.cookies") cookies, not $sessions"

# pg_stat_statements of the quickstart's database: the lookup's calls, and every statement's
# except these measuring queries (which name pg_stat_statements).
calls() {
  sql -c "SELECT coalesce(sum(calls) FILTER (WHERE query LIKE '%FROM sessions s JOIN users u%'), 0)::bigint,
                 coalesce(sum(calls) FILTER (WHERE query NOT LIKE '%pg_stat_statements%'), 0)::bigint
          FROM pg_stat_statements
          WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())" | tr '|' ' '
}

# wrk: each request the next Cookie value of the file, requests formatted once at start-up.
write_rotate_lua "$work/rotate.lua"

results=$work/results # mode round rps p50us p99us maxus requests lookups/s statements/s lookup% cpu%
failed=0
run() { # $1 = jwt|database, $2 = round
  local mode=$1 round=$2 port
  port=$(free_port)
  local server_env=("${clean_env[@]}" RUST_LOG=warn PORT=$port)
  [ "$mode" = database ] && server_env+=(DATABASE_URL="$db_url")
  "${server_env[@]}" taskset -c 0 "$bin" >"$work/server.out" 2>"$work/server.err" &
  pid=$!
  for _ in $(seq 100); do
    [ -s "$work/server.out" ] && curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! kill -0 "$pid" 2>/dev/null || ! grep -q "listening on http://127.0.0.1:$port" "$work/server.out"; then
    cat "$work/server.out" "$work/server.err" >&2
    die "$mode: the quickstart did not start"
  fi
  case $mode in
    database) grep -q "database sessions" "$work/server.out" || die "the quickstart is not on database sessions" ;;
    jwt) grep -q "JWT sessions" "$work/server.out" || die "the quickstart is not on JWT sessions" ;;
  esac
  # One request by hand: the first session must be accepted, with the claims of its mode.
  local cookie body
  cookie=$(head -n 1 "$work/$mode.cookies")
  body=$(curl -sf -H "Cookie: $cookie" "http://127.0.0.1:$port/api/me") ||
    die "$mode: GET /api/me with the first session was refused"
  case $mode in
    database) grep -q '"user":{' <<<"$body" || die "database: unexpected /api/me body: $body" ;;
    jwt) grep -q '"name":"Load Test' <<<"$body" || die "jwt: unexpected /api/me body: $body" ;;
  esac
  local url="http://127.0.0.1:$port/api/me"
  # Warm-up: connections, the allocator, the pool and the caches (every session seen once).
  taskset -c 1 wrk -t1 -c"$conns" -d3s -s "$work/rotate.lua" "$url" -- "$work/$mode.cookies" >"$work/warm.out"
  if grep -q "Non-2xx" "$work/warm.out"; then
    cat "$work/warm.out" >&2
    die "$mode: non-2xx responses during the warm-up (every session must be accepted)"
  fi
  local lookups0 statements0 lookups1 statements1 ticks0 ticks1 out
  local snapshot
  snapshot=$(calls)
  read -r lookups0 statements0 <<<"$snapshot"
  ticks0=$(cpu_ticks "$pid")
  out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$work/rotate.lua" "$url" -- "$work/$mode.cookies")
  ticks1=$(cpu_ticks "$pid")
  snapshot=$(calls)
  read -r lookups1 statements1 <<<"$snapshot"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  if grep -q "Non-2xx" <<<"$out"; then
    echo "$out" >&2
    die "$mode: non-2xx responses (every session must be accepted)"
  fi
  if grep -q "Socket errors" <<<"$out"; then
    echo "load-db.sh: warning: $mode: $(grep "Socket errors" <<<"$out" | xargs)" >&2
  fi
  local rps p50 p99 max reqs cpu lps sps pct
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  max=$(awk '$1=="Latency" && $2 ~ /^[0-9]/ {print $4}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  [ -n "$rps" ] && [ -n "$reqs" ] || { echo "$out" >&2; die "$mode: could not read wrk's output"; }
  cpu=$(awk -v t="$((ticks1 - ticks0))" -v hz="$(getconf CLK_TCK)" -v s="$secs" 'BEGIN { printf "%.0f", 100 * t / hz / s }')
  lps=$(awk -v n="$((lookups1 - lookups0))" -v s="$secs" 'BEGIN { printf "%.1f", n / s }')
  sps=$(awk -v n="$((statements1 - statements0))" -v s="$secs" 'BEGIN { printf "%.1f", n / s }')
  pct=$(awk -v q="$((lookups1 - lookups0))" -v r="$reqs" 'BEGIN { printf "%.3f", 100 * q / r }')
  printf '%-8s #%s %10s req/s  p50 %-8s p99 %-8s max %-8s requests %-9s lookups %6s/s  statements %6s/s  lookups/requests %6s%%  server CPU %s%%\n' \
    "$mode" "$round" "$rps" "$p50" "$p99" "$max" "$reqs" "$lps" "$sps" "$pct" "$cpu"
  echo "$mode $round $rps $(to_us "$p50") $(to_us "$p99") $(to_us "$max") $reqs $lps $sps $pct $cpu" >>"$results"
  if [ "$mode" = database ] && awk -v p="$pct" 'BEGIN { exit !(p >= 1) }'; then
    echo "load-db.sh: database #$round: lookups are $pct% of requests (limit: below 1%); with" \
      "$sessions sessions and the 5 s cache they are ~$((sessions / 5))/s whatever the load, so this" \
      "needs more than $((sessions * 20)) req/s (the server had $cpu% of CPU 0)" >&2
    failed=1
  fi
  if [ "$mode" = jwt ] && [ "$lookups1" -ne "$lookups0" ]; then
    die "jwt: the database was queried during the JWT run"
  fi
}

echo "quickstart GET /api/me, $conns connections, ${secs}s per run, $rounds rounds, $sessions sessions cycled; $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "PostgreSQL $(sql -c 'SHOW server_version'), cache_ttl 5 s (the default), pool 10 (the default), no index on \"sessionToken\""
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on this machine makes the figures noisy)"
if pgrep -x wrk >/dev/null; then
  echo "load-db.sh: warning: another wrk is running on this machine; the figures will be low" >&2
fi
for round in $(seq "$rounds"); do
  run jwt "$round"
  run database "$round"
done

echo
echo "best of $rounds rounds (each figure on its own: highest req/s, lowest latencies; DB figures of the best-req/s run):"
printf '%-9s %11s %9s %9s %9s %10s %13s %9s %11s\n' mode req/s p50_us p99_us max_us lookups/s statements/s lookups% server_CPU
awk '
  {
    m = $1
    if (!(m in rps) || $3 > rps[m]) { rps[m] = $3; lps[m] = $8; sps[m] = $9; pct[m] = $10; cpu[m] = $11 }
    if (!(m in p50) || $4 < p50[m]) p50[m] = $4
    if (!(m in p99) || $5 < p99[m]) p99[m] = $5
    if (!(m in mx) || $6 < mx[m]) mx[m] = $6
  }
  END {
    split("jwt database", modes, " ")
    for (k = 1; k <= 2; k++) { m = modes[k]
      printf "%-9s %11.0f %9d %9d %9d %10s %13s %8s%% %10s%%\n", m, rps[m], p50[m], p99[m], mx[m], lps[m], sps[m], pct[m], cpu[m] }
    printf "database/jwt: throughput %.1f%%, p50 %.2fx, p99 %.2fx\n", 100 * rps["database"] / rps["jwt"], p50["database"] / p50["jwt"], p99["database"] / p99["jwt"]
  }' "$results"
if [ "$failed" -ne 0 ]; then
  die "the database was asked 1% of the requests or more in some run (see above)"
fi
echo "OK: no non-2xx response; lookups stayed below 1% of requests in every database run"
