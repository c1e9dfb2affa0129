//! Changing a posted message: edit, delete, react and take a reaction back.

use api_kit::{
    ApiError, ErrorCase, Json, Path, RequestId, JSON_BODY_ERRORS, PATH_ERRORS, RATE_LIMITED,
    STORE_ERRORS,
};
use auth::{CurrentUser, BEARER_ERRORS};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use commands::{Commands, MessageChange};
use domain::values::{Emoji, MessageBody};
use query_api::MessageView;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::HttpError;
use crate::messages::message_schema;
use crate::rooms::actor;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"content": "Hello again!"}))]
pub struct EditMessageRequest {
    /// As when posting: 1–4000 characters after trimming, no control characters but newline
    /// and tab, no bidi control characters.
    #[schema(schema_with = message_schema)]
    pub content: String,
}

const NOT_FOUND: ErrorCase = ErrorCase::new(404, "message_not_found", "Message not found");
pub(crate) const NOT_A_MEMBER: ErrorCase =
    ErrorCase::new(403, "not_a_member", "You are not a member of this room");
pub(crate) const ROOM_NOT_FOUND: ErrorCase =
    ErrorCase::new(404, "room_not_found", "Room not found");
const DELETED: ErrorCase = ErrorCase::new(409, "message_deleted", "The message was deleted");

api_kit::error_responses!(
    /// What editing answers instead of success.
    EditMessageErrors: [STORE_ERRORS, JSON_BODY_ERRORS, PATH_ERRORS, BEARER_ERRORS], [
        NOT_A_MEMBER,
        ErrorCase::new(403, "not_the_author", "Only its author may edit a message"),
        ROOM_NOT_FOUND,
        NOT_FOUND,
        DELETED,
        ErrorCase::new(422, "invalid_input", "message must not be empty"),
        RATE_LIMITED,
    ]
);

/// Edit one's own message. Its mentions are those of the new text; it counts against the send
/// rate.
#[utoipa::path(patch, path = "/rooms/{room_id}/messages/{message_id}", tag = "messages",
    params(("room_id" = Uuid, Path, description = "The room's id"),
        ("message_id" = Uuid, Path, description = "The message's id")),
    request_body = EditMessageRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The message as edited", body = MessageView),
        EditMessageErrors,
    ))]
pub(crate) async fn edit_message(
    State(commands): State<Commands>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Path((room_id, message_id)): Path<(Uuid, Uuid)>,
    Json(request): Json<EditMessageRequest>,
) -> Result<Response, HttpError> {
    let body = MessageBody::parse(&request.content)?;
    let change = MessageChange::Edit(body);
    commands
        .change_message(&actor(&user), room_id, message_id, change, request_id)
        .await?;
    let edited = query_api::read_message(commands.pool(), room_id, message_id).await;
    Ok(match edited {
        Ok(Some(message)) => Json(message).into_response(),
        // Recorded, but the read tables have not shown it within the wait.
        Ok(None) => ApiError::unavailable(&NotYetReadable).into_response(),
        Err(error) => ApiError::unavailable(&error).into_response(),
    })
}

#[derive(Debug, thiserror::Error)]
#[error("the edit is recorded, but the read tables do not show the message yet")]
struct NotYetReadable;

api_kit::error_responses!(
    /// What deleting answers instead of success.
    DeleteMessageErrors: [STORE_ERRORS, PATH_ERRORS, BEARER_ERRORS], [
        NOT_A_MEMBER,
        ErrorCase::new(403, "not_author_or_owner", "Only its author or the room's owner may delete a message"),
        ROOM_NOT_FOUND,
        NOT_FOUND,
    ]
);

/// Delete a message: its author (even after leaving the room) or the room's owner. Deleting it
/// again answers 204 as well. Every reader but an auditor then shows it as deleted, without its
/// text or reactions.
#[utoipa::path(delete, path = "/rooms/{room_id}/messages/{message_id}", tag = "messages",
    params(("room_id" = Uuid, Path, description = "The room's id"),
        ("message_id" = Uuid, Path, description = "The message's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        DeleteMessageErrors,
    ))]
pub(crate) async fn delete_message(
    State(commands): State<Commands>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Path((room_id, message_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, HttpError> {
    commands
        .change_message(
            &actor(&user),
            room_id,
            message_id,
            MessageChange::Delete,
            request_id,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

api_kit::error_responses!(
    /// What reacting answers instead of success.
    ReactErrors: [STORE_ERRORS, PATH_ERRORS, BEARER_ERRORS], [
        NOT_A_MEMBER,
        ROOM_NOT_FOUND,
        NOT_FOUND,
        DELETED,
        ErrorCase::new(409, "too_many_reactions", "A message takes at most 20 different reactions"),
        ErrorCase::new(422, "invalid_input", "emoji must be exactly one emoji, such as 👍"),
        RATE_LIMITED,
    ]
);

/// React to a message with one emoji (URL-encoded; at most 32 bytes). Reacting again with it
/// changes nothing. A message takes at most 20 different emoji. Counts against the send rate.
#[utoipa::path(put, path = "/rooms/{room_id}/messages/{message_id}/reactions/{emoji}",
    tag = "messages",
    params(("room_id" = Uuid, Path, description = "The room's id"),
        ("message_id" = Uuid, Path, description = "The message's id"),
        ("emoji" = String, Path, description = "One emoji, URL-encoded, e.g. `%F0%9F%91%8D` for 👍")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The caller reacts with it"),
        ReactErrors,
    ))]
pub(crate) async fn react(
    State(commands): State<Commands>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Path((room_id, message_id, emoji)): Path<(Uuid, Uuid, String)>,
) -> Result<StatusCode, HttpError> {
    let change = MessageChange::React(Emoji::parse(&emoji)?);
    commands
        .change_message(&actor(&user), room_id, message_id, change, request_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

api_kit::error_responses!(
    /// What taking a reaction back answers instead of success.
    UnreactErrors: [STORE_ERRORS, PATH_ERRORS, BEARER_ERRORS], [
        NOT_A_MEMBER,
        ROOM_NOT_FOUND,
        NOT_FOUND,
        DELETED,
        ErrorCase::new(422, "invalid_input", "emoji must be exactly one emoji, such as 👍"),
        RATE_LIMITED,
    ]
);

/// Take one's reaction back. Taking back one not given changes nothing.
#[utoipa::path(delete, path = "/rooms/{room_id}/messages/{message_id}/reactions/{emoji}",
    tag = "messages",
    params(("room_id" = Uuid, Path, description = "The room's id"),
        ("message_id" = Uuid, Path, description = "The message's id"),
        ("emoji" = String, Path, description = "One emoji, URL-encoded")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The caller no longer reacts with it"),
        UnreactErrors,
    ))]
pub(crate) async fn unreact(
    State(commands): State<Commands>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Path((room_id, message_id, emoji)): Path<(Uuid, Uuid, String)>,
) -> Result<StatusCode, HttpError> {
    let change = MessageChange::Unreact(Emoji::parse(&emoji)?);
    commands
        .change_message(&actor(&user), room_id, message_id, change, request_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
