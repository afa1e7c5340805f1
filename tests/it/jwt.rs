//! next-auth's `jwt` callback on the layer (`AuthLayer::jwt`): keep, replace or end the session,
//! once per session at a time (single flight), with the result reused for a window.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use http::{Request, Response, StatusCode};
use proptest::prelude::*;
use serde_json::{json, Value};
use tower::{service_fn, Layer, Service, ServiceExt};
use tower_nextauth::{
    Builder, Claims, Decision, Format, Jwt, Rejection, SessionError, Token, TokenSource,
};

use crate::support::{self, cookie_header, NOW, SECRET};

/// Answers with the access token the handler sees, or `anonymous`.
async fn access_token(req: Request<()>) -> Result<Response<String>, Infallible> {
    let body = match req.extensions().get::<Token>() {
        Some(token) => token
            .get("accessToken")
            .and_then(Value::as_str)
            .unwrap_or("none")
            .to_owned(),
        None => "anonymous".to_owned(),
    };
    Ok(Response::new(body))
}

fn request(uri: &str, cookie: &str) -> Request<()> {
    Request::get(uri).header("cookie", cookie).body(()).unwrap()
}

fn set_cookies(res: &Response<String>) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The future of [`refreshing`]'s callback.
type Refreshed = Pin<Box<dyn Future<Output = Result<Jwt, Infallible>> + Send>>;

/// A callback that swaps `accessToken` for `fresh-N` (N counts runs).
fn refreshing(
    runs: &Arc<AtomicUsize>,
) -> impl Fn(&http::request::Parts, Token) -> Refreshed + Send + Sync + 'static {
    let runs = runs.clone();
    move |_req, token| {
        let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
        let mut claims = token.into_claims();
        Box::pin(async move {
            claims.insert("accessToken".into(), format!("fresh-{n}").into());
            Ok(Jwt::Update(claims))
        })
    }
}

#[tokio::test]
async fn an_update_reaches_the_handler_and_is_set_as_the_session_cookie() {
    for format in [Format::V4, Format::V5] {
        let runs = Arc::new(AtomicUsize::new(0));
        let layer = support::builder(format)
            .build()
            .unwrap()
            .jwt(refreshing(&runs));
        let cookie = support::session_cookie(
            &support::layer(format),
            json!({"accessToken": "stale", "sub": "1"}),
        );
        let res = layer
            .layer(service_fn(access_token))
            .oneshot(request("/api/data", &cookie))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.body(), "fresh-1");
        let set = set_cookies(&res);
        assert_eq!(set.len(), 1, "{set:?}");
        let name = format.cookie_name();
        assert!(set[0].starts_with(&format!("{name}=eyJ")), "{}", set[0]);
        assert!(
            set[0].ends_with(
                "; Path=/; Expires=Tue, 01 Dec 2026 00:00:00 GMT; HttpOnly; SameSite=Lax"
            ),
            "{}",
            set[0]
        );
        // The cookie holds the new claims, in the same format, with a fresh iat/exp/jti.
        let token: Token = layer
            .sessions()
            .read(&support::cookie_headers(&cookie_header(&set)))
            .unwrap();
        assert_eq!(token["accessToken"], "fresh-1");
        assert_eq!(token["sub"], "1");
        assert_eq!(token.format(), Some(format));
        assert_eq!(
            (token.iat(), token.exp()),
            (Some(NOW), Some(NOW + 30 * 24 * 3600))
        );
        // A response that sets a session is never publicly cached.
        assert_eq!(res.headers()["cache-control"], "private, no-store");
    }
}

