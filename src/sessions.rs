//! [`Sessions`]: the keys and rules that turn request headers into a [`Token`], usable with or
//! without the layer.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::cache::{Tag, Verified, ANY_SOURCE};
use crate::cookies::{self, Limits};
use crate::csrf::Csrf;
use crate::error::{ConfigError, EncodeError, SessionError};
use crate::jwe::{V4Key, V5Keys};
use crate::token::{unix_now, whole_seconds, Claims, Format, Token, TokenSource, Validation};

/// A custom token decoder: the counterpart of `withAuth`'s `jwt.decode` option.
///
/// A decoder turns the token string (a reassembled session cookie, or the `Authorization: Bearer`
/// value) into the bytes of a JSON claims object. It only has to establish that the token is
/// authentic; the layer then applies the same `exp`/`nbf` leeway, claims type and `authorized`
/// flow as for the built-in formats. With the `jose` feature, [`JwtDecoder`](crate::jose::JwtDecoder)
/// verifies signed JWTs.
///
/// # Security
/// Return [`SessionError::Undecryptable`] for every authenticity failure, without detail: the
/// reason is observable by the client through timing or logs otherwise.
///
/// ```
/// use tower_nextauth::{AuthLayer, Builder, Decoder, SessionError, Token};
///
/// /// Accepts `test:<json>` tokens; for tests only.
/// struct Plain;
///
/// impl Decoder for Plain {
///     fn decode(&self, token: &str) -> Result<Vec<u8>, SessionError> {
///         token
///             .strip_prefix("test:")
///             .map(|json| json.as_bytes().to_vec())
///             .ok_or(SessionError::Undecryptable)
///     }
/// }
///
/// let layer = Builder::new().decoder(Plain).build().unwrap();
/// let token: Token = layer.sessions().decode(r#"test:{"sub":"7"}"#).unwrap();
/// assert_eq!(token["sub"], "7");
/// ```
pub trait Decoder: Send + Sync + 'static {
    /// Verifies `token` and returns its JSON claims.
    ///
    /// # Errors
    /// [`SessionError::Malformed`] when the token is not of this decoder's shape, and
    /// [`SessionError::Undecryptable`] when it fails verification.
    fn decode(&self, token: &str) -> Result<Vec<u8>, SessionError>;
}

// Built once per cookie name; keeping the AES key schedule inline saves a pointer chase per request.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Codec {
    V4(V4Key),
    V5(V5Keys),
    Custom(Arc<dyn Decoder>),
}

impl Codec {
    fn decrypt(&self, token: &str) -> Result<Vec<u8>, SessionError> {
        match self {
            Codec::V4(key) => key.decrypt(token),
            Codec::V5(keys) => keys.decrypt(token),
            Codec::Custom(decoder) => decoder.decode(token),
        }
    }

    pub(crate) fn format(&self) -> Option<Format> {
        match self {
            Codec::V4(_) => Some(Format::V4),
            Codec::V5(_) => Some(Format::V5),
            Codec::Custom(_) => None,
        }
    }
}

/// One cookie name and the codec for it (v5 keys depend on the name, which is the HKDF salt).
pub(crate) struct Source {
    pub(crate) name: String,
    pub(crate) codec: Codec,
    /// Whether cookies written under this name carry `Secure`: always with the `__Secure-`
    /// prefix, and for a custom name when the app runs on https (next-auth's `useSecureCookies`).
    pub(crate) secure: bool,
}

pub(crate) type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// next-auth's `DEFAULT_MAX_AGE`: 30 days.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The session settings a [`Builder`](crate::Builder) collects, with next-auth's defaults.
#[derive(Clone)]
pub(crate) struct Options {
    pub(crate) formats: Vec<Format>,
    pub(crate) cookie_name: Option<String>,
    pub(crate) cookie_domain: Option<String>,
    pub(crate) either_prefix: bool,
    pub(crate) leeway: Duration,
    pub(crate) require_exp: bool,
    pub(crate) max_age: Duration,
    pub(crate) clock: Option<Clock>,
    pub(crate) decoder: Option<Arc<dyn Decoder>>,
    pub(crate) bearer: bool,
    pub(crate) limits: Limits,
    /// The verified-session cache's bounds (0 turns it off).
    pub(crate) cache_entries: usize,
    pub(crate) cache_bytes: usize,
}

/// The session cache's default bounds: 4,096 sessions, 8 MiB.
pub(crate) const DEFAULT_CACHE_ENTRIES: usize = 4096;
pub(crate) const DEFAULT_CACHE_BYTES: usize = 8 << 20;

