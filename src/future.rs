//! The response futures of [`AuthService`](crate::AuthService) and
//! [`AsyncAuthService`](crate::AsyncAuthService): the inner service's future, a ready rejection,
//! or (for an async `authorized`) a decision still pending. Nothing is boxed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::request::Parts;
use http::{Request, Response};
use pin_project_lite::pin_project;
use serde::de::DeserializeOwned;
use tower_service::Service;

use crate::authorize::AsyncAuthorize;
pub use crate::authorize::DecisionFuture;
use crate::decide::{Prepared, Refresh, Shared};
use crate::render::Render;

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

/// What the async future holds while `authorized` runs: the ready inner service and the request.
struct Pending<S, A, R, C, ReqBody> {
    inner: S,
    parts: Parts,
    body: ReqBody,
    prepared: Prepared<C>,
    shared: Arc<Shared<A>>,
    render: R,
}

pin_project! {
    /// Response future of [`AsyncAuthService`](crate::AsyncAuthService): first the `authorized`
    /// future, then the inner service's.
    pub struct AsyncResponseFuture<S, A, R, C, ReqBody, ResBody>
    where
        S: Service<Request<ReqBody>>,
        A: AsyncAuthorize<C>,
    {
        #[pin]
        state: State<S, A, R, C, ReqBody, ResBody>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, A, R, C, ReqBody, ResBody>
    where
        S: Service<Request<ReqBody>>,
        A: AsyncAuthorize<C>,
    {
        Authorizing {
            #[pin]
            decision: A::Future,
            pending: Option<Pending<S, A, R, C, ReqBody>>,
        },
        Calling {
            #[pin]
            future: ResponseFuture<S::Future, ResBody>,
        },
    }
}

impl<S, A, R, C, ReqBody, ResBody> AsyncResponseFuture<S, A, R, C, ReqBody, ResBody>
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
        inner: S,
        request: Request<ReqBody>,
        shared: Arc<Shared<A>>,
        render: R,
    ) -> Self
    where
        C: DeserializeOwned + Send + Sync + 'static,
    {
        let (parts, body) = request.into_parts();
        let prepared = shared.prepare::<C>(&parts);
        let decision = shared.authorize().authorize(&parts, prepared.token());
        Self {
            state: State::Authorizing {
                decision,
                pending: Some(Pending {
                    inner,
                    parts,
                    body,
                    prepared,
                    shared,
                    render,
                }),
            },
        }
    }
}

impl<S, A, R, C, ReqBody, ResBody> Future for AsyncResponseFuture<S, A, R, C, ReqBody, ResBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    A: AsyncAuthorize<C>,
    R: Render<ResBody>,
    C: DeserializeOwned + Clone + Send + Sync + 'static,
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
                        render,
                    } = pending.take().expect("polled after completion");
                    let future = match shared.finish(&mut parts, prepared, decision, &render) {
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

impl<S, A, R, C, ReqBody, ResBody> std::fmt::Debug
    for AsyncResponseFuture<S, A, R, C, ReqBody, ResBody>
where
    S: Service<Request<ReqBody>>,
    A: AsyncAuthorize<C>,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncResponseFuture")
            .finish_non_exhaustive()
    }
}
