//! Turning a denial into a response that fits the client: a sign-in redirect for browsers,
//! `401` / `403` JSON for API clients, `grpc-status` for gRPC.
//!
//! Deciding stays in [`Authorize`](crate::Authorize); rendering lives here and is replaceable
//! with [`AuthLayer::render`](crate::AuthLayer::render). A renderer is generic over the
//! service's response body `B`, as tower-http's `csrf` rejection responses are, so the layer
//! never converts bodies behind your back:
//! - [`DefaultRender`] writes its small bodies into any body that implements [`FromBytes`]
//!   (axum's `Body`, `Full<Bytes>`, `String`, `Bytes`, `Vec<u8>`, `BoxBody`, `UnsyncBoxBody`,
//!   and tonic's `Body` with the `tonic` feature);
//! - [`StatusOnly`] renders the same statuses and headers into `B::default()` for any other
//!   body, without a `Content-Type` for the body it cannot write.

use bytes::Bytes;
use http::header::{
    CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE,
};
use http::request::Parts;
use http::{HeaderValue, Response, StatusCode};

use crate::error::SessionError;
pub use crate::policy::Client;
use crate::policy::Policy;

/// Why the layer turned a request away. It is put into the rejected response's extensions (and,
/// with the `tracing` feature, into a `tracing` event); it never reaches the response body.
///
/// ```
/// use tower_nextauth::{Rejection, SessionError};
/// assert_eq!(Rejection::Unauthenticated(SessionError::Expired).to_string(), "unauthenticated: expired");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// No valid session; the error says why.
    Unauthenticated(SessionError),
    /// `authorized` denied the request (a valid session without the right, or an explicit
    /// [`Decision::Forbidden`](crate::Decision::Forbidden)).
    Forbidden,
    /// The session could not be checked (a failed `jwt` callback or session store): 503, or
    /// gRPC `UNAVAILABLE`, whatever the client, never a sign-in redirect.
    Unavailable,
    /// `authorized` chose the response itself ([`Decision::Redirect`](crate::Decision::Redirect)
    /// or [`Decision::Respond`](crate::Decision::Respond)).
    Custom,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::Unauthenticated(error) => write!(f, "unauthenticated: {error}"),
            Rejection::Forbidden => f.write_str("forbidden"),
            Rejection::Custom => f.write_str("custom response"),
            Rejection::Unavailable => f.write_str("unavailable"),
        }
    }
}

/// What a renderer may use to build a response: the sign-in URL and the client kind, computed
/// exactly as the layer's configuration says.
pub struct RenderContext<'a> {
    policy: &'a Policy,
}

impl<'a> RenderContext<'a> {
    pub(crate) fn new(policy: &'a Policy) -> Self {
        Self { policy }
    }

    /// The sign-in `Location` for `request`, with its `callbackUrl`.
    pub fn location(&self, request: &Parts) -> HeaderValue {
        self.policy.sign_in_location(request)
    }

    /// The kind of client `request` comes from.
    pub fn client(&self, request: &Parts) -> Client {
        self.policy.client(request)
    }

    /// Whether [`strict_with_auth`](crate::Builder::strict_with_auth) is on: every denial becomes
    /// `withAuth`'s 307.
    pub fn strict(&self) -> bool {
        self.policy.strict()
    }
}

impl std::fmt::Debug for RenderContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderContext")
            .field("strict", &self.strict())
            .finish_non_exhaustive()
    }
}

/// Renders denials into responses with body type `B`. Replace the default with
/// [`AuthLayer::render`](crate::AuthLayer::render).
///
/// It is cloned into every service, like tower-http's rejection-response builders, so keep it
/// cheap to clone (a unit struct, or an `Arc`).
///
/// ```
/// use bytes::Bytes;
/// use http::{request::Parts, Response, StatusCode};
/// use tower_nextauth::render::{FromBytes, Render, RenderContext};
/// use tower_nextauth::Rejection;
///
/// /// Plain-text rejections for everyone.
/// #[derive(Clone)]
/// struct Plain;
///
/// impl<B: FromBytes> Render<B> for Plain {
///     fn render(&self, _request: &Parts, rejection: &Rejection, _cx: &RenderContext<'_>) -> Response<B> {
///         let status = match rejection {
///             Rejection::Forbidden => StatusCode::FORBIDDEN,
///             _ => StatusCode::UNAUTHORIZED,
///         };
///         let mut res = Response::new(B::from_bytes(Bytes::from_static(b"no entry")));
///         *res.status_mut() = status;
///         res
///     }
///
///     fn respond(&self, response: Response<Bytes>) -> Response<B> {
///         response.map(B::from_bytes)
///     }
/// }
/// ```
pub trait Render<B>: Clone + Send + Sync + 'static {
    /// The response for `request`, denied for `rejection`.
    fn render(&self, request: &Parts, rejection: &Rejection, cx: &RenderContext<'_>)
        -> Response<B>;

    /// `authorized`'s own response ([`Decision::Respond`](crate::Decision::Respond), or the
    /// empty-bodied 307 of [`Decision::Redirect`](crate::Decision::Redirect)) in body type `B`.
    fn respond(&self, response: Response<Bytes>) -> Response<B>;
}

