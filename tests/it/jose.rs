//! `jose::JwtDecoder` against JWTs signed by the npm `jose` package: the committed fixtures
//! (`tests/fixtures/jose_jwts.json`). Freshly signed ones are checked in
//! `tests/external/jose.rs`.

use tower_nextauth::jose::JwtDecoder;
use tower_nextauth::{Claims, SessionError, Token};

use crate::support::jwts::{check, committed, sessions};

#[test]
fn committed_jose_signed_jwts_verify() {
    let fixture = committed();
    check(&fixture);
}

#[test]
fn an_hmac_token_keyed_with_the_public_key_is_refused() {
    // The classic alg confusion: an HS256 token whose "secret" is the RSA public key PEM.
    use josekit::jws::{JwsHeader, HS256};
    use josekit::jwt::{self, JwtPayload};
    let fixture = committed();
    let rsa = fixture.jwts.iter().find(|j| j.alg == "RS256").unwrap();
    let pem = rsa.public_pem.as_ref().unwrap();
    let mut payload = JwtPayload::new();
    payload.set_subject("attacker");
    let forged = jwt::encode_with_signer(
        &payload,
        &JwsHeader::new(),
        &HS256.signer_from_bytes(pem).unwrap(),
    )
    .unwrap();
    let s = sessions(JwtDecoder::rs256_pem(pem).unwrap(), rsa.now);
    assert_eq!(
        s.decode::<Claims>(&forged).unwrap_err(),
        SessionError::Undecryptable
    );
    let s = sessions(
        JwtDecoder::from_jwks(rsa.jwks.as_ref().unwrap().to_string()).unwrap(),
        rsa.now,
    );
    assert_eq!(
        s.decode::<Claims>(&forged).unwrap_err(),
        SessionError::Undecryptable
    );
}

#[test]
fn bearer_jwt_flows_through_the_layer() {
    use http::{HeaderMap, HeaderValue};
    let fixture = committed();
    let es = fixture.jwts.iter().find(|j| j.alg == "ES256").unwrap();
    let s = sessions(
        JwtDecoder::es256_pem(es.public_pem.as_ref().unwrap()).unwrap(),
        es.now,
    );
    let mut headers = HeaderMap::new();
    let bearer = format!("Bearer {}", es.valid_token);
    headers.insert("authorization", HeaderValue::from_str(&bearer).unwrap());
    let token: Token = s.read(&headers).unwrap();
    assert_eq!(token["name"], "Zoë");
    assert_eq!(token.source(), tower_nextauth::TokenSource::Bearer);
}

#[test]
fn bad_keys_are_clear_errors() {
    assert!(JwtDecoder::hs256("short").is_err());
    assert!(JwtDecoder::rs256_pem("not a pem").is_err());
    assert!(JwtDecoder::from_jwks("{}").is_err());
    assert!(JwtDecoder::from_jwks(r#"{"keys":[]}"#).is_err());
    let err = JwtDecoder::from_jwks_file("/nonexistent/jwks.json").unwrap_err();
    assert_eq!(err.to_string(), "cannot read the JWK set file");
}
