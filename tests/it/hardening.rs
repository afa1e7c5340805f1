//! Hardening found in review (SECURITY.md, issue 10): refreshed sessions on cacheable responses,
//! Bearer size limits, `__Host-` / `__Secure-` names, time arithmetic at the edges of `i64`, and
//! app URLs that are not http(s).

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::header::{AUTHORIZATION, CACHE_CONTROL, COOKIE, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use proptest::prelude::*;
use serde_json::json;
use tower_nextauth::{
    AuthLayer, Builder, ConfigError, Decoder, Format, Limits, Rejection, SessionError,
};

use crate::support::{block_on, builder, pair, send, Handler, HandlerFuture, NOW, SECRET};

/// A handler that marks its response as cacheable by anyone for a day.
async fn public_page(_req: Request<String>) -> Result<Response<String>, Infallible> {
    let mut res = Response::new("catalogue".to_owned());
    res.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    Ok(res)
}

/// Sends `GET /catalogue` with `headers` through `layer` around [`public_page`].
async fn call(layer: &AuthLayer, headers: &[(http::HeaderName, String)]) -> Response<String> {
    fn boxed(req: Request<String>) -> HandlerFuture {
        Box::pin(public_page(req))
    }
    let mut req = Request::get("/catalogue");
    for (name, value) in headers {
        req = req.header(name, value);
    }
    send(layer, boxed as Handler, req.body(String::new()).unwrap()).await
}

fn session_issued_at(t: i64) -> String {
    let old = builder(Format::V5).clock(move || t).build().unwrap();
    let set = old
        .sessions()
        .sign_in(&HeaderMap::new(), &json!({"name": "Ada"}))
        .unwrap();
    pair(set[0].to_str().unwrap()).to_owned()
}

#[tokio::test]
async fn refreshed_sessions_are_never_publicly_cacheable() {
    let layer = builder(Format::V5).refresh(true).build().unwrap();

    let stale = call(&layer, &[(COOKIE, session_issued_at(NOW - 25 * 3600))]).await;
    assert_eq!(stale.status(), StatusCode::OK);
    assert_eq!(stale.headers().get_all(SET_COOKIE).iter().count(), 1);
    assert_eq!(
        stale.headers()[CACHE_CONTROL],
        "max-age=86400, private, no-store"
    );
    assert_eq!(stale.headers()[VARY], "Cookie");

    // A response that re-issues nothing keeps the handler's caching as it was.
    let fresh = call(&layer, &[(COOKIE, session_issued_at(NOW - 60))]).await;
    assert!(fresh.headers().get(SET_COOKIE).is_none());
    assert_eq!(fresh.headers()[CACHE_CONTROL], "public, max-age=86400");
    assert!(fresh.headers().get(VARY).is_none());
}

/// Counts how often the layer asks it to decode, and accepts nothing.
#[derive(Clone, Default)]
struct Counting(Arc<AtomicUsize>);

impl Decoder for Counting {
    fn decode(&self, _token: &str) -> Result<Vec<u8>, SessionError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(SessionError::Undecryptable)
    }
}

#[tokio::test]
async fn oversized_bearer_tokens_are_refused_before_any_decoding() {
    let counting = Counting::default();
    let layer = Builder::new()
        .decoder(counting.clone())
        .limits(Limits::default())
        .build()
        .unwrap();
    let huge = format!("Bearer {}", "a".repeat(400 * 1024));
    let res = call(&layer, &[(AUTHORIZATION, huge)]).await;
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        res.extensions().get::<Rejection>(),
        Some(&Rejection::Unauthenticated(SessionError::Malformed))
    );
    assert_eq!(counting.0.load(Ordering::SeqCst), 0, "no decode attempt");

    // Within the limit the token is decoded as before.
    let res = call(&layer, &[(AUTHORIZATION, "Bearer abc".to_owned())]).await;
    assert_eq!(
        res.extensions().get::<Rejection>(),
        Some(&Rejection::Unauthenticated(SessionError::Undecryptable))
    );
    // Once per configured cookie name (v5's and v4's), as before.
    assert_eq!(counting.0.load(Ordering::SeqCst), 2);
}

