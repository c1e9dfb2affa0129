use axum::extract::ws::Utf8Bytes;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::frames;
use crate::store::RoomRecord;

/// What the room's sockets receive: one room event (with its `seq`) or one ephemeral frame,
/// rendered for each dialect (`None` where a dialect does not receive it).
#[derive(Debug)]
pub struct Delivery {
    pub seq: Option<i64>,
    pub v1: Option<Utf8Bytes>,
    pub v2: Option<Utf8Bytes>,
    /// The connection whose action an ephemeral frame reports; it is not echoed back to it.
    pub origin: Option<u64>,
    /// A member who left the room with this event: their sockets of the room close after it.
    pub departed: Option<Uuid>,
    /// When a message was accepted, to measure how long it took to reach each socket.
    pub posted_at: Option<DateTime<Utc>>,
}

impl Delivery {
    pub(crate) fn event(record: &RoomRecord) -> Self {
        let rendered = frames::render_event(record.room_id, record.seq, &record.event);
        let departed = match &record.event {
            domain::RoomEvent::MemberLeft { user_id, .. } => Some(*user_id),
            _ => None,
        };
        let posted_at = match &record.event {
            domain::RoomEvent::MessagePosted(message) => Some(message.posted_at),
            _ => None,
        };
        Self {
            seq: Some(record.seq),
            v1: rendered.v1,
            v2: rendered.v2,
            origin: None,
            departed,
            posted_at,
        }
    }

    /// An event of a message deleted since, as a catch-up replays it.
    pub(crate) fn tombstone(record: &RoomRecord) -> Self {
        let rendered = frames::render_tombstone(record.room_id, record.seq, &record.event);
        Self {
            seq: Some(record.seq),
            v1: rendered.v1,
            v2: rendered.v2,
            origin: None,
            departed: None,
            posted_at: None,
        }
    }

    pub(super) fn ephemeral(
        v1: Option<Utf8Bytes>,
        v2: Option<Utf8Bytes>,
        origin: Option<u64>,
    ) -> Self {
        Self {
            seq: None,
            v1,
            v2,
            origin,
            departed: None,
            posted_at: None,
        }
    }
}
