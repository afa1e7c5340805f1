//! Misconfiguration diagnostics: a secret, format or cookie name that differs from the Next.js
//! app's shows up as a redirect loop, so the layer says so at WARN level (feature `tracing`),
//! for the first such request and then at most once a minute, without token bytes.

use std::io::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use http::header::COOKIE;
use http::{Request, StatusCode};
use serde_json::json;
use tower::{service_fn, Layer, ServiceExt};
use tower_nextauth::{Builder, Format};

use crate::support::{NOW, SECRET};

/// Collects what the fmt subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn warnings(captured: &Captured) -> Vec<String> {
    String::from_utf8(captured.0.lock().unwrap().clone())
        .unwrap()
        .lines()
        .filter(|l| l.contains("WARN"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_wrong_secret_is_named_once_a_minute_without_token_bytes() {
    let next_app = Builder::new()
        .secret("the-secret-the-next-js-app-uses!!")
        .format(Format::V5)
        .clock(|| NOW)
        .build()
        .unwrap();
    let jwe = next_app.sessions().encode(&json!({"name": "Ada"})).unwrap();

    let now = Arc::new(AtomicI64::new(NOW));
    let clock = now.clone();
    let ours = Builder::new()
        .secret(SECRET)
        .format(Format::V5)
        .clock(move || clock.load(Ordering::SeqCst))
        .build()
        .unwrap();
    let svc = ours.layer(service_fn(|_req: Request<()>| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    }));

    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let send = |svc: &tower_nextauth::AuthService<_, _, _, _>| {
        let req = Request::get("/dashboard")
            .header(COOKIE, format!("authjs.session-token={jwe}"))
            .body(())
            .unwrap();
        svc.clone().oneshot(req)
    };
    for at in [NOW, NOW + 10, NOW + 59, NOW + 61, NOW + 90] {
        now.store(at, Ordering::SeqCst);
        let res = send(&svc).await.unwrap();
        assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    }
    let warnings = warnings(&captured);
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    for line in &warnings {
        assert!(
            line.contains("\"authjs.session-token\" did not decrypt: the secret differs"),
            "{line}"
        );
        assert!(!line.contains(&jwe[..20]), "no token bytes: {line}");
    }
}

#[test]
fn format_and_cookie_name_mismatches_are_explained() {
    let v4_app = Builder::new()
        .secret(SECRET)
        .format(Format::V4)
        .clock(|| NOW)
        .build()
        .unwrap();
    let v4_token = v4_app.sessions().encode(&json!({"name": "Ada"})).unwrap();

    // A v4 token under the v5 name (an app migrated with a custom name, or a copied cookie).
    let v5_reader = Builder::new()
        .secret(SECRET)
        .format(Format::V5)
        .cookie_name("session")
        .clock(|| NOW)
        .build()
        .unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert(COOKIE, format!("session={v4_token}").parse().unwrap());
    assert_eq!(
        v5_reader.sessions().explain(&headers).unwrap(),
        "the session cookie \"session\" holds a next-auth v4 token, but this layer reads it as \
         Auth.js v5: set Builder::format (or Builder::formats) to match the Next.js app"
    );

    // The __Secure- prefix: the app runs on https, this layer was told http.
    let mut headers = http::HeaderMap::new();
    headers.insert(
        COOKIE,
        format!("__Secure-next-auth.session-token={v4_token}")
            .parse()
            .unwrap(),
    );
    let why = v4_app.sessions().explain(&headers).unwrap();
    assert!(
        why.starts_with("the request carries the session cookie \"__Secure-next-auth.session-token\", but this layer reads \"next-auth.session-token\""),
        "{why}"
    );

    // Expired and absent sessions are not misconfigurations.
    assert_eq!(v4_app.sessions().explain(&http::HeaderMap::new()), None);
    let later = Builder::new()
        .secret(SECRET)
        .format(Format::V4)
        .clock(|| NOW + 60 * 24 * 3600)
        .build()
        .unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert(
        COOKIE,
        format!("next-auth.session-token={v4_token}")
            .parse()
            .unwrap(),
    );
    assert_eq!(later.sessions().explain(&headers), None);
}
