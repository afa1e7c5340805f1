//! Interop with the real `@auth/pg-adapter` 1.11.3 on node-postgres, and with next-auth@4's and
//! @auth/core's session routes running on it (`interop/pg-adapter.mjs`): both sides read and
//! write the same rows the same way.

use std::time::Duration;

use serde_json::{json, Value};
use tower_nextauth::database::NewUser;

use crate::support::{iso, iso_ms, now_ms, TestDb};

const MAX_AGE_MS: i64 = 30 * 24 * 3_600_000;
const DAY_MS: i64 = 24 * 3_600_000;

/// Our claims without `user.id`: the default `session` callback's answer.
fn without_id(mut claims: Value) -> Value {
    claims["user"].as_object_mut().unwrap().remove("id");
    claims
}

/// Creates a user and a session expiring at `expires_ms` with the adapter; the session's token.
async fn adapter_session(t: &TestDb, name: &str, expires_ms: i64) -> (String, Value) {
    let user = t
        .adapter(json!([{ "op": "createUser", "user": {
            "name": name, "email": format!("{}@example.com", name.to_lowercase()), "image": null,
        }}]))
        .await
        .remove(0)["user"]
        .take();
    let session = t
        .adapter(
            json!([{ "op": "createSession", "userId": user["id"], "expires": iso(expires_ms) }]),
        )
        .await
        .remove(0)["session"]
        .take();
    (session["sessionToken"].as_str().unwrap().to_owned(), user)
}

#[tokio::test]
async fn a_session_the_adapter_created_reads_here_as_the_routes_answer_it() {
    let t = TestDb::new("adapter_read").await;
    let db = t.builder().cache_ttl(Duration::ZERO).build().unwrap();
    let expires = now_ms() + MAX_AGE_MS - 3_600_000;
    let (token, user) = adapter_session(&t, "Ada", expires).await;

    let session = db.session(&token).await.unwrap().expect("a session");
    assert_eq!(
        session.claims(),
        json!({
            "user": { "id": user["id"], "name": "Ada", "email": "ada@example.com", "image": null },
            "expires": iso(expires),
        })
    );
    assert_eq!(session.user_id(), user["id"].to_string());
    // next-auth@4's and @auth/core's session routes on the adapter answer the same session.
    let routes = t
        .adapter(json!([
            { "op": "route", "format": "v4", "sessionToken": token },
            { "op": "route", "format": "v5", "sessionToken": token },
        ]))
        .await;
    for route in routes {
        assert_eq!(route["status"], 200);
        assert_eq!(route["body"], without_id(session.claims()));
    }
}

#[tokio::test]
async fn a_session_created_here_is_the_adapters_session() {
    let t = TestDb::new("adapter_write").await;
    let db = t.builder().build().unwrap();
    let id = db
        .create_user(&NewUser {
            name: Some("Grace"),
            email: Some("grace@example.com"),
            ..Default::default()
        })
        .await
        .unwrap();
    let created = db.create_session(&id).await.unwrap();
    let token = created.token();

    let answers = t
        .adapter(json!([
            { "op": "getSessionAndUser", "sessionToken": token },
            { "op": "route", "format": "v5", "sessionToken": token },
        ]))
        .await;
    let found = &answers[0]["result"];
    assert_eq!(found["user"]["id"].to_string(), id);
    assert_eq!(found["user"]["name"], "Grace");
    assert_eq!(found["user"]["emailVerified"], Value::Null);
    assert_eq!(found["session"]["sessionToken"], token);
    assert_eq!(found["session"]["userId"], found["user"]["id"]);
    let expires = iso_ms(&found["session"]["expires"]);
    assert_eq!(expires.div_euclid(1000), created.expires());
    let ours = db.session(token).await.unwrap().expect("a session");
    assert_eq!(ours.claims()["expires"], found["session"]["expires"]);
    assert_eq!(answers[1]["body"], without_id(ours.claims()));
}

#[tokio::test]
async fn a_session_ended_here_is_gone_for_the_adapter() {
    let t = TestDb::new("adapter_signout").await;
    let db = t.builder().build().unwrap();
    let (token, _) = adapter_session(&t, "Eve", now_ms() + DAY_MS).await;
    assert!(db.session(&token).await.unwrap().is_some());

    db.delete_session(&token).await.unwrap();
    let answers = t
        .adapter(json!([
            { "op": "getSessionAndUser", "sessionToken": token },
            { "op": "route", "format": "v5", "sessionToken": token },
        ]))
        .await;
    assert_eq!(answers[0]["result"], Value::Null);
    assert_eq!(answers[1]["body"], Value::Null);
    // And a sign-out by the adapter is one here (past the cache, which is on).
    let (other, _) = adapter_session(&t, "Fay", now_ms() + DAY_MS).await;
    t.adapter(json!([{ "op": "deleteSession", "sessionToken": other }]))
        .await;
    assert!(db.session(&other).await.unwrap().is_none());
}

