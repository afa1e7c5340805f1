//! Reading session cookies as next-auth's `SessionStore` does (docs/compat.md#cookies): bare
//! or chunked `name.0 … name.N`, plus the `Authorization: Bearer` fallback of `getToken`
//! (docs/compat.md#bearer).
//!
//! Reading and writing are hand-written rather than built on the `cookie` crate, because byte
//! parity with next-auth decides: `SessionStore` collects every cookie whose name starts with the
//! session name (chunks, and the foreign suffixes we refuse), `cookie.parse` keeps the first of
//! duplicate names and decodes with `decodeURIComponent` semantics, and `cookie.serialize` writes
//! its attributes in its own order (`Max-Age`, `Domain`, `Path`, `Expires`, `HttpOnly`, `Secure`,
//! `SameSite`), which the interop tests compare byte for byte.

use std::borrow::Cow;

use http::header::{AUTHORIZATION, COOKIE};
use http::HeaderMap;

use crate::error::SessionError;
use crate::token::Format;

/// Caps on what a request may carry as its session, checked before any decoding: the session
/// cookie (all chunks together) and the `Authorization: Bearer` header.
///
/// ```
/// use tower_nextauth::{AuthLayer, Builder, Limits};
///
/// let limits = Limits::default().max_bytes(16 * 1024).max_chunks(4);
/// assert_eq!((limits.bytes(), limits.chunks()), (16 * 1024, 4));
/// let layer = Builder::new()
///     .secret("a-development-secret-of-32-bytes!")
///     .limits(limits)
///     .build()
///     .unwrap();
/// # let _ = layer;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    max_bytes: usize,
    max_chunks: usize,
}

impl Limits {
    /// Total bytes of session cookie values (all chunks together), and of the `Authorization`
    /// header. Default 64 KiB: next-auth's largest real cookies are a few chunks of ~3.9 KiB,
    /// and Node rejects request headers over 16 KiB by default, so a Next.js app never writes
    /// more.
    pub fn max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// Number of chunk cookies. Default 16.
    pub fn max_chunks(mut self, chunks: usize) -> Self {
        self.max_chunks = chunks;
        self
    }

    /// The byte cap.
    pub fn bytes(&self) -> usize {
        self.max_bytes
    }

    /// The chunk cap.
    pub fn chunks(&self) -> usize {
        self.max_chunks
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 64 * 1024,
            max_chunks: 16,
        }
    }
}

/// The prefix next-auth puts on cookie names when it runs on HTTPS.
pub(crate) const SECURE_PREFIX: &str = "__Secure-";
/// The stricter prefix (RFC 6265bis §4.1.3.2): `Secure`, `Path=/`, no `Domain`.
pub(crate) const HOST_PREFIX: &str = "__Host-";

/// Whether `name` starts with a cookie prefix; browsers compare prefixes case-insensitively
/// (RFC 6265bis §4.1.3).
pub(crate) fn has_prefix(name: &str, prefix: &str) -> bool {
    name.len() >= prefix.len()
        && name.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// The domains `cookie.serialize` accepts (cookie@0.7.2 index.js `domainValueRegExp`): dot-separated
/// labels of letters, digits and inner hyphens, up to 63 bytes each, with an optional leading dot.
pub(crate) fn valid_domain(domain: &str) -> bool {
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

/// The session cookie `name` from `headers`, reassembled from chunks when needed.
///
/// `Ok(None)`: no such cookie. `Err`: a value that cannot be a session (a bare cookie next to
/// chunks, a gap in the chunk numbers, a limit exceeded). Upstream concatenates such sets into
/// garbage that fails to decrypt; we fail the same way without doing the work.
pub(crate) fn read<'h>(
    headers: &'h HeaderMap,
    name: &str,
    limits: Limits,
) -> Result<Option<Cow<'h, str>>, SessionError> {
    read_bytes(headers, name, limits)?
        .map(Sent::into_text)
        .transpose()
}

