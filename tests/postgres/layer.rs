//! The layer with database sessions (`AuthLayer::database`): what a handler, `authorized` and
//! the browser see, the session lifecycle through requests, and an outage in the middle of a run.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use http::{Request, Response, StatusCode};
use serde_json::{json, Value};
use tower::{service_fn, Layer, ServiceExt};
use tower_nextauth::database::Database;
use tower_nextauth::{
    AsyncAuthLayer, Builder, Claims, Format, Rejection, Sessions, SyncAuthorize, Token,
};

use crate::support::{at_ms, iso, now_ms, pgdata, Exclusive, Stopped, TestDb};

const SECRET: &str = "database-session-layer-secret-0123456789";
const DAY_MS: i64 = 24 * 3600 * 1000;

type Guarded = AsyncAuthLayer<Claims, SyncAuthorize<tower_nextauth::HasToken>>;

fn layer(db: Database) -> Guarded {
    Builder::new()
        .secret(SECRET)
        .format(Format::V5)
        .build()
        .unwrap()
        .database(db)
}

/// Echoes the session the handler got, or `anonymous`.
async fn echo(req: Request<()>) -> Result<Response<String>, Infallible> {
    let body = match req.extensions().get::<Token>() {
        Some(token) => json!({"claims": token.claims(), "exp": token.exp()}).to_string(),
        None => "anonymous".to_owned(),
    };
    Ok(Response::new(body))
}

async fn get(layer: &Guarded, path: &str, token: &str, accept: &str) -> Response<String> {
    let req = Request::get(path)
        .header(
            "cookie",
            format!("theme=dark; authjs.session-token={token}"),
        )
        .header("accept", accept)
        .body(())
        .unwrap();
    layer.layer(service_fn(echo)).oneshot(req).await.unwrap()
}

fn set_cookies(res: &Response<String>) -> Vec<&str> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_handler_gets_the_user_and_the_session_expiry() {
    let t = TestDb::new("layer_read").await;
    let db = t.builder().build().unwrap();
    let user = t.insert_user("Ada").await;
    // Extended half a day ago: not due for the sliding update (one day).
    let expires = now_ms() + 29 * DAY_MS + DAY_MS / 2;
    let token = t.insert_session(user, at_ms(expires)).await;
    let auth = layer(db);

    let res = get(&auth, "/dashboard", &token, "text/html").await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.body());
    let body: Value = serde_json::from_str(res.body()).unwrap();
    assert_eq!(
        body["claims"],
        json!({"user": {"id": user, "name": "Ada", "email": "ada@example.com", "image": null}, "expires": iso(expires)})
    );
    assert_eq!(body["exp"], expires.div_euclid(1000));
    // Fresh (extended less than a day ago): no cookie, no UPDATE.
    assert!(set_cookies(&res).is_empty());
    assert_eq!(t.expires_ms(&token).await, Some(expires));
}

#[tokio::test]
async fn a_typed_claims_struct_reads_the_user() {
    #[derive(Clone, serde::Deserialize)]
    struct Session {
        user: User,
    }
    #[derive(Clone, serde::Deserialize)]
    struct User {
        id: i64,
        email: String,
    }
    let t = TestDb::new("layer_typed").await;
    let user = t.insert_user("Typed").await;
    let token = t.insert_session(user, at_ms(now_ms() + 29 * DAY_MS)).await;
    let auth = Builder::new()
        .secret(SECRET)
        .format(Format::V5)
        .build()
        .unwrap()
        .claims::<Session>()
        .authorized(
            |_req: &http::request::Parts, token: Option<&Token<Session>>| {
                token.is_some_and(|t| t.user.email.ends_with("@example.com"))
            },
        )
        .database(t.builder().build().unwrap());
    let svc = auth.layer(service_fn(|req: Request<()>| async move {
        let token = req.extensions().get::<Token<Session>>().unwrap();
        Ok::<_, Infallible>(Response::new(token.user.id.to_string()))
    }));
    let req = Request::get("/")
        .header("cookie", format!("authjs.session-token={token}"))
        .body(())
        .unwrap();
    let res = svc.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.body(), &user.to_string());
}

