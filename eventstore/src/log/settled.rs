//! Reading the log in position order with nothing left behind: the settled position.
//!
//! A position is drawn at insert and becomes visible at commit, so position 11 may be visible
//! while 10 is still being written. A reader that served 11 and remembered "done up to 11" would
//! skip 10 for ever. Every statement that inserts events first takes a shared advisory lock
//! (migration `0082`), before it draws a position, and holds it until its transaction ends. So:
//! read the identity's last value `M`; list who holds the lock now; wait until each of them has
//! ended. Whoever drew a position up to `M` held the lock when `M` was read, so it has committed
//! or rolled back by then: every position up to `M` that will ever exist is visible.
//! Writers never wait for readers, nor for each other.

use std::time::Duration;

use super::{page_limit, EventLog, StoredEvent};
use crate::EventLogError;

const LAST_DRAWN: &str =
    "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('public.events', 'position')), 0)";

/// Transactions holding the writers' lock (key `(7279, 1)`, taken by `claim_positions()`).
const WRITERS: &str = "
SELECT coalesce(array_agg(virtualtransaction), '{}') FROM pg_locks
 WHERE locktype = 'advisory' AND classid = 7279 AND objid = 1 AND objsubid = 2 AND granted";

const STILL_WRITING: &str = "
SELECT coalesce(array_agg(virtualtransaction), '{}') FROM pg_locks
 WHERE locktype = 'advisory' AND classid = 7279 AND objid = 1 AND objsubid = 2 AND granted
   AND virtualtransaction = ANY ($1)";

const PAGE_UP_TO: &str = "
SELECT position, aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
       metadata, recorded_at
  FROM events
 WHERE position > $1 AND position <= $2
 ORDER BY position
 LIMIT $3";

const MEMBERSHIP_UNTIL: &str = "
SELECT aggregate_id, event_type = 'MemberJoined'
  FROM events
 WHERE aggregate_type = 'Room' AND event_type IN ('MemberJoined', 'MemberLeft')
   AND ((payload -> event_type) ->> 'user_id') = $1 AND position <= $2
 ORDER BY position";

/// How long to wait between looks at the writers still in flight: a write is one statement.
const RECHECK_AFTER: Duration = Duration::from_millis(1);

impl EventLog {
    /// The highest position up to which every event that will ever exist is visible now.
    pub async fn settled_position(&self) -> Result<i64, EventLogError> {
        let mut connection = self.pool.acquire().await.map_err(EventLogError::Database)?;
        let last: i64 = sqlx::query_scalar(LAST_DRAWN)
            .fetch_one(&mut *connection)
            .await
            .map_err(EventLogError::Database)?;
        let mut writing: Vec<String> = sqlx::query_scalar(WRITERS)
            .fetch_one(&mut *connection)
            .await
            .map_err(EventLogError::Database)?;
        while !writing.is_empty() {
            tokio::time::sleep(RECHECK_AFTER).await;
            writing = sqlx::query_scalar(STILL_WRITING)
                .bind(&writing)
                .fetch_one(&mut *connection)
                .await
                .map_err(EventLogError::Database)?;
        }
        Ok(last)
    }

    /// Events after `after` up to `up_to` (a settled position), in position order, at most
    /// `limit` (within the log's page size).
    pub async fn settled_page(
        &self,
        after: i64,
        up_to: i64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, EventLogError> {
        sqlx::query_as(PAGE_UP_TO)
            .bind(after)
            .bind(up_to)
            .bind(page_limit(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(EventLogError::Database)
    }

    /// The rooms `user_id` is a member of as of position `at` (ids as the log writes them).
    pub async fn rooms_of_member_at(
        &self,
        user_id: &str,
        at: i64,
    ) -> Result<Vec<String>, EventLogError> {
        let changes: Vec<(String, bool)> = sqlx::query_as(MEMBERSHIP_UNTIL)
            .bind(user_id)
            .bind(at)
            .fetch_all(&self.pool)
            .await
            .map_err(EventLogError::Database)?;
        let mut rooms = std::collections::BTreeSet::new();
        for (room, joined) in changes {
            if joined {
                rooms.insert(room);
            } else {
                rooms.remove(&room);
            }
        }
        Ok(rooms.into_iter().collect())
    }
}
