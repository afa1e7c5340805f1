//! Writing sessions: chunked `Set-Cookie` sets, sign-out, sliding refresh and the session endpoint.

use std::convert::Infallible;
use std::time::Duration;

use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use serde_json::json;
use tower::{service_fn, Layer, ServiceExt};
use tower_nextauth::{AuthLayer, Builder, Claims, Format, Token};

use crate::support::{
    builder, cookie_header, cookie_headers as request, echo, set_cookies, strs, NOW, SECRET,
};

#[test]
fn big_sessions_are_chunked_at_next_auth_sizes() {
    for (format, size, name) in [
        (Format::V4, 3933, "next-auth.session-token"),
        (Format::V5, 3936, "authjs.session-token"),
    ] {
        let layer = builder(format).build().unwrap();
        let claims = json!({"name": "Ada", "blob": "x".repeat(6000)});
        let set = layer
            .sessions()
            .sign_in(&HeaderMap::new(), &claims)
            .unwrap();
        let set = strs(&set);
        assert_eq!(set.len(), 3, "{format:?}");
        for (i, cookie) in set.iter().enumerate() {
            let (pair, attrs) = cookie.split_once("; ").unwrap();
            let (n, value) = pair.split_once('=').unwrap();
            assert_eq!(n, format!("{name}.{i}"));
            if i < 2 {
                assert_eq!(value.len(), size, "{format:?} chunk {i}");
            }
            // NOW + 30 days, as Date.toUTCString() prints it.
            assert_eq!(
                attrs,
                "Path=/; Expires=Tue, 01 Dec 2026 00:00:00 GMT; HttpOnly; SameSite=Lax"
            );
        }
        let token: Token = layer
            .sessions()
            .read(&request(&cookie_header(&set)))
            .unwrap();
        assert_eq!(token["blob"].as_str().unwrap().len(), 6000);
    }
}

#[test]
fn stale_chunks_are_cleared_in_request_order_and_reused_in_place() {
    let layer = builder(Format::V4).secure_cookie(true).build().unwrap();
    let sessions = layer.sessions();
    let n = "__Secure-next-auth.session-token";
    let token = "t".repeat(3933 * 2 + 10);
    let had_four = request(&format!("{n}.0=a; {n}.1=b; other=1; {n}.2=c; {n}.3=d"));
    let set = sessions.session_cookies(&had_four, &token, 1_893_456_000);
    let attrs = "Path=/; Expires=Tue, 01 Jan 2030 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax";
    assert_eq!(
        strs(&set),
        [
            format!("{n}.0={}; {attrs}", "t".repeat(3933)),
            format!("{n}.1={}; {attrs}", "t".repeat(3933)),
            format!("{n}.2={}; {attrs}", "t".repeat(10)),
            format!("{n}.3=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"),
        ]
    );

    let had_two = request(&format!("{n}.1=b; {n}.0=a"));
    let set = sessions.session_cookies(&had_two, "short", 1_893_456_000);
    assert_eq!(
        strs(&set),
        [
            format!("{n}.1=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"),
            format!("{n}.0=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"),
            format!("{n}=short; {attrs}"),
        ]
    );
}

#[test]
fn sign_out_clears_every_session_cookie_the_request_carried() {
    let layer = builder(Format::V5)
        .formats([Format::V5, Format::V4])
        .build()
        .unwrap();
    let set = layer.sessions().sign_out(&request(
        "authjs.session-token.0=a; theme=dark; authjs.session-token.1=b; next-auth.session-token=c",
    ));
    assert_eq!(
        strs(&set),
        [
            "authjs.session-token.0=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
            "authjs.session-token.1=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
            "next-auth.session-token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
        ]
    );
    assert!(layer.sessions().sign_out(&request("theme=dark")).is_empty());
}

async fn through(layer: &AuthLayer, cookie: &str) -> Response<String> {
    let svc = layer.layer(service_fn(echo));
    let req = Request::get("/dashboard")
        .header(COOKIE, cookie)
        .body(String::new())
        .unwrap();
    svc.oneshot(req).await.unwrap()
}

