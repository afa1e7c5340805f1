//! [`SessionEndpoint`]: `GET {basePath}/session` answered as next-auth answers it for a JWT session.

use std::convert::Infallible;
use std::fmt;
use std::future::{ready, Ready};
use std::task::{Context, Poll};

use http::header::{CACHE_CONTROL, CONTENT_TYPE, EXPIRES, PRAGMA, SET_COOKIE};
use http::{Extensions, HeaderValue, Method, Request, Response, StatusCode};
use tower_service::Service;

use serde::Serialize;

use crate::error::SessionError;
use crate::sessions::Sessions;
use crate::token::{Checked, Claims, Format, Token, TokenSource};

/// A tower service that answers like next-auth's session route, so the Next.js client's
/// `useSession()` can be pointed at a Rust backend.
///
/// - With a session: `{"user":{"name","email","image"},"expires":"<ISO 8601>"}`, `picture` mapped
///   to `image`, absent fields left out, `expires` = now + max age. The cookie is re-issued with a
///   fresh `exp`, as next-auth does on every session read. That is the default `session`
///   callback's body; [`session`](SessionEndpoint::session) sets your own, to add `user.id`, an
///   access token or a role from the token.
/// - Without one: `{}` when the first configured format is v4, `null` for v5. An invalid session
///   cookie is also cleared (`Max-Age=0` for every chunk), as upstream does.
/// - Always `Content-Type: application/json`, `Cache-Control: private, no-cache, no-store`,
///   `Pragma: no-cache`, `Expires: 0`. Methods other than GET get 405.
///
/// It reads cookies only, like upstream's session route (no `Authorization` fallback), and it
/// does not set next-auth's CSRF or callback-url cookies.
///
/// Behind an [`AuthLayer`](crate::AuthLayer) with a [`jwt`](crate::AuthLayer::jwt) callback, it
/// answers what the layer decided, as next-auth's session route runs the `jwt` callback before
/// the `session` callback: the token the callback returned (its cookie is the one re-issued), or
/// no session when the callback signed the user out (the layer clears the cookies). This needs a
/// path the layer covers and the default claims type: the layer skips its own auth path
/// (`/api/auth` by default), so serve the endpoint elsewhere and point the client's
/// `SessionProvider` `basePath` there.
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
///
/// `F` is the type of the `session` callback set with [`session`](SessionEndpoint::session).
/// Its default, a function pointer, is the type of [`SessionEndpoint::new`]'s endpoint, which has
/// no callback, so `SessionEndpoint` alone names it.
#[derive(Clone)]
pub struct SessionEndpoint<F = fn(serde_json::Value, &Token) -> serde_json::Value> {
    sessions: Sessions,
    /// The `session` callback; `None` sends the default body, serialized in next-auth's key order.
    callback: Option<F>,
}

impl SessionEndpoint {
    /// The next-auth-compatible session endpoint for `sessions` (a clone of
    /// [`AuthLayer::sessions`](crate::AuthLayer::sessions)), with next-auth's default `session`
    /// callback. Add your own with [`session`](SessionEndpoint::session).
    pub fn new(sessions: Sessions) -> Self {
        Self {
            sessions,
            callback: None,
        }
    }
}

