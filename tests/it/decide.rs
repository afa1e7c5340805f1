//! Deciding and rejecting: every decision kind, every client kind, async `authorized`, and
//! `callbackUrl` safety against hostile request targets.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use serde_json::json;
use tower::{Layer, Service, ServiceExt};
use tower_nextauth::{
    AuthLayer, Builder, CallbackUrl, Decision, Format, Rejection, SessionError, Token,
};

#[cfg(feature = "tracing")]
use crate::support::SECRET;
use crate::support::{builder, echo, get, location, rejection, session_cookie};

fn v5() -> Builder {
    builder(Format::V5)
}

fn cookie(layer: &AuthLayer, role: &str) -> String {
    session_cookie(layer, json!({"name": "Ada", "role": role}))
}

#[tokio::test]
async fn each_decision_kind_renders_as_documented() {
    let base = v5().build().unwrap();
    let user = cookie(&base, "user");
    let layer = base.clone().authorized(|req, _token| match req.uri.path() {
        "/allow" => Decision::Allow,
        "/deny" => Decision::Deny,
        "/unauthenticated" => Decision::Unauthenticated,
        "/forbidden" => Decision::Forbidden,
        "/redirect" => Decision::Redirect(HeaderValue::from_static("/somewhere-else")),
        _ => {
            let mut res = Response::new(Bytes::from_static(b"{\"custom\":true}"));
            *res.status_mut() = StatusCode::IM_A_TEAPOT;
            Decision::Respond(res)
        }
    });
    let with = |c: &str| vec![("cookie", c.to_owned())];
    let send = |path: &'static str, headers: Vec<(&'static str, String)>| {
        let layer = layer.clone();
        async move {
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            get(&layer, path, &h).await
        }
    };

    let res = send("/allow", vec![]).await;
    assert_eq!(
        (res.status(), res.body().as_str()),
        (StatusCode::OK, "anonymous")
    );

    let res = send("/deny", vec![]).await;
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(location(&res), "/api/auth/signin?callbackUrl=%2Fdeny");
    assert_eq!(
        rejection(&res),
        Some(Rejection::Unauthenticated(SessionError::Missing))
    );

    let res = send("/deny", with(&user)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(rejection(&res), Some(Rejection::Forbidden));

    let res = send("/unauthenticated", with(&user)).await;
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        rejection(&res),
        Some(Rejection::Unauthenticated(SessionError::Refused))
    );
    assert_eq!(
        location(&res),
        "/api/auth/signin?callbackUrl=%2Funauthenticated"
    );

    let res = send("/forbidden", vec![]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(res.body(), "Forbidden");

    let res = send("/redirect", vec![]).await;
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(location(&res), "/somewhere-else");
    assert_eq!(rejection(&res), Some(Rejection::Custom));

    let res = send("/respond", with(&user)).await;
    assert_eq!(res.status(), StatusCode::IM_A_TEAPOT);
    assert_eq!(res.body(), "{\"custom\":true}");
    assert_eq!(rejection(&res), Some(Rejection::Custom));
}