#[tokio::test]
async fn refresh_reissues_sessions_older_than_update_age_only() {
    let issued_at = |t: i64| {
        let old = builder(Format::V5).clock(move || t).build().unwrap();
        cookie_header(
            &old.sessions()
                .sign_in(&HeaderMap::new(), &json!({"name": "Ada"}))
                .unwrap(),
        )
    };
    let layer = builder(Format::V5).refresh(true).build().unwrap();

    let fresh = through(&layer, &issued_at(NOW - 3600)).await;
    assert_eq!(fresh.status(), StatusCode::OK);
    assert!(
        fresh.headers().get(SET_COOKIE).is_none(),
        "no Set-Cookie within update_age"
    );

    let stale = through(&layer, &issued_at(NOW - 25 * 3600)).await;
    let set: Vec<HeaderValue> = stale
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    assert_eq!(set.len(), 1);
    let renewed: Token = layer
        .sessions()
        .read(&request(&cookie_header(&set)))
        .unwrap();
    assert_eq!(renewed["name"], "Ada");
    assert_eq!(renewed.iat(), Some(NOW));
    assert_eq!(renewed.exp(), Some(NOW + 30 * 24 * 3600));
    assert!(set[0]
        .to_str()
        .unwrap()
        .starts_with("authjs.session-token=eyJ"));

    let off = builder(Format::V5).build().unwrap();
    assert!(through(&off, &issued_at(NOW - 25 * 3600))
        .await
        .headers()
        .get(SET_COOKIE)
        .is_none());

    let hourly = builder(Format::V5)
        .update_age(Duration::from_secs(3600))
        .build()
        .unwrap();
    assert!(through(&hourly, &issued_at(NOW - 3600))
        .await
        .headers()
        .get(SET_COOKIE)
        .is_some());
}

#[tokio::test]
async fn refresh_keeps_the_format_and_name_it_read_and_cleans_chunks() {
    let old = builder(Format::V4)
        .clock(|| NOW - 2 * 86_400)
        .build()
        .unwrap();
    let big = json!({"name": "Ada", "blob": "y".repeat(9000)});
    let cookie = cookie_header(&old.sessions().sign_in(&HeaderMap::new(), &big).unwrap());
    let chunks = cookie.matches("next-auth.session-token.").count();
    assert!(chunks >= 3, "{chunks} chunks");
    // The layer writes v5 by default, but a v4 session stays v4 when refreshed.
    let layer = Builder::new()
        .secret(SECRET)
        .clock(|| NOW)
        .refresh(true)
        .build()
        .unwrap();
    let res = through(&layer, &cookie).await;
    let set: Vec<&str> = set_cookies(&res);
    assert_eq!(set.len(), chunks);
    assert!(set
        .iter()
        .all(|c| c.starts_with("next-auth.session-token.")));
    let renewed: Token = layer
        .sessions()
        .read(&request(&cookie_header(&set)))
        .unwrap();
    assert_eq!(renewed.format(), Some(Format::V4));
    assert_eq!(renewed.iat(), Some(NOW));
}

#[tokio::test]
async fn refresh_never_overrides_a_handler_that_wrote_the_session() {
    let old = builder(Format::V5)
        .clock(|| NOW - 2 * 86_400)
        .build()
        .unwrap();
    let cookie = cookie_header(
        &old.sessions()
            .sign_in(&HeaderMap::new(), &json!({"n": 1}))
            .unwrap(),
    );
    let layer = builder(Format::V5).refresh(true).build().unwrap();
    let sessions = layer.sessions().clone();
    let sign_out = service_fn(move |req: Request<String>| {
        let cleared = sessions.sign_out(req.headers());
        async move {
            let mut res = Response::new(String::new());
            for c in cleared {
                res.headers_mut().append(SET_COOKIE, c);
            }
            Ok::<_, Infallible>(res)
        }
    });
    let req = Request::post("/api/signout")
        .header(COOKIE, cookie)
        .body(String::new())
        .unwrap();
    let res = layer.layer(sign_out).oneshot(req).await.unwrap();
    let set: Vec<&str> = set_cookies(&res);
    assert_eq!(
        set,
        ["authjs.session-token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"]
    );
}

