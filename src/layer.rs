//! [`AuthLayer`]: the configuration, shared by every [`AuthService`] it builds.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use http::request::Parts;
use tower_layer::Layer;

use crate::authorize::{AsyncAuthorize, AsyncAuthorizeFn, Authorize, AuthorizeFn, HasToken};
use crate::reject::{CallbackUrl, Render};
use crate::{AsyncAuthService, AuthService, Builder, Claims, Decision, Sessions, Token};

/// How the built-in skip list (the auth path, `/_next`, `/favicon.ico`) matches request paths.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SkipMode {
    /// A skip entry covers itself and the paths below it: `/api/auth` skips `/api/auth/session`
    /// but not `/api/authors`.
    #[default]
    Segment,
    /// `withAuth`'s plain `startsWith` (next-auth 4.24.15, `next/middleware.js`): `/api/authors`,
    /// `/_nextdata` and `/favicon.ico.bak` are skipped too, and so are left unprotected. For exact
    /// parity only.
    Prefix,
}

/// Route-level settings, fixed when the layer is built.
#[derive(Clone)]
pub(crate) struct Policy {
    /// Next.js `config.matcher`: requests it does not cover pass untouched.
    pub(crate) matcher: Option<crate::Matcher>,
    pub(crate) base_path: String,
    pub(crate) auth_path: String,
    pub(crate) sign_in_page: String,
    pub(crate) error_page: String,
    pub(crate) skip: SkipMode,
    pub(crate) origin: Option<String>,
    pub(crate) strict: bool,
    /// Sliding sessions: re-issue cookies whose `iat` is at least this many seconds old.
    pub(crate) update_age: Option<i64>,
    /// Path prefixes whose requests are API calls (401 instead of a redirect).
    pub(crate) api_paths: Vec<String>,
    pub(crate) callback_url: CallbackUrl,
    pub(crate) render: Arc<dyn Render>,
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("matcher", &self.matcher)
            .field("base_path", &self.base_path)
            .field("auth_path", &self.auth_path)
            .field("sign_in_page", &self.sign_in_page)
            .field("error_page", &self.error_page)
            .field("skip", &self.skip)
            .field("origin", &self.origin)
            .field("strict", &self.strict)
            .field("update_age", &self.update_age)
            .field("api_paths", &self.api_paths)
            .field("callback_url", &self.callback_url)
            .finish_non_exhaustive()
    }
}

impl Policy {
    /// The Next.js `pathname`: the path without the `basePath`.
    pub(crate) fn pathname<'a>(&self, path: &'a str) -> &'a str {
        if self.base_path.is_empty() {
            return path;
        }
        match path.strip_prefix(self.base_path.as_str()) {
            Some("") => "/",
            Some(rest) if rest.starts_with('/') => rest,
            _ => path,
        }
    }

    /// Whether a request passes untouched: not covered by the matcher, or on the skip list.
    ///
    /// The one place that decides, and it fails closed. `path` is the request path; `original`
    /// the path before an enclosing router stripped a prefix (axum's `OriginalUri`), which is
    /// the one the matcher is written for. Each is read in every form in
    /// [`Forms`](crate::pathname::Forms): as sent, as Next.js parses it (percent-encoded, dot
    /// segments resolved), and with runs of slashes collapsed. The request is covered when the
    /// matcher covers *any* form (a regex that gives up, or a path past
    /// [`Matcher::MAX_PATH_LEN`](crate::Matcher::MAX_PATH_LEN), covers), and skipped only when
    /// *every* form is on the skip list. A spelling the router and Next.js read differently can
    /// therefore only add protection.
    pub(crate) fn passes(&self, path: &str, original: Option<&str>) -> bool {
        let primary = crate::pathname::Forms::of(original.unwrap_or(path));
        let secondary = original
            .filter(|o| *o != path)
            .map(|_| crate::pathname::Forms::of(path));
        let forms = || {
            primary
                .iter()
                .chain(secondary.iter().flat_map(crate::pathname::Forms::iter))
        };
        if let Some(m) = &self.matcher {
            if !forms().any(|form| m.is_match(form)) {
                #[cfg(feature = "tracing")]
                tracing::trace!(path, "tower-nextauth: not matched, passing through");
                return true;
            }
        }
        let skipped = forms().all(|form| self.skips(form));
        #[cfg(feature = "tracing")]
        if skipped {
            tracing::trace!(path, "tower-nextauth: on the skip list, passing through");
        }
        skipped
    }

    /// `withAuth`'s step 1: requests that pass without any session work (docs/compat.md#skip-list).
    fn skips(&self, path: &str) -> bool {
        let pathname = self.pathname(path);
        // `${basePath}${pathname}` is the request path itself, unless the path lacked the base.
        let full = if self.base_path.is_empty() || !std::ptr::eq(pathname, path) {
            std::borrow::Cow::Borrowed(path)
        } else {
            std::borrow::Cow::Owned(format!("{}{}", self.base_path, pathname))
        };
        self.covers(&full, &self.auth_path)
            || pathname == self.sign_in_page
            || pathname == self.error_page
            || self.covers(pathname, "/_next")
            || self.covers(pathname, "/favicon.ico")
    }

    pub(crate) fn covers(&self, path: &str, prefix: &str) -> bool {
        match self.skip {
            SkipMode::Prefix => path.starts_with(prefix),
            SkipMode::Segment => match path.strip_prefix(prefix) {
                Some(rest) => rest.is_empty() || rest.starts_with('/'),
                None => false,
            },
        }
    }
}

