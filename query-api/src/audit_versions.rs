//! Every version of one message, for auditors: as posted, each edit and its deletion, with who
//! and when, read from the event log (which keeps a deleted message's text).

use api_kit::{ErrorCase, Json, Path, Query, RequestId, PATH_ERRORS, QUERY_ERRORS, STORE_ERRORS};
use auth::{CurrentUser, BEARER_ERRORS};
use axum::extract::State;
use axum::http::Uri;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use domain::{Room, RoomEvent};
use eventstore::StoredEvent;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audit::{read_pages, record_read, AUDITOR_ERRORS};
use crate::message_view::MentionView;
use crate::page_size::PageSize;
use crate::{QueryError, QueryState};

/// The events after posting that make a new version; reactions do not change what it says.
const CHANGES: [&str; 2] = ["MessageEdited", "MessageDeleted"];

/// Where the room recorded the message. The log has no index of posted messages by id (posting
/// is the hot path), so the read table finds it; everything answered is read from the log.
const POSTED_AT_SEQ: &str = "SELECT seq FROM messages WHERE id = $1 AND room_id = $2";

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VersionKind {
    Posted,
    Edited,
    Deleted,
}

/// One version of a message: the event that made it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageVersion {
    /// The room sequence of the event.
    #[schema(minimum = 1)]
    pub seq: i64,
    pub kind: VersionKind,
    /// The text from this version on; null for the deletion (the log keeps the text before it).
    #[schema(required = true)]
    pub content: Option<String>,
    /// Members the text names; empty for the deletion.
    pub mentions: Vec<MentionView>,
    /// Who posted, edited or deleted it (the deleter may be the room's owner).
    pub user_id: Uuid,
    pub username: String,
    /// When, as the event says.
    pub at: DateTime<Utc>,
}

impl MessageVersion {
    /// The version an event of this message makes; none for an event that makes none.
    fn of(event: &StoredEvent) -> Result<Option<Self>, QueryError> {
        let recorded = event.decode::<RoomEvent>()?;
        let seq = recorded.sequence;
        let mentioned = |mentions: Vec<domain::Mention>| {
            mentions
                .into_iter()
                .map(|m| MentionView {
                    user_id: m.user_id,
                    username: m.username,
                })
                .collect()
        };
        Ok(Some(match recorded.event {
            RoomEvent::MessagePosted(posted) => Self {
                seq,
                kind: VersionKind::Posted,
                content: Some(posted.content),
                mentions: mentioned(posted.mentions),
                user_id: posted.user_id,
                username: posted.username,
                at: posted.posted_at,
            },
            RoomEvent::MessageEdited {
                user_id,
                username,
                content,
                mentions,
                edited_at,
                ..
            } => Self {
                seq,
                kind: VersionKind::Edited,
                content: Some(content),
                mentions: mentioned(mentions),
                user_id,
                username,
                at: edited_at,
            },
            RoomEvent::MessageDeleted {
                user_id,
                username,
                deleted_at,
                ..
            } => Self {
                seq,
                kind: VersionKind::Deleted,
                content: None,
                mentions: Vec::new(),
                user_id,
                username,
                at: deleted_at,
            },
            _ => return Ok(None),
        }))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionsParams {
    /// Only versions after this room sequence (exclusive): the `seq` of the last one read.
    after_seq: Option<i64>,
    #[param(inline)]
    limit: Option<PageSize>,
}

api_kit::error_responses!(
    /// What reading a message's versions answers instead of success.
    VersionsErrors: [STORE_ERRORS, PATH_ERRORS, QUERY_ERRORS, BEARER_ERRORS, AUDITOR_ERRORS], [
        ErrorCase::new(404, "room_not_found", "Room not found"),
        ErrorCase::new(404, "message_not_found", "Message not found"),
    ]
);

/// Every version of a message in order: as posted, each edit, its deletion, with who and when;
/// a deleted message's text included (auditors only).
#[utoipa::path(get, path = "/audit/rooms/{room_id}/messages/{message_id}/versions", tag = "audit",
    params(("room_id" = Uuid, Path, description = "The room's id"),
        ("message_id" = Uuid, Path, description = "The message's id"), VersionsParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Versions, oldest first", body = [MessageVersion]),
        VersionsErrors,
    ))]
pub(crate) async fn message_versions(
    State(state): State<QueryState>,
    user: CurrentUser,
    uri: Uri,
    RequestId(request_id): RequestId,
    Path((room_id, message_id)): Path<(Uuid, Uuid)>,
    Query(params): Query<VersionsParams>,
) -> Result<Json<Vec<MessageVersion>>, QueryError> {
    record_read(&state, &user, &uri, request_id).await?;
    let log = &state.log;
    let room = room_id.to_string();
    let message = message_id.to_string();
    let posted_seq: Option<i64> = sqlx::query_scalar(POSTED_AT_SEQ)
        .bind(message_id)
        .bind(room_id)
        .fetch_optional(&state.pool)
        .await?;
    let posted = match posted_seq {
        Some(seq) => log.event(Room::TYPE, &room, seq).await?,
        None => None,
    };
    let Some(posted) = posted else {
        return Err(if log.has_events(Room::TYPE, &room).await? {
            QueryError::MessageNotFound
        } else {
            QueryError::RoomNotFound
        });
    };
    let limit = PageSize::or_default(params.limit);
    let after = params.after_seq.unwrap_or(0);
    let mut events = Vec::with_capacity(limit.min(16));
    if posted.sequence > after {
        events.push(posted);
    }
    let changes = read_pages(
        limit - events.len(),
        after,
        |event| event.sequence,
        |after, limit| {
            log.events_with_field::<Room>(&room, &CHANGES, "message_id", &message, after, limit)
        },
    )
    .await?;
    events.extend(changes);
    let mut versions = Vec::with_capacity(events.len());
    for event in &events {
        versions.extend(MessageVersion::of(event)?);
    }
    Ok(Json(versions))
}
