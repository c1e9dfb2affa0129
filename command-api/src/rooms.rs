//! Creating, joining and leaving rooms.

use api_kit::{
    AfterProjection, ErrorCase, Json, JsonOrEmpty, Path, RequestId, JSON_BODY_ERRORS, PATH_ERRORS,
    RATE_LIMITED, STORE_ERRORS,
};
use auth::CurrentUser;
use auth::BEARER_ERRORS;
use axum::extract::State;
use chrono::{DateTime, Utc};
use commands::{Commands, NewRoom};
use domain::room::Actor;
use domain::values::patterns;
use query_api::RoomKind;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::after_projection;
use crate::error::HttpError;

/// A room to create. Its schema is written out by hand (below): a derived one cannot say that
/// a private room needs a password.
#[derive(Debug, Deserialize)]
pub struct CreateRoomRequest {
    pub name: String,
    #[serde(default)]
    pub is_private: bool,
    pub password: Option<String>,
}

impl utoipa::PartialSchema for CreateRoomRequest {
    fn schema() -> RefOr<Schema> {
        let name = json!({
            "type": "string",
            "pattern": patterns::room_name(),
            "description": "1–64 characters after trimming, at least one visible, no control or bidi control characters; unique ignoring case",
        });
        let password = json!({
            "type": ["string", "null"],
            "maxLength": 72,
            "description": "The room's password, 1–72 characters; empty or null means none. Kept for a private room only",
        });
        let schema = json!({
            "type": "object",
            "description": "A public room, or a private one with its password (400 `private_room_requires_password` without one).",
            "required": ["name"],
            "properties": {
                "name": name,
                "is_private": {"type": "boolean", "default": false},
                "password": password,
            },
            "oneOf": [
                {"title": "Public", "properties": {"is_private": {"const": false}}},
                {
                    "title": "Private",
                    "required": ["is_private", "password"],
                    "properties": {
                        "is_private": {"const": true},
                        "password": {"type": "string", "minLength": 1},
                    },
                },
            ],
            "example": {"name": "general", "is_private": false},
        });
        RefOr::T(serde_json::from_value(schema).expect("the room request's schema"))
    }
}

impl utoipa::ToSchema for CreateRoomRequest {}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatedRoom {
    pub id: Uuid,
    /// As typed (NFC), without the whitespace around it.
    pub name: String,
    pub is_private: bool,
    /// The creator's user id.
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    /// Always `room`: direct rooms are opened at `POST /users/{username}/dm`.
    pub kind: RoomKind,
}

api_kit::error_responses!(
    /// What creating a room answers instead of success.
    CreateRoomErrors: [STORE_ERRORS, JSON_BODY_ERRORS, BEARER_ERRORS], [
        ErrorCase::new(400, "room_name_taken", "Room name already exists"),
        ErrorCase::new(400, "private_room_requires_password", "Private rooms require a password"),
        ErrorCase::new(422, "invalid_input", "room name must contain a visible character"),
        RATE_LIMITED,
    ]
);

/// Create a room; the creator becomes its owner and first member.
#[utoipa::path(post, path = "/rooms/", tag = "rooms",
    request_body = CreateRoomRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Created", body = CreatedRoom,
            headers(("x-projection-pending" = String, description = "`true`: the read tables had not caught up with this write within the wait (about 2 s), so a read right after it may not show it yet")),
            links(
                ("GetRoom" = (operation_id = "room_details", parameters(("room_id" = "$response.body#/id")))),
                ("GetMembers" = (operation_id = "room_members", parameters(("room_id" = "$response.body#/id")))),
                ("GetHistory" = (operation_id = "room_messages", parameters(("room_id" = "$response.body#/id")))),
                ("PostMessage" = (operation_id = "post_message", parameters(("room_id" = "$response.body#/id")))),
                ("JoinRoom" = (operation_id = "join_room", parameters(("room_id" = "$response.body#/id")))),
                ("LeaveRoom" = (operation_id = "leave_room", parameters(("room_id" = "$response.body#/id")))),
                ("OpenSocket" = (operation_id = "connect", parameters(("room_id" = "$response.body#/id")))),
                ("AuditRoomEvents" = (operation_id = "room_events", parameters(("room_id" = "$response.body#/id")))),
                ("AuditRoomState" = (operation_id = "room_state", parameters(("room_id" = "$response.body#/id")))),
            )),
        CreateRoomErrors,
    ))]
