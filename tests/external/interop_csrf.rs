//! Login CSRF against the real next-auth@4 and @auth/core (`interop/csrf.mjs`), with random
//! secrets on every run, for v4 and v5, plain and `__Host-` cookies, one and two v5 secrets:
//! - theirs -> ours: a token from their `/api/auth/csrf` verifies in [`Csrf`], and our issue
//!   reuses it; our fresh `Set-Cookie` equals theirs byte for byte apart from the random value;
//! - ours -> theirs: a token and cookie issued by [`Csrf`] pass their sign-out POST (redirect to
//!   the callback URL, session cookie cleared), and their `/api/auth/csrf` reuses our cookie.
//!
//! Needs Node and `npm ci --prefix interop`; fails (never skips) without them.

use http::HeaderMap;
use rand::distributions::{Alphanumeric, DistString};
use serde_json::{json, Value};
use tower_nextauth::csrf::CsrfError;
use tower_nextauth::{AuthLayer, Builder, Csrf, Format};

use crate::support::{cookie_headers, fmt, interop_batch, pair, session_cookie_name};

fn node(requests: &[Value]) -> Vec<Value> {
    interop_batch("csrf.mjs", requests)
}

fn secret() -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), 40)
}

/// One configuration under test: format, secrets (newest first) and secure cookies.
struct Setup {
    format: Format,
    secrets: Vec<String>,
    secure: bool,
}

impl Setup {
    fn all() -> Vec<Setup> {
        let mut out = Vec::new();
        for secure in [false, true] {
            out.push(Setup {
                format: Format::V4,
                secrets: vec![secret()],
                secure,
            });
            out.push(Setup {
                format: Format::V5,
                secrets: vec![secret()],
                secure,
            });
            // `AUTH_SECRET_1..3`: @auth/core hashes with the array joined by ",".
            out.push(Setup {
                format: Format::V5,
                secrets: vec![secret(), secret()],
                secure,
            });
        }
        out
    }

    fn layer(&self, secrets: &[String]) -> AuthLayer {
        Builder::new()
            .secrets(secrets)
            .format(self.format)
            .secure_cookie(self.secure)
            .build()
            .unwrap()
    }

    fn csrf(&self) -> Csrf {
        self.layer(&self.secrets).sessions().csrf().clone()
    }

    fn request(&self, op: &str) -> Value {
        json!({
            "op": op,
            "format": fmt(self.format),
            "secrets": self.secrets,
            "secure": self.secure,
        })
    }

    fn session_cookie(&self) -> String {
        session_cookie_name(self.format, self.secure)
    }