impl Default for Options {
    fn default() -> Self {
        Self {
            formats: vec![Format::V5, Format::V4],
            cookie_name: None,
            cookie_domain: None,
            either_prefix: false,
            leeway: Duration::from_secs(15),
            require_exp: false,
            max_age: DEFAULT_MAX_AGE,
            clock: None,
            decoder: None,
            bearer: true,
            limits: Limits::default(),
            cache_entries: DEFAULT_CACHE_ENTRIES,
            cache_bytes: DEFAULT_CACHE_BYTES,
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("formats", &self.formats)
            .field("cookie_name", &self.cookie_name)
            .field("cookie_domain", &self.cookie_domain)
            .field("either_prefix", &self.either_prefix)
            .field("leeway", &self.leeway)
            .field("max_age", &self.max_age)
            .field("bearer", &self.bearer)
            .field("limits", &self.limits)
            .field("cache_entries", &self.cache_entries)
            .field("cache_bytes", &self.cache_bytes)
            .finish_non_exhaustive()
    }
}

struct Inner {
    /// Tried in order; the first one also writes.
    sources: Vec<Source>,
    bearer: bool,
    validation: Validation,
    limits: Limits,
    clock: Clock,
    max_age: i64,
    /// The `Domain` attribute of written session cookies (next-auth's
    /// `cookies.sessionToken.options.domain`).
    domain: Option<String>,
    /// Issues and verifies next-auth's login CSRF token ([`Sessions::csrf`]).
    csrf: Csrf,
    /// Verified sessions (src/cache.rs); `None` when turned off.
    verified: Option<Verified>,
    /// When the last misconfiguration warning was logged (`i64::MIN`: never).
    #[cfg(feature = "tracing")]
    warned_at: std::sync::atomic::AtomicI64,
}

/// Reads (and writes) sessions with keys derived once, when the layer was built.
///
/// Get one from [`AuthLayer::sessions`](crate::AuthLayer::sessions). Cloning is cheap.
///
/// ```
/// use http::{header::COOKIE, HeaderMap};
/// use tower_nextauth::{AuthLayer, Builder, Format, SessionError, Token};
///
/// let layer = Builder::new()
///     .secret("a-development-secret-of-32-bytes!")
///     .format(Format::V4)
///     .build()
///     .unwrap();
/// let sessions = layer.sessions();
/// let jwe = sessions.encode(&serde_json::json!({"name": "Ada"})).unwrap();
///
/// let mut headers = HeaderMap::new();
/// headers.insert(COOKIE, format!("next-auth.session-token={jwe}").parse().unwrap());
/// let token: Token = sessions.read(&headers).unwrap();
/// assert_eq!(token["name"], "Ada");
///
/// assert_eq!(sessions.read::<serde_json::Value>(&HeaderMap::new()).unwrap_err(), SessionError::Missing);
/// ```
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

impl Sessions {
    /// Derives every key: the cookie names to read (with their formats), and a codec for each.
    /// `secrets` are newest first; `secure` is next-auth's `useSecureCookies`; `origin` is the
    /// configured app URL's.
    pub(crate) fn new(
        options: Options,
        secrets: &[&[u8]],
        secure: bool,
        origin: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let primary = *options.formats.first().ok_or(ConfigError::NoFormat)?;
        let names = cookie_names(
            &options.formats,
            options.cookie_name.as_deref(),
            secure,
            options.either_prefix,
        )?;
        if let Some(domain) = &options.cookie_domain {
            if !cookies::valid_domain(domain) {
                return Err(ConfigError::InvalidCookieDomain(domain.clone()));
            }
            let host_name = names
                .iter()
                .find(|(name, _)| cookies::has_prefix(name, cookies::HOST_PREFIX));
            if let Some((name, _)) = host_name {
                return Err(ConfigError::HostPrefixWithDomain {
                    name: name.clone(),
                    domain: domain.clone(),
                });
            }
        }
        // Next-auth sets `Secure` from `useSecureCookies`, whatever the name. A browser drops a
        // `__Secure-` or `__Host-` cookie without `Secure` (RFC 6265bis §4.1.3), so those always
        // get it, whatever the URL says.
        let custom_name = options.cookie_name.is_some();
        let secure_for = |name: &str| {
            cookies::has_prefix(name, cookies::SECURE_PREFIX)
                || cookies::has_prefix(name, cookies::HOST_PREFIX)
                || (custom_name && secure)
        };
        let csrf = Csrf::new(primary, secrets, secure, origin);
        let sources = match options.decoder {
            Some(decoder) => names
                .into_iter()
                .map(|(name, _)| Source {
                    secure: secure_for(&name),
                    name,
                    codec: Codec::Custom(decoder.clone()),
                })
                .collect(),
            None => {
                if secrets.is_empty() || secrets.iter().any(|s| s.is_empty()) {
                    return Err(ConfigError::MissingSecret);
                }
                if let Some(short) = secrets.iter().map(|s| s.len()).filter(|&n| n < 32).min() {
                    warn_short_secret(short);
                }
                names
                    .into_iter()
                    .map(|(name, format)| {
                        let codec = match format {
                            // v4 has no rotation and no kid: the first secret only
                            // (next-auth@4.24.15 jwt/index.js).
                            Format::V4 => Codec::V4(V4Key::new(secrets[0])),
                            Format::V5 => Codec::V5(V5Keys::new(secrets.iter().copied(), &name)),
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
        Ok(Self {
            inner: Arc::new(Inner {
                sources,
                bearer: options.bearer,
                validation: Validation {
                    leeway: whole_seconds(options.leeway),
                    require_exp: options.require_exp,
                },
                limits: options.limits,
                clock: options.clock.unwrap_or_else(|| Arc::new(unix_now)),
                max_age: whole_seconds(options.max_age),
                domain: options.cookie_domain,
                csrf,
                verified: Verified::new(options.cache_entries, options.cache_bytes),
                #[cfg(feature = "tracing")]
                warned_at: std::sync::atomic::AtomicI64::new(i64::MIN),
            }),
        })
    }

    /// Reads the session from request headers, as next-auth's `getToken` does: the configured
    /// cookie names in order, then (only when none of them is present) the `Authorization: Bearer`
    /// header.
    ///
    /// # Errors
    /// [`SessionError::Missing`] when the request carries no session, otherwise the reason the
    /// first session found was rejected.
    pub fn read<C: DeserializeOwned + Send + Sync + 'static>(
        &self,
        headers: &HeaderMap,
    ) -> Result<Token<C>, SessionError> {
        self.read_found(headers).map(|found| found.token)
    }

    /// [`read`](Self::read), keeping what a refresh needs: the source and the claims bytes.
    pub(crate) fn read_found<C: DeserializeOwned + Send + Sync + 'static>(
        &self,
        headers: &HeaderMap,
    ) -> Result<Found<'_, C>, SessionError> {
        self.find(headers, self.inner.bearer)
    }

    /// The session in the cookies, never the `Authorization` header (the session endpoint).
    pub(crate) fn read_cookie<C: DeserializeOwned + Send + Sync + 'static>(
        &self,
        headers: &HeaderMap,
    ) -> Result<Found<'_, C>, SessionError> {
        self.find(headers, false)
    }

