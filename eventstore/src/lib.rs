//! The write side's storage: the event store on PostgreSQL and the command executor over it.
//!
//! cqrs-es's own `CqrsFramework` is not used: it cannot tell the caller which sequences it wrote,
//! and its snapshot mode applies events twice. [`CommandExecutor`] loads (snapshot + later
//! events, or its in-memory copy), handles, and commits concurrent commands on one aggregate
//! together, and returns the committed events. [`ProjectionWaiter`] lets a writer wait until the
//! projection has caught up with what it wrote.
//!
//! Every other reader of the store (audits, resumes, the relay, the projector) reads it through
//! [`EventLog`], the one typed reading of the `events` table.

mod aggregates;
mod committer;
mod error;
mod executor;
mod group_commit;
pub mod log;
mod metadata;
mod projection_wait;
mod stats;
mod store;

pub use cqrs_es::EventEnvelope;
pub use error::{EventLogError, ExecuteError};
pub use executor::{CommandExecutor, ExecutorOptions};
pub use log::{EventLog, OutboxEvent, Recorded, StoredEvent, PAGE_SIZE};
pub use metadata::{now, CommandMetadata};
pub use projection_wait::{projection_notices, ProjectionWaiter, PROJECTION_CHANNEL};
pub use stats::ExecutorStats;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};
use std::time::Duration;

/// Every schema change of the system, event store and read tables alike, in order.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Opens a pool on `database_url`.
pub async fn connect(database_url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    let options: PgConnectOptions = database_url.parse()?;
    pool_options(max_connections)
        .connect_with(without_jit(options))
        .await
}

/// A pool of at most `max_connections` that opens each connection when it is first needed, so a
/// process pays only for the pools its roles use.
pub fn lazy_pool(options: PgConnectOptions, max_connections: u32) -> PgPool {
    pool_options(max_connections).connect_lazy_with(without_jit(options))
}

/// Every connection runs with PostgreSQL's JIT compiler off. A statement over arrays of
/// thousands of rows (a projector batch) is estimated above `jit_above_cost`, and compiling it
/// took 300–400 ms of each 450–600 ms batch statement of `chat rebuild` (`auto_explain`), far
/// more than it could save: our statements are short, however many rows they carry.
fn without_jit(options: PgConnectOptions) -> PgConnectOptions {
    options.options([("jit", "off")])
}

/// A caller that waits longer than this for a connection gets an error (503 at the edge)
/// rather than queueing without bound.
///
/// sqlx pings every connection it hands out by default: a round trip on every query's path
/// (a sequential post took three). A connection just returned has passed sqlx's own check on
/// release, so only one idle for longer than [`STALE_AFTER`] is pinged before use; one broken
/// meanwhile fails its query, which callers already answer as unavailable.
fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for > STALE_AFTER {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
}

/// How long a connection may sit idle in a pool and still be used without a ping first.
const STALE_AFTER: Duration = Duration::from_secs(1);
