//! Every test that runs offline: no Node, no Chromium. The committed fixtures in
//! `tests/fixtures/` were minted by the real next-auth@4 / @auth/core / `jose`, and the example
//! binaries are built with `$CARGO`. What needs Node or Chromium is in `tests/external`.
//!
//! `cargo test --test it`

mod support;

mod adversarial;
#[cfg(feature = "axum")]
mod axum;
#[cfg(feature = "axum")]
mod bypass;
mod cache;
mod csrf;
mod decide;
#[cfg(feature = "tracing")]
mod diagnostics;
mod formats;
mod hardening;
mod inspect;
#[cfg(feature = "jose")]
mod jose;
mod jwt;
mod matcher;
mod nextauth_fixtures;
#[cfg(feature = "axum")]
mod readme;
mod render;
mod session_callback;
mod topology;
mod with_auth;
mod writing;
