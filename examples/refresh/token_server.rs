//! A small OAuth-style token endpoint and API on loopback, for the refresh example and its tests:
//! short-lived access tokens, rotating refresh tokens (each one works once; a reused one is
//! `invalid_grant`, as with rotation turned on at real providers), and a resource that checks the
//! access token.
//!
//! - `POST /token` with `grant_type=refresh_token&refresh_token=…` (form-encoded): a new access
//!   token (valid `lifetime` seconds) and a new refresh token, or 400 `{"error":"invalid_grant"}`.
//! - `GET /resource` with `Authorization: Bearer <access token>`: 200 with the token it saw, or 401.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;

#[derive(Default)]
struct State {
    /// Refresh token -> whether it has been used.
    refresh: HashMap<String, bool>,
    /// Access token -> expiry (Unix seconds).
    access: HashMap<String, u64>,
    /// Every `POST /token` call, valid or not.
    refresh_calls: usize,
    issued: usize,
}

/// A running token endpoint.
#[derive(Clone)]
pub struct TokenServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    lifetime: u64,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl TokenServer {
    /// Starts on a free loopback port; access tokens live `lifetime` seconds.
    pub async fn start(lifetime: u64) -> TokenServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = TokenServer {
            addr: listener.local_addr().unwrap(),
            state: Arc::default(),
            lifetime,
        };
        let accept = server.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let server = accept.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let server = server.clone();
                        async move { Ok::<_, Infallible>(server.answer(req).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        server
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Signs a user in: an access token that has already expired (so the first request
    /// refreshes), a fresh refresh token, and the access token's expiry in milliseconds as
    /// next-auth guides store it (`accessTokenExpires`).
    pub fn sign_in(&self) -> (String, String, u64) {
        let mut state = self.state.lock().unwrap();
        let (access, refresh) = issue(&mut state);
        let expired = now() - 60;
        state.access.insert(access.clone(), expired);
        (access, refresh, expired * 1000)
    }

    /// Revokes a refresh token (the user signed out elsewhere, say).
    pub fn revoke(&self, refresh: &str) {
        self.state
            .lock()
            .unwrap()
            .refresh
            .insert(refresh.to_owned(), true);
    }

    /// How many `POST /token` calls arrived.
    pub fn refresh_calls(&self) -> usize {
        self.state.lock().unwrap().refresh_calls
    }

    async fn answer(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        match (req.method(), req.uri().path()) {
            (&Method::POST, "/token") => {
                let body = req.into_body().collect().await.map(|b| b.to_bytes());
                let body = body.unwrap_or_default();
                let presented = form_urlencoded::parse(&body)
                    .find(|(k, _)| k == "refresh_token")
                    .map(|(_, v)| v.into_owned());
                let mut state = self.state.lock().unwrap();
                state.refresh_calls += 1;
                let valid = presented
                    .as_ref()
                    .is_some_and(|t| state.refresh.get(t) == Some(&false));
                if !valid {
                    return reply(StatusCode::BAD_REQUEST, json!({"error": "invalid_grant"}));
                }
                state.refresh.insert(presented.unwrap(), true);
                let (access, refresh) = issue(&mut state);
                let expires = now() + self.lifetime;
                state.access.insert(access.clone(), expires);
                reply(
                    StatusCode::OK,
                    json!({
                        "access_token": access,
                        "token_type": "Bearer",
                        "expires_in": self.lifetime,
                        "refresh_token": refresh,
                    }),
                )
            }
            (&Method::GET, "/resource") => {
                let bearer = req
                    .headers()
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .map(str::to_owned);
                let state = self.state.lock().unwrap();
                match bearer {
                    Some(token) if state.access.get(&token).is_some_and(|&exp| exp > now()) => {
                        reply(
                            StatusCode::OK,
                            json!({"report": "quarterly", "seen": token}),
                        )
                    }
                    _ => reply(StatusCode::UNAUTHORIZED, json!({"error": "invalid_token"})),
                }
            }
            _ => reply(StatusCode::NOT_FOUND, json!({"error": "not_found"})),
        }
    }
}

/// A new access token and refresh token (unused).
fn issue(state: &mut State) -> (String, String) {
    state.issued += 1;
    let n = state.issued;
    let refresh = format!("rt-{n}");
    state.refresh.insert(refresh.clone(), false);
    (format!("at-{n}"), refresh)
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from(body.to_string())));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    res
}
