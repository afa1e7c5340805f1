//! [`AuthService`] and [`AsyncAuthService`]: `poll_ready` forwards; `call` reads the session and
//! decides.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::LOCATION;
use http::request::Parts;
use http::{Request, Response, StatusCode};
use serde::de::DeserializeOwned;
use tower_service::Service;

use crate::authorize::{AsyncAuthorize, Authorize, Decision};
use crate::future::{AsyncResponseFuture, Refresh};
use crate::layer::Shared;
use crate::reject::into_body;
use crate::{Rejection, ResponseFuture, SessionError, Token};

/// A request's session, read before `authorized` runs.
pub(crate) struct Prepared<C> {
    pub(crate) token: Option<Token<C>>,
    error: Option<SessionError>,
    refresh: Option<Refresh>,
}

impl<A> Shared<A> {
    /// Reads the session and, for a stale cookie with refresh on, its re-issued cookies.
    pub(crate) fn prepare<C: DeserializeOwned>(&self, parts: &Parts) -> Prepared<C> {
        let sessions = &self.sessions;
        match sessions.read_found::<C>(&parts.headers, sessions.inner.bearer) {
            Ok(found) => {
                let refresh = self.policy.update_age.and_then(|age| {
                    let source = found.source?;
                    let stale = found
                        .token
                        .iat()
                        .is_none_or(|iat| iat.saturating_add(age) <= sessions.now());
                    let cookies = stale
                        .then(|| sessions.reissue(&parts.headers, source, &found.payload))??;
                    Some(Refresh {
                        name: source.name.clone(),
                        cookies,
                    })
                });
                Prepared {
                    token: Some(found.token),
                    error: None,
                    refresh,
                }
            }
            Err(error) => Prepared {
                token: None,
                error: Some(error),
                refresh: None,
            },
        }
    }

    /// Applies `decision`: `Ok` with the refresh to apply when the request may pass (its token is
    /// now in the extensions), or the rejection response.
    pub(crate) fn finish<C, B>(
        &self,
        parts: &mut Parts,
        prepared: Prepared<C>,
        decision: Decision,
    ) -> Result<Option<Refresh>, Response<B>>
    where
        C: Clone + Send + Sync + 'static,
        B: Default + 'static,
    {
        let unauthenticated = Rejection::Unauthenticated(match (prepared.error, &prepared.token) {
            (Some(error), _) => error,
            (None, Some(_)) => SessionError::Refused,
            (None, None) => SessionError::Missing,
        });
        let rejection = match decision {
            Decision::Allow => {
                match prepared.token {
                    Some(token) => {
                        parts.extensions.insert::<Token<C>>(token);
                    }
                    #[cfg(feature = "axum")]
                    None => {
                        parts.extensions.insert(crate::extract::Checked);
                    }
                    #[cfg(not(feature = "axum"))]
                    None => {}
                }
                return Ok(prepared.refresh);
            }
            Decision::Deny if prepared.token.is_some() => Rejection::Forbidden,
            Decision::Deny | Decision::Unauthenticated => unauthenticated,
            Decision::Forbidden => Rejection::Forbidden,
            Decision::Redirect(location) => {
                let mut res = Response::new(B::default());
                *res.status_mut() = StatusCode::TEMPORARY_REDIRECT;
                res.headers_mut().insert(LOCATION, location);
                return Err(self.rejected(parts, res, Rejection::Custom));
            }
            Decision::Respond(response) => {
                return Err(self.rejected(parts, into_body(response), Rejection::Custom));
            }
        };
        let rendered = self
            .policy
            .render
            .render(parts, &rejection, &self.policy.signin());
        Err(self.rejected(parts, into_body(rendered), rejection))
    }

