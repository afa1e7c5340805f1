# Shared by the wrk-driven scripts (load.sh, load-db.sh, rss.sh); sourced, not run.
#   wrk_setup NAME [TOOL ...]   installs wrk when missing (Debian's package), checks that wrk,
#                               taskset, curl and every TOOL exist, and that there are 2 CPUs
#                               (server on 0, wrk on 1); on failure says so as NAME and exits 1
#   write_rotate_lua FILE       the wrk script: each request carries the next line of a file as
#                               its Cookie header, requests formatted once at start-up. wrk's
#                               arguments after `--`: the file, then optionally a request count
#                               at which the thread stops and creates a flag file (0: never), the
#                               flag file's path, and how many times in a row each line is sent (1)
#   free_port                   a loopback TCP port for a test server: below the kernel's
#                               ephemeral range (which wrk's own connections take ports from, so
#                               a port above it can be taken by the time the server binds it) and
#                               with nothing listening on it
#   rss_kib PID / cpu_ticks PID / to_us FIGURE   a process's RSS in KiB, its user+system clock
#                               ticks, and one of wrk's latency figures (123.45us, 1.30ms, 2.00s)
#                               in microseconds

wrk_setup() {
  local name=$1 tool
  shift
  command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } || true
  for tool in wrk taskset curl "$@"; do
    command -v "$tool" >/dev/null || { echo "$name: $tool is required" >&2; exit 1; }
  done
  [ "$(nproc)" -ge 2 ] || { echo "$name: needs 2 CPUs (server on 0, wrk on 1)" >&2; exit 1; }
}

write_rotate_lua() {
  cat >"$1" <<'EOF'
local requests, n, i, sent, limit, flag, repeat_ = {}, 0, 0, 0, 0, nil, 1
function init(args)
  for line in io.lines(args[1]) do
    n = n + 1
    requests[n] = wrk.format(nil, nil, { ["Cookie"] = line })
  end
  assert(n > 0, "no cookies in " .. args[1])
  limit, flag, repeat_ = tonumber(args[2] or "0"), args[3], tonumber(args[4] or "1")
end
function request()
  sent = sent + 1
  if sent == limit then
    io.open(flag, "w"):close()
    wrk.thread:stop()
  end
  i = i % (n * repeat_) + 1
  return requests[math.floor((i - 1) / repeat_) + 1]
end
EOF
}

free_port() {
  local low port
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$low" -gt 11024 ] 2>/dev/null || low=32768
  for _ in $(seq 100); do
    port=$((10000 + RANDOM % (low - 10000)))
    # A refused connection: nothing listens there.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  echo "free_port: no free port below $low" >&2
  return 1
}

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
to_us() {
  awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
    printf "%.0f", n * (u == "s" ? 1e6 : u == "ms" ? 1e3 : u == "m" ? 6e7 : 1) }'
}
