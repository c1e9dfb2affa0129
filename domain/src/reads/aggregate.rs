use std::collections::HashMap;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::room::Actor;

/// A user's read positions refuse nothing: a move that does not advance is simply not recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {}

#[derive(Debug, Clone)]
pub enum ReadCommand {
    /// The caller checked that `reader` is a member of the room and that `seq` is at most the
    /// room's latest sequence.
    MoveTo {
        room_id: Uuid,
        seq: usize,
        reader: Actor,
        at: DateTime<Utc>,
    },
}

/// Event names and fields are a public, versioned contract: never rename, add a version instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReadEvent {
    /// `user_id` has read `room_id` up to and including sequence `seq`. The username rides
    /// along so that the room's sockets can say who, without a lookup.
    ReadPositionMoved {
        room_id: Uuid,
        user_id: Uuid,
        username: String,
        seq: usize,
        moved_at: DateTime<Utc>,
    },
}

/// Every type of read event, by the name it is stored and routed under.
pub const EVENT_TYPES: [&str; 1] = ["ReadPositionMoved"];

impl DomainEvent for ReadEvent {
    fn event_type(&self) -> String {
        match self {
            ReadEvent::ReadPositionMoved { .. } => EVENT_TYPES[0].into(),
        }
    }

    fn event_version(&self) -> String {
        "1".into()
    }
}

/// One user's read positions, per room.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReadPositions {
    rooms: HashMap<Uuid, usize>,
}

impl ReadPositions {
    /// How far the user has read the room, as far as their own moves go.
    pub fn position(&self, room_id: Uuid) -> Option<usize> {
        self.rooms.get(&room_id).copied()
    }
}

impl Aggregate for ReadPositions {
    const TYPE: &'static str = "ReadPositions";
    type Command = ReadCommand;
    type Event = ReadEvent;
    type Error = ReadError;
    type Services = ();

    async fn handle(
        &mut self,
        command: ReadCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), ReadError> {
        match command {
            ReadCommand::MoveTo {
                room_id,
                seq,
                reader,
                at,
            } => {
                if self.position(room_id).is_some_and(|read| read >= seq) {
                    return Ok(());
                }
                let moved = ReadEvent::ReadPositionMoved {
                    room_id,
                    user_id: reader.user_id,
                    username: reader.username,
                    seq,
                    moved_at: at,
                };
                sink.write(moved, self).await;
                Ok(())
            }
        }
    }

    fn apply(&mut self, event: ReadEvent) {
        match event {
            ReadEvent::ReadPositionMoved { room_id, seq, .. } => {
                let read = self.rooms.entry(room_id).or_default();
                *read = (*read).max(seq);
            }
        }
    }
}
