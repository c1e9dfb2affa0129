//! Direct rooms: the one private room of two people, which nobody else can join and neither of
//! them can leave.

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use uuid::Uuid;

use super::{Actor, Role, Room, RoomError, RoomEvent, RoomKind};

/// Direct room ids are in a namespace of their own, apart from the ids of named rooms.
/// Changing it would orphan every stored direct room.
const DIRECT_NAMESPACE: Uuid = Uuid::from_u128(0x5c1b_3a51_7d0e_4f0c_9a8e_2a1f_6b4c_0003);

/// The id of the direct room of two users, the same whichever of them opens it: two openings at
/// once, on any number of processes, collide on the event store's key, so there is never a
/// second room.
pub fn direct_room_id(a: Uuid, b: Uuid) -> Uuid {
    let (first, second) = if a <= b { (a, b) } else { (b, a) };
    let mut pair = [0u8; 32];
    pair[..16].copy_from_slice(first.as_bytes());
    pair[16..].copy_from_slice(second.as_bytes());
    Uuid::new_v5(&DIRECT_NAMESPACE, &pair)
}

impl Room {
    /// Creates the direct room of `opener` and `other` with both as plain members: neither owns
    /// it, so neither may delete the other's messages or give it webhooks.
    pub(super) async fn open_direct(
        &mut self,
        opener: Actor,
        other: Actor,
        at: DateTime<Utc>,
        sink: &EventSink<Self>,
    ) -> Result<(), RoomError> {
        if opener.user_id == other.user_id {
            return Err(RoomError::DirectWithSelf);
        }
        // The id is the pair's: a room here is theirs, opened before by either of them.
        if self.info().is_some() {
            return Ok(());
        }
        let (first, second) = if opener.user_id <= other.user_id {
            (&opener, &other)
        } else {
            (&other, &opener)
        };
        let created = RoomEvent::RoomCreated {
            room_id: direct_room_id(opener.user_id, other.user_id),
            // Each member is shown the other's name; the record names both.
            name: format!("{} & {}", first.username, second.username),
            is_private: true,
            password_hash: None,
            created_by: opener.user_id,
            created_at: at,
            kind: RoomKind::Direct,
        };
        sink.write(created, self).await;
        for member in [opener, other] {
            let joined = RoomEvent::MemberJoined {
                user_id: member.user_id,
                username: member.username,
                role: Role::Member,
                joined_at: at,
            };
            sink.write(joined, self).await;
        }
        Ok(())
    }
}
