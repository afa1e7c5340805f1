//! [`AuthService`] and [`AsyncAuthService`]: `poll_ready` forwards; `call` hands the request to
//! the decision and builds the response future.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use serde::de::DeserializeOwned;
use tower_service::Service;

use crate::authorize::{AsyncAuthorize, Authorize};
use crate::decide::Shared;
use crate::future::{AsyncResponseFuture, ResponseFuture};
use crate::render::Render;

/// The service [`AuthLayer`](crate::AuthLayer) wraps around an inner service.
pub struct AuthService<S, C, A, R> {
    inner: S,
    shared: Arc<Shared<A>>,
    render: R,
    _claims: PhantomData<fn() -> C>,
}

/// The service [`AsyncAuthLayer`](crate::AsyncAuthLayer) wraps around an inner service.
pub struct AsyncAuthService<S, C, A, R> {
    inner: S,
    shared: Arc<Shared<A>>,
    render: R,
    _claims: PhantomData<fn() -> C>,
}

// The twins differ only in their `Service` impls; this writes the rest once.
macro_rules! service_common {
    ($name:ident) => {
        impl<S, C, A, R> $name<S, C, A, R> {
            pub(crate) fn new(inner: S, shared: Arc<Shared<A>>, render: R) -> Self {
                Self {
                    inner,
                    shared,
                    render,
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

        impl<S: Clone, C, A, R: Clone> Clone for $name<S, C, A, R> {
            fn clone(&self) -> Self {
                Self::new(self.inner.clone(), self.shared.clone(), self.render.clone())
            }
        }

        impl<S: fmt::Debug, C, A, R> fmt::Debug for $name<S, C, A, R> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("inner", &self.inner)
                    .field("sessions", self.shared.sessions())
                    .finish_non_exhaustive()
            }
        }
    };
}

service_common!(AuthService);
service_common!(AsyncAuthService);

impl<S, C, A, R, ReqBody, ResBody> Service<Request<ReqBody>> for AuthService<S, C, A, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    C: DeserializeOwned + Clone + Send + Sync + 'static,
    A: Authorize<C>,
    R: Render<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let shared = &*self.shared;
        // Every request the layer sees, skipped or not, can reach the session writer (the
        // `Sessions` extractor, or `Extension<Sessions>`): a clone of an `Arc`, in a slot that
        // costs what `http::Extensions` costs.
        req.extensions_mut().insert(shared.sessions().clone());
        if shared.passes(&req) {
            return ResponseFuture::future(self.inner.call(req));
        }
        let (mut parts, body) = req.into_parts();
        let prepared = shared.prepare::<C>(&parts);
        let decision = shared.authorize().authorize(&parts, prepared.token());
        match shared.finish(&mut parts, prepared, decision, &self.render) {
            Ok(refresh) => ResponseFuture::refreshing(
                self.inner.call(Request::from_parts(parts, body)),
                refresh,
            ),
            Err(response) => ResponseFuture::rejected(response),
        }
    }
}

impl<S, C, A, R, ReqBody, ResBody> Service<Request<ReqBody>> for AsyncAuthService<S, C, A, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    C: DeserializeOwned + Clone + Send + Sync + 'static,
    A: AsyncAuthorize<C>,
    R: Render<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = AsyncResponseFuture<S, A, R, C, ReqBody, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        req.extensions_mut().insert(self.shared.sessions().clone());
        if self.shared.passes(&req) {
            return AsyncResponseFuture::calling(self.inner.call(req));
        }
        // The ready service goes into the future; the clone stays for the next `poll_ready`
        // (tower's "be careful when cloning inner services").
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        AsyncResponseFuture::authorizing(inner, req, self.shared.clone(), self.render.clone())
    }
}