#[test]
fn host_and_secure_prefixed_names_are_written_with_secure_even_over_http() {
    for name in ["__Host-session", "__Secure-session"] {
        let layer = Builder::new()
            .secret(SECRET)
            .format(Format::V4)
            .cookie_name(name)
            .url("http://localhost:3000")
            .unwrap()
            .clock(|| NOW)
            .build()
            .unwrap();
        let sessions = layer.sessions();
        let set = sessions
            .sign_in(&HeaderMap::new(), &json!({"name": "Ada"}))
            .unwrap();
        let cookie = set[0].to_str().unwrap();
        assert!(cookie.starts_with(&format!("{name}=")), "{cookie}");
        assert!(
            cookie.ends_with(
                "; Path=/; Expires=Tue, 01 Dec 2026 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax"
            ),
            "{cookie}"
        );
        let mut request = HeaderMap::new();
        request.insert(COOKIE, HeaderValue::from_str(&format!("{name}=x")).unwrap());
        assert_eq!(
            sessions.sign_out(&request)[0],
            format!("{name}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax")
        );
    }
}

#[test]
fn cookie_domain_is_written_in_cookie_serialize_order_and_refused_for_host_names() {
    let layer = Builder::new()
        .secret(SECRET)
        .format(Format::V5)
        .url("https://app.example.com")
        .unwrap()
        .cookie_domain(".example.com")
        .clock(|| NOW)
        .build()
        .unwrap();
    let set = layer
        .sessions()
        .sign_in(&HeaderMap::new(), &json!({}))
        .unwrap();
    let cookie = set[0].to_str().unwrap();
    assert!(cookie.starts_with("__Secure-authjs.session-token=eyJ"));
    assert!(cookie.ends_with(
        "; Domain=.example.com; Path=/; Expires=Tue, 01 Dec 2026 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax"
    ));
    let mut request = HeaderMap::new();
    request.insert(
        COOKIE,
        HeaderValue::from_static("__Secure-authjs.session-token=x"),
    );
    assert_eq!(
        layer.sessions().sign_out(&request)[0],
        "__Secure-authjs.session-token=; Max-Age=0; Domain=.example.com; Path=/; HttpOnly; Secure; SameSite=Lax"
    );

    let error = Builder::new()
        .secret(SECRET)
        .cookie_name("__Host-session")
        .cookie_domain("example.com")
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the cookie \"__Host-session\" has the __Host- prefix, which forbids a Domain, but the domain \"example.com\" is configured"
    );
}

#[test]
fn app_urls_must_be_http_or_https_and_errors_name_the_value_and_source() {
    let env = |url: &'static str| {
        Builder::from_env_vars(move |name| match name {
            "NEXTAUTH_SECRET" => Some(SECRET.to_owned()),
            "NEXTAUTH_URL" => Some(url.to_owned()),
            _ => None,
        })
        .format(Format::V4)
    };
    for url in ["ftp://x", "javascript:alert(1)", "data:,x", "https://"] {
        let error = env(url).build().unwrap_err();
        assert_eq!(
            error,
            ConfigError::InvalidUrl {
                from: "NEXTAUTH_URL",
                value: url.to_owned()
            }
        );
        assert_eq!(
            error.to_string(),
            format!(
                "NEXTAUTH_URL must be an absolute http:// or https:// URL with a host, got {url:?}"
            )
        );
    }
    // A bare host still gets https://, as next-auth's parseUrl does.
    let layer = env("app.example.com").build().unwrap();
    assert_eq!(
        layer.sessions().cookie_names().collect::<Vec<_>>(),
        ["__Secure-next-auth.session-token"]
    );
}

/// Decodes hex cookies into whatever JSON they hold, so tests can send any time claims.
#[derive(Clone)]
struct Hex;

