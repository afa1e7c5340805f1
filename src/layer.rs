//! [`AuthLayer`] and [`AsyncAuthLayer`]: the configuration, shared by every service they build.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use http::request::Parts;
use tower_layer::Layer;

use crate::authorize::{AsyncAuthorize, Authorize, Decision, HasToken, SyncAuthorize};
use crate::callback::{CallbackError, Jwt, JwtCallback, Stage, DEFAULT_WINDOW};
#[cfg(feature = "postgres")]
use crate::database::Database;
use crate::decide::Shared;
use crate::policy::Policy;
use crate::render::DefaultRender;
use crate::service::{AsyncAuthService, AuthService};
use crate::sessions::Sessions;
use crate::token::{Claims, Token};

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
/// use tower_nextauth::{AuthLayer, Builder, Format, Token};
///
/// # tokio_test::block_on(async {
/// let layer = Builder::new()
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
pub struct AuthLayer<C = Claims, A = HasToken, R = DefaultRender> {
    shared: Arc<Shared<A>>,
    render: R,
    _claims: PhantomData<fn() -> C>,
}

/// [`AuthLayer`] with an asynchronous `authorized` ([`AsyncAuthorize`]), built by
/// [`AuthLayer::authorized_async`].
///
/// Its service moves the ready inner service into the response future while the decision is
/// pending, as tower-http's `AsyncRequireAuthorization` does, so the inner service must be
/// `Clone`. Nothing is boxed.
pub struct AsyncAuthLayer<C, A, R = DefaultRender> {
    shared: Arc<Shared<A>>,
    render: R,
    _claims: PhantomData<fn() -> C>,
}

impl AuthLayer {
    pub(crate) fn new(sessions: Sessions, policy: Policy) -> Self {
        Self {
            shared: Arc::new(Shared::new(sessions, policy, HasToken)),
            render: DefaultRender,
            _claims: PhantomData,
        }
    }
}

impl<C, A, R> AuthLayer<C, A, R> {
    /// Sets the claims type that tokens deserialize into. Requests whose claims do not fit `C2`
    /// have no session.
    pub fn claims<C2>(self) -> AuthLayer<C2, A, R> {
        AuthLayer {
            shared: self.shared,
            render: self.render,
            _claims: PhantomData,
        }
    }

    /// Sets the `authorized` callback from a closure over the request head and the token.
    ///
    /// It returns a `bool` or a [`Decision`](crate::Decision). Unlike `withAuth`, there is no
    /// "no opinion" value: write `token.is_some()` where the JS callback returned `undefined`.
    ///
    /// ```
    /// use tower_nextauth::{AuthLayer, Builder};
    ///
    /// let layer = Builder::new()
    ///     .secret("a-development-secret-of-32-bytes!")
    ///     .build()
    ///     .unwrap()
    ///     .authorized(|req, token| {
    ///         !req.uri.path().starts_with("/admin") || token.is_some_and(|t| t["role"] == "admin")
    ///     });
    /// # let _ = layer;
    /// ```
    pub fn authorized<F, D>(self, f: F) -> AuthLayer<C, F, R>
    where
        F: Fn(&Parts, Option<&Token<C>>) -> D + Send + Sync + 'static,
        D: Into<Decision>,
    {
        self.authorize_with(f)
    }