#[tokio::test]
async fn sliding_updates_agree_in_both_directions() {
    let t = TestDb::new("adapter_sliding").await;
    let db = t.builder().cache_ttl(Duration::ZERO).build().unwrap();
    // Both last extended a day and a minute ago: due.
    let due_ms = now_ms() + MAX_AGE_MS - DAY_MS - 60_000;
    let (ours, _) = adapter_session(&t, "Ida", due_ms).await;
    let (theirs, _) = adapter_session(&t, "Jo", due_ms).await;

    // Our update is what the adapter reads.
    let before = now_ms();
    assert!(db.session(&ours).await.unwrap().is_some());
    let after = now_ms();
    let stored = t.expires_ms(&ours).await.unwrap();
    assert!((before + MAX_AGE_MS..=after + MAX_AGE_MS).contains(&stored));
    let read = t
        .adapter(json!([{ "op": "getSessionAndUser", "sessionToken": ours }]))
        .await;
    assert_eq!(read[0]["result"]["session"]["expires"], iso(stored));

    // @auth/core's route updates the other the same way, and we read its update.
    let before = now_ms();
    let route = t
        .adapter(json!([{ "op": "route", "format": "v5", "sessionToken": theirs }]))
        .await;
    let after = now_ms();
    // Upstream also reports the expiry it read before updating.
    assert_eq!(route[0]["body"]["expires"], iso(due_ms));
    let stored = t.expires_ms(&theirs).await.unwrap();
    assert!((before + MAX_AGE_MS..=after + MAX_AGE_MS).contains(&stored));
    let session = db.session(&theirs).await.unwrap().expect("a session");
    assert_eq!(session.claims()["expires"], iso(stored));
    // Neither is due any more: no side writes again.
    let updates = t.calls("UPDATE sessions set").await;
    assert_eq!(updates, 2);
    t.adapter(json!([
        { "op": "route", "format": "v5", "sessionToken": ours },
        { "op": "route", "format": "v4", "sessionToken": theirs },
    ]))
    .await;
    assert!(db.session(&ours).await.unwrap().is_some());
    assert!(db.session(&theirs).await.unwrap().is_some());
    assert_eq!(t.calls("UPDATE sessions set").await, updates);
}

#[tokio::test]
async fn an_expired_session_is_none_on_both_sides_and_both_delete_it() {
    let t = TestDb::new("adapter_expired").await;
    let db = t.builder().cache_ttl(Duration::ZERO).build().unwrap();
    let gone = now_ms() - 1_000;
    let (for_us, _) = adapter_session(&t, "Max", gone).await;
    let (for_v5, _) = adapter_session(&t, "Ned", gone).await;
    let (for_v4, _) = adapter_session(&t, "Oli", gone).await;

    // The adapter alone returns an expired row: expiry is the session route's business.
    let raw = t
        .adapter(json!([{ "op": "getSessionAndUser", "sessionToken": for_us }]))
        .await;
    assert_eq!(raw[0]["result"]["session"]["expires"], iso(gone));

    assert!(db.session(&for_us).await.unwrap().is_none());
    let answers = t
        .adapter(json!([
            { "op": "route", "format": "v5", "sessionToken": for_v5 },
            { "op": "route", "format": "v4", "sessionToken": for_v4 },
            { "op": "getSessionAndUser", "sessionToken": for_us },
            { "op": "getSessionAndUser", "sessionToken": for_v5 },
            { "op": "getSessionAndUser", "sessionToken": for_v4 },
        ]))
        .await;
    // No session for the routes (v5 answers null, v4 `{}`), and each clears the cookie.
    assert_eq!(answers[0]["body"], Value::Null);
    assert_eq!(answers[1]["body"], json!({}));
    assert_eq!(
        (
            answers[0]["session_cookies"].as_u64(),
            answers[1]["session_cookies"].as_u64()
        ),
        (Some(1), Some(1))
    );
    // Every row is gone: ours deleted by us, the others by the routes.
    for answer in &answers[2..] {
        assert_eq!(answer["result"], Value::Null);
    }
    for token in [&for_us, &for_v5, &for_v4] {
        assert_eq!(t.expires_ms(token).await, None);
    }
}
