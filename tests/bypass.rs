//! Middleware-bypass classes (SECURITY.md): no request header and no spelling of a protected
//! path reaches a protected axum handler without a session. Each variant is sent to the same
//! router with and without the layer: whatever the router would serve, the layer must guard.
#![cfg(feature = "axum")]

mod common;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use common::{NOW, SECRET};
use http::{Request, StatusCode};
use serde_json::json;
use tower::ServiceExt;
use tower_nextauth::{AuthLayer, Format};

/// Handlers that do *not* check the token themselves: the layer is their only guard.
fn router() -> Router {
    Router::new()
        .route("/", get(|| async { "home" }))
        .route("/dashboard", get(|| async { "dashboard" }))
        .route("/dashboard/{*rest}", get(|| async { "dashboard page" }))
        .route("/admin", get(|| async { "admin" }))
        .route("/api/me", get(|| async { "me" }))
        .route("/api/auth/session", get(|| async { "{}" }))
}

fn guarded() -> (Router, String) {
    let auth = AuthLayer::builder()
        .secret(SECRET)
        .format(Format::V5)
        .clock(|| NOW)
        .matcher(["/dashboard/:path*", "/admin/:path*", "/api/me"])
        .unwrap()
        .build()
        .unwrap();
    let cookie = format!(
        "authjs.session-token={}",
        auth.sessions().encode(&json!({"name": "Ada"})).unwrap()
    );
    (router().layer(auth), cookie)
}

async fn status(app: &Router, target: &str, headers: &[(&str, &str)]) -> StatusCode {
    let mut req = Request::get(target);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    app.clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
        .status()
}

/// Spellings of protected paths: case, trailing and doubled slashes, dot segments, percent
/// encoding, matrix parameters, and skip-list prefixes (`/api/auth`, `/_next`, `/favicon.ico`)
/// followed by a climb out of them.
const TARGETS: &[&str] = &[
    "/dashboard",
    "/dashboard/",
    "/dashboard/settings",
    "/dashboard/a/b/c",
    "/dashboard?x=1",
    "/dashboard/?x=1",
    "/dashboard//x",
    "/dashboard/x//y",
    "/dashboard///",
    "/admin//users",
    "/Dashboard",
    "/DASHBOARD",
    "/dashboard%2Fsettings",
    "/%64ashboard",
    "/dashboard%20",
    "/dashboard;jsessionid=1",
    "//dashboard",
    "/./dashboard",
    "/x/../dashboard",
    "/admin",
    "/admin/",
    "/admin/users",
    "/api/me",
    "/api/me/",
    "/api/me?callbackUrl=/",
    "/api//me",
    "/api/auth/../../dashboard",
    "/api/auth/%2e%2e/%2e%2e/dashboard",
    "/api/auth/..%2F..%2Fdashboard",
    "/_next/../dashboard",
    "/_next/data/build/dashboard.json",
    "/favicon.ico/../admin",
    "/api/authors/../../admin",
];

/// Headers that have skipped or redirected other middleware: Next.js's internal sub-request
/// marker (CVE-2025-29927), rewrite and original-URL headers, forwarded prefixes, and Next's
/// own routing hints. The layer reads none of them.
const HEADERS: &[(&str, &str)] = &[
    (
        "x-middleware-subrequest",
        "middleware:middleware:middleware:middleware:middleware",
    ),
    ("x-middleware-subrequest", "src/middleware"),
    ("x-original-url", "/"),
    ("x-rewrite-url", "/"),
    ("x-forwarded-uri", "/"),
    ("x-forwarded-prefix", "/api/auth"),
    ("x-forwarded-path", "/api/auth/session"),
    ("x-invoke-path", "/"),
    ("x-matched-path", "/"),
    ("x-nextjs-data", "1"),
    ("next-router-prefetch", "1"),
    ("purpose", "prefetch"),
    ("rsc", "1"),
];

#[tokio::test]
async fn no_path_spelling_reaches_a_protected_handler_without_a_session() {
    let bare = router();
    let (app, _) = guarded();
    let mut served = Vec::new();
    for target in TARGETS {
        let unguarded = status(&bare, target, &[]).await;
        let with_layer = status(&app, target, &[("accept", "text/html")]).await;
        if unguarded == StatusCode::OK {
            served.push(*target);
            assert_eq!(
                with_layer,
                rejection(target),
                "{target}: the router serves it, so the layer must turn it away"
            );
        } else {
            // Not served anyway: the router's own answer, or the layer's if the matcher covers it.
            assert!(
                with_layer == unguarded || with_layer == rejection(target),
                "{target}: {with_layer} (router alone: {unguarded})"
            );
        }
    }
    // Which spellings reach a handler at all is the router's business; pin them so that a
    // change in routing shows up here.
    assert_eq!(
        served,
        [
            "/dashboard",
            "/dashboard/settings",
            "/dashboard/a/b/c",
            "/dashboard?x=1",
            "/dashboard//x",
            "/dashboard/x//y",
            "/dashboard///",
            "/admin",
            "/api/me",
            "/api/me?callbackUrl=/",
        ]
    );
}

/// The default rejection without a session: 401 for `/api/*`, a redirect to sign-in otherwise.
fn rejection(target: &str) -> StatusCode {
    if target.starts_with("/api/") {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::TEMPORARY_REDIRECT
    }
}

#[tokio::test]
async fn no_header_skips_the_layer() {
    let (app, cookie) = guarded();
    for target in ["/dashboard", "/admin", "/api/me", "/dashboard/x"] {
        for header in HEADERS {
            assert_eq!(
                status(&app, target, &[*header, ("accept", "text/html")]).await,
                rejection(target),
                "{target} with {}: {}",
                header.0,
                header.1
            );
        }
        // All of them at once, on an API request.
        let mut all = HEADERS.to_vec();
        all.push(("accept", "application/json"));
        assert_eq!(
            status(&app, target, &all).await,
            StatusCode::UNAUTHORIZED,
            "{target} with every header"
        );
        // And they don't get in the way of a real session.
        assert_eq!(
            status(
                &app,
                target,
                &[*HEADERS.first().unwrap(), ("cookie", &cookie)]
            )
            .await,
            StatusCode::OK,
            "{target} with a session"
        );
    }
}