#[tokio::test]
async fn an_update_of_a_chunked_session_clears_the_chunks_it_no_longer_needs() {
    let layer = support::builder(Format::V4)
        .build()
        .unwrap()
        .jwt(|_req, _token| async {
            let mut small = Claims::new();
            small.insert("accessToken".into(), "short".into());
            Ok::<_, Infallible>(Jwt::Update(small))
        });
    let big = "x".repeat(4000);
    let cookies = layer
        .sessions()
        .sign_in(
            &http::HeaderMap::new(),
            &json!({"accessToken": "stale", "blob": big}),
        )
        .unwrap();
    assert_eq!(cookies.len(), 2);
    let res = layer
        .layer(service_fn(access_token))
        .oneshot(request("/", &cookie_header(&cookies)))
        .await
        .unwrap();
    assert_eq!(res.body(), "short");
    let set = set_cookies(&res);
    // SessionStore.chunk: the request's chunks first (cleared), then the new bare name.
    assert_eq!(set.len(), 3, "{set:?}");
    assert_eq!(
        set[0],
        "next-auth.session-token.0=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    );
    assert_eq!(
        set[1],
        "next-auth.session-token.1=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    );
    assert!(set[2].starts_with("next-auth.session-token=eyJ"));
}

#[tokio::test]
async fn keep_leaves_the_session_and_its_cookie_alone() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let layer = support::builder(Format::V5)
        .build()
        .unwrap()
        .jwt(move |_req, _token| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, Infallible>(Jwt::Keep) }
        });
    let cookie = support::session_cookie(&support::layer(Format::V5), json!({"accessToken": "a1"}));
    let svc = layer.layer(service_fn(access_token));
    for _ in 0..3 {
        let res = svc.clone().oneshot(request("/", &cookie)).await.unwrap();
        assert_eq!(res.body(), "a1");
        assert!(set_cookies(&res).is_empty());
    }
    // Within the window, one run answers for the session.
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn sign_out_redirects_a_browser_to_sign_in_and_clears_every_session_cookie() {
    let layer = support::builder(Format::V4)
        .build()
        .unwrap()
        .jwt(|_req, _token| async { Ok::<_, Infallible>(Jwt::SignOut) });
    let chunks = support::layer(Format::V4)
        .sessions()
        .sign_in(&http::HeaderMap::new(), &json!({"blob": "y".repeat(5000)}))
        .unwrap();
    let cookie = format!("theme=dark; {}", cookie_header(&chunks));
    let svc = layer.layer(service_fn(access_token));
    let page = Request::get("/dashboard")
        .header("cookie", &cookie)
        .header("accept", "text/html")
        .body(())
        .unwrap();
    let res = svc.clone().oneshot(page).await.unwrap();
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        support::location(&res),
        "/api/auth/signin?callbackUrl=%2Fdashboard"
    );
    assert_eq!(
        support::rejection(&res),
        Some(Rejection::Unauthenticated(SessionError::SignedOut))
    );
    assert_eq!(
        set_cookies(&res),
        [
            "next-auth.session-token.0=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
            "next-auth.session-token.1=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
        ]
    );
    // An API client gets 401, with the same cookies cleared.
    let api = Request::get("/api/me")
        .header("cookie", &cookie)
        .header("accept", "application/json")
        .body(())
        .unwrap();
    let res = svc.oneshot(api).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(set_cookies(&res).len(), 2);
}

#[tokio::test]
async fn a_public_route_lets_a_signed_out_request_through_as_anonymous_with_the_cookies_cleared() {
    let layer = support::builder(Format::V5)
        .build()
        .unwrap()
        .authorized(|req: &http::request::Parts, token: Option<&Token>| {
            req.uri.path() == "/" || token.is_some()
        })
        .jwt(|_req, _token| async { Ok::<_, Infallible>(Jwt::SignOut) });
    let cookie = support::session_cookie(&support::layer(Format::V5), json!({"sub": "1"}));
    let res = layer
        .layer(service_fn(access_token))
        .oneshot(request("/", &cookie))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.body(), "anonymous");
    assert_eq!(
        set_cookies(&res),
        ["authjs.session-token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"]
    );
}

