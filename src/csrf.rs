//! [`Csrf`]: next-auth's double-submit CSRF token, byte-compatible with NextAuth.js v4 and
//! Auth.js v5, plus the `Origin` / `Sec-Fetch-Site` check that refuses cross-site POSTs.
//!
//! Upstream (read from the published packages):
//! - next-auth@4.24.15 `core/lib/csrf-token.js` and @auth/core@0.41.3
//!   `lib/actions/callback/oauth/csrf-token.js` (`createCSRFToken`): the cookie value is
//!   `token|hash`, `token` 32 random bytes in hex, `hash = hex(sha256(token + secret))`. A cookie
//!   whose hash matches is reused; a POST is verified when the body's `csrfToken` equals the
//!   cookie's token. Otherwise a fresh token and cookie are issued.
//! - next-auth@4.24.15 `core/init.js` and @auth/core@0.41.3 `lib/init.js`: the secret is
//!   `options.secret` interpolated into a template string. In v5 `config.secret` may be an array
//!   (`AUTH_SECRET_1..3`, @auth/core@0.41.3 `lib/utils/env.js`), which JavaScript joins with `,`.
//! - next-auth@4.24.15 `core/lib/cookie.js` and @auth/core@0.41.3 `lib/utils/cookie.js`
//!   (`defaultCookies`): name `next-auth.csrf-token` / `authjs.csrf-token`, `__Host-` prefixed
//!   when `useSecureCookies`, options `{ httpOnly, sameSite: "lax", path: "/", secure }`.
//! - next-auth@4.24.15 `next/utils.js` (`cookie@0.7.2` `serialize`) and @auth/core@0.41.3
//!   `lib/utils/web.js` (`lib/vendored/cookie.js` `serialize`): the value is URL-encoded, so `|`
//!   is written as `%7C`, and the attributes come out as `Path=/; HttpOnly; Secure; SameSite=Lax`.

use std::borrow::Cow;
use std::fmt;

use http::header::{HOST, ORIGIN};
use http::{HeaderMap, HeaderValue, Uri};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::cookies;
use crate::token::Format;

/// next-auth's login-CSRF protection: issues and verifies the double-submit `csrfToken` exactly
/// as next-auth@4 and @auth/core do, and refuses cross-site POSTs by `Origin` and
/// `Sec-Fetch-Site`.
///
/// Get it from [`Sessions::csrf`](crate::Sessions::csrf). It is configured by the same
/// [`Builder`](crate::Builder) as the layer:
/// - the cookie is `authjs.csrf-token` when the first format is v5, `next-auth.csrf-token` when
///   it is v4, with the `__Host-` prefix and `Secure` when cookies are secure (an https app URL,
///   or [`Builder::secure_cookie`](crate::Builder::secure_cookie));
/// - the hash secret is the first secret for v4, and every secret joined with `,` for v5 (what
///   `${options.secret}` gives for an array in @auth/core), so a Next.js app on the same origin
///   and secret accepts these tokens and the other way round;
/// - the expected `Origin` is the app URL's (`NEXTAUTH_URL` / `AUTH_URL` /
///   [`Builder::url`](crate::Builder::url)).
///
/// Built with a custom [`Decoder`](crate::Decoder) and no secret at all, it hashes with a random
/// secret drawn when the layer was built: tokens then only verify in that process.
///
/// `Debug` never prints the secret.
///
/// ```
/// use http::{header, HeaderMap, Uri};
/// use tower_nextauth::csrf::CsrfError;
/// use tower_nextauth::{AuthLayer, Builder, Format};
///
/// let layer = Builder::new()
///     .secret("a-development-secret-of-32-bytes!")
///     .format(Format::V4)
///     .url("https://app.example.com")
///     .unwrap()
///     .build()
///     .unwrap();
/// let csrf = layer.sessions().csrf();
///
/// // GET /login: put the token in the form, and set the cookie.
/// let issued = csrf.issue(&HeaderMap::new());
/// let set_cookie = issued.set_cookie().unwrap().to_str().unwrap();
/// assert!(set_cookie.starts_with(&format!("__Host-next-auth.csrf-token={}%7C", issued.token())));
/// assert!(set_cookie.ends_with("; Path=/; HttpOnly; Secure; SameSite=Lax"));
///
/// // POST /login from the same origin, with the cookie the browser sends back.
/// let cookie = set_cookie.split(';').next().unwrap();
/// let mut post = HeaderMap::new();
/// post.insert(header::COOKIE, cookie.parse().unwrap());
/// post.insert(header::ORIGIN, "https://app.example.com".parse().unwrap());
/// let uri = Uri::from_static("/login");
/// assert_eq!(csrf.verify(&uri, &post, issued.token()), Ok(()));
/// assert_eq!(csrf.verify(&uri, &post, "guessed"), Err(CsrfError::TokenMismatch));
///
/// // The same POST from another site is refused before the token is looked at.
/// post.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
/// assert_eq!(csrf.verify(&uri, &post, issued.token()), Err(CsrfError::CrossOrigin));
/// ```
#[derive(Clone)]
pub struct Csrf {
    /// The bytes appended to the token before hashing. Never printed.
    secret: Vec<u8>,
    cookie_name: String,
    secure: bool,
    /// The app URL's origin (`scheme://host[:port]`, default port dropped), when configured.
    origin: Option<String>,
}

