//! The cache of verified sessions (`Builder::session_cache`, src/cache.rs): a hit answers exactly
//! as a decode would, and only verified tokens are ever kept.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use http::header::COOKIE;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::json;
use tower_nextauth::{Builder, Claims, Format, SessionError, Token, TokenSource};

use crate::support::{self, cookie_headers, NOW, SECRET};

/// A layer whose clock the test moves.
fn with_clock(format: Format) -> (tower_nextauth::AuthLayer, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(NOW));
    let clock = now.clone();
    let layer = Builder::new()
        .secret(SECRET)
        .format(format)
        .clock(move || clock.load(Ordering::SeqCst))
        .build()
        .unwrap();
    (layer, now)
}

#[test]
fn a_repeated_cookie_is_decrypted_twice_then_shared() {
    let layer = support::layer(Format::V5);
    let headers = cookie_headers(&support::session_cookie(&layer, json!({"name": "Ada"})));
    // Stored the second time it is seen (the doorkeeper), then shared by every later read.
    let first: Token = layer.sessions().read(&headers).unwrap();
    let second: Token = layer.sessions().read(&headers).unwrap();
    assert!(!std::ptr::eq(first.claims(), second.claims()));
    let again: Token = layer.sessions().read(&headers).unwrap();
    assert!(std::ptr::eq(second.claims(), again.claims()));
    let more: Token = layer.sessions().read(&headers).unwrap();
    assert!(std::ptr::eq(second.claims(), more.claims()));
    assert_eq!(again["name"], "Ada");
    assert_eq!(again.format(), Some(Format::V5));
    assert_eq!(again.source(), TokenSource::Cookie);
}

#[test]
fn a_hit_checks_exp_and_nbf_against_the_clock_again() {
    for format in [Format::V4, Format::V5] {
        let (layer, now) = with_clock(format);
        let headers = cookie_headers(&support::session_cookie(&layer, json!({"sub": "1"})));
        let token: Token = layer.sessions().read(&headers).unwrap();
        let exp = token.exp().unwrap();
        // jose's rule, with 15 s of leeway: valid while exp > now - 15.
        now.store(exp + 14, Ordering::SeqCst);
        assert!(layer.sessions().read::<Claims>(&headers).is_ok());
        now.store(exp + 15, Ordering::SeqCst);
        assert_eq!(
            layer.sessions().read::<Claims>(&headers).unwrap_err(),
            SessionError::Expired
        );
        // And stays refused.
        now.store(exp + 16, Ordering::SeqCst);
        assert_eq!(
            layer.sessions().read::<Claims>(&headers).unwrap_err(),
            SessionError::Expired
        );
    }
}

#[test]
fn a_hit_with_a_future_nbf_waits_like_a_decode() {
    let (layer, now) = with_clock(Format::V5);
    let sessions = layer.sessions();
    let jwe = sessions.encode(&json!({"nbf": NOW + 100})).unwrap();
    now.store(NOW + 90, Ordering::SeqCst);
    let _: Token = sessions.decode(&jwe).unwrap();
    now.store(NOW + 84, Ordering::SeqCst);
    assert_eq!(
        sessions.decode::<Claims>(&jwe).unwrap_err(),
        SessionError::Expired
    );
}

#[test]
fn an_expired_session_through_the_layer_is_unauthenticated_after_being_cached() {
    let (layer, now) = with_clock(Format::V4);
    let cookie = support::session_cookie(&layer, json!({"name": "Ada"}));
    let exp = layer
        .sessions()
        .read::<Claims>(&cookie_headers(&cookie))
        .unwrap()
        .exp()
        .unwrap();
    let res = support::block_on(support::get(&layer, "/dashboard", &[("cookie", &cookie)]));
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = serde_json::from_str(res.body()).unwrap();
    assert_eq!(body["name"], "Ada");
    now.store(exp + 15, Ordering::SeqCst);
    let res = support::block_on(support::get(&layer, "/dashboard", &[("cookie", &cookie)]));
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        support::location(&res),
        "/api/auth/signin?callbackUrl=%2Fdashboard"
    );
}

#[test]
fn a_token_verified_under_one_cookie_name_is_not_taken_under_another() {
    // v5 derives its key from the cookie name, so a token minted for `__Secure-authjs...` does
    // not decrypt under `authjs...`; the cache must not change that.
    let layer = Builder::new()
        .secret(SECRET)
        .format(Format::V5)
        .secure_cookie(true)
        .either_prefix(true)
        .clock(|| NOW)
        .build()
        .unwrap();
    let sessions = layer.sessions();
    let jwe = sessions.encode(&json!({"name": "Ada"})).unwrap();
    let secure = cookie_headers(&format!("__Secure-authjs.session-token={jwe}"));
    let plain = cookie_headers(&format!("authjs.session-token={jwe}"));
    assert!(sessions.read::<Claims>(&secure).is_ok());
    assert!(sessions.read::<Claims>(&secure).is_ok());
    assert_eq!(
        sessions.read::<Claims>(&plain).unwrap_err(),
        SessionError::Undecryptable
    );
}

#[test]
fn a_bearer_token_and_a_cookie_keep_their_own_source() {
    let layer = support::layer(Format::V4);
    let sessions = layer.sessions();
    let jwe = sessions.encode(&json!({"sub": "7"})).unwrap();
    let mut bearer = HeaderMap::new();
    bearer.insert("authorization", format!("Bearer {jwe}").parse().unwrap());
    let cookie = cookie_headers(&format!("next-auth.session-token={jwe}"));
    for _ in 0..2 {
        assert_eq!(
            sessions.read::<Claims>(&bearer).unwrap().source(),
            TokenSource::Bearer
        );
        assert_eq!(
            sessions.read::<Claims>(&cookie).unwrap().source(),
            TokenSource::Cookie
        );
    }
}

