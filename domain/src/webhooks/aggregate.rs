use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{WebhookEvent, WebhookEventTypes, WebhookUrl};
use crate::room::Actor;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("A room has at most {0} webhooks")]
    TooMany(usize),
    #[error("Webhook not found")]
    NotFound,
}

#[derive(Debug, Clone)]
pub enum WebhookCommand {
    /// The caller checked that `owner` owns the room; the room decides nothing here.
    Create {
        webhook_id: Uuid,
        room_id: Uuid,
        url: WebhookUrl,
        /// `None`: every room event.
        event_types: Option<WebhookEventTypes>,
        owner: Actor,
        /// The most webhooks the room may have at once (a setting, so carried in).
        cap: usize,
        at: DateTime<Utc>,
    },
    Delete {
        webhook_id: Uuid,
        owner: Actor,
        at: DateTime<Utc>,
    },
}

/// One webhook as configured; its secret is kept elsewhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub webhook_id: Uuid,
    pub url: String,
    pub event_types: Option<Vec<String>>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// The webhooks of one room, as its id names it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RoomWebhooks {
    /// In order of creation.
    webhooks: Vec<Webhook>,
}

impl RoomWebhooks {
    pub fn webhooks(&self) -> &[Webhook] {
        &self.webhooks
    }

    pub fn webhook(&self, webhook_id: Uuid) -> Option<&Webhook> {
        self.webhooks.iter().find(|w| w.webhook_id == webhook_id)
    }
}

impl Aggregate for RoomWebhooks {
    const TYPE: &'static str = "RoomWebhooks";
    type Command = WebhookCommand;
    type Event = WebhookEvent;
    type Error = WebhookError;
    type Services = ();

    async fn handle(
        &mut self,
        command: WebhookCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), WebhookError> {
        match command {
            WebhookCommand::Create {
                webhook_id,
                room_id,
                url,
                event_types,
                owner,
                cap,
                at,
            } => {
                if self.webhooks.len() >= cap {
                    return Err(WebhookError::TooMany(cap));
                }
                let created = WebhookEvent::WebhookCreated {
                    webhook_id,
                    room_id,
                    url: url.as_str().to_owned(),
                    event_types: event_types.map(WebhookEventTypes::into_names),
                    created_by: owner.user_id,
                    created_at: at,
                };
                sink.write(created, self).await;
                Ok(())
            }
            WebhookCommand::Delete {
                webhook_id,
                owner,
                at,
            } => {
                if self.webhook(webhook_id).is_none() {
                    return Err(WebhookError::NotFound);
                }
                let deleted = WebhookEvent::WebhookDeleted {
                    webhook_id,
                    deleted_by: owner.user_id,
                    deleted_at: at,
                };
                sink.write(deleted, self).await;
                Ok(())
            }
        }
    }

    fn apply(&mut self, event: WebhookEvent) {
        match event {
            WebhookEvent::WebhookCreated {
                webhook_id,
                url,
                event_types,
                created_by,
                created_at,
                ..
            } => self.webhooks.push(Webhook {
                webhook_id,
                url,
                event_types,
                created_by,
                created_at,
            }),
            WebhookEvent::WebhookDeleted { webhook_id, .. } => {
                self.webhooks.retain(|w| w.webhook_id != webhook_id);
            }
        }
    }
}