pub(crate) async fn create_room(
    State(commands): State<Commands>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Json(request): Json<CreateRoomRequest>,
) -> Result<AfterProjection<Json<CreatedRoom>>, HttpError> {
    let room = NewRoom::parse(
        &request.name,
        request.is_private,
        request.password.as_deref(),
    )?;
    let created = commands
        .create_room(&actor(&user), room, request_id)
        .await?;
    Ok(after_projection(created, |room| CreatedRoom {
        id: room.room_id,
        name: room.name,
        is_private: room.is_private,
        created_by: room.created_by,
        created_at: room.created_at,
        kind: room.kind.into(),
    }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"password": "open sesame"}))]
pub struct JoinRoomRequest {
    /// The room's password; needed for a private room only, and not checked for a member.
    pub password: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomMessage {
    #[schema(example = "Joined room general")]
    pub message: String,
}

/// What joining or leaving a direct room answers: its two members are its members for good.
const DIRECT_ROOM: ErrorCase =
    ErrorCase::new(403, "direct_room", "A direct room cannot be joined or left");

api_kit::error_responses!(
    /// What joining answers instead of success.
    JoinRoomErrors: [STORE_ERRORS, JSON_BODY_ERRORS, PATH_ERRORS, BEARER_ERRORS], [
        ErrorCase::new(403, "invalid_room_password", "Invalid room password"),
        DIRECT_ROOM,
        ErrorCase::new(404, "room_not_found", "Room not found"),
        RATE_LIMITED,
    ]
);

/// Join a room. Joining again is not an error: it answers `Already joined` whatever the password.
#[utoipa::path(post, path = "/rooms/{room_id}/join", tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's id")),
    request_body(content = Option<JoinRoomRequest>, description = "May be left out, or be `null`, for a public room"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`Joined room <name>` or `Already joined`", body = RoomMessage,
            headers(("x-projection-pending" = String, description = "`true`: the read tables had not caught up with this write within the wait (about 2 s), so a read right after it may not show it yet"))),
        JoinRoomErrors,
    ))]
pub(crate) async fn join_room(
    State(commands): State<Commands>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Path(room_id): Path<Uuid>,
    JsonOrEmpty(request): JsonOrEmpty<JoinRoomRequest>,
) -> Result<AfterProjection<Json<RoomMessage>>, HttpError> {
    let joined = commands
        .join_room(&actor(&user), room_id, request.password, request_id)
        .await?;
    // "Already joined" waited too: the join it refers to may be a moment old and not yet read.
    Ok(after_projection(joined, |joined| {
        let message = if joined.already_member {
            "Already joined".to_owned()
        } else {
            format!("Joined room {}", joined.room_name)
        };
        RoomMessage { message }
    }))
}

api_kit::error_responses!(
    /// What leaving answers instead of success.
    LeaveRoomErrors: [STORE_ERRORS, PATH_ERRORS, BEARER_ERRORS], [
        ErrorCase::new(403, "not_a_member", "You are not a member of this room"),
        DIRECT_ROOM,
        ErrorCase::new(404, "room_not_found", "Room not found"),
    ]
);

/// Leave a room. When its last owner leaves, the longest-standing member becomes owner.
#[utoipa::path(post, path = "/rooms/{room_id}/leave", tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`Left room <name>`", body = RoomMessage,
            headers(("x-projection-pending" = String, description = "`true`: the read tables had not caught up with this write within the wait (about 2 s), so a read right after it may not show it yet"))),
        LeaveRoomErrors,
    ))]
pub(crate) async fn leave_room(
    State(commands): State<Commands>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Path(room_id): Path<Uuid>,
) -> Result<AfterProjection<Json<RoomMessage>>, HttpError> {
    let left = commands
        .leave_room(&actor(&user), room_id, request_id)
        .await?;
    Ok(after_projection(left, |left| RoomMessage {
        message: format!("Left room {}", left.room_name),
    }))
}

/// The caller as the use cases name them.
pub(crate) fn actor(user: &CurrentUser) -> Actor {
    Actor {
        user_id: user.id,
        username: user.username.clone(),
        is_bot: user.is_bot,
    }
}
