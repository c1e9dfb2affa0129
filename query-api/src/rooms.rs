//! Rooms and their members.

use api_kit::{ErrorCase, Json, Path, Query, PATH_ERRORS, QUERY_ERRORS, UNAVAILABLE};
use auth::{AuthError, MaybeUser};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::listing::{RoomCursor, RoomsPage, RoomsParams};
use crate::{QueryError, QueryState};

/// A room as listed. The seed's fields first; the rest are extensions.
#[derive(Debug, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct RoomView {
    pub id: Uuid,
    pub name: String,
    pub is_private: bool,
    /// The creator's user id.
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    #[schema(minimum = 0)]
    pub member_count: i32,
    /// The room's latest sequence (messages and membership events share it).
    #[schema(minimum = 0)]
    pub last_seq: i64,
    /// Whether the caller is a member; present only when a valid token came with the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = bool)]
    pub is_member: Option<bool>,
    pub kind: RoomKind,
}

/// What a room is: a named `room`, or the `direct` room of two people, which is private, has
/// exactly those two members for good, is listed only to them, and is named for each after the
/// other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum RoomKind {
    Room,
    Direct,
}

impl From<domain::RoomKind> for RoomKind {
    fn from(kind: domain::RoomKind) -> Self {
        match kind {
            domain::RoomKind::Room => RoomKind::Room,
            domain::RoomKind::Direct => RoomKind::Direct,
        }
    }
}

/// The columns of a [`RoomView`] of the room `r` as the caller `$1` sees it: a direct room is
/// named after its other member.
macro_rules! room_view_columns {
    () => {
        "r.id,
       CASE WHEN r.kind = 'direct'
            THEN coalesce((SELECT o.username FROM room_members o
                            WHERE o.room_id = r.id AND o.user_id <> $1 LIMIT 1), r.name)
            ELSE r.name END AS name,
       r.is_private, r.created_by, r.created_at, r.member_count, r.last_seq, r.kind"
    };
}

/// Named rooms in creation order after the cursor `($2, $3)` (from the start when it is null),
/// at most `$4` of them (all when null). Direct rooms are their members' business only.
const LIST_ROOMS: &str = "
SELECT r.id, r.name, r.is_private, r.created_by, r.created_at, r.member_count, r.last_seq,
       r.kind, (m.user_id IS NOT NULL) AS is_member
  FROM rooms r
  LEFT JOIN room_members m ON m.room_id = r.id AND m.user_id = $1
 WHERE r.kind = 'room'
   AND ($2::timestamptz IS NULL OR (r.created_at, r.id) > ($2, $3::uuid))
 ORDER BY r.created_at, r.id
 LIMIT $4";

const ROOM_BY_ID: &str = concat!(
    "SELECT ",
    room_view_columns!(),
    ", (m.user_id IS NOT NULL) AS is_member
  FROM rooms r
  LEFT JOIN room_members m ON m.room_id = r.id AND m.user_id = $1
 WHERE r.id = $2"
);

api_kit::error_responses!(
    /// What listing rooms answers instead of success.
    ListRoomsErrors: [UNAVAILABLE, QUERY_ERRORS], []
);

/// Every named room, private ones too (their names are not secret; their contents are), but no
/// direct room, oldest first: all of them, as the seed answers, or one page with `limit` or
/// `after`, with `Link: <…>; rel="next"` while more remain. No token needed; an invalid or expired one is
/// ignored.
#[utoipa::path(get, path = "/rooms/", tag = "rooms",
    params(RoomsParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Rooms, oldest first", body = [RoomView],
            headers(("link" = String, description = "The next page, while more rooms remain"))),
        ListRoomsErrors,
    ))]
pub(crate) async fn list_rooms(
    State(state): State<QueryState>,
    MaybeUser(user): MaybeUser,
    Query(params): Query<RoomsParams>,
) -> Result<(HeaderMap, Json<Vec<RoomView>>), QueryError> {
    let page = params.page()?;
    let caller = user.as_ref().map(|user| user.id);
    // One more than the page holds tells whether another page follows.
    let mut rooms: Vec<RoomView> = sqlx::query_as(LIST_ROOMS)
        .bind(caller)
        .bind(page.after.map(|cursor| cursor.created_at))
        .bind(page.after.map(|cursor| cursor.id))
        .bind(page.limit.map(|limit| limit + 1))
        .fetch_all(&state.pool)
        .await?;
    if caller.is_none() {
        rooms.iter_mut().for_each(|room| room.is_member = None);
    }
    let mut headers = HeaderMap::new();
    if let Some(link) = next_page(&page, &mut rooms) {
        headers.insert(
            header::LINK,
            HeaderValue::from_str(&link).expect("ASCII link"),
        );
    }
    Ok((headers, Json(rooms)))
}

