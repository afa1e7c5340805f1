#!/usr/bin/env bash
# Runs every test, installing what the external tests need first: the real next-auth@4 /
# @auth/core (interop/), playwright-core (e2e/) and Debian's Chromium.
#
# `cargo test --features axum,tracing,jose,tonic` runs the unit tests, the doc tests and both
# test binaries: `tests/it` (offline; `cargo test --test it` alone needs neither Node nor
# Chromium) and `tests/external` (Node and Chromium); then the tonic demo's tests (a workspace
# member). Every feature but `jose-vendored`, which only changes how OpenSSL is linked and would
# build it from source. Extra arguments are passed on to the root package's `cargo test`.
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
cargo test --features axum,tracing,jose,tonic "$@"
cargo test -p tower-nextauth-tonic-example
