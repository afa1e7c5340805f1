//! Database sessions: the sessions an Auth.js adapter keeps in PostgreSQL (next-auth's
//! `database` session strategy), read, extended and ended as next-auth does.
//!
//! Under the `database` strategy the session cookie (`next-auth.session-token` /
//! `authjs.session-token`, `__Secure-` on https) holds an opaque `sessionToken`, and the session
//! and its user are rows written by the app's adapter. [`Database`] works on the tables of the
//! official `@auth/pg-adapter` ([`SCHEMA`]) with the adapter's own statements (its two session
//! reads joined into one), and follows the lifecycle of next-auth's session route:
//!
//! - a session whose `expires` has passed is no session, and its row is deleted;
//! - a session read more than `update_age` (1 day) after it was last extended gets one `UPDATE`
//!   setting `expires` to now + `max_age` (30 days); reads in between write nothing;
//! - sign-out deletes the row ([`Database::delete_session`]).
//!
//! Lookups are cached per token for a short TTL (5 s by default: how long a session deleted by
//! another instance, or by the Next.js app, can still pass here) and single-flight: concurrent
//! requests with one cookie share one query. Connections come from a pool that is opened lazily,
//! so a service starts while the database is down, and reconnects by itself when it is back.
//!
//! ```no_run
//! use tower_nextauth::database::Database;
//!
//! # tokio_test::block_on(async {
//! let db = Database::builder("postgres://app:secret@localhost/app").build()?;
//! // The raw value of the session cookie.
//! match db.session("3f1c2a9e-7b7e-4c8e-9f5e-2d1b0c6a4e11").await {
//!     Ok(Some(session)) => println!("user {} until {}", session.user_id(), session.expires()),
//!     Ok(None) => println!("no session: sign in again"),
//!     Err(e) if e.is_unavailable() => println!("cannot tell right now: {e}"),
//!     Err(e) => println!("the database refused the lookup: {e}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # });
//! ```
//!
//! The connection is plain TCP (or a Unix socket): TLS to the database is not supported yet.

use std::error::Error as StdError;
use std::fmt;
#[cfg(feature = "tracing")]
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{BufMut, BytesMut};
use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime, TimeoutType,
};
use serde_json::{json, Value};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use tokio_postgres::{NoTls, Row};

use crate::error::ConfigError;
use crate::flight::Flights;
use crate::sessions::{hyphenated, uuid_v4, Sessions};
use http::{HeaderMap, HeaderValue};

/// The tables `@auth/pg-adapter` 1.11.3 works on, exactly as its `schema.sql` creates them
/// (`packages/adapter-pg/schema.sql` in the `nextauthjs/next-auth` repository, also printed on
/// the adapter's documentation page), without the file's `\set ON_ERROR_STOP true` psql line.
///
/// It is not idempotent (plain `CREATE TABLE`) and has no index on `sessions."sessionToken"`,
/// so every lookup scans the table; production databases usually add
/// `CREATE UNIQUE INDEX ON sessions ("sessionToken")`, which changes no query.
///
/// ```no_run
/// # tokio_test::block_on(async {
/// let (client, connection) =
///     tokio_postgres::connect("postgres://app:secret@localhost/app", tokio_postgres::NoTls).await?;
/// tokio::spawn(connection);
/// client.batch_execute(tower_nextauth::database::SCHEMA).await?;
/// # Ok::<(), tokio_postgres::Error>(())
/// # });
/// ```
pub const SCHEMA: &str = r#"CREATE TABLE verification_token
(
  identifier TEXT NOT NULL,
  expires TIMESTAMPTZ NOT NULL,
  token TEXT NOT NULL,

  PRIMARY KEY (identifier, token)
);

CREATE TABLE accounts
(
  id SERIAL,
  "userId" INTEGER NOT NULL,
  type VARCHAR(255) NOT NULL,
  provider VARCHAR(255) NOT NULL,
  "providerAccountId" VARCHAR(255) NOT NULL,
  refresh_token TEXT,
  access_token TEXT,
  expires_at BIGINT,
  id_token TEXT,
  scope TEXT,
  session_state TEXT,
  token_type TEXT,

  PRIMARY KEY (id)
);

CREATE TABLE sessions
(
  id SERIAL,
  "userId" INTEGER NOT NULL,
  expires TIMESTAMPTZ NOT NULL,
  "sessionToken" VARCHAR(255) NOT NULL,

  PRIMARY KEY (id)
);

CREATE TABLE users
(
  id SERIAL,
  name VARCHAR(255),
  email VARCHAR(255),
  "emailVerified" TIMESTAMPTZ,
  image TEXT,

  PRIMARY KEY (id)
);
"#;

// The statements. Where the adapter has one, it is the adapter's text (`@auth/pg-adapter@1.11.3
// index.js`); see docs/compat.md, "Database sessions".

/// `getSessionAndUser`'s two queries (`select * from sessions where "sessionToken" = $1`, then
/// `select * from users where id = $1`) as one round trip: no row unless both exist.
const SELECT_SESSION_AND_USER: &str = r#"SELECT s.expires, u.id, u.name, u.email, u.image
FROM sessions s JOIN users u ON u.id = s."userId"
WHERE s."sessionToken" = $1
LIMIT 1"#;
/// `deleteSession`.
const DELETE_SESSION: &str = r#"delete from sessions where "sessionToken" = $1"#;
/// `updateSession`'s write (its preceding `select` only merges the fields it is given).
const UPDATE_SESSION: &str = r#"UPDATE sessions set expires = $2 where "sessionToken" = $1"#;
/// `createUser`.
const INSERT_USER: &str = r#"INSERT INTO users (name, email, "emailVerified", image)
VALUES ($1, $2, $3, $4)
RETURNING id, name, email, "emailVerified", image"#;
/// `createSession`.
const INSERT_SESSION: &str = r#"insert into sessions ("userId", expires, "sessionToken")
values ($1, $2, $3)
RETURNING id, "sessionToken", "userId", expires"#;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Settings for a [`Database`]; from [`Database::builder`].
///
/// ```
/// use std::time::Duration;
/// use tower_nextauth::database::Database;
///
/// let db = Database::builder("postgres://app:secret@db.internal:5432/app")
///     .pool_size(16)
///     .cache_ttl(Duration::from_secs(2))
///     .max_age(Duration::from_secs(7 * 24 * 60 * 60)) // next-auth's `session.maxAge`
///     .build()?; // does not connect
/// assert!(!format!("{db:?}").contains("secret"));
/// # Ok::<(), tower_nextauth::ConfigError>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct DatabaseBuilder {
    url: String,
    pool_size: usize,
    wait_timeout: Duration,
    connect_timeout: Duration,
    query_timeout: Duration,
    cache_ttl: Duration,
    cache_capacity: usize,
    max_age: Duration,
    update_age: Duration,
}

