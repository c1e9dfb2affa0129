//! From the bus to the delivery queue: each room event becomes one delivery per webhook of the
//! room that wants its type, in the room's order, exactly once whichever worker takes it.
//!
//! The bus only says which room moved; the events themselves are read from the store after the
//! room's mark (`webhook_rooms`), under a row lock, so a lost or repeated message, or two workers
//! at once, can neither skip nor repeat one. A regular sweep catches rooms whose last message
//! the broker lost.

use std::collections::{HashMap, HashSet};

use eventstore::log::PAGE_SIZE;
use eventstore::EventLog;
use serde::Deserialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Of the rooms given with their latest sequence, those with a webhook whose mark is behind it.
const BEHIND_OF: &str = "
SELECT r.room_id FROM webhook_rooms r
  JOIN unnest($1::uuid[], $2::bigint[]) AS moved (room_id, sequence) ON moved.room_id = r.room_id
 WHERE r.room_seq < moved.sequence
   AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.room_id = r.room_id)";

const ENSURE_ROOM: &str = "INSERT INTO webhook_rooms (room_id) VALUES ($1) ON CONFLICT DO NOTHING";

const LOCK_ROOM: &str =
    "SELECT room_seq, hooks_seq FROM webhook_rooms WHERE room_id = $1 FOR UPDATE";

const ENDPOINTS: &str = "
SELECT webhook_id, event_types, created_position FROM webhook_endpoints WHERE room_id = $1";

const ADD_ENDPOINT: &str = "
INSERT INTO webhook_endpoints (webhook_id, room_id, url, event_types, created_position)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";

/// A room that had no webhook starts at its last event before the first one was created.
const START_ROOM: &str =
    "UPDATE webhook_rooms SET room_seq = GREATEST(room_seq, $2) WHERE room_id = $1";

const REMOVE_ENDPOINT: &str = "DELETE FROM webhook_endpoints WHERE webhook_id = $1";

const SET_MARKS: &str = "UPDATE webhook_rooms SET room_seq = $2, hooks_seq = $3 WHERE room_id = $1";

const ADD_DELIVERY: &str = "
INSERT INTO webhook_deliveries (delivery_id, webhook_id, room_seq, event_position, event_type, body)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING";

/// Each room's marks, and whether it has a webhook (only then are its events queued).
const MARKS: &str = "
SELECT r.room_id::text, r.room_seq, r.hooks_seq,
       EXISTS (SELECT 1 FROM webhook_endpoints w WHERE w.room_id = r.room_id)
  FROM webhook_rooms r";

const ROOMS_WITH_WEBHOOKS: &str = "SELECT DISTINCT room_id FROM webhook_endpoints";

const HAS_WEBHOOKS: &str = "SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE room_id = $1)";

/// Finished deliveries are kept this long for `GET …/deliveries`.
const FORGET_FINISHED: &str = "
DELETE FROM webhook_deliveries WHERE state <> 'pending' AND finished_at < now() - interval '7 days'";

/// Which rooms a batch of bus messages moved, and what each asks of the queue.
#[derive(Default)]
pub(crate) struct Moved {
    /// Rooms whose events moved, with the latest sequence seen.
    events: HashMap<Uuid, i64>,
    /// Rooms whose webhooks changed: always queued.
    webhooks: HashSet<Uuid>,
}

/// What the intake reads of a bus message: which aggregate moved, and how far. The payload is
/// left unparsed, as the events to deliver are read from the store.
#[derive(Deserialize)]
pub(crate) struct EventHeader {
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
}

impl Moved {
    pub(crate) fn add(&mut self, event: &EventHeader) {
        let Ok(room_id) = event.aggregate_id.parse() else {
            return;
        };
        match event.aggregate_type.as_str() {
            "Room" => {
                let latest = self.events.entry(room_id).or_default();
                *latest = (*latest).max(event.sequence);
            }
            "RoomWebhooks" => {
                self.webhooks.insert(room_id);
            }
            _ => {}
        }
    }

