//! Reads of one aggregate's stream, and of the events one user caused.

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;

use super::{page_limit, ConnectionLog, EventLog, Recorded, StoredEvent, PAGE_SIZE};
use crate::EventLogError;

const AFTER_SEQUENCE: &str = "
SELECT position, aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
       metadata, recorded_at
  FROM events
 WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3
 ORDER BY sequence
 LIMIT $4";

const AT_SEQUENCE: &str = "
SELECT position, aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
       metadata, recorded_at
  FROM events
 WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3";

const ANY_EVENT: &str = "
SELECT EXISTS (SELECT 1 FROM events WHERE aggregate_type = $1 AND aggregate_id = $2)";

const RECORDED_UNTIL: &str = "
SELECT position, aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
       metadata, recorded_at
  FROM events
 WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3 AND recorded_at <= $4
 ORDER BY sequence
 LIMIT $5";

/// An actor is found by the `user_id` of the metadata (index `events_by_actor`).
const CAUSED_BY: &str = "
SELECT position, aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
       metadata, recorded_at
  FROM events
 WHERE metadata ->> 'user_id' = $1 AND position > $2
 ORDER BY position
 LIMIT $3";

const OF_TYPES: &str = "
SELECT position, aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
       metadata, recorded_at
  FROM events
 WHERE aggregate_type = $1 AND event_type = ANY ($2) AND position > $3
 ORDER BY position
 LIMIT $4";

/// Index `events_message_changes` serves the room's changes of messages.
const FIELD_OF_EVENTS: &str = "
SELECT payload -> event_type ->> $5
  FROM events
 WHERE aggregate_type = $1 AND aggregate_id = $2 AND event_type = $3 AND sequence > $4";

/// Index `events_message_changes` serves a message's changes.
const WITH_FIELD: &str = "
SELECT position, aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
       metadata, recorded_at
  FROM events
 WHERE aggregate_type = $1 AND aggregate_id = $2 AND event_type = ANY ($3)
   AND payload -> event_type ->> $4 = $5 AND sequence > $6
 ORDER BY sequence
 LIMIT $7";