impl DatabaseBuilder {
    /// Settings with the defaults for a PostgreSQL connection string: a URL
    /// (`postgres://user:password@host:port/database?…`) or `key=value` pairs, as `libpq` and
    /// node-postgres take them.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: 10,
            wait_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(2),
            query_timeout: Duration::from_secs(2),
            cache_ttl: Duration::from_secs(5),
            cache_capacity: 10_000,
            max_age: 30 * DAY,
            update_age: DAY,
        }
    }

    /// At most this many connections (default 10, as node-postgres' pool).
    pub fn pool_size(mut self, connections: usize) -> Self {
        self.pool_size = connections;
        self
    }

    /// How long a lookup waits for a free pooled connection when all are busy (default 2 s).
    pub fn wait_timeout(mut self, timeout: Duration) -> Self {
        self.wait_timeout = timeout;
        self
    }

    /// How long opening a connection may take, TCP and authentication included (default 2 s).
    /// A `connect_timeout` in the connection string applies to the TCP part.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long the statements of one operation may take on a connection (default 2 s); a
    /// connection that timed out is closed rather than reused.
    pub fn query_timeout(mut self, timeout: Duration) -> Self {
        self.query_timeout = timeout;
        self
    }

    /// How long a lookup's answer is reused for the same token (default 5 s). This is how long
    /// a session deleted elsewhere (sign-out in the Next.js app, another instance, an admin)
    /// still passes here; [`Database::delete_session`] forgets its own at once. Zero turns the
    /// cache off; concurrent lookups of one token still share one query.
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// At most this many tokens are cached or in flight (default 10 000). When the table is
    /// full, answers past their TTL are dropped, and if it is still full a lookup runs without
    /// being shared.
    pub fn cache_capacity(mut self, tokens: usize) -> Self {
        self.cache_capacity = tokens;
        self
    }

    /// next-auth's `session.maxAge` (default 30 days): a session is extended to now + `max_age`,
    /// and [`Database::create_session`] gives new sessions that long.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// next-auth's `session.updateAge` (default 1 day): a session is extended when it was last
    /// extended at least this long ago, that is once `expires - max_age + update_age` has
    /// passed. Zero extends it on every lookup (each cache miss).
    pub fn update_age(mut self, update_age: Duration) -> Self {
        self.update_age = update_age;
        self
    }

    /// The store. Nothing is connected yet: the first lookup opens the first connection.
    ///
    /// # Errors
    /// [`ConfigError::InvalidDatabase`] when the connection string does not parse, names no
    /// host or requires TLS (`sslmode=require`, not supported yet), or a pool size or timeout is
    /// zero. The message never repeats the password.
    pub fn build(self) -> Result<Database, ConfigError> {
        let invalid =
            |what: &'static str, reason: String| ConfigError::InvalidDatabase { what, reason };
        let mut config: tokio_postgres::Config =
            self.url.parse().map_err(|e: tokio_postgres::Error| {
                invalid(
                    "DatabaseBuilder::new",
                    format!(
                        "not a PostgreSQL connection string ({}), got {:?}",
                        pg_detail(&e),
                        redact(&self.url)
                    ),
                )
            })?;
        if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
            return Err(invalid(
                "DatabaseBuilder::new",
                format!(
                    "the connection string names no host, got {:?}",
                    redact(&self.url)
                ),
            ));
        }
        if config.get_ssl_mode() == SslMode::Require {
            return Err(invalid(
                "DatabaseBuilder::new",
                format!(
                    "sslmode=require needs TLS, which the session store does not support yet \
                     (use it on a trusted network with sslmode=disable or prefer), got {:?}",
                    redact(&self.url)
                ),
            ));
        }
        for (what, value) in [
            ("DatabaseBuilder::wait_timeout", self.wait_timeout),
            ("DatabaseBuilder::connect_timeout", self.connect_timeout),
            ("DatabaseBuilder::query_timeout", self.query_timeout),
        ] {
            if value.is_zero() {
                return Err(invalid(what, "must be longer than zero".into()));
            }
        }
        if self.pool_size == 0 {
            return Err(invalid(
                "DatabaseBuilder::pool_size",
                "must be at least 1".into(),
            ));
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(self.connect_timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("tower-nextauth");
        }
        let target = describe(&config);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(self.pool_size)
            .wait_timeout(Some(self.wait_timeout))
            .create_timeout(Some(self.connect_timeout))
            .recycle_timeout(Some(self.connect_timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| invalid("DatabaseBuilder", e.to_string()))?;
        Ok(Database {
            inner: Arc::new(Inner {
                pool,
                flights: Arc::new(Flights::new(self.cache_capacity, self.cache_ttl)),
                query_timeout: self.query_timeout,
                max_age_ms: millis(self.max_age),
                update_age_ms: millis(self.update_age),
                target,
                #[cfg(feature = "tracing")]
                up: AtomicBool::new(true),
            }),
        })
    }
}

