//! Both directions against the real next-auth@4 and @auth/core (`interop/peer.mjs`), with random
//! secrets and payloads on every run:
//! - ours -> theirs: our tokens and `Set-Cookie` sets decode in `getToken` / `decode`;
//! - theirs -> ours: their `SessionStore` sets (fresh, 4 -> 3 chunks, 2 -> 1) read in our layer;
//! - our chunked `Set-Cookie` bytes and sign-out lists equal theirs for the same input;
//! - our session endpoint answers what their session route answers.

use http::HeaderMap;
use rand::distributions::{Alphanumeric, DistString};
use rand::Rng;
use serde_json::{json, Value};
use tower::ServiceExt;
use tower_nextauth::{AuthLayer, Builder, Claims, Format, Token};

use crate::support::{
    cookie_headers as headers, echo, fmt, interop_batch, pair, session_cookie_name as name, strings,
};

/// Sends a batch of requests to the libraries and returns their answers, in order.
fn peer(requests: &[Value]) -> Vec<Value> {
    interop_batch("peer.mjs", requests)
}

fn secret(rng: &mut impl Rng) -> String {
    let len = rng.gen_range(32..64);
    Alphanumeric.sample_string(rng, len)
}

fn payload(rng: &mut impl Rng, large: bool) -> Value {
    let mut p = json!({
        "name": format!("Zoë Łukasz 李雷 {}", Alphanumeric.sample_string(rng, 5)),
        "email": format!("{}@example.com", Alphanumeric.sample_string(rng, 8).to_lowercase()),
        "picture": "https://example.com/ä.png",
        "sub": rng.gen_range(1..1_000_000u32).to_string(),
        "role": "admin",
        "groups": ["a", "b", {"nested": true}],
        "n": rng.gen_range(-1000..1000),
    });
    if large {
        // 3-4 chunks once encrypted and base64url-encoded.
        let len = rng.gen_range(7000..11000);
        p["blob"] = Value::String(Alphanumeric.sample_string(rng, len));
        p["emoji"] = Value::String("🚀".repeat(rng.gen_range(10..300)));
    }
    p
}

fn layer(format: Format, secrets: &[&str], secure: bool) -> AuthLayer {
    Builder::new()
        .secrets(secrets)
        .format(format)
        .secure_cookie(secure)
        .build()
        .unwrap()
}