/// As [`read`], as sent: neither percent-decoded nor checked as UTF-8 when it is a single cookie.
/// The cache of verified sessions is looked up with these bytes, and only a miss needs the text
/// ([`Sent::text`]).
pub(crate) fn read_bytes<'h>(
    headers: &'h HeaderMap,
    name: &str,
    limits: Limits,
) -> Result<Option<Sent<'h>>, SessionError> {
    let mut bare: Option<&[u8]> = None;
    let mut chunks: Vec<(u32, &[u8])> = Vec::new();
    let mut total = 0usize;
    let mut foreign = false;
    for (key, mut value) in pairs(headers) {
        // SessionStore collects every cookie whose name *starts with* the session name.
        let Some(suffix) = key.strip_prefix(name.as_bytes()) else {
            continue;
        };
        if value.len() >= 2 && value[0] == b'"' && value[value.len() - 1] == b'"' {
            value = &value[1..value.len() - 1];
        }
        // Auth.js skips empty values; for next-auth an empty value is no token either.
        if value.is_empty() {
            continue;
        }
        total += value.len();
        if total > limits.max_bytes {
            return Err(SessionError::Malformed);
        }
        if suffix.is_empty() {
            // Duplicate names: the first one wins, as in `cookie.parse`.
            bare.get_or_insert(value);
        } else if let Some(index) = chunk_index(suffix) {
            if chunks.iter().any(|&(i, _)| i == index) {
                continue;
            }
            if chunks.len() == limits.max_chunks {
                return Err(SessionError::Malformed);
            }
            chunks.push((index, value));
        } else {
            foreign = true;
        }
    }
    if chunks.is_empty() {
        return match bare {
            None if foreign => Err(SessionError::Malformed),
            None => Ok(None),
            Some(_) if foreign => Err(SessionError::Malformed),
            Some(value) => Ok(Some(Sent::Single(value))),
        };
    }
    if bare.is_some() || foreign {
        // A bare cookie and chunks together: upstream's `getToken` returns null
        // (docs/compat.md#cookies, row C4).
        return Err(SessionError::Malformed);
    }
    chunks.sort_unstable_by_key(|&(i, _)| i);
    if chunks
        .iter()
        .enumerate()
        .any(|(pos, &(i, _))| pos as u32 != i)
    {
        return Err(SessionError::Malformed);
    }
    // Each chunk is decoded on its own before they are joined, as SessionStore joins the values
    // `cookie.parse` decoded.
    let mut joined = Vec::with_capacity(total);
    for (_, value) in chunks {
        joined.extend_from_slice(&text_bytes(value)?);
    }
    Ok(Some(Sent::Joined(joined)))
}

/// A session cookie's value as [`read_bytes`] found it.
pub(crate) enum Sent<'h> {
    /// A single cookie, as sent: it may hold percent-escapes.
    Single(&'h [u8]),
    /// Chunks, each decoded on its own before they were joined.
    Joined(Vec<u8>),
}

impl<'h> Sent<'h> {
    /// The bytes the cache of verified sessions is keyed by. Every stored token is text without
    /// `%` (a JWE is base64url and dots), so bytes equal to a stored key decode to themselves,
    /// and a hit needs neither the percent-decoding nor the UTF-8 check.
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Self::Single(raw) => raw,
            Self::Joined(joined) => joined,
        }
    }

    /// The value as `cookie.parse` gives it: percent-decoded when that succeeds, and UTF-8.
    pub(crate) fn text(&self) -> Result<Cow<'_, str>, SessionError> {
        match self {
            Self::Single(raw) => text(raw),
            Self::Joined(joined) => utf8(joined).map(Cow::Borrowed),
        }
    }

    /// [`text`](Self::text), borrowing from the headers where it can.
    pub(crate) fn into_text(self) -> Result<Cow<'h, str>, SessionError> {
        match self {
            Self::Single(raw) => text(raw),
            Self::Joined(joined) => String::from_utf8(joined)
                .map(Cow::Owned)
                .map_err(|_| SessionError::Malformed),
        }
    }
}

/// `Authorization: Bearer <token>`, read exactly as `getToken` reads it: a case-sensitive
/// `Bearer`, the second space-separated field only, then `decodeURIComponent`, where malformed
/// percent-encoding means no token (4.24.15 behaviour; docs/compat.md#bearer).
///
/// A header longer than `limits.max_bytes` is refused before it is split or decoded, so a large
/// header costs no more than a large cookie.
pub(crate) fn bearer(
    headers: &HeaderMap,
    limits: Limits,
) -> Result<Option<Cow<'_, str>>, SessionError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    if value.len() > limits.max_bytes {
        return Err(SessionError::Malformed);
    }
    let Ok(value) = value.to_str() else {
        return Ok(None);
    };
    let mut fields = value.split(' ');
    if fields.next() != Some("Bearer") {
        return Ok(None);
    }
    Ok(fields
        .next()
        .filter(|t| !t.is_empty())
        .and_then(decode_uri_component))
}

