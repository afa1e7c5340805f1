//! The two built-in session formats: next-auth v4 (`dir` + `A256GCM`) and Auth.js v5
//! (`dir` + `A256CBC-HS512` with a `kid`, or `A256GCM`).
//!
//! Every path that touches key material ends in one opaque [`SessionError::Undecryptable`]: a bad
//! tag, a bad padding and an unknown `kid` are indistinguishable to the caller, and tags are
//! checked in constant time before anything is decrypted (see `SECURITY.md`).

mod keys;
mod v4;
mod v5;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;

use crate::error::SessionError;

pub(crate) use v4::V4Key;
pub(crate) use v5::V5Keys;

/// A JWE in compact serialization, split but not yet decoded.
pub(crate) struct Compact<'a> {
    pub(crate) header: &'a str,
    pub(crate) iv: &'a str,
    pub(crate) ciphertext: &'a str,
    pub(crate) tag: &'a str,
}

impl<'a> Compact<'a> {
    /// Splits `token` into its five segments. The encrypted-key segment must be empty: both
    /// libraries only emit `alg: dir`.
    pub(crate) fn split(token: &'a str) -> Result<Self, SessionError> {
        let mut parts = token.split('.');
        let (Some(header), Some(key), Some(iv), Some(ciphertext), Some(tag), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(SessionError::Malformed);
        };
        if !key.is_empty() || header.is_empty() || ciphertext.is_empty() {
            return Err(SessionError::Malformed);
        }
        Ok(Self {
            header,
            iv,
            ciphertext,
            tag,
        })
    }
}

/// The protected header members we look at. Unknown members are ignored, as jose does.
#[derive(Deserialize)]
pub(crate) struct Header<'a> {
    #[serde(borrow)]
    alg: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    enc: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) kid: Option<std::borrow::Cow<'a, str>>,
    crit: Option<serde::de::IgnoredAny>,
    zip: Option<serde::de::IgnoredAny>,
}

/// The content encryption a header announces.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Enc {
    A256Gcm,
    A256CbcHs512,
}

impl<'a> Header<'a> {
    /// Parses `buf` (the decoded protected header) and accepts only what the libraries emit:
    /// `alg: dir`, a known `enc`, no `crit`, no `zip`.
    pub(crate) fn parse(buf: &'a [u8]) -> Result<(Self, Enc), SessionError> {
        let header: Header<'a> =
            serde_json::from_slice(buf).map_err(|_| SessionError::Malformed)?;
        if header.crit.is_some() || header.zip.is_some() || header.alg.as_deref() != Some("dir") {
            return Err(SessionError::Malformed);
        }
        let enc = match header.enc.as_deref() {
            Some("A256GCM") => Enc::A256Gcm,
            Some("A256CBC-HS512") => Enc::A256CbcHs512,
            _ => return Err(SessionError::Malformed),
        };
        Ok((header, enc))
    }
}

/// Decodes base64url (no padding) into a fixed-size array; any other length is malformed.
pub(crate) fn decode_fixed<const N: usize>(segment: &str) -> Result<[u8; N], SessionError> {
    // Checking the encoded length first rejects oversized input without decoding it.
    if segment.len() != (N * 4).div_ceil(3) {
        return Err(SessionError::Malformed);
    }
    let mut out = [0u8; N];
    match URL_SAFE_NO_PAD.decode_slice(segment, &mut out) {
        Ok(n) if n == N => Ok(out),
        _ => Err(SessionError::Malformed),
    }
}

/// Decodes base64url (no padding) into a new buffer.
pub(crate) fn decode_vec(segment: &str) -> Result<Vec<u8>, SessionError> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| SessionError::Malformed)
}

/// Encodes bytes as base64url without padding.
pub(crate) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a protected header segment; headers longer than this are not from next-auth.
pub(crate) fn decode_header(segment: &str) -> Result<Vec<u8>, SessionError> {
    const MAX_HEADER: usize = 1024;
    if segment.len() > MAX_HEADER {
        return Err(SessionError::Malformed);
    }
    decode_vec(segment)
}

/// Which library's session token `token` looks like, from its protected header alone (no key
/// needed): Auth.js v5 writes a `kid`, next-auth v4 never does. For diagnostics only.
pub(crate) fn looks_like(token: &str) -> Option<crate::token::Format> {
    let header = decode_header(token.split('.').next()?).ok()?;
    let (header, _) = Header::parse(&header).ok()?;
    Some(if header.kid.is_some() {
        crate::token::Format::V5
    } else {
        crate::token::Format::V4
    })
}
