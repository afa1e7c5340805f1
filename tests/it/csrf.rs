//! Login CSRF (issue 10): next-auth's double-submit `csrfToken` in [`Csrf`], the `Origin` /
//! `Sec-Fetch-Site` check, and the quickstart's sign-in and sign-out refusing cross-site posts
//! (the example binary, run on loopback). The real next-auth side is in
//! `tests/external/interop_csrf.rs`.

use http::header::{COOKIE, HOST, ORIGIN};
use http::{HeaderMap, HeaderValue, Uri};
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use tower_nextauth::csrf::{CsrfError, CsrfToken};
use tower_nextauth::{Builder, Csrf, Format};

use crate::support::{http, pair, quickstart, Reply};

const SECRET: &str = "csrf-test-secret-0123456789abcdef0123";

fn csrf_with(format: Format, secrets: &[&str], secure: bool, url: Option<&str>) -> Csrf {
    let mut builder = Builder::new()
        .secrets(secrets)
        .format(format)
        .secure_cookie(secure);
    if let Some(url) = url {
        builder = builder.url(url).unwrap();
    }
    builder.build().unwrap().sessions().csrf().clone()
}

fn csrf() -> Csrf {
    csrf_with(Format::V5, &[SECRET], false, None)
}

/// `hex(sha256(token + secret))`, computed here independently of the crate.
fn hash(token: &str, secret: &str) -> String {
    Sha256::digest(format!("{token}{secret}"))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (name, value) in pairs {
        h.append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    h
}

/// The `name=value` pair a browser sends back for the issued cookie.
fn cookie_pair(issued: &CsrfToken) -> String {
    pair(issued.set_cookie().unwrap().to_str().unwrap()).to_owned()
}

fn path() -> Uri {
    Uri::from_static("/api/auth/signin")
}

#[test]
fn issue_writes_next_auths_exact_cookie_for_each_format_and_prefix() {
    for (format, secure, name) in [
        (Format::V4, false, "next-auth.csrf-token"),
        (Format::V4, true, "__Host-next-auth.csrf-token"),
        (Format::V5, false, "authjs.csrf-token"),
        (Format::V5, true, "__Host-authjs.csrf-token"),
    ] {
        let csrf = csrf_with(format, &[SECRET], secure, None);
        assert_eq!(csrf.cookie_name(), name);
        let issued = csrf.issue(&HeaderMap::new());
        let token = issued.token();
        assert_eq!(token.len(), 64);
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        let secure_attr = if secure { "; Secure" } else { "" };
        assert_eq!(
            issued.set_cookie().unwrap(),
            &format!(
                "{name}={token}%7C{}; Path=/; HttpOnly{secure_attr}; SameSite=Lax",
                hash(token, SECRET)
            ),
        );
    }
    // The URL decides `secure` like next-auth's `useSecureCookies`.
    let https = csrf_with(
        Format::V5,
        &[SECRET],
        false,
        Some("https://app.example.com"),
    );
    let built = Builder::new()
        .secret(SECRET)
        .format(Format::V5)
        .url("https://app.example.com")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        built.sessions().csrf().cookie_name(),
        "__Host-authjs.csrf-token"
    );
    assert_eq!(https.cookie_name(), "authjs.csrf-token", "explicit wins");
}

#[test]
fn fresh_tokens_differ() {
    let csrf = csrf();
    let a = csrf.issue(&HeaderMap::new());
    let b = csrf.issue(&HeaderMap::new());
    assert_ne!(a.token(), b.token());
}

#[test]
fn issue_verify_round_trip_and_reuse() {
    for format in [Format::V4, Format::V5] {
        for secure in [false, true] {
            let csrf = csrf_with(format, &[SECRET], secure, None);
            let issued = csrf.issue(&HeaderMap::new());
            let request = headers(&[("cookie", &format!("theme=dark; {}", cookie_pair(&issued)))]);
            assert_eq!(csrf.verify_token(&request, issued.token()), Ok(()));
            let again = csrf.issue(&request);
            assert_eq!(again.token(), issued.token());
            assert!(again.set_cookie().is_none());
            // A POST through `verify`, with nothing saying cross-site.
            assert_eq!(csrf.verify(&path(), &request, issued.token()), Ok(()));
        }
    }
}