    /// The rooms to queue: every room whose webhooks changed, and of the others those with a
    /// webhook and events past their mark. Most rooms have no webhook, so a whole batch costs
    /// one read and nothing written.
    /// The rooms whose webhooks changed.
    pub(crate) fn webhooks_changed(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.webhooks.iter().copied()
    }

    pub(crate) async fn rooms_to_queue(
        mut self,
        pool: &PgPool,
    ) -> Result<HashSet<Uuid>, sqlx::Error> {
        self.events
            .retain(|room_id, _| !self.webhooks.contains(room_id));
        if !self.events.is_empty() {
            let (rooms, sequences): (Vec<Uuid>, Vec<i64>) = self.events.into_iter().unzip();
            let behind: Vec<Uuid> = sqlx::query_scalar(BEHIND_OF)
                .bind(rooms)
                .bind(sequences)
                .fetch_all(pool)
                .await?;
            self.webhooks.extend(behind);
        }
        Ok(self.webhooks)
    }
}

/// Queues the room's events after its mark, following its webhooks first. Answers how many
/// deliveries were added.
pub(crate) async fn queue_room(pool: &PgPool, room_id: Uuid) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(ENSURE_ROOM)
        .bind(room_id)
        .execute(&mut *tx)
        .await?;
    let (room_seq, hooks_seq): (i64, i64) = sqlx::query_as(LOCK_ROOM)
        .bind(room_id)
        .fetch_one(&mut *tx)
        .await?;
    // Each statement here sees what had committed when it began. The room's last event is read
    // before its webhooks, so every webhook created before one of the events queued below (and
    // so committed before it) is known by then; an event read after the webhooks could belong to
    // a webhook created in between, which would never be queued for it.
    let last_seq = EventLog::on(&mut tx)
        .last_sequence_before("Room", &room_id.to_string(), i64::MAX)
        .await
        .map_err(into_sqlx)?;
    let hooks_seq = follow_webhooks(&mut tx, room_id, hooks_seq).await?;
    let (room_seq, added) = queue_events(&mut tx, room_id, room_seq, last_seq).await?;
    sqlx::query(SET_MARKS)
        .bind(room_id)
        .bind(room_seq)
        .bind(hooks_seq)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(added)
}

