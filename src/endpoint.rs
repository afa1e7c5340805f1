//! [`SessionEndpoint`]: `GET {basePath}/session` answered as next-auth answers it for a JWT session.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::task::{Context, Poll};

use http::header::{CACHE_CONTROL, CONTENT_TYPE, EXPIRES, PRAGMA, SET_COOKIE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use tower_service::Service;

use serde::Serialize;

use crate::error::SessionError;
use crate::sessions::Sessions;
use crate::token::{Claims, Format};

/// A tower service that answers like next-auth's session route, so the Next.js client's
/// `useSession()` can be pointed at a Rust backend.
///
/// - With a session: `{"user":{"name","email","image"},"expires":"<ISO 8601>"}`, `picture` mapped
///   to `image`, absent fields left out, `expires` = now + max age. The cookie is re-issued with a
///   fresh `exp`, as next-auth does on every session read.
/// - Without one: `{}` when the first configured format is v4, `null` for v5. An invalid session
///   cookie is also cleared (`Max-Age=0` for every chunk), as upstream does.
/// - Always `Content-Type: application/json`, `Cache-Control: private, no-cache, no-store`,
///   `Pragma: no-cache`, `Expires: 0`. Methods other than GET get 405.
///
/// It reads cookies only, like upstream's session route (no `Authorization` fallback), and it
/// does not set next-auth's CSRF or callback-url cookies.
///
/// ```
/// use http::{header, Request};
/// use tower::ServiceExt;
/// use tower_nextauth::{AuthLayer, Builder, Format, SessionEndpoint};
///
/// # tokio_test::block_on(async {
/// let layer = Builder::new()
///     .secret("a-development-secret-of-32-bytes!")
///     .format(Format::V5)
///     .clock(|| 1_700_000_000)
///     .build()
///     .unwrap();
/// let endpoint = SessionEndpoint::new(layer.sessions().clone());
/// let cookie = layer.sessions().sign_in(&Default::default(), &serde_json::json!({
///     "name": "Ada", "email": "ada@example.com", "picture": "https://example.com/a.png", "sub": "42",
/// })).unwrap();
///
/// let req = Request::get("/api/auth/session")
///     .header(header::COOKIE, cookie[0].to_str().unwrap().split(';').next().unwrap())
///     .body(())
///     .unwrap();
/// let res = endpoint.clone().oneshot(req).await.unwrap();
/// assert_eq!(
///     res.body(),
///     r#"{"user":{"name":"Ada","email":"ada@example.com","image":"https://example.com/a.png"},"expires":"2023-12-14T22:13:20.000Z"}"#
/// );
///
/// let res = endpoint.oneshot(Request::get("/api/auth/session").body(()).unwrap()).await.unwrap();
/// assert_eq!(res.body(), "null");
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct SessionEndpoint {
    sessions: Sessions,
}

impl SessionEndpoint {
    /// The next-auth-compatible session endpoint for `sessions` (a clone of
    /// [`AuthLayer::sessions`](crate::AuthLayer::sessions)).
    pub fn new(sessions: Sessions) -> Self {
        Self { sessions }
    }

    fn respond(&self, headers: &http::HeaderMap) -> Response<String> {
        let sessions = &self.sessions;
        let (body, cookies) = match sessions.read_cookie::<Claims>(headers) {
            Ok(found) => {
                let claims = found.token.claims();
                let body = SessionBody {
                    user: User {
                        name: claims.get("name"),
                        email: claims.get("email"),
                        image: claims.get("picture"),
                    },
                    expires: crate::cookies::iso_8601(sessions.expires()),
                };
                let body = serde_json::to_string(&body).expect("JSON values serialize");
                let cookies = sessions
                    .reissue(headers, &found)
                    .map(|(_, cookies)| cookies)
                    .unwrap_or_default();
                (body, cookies)
            }
            Err(error) => {
                let empty = match sessions.first_format() {
                    Some(Format::V4) => "{}",
                    _ => "null",
                };
                let cookies = if error == SessionError::Missing {
                    Vec::new()
                } else {
                    sessions.sign_out(headers)
                };
                (empty.to_owned(), cookies)
            }
        };
        let mut res = Response::new(body);
        let h = res.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        h.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache, no-store"),
        );
        h.insert(PRAGMA, HeaderValue::from_static("no-cache"));
        h.insert(EXPIRES, HeaderValue::from_static("0"));
        for cookie in cookies {
            h.append(SET_COOKIE, cookie);
        }
        res
    }
}

impl<B> Service<Request<B>> for SessionEndpoint {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if req.method() != Method::GET {
            let mut res = Response::new(String::new());
            *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            res.headers_mut()
                .insert(http::header::ALLOW, HeaderValue::from_static("GET"));
            return ready(Ok(res));
        }
        ready(Ok(self.respond(req.headers())))
    }
}

/// The default `session` callback's output for a JWT session: `{ user: { name, email, image },
/// expires }`, absent claims left out (next-auth@4.24.15 core/routes/session.js).
#[derive(Serialize)]
struct SessionBody<'a> {
    user: User<'a>,
    expires: String,
}

#[derive(Serialize)]
struct User<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a serde_json::Value>,
}
