//! [`Token`]: the decoded session handed to handlers, and the claim checks every decoder shares.

use std::fmt;
use std::ops::Deref;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::error::SessionError;

/// The default claims type: the token's JSON object as next-auth's `getToken` returns it.
pub type Claims = serde_json::Map<String, serde_json::Value>;

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
    /// The library that writes this format, for messages: `next-auth v4` or `Auth.js v5`.
    pub(crate) fn library(self) -> &'static str {
        match self {
            Format::V4 => "next-auth v4",
            Format::V5 => "Auth.js v5",
        }
    }

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

/// Where a session token was found.
///
/// ```
/// use tower_nextauth::{AuthLayer, Builder, Format, Token, TokenSource};
///
/// let layer = Builder::new().secret("a-development-secret-of-32-bytes!").format(Format::V4).build().unwrap();
/// let jwe = layer.sessions().encode(&serde_json::json!({})).unwrap();
/// let token: Token = layer.sessions().decode(&jwe).unwrap();
/// assert_eq!(token.source(), TokenSource::Cookie);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenSource {
    /// A session cookie (possibly reassembled from chunks).
    Cookie,
    /// The `Authorization: Bearer` fallback, used only when no session cookie was sent.
    Bearer,
}

/// A decoded, validated session: the `req.nextauth.token` of next-auth's `withAuth`.
///
/// [`AuthLayer`](crate::AuthLayer) puts a `Token<C>` into the request extensions of every request
/// it lets through with a session. `C` is any [`DeserializeOwned`] type, so a struct with your own
/// claims (`role`, `accessToken`, …) deserializes directly; the default is the raw JSON object.
/// `Token<C>` dereferences to `C`.
///
/// ```
/// use tower_nextauth::{AuthLayer, Builder, Format, Token};
/// use serde::Deserialize;
///
/// #[derive(Clone, Deserialize)]
/// struct Session {
///     name: String,
///     role: String,
/// }
///
/// let layer = Builder::new()
///     .secret("a-development-secret-of-32-bytes!")
///     .format(Format::V5)
///     .build()
///     .unwrap();
/// let sessions = layer.sessions();
/// let jwe = sessions.encode(&serde_json::json!({"name": "Ada", "role": "admin"})).unwrap();
/// let token: Token<Session> = sessions.decode(&jwe).unwrap();
/// assert_eq!(token.name, "Ada");
/// assert_eq!(token.role, "admin");
/// assert!(token.exp().is_some());
/// ```
#[derive(Clone)]
pub struct Token<C = Claims> {
    claims: C,
    exp: Option<i64>,
    iat: Option<i64>,
    format: Option<Format>,
    source: TokenSource,
}

impl<C> Token<C> {
    /// The claims.
    pub fn claims(&self) -> &C {
        &self.claims
    }

    /// Consumes the token and returns the claims.
    pub fn into_claims(self) -> C {
        self.claims
    }

    /// The `exp` claim in seconds since the Unix epoch, if the token has one.
    pub fn exp(&self) -> Option<i64> {
        self.exp
    }

    /// The `iat` claim in seconds since the Unix epoch, if the token has one.
    pub fn iat(&self) -> Option<i64> {
        self.iat
    }

    /// The built-in format that decoded the token, or `None` for a custom [`Decoder`](crate::Decoder).
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    /// Whether the token came from a cookie or from the `Authorization` header.
    pub fn source(&self) -> TokenSource {
        self.source
    }

    pub(crate) fn new(
        claims: C,
        times: Times,
        format: Option<Format>,
        source: TokenSource,
    ) -> Self {
        Self {
            claims,
            // `as` saturates: a claim past the i64 range reads as i64::MIN / i64::MAX.
            exp: times.exp.map(|v| v.floor() as i64),
            iat: times.iat.map(|v| v.floor() as i64),
            format,
            source,
        }
    }
}

impl<C> Deref for Token<C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.claims
    }
}

// Claims routinely carry access tokens and personal data, so they stay out of `Debug`.
impl<C> fmt::Debug for Token<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("format", &self.format)
            .field("source", &self.source)
            .field("exp", &self.exp)
            .field("iat", &self.iat)
            .field("claims", &"REDACTED")
            .finish()
    }
}