impl fmt::Debug for DatabaseBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseBuilder")
            .field("url", &redact(&self.url))
            .field("pool_size", &self.pool_size)
            .field("wait_timeout", &self.wait_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("query_timeout", &self.query_timeout)
            .field("cache_ttl", &self.cache_ttl)
            .field("cache_capacity", &self.cache_capacity)
            .field("max_age", &self.max_age)
            .field("update_age", &self.update_age)
            .finish()
    }
}

/// Auth.js adapter sessions in PostgreSQL: see the [module docs](self). Cheap to clone (an
/// `Arc`); clones share the pool and the cache.
///
/// Its methods need a Tokio runtime with the time driver (`#[tokio::main]` has it): the pool
/// spawns a task per connection and the timeouts use Tokio's timer. No lock is held across an
/// `.await`, and nothing blocks.
///
/// ```
/// use tower_nextauth::database::Database;
///
/// // Built once at start-up; the database may still be down.
/// let db = Database::builder("postgres://app:secret@db.internal/app").build()?;
/// let for_a_handler = db.clone(); // same pool, same cache
/// assert_eq!(for_a_handler.max_age().as_secs(), 30 * 24 * 60 * 60);
/// # Ok::<(), tower_nextauth::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Database {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    flights: Arc<Flights<Option<DbSession>, DatabaseError>>,
    query_timeout: Duration,
    max_age_ms: i64,
    update_age_ms: i64,
    /// `host:port/database`, for logs: no user, no password.
    target: String,
    /// Whether the last lookup reached the database: a warning is logged when this turns false,
    /// and an info event when it turns true again.
    #[cfg(feature = "tracing")]
    up: AtomicBool,
}

impl Database {
    /// Settings with the defaults; see [`DatabaseBuilder`].
    pub fn builder(url: impl Into<String>) -> DatabaseBuilder {
        DatabaseBuilder::new(url)
    }

    /// The session whose `sessionToken` is `session_token` (the session cookie's raw value),
    /// with its user; `None` when there is none, it has expired (its row is then deleted), or
    /// its user is gone. When the session is due (see [`DatabaseBuilder::update_age`]) its
    /// `expires` is moved to now + `max_age` first, with one `UPDATE`.
    ///
    /// This is the per-request lookup: an answer is reused for the cache TTL, and concurrent
    /// calls for one token share one query and its result, error included. An error is not
    /// cached: the next call asks the database again. The query runs on a spawned task, so it
    /// completes (and frees its connection) even when every caller is dropped midway.
    ///
    /// ```no_run
    /// # use tower_nextauth::database::Database;
    /// # tokio_test::block_on(async {
    /// let db = Database::builder("postgres://app:secret@localhost/app").build()?;
    /// if let Some(session) = db.session("3f1c2a9e-7b7e-4c8e-9f5e-2d1b0c6a4e11").await? {
    ///     // {"user":{"id":1,"name":"Ada","email":"ada@example.com","image":null},"expires":"…"}
    ///     println!("{}", session.claims());
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # });
    /// ```
    ///
    /// # Errors
    /// A [`DatabaseError`]: [`is_unavailable`](DatabaseError::is_unavailable) when the database
    /// could not be reached or did not answer in time, otherwise the database refused a
    /// statement (a missing table, a permission). Either way the session is unknown, not absent.
    pub async fn session(&self, session_token: &str) -> Result<Option<DbSession>, DatabaseError> {
        // Upstream returns before touching the adapter when the cookie is empty.
        if session_token.is_empty() {
            return Ok(None);
        }
        let inner = Arc::clone(&self.inner);
        let token: Box<str> = session_token.into();
        self.inner
            .flights
            .run(session_token, move || async move {
                // On a task of its own: a lookup whose callers all went away (a client that
                // disconnected) still finishes, and gives its connection back to the pool.
                let lookup = tokio::spawn(async move {
                    let result = inner.lookup(&token).await;
                    inner.observe(&result);
                    result
                });
                lookup.await.unwrap_or_else(|_| {
                    Err(DatabaseError::new(
                        Op::Read,
                        Kind::Closed,
                        Some("the lookup task was cancelled (runtime shutdown) or panicked".into()),
                    ))
                })
            })
            .await
    }

    /// Ends the session: deletes its row (the adapter's `deleteSession`, what sign-out does)
    /// and forgets any cached answer for it, so this instance stops accepting it at once.
    /// Deleting a session that does not exist succeeds.
    ///
    /// ```no_run
    /// # use tower_nextauth::database::Database;
    /// # tokio_test::block_on(async {
    /// # let db = Database::builder("postgres://app:secret@localhost/app").build()?;
    /// db.delete_session("3f1c2a9e-7b7e-4c8e-9f5e-2d1b0c6a4e11").await?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # });
    /// ```
    ///
    /// # Errors
    /// A [`DatabaseError`] when the row could not be deleted; the cached answer is forgotten
    /// all the same.
    pub async fn delete_session(&self, session_token: &str) -> Result<(), DatabaseError> {
        let result = async {
            let mut conn = self.inner.connection(Op::SignOut).await?;
            conn.execute(Op::SignOut, DELETE_SESSION, &[&session_token])
                .await
                .map(drop)
        }
        .await;
        // After the delete: a lookup still running now is not cached when it ends.
        self.inner.flights.forget(session_token);
        result
    }