#[tokio::test]
async fn api_clients_get_401_json_with_www_authenticate() {
    let layer = v5().build().unwrap();
    let cases: [(&str, &[(&str, &str)]); 4] = [
        ("/api/me", &[]),
        ("/reports", &[("accept", "application/json")]),
        ("/reports", &[("x-requested-with", "XMLHttpRequest")]),
        ("/api", &[("accept", "text/html")]),
    ];
    for (path, headers) in cases {
        let res = get(&layer, path, headers).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path} {headers:?}");
        assert_eq!(res.body(), r#"{"error":"unauthenticated"}"#);
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        assert!(res.headers().get("location").is_none());
    }
    // A non-GET fetch is an API call too.
    let svc = layer.layer(tower::service_fn(echo));
    let req = Request::post("/reports").body(String::new()).unwrap();
    assert_eq!(
        svc.oneshot(req).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    // A present but invalid token says so (RFC 6750).
    let res = get(
        &layer,
        "/api/me",
        &[("cookie", "authjs.session-token=garbage")],
    )
    .await;
    assert_eq!(
        res.headers()["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );
    assert_eq!(
        rejection(&res),
        Some(Rejection::Unauthenticated(SessionError::Malformed))
    );
}

#[tokio::test]
async fn api_clients_denied_by_authorized_get_403_json() {
    let base = v5().build().unwrap();
    let user = cookie(&base, "user");
    let layer = base.authorized(|_, t| t.is_some_and(|t| t["role"] == "admin"));
    let res = get(&layer, "/api/admin", &[("cookie", &user)]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(res.body(), r#"{"error":"forbidden"}"#);
    assert!(res.headers().get("www-authenticate").is_none());
}

#[tokio::test]
async fn browser_navigations_get_the_redirect() {
    let layer = v5().build().unwrap();
    let res = get(
        &layer,
        "/dashboard",
        &[("accept", "text/html,application/xhtml+xml,*/*;q=0.8")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(location(&res), "/api/auth/signin?callbackUrl=%2Fdashboard");
}

#[tokio::test]
async fn grpc_clients_get_trailers_only_status() {
    let base = v5().build().unwrap();
    let user = cookie(&base, "user");
    let layer = base.authorized(|_, t| t.is_some_and(|t| t["role"] == "admin"));
    let grpc = ("content-type", "application/grpc+proto");

    let res = get(&layer, "/pkg.Service/Method", &[grpc]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["grpc-status"], "16");
    assert_eq!(res.headers()["content-type"], "application/grpc");
    assert!(res.body().is_empty());

    let res = get(&layer, "/pkg.Service/Method", &[grpc, ("cookie", &user)]).await;
    assert_eq!(res.headers()["grpc-status"], "7");
    assert_eq!(rejection(&res), Some(Rejection::Forbidden));
}

#[tokio::test]
async fn strict_with_auth_sends_every_denial_to_sign_in() {
    let base = v5().strict_with_auth(true).build().unwrap();
    let user = cookie(&base, "user");
    let layer = base.authorized(|_, t| t.is_some_and(|t| t["role"] == "admin"));
    for headers in [
        vec![],
        vec![("cookie", user.as_str())],
        vec![("accept", "application/json")],
    ] {
        let res = get(&layer, "/api/admin", &headers).await;
        assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(
            location(&res),
            "/api/auth/signin?callbackUrl=%2Fapi%2Fadmin"
        );
    }
}

#[tokio::test]
async fn signed_in_user_without_the_role_never_loops_back_to_sign_in() {
    let base = v5().build().unwrap();
    let user = cookie(&base, "user");
    let layer = base.authorized(|_, t| t.is_some_and(|t| t["role"] == "admin"));
    for path in ["/admin", "/admin/users", "/api/admin"] {
        let res = get(&layer, path, &[("cookie", &user), ("accept", "text/html")]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(res.headers().get("location").is_none(), "{path}");
    }
}

/// Parses `Location`'s query into decoded pairs, as the sign-in page would.
fn query_pairs(location: &str) -> Vec<(String, String)> {
    let query = location.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(k), form_decode(v))
        })
        .collect()
}

fn form_decode(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(
                u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap(), 16).unwrap(),
            );
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn callback(location: &str) -> String {
    let pairs = query_pairs(location);
    let values: Vec<_> = pairs.iter().filter(|(k, _)| k == "callbackUrl").collect();
    assert_eq!(values.len(), 1, "exactly one callbackUrl in {location}");
    values[0].1.clone()
}

#[tokio::test]
async fn hostile_request_targets_give_same_origin_callback_urls() {
    let layer = v5()
        .url("https://app.example.com")
        .unwrap()
        .build()
        .unwrap();
    let cases = [
        // absolute-form request target: only the path and query count
        ("http://evil.com/dashboard", "/dashboard"),
        ("//evil.com", "/evil.com"),
        ("///evil.com/x", "/evil.com/x"),
        ("/\\evil.com", "/evil.com"),
        ("/%0D%0ASet-Cookie:%20x=1", "/%0D%0ASet-Cookie:%20x=1"),
        ("/@evil.com", "/@evil.com"),
        // Found by fuzzing: authority-form and asterisk-form targets have no rooted path.
        ("evil.com:443", "/"),
        ("*", "/*"),
        (
            "/page?callbackUrl=https://evil.com&x=1",
            "/page?callbackUrl=https://evil.com&x=1",
        ),
    ];
    for (target, expected) in cases {
        let res = get(&layer, target, &[]).await;
        let loc = location(&res);
        assert!(
            loc.starts_with("https://app.example.com/api/auth/signin?"),
            "{target}: {loc}"
        );
        assert!(!loc.contains('\r') && !loc.contains('\n'));
        let cb = callback(loc);
        assert_eq!(cb, expected, "{target}");
        assert!(cb.starts_with('/') && !cb.starts_with("//") && !cb.starts_with("/\\"));
    }
}

#[tokio::test]
async fn absolute_callback_url_uses_the_configured_origin() {
    let layer = v5()
        .url("https://app.example.com")
        .unwrap()
        .callback_url(CallbackUrl::Absolute)
        .build()
        .unwrap();
    let res = get(&layer, "//evil.com/path?q=1", &[("host", "evil.com")]).await;
    assert_eq!(
        location(&res),
        "https://app.example.com/api/auth/signin?callbackUrl=https%3A%2F%2Fapp.example.com%2Fevil.com%2Fpath%3Fq%3D1"
    );
}

#[tokio::test]
async fn custom_sign_in_page_with_a_query_gets_ampersand() {
    let layer = v5().sign_in_page("/login?provider=github").build().unwrap();
    let res = get(&layer, "/dashboard?tab=2", &[]).await;
    assert_eq!(
        location(&res),
        "/login?provider=github&callbackUrl=%2Fdashboard%3Ftab%3D2"
    );
    assert_eq!(callback(location(&res)), "/dashboard?tab=2");
}

/// A service that insists on `poll_ready` before every `call`, like a real connection pool. A
/// clone starts not ready.
#[derive(Default)]
struct Strict {
    ready: bool,
}

impl Clone for Strict {
    fn clone(&self) -> Self {
        Strict { ready: false }
    }
}

impl Service<Request<String>> for Strict {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.ready = true;
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<String>) -> Self::Future {
        assert!(std::mem::take(&mut self.ready), "called without poll_ready");
        let name = req
            .extensions()
            .get::<Token>()
            .map_or("anonymous".into(), |t| t["name"].to_string());
        std::future::ready(Ok(Response::new(name)))
    }
}

#[tokio::test]
async fn async_authorized_checks_a_revocation_list() {
    let base = v5().build().unwrap();
    let jwe = base
        .sessions()
        .encode(&json!({"name": "Ada", "jti": "will-be-overwritten"}))
        .unwrap();
    let jti = base
        .sessions()
        .decode::<tower_nextauth::Claims>(&jwe)
        .unwrap()["jti"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked: Arc<Mutex<Vec<String>>> = Arc::default();
    let lookups = Arc::new(AtomicBool::new(false));
    let layer = base.authorized_async({
        let revoked = revoked.clone();
        let lookups = lookups.clone();
        move |_req, token| {
            let jti = token.and_then(|t| t["jti"].as_str().map(str::to_owned));
            let revoked = revoked.clone();
            let lookups = lookups.clone();
            async move {
                // A real store would be asked here; yield to prove the future is truly async.
                tokio::task::yield_now().await;
                lookups.store(true, Ordering::SeqCst);
                match jti {
                    None => Decision::Unauthenticated,
                    Some(jti) if revoked.lock().unwrap().contains(&jti) => {
                        Decision::Unauthenticated
                    }
                    Some(_) => Decision::Allow,
                }
            }
        }
    });
    let mut svc = layer.layer(Strict::default());
    let cookie = format!("authjs.session-token={jwe}");
    let req = || {
        Request::get("/dashboard")
            .header("cookie", &cookie)
            .body(String::new())
            .unwrap()
    };

    let res = svc.ready().await.unwrap().call(req()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.body(), "\"Ada\"");
    assert!(lookups.load(Ordering::SeqCst));

    revoked.lock().unwrap().push(jti);
    let res = svc.ready().await.unwrap().call(req()).await.unwrap();
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        res.extensions().get::<Rejection>(),
        Some(&Rejection::Unauthenticated(SessionError::Refused))
    );

    // Skipped paths never run the predicate.
    lookups.store(false, Ordering::SeqCst);
    let res = svc
        .ready()
        .await
        .unwrap()
        .call(
            Request::get("/api/auth/session")
                .body(String::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!lookups.load(Ordering::SeqCst));
}

#[cfg(feature = "tracing")]
#[tokio::test]
async fn rejections_are_traced_without_token_bytes() {
    use std::io::Write;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let other = Builder::new()
        .secret("another-secret")
        .format(Format::V5)
        .build()
        .unwrap();
    let jwe = other.sessions().encode(&json!({"name": "Ada"})).unwrap();
    let layer = v5().build().unwrap();
    let _guard = tracing::subscriber::set_default(subscriber);
    let res = get(
        &layer,
        "/dashboard",
        &[("cookie", &format!("authjs.session-token={jwe}"))],
    )
    .await;
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    let log = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("unauthenticated: undecryptable"), "{log}");
    assert!(log.contains("/dashboard"), "{log}");
    assert!(!log.contains(&jwe[..40]), "token bytes leaked into the log");
    assert!(!log.contains(SECRET));
}
