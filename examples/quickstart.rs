//! The quickstart: an axum app guarded by `AuthLayer`, with a credentials-style sign-in form and
//! a page that shows the session as the layer sees it.
//!
//! ```text
//! cargo run --example quickstart --features axum,tracing            # writes Auth.js v5 cookies
//! cargo run --example quickstart --features axum,tracing -- --v4    # writes NextAuth v4 cookies
//! RUST_LOG=debug cargo run --example quickstart --features axum,tracing
//! DATABASE_URL=postgres://… cargo run --example quickstart --features axum,tracing,postgres
//! ```
//!
//! It reads `NEXTAUTH_SECRET`/`AUTH_SECRET` and `NEXTAUTH_URL`/`AUTH_URL` like next-auth; with no
//! secret it runs on an embedded development secret and says so. `PORT` sets the port (3000).
//! It reads both v4 and v5 session cookies, so it shares sessions with a Next.js app on the same
//! domain and the same secret. `RUST_LOG` takes a level (`debug`) or `target=level` directives
//! (`tower_nextauth=debug,info`); logs go to stderr.
//!
//! **Sessions.** Without `DATABASE_URL` the session is a JWT in the cookie (next-auth's `jwt`
//! strategy): sign-in encrypts the claims into it. With `DATABASE_URL` (and the `postgres`
//! feature) they are database sessions (the `database` strategy), in the tables of
//! `@auth/pg-adapter`, which it creates when `sessions` is missing: sign-in finds the user by
//! email (the adapter's `getUserByEmail`) or inserts one (`createUser`), inserts a session row
//! (`createSession`, a random UUID token) and sets the cookie to its token; the layer
//! (`AuthLayer::database`) looks it up on every guarded request, `/api/auth/session` answers as
//! next-auth's session route does for a database session, and sign-out deletes the row. The
//! adapter's schema has no role, so `/admin` admits the emails in `ADMIN_EMAILS`
//! (comma-separated; `admin@example.com` by default). `DATABASE_URL` set on a build without the
//! `postgres` feature is an error, not a silent fallback to JWTs.
//!
//! `/session` shows what arrived (cookie names and sizes, never values), which cookie names the
//! layer reads, the decoded claims with the expiry counting down (or, for a database session,
//! the token's length, the user row and the expiry), and, when there is no session, why the
//! cookie was refused and the likely misconfiguration behind it.
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
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::Form;
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use tower_nextauth::csrf::{CsrfError, CsrfToken};
use tower_nextauth::render::{Client, DefaultRender, FromBytes, Render, RenderContext};
use tower_nextauth::{
    Builder, Claims, Decision, Format, Rejection, SessionEndpoint, SessionError, Sessions, Token,
    TokenSource,
};

/// For local development only: anyone who reads this file can forge sessions signed with it.
const DEV_SECRET: &str = "tower-nextauth-quickstart-development-secret";

/// How to run it with database sessions; printed at start-up in JWT mode.
const DATABASE_COMMAND: &str =
    "DATABASE_URL=postgres://… cargo run --example quickstart --features axum,tracing,postgres";

/// Who may open /admin under database sessions when `ADMIN_EMAILS` is unset.
const DEFAULT_ADMINS: &str = "admin@example.com";

/// Every route: method, path, what it does. Printed at start-up and listed on the home page.
fn routes(mode: &Mode) -> [(&'static str, &'static str, &'static str); 9] {
    let database = mode.db.is_some();
    [
        ("GET", "/", "home: links and who is signed in"),
        ("GET", "/api/auth/signin", "sign-in form (CSRF-protected)"),
        (
            "POST",
            "/api/auth/signin",
            if database {
                "checks CSRF, inserts the user and session rows, sets the cookie"
            } else {
                "checks CSRF, writes the session cookie"
            },
        ),
        (
            "POST",
            "/api/auth/signout",
            if database {
                "checks CSRF, deletes the session row, clears the cookies"
            } else {
                "checks CSRF, clears the session cookies"
            },
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
        (
            "GET",
            "/admin",
            if database {
                "guarded: emails in ADMIN_EMAILS, 403 for others"
            } else {
                "guarded: role admin, 403 for others"
            },
        ),
        ("GET", "/api/me", "guarded: the claims as JSON (401 JSON)"),
    ]
}

/// How sessions are kept, shared by the handlers (an `Extension`), the `authorized` callback
/// and the 403 page.
#[derive(Clone)]
struct Mode {
    /// Database sessions (`DATABASE_URL`), or `None` for JWT sessions.
    db: Option<db::Store>,
    /// `ADMIN_EMAILS`, lowercased: who may open /admin under database sessions.
    admins: Arc<[String]>,
    /// `--v4`: the first format, which decides what `/api/auth/session` answers for no session.
    v4: bool,
}

impl Mode {
    /// Whether `claims` may open /admin: `"role": "admin"` in a JWT; under database sessions,
    /// whose schema has no role, an email listed in `ADMIN_EMAILS`.
    fn is_admin(&self, claims: &Claims) -> bool {
        if self.db.is_some() {
            user_field(claims, "email").is_some_and(|email| {
                self.admins
                    .iter()
                    .any(|admin| admin.eq_ignore_ascii_case(email))
            })
        } else {
            claims["role"] == "admin"
        }
    }

    /// The role the pages show: the JWT's `role`; `admin` or `user` by `ADMIN_EMAILS` under
    /// database sessions.
    fn role<'c>(&self, claims: &'c Claims) -> &'c str {
        if self.db.is_none() {
            claims["role"].as_str().unwrap_or("none")
        } else if self.is_admin(claims) {
            "admin"
        } else {
            "user"
        }
    }

    /// `ADMIN_EMAILS` as the pages list it.
    fn admin_list(&self) -> String {
        self.admins.join(", ")
    }
}