    /// Creates a user as the adapter's `createUser` does, and returns its id (`users.id`, the
    /// `SERIAL` as text). With [`create_session`](Self::create_session) this is what sign-in
    /// writes under the `database` strategy.
    ///
    /// ```no_run
    /// # use tower_nextauth::database::{Database, NewUser};
    /// # tokio_test::block_on(async {
    /// # let db = Database::builder("postgres://app:secret@localhost/app").build()?;
    /// let id = db
    ///     .create_user(&NewUser { name: Some("Ada"), email: Some("ada@example.com"), ..Default::default() })
    ///     .await?;
    /// let session = db.create_session(&id).await?;
    /// // Set `authjs.session-token` (or `next-auth.session-token`) to `session.token()`,
    /// // expiring at `session.expires()`.
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # });
    /// ```
    ///
    /// # Errors
    /// A [`DatabaseError`] when the row could not be inserted.
    pub async fn create_user(&self, user: &NewUser<'_>) -> Result<String, DatabaseError> {
        let mut conn = self.inner.connection(Op::CreateUser).await?;
        let row = conn
            .query_one(
                Op::CreateUser,
                INSERT_USER,
                &[&user.name, &user.email, &user.email_verified, &user.image],
            )
            .await?;
        let id: Id = row
            .try_get(0)
            .map_err(|e| DatabaseError::from_pg(Op::CreateUser, &e))?;
        Ok(id.text)
    }

    /// Creates a session for the user `user_id` as Auth.js does at sign-in: a new
    /// `sessionToken` (a random UUID v4, core's default `generateSessionToken`), `expires` =
    /// now + `max_age`, inserted with the adapter's `createSession`.
    ///
    /// `user_id` is sent as the type of `sessions."userId"` (an `INTEGER` in the adapter's
    /// schema; text and UUID columns work too).
    ///
    /// ```no_run
    /// # use tower_nextauth::database::Database;
    /// # tokio_test::block_on(async {
    /// # let db = Database::builder("postgres://app:secret@localhost/app").build()?;
    /// let session = db.create_session("1").await?;
    /// assert_eq!(session.token().len(), 36); // 8-4-4-4-12 hex digits
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # });
    /// ```
    ///
    /// # Errors
    /// A [`DatabaseError`] when the row could not be inserted, or `user_id` is not a value of
    /// the column's type.
    pub async fn create_session(&self, user_id: &str) -> Result<CreatedSession, DatabaseError> {
        let token = uuid_v4();
        let expires_ms = now_ms().saturating_add(self.inner.max_age_ms);
        let mut conn = self.inner.connection(Op::CreateSession).await?;
        conn.query_one(
            Op::CreateSession,
            INSERT_SESSION,
            &[&IdParam(user_id), &system_time(expires_ms), &token],
        )
        .await?;
        Ok(CreatedSession { token, expires_ms })
    }

    /// Signs the user out as next-auth's sign-out route does under the `database` strategy:
    /// deletes the session whose token `request`'s session cookie holds (names as `sessions`
    /// reads them), and returns the `Set-Cookie` values that clear every session cookie the
    /// request carried.
    ///
    /// ```no_run
    /// use axum::{http::{header::SET_COOKIE, HeaderMap}, response::{IntoResponse, Redirect}, Extension};
    /// use tower_nextauth::{database::Database, Sessions};
    ///
    /// async fn sign_out(sessions: Sessions, Extension(db): Extension<Database>, headers: HeaderMap) -> impl IntoResponse {
    ///     let mut res = Redirect::to("/").into_response();
    ///     for cookie in db.sign_out(&sessions, &headers).await.unwrap_or_default() {
    ///         res.headers_mut().append(SET_COOKIE, cookie);
    ///     }
    ///     res
    /// }
    /// ```
    ///
    /// # Errors
    /// A [`DatabaseError`] when the row could not be deleted (the session then still exists).
    pub async fn sign_out(
        &self,
        sessions: &Sessions,
        request: &HeaderMap,
    ) -> Result<Vec<HeaderValue>, DatabaseError> {
        if let Some((_, token)) = sessions.raw_session_cookie(request) {
            self.delete_session(&token).await?;
        }
        Ok(sessions.sign_out(request))
    }

    /// `host:port/database` of the connection string: no user, no password. What `Debug` and
    /// the outage warnings name, for a banner or a log line of your own.
    pub fn target(&self) -> &str {
        &self.inner.target
    }

    /// next-auth's `session.maxAge` as configured: how long a session lasts from its creation
    /// or its last extension (the session cookie's lifetime too). See [`Database`] for an
    /// example.
    pub fn max_age(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.inner.max_age_ms).unwrap_or(0))
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.inner.pool.status();
        f.debug_struct("Database")
            .field("target", &self.inner.target)
            .field("connections", &status.size)
            .field("max_connections", &status.max_size)
            .finish_non_exhaustive()
    }
}

impl Inner {
    async fn lookup(&self, token: &str) -> Result<Option<DbSession>, DatabaseError> {
        let mut conn = self.connection(Op::Read).await?;
        let Some(row) = conn
            .query_opt(Op::Read, SELECT_SESSION_AND_USER, &[&token])
            .await?
        else {
            return Ok(None);
        };
        let session =
            DbSession::from_row(&row).map_err(|e| DatabaseError::from_pg(Op::Read, &e))?;
        let now = now_ms();
        // `session.expires.valueOf() < Date.now()`: expired, deleted, no session.
        if session.expires_ms < now {
            conn.execute(Op::Expire, DELETE_SESSION, &[&token]).await?;
            return Ok(None);
        }
        // `sessionIsDueToBeUpdatedDate = expires - maxAge + updateAge`, updated when `<= now`.
        let due = session
            .expires_ms
            .saturating_sub(self.max_age_ms)
            .saturating_add(self.update_age_ms);
        let mut session = session;
        if due <= now {
            let extended = now.saturating_add(self.max_age_ms);
            conn.execute(
                Op::Extend,
                UPDATE_SESSION,
                &[&token, &system_time(extended)],
            )
            .await?;
            session.extended_ms = Some(extended);
        }
        // As upstream, the session reports the `expires` it was read with.
        Ok(Some(session))
    }

    async fn connection(&self, op: Op) -> Result<Conn, DatabaseError> {
        let object = self
            .pool
            .get()
            .await
            .map_err(|e| DatabaseError::from_pool(op, e))?;
        Ok(Conn {
            object: Some(object),
            healthy: true,
            timeout: self.query_timeout,
        })
    }

