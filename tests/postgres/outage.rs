//! The database goes away (`pg_ctl stop -m fast`) and comes back: lookups fail fast as
//! unavailable, never pass, and work again on the same `Database`.

use std::time::{Duration, Instant};

use crate::support::{at_ms, now_ms, pgdata, Exclusive, Stopped, TestDb};

#[cfg(feature = "tracing")]
mod logs {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// What this thread logs, as text.
    #[derive(Clone, Default)]
    pub struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Captured {
        pub fn install(&self) -> tracing::subscriber::DefaultGuard {
            let sink = self.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::INFO)
                .with_ansi(false)
                .with_writer(move || sink.clone())
                .finish();
            tracing::subscriber::set_default(subscriber)
        }

        pub fn count(&self, needle: &str) -> usize {
            String::from_utf8_lossy(&self.0.lock().unwrap())
                .matches(needle)
                .count()
        }

        pub fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }
    }

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}

#[tokio::test]
async fn an_outage_fails_fast_as_unavailable_and_recovers_on_the_same_store() {
    let pgdata = pgdata();
    let exclusive = Exclusive::lock();
    let t = TestDb::exclusive("outage", &exclusive).await;
    #[cfg(feature = "tracing")]
    let logs = logs::Captured::default();
    #[cfg(feature = "tracing")]
    let _logging = logs.install();

    let timeout = Duration::from_secs(1);
    let db = t
        .builder()
        .cache_ttl(Duration::ZERO)
        .connect_timeout(timeout)
        .wait_timeout(timeout)
        .query_timeout(timeout)
        .build()
        .unwrap();
    let user = t.insert_user("Uma").await;
    let token = t.insert_session(user, at_ms(now_ms() + 3_600_000)).await;
    assert!(db.session(&token).await.unwrap().is_some());

    let password = t.url[t.url.find("://").unwrap() + 3..t.url.rfind('@').unwrap()]
        .split_once(':')
        .unwrap()
        .1
        .to_owned();
    {
        let _down = Stopped::stop(pgdata.clone());
        for _ in 0..3 {
            let started = Instant::now();
            let error = db.session(&token).await.expect_err("no answer while down");
            let took = started.elapsed();
            assert!(error.is_unavailable(), "{error}");
            assert!(
                took < timeout + Duration::from_millis(500),
                "{took:?}: {error}"
            );
            let text = format!("{error} {error:?}");
            assert!(
                !text.contains(&password) && !text.contains(&token),
                "{text}"
            );
        }
        // The pooled connection died with the server; the store keeps no broken one.
        assert!(format!("{db:?}").contains("connections: 0"), "{db:?}");
    } // started again here

    // Back without rebuilding anything: the pool reconnects on the next lookup.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match db.session(&token).await {
            Ok(session) => {
                assert!(session.is_some());
                break;
            }
            Err(error) => {
                assert!(Instant::now() < deadline, "not back: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    #[cfg(feature = "tracing")]
    {
        // One warning for the outage, however many lookups failed, and one note on recovery.
        let text = logs.text();
        assert_eq!(
            logs.count("the session database is unavailable"),
            1,
            "{text}"
        );
        assert_eq!(logs.count("the session database is back"), 1, "{text}");
        assert!(
            !text.contains(&password) && !text.contains(&token),
            "{text}"
        );
    }
}
