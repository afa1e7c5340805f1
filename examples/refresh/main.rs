//! Refreshing a backend's access token inside the session, with next-auth's `jwt` callback run by
//! the layer, and forwarding it to a downstream API as `Authorization: Bearer`.
//!
//! ```text
//! cargo run --example refresh --features axum
//! TOKEN_URL=https://auth.example.com NEXTAUTH_SECRET=… cargo run --example refresh --features axum [-- --v4]
//! ```
//!
//! The session (written by the Next.js app's `jwt` callback at sign-in) holds `accessToken`,
//! `accessTokenExpires` (milliseconds, as next-auth's refresh guide stores it) and
//! `refreshToken`. For every request with a session, the layer's `jwt` callback checks the
//! expiry; once the access token has expired it calls `POST {TOKEN_URL}/token` with the refresh
//! token, stores the new pair in the session, and the layer sets the new session cookie. A
//! revoked refresh token (`invalid_grant`) signs the user out; an unreachable endpoint is a 503.
//! Concurrent requests with the same session share one refresh (the layer's single flight), so a
//! rotating refresh token is only ever used once.
//!
//! `GET /api/data` (and the page `/report`) forwards the session's access token to
//! `GET {TOKEN_URL}/resource` and returns what it answered. Without `TOKEN_URL`, the example starts its own token endpoint on loopback
//! (examples/refresh/token_server.rs) and prints a session cookie to try. Without a secret it uses
//! the quickstart's development secret. `PORT` sets the port (3002).

// `revoke` and `refresh_calls` are for the tests (tests/external/refresh.rs).
#[allow(dead_code)]
mod token_server;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use bytes::Bytes;
use http::{header, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde_json::{json, Value};
use tower_nextauth::{Builder, CallbackError, Claims, Format, Jwt, Token};

/// For local development only: anyone who reads this file can forge sessions signed with it.
const DEV_SECRET: &str = "tower-nextauth-quickstart-development-secret";

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// The token endpoint's answer to a refresh (RFC 6749 §5.1).
#[derive(Deserialize)]
struct Refreshed {
    access_token: String,
    expires_in: u64,
    refresh_token: Option<String>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// next-auth's `jwt` callback from the refresh-token-rotation guide, in Rust: keep the session
/// while its access token is valid, otherwise refresh it (or sign out when the refresh token is
/// refused). Errors become a 503 for the request; nothing is remembered, so the next request
/// tries again.
async fn refresh(
    client: HttpClient,
    token_url: String,
    mut claims: Claims,
) -> Result<Jwt, CallbackError> {
    let expires = claims.get("accessTokenExpires").and_then(Value::as_u64);
    if expires.is_some_and(|at| now_ms() < at) {
        return Ok(Jwt::Keep);
    }
    let Some(refresh_token) = claims.get("refreshToken").and_then(Value::as_str) else {
        return Ok(Jwt::SignOut);
    };
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "refresh_token")
        .append_pair("refresh_token", refresh_token)
        .finish();
    let request = Request::post(format!("{token_url}/token"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(form)))?;
    // The layer has no timer: bound the call here, and fail (503) rather than hang.
    let response = tokio::time::timeout(Duration::from_secs(5), client.request(request))
        .await
        .map_err(|_| "the token endpoint did not answer within 5 s")??;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    if status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED {
        // `invalid_grant`: the refresh token was revoked or already used. End the session.
        return Ok(Jwt::SignOut);
    }
    if !status.is_success() {
        return Err(format!("the token endpoint answered {status}").into());
    }
    let fresh: Refreshed = serde_json::from_slice(&body)?;
    claims.insert("accessToken".into(), fresh.access_token.into());
    claims.insert(
        "accessTokenExpires".into(),
        (now_ms() + fresh.expires_in * 1000).into(),
    );
    if let Some(rotated) = fresh.refresh_token {
        claims.insert("refreshToken".into(), rotated.into());
    }
    Ok(Jwt::Update(claims))
}

/// Forwards the session's access token to the downstream API, as next-auth guides do with
/// `session.accessToken`.
async fn data(
    Extension(client): Extension<HttpClient>,
    Extension(token_url): Extension<TokenUrl>,
    token: Token,
) -> Response {
    let Some(access_token) = token.get("accessToken").and_then(Value::as_str) else {
        return (StatusCode::UNAUTHORIZED, "the session has no access token").into_response();
    };
    let request = Request::get(format!("{}/resource", token_url.0))
        .header(header::AUTHORIZATION, format!("Bearer {access_token}"))
        .body(Full::new(Bytes::new()))
        .expect("a valid request");
    let answer = match client.request(request).await {
        Ok(answer) => answer,
        Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
    };
    let status = answer.status();
    let body = answer.into_body().collect().await.map(|b| b.to_bytes());
    let resource: Value = body
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let status = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    (
        status,
        Json(json!({"accessToken": access_token, "resource": resource})),
    )
        .into_response()
}

#[derive(Clone)]
struct TokenUrl(String);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let v4 = std::env::args().any(|a| a == "--v4");
    let mut builder = Builder::from_env().format(if v4 { Format::V4 } else { Format::V5 });
    if std::env::var_os("NEXTAUTH_SECRET").is_none() && std::env::var_os("AUTH_SECRET").is_none() {
        builder = builder.secret(DEV_SECRET);
    }
    // Without TOKEN_URL, a demo endpoint on loopback (access tokens valid for 30 s).
    let demo = match std::env::var("TOKEN_URL") {
        Ok(_) => None,
        Err(_) => Some(token_server::TokenServer::start(30).await),
    };
    let token_url = match &demo {
        Some(server) => server.url(),
        None => std::env::var("TOKEN_URL")?,
    };
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();

    let callback_client = client.clone();
    let callback_url = token_url.clone();
    let auth = builder.build()?.jwt(move |_req, token: Token| {
        let (client, url) = (callback_client.clone(), callback_url.clone());
        refresh(client, url, token.into_claims())
    });
    let sessions = auth.sessions().clone();

    let app = Router::new()
        .route("/api/data", get(data))
        // A page: a browser without a session is sent to sign-in instead of getting 401.
        .route("/report", get(data))
        .layer(auth)
        .layer(Extension(client))
        .layer(Extension(TokenUrl(token_url)));

    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3002);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    if let Some(server) = &demo {
        let (access, refresh, expires) = server.sign_in();
        let claims = json!({
            "name": "Ada",
            "accessToken": access,
            "accessTokenExpires": expires,
            "refreshToken": refresh,
        });
        let name = sessions.cookie_names().next().unwrap_or_default();
        println!(
            "try: curl -i -H 'Cookie: {name}={}' http://{}/api/data",
            sessions.encode(&claims)?,
            listener.local_addr()?
        );
    }
    axum::serve(listener, app).await?;
    Ok(())
}
