//! `jose::JwtDecoder` against JWTs freshly signed by the npm `jose` package on every run, with
//! freshly generated keys (`interop/jose-jwt.mjs --stdout`). The committed set is checked in
//! `tests/it/jose.rs`.

use crate::support::interop_node;
use crate::support::jwts::check;

#[test]
fn freshly_signed_jose_jwts_verify() {
    let stdout = interop_node("jose-jwt.mjs", &["--stdout"], b"");
    check(&serde_json::from_slice(&stdout).unwrap());
}
