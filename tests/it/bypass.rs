//! Middleware-bypass classes (SECURITY.md): no request header and no spelling of a protected
//! path reaches a protected axum handler without a session. Each variant is sent to the same
//! router with and without the layer: whatever the router would serve, the layer must guard.

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{Request, StatusCode};
use serde_json::json;
use tower::ServiceExt;
use tower_nextauth::{AuthLayer, Format};

use crate::support::{builder, route, session_cookie, skipped};

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
    let auth = builder(Format::V5)
        .matcher(["/dashboard/:path*", "/admin/:path*", "/api/me"])
        .unwrap()
        .build()
        .unwrap();
    let cookie = session_cookie(&auth, json!({"name": "Ada"}));
    (router().layer(auth), cookie)
}

async fn status(app: &Router, target: &str, headers: &[(&str, &str)]) -> StatusCode {
    route(app, target, headers).await.status()
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

// ---------------------------------------------------------------------------------------------
// The generated corpus (issue 10): every matcher form × every spelling class, sent as raw bytes
// over real TCP to hyper, so that raw UTF-8 in the request line reaches the router as it would
// from any client.

use std::net::SocketAddr;

use axum::extract::rejection::PathRejection;
use axum::extract::{MatchedPath, Path};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower_nextauth::Matcher;

/// Routes of an app whose handlers trust the layer. Each answers with its route and its
/// parameters, percent-decoded and trimmed as a lenient handler would (`"1\u{2028}"` is user 1),
/// so the test knows which resource a spelling reached.
fn routed() -> Router {
    let echo = || {
        get(
            |route: MatchedPath, params: Result<Path<Vec<(String, String)>>, PathRejection>| async move {
                let params = params.map(|p| p.0).unwrap_or_default();
                let params: Vec<&str> = params
                    .iter()
                    .map(|(_, v)| v.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}'))
                    .collect();
                format!("{} {}", route.as_str(), params.join(" "))
            },
        )
    };
    let mut app = Router::new();
    for route in [
        "/",
        "/dashboard",
        "/dashboard/{*rest}",
        "/admin",
        "/admin/{*rest}",
        "/api/me",
        "/api/users/{id}",
        "/api/public/{*rest}",
        "/api/auth/session",
        "/api/{*rest}",
        "/shop/{*rest}",
        "/{*rest}",
    ] {
        app = app.route(route, echo());
    }
    app
}

/// Every matcher form, with request paths it protects (covered, not on the skip list).
const FORMS: &[(&str, &[&str])] = &[
    (
        "/dashboard/:path*",
        &["/dashboard", "/dashboard/x", "/dashboard/a/b"],
    ),
    ("/admin/:path*", &["/admin", "/admin/users"]),
    ("/api/me", &["/api/me"]),
    (
        "/api/((?!public).*)",
        &["/api/users/1", "/api/me", "/api/x/y"],
    ),
    (
        "/((?!api/public|_next/static|_next/image|favicon.ico).*)",
        &["/dashboard/x", "/api/users/1", "/admin/users", "/settings"],
    ),
    (
        "/api/:path*",
        &["/api/users/1", "/api/dashboard", "/api/me"],
    ),
    ("/shop/:cat-:item-:sku", &["/shop/a-b-c"]),
];

/// Characters that JavaScript's `.` or `\s` read differently from other dialects, or that
/// routers trim: line and paragraph separators, NEL, NBSP, BOM, ideographic space, and a letter.
const CHARS: &[char] = &[
    '\u{2028}', '\u{2029}', '\u{85}', '\u{a0}', '\u{feff}', '\u{3000}', '\u{e9}',
];

fn percent_encode(c: char, upper: bool) -> String {
    let mut buf = [0; 4];
    c.encode_utf8(&mut buf)
        .bytes()
        .map(|b| {
            if upper {
                format!("%{b:02X}")
            } else {
                format!("%{b:02x}")
            }
        })
        .collect()
}

/// Spellings of `target` (a rooted path), each with its class.
fn spellings(target: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let (first, rest) = match target[1..].find('/') {
        Some(i) => (&target[..i + 1], &target[i + 1..]),
        None => (target, ""),
    };
    let last_start = target.rfind('/').unwrap() + 1;
    let (head, last) = target.split_at(last_start);
    let mid = last.len() / 2;
    // Non-ASCII, raw and percent-encoded, in each position.
    for &c in CHARS {
        for (class, s) in [
            ("raw non-ASCII", c.to_string()),
            ("encoded non-ASCII", percent_encode(c, true)),
            (
                "encoded non-ASCII (lowercase hex)",
                percent_encode(c, false),
            ),
        ] {
            out.push((class, format!("{target}{s}")));
            out.push((class, format!("{first}{s}{rest}")));
            out.push((class, format!("{target}/{s}")));
            out.push((class, format!("{head}{s}{last}")));
            out.push((class, format!("{head}{}{s}{}", &last[..mid], &last[mid..])));
        }
    }
    // Dot segments, raw and encoded, in front, inside and behind.
    for dots in [
        "/.",
        "/%2e",
        "/%2E",
        "/x/..",
        "/x/%2e%2e",
        "/x/.%2E",
        "/x/%2E.",
        "/x/%2e%2E",
    ] {
        out.push(("dot segments", format!("{dots}{target}")));
        out.push(("dot segments", format!("{first}{dots}{rest}")));
        out.push(("dot segments", format!("{target}{dots}")));
    }
    // Climbs out of skipped prefixes: the skip list must not see the prefix alone.
    for skipped in [
        "/api/auth/..",
        "/api/auth/%2e%2e",
        "/api/auth/%2E%2E",
        "/api/auth/.%2e",
        "/api/auth/x/../..",
        "/api/auth\\..",
        "/_next/..",
        "/_next/%2e%2e",
        "/_next/static/../..",
        "/_next/static/%2e%2e/%2e%2e",
        "/favicon.ico/..",
        "/favicon.ico/%2e%2e",
    ] {
        out.push(("climbs out of the skip list", format!("{skipped}{target}")));
    }
    // Doubled slashes, backslashes, case, matrix parameters, trailing slash, query.
    out.push(("doubled slashes", format!("/{target}")));
    out.push(("doubled slashes", format!("{target}//")));
    out.push(("doubled slashes", target.replace('/', "//")));
    out.push(("doubled slashes", format!("{first}/{rest}")));
    out.push((
        "backslashes",
        format!("{first}\\{}", rest.trim_start_matches('/')),
    ));
    out.push(("case", target.to_uppercase()));
    out.push(("case", format!("{}{rest}", first.to_uppercase())));
    out.push(("semicolon", format!("{target};x")));
    out.push(("semicolon", format!("{first};jsessionid=1{rest}")));
    out.push(("semicolon", format!("{head};{last}")));
    out.push(("trailing slash", format!("{target}/")));
    out.push(("query", format!("{target}?x=1")));
    out
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Sends `GET <target>` as raw bytes and returns the status and body.
async fn send(addr: SocketAddr, target: &[u8], cookie: Option<&str>) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = b"GET ".to_vec();
    req.extend_from_slice(target);
    req.extend_from_slice(b" HTTP/1.1\r\nhost: app\r\naccept: text/html\r\nconnection: close\r\n");
    if let Some(cookie) = cookie {
        req.extend_from_slice(format!("cookie: {cookie}\r\n").as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    stream.write_all(&req).await.unwrap();
    let mut res = Vec::new();
    stream.read_to_end(&mut res).await.unwrap();
    let res = String::from_utf8_lossy(&res);
    let status = res
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "no status line for {:?}: {res:?}",
                String::from_utf8_lossy(target)
            )
        });
    let body = res.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_owned())
}