#[tokio::test]
async fn a_failed_callback_is_a_503_for_every_waiter_and_is_not_remembered() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let layer = support::builder(Format::V5)
        .build()
        .unwrap()
        .jwt(move |_req, _token| {
            counter.fetch_add(1, Ordering::SeqCst);
            async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err::<Jwt, _>(std::io::Error::other("token endpoint down"))
            }
        });
    let cookie = support::session_cookie(&support::layer(Format::V5), json!({"sub": "1"}));
    let svc = layer.layer(service_fn(access_token));
    let waiting: Vec<_> = (0..10)
        .map(|_| {
            let req = Request::get("/dashboard")
                .header("cookie", &cookie)
                .header("accept", "text/html")
                .body(())
                .unwrap();
            tokio::spawn(svc.clone().oneshot(req))
        })
        .collect();
    for w in waiting {
        let res = w.await.unwrap().unwrap();
        // Not a sign-in redirect: the session may be valid, and the sign-in page would send the
        // user straight back.
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()["retry-after"], "1");
        assert_eq!(support::rejection(&res), Some(Rejection::Unavailable));
        assert!(set_cookies(&res).is_empty());
        // Nothing about the failure reaches the client.
        assert!(!res.body().contains("endpoint"));
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // The failure was not kept: the next request runs the callback again.
    let res = svc.oneshot(request("/dashboard", &cookie)).await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn fifty_concurrent_requests_with_one_expired_session_run_one_refresh() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let layer = support::builder(Format::V5)
        .build()
        .unwrap()
        .jwt(move |_req, token| {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            let mut claims = token.into_claims();
            async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                claims.insert("accessToken".into(), format!("fresh-{n}").into());
                Ok::<_, Infallible>(Jwt::Update(claims))
            }
        });
    let cookie = support::session_cookie(
        &support::layer(Format::V5),
        json!({"accessToken": "expired"}),
    );
    let svc = layer.layer(service_fn(access_token));
    let tasks: Vec<_> = (0..50)
        .map(|_| tokio::spawn(svc.clone().oneshot(request("/api/data", &cookie))))
        .collect();
    let mut cookies = Vec::new();
    for task in tasks {
        let res = task.await.unwrap().unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.body(), "fresh-1");
        cookies.push(set_cookies(&res));
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // Every response carries the same new cookie, encoded once.
    assert!(cookies.iter().all(|c| *c == cookies[0]), "{cookies:?}");
}

