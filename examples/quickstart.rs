//! The quickstart: an axum app guarded by `AuthLayer`, with a credentials-style sign-in form and
//! a page that shows the session as the layer sees it.
//!
//! ```text
//! cargo run --example quickstart --features axum,tracing            # writes Auth.js v5 cookies
//! cargo run --example quickstart --features axum,tracing -- --v4    # writes NextAuth v4 cookies
//! RUST_LOG=debug cargo run --example quickstart --features axum,tracing
//! ```
//!
//! It reads `NEXTAUTH_SECRET`/`AUTH_SECRET` and `NEXTAUTH_URL`/`AUTH_URL` like next-auth; with no
//! secret it runs on an embedded development secret and says so. `PORT` sets the port (3000).
//! It reads both v4 and v5 session cookies, so it shares sessions with a Next.js app on the same
//! domain and the same secret. `RUST_LOG` takes a level (`debug`) or `target=level` directives
//! (`tower_nextauth=debug,info`); logs go to stderr.
//!
//! `/session` shows what arrived (cookie names and sizes, never values), which cookie names the
//! layer reads, the decoded claims with the expiry counting down, and, when there is no session,
//! why the cookie was refused and the likely misconfiguration behind it.
//!
//! The sign-in and sign-out forms are protected against login CSRF as next-auth protects its own:
//! every page with a form carries next-auth's double-submit `csrfToken` (and sets the
//! `authjs.csrf-token` / `next-auth.csrf-token` cookie), and the POST handlers answer 403 unless
//! the token matches the cookie and neither `Origin` nor `Sec-Fetch-Site` says another site sent
//! the form.
//!
//! The pages are styled after next-auth's own default pages (`next-auth/css`): a centered card on
//! a light neutral background, the system font, a blue primary button. All CSS and JS is inline.

use std::io::Write;
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::Form;
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use tower_nextauth::csrf::{CsrfError, CsrfToken};
use tower_nextauth::render::{Client, DefaultRender, FromBytes, Render, RenderContext};
use tower_nextauth::{
    Builder, Claims, Decision, Format, Rejection, SessionEndpoint, SessionError, Sessions, Token,
    TokenSource,
};

/// For local development only: anyone who reads this file can forge sessions signed with it.
const DEV_SECRET: &str = "tower-nextauth-quickstart-development-secret";

/// Every route: method, path, what it does. Printed at start-up and listed on the home page.
const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/", "home: links and who is signed in"),
    ("GET", "/api/auth/signin", "sign-in form (CSRF-protected)"),
    (
        "POST",
        "/api/auth/signin",
        "checks CSRF, writes the session cookie",
    ),
    (
        "POST",
        "/api/auth/signout",
        "checks CSRF, clears the session cookies",
    ),
    (
        "GET",
        "/api/auth/session",
        "next-auth's session endpoint (useSession)",
    ),
    (
        "GET",
        "/session",
        "the session as the layer sees it, or why it was refused",
    ),
    ("GET", "/dashboard", "guarded: signed-in users"),
    ("GET", "/admin", "guarded: role admin, 403 for others"),
    ("GET", "/api/me", "guarded: the claims as JSON (401 JSON)"),
];

#[tokio::main]
async fn main() {
    init_tracing();
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
    // home page, the sign-in routes, /session) pass untouched.
    let auth = builder
        .matcher(["/dashboard/:path*", "/admin/:path*", "/api/me"])
        .and_then(Builder::build)
        .unwrap_or_else(|e| panic!("invalid configuration: {e}"));
    let sessions = auth.sessions().clone();
    let auth = auth
        .authorized(|req, token| {
            let admin_only = req.uri.path() == "/admin" || req.uri.path().starts_with("/admin/");
            match token {
                None => Decision::Unauthenticated,
                // A signed-in non-admin gets a 403, never a loop back to sign-in.
                Some(t) if admin_only && t["role"] != "admin" => Decision::Forbidden,
                Some(_) => Decision::Allow,
            }
        })
        // A styled 403 page for browsers; everything else as the default renderer does it.
        .render(Pages {
            sessions: sessions.clone(),
        });

    let app = app(sessions).layer(auth);
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    // One write: tests read the first line and may close the pipe right after it. A closed
    // stdout must not take the server down, so the result is ignored.
    let mut banner = format!(
        "quickstart listening on http://{} (writing {} cookies)\n",
        listener.local_addr().unwrap(),
        if v4 { "v4" } else { "v5" }
    );
    for (method, path, what) in ROUTES {
        banner.push_str(&format!("  {method:<5} {path:<18} {what}\n"));
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(banner.as_bytes());
    let _ = stdout.flush();
    drop(stdout);
    axum::serve(listener, app).await.unwrap();
}

/// A `fmt` subscriber on stderr, filtered by `RUST_LOG` (`info` when unset). `Targets` reads
/// plain levels and `target=level` directives without tracing-subscriber's `env-filter` feature
/// (and its regex dependencies), which keeps the quickstart's first build small.
fn init_tracing() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let default = Targets::new().with_default(LevelFilter::INFO);
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => spec.parse::<Targets>().unwrap_or_else(|e| {
            eprintln!(
                "RUST_LOG={spec:?} is not a level or a list of target=level directives ({e}); \
                 logging at info"
            );
            default
        }),
        _ => default,
    };
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .init();
}

