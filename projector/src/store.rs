//! Reading the event store in global order, minding transactions still in flight.
//!
//! A position is taken at insert, not at commit: a reader can see position 11 while 10 is
//! still being written, and a reader that only remembered "done up to 11" would never come back
//! for 10. So progress is remembered as a transaction horizon instead: the oldest transaction
//! in flight when a pass began. Every event of an older transaction is settled, and the next
//! pass reads every event of that transaction or a newer one (which overlaps a little: the
//! checkpoints make the overlap harmless).

use bus::EventEnvelope;
use sqlx::{PgConnection, PgPool};

/// The oldest transaction still in flight: every older one has committed or rolled back.
pub(crate) async fn current_horizon(pool: &PgPool) -> Result<String, sqlx::Error> {
    sqlx::query_scalar(CURRENT_HORIZON).fetch_one(pool).await
}

const CURRENT_HORIZON: &str = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text";

/// Where the projection in the connection's current schema has read the store up to.
pub(crate) async fn stored_horizon(connection: &mut PgConnection) -> Result<String, sqlx::Error> {
    sqlx::query_scalar(STORED_HORIZON)
        .fetch_one(connection)
        .await
}

const STORED_HORIZON: &str = "SELECT transaction_id::text FROM projection_horizon";

pub(crate) async fn advance_horizon(
    connection: &mut PgConnection,
    horizon: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(ADVANCE_HORIZON)
        .bind(horizon)
        .execute(connection)
        .await?;
    Ok(())
}

const ADVANCE_HORIZON: &str =
    "UPDATE projection_horizon SET transaction_id = greatest(transaction_id, $1::xid8)";

/// Pages through the events of transactions at or after `since`, in global order.
pub(crate) struct Pages<'a> {
    since: &'a str,
    next_position: Option<i64>,
    page_size: i64,
    only_unapplied: bool,
}

impl<'a> Pages<'a> {
    /// Every such event.
    pub(crate) fn all(since: &'a str, page_size: i64) -> Self {
        Self {
            since,
            next_position: None,
            page_size,
            only_unapplied: false,
        }
    }

    /// Only those the live projection has not applied: finding the few a catch-up needs
    /// among many is left to the database.
    pub(crate) fn unapplied(since: &'a str, page_size: i64) -> Self {
        Self {
            only_unapplied: true,
            ..Self::all(since, page_size)
        }
    }

    /// The next page; empty at the end.
    pub(crate) async fn next(
        &mut self,
        connection: &mut PgConnection,
    ) -> Result<Vec<EventEnvelope>, sqlx::Error> {
        let from = match self.next_position {
            Some(position) => position,
            None => {
                let first: Option<i64> = sqlx::query_scalar(FIRST_POSITION)
                    .bind(self.since)
                    .fetch_one(&mut *connection)
                    .await?;
                match first {
                    Some(first) => first,
                    None => return Ok(Vec::new()),
                }
            }
        };
        let query = if self.only_unapplied {
            UNAPPLIED_PAGE
        } else {
            PAGE
        };
        let page: Vec<EventEnvelope> = sqlx::query_as(query)
            .bind(from)
            .bind(self.since)
            .bind(self.page_size)
            .fetch_all(connection)
            .await?;
        self.next_position = Some(page.last().map_or(from, |event| event.position + 1));
        Ok(page)
    }
}

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
  LEFT JOIN public.projection_checkpoints c
         ON c.aggregate_type = e.aggregate_type AND c.aggregate_id = e.aggregate_id
 WHERE e.position >= $1 AND e.transaction_id >= $2::xid8
   AND e.sequence > coalesce(c.last_seq, 0)
 ORDER BY e.position
 LIMIT $3";
