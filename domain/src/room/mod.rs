//! A chat room: its settings, its members and their roles, and its timeline of messages.
//!
//! Messages are Room events, so the event store's per-aggregate sequence is the room's gapless
//! position: clients resume and fill gaps with it.

mod aggregate;
mod changes;
mod commands;
mod direct;
mod events;
mod messages;
mod upcast;

#[cfg(test)]
mod tests;

pub use aggregate::{Member, RecentSend, Room, RoomError, RoomInfo};
pub use commands::{Actor, RoomCommand};
pub use direct::direct_room_id;
pub use events::{Mention, MessagePosted, Role, RoomEvent, RoomKind, EVENT_TYPES};
pub use messages::{
    mentions_in, ChangedMessages, KnownMessage, MessageFacts, CHANGED_WINDOW,
    MAX_DISTINCT_REACTIONS,
};
pub use upcast::is_known_version;
