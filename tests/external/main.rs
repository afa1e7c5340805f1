//! What needs Node or Chromium: both directions against the real next-auth@4 / @auth/core and
//! the npm `jose` package (`interop/`, `npm ci --prefix interop`), and the quickstart in Debian's
//! headless Chromium (`e2e/`, `npm ci --prefix e2e`, `/usr/bin/chromium`). `scripts/test.sh`
//! installs them. A missing tool fails the test with what to install: nothing here is skipped.
//!
//! `cargo test --test external`

mod support;

mod browser;
mod interop;
mod interop_csrf;
#[cfg(feature = "jose")]
mod jose;
mod live;
mod refresh;
mod session_client;
mod topology;
