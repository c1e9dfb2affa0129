//! What was delivered to a webhook, and how each attempt went, for the room's owners: read
//! from the delivery worker's own tables.

use chrono::{DateTime, Utc};
use domain::room::Actor;
use domain::WebhookError;
use uuid::Uuid;

use crate::error::unreachable_store;
use crate::{CommandError, Commands};

const DELIVERIES: &str = "
SELECT delivery_id, room_seq, event_position, event_type, state, attempts, created_at,
       CASE WHEN state = 'pending' THEN next_attempt_at END, finished_at
  FROM webhook_deliveries
 WHERE webhook_id = $1 AND room_seq > $2 AND ($3::text IS NULL OR state = $3)
 ORDER BY room_seq
 LIMIT $4";

const ATTEMPTS: &str = "
SELECT delivery_id, attempt, attempted_at, status_code, error, duration_ms
  FROM webhook_attempts
 WHERE delivery_id = ANY ($1)
 ORDER BY delivery_id, attempt";

/// One room event for one webhook: its `webhook-id`, where it stands, and every attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub delivery_id: Uuid,
    pub room_seq: i64,
    pub event_position: i64,
    pub event_type: String,
    /// `pending`, `delivered` or `dead_lettered`.
    pub state: String,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub attempt_log: Vec<DeliveryAttempt>,
}

/// One attempt: the status the endpoint answered, or why there was no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub attempt: i32,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

/// A page of deliveries in room order, and the cursor of the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPage {
    pub deliveries: Vec<WebhookDelivery>,
    /// The last `room_seq` of the page: ask for `after_seq` = it for the next.
    pub next_after_seq: Option<i64>,
}

type DeliveryRow = (
    Uuid,
    i64,
    i64,
    String,
    String,
    i32,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

type AttemptRow = (Uuid, i32, DateTime<Utc>, Option<i32>, Option<String>, i32);

impl Commands {
    /// Deliveries of one of the room's webhooks after room sequence `after_seq`, at most
    /// `limit`, those in `state` only when given; for the room's owners.
    pub async fn webhook_deliveries(
        &self,
        owner: &Actor,
        room_id: Uuid,
        webhook_id: Uuid,
        after_seq: i64,
        state: Option<&str>,
        limit: i64,
    ) -> Result<DeliveryPage, CommandError> {
        self.check_owner(owner, room_id).await?;
        let webhooks = self.webhooks.load(&room_id.to_string()).await?;
        if webhooks.webhook(webhook_id).is_none() {
            return Err(CommandError::Webhook(WebhookError::NotFound));
        }
        let rows: Vec<DeliveryRow> = sqlx::query_as(DELIVERIES)
            .bind(webhook_id)
            .bind(after_seq)
            .bind(state)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(unreachable_store)?;
        let ids: Vec<Uuid> = rows.iter().map(|row| row.0).collect();
        let attempts: Vec<AttemptRow> = sqlx::query_as(ATTEMPTS)
            .bind(&ids)
            .fetch_all(&self.pool)
            .await
            .map_err(unreachable_store)?;
        let deliveries: Vec<WebhookDelivery> = rows
            .into_iter()
            .map(|row| WebhookDelivery {
                delivery_id: row.0,
                room_seq: row.1,
                event_position: row.2,
                event_type: row.3,
                state: row.4,
                attempts: row.5,
                created_at: row.6,
                next_attempt_at: row.7,
                finished_at: row.8,
                attempt_log: attempts
                    .iter()
                    .filter(|attempt| attempt.0 == row.0)
                    .map(|attempt| DeliveryAttempt {
                        attempt: attempt.1,
                        attempted_at: attempt.2,
                        status_code: attempt.3,
                        error: attempt.4.clone(),
                        duration_ms: attempt.5,
                    })
                    .collect(),
            })
            .collect();
        let next_after_seq = deliveries.last().map(|delivery| delivery.room_seq);
        Ok(DeliveryPage {
            deliveries,
            next_after_seq,
        })
    }
}
