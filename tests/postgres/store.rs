//! The store on its own: reads, expiry, the sliding update, sign-out, the TTL cache and
//! single-flight, each measured at the database.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tower_nextauth::database::NewUser;

use crate::support::{at_ms, connect, iso, now_ms, TestDb};

/// Fragments of the store's statements, as pg_stat_statements records them.
const SELECT: &str = "FROM sessions s JOIN users u";
const UPDATE: &str = "UPDATE sessions set";
const DELETE: &str = "delete from sessions where";

const MAX_AGE_MS: i64 = 30 * 24 * 3_600_000;
const DAY_MS: i64 = 24 * 3_600_000;

/// The password in a `postgres://user:password@…` URL.
fn password(url: &str) -> &str {
    let userinfo = &url[url.find("://").unwrap() + 3..url.rfind('@').unwrap()];
    userinfo.split_once(':').map_or("", |(_, p)| p)
}

#[tokio::test]
async fn a_session_created_here_reads_back_as_the_session_callbacks_claims() {
    let t = TestDb::new("read").await;
    let db = t.builder().build().unwrap();
    let id = db
        .create_user(&NewUser {
            name: Some("Ada"),
            email: Some("ada@example.com"),
            image: Some("https://example.com/ada.png"),
            email_verified: None,
        })
        .await
        .unwrap();
    let before = now_ms();
    let created = db.create_session(&id).await.unwrap();
    let after = now_ms();

    // crypto.randomUUID(): a lowercase version 4 UUID.
    let token = created.token().to_owned();
    let shape: Vec<usize> = token.split('-').map(str::len).collect();
    assert_eq!(shape, [8, 4, 4, 4, 12], "{token}");
    assert!(token
        .chars()
        .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    assert_eq!(&token[14..15], "4");
    // expires = now + maxAge, in whole milliseconds like a JavaScript Date.
    let stored = t.expires_ms(&token).await.expect("the row");
    assert!((before + MAX_AGE_MS..=after + MAX_AGE_MS).contains(&stored));
    assert_eq!(created.expires(), stored.div_euclid(1000));
    let user: i32 = t
        .admin
        .query_one(
            r#"SELECT "userId" FROM sessions WHERE "sessionToken" = $1"#,
            &[&token],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(user.to_string(), id);

    let session = db.session(&token).await.unwrap().expect("a session");
    assert_eq!(
        session.claims(),
        json!({
            "user": {
                "id": user,
                "name": "Ada",
                "email": "ada@example.com",
                "image": "https://example.com/ada.png",
            },
            "expires": iso(stored),
        })
    );
    assert_eq!(session.user_id(), id);
    assert_eq!(
        (session.name(), session.email(), session.image()),
        (
            Some("Ada"),
            Some("ada@example.com"),
            Some("https://example.com/ada.png")
        )
    );
    assert_eq!(session.expires(), created.expires());
    // A fresh session is not due for an update.
    assert_eq!(t.calls(UPDATE).await, 0);

    let debug = format!("{session:?} {created:?} {db:?}");
    for secret in [token.as_str(), "Ada", "ada@example.com", password(&t.url)] {
        assert!(!debug.contains(secret), "{debug}");
    }
}

#[tokio::test]
async fn unknown_empty_and_userless_tokens_are_no_session() {
    let t = TestDb::new("unknown").await;
    let db = t.builder().cache_ttl(Duration::ZERO).build().unwrap();
    assert!(db.session("no-such-session").await.unwrap().is_none());
    assert_eq!(t.calls(SELECT).await, 1);
    // An empty cookie value never reaches the database (upstream returns first too).
    assert!(db.session("").await.unwrap().is_none());
    assert_eq!(t.calls(SELECT).await, 1);

    // The adapter's getSessionAndUser is null when the user row is gone (its schema has no
    // foreign key); upstream then deletes nothing.
    let user = t.insert_user("Gone").await;
    let token = t.insert_session(user, at_ms(now_ms() + DAY_MS)).await;
    t.admin
        .execute("DELETE FROM users WHERE id = $1", &[&user])
        .await
        .unwrap();
    assert!(db.session(&token).await.unwrap().is_none());
    assert!(t.expires_ms(&token).await.is_some());
    assert_eq!(t.calls(DELETE).await, 0);
}

#[tokio::test]
async fn an_expired_session_is_no_session_and_its_row_is_deleted() {
    let t = TestDb::new("expired").await;
    let db = t.builder().cache_ttl(Duration::ZERO).build().unwrap();
    let user = t.insert_user("Old").await;
    let expired = t.insert_session(user, at_ms(now_ms() - 1_000)).await;
    let live = t.insert_session(user, at_ms(now_ms() + 60_000)).await;

    assert!(db.session(&expired).await.unwrap().is_none());
    assert_eq!(
        t.expires_ms(&expired).await,
        None,
        "the expired row is deleted"
    );
    assert_eq!(t.calls(DELETE).await, 1);
    // Gone now: a second lookup finds nothing and deletes nothing.
    assert!(db.session(&expired).await.unwrap().is_none());
    assert_eq!(t.calls(DELETE).await, 1);

    // One minute left is still a session (and, a day past its last update, it is extended).
    assert!(db.session(&live).await.unwrap().is_some());
    assert_eq!(t.calls(DELETE).await, 1);
}

#[tokio::test]
async fn a_due_session_is_extended_once_and_a_fresh_one_never() {
    let t = TestDb::new("sliding").await;
    let db = t.builder().cache_ttl(Duration::ZERO).build().unwrap();
    let user = t.insert_user("Bob").await;
    // Last extended an hour ago: not due (updateAge is a day).
    let fresh_ms = now_ms() + MAX_AGE_MS - 3_600_000;
    let fresh = t.insert_session(user, at_ms(fresh_ms)).await;
    // Last extended a day and a minute ago: due.
    let due_ms = now_ms() + MAX_AGE_MS - DAY_MS - 60_000;
    let due = t.insert_session(user, at_ms(due_ms)).await;

    for _ in 0..3 {
        assert!(db.session(&fresh).await.unwrap().is_some());
    }
    assert_eq!(t.calls(UPDATE).await, 0);
    assert_eq!(t.expires_ms(&fresh).await, Some(fresh_ms));

    let before = now_ms();
    let session = db.session(&due).await.unwrap().expect("a session");
    let after = now_ms();
    // The lookup reports the expiry it read, as next-auth's session route does...
    assert_eq!(session.claims()["expires"], iso(due_ms));
    // ...and the row now says now + maxAge.
    let extended = t.expires_ms(&due).await.unwrap();
    assert!((before + MAX_AGE_MS..=after + MAX_AGE_MS).contains(&extended));
    for _ in 0..3 {
        let session = db.session(&due).await.unwrap().expect("a session");
        assert_eq!(session.claims()["expires"], iso(extended));
    }
    assert_eq!(t.calls(UPDATE).await, 1, "one UPDATE, not one per lookup");
    assert_eq!(t.calls(SELECT).await, 3 + 1 + 3);

    // maxAge and updateAge as configured: due once `expires - maxAge + updateAge <= now`.
    let hour = Duration::from_secs(3600);
    let short = t
        .builder()
        .cache_ttl(Duration::ZERO)
        .max_age(hour)
        .update_age(Duration::from_secs(600))
        .build()
        .unwrap();
    let not_yet_ms = now_ms() + 3_600_000 - 540_000; // extended 9 minutes ago
    let not_yet = t.insert_session(user, at_ms(not_yet_ms)).await;
    let overdue = t
        .insert_session(user, at_ms(now_ms() + 3_600_000 - 660_000))
        .await; // 11 minutes
    assert!(short.session(&not_yet).await.unwrap().is_some());
    assert_eq!(t.expires_ms(&not_yet).await, Some(not_yet_ms));
    let before = now_ms();
    assert!(short.session(&overdue).await.unwrap().is_some());
    let after = now_ms();
    let extended = t.expires_ms(&overdue).await.unwrap();
    assert!((before + 3_600_000..=after + 3_600_000).contains(&extended));
    assert_eq!(t.calls(UPDATE).await, 2);
}

#[tokio::test]
async fn delete_session_ends_the_session_here_at_once() {
    let t = TestDb::new("signout").await;
    let db = t
        .builder()
        .cache_ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    let user = t.insert_user("Eve").await;
    let token = t.insert_session(user, at_ms(now_ms() + DAY_MS)).await;
    assert!(db.session(&token).await.unwrap().is_some());

    db.delete_session(&token).await.unwrap();
    assert_eq!(t.expires_ms(&token).await, None);
    // The cached answer is forgotten, on every clone.
    assert!(db.clone().session(&token).await.unwrap().is_none());
    assert_eq!(t.calls(SELECT).await, 2);
    // Signing out twice, or with an unknown token, succeeds.
    db.delete_session(&token).await.unwrap();
    db.delete_session("never-existed").await.unwrap();
}

#[tokio::test]
async fn answers_are_reused_for_the_cache_ttl_and_not_after() {
    let t = TestDb::new("ttl").await;
    let ttl = Duration::from_secs(2);
    let db = t.builder().cache_ttl(ttl).build().unwrap();
    let user = t.insert_user("Kim").await;
    let token = t.insert_session(user, at_ms(now_ms() + DAY_MS)).await;
    let first = std::time::Instant::now();
    assert!(db.session(&token).await.unwrap().is_some());

    // Deleted behind the store's back (sign-out in the Next.js app): still a session here
    // within the TTL, without asking the database...
    t.admin
        .execute(
            r#"DELETE FROM sessions WHERE "sessionToken" = $1"#,
            &[&token],
        )
        .await
        .unwrap();
    assert!(db.clone().session(&token).await.unwrap().is_some());
    assert!(
        first.elapsed() < ttl,
        "the test machine is too slow for this TTL"
    );
    assert_eq!(t.calls(SELECT).await, 1);

    // ...and gone once the TTL has passed.
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    assert!(db.session(&token).await.unwrap().is_none());
    assert_eq!(t.calls(SELECT).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_lookups_of_one_token_share_one_query() {
    const CALLERS: usize = 16;
    let t = TestDb::new("flight").await;
    let user = t.insert_user("Lee").await;
    let token = Arc::new(t.insert_session(user, at_ms(now_ms() + DAY_MS)).await);
    let watcher = connect(&t.url).await;

    // With the table capacity at zero nothing is shared: the control that shows the
    // measurement would see every query.
    for (capacity, queries) in [(10_000, 1), (0, CALLERS)] {
        // No cache: only single-flight can deduplicate. A connection for every caller, so that
        // none waits for the pool.
        let db = t
            .builder()
            .cache_ttl(Duration::ZERO)
            .cache_capacity(capacity)
            .pool_size(CALLERS)
            .wait_timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let before = t.calls(SELECT).await;
        // Hold the table, so that the lookups wait inside the database.
        t.admin
            .batch_execute("BEGIN; LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
        let started = Arc::new(AtomicUsize::new(0));
        let callers: Vec<_> = (0..CALLERS)
            .map(|_| {
                let (db, token, started) = (db.clone(), token.clone(), started.clone());
                tokio::spawn(async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    db.session(&token).await
                })
            })
            .collect();
        // Every caller has asked, and the database has the lookups waiting on the lock.
        let waiting_for = queries as i64;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let waiting: i64 = watcher
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity \
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            if started.load(Ordering::SeqCst) == CALLERS && waiting >= waiting_for {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{waiting} lookups waiting"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        t.admin.batch_execute("COMMIT").await.unwrap();
        for caller in callers {
            assert!(caller.await.unwrap().unwrap().is_some());
        }
        assert_eq!(
            t.calls(SELECT).await - before,
            queries as i64,
            "capacity {capacity}"
        );
    }
}

#[tokio::test]
async fn database_refusals_are_errors_that_are_not_outages() {
    let t = TestDb::new("refusal").await;
    let db = t.builder().build().unwrap();
    // A user id the column's type cannot hold.
    let error = db.create_session("not-a-number").await.unwrap_err();
    assert!(!error.is_unavailable(), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("creating a database session: the database refused the statement"),
        "{error}"
    );
    // A missing table: the SQLSTATE says which setup step is missing.
    t.admin
        .batch_execute("ALTER TABLE sessions RENAME TO sessions_elsewhere")
        .await
        .unwrap();
    let error = db.session("a-token-value").await.unwrap_err();
    assert!(!error.is_unavailable(), "{error}");
    let text = format!("{error} {error:?}");
    assert!(text.contains("SQLSTATE 42P01"), "{text}");
    assert!(
        !text.contains("a-token-value") && !text.contains(password(&t.url)),
        "{text}"
    );
    // Not cached: the next lookup asks again, and works once the table is back.
    t.admin
        .batch_execute("ALTER TABLE sessions_elsewhere RENAME TO sessions")
        .await
        .unwrap();
    assert!(db.session("a-token-value").await.unwrap().is_none());
}

#[tokio::test]
async fn a_lookup_whose_caller_went_away_still_frees_its_connection() {
    let t = TestDb::new("abandoned").await;
    // One connection: a lookup that kept it would starve the next one.
    let db = t
        .builder()
        .pool_size(1)
        .wait_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let user = t.insert_user("Ray").await;
    let first = t.insert_session(user, at_ms(now_ms() + DAY_MS)).await;
    let second = t.insert_session(user, at_ms(now_ms() + DAY_MS)).await;

    t.admin
        .batch_execute("BEGIN; LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    // The caller gives up while the lookup waits in the database (a client that disconnected).
    let gave_up = tokio::time::timeout(Duration::from_millis(300), db.session(&first)).await;
    assert!(gave_up.is_err());
    t.admin.batch_execute("COMMIT").await.unwrap();

    // The abandoned lookup finished on its own task and gave the connection back.
    assert!(db.session(&second).await.unwrap().is_some());
}
