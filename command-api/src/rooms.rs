//! Creating, joining and leaving rooms.

use api_kit::{AfterProjection, ErrorBody, Json, JsonOrEmpty, Path, RequestId};
use auth::CurrentUser;
use axum::extract::State;
use chrono::{DateTime, Utc};
use commands::{Commands, NewRoom};
use domain::room::Actor;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::after_projection;
use crate::error::HttpError;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRoomRequest {
    /// 1–64 characters after trimming, at least one visible, no control or bidi control
    /// characters; unique ignoring case.
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
        (status = 422, description = "Invalid name or password: a name needs a visible character and may hold no control or bidi control characters", body = ErrorBody),
        (status = 429, description = "Too many rooms created by this user this hour; `Retry-After` says when to try again", body = ErrorBody,
            headers(("retry-after" = u64, description = "Seconds to wait"))),
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
        (status = 200, description = "`Joined room <name>` or `Already joined`", body = RoomMessage, headers(
            ("x-projection-pending" = String, description = "`true`: the read tables had not caught up with this write within the wait (about 2 s), so a read right after it may not show it yet"))),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Invalid room password", body = ErrorBody),
        (status = 404, description = "Room not found", body = ErrorBody),
        (status = 429, description = "Too many password attempts by this user at this room; `Retry-After` says when to try again", body = ErrorBody,
            headers(("retry-after" = u64, description = "Seconds to wait"))),
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
    }
}
