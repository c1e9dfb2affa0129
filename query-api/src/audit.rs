//! Audits read the event log itself: the raw events with their metadata, a room's state as of
//! any instant rebuilt from them, and a readable timeline. Password hashes never leave.

use std::future::Future;

use api_kit::{ErrorCase, Json, Path, Query, RequestId, PATH_ERRORS, QUERY_ERRORS, STORE_ERRORS};
use auth::{CurrentUser, BEARER_ERRORS};
use axum::extract::State;
use axum::http::Uri;
use chrono::{DateTime, Utc};
use commands::CommandError;
use cqrs_es::Aggregate;
use domain::{Room, RoomEvent, UserError};
use eventstore::log::PAGE_SIZE;
use eventstore::{EventLog, EventLogError, Recorded, StoredEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::page_size::PageSize;
use crate::rooms::{MemberRole, RoomKind};
use crate::{QueryError, QueryState};

/// An event as stored, with its password hashes redacted.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditEvent {
    /// Global position: orders all events, with gaps.
    #[schema(minimum = 1)]
    pub position: i64,
    /// `Room` or `User`.
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// Position within its aggregate: gapless.
    #[schema(minimum = 1)]
    pub sequence: i64,
    /// `RoomCreated`, `MessagePosted`, `UserRegistered`, …
    pub event_type: String,
    pub event_version: String,
    /// The event as stored, password hashes replaced by `[redacted]`.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// Acting user, request id, client message id, time.
    #[schema(value_type = Object)]
    pub metadata: Value,
    pub recorded_at: DateTime<Utc>,
}

impl From<StoredEvent> for AuditEvent {
    fn from(event: StoredEvent) -> Self {
        let event = event.redacted();
        Self {
            position: event.position,
            aggregate_type: event.aggregate_type,
            aggregate_id: event.aggregate_id,
            sequence: event.sequence,
            event_type: event.event_type,
            event_version: event.event_version,
            payload: event.payload,
            metadata: event.metadata,
            recorded_at: event.recorded_at,
        }
    }
}

/// What every audit answers when the caller may not read the log.
pub(crate) const AUDITOR_ERRORS: &[ErrorCase] = &[ErrorCase::new(
    403,
    "not_an_auditor",
    "Only auditors can read the event log",
)];

/// Puts the read of `uri` on record as the auditor's; refuses anyone who is not one. Nothing of
/// the audit log is served that is not on record.
pub(crate) async fn record_read(
    state: &QueryState,
    user: &CurrentUser,
    uri: &Uri,
    request_id: Option<String>,
) -> Result<(), QueryError> {
    let resource = uri
        .path_and_query()
        .map_or(uri.path(), |whole| whole.as_str());
    match state
        .commands
        .record_audit_read(user.id, resource, request_id)
        .await
    {
        Ok(()) => Ok(()),
        Err(CommandError::User(UserError::NotAnAuditor)) => Err(QueryError::NotAnAuditor),
        Err(error) => Err(QueryError::Unrecorded(error)),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoomEventsParams {
    /// Only events after this sequence (exclusive).
    after_seq: Option<i64>,
    #[param(inline)]
    limit: Option<PageSize>,
}

api_kit::error_responses!(
    /// What reading a room's events answers instead of success.
    RoomEventsErrors: [STORE_ERRORS, PATH_ERRORS, QUERY_ERRORS, BEARER_ERRORS, AUDITOR_ERRORS], [
        ErrorCase::new(404, "room_not_found", "Room not found"),
    ]
);

/// A room's raw events in order (auditors only).
#[utoipa::path(get, path = "/audit/rooms/{room_id}/events", tag = "audit",
    params(("room_id" = Uuid, Path, description = "The room's id"), RoomEventsParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Events in sequence order", body = [AuditEvent]),
        RoomEventsErrors,
    ))]
pub(crate) async fn room_events(
    State(state): State<QueryState>,
    user: CurrentUser,
    uri: Uri,
    RequestId(request_id): RequestId,
    Path(room_id): Path<Uuid>,
    Query(params): Query<RoomEventsParams>,
) -> Result<Json<Vec<AuditEvent>>, QueryError> {
    record_read(&state, &user, &uri, request_id).await?;
    let log = &state.log;
    let room_id = room_id.to_string();
    let room_id = room_id.as_str();
    if !log.has_events(Room::TYPE, room_id).await? {
        return Err(QueryError::RoomNotFound);
    }
    let events = read_pages(
        PageSize::or_default(params.limit),
        params.after_seq.unwrap_or(0),
        |event| event.sequence,
        |after, limit| log.aggregate_page(Room::TYPE, room_id, after, limit),
    )
    .await?;
    Ok(Json(events.into_iter().map(AuditEvent::from).collect()))
}

