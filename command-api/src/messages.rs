//! Posting messages.

use api_kit::{ErrorBody, Json, Path, RequestId};
use auth::CurrentUser;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use domain::values::{ClientMsgId, MessageBody};
use domain::{RoomCommand, RoomEvent};
use eventstore::EventEnvelope;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::rooms::{actor, metadata};
use crate::{CommandError, CommandState};

#[derive(Debug, Deserialize, ToSchema)]
pub struct PostMessageRequest {
    /// Trimmed; 1–4000 characters.
    #[schema(example = "Hello!")]
    pub content: String,
    /// The sender's own id for this message (1–64 characters). Sending it again returns the
    /// original message instead of posting a second one.
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
        (status = 200, description = "This `client_msg_id` was already used: the original message", body = PostedMessage),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a member of the room", body = ErrorBody),
        (status = 404, description = "Room not found", body = ErrorBody),
        (status = 422, description = "Empty or oversized message", body = ErrorBody),
        (status = 429, description = "Sending too fast", body = ErrorBody),
    ))]
pub(crate) async fn post_message(
    State(state): State<CommandState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Path(room_id): Path<Uuid>,
    Json(request): Json<PostMessageRequest>,
) -> Result<(StatusCode, Json<PostedMessage>), CommandError> {
    let post = Post {
        room_id,
        content: &request.content,
        client_msg_id: request.client_msg_id.as_deref(),
        request_id,
    };
    let (message, outcome) = send_message(&state, &user, post).await?;
    let status = match outcome {
        PostOutcome::Posted => StatusCode::CREATED,
        PostOutcome::Repeated => StatusCode::OK,
    };
    Ok((status, Json(message)))
}

/// One message to post, as it arrived (REST body or WebSocket frame), not yet validated.
#[derive(Debug)]
pub struct Post<'a> {
    pub room_id: Uuid,
    pub content: &'a str,
    pub client_msg_id: Option<&'a str>,
    pub request_id: Option<String>,
}

/// Whether a post recorded a new message or found the sender's earlier one with the same
/// `client_msg_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostOutcome {
    Posted,
    Repeated,
}

/// The one write path for messages, shared by `POST /rooms/{id}/messages` and the WebSocket
/// gateway: validation, the sender's rate limit, and a durable commit before anyone sees it.
pub async fn send_message(
    state: &CommandState,
    user: &CurrentUser,
    post: Post<'_>,
) -> Result<(PostedMessage, PostOutcome), CommandError> {
    let Post {
        room_id,
        content,
        client_msg_id,
        request_id,
    } = post;
    let body = MessageBody::parse(content)?;
    let client_msg_id = client_msg_id.map(ClientMsgId::parse).transpose()?;
    state.send_limit.check(&user.id.to_string())?;
    let mut metadata = metadata(user, request_id);
    metadata.client_msg_id = client_msg_id.as_ref().map(|id| id.to_string());
    let command = RoomCommand::PostMessage {
        sender: actor(user),
        message_id: Uuid::new_v4(),
        body,
        client_msg_id: client_msg_id.clone(),
        at: eventstore::now(),
    };
    let aggregate_id = room_id.to_string();
    let sender = user.id;
    let (events, earlier_send) = state
        .rooms
        .execute_with(&aggregate_id, command, &metadata, move |room| {
            let id = client_msg_id.as_ref()?;
            room.recent_send(sender, id.as_str()).map(|send| send.seq)
        })
        .await?;
    if let Some(posted) = events.first() {
        return Ok((posted_message(room_id, posted), PostOutcome::Posted));
    }
    let seq = earlier_send.expect("a post that records nothing repeats an earlier send");
    let original = state
        .rooms
        .event(&aggregate_id, seq)
        .await
        .map_err(|error| CommandError::Unavailable(error.to_string()))?
        .ok_or_else(|| {
            CommandError::Unavailable(format!("event {seq} of room {room_id} vanished"))
        })?;
    Ok((posted_message(room_id, &original), PostOutcome::Repeated))
}

fn posted_message(room_id: Uuid, envelope: &EventEnvelope<domain::Room>) -> PostedMessage {
    let RoomEvent::MessagePosted {
        message_id,
        user_id,
        username,
        content,
        client_msg_id,
        posted_at,
    } = &envelope.payload
    else {
        unreachable!("a post records MessagePosted")
    };
    PostedMessage {
        id: *message_id,
        seq: envelope.sequence as u64,
        room_id,
        user_id: *user_id,
        username: username.clone(),
        content: content.clone(),
        client_msg_id: client_msg_id.clone(),
        created_at: *posted_at,
    }
}