#[test]
fn raw_pipe_and_encoded_pipe_both_read_like_cookie_parse() {
    let csrf = csrf();
    let token = "ab".repeat(32);
    let raw = format!("authjs.csrf-token={token}|{}", hash(&token, SECRET));
    let encoded = format!("authjs.csrf-token={token}%7c{}", hash(&token, SECRET));
    for cookie in [raw, encoded] {
        assert_eq!(
            csrf.verify_token(&headers(&[("cookie", &cookie)]), &token),
            Ok(())
        );
    }
}

#[test]
fn v5_with_several_secrets_hashes_them_joined_by_commas() {
    let csrf = csrf_with(Format::V5, &["new-secret", "old-secret"], false, None);
    let issued = csrf.issue(&HeaderMap::new());
    assert!(cookie_pair(&issued).ends_with(&hash(issued.token(), "new-secret,old-secret")));
    // v4 has no rotation: the first secret only.
    let v4 = csrf_with(Format::V4, &["new-secret", "old-secret"], false, None);
    let issued = v4.issue(&HeaderMap::new());
    assert!(cookie_pair(&issued).ends_with(&hash(issued.token(), "new-secret")));
}

#[test]
fn tampered_cookie_or_token_is_refused() {
    let csrf = csrf();
    let issued = csrf.issue(&HeaderMap::new());
    let token = issued.token();
    let pair = cookie_pair(&issued);
    let good = headers(&[("cookie", &pair)]);

    // Another token in the form.
    let mut other = token.to_owned();
    other.replace_range(0..1, if token.starts_with('0') { "1" } else { "0" });
    assert_eq!(
        csrf.verify_token(&good, &other),
        Err(CsrfError::TokenMismatch)
    );
    assert_eq!(csrf.verify_token(&good, ""), Err(CsrfError::MissingToken));
    assert_eq!(
        csrf.verify_token(&good, &token[..63]),
        Err(CsrfError::TokenMismatch)
    );

    // The attacker's own token in the cookie, with the form to match: the hash gives it away.
    let forged = pair.replacen(token, &other, 1);
    assert_eq!(
        csrf.verify_token(&headers(&[("cookie", &forged)]), &other),
        Err(CsrfError::InvalidCookie)
    );
    // A flipped hash digit, a missing hash, a hash of the token alone.
    let flipped = format!("{}0", &pair[..pair.len() - 1]);
    let flipped = if flipped == pair {
        format!("{}1", &pair[..pair.len() - 1])
    } else {
        flipped
    };
    for cookie in [
        flipped,
        format!("authjs.csrf-token={token}"),
        format!("authjs.csrf-token={token}%7C"),
        format!("authjs.csrf-token={token}%7C{}", hash(token, "")),
    ] {
        assert_eq!(
            csrf.verify_token(&headers(&[("cookie", &cookie)]), token),
            Err(CsrfError::InvalidCookie),
            "{cookie}"
        );
        // And issue does not reuse it: a fresh token and cookie.
        let fresh = csrf.issue(&headers(&[("cookie", &cookie)]));
        assert_ne!(fresh.token(), token);
        assert!(fresh.set_cookie().is_some());
    }
}

#[test]
fn wrong_secret_is_refused() {
    let issued = csrf().issue(&HeaderMap::new());
    let request = headers(&[("cookie", &cookie_pair(&issued))]);
    let other = csrf_with(
        Format::V5,
        &["another-secret-0123456789abcdef"],
        false,
        None,
    );
    assert_eq!(
        other.verify_token(&request, issued.token()),
        Err(CsrfError::InvalidCookie)
    );
}

#[test]
fn missing_cookie_is_refused() {
    let csrf = csrf();
    let issued = csrf.issue(&HeaderMap::new());
    assert_eq!(
        csrf.verify_token(&HeaderMap::new(), issued.token()),
        Err(CsrfError::MissingCookie)
    );
    // The other format's cookie is not this one.
    let v4 = csrf_with(Format::V4, &[SECRET], false, None);
    let request = headers(&[("cookie", &cookie_pair(&issued))]);
    assert_eq!(
        v4.verify_token(&request, issued.token()),
        Err(CsrfError::MissingCookie)
    );
    assert_eq!(
        csrf.verify(&path(), &HeaderMap::new(), issued.token()),
        Err(CsrfError::MissingCookie)
    );
}

