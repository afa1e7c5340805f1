//! HKDF key derivation and JWK thumbprints for the two built-in formats (docs/compat.md#keys).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hkdf::Hkdf;
use sha2::{Digest, Sha256, Sha512};

/// `info` for v4 session tokens: next-auth never passes a salt, so the bare form applies.
const V4_INFO: &[u8] = b"NextAuth.js Generated Encryption Key";

/// HKDF-SHA256 into `out`. The caller guarantees a non-empty secret and a length HKDF accepts.
fn hkdf(secret: &[u8], salt: &[u8], info: &[u8], out: &mut [u8]) {
    Hkdf::<Sha256>::new(Some(salt), secret)
        .expand(info, out)
        .expect("32 and 64 bytes are valid HKDF-SHA256 output lengths");
}

/// The v4 content-encryption key: HKDF-SHA256(secret, empty salt, `NextAuth.js Generated Encryption Key`, 32).
pub(crate) fn v4_key(secret: &[u8]) -> [u8; 32] {
    let mut key = [0u8; 32];
    hkdf(secret, b"", V4_INFO, &mut key);
    key
}

/// The v5 key for `salt` (the session cookie name): 64 bytes for A256CBC-HS512.
///
/// The 32-byte A256GCM key is the first half, because HKDF's first output block does not depend on
/// the requested length (docs/compat.md#keys, row K3).
pub(crate) fn v5_key(secret: &[u8], salt: &str) -> [u8; 64] {
    let mut info = Vec::with_capacity(40 + salt.len());
    info.extend_from_slice(b"Auth.js Generated Encryption Key (");
    info.extend_from_slice(salt.as_bytes());
    info.push(b')');
    let mut key = [0u8; 64];
    hkdf(secret, salt.as_bytes(), &info, &mut key);
    key
}

/// RFC 7638 thumbprint of `{"kty":"oct","k":…}` with SHA-512 (64-byte keys) or SHA-256 (32-byte keys).
pub(crate) fn thumbprint(key: &[u8]) -> String {
    let jwk = format!(r#"{{"k":"{}","kty":"oct"}}"#, URL_SAFE_NO_PAD.encode(key));
    if key.len() == 64 {
        URL_SAFE_NO_PAD.encode(Sha512::digest(jwk.as_bytes()))
    } else {
        URL_SAFE_NO_PAD.encode(Sha256::digest(jwk.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    // Published next-auth/Auth.js derivations for this secret; reproduced with the npm packages.
    const SECRET: &[u8] = b"test-secret-0123456789abcdef0123456789abcdef";

    #[test]
    fn v4_key_matches_next_auth() {
        assert_eq!(
            hex(&v4_key(SECRET)),
            "d11554fb9845df10d663c9ee7c678b624495b91d0c02b55a25f0e849aa6678a5"
        );
    }

    #[test]
    fn v5_key_and_kids_match_auth_js() {
        let key = v5_key(SECRET, "authjs.session-token");
        assert_eq!(
            hex(&key),
            "adeb8f2f94d0972e809e94b4c67445eb50dd61c053446cc33ef1c255a2b1bd59\
             40439b6a439c1f27310c605eaa3d00a81f98365e50bb5a4df03ecce855b38eb7"
        );
        assert_eq!(
            thumbprint(&key),
            "9E7QXx4DCQ1ODqnrsoJeKyBiTUQhXJZzsEevLBH8Ch2o_Dej27OxcC5EbbMLOFh0bG_9QnoIET15bVhi-d6szA"
        );
        assert_eq!(
            thumbprint(&key[..32]),
            "5VHPQK8gbnLepuCsF7F37EMCZFmAJxzyKwzzm7BWaQs"
        );
    }
}
