//! The quickstart with database sessions (`DATABASE_URL`, built with `postgres`), as a process
//! on loopback against a fresh database: sign-in writes the user and session rows the real
//! adapter reads, the layer and the pages read them, `/api/auth/session` answers as @auth/core's
//! session route does, sign-out deletes the row. Also: the tables are created when missing, and
//! a build without `postgres` refuses `DATABASE_URL` instead of ignoring it.

use serde_json::{json, Value};

use crate::support::{iso, now_ms, unix_ms, TestDb};

// The offline tests' helpers for running examples (`tests/it/support.rs`).
#[path = "../it/support.rs"]
mod examples;

use examples::{http, pair, Reply, Server};

const SECRET: &str = "quickstart-database-sessions-secret-0123";
const FEATURES: &str = "axum,tracing,postgres";
const FORM: &str = "application/x-www-form-urlencoded";
const MAX_AGE_MS: i64 = 30 * 24 * 3_600_000;

/// The quickstart on `t`'s database, with database sessions.
fn start(t: &TestDb) -> Server {
    examples::serve_with(
        "quickstart",
        FEATURES,
        &[],
        &[("DATABASE_URL", &t.url), ("NEXTAUTH_SECRET", SECRET)],
    )
}

/// The hidden `csrfToken` of the first form in `html`.
fn hidden_token(html: &str) -> String {
    let start = html
        .find(r#"name="csrfToken" value=""#)
        .expect("no csrfToken field")
        + 24;
    html[start..start + 64].to_owned()
}

/// The `name=value` of the `Set-Cookie` line for cookie `name`, if any.
fn set_cookie(reply: &Reply, name: &str) -> Option<String> {
    reply
        .set_cookie()
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
}

/// A browser's sign-in: the form (its CSRF token and cookie), then the POST. The reply and the
/// CSRF cookie.
fn sign_in(server: &Server, name: &str, email: &str) -> (Reply, String) {
    let page = http(
        server,
        "GET",
        "/api/auth/signin?callbackUrl=%2Fdashboard",
        &[],
        "",
    );
    assert_eq!(page.status, 200, "{}", page.body);
    // The adapter's tables have no role: the form says who the admins are instead.
    assert!(page.body.contains(r#"id="admins""#), "{}", page.body);
    assert!(page.body.contains("admin@example.com"), "{}", page.body);
    assert!(!page.body.contains(r#"name="role""#), "{}", page.body);
    let token = hidden_token(&page.body);
    let csrf = pair(&set_cookie(&page, "authjs.csrf-token").expect("a CSRF cookie")).to_owned();
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let form = format!(
        "csrfToken={token}&callbackUrl=%2Fdashboard&name={}&email={}",
        enc(name),
        enc(email)
    );
    let reply = http(
        server,
        "POST",
        "/api/auth/signin",
        &[("Content-Type", FORM), ("Cookie", &csrf)],
        &form,
    );
    (reply, csrf)
}

/// A random UUID v4, hyphenated (core's `crypto.randomUUID()`).
fn is_uuid_v4(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        && groups[2].starts_with('4')
        && groups[3].starts_with(['8', '9', 'a', 'b'])
}

/// The session row of `token` with its user: `(users.id, name, email, expires in ms)`.
async fn row(t: &TestDb, token: &str) -> Option<(i32, String, String, i64)> {
    t.admin
        .query_opt(
            r#"SELECT u.id, u.name, u.email, s.expires FROM sessions s
               JOIN users u ON u.id = s."userId" WHERE s."sessionToken" = $1"#,
            &[&token],
        )
        .await
        .unwrap()
        .map(|r| (r.get(0), r.get(1), r.get(2), unix_ms(r.get(3))))
}

#[tokio::test]
async fn sign_in_writes_rows_the_adapter_reads_and_sign_out_deletes_them() {
    // Built before the database is made: the build takes a while, the cluster is shared.
    examples::build_example_with("quickstart", FEATURES);
    let t = TestDb::new("quickstart").await;
    let server = start(&t);
    // The banner says the mode and where, never the password.
    let db_name = t.url.rsplit('/').next().unwrap();
    assert!(
        server.banner.contains("database sessions: 127.0.0.1:")
            && server.banner.contains(&format!("/{db_name})")),
        "{}",
        server.banner
    );
    let password = t.url.split(':').nth(2).unwrap().split('@').next().unwrap();
    assert!(!server.banner.contains(password), "{}", server.banner);

    // ---- Sign-in: a user row, a session row, its token in the cookie ----
    let started = now_ms();
    let (reply, csrf) = sign_in(&server, "Ada Lovelace", "ada@example.com");
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(reply.header("location"), Some("/dashboard"));
    let set = set_cookie(&reply, "authjs.session-token").expect("a session cookie");
    assert!(
        set.contains("; Path=/; Expires=") && set.ends_with("; HttpOnly; SameSite=Lax"),
        "{set}"
    );
    let token = pair(&set)["authjs.session-token=".len()..].to_owned();
    assert!(is_uuid_v4(&token), "{token}");
    let (user_id, name, email, expires) = row(&t, &token).await.expect("a session row");
    assert_eq!(
        (name.as_str(), email.as_str()),
        ("Ada Lovelace", "ada@example.com")
    );
    assert!(
        (started + MAX_AGE_MS - 1000..=now_ms() + MAX_AGE_MS).contains(&expires),
        "expires {expires}, signed in at {started}"
    );
    let session = format!("authjs.session-token={token}");
    let cookies = format!("{csrf}; {session}");

    // The real adapter reads the session the quickstart wrote.
    let answers = t
        .adapter(json!([
            { "op": "getSessionAndUser", "sessionToken": token },
            { "op": "route", "format": "v5", "sessionToken": token },
        ]))
        .await;
    let found = &answers[0]["result"];
    assert_eq!(found["session"]["sessionToken"], token.as_str());
    assert_eq!(found["session"]["userId"], user_id);
    assert_eq!(found["session"]["expires"], iso(expires));
    assert_eq!(
        found["user"],
        json!({"id": user_id, "name": "Ada Lovelace", "email": "ada@example.com", "emailVerified": null, "image": null})
    );
    let route = &answers[1];
    assert_eq!(route["status"], 200);

    // ---- What the layer and the pages make of it ----
    let dashboard = http(&server, "GET", "/dashboard", &[("Cookie", &session)], "");
    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    assert!(
        dashboard.body.contains("Hello, Ada Lovelace!"),
        "{}",
        dashboard.body
    );
    assert!(dashboard.body.contains("ada@example.com"));
    // Fresh: the layer does not set the cookie again.
    assert!(set_cookie(&dashboard, "authjs.session-token").is_none());

    let me = http(&server, "GET", "/api/me", &[("Cookie", &session)], "");
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(
        serde_json::from_str::<Value>(&me.body).unwrap(),
        json!({
            "user": {"id": user_id, "name": "Ada Lovelace", "email": "ada@example.com", "image": null},
            "expires": iso(expires),
        })
    );

    // Not in ADMIN_EMAILS (admin@example.com by default): 403, the styled page for a browser.
    let admin = http(
        &server,
        "GET",
        "/admin",
        &[("Cookie", &session), ("Accept", "text/html")],
        "",
    );
    assert_eq!(admin.status, 403, "{}", admin.body);
    assert!(admin.body.contains("Access denied"), "{}", admin.body);
    assert!(admin.body.contains("ADMIN_EMAILS"), "{}", admin.body);

    // The session endpoint answers as @auth/core's session route on the adapter does.
    let endpoint = http(
        &server,
        "GET",
        "/api/auth/session",
        &[("Cookie", &session)],
        "",
    );
    assert_eq!(endpoint.status, 200, "{}", endpoint.body);
    assert_eq!(endpoint.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_str(&endpoint.body).unwrap();
    assert_eq!(
        body,
        json!({"user": {"name": "Ada Lovelace", "email": "ada@example.com", "image": null}, "expires": iso(expires)})
    );
    assert_eq!(body, route["body"], "@auth/core's session route answers");

    // The inspector says which mode, shows the token's length and the user row, never the token.
    let page = http(&server, "GET", "/session", &[("Cookie", &cookies)], "");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("database sessions"), "{}", page.body);
    assert!(
        page.body
            .contains(r#"<strong id="token-length">36</strong>"#),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(r#"<td id="user-email">ada@example.com</td>"#),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains(&format!(r#"data-exp="{}""#, expires / 1000)));
    assert!(
        !page.body.contains(&token),
        "the page shows the session token"
    );
    assert!(
        !page.body.contains(&token[..8]),
        "the page shows part of the token"
    );

    // ---- An admin, by email ----
    let (reply, _) = sign_in(&server, "Grace Hopper", "admin@example.com");
    assert_eq!(reply.status, 303, "{}", reply.body);
    let admin_session = pair(&set_cookie(&reply, "authjs.session-token").unwrap()).to_owned();
    let admin = http(
        &server,
        "GET",
        "/admin",
        &[("Cookie", &admin_session), ("Accept", "text/html")],
        "",
    );
    assert_eq!(admin.status, 200, "{}", admin.body);
    assert!(
        admin
            .body
            .contains("Welcome to the admin area, Grace Hopper."),
        "{}",
        admin.body
    );

    // ---- Signing in again with a known email: the same user, a second session ----
    let (reply, _) = sign_in(&server, "Countess of Lovelace", "ada@example.com");
    assert_eq!(reply.status, 303, "{}", reply.body);
    let second = pair(&set_cookie(&reply, "authjs.session-token").unwrap())
        ["authjs.session-token=".len()..]
        .to_owned();
    assert_ne!(second, token);
    let (again, name, ..) = row(&t, &second).await.expect("a second session row");
    assert_eq!((again, name.as_str()), (user_id, "Ada Lovelace"));
    let users: i64 = t
        .admin
        .query_one(
            "SELECT count(*) FROM users WHERE email = 'ada@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(users, 1);

    // ---- Sign-out: the row is deleted and the cookie cleared ----
    let page = http(&server, "GET", "/dashboard", &[("Cookie", &cookies)], "");
    let form = format!("csrfToken={}", hidden_token(&page.body));
    let out = http(
        &server,
        "POST",
        "/api/auth/signout",
        &[("Content-Type", FORM), ("Cookie", &cookies)],
        &form,
    );
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(out.header("location"), Some("/"));
    let cleared = set_cookie(&out, "authjs.session-token").expect("the cookie cleared");
    assert!(
        cleared.starts_with("authjs.session-token=; Max-Age=0"),
        "{cleared}"
    );
    assert_eq!(
        row(&t, &token).await,
        None,
        "the session row survived sign-out"
    );
    assert!(
        row(&t, &second).await.is_some(),
        "sign-out ended another session"
    );

    // The old cookie is no session any more: here, and for the adapter.
    let dashboard = http(&server, "GET", "/dashboard", &[("Cookie", &session)], "");
    assert_eq!(dashboard.status, 307, "{}", dashboard.body);
    assert_eq!(
        dashboard.header("location"),
        Some("/api/auth/signin?callbackUrl=%2Fdashboard")
    );
    let endpoint = http(
        &server,
        "GET",
        "/api/auth/session",
        &[("Cookie", &session)],
        "",
    );
    assert_eq!(endpoint.body, "null");
    assert!(set_cookie(&endpoint, "authjs.session-token")
        .is_some_and(|c| c.starts_with("authjs.session-token=; Max-Age=0")));
    let answers = t
        .adapter(json!([{ "op": "getSessionAndUser", "sessionToken": token }]))
        .await;
    assert_eq!(answers[0]["result"], Value::Null);
}

#[tokio::test]
async fn the_adapter_tables_are_created_when_missing() {
    examples::build_example_with("quickstart", FEATURES);
    let t = TestDb::new("quickstart_schema").await;
    t.admin
        .batch_execute("DROP TABLE users, sessions, accounts, verification_token")
        .await
        .unwrap();
    let exists = |table: &'static str| {
        let admin = &t.admin;
        async move {
            admin
                .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
                .await
                .unwrap()
                .get::<_, bool>(0)
        }
    };
    assert!(!exists("public.sessions").await);

    let first = start(&t);
    for table in ["users", "sessions", "accounts", "verification_token"] {
        assert!(exists(table).await, "{table} was not created");
    }
    let (reply, _) = sign_in(&first, "Ada", "ada@example.com");
    assert_eq!(reply.status, 303, "{}", reply.body);
    drop(first);

    // With the tables there, a second start leaves them (and their rows) alone.
    let second = start(&t);
    let users: i64 = t
        .admin
        .query_one("SELECT count(*) FROM users", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(users, 1);
    let (reply, _) = sign_in(&second, "Ada", "ada@example.com");
    assert_eq!(reply.status, 303, "{}", reply.body);
}

#[test]
fn a_build_without_postgres_refuses_database_url() {
    let out = examples::example("quickstart")
        .env("DATABASE_URL", "postgres://app:s3cret@127.0.0.1:1/app")
        .env("PORT", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "it started");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("--features postgres"), "{stderr}");
    assert!(
        stderr.contains(
            "DATABASE_URL=postgres://… cargo run --example quickstart --features axum,tracing,postgres"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
}
