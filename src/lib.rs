//! Tower middleware that reads (and writes) NextAuth.js v4 and Auth.js v5 session cookies: the
//! Rust counterpart of next-auth's `withAuth`, byte-compatible with the real libraries.
//!
//! A Next.js app and Rust services (axum, hyper, tonic) on the same domain share one session
//! cookie: an encrypted JWT (JWE) keyed from the app's secret with HKDF. [`AuthLayer`] decrypts
//! it into the request extensions as a [`Token`], runs an `authorized` predicate, and lets the
//! request through, redirects it to sign-in (307 with a `callbackUrl`, as `withAuth` does), or
//! answers 403.
//!
//! ```
//! use axum::{routing::get, Extension, Router};
//! use tower_nextauth::{AuthLayer, Token};
//!
//! async fn dashboard(Extension(token): Extension<Token>) -> String {
//!     format!("Hello, {}", token["name"])
//! }
//!
//! # fn main() -> Result<(), tower_nextauth::ConfigError> {
//! # let env = |k: &str| (k == "NEXTAUTH_SECRET").then(|| "dev-secret-dev-secret-dev-secret!".to_owned());
//! // Reads NEXTAUTH_SECRET / AUTH_SECRET and NEXTAUTH_URL / AUTH_URL like next-auth does.
//! let auth = tower_nextauth::Builder::from_env_vars(env)
//!     .build()?
//!     .authorized(|req, token| match req.uri.path() {
//!         p if p.starts_with("/admin") => token.is_some_and(|t| t["role"] == "admin"),
//!         _ => token.is_some(),
//!     });
//! let app: Router = Router::new().route("/dashboard", get(dashboard)).layer(auth);
//! # let _ = app; Ok(()) }
//! ```
//!
//! # What it reads
//! - v4 tokens (`dir` + `A256GCM`, HKDF with `NextAuth.js Generated Encryption Key`) and v5
//!   tokens (`A256CBC-HS512` with a `kid`, or `A256GCM`; HKDF salted with the cookie name), with
//!   secret rotation for v5.
//! - `next-auth.session-token` / `authjs.session-token`, with `__Secure-` when the app URL is
//!   https, chunked as `name.0 … name.N`, or a custom name; `Authorization: Bearer` when there is
//!   no cookie.
//! - `exp` and `nbf` with 15 s leeway. Custom token formats plug in through [`Decoder`]; the
//!   `jose` feature adds [`jose::JwtDecoder`] for signed JWTs.
//!
//! # Feature flags
//! Every feature is off by default; the default build needs no system library.
//! - `axum`: `Token<C>` and `Option<Token<C>>` as axum extractors, rejection
//!   bodies in axum's `Body`, and matching on `OriginalUri` inside `Router::nest`.
//! - `tracing`: a `tracing` event for every rejection, with its reason and path, never token
//!   bytes; a warning when a secret, format or cookie name looks misconfigured.
//! - `tonic`: rejection bodies in tonic's body type.
//! - `jose`: `jose::JwtDecoder`, verifying HS256/384/512, RS256, ES256 and EdDSA JWTs from a
//!   secret, a PEM key or a JWK set, built on josekit (links the system OpenSSL;
//!   `jose-vendored` builds it from source).
//! - `postgres`: `database::Database`, reading and ending the sessions `@auth/pg-adapter` keeps in
//!   PostgreSQL (next-auth's `database` strategy), on tokio-postgres with a deadpool pool.
//!
//! # Security notes
//! - The session formats use RustCrypto primitives. Keys are derived once when the layer is
//!   built. Tags are verified in constant time before decryption, and every cryptographic failure
//!   is the same opaque [`SessionError::Undecryptable`], so there is no padding oracle.
//! - A missing secret is a [`ConfigError`] at build time, where next-auth would redirect every
//!   request to its error page at run time.
//! - `Debug` output never contains secrets, keys or claims; rejection reasons go into response
//!   extensions ([`Rejection`]), never into response bodies.
//! - The sign-in redirect never uses the request's `Host` header: its origin comes from the
//!   configured URL, otherwise the `Location` is path-absolute.
//! - Middleware is not the only line of defence: handlers should still check the [`Token`] they
//!   rely on.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod authorize;
mod cache;
mod callback;
mod config;
mod cookies;
pub mod csrf;
mod decide;
mod endpoint;
mod error;
mod flight;
pub mod future;
mod jwe;
mod layer;
mod matcher;
mod pathname;
mod policy;
pub mod render;
mod service;
mod sessions;
mod token;

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod database;
#[cfg(feature = "axum")]
mod extract;
#[cfg(feature = "jose")]
#[cfg_attr(docsrs, doc(cfg(feature = "jose")))]
pub mod jose;

pub use authorize::{AsyncAuthorize, Authorize, Decision, HasToken, SyncAuthorize};
pub use callback::{CallbackError, Jwt, JwtCallback};
pub use config::Builder;
pub use cookies::Limits;
pub use csrf::Csrf;
pub use endpoint::SessionEndpoint;
pub use error::{ConfigError, EncodeError, SessionError};
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use extract::TokenRejection;
pub use layer::{AsyncAuthLayer, AuthLayer};
pub use matcher::{Matcher, MatcherError};
pub use policy::{CallbackUrl, SkipMode};
pub use render::Rejection;
pub use service::{AsyncAuthService, AuthService};
pub use sessions::{Decoder, Sessions};
pub use token::{Claims, Format, Token, TokenSource};

// Compiles the README's Rust examples as doc tests, so the front page cannot rot. They are axum
// examples, written for the `axum` feature the README's install line names.
#[cfg(all(doctest, feature = "axum"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(all(doctest, feature = "axum"))]
#[doc = include_str!("../SECURITY.md")]
struct SecurityDoctests;