/// The `Cookie` header a browser sends back after applying `set_cookie` to `jar`.
fn browser_apply(jar: &mut Vec<(String, String)>, set_cookie: &[String]) -> String {
    for line in set_cookie {
        let (name, value) = pair(line).split_once('=').unwrap();
        jar.retain(|(n, _)| n != name);
        if !line.contains("Max-Age=0") {
            jar.push((name.to_owned(), value.to_owned()));
        }
    }
    jar.iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
fn our_sessions_decode_in_next_auth_and_auth_core() {
    let mut rng = rand::thread_rng();
    let new = secret(&mut rng);
    let old = secret(&mut rng);
    let mut requests = Vec::new();
    let mut expected = Vec::new();
    for format in [Format::V4, Format::V5] {
        for secure in [false, true] {
            for large in [false, true] {
                let ours = layer(format, &[&new], secure);
                let claims = payload(&mut rng, large);
                let set = strings(ours.sessions().sign_in(&HeaderMap::new(), &claims).unwrap());
                assert_eq!(set.len() > 1, large, "{format:?} large={large} chunks");
                let cookie = browser_apply(&mut Vec::new(), &set);
                let token: Token = ours.sessions().read(&headers(&cookie)).unwrap();
                let full = Value::Object(token.into_claims());
                requests.push(json!({"op": "getToken", "format": fmt(format), "secrets": [new], "secure": secure, "cookie_name": null, "headers": {"cookie": cookie}}));
                expected.push(full.clone());
                let jwe = ours.sessions().encode(&claims).unwrap();
                let decoded: Token = ours.sessions().decode(&jwe).unwrap();
                requests.push(json!({"op": "decode", "format": fmt(format), "secrets": [new], "salt": name(format, secure), "token": jwe}));
                expected.push(Value::Object(decoded.into_claims()));
            }
        }
    }
    // v5 rotation: we encode with the first of [new, old]; Auth.js finds it by kid in any order.
    let rotating = layer(Format::V5, &[&new, &old], false);
    let claims = payload(&mut rng, false);
    let jwe = rotating.sessions().encode(&claims).unwrap();
    let full = Value::Object(
        rotating
            .sessions()
            .decode::<Claims>(&jwe)
            .unwrap()
            .into_claims(),
    );
    requests.push(json!({"op": "decode", "format": "v5", "secrets": [old, new], "salt": "authjs.session-token", "token": jwe}));
    expected.push(full);
    // A custom cookie name is the v5 salt.
    let custom = Builder::new()
        .secret(&new)
        .format(Format::V5)
        .cookie_name("app.session")
        .build()
        .unwrap();
    let set = strings(
        custom
            .sessions()
            .sign_in(&HeaderMap::new(), &claims)
            .unwrap(),
    );
    let cookie = browser_apply(&mut Vec::new(), &set);
    let full = Value::Object(
        custom
            .sessions()
            .read::<Claims>(&headers(&cookie))
            .unwrap()
            .into_claims(),
    );
    requests.push(json!({"op": "getToken", "format": "v5", "secrets": [new], "secure": false, "cookie_name": "app.session", "headers": {"cookie": cookie}}));
    expected.push(full);

    let answers = peer(&requests);
    for ((request, answer), expected) in requests.iter().zip(&answers).zip(&expected) {
        assert_eq!(
            &answer["claims"], expected,
            "the library read something else for {}",
            request["op"]
        );
    }
}

#[tokio::test]
async fn their_session_store_sets_read_in_our_layer_and_equal_ours_byte_for_byte() {
    let mut rng = rand::thread_rng();
    let secret = secret(&mut rng);
    let expires = 1_893_456_000; // 2030-01-01
    for format in [Format::V4, Format::V5] {
        for secure in [false, true] {
            let name = name(format, secure);
            let claims = payload(&mut rng, true);
            let [encoded] = &peer(&[
                json!({"op": "encode", "format": fmt(format), "secret": secret, "salt": name, "payload": claims}),
            ])[..] else {
                unreachable!()
            };
            let big = encoded["token"].as_str().unwrap().to_owned();
            let small_claims = payload(&mut rng, false);
            let [small] = &peer(&[
                json!({"op": "encode", "format": fmt(format), "secret": secret, "salt": name, "payload": small_claims}),
            ])[..] else {
                unreachable!()
            };
            let small = small["token"].as_str().unwrap().to_owned();
            let four: Vec<(String, String)> = (0..4)
                .map(|i| (format!("{name}.{i}"), "x".repeat(10)))
                .collect();
            let two: Vec<(String, String)> = (0..2)
                .map(|i| (format!("{name}.{i}"), "y".repeat(10)))
                .collect();
            let scenarios = [
                ("fresh", Vec::new(), &big),
                ("4 chunks -> 3", four, &big),
                ("2 chunks -> 1", two, &small),
            ];

            let ours = layer(format, &[&secret], secure);
            for (what, request_cookies, token) in scenarios {
                let answer = &peer(&[json!({
                    "op": "chunk", "format": fmt(format), "name": name, "secure": secure,
                    "token": token, "request_cookies": request_cookies, "expires": expires,
                })])[0];
                let theirs: Vec<String> =
                    serde_json::from_value(answer["set_cookie"].clone()).unwrap();
                let request = request_cookies
                    .iter()
                    .map(|(n, v)| format!("{n}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                let mine = strings(ours.sessions().session_cookies(
                    &headers(&request),
                    token,
                    expires,
                ));
                assert_eq!(
                    mine, theirs,
                    "{format:?} secure={secure} {what}: Set-Cookie bytes differ"
                );

                // Their set, applied by a browser to the old jar, reads in our layer.
                let mut jar = request_cookies.clone();
                let cookie = browser_apply(&mut jar, &theirs);
                let svc = tower::Layer::layer(&ours, tower::service_fn(echo));
                let req = http::Request::get("/dashboard")
                    .header("cookie", cookie)
                    .body(String::new())
                    .unwrap();
                let res = svc.oneshot(req).await.unwrap();
                assert_eq!(res.status(), http::StatusCode::OK, "{format:?} {what}");
                let body: Value = serde_json::from_str(res.body()).unwrap();
                let expected = if token == &small {
                    &small_claims
                } else {
                    &claims
                };
                assert_eq!(body["sub"], expected["sub"], "{format:?} {what}");
                assert_eq!(body["name"], expected["name"], "{format:?} {what}");
            }
        }
    }
}

#[test]
fn our_sign_out_equals_theirs() {
    for format in [Format::V4, Format::V5] {
        for secure in [false, true] {
            let name = name(format, secure);
            let request_cookies = vec![
                (format!("{name}.1"), "b".to_owned()),
                ("theme".to_owned(), "dark".to_owned()),
                (format!("{name}.0"), "a".to_owned()),
                (format!("{name}.2"), "c".to_owned()),
            ];
            let answer = &peer(&[
                json!({"op": "clean", "format": fmt(format), "name": name, "secure": secure, "request_cookies": request_cookies}),
            ])[0];
            let theirs: Vec<String> = serde_json::from_value(answer["set_cookie"].clone()).unwrap();
            let ours = layer(format, &["s"], secure);
            let request = request_cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            assert_eq!(
                strings(ours.sessions().sign_out(&headers(&request))),
                theirs,
                "{format:?} secure={secure}"
            );
            assert_eq!(theirs.len(), 3);
        }
    }
}

#[tokio::test]
async fn our_session_endpoint_answers_like_their_session_route() {
    let mut rng = rand::thread_rng();
    let secret = secret(&mut rng);
    for format in [Format::V4, Format::V5] {
        let ours = layer(format, &[&secret], false);
        let claims = payload(&mut rng, false);
        let cookie = browser_apply(
            &mut Vec::new(),
            &strings(ours.sessions().sign_in(&HeaderMap::new(), &claims).unwrap()),
        );
        let cases = [
            Some(cookie),
            None,
            Some(format!("{}=garbage", format.cookie_name())),
        ];
        let requests: Vec<Value> = cases
            .iter()
            .map(|c| json!({"op": "session", "format": fmt(format), "secret": secret, "secure": false, "cookie": c}))
            .collect();
        let answers = peer(&requests);
        for (cookie, theirs) in cases.iter().zip(&answers) {
            let mut req = http::Request::get("/api/auth/session");
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            let res = tower_nextauth::SessionEndpoint::new(ours.sessions().clone())
                .oneshot(req.body(()).unwrap())
                .await
                .unwrap();
            let set_cookies = res.headers().get_all("set-cookie").iter().count();
            let mine: Value = serde_json::from_str(res.body()).unwrap();
            let theirs_body: Value =
                serde_json::from_str(theirs["body"].as_str().unwrap()).unwrap();
            assert_eq!(theirs["status"], 200);
            assert_eq!(
                set_cookies as u64,
                theirs["session_cookies"].as_u64().unwrap(),
                "{format:?} {cookie:?}"
            );
            match (&mine, &theirs_body) {
                (Value::Object(m), Value::Object(t)) if !m.is_empty() => {
                    assert_eq!(m["user"], t["user"], "{format:?}");
                    assert_eq!(
                        mine.as_object().unwrap().keys().collect::<Vec<_>>(),
                        ["user", "expires"]
                    );
                    let parse = |v: &Value| {
                        let s = v.as_str().unwrap();
                        assert_eq!(s.len(), 24, "{s}");
                        s[..19].to_owned()
                    };
                    // Same day and minute-level time: expires = now + 30 days on both sides.
                    assert_eq!(parse(&m["expires"])[..16], parse(&t["expires"])[..16]);
                }
                _ => assert_eq!(mine, theirs_body, "{format:?} {cookie:?}"),
            }
        }
    }
}

/// Differential: random v5 tokens minted by @auth/core, half of them tampered; our decoder and
/// @auth/core's `decode` agree on accept/reject and on the claims.
#[test]
fn we_agree_with_auth_core_decode_on_random_tokens() {
    let mut rng = rand::thread_rng();
    let secret = secret(&mut rng);
    let salt = "authjs.session-token";
    let payloads: Vec<Value> = (0..40).map(|i| payload(&mut rng, i % 10 == 0)).collect();
    let encode: Vec<Value> = payloads
        .iter()
        .map(|p| json!({"op": "encode", "format": "v5", "secret": secret, "salt": salt, "payload": p}))
        .collect();
    let tokens: Vec<String> = peer(&encode)
        .into_iter()
        .map(|a| a["token"].as_str().unwrap().to_owned())
        .collect();
    let candidates: Vec<String> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if i % 2 == 0 {
                return t.clone();
            }
            let mut bytes = t.clone().into_bytes();
            let at = rng.gen_range(0..bytes.len());
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            String::from_utf8(bytes).unwrap()
        })
        .collect();
    let decode: Vec<Value> = candidates
        .iter()
        .map(|t| json!({"op": "decode", "format": "v5", "secrets": [secret], "salt": salt, "token": t}))
        .collect();
    let theirs = peer(&decode);
    let ours = layer(Format::V5, &[&secret], false);
    let mut accepted = 0;
    for (token, answer) in candidates.iter().zip(&theirs) {
        let mine = ours
            .sessions()
            .decode::<Claims>(token)
            .ok()
            .map(|t| Value::Object(t.into_claims()));
        assert_eq!(
            mine.as_ref().unwrap_or(&Value::Null),
            &answer["claims"],
            "{token}"
        );
        accepted += usize::from(mine.is_some());
    }
    assert!(accepted >= 20, "only {accepted} of 40 accepted");
}