impl EventLog {
    /// Up to `limit` (at most a page) events of these types of one `A`, after
    /// `after_sequence`, whose field `field` is `value`, in order: e.g. every edit and deletion
    /// of one message of a room.
    pub async fn events_with_field<A: Aggregate>(
        &self,
        aggregate_id: &str,
        event_types: &[&str],
        field: &str,
        value: &str,
        after_sequence: i64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, EventLogError> {
        sqlx::query_as(WITH_FIELD)
            .bind(A::TYPE)
            .bind(aggregate_id)
            .bind(event_types)
            .bind(field)
            .bind(value)
            .bind(after_sequence)
            .bind(page_limit(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(EventLogError::Database)
    }

    /// The field `field` of every `event_type` event of one aggregate after `after_sequence`:
    /// e.g. which messages of a room were deleted since a cursor, before the catch-up that
    /// replays them.
    pub async fn field_of_events(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        event_type: &str,
        after_sequence: i64,
        field: &str,
    ) -> Result<Vec<String>, EventLogError> {
        let values: Vec<Option<String>> = sqlx::query_scalar(FIELD_OF_EVENTS)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .bind(event_type)
            .bind(after_sequence)
            .bind(field)
            .fetch_all(&self.pool)
            .await
            .map_err(EventLogError::Database)?;
        Ok(values.into_iter().flatten().collect())
    }

    /// Up to `limit` (at most a page) events of these types of one aggregate type after
    /// `after_position`, in global order: a trail of one kind of fact across every aggregate.
    pub async fn of_types(
        &self,
        aggregate_type: &str,
        event_types: &[&str],
        after_position: i64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, EventLogError> {
        sqlx::query_as(OF_TYPES)
            .bind(aggregate_type)
            .bind(event_types)
            .bind(after_position)
            .bind(page_limit(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(EventLogError::Database)
    }

    /// Up to `limit` (at most a page) events of an aggregate after `after_sequence`, in order.
    pub async fn aggregate_page(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        after_sequence: i64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, EventLogError> {
        sqlx::query_as(AFTER_SEQUENCE)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .bind(after_sequence)
            .bind(page_limit(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(EventLogError::Database)
    }

    /// A page of `A`'s events after `after_sequence`, decoded: what a resume or a gap fill reads.
    /// Fewer than [`PAGE_SIZE`] events means the stream ends there.
    pub async fn events_after<A: Aggregate>(
        &self,
        aggregate_id: &str,
        after_sequence: i64,
    ) -> Result<Vec<Recorded<A::Event>>, EventLogError> {
        self.aggregate_page(A::TYPE, aggregate_id, after_sequence, PAGE_SIZE)
            .await?
            .iter()
            .map(StoredEvent::decode)
            .collect()
    }

    /// One event of an aggregate, by its sequence.
    pub async fn event(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        sequence: i64,
    ) -> Result<Option<StoredEvent>, EventLogError> {
        sqlx::query_as(AT_SEQUENCE)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .bind(sequence)
            .fetch_optional(&self.pool)
            .await
            .map_err(EventLogError::Database)
    }

    /// Whether the aggregate has any event, that is, exists.
    pub async fn has_events(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<bool, EventLogError> {
        sqlx::query_scalar(ANY_EVENT)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .fetch_one(&self.pool)
            .await
            .map_err(EventLogError::Database)
    }

    /// A page of `A`'s events after `after_sequence` that were recorded by `until`, decoded:
    /// the aggregate as it was at that instant is what they fold into.
    pub async fn recorded_until<A: Aggregate>(
        &self,
        aggregate_id: &str,
        after_sequence: i64,
        until: DateTime<Utc>,
    ) -> Result<Vec<Recorded<A::Event>>, EventLogError> {
        let page: Vec<StoredEvent> = sqlx::query_as(RECORDED_UNTIL)
            .bind(A::TYPE)
            .bind(aggregate_id)
            .bind(after_sequence)
            .bind(until)
            .bind(PAGE_SIZE as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(EventLogError::Database)?;
        page.iter().map(StoredEvent::decode).collect()
    }

    /// Up to `limit` (at most a page) events whose metadata names `user_id` as the actor, after
    /// global position `after_position`, in global order.
    pub async fn caused_by(
        &self,
        user_id: &str,
        after_position: i64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, EventLogError> {
        sqlx::query_as(CAUSED_BY)
            .bind(user_id)
            .bind(after_position)
            .bind(page_limit(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(EventLogError::Database)
    }
}

const BETWEEN: &str = "
SELECT position, aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
       metadata, recorded_at
  FROM public.events
 WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3 AND sequence < $4
 ORDER BY sequence
 LIMIT $5";

// A payload is stored as cqrs-es serialises an event, `{"MemberLeft": {"user_id": ..., ...}}`:
// `payload -> event_type` is the event's fields.
const LATER_EVENT_OF_USER: &str = "
SELECT EXISTS (
    SELECT 1
      FROM public.events
     WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3 AND sequence <= $4
       AND event_type = ANY ($5)
       AND payload -> event_type ->> 'user_id' = $6)";

/// Events of one aggregate that concern one user, after a sequence and up to another.
#[derive(Debug, Clone, Copy)]
pub struct UserEvents<'a> {
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    /// Exclusive.
    pub after_sequence: i64,
    /// Inclusive.
    pub up_to_sequence: i64,
    /// Only events of these types, whose fields name the user as `user_id`.
    pub event_types: &'a [&'a str],
    pub user_id: &'a str,
}

// The event store is named `public.events` here: the caller's transaction may point its search
// path at a copy of the read tables.
impl ConnectionLog<'_> {
    /// A page of an aggregate's events strictly between two sequences, in order. Committed
    /// events only, whatever the isolation: a later sequence exists, and it could only be
    /// written after them.
    pub async fn events_between(
        &mut self,
        aggregate_type: &str,
        aggregate_id: &str,
        after_sequence: i64,
        before_sequence: i64,
    ) -> Result<Vec<StoredEvent>, EventLogError> {
        sqlx::query_as(BETWEEN)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .bind(after_sequence)
            .bind(before_sequence)
            .bind(PAGE_SIZE as i64)
            .fetch_all(&mut *self.connection)
            .await
            .map_err(EventLogError::Database)
    }

    /// Whether any event matches `events`.
    pub async fn any_of_user(&mut self, events: UserEvents<'_>) -> Result<bool, EventLogError> {
        sqlx::query_scalar(LATER_EVENT_OF_USER)
            .bind(events.aggregate_type)
            .bind(events.aggregate_id)
            .bind(events.after_sequence)
            .bind(events.up_to_sequence)
            .bind(events.event_types)
            .bind(events.user_id)
            .fetch_one(&mut *self.connection)
            .await
            .map_err(EventLogError::Database)
    }
}