/// Cuts `rooms` to the page, and answers the link to the next one when more remain.
fn next_page(page: &RoomsPage, rooms: &mut Vec<RoomView>) -> Option<String> {
    let limit = usize::try_from(page.limit?).expect("a page size is positive");
    if rooms.len() <= limit {
        return None;
    }
    rooms.truncate(limit);
    let last = rooms.last()?;
    let cursor = RoomCursor {
        created_at: last.created_at,
        id: last.id,
    };
    Some(format!(
        "</rooms/?after={}&limit={limit}>; rel=\"next\"",
        cursor.encode()
    ))
}

/// The room, if the caller may read it: anyone may read a public room, only members a
/// private one (401 without a token, 403 for others).
pub(crate) async fn readable_room(
    pool: &PgPool,
    room_id: Uuid,
    user: &MaybeUser,
) -> Result<RoomView, QueryError> {
    let caller = user.0.as_ref().map(|user| user.id);
    let mut room: RoomView = sqlx::query_as(ROOM_BY_ID)
        .bind(caller)
        .bind(room_id)
        .fetch_optional(pool)
        .await?
        .ok_or(QueryError::RoomNotFound)?;
    if caller.is_none() {
        room.is_member = None;
    }
    if room.is_private {
        match room.is_member {
            None => return Err(AuthError::MissingToken.into()),
            Some(false) => return Err(QueryError::PrivateRoom),
            Some(true) => {}
        }
    }
    Ok(room)
}

/// What reading a room (its details, members or history) may answer instead of success.
pub(crate) const READ_ROOM_ERRORS: &[ErrorCase] = &[
    ErrorCase::new(401, "not_authenticated", "Not authenticated"),
    ErrorCase::new(
        403,
        "not_a_member",
        "This room is private: only its members can read it",
    ),
    ErrorCase::new(404, "room_not_found", "Room not found"),
];

api_kit::error_responses!(
    /// What reading a room's details or members answers instead of success.
    ReadRoomErrors: [UNAVAILABLE, PATH_ERRORS, READ_ROOM_ERRORS], []
);

/// One room's details.
#[utoipa::path(get, path = "/rooms/{room_id}", tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The room", body = RoomView),
        ReadRoomErrors,
    ))]
pub(crate) async fn room_details(
    State(state): State<QueryState>,
    user: MaybeUser,
    Path(room_id): Path<Uuid>,
) -> Result<Json<RoomView>, QueryError> {
    Ok(Json(readable_room(&state.pool, room_id, &user).await?))
}

#[derive(Debug, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct MemberView {
    pub user_id: Uuid,
    pub username: String,
    #[schema(value_type = MemberRole)]
    pub role: String,
    pub joined_at: DateTime<Utc>,
}

/// A member's role in a room.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    Owner,
    Member,
}

const ROOM_MEMBERS: &str = "
SELECT user_id, username, role, joined_at FROM room_members
 WHERE room_id = $1
 ORDER BY joined_at, user_id";

/// A room's members, longest-standing first.
#[utoipa::path(get, path = "/rooms/{room_id}/members", tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The members", body = [MemberView]),
        ReadRoomErrors,
    ))]
pub(crate) async fn room_members(
    State(state): State<QueryState>,
    user: MaybeUser,
    Path(room_id): Path<Uuid>,
) -> Result<Json<Vec<MemberView>>, QueryError> {
    readable_room(&state.pool, room_id, &user).await?;
    let members = sqlx::query_as(ROOM_MEMBERS)
        .bind(room_id)
        .fetch_all(&state.pool)
        .await?;
    Ok(Json(members))
}

pub(crate) const MY_ROOMS: &str = concat!(
    "SELECT ",
    room_view_columns!(),
    ", true AS is_member
  FROM room_members m
  JOIN rooms r ON r.id = m.room_id
 WHERE m.user_id = $1
 ORDER BY r.created_at, r.id"
);