/// Up to `limit` events, read from the log a page at a time: `read(after, limit)` answers the
/// page after the cursor `after`, and `cursor` is an event's place in that order.
pub(crate) async fn read_pages<Page>(
    limit: usize,
    after: i64,
    cursor: fn(&StoredEvent) -> i64,
    mut read: impl FnMut(i64, usize) -> Page,
) -> Result<Vec<StoredEvent>, EventLogError>
where
    Page: Future<Output = Result<Vec<StoredEvent>, EventLogError>>,
{
    let mut events = Vec::new();
    let mut after = after;
    while events.len() < limit {
        let wanted = (limit - events.len()).min(PAGE_SIZE);
        let page = read(after, wanted).await?;
        let ended = page.len() < wanted;
        if let Some(last) = page.last() {
            after = cursor(last);
        }
        events.extend(page);
        if ended {
            break;
        }
    }
    Ok(events)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserEventsParams {
    /// Only events after this global position (exclusive).
    after_position: Option<i64>,
    #[param(inline)]
    limit: Option<PageSize>,
}

api_kit::error_responses!(
    /// What reading a user's events answers instead of success.
    UserEventsErrors: [STORE_ERRORS, PATH_ERRORS, QUERY_ERRORS, BEARER_ERRORS, AUDITOR_ERRORS], []
);

/// Every event a user caused, in global order (auditors only).
#[utoipa::path(get, path = "/audit/users/{user_id}/events", tag = "audit",
    params(("user_id" = Uuid, Path, description = "The user's id"), UserEventsParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Events in global order", body = [AuditEvent]),
        UserEventsErrors,
    ))]
pub(crate) async fn user_events(
    State(state): State<QueryState>,
    user: CurrentUser,
    uri: Uri,
    RequestId(request_id): RequestId,
    Path(user_id): Path<Uuid>,
    Query(params): Query<UserEventsParams>,
) -> Result<Json<Vec<AuditEvent>>, QueryError> {
    record_read(&state, &user, &uri, request_id).await?;
    let log = &state.log;
    let user_id = user_id.to_string();
    let user_id = user_id.as_str();
    let events = read_pages(
        PageSize::or_default(params.limit),
        params.after_position.unwrap_or(0),
        |event| event.position,
        |after, limit| log.caused_by(user_id, after, limit),
    )
    .await?;
    Ok(Json(events.into_iter().map(AuditEvent::from).collect()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StateParams {
    /// The instant (RFC 3339); now when left out.
    at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomStateView {
    pub room_id: Uuid,
    pub at: DateTime<Utc>,
    pub name: String,
    pub is_private: bool,
    pub kind: RoomKind,
    pub members: Vec<StateMember>,
    pub message_count: u64,
    pub last_seq: u64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StateMember {
    pub user_id: Uuid,
    pub username: String,
    #[schema(value_type = MemberRole)]
    pub role: String,
    pub joined_at: DateTime<Utc>,
}

/// Hands `visit` a room's events recorded up to `until`, in order, reading them a page at a time;
/// answers how many there were.
pub(crate) async fn visit_until(
    log: &EventLog,
    room_id: Uuid,
    until: DateTime<Utc>,
    mut visit: impl FnMut(Recorded<RoomEvent>),
) -> Result<usize, EventLogError> {
    let room_id = room_id.to_string();
    let mut after = 0;
    let mut visited = 0;
    loop {
        let page = log.recorded_until::<Room>(&room_id, after, until).await?;
        let ended = page.len() < PAGE_SIZE;
        visited += page.len();
        for recorded in page {
            after = recorded.sequence;
            visit(recorded);
        }
        if ended {
            return Ok(visited);
        }
    }
}

api_kit::error_responses!(
    /// What reading a room's state answers instead of success.
    RoomStateErrors: [STORE_ERRORS, PATH_ERRORS, QUERY_ERRORS, BEARER_ERRORS, AUDITOR_ERRORS], [
        ErrorCase::new(404, "room_not_found", "Room not found"),
    ]
);

/// A room as it was at an instant, rebuilt from its events by the same rules that made them
/// (auditors only).
#[utoipa::path(get, path = "/audit/rooms/{room_id}/state", tag = "audit",
    params(("room_id" = Uuid, Path, description = "The room's id"), StateParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The room at that instant", body = RoomStateView),
        RoomStateErrors,
    ))]
pub(crate) async fn room_state(
    State(state): State<QueryState>,
    user: CurrentUser,
    uri: Uri,
    RequestId(request_id): RequestId,
    Path(room_id): Path<Uuid>,
    Query(params): Query<StateParams>,
) -> Result<Json<RoomStateView>, QueryError> {
    record_read(&state, &user, &uri, request_id).await?;
    let at = params.at.unwrap_or_else(Utc::now);
    let mut room = Room::default();
    let mut message_count = 0;
    visit_until(&state.log, room_id, at, |recorded| {
        if matches!(recorded.event, RoomEvent::MessagePosted(_)) {
            message_count += 1;
        }
        room.apply(recorded.event);
    })
    .await?;
    let info = room.info().ok_or(QueryError::RoomNotFound)?;
    Ok(Json(RoomStateView {
        room_id,
        at,
        name: info.name.clone(),
        is_private: info.is_private,
        kind: info.kind.into(),
        members: room
            .members()
            .iter()
            .map(|member| StateMember {
                user_id: member.user_id,
                username: member.username.clone(),
                role: role_name(member.role).into(),
                joined_at: member.joined_at,
            })
            .collect(),
        message_count,
        last_seq: room.last_seq() as u64,
    }))
}

pub(crate) fn role_name(role: domain::Role) -> &'static str {
    match role {
        domain::Role::Owner => "owner",
        domain::Role::Member => "member",
    }
}