impl<F> SessionEndpoint<F> {
    /// Shapes the body from the token, as next-auth's `session({ session, token })` callback does
    /// (`next-auth@4.24.15 core/routes/session.js` calls `callbacks.session({ session, token })`
    /// and sends what it returns).
    ///
    /// `callback` gets the default body as a [`serde_json::Value`],
    /// `{"user":{"name","email","image"},"expires":"<ISO 8601>"}` (absent claims left out), and
    /// the session's [`Token`]; what it returns is the body, so it can add `user.id` from `sub`,
    /// an `accessToken`, a `role`, or drop fields. It runs only for a valid session: without one
    /// (or with an invalid one) the body stays `{}` / `null` and the callback is not called. It
    /// changes neither the re-issued cookie nor its expiry, and `expires` in the default body is
    /// computed as without a callback. A later call replaces an earlier callback.
    ///
    /// The callback is synchronous; the body is serialized from the returned value, so its object
    /// keys come out in `serde_json`'s order (sorted, unless its `preserve_order` feature is on),
    /// which JSON clients do not depend on. Without a callback the body is byte for byte
    /// next-auth's.
    ///
    /// ```
    /// use http::{header, Request};
    /// use serde_json::{json, Value};
    /// use tower::ServiceExt;
    /// use tower_nextauth::{Builder, Format, SessionEndpoint, Token};
    ///
    /// # tokio_test::block_on(async {
    /// let layer = Builder::new()
    ///     .secret("a-development-secret-of-32-bytes!")
    ///     .format(Format::V5)
    ///     .clock(|| 1_700_000_000)
    ///     .build()
    ///     .unwrap();
    /// // Next's `callbacks: { session({ session, token }) { … } }`.
    /// let endpoint = SessionEndpoint::new(layer.sessions().clone()).session(
    ///     |mut session: Value, token: &Token| {
    ///         // `token` derefs to its claims, a `serde_json::Map`; a missing claim becomes `null`.
    ///         session["user"]["id"] = token.get("sub").cloned().into();
    ///         session["user"]["role"] = token.get("role").cloned().unwrap_or("user".into());
    ///         session["accessToken"] = token.get("accessToken").cloned().into();
    ///         session
    ///     },
    /// );
    /// let cookie = layer.sessions().sign_in(&Default::default(), &json!({
    ///     "name": "Ada", "sub": "42", "role": "admin", "accessToken": "at-1",
    /// })).unwrap();
    ///
    /// let req = Request::get("/api/auth/session")
    ///     .header(header::COOKIE, cookie[0].to_str().unwrap().split(';').next().unwrap())
    ///     .body(())
    ///     .unwrap();
    /// let res = endpoint.clone().oneshot(req).await.unwrap();
    /// let body: Value = serde_json::from_str(res.body()).unwrap();
    /// assert_eq!(body, json!({
    ///     "user": { "name": "Ada", "id": "42", "role": "admin" },
    ///     "accessToken": "at-1",
    ///     "expires": "2023-12-14T22:13:20.000Z",
    /// }));
    /// assert!(res.headers().contains_key(header::SET_COOKIE)); // re-issued, as without a callback
    ///
    /// // No session: the callback does not run.
    /// let res = endpoint.oneshot(Request::get("/api/auth/session").body(()).unwrap()).await.unwrap();
    /// assert_eq!(res.body(), "null");
    /// # });
    /// ```
    pub fn session<G>(self, callback: G) -> SessionEndpoint<G>
    where
        G: Fn(serde_json::Value, &Token) -> serde_json::Value,
    {
        SessionEndpoint {
            sessions: self.sessions,
            callback: Some(callback),
        }
    }
}

impl<F> fmt::Debug for SessionEndpoint<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("SessionEndpoint");
        d.field("sessions", &self.sessions);
        if self.callback.is_some() {
            d.field("session", &format_args!("<callback>"));
        }
        d.finish()
    }
}

impl<F> SessionEndpoint<F>
where
    F: Fn(serde_json::Value, &Token) -> serde_json::Value,
{
    fn respond(&self, headers: &http::HeaderMap, extensions: &Extensions) -> Response<String> {
        let sessions = &self.sessions;
        // Behind an `AuthLayer`, the session is what the layer decided (after its `jwt`
        // callback): the token it passed on, or none when it let the request through without
        // one (a callback that signed the user out; the layer clears the cookies).
        let passed = extensions
            .get::<Token<Claims>>()
            .filter(|t| t.source() == TokenSource::Cookie);
        let read = match (sessions.read_cookie::<Claims>(headers), passed) {
            (Ok(_), None) if extensions.get::<Checked>().is_some() => Err(SessionError::Missing),
            (read, _) => read,
        };
        let (body, cookies) = match read {
            Ok(mut found) => {
                if let Some(token) = passed {
                    found.token = token.clone();
                }
                let claims = found.token.claims();
                let body = SessionBody {
                    user: User {
                        name: claims.get("name"),
                        email: claims.get("email"),
                        image: claims.get("picture"),
                    },
                    expires: crate::cookies::iso_8601(sessions.expires()),
                };
                let body = match &self.callback {
                    None => serde_json::to_string(&body),
                    Some(callback) => serde_json::to_value(&body)
                        .map(|session| callback(session, &found.token))
                        .and_then(|session| serde_json::to_string(&session)),
                }
                .expect("JSON values serialize");
                let cookies = match passed {
                    Some(token) => sessions.reissue_claims(headers, &found, token.claims()),
                    None => sessions.reissue(headers, &found),
                }
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

impl<F, B> Service<Request<B>> for SessionEndpoint<F>
where
    F: Fn(serde_json::Value, &Token) -> serde_json::Value,
{
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
        ready(Ok(self.respond(req.headers(), req.extensions())))
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
