//! Reading a room's events straight from the event log: the complete, ordered record that
//! resumes and gap fills rely on (read tables may lag; the log never does).

use std::collections::HashSet;

use domain::Aggregate;
use domain::{Room, RoomEvent};
use eventstore::EventLog;
use uuid::Uuid;

use crate::FanoutError;

/// One committed event of a room, at its place in the room's sequence.
#[derive(Debug, Clone)]
pub struct RoomRecord {
    pub room_id: Uuid,
    pub seq: i64,
    pub event: RoomEvent,
}

/// How many events one read fetches at most; a long gap is read page by page.
pub const PAGE: usize = eventstore::PAGE_SIZE;

/// Up to [`PAGE`] events of the room after `after`, in order.
pub async fn events_after(
    log: &EventLog,
    room_id: Uuid,
    after: i64,
) -> Result<Vec<RoomRecord>, FanoutError> {
    let page = log
        .events_after::<Room>(&room_id.to_string(), after)
        .await?;
    Ok(page
        .into_iter()
        .map(|recorded| RoomRecord {
            room_id,
            seq: recorded.sequence,
            event: recorded.event,
        })
        .collect())
}

/// The messages of the room deleted after `after`: a catch-up replays them as tombstones (v2)
/// or not at all (v1), though their `MessagePosted` comes before their deletion.
pub async fn deleted_after(
    log: &EventLog,
    room_id: Uuid,
    after: i64,
) -> Result<HashSet<Uuid>, FanoutError> {
    let ids = log
        .field_of_events(
            Room::TYPE,
            &room_id.to_string(),
            "MessageDeleted",
            after,
            "message_id",
        )
        .await?;
    Ok(ids.iter().filter_map(|id| id.parse().ok()).collect())
}