    /// Logs the first failure of an outage and the first success after it.
    #[cfg(feature = "tracing")]
    fn observe<T>(&self, result: &Result<T, DatabaseError>) {
        match result {
            Err(error) if error.is_unavailable() => {
                if self.up.swap(false, Ordering::AcqRel) {
                    tracing::warn!(
                        database = %self.target,
                        %error,
                        "tower-nextauth: the session database is unavailable; database sessions cannot be checked until it is back"
                    );
                }
            }
            _ => {
                if !self.up.load(Ordering::Acquire) && !self.up.swap(true, Ordering::AcqRel) {
                    tracing::info!(
                        database = %self.target,
                        "tower-nextauth: the session database is back"
                    );
                }
            }
        }
    }

    #[cfg(not(feature = "tracing"))]
    fn observe<T>(&self, _: &Result<T, DatabaseError>) {}
}

/// A pooled connection for one operation. One that failed at the connection level, timed out,
/// or was dropped mid-statement is closed instead of going back to the pool.
struct Conn {
    object: Option<Object>,
    healthy: bool,
    timeout: Duration,
}

impl Conn {
    async fn query_opt(
        &mut self,
        op: Op,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, DatabaseError> {
        self.healthy = false;
        let client = self
            .object
            .as_deref()
            .ok_or(DatabaseError::new(op, Kind::Closed, None))?;
        let outcome = tokio::time::timeout(self.timeout, async {
            let statement = client.prepare_cached(sql).await?;
            client.query_opt(&statement, params).await
        })
        .await;
        self.settle(op, outcome)
    }

    async fn query_one(
        &mut self,
        op: Op,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, DatabaseError> {
        self.healthy = false;
        let client = self
            .object
            .as_deref()
            .ok_or(DatabaseError::new(op, Kind::Closed, None))?;
        let outcome = tokio::time::timeout(self.timeout, async {
            let statement = client.prepare_cached(sql).await?;
            client.query_one(&statement, params).await
        })
        .await;
        self.settle(op, outcome)
    }

    async fn execute(
        &mut self,
        op: Op,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, DatabaseError> {
        self.healthy = false;
        let client = self
            .object
            .as_deref()
            .ok_or(DatabaseError::new(op, Kind::Closed, None))?;
        let outcome = tokio::time::timeout(self.timeout, async {
            let statement = client.prepare_cached(sql).await?;
            client.execute(&statement, params).await
        })
        .await;
        self.settle(op, outcome)
    }

    /// The statement's result; `healthy` (cleared while it ran, so that a connection dropped
    /// mid-statement is closed) is set again unless the connection itself failed.
    fn settle<T>(
        &mut self,
        op: Op,
        outcome: Result<Result<T, tokio_postgres::Error>, tokio::time::error::Elapsed>,
    ) -> Result<T, DatabaseError> {
        let (healthy, result) = match outcome {
            Err(_) => (
                false,
                Err(DatabaseError::timeout(op, "the statement", self.timeout)),
            ),
            Ok(Ok(value)) => (true, Ok(value)),
            Ok(Err(e)) => {
                let error = DatabaseError::from_pg(op, &e);
                (!error.is_unavailable(), Err(error))
            }
        };
        self.healthy = healthy;
        result
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if !self.healthy {
            if let Some(object) = self.object.take() {
                drop(Object::take(object));
            }
        }
    }
}

/// A session read from the database with its user: what next-auth's `session` callback is
/// given under the `database` strategy.
///
/// `Debug` shows only the expiry: names and emails stay out of logs.
///
/// ```no_run
/// # use tower_nextauth::database::Database;
/// # tokio_test::block_on(async {
/// # let db = Database::builder("postgres://app:secret@localhost/app").build()?;
/// let session = db.session("3f1c2a9e-7b7e-4c8e-9f5e-2d1b0c6a4e11").await?.expect("signed in");
/// assert_eq!(session.claims()["user"]["email"], session.email().unwrap());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # });
/// ```
#[derive(Clone)]
pub struct DbSession {
    user_id: Id,
    name: Option<String>,
    email: Option<String>,
    image: Option<String>,
    expires_ms: i64,
    /// The new `expires` when this lookup extended the session (milliseconds).
    extended_ms: Option<i64>,
}

impl DbSession {
    fn from_row(row: &Row) -> Result<Self, tokio_postgres::Error> {
        let expires: SystemTime = row.try_get(0)?;
        Ok(Self {
            expires_ms: unix_ms(expires),
            extended_ms: None,
            user_id: row.try_get(1)?,
            name: row.try_get(2)?,
            email: row.try_get(3)?,
            image: row.try_get(4)?,
        })
    }

    /// The user's id (`users.id`), as text.
    pub fn user_id(&self) -> &str {
        &self.user_id.text
    }

    /// `users.name`.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// `users.email`.
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// `users.image`.
    pub fn image(&self) -> Option<&str> {
        self.image.as_deref()
    }

    /// `sessions.expires` as read, in whole seconds since the Unix epoch. When the lookup
    /// extended the session, this is the value before the extension, as next-auth's session
    /// route reports it; the row (and the cookie next-auth re-issues) then says now + `max_age`.
    pub fn expires(&self) -> i64 {
        self.expires_ms.div_euclid(1000)
    }

    /// When this lookup extended the session (it was due, see
    /// [`DatabaseBuilder::update_age`]): its new `expires`, in whole seconds since the Unix
    /// epoch, which the session cookie should carry too. An answer reused from the cache says
    /// the same until it is asked for again.
    pub fn extended(&self) -> Option<i64> {
        self.extended_ms.map(|ms| ms.div_euclid(1000))
    }

    /// The session as next-auth's session route hands it to the `session` callback:
    /// `{"user":{"id","name","email","image"},"expires":"<ISO 8601>"}`.
    ///
    /// `expires` is `Date.prototype.toISOString()` of `sessions.expires` (milliseconds, `Z`).
    /// `id` is a number for an integer column (node-postgres' `SERIAL`), a string otherwise;
    /// `name`, `email` and `image` are `null` when the column is. The default `session`
    /// callback answers this without `user.id`; apps that add it (`session.user.id = user.id`)
    /// answer exactly this.
    pub fn claims(&self) -> Value {
        let id = match self.user_id.number {
            Some(n) => Value::from(n),
            None => Value::from(self.user_id.text.as_str()),
        };
        json!({
            "user": { "id": id, "name": self.name, "email": self.email, "image": self.image },
            "expires": iso_8601_ms(self.expires_ms),
        })
    }
}

impl fmt::Debug for DbSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbSession")
            .field("expires", &self.expires())
            .finish_non_exhaustive()
    }
}

/// A user for [`Database::create_user`]: the adapter's `createUser` columns.
///
/// ```
/// use tower_nextauth::database::NewUser;
///
/// let user = NewUser { name: Some("Ada"), email: Some("ada@example.com"), ..Default::default() };
/// assert!(user.image.is_none() && user.email_verified.is_none());
/// ```
#[derive(Clone, Debug, Default)]
pub struct NewUser<'a> {
    /// `users.name`.
    pub name: Option<&'a str>,
    /// `users.email`.
    pub email: Option<&'a str>,
    /// `users.image`.
    pub image: Option<&'a str>,
    /// `users."emailVerified"`.
    pub email_verified: Option<SystemTime>,
}

