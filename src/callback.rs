//! next-auth's `jwt` callback: an async hook that sees each session before `authorized` does and
//! may keep it, replace it (an access-token refresh) or end it, run once per session at a time.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use http::request::Parts;
use pin_project_lite::pin_project;

use crate::flight::Flights;
use crate::token::{Claims, Token};

/// What a [`JwtCallback`] decided for a session: next-auth's `jwt` callback returning the token
/// unchanged, a new token, or an empty one.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Jwt {
    /// The session stays as it is.
    Keep,
    /// Replace the session's claims with these, as the `jwt` callback returning an updated token
    /// does. The layer hands the new token to `authorized` and the handler, and sets it as the
    /// session cookie on the response: encoded in the format and under the cookie name the
    /// session was read from, with a fresh `iat`, `exp` and `jti`, chunked as next-auth chunks,
    /// stale chunks cleared.
    Update(Claims),
    /// End the session (the refresh token was revoked, say): the request continues without a
    /// session, and the response clears the session cookies.
    SignOut,
}

/// The error a [`JwtCallback`] may fail with. The request then has no session: one that needs a
/// session gets 503 (never a sign-in redirect), and the failure is not remembered, so the next
/// request for the session runs the callback again.
pub type CallbackError = Box<dyn Error + Send + Sync>;

/// next-auth's `jwt` callback: runs for each request with a session cookie, before `authorized`,
/// with the request head and the decoded token. Set it with
/// [`AuthLayer::jwt`](crate::AuthLayer::jwt).
///
/// Implemented for closures `Fn(&Parts, Token) -> impl Future<Output = Result<Jwt, E>>`. The
/// future must own what it uses (it may outlive the request that started it, because every
/// concurrent request with the same session waits for it), so copy what you need out of the
/// token before the `async` block. The layer has no timer: bound a network call with your
/// runtime's timeout (say `tokio::time::timeout`) and return its error.
///
/// ```
/// use tower_nextauth::{Builder, Jwt};
///
/// let layer = Builder::new()
///     .secret("a-development-secret-of-32-bytes!")
///     .build()
///     .unwrap()
///     .jwt(|_req, token| {
///         let expires = token["accessTokenExpires"].as_i64();
///         let mut claims = token.into_claims();
///         async move {
///             match expires {
///                 Some(at) if at < 1_000 => {
///                     // A real service would call its token endpoint here.
///                     claims.insert("accessToken".into(), "new".into());
///                     Ok::<_, std::io::Error>(Jwt::Update(claims))
///                 }
///                 _ => Ok(Jwt::Keep),
///             }
///         }
///     });
/// # let _ = layer;
/// ```
pub trait JwtCallback: Send + Sync + 'static {
    /// The callback's future.
    type Future: Future<Output = Result<Jwt, CallbackError>> + Send + 'static;

    /// Decides for `token`, read from `request`'s session cookie.
    fn call(&self, request: &Parts, token: Token) -> Self::Future;
}

impl<F, Fut, E> JwtCallback for F
where
    F: Fn(&Parts, Token) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Jwt, E>> + Send + 'static,
    E: Into<CallbackError>,
{
    type Future = IntoCallbackError<Fut>;

    fn call(&self, request: &Parts, token: Token) -> Self::Future {
        IntoCallbackError {
            future: self(request, token),
        }
    }
}

pin_project! {
    /// The future of a closure [`JwtCallback`], its error boxed.
    pub struct IntoCallbackError<F> {
        #[pin]
        future: F,
    }
}

impl<F, E> Future for IntoCallbackError<F>
where
    F: Future<Output = Result<Jwt, E>>,
    E: Into<CallbackError>,
{
    type Output = Result<Jwt, CallbackError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(ready!(self.project().future.poll(cx)).map_err(Into::into))
    }
}

impl<F> fmt::Debug for IntoCallbackError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoCallbackError").finish_non_exhaustive()
    }
}

/// A boxed, `'static` future.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// [`JwtCallback`] with its future boxed, so the layer's type does not name it.
trait Erased: Send + Sync + 'static {
    fn call(&self, request: &Parts, token: Token) -> BoxFuture<Result<Jwt, CallbackError>>;
}

impl<J: JwtCallback> Erased for J {
    fn call(&self, request: &Parts, token: Token) -> BoxFuture<Result<Jwt, CallbackError>> {
        Box::pin(JwtCallback::call(self, request, token))
    }
}

/// What one run of the callback settled for a session, shared by every request that carried it
/// while the run was in progress or within the window after.
#[derive(Clone)]
pub(crate) enum Outcome {
    Keep,
    /// The new session token, encoded once for all of them, and its expiry.
    Update {
        token: Arc<str>,
        expires: i64,
    },
    SignOut,
}

/// A failed run: the callback's error, or claims that did not encode.
#[derive(Clone)]
pub(crate) struct Failure(pub(crate) Arc<str>);

/// How long a finished run answers for its session by default: long enough for the requests a
/// page load sent with the old cookie before the new one arrived.
pub(crate) const DEFAULT_WINDOW: Duration = Duration::from_secs(10);
/// How many sessions' runs are remembered at once.
pub(crate) const CAPACITY: usize = 10_000;

/// The callback and its single-flight table, one per layer.
#[derive(Clone)]
pub(crate) struct Stage {
    callback: Arc<dyn Erased>,
    pub(crate) flights: Arc<Flights<Outcome, Failure>>,
}

impl Stage {
    pub(crate) fn new(callback: impl JwtCallback, window: Duration) -> Self {
        Self {
            callback: Arc::new(callback),
            flights: Arc::new(Flights::new(CAPACITY, window)),
        }
    }

    /// The same callback with another reuse window (and a fresh table).
    pub(crate) fn with_window(&self, window: Duration) -> Self {
        Self {
            callback: self.callback.clone(),
            flights: Arc::new(Flights::new(CAPACITY, window)),
        }
    }

    pub(crate) fn call(
        &self,
        request: &Parts,
        token: Token,
    ) -> BoxFuture<Result<Jwt, CallbackError>> {
        self.callback.call(request, token)
    }
}