    fn find<C: DeserializeOwned + Send + Sync + 'static>(
        &self,
        headers: &HeaderMap,
        bearer: bool,
    ) -> Result<Found<'_, C>, SessionError> {
        let mut telling = None;
        for (tag, source) in (0..).zip(&self.inner.sources) {
            // The cache is looked up with the cookie's bytes; only a miss needs them as text.
            let result = match cookies::read_bytes(headers, &source.name, self.inner.limits) {
                Ok(None) => continue,
                Ok(Some(sent)) => self.cached(tag, sent.bytes(), || {
                    self.decode_with(&source.codec, &sent.text()?, TokenSource::Cookie)
                }),
                Err(error) => Err(error),
            };
            match result {
                Ok(hit) => return Ok(Found::new(hit, Some(source), tag)),
                Err(error) => keep_most_telling(&mut telling, error),
            }
        }
        if let Some(error) = telling {
            return Err(error);
        }
        if !bearer {
            return Err(SessionError::Missing);
        }
        match cookies::bearer(headers, self.inner.limits)? {
            Some(token) => self
                .decode_from(&token, TokenSource::Bearer)
                .map(|hit| Found::new(hit, None, ANY_SOURCE)),
            None => Err(SessionError::Missing),
        }
    }

    /// Logs at WARN why a request that carried session cookies has no session, when the reason
    /// is likely a misconfiguration rather than an expired or forged session: a secret that
    /// differs from the Next.js app's, a token of the other next-auth version, or a session
    /// cookie under a name this layer does not read. The first such request after start-up is
    /// logged, then at most one a minute. Only cookie names and formats are logged, never values.
    #[cfg(feature = "tracing")]
    pub(crate) fn diagnose(&self, headers: &HeaderMap, error: SessionError) {
        use std::sync::atomic::Ordering;

        // The cheap check first: within a minute of the last warning there is nothing to do,
        // so a flood of refused requests costs one atomic load each.
        let now = (self.inner.clock)();
        let last = self.inner.warned_at.load(Ordering::Relaxed);
        if last != i64::MIN && now.saturating_sub(last) < 60 {
            return;
        }
        let Some(cause) = self.likely_misconfiguration(headers, error) else {
            return;
        };
        if self
            .inner
            .warned_at
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            tracing::warn!(reason = %error, "tower-nextauth: {cause}");
        }
    }

    /// Why `request` has no session, in words, when the likely cause is this layer's
    /// configuration rather than the session itself: a secret that differs from the Next.js
    /// app's, a token of the other next-auth version, or a session cookie under a name this
    /// layer does not read. `None` when the request has a session, or none was sent, or it
    /// expired or was tampered with in a way no setting explains. The text names cookies and
    /// settings, never cookie values.
    ///
    /// With the `tracing` feature the layer logs the same text at WARN level, for the first such
    /// request after start-up and then at most once a minute.
    ///
    /// ```
    /// use http::{header::COOKIE, HeaderMap};
    /// use tower_nextauth::{AuthLayer, Builder, Format};
    ///
    /// let app = Builder::new().secret("the-next-js-apps-secret-32-bytes!").format(Format::V5).build().unwrap();
    /// let jwe = app.sessions().encode(&serde_json::json!({"name": "Ada"})).unwrap();
    /// let mut request = HeaderMap::new();
    /// request.insert(COOKIE, format!("authjs.session-token={jwe}").parse().unwrap());
    ///
    /// let ours = Builder::new().secret("another-secret-of-at-least-32-bytes").format(Format::V5).build().unwrap();
    /// let why = ours.sessions().explain(&request).unwrap();
    /// assert!(why.contains("did not decrypt: the secret differs"));
    /// assert!(!why.contains(&jwe));
    ///
    /// let v4 = Builder::new().secret("the-next-js-apps-secret-32-bytes!").format(Format::V4).build().unwrap();
    /// assert!(v4.sessions().explain(&request).unwrap().contains("reads \"next-auth.session-token\""));
    /// assert_eq!(app.sessions().explain(&request), None);
    /// ```
    pub fn explain(&self, request: &HeaderMap) -> Option<String> {
        let error = self.read::<serde::de::IgnoredAny>(request).err()?;
        self.likely_misconfiguration(request, error)
    }

    /// The likely cause of `error`, in words, when it looks like a misconfiguration.
    fn likely_misconfiguration(&self, headers: &HeaderMap, error: SessionError) -> Option<String> {
        let reading = || {
            self.cookie_names()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if error == SessionError::Missing {
            // A session cookie of next-auth or Auth.js under a name this layer does not read.
            let known = [Format::V5, Format::V4].into_iter().flat_map(|f| {
                let plain = f.cookie_name();
                [
                    plain.to_owned(),
                    format!("{}{plain}", cookies::SECURE_PREFIX),
                ]
            });
            let found = known
                .filter(|name| !cookies::present(headers, name).is_empty())
                .find(|name| !self.cookie_names().any(|n| n == name))?;
            return Some(format!(
                "the request carries the session cookie {found:?}, but this layer reads {}: check \
                 the format (Builder::format), the __Secure- prefix (NEXTAUTH_URL/AUTH_URL's scheme, \
                 Builder::secure_cookie or Builder::either_prefix), or the cookie name",
                reading()
            ));
        }
        if !matches!(error, SessionError::Undecryptable | SessionError::Malformed) {
            return None;
        }
        for source in &self.inner.sources {
            let Ok(Some(value)) = cookies::read(headers, &source.name, self.inner.limits) else {
                continue;
            };
            let Some(format) = source.codec.format() else {
                continue;
            };
            return Some(match crate::jwe::looks_like(&value) {
                Some(other) if other != format => format!(
                    "the session cookie {:?} holds a {} token, but this layer reads it as {}: \
                     set Builder::format (or Builder::formats) to match the Next.js app",
                    source.name,
                    other.library(),
                    format.library()
                ),
                Some(_) => format!(
                    "the session cookie {:?} did not decrypt: the secret differs from the Next.js \
                     app's (NEXTAUTH_SECRET / AUTH_SECRET), or it was rotated without keeping the \
                     old one (Builder::secrets)",
                    source.name
                ),
                None => format!(
                    "the session cookie {:?} is not a next-auth session token",
                    source.name
                ),
            });
        }
        None
    }

    /// Decodes a bare token string with each configured format in turn.
    ///
    /// # Errors
    /// The reason the first format rejected it ([`SessionError::Missing`] for an empty string).
    pub fn decode<C: DeserializeOwned + Send + Sync + 'static>(
        &self,
        token: &str,
    ) -> Result<Token<C>, SessionError> {
        self.decode_from(token, TokenSource::Cookie)
    }

    fn decode_from<C: DeserializeOwned + Send + Sync + 'static>(
        &self,
        token: &str,
        source: TokenSource,
    ) -> Result<Token<C>, SessionError> {
        if token.is_empty() {
            return Err(SessionError::Missing);
        }
        // Bearer tokens and bare tokens are tried against every source, so they share a tag;
        // the token's `source()` is part of the cached value, hence the two tags.
        let tag = match source {
            TokenSource::Cookie => ANY_SOURCE - 1,
            TokenSource::Bearer => ANY_SOURCE,
        };
        self.cached(tag, token.as_bytes(), || {
            let mut telling = None;
            for cookie in &self.inner.sources {
                match self.decode_with(&cookie.codec, token, source) {
                    Ok(token) => return Ok(token),
                    Err(error) => keep_most_telling(&mut telling, error),
                }
            }
            Err(telling.unwrap_or(SessionError::Missing))
        })
    }

    /// The session for `token` read at `tag`: from the cache of verified sessions, its time
    /// claims checked again now, or decoded by `decode` and then kept (src/cache.rs).
    fn cached<C: Send + Sync + 'static>(
        &self,
        tag: Tag,
        token: &[u8],
        decode: impl FnOnce() -> Result<Token<C>, SessionError>,
    ) -> Result<Token<C>, SessionError> {
        let Some(verified) = &self.inner.verified else {
            return decode();
        };
        if let Some(hit) = verified.get::<C>(tag, token) {
            // The same check a decode makes, so the answer is the same. An expired entry stays
            // until evicted: refusing it again costs no decryption.
            self.inner
                .validation
                .check(&hit.times(), (self.inner.clock)())?;
            return Ok(hit);
        }
        let decoded = decode()?;
        verified.insert(tag, token, &decoded);
        Ok(decoded)
    }

    fn decode_with<C: DeserializeOwned>(
        &self,
        codec: &Codec,
        token: &str,
        source: TokenSource,
    ) -> Result<Token<C>, SessionError> {
        let payload = codec.decrypt(token)?;
        let (claims, times) = self
            .inner
            .validation
            .parse(&payload, (self.inner.clock)())?;
        Ok(Token::decoded(
            claims,
            times,
            codec.format(),
            source,
            payload,
        ))
    }

    /// Encodes `claims` as a session token in the first configured format, adding `iat`, `exp`
    /// (now + max age, 30 days by default) and a random `jti` after the claims, as next-auth does.
    ///
    /// # Errors
    /// [`EncodeError`] when `claims` does not serialize to a JSON object, or when the layer was
    /// built with a custom [`Decoder`], which has no encoder.
    pub fn encode<T: Serialize + ?Sized>(&self, claims: &T) -> Result<String, EncodeError> {
        self.encode_with(&self.inner.sources[0], claims)
    }

    /// Encodes for one source: its format, and for v5 its cookie name as the salt.
    pub(crate) fn encode_with<T: Serialize + ?Sized>(
        &self,
        source: &Source,
        claims: &T,
    ) -> Result<String, EncodeError> {
        let serde_json::Value::Object(mut map) =
            serde_json::to_value(claims).map_err(|_| EncodeError::new())?
        else {
            return Err(EncodeError::new());
        };
        let now = (self.inner.clock)();
        // Existing members keep their position (serde_json's map preserves insertion order
        // only with `preserve_order`; the libraries only decrypt, so order is cosmetic).
        map.insert("iat".into(), now.into());
        map.insert("exp".into(), now.saturating_add(self.inner.max_age).into());
        map.insert("jti".into(), uuid_v4().into());
        let payload = serde_json::to_vec(&map).map_err(|_| EncodeError::new())?;
        match &source.codec {
            Codec::V4(key) => Ok(key.encrypt(&payload)),
            Codec::V5(keys) => Ok(keys.encrypt(&payload)),
            Codec::Custom(_) => Err(EncodeError::new()),
        }
    }

    /// The `Set-Cookie` values that store `claims` as the session, as next-auth's `SessionStore`
    /// writes them: the token is encoded in the first configured format and split into chunks of
    /// 3933 (v4) or 3936 (v5) characters; a token that fits is one cookie with the bare name.
    /// Cookies of the same session name that `request` carried and the new set does not reuse
    /// are cleared with `Max-Age=0`, in request order, before the new names.
    ///
    /// `Expires` is now + the max age. The `Secure` attribute follows the `__Secure-` prefix.
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue};
    /// use tower_nextauth::{AuthLayer, Builder, Format};
    ///
    /// let layer = Builder::new()
    ///     .secret("a-development-secret-of-32-bytes!")
    ///     .format(Format::V5)
    ///     .clock(|| 1_893_456_000 - 30 * 24 * 3600)
    ///     .build()
    ///     .unwrap();
    /// let cookies = layer.sessions().sign_in(&HeaderMap::new(), &serde_json::json!({"name": "Ada"})).unwrap();
    /// assert_eq!(cookies.len(), 1);
    /// let cookie = cookies[0].to_str().unwrap();
    /// assert!(cookie.starts_with("authjs.session-token=eyJ"));
    /// assert!(cookie.ends_with("; Path=/; Expires=Tue, 01 Jan 2030 00:00:00 GMT; HttpOnly; SameSite=Lax"));
    /// ```
    ///
    /// # Errors
    /// As [`encode`](Self::encode).
    pub fn sign_in<T: Serialize + ?Sized>(
        &self,
        request: &HeaderMap,
        claims: &T,
    ) -> Result<Vec<HeaderValue>, EncodeError> {
        let source = &self.inner.sources[0];
        let token = self.encode_with(source, claims)?;
        Ok(self.chunk(request, source, &token, self.expires()))
    }

    /// The `Set-Cookie` values that store an already encoded `token` under the first configured
    /// cookie name, expiring at `expires` (seconds since the Unix epoch); chunked and cleaned as
    /// [`sign_in`](Self::sign_in) does. The output is byte-for-byte what next-auth's
    /// `SessionStore.chunk` and `cookie.serialize` write for the same input.
    ///
    /// ```
    /// use http::HeaderMap;
    /// use tower_nextauth::{AuthLayer, Builder, Format};
    ///
    /// let layer = Builder::new().secret("a-development-secret-of-32-bytes!").format(Format::V4).build().unwrap();
    /// let token = "x".repeat(5000);
    /// let cookies = layer.sessions().session_cookies(&HeaderMap::new(), &token, 1_893_456_000);
    /// assert_eq!(cookies.len(), 2);
    /// assert!(cookies[0].to_str().unwrap().starts_with(&format!("next-auth.session-token.0={}; Path=/;", "x".repeat(3933))));
    /// ```
    pub fn session_cookies(
        &self,
        request: &HeaderMap,
        token: &str,
        expires: i64,
    ) -> Vec<HeaderValue> {
        self.chunk(request, &self.inner.sources[0], token, expires)
    }

    /// For a session found in a cookie and issued (`iat`) at least `update_age` seconds ago (or
    /// without `iat`): its cookie name and refreshed `Set-Cookie` values, the claims re-encoded
    /// in the same format and under the same name with a fresh `iat`, `exp` and `jti`. `None` for
    /// a fresh session, a Bearer token, or a custom decoder (which has no encoder).
    pub(crate) fn reissue_stale<'s, C>(
        &'s self,
        request: &HeaderMap,
        found: &Found<'s, C>,
        update_age: i64,
    ) -> Option<(&'s str, Vec<HeaderValue>)> {
        let now = (self.inner.clock)();
        let stale = found
            .token
            .iat()
            .is_none_or(|iat| iat.saturating_add(update_age) <= now);
        if !stale {
            return None;
        }
        self.reissue(request, found)
    }

    /// The refreshed `Set-Cookie` values of a session found in a cookie, with its cookie name;
    /// `None` for a Bearer token or a custom decoder.
    pub(crate) fn reissue<'s, C>(
        &'s self,
        request: &HeaderMap,
        found: &Found<'s, C>,
    ) -> Option<(&'s str, Vec<HeaderValue>)> {
        let claims: Claims = serde_json::from_slice(found.payload()).ok()?;
        self.reissue_claims(request, found, &claims)
    }

    /// As [`reissue`](Self::reissue), for `claims` in place of the session's own (what a `jwt`
    /// callback returned).
    pub(crate) fn reissue_claims<'s, C>(
        &'s self,
        request: &HeaderMap,
        found: &Found<'s, C>,
        claims: &Claims,
    ) -> Option<(&'s str, Vec<HeaderValue>)> {
        let source = found.source?;
        let token = self.encode_with(source, claims).ok()?;
        Some((
            &source.name,
            self.chunk(request, source, &token, self.expires()),
        ))
    }

    /// The cookie source a session was found in.
    fn source(&self, tag: Tag) -> Option<&Source> {
        self.inner.sources.get(usize::from(tag))
    }

    /// The first session cookie the request carries, under the names this reader reads, with
    /// its source: its raw value (a database session's token).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn raw_session_cookie<'h>(
        &self,
        headers: &'h HeaderMap,
    ) -> Option<(Tag, Cow<'h, str>)> {
        (0..).zip(&self.inner.sources).find_map(|(tag, source)| {
            let value = cookies::read(headers, &source.name, self.inner.limits).ok()??;
            Some((tag, value))
        })
    }

    /// The (reassembled) value of the session cookie of source `tag`.
    pub(crate) fn cookie_value<'h>(
        &self,
        tag: Tag,
        headers: &'h HeaderMap,
    ) -> Option<Cow<'h, str>> {
        let source = self.source(tag)?;
        cookies::read(headers, &source.name, self.inner.limits).ok()?
    }

    /// `claims` encoded for cookie source `tag` (its format, and for v5 its name as the salt),
    /// with the expiry it was given.
    pub(crate) fn encode_at(
        &self,
        tag: Tag,
        claims: &Claims,
    ) -> Result<(String, i64), EncodeError> {
        let source = self.source(tag).ok_or_else(EncodeError::new)?;
        let expires = self.expires();
        Ok((self.encode_with(source, claims)?, expires))
    }

    /// A session token read from cookie source `tag` (through the cache).
    pub(crate) fn decode_at<C: DeserializeOwned + Send + Sync + 'static>(
        &self,
        tag: Tag,
        token: &str,
    ) -> Result<Token<C>, SessionError> {
        let source = self.source(tag).ok_or(SessionError::Missing)?;
        self.cached(tag, token.as_bytes(), || {
            self.decode_with(&source.codec, token, TokenSource::Cookie)
        })
    }

    /// The cookie name of source `tag` and the `Set-Cookie` values that store `token` under it,
    /// expiring at `expires`, chunked and cleaned against `request` as [`sign_in`](Self::sign_in).
    pub(crate) fn cookies_at(
        &self,
        tag: Tag,
        request: &HeaderMap,
        token: &str,
        expires: i64,
    ) -> Option<(&str, Vec<HeaderValue>)> {
        let source = self.source(tag)?;
        Some((&source.name, self.chunk(request, source, token, expires)))
    }

    /// The format the first configured cookie holds (`None` for a custom decoder).
    pub(crate) fn first_format(&self) -> Option<Format> {
        self.inner.sources[0].codec.format()
    }

    /// Now + the max age: the `exp` and cookie `Expires` of a session written now.
    pub(crate) fn expires(&self) -> i64 {
        (self.inner.clock)().saturating_add(self.inner.max_age)
    }

    /// `SessionStore.chunk`: stale request cookies first (reused in place), then new names.
    fn chunk(
        &self,
        request: &HeaderMap,
        source: &Source,
        token: &str,
        expires: i64,
    ) -> Vec<HeaderValue> {
        let size = cookies::chunk_size(source.codec.format());
        let secure = source.secure;
        let mut entries: Vec<(String, &str)> = cookies::present(request, &source.name)
            .into_iter()
            .map(|name| (name.to_owned(), ""))
            .collect();
        let pieces: Vec<(String, &str)> = if token.len() <= size {
            vec![(source.name.clone(), token)]
        } else {
            (0..)
                .zip(token.as_bytes().chunks(size))
                .map(|(i, piece)| {
                    let piece = std::str::from_utf8(piece).expect("JWE strings are ASCII");
                    (format!("{}.{i}", source.name), piece)
                })
                .collect()
        };
        for (name, value) in pieces {
            match entries.iter_mut().find(|(n, _)| *n == name) {
                Some(entry) => entry.1 = value,
                None => entries.push((name, value)),
            }
        }
        entries
            .iter()
            .map(|(name, value)| {
                let expires = (!value.is_empty()).then_some(expires);
                cookies::set_cookie(name, value, expires, secure, self.inner.domain.as_deref())
            })
            .collect()
    }

    /// The `Set-Cookie` values that sign the user out: `Max-Age=0` for every session cookie
    /// (any configured name, any chunk) that `request` carried, as `SessionStore.clean()` does.
    ///
    /// ```
    /// use http::{header::COOKIE, HeaderMap};
    /// use tower_nextauth::{AuthLayer, Builder, Format};
    ///
    /// let layer = Builder::new().secret("a-development-secret-of-32-bytes!").format(Format::V4).build().unwrap();
    /// let mut request = HeaderMap::new();
    /// request.insert(COOKIE, "theme=dark; next-auth.session-token.0=a; next-auth.session-token.1=b".parse().unwrap());
    /// let cleared = layer.sessions().sign_out(&request);
    /// assert_eq!(cleared[0], "next-auth.session-token.0=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax");
    /// assert_eq!(cleared[1], "next-auth.session-token.1=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax");
    /// ```
    pub fn sign_out(&self, request: &HeaderMap) -> Vec<HeaderValue> {
        let mut seen: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for source in &self.inner.sources {
            for name in cookies::present(request, &source.name) {
                if !seen.contains(&name) {
                    seen.push(name);
                    out.push(cookies::set_cookie(
                        name,
                        "",
                        None,
                        source.secure,
                        self.inner.domain.as_deref(),
                    ));
                }
            }
        }
        out
    }

    /// next-auth's login-CSRF token for this app's forms: same secret, cookie prefix and app URL
    /// as the sessions. See [`Csrf`](crate::Csrf).
    ///
    /// ```
    /// use tower_nextauth::{AuthLayer, Builder, Format};
    ///
    /// let layer = Builder::new()
    ///     .secret("a-development-secret-of-32-bytes!")
    ///     .format(Format::V5)
    ///     .secure_cookie(true)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(layer.sessions().csrf().cookie_name(), "__Host-authjs.csrf-token");
    /// ```
    pub fn csrf(&self) -> &Csrf {
        &self.inner.csrf
    }

    /// The cookie names this reader looks at, in order.
    pub fn cookie_names(&self) -> impl Iterator<Item = &str> {
        self.inner.sources.iter().map(|s| s.name.as_str())
    }
}

