//! The `authorized` predicate: the decision, the sync and async traits with their blanket
//! implementations for closures (as tower-http's `ValidateRequest`), and the default.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, Response};
use pin_project_lite::pin_project;

use crate::token::Token;

/// What `authorized` decided for one request.
///
/// `bool` converts into it: `true` is [`Allow`](Decision::Allow), `false` is
/// [`Deny`](Decision::Deny).
#[derive(Debug)]
#[non_exhaustive]
pub enum Decision {
    /// Let the request through; its token (if any) is in the request extensions.
    Allow,
    /// Turn it away as the situation says: [`Unauthenticated`](Decision::Unauthenticated) without
    /// a valid session, [`Forbidden`](Decision::Forbidden) with one.
    Deny,
    /// Turn it away as not signed in: a sign-in redirect for browsers, 401 for APIs,
    /// `grpc-status: 16` for gRPC.
    Unauthenticated,
    /// Turn it away as not allowed: 403 for browsers and APIs, `grpc-status: 7` for gRPC. Never a
    /// redirect back to sign-in, which loops for a signed-in user (nextauthjs/next-auth#4787).
    Forbidden,
    /// Send a `307` to this location (v5's `NextResponse.redirect` from `authorized`).
    Redirect(HeaderValue),
    /// Send this response as it is (v5's `authorized` returning a `Response`). The layer's
    /// renderer moves it into the service's body type ([`Render::respond`](crate::render::Render::respond)).
    Respond(Response<Bytes>),
}

impl From<bool> for Decision {
    fn from(allow: bool) -> Self {
        if allow {
            Decision::Allow
        } else {
            Decision::Deny
        }
    }
}

/// Decides whether a request may pass: `callbacks.authorized({ req, token })`.
///
/// Implement it for a type of your own, or pass a closure to
/// [`AuthLayer::authorized`](crate::AuthLayer::authorized): every
/// `Fn(&Parts, Option<&Token<C>>) -> impl Into<Decision>` is an `Authorize<C>`.
///
/// ```
/// use http::request::Parts;
/// use tower_nextauth::{Authorize, Decision, Token};
///
/// /// Admins only; everyone else signed in gets a 403.
/// struct Admin;
///
/// impl Authorize for Admin {
///     fn authorize(&self, _request: &Parts, token: Option<&Token>) -> Decision {
///         match token {
///             None => Decision::Unauthenticated,
///             Some(t) if t["role"] == "admin" => Decision::Allow,
///             Some(_) => Decision::Forbidden,
///         }
///     }
/// }
///
/// let (parts, ()) = http::Request::new(()).into_parts();
/// assert!(matches!(Admin.authorize(&parts, None), Decision::Unauthenticated));
/// ```
pub trait Authorize<C = crate::token::Claims>: Send + Sync + 'static {
    /// Decides for the request head `request` and its session `token` (`None` when the request has
    /// no valid session).
    fn authorize(&self, request: &Parts, token: Option<&Token<C>>) -> Decision;
}

/// The default predicate: a valid token is enough (`!!token` in `withAuth`).
///
/// ```
/// use tower_nextauth::{Authorize, Claims, Decision, HasToken};
///
/// let (parts, ()) = http::Request::new(()).into_parts();
/// assert!(matches!(Authorize::<Claims>::authorize(&HasToken, &parts, None), Decision::Deny));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct HasToken;

impl<C> Authorize<C> for HasToken {
    fn authorize(&self, _request: &Parts, token: Option<&Token<C>>) -> Decision {
        token.is_some().into()
    }
}

impl<C, F, R> Authorize<C> for F
where
    F: Fn(&Parts, Option<&Token<C>>) -> R + Send + Sync + 'static,
    R: Into<Decision>,
{
    fn authorize(&self, request: &Parts, token: Option<&Token<C>>) -> Decision {
        self(request, token).into()
    }
}

/// An asynchronous `authorized`, for a database or revocation lookup.
///
/// The returned future must not borrow the request or the token: copy out what the lookup needs
/// (a `jti`, a user id) before the `async` block. Every
/// `Fn(&Parts, Option<&Token<C>>) -> impl Future<Output = impl Into<Decision>>` is an
/// `AsyncAuthorize<C>`; see [`AuthLayer::authorized_async`](crate::AuthLayer::authorized_async).
pub trait AsyncAuthorize<C = crate::token::Claims>: Send + Sync + 'static {
    /// The decision, once known.
    type Future: Future<Output = Decision>;

    /// Starts deciding for `request` and `token`.
    fn authorize(&self, request: &Parts, token: Option<&Token<C>>) -> Self::Future;
}

impl<C, F, Fut> AsyncAuthorize<C> for F
where
    F: Fn(&Parts, Option<&Token<C>>) -> Fut + Send + Sync + 'static,
    Fut: Future,
    Fut::Output: Into<Decision>,
{
    type Future = DecisionFuture<Fut>;

    fn authorize(&self, request: &Parts, token: Option<&Token<C>>) -> Self::Future {
        DecisionFuture::new(self(request, token))
    }
}

/// A synchronous `authorized` predicate used where the layer is asynchronous: what
/// [`AuthLayer::jwt`](crate::AuthLayer::jwt) turns the layer's predicate into. Its future is
/// ready at once.
pub struct SyncAuthorize<A>(pub(crate) Arc<A>);

impl<A> Clone for SyncAuthorize<A> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<A> std::fmt::Debug for SyncAuthorize<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncAuthorize").finish_non_exhaustive()
    }
}

impl<C, A: Authorize<C>> AsyncAuthorize<C> for SyncAuthorize<A> {
    type Future = std::future::Ready<Decision>;

    fn authorize(&self, request: &Parts, token: Option<&Token<C>>) -> Self::Future {
        std::future::ready(self.0.authorize(request, token))
    }
}

pin_project! {
    /// The future of an async `authorized` closure, its output converted into a [`Decision`].
    pub struct DecisionFuture<F> {
        #[pin]
        future: F,
    }
}

impl<F> DecisionFuture<F> {
    pub(crate) fn new(future: F) -> Self {
        Self { future }
    }
}

impl<F> Future for DecisionFuture<F>
where
    F: Future,
    F::Output: Into<Decision>,
{
    type Output = Decision;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Decision> {
        self.project().future.poll(cx).map(Into::into)
    }
}

impl<F> std::fmt::Debug for DecisionFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecisionFuture").finish_non_exhaustive()
    }
}
