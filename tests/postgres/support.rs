//! The cluster these tests share, a fresh database per test, statement counts measured by the
//! database (`pg_stat_statements`), and the real `@auth/pg-adapter` driven through
//! `interop/pg-adapter.mjs`.

use std::path::Path;
use std::process::Stdio;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tower_nextauth::database::{Database, DatabaseBuilder, SCHEMA};

/// Tests read-lock the cluster; the outage test, which stops it, write-locks it. A blocking lock
/// held across `.await`s on purpose: every test has a runtime (and a thread) of its own, and
/// waiting for the outage test to finish is what a test should do.
static CLUSTER: RwLock<()> = RwLock::new(());

/// `TOWER_NEXTAUTH_<name>`, or a failure that says how to get it. Never a skip.
fn env(name: &str, what: &str) -> String {
    let key = format!("TOWER_NEXTAUTH_{name}");
    match std::env::var(&key) {
        Ok(value) if !value.is_empty() => value,
        _ => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true");
            panic!(
                "{key} is not set: the database-session tests need {what}.{} Run them with \
                 `bash scripts/test.sh`, which starts a throw-away cluster with \
                 scripts/postgres.sh, or start one and export its variables:\n  \
                 eval \"$(scripts/postgres.sh start target/pgdata | sed 's/^/export TOWER_NEXTAUTH_/')\"\n  \
                 cargo test --features postgres --test postgres",
                if ci {
                    " CI=true: .ci/run (through scripts/test.sh) must start it."
                } else {
                    ""
                }
            )
        }
    }
}

/// The cluster's URL (its `tower_nextauth` database).
pub fn cluster_url() -> String {
    env("DATABASE_URL", "a PostgreSQL cluster (its URL)")
}

/// The cluster's data directory, for stopping and starting it.
pub fn pgdata() -> String {
    env(
        "PGDATA",
        "the cluster's data directory to stop and start it",
    )
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, ""), |(b, q)| (b, q));
    let slash = base.rfind('/').expect("a URL with a database path");
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{}/{name}{query}", &base[..slash])
}

/// Connects a plain client (its connection runs on the current runtime).
pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test cluster: {e}"));
    tokio::spawn(connection);
    client
}

/// A database of its own for one test, with the adapter's tables (and `pg_stat_statements`).
pub struct TestDb {
    /// Its URL.
    pub url: String,
    /// A client for arranging rows and measuring.
    pub admin: tokio_postgres::Client,
    _shared: Option<RwLockReadGuard<'static, ()>>,
}

impl TestDb {
    /// A fresh database named after `label`, sharing the cluster with the other tests.
    #[allow(clippy::await_holding_lock)] // see CLUSTER
    pub async fn new(label: &str) -> Self {
        let guard = CLUSTER.read().unwrap_or_else(PoisonError::into_inner);
        let mut db = Self::create(label).await;
        db._shared = Some(guard);
        db
    }

    /// A fresh database while the caller holds the cluster exclusively.
    pub async fn exclusive(label: &str, _: &Exclusive) -> Self {
        Self::create(label).await
    }

    async fn create(label: &str) -> Self {
        let cluster = cluster_url();
        let name = format!("tn_{label}_{:08x}", rand::thread_rng().gen::<u32>());
        connect(&cluster)
            .await
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let url = with_database(&cluster, &name);
        let admin = connect(&url).await;
        admin
            .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .await
            .unwrap();
        admin.batch_execute(SCHEMA).await.unwrap();
        Self {
            url,
            admin,
            _shared: None,
        }
    }

    /// A store on this database, with timeouts that a loaded CI machine meets.
    pub fn builder(&self) -> DatabaseBuilder {
        Database::builder(&self.url)
            .connect_timeout(Duration::from_secs(10))
            .wait_timeout(Duration::from_secs(10))
            .query_timeout(Duration::from_secs(10))
    }

    /// How often statements containing `fragment` ran in this database, by pg_stat_statements
    /// (which tells statements apart by their parse tree: the adapter's identical statements
    /// share an entry with ours).
    pub async fn calls(&self, fragment: &str) -> i64 {
        let row = self
            .admin
            .query_one(
                "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements \
                 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
                 AND query LIKE '%' || $1 || '%'",
                &[&fragment],
            )
            .await
            .unwrap();
        row.get(0)
    }

