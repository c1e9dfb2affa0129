//! Reading a room's events straight from the event store: the complete, ordered record that
//! resumes and gap fills rely on (read tables may lag; the store never does).

use domain::RoomEvent;
use sqlx::PgPool;
use uuid::Uuid;

use crate::FanoutError;

/// One committed event of a room, at its place in the room's sequence.
#[derive(Debug, Clone)]
pub struct RoomRecord {
    pub room_id: Uuid,
    pub seq: i64,
    pub event: RoomEvent,
}

/// How many events one read fetches; a long gap is read page by page.
pub const PAGE: i64 = 500;

const EVENTS_AFTER: &str = "
SELECT sequence, payload FROM events
 WHERE aggregate_type = 'Room' AND aggregate_id = $1 AND sequence > $2
 ORDER BY sequence
 LIMIT $3";

/// Up to [`PAGE`] events of the room after `after`, in order.
pub async fn events_after(
    pool: &PgPool,
    room_id: Uuid,
    after: i64,
) -> Result<Vec<RoomRecord>, FanoutError> {
    let rows: Vec<(i64, serde_json::Value)> = sqlx::query_as(EVENTS_AFTER)
        .bind(room_id.to_string())
        .bind(after)
        .bind(PAGE)
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|(seq, payload)| {
            let event = serde_json::from_value(payload).map_err(|cause| {
                FanoutError::UnreadablePayload {
                    room_id: room_id.to_string(),
                    seq,
                    cause,
                }
            })?;
            Ok(RoomRecord {
                room_id,
                seq,
                event,
            })
        })
        .collect()
}