impl Decoder for Hex {
    fn decode(&self, token: &str) -> Result<Vec<u8>, SessionError> {
        (0..token.len())
            .step_by(2)
            .map(|i| {
                token
                    .get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or(SessionError::Malformed)
    }
}

fn hex(json: &str) -> String {
    json.bytes().map(|b| format!("{b:02x}")).collect()
}

fn time_layer(now: i64, leeway: u64, update_age: u64) -> AuthLayer {
    Builder::new()
        .decoder(Hex)
        .clock(move || now)
        .leeway(Duration::from_secs(leeway))
        .update_age(Duration::from_secs(update_age))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_huge_iat_with_refresh_on_neither_panics_nor_wraps() {
    // `iat` past i64::MAX, an hour of update_age: `iat + update_age` overflowed before.
    let layer = time_layer(NOW, 15, 3600);
    let cookie = format!(
        "next-auth.session-token={}",
        hex(r#"{"iat":9.3e18,"exp":9.3e18}"#)
    );
    let res = call(&layer, &[(COOKIE, cookie)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    // Issued "in the future" is not stale: nothing to refresh (and a custom decoder can't).
    assert!(res.headers().get(SET_COOKIE).is_none());
}

fn json_number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        Just("1e308".to_owned()),
        Just("-1e308".to_owned()),
        Just("-0".to_owned()),
        Just("0.5".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any clock, leeway, update_age and time claims: no panic, and the decision is jose's
    /// `exp <= now - leeway` / `nbf > now + leeway` rule computed in f64.
    #[test]
    fn time_claims_over_the_whole_range_decide_like_jose(
        now in any::<i64>(),
        leeway in any::<u64>(),
        update_age in any::<u64>(),
        exp in json_number(),
        nbf in json_number(),
        iat in json_number(),
    ) {
        let layer = time_layer(now, leeway, update_age);
        let payload = format!(r#"{{"exp":{exp},"nbf":{nbf},"iat":{iat}}}"#);
        let cookie = format!("next-auth.session-token={}", hex(&payload));
        let res = block_on(call(&layer, &[(COOKIE, cookie)]));

        let leeway = i64::try_from(leeway).unwrap_or(i64::MAX) as f64;
        let (exp, nbf): (f64, f64) = (exp.parse().unwrap(), nbf.parse().unwrap());
        let expired = exp <= now as f64 - leeway || nbf > now as f64 + leeway;
        if !expired {
            prop_assert_eq!(res.status(), StatusCode::OK);
        } else {
            prop_assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
            prop_assert_eq!(
                res.extensions().get::<Rejection>(),
                Some(&Rejection::Unauthenticated(SessionError::Expired))
            );
        }
    }

    /// Encoding with any clock and max age writes an `exp` that saturates instead of wrapping.
    #[test]
    fn encoding_at_any_time_saturates(now in any::<i64>(), max_age in any::<u64>()) {
        let layer = Builder::new()
            .secret(SECRET)
            .format(Format::V4)
            .clock(move || now)
            .max_age(Duration::from_secs(max_age))
            .build()
            .unwrap();
        let jwe = layer.sessions().encode(&json!({})).unwrap();
        let reader = Builder::new()
            .secret(SECRET)
            .format(Format::V4)
            .clock(move || now)
            .build()
            .unwrap();
        let expected = now.saturating_add(i64::try_from(max_age).unwrap_or(i64::MAX));
        match reader.sessions().decode::<serde_json::Value>(&jwe) {
            Ok(token) => {
                // The claims are written as exact i64s; the reader compares in f64, as jose
                // does, so past 2^53 they read back within one f64 rounding step.
                let close = |read: i64, written: i64| {
                    (read as f64 - written as f64).abs() <= (written as f64).abs() * f64::EPSILON
                };
                prop_assert!(close(token.iat().unwrap(), now));
                prop_assert!(close(token.exp().unwrap(), expected));
            }
            // A max age of 0 (or one that saturates at now) can be expired beyond the leeway
            // only when exp <= now - 15.
            Err(error) => {
                prop_assert_eq!(error, SessionError::Expired);
                prop_assert!(expected as f64 <= now as f64 - 15.0);
            }
        }
    }
}
