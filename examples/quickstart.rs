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
//!
//! The sign-in and sign-out forms are protected against login CSRF as next-auth protects its own:
//! every page with a form carries next-auth's double-submit `csrfToken` (and sets the
//! `authjs.csrf-token` / `next-auth.csrf-token` cookie), and the POST handlers answer 403 unless
//! the token matches the cookie and neither `Origin` nor `Sec-Fetch-Site` says another site sent
//! the form.

use std::net::SocketAddr;

use axum::extract::rejection::FormRejection;
use axum::extract::Form;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use tower_nextauth::csrf::{CsrfError, CsrfToken};
use tower_nextauth::{Builder, Decision, Format, SessionEndpoint, Sessions, Token};

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
        .route_service("/api/auth/session", SessionEndpoint::new(sessions.clone()))
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

/// A page with a form: the CSRF cookie is set when the request had no valid one, and the page,
/// which carries a per-browser token, is never stored by a shared cache.
fn form_page(html: Html<String>, csrf: &CsrfToken) -> Response {
    let mut res = html.into_response();
    if let Some(cookie) = csrf.set_cookie() {
        res.headers_mut().append(header::SET_COOKIE, cookie.clone());
    }
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-cache, no-store"),
    );
    res
}

/// The sign-out form, with the CSRF token (64 hex characters: nothing to escape).
fn sign_out_form(csrf: &CsrfToken) -> String {
    format!(
        r#"<form method="post" action="/api/auth/signout"><input type="hidden" name="csrfToken" value="{}"><button>Sign out</button></form>"#,
        csrf.token()
    )
}

/// The 403 for a POST that fails the CSRF checks; the reason is not secret.
fn csrf_refused(reason: CsrfError) -> Response {
    (
        StatusCode::FORBIDDEN,
        format!("CSRF check failed: {reason}"),
    )
        .into_response()
}

async fn home(Extension(sessions): Extension<Sessions>, headers: HeaderMap) -> Response {
    let csrf = sessions.csrf().issue(&headers);
    let body = format!(
        r#"<ul>
<li><a href="/dashboard">/dashboard</a> (signed-in users)</li>
<li><a href="/admin">/admin</a> (role admin)</li>
<li><a href="/api/me">/api/me</a> (JSON claims)</li>
<li><a href="/api/auth/session">/api/auth/session</a></li>
<li><a href="/api/auth/signin">Sign in</a></li>
</ul>
{}"#,
        sign_out_form(&csrf)
    );
    form_page(page("tower-nextauth quickstart", &body), &csrf)
}

#[derive(Deserialize)]
struct SignInQuery {
    #[serde(rename = "callbackUrl")]
    callback_url: Option<String>,
}

async fn sign_in_form(
    Extension(sessions): Extension<Sessions>,
    headers: HeaderMap,
    query: axum::extract::Query<SignInQuery>,
) -> Response {
    let csrf = sessions.csrf().issue(&headers);
    let token = csrf.token();
    let callback = escape(query.callback_url.as_deref().unwrap_or("/"));
    let html = page(
        "Sign in",
        &format!(
            r#"<form method="post" action="/api/auth/signin">
<input type="hidden" name="csrfToken" value="{token}">
<input type="hidden" name="callbackUrl" value="{callback}">
<label>Name <input name="name" required></label><br>
<label>Email <input name="email" type="email" required></label><br>
<label>Role <select name="role"><option>user</option><option>admin</option></select></label><br>
<button type="submit">Sign in</button>
</form>"#
        ),
    );
    form_page(html, &csrf)
}

#[derive(Deserialize)]
struct SignIn {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(rename = "callbackUrl", default)]
    callback_url: String,
    #[serde(rename = "csrfToken", default)]
    csrf_token: String,
}

#[derive(Deserialize)]
struct SignOut {
    #[serde(rename = "csrfToken", default)]
    csrf_token: String,
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
    uri: Uri,
    headers: HeaderMap,
    form: Result<Form<SignIn>, FormRejection>,
) -> Response {
    // Origin / Sec-Fetch-Site first, then next-auth's double-submit token. A body that is not a
    // form (a cross-site `text/plain` post, say) carries no token, so it is refused the same way.
    let submitted = form.as_ref().map_or("", |f| f.csrf_token.as_str());
    if let Err(reason) = sessions.csrf().verify(&uri, &headers, submitted) {
        return csrf_refused(reason);
    }
    let Ok(Form(form)) = form else {
        return (StatusCode::BAD_REQUEST, "expected a sign-in form").into_response();
    };
    if form.name.is_empty() || form.email.is_empty() {
        return (StatusCode::BAD_REQUEST, "name and email are required").into_response();
    }
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

async fn sign_out(
    Extension(sessions): Extension<Sessions>,
    uri: Uri,
    headers: HeaderMap,
    form: Result<Form<SignOut>, FormRejection>,
) -> Response {
    let submitted = form.as_ref().map_or("", |f| f.csrf_token.as_str());
    if let Err(reason) = sessions.csrf().verify(&uri, &headers, submitted) {
        return csrf_refused(reason);
    }
    let mut res = Redirect::to("/").into_response();
    for cookie in sessions.sign_out(&headers) {
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    res
}

async fn dashboard(
    Extension(token): Extension<Token>,
    Extension(sessions): Extension<Sessions>,
    headers: HeaderMap,
) -> Response {
    let name = token["name"].as_str().unwrap_or("there");
    let csrf = sessions.csrf().issue(&headers);
    let html = page(
        "Dashboard",
        &format!(
            "<p>Hello, {}!</p><p><a href=\"/admin\">Admin area</a> · <a href=\"/\">Home</a></p>{}",
            escape(name),
            sign_out_form(&csrf)
        ),
    );
    form_page(html, &csrf)
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