/// Marks a request that [`AuthLayer`](crate::AuthLayer) let through without a session, so that
/// framework adapters (the axum extractors) can tell "no session" from "no layer".
#[derive(Clone, Copy, Debug)]
pub(crate) struct Checked;

/// The registered time claims; present ones must be numbers, as jose requires.
#[derive(Deserialize, Default)]
pub(crate) struct Times {
    #[serde(default, deserialize_with = "number")]
    pub(crate) exp: Option<f64>,
    #[serde(default, deserialize_with = "number")]
    pub(crate) nbf: Option<f64>,
    #[serde(default, deserialize_with = "number")]
    pub(crate) iat: Option<f64>,
}

// `Option<f64>` alone would read `"exp": null` as absent; jose rejects it, and so do we.
fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    f64::deserialize(d).map(Some)
}

/// The validity rules of `jwtDecrypt(..., { clockTolerance })` (docs/compat.md#time).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Validation {
    pub(crate) leeway: i64,
    pub(crate) require_exp: bool,
}

impl Validation {
    /// Checks the time claims of `payload` at `now` and deserializes it into `C`.
    pub(crate) fn parse<C: DeserializeOwned>(
        &self,
        payload: &[u8],
        now: i64,
    ) -> Result<(C, Times), SessionError> {
        // jose requires a JSON object; serde would also accept an array for a struct.
        if payload.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(SessionError::Malformed);
        }
        let times: Times = serde_json::from_slice(payload).map_err(|_| SessionError::Malformed)?;
        // In f64, as jose compares: no overflow for any i64 clock or leeway, and JSON numbers
        // beyond i64 (or fractional) compare as they do in JavaScript.
        let now = now as f64;
        let leeway = self.leeway as f64;
        match times.exp {
            Some(exp) if exp <= now - leeway => return Err(SessionError::Expired),
            None if self.require_exp => return Err(SessionError::Expired),
            _ => {}
        }
        if times.nbf.is_some_and(|nbf| nbf > now + leeway) {
            return Err(SessionError::Expired);
        }
        let claims = serde_json::from_slice(payload).map_err(|_| SessionError::Malformed)?;
        Ok((claims, times))
    }
}

/// A duration in whole seconds as the `i64` the time claims use, saturating rather than
/// wrapping for durations past `i64::MAX` seconds.
pub(crate) fn whole_seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// The system clock, in whole seconds since the Unix epoch (0 before it).
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, whole_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: Validation = Validation {
        leeway: 15,
        require_exp: false,
    };

    fn check(payload: &str, now: i64) -> Result<(), SessionError> {
        V.parse::<Claims>(payload.as_bytes(), now).map(|_| ())
    }

    #[test]
    fn exp_leeway_matches_jose() {
        // jose: rejected when exp <= now - 15 (docs/compat.md#time, row T1).
        assert_eq!(check(r#"{"exp":1000}"#, 1014), Ok(()));
        assert_eq!(check(r#"{"exp":1000}"#, 1015), Err(SessionError::Expired));
    }

    #[test]
    fn nbf_leeway_matches_jose() {
        assert_eq!(check(r#"{"nbf":1015}"#, 1000), Ok(()));
        assert_eq!(check(r#"{"nbf":1016}"#, 1000), Err(SessionError::Expired));
    }

    #[test]
    fn missing_exp_is_accepted_unless_required() {
        assert_eq!(check(r#"{"sub":"1"}"#, 1000), Ok(()));
        let strict = Validation {
            require_exp: true,
            ..V
        };
        assert_eq!(
            strict.parse::<Claims>(br#"{"sub":"1"}"#, 1000).map(|_| ()),
            Err(SessionError::Expired)
        );
    }

    #[test]
    fn non_numeric_times_and_non_objects_are_malformed() {
        for payload in [
            r#"{"exp":"9999999999"}"#,
            r#"{"exp":null}"#,
            r#"{"iat":"1"}"#,
            "[1]",
            "1",
            r#""x""#,
        ] {
            assert_eq!(
                check(payload, 1000),
                Err(SessionError::Malformed),
                "{payload}"
            );
        }
    }

    #[test]
    fn debug_redacts_claims() {
        let (claims, times) = V
            .parse::<Claims>(br#"{"accessToken":"very-secret"}"#, 0)
            .unwrap();
        let token = Token::new(claims, times, None, TokenSource::Cookie);
        assert!(!format!("{token:?}").contains("very-secret"));
    }
}
