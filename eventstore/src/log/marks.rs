//! How far aggregates' streams reach, for a reader that keeps its own mark per aggregate (the
//! webhook worker's per room) and must find the streams that moved past it.

use super::{ConnectionLog, EventLog};
use crate::EventLogError;

const LAST_SEQUENCE_BEFORE: &str = "
SELECT COALESCE(max(sequence), 0)
  FROM public.events
 WHERE aggregate_type = $1 AND aggregate_id = $2 AND position < $3";

const LAST_SEQUENCES: &str = "
SELECT aggregate_id, max(sequence) FROM events WHERE aggregate_type = $1 GROUP BY aggregate_id";

/// Each mark is checked by one probe of the stream's primary key.
const PAST_MARKS: &str = "
SELECT m.aggregate_id
  FROM UNNEST($2::text[], $3::bigint[]) AS m (aggregate_id, mark)
 WHERE EXISTS (SELECT 1 FROM events e
                WHERE e.aggregate_type = $1 AND e.aggregate_id = m.aggregate_id
                  AND e.sequence > m.mark)";

impl EventLog {
    /// Every aggregate of `aggregate_type`, with the sequence of its last event.
    pub async fn last_sequences(
        &self,
        aggregate_type: &str,
    ) -> Result<Vec<(String, i64)>, EventLogError> {
        sqlx::query_as(LAST_SEQUENCES)
            .bind(aggregate_type)
            .fetch_all(&self.pool)
            .await
            .map_err(EventLogError::Database)
    }

    /// Of the aggregates of `aggregate_type` in `marks` (id and sequence), those with an event
    /// after their mark.
    pub async fn past_marks(
        &self,
        aggregate_type: &str,
        marks: &[(String, i64)],
    ) -> Result<Vec<String>, EventLogError> {
        let (ids, sequences): (Vec<&str>, Vec<i64>) =
            marks.iter().map(|(id, mark)| (id.as_str(), *mark)).unzip();
        sqlx::query_scalar(PAST_MARKS)
            .bind(aggregate_type)
            .bind(ids)
            .bind(sequences)
            .fetch_all(&self.pool)
            .await
            .map_err(EventLogError::Database)
    }
}

impl ConnectionLog<'_> {
    /// The sequence of the aggregate's last event recorded before global position
    /// `before_position` (`i64::MAX` for its last event), 0 when it has none.
    pub async fn last_sequence_before(
        &mut self,
        aggregate_type: &str,
        aggregate_id: &str,
        before_position: i64,
    ) -> Result<i64, EventLogError> {
        sqlx::query_scalar(LAST_SEQUENCE_BEFORE)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .bind(before_position)
            .fetch_one(&mut *self.connection)
            .await
            .map_err(EventLogError::Database)
    }
}