/// A session made by [`Database::create_session`]: the cookie value and its expiry.
///
/// `Debug` leaves the token out.
///
/// ```no_run
/// # use tower_nextauth::database::Database;
/// # tokio_test::block_on(async {
/// # let db = Database::builder("postgres://app:secret@localhost/app").build()?;
/// let session = db.create_session("1").await?;
/// let cookie = format!(
///     "authjs.session-token={}; Path=/; HttpOnly; SameSite=Lax; Expires={}",
///     session.token(),
///     session.expires(), // as an HTTP date in a real Set-Cookie
/// );
/// assert!(!format!("{session:?}").contains(session.token()));
/// # let _ = cookie;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # });
/// ```
#[derive(Clone)]
pub struct CreatedSession {
    token: String,
    expires_ms: i64,
}

impl CreatedSession {
    /// The `sessionToken`: the session cookie's value.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// `sessions.expires`, in whole seconds since the Unix epoch: the cookie's `Expires`.
    pub fn expires(&self) -> i64 {
        self.expires_ms.div_euclid(1000)
    }
}

impl fmt::Debug for CreatedSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedSession")
            .field("expires", &self.expires())
            .finish_non_exhaustive()
    }
}

/// Why the database could not answer. Opaque: [`is_unavailable`](Self::is_unavailable) is the
/// distinction that matters for a request; `Display` says which operation failed and how
/// (connecting, a timeout, or the database's error with its SQLSTATE), and `Debug` is the same
/// sentence. Neither contains the connection string, its password, or a session token.
///
/// ```no_run
/// # use tower_nextauth::database::Database;
/// # tokio_test::block_on(async {
/// # let db = Database::builder("postgres://app:secret@localhost/app").build()?;
/// match db.session("3f1c2a9e-7b7e-4c8e-9f5e-2d1b0c6a4e11").await {
///     Ok(session) => println!("signed in: {}", session.is_some()),
///     // "reading a database session: cannot connect to the database: error connecting to
///     // server: Connection refused (os error 111)": answer 503, try again later.
///     Err(e) if e.is_unavailable() => eprintln!("{e}"),
///     // "reading a database session: the database refused the statement: ERROR: relation
///     // "sessions" does not exist (SQLSTATE 42P01)": the adapter's tables are missing.
///     Err(e) => eprintln!("{e}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # });
/// ```
#[derive(Clone)]
pub struct DatabaseError {
    op: Op,
    kind: Kind,
    detail: Option<Arc<str>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Read,
    Expire,
    Extend,
    SignOut,
    CreateUser,
    CreateSession,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A connection could not be opened.
    Connect,
    /// A connection broke, or the server is shutting down or out of connections.
    Closed,
    /// Waiting for something took longer than configured.
    Timeout,
    /// The database answered the statement with an error.
    Query,
}

impl DatabaseError {
    fn new(op: Op, kind: Kind, detail: Option<String>) -> Self {
        Self {
            op,
            kind,
            detail: detail.map(Into::into),
        }
    }

    fn timeout(op: Op, what: &str, after: Duration) -> Self {
        Self::new(
            op,
            Kind::Timeout,
            Some(format!("{what} took longer than {after:?}")),
        )
    }

    fn from_pg(op: Op, error: &tokio_postgres::Error) -> Self {
        let kind = match error.as_db_error() {
            Some(db) => {
                let code = db.code().code();
                // connection_exception, insufficient_resources, admin/crash shutdown,
                // cannot_connect_now: the server is there but cannot serve.
                if code.starts_with("08") || code.starts_with("53") || code.starts_with("57P") {
                    Kind::Closed
                } else {
                    Kind::Query
                }
            }
            None if error.is_closed() => Kind::Closed,
            None => {
                let text = error.to_string();
                if text.starts_with("error connecting") {
                    Kind::Connect
                } else if text.starts_with("error communicating")
                    || text.starts_with("timeout")
                    || text.starts_with("authentication")
                {
                    Kind::Closed
                } else {
                    Kind::Query
                }
            }
        };
        Self::new(op, kind, Some(pg_detail(error)))
    }