#[tokio::test]
async fn bearer_sessions_are_not_refreshed_into_cookies() {
    let old = builder(Format::V5)
        .clock(|| NOW - 2 * 86_400)
        .build()
        .unwrap();
    let jwe = old.sessions().encode(&json!({"n": 1})).unwrap();
    let layer = builder(Format::V5).refresh(true).build().unwrap();
    let svc = layer.layer(service_fn(echo));
    let req = Request::get("/x")
        .header("authorization", format!("Bearer {jwe}"))
        .body(String::new())
        .unwrap();
    let res = svc.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get(SET_COOKIE).is_none());
}

async fn session_get(layer: &AuthLayer, cookie: Option<&str>) -> Response<String> {
    let mut req = Request::get("/api/auth/session");
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    tower_nextauth::SessionEndpoint::new(layer.sessions().clone())
        .oneshot(req.body(()).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn session_endpoint_answers_like_next_auth() {
    let v4 = builder(Format::V4).build().unwrap();
    let cookie = cookie_header(
        &v4.sessions()
            .sign_in(&HeaderMap::new(), &json!({"name": "Zoë", "email": "z@example.com", "picture": null, "sub": "1", "role": "admin"}))
            .unwrap(),
    );
    let res = session_get(&v4, Some(&cookie)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(
        res.headers()["cache-control"],
        "private, no-cache, no-store"
    );
    assert_eq!(res.headers()["pragma"], "no-cache");
    assert_eq!(res.headers()["expires"], "0");
    assert_eq!(
        res.body(),
        r#"{"user":{"name":"Zoë","email":"z@example.com","image":null},"expires":"2026-12-01T00:00:00.000Z"}"#
    );
    // The session is re-issued, as next-auth does on every session read.
    assert_eq!(res.headers().get_all(SET_COOKIE).iter().count(), 1);

    let none = session_get(&v4, None).await;
    assert_eq!(none.body(), "{}");
    assert!(none.headers().get(SET_COOKIE).is_none());

    let v5 = builder(Format::V5).build().unwrap();
    assert_eq!(session_get(&v5, None).await.body(), "null");
    let bad = session_get(
        &v5,
        Some("authjs.session-token.0=x; authjs.session-token.1=y"),
    )
    .await;
    assert_eq!(bad.body(), "null");
    let set: Vec<&str> = set_cookies(&bad);
    assert_eq!(
        set,
        [
            "authjs.session-token.0=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
            "authjs.session-token.1=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
        ]
    );

    let post = layer_post(&v5).await;
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
}

async fn layer_post(layer: &AuthLayer) -> Response<String> {
    let req = Request::post("/api/auth/session").body(()).unwrap();
    tower_nextauth::SessionEndpoint::new(layer.sessions().clone())
        .oneshot(req)
        .await
        .unwrap()
}

#[test]
fn claims_round_trip_through_our_cookies() {
    let layer = builder(Format::V5).build().unwrap();
    let claims = json!({"name": "李雷", "nested": {"a": [1, 2, 3]}, "accessToken": "at"});
    let set = layer
        .sessions()
        .sign_in(&HeaderMap::new(), &claims)
        .unwrap();
    let token: Token<Claims> = layer
        .sessions()
        .read(&request(&cookie_header(&set)))
        .unwrap();
    assert_eq!(token["name"], "李雷");
    assert_eq!(token["nested"]["a"][2], 3);
}

#[test]
fn a_custom_cookie_name_on_https_is_still_secure() {
    let layer = builder(Format::V5)
        .cookie_name("app.session")
        .url("https://app.example.com")
        .unwrap()
        .build()
        .unwrap();
    let set = layer
        .sessions()
        .sign_in(&HeaderMap::new(), &json!({"n": 1}))
        .unwrap();
    let line = set[0].to_str().unwrap();
    assert!(line.starts_with("app.session=eyJ"));
    assert!(line.ends_with("; HttpOnly; Secure; SameSite=Lax"), "{line}");
    let cleared = layer.sessions().sign_out(&request("app.session=x"));
    assert_eq!(
        cleared[0],
        "app.session=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"
    );
}
