//! [`AuthService`]: `poll_ready` forwards; `call` reads the session and decides.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use serde::de::DeserializeOwned;
use tower_service::Service;

use crate::authorize::{Authorize, Decision};
use crate::future::Refresh;
use crate::layer::Shared;
use crate::{Rejection, ResponseFuture, SessionError, Token};

/// The service [`AuthLayer`](crate::AuthLayer) wraps around an inner service.
pub struct AuthService<S, C, A> {
    inner: S,
    shared: Arc<Shared<A>>,
    _claims: PhantomData<fn() -> C>,
}

impl<S, C, A> AuthService<S, C, A> {
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

impl<S: Clone, C, A> Clone for AuthService<S, C, A> {
    fn clone(&self) -> Self {
        Self::new(self.inner.clone(), self.shared.clone())
    }
}

impl<S: fmt::Debug, C, A> fmt::Debug for AuthService<S, C, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthService")
            .field("inner", &self.inner)
            .field("sessions", &self.shared.sessions)
            .finish_non_exhaustive()
    }
}

impl<S, C, A, ReqBody, ResBody> Service<Request<ReqBody>> for AuthService<S, C, A>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
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
        if shared.policy.skips(req.uri().path()) {
            return ResponseFuture::future(self.inner.call(req));
        }
        let (mut parts, body) = req.into_parts();
        let sessions = &shared.sessions;
        let (token, error, refresh) =
            match sessions.read_found::<C>(&parts.headers, sessions.inner.bearer) {
                Ok(found) => {
                    let refresh = shared.policy.update_age.and_then(|age| {
                        let source = found.source?;
                        let stale = found
                            .token
                            .iat()
                            .map_or(true, |iat| iat + age <= sessions.now());
                        let cookies = stale
                            .then(|| sessions.reissue(&parts.headers, source, &found.payload))??;
                        Some(Refresh {
                            name: source.name.clone(),
                            cookies,
                        })
                    });
                    (Some(found.token), None, refresh)
                }
                Err(error) => (None, Some(error), None),
            };
        match shared.authorize.authorize(&parts, token.as_ref()) {
            Decision::Allow => {
                if let Some(token) = token {
                    parts.extensions.insert::<Token<C>>(token);
                }
                ResponseFuture::refreshing(
                    self.inner.call(Request::from_parts(parts, body)),
                    refresh,
                )
            }
            Decision::Deny => {
                let rejection = match error {
                    Some(error) => Rejection::Unauthenticated(error),
                    None if token.is_some() => Rejection::Forbidden,
                    None => Rejection::Unauthenticated(SessionError::Missing),
                };
                ResponseFuture::rejected(shared.policy.reject(&parts, rejection))
            }
        }
    }
}
