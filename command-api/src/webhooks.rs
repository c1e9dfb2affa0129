//! A room's webhooks, for its owners: create (the secret is shown once), list, delete, and what
//! was delivered. Listing reads the write model, so a webhook just created is there at once.

use api_kit::{
    ErrorCase, Json, Path, Query, RequestId, JSON_BODY_ERRORS, PATH_ERRORS, QUERY_ERRORS,
    STORE_ERRORS,
};
use auth::{CurrentUser, BEARER_ERRORS};
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use commands::{Commands, NewWebhook};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::HttpError;
use crate::rooms::actor;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"url": "https://hooks.example.com/chat", "event_types": ["MessagePosted"]}))]
pub struct CreateWebhookRequest {
    /// Where the room's events are POSTed: `http` or `https`, at most 2,048 bytes, no user name
    /// or password. Hosts that are not public are refused at delivery unless the operator
    /// allows them.
    #[schema(
        max_length = 2048,
        pattern = "^https?://([A-Za-z0-9-]+\\.)*[A-Za-z][A-Za-z0-9-]*(:[0-9]{1,4})?(/[A-Za-z0-9._~/-]*)?$"
    )]
    pub url: String,
    /// The room event types to deliver (`RoomCreated`, `MemberJoined`, `MemberLeft`,
    /// `MemberRoleChanged`, `MessagePosted`); left out or null for all of them.
    #[schema(min_items = 1, value_type = Option<Vec<RoomEventType>>)]
    pub event_types: Option<Vec<String>>,
}

/// The types of room events a webhook can receive.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Only its schema is used: the names are checked by the domain.
pub enum RoomEventType {
    RoomCreated,
    MemberJoined,
    MemberLeft,
    MemberRoleChanged,
    MessagePosted,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatedWebhook {
    pub id: Uuid,
    /// `whsec_` and the base64 of 32 random bytes: the key of the Standard Webhooks signature
    /// (`webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`,
    /// keyed by the bytes after `whsec_`). Shown this once only.
    #[schema(pattern = "^whsec_[A-Za-z0-9+/]{43}=$")]
    pub secret: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookView {
    pub id: Uuid,
    pub url: String,
    /// `null`: every room event type.
    pub event_types: Option<Vec<String>>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

api_kit::error_responses!(
    /// What creating a webhook answers instead of success.
    CreateWebhookErrors: [STORE_ERRORS, JSON_BODY_ERRORS, PATH_ERRORS, BEARER_ERRORS], [
        ErrorCase::new(400, "webhook_limit_reached", "A room has at most 10 webhooks"),
        ErrorCase::new(403, "not_room_owner", "Only the room's owner can manage its webhooks"),
        ErrorCase::new(404, "room_not_found", "Room not found"),
        ErrorCase::new(422, "invalid_input", "url must be http or https"),
    ]
);

/// Add a webhook to a room (its owners only): every later event of the room is POSTed to `url`,
/// signed with the secret answered here.
#[utoipa::path(post, path = "/rooms/{room_id}/webhooks", tag = "webhooks",
    params(("room_id" = Uuid, Path, description = "The room's id")),
    request_body = CreateWebhookRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; the secret is never shown again", body = CreatedWebhook,
            links(
                ("ListDeliveries" = (operation_id = "webhook_deliveries", parameters(("room_id" = "$request.path.room_id"), ("webhook_id" = "$response.body#/id")))),
                ("DeleteWebhook" = (operation_id = "delete_webhook", parameters(("room_id" = "$request.path.room_id"), ("webhook_id" = "$response.body#/id")))),
            )),
        CreateWebhookErrors,
    ))]
pub(crate) async fn create_webhook(
    State(commands): State<Commands>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Path(room_id): Path<Uuid>,
    Json(request): Json<CreateWebhookRequest>,
) -> Result<(StatusCode, Json<CreatedWebhook>), HttpError> {
    let webhook = NewWebhook::parse(&request.url, request.event_types.as_deref())?;
    let created = commands
        .create_webhook(&actor(&user), room_id, webhook, request_id)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhook {
            id: created.webhook_id,
            secret: created.secret,
            created_at: created.created_at,
        }),
    ))
}

api_kit::error_responses!(
    /// What listing a room's webhooks answers instead of success.
    ListWebhooksErrors: [STORE_ERRORS, PATH_ERRORS, BEARER_ERRORS], [
        ErrorCase::new(403, "not_room_owner", "Only the room's owner can manage its webhooks"),
        ErrorCase::new(404, "room_not_found", "Room not found"),
    ]
);

/// A room's webhooks, without their secrets (its owners only).
#[utoipa::path(get, path = "/rooms/{room_id}/webhooks", tag = "webhooks",
    params(("room_id" = Uuid, Path, description = "The room's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "In order of creation", body = Vec<WebhookView>),
        ListWebhooksErrors,
    ))]
pub(crate) async fn list_webhooks(
    State(commands): State<Commands>,
    user: CurrentUser,
    Path(room_id): Path<Uuid>,
) -> Result<Json<Vec<WebhookView>>, HttpError> {
    let webhooks = commands.list_webhooks(&actor(&user), room_id).await?;
    Ok(Json(
        webhooks
            .into_iter()
            .map(|webhook| WebhookView {
                id: webhook.webhook_id,
                url: webhook.url,
                event_types: webhook.event_types,
                created_by: webhook.created_by,
                created_at: webhook.created_at,
            })
            .collect(),
    ))
}