impl Csrf {
    /// Built once, by `Builder::build`, from the resolved configuration: the first (writing)
    /// format, the secrets newest first, whether cookies are secure, and the app URL's origin.
    pub(crate) fn new(
        format: Format,
        secrets: &[&[u8]],
        secure: bool,
        origin: Option<&str>,
    ) -> Self {
        let secret = match format {
            // next-auth@4.24.15 core/init.js: `options.secret` is the single configured secret.
            Format::V4 => secrets.first().map(|s| s.to_vec()),
            // @auth/core@0.41.3 lib/init.js: `${options.secret}` on an array joins with ",".
            Format::V5 => (!secrets.is_empty()).then(|| secrets.join(&b',')),
        };
        // An empty secret (possible only with a custom decoder) would make the hash public.
        let usable = !secrets.is_empty() && secrets.iter().all(|s| !s.is_empty());
        let secret = match secret {
            Some(secret) if usable => secret,
            _ => random_hex(32).into_bytes(),
        };
        let base = match format {
            Format::V4 => "next-auth.csrf-token",
            Format::V5 => "authjs.csrf-token",
        };
        Self {
            secret,
            cookie_name: if secure {
                format!("__Host-{base}")
            } else {
                base.to_owned()
            },
            secure,
            origin: origin.map(without_default_port),
        }
    }

    /// The CSRF cookie's name: `next-auth.csrf-token` or `authjs.csrf-token`, with `__Host-`
    /// when cookies are secure.
    ///
    /// ```
    /// use tower_nextauth::{AuthLayer, Builder, Format};
    ///
    /// let layer = Builder::new().secret("a-development-secret-of-32-bytes!").format(Format::V5).build().unwrap();
    /// assert_eq!(layer.sessions().csrf().cookie_name(), "authjs.csrf-token");
    /// ```
    pub fn cookie_name(&self) -> &str {
        &self.cookie_name
    }