#[tokio::test]
async fn unknown_and_expired_sessions_are_no_session_and_their_cookies_are_cleared() {
    let t = TestDb::new("layer_none").await;
    let auth = layer(t.builder().build().unwrap());
    let user = t.insert_user("Old").await;
    let expired = t.insert_session(user, at_ms(now_ms() - 1000)).await;
    for token in ["no-such-session", expired.as_str()] {
        let res = get(&auth, "/dashboard", token, "text/html").await;
        assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(
            res.headers()["location"],
            "/api/auth/signin?callbackUrl=%2Fdashboard"
        );
        assert_eq!(
            set_cookies(&res),
            ["authjs.session-token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"]
        );
        let res = get(&auth, "/api/me", token, "application/json").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // The expired row is gone, as the session route deletes it.
    assert_eq!(t.expires_ms(&expired).await, None);
}

#[tokio::test]
async fn a_due_session_is_extended_once_and_its_cookie_set_with_the_new_expiry() {
    let t = TestDb::new("layer_slide").await;
    // Zero TTL: every request asks the database, so a second UPDATE would show.
    let auth = layer(t.builder().cache_ttl(Duration::ZERO).build().unwrap());
    let user = t.insert_user("Slide").await;
    // Last extended two days ago: due (update age 1 day, max age 30 days).
    let token = t.insert_session(user, at_ms(now_ms() + 28 * DAY_MS)).await;
    let before = now_ms();
    let res = get(&auth, "/", &token, "text/html").await;
    assert_eq!(res.status(), StatusCode::OK);
    let new_expires = t.expires_ms(&token).await.unwrap();
    assert!(new_expires >= before + 30 * DAY_MS - 1000, "{new_expires}");
    let set = set_cookies(&res);
    assert_eq!(set.len(), 1, "{set:?}");
    let expected = format!(
        "authjs.session-token={token}; Path=/; Expires={}; HttpOnly; SameSite=Lax",
        http_date(new_expires.div_euclid(1000))
    );
    assert_eq!(set[0], expected);
    let body: Value = serde_json::from_str(res.body()).unwrap();
    assert_eq!(body["exp"], new_expires.div_euclid(1000));

    // Now fresh: the next request neither updates nor sets a cookie.
    let calls = t.calls("UPDATE sessions").await;
    let res = get(&auth, "/", &token, "text/html").await;
    assert!(set_cookies(&res).is_empty());
    assert_eq!(t.calls("UPDATE sessions").await, calls);
    assert_eq!(t.expires_ms(&token).await, Some(new_expires));
}

#[tokio::test]
async fn sign_out_deletes_the_row_and_clears_the_cookie_at_once() {
    let t = TestDb::new("layer_signout").await;
    let db = t.builder().build().unwrap();
    let auth = layer(db.clone());
    let user = t.insert_user("Bye").await;
    let token = t.insert_session(user, at_ms(now_ms() + 29 * DAY_MS)).await;
    assert_eq!(
        get(&auth, "/", &token, "text/html").await.status(),
        StatusCode::OK
    );

    // A sign-out handler behind the layer: `Sessions` comes from the layer.
    let sign_out = {
        let db = db.clone();
        auth.layer(service_fn(move |req: Request<()>| {
            let db = db.clone();
            async move {
                let sessions = req.extensions().get::<Sessions>().unwrap().clone();
                let cookies = db.sign_out(&sessions, req.headers()).await.unwrap();
                let mut res = Response::new(String::new());
                for cookie in cookies {
                    res.headers_mut().append("set-cookie", cookie);
                }
                Ok::<_, Infallible>(res)
            }
        }))
    };
    let req = Request::post("/api/auth/signout")
        .header("cookie", format!("authjs.session-token={token}"))
        .body(())
        .unwrap();
    let res = sign_out.oneshot(req).await.unwrap();
    assert_eq!(
        res.headers()["set-cookie"],
        "authjs.session-token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    );
    assert_eq!(t.expires_ms(&token).await, None);
    // Gone for this instance at once, though the lookup cache's TTL has not passed.
    let res = get(&auth, "/dashboard", &token, "text/html").await;
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    // And for the adapter.
    let answer = t
        .adapter(json!([{ "op": "getSessionAndUser", "sessionToken": token }]))
        .await;
    assert_eq!(answer[0]["result"], Value::Null, "{answer:?}");
}

#[tokio::test]
async fn a_session_the_real_adapter_created_passes_the_layer() {
    let t = TestDb::new("layer_adapter").await;
    let auth = layer(t.builder().build().unwrap());
    let user = t
        .adapter(json!([{ "op": "createUser", "user": {
            "name": "Grace", "email": "grace@example.com", "image": "https://example.com/g.png",
        }}]))
        .await
        .remove(0)["user"]
        .take();
    let expires = now_ms() + 29 * DAY_MS;
    let session = t
        .adapter(json!([{ "op": "createSession", "userId": user["id"], "expires": iso(expires) }]))
        .await
        .remove(0)["session"]
        .take();
    let token = session["sessionToken"].as_str().unwrap();
    let res = get(&auth, "/dashboard", token, "text/html").await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.body());
    let body: Value = serde_json::from_str(res.body()).unwrap();
    assert_eq!(body["claims"]["user"]["id"], user["id"]);
    assert_eq!(body["claims"]["user"]["image"], "https://example.com/g.png");
    assert_eq!(body["claims"]["expires"], iso(expires));
}

#[tokio::test]
async fn jwt_cookies_and_bearer_tokens_are_no_database_session() {
    let t = TestDb::new("layer_jwt").await;
    let auth = layer(t.builder().build().unwrap());
    let jwe = auth.sessions().encode(&json!({"name": "Mallory"})).unwrap();
    let res = get(&auth, "/dashboard", &jwe, "text/html").await;
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    let req = Request::get("/api/me")
        .header("authorization", format!("Bearer {jwe}"))
        .body(())
        .unwrap();
    let res = auth.layer(service_fn(echo)).oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_outage_is_503_for_every_request_that_needs_a_session_and_the_layer_recovers() {
    let pgdata = pgdata();
    let exclusive = Exclusive::lock();
    let t = TestDb::exclusive("layer_outage", &exclusive).await;
    let timeout = Duration::from_secs(1);
    let db = t
        .builder()
        .cache_ttl(Duration::ZERO)
        .connect_timeout(timeout)
        .wait_timeout(timeout)
        .query_timeout(timeout)
        .build()
        .unwrap();
    let auth = Builder::new()
        .secret(SECRET)
        .format(Format::V5)
        .build()
        .unwrap()
        .authorized(|req: &http::request::Parts, token: Option<&Token>| {
            req.uri.path() == "/" || token.is_some()
        })
        .database(db);
    let user = t.insert_user("Uma").await;
    let token = t.insert_session(user, at_ms(now_ms() + 29 * DAY_MS)).await;
    let svc = auth.layer(service_fn(echo));
    let send = |path: &str, accept: &str| {
        let req = Request::get(path)
            .header("cookie", format!("authjs.session-token={token}"))
            .header("accept", accept)
            .body(())
            .unwrap();
        svc.clone().oneshot(req)
    };
    assert_eq!(
        send("/dashboard", "text/html").await.unwrap().status(),
        StatusCode::OK
    );

    let down = Stopped::stop(pgdata.clone());
    let outcome = async {
        for _ in 0..5 {
            let res = send("/dashboard", "text/html").await.unwrap();
            assert_eq!(
                res.status(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{}",
                res.body()
            );
            assert_eq!(
                res.extensions().get::<Rejection>(),
                Some(&Rejection::Unavailable)
            );
            // The session cookie is kept: the session may be fine.
            assert!(res.headers().get("set-cookie").is_none());
            let res = send("/api/me", "application/json").await.unwrap();
            assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(res.body(), r#"{"error":"unavailable"}"#);
            // A public route still answers, anonymously: nothing passes as authenticated.
            let res = send("/", "text/html").await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(res.body(), "anonymous");
        }
    }
    .await;
    drop(down);
    let () = outcome;

    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let res = send("/dashboard", "text/html").await.unwrap();
        if res.status() == StatusCode::OK {
            assert!(res.body().contains("Uma"));
            break;
        }
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(Instant::now() < deadline, "the layer did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `Expires` as `cookie.serialize` writes it (RFC 7231 IMF-fixdate).
fn http_date(unix: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix.div_euclid(86_400);
    let sod = unix.rem_euclid(86_400);
    let iso = iso(unix * 1000);
    let (y, m, d) = (&iso[0..4], &iso[5..7], &iso[8..10]);
    format!(
        "{}, {d} {} {y} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[m.parse::<usize>().unwrap() - 1],
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}
