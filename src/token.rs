//! [`Token`]: the decoded session handed to handlers, and the claim checks every decoder shares.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use std::borrow::Cow;

use serde::de::value::{BorrowedStrDeserializer, StringDeserializer};
use serde::de::{DeserializeOwned, DeserializeSeed, Error as _, MapAccess, Visitor};
use serde::Deserializer;

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
pub struct Token<C = Claims> {
    // One allocation, shared with the layer's cache of verified sessions: a request with a
    // cached session gets its claims without a copy, and touches one reference count.
    inner: Arc<Inner<C>>,
}

struct Inner<C> {
    claims: C,
    /// The time claims as the JSON had them, for the cache's re-check on every hit.
    times: Times,
    format: Option<Format>,
    source: TokenSource,
    /// The decrypted JSON the claims came from (for a refresh); empty for a token built here.
    payload: Vec<u8>,
}

impl<C> Token<C> {
    /// The claims.
    pub fn claims(&self) -> &C {
        &self.inner.claims
    }

    /// Consumes the token and returns the claims (a copy when the layer's session cache still
    /// holds them).
    pub fn into_claims(self) -> C
    where
        C: Clone,
    {
        match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner.claims,
            Err(shared) => shared.claims.clone(),
        }
    }

    /// The `exp` claim in seconds since the Unix epoch, if the token has one.
    pub fn exp(&self) -> Option<i64> {
        self.inner.times.exp.map(whole)
    }

    /// The `iat` claim in seconds since the Unix epoch, if the token has one.
    pub fn iat(&self) -> Option<i64> {
        self.inner.times.iat.map(whole)
    }

    /// The raw time claims.
    pub(crate) fn times(&self) -> Times {
        self.inner.times
    }

    /// The built-in format that decoded the token, or `None` for a custom [`Decoder`](crate::Decoder).
    pub fn format(&self) -> Option<Format> {
        self.inner.format
    }

    /// Whether the token came from a cookie or from the `Authorization` header.
    pub fn source(&self) -> TokenSource {
        self.inner.source
    }

    /// A token built here rather than decoded (a database session's claims).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn new(
        claims: C,
        times: Times,
        format: Option<Format>,
        source: TokenSource,
    ) -> Self {
        Self::decoded(claims, times, format, source, Vec::new())
    }

    /// A token decoded from `payload`.
    pub(crate) fn decoded(
        claims: C,
        times: Times,
        format: Option<Format>,
        source: TokenSource,
        payload: Vec<u8>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                claims,
                times,
                format,
                source,
                payload,
            }),
        }
    }

    /// The decrypted JSON the claims came from; empty for a token that was not decoded.
    pub(crate) fn payload(&self) -> &[u8] {
        &self.inner.payload
    }
}

impl<C: Send + Sync + 'static> Token<C> {
    /// The shared allocation, as the cache of verified sessions holds it.
    pub(crate) fn to_any(&self) -> Arc<dyn std::any::Any + Send + Sync> {
        self.inner.clone()
    }

    /// The token whose allocation [`to_any`](Self::to_any) gave, if its claims are a `C`.
    pub(crate) fn from_any(any: Arc<dyn std::any::Any + Send + Sync>) -> Option<Self> {
        any.downcast::<Inner<C>>().ok().map(|inner| Self { inner })
    }
}

// Not derived: cloning a token shares its claims, so `C` need not be `Clone`.
impl<C> Clone for Token<C> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<C> Deref for Token<C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.inner.claims
    }
}

// Claims routinely carry access tokens and personal data, so they stay out of `Debug`.
impl<C> fmt::Debug for Token<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("format", &self.inner.format)
            .field("source", &self.inner.source)
            .field("exp", &self.exp())
            .field("iat", &self.iat())
            .field("claims", &"REDACTED")
            .finish()
    }
}

/// Marks a request that [`AuthLayer`](crate::AuthLayer) let through without a session, so that
/// framework adapters (the axum extractors) can tell "no session" from "no layer".
#[derive(Clone, Copy, Debug)]
pub(crate) struct Checked;

/// The registered time claims, as JSON numbers (jose requires present ones to be numbers).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Times {
    pub(crate) exp: Option<f64>,
    pub(crate) nbf: Option<f64>,
    pub(crate) iat: Option<f64>,
}

/// The validity rules of `jwtDecrypt(..., { clockTolerance })` (docs/compat.md#time).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Validation {
    pub(crate) leeway: i64,
    pub(crate) require_exp: bool,
}

impl Validation {
    /// Deserializes `payload` into `C` and checks its time claims at `now`, in one JSON pass:
    /// `exp`, `nbf` and `iat` are picked up on the way through the object, whatever `C` does
    /// with them.
    pub(crate) fn parse<C: DeserializeOwned>(
        &self,
        payload: &[u8],
        now: i64,
    ) -> Result<(C, Times), SessionError> {
        // jose requires a JSON object; serde would also accept an array for a struct.
        if payload.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(SessionError::Malformed);
        }
        let mut times = Times::default();
        let mut json = serde_json::Deserializer::from_slice(payload);
        let claims = C::deserialize(Watch {
            inner: &mut json,
            times: &mut times,
        })
        .map_err(|_| SessionError::Malformed)?;
        json.end().map_err(|_| SessionError::Malformed)?;
        self.check(&times, now)?;
        Ok((claims, times))
    }

    /// `exp` (with `require_exp`) and `nbf` against `now`, with the leeway.
    pub(crate) fn check(&self, times: &Times, now: i64) -> Result<(), SessionError> {
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
        Ok(())
    }
}