/// The path before an enclosing axum `Router::nest` (or `nest_service`) stripped its prefix:
/// axum's router stores it as `OriginalUri` before it routes.
pub(crate) fn original_path(extensions: &http::Extensions) -> Option<&str> {
    #[cfg(feature = "axum")]
    {
        extensions
            .get::<axum::extract::OriginalUri>()
            .map(|uri| uri.0.path())
    }
    #[cfg(not(feature = "axum"))]
    {
        let _ = extensions;
        None
    }
}

pub(crate) struct Shared<A> {
    pub(crate) sessions: Sessions,
    pub(crate) policy: Policy,
    pub(crate) authorize: A,
}

/// Decrypts the NextAuth session cookie into the request extensions and runs `authorized`: the
/// tower counterpart of next-auth's `withAuth`.
///
/// - Allowed requests reach the inner service with a [`Token<C>`] in their extensions (when they
///   carry a session).
/// - Denied requests without a session get a `307` to the sign-in page with a `callbackUrl`, as
///   `withAuth` sends; denied requests *with* a session get a `403`.
/// - The auth routes, the sign-in and error pages, `/_next` and `/favicon.ico` pass untouched.
///
/// # Which paths are covered
/// The matcher and the skip list are decided in one place and fail closed: a path is checked in
/// the form the client sent and in the form Next.js matches (`new URL()`'s pathname:
/// percent-encoded, dot segments resolved, see [`Matcher::pathname`](crate::Matcher::pathname)),
/// each also with runs of slashes collapsed. It is covered when the matcher covers any form, and
/// skipped only when every form is on the skip list. Paths past
/// [`Matcher::MAX_PATH_LEN`](crate::Matcher::MAX_PATH_LEN) are covered without running a pattern.
///
/// # Where the layer belongs
/// Matcher sources are full paths, as in Next.js (`/admin/:path*`), so the layer must see the
/// full path:
/// - Around the whole app (`Router::layer`, or `ServiceBuilder` around the router): the path is
///   the request's.
/// - Inside `Router::nest("/admin", inner.layer(auth))`: axum strips `/admin` before the inner
///   router runs. With the `axum` feature the layer matches on axum's `OriginalUri` (set by the
///   outermost router before it routes), so `/admin/:path*` still covers `/admin/users`; the
///   stripped path is checked too. Without the feature, such a layer sees `/users` only: put it
///   outside `nest`, or write the sources relative to the nest.
/// - Plain tower or hyper: there is no `OriginalUri`; whatever rewrites or strips the path
///   before the layer decides what it sees, so put the layer outermost.
///
/// ```
/// use http::{header, Request, Response, StatusCode};
/// use tower::{service_fn, ServiceBuilder, ServiceExt};
/// use tower_nextauth::{AuthLayer, Format, Token};
///
/// # tokio_test::block_on(async {
/// let layer = AuthLayer::builder()
///     .secret("a-development-secret-of-32-bytes!")
///     .format(Format::V4)
///     .build()
///     .unwrap();
/// let cookie = format!(
///     "next-auth.session-token={}",
///     layer.sessions().encode(&serde_json::json!({"name": "Ada"})).unwrap()
/// );
///
/// let app = ServiceBuilder::new().layer(layer).service(service_fn(|req: Request<String>| async move {
///     let token = req.extensions().get::<Token>().unwrap();
///     Ok::<_, std::convert::Infallible>(Response::new(format!("hello {}", token["name"])))
/// }));
///
/// let res = app.clone().oneshot(Request::get("/dashboard?tab=1").body(String::new()).unwrap()).await.unwrap();
/// assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
/// assert_eq!(res.headers()[header::LOCATION], "/api/auth/signin?callbackUrl=%2Fdashboard%3Ftab%3D1");
///
/// let req = Request::get("/dashboard").header(header::COOKIE, cookie).body(String::new()).unwrap();
/// let res = app.oneshot(req).await.unwrap();
/// assert_eq!(res.into_body(), "hello \"Ada\"");
/// # });
/// ```
pub struct AuthLayer<C = Claims, A = HasToken> {
    shared: Arc<Shared<A>>,
    _claims: PhantomData<fn() -> C>,
}

