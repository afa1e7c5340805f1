#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the database-session tests (tests/postgres).
#
#   scripts/postgres.sh start DIR        initdb into DIR if it is empty, start the server, create
#                                        the database; prints DATABASE_URL=… and PGDATA=…
#   scripts/postgres.sh stop DIR         stop it (fast shutdown); a stopped cluster is fine
#   scripts/postgres.sh restart DIR      stop, then start
#   scripts/postgres.sh url DIR          print the DATABASE_URL again
#   scripts/postgres.sh pgctl DIR ARGS…  pg_ctl -D DIR ARGS…, as the cluster's owner (`stop -m fast`,
#                                        `start`, `status`); `start` logs to DIR/postgres.log
#
# Installs Debian's `postgresql` when the server binaries are missing. The server listens on
# 127.0.0.1 (a free port from 54320 up) and on a socket in DIR. Local socket connections are
# trusted; TCP needs the `postgres` role's password, a random one written to DIR/password and
# put into the URL. Durability is off (fsync, full_page_writes): the data is disposable.
# `pg_stat_statements` is preloaded, so the tests can count the statements they cause.
# initdb and pg_ctl refuse to run as root: as root, the cluster belongs to the `postgres` user.
set -euo pipefail

DB_NAME=tower_nextauth

usage() {
  sed -n '2,10p' "$0" >&2
  exit 2
}

bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return
    fi
  done
  if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
    dirname "$(command -v pg_ctl)"
    return
  fi
  return 1
}

ensure_installed() {
  if bindir >/dev/null; then
    return
  fi
  echo "installing Debian's postgresql for the database-session tests" >&2
  local sudo_=""
  [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq postgresql >/dev/null
  bindir >/dev/null || { echo "postgresql installed, but no initdb/pg_ctl found" >&2; exit 1; }
}

# Runs a command as the cluster's owner: `postgres` when we are root, ourselves otherwise.
# From /, which the owner can always enter (initdb fails in a directory it cannot read).
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

absolute() {
  mkdir -p "$1"
  (cd "$1" && pwd)
}

pgctl() {
  local dir
  dir=$(absolute "$1")
  shift
  local bin
  bin=$(bindir)
  if [ "${1:-}" = start ]; then
    shift
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/postgres.log" -w -t 30 start "$@" >/dev/null
  else
    as_owner "$bin/pg_ctl" -D "$dir" "$@"
  fi
}

port_of() {
  sed -n "s/^port = \([0-9]*\).*/\1/p" "$1/postgresql.conf" | tail -1
}

url_of() {
  local dir=$1
  echo "postgres://postgres:$(cat "$dir/password")@127.0.0.1:$(port_of "$dir")/$DB_NAME"
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

init() {
  local dir=$1 bin
  bin=$(bindir)
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
  fi
  chmod 700 "$dir"
  local pwfile
  pwfile=$(mktemp)
  od -An -tx1 -N12 /dev/urandom | tr -d ' \n' >"$pwfile"
  chmod 644 "$pwfile"
  as_owner "$bin/initdb" -D "$dir" -U postgres --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-locale >/dev/null
  # The password, for the URL; readable by the owner only (and root).
  as_owner cp "$pwfile" "$dir/password"
  as_owner chmod 600 "$dir/password"
  rm -f "$pwfile"
  cat <<EOF | as_owner tee -a "$dir/postgresql.conf" >/dev/null
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_preload_libraries = 'pg_stat_statements'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

start() {
  local dir=$1
  ensure_installed
  dir=$(absolute "$dir")
  if [ ! -f "$dir/PG_VERSION" ]; then
    init "$dir"
  fi
  if ! pgctl "$dir" status >/dev/null 2>&1; then
    local port tries=0
    port=$(port_of "$dir")
    while :; do
      if [ -z "$port" ]; then
        port=$((54320 + RANDOM % 200))
        until port_free "$port"; do port=$((port + 1)); done
        echo "port = $port" | as_owner tee -a "$dir/postgresql.conf" >/dev/null
      fi
      if pgctl "$dir" start; then
        break
      fi
      tries=$((tries + 1))
      if [ "$tries" -ge 5 ] || port_free "$port"; then
        echo "postgres did not start; its log:" >&2
        tail -20 "$dir/postgres.log" >&2 || true
        exit 1
      fi
      # The port was taken meanwhile: pick another.
      as_owner sed -i '/^port = /d' "$dir/postgresql.conf"
      port=""
    done
  fi
  if ! as_owner "$(bindir)/psql" -h "$dir" -p "$(port_of "$dir")" -U postgres -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
    as_owner "$(bindir)/createdb" -h "$dir" -p "$(port_of "$dir")" -U postgres "$DB_NAME"
  fi
  echo "DATABASE_URL=$(url_of "$dir")"
  echo "PGDATA=$dir"
}

stop() {
  local dir=$1
  [ -f "$dir/PG_VERSION" ] || return 0
  dir=$(absolute "$dir")
  if pgctl "$dir" status >/dev/null 2>&1; then
    pgctl "$dir" stop -m fast -w >/dev/null
  fi
}

[ $# -ge 2 ] || usage
command=$1
dir=$2
shift 2
case "$command" in
  start) start "$dir" ;;
  stop) stop "$dir" ;;
  restart) stop "$dir" && start "$dir" ;;
  url) url_of "$(absolute "$dir")" ;;
  pgctl) pgctl "$dir" "$@" ;;
  *) usage ;;
esac
