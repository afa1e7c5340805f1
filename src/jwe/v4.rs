//! next-auth v4: `{"alg":"dir","enc":"A256GCM"}` under the HKDF key of
//! next-auth@4.24.15 jwt/index.js (docs/compat.md#keys).

use aes_gcm::aead::{AeadInPlace, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Nonce, Tag};

use super::{decode_fixed, decode_header, decode_vec, encode, keys, Compact, Enc, Header};
use crate::error::SessionError;

/// The only header next-auth v4 emits, base64url-encoded (next-auth@4.24.15 jwt/index.js).
const HEADER: &str = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0";

/// A v4 key, derived once from the first secret when the layer is built.
#[derive(Clone)]
pub(crate) struct V4Key {
    cipher: Aes256Gcm,
}

impl V4Key {
    pub(crate) fn new(secret: &[u8]) -> Self {
        let key = keys::v4_key(secret);
        Self {
            cipher: Aes256Gcm::new(&key.into()),
        }
    }

    /// Decrypts a v4 session token into its claims bytes.
    pub(crate) fn decrypt(&self, token: &str) -> Result<Vec<u8>, SessionError> {
        let jwe = Compact::split(token)?;
        if jwe.header != HEADER {
            // Unknown members (say a `kid`) are tolerated as jose 4 tolerates them; the pair is not.
            let (_, enc) = Header::parse(&decode_header(jwe.header)?)?;
            if enc != Enc::A256Gcm {
                return Err(SessionError::Malformed);
            }
        }
        gcm_open(&self.cipher, &jwe)
    }

    /// Encrypts `claims` (serialized JSON) exactly as next-auth's `encode` does.
    pub(crate) fn encrypt(&self, claims: &[u8]) -> String {
        gcm_seal(&self.cipher, HEADER, claims)
    }
}

/// A256GCM decryption shared with v5: the tag is verified before any keystream is applied
/// (`aes-gcm` checks it in constant time), and every failure is the same error.
pub(super) fn gcm_open(cipher: &Aes256Gcm, jwe: &Compact<'_>) -> Result<Vec<u8>, SessionError> {
    let iv: [u8; 12] = decode_fixed(jwe.iv)?;
    let tag: [u8; 16] = decode_fixed(jwe.tag)?;
    let mut buf = decode_vec(jwe.ciphertext)?;
    cipher
        .decrypt_in_place_detached(
            Nonce::from_slice(&iv),
            jwe.header.as_bytes(),
            &mut buf,
            Tag::from_slice(&tag),
        )
        .map_err(|_| SessionError::Undecryptable)?;
    Ok(buf)
}

/// A256GCM encryption under a fresh 96-bit IV from the OS CSPRNG.
pub(super) fn gcm_seal(cipher: &Aes256Gcm, header: &str, claims: &[u8]) -> String {
    let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
    let mut buf = claims.to_vec();
    let tag = cipher
        .encrypt_in_place_detached(&nonce, header.as_bytes(), &mut buf)
        .expect("session claims are far below the A256GCM message limit");
    format!(
        "{header}..{}.{}.{}",
        encode(&nonce),
        encode(&buf),
        encode(&tag)
    )
}
