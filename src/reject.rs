//! Turning a denial into a response that fits the client: a sign-in redirect for browsers, `401`
//! / `403` JSON for API clients, `grpc-status` for gRPC. Deciding stays in
//! [`Authorize`](crate::Authorize); rendering lives here and is replaceable ([`Render`]).

use std::any::Any;
use std::borrow::Cow;
use std::fmt::{self, Write};

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use http::request::Parts;
use http::{HeaderValue, Method, Response, StatusCode};

use crate::layer::Policy;
use crate::SessionError;

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
    /// `authorized` chose the response itself ([`Decision::Redirect`](crate::Decision::Redirect)
    /// or [`Decision::Respond`](crate::Decision::Respond)).
    Custom,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Unauthenticated(error) => write!(f, "unauthenticated: {error}"),
            Rejection::Forbidden => f.write_str("forbidden"),
            Rejection::Custom => f.write_str("custom response"),
        }
    }
}

/// The kind of client a request comes from, as the default renderer tells them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Client {
    /// A browser navigation: gets redirected to sign-in.
    Browser,
    /// An API call (`/api/*`, `Accept: application/json`, `X-Requested-With`, or a method other
    /// than GET/HEAD): gets `401`/`403` with a small JSON body.
    Api,
    /// A gRPC call (`content-type: application/grpc*`): gets HTTP 200 with `grpc-status`.
    Grpc,
}

/// What a renderer may use to build a response: the sign-in URL and the client kind, computed
/// exactly as the layer's configuration says.
pub struct SignIn<'a> {
    policy: &'a Policy,
}

impl SignIn<'_> {
    /// The sign-in `Location` for `request`, with its `callbackUrl`.
    pub fn location(&self, request: &Parts) -> HeaderValue {
        self.policy.sign_in_location(request)
    }

    /// The kind of client `request` comes from.
    pub fn client(&self, request: &Parts) -> Client {
        self.policy.client(request)
    }

    /// Whether `strict_with_auth` is on: every denial becomes `withAuth`'s 307.
    pub fn strict(&self) -> bool {
        self.policy.strict
    }
}

/// Renders a [`Rejection`] into a response. Replace the default with
/// [`AuthLayer::render`](crate::AuthLayer::render).
///
/// The body is bytes; the layer moves it into the service's body type when that type is
/// `String`, `Bytes`, `Vec<u8>`, `http_body_util::Full<Bytes>` or (feature `axum`)
/// `axum::body::Body`, and otherwise sends status and headers with an empty body.
///
/// ```
/// use bytes::Bytes;
/// use http::{request::Parts, Response, StatusCode};
/// use tower_nextauth::{Rejection, Render, SignIn};
///
/// /// Plain-text rejections for everyone.
/// struct Plain;
///
/// impl Render for Plain {
///     fn render(&self, _request: &Parts, rejection: &Rejection, _sign_in: &SignIn<'_>) -> Response<Bytes> {
///         let status = match rejection {
///             Rejection::Forbidden => StatusCode::FORBIDDEN,
///             _ => StatusCode::UNAUTHORIZED,
///         };
///         let mut res = Response::new(Bytes::from_static(b"no entry"));
///         *res.status_mut() = status;
///         res
///     }
/// }
/// ```
pub trait Render: Send + Sync + 'static {
    /// The response for `request`, denied for `rejection`.
    fn render(
        &self,
        request: &Parts,
        rejection: &Rejection,
        sign_in: &SignIn<'_>,
    ) -> Response<Bytes>;
}

/// The default [`Render`]: a response that fits the [`Client`].
///
/// | | browser | API | gRPC |
/// |---|---|---|---|
/// | no valid session | 307 to sign-in with `callbackUrl` | 401 `{"error":"unauthenticated"}` + `WWW-Authenticate` | 200, `grpc-status: 16` |
/// | denied by `authorized` | 403 | 403 `{"error":"forbidden"}` | 200, `grpc-status: 7` |
///
/// With [`strict_with_auth`](crate::Builder::strict_with_auth) every denial is `withAuth`'s 307.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultRender;