    /// The token to put in a form's hidden `csrfToken` field, as next-auth's `/api/auth/csrf`
    /// answers it: the one in the request's CSRF cookie when that cookie is authentic, otherwise
    /// a fresh random one, with the `Set-Cookie` value that stores it.
    ///
    /// ```
    /// use http::{header::COOKIE, HeaderMap};
    /// use tower_nextauth::{AuthLayer, Builder, Format};
    ///
    /// let layer = Builder::new().secret("a-development-secret-of-32-bytes!").format(Format::V5).build().unwrap();
    /// let csrf = layer.sessions().csrf();
    /// let first = csrf.issue(&HeaderMap::new());
    /// assert_eq!(first.token().len(), 64);
    ///
    /// // The browser sends the cookie back: same token, nothing to set.
    /// let cookie = first.set_cookie().unwrap().to_str().unwrap().split(';').next().unwrap().to_owned();
    /// let mut request = HeaderMap::new();
    /// request.insert(COOKIE, cookie.parse().unwrap());
    /// let again = csrf.issue(&request);
    /// assert_eq!(again.token(), first.token());
    /// assert!(again.set_cookie().is_none());
    /// ```
    pub fn issue(&self, request: &HeaderMap) -> CsrfToken {
        if let Some(token) = self.cookie_token(request) {
            return CsrfToken {
                token,
                set_cookie: None,
            };
        }
        let token = random_hex(32);
        let value = format!("{token}%7C{}", self.hash(&token));
        let mut line = format!("{}={value}; Path=/; HttpOnly", self.cookie_name);
        if self.secure {
            line.push_str("; Secure");
        }
        line.push_str("; SameSite=Lax");
        let set_cookie =
            HeaderValue::try_from(line).expect("a validated cookie name and a hex value");
        CsrfToken {
            token,
            set_cookie: Some(set_cookie),
        }
    }

    /// Checks a POST: first [`check_origin`](Self::check_origin), then
    /// [`verify_token`](Self::verify_token) with the submitted `csrfToken`.
    ///
    /// ```
    /// use http::{header, HeaderMap, Uri};
    /// use tower_nextauth::csrf::CsrfError;
    /// use tower_nextauth::{AuthLayer, Builder};
    ///
    /// let layer = Builder::new().secret("a-development-secret-of-32-bytes!").build().unwrap();
    /// let csrf = layer.sessions().csrf();
    /// let issued = csrf.issue(&HeaderMap::new());
    /// let cookie = issued.set_cookie().unwrap().to_str().unwrap().split(';').next().unwrap().to_owned();
    ///
    /// let mut post = HeaderMap::new();
    /// post.insert(header::HOST, "localhost:3000".parse().unwrap());
    /// post.insert(header::COOKIE, cookie.parse().unwrap());
    /// let uri = Uri::from_static("/api/auth/signout");
    /// assert_eq!(csrf.verify(&uri, &post, issued.token()), Ok(()));
    /// post.insert("sec-fetch-site", "cross-site".parse().unwrap());
    /// assert_eq!(csrf.verify(&uri, &post, issued.token()), Err(CsrfError::CrossSite));
    /// ```
    ///
    /// # Errors
    /// The first check that failed, as a [`CsrfError`].
    pub fn verify(&self, uri: &Uri, request: &HeaderMap, submitted: &str) -> Result<(), CsrfError> {
        self.check_origin(uri, request)?;
        self.verify_token(request, submitted)
    }

    /// next-auth's double-submit check: the request's CSRF cookie must carry a token whose hash
    /// with the secret matches (the cookie was issued here), and `submitted` (the form's
    /// `csrfToken`) must equal that token. Both comparisons are constant-time.
    ///
    /// ```
    /// use http::HeaderMap;
    /// use tower_nextauth::csrf::CsrfError;
    /// use tower_nextauth::{AuthLayer, Builder};
    ///
    /// let layer = Builder::new().secret("a-development-secret-of-32-bytes!").build().unwrap();
    /// let csrf = layer.sessions().csrf();
    /// let token = csrf.issue(&HeaderMap::new());
    /// assert_eq!(csrf.verify_token(&HeaderMap::new(), token.token()), Err(CsrfError::MissingCookie));
    /// ```
    ///
    /// # Errors
    /// [`CsrfError::MissingCookie`], [`CsrfError::InvalidCookie`] (wrong hash: forged, tampered
    /// or issued with another secret), [`CsrfError::MissingToken`] or
    /// [`CsrfError::TokenMismatch`].
    pub fn verify_token(&self, request: &HeaderMap, submitted: &str) -> Result<(), CsrfError> {
        let value = cookie_value(request, &self.cookie_name).ok_or(CsrfError::MissingCookie)?;
        let token = self
            .authentic_token(&value)
            .ok_or(CsrfError::InvalidCookie)?;
        if submitted.is_empty() {
            return Err(CsrfError::MissingToken);
        }
        if bool::from(token.as_bytes().ct_eq(submitted.as_bytes())) {
            Ok(())
        } else {
            Err(CsrfError::TokenMismatch)
        }
    }