impl AuthLayer {
    /// A [`Builder`] with next-auth's defaults.
    pub fn builder() -> Builder {
        Builder::new()
    }

    pub(crate) fn new(sessions: Sessions, policy: Policy) -> Self {
        Self {
            shared: Arc::new(Shared {
                sessions,
                policy,
                authorize: HasToken,
            }),
            _claims: PhantomData,
        }
    }
}

impl<C, A> AuthLayer<C, A> {
    /// The session reader, for decoding (and encoding) outside the request path.
    pub fn sessions(&self) -> &Sessions {
        &self.shared.sessions
    }

    /// Sets the claims type that tokens deserialize into. Requests whose claims do not fit `C2`
    /// have no session.
    pub fn claims<C2>(self) -> AuthLayer<C2, A> {
        AuthLayer {
            shared: self.shared,
            _claims: PhantomData,
        }
    }

    /// Sets the `authorized` callback from a closure over the request head and the token.
    ///
    /// It returns a `bool` or a [`Decision`](crate::Decision). Unlike `withAuth`, there is no
    /// "no opinion" value: write `token.is_some()` where the JS callback returned `undefined`.
    ///
    /// ```
    /// use tower_nextauth::AuthLayer;
    ///
    /// let layer = AuthLayer::builder()
    ///     .secret("a-development-secret-of-32-bytes!")
    ///     .build()
    ///     .unwrap()
    ///     .authorized(|req, token| {
    ///         !req.uri.path().starts_with("/admin") || token.is_some_and(|t| t["role"] == "admin")
    ///     });
    /// # let _ = layer;
    /// ```
    pub fn authorized<F, R>(self, f: F) -> AuthLayer<C, AuthorizeFn<F>>
    where
        F: Fn(&Parts, Option<&Token<C>>) -> R + Send + Sync + 'static,
        R: Into<crate::Decision>,
    {
        self.authorize_with(AuthorizeFn(f))
    }

    /// Sets the `authorized` callback from an [`Authorize`] implementation.
    pub fn authorize_with<A2: Authorize<C>>(self, authorize: A2) -> AuthLayer<C, A2> {
        AuthLayer {
            shared: Arc::new(self.shared.with(authorize)),
            _claims: PhantomData,
        }
    }

