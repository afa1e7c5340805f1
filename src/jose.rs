//! Ready-made [`Decoder`]s for signed JWTs, built on josekit (feature `jose`).
//!
//! A common setup keeps a backend-issued JWT in the next-auth session and forwards it to Rust
//! services as `Authorization: Bearer`. [`JwtDecoder`] verifies such tokens (HS256/384/512 from a
//! secret; RS256, ES256 and EdDSA from a PEM public key or a JWK set), and the layer applies the
//! same claims type, `exp`/`nbf` leeway and `authorized` flow as for session cookies.
//!
//! The session formats themselves never go through josekit: see the crate's security notes.

use std::fmt;
use std::path::Path;

use josekit::jwk::{Jwk, JwkSet};
use josekit::jws::{EdDSA, JwsHeader, JwsVerifier, ES256, HS256, HS384, HS512, RS256};

use crate::error::SessionError;
use crate::sessions::Decoder;

/// A key that could not be loaded. The message names the problem, never key bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError(&'static str);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for KeyError {}

/// Verifies compact JWS tokens (signed JWTs) and hands their claims to the layer.
///
/// The header's `alg` must equal the key's algorithm, so a token cannot pick a weaker algorithm
/// or use a public key as an HMAC secret. With several keys, the header's `kid` selects one.
///
/// HMAC secrets must be at least as long as the hash (32 bytes for HS256), as RFC 7518 §3.2
/// requires.
///
/// ```
/// use josekit::{jws::{JwsHeader, HS256}, jwt::{self, JwtPayload}};
/// use tower_nextauth::{jose::JwtDecoder, AuthLayer, Claims, SessionError, Token};
/// use tower_nextauth::Builder;
///
/// let secret = "a-backend-secret-of-at-least-32-bytes";
/// // What the backend issues.
/// let mut payload = JwtPayload::new();
/// payload.set_subject("user-1");
/// let mut header = JwsHeader::new();
/// header.set_token_type("JWT");
/// let jwt = jwt::encode_with_signer(&payload, &header, &HS256.signer_from_bytes(secret).unwrap()).unwrap();
///
/// let layer = Builder::new()
///     .decoder(JwtDecoder::hs256(secret).unwrap())
///     .build()
///     .unwrap();
/// let token: Token = layer.sessions().decode(&jwt).unwrap();
/// assert_eq!(token["sub"], "user-1");
///
/// // Another key's signature is refused like any undecryptable session.
/// let forged = jwt::encode_with_signer(&payload, &header, &HS256.signer_from_bytes([7u8; 32]).unwrap()).unwrap();
/// assert_eq!(layer.sessions().decode::<Claims>(&forged).unwrap_err(), SessionError::Undecryptable);
/// ```
pub struct JwtDecoder {
    verifiers: Vec<Box<dyn JwsVerifier>>,
}

impl fmt::Debug for JwtDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let algs: Vec<_> = self
            .verifiers
            .iter()
            .map(|v| v.algorithm().name())
            .collect();
        f.debug_struct("JwtDecoder")
            .field("algorithms", &algs)
            .field("keys", &"REDACTED")
            .finish()
    }
}

