//! The refresh example (examples/refresh) against a real token endpoint on loopback
//! (examples/refresh/token_server.rs: short-lived access tokens, rotating refresh tokens, a reused
//! one refused): one refresh for 50 concurrent requests, a new session cookie that the real
//! next-auth `getToken` (v4) and @auth/core `decode` (v5) read, and a clean sign-out when the
//! refresh token is revoked.

#[path = "../../examples/refresh/token_server.rs"]
#[allow(dead_code)]
mod token_server;

use rand::distributions::{Alphanumeric, DistString};
use serde_json::{json, Value};
use tower_nextauth::{Builder, Format, Token};

use crate::support::{self, cookie_header, fmt, interop_batch, Reply, Server};
use token_server::TokenServer;

/// The example against `server`, with a random secret, in `format`.
fn example(server: &TokenServer, format: Format, secret: &str) -> Server {
    let args: &[&str] = if format == Format::V4 { &["--v4"] } else { &[] };
    support::serve(
        "refresh",
        args,
        &[("TOKEN_URL", &server.url()), ("NEXTAUTH_SECRET", secret)],
    )
}

/// A session cookie as the Next.js app's `jwt` callback wrote it at sign-in, with an access
/// token that has expired.
fn signed_in(server: &TokenServer, format: Format, secret: &str) -> (String, String) {
    let sessions = Builder::new()
        .secret(secret)
        .format(format)
        .build()
        .unwrap()
        .sessions()
        .clone();
    let (access, refresh, expires) = server.sign_in();
    let claims = json!({
        "name": "Ada",
        "email": "ada@example.com",
        "accessToken": access,
        "accessTokenExpires": expires,
        "refreshToken": refresh,
    });
    let cookie = format!(
        "{}={}",
        format.cookie_name(),
        sessions.encode(&claims).unwrap()
    );
    (cookie, refresh)
}

async fn get(app: &Server, path: &'static str, cookie: &str, accept: &str) -> Reply {
    let (authority, cookie, accept) = (
        app.authority().to_owned(),
        cookie.to_owned(),
        accept.to_owned(),
    );
    tokio::task::spawn_blocking(move || {
        let headers = [("Cookie", cookie.as_str()), ("Accept", accept.as_str())];
        support::http_at(&authority, "GET", path, &headers, "")
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_requests_refresh_once_and_next_auth_reads_the_new_cookie() {
    for format in [Format::V4, Format::V5] {
        let server = TokenServer::start(60).await;
        let secret = Alphanumeric.sample_string(&mut rand::thread_rng(), 40);
        let app = example(&server, format, &secret);
        let (cookie, _) = signed_in(&server, format, &secret);

        let requests: Vec<_> = (0..50)
            .map(|_| {
                let (authority, cookie) = (app.authority().to_owned(), cookie.clone());
                tokio::task::spawn_blocking(move || {
                    support::http_at(&authority, "GET", "/api/data", &[("Cookie", &cookie)], "")
                })
            })
            .collect();
        let mut set_cookies = Vec::new();
        for request in requests {
            let reply = request.await.unwrap();
            assert_eq!(reply.status, 200, "{format:?}: {}", reply.body);
            let body: Value = serde_json::from_str(&reply.body).unwrap();
            // The handler forwarded the new access token, and the API accepted it.
            assert_eq!(body["accessToken"], "at-2", "{format:?}");
            assert_eq!(body["resource"]["seen"], "at-2");
            set_cookies.push(reply.set_cookie());
        }
        assert_eq!(
            server.refresh_calls(),
            1,
            "{format:?}: one refresh for 50 requests"
        );
        assert!(set_cookies.iter().all(|s| *s == set_cookies[0]));

        // The new session cookie, read by the real libraries.
        let set = &set_cookies[0];
        assert_eq!(set.len(), 1, "{set:?}");
        let header = cookie_header(set);
        let token = header.split_once('=').unwrap().1.to_owned();
        let request = match format {
            Format::V4 => {
                json!({"op": "getToken", "format": fmt(format), "secrets": [secret], "secure": false, "cookie_name": null, "headers": {"cookie": header}})
            }
            _ => {
                json!({"op": "decode", "format": fmt(format), "secrets": [secret], "salt": format.cookie_name(), "token": token})
            }
        };
        let answer = &interop_batch("peer.mjs", &[request])[0]["claims"];
        assert_eq!(answer["accessToken"], "at-2", "{format:?}: {answer}");
        assert_eq!(answer["refreshToken"], "rt-2");
        assert_eq!(answer["name"], "Ada");
        assert!(answer["accessTokenExpires"].as_u64().unwrap() > server.sign_in().2);
        // And by ours, the same.
        let ours: Token = Builder::new()
            .secret(&secret)
            .format(format)
            .build()
            .unwrap()
            .sessions()
            .read(&support::cookie_headers(&header))
            .unwrap();
        assert_eq!(Value::Object(ours.into_claims()), *answer);

        // With the new cookie, no further refresh: the access token is valid.
        let reply = get(&app, "/api/data", &header, "application/json").await;
        assert_eq!(reply.status, 200);
        assert!(reply.set_cookie().is_empty());
        assert_eq!(server.refresh_calls(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_refresh_token_signs_the_user_out_cleanly() {
    let server = TokenServer::start(60).await;
    let secret = Alphanumeric.sample_string(&mut rand::thread_rng(), 40);
    let app = example(&server, Format::V5, &secret);
    let (cookie, refresh) = signed_in(&server, Format::V5, &secret);
    server.revoke(&refresh);

    let reply = get(&app, "/report", &cookie, "text/html").await;
    assert_eq!(reply.status, 307);
    assert_eq!(
        reply.header("location"),
        Some("/api/auth/signin?callbackUrl=%2Freport")
    );
    assert_eq!(
        reply.set_cookie(),
        ["authjs.session-token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"]
    );
    assert_eq!(server.refresh_calls(), 1);
    // A second request with the old cookie, within the window, is signed out without another
    // call; an API client gets 401.
    let reply = get(&app, "/api/data", &cookie, "application/json").await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.set_cookie().len(), 1);
    assert_eq!(server.refresh_calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_token_endpoint_is_a_503_never_a_pass() {
    let server = TokenServer::start(60).await;
    let secret = Alphanumeric.sample_string(&mut rand::thread_rng(), 40);
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let app = support::serve(
        "refresh",
        &[],
        &[("TOKEN_URL", &url), ("NEXTAUTH_SECRET", &secret)],
    );
    let (cookie, _) = signed_in(&server, Format::V5, &secret);
    for (path, accept) in [("/report", "text/html"), ("/api/data", "application/json")] {
        let reply = get(&app, path, &cookie, accept).await;
        assert_eq!(reply.status, 503, "{accept}: {}", reply.body);
        assert_eq!(reply.header("retry-after"), Some("1"));
        assert!(reply.set_cookie().is_empty());
    }
}
