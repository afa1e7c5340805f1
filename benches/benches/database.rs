#![allow(missing_docs)]
//! Criterion benches of database sessions (`tower_nextauth::database`, issue 14): a lookup
//! answered by the store's TTL cache, a lookup that queries PostgreSQL (one
//! `SELECT … FROM sessions s JOIN users u …` per call), and a request through
//! `AuthLayer::database` around a trivial service.
//!
//! ```text
//! bash scripts/postgres.sh start target/pgdata        # prints DATABASE_URL=… and PGDATA=…
//! TOWER_NEXTAUTH_DATABASE_URL=postgres://… cargo bench -p tower-nextauth-benches --bench database
//! bash scripts/postgres.sh stop target/pgdata
//! ```
//!
//! It creates a database of its own on that cluster (`tn_bench_…`, dropped at the end), with
//! the adapter's schema (`database::SCHEMA`) and 1,000 users, each with a session that is not
//! due for the sliding extension, and cycles through the 1,000 tokens. Everything runs on one
//! current-thread Tokio runtime: the bench loop, the store's lookup tasks and the connections'
//! tasks. With `pg_stat_statements` (scripts/postgres.sh preloads it) each group checks what
//! it measured: no query at all for the cached groups, exactly one per call for the others.

use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::measurement::WallTime;
use criterion::{black_box, BenchmarkGroup, Criterion};
use http::{HeaderValue, Request, Response, StatusCode};
use tokio::runtime::Runtime;
use tower::{service_fn, Layer, Service};
use tower_nextauth::database::{Database, SCHEMA};
use tower_nextauth::{Builder, Format, Token};

const URL_VAR: &str = "TOWER_NEXTAUTH_DATABASE_URL";
const SECRET: &str = "database-bench-secret-0123456789abcdef0123";
const SESSIONS: usize = 1_000;
/// The cached groups' TTL: longer than the run, so every call is a cache hit.
const LONG_TTL: Duration = Duration::from_secs(3600);
/// The lookup statement, as pg_stat_statements stores it.
const LOOKUP_FRAGMENT: &str = "FROM sessions s JOIN users u";

/// The bench's own database on the cluster, its tokens, and a client to measure with.
struct Fixture {
    cluster: String,
    name: String,
    url: String,
    admin: tokio_postgres::Client,
    tokens: Vec<String>,
    /// Whether pg_stat_statements answers in this database.
    counting: bool,
}

async fn connect(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let slash = base
        .rfind('/')
        .filter(|&i| i > "postgres://".len())
        .unwrap_or_else(|| panic!("{URL_VAR} must be a URL naming a database (postgres://…/db)"));
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{}/{name}{query}", &base[..slash])
}

impl Fixture {
    async fn create(cluster: &str) -> Self {
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!("tn_bench_{}_{:x}", std::process::id(), stamp & 0xffff_ffff);
        connect(cluster)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {URL_VAR}: {e}"))
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("cannot create the bench's database {name}: {e}"));
        let url = with_database(cluster, &name);
        let admin = connect(&url).await.unwrap();
        admin.batch_execute(SCHEMA).await.unwrap();
        // The sessions were extended half a day ago: not due for the sliding `UPDATE` (1 day).
        admin
            .batch_execute(&format!(
                r#"INSERT INTO users (name, email)
                     SELECT 'Bench User ' || i, 'bench.user.' || i || '@example.com'
                     FROM generate_series(1, {SESSIONS}) AS i;
                   INSERT INTO sessions ("userId", expires, "sessionToken")
                     SELECT id, now() + interval '29.5 days', gen_random_uuid()::text
                     FROM users ORDER BY id;
                   ANALYZE;"#
            ))
            .await
            .unwrap();
        let tokens: Vec<String> = admin
            .query(r#"SELECT "sessionToken" FROM sessions ORDER BY id"#, &[])
            .await
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        assert_eq!(tokens.len(), SESSIONS);
        let counting = match admin
            .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .await
        {
            Ok(()) => admin
                .query_one("SELECT count(*) FROM pg_stat_statements", &[])
                .await
                .is_ok(),
            Err(_) => false,
        };
        if !counting {
            eprintln!(
                "warning: pg_stat_statements is not available on this cluster (scripts/postgres.sh \
                 preloads it): the queries per call are not checked"
            );
        }
        Self {
            cluster: cluster.to_owned(),
            name,
            url,
            admin,
            tokens,
            counting,
        }
    }

    /// A store on the bench's database.
    fn database(&self, ttl: Duration) -> Database {
        Database::builder(&self.url)
            .cache_ttl(ttl)
            .build()
            .expect("a valid database URL")
    }

    /// How often the lookup statement ran in the bench's database (None without
    /// pg_stat_statements).
    async fn lookups(&self) -> Option<i64> {
        if !self.counting {
            return None;
        }
        let row = self
            .admin
            .query_one(
                "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements \
                 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
                 AND query LIKE '%' || $1 || '%'",
                &[&LOOKUP_FRAGMENT],
            )
            .await
            .unwrap();
        Some(row.get(0))
    }

