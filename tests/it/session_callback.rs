//! `SessionEndpoint::session`: next-auth's `session({ session, token })` callback on the session
//! endpoint (docs/compat.md E10).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, Request, Response, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;
use tower_nextauth::{AuthLayer, Claims, Format, SessionEndpoint, Sessions, Token};

use crate::support::*;

/// What a Next app's `callbacks.session` typically adds.
fn add_id_role_and_access_token(mut session: Value, token: &Token) -> Value {
    session["user"]["id"] = token.get("sub").cloned().into();
    session["user"]["role"] = token.get("role").cloned().unwrap_or("user".into());
    session["accessToken"] = token.get("accessToken").cloned().into();
    session
}

fn signed_in(layer: &AuthLayer, claims: Value) -> String {
    cookie_header(
        &layer
            .sessions()
            .sign_in(&HeaderMap::new(), &claims)
            .unwrap(),
    )
}

async fn get<S>(endpoint: S, cookie: Option<&str>) -> Response<String>
where
    S: tower::Service<Request<()>, Response = Response<String>, Error = std::convert::Infallible>,
{
    let mut req = Request::get("/api/auth/session");
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    endpoint.oneshot(req.body(()).unwrap()).await.unwrap()
}

fn json_body(res: &Response<String>) -> Value {
    serde_json::from_str(res.body()).unwrap()
}

#[tokio::test]
async fn the_callbacks_fields_appear_in_the_json() {
    for format in [Format::V4, Format::V5] {
        let layer = layer(format);
        let cookie = signed_in(
            &layer,
            json!({"name": "Ada", "email": "ada@example.com", "picture": "https://example.com/a.png",
                   "sub": "42", "role": "admin", "accessToken": "at-1"}),
        );
        let endpoint =
            SessionEndpoint::new(layer.sessions().clone()).session(add_id_role_and_access_token);
        let res = get(endpoint, Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::OK, "{format:?}");
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(
            res.headers()["cache-control"],
            "private, no-cache, no-store"
        );
        assert_eq!(
            json_body(&res),
            json!({
                "user": {"name": "Ada", "email": "ada@example.com", "image": "https://example.com/a.png",
                         "id": "42", "role": "admin"},
                "accessToken": "at-1",
                // now (2026-11-01) + next-auth's default max age of 30 days, as without a callback
                "expires": "2026-12-01T00:00:00.000Z",
            }),
            "{format:?}"
        );
    }
}

#[tokio::test]
async fn the_callback_gets_the_default_body_and_the_token_and_its_return_is_sent() {
    let layer = layer(Format::V5);
    let cookie = signed_in(
        &layer,
        json!({"name": "Zoë", "picture": null, "sub": "7", "accessToken": "secret"}),
    );
    let default = get(
        SessionEndpoint::new(layer.sessions().clone()),
        Some(&cookie),
    )
    .await;
    let seen = Arc::new(std::sync::Mutex::new(None::<(Value, Claims)>));
    let endpoint = SessionEndpoint::new(layer.sessions().clone()).session({
        let seen = seen.clone();
        move |session: Value, token: &Token| {
            *seen.lock().unwrap() = Some((session, token.claims().clone()));
            // The callback decides the whole body: here it drops the email-less user's image and
            // keeps the access token out of it.
            json!({"user": {"name": token["name"], "id": token["sub"]}, "expires": "soon"})
        }
    });
    let res = get(endpoint, Some(&cookie)).await;
    // (Key order is serde_json's: sorted, or insertion order when a dependency turns on its
    // `preserve_order` feature; so compare values.)
    assert_eq!(
        json_body(&res),
        json!({"user": {"name": "Zoë", "id": "7"}, "expires": "soon"})
    );

    let (session, claims) = seen.lock().unwrap().take().expect("the callback ran");
    // The default body, as a value: what the endpoint sends without a callback.
    assert_eq!(session, json_body(&default));
    assert_eq!(
        session,
        json!({"user": {"name": "Zoë", "image": null}, "expires": "2026-12-01T00:00:00.000Z"})
    );
    assert_eq!(claims["sub"], "7");
    assert_eq!(claims["accessToken"], "secret");
    assert!(claims.contains_key("exp") && claims.contains_key("iat"));
}

#[tokio::test]
async fn without_a_callback_the_body_is_byte_for_byte_the_default() {
    let layer = layer(Format::V4);
    let cookie = signed_in(
        &layer,
        json!({"name": "Ada", "email": "ada@example.com", "sub": "42", "role": "admin"}),
    );
    let res = get(
        SessionEndpoint::new(layer.sessions().clone()),
        Some(&cookie),
    )
    .await;
    assert_eq!(
        res.body(),
        r#"{"user":{"name":"Ada","email":"ada@example.com"},"expires":"2026-12-01T00:00:00.000Z"}"#
    );
    // An identity callback sends the same JSON value (keys in serde_json's order).
    let identity = SessionEndpoint::new(layer.sessions().clone()).session(|s, _: &Token| s);
    let same = get(identity, Some(&cookie)).await;
    assert_eq!(json_body(&same), json_body(&res));
    assert_eq!(same.headers()["content-type"], "application/json");
    assert_eq!(same.headers()["pragma"], "no-cache");
    assert_eq!(same.headers()["expires"], "0");

    // `SessionEndpoint` without a type argument still names the endpoint `new` returns.
    let named: SessionEndpoint = SessionEndpoint::new(layer.sessions().clone());
    assert!(format!("{named:?}").starts_with("SessionEndpoint { sessions: "));
}

