//! A chat room: its settings, its members and their roles, and its timeline of messages.
//!
//! Messages are Room events, so the event store's per-aggregate sequence is the room's gapless
//! position: clients resume and fill gaps with it.

mod aggregate;
mod commands;
mod events;

#[cfg(test)]
mod tests;

pub use aggregate::{Member, RecentSend, Room, RoomError, RoomInfo};
pub use commands::{Actor, RoomCommand};
pub use events::{MessagePosted, Role, RoomEvent, EVENT_TYPES};
