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
use crate::callback::BoxFuture;
pub use crate::callback::IntoCallbackError;
use crate::decide::{Prepared, Refresh, Shared, Staged};
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

/// What the async future holds while the `jwt` callback or `authorized` runs: the ready inner
/// service and the request.
struct Pending<S, A, R, ReqBody> {
    inner: S,
    parts: Parts,
    body: ReqBody,
    shared: Arc<Shared<A>>,
    render: R,
}

pin_project! {
    /// The response future of [`AsyncAuthService`](crate::AsyncAuthService): the `jwt`
    /// callback's run (when one is set and the request has a session cookie), then `authorized`,
    /// then the inner service's future (or the rejection).
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
        Resolving {
            stage: BoxFuture<Staged>,
            pending: Option<Pending<S, A, R, ReqBody>>,
        },
        Authorizing {
            #[pin]
            decision: A::Future,
            pending: Option<(Pending<S, A, R, ReqBody>, Prepared<C>)>,
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
        let stage = shared.stage(&parts);
        let pending = Pending {
            inner,
            parts,
            body,
            shared,
            render,
        };
        let state = match stage {
            Some(stage) => State::Resolving {
                stage,
                pending: Some(pending),
            },
            None => {
                let prepared = pending.shared.prepare::<C>(&pending.parts);
                authorizing(pending, prepared)
            }
        };
        Self { state }
    }
}

/// The state that runs `authorized` for a prepared request.
fn authorizing<S, A, R, C, ReqBody, ResBody>(
    pending: Pending<S, A, R, ReqBody>,
    prepared: Prepared<C>,
) -> State<S, A, R, C, ReqBody, ResBody>
where
    S: Service<Request<ReqBody>>,
    A: AsyncAuthorize<C>,
{
    let decision = pending
        .shared
        .authorize()
        .authorize(&pending.parts, prepared.token());
    State::Authorizing {
        decision,
        pending: Some((pending, prepared)),
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
                StateProj::Resolving { stage, pending } => {
                    let staged = ready!(stage.as_mut().poll(cx));
                    let pending = pending.take().expect("polled after completion");
                    let prepared = pending.shared.prepare_staged::<C>(&pending.parts, staged);
                    this.state.set(authorizing(pending, prepared));
                }
                StateProj::Authorizing { decision, pending } => {
                    let decision = ready!(decision.poll(cx));
                    let (pending, prepared) = pending.take().expect("polled after completion");
                    let Pending {
                        mut inner,
                        mut parts,
                        body,
                        shared,
                        render,
                    } = pending;
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
