//! Configuration: secrets, formats, cookie names, URLs, and loading them from the environment as
//! next-auth does (`NEXTAUTH_SECRET`, `AUTH_SECRET`, `AUTH_SECRET_1..3`, `NEXTAUTH_URL`, `AUTH_URL`).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cookies::Limits;
use crate::error::ConfigError;
use crate::jwe::{V4Key, V5Keys};
use crate::layer::{AuthLayer, Policy, SkipMode};
use crate::reject::{CallbackUrl, DefaultRender};
use crate::sessions::{Clock, Codec, Decoder, Inner, Source};

mod env;
use crate::token::Validation;
use crate::Sessions;
use env::{Env, Secret, Url};

/// next-auth's `DEFAULT_MAX_AGE`: 30 days.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// A session token format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// NextAuth.js v4 (`next-auth@4`): `dir` + `A256GCM`, cookie `next-auth.session-token`.
    V4,
    /// Auth.js v5 (`next-auth@5`, `@auth/core`): `dir` + `A256CBC-HS512` (or `A256GCM`) keyed by
    /// the cookie name, cookie `authjs.session-token`.
    V5,
}

impl Format {
    /// The default session cookie name, without the `__Secure-` prefix.
    ///
    /// ```
    /// use tower_nextauth::Format;
    /// assert_eq!(Format::V4.cookie_name(), "next-auth.session-token");
    /// assert_eq!(Format::V5.cookie_name(), "authjs.session-token");
    /// ```
    pub fn cookie_name(self) -> &'static str {
        match self {
            Format::V4 => "next-auth.session-token",
            Format::V5 => "authjs.session-token",
        }
    }
}

/// The prefix next-auth puts on cookie names when it runs on HTTPS.
const SECURE_PREFIX: &str = "__Secure-";
/// The stricter prefix (RFC 6265bis §4.1.3.2): `Secure`, `Path=/`, no `Domain`.
const HOST_PREFIX: &str = "__Host-";