    fn from_pool(op: Op, error: PoolError) -> Self {
        match error {
            PoolError::Timeout(TimeoutType::Wait) => Self::new(
                op,
                Kind::Timeout,
                Some("every pooled connection stayed busy for the wait timeout".into()),
            ),
            PoolError::Timeout(TimeoutType::Create) => Self::new(
                op,
                Kind::Timeout,
                Some("opening a connection took longer than the connect timeout".into()),
            ),
            PoolError::Timeout(TimeoutType::Recycle) => Self::new(
                op,
                Kind::Timeout,
                Some("checking a pooled connection took longer than the connect timeout".into()),
            ),
            PoolError::Backend(e) => {
                let mut error = Self::from_pg(op, &e);
                // Whatever the server said, the connection was not made.
                error.kind = Kind::Connect;
                error
            }
            other => Self::new(op, Kind::Connect, Some(other.to_string())),
        }
    }

    /// The database could not be used: a connection could not be opened or broke, a timeout
    /// passed, or the server is shutting down or out of connections. The session is unknown;
    /// retrying later may succeed, and nothing was cached. `false` means the database answered
    /// with an error (a missing table or column, a permission): a setup problem, not an outage.
    pub fn is_unavailable(&self) -> bool {
        self.kind != Kind::Query
    }
}

impl fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            Op::Read => "reading a database session",
            Op::Expire => "deleting an expired database session",
            Op::Extend => "extending a database session",
            Op::SignOut => "deleting a database session",
            Op::CreateUser => "creating a user",
            Op::CreateSession => "creating a database session",
        };
        let kind = match self.kind {
            Kind::Connect => "cannot connect to the database",
            Kind::Closed => "the database connection failed",
            Kind::Timeout => "timed out",
            Kind::Query => "the database refused the statement",
        };
        write!(f, "{op}: {kind}")?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for DatabaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl StdError for DatabaseError {}

/// A tokio-postgres error as text that is safe to show: its own message, then what caused it.
/// A server error contributes its severity, message and SQLSTATE, never its `DETAIL`, `HINT` or
/// `WHERE`, which can quote row values (a duplicate key, say).
fn pg_detail(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
    }
    match error.source() {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}

/// `host:port/database` of a configuration, for logs and `Debug`.
fn describe(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        #[cfg(unix)]
        Some(Host::Unix(path)) => path.display().to_string(),
        None => config
            .get_hostaddrs()
            .first()
            .map(ToString::to_string)
            .unwrap_or_default(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or_default();
    format!("{host}:{port}/{db}")
}

/// A connection string with its password replaced by `***`: the user info of a URL, and any
/// `password` key or query parameter.
fn redact(url: &str) -> String {
    let mut out = url.to_owned();
    // URL user info: scheme://user:password@host
    if let Some(start) = out.find("://").map(|i| i + 3) {
        // The last `@` before the query: a password may hold `/`, `#` or `@` unescaped.
        let end = out[start..].find('?').map_or(out.len(), |i| start + i);
        if let Some(at) = out[start..end].rfind('@').map(|i| start + i) {
            if let Some(colon) = out[start..at].find(':').map(|i| start + i) {
                out.replace_range(colon + 1..at, "***");
            }
        }
    }
    // password=… as a query parameter or a key/value pair (quoted values included).
    let mut search = 0;
    while let Some(found) = out[search..]
        .to_ascii_lowercase()
        .find("password")
        .map(|i| search + i)
    {
        let mut i = found + "password".len();
        let bytes = out.as_bytes();
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] != b'=' {
            search = i;
            continue;
        }
        i += 1;
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        let end = if bytes.get(i) == Some(&b'\'') {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'\'' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            (j + 1).min(bytes.len())
        } else {
            out[i..].find(['&', ' ', '#']).map_or(out.len(), |j| i + j)
        };
        out.replace_range(i..end, "***");
        search = i + 3;
    }
    out
}

/// A user id as node-postgres hands it to Auth.js: a number for `INT2`/`INT4` columns, text for
/// everything else (`INT8` included, as node-postgres returns it as a string).
#[derive(Clone)]
struct Id {
    text: String,
    number: Option<i64>,
}

impl<'a> FromSql<'a> for Id {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        let number = |n: i64| Id {
            text: n.to_string(),
            number: Some(n),
        };
        Ok(match *ty {
            Type::INT2 => number(i16::from_sql(ty, raw)?.into()),
            Type::INT4 => number(i32::from_sql(ty, raw)?.into()),
            Type::INT8 => Id {
                text: i64::from_sql(ty, raw)?.to_string(),
                number: None,
            },
            Type::UUID => {
                let bytes: [u8; 16] = raw.try_into().map_err(|_| "a UUID is 16 bytes")?;
                Id {
                    text: hyphenated(&bytes),
                    number: None,
                }
            }
            _ => Id {
                text: <&str>::from_sql(ty, raw)?.to_owned(),
                number: None,
            },
        })
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::INT2 | Type::INT4 | Type::INT8 | Type::UUID)
            || <&str as FromSql>::accepts(ty)
    }
}

/// A user id given as text, sent as the column's type.
#[derive(Debug)]
struct IdParam<'a>(&'a str);

impl ToSql for IdParam<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match *ty {
            Type::INT2 => self.0.parse::<i16>()?.to_sql(ty, out),
            Type::INT4 => self.0.parse::<i32>()?.to_sql(ty, out),
            Type::INT8 => self.0.parse::<i64>()?.to_sql(ty, out),
            Type::UUID => {
                let hex: Vec<u8> = self.0.bytes().filter(|b| *b != b'-').collect();
                if hex.len() != 32 || !hex.iter().all(u8::is_ascii_hexdigit) {
                    return Err("not a UUID".into());
                }
                for pair in hex.chunks(2) {
                    let digits = std::str::from_utf8(pair)?;
                    out.put_u8(u8::from_str_radix(digits, 16)?);
                }
                Ok(IsNull::No)
            }
            _ => self.0.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::INT2 | Type::INT4 | Type::INT8 | Type::UUID)
            || <&str as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

/// `Date.now()`.
fn now_ms() -> i64 {
    unix_ms(SystemTime::now())
}

