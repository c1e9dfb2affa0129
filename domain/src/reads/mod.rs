//! How far each user has read each room: one stream per user, keyed by the user's id.
//!
//! Read positions are not Room events: they would take room sequence numbers (which clients
//! resume and fill gaps with) and grow every room's stream by one event per reader. Here they
//! cost nothing to the room, and a position only ever moves forward, so a move that does not
//! advance records nothing.

mod aggregate;
mod seq;

#[cfg(test)]
mod tests;

pub use aggregate::{ReadCommand, ReadError, ReadEvent, ReadPositions, EVENT_TYPES};
pub use seq::ReadSeq;
