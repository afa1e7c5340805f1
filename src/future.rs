//! The response futures: the inner service's future, a ready rejection, or (for async
//! `authorized`) a decision still pending. Nothing is boxed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::header::{CACHE_CONTROL, SET_COOKIE, VARY};
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
        if handler_wrote_session {
            return;
        }
        for cookie in self.cookies {
            headers.append(SET_COOKIE, cookie);
        }
        // A response that carries a session must never be stored by a shared cache and served
        // to someone else, whatever the handler said: next-auth marks its own session responses
        // `private, no-cache, no-store` (next-auth@4.24.15 core/routes/session.js).
        private_no_store(headers);
        vary_cookie(headers);
    }
}

/// `Cache-Control` with `public` removed and `private` and `no-store` present; the handler's
/// other directives stay.
fn private_no_store(headers: &mut http::HeaderMap) {
    let mut directives: Vec<String> = Vec::new();
    for value in headers.get_all(CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            let name = directive.split('=').next().unwrap_or_default().trim();
            if !name.eq_ignore_ascii_case("public") {
                directives.push(directive.to_owned());
            }
        }
    }
    for needed in ["private", "no-store"] {
        if !directives.iter().any(|d| d.eq_ignore_ascii_case(needed)) {
            directives.push(needed.to_owned());
        }
    }
    let joined = directives.join(", ");
    // Rebuilt from visible ASCII pieces of valid header values.
    let value = HeaderValue::from_str(&joined)
        .unwrap_or_else(|_| HeaderValue::from_static("private, no-store"));
    headers.insert(CACHE_CONTROL, value);
}

/// Adds `Cookie` to `Vary`, unless it is there already or `Vary: *`.
fn vary_cookie(headers: &mut http::HeaderMap) {
    let covered = headers.get_all(VARY).iter().any(|value| {
        value.to_str().is_ok_and(|v| {
            v.split(',')
                .map(str::trim)
                .any(|f| f == "*" || f.eq_ignore_ascii_case("cookie"))
        })
    });
    if !covered {
        headers.append(VARY, HeaderValue::from_static("Cookie"));
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