/// Applies the room's webhook events after `hooks_seq` to the worker's copy; answers the new mark.
async fn follow_webhooks(
    tx: &mut PgConnection,
    room_id: Uuid,
    mut hooks_seq: i64,
) -> Result<i64, sqlx::Error> {
    loop {
        let page = EventLog::on(tx)
            .events_between("RoomWebhooks", &room_id.to_string(), hooks_seq, i64::MAX)
            .await
            .map_err(into_sqlx)?;
        for event in &page {
            let payload = &event.payload;
            if let Some(created) = payload.get("WebhookCreated") {
                let webhook_id: Option<Uuid> =
                    serde_json::from_value(created["webhook_id"].clone()).ok();
                let event_types: Option<Vec<String>> =
                    serde_json::from_value(created["event_types"].clone()).unwrap_or(None);
                let endpoints: Vec<(Uuid, Option<Vec<String>>, i64)> = sqlx::query_as(ENDPOINTS)
                    .bind(room_id)
                    .fetch_all(&mut *tx)
                    .await?;
                if endpoints.is_empty() {
                    let start = EventLog::on(tx)
                        .last_sequence_before("Room", &room_id.to_string(), event.position)
                        .await
                        .map_err(into_sqlx)?;
                    sqlx::query(START_ROOM)
                        .bind(room_id)
                        .bind(start)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query(ADD_ENDPOINT)
                    .bind(webhook_id)
                    .bind(room_id)
                    .bind(created["url"].as_str().unwrap_or_default())
                    .bind(event_types)
                    .bind(event.position)
                    .execute(&mut *tx)
                    .await?;
            } else if let Some(deleted) = payload.get("WebhookDeleted") {
                let webhook_id: Option<Uuid> =
                    serde_json::from_value(deleted["webhook_id"].clone()).ok();
                sqlx::query(REMOVE_ENDPOINT)
                    .bind(webhook_id)
                    .execute(&mut *tx)
                    .await?;
            }
            hooks_seq = event.sequence;
        }
        if page.len() < PAGE_SIZE {
            return Ok(hooks_seq);
        }
    }
}

/// Adds a delivery of each room event after `room_seq`, up to `last_seq`, to each webhook that
/// wants it; answers the new mark and how many were added.
async fn queue_events(
    tx: &mut PgConnection,
    room_id: Uuid,
    mut room_seq: i64,
    last_seq: i64,
) -> Result<(i64, u64), sqlx::Error> {
    let endpoints: Vec<(Uuid, Option<Vec<String>>, i64)> = sqlx::query_as(ENDPOINTS)
        .bind(room_id)
        .fetch_all(&mut *tx)
        .await?;
    let mut added = 0;
    loop {
        let page = EventLog::on(tx)
            .events_between("Room", &room_id.to_string(), room_seq, last_seq + 1)
            .await
            .map_err(into_sqlx)?;
        for event in &page {
            let wanted = endpoints.iter().filter(|(_, types, created_position)| {
                event.position > *created_position
                    && types
                        .as_ref()
                        .is_none_or(|types| types.contains(&event.event_type))
            });
            let body = serde_json::to_string(&event.clone().redacted())
                .expect("a stored event serialises");
            for (webhook_id, ..) in wanted {
                // Derived, so a delivery queued twice is one row with one `webhook-id`.
                let delivery_id = Uuid::new_v5(webhook_id, &event.sequence.to_be_bytes());
                added += sqlx::query(ADD_DELIVERY)
                    .bind(delivery_id)
                    .bind(webhook_id)
                    .bind(event.sequence)
                    .bind(event.position)
                    .bind(&event.event_type)
                    .bind(&body)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            room_seq = event.sequence;
        }
        if page.len() < PAGE_SIZE {
            return Ok((room_seq, added));
        }
    }
}

/// Rooms with a webhook: their events are routed to the worker's queue.
pub(crate) async fn rooms_with_webhooks(pool: &PgPool) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(ROOMS_WITH_WEBHOOKS)
        .fetch_all(pool)
        .await
}

/// Whether the room has a webhook now.
pub(crate) async fn has_webhooks(pool: &PgPool, room_id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(HAS_WEBHOOKS)
        .bind(room_id)
        .fetch_one(pool)
        .await
}

/// Rooms whose webhooks, or events for their webhooks, the bus left unqueued.
pub(crate) async fn behind(pool: &PgPool) -> Result<Vec<Uuid>, sqlx::Error> {
    let marks: Vec<(String, i64, i64, bool)> = sqlx::query_as(MARKS).fetch_all(pool).await?;
    let hooks_marks: HashMap<&str, i64> = marks
        .iter()
        .map(|(room, _, hooks_seq, _)| (room.as_str(), *hooks_seq))
        .collect();
    let log = EventLog::new(pool.clone());
    // A room whose webhooks were never followed has no marks yet: it counts from 0.
    let mut rooms: HashSet<String> = log
        .last_sequences("RoomWebhooks")
        .await
        .map_err(into_sqlx)?
        .into_iter()
        .filter(|(room, last)| *last > hooks_marks.get(room.as_str()).copied().unwrap_or(0))
        .map(|(room, _)| room)
        .collect();
    let event_marks: Vec<(String, i64)> = marks
        .into_iter()
        .filter(|(.., has_webhooks)| *has_webhooks)
        .map(|(room, room_seq, ..)| (room, room_seq))
        .collect();
    rooms.extend(
        log.past_marks("Room", &event_marks)
            .await
            .map_err(into_sqlx)?,
    );
    Ok(rooms.iter().filter_map(|room| room.parse().ok()).collect())
}

/// Forgets deliveries finished long ago.
pub(crate) async fn forget_finished(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query(FORGET_FINISHED).execute(pool).await?;
    Ok(())
}

fn into_sqlx(error: eventstore::EventLogError) -> sqlx::Error {
    match error {
        eventstore::EventLogError::Database(error) => error,
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

#[cfg(test)]
mod tests;