    async fn drop_database(self) {
        drop(self.admin);
        let result = match connect(&self.cluster).await {
            Ok(client) => client
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = result {
            eprintln!(
                "warning: could not drop the bench's database {}: {e}",
                self.name
            );
        }
    }
}

/// Benchmarks `db.session(token)`, cycling through the fixture's tokens, then checks that the
/// database ran `per_call` lookup statements per call.
fn bench_lookup(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    rt: &Runtime,
    fx: &Fixture,
    db: &Database,
    per_call: u64,
) {
    bench_counted(g, name, rt, fx, per_call, |i| {
        let token = &fx.tokens[i % fx.tokens.len()];
        async move {
            black_box(db.session(black_box(token)).await.unwrap());
        }
    });
}

/// Benchmarks `call(i)` for i = 0, 1, 2, …, then checks that the database ran `per_call` lookup
/// statements per call, warm-up included. The loop runs inside the runtime and times itself.
fn bench_counted<F: Future<Output = ()>>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    rt: &Runtime,
    fx: &Fixture,
    per_call: u64,
    mut call: impl FnMut(usize) -> F,
) {
    let calls = Cell::new(0);
    let before = rt.block_on(fx.lookups());
    let mut next = 0;
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            calls.set(calls.get() + iters);
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    call(next).await;
                    next += 1;
                }
                start.elapsed()
            })
        })
    });
    check(
        &format!("database/{name}"),
        calls.get(),
        before,
        rt.block_on(fx.lookups()),
        per_call,
    );
}

/// Checks the statements a group ran against what it should: `per_call` lookups per call.
fn check(group: &str, calls: u64, before: Option<i64>, after: Option<i64>, per_call: u64) {
    // Nothing to check without pg_stat_statements, or for a group a filter left out.
    let (Some(before), Some(after)) = (before, after) else {
        return;
    };
    if calls == 0 {
        return;
    }
    let ran = u64::try_from(after - before).unwrap();
    eprintln!(
        "{group}: {calls} calls, {ran} lookup statements at the database (pg_stat_statements)"
    );
    assert_eq!(
        ran,
        calls * per_call,
        "{group}: expected {per_call} lookup statement(s) per call"
    );
}

fn lookups(c: &mut Criterion, rt: &Runtime, fx: &Fixture) {
    let mut g = c.benchmark_group("database");

    // Every token cached (a long TTL), as between two refreshes of a busy session.
    let db = fx.database(LONG_TTL);
    rt.block_on(async {
        for token in &fx.tokens {
            assert!(
                db.session(token).await.unwrap().is_some(),
                "a valid session"
            );
        }
    });
    bench_lookup(&mut g, "lookup_cached", rt, fx, &db, 0);

    // No cache: each call is one `SELECT … JOIN` round trip (the adapter's schema, no index on
    // "sessionToken": a scan of the 1,000 sessions).
    bench_lookup(
        &mut g,
        "lookup_query",
        rt,
        fx,
        &fx.database(Duration::ZERO),
        1,
    );

    // The same with the index production databases add (README, "Schema").
    rt.block_on(
        fx.admin
            .batch_execute(r#"CREATE UNIQUE INDEX ON sessions ("sessionToken"); ANALYZE sessions"#),
    )
    .unwrap();
    bench_lookup(
        &mut g,
        "lookup_query_indexed",
        rt,
        fx,
        &fx.database(Duration::ZERO),
        1,
    );
    g.finish();
}

fn layer(c: &mut Criterion, rt: &Runtime, fx: &Fixture) {
    let cookies: Vec<HeaderValue> = fx
        .tokens
        .iter()
        .map(|t| HeaderValue::from_str(&format!("theme=dark; authjs.session-token={t}")).unwrap())
        .collect();
    let inner = service_fn(|req: Request<()>| async move {
        // Touch the session, as a handler would.
        let ok = req.extensions().get::<Token>().is_some();
        let body: &'static str = if ok { "ok" } else { "anon" };
        Ok::<_, Infallible>(Response::new(bytes::Bytes::from_static(body.as_bytes())))
    });
    let request = |cookie: &HeaderValue| {
        let mut req = Request::get("/dashboard").body(()).unwrap();
        req.headers_mut().insert("cookie", cookie.clone());
        req
    };
    let layer = |ttl| {
        Builder::new()
            .secret(SECRET)
            .format(Format::V5)
            .build()
            .unwrap()
            .database(fx.database(ttl))
    };

    let mut g = c.benchmark_group("database");
    for (name, ttl, per_call) in [
        ("layer_cached", LONG_TTL, 0),
        ("layer_query", Duration::ZERO, 1),
    ] {
        let svc = layer(ttl).layer(inner);
        // Every session accepted (and, for the cached layer, cached).
        rt.block_on(async {
            for cookie in &cookies {
                let res = svc.clone().call(request(cookie)).await.unwrap();
                assert_eq!(res.status(), StatusCode::OK);
                assert_eq!(&res.body()[..], b"ok", "the handler got the session");
            }
        });
        let mut svc = svc;
        bench_counted(&mut g, name, rt, fx, per_call, |i| {
            let call = svc.call(black_box(request(&cookies[i % cookies.len()])));
            async move {
                black_box(call.await.unwrap());
            }
        });
    }
    g.finish();
}

fn main() -> ExitCode {
    let cluster = match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => {
            eprintln!(
                "{URL_VAR} is not set: the database bench needs a PostgreSQL cluster. Start a \
                 throw-away one and pass its URL:\n  \
                 eval \"$(bash scripts/postgres.sh start target/pgdata | sed 's/^/export TOWER_NEXTAUTH_/')\"\n  \
                 cargo bench -p tower-nextauth-benches --bench database\n  \
                 bash scripts/postgres.sh stop target/pgdata"
            );
            return ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let fixture = rt.block_on(Fixture::create(&cluster));
    let mut c = Criterion::default().configure_from_args();
    lookups(&mut c, &rt, &fixture);
    layer(&mut c, &rt, &fixture);
    c.final_summary();
    rt.block_on(fixture.drop_database());
    ExitCode::SUCCESS
}