    fn origin(&self) -> &'static str {
        if self.secure {
            "https://localhost:3000"
        } else {
            "http://localhost:3000"
        }
    }

    fn label(&self) -> String {
        format!(
            "{:?} secure={} secrets={}",
            self.format,
            self.secure,
            self.secrets.len()
        )
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn tokens_from_next_auth_csrf_routes_verify_in_rust() {
    let setups = Setup::all();
    let answers = node(&setups.iter().map(|s| s.request("csrf")).collect::<Vec<_>>());
    for (setup, answer) in setups.iter().zip(&answers) {
        let label = setup.label();
        assert_eq!(answer["status"], 200, "{label}: {answer}");
        let token = answer["csrf_token"].as_str().unwrap();
        let set_cookie = strings(&answer["set_cookie"]);
        assert_eq!(set_cookie.len(), 1, "{label}: {set_cookie:?}");
        let theirs = &set_cookie[0];

        let csrf = setup.csrf();
        let (name, value) = pair(theirs).split_once('=').unwrap();
        assert_eq!(csrf.cookie_name(), name, "{label}");
        assert!(value.contains("%7C"), "{label}: {theirs}");

        let headers = cookie_headers(pair(theirs));
        assert_eq!(csrf.verify_token(&headers, token), Ok(()), "{label}");
        assert_eq!(
            csrf.verify_token(&headers, &"0".repeat(64)),
            Err(CsrfError::TokenMismatch),
            "{label}"
        );
        let reused = csrf.issue(&headers);
        assert_eq!(reused.token(), token, "{label}");
        assert!(reused.set_cookie().is_none(), "{label}");

        // Another secret: their cookie is not ours to trust.
        let other = setup.layer(&[secret()]);
        assert_eq!(
            other.sessions().csrf().verify_token(&headers, token),
            Err(CsrfError::InvalidCookie),
            "{label}"
        );
        // v5 with two secrets hashes with both: the first alone does not verify.
        if setup.secrets.len() > 1 {
            let first_only = setup.layer(&setup.secrets[..1]);
            assert_eq!(
                first_only.sessions().csrf().verify_token(&headers, token),
                Err(CsrfError::InvalidCookie),
                "{label}"
            );
        }

        // Our fresh cookie is their line with our value in place of theirs.
        let ours = csrf.issue(&HeaderMap::new());
        let ours_line = ours.set_cookie().unwrap().to_str().unwrap();
        let (_, our_value) = pair(ours_line).split_once('=').unwrap();
        assert_eq!(ours_line, theirs.replacen(value, our_value, 1), "{label}");
    }
}

#[test]
fn tokens_issued_in_rust_pass_next_auth_sign_out() {
    let setups = Setup::all();
    let mut requests = Vec::new();
    let mut issued = Vec::new();
    for setup in &setups {
        let ours = setup.csrf().issue(&HeaderMap::new());
        let csrf_pair = pair(ours.set_cookie().unwrap().to_str().unwrap()).to_owned();
        let cookie = format!("{csrf_pair}; {}=x", setup.session_cookie());
        let mut good = setup.request("signout");
        good["cookie"] = json!(cookie);
        good["csrf_token"] = json!(ours.token());
        // The control: the same request with another token must fail their check.
        let mut bad = good.clone();
        bad["csrf_token"] = json!("0".repeat(64));
        let mut csrf_route = setup.request("csrf");
        csrf_route["cookie"] = json!(csrf_pair);
        requests.extend([good, bad, csrf_route]);
        issued.push(ours);
    }
    let answers = node(&requests);
    for ((setup, ours), answer) in setups.iter().zip(&issued).zip(answers.chunks(3)) {
        let label = setup.label();
        let (good, bad, csrf_route) = (&answer[0], &answer[1], &answer[2]);
        let cleared = format!("{}=; Max-Age=0;", setup.session_cookie());

        // Accepted: their sign-out redirect to the callback URL, with the session cleared and
        // our CSRF cookie kept (they would re-issue it if its hash did not verify).
        assert_eq!(good["status"], 302, "{label}: {good}");
        assert_eq!(good["location"], setup.origin(), "{label}: {good}");
        let set_cookie = strings(&good["set_cookie"]);
        assert!(
            set_cookie.iter().any(|c| c.starts_with(&cleared)),
            "{label}: session not cleared: {set_cookie:?}"
        );
        assert!(
            !set_cookie.iter().any(|c| c.contains("csrf-token=")),
            "{label}: they re-issued the CSRF cookie: {set_cookie:?}"
        );

        // Refused: their CSRF-failure redirect, and the session is left alone.
        let location = bad["location"].as_str().unwrap();
        let refused = match setup.format {
            Format::V4 => location.ends_with("/api/auth/signout?csrf=true"),
            Format::V5 => location.ends_with("/api/auth/signin?error=MissingCSRF"),
            other => unreachable!("no CSRF setup for {other:?}"),
        };
        assert!(refused, "{label}: control was not refused: {bad}");
        assert!(
            !strings(&bad["set_cookie"])
                .iter()
                .any(|c| c.starts_with(&cleared)),
            "{label}: {bad}"
        );

        // Their `/api/auth/csrf` hands out our token and keeps our cookie.
        assert_eq!(csrf_route["csrf_token"], ours.token(), "{label}");
        assert_eq!(csrf_route["set_cookie"], json!([]), "{label}");
    }
}
