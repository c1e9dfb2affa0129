//! Reading the event store in global order, minding transactions still in flight.
//!
//! A position is taken at insert, not at commit: a reader can see position 11 while 10 is
//! still being written, and a reader that only remembered "done up to 11" would never come back
//! for 10. So progress is remembered as a transaction horizon instead: the oldest transaction
//! in flight when a pass began. Every event of an older transaction is settled, and the next
//! pass reads every event of that transaction or a newer one (which overlaps a little: the
//! reader's checkpoints make the overlap harmless).

use super::{ConnectionLog, StoredEvent, PAGE_SIZE};
use crate::EventLogError;

/// A transaction id (`xid8`, as text): every event of an older transaction is settled.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::Type)]
#[sqlx(transparent)]
pub struct Horizon(String);

impl Horizon {
    /// Before every transaction: reading from here reads the whole store.
    pub fn start() -> Self {
        Self("0".to_owned())
    }
}

/// A reader's record of how far it has applied each aggregate: a table (schema-qualified) with
/// the columns `aggregate_type text`, `aggregate_id text` and `last_seq bigint`.
///
/// The log knows nothing of who reads it, yet a catch-up must find the few events its reader
/// lacks among many, and only the database can do that without shipping them all. So the
/// reader names its table, and these three columns are the contract between them.
#[derive(Debug, Clone, Copy)]
pub struct AppliedCheckpoints {
    table: &'static str,
}

impl AppliedCheckpoints {
    /// `table` is written into the SQL as is: a name the program holds, never input.
    pub const fn table(table: &'static str) -> Self {
        Self { table }
    }
}

/// Pages through the events of transactions at or after a horizon, in global order.
#[derive(Debug)]
pub struct HorizonPages {
    since: Horizon,
    next_position: Option<i64>,
    page: String,
}

impl HorizonPages {
    /// Every such event.
    pub fn all(since: Horizon) -> Self {
        Self {
            since,
            next_position: None,
            page: PAGE.to_owned(),
        }
    }

    /// Only those `checkpoints` say are not applied yet.
    pub fn unapplied(since: Horizon, checkpoints: AppliedCheckpoints) -> Self {
        Self {
            page: UNAPPLIED_PAGE.replace("{checkpoints}", checkpoints.table),
            ..Self::all(since)
        }
    }
}

const CURRENT_HORIZON: &str = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text";

const FIRST_POSITION: &str =
    "SELECT min(position) FROM public.events WHERE transaction_id >= $1::xid8";

const PAGE: &str = "
SELECT position, aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
       metadata, recorded_at
  FROM public.events
 WHERE position >= $1 AND transaction_id >= $2::xid8
 ORDER BY position
 LIMIT $3";

const UNAPPLIED_PAGE: &str = "
SELECT e.position, e.aggregate_type, e.aggregate_id, e.sequence, e.event_type, e.event_version,
       e.payload, e.metadata, e.recorded_at
  FROM public.events e
  LEFT JOIN {checkpoints} c
         ON c.aggregate_type = e.aggregate_type AND c.aggregate_id = e.aggregate_id
 WHERE e.position >= $1 AND e.transaction_id >= $2::xid8
   AND e.sequence > coalesce(c.last_seq, 0)
 ORDER BY e.position
 LIMIT $3";

impl ConnectionLog<'_> {
    /// The oldest transaction still in flight: every older one has committed or rolled back.
    pub async fn current_horizon(&mut self) -> Result<Horizon, EventLogError> {
        sqlx::query_scalar(CURRENT_HORIZON)
            .fetch_one(&mut *self.connection)
            .await
            .map_err(EventLogError::Database)
    }

    /// The next page of `pages` (at most [`PAGE_SIZE`] events); empty at the end.
    pub async fn next_page(
        &mut self,
        pages: &mut HorizonPages,
    ) -> Result<Vec<StoredEvent>, EventLogError> {
        let from = match pages.next_position {
            Some(position) => position,
            None => {
                let first: Option<i64> = sqlx::query_scalar(FIRST_POSITION)
                    .bind(&pages.since)
                    .fetch_one(&mut *self.connection)
                    .await
                    .map_err(EventLogError::Database)?;
                match first {
                    Some(first) => first,
                    None => return Ok(Vec::new()),
                }
            }
        };
        let page: Vec<StoredEvent> = sqlx::query_as(&pages.page)
            .bind(from)
            .bind(&pages.since)
            .bind(PAGE_SIZE as i64)
            .fetch_all(&mut *self.connection)
            .await
            .map_err(EventLogError::Database)?;
        pages.next_position = Some(page.last().map_or(from, |event| event.position + 1));
        Ok(page)
    }
}
