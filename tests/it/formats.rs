//! The two built-in formats at the byte level: what is accepted, what is refused, and why.
//! josekit serves as an independent encoder (the differential oracle for A256GCM), in the tests
//! that need the `jose` feature.

use aes::Aes256;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use cbc::cipher::{BlockEncryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::{Digest, Sha256, Sha512};
use tower_nextauth::{Claims, Format, SessionError, Sessions, Token};

use crate::support::{sessions, v5_key, SECRET};
#[cfg(feature = "jose")]
use crate::support::{v4_key, NOW};

fn kid(key: &[u8]) -> String {
    let jwk = format!(r#"{{"k":"{}","kty":"oct"}}"#, B64.encode(key));
    if key.len() == 64 {
        B64.encode(Sha512::digest(jwk.as_bytes()))
    } else {
        B64.encode(Sha256::digest(jwk.as_bytes()))
    }
}

/// A JWE around these claims made by josekit with `enc` and extra header members.
#[cfg(feature = "jose")]
fn josekit_jwe(key: &[u8], enc: &str, extra: &[(&str, serde_json::Value)]) -> String {
    let claims = json!({"name": "Zoë", "sub": "42", "iat": NOW, "exp": NOW + 60, "jti": "j"});
    crate::support::josekit_jwe(key, enc, extra, claims.to_string().as_bytes())
}

fn decode(sessions: &Sessions, token: &str) -> Result<Token<Claims>, SessionError> {
    sessions.decode(token)
}

#[cfg(feature = "jose")]
#[test]
fn v4_tokens_from_josekit_decode() {
    let token = josekit_jwe(&v4_key(SECRET), "A256GCM", &[]);
    let decoded = decode(&sessions(Format::V4, &[SECRET]), &token).unwrap();
    assert_eq!(decoded["name"], "Zoë");
    assert_eq!(decoded.exp(), Some(NOW + 60));
    assert_eq!(decoded.format(), Some(Format::V4));
}

#[cfg(feature = "jose")]
#[test]
fn v5_cbc_tokens_with_kid_from_josekit_decode() {
    let key = v5_key(SECRET, 64);
    let token = josekit_jwe(&key, "A256CBC-HS512", &[("kid", json!(kid(&key)))]);
    assert_eq!(
        decode(&sessions(Format::V5, &[SECRET]), &token).unwrap()["sub"],
        "42"
    );

    let unknown = josekit_jwe(&key, "A256CBC-HS512", &[("kid", json!("not-a-thumbprint"))]);
    assert_eq!(
        decode(&sessions(Format::V5, &[SECRET]), &unknown).unwrap_err(),
        SessionError::Undecryptable
    );
}

#[test]
fn v5_rotation_tries_every_secret_by_kid() {
    let old = sessions(Format::V5, &["old-secret"]);
    let token = old.encode(&json!({"name": "Ada"})).unwrap();
    assert_eq!(
        decode(&sessions(Format::V5, &[SECRET, "old-secret"]), &token).unwrap()["name"],
        "Ada"
    );
    assert_eq!(
        decode(&sessions(Format::V5, &[SECRET]), &token).unwrap_err(),
        SessionError::Undecryptable
    );
}

#[cfg(feature = "jose")]
#[test]
fn v5_gcm_token_without_kid_uses_only_the_first_secret() {
    let token = josekit_jwe(&v5_key("old-secret", 32), "A256GCM", &[]);
    assert!(decode(&sessions(Format::V5, &["old-secret", SECRET]), &token).is_ok());
    // As in @auth/core@0.41.3 jwt.js: no kid, no rotation (docs/compat.md#keys, row K6).
    assert_eq!(
        decode(&sessions(Format::V5, &[SECRET, "old-secret"]), &token).unwrap_err(),
        SessionError::Undecryptable
    );
    // With a SHA-256 thumbprint kid, the second secret is found.
    let key = v5_key("old-secret", 32);
    let with_kid = josekit_jwe(&key, "A256GCM", &[("kid", json!(kid(&key)))]);
    assert!(decode(&sessions(Format::V5, &[SECRET, "old-secret"]), &with_kid).is_ok());
}

#[cfg(feature = "jose")]
#[test]
fn headers_the_libraries_never_emit_are_refused() {
    let v4 = sessions(Format::V4, &[SECRET]);
    let key = v4_key(SECRET);
    for (name, value) in [("crit", json!(["exp"])), ("zip", json!("DEF"))] {
        let token = josekit_jwe(&key, "A256GCM", &[(name, value)]);
        assert_eq!(
            decode(&v4, &token).unwrap_err(),
            SessionError::Malformed,
            "{name}"
        );
    }
    let v4_payload = |header: &str| {
        let good = josekit_jwe(&key, "A256GCM", &[]);
        let rest = good.split_once('.').unwrap().1;
        format!("{}.{rest}", B64.encode(header))
    };
    for header in [
        r#"{"alg":"none","enc":"A256GCM"}"#,
        r#"{"alg":"dir","enc":"A128GCM"}"#,
        r#"{"alg":"A256KW","enc":"A256GCM"}"#,
        r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#,
        r#"{"alg":"dir","enc":"A128CBC-HS256"}"#,
        r#"{"enc":"A256GCM"}"#,
        r#"["dir"]"#,
    ] {
        assert_eq!(
            decode(&v4, &v4_payload(header)).unwrap_err(),
            SessionError::Malformed,
            "{header}"
        );
    }
}

#[test]
fn segment_shapes_are_checked_before_any_crypto() {
    let v4 = sessions(Format::V4, &[SECRET]);
    let good = v4.encode(&json!({})).unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let with = |i: usize, value: &str| {
        let mut p = parts.clone();
        p[i] = value;
        p.join(".")
    };
    assert!(decode(&v4, &good).is_ok());
    let cases = [
        with(1, "AAAA"),                 // a non-empty encrypted key
        with(2, &B64.encode([0u8; 11])), // IV one byte short
        with(2, &B64.encode([0u8; 13])), // IV one byte long
        with(4, &B64.encode([0u8; 15])), // tag one byte short
        with(4, &B64.encode([0u8; 17])), // tag one byte long
        with(3, "not base64!"),
        parts[..4].join("."),
        format!("{good}.x"),
    ];
    for token in cases {
        assert_eq!(
            decode(&v4, &token).unwrap_err(),
            SessionError::Malformed,
            "{token}"
        );
    }
}

#[test]
fn formats_do_not_read_each_other() {
    let v4 = sessions(Format::V4, &[SECRET]);
    let v5 = sessions(Format::V5, &[SECRET]);
    assert!(decode(&v5, &v4.encode(&json!({})).unwrap()).is_err());
    assert!(decode(&v4, &v5.encode(&json!({})).unwrap()).is_err());
}

#[test]
fn encoded_headers_are_exactly_what_the_libraries_write() {
    let v4 = sessions(Format::V4, &[SECRET])
        .encode(&json!({"a": 1}))
        .unwrap();
    let p: Vec<&str> = v4.split('.').collect();
    assert_eq!(p[0], "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0");
    assert_eq!((p[1].len(), p[2].len(), p[4].len()), (0, 16, 22));

    let v5 = sessions(Format::V5, &[SECRET])
        .encode(&json!({"a": 1}))
        .unwrap();
    let p: Vec<&str> = v5.split('.').collect();
    let header = String::from_utf8(B64.decode(p[0]).unwrap()).unwrap();
    let expected_kid = kid(&v5_key(SECRET, 64));
    assert_eq!(
        header,
        format!(r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{expected_kid}"}}"#)
    );
    assert_eq!((p[1].len(), p[2].len(), p[4].len()), (0, 22, 43));
}

#[cfg(feature = "jose")]
#[test]
fn josekit_decrypts_what_we_encode() {
    use josekit::jwe::Dir;
    let token = sessions(Format::V4, &[SECRET])
        .encode(&json!({"name": "Ada"}))
        .unwrap();
    let decrypter = Dir.decrypter_from_bytes(v4_key(SECRET)).unwrap();
    let (payload, _) = josekit::jwe::deserialize_compact(&token, &decrypter).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(claims["name"], "Ada");
    assert_eq!(claims["exp"], NOW + 2_592_000);

    let token = sessions(Format::V5, &[SECRET])
        .encode(&json!({"name": "Ada"}))
        .unwrap();
    let decrypter = Dir.decrypter_from_bytes(v5_key(SECRET, 64)).unwrap();
    let (payload, _) = josekit::jwe::deserialize_compact(&token, &decrypter).unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&payload).unwrap()["name"],
        "Ada"
    );
}

/// A v5 token whose tag is valid but whose padding is not. It must fail exactly like a bad tag.
#[test]
fn bad_padding_under_a_valid_tag_is_indistinguishable_from_a_bad_tag() {
    let key = v5_key(SECRET, 64);
    let header = B64.encode(format!(
        r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{}"}}"#,
        kid(&key)
    ));
    let iv = [7u8; 16];
    // One block whose last byte (0x00) is not valid PKCS#7 padding.
    let mut block = *b"{\"sub\":\"42\"}\0\0\0\0";
    cbc::Encryptor::<Aes256>::new_from_slices(&key[32..], &iv)
        .unwrap()
        .encrypt_padded_mut::<cbc::cipher::block_padding::NoPadding>(&mut block, 16)
        .unwrap();
    let mut mac = <Hmac<sha2::Sha512> as Mac>::new_from_slice(&key[..32]).unwrap();
    mac.update(header.as_bytes());
    mac.update(&iv);
    mac.update(&block);
    mac.update(&(header.len() as u64 * 8).to_be_bytes());
    let tag = &mac.finalize().into_bytes()[..32];
    let bad_padding = format!(
        "{header}..{}.{}.{}",
        B64.encode(iv),
        B64.encode(block),
        B64.encode(tag)
    );
    let mut flipped = tag.to_vec();
    flipped[0] ^= 1;
    let bad_tag = format!(
        "{header}..{}.{}.{}",
        B64.encode(iv),
        B64.encode(block),
        B64.encode(&flipped)
    );

    let v5 = sessions(Format::V5, &[SECRET]);
    assert_eq!(
        decode(&v5, &bad_padding).unwrap_err(),
        SessionError::Undecryptable
    );
    assert_eq!(
        decode(&v5, &bad_tag).unwrap_err(),
        SessionError::Undecryptable
    );
}

#[test]
fn every_single_bit_flip_is_refused() {
    for format in [Format::V4, Format::V5] {
        let s = sessions(format, &[SECRET]);
        let token = s.encode(&json!({"name": "Ada"})).unwrap();
        let bytes = token.as_bytes();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut tampered = bytes.to_vec();
                tampered[i] ^= 1 << bit;
                let Ok(tampered) = String::from_utf8(tampered) else {
                    continue;
                };
                if tampered == token {
                    continue;
                }
                // base64url's last character can carry unused bits; those flips decode to the
                // same bytes and are the only ones allowed to pass.
                if let Ok(t) = decode(&s, &tampered) {
                    assert_eq!(t["name"], "Ada", "{format:?} byte {i} bit {bit}");
                    let segs: Vec<_> = tampered.split('.').collect();
                    let orig: Vec<_> = token.split('.').collect();
                    let same = segs.iter().zip(&orig).all(|(a, b)| {
                        a == b
                            || (B64.decode(a).ok().is_some()
                                && B64.decode(a).ok() == B64.decode(b).ok())
                    });
                    assert!(
                        same,
                        "{format:?} byte {i} bit {bit} was accepted with different bytes"
                    );
                }
            }
        }
    }
}