/// A field of the signed-in user in either shape of claims: `user.<field>` in a database
/// session's (`{"user":{"id","name","email","image"},"expires"}`), `<field>` at the top of a
/// JWT's (`{"name","email","sub","role",…}`).
fn user_field<'c>(claims: &'c Claims, field: &str) -> Option<&'c str> {
    match claims.get("user") {
        Some(user) if user.is_object() => user[field].as_str(),
        _ => claims.get(field).and_then(|v| v.as_str()),
    }
}

#[tokio::main]
async fn main() {
    init_tracing();
    let v4 = std::env::args().any(|a| a == "--v4");
    // Exits with a message when DATABASE_URL is set but unusable (or not built in).
    let db = db::from_env().await;
    let admins: Arc<[String]> = std::env::var("ADMIN_EMAILS")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_ADMINS.to_owned())
        .split(',')
        .map(|email| email.trim().to_ascii_lowercase())
        .filter(|email| !email.is_empty())
        .collect();
    let mode = Mode { db, admins, v4 };

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
    let admin_check = mode.clone();
    let auth = auth
        .authorized(move |req, token| {
            let admin_only = req.uri.path() == "/admin" || req.uri.path().starts_with("/admin/");
            match token {
                None => Decision::Unauthenticated,
                // A signed-in non-admin gets a 403, never a loop back to sign-in.
                Some(t) if admin_only && !admin_check.is_admin(t) => Decision::Forbidden,
                Some(_) => Decision::Allow,
            }
        })
        // A styled 403 page for browsers; everything else as the default renderer does it.
        .render(Pages {
            sessions: sessions.clone(),
            mode: mode.clone(),
        });

    let router = app(sessions, &mode);
    // With database sessions the layer looks the cookie's token up (`AuthLayer::database`);
    // the claims are then `{"user":{…},"expires":…}`.
    #[cfg(feature = "postgres")]
    let app = match &mode.db {
        Some(store) => router.layer(auth.database(store.database())),
        None => router.layer(auth),
    };
    #[cfg(not(feature = "postgres"))]
    let app = router.layer(auth);

    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    // One write: tests read the first line and may close the pipe right after it. A closed
    // stdout must not take the server down, so the result is ignored.
    let sessions_kind = match &mode.db {
        // host:port/database: never the user or the password.
        Some(store) => format!("database sessions: {}", store.target()),
        None => "JWT sessions".to_owned(),
    };
    let mut banner = format!(
        "quickstart listening on http://{} (writing {} cookies, {sessions_kind})\n",
        listener.local_addr().unwrap(),
        if v4 { "v4" } else { "v5" }
    );
    for (method, path, what) in routes(&mode) {
        banner.push_str(&format!("  {method:<5} {path:<18} {what}\n"));
    }
    if mode.db.is_some() {
        banner.push_str(&format!("  admins (ADMIN_EMAILS): {}\n", mode.admin_list()));
    } else {
        banner.push_str(&format!("  database sessions: {DATABASE_COMMAND}\n"));
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

fn app(sessions: Sessions, mode: &Mode) -> Router {
    let router = Router::new()
        .route("/", get(home))
        .route("/api/auth/signin", get(sign_in_form).post(sign_in))
        .route("/api/auth/signout", axum::routing::post(sign_out));
    // The library's endpoint answers for JWT sessions; database sessions are answered here.
    let router = if mode.db.is_some() {
        router.route("/api/auth/session", get(database_session_endpoint))
    } else {
        router.route_service("/api/auth/session", SessionEndpoint::new(sessions))
    };
    router
        .route("/session", get(session_page))
        .route("/dashboard", get(dashboard))
        .route("/admin", get(admin))
        .route("/api/me", get(me))
        .layer(Extension(mode.clone()))
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

    /// The user of `claims` (a JWT's or a database session's), with a sign-out form carrying
    /// `csrf`.
    fn of(claims: &Claims, csrf: &'a CsrfToken) -> Self {
        let name = user_field(claims, "name")
            .or_else(|| user_field(claims, "email"))
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
        // Signed in, name unknown: the 403 page under database sessions (see `Pages`).
        (None, Some(csrf)) => format!(
            r#"<span class="user">Signed in</span>{}"#,
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

/// The current session's claims, if any, for pages outside the matcher (they read it
/// themselves), with the cookies to send along: a database session that this read extended has
/// its cookie set again with the new expiry, as the layer does.
async fn viewer(mode: &Mode, sessions: &Sessions, headers: &HeaderMap) -> Viewed {
    match &mode.db {
        Some(db) => match db.lookup(sessions, headers).await {
            Lookup::Found(found) => Viewed {
                claims: Some(found.claims),
                cookies: found.refresh,
            },
            _ => Viewed::default(),
        },
        None => Viewed {
            claims: sessions
                .read::<Claims>(headers)
                .ok()
                .map(Token::into_claims),
            cookies: Vec::new(),
        },
    }
}

/// What [`viewer`] found.
#[derive(Default)]
struct Viewed {
    claims: Option<Claims>,
    /// `Set-Cookie` values for the response.
    cookies: Vec<HeaderValue>,
}

/// `res` with `cookies` appended as `Set-Cookie`.
fn with_cookies(mut res: Response, cookies: Vec<HeaderValue>) -> Response {
    for cookie in cookies {
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    res
}

async fn home(
    Extension(mode): Extension<Mode>,
    sessions: Sessions,
    headers: HeaderMap,
) -> Response {
    let Viewed { claims, cookies } = viewer(&mode, &sessions, &headers).await;
    let csrf = claims.as_ref().map(|_| sessions.csrf().issue(&headers));
    let viewer = match (&claims, &csrf) {
        (Some(c), Some(t)) => Viewer::of(c, t),
        _ => Viewer::anonymous(),
    };
    let status = match &claims {
        Some(c) => format!(
            r#"<div class="notice ok">Signed in as <strong>{}</strong> ({}), role <code>{}</code>.</div>"#,
            escape(user_field(c, "name").unwrap_or("")),
            escape(user_field(c, "email").unwrap_or("")),
            escape(mode.role(c)),
        ),
        None => r#"<div class="notice">You are not signed in. Sign in as a user or as an admin to try the guarded routes.</div>"#.to_owned(),
    };
    let actions = if claims.is_some() {
        r#"<a class="button primary" href="/dashboard">Go to the dashboard</a>"#
    } else {
        r#"<a class="button primary" href="/api/auth/signin">Sign in</a>"#
    };
    let routes = routes(&mode)
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
    let sessions_kind = match &mode.db {
        Some(_) => {
            "Sessions are <strong>database sessions</strong>: the cookie holds a token, and the \
             session and its user are rows in the <code>@auth/pg-adapter</code> tables."
        }
        None => {
            "Sessions are <strong>JWTs</strong>: the claims travel encrypted in the cookie. Set \
             <code>DATABASE_URL</code> (with the <code>postgres</code> feature) for database \
             sessions."
        }
    };
    let body = format!(
        r#"<div class="card wide">
<h1>tower-nextauth quickstart</h1>
<p class="muted">An axum app behind <code>AuthLayer</code>: the Rust counterpart of next-auth's
<code>withAuth</code>. It reads and writes the same session cookies as a Next.js app with the same
secret.</p>
<p class="muted" id="mode">{sessions_kind}</p>
{status}
<div class="stack">{actions}<a class="button" href="/session">Inspect the session</a></div>
<h2>Routes</h2>
<table class="routes"><tbody>{routes}</tbody></table>
</div>"#
    );
    with_cookies(
        html_page(layout("Home", "/", &viewer, &body), csrf.as_ref()),
        cookies,
    )
}

#[derive(Deserialize)]
struct SignInQuery {
    #[serde(rename = "callbackUrl")]
    callback_url: Option<String>,
}

async fn sign_in_form(
    Extension(mode): Extension<Mode>,
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
    // The adapter's tables have no role: under database sessions the admins are listed.
    let role = if mode.db.is_some() {
        format!(
            r#"<div class="notice" id="admins">Database sessions: the admin area admits the emails in
<code>ADMIN_EMAILS</code> ({}). An email signed in before signs in as the same user.</div>"#,
            escape(&mode.admin_list())
        )
    } else {
        r#"<label for="role">Role</label><select id="role" name="role"><option>user</option><option>admin</option></select>"#
            .to_owned()
    };
    let body = format!(
        r#"<div class="card">
<h1>Sign in</h1>
{notice}<form method="post" action="/api/auth/signin">
<input type="hidden" name="csrfToken" value="{token}">
<input type="hidden" name="callbackUrl" value="{callback}">
<label for="name">Name</label><input id="name" name="name" type="text" placeholder="Grace Hopper" required>
<label for="email">Email</label><input id="email" name="email" type="email" placeholder="grace@example.com" required>
{role}
<button type="submit" class="primary">Sign in with Credentials</button>
</form>
</div>"#
    );
    // Signing in again over a session is allowed; the header shows it but has no form here,
    // so the sign-in button stays the page's only submit button.
    let Viewed { claims, cookies } = viewer(&mode, &sessions, &headers).await;
    let viewer = match claims {
        Some(c) => Viewer {
            name: user_field(&c, "name").map(str::to_owned),
            csrf: None,
        },
        None => Viewer::anonymous(),
    };
    with_cookies(
        html_page(
            layout("Sign in", "/api/auth/signin", &viewer, &body),
            Some(&csrf),
        ),
        cookies,
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
    Extension(mode): Extension<Mode>,
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
    let cookies = if let Some(db) = &mode.db {
        // The `database` strategy: the user and session rows, and the token in the cookie.
        match db
            .sign_in(&sessions, &headers, &form.name, &form.email)
            .await
        {
            Ok(cookies) => cookies,
            Err(error) => {
                tracing::error!(%error, "sign-in failed");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("sign-in failed: {error}"),
                )
                    .into_response();
            }
        }
    } else {
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
        cookies
    };
    with_cookies(
        Redirect::to(same_origin(&form.callback_url)).into_response(),
        cookies,
    )
}

async fn sign_out(
    Extension(mode): Extension<Mode>,
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
    let cookies = match &mode.db {
        // Deletes the session row, then clears the cookies.
        Some(db) => match db.sign_out(&sessions, &headers).await {
            Ok(cookies) => cookies,
            Err(error) => {
                tracing::error!(%error, "sign-out failed");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("sign-out failed, the session still exists: {error}"),
                )
                    .into_response();
            }
        },
        None => sessions.sign_out(&headers),
    };
    tracing::info!(cookies = cookies.len(), "signed out");
    with_cookies(Redirect::to("/").into_response(), cookies)
}

async fn dashboard(
    Extension(token): Extension<Token>,
    Extension(mode): Extension<Mode>,
    sessions: Sessions,
    headers: HeaderMap,
) -> Response {
    let name = user_field(&token, "name").unwrap_or("there");
    let role = mode.role(&token);
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
        escape(user_field(&token, "email").unwrap_or("")),
        escape(role),
    );
    html_page(
        layout("Dashboard", "/dashboard", &Viewer::of(&token, &csrf), &body),
        Some(&csrf),
    )
}

async fn admin(
    Extension(token): Extension<Token>,
    Extension(mode): Extension<Mode>,
    sessions: Sessions,
    headers: HeaderMap,
) -> Response {
    let name = user_field(&token, "name").unwrap_or("admin");
    let csrf = sessions.csrf().issue(&headers);
    let who = if mode.db.is_some() {
        format!(
            "Only database sessions whose user's email is in <code>ADMIN_EMAILS</code> ({}) get \
             here",
            escape(&mode.admin_list())
        )
    } else {
        r#"Only tokens with <code>"role": "admin"</code> get here"#.to_owned()
    };
    let body = format!(
        r#"<div class="card">
<h1>Admin</h1>
<p>Welcome to the admin area, {}.</p>
<p class="muted">{who}: the layer's
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

/// `GET /api/auth/session` under database sessions, as next-auth's session route answers it
/// with an adapter: `{"user":{"name","email","image"},"expires"}` (`expires` as the row was
/// read), `null` (v5) or `{}` (v4) without a session, and the cookies of a token that names no
/// session cleared. As the layer does (docs/compat.md D12, D13), the cookie is set again only
/// when the read extended the session, and a database that does not answer is a 503.
async fn database_session_endpoint(
    Extension(mode): Extension<Mode>,
    sessions: Sessions,
    headers: HeaderMap,
) -> Response {
    #[derive(Serialize)]
    struct Body<'a> {
        user: User<'a>,
        expires: &'a str,
    }
    #[derive(Serialize)]
    struct User<'a> {
        name: Option<&'a str>,
        email: Option<&'a str>,
        image: Option<&'a str>,
    }

    let Some(db) = &mode.db else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let none = if mode.v4 { "{}" } else { "null" };
    let (status, body, cookies) = match db.lookup(&sessions, &headers).await {
        Lookup::Found(found) => {
            let body = Body {
                user: User {
                    name: user_field(&found.claims, "name"),
                    email: user_field(&found.claims, "email"),
                    image: user_field(&found.claims, "image"),
                },
                expires: found.claims["expires"].as_str().unwrap_or(""),
            };
            let body = serde_json::to_string(&body).expect("strings serialize");
            (StatusCode::OK, body, found.refresh)
        }
        Lookup::NoCookie => (StatusCode::OK, none.to_owned(), Vec::new()),
        Lookup::Unknown { .. } => (StatusCode::OK, none.to_owned(), sessions.sign_out(&headers)),
        Lookup::Unavailable(error) => {
            tracing::warn!(%error, "session endpoint: the database did not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"message":"the session database is unavailable"}"#.to_owned(),
                Vec::new(),
            )
        }
    };
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache, no-store"),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(header::EXPIRES, HeaderValue::from_static("0"));
    with_cookies(res, cookies)
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

async fn session_page(
    Extension(mode): Extension<Mode>,
    sessions: Sessions,
    headers: HeaderMap,
) -> Response {
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
            let format = if mode.db.is_some() {
                "a database session token, looked up in sessions"
            } else {
                format_of(name)
            };
            format!(
                "<tr><td><code>{}</code></td><td>{}</td></tr>",
                escape(name),
                escape(format)
            )
        })
        .collect::<String>();
    let (mode_line, reads) = match &mode.db {
        Some(db) => (
            format!(
                "Mode: <strong>database sessions</strong> in <code>{}</code>: the cookie holds a \
                 session token; the session and its user are rows of the \
                 <code>@auth/pg-adapter</code> tables.",
                escape(db.target())
            ),
            "The cookie's value is looked up in <code>sessions</code>, joined with \
             <code>users</code>. A JWT cookie or an <code>Authorization: Bearer</code> token is \
             no database session.",
        ),
        None => (
            "Mode: <strong>JWT sessions</strong>: the session is the encrypted cookie itself."
                .to_owned(),
            "Chunked cookies (<code>name.0</code>, <code>name.1</code>, …) are reassembled. With \
             no session cookie, an <code>Authorization: Bearer</code> token is read instead.",
        ),
    };
    let accepted = format!(
        r#"<table><thead><tr><th>Cookie name, in order</th><th>Format</th></tr></thead><tbody>{accepted}</tbody></table>
<p class="muted" style="margin-top:.6rem">{reads}</p>"#
    );

    let inspected = match &mode.db {
        Some(db) => database_session(db.lookup(&sessions, &headers).await),
        None => jwt_session(&sessions, &headers),
    };
    let Inspected {
        status,
        details,
        name,
        cookies,
    } = inspected;
    let csrf = name.as_ref().map(|_| sessions.csrf().issue(&headers));
    let viewer = match (name, &csrf) {
        (Some(name), Some(csrf)) => Viewer {
            name: Some(name),
            csrf: Some(csrf),
        },
        _ => Viewer::anonymous(),
    };
    let body = format!(
        r#"<div class="card wide">
<h1>Session</h1>
<p class="muted" id="mode">{mode_line}</p>
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
    with_cookies(
        html_page(layout("Session", "/session", &viewer, &body), csrf.as_ref()),
        cookies,
    )
}

/// The session part of the /session page.
struct Inspected {
    /// The notice at the top: signed in, or why not.
    status: String,
    /// Expiry and claims, or the reason at length.
    details: String,
    /// Who the header shows; `None` without a session.
    name: Option<String>,
    /// `Set-Cookie` values for the response.
    cookies: Vec<HeaderValue>,
}

/// The "Expires in …" paragraph, counted down by [`COUNTDOWN_JS`].
fn expiry(exp: i64) -> String {
    format!(
        r#"<p>Expires <strong id="expiry" data-exp="{exp}">in {}</strong>
<span class="muted">(<span id="expires-at">exp {exp}</span>)</span>.</p>"#,
        duration(exp - now())
    )
}

/// The "No session" notice with its reason, and the explanation with a sign-in button.
fn refused(reason: SessionError, why: &str, likely: Option<&str>) -> Inspected {
    let likely = match likely {
        Some(likely) => format!(
            r#"<div class="notice warn"><strong>Likely cause:</strong> {}</div>"#,
            escape(likely)
        ),
        None => String::new(),
    };
    Inspected {
        status: format!(
            r#"<div class="notice error"><strong>No session.</strong> Reason: <code id="reason">{}</code></div>"#,
            escape(reason.as_str())
        ),
        details: format!(
            r#"<h2>Why the layer refused it</h2>
<p>{}</p>{likely}
<a class="button primary" href="/api/auth/signin?callbackUrl=%2Fsession">Sign in</a>"#,
            escape(why)
        ),
        name: None,
        cookies: Vec::new(),
    }
}

/// A JWT session: decrypted and validated as the layer does it, or why it was refused.
fn jwt_session(sessions: &Sessions, headers: &HeaderMap) -> Inspected {
    let token = match sessions.read::<Claims>(headers) {
        Ok(token) => token,
        Err(error) => {
            let likely = sessions.explain(headers);
            return refused(error, describe(error), likely.as_deref());
        }
    };
    let claims = serde_json::to_string_pretty(token.claims()).unwrap_or_default();
    let format = match token.format() {
        Some(Format::V4) => "next-auth v4",
        Some(Format::V5) => "Auth.js v5",
        _ => "a custom decoder",
    };
    let expiry = match token.exp() {
        Some(exp) => expiry(exp),
        None => r#"<p class="muted">The token has no <code>exp</code> claim.</p>"#.to_owned(),
    };
    let source = match token.source() {
        TokenSource::Bearer => "the Authorization: Bearer header",
        _ => "a session cookie",
    };
    let name = user_field(&token, "name")
        .or_else(|| user_field(&token, "email"))
        .unwrap_or("signed in")
        .to_owned();
    Inspected {
        status: format!(
            r#"<div class="notice ok"><strong>Signed in.</strong> Read from {source} ({format} format), decrypted and validated.</div>"#
        ),
        details: format!(
            r#"<h2>Expiry</h2>{expiry}
<h2>Decoded claims</h2><pre id="claims">{}</pre>"#,
            escape(&claims)
        ),
        name: Some(name),
        cookies: Vec::new(),
    }
}

/// A database session: the token's length (never its value), the user row and the expiry, or
/// why there is none.
fn database_session(lookup: Lookup) -> Inspected {
    let found = match lookup {
        Lookup::Found(found) => found,
        Lookup::NoCookie => {
            return refused(
                SessionError::Missing,
                "No session cookie arrived under any name this layer reads.",
                None,
            )
        }
        Lookup::Unknown { looks_like_jwt } => {
            return refused(
                SessionError::Missing,
                "A session cookie arrived, but no session row has its token: the session was \
                 signed out, it expired (its row is then deleted), its user is gone, or it \
                 belongs to another database. The layer clears such cookies.",
                looks_like_jwt.then_some(
                    "the cookie holds a JWT (from the quickstart without DATABASE_URL, or an \
                     app with the jwt strategy); database sessions never decode one. Sign in \
                     again.",
                ),
            )
        }
        Lookup::Unavailable(error) => {
            return refused(
                SessionError::Unavailable,
                &format!(
                    "The database did not answer, so the session is unknown: {error}. Guarded \
                     routes answer 503 until it is back."
                ),
                None,
            )
        }
    };
    let DbView {
        cookie,
        token_len,
        claims,
        expires,
        extended,
        refresh,
    } = *found;
    let user = &claims["user"];
    let cell = |field: &str| match &user[field] {
        serde_json::Value::Null => r#"<span class="muted">null</span>"#.to_owned(),
        serde_json::Value::String(s) => escape(s),
        other => escape(&other.to_string()),
    };
    let rows = ["id", "name", "email", "image"]
        .iter()
        .map(|field| {
            format!(
                r#"<tr><th>{field}</th><td id="user-{field}">{}</td></tr>"#,
                cell(field)
            )
        })
        .collect::<String>();
    let extended_note = match extended {
        Some(_) => {
            r#"<p class="muted">This read was due for the sliding update: the row's
<code>expires</code> moved to now + <code>maxAge</code>, and the cookie was set again.</p>"#
        }
        None => "",
    };
    let claims_json = serde_json::to_string_pretty(&claims).unwrap_or_default();
    let name = user_field(&claims, "name")
        .or_else(|| user_field(&claims, "email"))
        .unwrap_or("signed in")
        .to_owned();
    Inspected {
        status: format!(
            r#"<div class="notice ok"><strong>Signed in.</strong> A database session: the <code>{}</code>
cookie holds a session token of <strong id="token-length">{token_len}</strong> characters (its value
is not shown), found in <code>sessions</code> with its user.</div>"#,
            escape(&cookie)
        ),
        details: format!(
            r#"<h2>Expiry</h2>{}{extended_note}
<h2>User row</h2><table id="user"><tbody>{rows}</tbody></table>
<h2>Claims handlers get</h2><pre id="claims">{}</pre>"#,
            expiry(extended.unwrap_or(expires)),
            escape(&claims_json)
        ),
        name: Some(name),
        cookies: refresh,
    }
}

// ---- The 403 page ----

/// Renders the layer's denials: a styled 403 page for a browser that is signed in without the
/// right; everything else (sign-in redirects, JSON for API clients) as [`DefaultRender`] does.
#[derive(Clone)]
struct Pages {
    sessions: Sessions,
    mode: Mode,
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
        // Only a signed-in user gets a 403 (`authorized` answers Forbidden with a token only).
        let csrf = self.sessions.csrf().issue(&request.headers);
        let path = escape(request.uri.path());
        let (viewer, needs) = if self.mode.db.is_some() {
            // Rendering cannot wait for a lookup, and the layer keeps the session it read for
            // the handler: the header says "Signed in", without the name.
            let needs = format!(
                r#"<p>You are signed in, but <code>{path}</code> is for the emails in
<code>ADMIN_EMAILS</code>: <span class="badge">{}</span>; yours is not one of them.</p>"#,
                escape(&self.mode.admin_list())
            );
            (
                Viewer {
                    name: None,
                    csrf: Some(&csrf),
                },
                needs,
            )
        } else {
            let claims = self
                .sessions
                .read::<Claims>(&request.headers)
                .ok()
                .map(Token::into_claims)
                .unwrap_or_default();
            let needs = format!(
                r#"<p>You are signed in, but <code>{path}</code> needs the role <span class="badge">admin</span>;
yours is <span class="badge bad">{}</span>.</p>"#,
                escape(self.mode.role(&claims))
            );
            (Viewer::of(&claims, &csrf), needs)
        };
        let body = format!(
            r#"<div class="card">
<p class="big">403</p>
<h1>Access denied</h1>
{needs}
<div class="stack"><a class="button primary" href="/dashboard">Back to the dashboard</a>
<a class="button" href="/api/auth/signin?callbackUrl={}">Sign in as someone else</a></div>
</div>"#,
            escape(
                &form_urlencoded::byte_serialize(request.uri.path().as_bytes()).collect::<String>()
            ),
        );
        let html = layout("Access denied", "", &viewer, &body);
        let mut res =
            html_page(html.clone(), Some(&csrf)).map(|_| B::from_bytes(Bytes::from(html)));
        *res.status_mut() = StatusCode::FORBIDDEN;
        res
    }

    fn respond(&self, response: Response<Bytes>) -> Response<B> {
        <DefaultRender as Render<B>>::respond(&DefaultRender, response)
    }
}

// ---- Database sessions (DATABASE_URL) ----

/// A database session as the pages outside the matcher (and `/api/auth/session`) read it.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
enum Lookup {
    /// No session cookie arrived.
    NoCookie,
    /// A session cookie whose token names no live session.
    Unknown {
        /// It holds a JWE (five base64url segments): a JWT session cookie.
        looks_like_jwt: bool,
    },
    /// The database did not answer (or refused the query): the session is unknown.
    Unavailable(String),
    /// A live session.
    Found(Box<DbView>),
}

/// A live database session.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
struct DbView {
    /// The name of the cookie it came in.
    cookie: String,
    /// The token's length: its value is never shown.
    token_len: usize,
    /// `{"user":{"id","name","email","image"},"expires"}`: the claims the layer gives handlers.
    claims: Claims,
    /// `sessions.expires` as read, in seconds since the epoch.
    expires: i64,
    /// The new expiry when this read extended the session.
    extended: Option<i64>,
    /// The session cookie set again when this read extended the session, as the layer does.
    refresh: Vec<HeaderValue>,
}

/// The real thing: `tower_nextauth::database` on `DATABASE_URL`.
#[cfg(feature = "postgres")]
mod db {
    use std::error::Error;
    use std::time::Duration;

    use axum::http::{header, HeaderMap, HeaderValue};
    use tokio_postgres::NoTls;
    use tower_nextauth::database::{Database, NewUser, SCHEMA};
    use tower_nextauth::Sessions;

    use super::{DbView, Lookup};

    /// The session store, and a connection configuration for the two statements the library
    /// has no method for: the start-up check for the tables and the adapter's `getUserByEmail`.
    #[derive(Clone)]
    pub struct Store {
        db: Database,
        config: tokio_postgres::Config,
    }

    /// Database sessions when `DATABASE_URL` is set, with the adapter's tables created if
    /// `sessions` is missing; `None` otherwise. Exits with a message when it is unusable.
    pub async fn from_env() -> Option<Store> {
        let url = std::env::var("DATABASE_URL")
            .ok()
            .filter(|url| !url.trim().is_empty())?;
        // The builder's errors never repeat the password.
        let db = Database::builder(&url)
            .build()
            .unwrap_or_else(|e| fail("DATABASE_URL is unusable", e));
        let mut config: tokio_postgres::Config = url
            .parse()
            .unwrap_or_else(|e| fail("DATABASE_URL is unusable", e));
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        let store = Store { db, config };
        match store.create_tables().await {
            Ok(true) => eprintln!(
                "created the @auth/pg-adapter tables (users, sessions, accounts, \
                 verification_token) in {}",
                store.target()
            ),
            Ok(false) => {}
            Err(e) => fail(
                &format!(
                    "cannot prepare the database sessions in {} (DATABASE_URL)",
                    store.target()
                ),
                e,
            ),
        }
        Some(store)
    }

    fn fail(what: &str, error: impl Error) -> ! {
        eprintln!("{what}: {}", chain(&error));
        std::process::exit(1)
    }

    /// An error and its causes: tokio-postgres says "error connecting to server" and keeps the
    /// why in its source. None of them holds the password.
    fn chain(error: &dyn Error) -> String {
        let mut text = error.to_string();
        let mut cause = error.source();
        while let Some(e) = cause {
            text.push_str(&format!(": {e}"));
            cause = e.source();
        }
        text
    }

    impl Store {
        /// For `AuthLayer::database`.
        pub fn database(&self) -> Database {
            self.db.clone()
        }

        /// `host:port/database`.
        pub fn target(&self) -> &str {
            self.db.target()
        }

        /// A connection of its own, for a statement the library has no method for.
        async fn client(&self) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
            let (client, connection) = self.config.connect(NoTls).await?;
            tokio::spawn(connection);
            Ok(client)
        }

        /// Runs `database::SCHEMA` when `public.sessions` does not exist; whether it did. The
        /// DDL is not idempotent: with some of the tables there it fails as a whole (one
        /// implicit transaction) and says which exists.
        async fn create_tables(&self) -> Result<bool, tokio_postgres::Error> {
            let client = self.client().await?;
            let missing: bool = client
                .query_one("SELECT to_regclass('public.sessions') IS NULL", &[])
                .await?
                .get(0);
            if missing {
                client.batch_execute(SCHEMA).await?;
            }
            Ok(missing)
        }

        /// The adapter's `getUserByEmail` (`select * from users where email = $1`, first row):
        /// the user's id as text.
        async fn user_by_email(
            &self,
            email: &str,
        ) -> Result<Option<String>, tokio_postgres::Error> {
            let client = self.client().await?;
            let rows = client
                .query("select * from users where email = $1", &[&email])
                .await?;
            Ok(rows.first().map(|row| {
                // `SERIAL` in the adapter's schema; a text or bigint id works too.
                row.try_get::<_, i32>("id")
                    .map(|id| id.to_string())
                    .or_else(|_| row.try_get::<_, i64>("id").map(|id| id.to_string()))
                    .or_else(|_| row.try_get::<_, String>("id"))
                    .unwrap_or_default()
            }))
        }

        /// Sign-in under the `database` strategy: the user with this email, or a new one
        /// (`createUser`), a new session row (`createSession`), and its token as the session
        /// cookie, expiring with the row.
        pub async fn sign_in(
            &self,
            sessions: &Sessions,
            request: &HeaderMap,
            name: &str,
            email: &str,
        ) -> Result<Vec<HeaderValue>, String> {
            let existing = self
                .user_by_email(email)
                .await
                .map_err(|e| format!("looking the user up: {}", chain(&e)))?;
            let (user_id, new_user) = match existing {
                Some(id) => (id, false),
                None => {
                    let user = NewUser {
                        name: Some(name),
                        email: Some(email),
                        ..NewUser::default()
                    };
                    let id = self
                        .db
                        .create_user(&user)
                        .await
                        .map_err(|e| e.to_string())?;
                    (id, true)
                }
            };
            let session = self
                .db
                .create_session(&user_id)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(user_id, new_user, "signed in (database session)");
            Ok(sessions.session_cookies(request, session.token(), session.expires()))
        }

        /// Sign-out: deletes the session row, then clears the cookies.
        pub async fn sign_out(
            &self,
            sessions: &Sessions,
            request: &HeaderMap,
        ) -> Result<Vec<HeaderValue>, String> {
            self.db
                .sign_out(sessions, request)
                .await
                .map_err(|e| e.to_string())
        }

        /// The request's database session, as the layer would find it.
        pub async fn lookup(&self, sessions: &Sessions, request: &HeaderMap) -> Lookup {
            let Some((cookie, token)) = session_cookie(sessions, request) else {
                return Lookup::NoCookie;
            };
            match self.db.session(token).await {
                Ok(Some(session)) => {
                    let claims = match session.claims() {
                        serde_json::Value::Object(claims) => claims,
                        _ => unreachable!("DbSession::claims is an object"),
                    };
                    let refresh = session
                        .extended()
                        .map(|expires| sessions.session_cookies(request, token, expires))
                        .unwrap_or_default();
                    Lookup::Found(Box::new(DbView {
                        cookie: cookie.to_owned(),
                        token_len: token.len(),
                        claims,
                        expires: session.expires(),
                        extended: session.extended(),
                        refresh,
                    }))
                }
                Ok(None) => Lookup::Unknown {
                    looks_like_jwt: token.split('.').count() == 5 && token.starts_with("eyJ"),
                },
                Err(error) => Lookup::Unavailable(error.to_string()),
            }
        }
    }

    /// The first session cookie under the names `sessions` reads, in their order: its name and
    /// value (a database session's token is 36 characters, never chunked).
    fn session_cookie<'h>(
        sessions: &'h Sessions,
        request: &'h HeaderMap,
    ) -> Option<(&'h str, &'h str)> {
        sessions.cookie_names().find_map(|name| {
            request
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(';'))
                .filter_map(|pair| pair.trim().split_once('='))
                .find(|(n, _)| *n == name)
                .map(|(_, value)| (name, value))
        })
    }
}