fn chunk_index(suffix: &[u8]) -> Option<u32> {
    let digits = suffix.strip_prefix(b".")?;
    if digits.is_empty() || digits.len() > 4 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The `name=value` pairs of every `Cookie` header, in order, names and values trimmed as
/// `cookie.parse` trims them; pieces without `=` are skipped, as `cookie.parse` skips them.
pub(crate) fn pairs(headers: &HeaderMap) -> impl Iterator<Item = (&[u8], &[u8])> {
    // Bytes, not text: a header needs no UTF-8 check to be split, and only the value that is
    // used is checked (`text`). `;` and `=` are found with the `memchr` crate's vectorised
    // search: a session cookie is hundreds of bytes, which `core`'s word-at-a-time search and a
    // `from_utf8` pass over the whole header made a measurable share of a cached request.
    headers
        .get_all(COOKIE)
        .into_iter()
        .flat_map(|header| Split {
            rest: Some(header.as_bytes()),
        })
        .filter_map(|pair| {
            let eq = memchr::memchr(b'=', pair)?;
            Some((trim(&pair[..eq]), trim(&pair[eq + 1..])))
        })
}

/// The `;`-separated pieces of one header value.
struct Split<'h> {
    rest: Option<&'h [u8]>,
}

impl<'h> Iterator for Split<'h> {
    type Item = &'h [u8];

    fn next(&mut self) -> Option<&'h [u8]> {
        let rest = self.rest?;
        match memchr::memchr(b';', rest) {
            Some(at) => {
                self.rest = Some(&rest[at + 1..]);
                Some(&rest[..at])
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// `bytes` without the spaces and tabs `cookie.parse` trims around names and values.
pub(crate) fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !matches!(b, b' ' | b'\t'));
    let Some(start) = start else { return &[] };
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(start);
    &bytes[start..=end]
}

/// A cookie value as text. `cookie.parse` percent-decodes values that contain `%` and keeps the
/// raw value when that fails; session tokens never contain `%`, so the raw value is the rule.
pub(crate) fn text(value: &[u8]) -> Result<Cow<'_, str>, SessionError> {
    let raw = utf8(value)?;
    if memchr::memchr(b'%', value).is_some() {
        if let Some(decoded) = decode_uri_component(raw) {
            return Ok(Cow::Owned(decoded.into_owned()));
        }
    }
    Ok(Cow::Borrowed(raw))
}

/// `bytes` as UTF-8 text; a session value that is not is malformed.
fn utf8(bytes: &[u8]) -> Result<&str, SessionError> {
    std::str::from_utf8(bytes).map_err(|_| SessionError::Malformed)
}

/// [`text`] as bytes: a value without `%` is returned as it is, unchecked.
fn text_bytes(value: &[u8]) -> Result<Cow<'_, [u8]>, SessionError> {
    if memchr::memchr(b'%', value).is_none() {
        return Ok(Cow::Borrowed(value));
    }
    Ok(match text(value)? {
        Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
        Cow::Owned(text) => Cow::Owned(text.into_bytes()),
    })
}

/// JavaScript's `decodeURIComponent`: every `%` must start a `%XX` escape and the result must be
/// UTF-8, otherwise it fails (where JS throws `URIError`).
pub(crate) fn decode_uri_component(input: &str) -> Option<Cow<'_, str>> {
    if !input.contains('%') {
        return Some(Cow::Borrowed(input));
    }
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hi = (hex[0] as char).to_digit(16)?;
            let lo = (hex[1] as char).to_digit(16)?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_str(cookie).unwrap());
        h
    }

    fn value(cookie: &str) -> Result<Option<String>, SessionError> {
        read(&headers(cookie), "s", Limits::default()).map(|v| v.map(Cow::into_owned))
    }

    #[test]
    fn chunks_reassemble_in_numeric_order() {
        assert_eq!(
            value(
                "s.2=c; x=1; s.0=a; s.10=k; s.1=b; s.3=d; s.4=e; s.5=f; s.6=g; s.7=h; s.8=i; s.9=j"
            )
            .unwrap()
            .unwrap(),
            "abcdefghijk"
        );
    }

    #[test]
    fn bare_cookie_with_chunks_is_invalid() {
        assert_eq!(value("s=a; s.0=b"), Err(SessionError::Malformed));
    }

    #[test]
    fn chunk_gap_and_foreign_suffix_are_invalid() {
        assert_eq!(value("s.0=a; s.2=b"), Err(SessionError::Malformed));
        assert_eq!(value("s-old=a"), Err(SessionError::Malformed));
    }

    #[test]
    fn empty_values_are_absent_and_first_duplicate_wins() {
        assert_eq!(value("s=; t=1").unwrap(), None);
        assert_eq!(value("s=first; s=second").unwrap().unwrap(), "first");
    }

    #[test]
    fn limits_stop_reading() {
        let many: String = (0..17).map(|i| format!("s.{i}=a; ")).collect();
        assert_eq!(value(&many), Err(SessionError::Malformed));
        let limits = Limits::default().max_bytes(3);
        assert_eq!(
            read(&headers("s=abcd"), "s", limits),
            Err(SessionError::Malformed)
        );
    }

    #[test]
    fn bearer_follows_get_token() {
        let auth = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            bearer(&h, Limits::default()).unwrap().map(Cow::into_owned)
        };
        assert_eq!(auth("Bearer a.b%2Ec").as_deref(), Some("a.b.c"));
        assert_eq!(auth("bearer abc"), None);
        assert_eq!(auth("Bearer  abc"), None);
        assert_eq!(auth("Bearer %E0%A4%A"), None);
        assert_eq!(auth("Bearer %FF"), None);
        let mut h = HeaderMap::new();
        let limits = Limits::default().max_bytes(10);
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer 123"));
        assert_eq!(bearer(&h, limits).unwrap().as_deref(), Some("123"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer 1234"));
        assert_eq!(bearer(&h, limits), Err(SessionError::Malformed));
    }
}

