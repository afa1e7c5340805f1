//! The `authorized` predicate: the trait, the closure adapter, the default, and the decision.

use std::fmt;

use http::request::Parts;

use crate::Token;

/// What the predicate decided for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Let the request through; its token (if any) is in the request extensions.
    Allow,
    /// Turn it away. Without a session this is a sign-in redirect (307, like `withAuth`); with a
    /// session it is a 403, unless [`strict_with_auth`](crate::Builder::strict_with_auth) is set.
    Deny,
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
/// [`AuthLayer::authorized`](crate::AuthLayer::authorized).
///
/// ```
/// use http::request::Parts;
/// use tower_nextauth::{Authorize, Decision, Token};
///
/// /// Admins only.
/// struct Admin;
///
/// impl Authorize for Admin {
///     fn authorize(&self, _request: &Parts, token: Option<&Token>) -> Decision {
///         token.is_some_and(|t| t["role"] == "admin").into()
///     }
/// }
///
/// let (parts, ()) = http::Request::new(()).into_parts();
/// assert_eq!(Admin.authorize(&parts, None), Decision::Deny);
/// ```
pub trait Authorize<C = crate::Claims>: Send + Sync + 'static {
    /// Decides for the request head `request` and its session `token` (`None` when the request has
    /// no valid session).
    fn authorize(&self, request: &Parts, token: Option<&Token<C>>) -> Decision;
}

/// The default predicate: a valid token is enough (`!!token` in `withAuth`).
///
/// ```
/// use tower_nextauth::{Authorize, Decision, HasToken, Token};
///
/// let (parts, ()) = http::Request::new(()).into_parts();
/// assert_eq!(Authorize::<tower_nextauth::Claims>::authorize(&HasToken, &parts, None), Decision::Deny);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct HasToken;

impl<C> Authorize<C> for HasToken {
    fn authorize(&self, _request: &Parts, token: Option<&Token<C>>) -> Decision {
        token.is_some().into()
    }
}

/// A closure used as an [`Authorize`]; built by [`AuthLayer::authorized`](crate::AuthLayer::authorized).
#[derive(Clone, Copy)]
pub struct AuthorizeFn<F>(pub(crate) F);

impl<F> fmt::Debug for AuthorizeFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AuthorizeFn").finish()
    }
}

impl<C, F, R> Authorize<C> for AuthorizeFn<F>
where
    F: Fn(&Parts, Option<&Token<C>>) -> R + Send + Sync + 'static,
    R: Into<Decision>,
{
    fn authorize(&self, request: &Parts, token: Option<&Token<C>>) -> Decision {
        (self.0)(request, token).into()
    }
}
