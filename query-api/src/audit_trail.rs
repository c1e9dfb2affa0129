//! The audit trail: who became or stopped being an auditor, and every read of the audit log,
//! itself recorded before it was served. Auditors read it (and that read is on it too).

use api_kit::{Json, Query, RequestId, QUERY_ERRORS, STORE_ERRORS};
use auth::{CurrentUser, BEARER_ERRORS};
use axum::extract::State;
use axum::http::Uri;
use cqrs_es::Aggregate;
use domain::User;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::audit::{read_pages, record_read, AuditEvent, AUDITOR_ERRORS};
use crate::page_size::PageSize;
use crate::{QueryError, QueryState};

/// What the trail holds, all events of the user aggregates.
const TRAIL: [&str; 3] = ["AuditLogRead", "RoleGranted", "RoleRevoked"];

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrailParams {
    /// Only entries after this global position (exclusive): the `position` of the last entry
    /// read.
    after_position: Option<i64>,
    #[param(inline)]
    limit: Option<PageSize>,
}

api_kit::error_responses!(
    /// What reading the audit trail answers instead of success.
    AuditReadsErrors: [STORE_ERRORS, QUERY_ERRORS, BEARER_ERRORS, AUDITOR_ERRORS], []
);

/// The audit trail, in order: `RoleGranted` and `RoleRevoked` (an operator's `chat role grant` or
/// `revoke`; the user is the event's `aggregate_id`) and `AuditLogRead` (who, the
/// `aggregate_id`, read what, the `resource`, when), auditors only.
#[utoipa::path(get, path = "/audit/reads", tag = "audit",
    params(TrailParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Trail entries in global order", body = [AuditEvent]),
        AuditReadsErrors,
    ))]
pub(crate) async fn audit_reads(
    State(state): State<QueryState>,
    user: CurrentUser,
    uri: Uri,
    RequestId(request_id): RequestId,
    Query(params): Query<TrailParams>,
) -> Result<Json<Vec<AuditEvent>>, QueryError> {
    record_read(&state, &user, &uri, request_id).await?;
    let log = &state.log;
    let events = read_pages(
        PageSize::or_default(params.limit),
        params.after_position.unwrap_or(0),
        |event| event.position,
        |after, limit| log.of_types(User::TYPE, &TRAIL, after, limit),
    )
    .await?;
    Ok(Json(events.into_iter().map(AuditEvent::from).collect()))
}