    /// Sets an asynchronous `authorized` callback, for a database or revocation lookup; see
    /// [`AsyncAuthLayer`]. The future must own what it uses: copy fields out of the token before
    /// the `async` block.
    ///
    /// ```
    /// use std::collections::HashSet;
    /// use std::sync::{Arc, Mutex};
    /// use tower_nextauth::{AuthLayer, Decision};
    ///
    /// let revoked: Arc<Mutex<HashSet<String>>> = Arc::default();
    /// let layer = AuthLayer::builder()
    ///     .secret("a-development-secret-of-32-bytes!")
    ///     .build()
    ///     .unwrap()
    ///     .authorized_async(move |_req, token| {
    ///         let jti = token.and_then(|t| t["jti"].as_str().map(str::to_owned));
    ///         let revoked = revoked.clone();
    ///         async move {
    ///             match jti {
    ///                 // A real service would ask its store here.
    ///                 Some(jti) if !revoked.lock().unwrap().contains(&jti) => Decision::Allow,
    ///                 _ => Decision::Unauthenticated,
    ///             }
    ///         }
    ///     });
    /// # let _ = layer;
    /// ```
    pub fn authorized_async<F, Fut, R>(self, f: F) -> AsyncAuthLayer<C, AsyncAuthorizeFn<F>>
    where
        F: Fn(&Parts, Option<&Token<C>>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = R>,
        R: Into<Decision>,
    {
        self.authorize_async_with(AsyncAuthorizeFn(f))
    }

    /// Sets an [`AsyncAuthorize`] implementation as the `authorized` callback.
    pub fn authorize_async_with<A2: AsyncAuthorize<C>>(
        self,
        authorize: A2,
    ) -> AsyncAuthLayer<C, A2> {
        AsyncAuthLayer {
            shared: Arc::new(self.shared.with(authorize)),
            _claims: PhantomData,
        }
    }

    /// Replaces how rejections are rendered (the default is [`DefaultRender`](crate::DefaultRender)).
    pub fn render(self, render: impl Render) -> Self
    where
        A: Clone,
    {
        let mut shared = self.shared.with(self.shared.authorize.clone());
        shared.policy.render = Arc::new(render);
        Self {
            shared: Arc::new(shared),
            _claims: PhantomData,
        }
    }
}

impl<A> Shared<A> {
    fn with<A2>(&self, authorize: A2) -> Shared<A2> {
        Shared {
            sessions: self.sessions.clone(),
            policy: self.policy.clone(),
            authorize,
        }
    }
}

/// [`AuthLayer`] with an asynchronous `authorized` ([`AsyncAuthorize`]), built by
/// [`AuthLayer::authorized_async`].
///
/// Its service moves the ready inner service into the response future while the decision is
/// pending, as tower-http's `AsyncRequireAuthorization` does, so the inner service must be
/// `Clone`. Nothing is boxed.
pub struct AsyncAuthLayer<C, A> {
    shared: Arc<Shared<A>>,
    _claims: PhantomData<fn() -> C>,
}

impl<C, A> AsyncAuthLayer<C, A> {
    /// The session reader, for decoding (and encoding) outside the request path.
    pub fn sessions(&self) -> &Sessions {
        &self.shared.sessions
    }
}

impl<C, A> Clone for AsyncAuthLayer<C, A> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            _claims: PhantomData,
        }
    }
}

impl<C, A> fmt::Debug for AsyncAuthLayer<C, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncAuthLayer")
            .field("sessions", &self.shared.sessions)
            .field("policy", &self.shared.policy)
            .finish()
    }
}

impl<S, C, A> Layer<S> for AsyncAuthLayer<C, A> {
    type Service = AsyncAuthService<S, C, A>;

    fn layer(&self, inner: S) -> Self::Service {
        AsyncAuthService::new(inner, self.shared.clone())
    }
}

impl<C, A> Clone for AuthLayer<C, A> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            _claims: PhantomData,
        }
    }
}

impl<C, A> fmt::Debug for AuthLayer<C, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthLayer")
            .field("sessions", &self.shared.sessions)
            .field("policy", &self.shared.policy)
            .finish()
    }
}

impl<S, C, A> Layer<S> for AuthLayer<C, A> {
    type Service = AuthService<S, C, A>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService::new(inner, self.shared.clone())
    }
}
