//! A Next.js session guards two axum routes (the README's example).

use axum::{routing::get, Router};
use tower_nextauth::{Builder, Token};

async fn dashboard(token: Token) -> String {
    format!("Hello, {}", token["name"])
}

async fn admin(token: Token) -> String {
    format!("Welcome to the admin area, {}", token["name"])
}

#[tokio::main]
async fn main() {
    // NEXTAUTH_SECRET / AUTH_SECRET and NEXTAUTH_URL / AUTH_URL, read as next-auth reads them.
    let auth = Builder::from_env()
        .build()
        .expect("session secret")
        .authorized(|req, token| match req.uri.path() {
            p if p.starts_with("/admin") => token.is_some_and(|t| t["role"] == "admin"),
            _ => token.is_some(), // anonymous visitors are sent to sign-in
        });
    let app = Router::new()
        .route("/dashboard", get(dashboard))
        .route("/admin", get(admin))
        .layer(auth);
    let port = std::env::var("PORT").unwrap_or_else(|_| "4000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    println!("listening on http://{}", listener.local_addr().unwrap());
    axum::serve(listener, app).await.unwrap();
}