/// A response body that can be built from bytes, so a rejection can carry its small body.
///
/// Implemented for the bodies Rust web stacks use; implement it for your own body type, or
/// render with [`StatusOnly`] instead.
///
/// ```
/// use bytes::Bytes;
/// use tower_nextauth::render::FromBytes;
///
/// assert_eq!(String::from_bytes(Bytes::from_static(b"{}")), "{}");
/// ```
#[diagnostic::on_unimplemented(
    message = "a rejection's body cannot be written into `{Self}`",
    note = "enable tower-nextauth's `axum` feature for axum's `Body`, or `tonic` for tonic's",
    note = "or render without a body: `.render(tower_nextauth::render::StatusOnly)`"
)]
pub trait FromBytes {
    /// The body holding `bytes`.
    fn from_bytes(bytes: Bytes) -> Self;
}

impl FromBytes for Bytes {
    fn from_bytes(bytes: Bytes) -> Self {
        bytes
    }
}

impl FromBytes for Vec<u8> {
    fn from_bytes(bytes: Bytes) -> Self {
        bytes.into()
    }
}

impl FromBytes for String {
    /// Rejection bodies are UTF-8; a custom response that is not keeps what it can.
    fn from_bytes(bytes: Bytes) -> Self {
        match String::from_utf8(bytes.into()) {
            Ok(text) => text,
            Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
        }
    }
}

impl FromBytes for http_body_util::Full<Bytes> {
    fn from_bytes(bytes: Bytes) -> Self {
        http_body_util::Full::new(bytes)
    }
}

impl<E: 'static> FromBytes for http_body_util::combinators::BoxBody<Bytes, E> {
    fn from_bytes(bytes: Bytes) -> Self {
        use http_body_util::BodyExt;
        http_body_util::Full::new(bytes)
            .map_err(|never| match never {})
            .boxed()
    }
}

impl<E: 'static> FromBytes for http_body_util::combinators::UnsyncBoxBody<Bytes, E> {
    fn from_bytes(bytes: Bytes) -> Self {
        use http_body_util::BodyExt;
        http_body_util::Full::new(bytes)
            .map_err(|never| match never {})
            .boxed_unsync()
    }
}

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl FromBytes for axum_core::body::Body {
    fn from_bytes(bytes: Bytes) -> Self {
        axum_core::body::Body::from(bytes)
    }
}

#[cfg(feature = "tonic")]
#[cfg_attr(docsrs, doc(cfg(feature = "tonic")))]
impl FromBytes for tonic::body::Body {
    fn from_bytes(bytes: Bytes) -> Self {
        tonic::body::Body::new(http_body_util::Full::new(bytes))
    }
}

/// The default [`Render`]: a response that fits the [`Client`], for bodies that implement
/// [`FromBytes`].
///
/// | | browser | API | gRPC |
/// |---|---|---|---|
/// | no valid session | 307 to sign-in with `callbackUrl` | 401 `{"error":"unauthenticated"}` + `WWW-Authenticate` | 200, `grpc-status: 16` |
/// | denied by `authorized` | 403 `Forbidden` | 403 `{"error":"forbidden"}` | 200, `grpc-status: 7` |
///
/// With [`strict_with_auth`](crate::Builder::strict_with_auth) every denial is `withAuth`'s 307.
///
/// ```
/// use http::{Request, StatusCode};
/// use tower::{service_fn, ServiceExt, Layer};
/// use tower_nextauth::{AuthLayer, Builder};
///
/// # tokio_test::block_on(async {
/// let layer = Builder::new().secret("a-development-secret-of-32-bytes!").build().unwrap();
/// let app = layer.layer(service_fn(|_req: Request<String>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("hello")))
/// }));
/// let req = Request::get("/api/me").body(String::new()).unwrap();
/// let res = app.oneshot(req).await.unwrap();
/// assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
/// assert_eq!(res.headers()["content-type"], "application/json");
/// assert_eq!(res.into_body(), r#"{"error":"unauthenticated"}"#);
/// # });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultRender;

impl<B: FromBytes> Render<B> for DefaultRender {
    fn render(
        &self,
        request: &Parts,
        rejection: &Rejection,
        cx: &RenderContext<'_>,
    ) -> Response<B> {
        rendered(request, rejection, cx).map(B::from_bytes)
    }

    fn respond(&self, response: Response<Bytes>) -> Response<B> {
        response.map(B::from_bytes)
    }
}