#[test]
fn each_claims_type_gets_its_own_entry() {
    #[derive(Deserialize)]
    struct Named {
        name: String,
    }
    let layer = support::layer(Format::V5);
    let headers = cookie_headers(&support::session_cookie(&layer, json!({"name": "Ada"})));
    for _ in 0..2 {
        let map: Token = layer.sessions().read(&headers).unwrap();
        let typed: Token<Named> = layer.sessions().read(&headers).unwrap();
        assert_eq!(map["name"], "Ada");
        assert_eq!(typed.name, "Ada");
    }
}

#[test]
fn refused_cookies_are_not_cached_and_do_not_push_sessions_out() {
    let layer = Builder::new()
        .secret(SECRET)
        .format(Format::V5)
        .clock(|| NOW)
        .session_cache(4, 1 << 20)
        .build()
        .unwrap();
    let sessions = layer.sessions();
    let headers = cookie_headers(&support::session_cookie(&layer, json!({"name": "Ada"})));
    let _: Token = sessions.read(&headers).unwrap();
    let first: Token = sessions.read(&headers).unwrap(); // stored now
    let jwe = sessions.encode(&json!({"name": "Eve"})).unwrap();
    for i in 0..200 {
        // Tampered copies of a real token (one ciphertext character changed), and garbage.
        let mut bytes = jwe.clone().into_bytes();
        let at = jwe.len() - 30 - (i % 20);
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        for value in [tampered, format!("garbage{i}")] {
            let bad = cookie_headers(&format!("authjs.session-token={value}"));
            assert!(sessions.read::<Claims>(&bad).is_err());
            assert!(sessions.read::<Claims>(&bad).is_err());
        }
    }
    let again: Token = sessions.read(&headers).unwrap();
    assert!(std::ptr::eq(first.claims(), again.claims()));
}

#[test]
fn another_secret_never_sees_the_first_layers_sessions() {
    let app = support::layer(Format::V5);
    let headers = cookie_headers(&support::session_cookie(&app, json!({"name": "Ada"})));
    assert!(app.sessions().read::<Claims>(&headers).is_ok());
    let rotated = Builder::new()
        .secret("a-different-secret-of-at-least-32-bytes")
        .format(Format::V5)
        .clock(|| NOW)
        .build()
        .unwrap();
    assert_eq!(
        rotated.sessions().read::<Claims>(&headers).unwrap_err(),
        SessionError::Undecryptable
    );
}

#[test]
fn a_cache_turned_off_decodes_every_time() {
    let layer = Builder::new()
        .secret(SECRET)
        .format(Format::V4)
        .clock(|| NOW)
        .session_cache(0, 0)
        .build()
        .unwrap();
    let mut headers = HeaderMap::new();
    let jwe = layer.sessions().encode(&json!({"name": "Ada"})).unwrap();
    headers.insert(
        COOKIE,
        format!("next-auth.session-token={jwe}").parse().unwrap(),
    );
    let a: Token = layer.sessions().read(&headers).unwrap();
    let b: Token = layer.sessions().read(&headers).unwrap();
    assert!(!std::ptr::eq(a.claims(), b.claims()));
    assert_eq!(a["name"], b["name"]);
}

#[test]
fn a_percent_encoded_spelling_of_a_cached_token_reads_as_the_token() {
    // The cache is looked up with the cookie as sent; `cookie.parse` decodes `%2E` to `.`, so a
    // spelling with escapes is the same session, whether the plain one is cached or not, and
    // after it was read a few times itself.
    let layer = support::layer(Format::V5);
    let cookie = support::session_cookie(&layer, json!({"name": "Ada"}));
    let (name, value) = cookie.split_once('=').unwrap();
    // A v5 token's empty key segment makes `..`: one of its dots in lower case.
    let escaped = value.replacen("..", "%2E%2e", 1).replace('.', "%2E");
    assert!(
        escaped.contains("%2e") && !escaped.contains('.'),
        "{escaped}"
    );
    let escaped = cookie_headers(&format!("{name}={escaped}"));
    let plain = cookie_headers(&cookie);
    for round in 0..4 {
        let token: Token = layer.sessions().read(&escaped).unwrap();
        assert_eq!(token["name"], "Ada", "round {round}");
        if round == 1 {
            for _ in 0..3 {
                let _: Token = layer.sessions().read(&plain).unwrap();
            }
        }
    }
    // A malformed escape is no token, cached plain spelling or not (`cookie.parse` keeps the raw
    // value, which does not decrypt).
    let broken = cookie_headers(&format!("{name}={}", value.replacen('.', "%2", 1)));
    assert_eq!(
        layer.sessions().read::<Claims>(&broken).unwrap_err(),
        SessionError::Malformed
    );
}

#[test]
fn a_cached_tokens_non_utf8_variant_is_malformed() {
    // The cache is looked up with the cookie's raw bytes; bytes that are not UTF-8 never match
    // a stored token and are refused as a decode refuses them.
    let layer = support::layer(Format::V5);
    let cookie = support::session_cookie(&layer, json!({"name": "Ada"}));
    let headers = cookie_headers(&cookie);
    for _ in 0..3 {
        let _: Token = layer.sessions().read(&headers).unwrap(); // stored from the second read
    }
    let mut bytes = cookie.into_bytes();
    let at = bytes.len() - 5;
    bytes[at] = 0xff;
    let mut bad = HeaderMap::new();
    bad.insert(COOKIE, http::HeaderValue::from_bytes(&bytes).unwrap());
    for _ in 0..2 {
        assert_eq!(
            layer.sessions().read::<Claims>(&bad).unwrap_err(),
            SessionError::Malformed
        );
    }
}