    /// Refuses a request that a browser sent on behalf of another site:
    /// - `Sec-Fetch-Site` present and anything but `same-origin`, `same-site` or `none`
    ///   (that is, `cross-site`) is [`CsrfError::CrossSite`];
    /// - `Origin` present and not this app's origin is [`CsrfError::CrossOrigin`]. That covers
    ///   `Origin: null` (sandboxed frames, `data:` pages), repeated `Origin` headers, and
    ///   same-site neighbours such as another subdomain, which `Sec-Fetch-Site` lets through.
    ///
    /// This app's origin is the configured app URL's when there is one (the scheme, host and
    /// port must all match). Without one, it is the request's own authority: the request URI's
    /// (HTTP/2 `:authority`, HTTP/1 absolute form), else the `Host` header, compared with the
    /// `Origin`'s host and port; the scheme cannot be known without trusting proxy headers, so
    /// it is not compared. Relying on `Host` here is sound for this one purpose: a cross-site
    /// request is sent by the victim's browser, which sets `Host` to the site it posts to and
    /// `Origin` to the page that posted, and no page can choose either. Whoever can forge `Host`
    /// sends the request themselves, without the victim's cookies, and gets the answer
    /// themselves. A proxy that rewrites `Host` makes same-origin posts fail here (closed):
    /// configure the app URL then.
    ///
    /// A request with neither header passes (older browsers, non-browser clients); the token
    /// check still applies.
    ///
    /// ```
    /// use http::{HeaderMap, Uri};
    /// use tower_nextauth::csrf::CsrfError;
    /// use tower_nextauth::{AuthLayer, Builder};
    ///
    /// let layer = Builder::new().secret("a-development-secret-of-32-bytes!").build().unwrap();
    /// let csrf = layer.sessions().csrf();
    /// let uri = Uri::from_static("/api/auth/signin");
    /// let mut headers = HeaderMap::new();
    /// headers.insert("host", "localhost:3000".parse().unwrap());
    /// assert_eq!(csrf.check_origin(&uri, &headers), Ok(()));
    /// headers.insert("origin", "http://localhost:3000".parse().unwrap());
    /// assert_eq!(csrf.check_origin(&uri, &headers), Ok(()));
    /// headers.insert("sec-fetch-site", "cross-site".parse().unwrap());
    /// assert_eq!(csrf.check_origin(&uri, &headers), Err(CsrfError::CrossSite));
    /// ```
    ///
    /// # Errors
    /// [`CsrfError::CrossSite`] or [`CsrfError::CrossOrigin`].
    pub fn check_origin(&self, uri: &Uri, request: &HeaderMap) -> Result<(), CsrfError> {
        for site in request.get_all("sec-fetch-site") {
            let site = site.as_bytes().trim_ascii();
            let known = [&b"same-origin"[..], b"same-site", b"none"]
                .iter()
                .any(|ok| site.eq_ignore_ascii_case(ok));
            if !known {
                return Err(CsrfError::CrossSite);
            }
        }
        let mut origins = request.get_all(ORIGIN).iter();
        let Some(origin) = origins.next() else {
            return Ok(());
        };
        if origins.next().is_some() {
            return Err(CsrfError::CrossOrigin);
        }
        let origin = origin.to_str().map_err(|_| CsrfError::CrossOrigin)?.trim();
        let same = match &self.origin {
            Some(expected) => origin.eq_ignore_ascii_case(expected),
            None => origin_authority(origin)
                .zip(request_authority(uri, request))
                .is_some_and(|(theirs, ours)| theirs.eq_ignore_ascii_case(ours)),
        };
        if same {
            Ok(())
        } else {
            Err(CsrfError::CrossOrigin)
        }
    }