/// [`DefaultRender`]'s statuses and headers, for any body with a `Default` (tonic's body,
/// `http_body_util::Empty`, your own): the body stays empty, so no `Content-Type` or
/// `Content-Length` is sent for it. gRPC responses keep `content-type: application/grpc`, which
/// the protocol requires with `grpc-status`.
///
/// ```
/// use http::{Request, StatusCode};
/// use http_body_util::Empty;
/// use bytes::Bytes;
/// use tower::{service_fn, ServiceExt, Layer};
/// use tower_nextauth::{render::StatusOnly, AuthLayer};
/// use tower_nextauth::Builder;
///
/// # tokio_test::block_on(async {
/// let layer = Builder::new()
///     .secret("a-development-secret-of-32-bytes!")
///     .build()
///     .unwrap()
///     .render(StatusOnly);
/// let app = layer.layer(service_fn(|_req: Request<()>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(Empty::<Bytes>::new()))
/// }));
/// let res = app.oneshot(Request::get("/api/me").body(()).unwrap()).await.unwrap();
/// assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
/// assert!(res.headers().get("content-type").is_none());
/// # });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct StatusOnly;

impl<B: Default> Render<B> for StatusOnly {
    fn render(
        &self,
        request: &Parts,
        rejection: &Rejection,
        cx: &RenderContext<'_>,
    ) -> Response<B> {
        without_body(rendered(request, rejection, cx))
    }

    fn respond(&self, response: Response<Bytes>) -> Response<B> {
        without_body(response)
    }
}

/// `response` with an empty `B`, dropping the headers that described the body it had.
fn without_body<B: Default>(response: Response<Bytes>) -> Response<B> {
    let (mut parts, body) = response.into_parts();
    if !body.is_empty() {
        parts.headers.remove(CONTENT_TYPE);
        parts.headers.remove(CONTENT_LENGTH);
    }
    Response::from_parts(parts, B::default())
}

/// The default rejection, as bytes.
fn rendered(request: &Parts, rejection: &Rejection, cx: &RenderContext<'_>) -> Response<Bytes> {
    let mut res = Response::new(Bytes::new());
    if *rejection == Rejection::Unavailable {
        unavailable(&mut res, cx.client(request));
        return res;
    }
    if cx.strict() {
        redirect(&mut res, cx.location(request));
        return res;
    }
    let forbidden = matches!(rejection, Rejection::Forbidden);
    match cx.client(request) {
        Client::Grpc => {
            let (code, message) = if forbidden {
                ("7", "permission denied")
            } else {
                ("16", "unauthenticated")
            };
            let h = res.headers_mut();
            h.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
            h.insert("grpc-status", HeaderValue::from_static(code));
            h.insert("grpc-message", HeaderValue::from_static(message));
        }
        Client::Api => {
            let (status, body): (_, &'static [u8]) = if forbidden {
                (StatusCode::FORBIDDEN, br#"{"error":"forbidden"}"#)
            } else {
                (StatusCode::UNAUTHORIZED, br#"{"error":"unauthenticated"}"#)
            };
            *res.status_mut() = status;
            *res.body_mut() = Bytes::from_static(body);
            res.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            if !forbidden {
                // RFC 6750 §3: say that a token was presented but is not valid.
                let challenge = match rejection {
                    Rejection::Unauthenticated(SessionError::Missing) => "Bearer",
                    _ => r#"Bearer error="invalid_token""#,
                };
                res.headers_mut()
                    .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
            }
        }
        Client::Browser if forbidden => {
            *res.status_mut() = StatusCode::FORBIDDEN;
            *res.body_mut() = Bytes::from_static(b"Forbidden");
            res.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
        }
        Client::Browser => redirect(&mut res, cx.location(request)),
    }
    res
}

/// 503 (gRPC: status 14), with `Retry-After: 1` and no store.
fn unavailable(res: &mut Response<Bytes>, client: Client) {
    let h = res.headers_mut();
    h.insert(RETRY_AFTER, HeaderValue::from_static("1"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let (content_type, body): (_, &'static [u8]) = match client {
        Client::Grpc => {
            h.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
            h.insert("grpc-status", HeaderValue::from_static("14"));
            h.insert("grpc-message", HeaderValue::from_static("unavailable"));
            return;
        }
        Client::Api => ("application/json", br#"{"error":"unavailable"}"#),
        Client::Browser => ("text/plain; charset=utf-8", b"Service Unavailable"),
    };
    *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    *res.body_mut() = Bytes::from_static(body);
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
}

fn redirect(res: &mut Response<Bytes>, location: HeaderValue) {
    *res.status_mut() = StatusCode::TEMPORARY_REDIRECT;
    res.headers_mut().insert(LOCATION, location);
}
