//! The README's axum example, run: README.md shows `examples/readme.rs` verbatim, and the
//! example does what the README says it does.

use serde_json::json;
use tower_nextauth::{Builder, Format};

use crate::support::{http, serve, SECRET};

const EXAMPLE: &str = include_str!("../../examples/readme.rs");
const README: &str = include_str!("../../README.md");

#[test]
fn the_readme_shows_the_example_verbatim() {
    let block = format!("```rust,no_run\n{EXAMPLE}```");
    assert!(
        README.contains(&block),
        "README.md no longer shows examples/readme.rs as it is"
    );
}

#[test]
fn the_readme_example_redirects_greets_and_forbids_as_documented() {
    let server = serve("readme", &[], &[("NEXTAUTH_SECRET", SECRET)]);
    // `from_env` with only NEXTAUTH_SECRET: reads v5 then v4 cookies, writes v5.
    let sessions = Builder::new()
        .secret(SECRET)
        .format(Format::V5)
        .build()
        .unwrap();
    let cookie = |claims: serde_json::Value| {
        let jwe = sessions.sessions().encode(&claims).unwrap();
        format!("authjs.session-token={jwe}")
    };
    let html = [("accept", "text/html")];

    let anonymous = http(&server, "GET", "/dashboard", &html, "");
    assert_eq!(anonymous.status, 307);
    assert_eq!(
        anonymous.header("location"),
        Some("/api/auth/signin?callbackUrl=%2Fdashboard")
    );

    let ada = cookie(json!({"name": "Ada", "role": "user"}));
    let signed_in = http(
        &server,
        "GET",
        "/dashboard",
        &[("accept", "text/html"), ("cookie", &ada)],
        "",
    );
    assert_eq!(signed_in.status, 200);
    assert_eq!(signed_in.body, "Hello, \"Ada\"");

    let forbidden = http(
        &server,
        "GET",
        "/admin",
        &[("accept", "text/html"), ("cookie", &ada)],
        "",
    );
    assert_eq!(forbidden.status, 403);

    let grace = cookie(json!({"name": "Grace", "role": "admin"}));
    let admin = http(
        &server,
        "GET",
        "/admin",
        &[("accept", "text/html"), ("cookie", &grace)],
        "",
    );
    assert_eq!(admin.status, 200);
    assert_eq!(admin.body, "Welcome to the admin area, \"Grace\"");
}
