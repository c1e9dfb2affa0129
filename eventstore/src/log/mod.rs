//! The one typed reading of the event log: every read of `events` outside the write path goes
//! through [`EventLog`] (on the pool) or [`ConnectionLog`] (inside a caller's transaction).
//!
//! Whatever can be long is read in pages of at most [`PAGE_SIZE`] events; callers loop, asking
//! for the page after the last event they got.

mod aggregate;
mod event;
mod horizon;
mod marks;
mod outbox;
mod settled;

pub use aggregate::UserEvents;
pub use event::{Recorded, StoredEvent};
pub use horizon::{AppliedCheckpoints, Horizon, HorizonPages};
pub use outbox::OutboxEvent;

use sqlx::{PgConnection, PgPool};

use crate::EventLogError;

/// The most events one read answers.
pub const PAGE_SIZE: usize = 500;

/// A caller's page size, within 1..=[`PAGE_SIZE`], as SQL's `LIMIT` takes it.
fn page_limit(wanted: usize) -> i64 {
    wanted.clamp(1, PAGE_SIZE) as i64
}

/// The event log read through a pool: each read takes a connection of its own. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EventLog {
    pool: PgPool,
}

/// The event log read on one connection, typically inside the caller's transaction: its reads
/// see what that transaction sees, and take no second connection while it holds one (a pool
/// whose every connection waits for another would stall).
#[derive(Debug)]
pub struct ConnectionLog<'c> {
    connection: &'c mut PgConnection,
}

const COUNT: &str = "SELECT count(*) FROM events";

impl EventLog {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Reads on `connection` instead of the pool.
    pub fn on(connection: &mut PgConnection) -> ConnectionLog<'_> {
        ConnectionLog { connection }
    }

    /// How many events the store holds.
    pub async fn count(&self) -> Result<u64, EventLogError> {
        let count: i64 = sqlx::query_scalar(COUNT)
            .fetch_one(&self.pool)
            .await
            .map_err(EventLogError::Database)?;
        Ok(count as u64)
    }
}
