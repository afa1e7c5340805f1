//! [`ResponseFuture`]: the inner service's future, or a ready rejection. Nothing is boxed.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::header::SET_COOKIE;
use http::{HeaderValue, Response};
use pin_project_lite::pin_project;

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
        Self {
            kind: Kind::Future {
                future,
                refresh: None,
            },
        }
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
                let mut response = std::task::ready!(future.poll(cx))?;
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