    /// Sets the `authorized` callback from an [`Authorize`] implementation.
    pub fn authorize_with<A2: Authorize<C>>(self, authorize: A2) -> AuthLayer<C, A2, R> {
        AuthLayer {
            shared: Arc::new(self.shared.with(authorize)),
            render: self.render,
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
    /// use tower_nextauth::{AuthLayer, Builder, Decision};
    ///
    /// let revoked: Arc<Mutex<HashSet<String>>> = Arc::default();
    /// let layer = Builder::new()
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
    pub fn authorized_async<F, Fut>(self, f: F) -> AsyncAuthLayer<C, F, R>
    where
        F: Fn(&Parts, Option<&Token<C>>) -> Fut + Send + Sync + 'static,
        Fut: Future,
        Fut::Output: Into<Decision>,
    {
        self.authorize_async_with(f)
    }

    /// Sets next-auth's `jwt` callback: for each request with a session cookie it runs before
    /// `authorized`, and may keep the session, replace it (an access-token refresh) or end it;
    /// see [`JwtCallback`] and [`Jwt`]. It makes the layer asynchronous, with the same
    /// `authorized` predicate.
    ///
    /// **Single flight.** While the callback runs for a session, the other requests carrying
    /// the same session cookie wait for its result instead of running their own; for 10 seconds
    /// after it finished (see [`AsyncAuthLayer::jwt_window`]) requests that still carry the old
    /// cookie get the same result (and the same new cookie) without a new run. So a rotating
    /// refresh token is used once, however many requests a page fires at once. A failed run
    /// answers its waiters with 503 and is not remembered.
    ///
    /// Sessions read from `Authorization: Bearer` are not passed to the callback: there is no
    /// cookie to update.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use tower::{service_fn, Layer, ServiceExt};
    /// use tower_nextauth::{Builder, Format, Jwt, Token};
    ///
    /// let calls = Arc::new(AtomicUsize::new(0));
    /// let counter = calls.clone();
    /// let layer = Builder::new()
    ///     .secret("a-development-secret-of-32-bytes!")
    ///     .format(Format::V5)
    ///     .build()
    ///     .unwrap()
    ///     .jwt(move |_req, token| {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///         let mut claims = token.into_claims();
    ///         async move {
    ///             claims.insert("accessToken".into(), "fresh".into());
    ///             Ok::<_, std::io::Error>(Jwt::Update(claims))
    ///         }
    ///     });
    /// let cookie = format!(
    ///     "authjs.session-token={}",
    ///     layer.sessions().encode(&serde_json::json!({"accessToken": "stale"})).unwrap()
    /// );
    /// let svc = layer.layer(service_fn(|req: http::Request<()>| async move {
    ///     let token = req.extensions().get::<Token>().unwrap();
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(token["accessToken"].to_string()))
    /// }));
    /// for _ in 0..3 {
    ///     let req = http::Request::get("/").header("cookie", &cookie).body(()).unwrap();
    ///     let res = tokio_test::block_on(svc.clone().oneshot(req)).unwrap();
    ///     assert_eq!(res.body(), "\"fresh\"");
    ///     let set = res.headers()["set-cookie"].to_str().unwrap();
    ///     assert!(set.starts_with("authjs.session-token=eyJ"));
    /// }
    /// // Three requests with the same old cookie, one run.
    /// assert_eq!(calls.load(Ordering::SeqCst), 1);
    /// ```
    pub fn jwt<F, Fut, E>(self, callback: F) -> AsyncAuthLayer<C, SyncAuthorize<A>, R>
    where
        F: Fn(&Parts, Token) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Jwt, E>> + Send + 'static,
        E: Into<CallbackError>,
    {
        self.jwt_with(callback)
    }

    /// Sets a [`JwtCallback`] implementation as the `jwt` callback; see [`jwt`](Self::jwt).
    pub fn jwt_with(self, callback: impl JwtCallback) -> AsyncAuthLayer<C, SyncAuthorize<A>, R> {
        AsyncAuthLayer {
            shared: Arc::new(self.shared.with_jwt(
                |a| Arc::new(SyncAuthorize(a)),
                Stage::new(callback, DEFAULT_WINDOW),
            )),
            render: self.render,
            _claims: PhantomData,
        }
    }

    /// Reads database sessions (next-auth's `database` strategy) from `database`: the session
    /// cookie holds a session token, looked up in the tables the Auth.js PostgreSQL adapter
    /// keeps; see [`Database`](crate::database::Database). The claims are
    /// `{"user":{"id","name","email","image"},"expires":…}`, deserialized into `C`. The layer
    /// becomes asynchronous, with the same `authorized` predicate; JWT session cookies and
    /// Bearer tokens are no session then.
    ///
    /// - An unknown or expired session is no session, and its cookies are cleared (an expired
    ///   row is deleted), as next-auth's session route does.
    /// - A session due for its sliding extension is extended (one `UPDATE`) and its cookie set
    ///   again with the new expiry.
    /// - A database that does not answer is no session and a 503 where one is needed, never a
    ///   pass: the layer fails closed, and recovers by itself when the database is back.
    ///
    /// ```no_run
    /// use tower_nextauth::{database::Database, Builder};
    ///
    /// # tokio_test::block_on(async {
    /// let db = Database::builder(std::env::var("DATABASE_URL").unwrap()).build().unwrap();
    /// let layer = Builder::from_env().build().unwrap().database(db);
    /// # let _ = layer;
    /// # });
    /// ```
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub fn database(self, database: Database) -> AsyncAuthLayer<C, SyncAuthorize<A>, R> {
        AsyncAuthLayer {
            shared: Arc::new(
                self.shared
                    .with_database(|a| Arc::new(SyncAuthorize(a)), database),
            ),
            render: self.render,
            _claims: PhantomData,
        }
    }

    /// Sets an [`AsyncAuthorize`] implementation as the `authorized` callback.
    pub fn authorize_async_with<A2: AsyncAuthorize<C>>(
        self,
        authorize: A2,
    ) -> AsyncAuthLayer<C, A2, R> {
        AsyncAuthLayer {
            shared: Arc::new(self.shared.with(authorize)),
            render: self.render,
            _claims: PhantomData,
        }
    }
}

impl<C, A, R> AsyncAuthLayer<C, A, R> {
    /// Sets next-auth's `jwt` callback; see [`AuthLayer::jwt`].
    pub fn jwt<F, Fut, E>(self, callback: F) -> Self
    where
        F: Fn(&Parts, Token) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Jwt, E>> + Send + 'static,
        E: Into<CallbackError>,
    {
        self.jwt_with(callback)
    }