impl Render for DefaultRender {
    fn render(
        &self,
        request: &Parts,
        rejection: &Rejection,
        sign_in: &SignIn<'_>,
    ) -> Response<Bytes> {
        let mut res = Response::new(Bytes::new());
        if sign_in.strict() {
            redirect(&mut res, sign_in.location(request));
            return res;
        }
        let forbidden = matches!(rejection, Rejection::Forbidden);
        match sign_in.client(request) {
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
            Client::Browser => redirect(&mut res, sign_in.location(request)),
        }
        res
    }
}

fn redirect(res: &mut Response<Bytes>, location: HeaderValue) {
    *res.status_mut() = StatusCode::TEMPORARY_REDIRECT;
    res.headers_mut().insert(LOCATION, location);
}

/// Whether `callbackUrl` is relative (`withAuth`) or absolute (v5 `auth()`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackUrl {
    /// `callbackUrl=/path?query`, as next-auth v4's `withAuth` writes it.
    #[default]
    Relative,
    /// `callbackUrl=https://app.example.com/path?query`, as next-auth v5 writes it, with the
    /// origin of the configured URL (never the request's `Host`). Without a configured URL it
    /// falls back to the relative form.
    Absolute,
}

impl Policy {
    pub(crate) fn signin(&self) -> SignIn<'_> {
        SignIn { policy: self }
    }

    /// The kind of client, by the rules in [`Client`].
    pub(crate) fn client(&self, request: &Parts) -> Client {
        let header = |name| request.headers.get(name).map(HeaderValue::as_bytes);
        if header(CONTENT_TYPE).is_some_and(|ct| starts_with_ignore_case(ct, b"application/grpc")) {
            return Client::Grpc;
        }
        let pathname = self.pathname(request.uri.path());
        let api_path = self.api_paths.iter().any(|p| self.covers(pathname, p));
        let accept = header(ACCEPT).unwrap_or_default();
        let wants_json = contains_ignore_case(accept, b"application/json")
            && !contains_ignore_case(accept, b"text/html");
        let fetch = header(http::HeaderName::from_static("x-requested-with")).is_some()
            || !(request.method == Method::GET || request.method == Method::HEAD);
        if api_path || wants_json || fetch {
            Client::Api
        } else {
            Client::Browser
        }
    }

    /// `new URL(basePath + signInPage, origin)` with `callbackUrl = basePath + pathname + search`
    /// appended, as `withAuth` builds it (docs/compat.md#callback-url).
    ///
    /// The origin is the configured URL's, never the request's `Host`: a `Host`-derived absolute
    /// URL would let a forged header redirect the browser elsewhere. Without a configured URL the
    /// `Location` is path-absolute, which the browser resolves against the origin it used.
    pub(crate) fn sign_in_location(&self, request: &Parts) -> HeaderValue {
        let path = request.uri.path();
        let pathname = same_origin_path(self.pathname(path));
        let mut location = String::with_capacity(128 + path.len());
        if let Some(origin) = &self.origin {
            location.push_str(origin);
        }
        location.push_str(&self.base_path);
        location.push_str(&self.sign_in_page);
        location.push(if self.sign_in_page.contains('?') {
            '&'
        } else {
            '?'
        });
        location.push_str("callbackUrl=");
        if let (CallbackUrl::Absolute, Some(origin)) = (self.callback_url, &self.origin) {
            form_urlencode(&mut location, origin);
        }
        form_urlencode(&mut location, &self.base_path);
        form_urlencode(&mut location, &pathname);
        if let Some(query) = request.uri.query().filter(|q| !q.is_empty()) {
            form_urlencode(&mut location, "?");
            form_urlencode(&mut location, query);
        }
        // Every byte outside the unreserved set was percent-encoded above, and the configured
        // parts were validated at build time, so this cannot fail or inject a header.
        HeaderValue::from_str(&location).expect("Location is visible ASCII")
    }
}