    fn rejected<B>(
        &self,
        parts: &Parts,
        mut res: Response<B>,
        rejection: Rejection,
    ) -> Response<B> {
        #[cfg(feature = "tracing")]
        tracing::debug!(
            reason = %rejection,
            method = %parts.method,
            path = parts.uri.path(),
            status = res.status().as_u16(),
            "tower-nextauth rejected a request"
        );
        #[cfg(not(feature = "tracing"))]
        let _ = parts;
        res.extensions_mut().insert(rejection);
        res
    }
}

/// The service [`AuthLayer`](crate::AuthLayer) wraps around an inner service.
pub struct AuthService<S, C, A> {
    inner: S,
    shared: Arc<Shared<A>>,
    _claims: PhantomData<fn() -> C>,
}

/// The service [`AsyncAuthLayer`](crate::AsyncAuthLayer) wraps around an inner service.
pub struct AsyncAuthService<S, C, A> {
    inner: S,
    shared: Arc<Shared<A>>,
    _claims: PhantomData<fn() -> C>,
}

macro_rules! service_common {
    ($name:ident) => {
        impl<S, C, A> $name<S, C, A> {
            pub(crate) fn new(inner: S, shared: Arc<Shared<A>>) -> Self {
                Self {
                    inner,
                    shared,
                    _claims: PhantomData,
                }
            }

            /// The inner service.
            pub fn get_ref(&self) -> &S {
                &self.inner
            }

            /// The inner service, mutably.
            pub fn get_mut(&mut self) -> &mut S {
                &mut self.inner
            }

            /// Consumes `self`, returning the inner service.
            pub fn into_inner(self) -> S {
                self.inner
            }
        }

        impl<S: Clone, C, A> Clone for $name<S, C, A> {
            fn clone(&self) -> Self {
                Self::new(self.inner.clone(), self.shared.clone())
            }
        }

        impl<S: fmt::Debug, C, A> fmt::Debug for $name<S, C, A> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("inner", &self.inner)
                    .field("sessions", &self.shared.sessions)
                    .finish_non_exhaustive()
            }
        }
    };
}

service_common!(AuthService);
service_common!(AsyncAuthService);

impl<S, C, A, ReqBody, ResBody> Service<Request<ReqBody>> for AuthService<S, C, A>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default + 'static,
    C: DeserializeOwned + Clone + Send + Sync + 'static,
    A: Authorize<C>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let shared = &*self.shared;
        if shared.policy.passes(
            req.uri().path(),
            crate::layer::original_path(req.extensions()),
        ) {
            return ResponseFuture::future(self.inner.call(req));
        }
        let (mut parts, body) = req.into_parts();
        let prepared = shared.prepare::<C>(&parts);
        let decision = shared.authorize.authorize(&parts, prepared.token.as_ref());
        match shared.finish(&mut parts, prepared, decision) {
            Ok(refresh) => ResponseFuture::refreshing(
                self.inner.call(Request::from_parts(parts, body)),
                refresh,
            ),
            Err(response) => ResponseFuture::rejected(response),
        }
    }
}

impl<S, C, A, ReqBody, ResBody> Service<Request<ReqBody>> for AsyncAuthService<S, C, A>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    ResBody: Default + 'static,
    C: DeserializeOwned + Clone + Send + Sync + 'static,
    A: AsyncAuthorize<C>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = AsyncResponseFuture<S, A, C, ReqBody, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        if self.shared.policy.passes(
            req.uri().path(),
            crate::layer::original_path(req.extensions()),
        ) {
            return AsyncResponseFuture::calling(self.inner.call(req));
        }
        let (parts, body) = req.into_parts();
        let prepared = self.shared.prepare::<C>(&parts);
        let decision = self
            .shared
            .authorize
            .authorize(&parts, prepared.token.as_ref());
        // The ready service goes into the future; the clone stays for the next `poll_ready`
        // (tower's "be careful when cloning inner services").
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        AsyncResponseFuture::authorizing(
            decision,
            inner,
            parts,
            body,
            prepared,
            self.shared.clone(),
        )
    }
}