    /// Reads database sessions; see [`AuthLayer::database`].
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub fn database(self, database: Database) -> Self {
        AsyncAuthLayer {
            shared: Arc::new(self.shared.with_database(|a| a, database)),
            render: self.render,
            _claims: PhantomData,
        }
    }

    /// Sets a [`JwtCallback`] implementation as the `jwt` callback; see [`AuthLayer::jwt`].
    pub fn jwt_with(self, callback: impl JwtCallback) -> Self {
        let window = self.window();
        AsyncAuthLayer {
            shared: Arc::new(self.shared.with_jwt(|a| a, Stage::new(callback, window))),
            render: self.render,
            _claims: PhantomData,
        }
    }

    /// How long a finished `jwt` callback run answers for its session: requests that still
    /// carry the old cookie within this window get its result (and its new cookie) without
    /// running the callback again. 10 seconds by default; `Duration::ZERO` keeps only the
    /// single flight. Has no effect without a callback.
    pub fn jwt_window(self, window: Duration) -> Self {
        let Some(stage) = self.shared.jwt().map(|stage| stage.with_window(window)) else {
            return self;
        };
        AsyncAuthLayer {
            shared: Arc::new(self.shared.with_jwt(|a| a, stage)),
            render: self.render,
            _claims: PhantomData,
        }
    }

    fn window(&self) -> Duration {
        self.shared
            .jwt()
            .map_or(DEFAULT_WINDOW, |stage| stage.flights.window())
    }
}

// The twins share everything but their service type; this writes it once.
macro_rules! layer_common {
    ($layer:ident, $service:ident) => {
        impl<C, A, R> $layer<C, A, R> {
            /// The session reader, for decoding (and encoding) outside the request path.
            pub fn sessions(&self) -> &Sessions {
                self.shared.sessions()
            }

            /// Replaces how rejections are rendered (the default is
            /// [`DefaultRender`](crate::render::DefaultRender)); see [`render`](crate::render).
            /// Order relative to `authorized` does not matter.
            pub fn render<R2>(self, render: R2) -> $layer<C, A, R2> {
                $layer {
                    shared: self.shared,
                    render,
                    _claims: PhantomData,
                }
            }
        }

        impl<C, A, R: Clone> Clone for $layer<C, A, R> {
            fn clone(&self) -> Self {
                Self {
                    shared: self.shared.clone(),
                    render: self.render.clone(),
                    _claims: PhantomData,
                }
            }
        }

        impl<C, A, R> fmt::Debug for $layer<C, A, R> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($layer))
                    .field("shared", &self.shared)
                    .finish_non_exhaustive()
            }
        }

        impl<S, C, A, R: Clone> Layer<S> for $layer<C, A, R> {
            type Service = $service<S, C, A, R>;

            fn layer(&self, inner: S) -> Self::Service {
                $service::new(inner, self.shared.clone(), self.render.clone())
            }
        }
    };
}

layer_common!(AuthLayer, AuthService);
layer_common!(AsyncAuthLayer, AsyncAuthService);