fn layer(sources: &[&str]) -> (AuthLayer, String) {
    let auth = builder(Format::V5)
        .matcher(sources)
        .unwrap()
        .build()
        .unwrap();
    let cookie = session_cookie(&auth, json!({"name": "Ada"}));
    (auth, cookie)
}

/// What Next.js would decide: the parsed pathname is covered and not on the skip list.
fn next_protects(m: &Matcher, target: &str) -> bool {
    let path = target.split('?').next().unwrap();
    let pathname = Matcher::pathname(path);
    m.is_match(&pathname) && !skipped(&pathname)
}

fn refused(status: u16) -> bool {
    status == 307 || status == 401
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn generated_corpus_every_form_every_spelling_over_tcp() {
    let bare = serve(routed()).await;
    let mut served_protected = 0;
    let mut served_by_class = std::collections::BTreeMap::<&str, usize>::new();
    let mut next_covered = 0;
    let mut total = 0;
    for (source, targets) in FORMS {
        let m = Matcher::new([source]).unwrap();
        let (auth, cookie) = layer(&[source]);
        let guarded = serve(routed().layer(auth)).await;
        for target in *targets {
            assert!(next_protects(&m, target), "{source} must protect {target}");
            let (status, route) = send(bare, target.as_bytes(), None).await;
            assert_eq!(status, 200, "{target}");
            let (status, _) = send(guarded, target.as_bytes(), None).await;
            assert!(refused(status), "{source}: {target}: {status}");
            for (class, spelling) in spellings(target) {
                total += 1;
                let (bare_status, resource) = send(bare, spelling.as_bytes(), None).await;
                let (status, _) = send(guarded, spelling.as_bytes(), None).await;
                // Protected when it reaches the protected target's handler with the target's
                // parameters (the same resource), or when Next.js would protect its pathname.
                let same_resource = bare_status == 200 && resource == route;
                let next = bare_status != 400 && next_protects(&m, &spelling);
                if next {
                    next_covered += 1;
                }
                if !(same_resource || next) {
                    continue;
                }
                assert!(
                    refused(status),
                    "{source}: {spelling:?} ({class}) reaches {resource:?} without a session: {status}"
                );
                if bare_status == 200 {
                    served_protected += 1;
                    *served_by_class.entry(class).or_default() += 1;
                    // And the layer lets it through with a session: it refuses the spelling for
                    // want of a session, not for its shape.
                    let (status, with_session) =
                        send(guarded, spelling.as_bytes(), Some(&cookie)).await;
                    assert_eq!(
                        (status, with_session.as_str()),
                        (200, resource.as_str()),
                        "{source}: {spelling:?} with a session"
                    );
                }
            }
        }
    }
    // The corpus must prove something: enough spellings reach a protected handler on the bare
    // router, in every class that can reach one.
    assert!(total >= 2_500, "{total} spellings");
    assert!(
        served_protected >= 1_800,
        "{served_protected} served: {served_by_class:?}"
    );
    assert!(next_covered >= 1_800, "{next_covered} covered by Next");
    for class in [
        "raw non-ASCII",
        "encoded non-ASCII",
        "encoded non-ASCII (lowercase hex)",
        "dot segments",
        "climbs out of the skip list",
        "doubled slashes",
        "backslashes",
        "case",
        "semicolon",
    ] {
        let n = served_by_class.get(class).copied().unwrap_or(0);
        assert!(
            n >= 5,
            "only {n} {class} spellings reach a protected handler"
        );
    }
    eprintln!("{total} spellings, {served_protected} served by a protected handler ({served_by_class:?}), {next_covered} protected by Next");
}

/// Issue 10, finding 1: raw U+2028/U+2029 after a protected path. JavaScript's `.` does not match
/// them; Next.js matches the percent-encoded pathname, where it does.
#[tokio::test]
async fn raw_line_separators_do_not_slip_past_dot_matchers() {
    let bare = serve(routed()).await;
    for (source, target) in [
        ("/api/((?!public).*)", "/api/users/1\u{2028}"),
        ("/api/((?!public).*)", "/api/users/1\u{2029}"),
        (
            "/((?!api/public|_next/static|_next/image|favicon.ico).*)",
            "/dashboard/x\u{2028}",
        ),
    ] {
        let (auth, _) = layer(&[source]);
        let guarded = serve(routed().layer(auth)).await;
        assert_eq!(
            send(bare, target.as_bytes(), None).await.0,
            200,
            "{target:?}"
        );
        let status = send(guarded, target.as_bytes(), None).await.0;
        assert!(refused(status), "{source}: {target:?}: {status}");
    }
}

/// Issue 10, finding 2: a climb out of the auth path is not an auth route.
#[tokio::test]
async fn climbs_out_of_the_skip_list_are_not_skipped() {
    let bare = serve(routed()).await;
    let (auth, _) = layer(&["/api/:path*"]);
    let guarded = serve(routed().layer(auth)).await;
    for target in [
        "/api/auth/../dashboard",
        "/api/auth/%2e%2e/dashboard",
        "/api/auth/%2E%2E/me",
        "/api/auth/.%2e/users/1",
    ] {
        assert_eq!(send(bare, target.as_bytes(), None).await.0, 200, "{target}");
        let status = send(guarded, target.as_bytes(), None).await.0;
        assert_eq!(status, 401, "{target}");
    }
    // The auth routes themselves still pass.
    let status = send(guarded, b"/api/auth/session", None).await.0;
    assert_eq!(status, 200);
}

/// Issue 10, finding 3: at hyper's longest request target (65 534 bytes) the decision runs no
/// pattern, and a path past `Matcher::MAX_PATH_LEN` is covered, whatever the sources say.
#[tokio::test]
async fn paths_past_the_length_bound_are_covered() {
    let bare = serve(routed()).await;
    let (auth, cookie) = layer(&["/dashboard/:path*", "/shop/:cat-:item-:sku"]);
    let guarded = serve(routed().layer(auth)).await;
    let longest = 65_534;
    for prefix in ["/public/", "/shop/", "/dashboard/"] {
        let target = format!(
            "{prefix}{}",
            "a-".repeat(longest).split_at(longest - prefix.len()).0
        );
        assert_eq!(target.len(), longest);
        assert_eq!(send(bare, target.as_bytes(), None).await.0, 200, "{prefix}");
        assert_eq!(
            send(guarded, target.as_bytes(), None).await.0,
            307,
            "{prefix}"
        );
        assert_eq!(
            send(guarded, target.as_bytes(), Some(&cookie)).await.0,
            200,
            "{prefix}"
        );
    }
    // One byte more and hyper refuses the request itself.
    let target = format!("/public/{}", "a".repeat(longest - 7));
    assert_eq!(send(bare, target.as_bytes(), None).await.0, 414);
    // Just past the bound, just under it.
    let over = format!("/public/{}", "a".repeat(Matcher::MAX_PATH_LEN));
    assert_eq!(send(guarded, over.as_bytes(), None).await.0, 307);
    let under = format!("/public/{}", "a".repeat(Matcher::MAX_PATH_LEN - 8));
    assert_eq!(send(guarded, under.as_bytes(), None).await.0, 200);
}

/// Issue 10, finding 5: inside `Router::nest`, axum strips the prefix before the layer runs; the
/// layer matches on `OriginalUri`.
#[tokio::test]
async fn nested_routers_match_the_original_path() {
    let (auth, cookie) = layer(&["/admin/:path*"]);
    let inner = Router::new()
        .route("/users", get(|| async { "users" }))
        .layer(auth);
    let app = Router::new()
        .nest("/admin", inner)
        .route("/public", get(|| async { "public" }));
    let status = |target: &'static str, cookie: Option<String>| {
        let app = app.clone();
        async move {
            let mut req = Request::get(target).header("accept", "text/html");
            if let Some(cookie) = cookie {
                req = req.header("cookie", cookie);
            }
            app.oneshot(req.body(Body::empty()).unwrap())
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        status("/admin/users", None).await,
        StatusCode::TEMPORARY_REDIRECT
    );
    assert_eq!(status("/admin/users", Some(cookie)).await, StatusCode::OK);
    assert_eq!(status("/public", None).await, StatusCode::OK);
}
