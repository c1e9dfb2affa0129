//! Creating, joining and leaving rooms.

use api_kit::{ErrorBody, Json, JsonOrEmpty, Path, RequestId};
use auth::CurrentUser;
use axum::extract::State;
use chrono::{DateTime, Utc};
use domain::room::Actor;
use domain::values::{RoomName, RoomPassword};
use domain::{RoomCommand, RoomEvent};
use eventstore::CommandMetadata;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{CommandError, CommandState};

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRoomRequest {
    /// 1–64 characters after trimming; unique ignoring case.
    #[schema(example = "general")]
    pub name: String,
    #[serde(default)]
    pub is_private: bool,
    /// Required for a private room (1–72 bytes); ignored for a public one.
    pub password: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedRoom {
    pub id: Uuid,
    pub name: String,
    pub is_private: bool,
    /// The creator's user id.
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// Create a room; the creator becomes its owner and first member.
#[utoipa::path(post, path = "/rooms/", tag = "rooms",
    request_body = CreateRoomRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Created", body = CreatedRoom),
        (status = 400, description = "Room name already exists, or a private room without a password", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 422, description = "Invalid name or password", body = ErrorBody),
    ))]
pub(crate) async fn create_room(
    State(state): State<CommandState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Json(request): Json<CreateRoomRequest>,
) -> Result<Json<CreatedRoom>, CommandError> {
    let name = RoomName::parse(&request.name)?;
    // The seed treats an empty password as none at all.
    let password = request
        .password
        .filter(|password| !password.is_empty())
        .map(|password| RoomPassword::parse(&password))
        .transpose()?;
    let password_hash = match password.filter(|_| request.is_private) {
        Some(password) => Some(state.passwords.hash(password.expose()).await),
        None => None,
    };
    let room_id = name.room_id();
    let command = RoomCommand::Create {
        name,
        is_private: request.is_private,
        password_hash,
        creator: actor(&user),
        at: Utc::now(),
    };
    let events = state
        .rooms
        .execute(&room_id.to_string(), command, &metadata(&user, request_id))
        .await?;
    let RoomEvent::RoomCreated {
        room_id,
        name,
        is_private,
        created_by,
        created_at,
        ..
    } = &events[0].payload
    else {
        unreachable!("a room's first event is RoomCreated")
    };
    Ok(Json(CreatedRoom {
        id: *room_id,
        name: name.clone(),
        is_private: *is_private,
        created_by: *created_by,
        created_at: *created_at,
    }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct JoinRoomRequest {
    /// The room's password; needed for a private room only.
    pub password: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoomMessage {
    #[schema(example = "Joined room general")]
    pub message: String,
}

/// Join a room. Joining again is not an error: it answers `Already joined` whatever the password.
#[utoipa::path(post, path = "/rooms/{room_id}/join", tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's id")),
    request_body(content = Option<JoinRoomRequest>, description = "May be left out for a public room"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`Joined room <name>` or `Already joined`", body = RoomMessage),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Invalid room password", body = ErrorBody),
        (status = 404, description = "Room not found", body = ErrorBody),
    ))]
pub(crate) async fn join_room(
    State(state): State<CommandState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Path(room_id): Path<Uuid>,
    JsonOrEmpty(request): JsonOrEmpty<JoinRoomRequest>,
) -> Result<Json<RoomMessage>, CommandError> {
    let command = RoomCommand::Join {
        member: actor(&user),
        password: request.password,
        at: Utc::now(),
    };
    let (events, room_name) = state
        .rooms
        .execute_with(
            &room_id.to_string(),
            command,
            &metadata(&user, request_id),
            room_name,
        )
        .await?;
    let message = if events.is_empty() {
        "Already joined".to_owned()
    } else {
        format!("Joined room {room_name}")
    };
    Ok(Json(RoomMessage { message }))
}

/// Leave a room. When its last owner leaves, the longest-standing member becomes owner.
#[utoipa::path(post, path = "/rooms/{room_id}/leave", tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`Left room <name>`", body = RoomMessage),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a member of the room", body = ErrorBody),
        (status = 404, description = "Room not found", body = ErrorBody),
    ))]
pub(crate) async fn leave_room(
    State(state): State<CommandState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Path(room_id): Path<Uuid>,
) -> Result<Json<RoomMessage>, CommandError> {
    let command = RoomCommand::Leave {
        member: actor(&user),
        at: Utc::now(),
    };
    let (_, room_name) = state
        .rooms
        .execute_with(
            &room_id.to_string(),
            command,
            &metadata(&user, request_id),
            room_name,
        )
        .await?;
    Ok(Json(RoomMessage {
        message: format!("Left room {room_name}"),
    }))
}

fn room_name(room: &domain::Room) -> String {
    room.info()
        .map(|info| info.name.clone())
        .unwrap_or_default()
}

pub(crate) fn actor(user: &CurrentUser) -> Actor {
    Actor {
        user_id: user.id,
        username: user.username.clone(),
    }
}

pub(crate) fn metadata(user: &CurrentUser, request_id: Option<String>) -> CommandMetadata {
    CommandMetadata {
        user_id: Some(user.id),
        request_id,
        client_msg_id: None,
    }
}
