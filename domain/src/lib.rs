//! The chat platform's domain: what can happen to users, rooms and their webhooks, and the rules that decide it.
//!
//! Everything here is pure: no database, no network, no clock. Commands carry the time and the ids
//! they need, so the same command against the same history always yields the same events.

pub mod room;
pub mod user;
pub mod values;
pub mod webhooks;

/// The trait that gives each aggregate its `TYPE`, the name its events are stored under.
pub use cqrs_es::Aggregate;
pub use room::{Mention, MessagePosted, Role, Room, RoomCommand, RoomError, RoomEvent, RoomKind};
pub use user::{User, UserCommand, UserError, UserEvent, UserRole};
pub use webhooks::{RoomWebhooks, WebhookCommand, WebhookError, WebhookEvent};
