//! The quickstart: an axum app guarded by `AuthLayer`, with a credentials-style sign-in form.
//!
//! ```text
//! cargo run --example quickstart            # writes Auth.js v5 cookies
//! cargo run --example quickstart -- --v4    # writes NextAuth v4 cookies
//! ```
//!
//! It reads `NEXTAUTH_SECRET`/`AUTH_SECRET` and `NEXTAUTH_URL`/`AUTH_URL` like next-auth; with no
//! secret it runs on an embedded development secret and says so. `PORT` sets the port (3000).
//! It reads both v4 and v5 session cookies, so it shares sessions with a Next.js app on the same
//! domain and the same secret.

use std::net::SocketAddr;

use axum::extract::Form;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use tower_nextauth::{Builder, Decision, Format, Sessions, Token};

/// For local development only: anyone who reads this file can forge sessions signed with it.
const DEV_SECRET: &str = "tower-nextauth-quickstart-development-secret";

#[tokio::main]
async fn main() {
    let v4 = std::env::args().any(|a| a == "--v4");
    let has_secret = ["NEXTAUTH_SECRET", "AUTH_SECRET", "AUTH_SECRET_1"]
        .iter()
        .any(|k| std::env::var(k).is_ok_and(|v| !v.is_empty()));
    let mut builder = Builder::from_env().formats(if v4 {
        [Format::V4, Format::V5]
    } else {
        [Format::V5, Format::V4]
    });
    if !has_secret {
        eprintln!(
            "WARNING: no NEXTAUTH_SECRET/AUTH_SECRET set; using the embedded development secret. \
             Never use it in production."
        );
        builder = builder.secret(DEV_SECRET);
    }
    // The matcher is the `config.matcher` of a Next.js middleware; paths it does not cover (the
    // home page, the sign-in routes) pass untouched.
    let auth = builder
        .matcher(["/dashboard/:path*", "/admin/:path*", "/api/me"])
        .and_then(Builder::build)
        .unwrap_or_else(|e| panic!("invalid configuration: {e}"));
    let sessions = auth.sessions().clone();
    let auth = auth.authorized(|req, token| {
        let admin_only = req.uri.path() == "/admin" || req.uri.path().starts_with("/admin/");
        match token {
            None => Decision::Unauthenticated,
            // A signed-in non-admin gets a 403, never a loop back to sign-in.
            Some(t) if admin_only && t["role"] != "admin" => Decision::Forbidden,
            Some(_) => Decision::Allow,
        }
    });

    let app = app(sessions).layer(auth);
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    println!(
        "quickstart listening on http://{} (writing {} cookies)",
        listener.local_addr().unwrap(),
        if v4 { "v4" } else { "v5" }
    );
    axum::serve(listener, app).await.unwrap();
}

fn app(sessions: Sessions) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/api/auth/signin", get(sign_in_form).post(sign_in))
        .route("/api/auth/signout", axum::routing::post(sign_out))
        .route_service("/api/auth/session", sessions.endpoint())
        .route("/dashboard", get(dashboard))
        .route("/admin", get(admin))
        .route("/api/me", get(me))
        .layer(Extension(sessions))
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=utf-8><title>{title}</title></head>\
         <body><h1>{title}</h1>{body}</body></html>"
    ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

async fn home() -> Html<String> {
    page(
        "tower-nextauth quickstart",
        r#"<ul>
<li><a href="/dashboard">/dashboard</a> (signed-in users)</li>
<li><a href="/admin">/admin</a> (role admin)</li>
<li><a href="/api/me">/api/me</a> (JSON claims)</li>
<li><a href="/api/auth/session">/api/auth/session</a></li>
<li><a href="/api/auth/signin">Sign in</a></li>
</ul>
<form method="post" action="/api/auth/signout"><button>Sign out</button></form>"#,
    )
}

#[derive(Deserialize)]
struct SignInQuery {
    #[serde(rename = "callbackUrl")]
    callback_url: Option<String>,
}

async fn sign_in_form(query: axum::extract::Query<SignInQuery>) -> Html<String> {
    let callback = escape(query.callback_url.as_deref().unwrap_or("/"));
    page(
        "Sign in",
        &format!(
            r#"<form method="post" action="/api/auth/signin">
<input type="hidden" name="callbackUrl" value="{callback}">
<label>Name <input name="name" required></label><br>
<label>Email <input name="email" type="email" required></label><br>
<label>Role <select name="role"><option>user</option><option>admin</option></select></label><br>
<button type="submit">Sign in</button>
</form>"#
        ),
    )
}

#[derive(Deserialize)]
struct SignIn {
    name: String,
    email: String,
    role: String,
    #[serde(rename = "callbackUrl", default)]
    callback_url: String,
}

/// A same-origin path, or `/`: never `//host`, `/\host` or an absolute URL elsewhere.
fn same_origin(callback: &str) -> &str {
    let ok = callback.starts_with('/')
        && !callback.starts_with("//")
        && !callback.starts_with("/\\")
        && !callback.bytes().any(|b| b.is_ascii_control());
    if ok {
        callback
    } else {
        "/"
    }
}

async fn sign_in(
    Extension(sessions): Extension<Sessions>,
    headers: HeaderMap,
    Form(form): Form<SignIn>,
) -> Response {
    if form.role != "user" && form.role != "admin" {
        return (StatusCode::BAD_REQUEST, "role must be user or admin").into_response();
    }
    let claims = serde_json::json!({
        "name": form.name,
        "email": form.email,
        "sub": form.email,
        "role": form.role,
    });
    let cookies = sessions
        .sign_in(&headers, &claims)
        .expect("the claims are a JSON object");
    let mut res = Redirect::to(same_origin(&form.callback_url)).into_response();
    for cookie in cookies {
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    res
}

async fn sign_out(Extension(sessions): Extension<Sessions>, headers: HeaderMap) -> Response {
    let mut res = Redirect::to("/").into_response();
    for cookie in sessions.sign_out(&headers) {
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    res
}

async fn dashboard(Extension(token): Extension<Token>) -> Html<String> {
    let name = token["name"].as_str().unwrap_or("there");
    page(
        "Dashboard",
        &format!(
            "<p>Hello, {}!</p><p><a href=\"/admin\">Admin area</a> · <a href=\"/\">Home</a></p>\
             <form method=\"post\" action=\"/api/auth/signout\"><button>Sign out</button></form>",
            escape(name)
        ),
    )
}

async fn admin(Extension(token): Extension<Token>) -> Html<String> {
    let name = token["name"].as_str().unwrap_or("admin");
    page(
        "Admin",
        &format!("<p>Welcome to the admin area, {}.</p>", escape(name)),
    )
}

async fn me(Extension(token): Extension<Token>) -> Json<tower_nextauth::Claims> {
    Json(token.into_claims())
}
