//! [`Builder`]: every setting of the layer, with next-auth's defaults. The settings themselves
//! belong to the modules that use them (`sessions::Options`, `policy::Options`); `build` resolves
//! the environment and hands each its part.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::cookies::Limits;
use crate::error::ConfigError;
use crate::layer::AuthLayer;
use crate::policy::{self, CallbackUrl, Policy, SkipMode};
use crate::sessions::{self, Decoder, Sessions};
use crate::token::Format;

mod env;
use env::{Env, Secret, Url};

/// Builds an [`AuthLayer`]. Keys are derived once, in [`build`](Builder::build).
///
/// ```
/// use std::time::Duration;
/// use tower_nextauth::{AuthLayer, Builder, Format};
///
/// let layer = Builder::new()
///     .secrets(["new-secret-at-least-32-bytes-long", "old-secret-at-least-32-bytes-long"])
///     .format(Format::V5)
///     .url("https://app.example.com/api/auth")
///     .unwrap()
///     .sign_in_page("/login")
///     .leeway(Duration::from_secs(15))
///     .build()
///     .unwrap();
/// assert_eq!(
///     layer.sessions().cookie_names().collect::<Vec<_>>(),
///     ["__Secure-authjs.session-token"]
/// );
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct Builder {
    env: Env,
    url: Option<Url>,
    secrets: Option<Vec<Secret>>,
    secure: Option<bool>,
    sessions: sessions::Options,
    policy: policy::Options,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("secrets", &self.secrets.as_ref().map(|s| s.len()))
            .field("url", &self.url)
            .field("secure", &self.secure)
            .field("sessions", &self.sessions)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// A builder with next-auth's defaults: reads Auth.js v5 and NextAuth v4 cookies (v5 first),
    /// no secret yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder that takes secrets and the URL from the process environment, exactly as
    /// next-auth reads them (see [`from_env_vars`](Self::from_env_vars)).
    pub fn from_env() -> Self {
        Self::from_env_vars(|name| std::env::var(name).ok())
    }

    /// A builder that takes secrets and the URL from `var`, which looks up an environment variable.
    ///
    /// Resolved in [`build`](Self::build), so the final format decides the precedence:
    /// - v4 first: secret `NEXTAUTH_SECRET ?? AUTH_SECRET`, URL `NEXTAUTH_URL`; with no URL the
    ///   cookie is secure when `VERCEL` is set (v4 `getToken`).
    /// - v5 first: secret `AUTH_SECRET ?? NEXTAUTH_SECRET`; only when both are unset,
    ///   `[AUTH_SECRET_3, AUTH_SECRET_2, AUTH_SECRET_1]` (the first one present encrypts), as
    ///   next-auth v5 does. URL `AUTH_URL ?? NEXTAUTH_URL`.
    ///
    /// An https URL selects the `__Secure-` cookie name. Explicit builder calls win over the
    /// environment.
    ///
    /// ```
    /// use tower_nextauth::{AuthLayer, Builder};
    ///
    /// let env = |name: &str| match name {
    ///     "AUTH_SECRET" => Some("from-the-environment-32-bytes-long".to_owned()),
    ///     "AUTH_URL" => Some("https://example.com".to_owned()),
    ///     _ => None,
    /// };
    /// let layer = Builder::from_env_vars(env).build().unwrap();
    /// assert_eq!(
    ///     layer.sessions().cookie_names().collect::<Vec<_>>(),
    ///     ["__Secure-authjs.session-token", "__Secure-next-auth.session-token"]
    /// );
    /// ```
    pub fn from_env_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            env: Env::read(var),
            ..Self::default()
        }
    }

    /// The session secret (`NEXTAUTH_SECRET` / `AUTH_SECRET`).
    ///
    /// A secret shorter than 32 bytes still works (next-auth accepts it, and the layer must read
    /// the app's sessions), but [`build`](Self::build) says so once per process: in a `tracing`
    /// warning with the `tracing` feature, otherwise on stderr.
    pub fn secret(self, secret: impl AsRef<[u8]>) -> Self {
        self.secrets([secret])
    }

    /// Several secrets for rotation, newest first. The first encrypts; v5 tokens with a `kid` are
    /// tried against every secret, tokens without one only against the first (as `@auth/core`).
    pub fn secrets<S: AsRef<[u8]>>(mut self, secrets: impl IntoIterator<Item = S>) -> Self {
        self.secrets = Some(
            secrets
                .into_iter()
                .map(|s| Secret(s.as_ref().to_vec()))
                .collect(),
        );
        self
    }

    /// Reads (and writes) only `format`.
    pub fn format(self, format: Format) -> Self {
        self.formats([format])
    }

    /// Reads every format in `formats`, in order; the first one writes. `[Format::V5, Format::V4]`
    /// (the default) keeps v4 users signed in while an app migrates to Auth.js v5; upstream logs
    /// them all out.
    pub fn formats(mut self, formats: impl IntoIterator<Item = Format>) -> Self {
        self.sessions.formats = formats.into_iter().collect();
        self
    }

    /// A custom session cookie name (`cookies.sessionToken.name`). For v5 it is also the HKDF salt.
    /// The `__Secure-` prefix is not added to a custom name.
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.sessions.cookie_name = Some(name.into());
        self
    }

    /// The `Domain` of the session cookies this crate writes (next-auth's
    /// `cookies.sessionToken.options.domain`), so that `app.example.com` and `api.example.com`
    /// share one session: `.cookie_domain("example.com")`. Without it, cookies are host-only, as
    /// next-auth writes them by default. Reading is unaffected: browsers send the cookie either way.
    ///
    /// A `__Host-` cookie name cannot have a `Domain`, so [`build`](Self::build) refuses that
    /// combination with [`ConfigError::HostPrefixWithDomain`].
    ///
    /// ```
    /// use http::HeaderMap;
    /// use tower_nextauth::{AuthLayer, Builder, Format};
    ///
    /// let layer = Builder::new()
    ///     .secret("a-development-secret-of-32-bytes!")
    ///     .format(Format::V5)
    ///     .url("https://app.example.com")
    ///     .unwrap()
    ///     .cookie_domain("example.com")
    ///     .build()
    ///     .unwrap();
    /// let cookies = layer.sessions().sign_in(&HeaderMap::new(), &serde_json::json!({})).unwrap();
    /// assert!(cookies[0].to_str().unwrap().contains("; Domain=example.com; Path=/; Expires="));
    /// ```
    pub fn cookie_domain(mut self, domain: impl Into<String>) -> Self {
        self.sessions.cookie_domain = Some(domain.into());
        self
    }

    /// Whether the session cookie carries the `__Secure-` prefix. By default this follows the URL
    /// (`NEXTAUTH_URL`/`AUTH_URL` on https), as next-auth does.
    pub fn secure_cookie(mut self, secure: bool) -> Self {
        self.secure = Some(secure);
        self
    }

    /// Also reads the cookie name with the other prefix (`__Secure-` or none).
    ///
    /// This is for the most reported next-auth problem: behind a TLS-terminating proxy the app
    /// writes `__Secure-…` while the reader looks for the plain name (or the reverse), and users
    /// are signed out in a loop. Off by default, as upstream.
    pub fn either_prefix(mut self, either: bool) -> Self {
        self.sessions.either_prefix = either;
        self
    }

    /// The app URL (`NEXTAUTH_URL` / `AUTH_URL`). Its scheme selects the secure cookie name, its
    /// path is the auth base path (default `/api/auth`), and its origin is used for the sign-in
    /// redirect's `Location`.
    ///
    /// # Errors
    /// [`ConfigError::InvalidUrl`] when `url` is not an http(s) URL with a host.
    pub fn url(mut self, url: &str) -> Result<Self, ConfigError> {
        self.url = Some(Url::parse(url, "Builder::url")?);
        Ok(self)
    }

    /// This service's own public URL, when it runs on another origin than the Next.js app (Next
    /// on `:3000`, Rust on `:4000`, or `app.example.com` and `api.example.com`). The sign-in
    /// redirect still goes to the app ([`url`](Self::url) is required), but its `callbackUrl`
    /// is this origin plus the request's path and query, so the user comes back here after
    /// signing in. Only the origin of `url` is used.
    ///
    /// next-auth only follows a `callbackUrl` on another origin when its `redirect` callback
    /// allows it; see the README section "Where the Rust service lives".
    ///
    /// ```
    /// use http::{header::LOCATION, Request, Response};
    /// use tower::{service_fn, Layer, ServiceExt};
    /// use tower_nextauth::{AuthLayer, Builder};
    ///
    /// # tokio_test::block_on(async {
    /// let layer = Builder::new()
    ///     .secret("a-development-secret-of-32-bytes!")
    ///     .url("http://localhost:3000")?
    ///     .service_url("http://localhost:4000")?
    ///     .build()?;
    /// let svc = layer.layer(service_fn(|_req: Request<()>| async {
    ///     Ok::<_, std::convert::Infallible>(Response::new(String::new()))
    /// }));
    /// let res = svc.oneshot(Request::get("/rs/me?tab=1").body(()).unwrap()).await.unwrap();
    /// assert_eq!(
    ///     res.headers()[LOCATION],
    ///     "http://localhost:3000/api/auth/signin?callbackUrl=http%3A%2F%2Flocalhost%3A4000%2Frs%2Fme%3Ftab%3D1"
    /// );
    /// # Ok::<_, tower_nextauth::ConfigError>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`ConfigError::InvalidUrl`] when `url` is not an http(s) URL with a host; [`build`](Self::build)
    /// then fails with [`ConfigError::ServiceUrlWithoutAppUrl`] if there is no app URL.
    pub fn service_url(mut self, url: &str) -> Result<Self, ConfigError> {
        self.policy.service_origin = Some(Url::parse(url, "Builder::service_url")?.origin);
        Ok(self)
    }

    /// The Next.js `basePath`, e.g. `/docs`. Requests arrive with it; redirects keep it.
    pub fn base_path(mut self, base_path: impl Into<String>) -> Self {
        self.policy.base_path = base_path.into().trim_end_matches('/').to_owned();
        self
    }

    /// Which requests the layer handles, in Next.js `config.matcher` syntax: paste the list from
    /// your `middleware.ts`. A request no source matches passes untouched, without session work.
    /// Without a matcher every request is handled. The built-in skip list applies on top.
    ///
    /// A path with repeated slashes is handled when the matcher covers it as sent *or* with the
    /// slashes collapsed: Next.js redirects `/dashboard//x` to `/dashboard/x` before its
    /// middleware runs, while a router's wildcard (`/dashboard/{*rest}`) would serve it as is.
    ///
    /// ```
    /// use tower_nextauth::{AuthLayer, Builder};
    ///
    /// let layer = Builder::new()
    ///     .secret("a-development-secret-of-32-bytes!")
    ///     .matcher(["/dashboard/:path*", "/((?!api|_next/static|_next/image|.*\\.png$).*)"])
    ///     .unwrap()
    ///     .build()
    ///     .unwrap();
    /// # let _ = layer;
    /// ```
    ///
    /// # Errors
    /// [`ConfigError::InvalidMatcher`] for a source Next.js would refuse.
    pub fn matcher<S: AsRef<str>>(
        mut self,
        sources: impl IntoIterator<Item = S>,
    ) -> Result<Self, ConfigError> {
        let sources: Vec<String> = sources.into_iter().map(|s| s.as_ref().to_owned()).collect();
        // Compiled again in `build` with the final base path; this call reports errors early.
        crate::matcher::Matcher::new(&sources).map_err(ConfigError::InvalidMatcher)?;
        self.policy.matcher = Some(sources);
        Ok(self)
    }

    /// The sign-in page (`pages.signIn`), default `/api/auth/signin`. It may carry a query string.
    pub fn sign_in_page(mut self, page: impl Into<String>) -> Self {
        self.policy.sign_in_page = page.into();
        self
    }

    /// The error page (`pages.error`), default `/api/auth/error`.
    pub fn error_page(mut self, page: impl Into<String>) -> Self {
        self.policy.error_page = page.into();
        self
    }

    /// How the built-in skip list (auth path, `/_next`, `/favicon.ico`) matches paths.
    /// Default [`SkipMode::Segment`]; [`SkipMode::Prefix`] is `withAuth`'s exact behaviour.
    pub fn skip_mode(mut self, mode: SkipMode) -> Self {
        self.policy.skip = mode;
        self
    }

    /// `withAuth` parity for denials: every denied request is redirected to sign-in with a 307,
    /// as in next-auth v4, whatever the client (no 401 for APIs, no gRPC status) and even for a
    /// signed-in user whom `authorized` denies. That redirect can loop
    /// (nextauthjs/next-auth#4787), which is why it is off by default.
    pub fn strict_with_auth(mut self, strict: bool) -> Self {
        self.policy.strict = strict;
        self
    }

    /// Path prefixes of API routes, whose unauthenticated requests get `401` JSON instead of a
    /// sign-in redirect (nextauthjs/next-auth#13102). Matched by segment, after the base path.
    /// Default `["/api"]`; requests asking for JSON, sending `X-Requested-With`, or using a method
    /// other than GET/HEAD count as API calls wherever they go.
    pub fn api_paths<S: Into<String>>(mut self, paths: impl IntoIterator<Item = S>) -> Self {
        self.policy.api_paths = paths.into_iter().map(Into::into).collect();
        self
    }

    /// Relative (`withAuth`, the default) or absolute (v5 `auth()`) `callbackUrl`.
    pub fn callback_url(mut self, style: CallbackUrl) -> Self {
        self.policy.callback_url = style;
        self
    }

    /// Sliding sessions: when on, a valid session cookie issued (`iat`) at least
    /// [`update_age`](Self::update_age) ago (default 24 h) is re-encoded with a fresh `exp` and set
    /// on the response, chunked and cleaned like any session cookie, in the format and under the
    /// name it was read from.
    ///
    /// Off by default, as in v4 `withAuth`. v5's middleware re-sets the cookie on every request
    /// (nextauthjs/next-auth#10032); the `update_age` throttle avoids that. A response that
    /// already sets the session cookie (a sign-in or sign-out handler) is left alone.
    pub fn refresh(mut self, refresh: bool) -> Self {
        self.policy.update_age = match (refresh, self.policy.update_age) {
            (false, _) => None,
            (true, Some(age)) => Some(age),
            (true, None) => Some(Duration::from_secs(24 * 60 * 60)),
        };
        self
    }

    /// How old a session must be before [`refresh`](Self::refresh) re-issues it; setting it turns
    /// refresh on. next-auth's `session.updateAge`, default 24 h.
    pub fn update_age(mut self, update_age: Duration) -> Self {
        self.policy.update_age = Some(update_age);
        self
    }

    /// Clock tolerance for `exp` and `nbf`; default 15 s, as next-auth.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.sessions.leeway = leeway;
        self
    }

    /// Rejects tokens without `exp`. Off by default, because next-auth accepts them.
    pub fn require_exp(mut self, require: bool) -> Self {
        self.sessions.require_exp = require;
        self
    }

    /// The lifetime of tokens this crate encodes (`session.maxAge`); default 30 days.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.sessions.max_age = max_age;
        self
    }

    /// The clock, in seconds since the Unix epoch. Tests inject a fixed time here.
    pub fn clock(mut self, now: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.sessions.clock = Some(Arc::new(now));
        self
    }

    /// Replaces the built-in formats with a custom decoder (`withAuth`'s `jwt.decode`), applied to
    /// the session cookie and the `Authorization: Bearer` fallback. No secret is needed then.
    pub fn decoder(mut self, decoder: impl Decoder) -> Self {
        self.sessions.decoder = Some(Arc::new(decoder));
        self
    }

    /// Whether a request without a session cookie may carry its token as `Authorization: Bearer`.
    /// On by default, as in `getToken`.
    pub fn bearer(mut self, bearer: bool) -> Self {
        self.sessions.bearer = bearer;
        self
    }

    /// Caps on the session cookie size and chunk count.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.sessions.limits = limits;
        self
    }

    /// Bounds the cache of verified sessions: at most `entries` sessions and about `bytes` bytes
    /// (4,096 and 8 MiB by default). `0` for either turns the cache off, so every request
    /// decrypts its cookie.
    ///
    /// A browser sends the same session cookie on every request until it is refreshed, so the
    /// layer keeps the verified claims of a token it has decrypted twice recently, keyed by the
    /// exact token bytes and the cookie name it came under, and decrypts it no more. (A token
    /// seen once is not kept: that costs it a copy, an insertion and an eviction for nothing, and
    /// would push out sessions in use.) Every hit checks `exp` and `nbf` against the
    /// clock again, and runs the matcher, `authorized` and refresh as any request does. Only
    /// tokens that verified are kept: a forged, expired or undecryptable cookie is decrypted
    /// (and refused) each time, and cannot push real sessions out. The cache belongs to the
    /// layer's keys: a layer built with other secrets starts with an empty one.
    ///
    /// ```
    /// use tower_nextauth::{Builder, Format, Token};
    ///
    /// let layer = Builder::new()
    ///     .secret("a-development-secret-of-32-bytes!")
    ///     .format(Format::V5)
    ///     .session_cache(100_000, 64 << 20)
    ///     .build()
    ///     .unwrap();
    /// let jwe = layer.sessions().encode(&serde_json::json!({"name": "Ada"})).unwrap();
    /// let _first: Token = layer.sessions().decode(&jwe).unwrap();
    /// let second: Token = layer.sessions().decode(&jwe).unwrap();
    /// let again: Token = layer.sessions().decode(&jwe).unwrap();
    /// // Stored on its second read; later reads share its claims instead of decrypting again.
    /// assert!(std::ptr::eq(second.claims(), again.claims()));
    ///
    /// let uncached = Builder::new()
    ///     .secret("a-development-secret-of-32-bytes!")
    ///     .format(Format::V5)
    ///     .session_cache(0, 0)
    ///     .build()
    ///     .unwrap();
    /// let a: Token = uncached.sessions().decode(&jwe).unwrap();
    /// let b: Token = uncached.sessions().decode(&jwe).unwrap();
    /// assert!(!std::ptr::eq(a.claims(), b.claims()));
    /// assert_eq!(a["name"], b["name"]);
    /// ```
    pub fn session_cache(mut self, entries: usize, bytes: usize) -> Self {
        self.sessions.cache_entries = entries;
        self.sessions.cache_bytes = bytes;
        self
    }

    /// Derives every key and builds the layer.
    ///
    /// # Errors
    /// [`ConfigError::MissingSecret`] when a built-in format has no non-empty secret, and the
    /// other [`ConfigError`]s for invalid names, paths and URLs.
    pub fn build(self) -> Result<AuthLayer, ConfigError> {
        let primary = *self.sessions.formats.first().ok_or(ConfigError::NoFormat)?;
        let url = match (self.url, self.env.url(primary)) {
            (Some(url), _) => Some(url),
            (None, Some((from, raw))) => Some(Url::parse(raw, from)?),
            (None, None) => None,
        };
        // next-auth's `useSecureCookies`: the URL's scheme, else (v4 `getToken`) `VERCEL`.
        let secure = self
            .secure
            .or(url.as_ref().map(|u| u.https))
            .unwrap_or(primary == Format::V4 && self.env.vercel);
        let secrets = self.secrets.unwrap_or_else(|| self.env.secrets(primary));
        let secrets: Vec<&[u8]> = secrets.iter().map(|s| s.0.as_slice()).collect();
        let origin = url.as_ref().map(|u| u.origin.as_str());
        let sessions = Sessions::new(self.sessions, &secrets, secure, origin)?;
        let app = url.as_ref().map(|u| (u.origin.as_str(), u.path.as_str()));
        let policy = Policy::new(self.policy, app)?;
        Ok(AuthLayer::new(sessions, policy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> Builder {
        Builder::from_env_vars(move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    fn names(layer: &AuthLayer) -> Vec<String> {
        layer.sessions().cookie_names().map(str::to_owned).collect()
    }

    #[test]
    fn missing_or_empty_secret_is_a_config_error() {
        assert_eq!(
            Builder::new().build().unwrap_err(),
            ConfigError::MissingSecret
        );
        assert_eq!(
            Builder::new().secret("").build().unwrap_err(),
            ConfigError::MissingSecret
        );
        assert_eq!(
            env(&[("NEXTAUTH_SECRET", "")]).build().unwrap_err(),
            ConfigError::MissingSecret
        );
    }

    #[test]
    fn nextauth_url_https_selects_the_secure_name_for_v4() {
        let layer = env(&[
            ("NEXTAUTH_SECRET", "s"),
            ("NEXTAUTH_URL", "https://example.com"),
        ])
        .format(Format::V4)
        .build()
        .unwrap();
        assert_eq!(names(&layer), ["__Secure-next-auth.session-token"]);
    }

    #[test]
    fn invalid_urls_from_the_environment_or_the_builder_name_their_source() {
        let error = env(&[("AUTH_SECRET", "s"), ("AUTH_URL", "ftp://files")])
            .build()
            .unwrap_err();
        assert_eq!(
            error,
            ConfigError::InvalidUrl {
                from: "AUTH_URL",
                value: "ftp://files".into()
            }
        );
        assert_eq!(
            Builder::new().url("javascript:alert(1)").unwrap_err(),
            ConfigError::InvalidUrl {
                from: "Builder::url",
                value: "javascript:alert(1)".into()
            }
        );
    }

    #[test]
    fn v4_reads_nextauth_url_only_and_v5_falls_back_to_it() {
        let vars = &[
            ("AUTH_SECRET", "s"),
            ("AUTH_URL", "https://auth.example.com"),
        ];
        let v4 = env(vars).format(Format::V4).build().unwrap();
        assert_eq!(names(&v4), ["next-auth.session-token"]);
        let v5 = env(vars).format(Format::V5).build().unwrap();
        assert_eq!(names(&v5), ["__Secure-authjs.session-token"]);
        let v5 = env(&[
            ("AUTH_SECRET", "s"),
            ("NEXTAUTH_URL", "https://a.example.com"),
        ])
        .format(Format::V5)
        .build()
        .unwrap();
        assert_eq!(names(&v5), ["__Secure-authjs.session-token"]);
    }

    #[test]
    fn vercel_only_counts_without_a_url_as_in_get_token() {
        let v4 = |vars| env(vars).format(Format::V4).build().unwrap();
        assert_eq!(
            names(&v4(&[("NEXTAUTH_SECRET", "s"), ("VERCEL", "1")])),
            ["__Secure-next-auth.session-token"]
        );
        assert_eq!(
            names(&v4(&[
                ("NEXTAUTH_SECRET", "s"),
                ("VERCEL", "1"),
                ("NEXTAUTH_URL", "http://localhost:3000")
            ])),
            ["next-auth.session-token"]
        );
    }

    #[test]
    fn prefixed_names_are_always_secure() {
        for name in [
            "__Host-session",
            "__host-session",
            "__Secure-session",
            "__SECURE-session",
        ] {
            let layer = Builder::new()
                .secret("s")
                .format(Format::V4)
                .cookie_name(name)
                .url("http://localhost:3000")
                .unwrap()
                .build()
                .unwrap();
            let set = layer
                .sessions()
                .sign_in(&http::HeaderMap::new(), &serde_json::json!({}))
                .unwrap();
            assert!(set[0].to_str().unwrap().contains("; Secure;"), "{name}");
        }
        let plain = Builder::new()
            .secret("s")
            .format(Format::V4)
            .cookie_name("session")
            .url("http://localhost:3000")
            .unwrap()
            .build()
            .unwrap();
        let set = plain
            .sessions()
            .sign_in(&http::HeaderMap::new(), &serde_json::json!({}))
            .unwrap();
        assert!(!set[0].to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn host_prefix_with_a_domain_is_a_config_error() {
        let error = Builder::new()
            .secret("s")
            .cookie_name("__Host-session")
            .cookie_domain("example.com")
            .build()
            .unwrap_err();
        assert_eq!(
            error,
            ConfigError::HostPrefixWithDomain {
                name: "__Host-session".into(),
                domain: "example.com".into()
            }
        );
        assert!(error.to_string().contains("__Host-session"));
    }

    #[test]
    fn cookie_domains_follow_cookie_serialize() {
        for domain in [
            "example.com",
            ".example.com",
            "localhost",
            "a-b.example.co.uk",
        ] {
            assert!(crate::cookies::valid_domain(domain), "{domain}");
        }
        for domain in [
            "",
            ".",
            "example.com.",
            "-a.com",
            "a..com",
            "exa mple.com",
            "a.com;x=1",
            "é.com",
        ] {
            assert!(!crate::cookies::valid_domain(domain), "{domain:?}");
            assert_eq!(
                Builder::new()
                    .secret("s")
                    .cookie_domain(domain)
                    .build()
                    .unwrap_err(),
                ConfigError::InvalidCookieDomain(domain.into())
            );
        }
    }

    #[test]
    fn either_prefix_reads_both_names() {
        let layer = Builder::new()
            .secret("s")
            .format(Format::V5)
            .either_prefix(true)
            .build()
            .unwrap();
        assert_eq!(
            names(&layer),
            ["authjs.session-token", "__Secure-authjs.session-token"]
        );
    }

    #[test]
    fn debug_never_prints_secrets() {
        let builder = Builder::new().secret("super-secret-value");
        assert!(!format!("{builder:?}").contains("super-secret"));
        let layer = builder.build().unwrap();
        assert!(!format!("{layer:?}").contains("super-secret"));
    }
}
