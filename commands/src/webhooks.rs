//! A room's webhooks, managed by its owners: created with a signing secret shown once, listed,
//! deleted. The deliveries themselves are the delivery worker's (crate `webhooks`).

use base64::Engine;
use chrono::{DateTime, Utc};
use domain::room::Actor;
use domain::values::InvalidValue;
use domain::webhooks::{Webhook, WebhookEventTypes, WebhookUrl};
use domain::{Role, RoomError, WebhookCommand, WebhookEvent};
use rand::RngCore;
use uuid::Uuid;

use crate::error::unreachable_store;
use crate::state::metadata;
use crate::{CommandError, Commands};

/// What every secret starts with, as the Standard Webhooks specification writes them.
pub const SECRET_PREFIX: &str = "whsec_";

/// Random bytes in a secret: an HMAC-SHA256 key of full strength.
const SECRET_BYTES: usize = 32;

const INSERT_SECRET: &str =
    "INSERT INTO webhook_secrets (webhook_id, room_id, secret) VALUES ($1, $2, $3)";

const DELETE_SECRET: &str = "DELETE FROM webhook_secrets WHERE webhook_id = $1";

/// A webhook to create, validated.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: WebhookUrl,
    pub event_types: Option<WebhookEventTypes>,
}

impl NewWebhook {
    pub fn parse(url: &str, event_types: Option<&[String]>) -> Result<Self, InvalidValue> {
        Ok(Self {
            url: WebhookUrl::parse(url)?,
            event_types: event_types
                .map(|names| WebhookEventTypes::parse(names.iter().map(String::as_str)))
                .transpose()?,
        })
    }
}

/// A created webhook and its secret, which is never shown again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedWebhook {
    pub webhook_id: Uuid,
    pub secret: String,
    pub created_at: DateTime<Utc>,
}

impl Commands {
    /// Creates a webhook of the room, if `owner` owns it and the room is under its cap.
    ///
    /// The secret is stored before the event commits, so the delivery worker never meets a
    /// webhook without one; if the event is refused, the secret is taken back.
    pub async fn create_webhook(
        &self,
        owner: &Actor,
        room_id: Uuid,
        webhook: NewWebhook,
        request_id: Option<String>,
    ) -> Result<CreatedWebhook, CommandError> {
        self.check_owner(owner, room_id).await?;
        let webhook_id = Uuid::new_v4();
        let mut key = [0; SECRET_BYTES];
        rand::rng().fill_bytes(&mut key);
        sqlx::query(INSERT_SECRET)
            .bind(webhook_id)
            .bind(room_id)
            .bind(&key[..])
            .execute(&self.pool)
            .await
            .map_err(unreachable_store)?;
        let command = WebhookCommand::Create {
            webhook_id,
            room_id,
            url: webhook.url,
            event_types: webhook.event_types,
            owner: owner.clone(),
            cap: self.webhooks_per_room,
            at: eventstore::now(),
        };
        let executed = self
            .webhooks
            .execute(&room_id.to_string(), command, &metadata(owner, request_id))
            .await;
        let events = match executed {
            Ok(events) => events,
            Err(error) => {
                self.forget_secret(webhook_id).await;
                return Err(error.into());
            }
        };
        let created_at = match &events[0].payload {
            WebhookEvent::WebhookCreated { created_at, .. } => *created_at,
            WebhookEvent::WebhookDeleted { .. } => {
                unreachable!("a creation records WebhookCreated")
            }
        };
        Ok(CreatedWebhook {
            webhook_id,
            secret: format!(
                "{SECRET_PREFIX}{}",
                base64::engine::general_purpose::STANDARD.encode(key)
            ),
            created_at,
        })
    }

    /// The room's webhooks, without their secrets, for its owners.
    pub async fn list_webhooks(
        &self,
        owner: &Actor,
        room_id: Uuid,
    ) -> Result<Vec<Webhook>, CommandError> {
        self.check_owner(owner, room_id).await?;
        let webhooks = self.webhooks.load(&room_id.to_string()).await?;
        Ok(webhooks.webhooks().to_vec())
    }

    /// Deletes a webhook of the room: nothing more is delivered to it, and its secret goes.
    pub async fn delete_webhook(
        &self,
        owner: &Actor,
        room_id: Uuid,
        webhook_id: Uuid,
        request_id: Option<String>,
    ) -> Result<(), CommandError> {
        self.check_owner(owner, room_id).await?;
        let command = WebhookCommand::Delete {
            webhook_id,
            owner: owner.clone(),
            at: eventstore::now(),
        };
        self.webhooks
            .execute(&room_id.to_string(), command, &metadata(owner, request_id))
            .await?;
        self.forget_secret(webhook_id).await;
        Ok(())
    }

    /// Refuses anyone but an owner of an existing room.
    pub(crate) async fn check_owner(
        &self,
        actor: &Actor,
        room_id: Uuid,
    ) -> Result<(), CommandError> {
        let room = self.rooms.load(&room_id.to_string()).await?;
        if room.info().is_none() {
            return Err(CommandError::Room(RoomError::NotFound));
        }
        match room.member(actor.user_id) {
            Some(member) if member.role == Role::Owner => Ok(()),
            _ => Err(CommandError::NotRoomOwner),
        }
    }

    /// Deletes a secret no webhook uses; a failure leaves a key nothing signs with, so it is
    /// only logged.
    async fn forget_secret(&self, webhook_id: Uuid) {
        if let Err(error) = sqlx::query(DELETE_SECRET)
            .bind(webhook_id)
            .execute(&self.pool)
            .await
        {
            tracing::warn!(%webhook_id, cause = %api_kit::Chain(&error), "cannot delete a webhook's secret");
        }
    }
}