macro_rules! constructors {
    ($($(#[$doc:meta])* $name:ident => $alg:ident . $from:ident ($arg:ident : $ty:ty, $err:literal);)*) => {
        $(
            $(#[$doc])*
            ///
            /// # Errors
            /// [`KeyError`] when the key cannot be used with this algorithm.
            pub fn $name($arg: $ty) -> Result<Self, KeyError> {
                let verifier = $alg.$from($arg).map_err(|_| KeyError($err))?;
                Ok(Self { verifiers: vec![Box::new(verifier)] })
            }
        )*
    };
}

impl JwtDecoder {
    constructors! {
        /// HS256 with a shared secret.
        hs256 => HS256.verifier_from_bytes(secret: impl AsRef<[u8]>, "unusable HS256 secret");
        /// HS384 with a shared secret.
        hs384 => HS384.verifier_from_bytes(secret: impl AsRef<[u8]>, "unusable HS384 secret");
        /// HS512 with a shared secret.
        hs512 => HS512.verifier_from_bytes(secret: impl AsRef<[u8]>, "unusable HS512 secret");
        /// RS256 with an RSA public key in PEM (SPKI or PKCS#1).
        rs256_pem => RS256.verifier_from_pem(pem: impl AsRef<[u8]>, "not an RSA public key in PEM");
        /// ES256 with a P-256 public key in PEM.
        es256_pem => ES256.verifier_from_pem(pem: impl AsRef<[u8]>, "not a P-256 public key in PEM");
        /// EdDSA with an Ed25519 public key in PEM.
        eddsa_pem => EdDSA.verifier_from_pem(pem: impl AsRef<[u8]>, "not an Ed25519 public key in PEM");
    }

    /// Every usable key of a JWK set (`{"keys":[…]}`): `oct` keys for HS256/384/512, `RSA` for
    /// RS256, `EC` P-256 for ES256 and `OKP` Ed25519 for EdDSA. A key's `alg` member, when present,
    /// picks the algorithm; otherwise it is inferred from the key type.
    ///
    /// # Errors
    /// [`KeyError`] when the JSON is not a JWK set or a key cannot be used.
    pub fn from_jwks(json: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let set = JwkSet::from_bytes(json).map_err(|_| KeyError("not a JWK set"))?;
        let verifiers = set
            .keys()
            .into_iter()
            .map(verifier_from_jwk)
            .collect::<Result<Vec<_>, _>>()?;
        if verifiers.is_empty() {
            return Err(KeyError("the JWK set has no keys"));
        }
        Ok(Self { verifiers })
    }

    /// [`from_jwks`](Self::from_jwks) on the contents of a file.
    ///
    /// # Errors
    /// [`KeyError`] when the file cannot be read or holds no usable JWK set.
    pub fn from_jwks_file(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let json = std::fs::read(path).map_err(|_| KeyError("cannot read the JWK set file"))?;
        Self::from_jwks(json)
    }

    fn select(&self, header: &JwsHeader) -> Option<&dyn JwsVerifier> {
        let alg = header.algorithm()?;
        let mut candidates = self
            .verifiers
            .iter()
            .filter(|v| v.algorithm().name() == alg);
        match header.key_id() {
            Some(kid) => candidates.find(|v| v.key_id().is_none_or(|k| k == kid)),
            None => candidates.next(),
        }
        .map(|v| &**v)
    }
}

fn verifier_from_jwk(jwk: &Jwk) -> Result<Box<dyn JwsVerifier>, KeyError> {
    let alg = match (jwk.algorithm(), jwk.key_type(), jwk.curve()) {
        (Some(alg), _, _) => alg,
        (None, "oct", _) => "HS256",
        (None, "RSA", _) => "RS256",
        (None, "EC", Some("P-256")) => "ES256",
        (None, "OKP", Some("Ed25519")) => "EdDSA",
        _ => return Err(KeyError("unsupported JWK key type")),
    };
    let bad = |_| KeyError("a JWK does not fit its algorithm");
    Ok(match alg {
        "HS256" => Box::new(HS256.verifier_from_jwk(jwk).map_err(bad)?),
        "HS384" => Box::new(HS384.verifier_from_jwk(jwk).map_err(bad)?),
        "HS512" => Box::new(HS512.verifier_from_jwk(jwk).map_err(bad)?),
        "RS256" => Box::new(RS256.verifier_from_jwk(jwk).map_err(bad)?),
        "ES256" => Box::new(ES256.verifier_from_jwk(jwk).map_err(bad)?),
        "EdDSA" => Box::new(EdDSA.verifier_from_jwk(jwk).map_err(bad)?),
        _ => return Err(KeyError("unsupported JWK algorithm")),
    })
}

impl Decoder for JwtDecoder {
    fn decode(&self, token: &str) -> Result<Vec<u8>, SessionError> {
        if token.split('.').count() != 3 {
            return Err(SessionError::Malformed);
        }
        josekit::jws::deserialize_compact_with_selector(token, |header| Ok(self.select(header)))
            .map(|(payload, _)| payload)
            .map_err(|_| SessionError::Undecryptable)
    }
}
