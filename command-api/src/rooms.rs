//! Creating, joining and leaving rooms.

use api_kit::{AfterProjection, ErrorBody, Json, JsonOrEmpty, Path, RequestId};
use auth::CurrentUser;
use axum::extract::State;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use domain::room::Actor;
use domain::values::{RoomName, RoomPassword};
use domain::{Room, RoomCommand, RoomEvent};
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
        (status = 200, description = "Created", body = CreatedRoom, headers(
            ("x-projection-pending" = String, description = "`true`: the read tables had not caught up with this write within the wait (about 2 s), so a read right after it may not show it yet"))),
        (status = 400, description = "Room name already exists, or a private room without a password", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 422, description = "Invalid name or password", body = ErrorBody),
    ))]
pub(crate) async fn create_room(
    State(state): State<CommandState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Json(request): Json<CreateRoomRequest>,
) -> Result<AfterProjection<Json<CreatedRoom>>, CommandError> {
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
        at: eventstore::now(),
    };
    let aggregate_id = room_id.to_string();
    let events = state
        .rooms
        .execute(&aggregate_id, command, &metadata(&user, request_id))
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
    let created = Json(CreatedRoom {
        id: *room_id,
        name: name.clone(),
        is_private: *is_private,
        created_by: *created_by,
        created_at: *created_at,
    });
    let sequence = events.last().map_or(0, |event| event.sequence);
    Ok(state
        .after_projection(Room::TYPE, &aggregate_id, sequence, created)
        .await)
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
        (status = 200, description = "`Joined room <name>` or `Already joined`", body = RoomMessage, headers(
            ("x-projection-pending" = String, description = "`true`: the read tables had not caught up with this write within the wait (about 2 s), so a read right after it may not show it yet"))),
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
) -> Result<AfterProjection<Json<RoomMessage>>, CommandError> {
    let command = RoomCommand::Join {
        member: actor(&user),
        password: request.password,
        at: eventstore::now(),
    };
    let aggregate_id = room_id.to_string();
    let (events, (room_name, sequence)) = state
        .rooms
        .execute_with(
            &aggregate_id,
            command,
            &metadata(&user, request_id),
            name_and_sequence,
        )
        .await?;
    let message = if events.is_empty() {
        "Already joined".to_owned()
    } else {
        format!("Joined room {room_name}")
    };
    // "Already joined" waits too: the join it refers to may be a moment old and not yet read.
    Ok(state
        .after_projection(
            Room::TYPE,
            &aggregate_id,
            sequence,
            Json(RoomMessage { message }),
        )
        .await)
}

/// Leave a room. When its last owner leaves, the longest-standing member becomes owner.
#[utoipa::path(post, path = "/rooms/{room_id}/leave", tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`Left room <name>`", body = RoomMessage, headers(
            ("x-projection-pending" = String, description = "`true`: the read tables had not caught up with this write within the wait (about 2 s), so a read right after it may not show it yet"))),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a member of the room", body = ErrorBody),
        (status = 404, description = "Room not found", body = ErrorBody),
    ))]
pub(crate) async fn leave_room(
    State(state): State<CommandState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Path(room_id): Path<Uuid>,
) -> Result<AfterProjection<Json<RoomMessage>>, CommandError> {
    let command = RoomCommand::Leave {
        member: actor(&user),
        at: eventstore::now(),
    };
    let aggregate_id = room_id.to_string();
    let (_, (room_name, sequence)) = state
        .rooms
        .execute_with(
            &aggregate_id,
            command,
            &metadata(&user, request_id),
            name_and_sequence,
        )
        .await?;
    let message = format!("Left room {room_name}");
    Ok(state
        .after_projection(
            Room::TYPE,
            &aggregate_id,
            sequence,
            Json(RoomMessage { message }),
        )
        .await)
}

/// The room's name, and the sequence of its latest event: what a membership answer needs.
fn name_and_sequence(room: &Room) -> (String, usize) {
    let name = room
        .info()
        .map(|info| info.name.clone())
        .unwrap_or_default();
    (name, room.last_seq())
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
