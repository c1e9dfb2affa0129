//! Posting messages.

use api_kit::{ErrorBody, Json, Path, RequestId};
use auth::CurrentUser;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use commands::{Commands, NewMessage};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::HttpError;
use crate::rooms::actor;

#[derive(Debug, Deserialize, ToSchema)]
pub struct PostMessageRequest {
    /// Trimmed; 1–4000 characters; no control characters but newline and tab, no bidi
    /// control characters.
    #[schema(example = "Hello!")]
    pub content: String,
    /// The sender's own id for this message (1–64 characters). Sending it again to the room
    /// within a day returns the original message instead of posting a second one.
    pub client_msg_id: Option<String>,
}

/// A posted message. `seq` is its position in the room: gapless and ordered.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PostedMessage {
    pub id: Uuid,
    pub seq: u64,
    pub room_id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub content: String,
    pub client_msg_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Post a message to a room one is a member of. It is durable when this answers.
#[utoipa::path(post, path = "/rooms/{room_id}/messages", tag = "messages",
    params(("room_id" = Uuid, Path, description = "The room's id")),
    request_body = PostMessageRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Posted", body = PostedMessage),
        (status = 200, description = "This sender already used this `client_msg_id` in this room within a day: the original message", body = PostedMessage),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a member of the room", body = ErrorBody),
        (status = 404, description = "Room not found", body = ErrorBody),
        (status = 422, description = "Empty or oversized message, or one with control or bidi control characters", body = ErrorBody),
        (status = 429, description = "Sending too fast", body = ErrorBody),
    ))]
pub(crate) async fn post_message(
    State(commands): State<Commands>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Path(room_id): Path<Uuid>,
    Json(request): Json<PostMessageRequest>,
) -> Result<(StatusCode, Json<PostedMessage>), HttpError> {
    let message = NewMessage::parse(&request.content, request.client_msg_id.as_deref())?;
    let posted = commands
        .post_message(&actor(&user), room_id, message, request_id)
        .await?;
    let status = if posted.repeat {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(PostedMessage {
            id: posted.message_id,
            seq: posted.seq as u64,
            room_id: posted.room_id,
            user_id: posted.user_id,
            username: posted.username,
            content: posted.content,
            client_msg_id: posted.client_msg_id,
            created_at: posted.posted_at,
        }),
    ))
}
