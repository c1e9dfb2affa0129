//! What the outbox relay reads: the committed events still waiting to be published.

use super::{page_limit, EventLog, StoredEvent};
use crate::EventLogError;

impl EventLog {
    /// The oldest events waiting in the outbox, leaving out the positions `in_flight` (published,
    /// not confirmed yet); at most `limit` of them, and at most a page.
    pub async fn outbox_batch(
        &self,
        in_flight: &[i64],
        limit: usize,
    ) -> Result<Vec<StoredEvent>, EventLogError> {
        sqlx::query_as(OUTBOX_BATCH)
            .bind(in_flight)
            .bind(page_limit(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(EventLogError::Database)
    }
}

/// The positions are picked first and the events fetched by them: planned as a join, the
/// store's whole position index was scanned on every look once it held many events.
const OUTBOX_BATCH: &str = "
SELECT position, aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
       metadata, recorded_at
  FROM events
 WHERE position = ANY (ARRAY(
        SELECT position
          FROM outbox
         WHERE position NOT IN (SELECT unnest($1::bigint[]))
         ORDER BY position
         LIMIT $2))
 ORDER BY position";
