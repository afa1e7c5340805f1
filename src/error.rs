//! The crate's errors: why a request has no session ([`SessionError`]), why a layer cannot be
//! built ([`ConfigError`]), and why claims cannot be encoded ([`EncodeError`]).

use std::fmt;

/// Why a request has no usable session. Deliberately coarse: no variant says which
/// cryptographic check failed.
///
/// ```
/// use tower_nextauth::SessionError;
/// assert_eq!(SessionError::Undecryptable.as_str(), "undecryptable");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionError {
    /// No session cookie and no `Authorization: Bearer` token.
    Missing,
    /// Not a token of any configured format: bad segments, base64, header, algorithm, sizes,
    /// chunk set, or claims that are not a JSON object of the expected shape.
    Malformed,
    /// Authentication failed: wrong secret, unknown `kid`, tampered bytes or padding.
    Undecryptable,
    /// Outside its validity window: `exp` passed (or missing while required), or `nbf` in the
    /// future, beyond the leeway.
    Expired,
    /// A valid token that `authorized` refused as a session: it answered
    /// [`Decision::Unauthenticated`](crate::Decision::Unauthenticated) (or `false`) for it, say
    /// because the session was revoked or lacks a claim the app requires.
    Refused,
    /// The session's `jwt` callback ended it ([`Jwt::SignOut`](crate::Jwt::SignOut)), say
    /// because its refresh token was revoked; the response clears the session cookies.
    SignedOut,
    /// The session could not be checked: the `jwt` callback failed, or the session store
    /// did not answer. Fail closed: the request has no session, and a request that needs one
    /// gets 503 rather than a sign-in redirect (which would loop while the session is valid).
    Unavailable,
}

impl SessionError {
    /// A stable, lowercase name: `no-session`, `malformed`, `undecryptable`, `expired`,
    /// `refused`, `signed-out` or `unavailable`.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionError::Missing => "no-session",
            SessionError::Malformed => "malformed",
            SessionError::Undecryptable => "undecryptable",
            SessionError::Expired => "expired",
            SessionError::Refused => "refused",
            SessionError::SignedOut => "signed-out",
            SessionError::Unavailable => "unavailable",
        }
    }
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for SessionError {}

/// A configuration the layer refuses to start with.
///
/// Its `Debug` output is the same sentence as its `Display`, because `.expect()` and
/// `fn main() -> Result<..>` print `Debug`: the message names the offending value and where it
/// came from.
///
/// ```
/// use tower_nextauth::Builder;
///
/// let error = Builder::new().sign_in_page("login").secret("s").build().unwrap_err();
/// assert_eq!(
///     format!("{error:?}"),
///     "Builder::sign_in_page must be a path of visible ASCII starting with '/', got \"login\""
/// );
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// No secret, or an empty one, while a built-in format needs one. next-auth would start and
    /// redirect every request to `?error=Configuration`; we fail before serving anything.
    MissingSecret,
    /// `NEXTAUTH_URL`/`AUTH_URL` (or [`Builder::url`](crate::Builder::url)) is not an absolute `http`/`https` URL
    /// with a host. `from` says where the value came from (`NEXTAUTH_URL`, `AUTH_URL` or
    /// `Builder::url`); `value` is the value as given, with any user info replaced by `***`.
    InvalidUrl {
        /// Where the value came from.
        from: &'static str,
        /// The value, with user info redacted.
        value: String,
    },
    /// A matcher source Next.js would refuse too.
    InvalidMatcher(crate::matcher::MatcherError),
    /// A base path or page that is not a path beginning with `/` (or has characters a path
    /// cannot carry).
    InvalidPath {
        /// Which setting: `Builder::base_path`, `Builder::sign_in_page` or `Builder::error_page`.
        what: &'static str,
        /// The value as given.
        value: String,
    },
    /// A cookie name that cannot appear in a `Cookie` header (empty, or with a separator,
    /// space or control character).
    InvalidCookieName(String),
    /// A cookie `Domain` that `cookie.serialize` would refuse (a host name such as
    /// `example.com` or `.example.com`); the value is named.
    InvalidCookieDomain(String),
    /// A `__Host-` cookie name with a `Domain`: browsers drop such cookies, since the prefix
    /// requires `Secure`, `Path=/` and no `Domain`.
    HostPrefixWithDomain {
        /// The cookie name.
        name: String,
        /// The configured domain.
        domain: String,
    },
    /// No format to read.
    NoFormat,
    /// [`Builder::service_url`](crate::Builder::service_url) without the app URL: the sign-in
    /// redirect must then go to the Next.js app's origin, which only `NEXTAUTH_URL` / `AUTH_URL`
    /// / [`Builder::url`](crate::Builder::url) can say.
    ServiceUrlWithoutAppUrl,
    /// A database session store setting that cannot work (the `postgres` feature's
    /// `DatabaseBuilder`): a connection string PostgreSQL would refuse, or a zero pool size.
    /// The message never contains the connection string's password.
    InvalidDatabase {
        /// Which setting: `DatabaseBuilder::new` (the connection string) or a builder method.
        what: &'static str,
        /// What is wrong with it, with any password replaced by `***`.
        reason: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::MissingSecret => f.write_str(
                "no session secret: set NEXTAUTH_SECRET or AUTH_SECRET, or call Builder::secret",
            ),
            ConfigError::InvalidUrl { from, value } => write!(
                f,
                "{from} must be an absolute http:// or https:// URL with a host, got {value:?}"
            ),
            ConfigError::InvalidPath { what, value } => write!(
                f,
                "{what} must be a path of visible ASCII starting with '/', got {value:?}"
            ),
            ConfigError::InvalidCookieName(name) => write!(
                f,
                "invalid session cookie name {name:?}: a cookie name is visible ASCII without separators ()<>@,;:\\\"/[]?={{}}"
            ),
            ConfigError::InvalidCookieDomain(domain) => {
                write!(f, "invalid cookie domain {domain:?}: expected a host name such as \"example.com\"")
            }
            ConfigError::HostPrefixWithDomain { name, domain } => write!(
                f,
                "the cookie {name:?} has the __Host- prefix, which forbids a Domain, but the domain {domain:?} is configured"
            ),
            ConfigError::InvalidMatcher(error) => error.fmt(f),
            ConfigError::NoFormat => f.write_str("at least one session format is required"),
            ConfigError::ServiceUrlWithoutAppUrl => f.write_str(
                "Builder::service_url needs the Next.js app's URL (NEXTAUTH_URL, AUTH_URL or \
                 Builder::url), where the sign-in redirect goes",
            ),
            ConfigError::InvalidDatabase { what, reason } => write!(f, "{what}: {reason}"),
        }
    }
}

impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for ConfigError {}

/// Claims that cannot become a session token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError(());

impl EncodeError {
    pub(crate) fn new() -> Self {
        Self(())
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("claims must serialize to a JSON object, and the format must be v4 or v5")
    }
}

impl std::error::Error for EncodeError {}
