//! Turning a denial into a response: the sign-in redirect with its `callbackUrl`, or a 403.

use std::fmt::Write;

use http::header::LOCATION;
use http::request::Parts;
use http::{HeaderValue, Response, StatusCode};

use crate::layer::Policy;
use crate::SessionError;

/// Why the layer turned a request away. Put into the rejected response's extensions; it never
/// reaches the response body.
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
    /// A valid session that `authorized` denied.
    Forbidden,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::Unauthenticated(error) => write!(f, "unauthenticated: {error}"),
            Rejection::Forbidden => f.write_str("forbidden"),
        }
    }
}

impl Policy {
    /// The response for a denied request.
    pub(crate) fn reject<B: Default>(&self, request: &Parts, rejection: Rejection) -> Response<B> {
        let mut response = Response::new(B::default());
        match rejection {
            Rejection::Forbidden if !self.strict => {
                *response.status_mut() = StatusCode::FORBIDDEN;
            }
            _ => {
                *response.status_mut() = StatusCode::TEMPORARY_REDIRECT;
                response
                    .headers_mut()
                    .insert(LOCATION, self.sign_in_location(request));
            }
        }
        response.extensions_mut().insert(rejection);
        response
    }

    /// `new URL(basePath + signInPage, origin)` with `callbackUrl = basePath + pathname + search`
    /// appended, as `withAuth` builds it (spec §3.2).
    ///
    /// The origin is the configured URL's, never the request's `Host`: a `Host`-derived absolute
    /// URL would let a forged header redirect the browser elsewhere. Without a configured URL the
    /// `Location` is path-absolute, which the browser resolves against the origin it used.
    pub(crate) fn sign_in_location(&self, request: &Parts) -> HeaderValue {
        let path = request.uri.path();
        let pathname = self.pathname(path);
        let mut location = String::with_capacity(96 + path.len());
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
        form_urlencode(&mut location, &self.base_path);
        form_urlencode(&mut location, pathname);
        if let Some(query) = request.uri.query().filter(|q| !q.is_empty()) {
            form_urlencode(&mut location, "?");
            form_urlencode(&mut location, query);
        }
        // Every byte outside the unreserved set was percent-encoded above, and the configured
        // parts were validated at build time, so this cannot fail or inject a header.
        HeaderValue::from_str(&location).expect("Location is visible ASCII")
    }
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
}
