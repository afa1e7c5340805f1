#!/usr/bin/env bash
# Runs every test, installing what the interop and browser tests need first:
# the real next-auth@4 / @auth/core (interop/), playwright-core (e2e/) and Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium for the browser test" >&2
  sudo_="" ; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq chromium >/dev/null
fi
npm ci --prefix interop --no-audit --no-fund
npm ci --prefix e2e --no-audit --no-fund
cargo test --all-features "$@"
