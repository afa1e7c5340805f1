//! axum extractors (feature `axum`): `Token<C>` and `Option<Token<C>>` from the request
//! extensions that [`AuthLayer`](crate::AuthLayer) filled.

use std::fmt;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::StatusCode;

use crate::sessions::Sessions;
use crate::token::{Checked, Token};

/// The URI before an enclosing `Router::nest` (or `nest_service`) stripped its prefix: axum's
/// router stores it as `OriginalUri` before it routes.
pub(crate) fn original_uri(extensions: &http::Extensions) -> Option<&http::Uri> {
    extensions
        .get::<axum::extract::OriginalUri>()
        .map(|original| &original.0)
}

/// Why `Token<C>` (or [`Sessions`]) could not be extracted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenRejection {
    /// The layer ran and let the request through without a session (its `authorized` allowed
    /// anonymous access). Responds `401`.
    NoSession,
    /// No [`AuthLayer`](crate::AuthLayer) ran for this request: it is not installed around this
    /// route, its matcher does not cover the path, the path is on its skip list, or the claims type
    /// differs from the layer's. Responds `500`: this is a wiring bug, not a client error.
    MissingLayer,
}

impl fmt::Display for TokenRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenRejection::NoSession => f.write_str("no session"),
            TokenRejection::MissingLayer => f.write_str(
                "no tower_nextauth::AuthLayer ran for this request: add `.layer(auth_layer)` to the \
                 router, check its matcher, and use the same claims type as `AuthLayer::claims`",
            ),
        }
    }
}

impl std::error::Error for TokenRejection {}

impl IntoResponse for TokenRejection {
    fn into_response(self) -> Response {
        let status = match self {
            TokenRejection::NoSession => StatusCode::UNAUTHORIZED,
            TokenRejection::MissingLayer => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, self.to_string()).into_response()
    }
}

/// Extracts the session that [`AuthLayer`](crate::AuthLayer) decoded.
///
/// ```
/// use axum::{routing::get, Router};
/// use tower_nextauth::{AuthLayer, Builder, Token};
///
/// async fn me(token: Token) -> String {
///     format!("{}", token["name"])
/// }
///
/// async fn maybe(token: Option<Token>) -> &'static str {
///     if token.is_some() { "signed in" } else { "anonymous" }
/// }
///
/// let auth = Builder::new().secret("a-development-secret-of-32-bytes!").build().unwrap();
/// let app: Router = Router::new().route("/me", get(me)).route("/", get(maybe)).layer(auth);
/// # let _ = app;
/// ```
impl<S, C> FromRequestParts<S> for Token<C>
where
    S: Send + Sync,
    C: Clone + Send + Sync + 'static,
{
    type Rejection = TokenRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Token<C>>() {
            Some(token) => Ok(token.clone()),
            None if parts.extensions.get::<Checked>().is_some() => Err(TokenRejection::NoSession),
            None => Err(TokenRejection::MissingLayer),
        }
    }
}

impl<S, C> OptionalFromRequestParts<S> for Token<C>
where
    S: Send + Sync,
    C: Clone + Send + Sync + 'static,
{
    type Rejection = TokenRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        match parts.extensions.get::<Token<C>>() {
            Some(token) => Ok(Some(token.clone())),
            None if parts.extensions.get::<Checked>().is_some() => Ok(None),
            None => Err(TokenRejection::MissingLayer),
        }
    }
}

/// The layer's [`Sessions`], for handlers that write sessions (sign-in, sign-out). The layer puts
/// it into every request it sees, including the paths its matcher or skip list lets through, so
/// no `Extension` layer is needed. Without the layer: 500, naming `AuthLayer`.
///
/// ```
/// use axum::{http::{header::SET_COOKIE, HeaderMap}, response::IntoResponse, routing::post, Router};
/// use tower_nextauth::{Builder, Sessions};
///
/// async fn sign_out(sessions: Sessions, headers: HeaderMap) -> impl IntoResponse {
///     let mut res = "signed out".into_response();
///     for cookie in sessions.sign_out(&headers) {
///         res.headers_mut().append(SET_COOKIE, cookie);
///     }
///     res
/// }
///
/// let auth = Builder::new().secret("a-development-secret-of-32-bytes!").build().unwrap();
/// let app: Router = Router::new().route("/api/auth/signout", post(sign_out)).layer(auth);
/// # let _ = app;
/// ```
impl<S> FromRequestParts<S> for Sessions
where
    S: Send + Sync,
{
    type Rejection = TokenRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Sessions>()
            .cloned()
            .ok_or(TokenRejection::MissingLayer)
    }
}