#[test]
fn cross_site_origin_is_refused() {
    let configured = csrf_with(
        Format::V5,
        &[SECRET],
        false,
        Some("https://app.example.com"),
    );
    let unconfigured = csrf();
    let host = ("host", "app.example.com");
    for origin in [
        "https://evil.example",
        "https://sub.app.example.com",
        "http://app.example.com.evil.example",
        "null",
        "https://app.example.com/",
        "https://user@app.example.com",
        "app.example.com",
        "",
    ] {
        let request = headers(&[host, ("origin", origin)]);
        assert_eq!(
            configured.check_origin(&path(), &request),
            Err(CsrfError::CrossOrigin),
            "{origin:?}"
        );
        assert_eq!(
            unconfigured.check_origin(&path(), &request),
            Err(CsrfError::CrossOrigin),
            "{origin:?}"
        );
    }
    // With a configured URL the scheme counts, and `Host` does not: a request whose Host agrees
    // with a foreign Origin is still refused.
    for (host, origin) in [
        ("app.example.com", "http://app.example.com"),
        ("evil.example", "https://evil.example"),
    ] {
        assert_eq!(
            configured.check_origin(&path(), &headers(&[("host", host), ("origin", origin)])),
            Err(CsrfError::CrossOrigin),
            "{origin}"
        );
    }
    // Two Origin headers, or an Origin but no Host to compare it with.
    let two = headers(&[
        host,
        ("origin", "https://app.example.com"),
        ("origin", "https://app.example.com"),
    ]);
    assert_eq!(
        configured.check_origin(&path(), &two),
        Err(CsrfError::CrossOrigin)
    );
    assert_eq!(
        unconfigured.check_origin(&path(), &headers(&[("origin", "http://localhost:3000")])),
        Err(CsrfError::CrossOrigin)
    );
    // Even with a valid token, `verify` stops at the Origin.
    let issued = unconfigured.issue(&HeaderMap::new());
    let request = headers(&[
        ("host", "localhost:3000"),
        ("origin", "http://evil.example"),
        ("cookie", &cookie_pair(&issued)),
    ]);
    assert_eq!(
        unconfigured.verify(&path(), &request, issued.token()),
        Err(CsrfError::CrossOrigin)
    );
}

#[test]
fn sec_fetch_site_cross_site_is_refused() {
    let csrf = csrf_with(
        Format::V5,
        &[SECRET],
        false,
        Some("https://app.example.com"),
    );
    let issued = csrf.issue(&HeaderMap::new());
    for site in ["cross-site", "Cross-Site", "bogus", ""] {
        let request = headers(&[
            ("origin", "https://app.example.com"),
            ("sec-fetch-site", site),
            ("cookie", &cookie_pair(&issued)),
        ]);
        assert_eq!(
            csrf.verify(&path(), &request, issued.token()),
            Err(CsrfError::CrossSite),
            "{site:?}"
        );
    }
    // Without an Origin too.
    let request = headers(&[("sec-fetch-site", "cross-site")]);
    assert_eq!(
        csrf.check_origin(&path(), &request),
        Err(CsrfError::CrossSite)
    );
}

#[test]
fn same_origin_is_allowed() {
    let configured = csrf_with(
        Format::V5,
        &[SECRET],
        false,
        Some("https://app.example.com"),
    );
    for site in ["same-origin", "same-site", "none"] {
        let request = headers(&[
            ("origin", "https://app.example.com"),
            ("sec-fetch-site", site),
        ]);
        assert_eq!(configured.check_origin(&path(), &request), Ok(()), "{site}");
    }
    // The default port in the configured URL is what browsers leave out of `Origin`.
    let port = csrf_with(
        Format::V5,
        &[SECRET],
        false,
        Some("https://App.Example.com:443/api/auth"),
    );
    assert_eq!(
        port.check_origin(&path(), &headers(&[("origin", "https://app.example.com")])),
        Ok(())
    );

    // No configured URL: the request's own authority, from Host or from the URI (HTTP/2).
    let unconfigured = csrf();
    let host = headers(&[
        ("host", "127.0.0.1:3000"),
        ("origin", "http://127.0.0.1:3000"),
    ]);
    assert_eq!(unconfigured.check_origin(&path(), &host), Ok(()));
    let h2 = Uri::from_static("https://localhost:8443/api/auth/signin");
    assert_eq!(
        unconfigured.check_origin(&h2, &headers(&[("origin", "https://localhost:8443")])),
        Ok(())
    );
    assert_eq!(
        unconfigured.check_origin(&h2, &headers(&[("origin", "https://localhost:8444")])),
        Err(CsrfError::CrossOrigin)
    );
}

