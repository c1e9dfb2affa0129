//! Marking a room read.

use api_kit::{ErrorCase, Json, Path, RequestId, JSON_BODY_ERRORS, PATH_ERRORS, STORE_ERRORS};
use auth::{CurrentUser, BEARER_ERRORS};
use axum::extract::State;
use axum::http::StatusCode;
use commands::Commands;
use domain::reads::ReadSeq;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::HttpError;
use crate::message_changes::{NOT_A_MEMBER, ROOM_NOT_FOUND};
use crate::rooms::actor;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"seq": 42}))]
pub struct MarkReadRequest {
    /// The room sequence read up to, included: 0 to 9223372036854775807. Past the room's latest
    /// it stands for the latest.
    #[schema(minimum = 0)]
    pub seq: i64,
}

api_kit::error_responses!(
    /// What marking read answers instead of success.
    MarkReadErrors: [STORE_ERRORS, JSON_BODY_ERRORS, PATH_ERRORS, BEARER_ERRORS], [
        NOT_A_MEMBER,
        ROOM_NOT_FOUND,
        ErrorCase::new(422, "invalid_input", "seq must be 0 or more, not -1"),
    ]
);

/// Mark the room read up to `seq`.
///
/// A position only moves forward: marking an earlier `seq` changes nothing. The room's members see the move in `GET /rooms/{room_id}/members` and, on
/// v2 sockets, as a `read` frame. Moves in quick succession are recorded together: the first
/// at once, the furthest of those in the next second at its end.
#[utoipa::path(post, path = "/rooms/{room_id}/read", tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's id")),
    request_body = MarkReadRequest,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Read up to `seq` (or the room's latest), or further already"),
        MarkReadErrors,
    ))]
pub(crate) async fn mark_read(
    State(commands): State<Commands>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Path(room_id): Path<Uuid>,
    Json(request): Json<MarkReadRequest>,
) -> Result<StatusCode, HttpError> {
    let seq = ReadSeq::parse(request.seq)?;
    commands
        .mark_read(&actor(&user), room_id, seq, request_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
