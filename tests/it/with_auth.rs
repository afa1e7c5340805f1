//! Every `withAuth` branch (next-auth@4.24.15 next/middleware.js; docs/compat.md#with-auth),
//! through `oneshot` on the real layer.

use http::StatusCode;
use serde_json::json;
use tower_nextauth::{Builder, Format, Rejection, SessionError, SkipMode};

use crate::support::{builder, get, location, session_cookie, NOW};

fn v4() -> Builder {
    builder(Format::V4)
}

#[tokio::test]
async fn no_session_redirects_to_sign_in_with_relative_callback_url() {
    let layer = v4().build().unwrap();
    let res = get(&layer, "/dashboard?x=1&y=a%20b", &[]).await;
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        location(&res),
        "/api/auth/signin?callbackUrl=%2Fdashboard%3Fx%3D1%26y%3Da%2520b"
    );
    assert!(res.body().is_empty());
    assert_eq!(
        res.extensions().get::<Rejection>(),
        Some(&Rejection::Unauthenticated(SessionError::Missing))
    );
}

#[tokio::test]
async fn configured_url_gives_an_absolute_location() {
    let layer = v4().url("http://localhost:3000").unwrap().build().unwrap();
    let res = get(&layer, "/dashboard", &[("host", "evil.example")]).await;
    assert_eq!(
        location(&res),
        "http://localhost:3000/api/auth/signin?callbackUrl=%2Fdashboard"
    );
}