#[test]
fn no_headers_are_allowed() {
    assert_eq!(csrf().check_origin(&path(), &HeaderMap::new()), Ok(()));
    let configured = csrf_with(Format::V4, &[SECRET], true, Some("https://app.example.com"));
    assert_eq!(configured.check_origin(&path(), &HeaderMap::new()), Ok(()));
}

#[test]
fn debug_redacts_the_secret_and_the_token() {
    let csrf = csrf();
    let shown = format!("{csrf:?} {csrf:#?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(!shown.contains("csrf-test-secret"), "{shown}");
    assert!(shown.contains("REDACTED"), "{shown}");
    let issued = csrf.issue(&HeaderMap::new());
    let shown = format!("{issued:?}");
    assert!(!shown.contains(issued.token()), "{shown}");
    assert!(shown.contains("REDACTED"), "{shown}");
}

#[test]
fn errors_have_stable_names() {
    let names: Vec<String> = [
        CsrfError::CrossSite,
        CsrfError::CrossOrigin,
        CsrfError::MissingCookie,
        CsrfError::InvalidCookie,
        CsrfError::MissingToken,
        CsrfError::TokenMismatch,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(
        names,
        [
            "cross-site",
            "cross-origin",
            "missing-cookie",
            "invalid-cookie",
            "missing-token",
            "token-mismatch"
        ]
    );
}

proptest! {
    /// Arbitrary header bytes never panic, and never verify against a token they were not issued
    /// for.
    #[test]
    fn arbitrary_headers_never_panic_or_verify(
        cookie in proptest::collection::vec(any::<u8>(), 0..300),
        origin in proptest::collection::vec(any::<u8>(), 0..100),
        site in proptest::collection::vec(any::<u8>(), 0..30),
        host in proptest::collection::vec(any::<u8>(), 0..40),
        submitted in ".{0,80}",
    ) {
        let csrf = csrf();
        let mut request = HeaderMap::new();
        let mut prefixed = b"authjs.csrf-token=".to_vec();
        prefixed.extend_from_slice(&cookie);
        for (name, value) in [(COOKIE, prefixed), (ORIGIN, origin), (HOST, host)] {
            if let Ok(value) = HeaderValue::from_bytes(&value) {
                request.append(name, value);
            }
        }
        if let Ok(value) = HeaderValue::from_bytes(&site) {
            request.append("sec-fetch-site", value);
        }
        let _ = csrf.check_origin(&path(), &request);
        let issued = csrf.issue(&request);
        prop_assert_eq!(issued.token().len(), 64);
        prop_assert!(csrf.verify_token(&request, &submitted).is_err());
    }
}

// ---- The quickstart, as a process on loopback ----

/// The hidden `csrfToken` of the first form in `html`.
fn hidden_token(html: &str) -> String {
    let start = html
        .find(r#"name="csrfToken" value=""#)
        .expect("no csrfToken field")
        + 24;
    html[start..start + 64].to_owned()
}

const FORM: &str = "application/x-www-form-urlencoded";

/// A POST: what it tries, its headers and its body.
type Attempt<'a> = (&'a str, Vec<(&'a str, &'a str)>, String);

fn check_quickstart_refuses_cross_site_posts(args: &[&str], csrf_cookie: &str, session: &str) {
    let server = quickstart(args);
    let own_origin = format!("http://{}", server.authority());

    // The victim has loaded the sign-in page: the form carries the token, the cookie is set.
    let page = http(
        &server,
        "GET",
        "/api/auth/signin?callbackUrl=%2Fdashboard",
        &[],
        "",
    );
    assert_eq!(page.status, 200);
    let token = hidden_token(&page.body);
    let set = page
        .set_cookie()
        .into_iter()
        .find(|c| c.starts_with(&format!("{csrf_cookie}=")))
        .unwrap_or_else(|| panic!("no {csrf_cookie} cookie: {:?}", page.set_cookie()));
    assert!(set.ends_with("; Path=/; HttpOnly; SameSite=Lax"), "{set}");
    let cookie = pair(&set).to_owned();

    let form = format!(
        "csrfToken={token}&name=Mallory&email=mallory%40evil.example&role=admin&callbackUrl=%2Fdashboard"
    );
    let signs_in = |reply: &Reply| reply.set_cookie().iter().any(|c| c.starts_with(session));

    // Cross-site attempts, each refused with 403 and no session, even when the attacker knows
    // the victim's token and the browser sends the victim's cookie.
    let cross_site: [Attempt; 6] = [
        (
            "foreign Origin",
            vec![
                ("Content-Type", FORM),
                ("Cookie", &cookie),
                ("Origin", "http://evil.example"),
            ],
            form.clone(),
        ),
        (
            "Sec-Fetch-Site: cross-site",
            vec![
                ("Content-Type", FORM),
                ("Cookie", &cookie),
                ("Origin", &own_origin),
                ("Sec-Fetch-Site", "cross-site"),
            ],
            form.clone(),
        ),
        (
            "Origin: null",
            vec![
                ("Content-Type", FORM),
                ("Cookie", &cookie),
                ("Origin", "null"),
            ],
            form.clone(),
        ),
        (
            "no CSRF cookie (SameSite=Lax keeps it off cross-site posts)",
            vec![("Content-Type", FORM)],
            form.clone(),
        ),
        (
            "a guessed token",
            vec![("Content-Type", FORM), ("Cookie", &cookie)],
            form.replace(&token, &"0".repeat(64)),
        ),
        (
            "a text/plain form",
            vec![("Content-Type", "text/plain"), ("Cookie", &cookie)],
            form.clone(),
        ),
    ];
    for (what, headers, body) in &cross_site {
        let reply = http(&server, "POST", "/api/auth/signin", headers, body);
        assert_eq!(reply.status, 403, "sign-in with {what}: {}", reply.body);
        assert!(!signs_in(&reply), "sign-in with {what} set a session");
        assert!(
            reply.body.starts_with("CSRF check failed"),
            "{what}: {}",
            reply.body
        );
    }

    // The same form from the app's own page signs in.
    let same_origin = [
        ("Content-Type", FORM),
        ("Cookie", cookie.as_str()),
        ("Origin", own_origin.as_str()),
        ("Sec-Fetch-Site", "same-origin"),
    ];
    let reply = http(&server, "POST", "/api/auth/signin", &same_origin, &form);
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert!(signs_in(&reply), "{:?}", reply.set_cookie());
    let session_pair = reply
        .set_cookie()
        .iter()
        .find(|c| c.starts_with(session))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    // Sign-out: a cross-site post leaves the session alone, the app's own form clears it.
    let both = format!("{cookie}; {session_pair}");
    let sign_out = format!("csrfToken={token}");
    let reply = http(
        &server,
        "POST",
        "/api/auth/signout",
        &[
            ("Content-Type", FORM),
            ("Cookie", &both),
            ("Origin", "http://evil.example"),
        ],
        &sign_out,
    );
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert!(reply.set_cookie().is_empty(), "{:?}", reply.set_cookie());
    let reply = http(
        &server,
        "POST",
        "/api/auth/signout",
        &[
            ("Content-Type", FORM),
            ("Cookie", &both),
            ("Origin", &own_origin),
        ],
        &sign_out,
    );
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert!(
        reply
            .set_cookie()
            .iter()
            .any(|c| c.starts_with(&format!("{session}=; Max-Age=0"))),
        "{:?}",
        reply.set_cookie()
    );
}

#[test]
fn quickstart_refuses_cross_site_sign_in_and_sign_out() {
    check_quickstart_refuses_cross_site_posts(&[], "authjs.csrf-token", "authjs.session-token");
}

#[test]
fn quickstart_v4_refuses_cross_site_sign_in_and_sign_out() {
    check_quickstart_refuses_cross_site_posts(
        &["--v4"],
        "next-auth.csrf-token",
        "next-auth.session-token",
    );
}