/// The chunk size of next-auth's `SessionStore`: 4096 minus its estimate of an empty cookie
/// (163 bytes in next-auth@4.24.15 core/lib/cookie.js, 160 in @auth/core@0.41.3
/// lib/utils/cookie.js).
pub(crate) fn chunk_size(format: Option<Format>) -> usize {
    match format {
        Some(Format::V4) => 4096 - 163,
        _ => 4096 - 160,
    }
}

/// The distinct cookie names in `headers` that start with `name`, in request order: the entries
/// `SessionStore` cleans before writing.
pub(crate) fn present<'h>(headers: &'h HeaderMap, name: &str) -> Vec<&'h str> {
    let mut names: Vec<&str> = Vec::new();
    for (key, _) in pairs(headers) {
        let Ok(key) = std::str::from_utf8(key) else {
            continue;
        };
        if key.starts_with(name) && !names.contains(&key) {
            names.push(key);
        }
    }
    names
}

/// One `Set-Cookie` value, serialized as `cookie.serialize` does with next-auth's session cookie
/// options: `name=value[; Max-Age=0][; Domain=…]; Path=/[; Expires=…]; HttpOnly[; Secure];
/// SameSite=Lax` (the attribute order of cookie@0.7.2 index.js and of @auth/core@0.41.3
/// lib/vendored/cookie.js).
pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    expires: Option<i64>,
    secure: bool,
    domain: Option<&str>,
) -> http::HeaderValue {
    let mut out = String::with_capacity(name.len() + value.len() + 96);
    out.push_str(name);
    out.push('=');
    out.push_str(value);
    if expires.is_none() {
        out.push_str("; Max-Age=0");
    }
    if let Some(domain) = domain {
        out.push_str("; Domain=");
        out.push_str(domain);
    }
    out.push_str("; Path=/");
    if let Some(at) = expires {
        out.push_str("; Expires=");
        out.push_str(&http_date(at));
    }
    out.push_str("; HttpOnly");
    if secure {
        out.push_str("; Secure");
    }
    out.push_str("; SameSite=Lax");
    // Names and the domain were validated at build time and values are base64url JWE segments.
    http::HeaderValue::try_from(out).expect("cookie names and JWE values are visible ASCII")
}

/// `Date.prototype.toUTCString()`: `Tue, 01 Jan 2030 00:00:00 GMT`.
pub(crate) fn http_date(unix: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (year, month, day, secs) = civil(unix);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[unix.div_euclid(86_400).rem_euclid(7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// `Date.prototype.toISOString()` for a whole second: `2030-01-01T00:00:00.000Z`.
pub(crate) fn iso_8601(unix: i64) -> String {
    let (year, month, day, secs) = civil(unix);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.000Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// (year, month 1-12, day 1-31, second of the day) of a Unix time.
fn civil(unix: i64) -> (i64, i64, i64, i64) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, secs)
}

#[cfg(test)]
mod write_tests {
    use super::*;

    #[test]
    fn http_date_matches_to_utc_string() {
        assert_eq!(http_date(1_893_456_000), "Tue, 01 Jan 2030 00:00:00 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_709_208_000), "Thu, 29 Feb 2024 12:00:00 GMT");
        assert_eq!(iso_8601(1_709_208_000), "2024-02-29T12:00:00.000Z");
    }

    #[test]
    fn set_cookie_attribute_order_matches_cookie_serialize() {
        assert_eq!(
            set_cookie("__Secure-next-auth.session-token", "abc", Some(1_893_456_000), true, None),
            "__Secure-next-auth.session-token=abc; Path=/; Expires=Tue, 01 Jan 2030 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax"
        );
        assert_eq!(
            set_cookie("next-auth.session-token.1", "", None, false, None),
            "next-auth.session-token.1=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
        );
    }
}
