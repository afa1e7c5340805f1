//! next-auth's own client against `SessionEndpoint` with a `session` callback
//! (docs/compat.md E10): a Rust server on 127.0.0.1 answers `GET /api/auth/session`, and
//! `interop/session-client.mjs` calls it with next-auth@4's `getSession` (what `useSession()`
//! fetches) and with a plain `fetch`.

use rand::Rng;
use serde_json::{json, Value};
use tower_nextauth::{AuthLayer, Builder, Format, SessionEndpoint, Token};

use crate::support::*;

/// The Rust twin of the script's JS callback: `session.user.id = token.sub;
/// session.accessToken = token.accessToken; return session`.
fn add_id_and_access_token(mut session: Value, token: &Token) -> Value {
    session["user"]["id"] = token.get("sub").cloned().into();
    session["accessToken"] = token.get("accessToken").cloned().into();
    session
}

/// A layer on the real clock: next-auth's route checks `exp` against it.
fn real_clock_layer(format: Format, secret: &str) -> AuthLayer {
    Builder::new()
        .secret(secret)
        .format(format)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_auths_get_session_sees_the_callbacks_fields() {
    let secret: String = rand::thread_rng()
        .sample_iter(rand::distributions::Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    let v4 = real_clock_layer(Format::V4, &secret);
    let v5 = real_clock_layer(Format::V5, &secret);
    let claims = json!({
        "name": "Ada Lovelace", "email": "ada@example.com", "picture": "https://example.com/a.png",
        "sub": "user-42", "accessToken": "gho_access-token", "role": "admin",
    });
    let v4_cookie = cookie_header(
        &v4.sessions()
            .sign_in(&http::HeaderMap::new(), &claims)
            .unwrap(),
    );
    let v5_cookie = cookie_header(
        &v5.sessions()
            .sign_in(&http::HeaderMap::new(), &claims)
            .unwrap(),
    );

    let app = axum::Router::new()
        .route_service(
            "/v4/api/auth/session",
            SessionEndpoint::new(v4.sessions().clone()).session(add_id_and_access_token),
        )
        .route_service(
            "/v5/api/auth/session",
            SessionEndpoint::new(v5.sessions().clone()).session(add_id_and_access_token),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let input = json!({
        "v4_url": format!("http://{addr}/v4/api/auth"),
        "v4_cookie": v4_cookie,
        "v5_url": format!("http://{addr}/v5/api/auth"),
        "v5_cookie": v5_cookie,
        "secret": secret,
    });
    let stdout = tokio::task::spawn_blocking(move || {
        interop_node("session-client.mjs", &[], input.to_string().as_bytes())
    })
    .await
    .unwrap();
    server.abort();
    let out: Value = serde_json::from_slice(&stdout).unwrap();

    // next-auth@4's `getSession` (what `useSession()` calls) returns the callback's fields.
    let session = &out["get_session"];
    assert_eq!(session["user"]["id"], "user-42", "{out:#}");
    assert_eq!(session["accessToken"], "gho_access-token", "{out:#}");
    assert_eq!(session["user"]["name"], "Ada Lovelace");
    assert_eq!(session["user"]["email"], "ada@example.com");
    assert_eq!(session["user"]["image"], "https://example.com/a.png");
    // Claims the callback did not add stay private, as with next-auth.
    assert!(session["user"].get("role").is_none() && session.get("role").is_none());
    let expires = session["expires"].as_str().expect("expires is a string");
    assert!(
        expires.len() == 24 && expires.ends_with(".000Z"),
        "{expires}"
    );
    // Without a cookie the v4 endpoint answers `{}`, which `getSession` turns into `null`.
    assert_eq!(out["get_session_anonymous"], Value::Null, "{out:#}");

    // The same as next-auth@4's own session route running the JS twin of the callback (only
    // `expires` differs: upstream has milliseconds and its own clock).
    let upstream = &out["upstream_v4"];
    assert_eq!(upstream["user"], session["user"], "{out:#}");
    assert_eq!(upstream["accessToken"], session["accessToken"]);
    let mut keys: Vec<&String> = session.as_object().unwrap().keys().collect();
    let mut upstream_keys: Vec<&String> = upstream.as_object().unwrap().keys().collect();
    keys.sort();
    upstream_keys.sort();
    assert_eq!(keys, upstream_keys);

    // A plain `fetch` parses both formats' JSON, with next-auth's headers and a re-issued cookie.
    for (key, cookie_name) in [("fetch_v4", "next-auth"), ("fetch_v5", "authjs")] {
        let fetched = &out[key];
        assert_eq!(fetched["status"], 200, "{key}: {fetched:#}");
        assert_eq!(fetched["content_type"], "application/json");
        assert_eq!(fetched["cache_control"], "private, no-cache, no-store");
        assert_eq!(fetched["body"]["user"]["id"], "user-42", "{key}");
        assert_eq!(fetched["body"]["accessToken"], "gho_access-token", "{key}");
        assert_eq!(fetched["body"]["user"]["name"], "Ada Lovelace", "{key}");
        assert!(fetched["body"]["expires"].is_string(), "{key}");
        let set = fetched["set_cookie"].as_array().unwrap();
        assert_eq!(set.len(), 1, "{key}: {set:?}");
        assert!(set[0]
            .as_str()
            .unwrap()
            .starts_with(&format!("{cookie_name}.session-token=")));
    }
    assert_eq!(out["fetch_v4"]["body"], *session);
    let anonymous = &out["fetch_v5_anonymous"];
    assert_eq!(anonymous["status"], 200);
    assert_eq!(anonymous["raw"], "null");
    assert_eq!(anonymous["body"], Value::Null);
    assert_eq!(anonymous["set_cookie"], json!([]));
}
