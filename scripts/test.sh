#!/usr/bin/env bash
# Runs every test, installing what the external tests need first: the real next-auth@4 /
# @auth/core / @auth/pg-adapter (interop/), playwright-core (e2e/), Debian's Chromium, and a
# throw-away PostgreSQL cluster (scripts/postgres.sh, stopped and removed on exit).
#
# `cargo test --features axum,tracing,jose,tonic,postgres` runs the unit tests, the doc tests and
# the test binaries: `tests/it` (offline; `cargo test --test it` alone needs neither Node nor
# Chromium), `tests/external` (Node and Chromium) and `tests/postgres` (the cluster, through
# TOWER_NEXTAUTH_DATABASE_URL / TOWER_NEXTAUTH_PGDATA, and Node); then the tonic demo's tests
# (a workspace member). Every feature but `jose-vendored`, which only changes how OpenSSL is
# linked and would build it from source. Extra arguments are passed on to the root package's
# `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null; then
  echo "npm is missing: install Node.js 20 or later (the external tests run the real next-auth)" >&2
  exit 1
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium for the browser test" >&2
  sudo_="" ; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq chromium >/dev/null
fi
npm ci --prefix interop --no-audit --no-fund
npm ci --prefix e2e --no-audit --no-fund
pgdata=$(mktemp -d "${TMPDIR:-/tmp}/tower-nextauth-pg.XXXXXX")
trap 'bash scripts/postgres.sh stop "$pgdata" >/dev/null 2>&1 || true; rm -rf "$pgdata"' EXIT
cluster=$(bash scripts/postgres.sh start "$pgdata")
export TOWER_NEXTAUTH_DATABASE_URL="$(sed -n 's/^DATABASE_URL=//p' <<<"$cluster")"
export TOWER_NEXTAUTH_PGDATA="$(sed -n 's/^PGDATA=//p' <<<"$cluster")"
cargo test --features axum,tracing,jose,tonic,postgres "$@"
cargo test -p tower-nextauth-tonic-example