/// Built without the `postgres` feature: no database sessions, and `DATABASE_URL` is an error
/// rather than silently ignored. `Store` has no values, so the database branches never run.
#[cfg(not(feature = "postgres"))]
mod db {
    use axum::http::{HeaderMap, HeaderValue};
    use tower_nextauth::Sessions;

    use super::{Lookup, DATABASE_COMMAND};

    #[derive(Clone)]
    pub enum Store {}

    pub async fn from_env() -> Option<Store> {
        if std::env::var("DATABASE_URL").is_ok_and(|url| !url.trim().is_empty()) {
            eprintln!(
                "DATABASE_URL is set, but this quickstart was built without database sessions. \
                 Add `--features postgres`:\n  {DATABASE_COMMAND}\nor unset DATABASE_URL for \
                 JWT sessions."
            );
            std::process::exit(2);
        }
        None
    }

    impl Store {
        pub fn target(&self) -> &str {
            match *self {}
        }

        pub async fn lookup(&self, _: &Sessions, _: &HeaderMap) -> Lookup {
            match *self {}
        }

        pub async fn sign_in(
            &self,
            _: &Sessions,
            _: &HeaderMap,
            _: &str,
            _: &str,
        ) -> Result<Vec<HeaderValue>, String> {
            match *self {}
        }

        pub async fn sign_out(
            &self,
            _: &Sessions,
            _: &HeaderMap,
        ) -> Result<Vec<HeaderValue>, String> {
            match *self {}
        }
    }
}