/// The request path made safe to send back as a relative `callbackUrl`: always rooted, and a
/// leading run of `/` and `\` becomes one `/`, so `//evil.com` and `/\evil.com` cannot turn into
/// protocol-relative URLs on a sign-in page that navigates to `callbackUrl` as given.
/// Authority-form (`host:port`) and asterisk-form (`*`) targets get rooted too.
fn same_origin_path(path: &str) -> Cow<'_, str> {
    let trimmed = path.trim_start_matches(['/', '\\']);
    let start = path.len() - trimmed.len();
    if start == 1 && path.starts_with('/') {
        return Cow::Borrowed(path);
    }
    if start > 0 && path.as_bytes()[start - 1] == b'/' {
        Cow::Borrowed(&path[start - 1..])
    } else {
        Cow::Owned(format!("/{trimmed}"))
    }
}

fn starts_with_ignore_case(haystack: &[u8], prefix: &[u8]) -> bool {
    haystack.len() >= prefix.len() && haystack[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Moves a rendered body into the service's body type, for the types listed on [`Render`].
pub(crate) fn into_body<B: Default + 'static>(response: Response<Bytes>) -> Response<B> {
    let (parts, bytes) = response.into_parts();
    let mut slot: Option<B> = None;
    if !bytes.is_empty() {
        let any: &mut dyn Any = &mut slot;
        if let Some(s) = any.downcast_mut::<Option<String>>() {
            *s = String::from_utf8(bytes.to_vec()).ok();
        } else if let Some(s) = any.downcast_mut::<Option<Bytes>>() {
            *s = Some(bytes);
        } else if let Some(s) = any.downcast_mut::<Option<Vec<u8>>>() {
            *s = Some(bytes.to_vec());
        } else if let Some(s) = any.downcast_mut::<Option<http_body_util::Full<Bytes>>>() {
            *s = Some(http_body_util::Full::new(bytes));
        } else {
            #[cfg(feature = "axum")]
            if let Some(s) = any.downcast_mut::<Option<axum_core::body::Body>>() {
                *s = Some(axum_core::body::Body::from(bytes));
            }
        }
    }
    Response::from_parts(parts, slot.unwrap_or_default())
}

/// `URLSearchParams` serialization (application/x-www-form-urlencoded): `*-._` and alphanumerics
/// stay, a space becomes `+`, every other byte is `%XX`.
pub(crate) fn form_urlencode(out: &mut String, input: &str) {
    for &b in input.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_urlencoding_matches_url_search_params() {
        let mut out = String::new();
        form_urlencode(&mut out, "/dashboard?x=1&y=a%20b c*~");
        assert_eq!(out, "%2Fdashboard%3Fx%3D1%26y%3Da%2520b+c*%7E");
    }

    #[test]
    fn leading_slash_runs_collapse() {
        assert_eq!(same_origin_path("/dashboard"), "/dashboard");
        assert_eq!(same_origin_path("/"), "/");
        assert_eq!(same_origin_path("//evil.com/x"), "/evil.com/x");
        assert_eq!(same_origin_path("///evil.com"), "/evil.com");
        assert_eq!(same_origin_path("/\\evil.com"), "/evil.com");
        assert_eq!(same_origin_path("/\\/\\evil.com"), "/evil.com");
        assert_eq!(same_origin_path(""), "/");
        assert_eq!(same_origin_path("*"), "/*");
        assert_eq!(same_origin_path("\\/evil.com"), "/evil.com");
    }

    #[test]
    fn bodies_move_into_known_types_and_stay_empty_otherwise() {
        let res = || Response::new(Bytes::from_static(b"{}"));
        assert_eq!(into_body::<String>(res()).into_body(), "{}");
        assert_eq!(into_body::<Vec<u8>>(res()).into_body(), b"{}");
        assert_eq!(into_body::<()>(res()).status(), StatusCode::OK);
    }
}