impl fmt::Debug for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sessions")
            .field("cookie_names", &self.cookie_names().collect::<Vec<_>>())
            .field("keys", &"REDACTED")
            .finish()
    }
}

/// A session found by [`Sessions::read_found`].
pub(crate) struct Found<'s, C> {
    pub(crate) token: Token<C>,
    /// The cookie source, or `None` for a Bearer token.
    pub(crate) source: Option<&'s Source>,
    /// The index of `source` (the cache's tag), or `ANY_SOURCE` for a Bearer token.
    pub(crate) tag: Tag,
}

impl<'s, C> Found<'s, C> {
    fn new(token: Token<C>, source: Option<&'s Source>, tag: Tag) -> Self {
        Self { token, source, tag }
    }

    /// The decrypted claims, as JSON bytes (read only for a refresh).
    pub(crate) fn payload(&self) -> &[u8] {
        self.token.payload()
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
                let prefixed = format!("{}{plain}", cookies::SECURE_PREFIX);
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
                return Err(ConfigError::InvalidCookieName(name));
            }
            if !names.iter().any(|(n, f)| *n == name && *f == format) {
                names.push((name, format));
            }
        }
    }
    Ok(names)
}

/// Says, once per process, that a secret is short: in a `tracing` WARN event with the `tracing`
/// feature, otherwise on stderr. `openssl rand -base64 32`, what next-auth's docs suggest, gives
/// 44 characters. Not an error, because next-auth accepts any secret and a layer must read the
/// app's sessions with the secret the app has.
fn warn_short_secret(length: usize) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let message = "a session secret is shorter than 32 bytes; generate one with `openssl rand -base64 32`";
        #[cfg(feature = "tracing")]
        tracing::warn!(length, "tower-nextauth: {message}");
        #[cfg(not(feature = "tracing"))]
        eprintln!("tower-nextauth: {message} (this one has {length})");
    });
}

/// A random (version 4) UUID from the OS CSPRNG, like `crypto.randomUUID()`.
pub(crate) fn uuid_v4() -> String {
    use aes_gcm::aead::rand_core::RngCore;
    let mut b = [0u8; 16];
    aes_gcm::aead::OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    hyphenated(&b)
}

/// 16 bytes in the 8-4-4-4-12 hex form of a UUID.
pub(crate) fn hyphenated(b: &[u8; 16]) -> String {
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Of the errors different sources gave for one token, keeps the one that says most: a token that
/// decrypted but expired under one format is "expired", not "undecryptable" under another.
fn keep_most_telling(kept: &mut Option<SessionError>, error: SessionError) {
    let rank = |e: SessionError| match e {
        SessionError::Expired => 3,
        SessionError::Undecryptable => 2,
        SessionError::Malformed => 1,
        _ => 0,
    };
    if kept.is_none_or(|k| rank(error) > rank(k)) {
        *kept = Some(error);
    }
}
