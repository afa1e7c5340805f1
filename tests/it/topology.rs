//! Where the Rust service lives: nested routers, another origin, and the sign-in redirect that
//! must bring the user back to the page they asked for.

use http::header::LOCATION;
use http::StatusCode;
use tower_nextauth::{Builder, ConfigError};

use crate::support::{get, SECRET};

#[tokio::test]
async fn service_url_sends_the_user_back_to_the_rust_origin() {
    let auth = Builder::new()
        .secret(SECRET)
        .url("http://localhost:3000")
        .unwrap()
        .service_url("http://localhost:4000/ignored/path")
        .unwrap()
        .build()
        .unwrap();
    let res = get(&auth, "/rs/me?tab=1", &[("accept", "text/html")]).await;
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        res.headers()[LOCATION],
        "http://localhost:3000/api/auth/signin?callbackUrl=http%3A%2F%2Flocalhost%3A4000%2Frs%2Fme%3Ftab%3D1"
    );
}

#[test]
fn service_url_needs_the_app_url() {
    let error = Builder::new()
        .secret(SECRET)
        .service_url("http://localhost:4000")
        .unwrap()
        .build()
        .unwrap_err();
    assert_eq!(error, ConfigError::ServiceUrlWithoutAppUrl);
    assert_eq!(
        Builder::new().service_url("ftp://x").unwrap_err(),
        ConfigError::InvalidUrl {
            from: "Builder::service_url",
            value: "ftp://x".into()
        }
    );
}

#[cfg(feature = "axum")]
#[tokio::test]
async fn inside_a_nested_router_the_callback_url_is_the_original_path() {
    use axum::body::Body;
    use axum::routing::get as route;
    use axum::Router;
    use http::Request;
    use tower::ServiceExt;

    let inner = Router::new()
        .route("/users", route(|| async { "users" }))
        .layer(crate::support::layer(tower_nextauth::Format::V5));
    let app = Router::new().nest("/admin", inner);
    let res = app
        .oneshot(
            Request::get("/admin/users?page=2")
                .header("accept", "text/html")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        res.headers()[LOCATION],
        "/api/auth/signin?callbackUrl=%2Fadmin%2Fusers%3Fpage%3D2"
    );
}