#[tokio::test]
async fn valid_session_reaches_the_inner_service_with_its_claims() {
    let layer = v4().build().unwrap();
    let cookie = session_cookie(&layer, json!({"name": "Ada", "role": "admin"}));
    let res = get(&layer, "/dashboard", &[("cookie", &cookie)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let claims: serde_json::Value = serde_json::from_str(res.body()).unwrap();
    assert_eq!(claims["name"], "Ada");
    assert_eq!(claims["role"], "admin");
    assert_eq!(claims["iat"], NOW);
    assert_eq!(claims["exp"], NOW + 30 * 24 * 3600);
    assert_eq!(claims["jti"].as_str().unwrap().len(), 36);
}

#[tokio::test]
async fn expired_token_redirects_to_sign_in() {
    let layer = v4().build().unwrap();
    let cookie = session_cookie(&layer, json!({"name": "Ada"}));
    let later = v4().clock(|| NOW + 30 * 24 * 3600 + 15).build().unwrap();
    let res = get(&later, "/dashboard", &[("cookie", &cookie)]).await;
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        res.extensions().get::<Rejection>(),
        Some(&Rejection::Unauthenticated(SessionError::Expired))
    );
    // 14 s past `exp` is still inside the 15 s leeway.
    let within = v4().clock(|| NOW + 30 * 24 * 3600 + 14).build().unwrap();
    assert_eq!(
        get(&within, "/dashboard", &[("cookie", &cookie)])
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn token_under_another_secret_is_undecryptable() {
    let other = Builder::new()
        .secret("another-secret")
        .format(Format::V4)
        .build()
        .unwrap();
    let layer = v4().build().unwrap();
    let res = get(
        &layer,
        "/dashboard",
        &[("cookie", &session_cookie(&other, json!({})))],
    )
    .await;
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        res.extensions().get::<Rejection>(),
        Some(&Rejection::Unauthenticated(SessionError::Undecryptable))
    );
}

#[tokio::test]
async fn auth_routes_next_assets_and_pages_pass_without_a_session() {
    let layer = v4().build().unwrap();
    for path in [
        "/api/auth",
        "/api/auth/session",
        "/api/auth/callback/github?code=1",
        "/api/auth/signin",
        "/api/auth/error",
        "/_next/static/chunk.js",
        "/_next",
        "/favicon.ico",
    ] {
        let res = get(&layer, path, &[]).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.body(), "anonymous", "{path}");
    }
}

#[tokio::test]
async fn segment_mode_protects_lookalike_paths_that_with_auth_leaves_open() {
    let segment = v4().build().unwrap();
    let prefix = v4().skip_mode(SkipMode::Prefix).build().unwrap();
    for (path, rejected) in [
        // Under /api the default renderer answers 401 rather than redirecting (an API route).
        ("/api/authors", StatusCode::UNAUTHORIZED),
        ("/api/authz/admin", StatusCode::UNAUTHORIZED),
        ("/_nextdata", StatusCode::TEMPORARY_REDIRECT),
        ("/favicon.ico.bak", StatusCode::TEMPORARY_REDIRECT),
    ] {
        assert_eq!(get(&segment, path, &[]).await.status(), rejected, "{path}");
        // withAuth's plain startsWith skips them (docs/compat.md#skip-list, row S2).
        assert_eq!(
            get(&prefix, path, &[]).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
}

#[tokio::test]
async fn custom_sign_in_page_is_exact_match_only() {
    let layer = v4().sign_in_page("/login").build().unwrap();
    assert_eq!(get(&layer, "/login", &[]).await.status(), StatusCode::OK);
    let res = get(&layer, "/login/", &[]).await;
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(location(&res), "/login?callbackUrl=%2Flogin%2F");
}

#[tokio::test]
async fn sign_in_page_with_a_query_gets_callback_url_appended() {
    let layer = v4().sign_in_page("/login?theme=dark").build().unwrap();
    let res = get(&layer, "/dashboard", &[]).await;
    assert_eq!(location(&res), "/login?theme=dark&callbackUrl=%2Fdashboard");
}

#[tokio::test]
async fn base_path_is_kept_in_location_and_callback_url() {
    let layer = v4()
        .base_path("/docs")
        .url("http://host")
        .unwrap()
        .build()
        .unwrap();
    let res = get(&layer, "/docs/dashboard?q=1", &[]).await;
    assert_eq!(
        location(&res),
        "http://host/docs/api/auth/signin?callbackUrl=%2Fdocs%2Fdashboard%3Fq%3D1"
    );
    // Without NEXTAUTH_URL=…/docs/api/auth the auth routes under the base path are not skipped,
    // exactly as withAuth behaves (docs/compat.md#skip-list, row S5); being under /api, they
    // get the API 401.
    assert_eq!(
        get(&layer, "/docs/api/auth/session", &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The sign-in page is matched on the basePath-less pathname.
    assert_eq!(
        get(&layer, "/docs/api/auth/signin", &[]).await.status(),
        StatusCode::OK
    );

    let with_url = v4()
        .base_path("/docs")
        .url("http://host/docs/api/auth")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        get(&with_url, "/docs/api/auth/session", &[]).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn custom_auth_path_from_url_replaces_api_auth() {
    let layer = v4()
        .url("https://example.com/custom/auth")
        .unwrap()
        .secure_cookie(false)
        .build()
        .unwrap();
    assert_eq!(
        get(&layer, "/custom/auth/session", &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        get(&layer, "/api/auth/session", &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The default sign-in and error pages still match exactly.
    assert_eq!(
        get(&layer, "/api/auth/signin", &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        get(&layer, "/api/auth/error", &[]).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn signed_in_user_denied_by_authorized_gets_403_not_a_redirect_loop() {
    let base = v4().build().unwrap();
    let cookie = session_cookie(&base, json!({"name": "Bob", "role": "user"}));
    let layer = base
        .clone()
        .authorized(|_, token| token.is_some_and(|t| t["role"] == "admin"));
    let res = get(&layer, "/admin", &[("cookie", &cookie)]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.headers().get("location").is_none());
    assert_eq!(
        res.extensions().get::<Rejection>(),
        Some(&Rejection::Forbidden)
    );

    // strict withAuth parity: the v4 307 back to sign-in.
    let strict = v4()
        .strict_with_auth(true)
        .build()
        .unwrap()
        .authorized(|_, token| token.is_some_and(|t| t["role"] == "admin"));
    let res = get(&strict, "/admin", &[("cookie", &cookie)]).await;
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(location(&res), "/api/auth/signin?callbackUrl=%2Fadmin");
}

#[tokio::test]
async fn authorized_may_allow_anonymous_requests() {
    let layer = v4()
        .build()
        .unwrap()
        .authorized(|req, token| req.uri.path() == "/public" || token.is_some());
    let res = get(&layer, "/public", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.body(), "anonymous");
    assert_eq!(
        get(&layer, "/private", &[]).await.status(),
        StatusCode::TEMPORARY_REDIRECT
    );
}

#[tokio::test]
async fn bearer_token_is_used_only_without_a_cookie() {
    let layer = v4().build().unwrap();
    let jwe = layer.sessions().encode(&json!({"name": "Bearer"})).unwrap();
    let other = layer.sessions().encode(&json!({"name": "Cookie"})).unwrap();
    let auth = format!("Bearer {jwe}");
    let res = get(&layer, "/api/data", &[("authorization", &auth)]).await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(res.body()).unwrap()["name"],
        "Bearer"
    );

    let cookie = format!("next-auth.session-token={other}");
    let res = get(
        &layer,
        "/api/data",
        &[("authorization", &auth), ("cookie", &cookie)],
    )
    .await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(res.body()).unwrap()["name"],
        "Cookie"
    );

    let no_bearer = v4().bearer(false).build().unwrap();
    assert_eq!(
        get(&no_bearer, "/api/data", &[("authorization", &auth)])
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn garbage_cookies_are_no_session_never_an_error() {
    let layer = v4().build().unwrap();
    for value in [
        "",
        "x",
        "a.b.c.d.e",
        "....",
        "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.AAAA.AAAA",
        "%%%",
    ] {
        let cookie = format!("next-auth.session-token={value}");
        let res = get(&layer, "/dashboard", &[("cookie", &cookie)]).await;
        assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT, "{value:?}");
    }
}

#[tokio::test]
async fn custom_claims_type_deserializes_directly() {
    #[derive(Clone, serde::Deserialize)]
    struct Session {
        role: String,
        #[serde(rename = "accessToken")]
        access_token: String,
    }
    let base = v4().build().unwrap();
    let cookie = session_cookie(&base, json!({"role": "admin", "accessToken": "at-1"}));
    let wrong = session_cookie(&base, json!({"role": 7}));
    let layer = base.claims::<Session>().authorized(|_, token| {
        token.is_some_and(|t| t.role == "admin" && t.access_token == "at-1")
    });
    assert_eq!(
        get(&layer, "/admin", &[("cookie", &cookie)]).await.status(),
        StatusCode::OK
    );

    // Claims that do not fit the type are no session.
    assert_eq!(
        get(&layer, "/admin", &[("cookie", &wrong)]).await.status(),
        StatusCode::TEMPORARY_REDIRECT
    );
}