#[tokio::test]
async fn authorized_sees_the_token_the_callback_returned() {
    let layer = support::builder(Format::V4)
        .build()
        .unwrap()
        .authorized(
            |_req: &http::request::Parts, token: Option<&Token>| match token {
                Some(t) if t["role"] == "admin" => Decision::Allow,
                Some(_) => Decision::Forbidden,
                None => Decision::Unauthenticated,
            },
        )
        .jwt(|_req, token| {
            let mut claims = token.into_claims();
            async move {
                claims.insert("role".into(), "admin".into());
                Ok::<_, Infallible>(Jwt::Update(claims))
            }
        });
    let cookie = support::session_cookie(
        &support::layer(Format::V4),
        json!({"role": "user", "accessToken": "a"}),
    );
    let res = layer
        .layer(service_fn(access_token))
        .oneshot(request("/admin", &cookie))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_forbidden_request_still_gets_the_refreshed_cookie() {
    let runs = Arc::new(AtomicUsize::new(0));
    let layer = support::builder(Format::V5)
        .build()
        .unwrap()
        .authorized(|_req: &http::request::Parts, _token: Option<&Token>| Decision::Forbidden)
        .jwt(refreshing(&runs));
    let cookie = support::session_cookie(&support::layer(Format::V5), json!({"accessToken": "a"}));
    let req = Request::get("/x")
        .header("cookie", &cookie)
        .header("accept", "text/html")
        .body(())
        .unwrap();
    let res = layer
        .layer(service_fn(access_token))
        .oneshot(req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let set = set_cookies(&res);
    assert_eq!(set.len(), 1);
    assert!(set[0].starts_with("authjs.session-token=eyJ"));
}

#[tokio::test]
async fn with_sliding_refresh_on_a_response_carries_one_set_of_session_cookies() {
    let runs = Arc::new(AtomicUsize::new(0));
    // Every session is stale for the sliding refresh (update_age 0).
    let layer = support::builder(Format::V5)
        .update_age(Duration::ZERO)
        .build()
        .unwrap()
        .jwt(refreshing(&runs));
    let cookie = support::session_cookie(&support::layer(Format::V5), json!({"accessToken": "a"}));
    let res = layer
        .layer(service_fn(access_token))
        .oneshot(request("/", &cookie))
        .await
        .unwrap();
    let set = set_cookies(&res);
    assert_eq!(set.len(), 1, "{set:?}");
    let token: Token = layer
        .sessions()
        .read(&support::cookie_headers(&cookie_header(&set)))
        .unwrap();
    assert_eq!(token["accessToken"], "fresh-1");

    // With `Keep`, the sliding refresh re-issues the session as before.
    let kept = support::builder(Format::V5)
        .update_age(Duration::ZERO)
        .build()
        .unwrap()
        .jwt(|_req, _token| async { Ok::<_, Infallible>(Jwt::Keep) });
    let res = kept
        .layer(service_fn(access_token))
        .oneshot(request("/", &cookie))
        .await
        .unwrap();
    assert_eq!(set_cookies(&res).len(), 1);
}

#[tokio::test]
async fn the_window_reuses_a_finished_run_and_zero_keeps_only_the_single_flight() {
    let cookie = support::session_cookie(&support::layer(Format::V4), json!({"accessToken": "a"}));
    for (window, expected) in [(Duration::from_secs(60), 1), (Duration::ZERO, 3)] {
        let runs = Arc::new(AtomicUsize::new(0));
        let layer = support::builder(Format::V4)
            .build()
            .unwrap()
            .jwt(refreshing(&runs))
            .jwt_window(window);
        let svc = layer.layer(service_fn(access_token));
        for _ in 0..3 {
            let res = svc.clone().oneshot(request("/", &cookie)).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
        }
        assert_eq!(runs.load(Ordering::SeqCst), expected, "window {window:?}");
    }
}

#[tokio::test]
async fn bearer_sessions_and_requests_without_a_session_do_not_run_the_callback() {
    let runs = Arc::new(AtomicUsize::new(0));
    let layer = support::builder(Format::V4)
        .build()
        .unwrap()
        .authorized(|_req: &http::request::Parts, _token: Option<&Token>| true)
        .jwt(refreshing(&runs));
    let jwe = layer
        .sessions()
        .encode(&json!({"accessToken": "b"}))
        .unwrap();
    let svc = layer.layer(service_fn(|req: Request<()>| async move {
        let source = req.extensions().get::<Token>().map(|t| t.source());
        Ok::<_, Infallible>(Response::new(format!("{source:?}")))
    }));
    let bearer = Request::get("/")
        .header("authorization", format!("Bearer {jwe}"))
        .body(())
        .unwrap();
    let res = svc.clone().oneshot(bearer).await.unwrap();
    assert_eq!(res.body(), &format!("{:?}", Some(TokenSource::Bearer)));
    let anonymous = Request::get("/").body(()).unwrap();
    assert_eq!(svc.clone().oneshot(anonymous).await.unwrap().body(), "None");
    let garbage = request("/", "next-auth.session-token=garbage");
    assert_eq!(svc.oneshot(garbage).await.unwrap().body(), "None");
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

/// A future polled by hand, with a waker that does nothing (tests build with the current
/// toolchain, not the library's minimum).
#[allow(clippy::incompatible_msrv)]
fn poll<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(Waker::noop()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// For any interleaving of up to 64 requests with one session, while the callback is in
    /// progress, then after it finished (within its window), at most one run happens.
    #[test]
    fn any_interleaving_of_requests_runs_the_callback_at_most_once_per_window(
        n in 1usize..=64,
        schedule in proptest::collection::vec((0usize..64, any::<bool>()), 0..400),
        release_at in 0usize..400,
    ) {
        let runs = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Mutex::new(false));
        let (counter, open) = (runs.clone(), gate.clone());
        let layer = Builder::new()
            .secret(SECRET)
            .format(Format::V5)
            .clock(|| NOW)
            .build()
            .unwrap()
            .jwt(move |_req, token| {
                counter.fetch_add(1, Ordering::SeqCst);
                let mut claims = token.into_claims();
                let open = open.clone();
                std::future::poll_fn(move |_cx| {
                    if *open.lock().unwrap() {
                        claims.insert("accessToken".into(), "fresh".into());
                        Poll::Ready(Ok::<_, Infallible>(Jwt::Update(claims.clone())))
                    } else {
                        Poll::Pending
                    }
                })
            });
        let cookie = support::session_cookie(&support::layer(Format::V5), json!({"accessToken": "old"}));
        let mut svc = layer.layer(service_fn(access_token));
        // Requests start (call) and are polled in the order the schedule says; the run is
        // released part-way through.
        let mut started: Vec<Pin<Box<_>>> = Vec::new();
        let mut done = vec![false; n];
        for (step, (pick, start)) in schedule.iter().enumerate() {
            if step == release_at {
                *gate.lock().unwrap() = true;
            }
            if *start && started.len() < n {
                started.push(Box::pin(svc.call(request("/", &cookie))));
            } else if !started.is_empty() {
                let i = pick % started.len();
                if !done[i] {
                    if let Poll::Ready(res) = poll(&mut started[i]) {
                        prop_assert_eq!(res.unwrap().into_body(), "fresh");
                        done[i] = true;
                    }
                }
            }
        }
        *gate.lock().unwrap() = true;
        while started.len() < n {
            started.push(Box::pin(svc.call(request("/", &cookie))));
        }
        for (i, future) in started.iter_mut().enumerate() {
            if !done[i] {
                match poll(future) {
                    Poll::Ready(res) => prop_assert_eq!(res.unwrap().into_body(), "fresh"),
                    Poll::Pending => prop_assert!(false, "request {} still waiting", i),
                }
            }
        }
        prop_assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}

#[test]
fn the_callback_sees_the_request_head_and_the_decoded_claims() {
    let seen: Arc<Mutex<Option<(String, Value)>>> = Arc::default();
    let record = seen.clone();
    let layer = support::builder(Format::V5)
        .build()
        .unwrap()
        .jwt(move |req, token| {
            *record.lock().unwrap() = Some((
                req.uri.path().to_owned(),
                Value::Object(token.claims().clone()),
            ));
            async { Ok::<_, Infallible>(Jwt::Keep) }
        });
    let cookie = support::session_cookie(&support::layer(Format::V5), json!({"name": "Ada"}));
    support::block_on(
        layer
            .layer(service_fn(access_token))
            .oneshot(request("/reports/7", &cookie)),
    )
    .unwrap();
    let (path, claims) = seen.lock().unwrap().clone().unwrap();
    assert_eq!(path, "/reports/7");
    assert_eq!(claims["name"], "Ada");
    assert_eq!(claims["iat"], NOW);
}

#[tokio::test]
async fn the_session_endpoint_behind_the_layer_answers_what_the_callback_decided() {
    use tower_nextauth::SessionEndpoint;

    let layer = support::builder(Format::V5)
        .build()
        .unwrap()
        .authorized(|_req: &http::request::Parts, _token: Option<&Token>| true)
        .jwt(|_req, token| {
            let mut claims = token.into_claims();
            async move {
                if claims.get("revoked").is_some() {
                    return Ok::<_, Infallible>(Jwt::SignOut);
                }
                claims.insert("accessToken".into(), "fresh".into());
                Ok(Jwt::Update(claims))
            }
        });
    let endpoint = SessionEndpoint::new(layer.sessions().clone()).session(|mut session, token| {
        session["accessToken"] = token["accessToken"].clone();
        session
    });
    // At a path the layer covers: it skips its own auth path, /api/auth.
    let svc = layer.layer(endpoint);
    let app = support::layer(Format::V5);
    let cookie = support::session_cookie(&app, json!({"name": "Ada", "accessToken": "stale"}));
    let res = svc
        .clone()
        .oneshot(request("/rs/session", &cookie))
        .await
        .unwrap();
    let body: Value = serde_json::from_str(res.body()).unwrap();
    assert_eq!(body["accessToken"], "fresh");
    assert_eq!(body["user"]["name"], "Ada");
    // One session cookie, holding the callback's claims.
    let set: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(set.len(), 1, "{set:?}");
    let token: Token = app
        .sessions()
        .read(&support::cookie_headers(&cookie_header(&set)))
        .unwrap();
    assert_eq!(token["accessToken"], "fresh");

    // Signed out by the callback: no session, and the cookie is cleared.
    let revoked = support::session_cookie(&app, json!({"name": "Ada", "revoked": true}));
    let res = svc.oneshot(request("/rs/session", &revoked)).await.unwrap();
    assert_eq!(res.body(), "null");
    let set: Vec<&str> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(
        set,
        ["authjs.session-token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"]
    );
}
