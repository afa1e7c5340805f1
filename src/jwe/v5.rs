//! Auth.js v5: `dir` + `A256CBC-HS512` (with `kid`) or `A256GCM`, keyed by the cookie name as salt.

use aes::Aes256;
use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{KeyInit, OsRng};
use aes_gcm::Aes256Gcm;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, InnerIvInit};
use hmac::{Hmac, Mac};
use sha2::Sha512;
use subtle::ConstantTimeEq;

use super::{decode_fixed, decode_header, decode_vec, encode, keys, Compact, Enc, Header};
use crate::error::SessionError;

/// The keys one secret yields for one salt.
#[derive(Clone)]
struct Entry {
    mac: Hmac<Sha512>,
    aes: Aes256,
    gcm: Aes256Gcm,
    kid_cbc: String,
    kid_gcm: String,
    /// `{"alg":"dir","enc":"A256CBC-HS512","kid":…}` in base64url, exactly as Auth.js writes it.
    header_cbc: String,
}

/// Every secret's keys for one salt (the session cookie name), derived when the layer is built.
#[derive(Clone)]
pub(crate) struct V5Keys {
    entries: Vec<Entry>,
}

impl V5Keys {
    /// Derives the keys of every secret, in order; `secrets[0]` encrypts.
    pub(crate) fn new<'s>(secrets: impl IntoIterator<Item = &'s [u8]>, salt: &str) -> Self {
        let entries = secrets
            .into_iter()
            .map(|secret| {
                let key = keys::v5_key(secret, salt);
                let kid_cbc = keys::thumbprint(&key);
                let header_cbc = encode(
                    format!(r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{kid_cbc}"}}"#)
                        .as_bytes(),
                );
                Entry {
                    mac: <Hmac<Sha512> as Mac>::new_from_slice(&key[..32])
                        .expect("HMAC accepts any key length"),
                    aes: Aes256::new_from_slice(&key[32..]).expect("32-byte AES-256 key"),
                    gcm: Aes256Gcm::new_from_slice(&key[..32]).expect("32-byte AES-256 key"),
                    kid_cbc,
                    kid_gcm: keys::thumbprint(&key[..32]),
                    header_cbc,
                }
            })
            .collect();
        Self { entries }
    }

    /// Decrypts a v5 session token into its claims bytes.
    pub(crate) fn decrypt(&self, token: &str) -> Result<Vec<u8>, SessionError> {
        let jwe = Compact::split(token)?;
        // Fast path: the exact header Auth.js writes for one of our secrets.
        if let Some(entry) = self.entries.iter().find(|e| e.header_cbc == jwe.header) {
            return cbc_open(entry, &jwe);
        }
        let header_buf = decode_header(jwe.header)?;
        let (header, enc) = Header::parse(&header_buf)?;
        // Mirrors @auth/core's key resolver: no `kid` means the first secret only; a `kid` must
        // match the thumbprint of the key for the header's `enc` (@auth/core@0.41.3 jwt.js).
        let entry = match header.kid.as_deref() {
            None => self.entries.first(),
            Some(kid) => self.entries.iter().find(|e| match enc {
                Enc::A256CbcHs512 => e.kid_cbc == kid,
                Enc::A256Gcm => e.kid_gcm == kid,
            }),
        }
        .ok_or(SessionError::Undecryptable)?;
        match enc {
            Enc::A256CbcHs512 => cbc_open(entry, &jwe),
            Enc::A256Gcm => super::v4::gcm_open(&entry.gcm, &jwe),
        }
    }

    /// Encrypts `claims` with the first secret as `@auth/core`'s `encode` does (A256CBC-HS512).
    pub(crate) fn encrypt(&self, claims: &[u8]) -> String {
        let entry = &self.entries[0];
        let mut iv = [0u8; 16];
        OsRng.fill_bytes(&mut iv);
        let ciphertext = cbc::Encryptor::<Aes256>::inner_iv_init(entry.aes.clone(), &iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(claims);
        let tag = cbc_tag(entry, &entry.header_cbc, &iv, &ciphertext);
        format!(
            "{}..{}.{}.{}",
            entry.header_cbc,
            encode(&iv),
            encode(&ciphertext),
            encode(&tag)
        )
    }
}

/// RFC 7518 §5.2.2.1: the first half of HMAC-SHA-512 over AAD ‖ IV ‖ ciphertext ‖ AAD bit length.
fn cbc_tag(entry: &Entry, aad: &str, iv: &[u8], ciphertext: &[u8]) -> [u8; 32] {
    let mut mac = entry.mac.clone();
    mac.update(aad.as_bytes());
    mac.update(iv);
    mac.update(ciphertext);
    mac.update(&(aad.len() as u64 * 8).to_be_bytes());
    let full = mac.finalize().into_bytes();
    let mut tag = [0u8; 32];
    tag.copy_from_slice(&full[..32]);
    tag
}

/// A256CBC-HS512 decryption. The tag is compared in constant time *before* the block cipher or
/// the padding check runs, so a padding failure cannot be told apart from a tag failure.
fn cbc_open(entry: &Entry, jwe: &Compact<'_>) -> Result<Vec<u8>, SessionError> {
    let iv: [u8; 16] = decode_fixed(jwe.iv)?;
    let tag: [u8; 32] = decode_fixed(jwe.tag)?;
    let mut buf = decode_vec(jwe.ciphertext)?;
    let expected = cbc_tag(entry, jwe.header, &iv, &buf);
    if !bool::from(expected.ct_eq(&tag)) {
        return Err(SessionError::Undecryptable);
    }
    let len = cbc::Decryptor::<Aes256>::inner_iv_init(entry.aes.clone(), &iv.into())
        .decrypt_padded_mut::<Pkcs7>(&mut buf)
        .map_err(|_| SessionError::Undecryptable)?
        .len();
    buf.truncate(len);
    Ok(buf)
}