    /// The token of the request's CSRF cookie, when the cookie is authentic.
    fn cookie_token(&self, request: &HeaderMap) -> Option<String> {
        let value = cookie_value(request, &self.cookie_name)?;
        self.authentic_token(&value).map(str::to_owned)
    }

    /// `createCSRFToken`'s check: `const [token, hash] = value.split("|")`, then
    /// `hash === sha256(token + secret)`; compared in constant time here.
    fn authentic_token<'v>(&self, value: &'v str) -> Option<&'v str> {
        let mut parts = value.split('|');
        let token = parts.next()?;
        // No `|`: `hash` is `undefined` upstream, which never equals a digest.
        let hash = parts.next()?;
        let expected = self.hash(token);
        bool::from(hash.as_bytes().ct_eq(expected.as_bytes())).then_some(token)
    }

    /// `hex(sha256(token + secret))`.
    fn hash(&self, token: &str) -> String {
        let mut sha = Sha256::new();
        sha.update(token.as_bytes());
        sha.update(&self.secret);
        hex(&sha.finalize())
    }
}

impl fmt::Debug for Csrf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Csrf")
            .field("cookie_name", &self.cookie_name)
            .field("secure", &self.secure)
            .field("origin", &self.origin)
            .field("secret", &"REDACTED")
            .finish()
    }
}

/// What [`Csrf::issue`] hands out: the token for the form and, when the request had no authentic
/// CSRF cookie, the `Set-Cookie` value that stores it.
///
/// `Debug` does not print the token: it is what lets a form post as this user.
///
/// ```
/// use http::HeaderMap;
/// use tower_nextauth::{AuthLayer, Builder};
///
/// let layer = Builder::new().secret("a-development-secret-of-32-bytes!").build().unwrap();
/// let issued = layer.sessions().csrf().issue(&HeaderMap::new());
/// let field = format!(r#"<input type="hidden" name="csrfToken" value="{}">"#, issued.token());
/// assert!(issued.token().bytes().all(|b| b.is_ascii_hexdigit()));
/// assert!(issued.set_cookie().unwrap().to_str().unwrap().starts_with("authjs.csrf-token="));
/// assert!(!format!("{issued:?}").contains(issued.token()));
/// # let _ = field;
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfToken {
    token: String,
    set_cookie: Option<HeaderValue>,
}

impl CsrfToken {
    /// The value for the form's hidden `csrfToken` field: 64 lowercase hex characters, so it
    /// needs no HTML escaping.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The `Set-Cookie` value to add to the response, when the cookie must be (re)written.
    pub fn set_cookie(&self) -> Option<&HeaderValue> {
        self.set_cookie.as_ref()
    }
}

impl fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfToken")
            .field("token", &"REDACTED")
            .field("set_cookie", &self.set_cookie.is_some())
            .finish()
    }
}

/// Why [`Csrf`] refused a request.
///
/// ```
/// use tower_nextauth::csrf::CsrfError;
/// assert_eq!(CsrfError::CrossSite.to_string(), "cross-site");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CsrfError {
    /// `Sec-Fetch-Site` says another site sent the request.
    CrossSite,
    /// `Origin` is not this app's origin (or is `null`, repeated, or unreadable).
    CrossOrigin,
    /// The request carries no CSRF cookie.
    MissingCookie,
    /// The CSRF cookie's hash does not match: it was not issued with this secret.
    InvalidCookie,
    /// The form carried no `csrfToken`.
    MissingToken,
    /// The form's `csrfToken` is not the cookie's token.
    TokenMismatch,
}

impl CsrfError {
    /// A stable, lowercase name: `cross-site`, `cross-origin`, `missing-cookie`,
    /// `invalid-cookie`, `missing-token` or `token-mismatch`.
    pub fn as_str(self) -> &'static str {
        match self {
            CsrfError::CrossSite => "cross-site",
            CsrfError::CrossOrigin => "cross-origin",
            CsrfError::MissingCookie => "missing-cookie",
            CsrfError::InvalidCookie => "invalid-cookie",
            CsrfError::MissingToken => "missing-token",
            CsrfError::TokenMismatch => "token-mismatch",
        }
    }
}

