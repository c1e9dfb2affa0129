//! A message's replies, and the messages that mention the caller.

use api_kit::{ErrorCase, Json, Path, Query, PATH_ERRORS, QUERY_ERRORS, UNAVAILABLE};
use auth::{CurrentUser, MaybeUser, BEARER_ERRORS};
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::message_view::{select_messages, MessageView};
use crate::rooms::{readable_room, READ_ROOM_ERRORS};
use crate::{QueryError, QueryState};

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RepliesParams {
    /// Page size: 50 by default; more than 200 reads as 200, less than 1 as 1.
    #[param(default = 50)]
    pub(crate) limit: Option<i64>,
    /// Only replies after this room sequence (exclusive): the next page.
    pub(crate) after_seq: Option<i64>,
}

const MESSAGE_EXISTS: &str =
    "SELECT EXISTS (SELECT 1 FROM messages WHERE id = $1 AND room_id = $2)";

const REPLIES: &str = concat!(
    select_messages!(),
    "WHERE m.reply_to = $1 AND m.room_id = $2 AND m.seq > $3
     ORDER BY m.seq
     LIMIT $4"
);

api_kit::error_responses!(
    /// What reading a message's replies answers instead of success.
    RepliesErrors: [UNAVAILABLE, PATH_ERRORS, QUERY_ERRORS, READ_ROOM_ERRORS], [
        ErrorCase::new(404, "message_not_found", "Message not found"),
    ]
);

/// The replies to a message, oldest first, as a bare array; read like history (a private room's
/// to its members only).
#[utoipa::path(get, path = "/rooms/{room_id}/messages/{message_id}/replies", tag = "messages",
    params(("room_id" = Uuid, Path, description = "The room's id"),
        ("message_id" = Uuid, Path, description = "The message's id"), RepliesParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Replies, oldest first", body = [MessageView]),
        RepliesErrors,
    ))]
pub(crate) async fn message_replies(
    State(state): State<QueryState>,
    user: MaybeUser,
    Path((room_id, message_id)): Path<(Uuid, Uuid)>,
    Query(params): Query<RepliesParams>,
) -> Result<Json<Vec<MessageView>>, QueryError> {
    readable_room(&state.pool, room_id, &user).await?;
    let exists: bool = sqlx::query_scalar(MESSAGE_EXISTS)
        .bind(message_id)
        .bind(room_id)
        .fetch_one(&state.pool)
        .await?;
    if !exists {
        return Err(QueryError::MessageNotFound);
    }
    let replies = sqlx::query_as(REPLIES)
        .bind(message_id)
        .bind(room_id)
        .bind(params.after_seq.unwrap_or(0))
        .bind(params.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT))
        .fetch_all(&state.pool)
        .await?;
    Ok(Json(replies))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MentionsParams {
    /// Page size: 50 by default; more than 200 reads as 200, less than 1 as 1.
    #[param(default = 50)]
    pub(crate) limit: Option<i64>,
    /// Only messages posted before this instant (exclusive, RFC 3339): the next older page
    /// starts at the `created_at` of the last message of this one.
    pub(crate) before: Option<DateTime<Utc>>,
}

/// Newest first, from public rooms and the private rooms the caller is in now.
const MENTIONS: &str = concat!(
    select_messages!(),
    "JOIN message_mentions mm ON mm.message_id = m.id
     JOIN rooms r ON r.id = m.room_id
    WHERE mm.user_id = $1 AND mm.created_at < $2
      AND (NOT r.is_private
           OR EXISTS (SELECT 1 FROM room_members rm WHERE rm.room_id = r.id AND rm.user_id = $1))
    ORDER BY mm.created_at DESC, mm.message_id DESC
    LIMIT $3"
);

api_kit::error_responses!(
    /// What reading one's mentions answers instead of success.
    MentionsErrors: [UNAVAILABLE, QUERY_ERRORS, BEARER_ERRORS], []
);

/// The messages that mention the caller, newest first, from the rooms the caller can read.
#[utoipa::path(get, path = "/users/me/mentions", tag = "users",
    params(MentionsParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Messages naming the caller, newest first", body = [MessageView]),
        MentionsErrors,
    ))]
pub(crate) async fn my_mentions(
    State(state): State<QueryState>,
    user: CurrentUser,
    Query(params): Query<MentionsParams>,
) -> Result<Json<Vec<MessageView>>, QueryError> {
    let mentions = sqlx::query_as(MENTIONS)
        .bind(user.id)
        .bind(params.before.unwrap_or(DateTime::<Utc>::MAX_UTC))
        .bind(params.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT))
        .fetch_all(&state.pool)
        .await?;
    Ok(Json(mentions))
}
