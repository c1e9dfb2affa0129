//! Posting messages.

use api_kit::{
    ErrorCase, Json, Path, RequestId, JSON_BODY_ERRORS, PATH_ERRORS, RATE_LIMITED, STORE_ERRORS,
};
use auth::CurrentUser;
use auth::BEARER_ERRORS;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use commands::{Commands, NewMessage};
use domain::values::patterns;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};
use utoipa::ToSchema;
use uuid::Uuid;

use query_api::{MentionView, ReactionView};

use crate::error::HttpError;
use crate::rooms::actor;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"content": "Hello!", "client_msg_id": "c-17"}))]
pub struct PostMessageRequest {
    /// 1–4000 characters after trimming (whitespace around it is trimmed); no control
    /// characters but newline and tab, no bidi control characters.
    #[schema(schema_with = message_schema)]
    pub content: String,
    /// The sender's own id for this message (1–64 characters, no NUL). Sending it again to the
    /// room within a day returns the original message instead of posting a second one.
    #[schema(schema_with = client_msg_id_schema)]
    pub client_msg_id: Option<String>,
    /// The id of the message of this room this one answers.
    pub reply_to: Option<Uuid>,
}

fn client_msg_id_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .min_length(Some(1))
        .max_length(Some(64))
        .pattern(Some(patterns::NO_NUL))
        .build()
}

pub(crate) fn message_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(patterns::message()))
        .build()
}

/// A posted message. `seq` is its position in the room: gapless and ordered.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostedMessage {
    pub id: Uuid,
    #[schema(minimum = 1)]
    pub seq: u64,
    pub room_id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    /// As stored: trimmed.
    pub content: String,
    #[schema(required = true)]
    pub client_msg_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Posted by a bot account.
    pub is_bot: bool,
    /// Always null: it was just posted.
    #[schema(required = true)]
    pub edited_at: Option<DateTime<Utc>>,
    /// Always false.
    pub deleted: bool,
    /// Always empty.
    pub reactions: Vec<ReactionView>,
    #[schema(required = true)]
    pub reply_to: Option<Uuid>,
    /// Always 0.
    #[schema(minimum = 0)]
    pub reply_count: i64,
    /// The members its content names as `@username`.
    pub mentions: Vec<MentionView>,
}

api_kit::error_responses!(
    /// What posting answers instead of success.
    PostMessageErrors: [STORE_ERRORS, JSON_BODY_ERRORS, PATH_ERRORS, BEARER_ERRORS], [
        ErrorCase::new(403, "not_a_member", "You are not a member of this room"),
        ErrorCase::new(404, "room_not_found", "Room not found"),
        ErrorCase::new(422, "invalid_input", "message must not be empty"),
        ErrorCase::new(422, "invalid_input", "reply_to must be the id of a message of this room"),
        RATE_LIMITED,
    ]
);

/// Post a message to a room one is a member of. It is durable when this answers.
#[utoipa::path(post, path = "/rooms/{room_id}/messages", tag = "messages",
    params(("room_id" = Uuid, Path, description = "The room's id")),
    request_body = PostMessageRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Posted", body = PostedMessage,
            links(
                ("ReadIt" = (operation_id = "room_messages", description = "History, once it shows this message",
                    parameters(("room_id" = "$response.body#/room_id"), ("min_seq" = "$response.body#/seq")))),
            )),
        (status = 200, description = "This sender already used this `client_msg_id` in this room within a day: the original message", body = PostedMessage),
        PostMessageErrors,
    ))]
pub(crate) async fn post_message(
    State(commands): State<Commands>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Path(room_id): Path<Uuid>,
    Json(request): Json<PostMessageRequest>,
) -> Result<(StatusCode, Json<PostedMessage>), HttpError> {
    let message = NewMessage::parse(&request.content, request.client_msg_id.as_deref())?
        .replying_to(request.reply_to);
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
            id: posted.message.message_id,
            seq: posted.seq as u64,
            room_id: posted.room_id,
            user_id: posted.message.user_id,
            username: posted.message.username,
            content: posted.message.content,
            client_msg_id: posted.message.client_msg_id,
            created_at: posted.message.posted_at,
            is_bot: posted.message.is_bot,
            edited_at: None,
            deleted: false,
            reactions: Vec::new(),
            reply_to: posted.message.reply_to,
            reply_count: 0,
            mentions: posted
                .message
                .mentions
                .into_iter()
                .map(|m| MentionView {
                    user_id: m.user_id,
                    username: m.username,
                })
                .collect(),
        }),
    ))
}