    /// Inserts a user; its id.
    pub async fn insert_user(&self, name: &str) -> i32 {
        let email = format!("{}@example.com", name.to_lowercase());
        self.admin
            .query_one(
                "INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id",
                &[&name, &email],
            )
            .await
            .unwrap()
            .get(0)
    }

    /// Inserts a session of `user` expiring at `expires`; its random token.
    pub async fn insert_session(&self, user: i32, expires: SystemTime) -> String {
        let token = format!("{:032x}", rand::thread_rng().gen::<u128>());
        self.admin
            .execute(
                r#"INSERT INTO sessions ("userId", expires, "sessionToken") VALUES ($1, $2, $3)"#,
                &[&user, &expires, &token],
            )
            .await
            .unwrap();
        token
    }

    /// `sessions.expires` of `token`, in ms since the epoch, if the row exists.
    pub async fn expires_ms(&self, token: &str) -> Option<i64> {
        self.admin
            .query_opt(
                r#"SELECT expires FROM sessions WHERE "sessionToken" = $1"#,
                &[&token],
            )
            .await
            .unwrap()
            .map(|row| unix_ms(row.get(0)))
    }

    /// Runs `interop/pg-adapter.mjs` on this database.
    pub async fn adapter(&self, requests: Value) -> Vec<Value> {
        adapter(&self.url, requests).await
    }
}

/// The cluster held exclusively, for a test that stops it.
pub struct Exclusive(#[allow(dead_code)] RwLockWriteGuard<'static, ()>);

impl Exclusive {
    pub fn lock() -> Self {
        Self(CLUSTER.write().unwrap_or_else(PoisonError::into_inner))
    }
}

/// `scripts/postgres.sh ARGS…`, which must succeed.
pub fn postgres_sh(args: &[&str]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/postgres.sh");
    let status = std::process::Command::new("bash")
        .arg(script)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("bash runs scripts/postgres.sh");
    assert!(status.success(), "scripts/postgres.sh {args:?} failed");
}

/// The cluster stopped (`pg_ctl stop -m fast`); started again when dropped, so that a failing
/// test leaves it running for the others.
pub struct Stopped(String);

impl Stopped {
    pub fn stop(pgdata: String) -> Self {
        postgres_sh(&["pgctl", &pgdata, "stop", "-m", "fast", "-w"]);
        Self(pgdata)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        postgres_sh(&["start", &self.0]);
    }
}

/// Answers of the real adapter (`interop/pg-adapter.mjs`) to `requests` on the database `url`.
/// Fails loudly when Node or the interop packages are missing.
pub async fn adapter(url: &str, requests: Value) -> Vec<Value> {
    let interop = concat!(env!("CARGO_MANIFEST_DIR"), "/interop");
    assert!(
        Path::new(interop).join("node_modules/@auth/pg-adapter").exists()
            && Path::new(interop).join("node_modules/pg").exists(),
        "@auth/pg-adapter and pg are not installed: run `npm ci --prefix interop` (scripts/test.sh does)"
    );
    let count = requests.as_array().map_or(0, Vec::len);
    let mut child = tokio::process::Command::new("node")
        .arg("pg-adapter.mjs")
        .current_dir(interop)
        .env("DATABASE_URL", url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("`node` is not on PATH: install Node.js 20 or later (CI does)");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(requests.to_string().as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success(), "node pg-adapter.mjs failed");
    let answers: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answers.len(), count);
    answers
}

/// Milliseconds since the epoch.
pub fn unix_ms(time: SystemTime) -> i64 {
    i64::try_from(time.duration_since(UNIX_EPOCH).unwrap().as_millis()).unwrap()
}

pub fn now_ms() -> i64 {
    unix_ms(SystemTime::now())
}

/// `Date.prototype.toISOString()` of a time in ms, the way JSON carries the adapter's dates.
pub fn iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        ms.rem_euclid(1000)
    )
}

/// A time `ms` milliseconds from the epoch.
pub fn at_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap())
}

/// The ms of an ISO 8601 string as `toISOString()` writes it (how the adapter's dates arrive).
pub fn iso_ms(value: &Value) -> i64 {
    let text = value.as_str().expect("an ISO 8601 string");
    // YYYY-MM-DDTHH:MM:SS.mmmZ
    let n = |r: std::ops::Range<usize>| text[r].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    // days_from_civil
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let ms = ((days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)) * 1000) + n(20..23);
    assert_eq!(iso(ms), text, "round trip of {text}");
    ms
}