impl fmt::Display for CsrfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for CsrfError {}

/// The value of cookie `name` as `cookie.parse` gives it: the first pair with that name wins,
/// spaces and tabs around the value are trimmed, and a value containing `%` is
/// `decodeURIComponent`-ed when that succeeds (the raw value is kept otherwise).
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let (_, value) = cookies::pairs(headers).find(|(key, _)| *key == name.as_bytes())?;
    cookies::text(value).ok().map(Cow::into_owned)
}

/// The `host[:port]` of a serialized origin (`scheme://host[:port]`); `None` for `null` and
/// anything with a path, user info or a scheme other than http(s).
fn origin_authority(origin: &str) -> Option<&str> {
    let (scheme, authority) = origin.split_once("://")?;
    let web = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
    let clean = !authority.is_empty()
        && !authority
            .bytes()
            .any(|b| matches!(b, b'/' | b'?' | b'#' | b'@' | b'\\') || !b.is_ascii_graphic());
    (web && clean).then_some(authority)
}

/// The authority the request was sent to: the URI's (HTTP/2 `:authority`, absolute form), else
/// a single `Host` header.
fn request_authority<'r>(uri: &'r Uri, headers: &'r HeaderMap) -> Option<&'r str> {
    if let Some(authority) = uri.authority() {
        return Some(authority.as_str());
    }
    let mut hosts = headers.get_all(HOST).iter();
    let host = hosts.next()?;
    if hosts.next().is_some() {
        return None;
    }
    host.to_str().ok().map(str::trim).filter(|h| !h.is_empty())
}

/// A serialized origin as browsers send it: `https://x:443` is `https://x`, `http://x:80` is
/// `http://x`.
fn without_default_port(origin: &str) -> String {
    let origin = origin.to_ascii_lowercase();
    for (scheme, port) in [("https://", ":443"), ("http://", ":80")] {
        if origin.starts_with(scheme) {
            if let Some(stripped) = origin.strip_suffix(port) {
                return stripped.to_owned();
            }
        }
    }
    origin
}

/// `n` random bytes from the OS CSPRNG in lowercase hex, like `randomBytes(n).toString("hex")`.
fn random_hex(n: usize) -> String {
    use aes_gcm::aead::rand_core::RngCore;
    let mut bytes = vec![0u8; n];
    aes_gcm::aead::OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v5_joins_several_secrets_with_commas_like_a_template_string() {
        let csrf = Csrf::new(Format::V5, &[b"a", b"b"], false, None);
        assert_eq!(csrf.secret, b"a,b");
        let csrf = Csrf::new(Format::V4, &[b"a", b"b"], false, None);
        assert_eq!(csrf.secret, b"a");
    }

    #[test]
    fn no_or_empty_secret_draws_a_random_one() {
        let none = Csrf::new(Format::V5, &[], false, None);
        assert_eq!(none.secret.len(), 64);
        let empty = Csrf::new(Format::V5, &[b"", b""], false, None);
        assert_ne!(empty.secret, b",");
    }

    #[test]
    fn hash_matches_node_create_hash() {
        // node -e 'console.log(require("crypto").createHash("sha256").update("tokens").digest("hex"))'
        let csrf = Csrf::new(Format::V4, &[b"s"], false, None);
        assert_eq!(
            csrf.hash("token"),
            "c51e455b41df6c017327e16001dd064b8b6733faeaa69b23d9bd79c8079237d5"
        );
    }

    #[test]
    fn default_ports_are_dropped_from_the_expected_origin() {
        assert_eq!(
            without_default_port("https://A.example:443"),
            "https://a.example"
        );
        assert_eq!(
            without_default_port("http://a.example:80"),
            "http://a.example"
        );
        assert_eq!(
            without_default_port("http://a.example:8080"),
            "http://a.example:8080"
        );
    }
}
