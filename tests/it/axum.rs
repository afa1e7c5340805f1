//! The axum extractors (feature `axum`).

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::json;
use tower::ServiceExt;
use tower_nextauth::{Format, Token};

use crate::support::{layer, route, session_cookie};

#[derive(Clone, Deserialize)]
struct Session {
    name: String,
    role: String,
}

async fn me(token: Token<Session>) -> String {
    format!("{} ({})", token.name, token.role)
}

async fn maybe(token: Option<Token<Session>>) -> String {
    token.map_or_else(|| "anonymous".to_owned(), |t| t.name.clone())
}

fn app() -> (Router, String) {
    let auth = layer(Format::V5);
    let cookie = session_cookie(&auth, json!({"name": "Ada", "role": "admin"}));
    let auth = auth
        .claims::<Session>()
        .authorized(|req, token| req.uri.path() != "/me" || token.is_some());
    let protected = Router::new()
        .route("/me", get(me))
        .route("/maybe", get(maybe))
        .route("/me-anyway", get(me))
        .layer(auth);
    let app = protected.route("/unguarded", get(me));
    (app, cookie)
}

async fn call(app: &Router, path: &str, cookie: Option<&str>) -> (StatusCode, String) {
    let headers: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
    let res = route(app, path, &headers).await;
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn token_extractor_gets_typed_claims() {
    let (app, cookie) = app();
    assert_eq!(
        call(&app, "/me", Some(&cookie)).await,
        (StatusCode::OK, "Ada (admin)".into())
    );
}

#[tokio::test]
async fn optional_token_is_none_for_allowed_anonymous_requests() {
    let (app, cookie) = app();
    assert_eq!(
        call(&app, "/maybe", None).await,
        (StatusCode::OK, "anonymous".into())
    );
    assert_eq!(
        call(&app, "/maybe", Some(&cookie)).await,
        (StatusCode::OK, "Ada".into())
    );
}

#[tokio::test]
async fn required_token_on_an_anonymous_route_is_401() {
    let (app, _) = app();
    assert_eq!(
        call(&app, "/me-anyway", None).await,
        (StatusCode::UNAUTHORIZED, "no session".into())
    );
}

#[tokio::test]
async fn missing_layer_rejection_names_auth_layer() {
    let (app, cookie) = app();
    let (status, body) = call(&app, "/unguarded", Some(&cookie)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body.contains("AuthLayer"), "{body}");
}

#[tokio::test]
async fn the_sessions_extractor_without_the_layer_names_auth_layer() {
    async fn writes(_sessions: tower_nextauth::Sessions) -> &'static str {
        "unreachable"
    }
    let app: Router = Router::new().route("/w", get(writes));
    let res = app
        .oneshot(Request::get("/w").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("AuthLayer"));
}

#[tokio::test]
async fn layer_rejections_use_axum_bodies() {
    let (app, _) = app();
    let req = Request::get("/me")
        .header("accept", "application/json")
        .body(Body::empty())
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], br#"{"error":"unauthenticated"}"#);
}

#[tokio::test]
async fn the_readme_sign_out_handler_reaches_sessions_with_no_wiring() {
    use axum::http::header::{COOKIE, SET_COOKIE};
    use axum::http::HeaderMap;
    use axum::response::IntoResponse;
    use axum::routing::post;
    use tower_nextauth::Sessions;

    async fn sign_out(sessions: Sessions, headers: HeaderMap) -> impl IntoResponse {
        let mut res = "signed out".into_response();
        for cookie in sessions.sign_out(&headers) {
            res.headers_mut().append(SET_COOKIE, cookie);
        }
        res
    }

    // Wired as the README shows: the layer alone; the route is on the skip list.
    let auth = layer(Format::V5);
    let app = Router::new()
        .route("/api/auth/signout", post(sign_out))
        .layer(auth);
    let req = Request::post("/api/auth/signout")
        .header(COOKIE, "authjs.session-token=x")
        .body(Body::empty())
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[SET_COOKIE],
        "authjs.session-token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    );
    assert_eq!(
        res.into_body().collect().await.unwrap().to_bytes(),
        "signed out"
    );
}