/// Whether `name` starts with a cookie prefix; browsers compare prefixes case-insensitively
/// (RFC 6265bis §4.1.3).
fn has_prefix(name: &str, prefix: &str) -> bool {
    name.len() >= prefix.len()
        && name.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// The domains `cookie.serialize` accepts (cookie@0.7.2 index.js `domainValueRegExp`): dot-separated
/// labels of letters, digits and inner hyphens, up to 63 bytes each, with an optional leading dot.
fn valid_domain(domain: &str) -> bool {
    let labels = domain.strip_prefix('.').unwrap_or(domain);
    !labels.is_empty()
        && labels.split('.').all(|label| {
            let bytes = label.as_bytes();
            (1..=63).contains(&bytes.len())
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
                && bytes[0] != b'-'
                && bytes[bytes.len() - 1] != b'-'
        })
}

/// Builds an [`AuthLayer`]. Keys are derived once, in [`build`](Builder::build).
///
/// ```
/// use std::time::Duration;
/// use tower_nextauth::{AuthLayer, Format};
///
/// let layer = AuthLayer::builder()
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
#[derive(Clone)]
#[must_use]
pub struct Builder {
    secrets: Option<Vec<Secret>>,
    formats: Vec<Format>,
    cookie_name: Option<String>,
    cookie_domain: Option<String>,
    secure: Option<bool>,
    either_prefix: bool,
    url: Option<Url>,
    env: Env,
    matcher: Option<Vec<String>>,
    base_path: String,
    sign_in_page: String,
    error_page: String,
    skip: SkipMode,
    strict: bool,
    api_paths: Vec<String>,
    callback_url: CallbackUrl,
    update_age: Option<Duration>,
    leeway: Duration,
    require_exp: bool,
    max_age: Duration,
    clock: Option<Clock>,
    decoder: Option<Arc<dyn Decoder>>,
    bearer: bool,
    limits: Limits,
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            secrets: None,
            formats: vec![Format::V5, Format::V4],
            cookie_name: None,
            cookie_domain: None,
            secure: None,
            either_prefix: false,
            url: None,
            env: Env::default(),
            matcher: None,
            base_path: String::new(),
            sign_in_page: "/api/auth/signin".into(),
            error_page: "/api/auth/error".into(),
            skip: SkipMode::default(),
            strict: false,
            api_paths: vec!["/api".into()],
            callback_url: CallbackUrl::Relative,
            update_age: None,
            leeway: Duration::from_secs(15),
            require_exp: false,
            max_age: DEFAULT_MAX_AGE,
            clock: None,
            decoder: None,
            bearer: true,
            limits: Limits::default(),
        }
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("secrets", &self.secrets.as_ref().map(|s| s.len()))
            .field("formats", &self.formats)
            .field("cookie_name", &self.cookie_name)
            .field("secure", &self.secure)
            .field("base_path", &self.base_path)
            .field("sign_in_page", &self.sign_in_page)
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
        self.formats = formats.into_iter().collect();
        self
    }

    /// A custom session cookie name (`cookies.sessionToken.name`). For v5 it is also the HKDF salt.
    /// The `__Secure-` prefix is not added to a custom name.
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = Some(name.into());
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
    /// use tower_nextauth::{AuthLayer, Format};
    ///
    /// let layer = AuthLayer::builder()
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
        self.cookie_domain = Some(domain.into());
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
        self.either_prefix = either;
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

    /// The Next.js `basePath`, e.g. `/docs`. Requests arrive with it; redirects keep it.
    pub fn base_path(mut self, base_path: impl Into<String>) -> Self {
        self.base_path = base_path.into().trim_end_matches('/').to_owned();
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
    /// use tower_nextauth::AuthLayer;
    ///
    /// let layer = AuthLayer::builder()
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
        crate::Matcher::new(&sources).map_err(ConfigError::InvalidMatcher)?;
        self.matcher = Some(sources);
        Ok(self)
    }

    /// The sign-in page (`pages.signIn`), default `/api/auth/signin`. It may carry a query string.
    pub fn sign_in_page(mut self, page: impl Into<String>) -> Self {
        self.sign_in_page = page.into();
        self
    }

    /// The error page (`pages.error`), default `/api/auth/error`.
    pub fn error_page(mut self, page: impl Into<String>) -> Self {
        self.error_page = page.into();
        self
    }

    /// How the built-in skip list (auth path, `/_next`, `/favicon.ico`) matches paths.
    /// Default [`SkipMode::Segment`]; [`SkipMode::Prefix`] is `withAuth`'s exact behaviour.
    pub fn skip_mode(mut self, mode: SkipMode) -> Self {
        self.skip = mode;
        self
    }

    /// `withAuth` parity for denials: every denied request is redirected to sign-in with a 307,
    /// as in next-auth v4, whatever the client (no 401 for APIs, no gRPC status) and even for a
    /// signed-in user whom `authorized` denies. That redirect can loop
    /// (nextauthjs/next-auth#4787), which is why it is off by default.
    pub fn strict_with_auth(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Path prefixes of API routes, whose unauthenticated requests get `401` JSON instead of a
    /// sign-in redirect (nextauthjs/next-auth#13102). Matched by segment, after the base path.
    /// Default `["/api"]`; requests asking for JSON, sending `X-Requested-With`, or using a method
    /// other than GET/HEAD count as API calls wherever they go.
    pub fn api_paths<S: Into<String>>(mut self, paths: impl IntoIterator<Item = S>) -> Self {
        self.api_paths = paths.into_iter().map(Into::into).collect();
        self
    }

    /// Relative (`withAuth`, the default) or absolute (v5 `auth()`) `callbackUrl`.
    pub fn callback_url(mut self, style: CallbackUrl) -> Self {
        self.callback_url = style;
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
        self.update_age = match (refresh, self.update_age) {
            (false, _) => None,
            (true, Some(age)) => Some(age),
            (true, None) => Some(Duration::from_secs(24 * 60 * 60)),
        };
        self
    }

    /// How old a session must be before [`refresh`](Self::refresh) re-issues it; setting it turns
    /// refresh on. next-auth's `session.updateAge`, default 24 h.
    pub fn update_age(mut self, update_age: Duration) -> Self {
        self.update_age = Some(update_age);
        self
    }

    /// Clock tolerance for `exp` and `nbf`; default 15 s, as next-auth.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Rejects tokens without `exp`. Off by default, because next-auth accepts them.
    pub fn require_exp(mut self, require: bool) -> Self {
        self.require_exp = require;
        self
    }

    /// The lifetime of tokens this crate encodes (`session.maxAge`); default 30 days.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// The clock, in seconds since the Unix epoch. Tests inject a fixed time here.
    pub fn clock(mut self, now: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(now));
        self
    }

    /// Replaces the built-in formats with a custom decoder (`withAuth`'s `jwt.decode`), applied to
    /// the session cookie and the `Authorization: Bearer` fallback. No secret is needed then.
    pub fn decoder(mut self, decoder: impl Decoder) -> Self {
        self.decoder = Some(Arc::new(decoder));
        self
    }

    /// Whether a request without a session cookie may carry its token as `Authorization: Bearer`.
    /// On by default, as in `getToken`.
    pub fn bearer(mut self, bearer: bool) -> Self {
        self.bearer = bearer;
        self
    }

    /// Caps on the session cookie size and chunk count.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Derives every key and builds the layer.
    ///
    /// # Errors
    /// [`ConfigError::MissingSecret`] when a built-in format has no non-empty secret, and the
    /// other [`ConfigError`]s for invalid names, paths and URLs.
    pub fn build(self) -> Result<AuthLayer, ConfigError> {
        let primary = *self.formats.first().ok_or(ConfigError::NoFormat)?;
        let env = &self.env;
        let env_url = env.url(primary);
        let url = match (self.url, env_url) {
            (Some(url), _) => Some(url),
            (None, Some((from, raw))) => Some(Url::parse(raw, from)?),
            (None, None) => None,
        };
        let secure = self
            .secure
            .or(url.as_ref().map(|u| u.https))
            .unwrap_or(primary == Format::V4 && env.vercel);

        for (what, path) in [
            ("the base path", &self.base_path),
            ("the sign-in page", &self.sign_in_page),
            ("the error page", &self.error_page),
        ] {
            let valid = (path.is_empty() && what == "the base path") || path.starts_with('/');
            if !valid || !path.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(ConfigError::InvalidPath(what));
            }
        }

        let names = cookie_names(
            &self.formats,
            self.cookie_name.as_deref(),
            secure,
            self.either_prefix,
        )?;
        if let Some(domain) = &self.cookie_domain {
            if !valid_domain(domain) {
                return Err(ConfigError::InvalidCookieDomain(domain.clone()));
            }
            if let Some((name, _)) = names.iter().find(|(name, _)| has_prefix(name, HOST_PREFIX)) {
                return Err(ConfigError::HostPrefixWithDomain {
                    name: name.clone(),
                    domain: domain.clone(),
                });
            }
        }
        // Next-auth sets `Secure` from `useSecureCookies`, whatever the name. A browser drops a
        // `__Secure-` or `__Host-` cookie without `Secure` (RFC 6265bis §4.1.3), so those always
        // get it, whatever the URL says.
        let custom_name = self.cookie_name.is_some();
        let secure_for = |name: &str| {
            has_prefix(name, SECURE_PREFIX)
                || has_prefix(name, HOST_PREFIX)
                || (custom_name && secure)
        };
        // Login CSRF (issue 10): the raw secrets, the secure flag and the app origin (src/csrf.rs).
        let csrf = crate::Csrf::new(
            primary,
            self.secrets
                .clone()
                .unwrap_or_else(|| env.secrets(primary))
                .into_iter()
                .map(|s| s.0),
            secure,
            url.as_ref().map(|u| u.origin.as_str()),
        );
        let sources = match self.decoder {
            Some(decoder) => names
                .into_iter()
                .map(|(name, _)| Source {
                    secure: secure_for(&name),
                    name,
                    codec: Codec::Custom(decoder.clone()),
                })
                .collect(),
            None => {
                let secrets = match self.secrets {
                    Some(secrets) => secrets,
                    None => env.secrets(primary),
                };
                if secrets.is_empty() || secrets.iter().any(|s| s.0.is_empty()) {
                    return Err(ConfigError::MissingSecret);
                }
                // `openssl rand -base64 32` (what next-auth's docs suggest) gives 44 characters.
                #[cfg(feature = "tracing")]
                if let Some(short) = secrets.iter().map(|s| s.0.len()).filter(|&n| n < 32).min() {
                    tracing::warn!(
                        length = short,
                        "a session secret is shorter than 32 bytes; generate one with `openssl rand -base64 32`"
                    );
                }
                names
                    .into_iter()
                    .map(|(name, format)| {
                        let codec = match format {
                            // v4 has no rotation and no kid: the first secret only
                            // (next-auth@4.24.15 jwt/index.js).
                            Format::V4 => Codec::V4(V4Key::new(&secrets[0].0)),
                            Format::V5 => Codec::V5(V5Keys::new(
                                secrets.iter().map(|s| s.0.as_slice()),
                                &name,
                            )),
                        };
                        Source {
                            secure: secure_for(&name),
                            name,
                            codec,
                        }
                    })
                    .collect()
            }
        };

        let clock = self.clock.unwrap_or_else(|| Arc::new(unix_now));
        let sessions = Sessions {
            inner: Arc::new(Inner {
                sources,
                bearer: self.bearer,
                validation: Validation {
                    leeway: whole_seconds(self.leeway),
                    require_exp: self.require_exp,
                },
                limits: self.limits,
                clock,
                max_age: whole_seconds(self.max_age),
                domain: self.cookie_domain,
                csrf,
            }),
        };
        let matcher = match &self.matcher {
            Some(sources) => Some(
                crate::Matcher::with_base_path(sources, &self.base_path)
                    .map_err(ConfigError::InvalidMatcher)?,
            ),
            None => None,
        };
        let policy = Policy {
            matcher,
            base_path: self.base_path,
            auth_path: url
                .as_ref()
                .map_or_else(|| "/api/auth".to_owned(), |u| u.path.clone()),
            sign_in_page: self.sign_in_page,
            error_page: self.error_page,
            skip: self.skip,
            origin: url.map(|u| u.origin),
            strict: self.strict,
            update_age: self.update_age.map(whole_seconds),
            api_paths: self.api_paths,
            callback_url: self.callback_url,
            render: Arc::new(DefaultRender),
        };
        Ok(AuthLayer::new(sessions, policy))
    }
}