/// Milliseconds since the Unix epoch, whole (a JavaScript `Date`'s precision).
fn unix_ms(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => {
            let d = before.duration();
            // Floor, so that a time just before the epoch is -1 ms, not 0.
            let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
            if d.subsec_nanos() % 1_000_000 == 0 {
                -ms
            } else {
                -ms - 1
            }
        }
    }
}

fn system_time(ms: i64) -> SystemTime {
    let magnitude = Duration::from_millis(ms.unsigned_abs());
    if ms >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// `Date.prototype.toISOString()`: `2030-01-01T00:00:00.123Z`.
fn iso_8601_ms(ms: i64) -> String {
    let whole = crate::cookies::iso_8601(ms.div_euclid(1000));
    let stem = whole.strip_suffix("000Z").unwrap_or(&whole);
    format!("{stem}{:03}Z", ms.rem_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_in_every_connection_string_form() {
        for (url, want) in [
            (
                "postgres://app:s3cret@db:5432/app",
                "postgres://app:***@db:5432/app",
            ),
            (
                "postgresql://app:p@ss@db/app?sslmode=disable",
                "postgresql://app:***@db/app?sslmode=disable",
            ),
            ("postgres://app@db/app", "postgres://app@db/app"),
            ("postgres://app:a/b#c@db/app", "postgres://app:***@db/app"),
            (
                "postgres://db/app?user=app&password=s3cret&x=1",
                "postgres://db/app?user=app&password=***&x=1",
            ),
            (
                "host=db user=app password=s3cret dbname=app",
                "host=db user=app password=*** dbname=app",
            ),
            (
                "host=db password = 's3 cr\\'et' dbname=app",
                "host=db password = *** dbname=app",
            ),
            ("host=db PASSWORD=s3cret", "host=db PASSWORD=***"),
        ] {
            assert_eq!(redact(url), want, "{url}");
        }
    }

    #[test]
    fn build_refuses_bad_settings_without_repeating_the_password() {
        let error = Database::builder("postgres://app:s3cret@db:notaport/app")
            .build()
            .unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with("DatabaseBuilder::new: not a PostgreSQL connection string"),
            "{text}"
        );
        assert!(!text.contains("s3cret") && text.contains("***"), "{text}");
        assert!(!format!("{error:?}").contains("s3cret"));

        let error = Database::builder("user=app password=s3cret")
            .build()
            .unwrap_err();
        assert!(error.to_string().contains("names no host"), "{error}");
        assert!(!error.to_string().contains("s3cret"));

        let error = Database::builder("postgres://app:s3cret@db/app?sslmode=require")
            .build()
            .unwrap_err();
        assert!(
            error.to_string().contains("sslmode=require needs TLS"),
            "{error}"
        );
        assert!(!error.to_string().contains("s3cret"));

        let error = Database::builder("postgres://db/app")
            .pool_size(0)
            .build()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "DatabaseBuilder::pool_size: must be at least 1"
        );
        let error = Database::builder("postgres://db/app")
            .query_timeout(Duration::ZERO)
            .build()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "DatabaseBuilder::query_timeout: must be longer than zero"
        );
    }

    #[test]
    fn debug_shows_no_password() {
        let builder = Database::builder("postgres://app:s3cret@db:5433/app");
        assert!(!format!("{builder:?}").contains("s3cret"));
        let db = builder.build().unwrap();
        assert_eq!(
            format!("{db:?}"),
            "Database { target: \"db:5433/app\", connections: 0, max_connections: 10, .. }"
        );
    }

    #[test]
    fn iso_8601_is_javascripts_to_iso_string() {
        // new Date(1735689600123).toISOString()
        assert_eq!(iso_8601_ms(1_735_689_600_123), "2025-01-01T00:00:00.123Z");
        assert_eq!(iso_8601_ms(1_735_689_600_000), "2025-01-01T00:00:00.000Z");
        assert_eq!(iso_8601_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(unix_ms(system_time(-1)), -1);
        assert_eq!(unix_ms(UNIX_EPOCH - Duration::from_micros(1)), -1);
    }

    #[test]
    fn claims_have_the_session_callbacks_shape() {
        let session = DbSession {
            user_id: Id {
                text: "7".into(),
                number: Some(7),
            },
            name: Some("Ada".into()),
            email: None,
            image: None,
            expires_ms: 1_735_689_600_123,
            extended_ms: None,
        };
        // Compared as values: member order depends on serde_json's `preserve_order`, which
        // other crates in a build (josekit, with `jose`) may turn on.
        assert_eq!(
            session.claims(),
            json!({"expires":"2025-01-01T00:00:00.123Z","user":{"email":null,"id":7,"image":null,"name":"Ada"}})
        );
        assert_eq!(session.expires(), 1_735_689_600);
        assert_eq!(
            format!("{session:?}"),
            "DbSession { expires: 1735689600, .. }"
        );
    }

    #[test]
    fn session_tokens_are_uuid_v4() {
        let token = uuid_v4();
        assert_eq!(token.len(), 36);
        assert_eq!(&token[14..15], "4");
        assert!(matches!(&token[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(token, uuid_v4());
    }

    #[tokio::test]
    async fn an_unreachable_database_is_unavailable_within_the_timeouts() {
        // A port nothing listens on: bind one, then free it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let db = Database::builder(format!("postgres://app:s3cret@127.0.0.1:{port}/app"))
            .connect_timeout(Duration::from_millis(500))
            .build()
            .unwrap();
        let started = std::time::Instant::now();
        let error = db.session("c0ffee-session-token").await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(error.is_unavailable(), "{error}");
        let text = format!("{error} {error:?}");
        assert!(
            text.starts_with("reading a database session: cannot connect to the database"),
            "{text}"
        );
        assert!(
            !text.contains("s3cret") && !text.contains("c0ffee"),
            "{text}"
        );
        assert_eq!(db.session("").await.unwrap().map(|s| s.expires()), None);
    }
}
