//! Posting messages.

use api_kit::{
    ErrorCase, Json, Path, RequestId, JSON_BODY_ERRORS, PATH_ERRORS, RATE_LIMITED, STORE_ERRORS,
};
use auth::CurrentUser;
use auth::BEARER_ERRORS;
use axum::extract::State;
use axum::http::StatusCode;
use commands::{Commands, NewMessage};
use domain::values::patterns;
use serde::Deserialize;
use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};
use utoipa::ToSchema;
use uuid::Uuid;

use query_api::MessageView;

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
        (status = 201, description = "Posted", body = MessageView,
            links(
                ("ReadIt" = (operation_id = "room_messages", description = "History, once it shows this message",
                    parameters(("room_id" = "$response.body#/room_id"), ("min_seq" = "$response.body#/seq")))),
            )),
        (status = 200, description = "This sender already used this `client_msg_id` in this room within a day: the original message", body = MessageView),
        PostMessageErrors,
    ))]
pub(crate) async fn post_message(
    State(commands): State<Commands>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Path(room_id): Path<Uuid>,
    Json(request): Json<PostMessageRequest>,
) -> Result<(StatusCode, Json<MessageView>), HttpError> {
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
    Ok((status, Json(MessageView::from(posted))))
}
