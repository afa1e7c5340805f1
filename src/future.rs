//! The response futures: the inner service's future, a ready rejection, or (for async
//! `authorized`) a decision still pending. Nothing is boxed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::header::SET_COOKIE;
use http::request::Parts;
use http::{HeaderValue, Request, Response};
use pin_project_lite::pin_project;
use serde::de::DeserializeOwned;
use tower_service::Service;

use crate::authorize::AsyncAuthorize;
use crate::layer::Shared;
use crate::service::Prepared;

pin_project! {
    /// Response future of [`AuthService`](crate::AuthService).
    pub struct ResponseFuture<F, B> {
        #[pin]
        kind: Kind<F, B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, B> {
        Future { #[pin] future: F, refresh: Option<Refresh> },
        Rejected { response: Option<Response<B>> },
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(crate) fn future(future: F) -> Self {
        Self::refreshing(future, None)
    }

    pub(crate) fn refreshing(future: F, refresh: Option<Refresh>) -> Self {
        Self {
            kind: Kind::Future { future, refresh },
        }
    }

    pub(crate) fn rejected(response: Response<B>) -> Self {
        Self {
            kind: Kind::Rejected {
                response: Some(response),
            },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Future { future, refresh } => {
                let mut response = ready!(future.poll(cx))?;
                if let Some(refresh) = refresh.take() {
                    refresh.apply(response.headers_mut());
                }
                Poll::Ready(Ok(response))
            }
            KindProj::Rejected { response } => {
                Poll::Ready(Ok(response.take().expect("polled after completion")))
            }
        }
    }
}

impl<F, B> std::fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

/// A re-issued session cookie set, appended to the inner service's response.
pub(crate) struct Refresh {
    pub(crate) name: String,
    pub(crate) cookies: Vec<HeaderValue>,
}

impl Refresh {
    fn apply(self, headers: &mut http::HeaderMap) {
        // A handler that wrote the session itself (sign-in, sign-out) has the last word.
        let handler_wrote_session = headers
            .get_all(SET_COOKIE)
            .iter()
            .any(|value| value.as_bytes().starts_with(self.name.as_bytes()));
        if !handler_wrote_session {
            for cookie in self.cookies {
                headers.append(SET_COOKIE, cookie);
            }
        }
    }
}

/// What the async future holds while `authorized` runs: the ready inner service and the request.
struct Pending<S, A, C, ReqBody> {
    inner: S,
    parts: Parts,
    body: ReqBody,
    prepared: Prepared<C>,
    shared: Arc<Shared<A>>,
}

pin_project! {
    /// Response future of [`AsyncAuthService`](crate::AsyncAuthService): first the `authorized`
    /// future, then the inner service's.
    pub struct AsyncResponseFuture<S, A, C, ReqBody, ResBody>
    where
        S: Service<Request<ReqBody>>,
        A: AsyncAuthorize<C>,
    {
        #[pin]
        state: State<S, A, C, ReqBody, ResBody>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, A, C, ReqBody, ResBody>
    where
        S: Service<Request<ReqBody>>,
        A: AsyncAuthorize<C>,
    {
        Authorizing {
            #[pin]
            decision: A::Future,
            pending: Option<Pending<S, A, C, ReqBody>>,
        },
        Calling {
            #[pin]
            future: ResponseFuture<S::Future, ResBody>,
        },
    }
}

impl<S, A, C, ReqBody, ResBody> AsyncResponseFuture<S, A, C, ReqBody, ResBody>
where
    S: Service<Request<ReqBody>>,
    A: AsyncAuthorize<C>,
{
    pub(crate) fn calling(future: S::Future) -> Self {
        Self {
            state: State::Calling {
                future: ResponseFuture::future(future),
            },
        }
    }

    pub(crate) fn authorizing(
        decision: A::Future,
        inner: S,
        parts: Parts,
        body: ReqBody,
        prepared: Prepared<C>,
        shared: Arc<Shared<A>>,
    ) -> Self {
        Self {
            state: State::Authorizing {
                decision,
                pending: Some(Pending {
                    inner,
                    parts,
                    body,
                    prepared,
                    shared,
                }),
            },
        }
    }
}

impl<S, A, C, ReqBody, ResBody> Future for AsyncResponseFuture<S, A, C, ReqBody, ResBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    A: AsyncAuthorize<C>,
    C: DeserializeOwned + Clone + Send + Sync + 'static,
    ResBody: Default + 'static,
{
    type Output = Result<Response<ResBody>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Authorizing { decision, pending } => {
                    let decision = ready!(decision.poll(cx));
                    let Pending {
                        mut inner,
                        mut parts,
                        body,
                        prepared,
                        shared,
                    } = pending.take().expect("polled after completion");
                    let future = match shared.finish(&mut parts, prepared, decision) {
                        Ok(refresh) => ResponseFuture::refreshing(
                            inner.call(Request::from_parts(parts, body)),
                            refresh,
                        ),
                        Err(response) => ResponseFuture::rejected(response),
                    };
                    this.state.set(State::Calling { future });
                }
                StateProj::Calling { future } => return future.poll(cx),
            }
        }
    }
}

impl<S, A, C, ReqBody, ResBody> std::fmt::Debug for AsyncResponseFuture<S, A, C, ReqBody, ResBody>
where
    S: Service<Request<ReqBody>>,
    A: AsyncAuthorize<C>,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncResponseFuture")
            .finish_non_exhaustive()
    }
}