fn app(sessions: Sessions) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/api/auth/signin", get(sign_in_form).post(sign_in))
        .route("/api/auth/signout", axum::routing::post(sign_out))
        .route_service("/api/auth/session", SessionEndpoint::new(sessions.clone()))
        .route("/session", get(session_page))
        .route("/dashboard", get(dashboard))
        .route("/admin", get(admin))
        .route("/api/me", get(me))
}

// ---- Pages ----

/// next-auth's default theme (`next-auth/css`, light), plus a header bar, tables and badges.
const CSS: &str = r#"
:root{--radius:.5rem;--bg:#ececec;--bg-hover:hsla(0,0%,93%,.8);--card:#fff;--text:#000;--primary:#444;
--muted:#666;--control-border:#bbb;--separator:#ddd;--info:#157efb;--info-hover:#0f6ddb;--info-text:#fff;
--error:#c94b4b;--ok:#1a7f37}
html{box-sizing:border-box}*,:after,:before{box-sizing:inherit;margin:0;padding:0}
body{background:var(--bg);color:var(--text);min-height:100vh;font-family:ui-sans-serif,system-ui,
-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif}
a{color:var(--info)}
header{display:flex;align-items:center;justify-content:space-between;flex-wrap:wrap;gap:.75rem;
min-height:3.5rem;padding:.5rem 1.5rem;background:var(--card);border-bottom:1px solid var(--separator)}
header .brand{font-weight:600;color:var(--text);text-decoration:none}
header nav{display:flex;align-items:center;flex-wrap:wrap;gap:1.25rem}
header nav a{color:var(--primary);text-decoration:none}
header nav a:hover{text-decoration:underline}
header nav a[aria-current]{color:var(--text);font-weight:600}
header .user{color:var(--muted);font-size:.9rem}
header form{display:inline}
header button{min-height:0;width:auto;padding:.3rem .9rem;font-size:.9rem}
main{display:grid;place-items:center;padding:2rem 1rem}
.card{background:var(--card);border-radius:2rem;padding:1.25rem 2rem 2rem;width:368px;max-width:100%;
text-align:center}
.card.wide{width:760px;text-align:left}
h1{font-weight:400;font-size:1.75rem;margin:1rem 0 1.25rem;text-align:center}
h2{font-size:1.05rem;font-weight:600;margin:1.75rem 0 .6rem}
p{font-size:1.05rem;line-height:1.75rem;margin-bottom:1rem}
.card.wide p{font-size:1rem;line-height:1.6rem}
.muted{color:var(--muted)}
label{display:block;font-weight:500;margin-bottom:.25rem;text-align:left}
input[type],select{display:block;width:100%;font-size:1rem;padding:.5rem 1rem;margin-bottom:.9rem;
background:var(--card);color:var(--text);border:1px solid var(--control-border);border-radius:var(--radius)}
button,a.button{display:flex;align-items:center;justify-content:center;width:100%;min-height:52px;
padding:.75rem 1rem;font:inherit;font-size:1.05rem;font-weight:500;color:var(--primary);
background:var(--bg);border:1px solid rgba(0,0,0,.1);border-radius:var(--radius);cursor:pointer;
text-decoration:none;transition:all .1s ease-in-out}
button:hover,a.button:hover{background:var(--bg-hover)}
.primary,a.button.primary{background:var(--info);color:var(--info-text)}
.primary:hover,a.button.primary:hover{background:var(--info-hover)}
.stack>*+*{margin-top:.75rem}
.notice{background:#f5f5f5;border-radius:.3rem;padding:.6rem 1rem;margin-bottom:1.25rem;text-align:left;
font-size:.95rem;line-height:1.4rem}
.notice.error{background:var(--error);color:var(--info-text)}
.notice.ok{background:#dafbe1;color:#0f5323}
.notice.warn{background:#fff4d6;color:#5c4400}
table{width:100%;border-collapse:collapse;font-size:.95rem}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--separator);vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:.8rem;text-transform:uppercase;letter-spacing:.03em}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:.9rem}
pre{background:#f6f8fa;border:1px solid var(--separator);border-radius:var(--radius);padding:1rem;
overflow:auto;line-height:1.45}
.badge{display:inline-block;padding:.1rem .6rem;border-radius:999px;font-size:.8rem;font-weight:600;
background:#eee;color:var(--primary)}
.badge.ok{background:#dafbe1;color:var(--ok)}
.badge.bad{background:#ffebe9;color:var(--error)}
.routes td:first-child{width:4rem}
.big{font-size:4rem;font-weight:300;line-height:1;color:var(--error);margin:1.25rem 0 0}
.big+h1{margin-top:.5rem}
td code{white-space:nowrap}
"#;

/// Who the header shows: the signed-in user and the token for the sign-out form, or nobody.
struct Viewer<'a> {
    name: Option<String>,
    csrf: Option<&'a CsrfToken>,
}

impl<'a> Viewer<'a> {
    fn anonymous() -> Self {
        Self {
            name: None,
            csrf: None,
        }
    }

    /// The user of `token`, with a sign-out form carrying `csrf`.
    fn of(token: &Token, csrf: &'a CsrfToken) -> Self {
        let name = token["name"]
            .as_str()
            .or_else(|| token["email"].as_str())
            .unwrap_or("signed in");
        Self {
            name: Some(name.to_owned()),
            csrf: Some(csrf),
        }
    }
}

/// A whole page: the header with the navigation, then `body` (already escaped HTML).
fn layout(title: &str, current: &str, viewer: &Viewer<'_>, body: &str) -> String {
    let links = [
        ("/", "Home"),
        ("/dashboard", "Dashboard"),
        ("/admin", "Admin"),
        ("/session", "Session"),
    ]
    .iter()
    .map(|(href, label)| {
        let here = if *href == current {
            r#" aria-current="page""#
        } else {
            ""
        };
        format!(r#"<a href="{href}"{here}>{label}</a>"#)
    })
    .collect::<String>();
    let who = match (&viewer.name, viewer.csrf) {
        (Some(name), Some(csrf)) => format!(
            r#"<span class="user">Signed in as <strong>{}</strong></span>{}"#,
            escape(name),
            sign_out_form(csrf)
        ),
        _ => r#"<a href="/api/auth/signin">Sign in</a>"#.to_owned(),
    };
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title} · tower-nextauth quickstart</title><style>{CSS}</style></head>
<body><header><a class="brand" href="/">tower-nextauth quickstart</a>
<nav>{links}{who}</nav></header>
<main>{body}</main></body></html>"#,
        title = escape(title),
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// An HTML response that may carry a form: the CSRF cookie is set when the request had no valid
/// one, and the page, which carries a per-browser token, is never stored by a shared cache.
fn html_page(html: String, csrf: Option<&CsrfToken>) -> Response {
    let mut res = Html(html).into_response();
    if let Some(cookie) = csrf.and_then(CsrfToken::set_cookie) {
        res.headers_mut().append(header::SET_COOKIE, cookie.clone());
    }
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache, no-store"),
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

/// The current session, if any, for the header (pages outside the matcher read it themselves).
fn viewer_token(sessions: &Sessions, headers: &HeaderMap) -> Option<Token> {
    sessions.read::<Claims>(headers).ok()
}

async fn home(sessions: Sessions, headers: HeaderMap) -> Response {
    let token = viewer_token(&sessions, &headers);
    let csrf = token.as_ref().map(|_| sessions.csrf().issue(&headers));
    let viewer = match (&token, &csrf) {
        (Some(t), Some(c)) => Viewer::of(t, c),
        _ => Viewer::anonymous(),
    };
    let status = match &token {
        Some(t) => format!(
            r#"<div class="notice ok">Signed in as <strong>{}</strong> ({}), role <code>{}</code>.</div>"#,
            escape(t["name"].as_str().unwrap_or("")),
            escape(t["email"].as_str().unwrap_or("")),
            escape(t["role"].as_str().unwrap_or("none")),
        ),
        None => r#"<div class="notice">You are not signed in. Sign in as a user or as an admin to try the guarded routes.</div>"#.to_owned(),
    };
    let actions = if token.is_some() {
        r#"<a class="button primary" href="/dashboard">Go to the dashboard</a>"#
    } else {
        r#"<a class="button primary" href="/api/auth/signin">Sign in</a>"#
    };
    let routes = ROUTES
        .iter()
        .map(|(method, path, what)| {
            let path_html = if *method == "GET" {
                format!(r#"<a href="{path}"><code>{path}</code></a>"#)
            } else {
                format!("<code>{path}</code>")
            };
            format!(
                r#"<tr><td><span class="badge">{method}</span></td><td>{path_html}</td><td>{}</td></tr>"#,
                escape(what)
            )
        })
        .collect::<String>();
    let body = format!(
        r#"<div class="card wide">
<h1>tower-nextauth quickstart</h1>
<p class="muted">An axum app behind <code>AuthLayer</code>: the Rust counterpart of next-auth's
<code>withAuth</code>. It reads and writes the same session cookies as a Next.js app with the same
secret.</p>
{status}
<div class="stack">{actions}<a class="button" href="/session">Inspect the session</a></div>
<h2>Routes</h2>
<table class="routes"><tbody>{routes}</tbody></table>
</div>"#
    );
    html_page(layout("Home", "/", &viewer, &body), csrf.as_ref())
}

#[derive(Deserialize)]
struct SignInQuery {
    #[serde(rename = "callbackUrl")]
    callback_url: Option<String>,
}

async fn sign_in_form(
    sessions: Sessions,
    headers: HeaderMap,
    query: axum::extract::Query<SignInQuery>,
) -> Response {
    let csrf = sessions.csrf().issue(&headers);
    let token = csrf.token();
    let callback_raw = query.callback_url.as_deref().unwrap_or("/");
    let callback = escape(callback_raw);
    let notice = if callback_raw != "/" {
        format!(r#"<div class="notice">Please sign in to access <code>{callback}</code>.</div>"#)
    } else {
        String::new()
    };
    let body = format!(
        r#"<div class="card">
<h1>Sign in</h1>
{notice}<form method="post" action="/api/auth/signin">
<input type="hidden" name="csrfToken" value="{token}">
<input type="hidden" name="callbackUrl" value="{callback}">
<label for="name">Name</label><input id="name" name="name" type="text" placeholder="Grace Hopper" required>
<label for="email">Email</label><input id="email" name="email" type="email" placeholder="grace@example.com" required>
<label for="role">Role</label><select id="role" name="role"><option>user</option><option>admin</option></select>
<button type="submit" class="primary">Sign in with Credentials</button>
</form>
</div>"#
    );
    // Signing in again over a session is allowed; the header shows it but has no form here,
    // so the sign-in button stays the page's only submit button.
    let viewer = match viewer_token(&sessions, &headers) {
        Some(t) => Viewer {
            name: t["name"].as_str().map(str::to_owned),
            csrf: None,
        },
        None => Viewer::anonymous(),
    };
    html_page(
        layout("Sign in", "/api/auth/signin", &viewer, &body),
        Some(&csrf),
    )
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
    sessions: Sessions,
    uri: Uri,
    headers: HeaderMap,
    form: Result<Form<SignIn>, FormRejection>,
) -> Response {
    // Origin / Sec-Fetch-Site first, then next-auth's double-submit token. A body that is not a
    // form (a cross-site `text/plain` post, say) carries no token, so it is refused the same way.
    let submitted = form.as_ref().map_or("", |f| f.csrf_token.as_str());
    if let Err(reason) = sessions.csrf().verify(&uri, &headers, submitted) {
        tracing::warn!(
            reason = reason.as_str(),
            "sign-in refused by the CSRF check"
        );
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
    tracing::info!(role = %form.role, cookies = cookies.len(), "signed in");
    let mut res = Redirect::to(same_origin(&form.callback_url)).into_response();
    for cookie in cookies {
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    res
}

async fn sign_out(
    sessions: Sessions,
    uri: Uri,
    headers: HeaderMap,
    form: Result<Form<SignOut>, FormRejection>,
) -> Response {
    let submitted = form.as_ref().map_or("", |f| f.csrf_token.as_str());
    if let Err(reason) = sessions.csrf().verify(&uri, &headers, submitted) {
        tracing::warn!(
            reason = reason.as_str(),
            "sign-out refused by the CSRF check"
        );
        return csrf_refused(reason);
    }
    let mut res = Redirect::to("/").into_response();
    let cookies = sessions.sign_out(&headers);
    tracing::info!(cookies = cookies.len(), "signed out");
    for cookie in cookies {
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    res
}

async fn dashboard(
    Extension(token): Extension<Token>,
    sessions: Sessions,
    headers: HeaderMap,
) -> Response {
    let name = token["name"].as_str().unwrap_or("there");
    let role = token["role"].as_str().unwrap_or("none");
    let csrf = sessions.csrf().issue(&headers);
    let admin_note = if role == "admin" {
        r#"<a class="button" href="/admin">Open the admin area</a>"#
    } else {
        r#"<a class="button" href="/admin">Admin area (a 403 for users)</a>"#
    };
    let body = format!(
        r#"<div class="card">
<h1>Dashboard</h1>
<p>Hello, {}!</p>
<p class="muted">{} · role <span class="badge">{}</span></p>
<div class="stack"><a class="button primary" href="/session">Inspect your session</a>{admin_note}
<a class="button" href="/api/me">Your claims as JSON</a></div>
</div>"#,
        escape(name),
        escape(token["email"].as_str().unwrap_or("")),
        escape(role),
    );
    html_page(
        layout("Dashboard", "/dashboard", &Viewer::of(&token, &csrf), &body),
        Some(&csrf),
    )
}

async fn admin(
    Extension(token): Extension<Token>,
    sessions: Sessions,
    headers: HeaderMap,
) -> Response {
    let name = token["name"].as_str().unwrap_or("admin");
    let csrf = sessions.csrf().issue(&headers);
    let body = format!(
        r#"<div class="card">
<h1>Admin</h1>
<p>Welcome to the admin area, {}.</p>
<p class="muted">Only tokens with <code>"role": "admin"</code> get here: the layer's
<code>authorized</code> callback answers 403 for everyone else.</p>
</div>"#,
        escape(name)
    );
    html_page(
        layout("Admin", "/admin", &Viewer::of(&token, &csrf), &body),
        Some(&csrf),
    )
}

async fn me(Extension(token): Extension<Token>) -> Json<Claims> {
    Json(token.into_claims())
}

// ---- /session: the session as the layer sees it ----

/// What a session error means, for a person debugging it.
fn describe(error: SessionError) -> &'static str {
    match error {
        SessionError::Missing => {
            "No session cookie arrived under any name this layer reads, and no \
             Authorization: Bearer header."
        }
        SessionError::Malformed => {
            "A session cookie arrived, but it is not a token of any accepted format (bad \
             segments, base64, header, sizes, or an incomplete chunk set)."
        }
        SessionError::Undecryptable => {
            "A session cookie arrived, but it did not decrypt: it was written with another \
             secret, or its bytes were changed."
        }
        SessionError::Expired => "The session token's exp has passed.",
        SessionError::Refused => "The token is valid, but the authorized callback refused it.",
        _ => "The session was refused.",
    }
}

/// The format the layer reads under a cookie name, in words.
fn format_of(name: &str) -> &'static str {
    let plain = name.strip_prefix("__Secure-").unwrap_or(name);
    if plain == Format::V5.cookie_name() {
        "Auth.js v5: JWE dir + A256CBC-HS512, key salted with the cookie name"
    } else if plain == Format::V4.cookie_name() {
        "next-auth v4: JWE dir + A256GCM"
    } else {
        "a custom cookie name"
    }
}

/// `name` is `session` or one of its chunks `session.0`, `session.1`, …
fn is_session_cookie(name: &str, session: &str) -> bool {
    name == session
        || name.strip_prefix(session).is_some_and(|rest| {
            rest.strip_prefix('.')
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `3723` → `1h 2m 3s`.
fn duration(mut secs: i64) -> String {
    secs = secs.max(0);
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    let mut out = String::new();
    if d > 0 {
        out.push_str(&format!("{d}d "));
    }
    if d > 0 || h > 0 {
        out.push_str(&format!("{h}h "));
    }
    if d > 0 || h > 0 || m > 0 {
        out.push_str(&format!("{m}m "));
    }
    out.push_str(&format!("{s}s"));
    out
}

/// Counts `#expiry` down from its `data-exp` (seconds since the epoch) every second.
const COUNTDOWN_JS: &str = r#"(function(){
var el=document.getElementById("expiry");if(!el)return;var exp=Number(el.dataset.exp);
function fmt(s){var d=Math.floor(s/86400),h=Math.floor(s%86400/3600),m=Math.floor(s%3600/60),x=s%60;
return(d?d+"d ":"")+(d||h?h+"h ":"")+(d||h||m?m+"m ":"")+x+"s";}
function tick(){var s=Math.round(exp-Date.now()/1000);el.textContent=s>0?"in "+fmt(s):"expired "+fmt(-s)+" ago";}
tick();setInterval(tick,1000);
var at=document.getElementById("expires-at");if(at)at.textContent=new Date(exp*1000).toLocaleString();
})();"#;

async fn session_page(sessions: Sessions, headers: HeaderMap) -> Response {
    let read = sessions.read::<Claims>(&headers);
    let session_names: Vec<&str> = sessions.cookie_names().collect();
    let csrf_name = sessions.csrf().cookie_name();

    // What arrived: names and sizes only, never values.
    let mut arrived = String::new();
    for value in headers.get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else {
            arrived.push_str(
                r#"<tr><td colspan="3" class="muted">a Cookie header that is not visible ASCII</td></tr>"#,
            );
            continue;
        };
        for pair in value.split(';') {
            let pair = pair.trim();
            if pair.is_empty() {
                continue;
            }
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let role = if session_names.iter().any(|s| is_session_cookie(name, s)) {
                r#"<span class="badge ok">session</span>"#
            } else if name == csrf_name {
                r#"<span class="badge">CSRF token</span>"#
            } else if name.ends_with("callback-url") {
                r#"<span class="badge">callback URL</span>"#
            } else {
                r#"<span class="muted">not read</span>"#
            };
            arrived.push_str(&format!(
                "<tr><td><code>{}</code></td><td>{} bytes</td><td>{role}</td></tr>",
                escape(name),
                value.len()
            ));
        }
    }
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        arrived.push_str(&format!(
            r#"<tr><td><code>Authorization</code> header</td><td>{} bytes</td><td><span class="badge">bearer</span></td></tr>"#,
            auth.len()
        ));
    }
    let arrived = if arrived.is_empty() {
        r#"<p class="muted">No cookies arrived with this request.</p>"#.to_owned()
    } else {
        format!(
            "<table><thead><tr><th>Name</th><th>Size</th><th>Read as</th></tr></thead><tbody>{arrived}</tbody></table>"
        )
    };

    let accepted = session_names
        .iter()
        .map(|name| {
            format!(
                "<tr><td><code>{}</code></td><td>{}</td></tr>",
                escape(name),
                escape(format_of(name))
            )
        })
        .collect::<String>();
    let accepted = format!(
        r#"<table><thead><tr><th>Cookie name, in order</th><th>Format</th></tr></thead><tbody>{accepted}</tbody></table>
<p class="muted" style="margin-top:.6rem">Chunked cookies (<code>name.0</code>, <code>name.1</code>, …) are
reassembled. With no session cookie, an <code>Authorization: Bearer</code> token is read instead.</p>"#
    );

    let (status, details, csrf, viewer_name) = match &read {
        Ok(token) => {
            let claims = serde_json::to_string_pretty(token.claims()).unwrap_or_default();
            let format = match token.format() {
                Some(Format::V4) => "next-auth v4",
                Some(Format::V5) => "Auth.js v5",
                _ => "a custom decoder",
            };
            let expiry = match token.exp() {
                Some(exp) => format!(
                    r#"<p>Expires <strong id="expiry" data-exp="{exp}">in {}</strong>
<span class="muted">(<span id="expires-at">exp {exp}</span>)</span>.</p>"#,
                    duration(exp - now())
                ),
                None => {
                    r#"<p class="muted">The token has no <code>exp</code> claim.</p>"#.to_owned()
                }
            };
            let source = match token.source() {
                TokenSource::Bearer => "the Authorization: Bearer header",
                _ => "a session cookie",
            };
            let status = format!(
                r#"<div class="notice ok"><strong>Signed in.</strong> Read from {source} ({format} format), decrypted and validated.</div>"#
            );
            let details = format!(
                r#"<h2>Expiry</h2>{expiry}
<h2>Decoded claims</h2><pre id="claims">{}</pre>"#,
                escape(&claims)
            );
            let name = token["name"]
                .as_str()
                .or_else(|| token["email"].as_str())
                .unwrap_or("signed in")
                .to_owned();
            (
                status,
                details,
                Some(sessions.csrf().issue(&headers)),
                Some(name),
            )
        }
        Err(error) => {
            let likely = match sessions.explain(&headers) {
                Some(why) => format!(
                    r#"<div class="notice warn"><strong>Likely cause:</strong> {}</div>"#,
                    escape(&why)
                ),
                None => String::new(),
            };
            let status = format!(
                r#"<div class="notice error"><strong>No session.</strong> Reason: <code id="reason">{}</code></div>"#,
                escape(error.as_str())
            );
            let details = format!(
                r#"<h2>Why the layer refused it</h2>
<p>{}</p>{likely}
<a class="button primary" href="/api/auth/signin?callbackUrl=%2Fsession">Sign in</a>"#,
                escape(describe(*error))
            );
            (status, details, None, None)
        }
    };
    let viewer = match (viewer_name, &csrf) {
        (Some(name), Some(csrf)) => Viewer {
            name: Some(name),
            csrf: Some(csrf),
        },
        _ => Viewer::anonymous(),
    };
    let body = format!(
        r#"<div class="card wide">
<h1>Session</h1>
{status}
<h2>Cookies that arrived</h2>
<p class="muted">Names and sizes only: values never leave the server.</p>
{arrived}
<h2>What this layer reads</h2>
{accepted}
{details}
<p class="muted" style="margin-top:1.5rem">The JSON next-auth's client sees:
<a href="/api/auth/session"><code>/api/auth/session</code></a></p>
</div>
<script>{COUNTDOWN_JS}</script>"#
    );
    html_page(layout("Session", "/session", &viewer, &body), csrf.as_ref())
}

// ---- The 403 page ----

/// Renders the layer's denials: a styled 403 page for a browser that is signed in without the
/// right; everything else (sign-in redirects, JSON for API clients) as [`DefaultRender`] does.
#[derive(Clone)]
struct Pages {
    sessions: Sessions,
}

impl<B: FromBytes> Render<B> for Pages {
    fn render(
        &self,
        request: &Parts,
        rejection: &Rejection,
        cx: &RenderContext<'_>,
    ) -> Response<B> {
        let browser = cx.client(request) == Client::Browser;
        if !(browser && !cx.strict() && matches!(rejection, Rejection::Forbidden)) {
            return DefaultRender.render(request, rejection, cx);
        }
        let token = viewer_token(&self.sessions, &request.headers);
        let csrf = token
            .as_ref()
            .map(|_| self.sessions.csrf().issue(&request.headers));
        let viewer = match (&token, &csrf) {
            (Some(t), Some(c)) => Viewer::of(t, c),
            _ => Viewer::anonymous(),
        };
        let role = token
            .as_ref()
            .and_then(|t| t["role"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "none".to_owned());
        let body = format!(
            r#"<div class="card">
<p class="big">403</p>
<h1>Access denied</h1>
<p>You are signed in, but <code>{}</code> needs the role <span class="badge">admin</span>;
yours is <span class="badge bad">{}</span>.</p>
<div class="stack"><a class="button primary" href="/dashboard">Back to the dashboard</a>
<a class="button" href="/api/auth/signin?callbackUrl={}">Sign in as someone else</a></div>
</div>"#,
            escape(request.uri.path()),
            escape(&role),
            escape(
                &form_urlencoded::byte_serialize(request.uri.path().as_bytes()).collect::<String>()
            ),
        );
        let html = layout("Access denied", "", &viewer, &body);
        let mut res =
            html_page(html.clone(), csrf.as_ref()).map(|_| B::from_bytes(Bytes::from(html)));
        *res.status_mut() = StatusCode::FORBIDDEN;
        res
    }

    fn respond(&self, response: Response<Bytes>) -> Response<B> {
        <DefaultRender as Render<B>>::respond(&DefaultRender, response)
    }
}
