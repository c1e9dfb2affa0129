use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Event names and fields are a public, versioned contract: never rename, add a version instead.
/// The signing secret is not here on purpose: events are read by auditors and replayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum WebhookEvent {
    WebhookCreated {
        webhook_id: Uuid,
        room_id: Uuid,
        url: String,
        /// The room event types it receives; `None` for all of them.
        event_types: Option<Vec<String>>,
        created_by: Uuid,
        created_at: DateTime<Utc>,
    },
    WebhookDeleted {
        webhook_id: Uuid,
        deleted_by: Uuid,
        deleted_at: DateTime<Utc>,
    },
}

impl DomainEvent for WebhookEvent {
    fn event_type(&self) -> String {
        match self {
            WebhookEvent::WebhookCreated { .. } => "WebhookCreated",
            WebhookEvent::WebhookDeleted { .. } => "WebhookDeleted",
        }
        .into()
    }

    fn event_version(&self) -> String {
        "1".into()
    }
}
