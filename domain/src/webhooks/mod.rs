//! A room's webhooks: the endpoints its room events are POSTed to.
//!
//! They are an aggregate of their own, keyed by the room's id, rather than Room events: they take
//! none of the room's sequence numbers (clients resume and fill gaps with those), yet every
//! creation and deletion is a durable, audited event. Their secrets are never in an event.

mod aggregate;
mod events;
mod values;

#[cfg(test)]
mod tests;

pub use aggregate::{RoomWebhooks, Webhook, WebhookCommand, WebhookError};
pub use events::WebhookEvent;
pub use values::{WebhookEventTypes, WebhookUrl, MAX_URL_BYTES};