/// A deserializer for the top-level claims object that hands everything to `C` and records the
/// time claims as they pass. A time claim that is not a number fails the whole parse, as in jose
/// (`"exp": null` and `"exp": "1"` included).
struct Watch<'a, D> {
    inner: D,
    times: &'a mut Times,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Watch<'_, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_map(WatchVisitor {
            inner: visitor,
            times: self.times,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.deserialize_any(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

struct WatchVisitor<'a, V> {
    inner: V,
    times: &'a mut Times,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for WatchVisitor<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<V::Value, M::Error> {
        self.inner.visit_map(WatchMap {
            inner: map,
            times: self.times,
            slot: None,
        })
    }
}

/// Reads a key, borrowing it from the payload when it has no escapes (serde's own `Cow<str>`
/// always copies).
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a claim name")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// Which time claim the key just read names.
#[derive(Clone, Copy)]
enum Slot {
    Exp,
    Nbf,
    Iat,
}

struct WatchMap<'a, M> {
    inner: M,
    times: &'a mut Times,
    slot: Option<Slot>,
}

impl<'de, M: MapAccess<'de>> MapAccess<'de> for WatchMap<'_, M> {
    type Error = M::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, M::Error> {
        let Some(key) = self.inner.next_key_seed(KeySeed)? else {
            return Ok(None);
        };
        self.slot = match &*key {
            "exp" => Some(Slot::Exp),
            "nbf" => Some(Slot::Nbf),
            "iat" => Some(Slot::Iat),
            _ => None,
        };
        let key = match key {
            Cow::Borrowed(key) => seed.deserialize(BorrowedStrDeserializer::new(key)),
            Cow::Owned(key) => seed.deserialize(StringDeserializer::new(key)),
        };
        key.map(Some)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, M::Error> {
        let Some(slot) = self.slot.take() else {
            return self.inner.next_value_seed(seed);
        };
        let number: serde_json::Number = self.inner.next_value()?;
        let value = number.as_f64();
        match slot {
            Slot::Exp => self.times.exp = value,
            Slot::Nbf => self.times.nbf = value,
            Slot::Iat => self.times.iat = value,
        }
        seed.deserialize(number).map_err(M::Error::custom)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// A time claim in whole seconds; `as` saturates, so a claim past the i64 range reads as
/// i64::MIN / i64::MAX.
fn whole(seconds: f64) -> i64 {
    seconds.floor() as i64
}

/// A duration in whole seconds as the `i64` the time claims use, saturating rather than
/// wrapping for durations past `i64::MAX` seconds.
pub(crate) fn whole_seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// The system clock, in whole seconds since the Unix epoch (0 before it).
///
/// On Linux this is `CLOCK_REALTIME_COARSE`: the wall clock as of the last timer tick (at most
/// one tick, 1 to 10 ms, behind), read from the vDSO without reading the TSC. The layer reads the
/// clock on every request with a cached session; on this crate's KVM test machine that costs 5 ns
/// against 40 ns for `SystemTime::now()` (README "Performance"). Time claims are whole seconds,
/// checked with a leeway of seconds, so a lag of one tick changes no answer that matters.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn unix_now() -> i64 {
    rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse)
        .tv_sec
        .max(0)
}

/// The system clock, in whole seconds since the Unix epoch (0 before it).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn unix_now() -> i64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, whole_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    const V: Validation = Validation {
        leeway: 15,
        require_exp: false,
    };

    fn check(payload: &str, now: i64) -> Result<(), SessionError> {
        V.parse::<Claims>(payload.as_bytes(), now).map(|_| ())
    }

    #[test]
    fn the_default_clock_is_the_system_clock() {
        use std::time::{SystemTime, UNIX_EPOCH};
        // The coarse clock lags by at most one tick, never leads.
        let coarse = unix_now();
        let precise = whole_seconds(SystemTime::now().duration_since(UNIX_EPOCH).unwrap());
        assert!(
            coarse <= precise && precise - coarse <= 1,
            "{coarse} vs {precise}"
        );
        assert!(coarse > 1_767_225_600, "after 2026-01-01: {coarse}");
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
    fn one_pass_reads_times_whatever_the_claims_type_does_with_them() {
        #[derive(Deserialize)]
        struct Typed {
            exp: i64,
            name: String,
        }
        // A typed struct that keeps `exp` as an integer, and one that ignores it.
        let (typed, times) = V
            .parse::<Typed>(br#"{"name":"Ada","exp":2000,"nbf":10,"iat":5}"#, 1000)
            .unwrap();
        assert_eq!((typed.exp, typed.name.as_str()), (2000, "Ada"));
        assert_eq!(
            (times.exp, times.nbf, times.iat),
            (Some(2000.0), Some(10.0), Some(5.0))
        );
        assert_eq!(
            V.parse::<serde::de::IgnoredAny>(br#"{"exp":900}"#, 1000)
                .map(|_| ()),
            Err(SessionError::Expired)
        );
        // JSON.parse reads an escaped name as the plain one, so jose checks it: so do we.
        assert_eq!(
            check(r#"{"e\u0078p":900}"#, 1000),
            Err(SessionError::Expired)
        );
        // The map keeps fractional and huge numbers as JSON has them.
        let (map, _) = V
            .parse::<Claims>(br#"{"exp":1e300,"iat":1.5,"a":[1,{"b":null}]}"#, 1000)
            .unwrap();
        assert_eq!(
            serde_json::Value::Object(map),
            serde_json::json!({"exp":1e300,"iat":1.5,"a":[1,{"b":null}]})
        );
        // Trailing bytes after the object are refused, as JSON.parse does.
        assert_eq!(check(r#"{"a":1} x"#, 1000), Err(SessionError::Malformed));
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