api_kit::error_responses!(
    /// What deleting a webhook answers instead of success.
    DeleteWebhookErrors: [STORE_ERRORS, PATH_ERRORS, BEARER_ERRORS], [
        ErrorCase::new(403, "not_room_owner", "Only the room's owner can manage its webhooks"),
        ErrorCase::new(404, "room_not_found", "Room not found"),
        ErrorCase::new(404, "webhook_not_found", "Webhook not found"),
    ]
);

/// Delete a webhook (the room's owners only): nothing more is delivered to it.
#[utoipa::path(delete, path = "/rooms/{room_id}/webhooks/{webhook_id}", tag = "webhooks",
    params(
        ("room_id" = Uuid, Path, description = "The room's id"),
        ("webhook_id" = Uuid, Path, description = "The webhook's id"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        DeleteWebhookErrors,
    ))]
pub(crate) async fn delete_webhook(
    State(commands): State<Commands>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Path((room_id, webhook_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, HttpError> {
    commands
        .delete_webhook(&actor(&user), room_id, webhook_id, request_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesParams {
    /// Deliveries of room events after this room `seq` (exclusive); 0 from the start.
    #[param(minimum = 0)]
    pub after_seq: Option<i64>,
    /// Only those in this state.
    pub state: Option<DeliveryState>,
    /// At most this many (1–500, clamped; 100 by default).
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    DeadLettered,
}

impl DeliveryState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::DeadLettered => "dead_lettered",
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryPage {
    /// In room order.
    pub deliveries: Vec<DeliveryView>,
    /// `after_seq` of the next page; null when this one is empty.
    pub next_after_seq: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryView {
    /// The `webhook-id` header, the same on every attempt.
    pub id: Uuid,
    pub room_seq: i64,
    pub event_position: i64,
    pub event_type: String,
    pub state: DeliveryState,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When it was delivered or dead-lettered.
    pub finished_at: Option<DateTime<Utc>>,
    /// Every attempt, first to last.
    pub attempt_log: Vec<AttemptView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttemptView {
    pub attempt: i32,
    pub attempted_at: DateTime<Utc>,
    /// The status the endpoint answered; null when it did not answer.
    pub status_code: Option<i32>,
    /// Why the attempt failed (`answered 503 Service Unavailable`, `refused: 10.0.0.5 is
    /// private (not in CHAT_WEBHOOK_ALLOW)`, `timed out`, …); null when it succeeded.
    pub error: Option<String>,
    pub duration_ms: i32,
}

api_kit::error_responses!(
    /// What listing deliveries answers instead of success.
    DeliveriesErrors: [STORE_ERRORS, PATH_ERRORS, QUERY_ERRORS, BEARER_ERRORS], [
        ErrorCase::new(403, "not_room_owner", "Only the room's owner can manage its webhooks"),
        ErrorCase::new(404, "room_not_found", "Room not found"),
        ErrorCase::new(404, "webhook_not_found", "Webhook not found"),
    ]
);

/// What was delivered to a webhook, and every attempt's outcome (the room's owners only).
#[utoipa::path(get, path = "/rooms/{room_id}/webhooks/{webhook_id}/deliveries", tag = "webhooks",
    params(
        ("room_id" = Uuid, Path, description = "The room's id"),
        ("webhook_id" = Uuid, Path, description = "The webhook's id"),
        DeliveriesParams,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryPage),
        DeliveriesErrors,
    ))]
pub(crate) async fn webhook_deliveries(
    State(commands): State<Commands>,
    user: CurrentUser,
    Path((room_id, webhook_id)): Path<(Uuid, Uuid)>,
    Query(params): Query<DeliveriesParams>,
) -> Result<Json<DeliveryPage>, HttpError> {
    let page = commands
        .webhook_deliveries(
            &actor(&user),
            room_id,
            webhook_id,
            params.after_seq.unwrap_or(0).max(0),
            params.state.map(DeliveryState::as_str),
            params.limit.unwrap_or(100).clamp(1, 500),
        )
        .await?;
    Ok(Json(DeliveryPage {
        deliveries: page
            .deliveries
            .into_iter()
            .map(|delivery| DeliveryView {
                id: delivery.delivery_id,
                room_seq: delivery.room_seq,
                event_position: delivery.event_position,
                event_type: delivery.event_type,
                state: match delivery.state.as_str() {
                    "delivered" => DeliveryState::Delivered,
                    "dead_lettered" => DeliveryState::DeadLettered,
                    _ => DeliveryState::Pending,
                },
                attempts: delivery.attempts,
                created_at: delivery.created_at,
                next_attempt_at: delivery.next_attempt_at,
                finished_at: delivery.finished_at,
                attempt_log: delivery
                    .attempt_log
                    .into_iter()
                    .map(|attempt| AttemptView {
                        attempt: attempt.attempt,
                        attempted_at: attempt.attempted_at,
                        status_code: attempt.status_code,
                        error: attempt.error,
                        duration_ms: attempt.duration_ms,
                    })
                    .collect(),
            })
            .collect(),
        next_after_seq: page.next_after_seq,
    }))
}
