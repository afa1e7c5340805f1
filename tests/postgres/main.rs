//! Database sessions (`database::Database`, feature `postgres`) against a real PostgreSQL
//! cluster and the real `@auth/pg-adapter`.
//!
//! The cluster comes from `TOWER_NEXTAUTH_DATABASE_URL` (and `TOWER_NEXTAUTH_PGDATA`, to stop
//! and start it); `scripts/test.sh` starts a throw-away one with `scripts/postgres.sh`. Without
//! them every test fails and says so: nothing is skipped. Each test works in a fresh database of
//! its own with the adapter's tables (`database::SCHEMA`); statement counts are measured by the
//! database (`pg_stat_statements`, which scripts/postgres.sh preloads).
//!
//! `bash scripts/test.sh`, or with a cluster at hand
//! `cargo test --features postgres --test postgres`

mod support;

mod adapter;
mod layer;
mod outage;
mod quickstart;
mod store;