#[tokio::test]
async fn no_callback_runs_without_a_valid_session() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counting = |sessions: Sessions| {
        let calls = calls.clone();
        SessionEndpoint::new(sessions).session(move |s: Value, _: &Token| {
            calls.fetch_add(1, Ordering::SeqCst);
            json!({"called": true, "session": s})
        })
    };

    let v4 = layer(Format::V4);
    let none = get(counting(v4.sessions().clone()), None).await;
    assert_eq!(none.body(), "{}");
    assert!(none.headers().get(SET_COOKIE).is_none());

    let v5 = layer(Format::V5);
    let none = get(counting(v5.sessions().clone()), None).await;
    assert_eq!(none.body(), "null");

    // An invalid cookie: the empty body, and the cookies are cleared, without the callback.
    let bad = get(
        counting(v5.sessions().clone()),
        Some("authjs.session-token.0=x; authjs.session-token.1=y"),
    )
    .await;
    assert_eq!(bad.body(), "null");
    assert_eq!(
        set_cookies(&bad),
        [
            "authjs.session-token.0=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
            "authjs.session-token.1=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
        ]
    );

    // A session sealed with another secret is no session either.
    let other = builder(Format::V5)
        .secret("another-secret-0123456789abcdef-xyz")
        .build()
        .unwrap();
    let foreign = signed_in(&other, json!({"sub": "1"}));
    assert_eq!(
        get(counting(v5.sessions().clone()), Some(&foreign))
            .await
            .body(),
        "null"
    );

    // Methods other than GET get 405 before any session is read.
    let post = counting(v5.sessions().clone())
        .oneshot(
            Request::post("/api/auth/session")
                .header(COOKIE, signed_in(&v5, json!({"sub": "1"})))
                .body(())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);

    assert_eq!(calls.load(Ordering::SeqCst), 0);

    // And it does run once for a valid one.
    let ok = get(
        counting(v5.sessions().clone()),
        Some(&signed_in(&v5, json!({"sub": "1"}))),
    )
    .await;
    assert_eq!(json_body(&ok)["called"], true);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_cookie_is_still_reissued() {
    for format in [Format::V4, Format::V5] {
        let layer = layer(format);
        let claims = json!({"name": "Ada", "sub": "42", "accessToken": "at-1"});
        let cookie = signed_in(&layer, claims.clone());
        let endpoint =
            SessionEndpoint::new(layer.sessions().clone()).session(add_id_role_and_access_token);
        let res = get(endpoint, Some(&cookie)).await;
        let set = set_cookies(&res);
        assert_eq!(set.len(), 1, "{format:?}: {set:?}");
        assert!(
            set[0].starts_with(&format!("{}=", format.cookie_name())),
            "{set:?}"
        );

        // The re-issued cookie carries the token unchanged (the callback shapes the body only),
        // with a fresh expiry.
        let token: Token<Claims> = layer
            .sessions()
            .read(&cookie_headers(&cookie_header(&set)))
            .unwrap();
        for (k, v) in claims.as_object().unwrap() {
            assert_eq!(&token[k], v, "{format:?} {k}");
        }
        assert!(!token.contains_key("id") && !token.contains_key("role"));
        assert_eq!(token.exp(), Some(NOW + 30 * 24 * 60 * 60));
    }

    // A chunked session is re-issued chunked, as without a callback.
    let layer = layer(Format::V5);
    let big = json!({"sub": "42", "accessToken": "a".repeat(6000)});
    let cookie = signed_in(&layer, big);
    assert!(cookie.contains("authjs.session-token.1="));
    let res = get(
        SessionEndpoint::new(layer.sessions().clone()).session(add_id_role_and_access_token),
        Some(&cookie),
    )
    .await;
    assert_eq!(json_body(&res)["accessToken"].as_str().unwrap().len(), 6000);
    let set = set_cookies(&res);
    assert!(set.len() >= 2, "{set:?}");
    assert!(set.iter().all(|c| c.starts_with("authjs.session-token.")));
}

#[cfg(feature = "axum")]
#[tokio::test]
async fn a_callback_endpoint_mounts_in_axum() {
    let layer = layer(Format::V5);
    let app = axum::Router::new().route_service(
        "/api/auth/session",
        SessionEndpoint::new(layer.sessions().clone()).session(add_id_role_and_access_token),
    );
    let req = Request::get("/api/auth/session")
        .header(COOKIE, signed_in(&layer, json!({"sub": "42"})))
        .body(axum::body::Body::empty())
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["user"]["id"], "42");
    assert_eq!(body["user"]["role"], "user");
    assert_eq!(body["accessToken"], Value::Null);
}