/// The session cookie names to read, in order, with the format each one holds.
fn cookie_names(
    formats: &[Format],
    custom: Option<&str>,
    secure: bool,
    either_prefix: bool,
) -> Result<Vec<(String, Format)>, ConfigError> {
    let mut names = Vec::new();
    for &format in formats {
        let candidates: Vec<String> = match custom {
            Some(name) => vec![name.to_owned()],
            None => {
                let plain = format.cookie_name();
                let prefixed = format!("{SECURE_PREFIX}{plain}");
                match (secure, either_prefix) {
                    (true, false) => vec![prefixed],
                    (false, false) => vec![plain.to_owned()],
                    (true, true) => vec![prefixed, plain.to_owned()],
                    (false, true) => vec![plain.to_owned(), prefixed],
                }
            }
        };
        for name in candidates {
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
            if !valid {
                return Err(ConfigError::InvalidCookieName);
            }
            if !names.iter().any(|(n, f)| *n == name && *f == format) {
                names.push((name, format));
            }
        }
    }
    Ok(names)
}

/// A duration in whole seconds as the `i64` the time claims use, saturating rather than
/// wrapping for durations past `i64::MAX` seconds.
fn whole_seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, whole_seconds)
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
            assert!(layer.sessions().inner.sources[0].secure, "{name}");
        }
        let plain = Builder::new()
            .secret("s")
            .format(Format::V4)
            .cookie_name("session")
            .url("http://localhost:3000")
            .unwrap()
            .build()
            .unwrap();
        assert!(!plain.sessions().inner.sources[0].secure);
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
            assert!(valid_domain(domain), "{domain}");
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
            assert!(!valid_domain(domain), "{domain:?}");
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
