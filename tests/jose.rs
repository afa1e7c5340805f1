//! `jose::JwtDecoder` against JWTs signed by the npm `jose` package: committed fixtures and, on
//! every run, freshly generated keys (`interop/jose-jwt.mjs --stdout`).
#![cfg(feature = "jose")]

mod common;

use serde::Deserialize;
use tower_nextauth::jose::JwtDecoder;
use tower_nextauth::{AuthLayer, Claims, SessionError, Sessions, Token};

#[derive(Deserialize)]
struct Fixture {
    jwts: Vec<Jwt>,
}

#[derive(Deserialize)]
struct Jwt {
    alg: String,
    secret: Option<String>,
    public_pem: Option<String>,
    jwks: Option<serde_json::Value>,
    now: i64,
    claims: serde_json::Value,
    valid_token: String,
    expired_token: String,
    tampered_token: String,
    wrong_key_token: String,
}

fn sessions(decoder: JwtDecoder, now: i64) -> Sessions {
    AuthLayer::builder()
        .decoder(decoder)
        .clock(move || now)
        .build()
        .unwrap()
        .sessions()
        .clone()
}

fn decoders(jwt: &Jwt) -> Vec<(&'static str, JwtDecoder)> {
    match jwt.alg.as_str() {
        "HS256" => vec![(
            "secret",
            JwtDecoder::hs256(jwt.secret.as_ref().unwrap()).unwrap(),
        )],
        "HS384" => vec![(
            "secret",
            JwtDecoder::hs384(jwt.secret.as_ref().unwrap()).unwrap(),
        )],
        "HS512" => vec![(
            "secret",
            JwtDecoder::hs512(jwt.secret.as_ref().unwrap()).unwrap(),
        )],
        alg => {
            let pem = jwt.public_pem.as_ref().unwrap();
            let from_pem = match alg {
                "RS256" => JwtDecoder::rs256_pem(pem),
                "ES256" => JwtDecoder::es256_pem(pem),
                "EdDSA" => JwtDecoder::eddsa_pem(pem),
                other => panic!("unexpected alg {other}"),
            }
            .unwrap();
            let jwks = JwtDecoder::from_jwks(jwt.jwks.as_ref().unwrap().to_string()).unwrap();
            vec![("pem", from_pem), ("jwks", jwks)]
        }
    }
}

fn check(fixture: &Fixture) {
    let algs: Vec<&str> = fixture.jwts.iter().map(|j| j.alg.as_str()).collect();
    assert_eq!(algs, ["HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA"]);
    for jwt in &fixture.jwts {
        for (how, decoder) in decoders(jwt) {
            let s = sessions(decoder, jwt.now);
            let what = format!("{} from {how}", jwt.alg);
            let token: Token = s
                .decode(&jwt.valid_token)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(
                serde_json::Value::Object(token.into_claims()),
                jwt.claims,
                "{what}"
            );
            let err = |t: &str| s.decode::<Claims>(t).unwrap_err();
            assert_eq!(err(&jwt.expired_token), SessionError::Expired, "{what}");
            assert_eq!(
                err(&jwt.tampered_token),
                SessionError::Undecryptable,
                "{what}"
            );
            assert_eq!(
                err(&jwt.wrong_key_token),
                SessionError::Undecryptable,
                "{what}"
            );
        }
    }
}

#[test]
fn committed_jose_signed_jwts_verify() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jose_jwts.json");
    let fixture: Fixture = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    check(&fixture);
}

#[test]
fn freshly_signed_jose_jwts_verify() {
    let stdout = common::interop_node("jose-jwt.mjs", &["--stdout"], b"");
    check(&serde_json::from_slice(&stdout).unwrap());
}

#[test]
fn an_hmac_token_keyed_with_the_public_key_is_refused() {
    // The classic alg confusion: an HS256 token whose "secret" is the RSA public key PEM.
    use josekit::jws::{JwsHeader, HS256};
    use josekit::jwt::{self, JwtPayload};
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jose_jwts.json");
    let fixture: Fixture = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
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
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jose_jwts.json");
    let fixture: Fixture = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
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
