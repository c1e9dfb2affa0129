//! The caller's own account and rooms.

use api_kit::{ErrorCase, Json, UNAVAILABLE};
use auth::{CurrentUser, BEARER_ERRORS};
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::rooms::{RoomView, MY_ROOMS};
use crate::{QueryError, QueryState};

#[derive(Debug, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub created_at: DateTime<Utc>,
}

const USER_BY_ID: &str = "SELECT id, username, created_at FROM users WHERE id = $1";

api_kit::error_responses!(
    /// What reading one's account answers instead of success.
    MeErrors: [UNAVAILABLE, BEARER_ERRORS], [
        // The token outlived the account's row: a rebuild of the read tables under way.
        ErrorCase::new(404, "user_not_found", "User not found"),
    ]
);

/// The caller's account.
#[utoipa::path(get, path = "/users/me", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserView),
        MeErrors,
    ))]
pub(crate) async fn me(
    State(state): State<QueryState>,
    user: CurrentUser,
) -> Result<Json<UserView>, QueryError> {
    let found = sqlx::query_as(USER_BY_ID)
        .bind(user.id)
        .fetch_optional(&state.pool)
        .await?
        .ok_or(QueryError::UserNotFound)?;
    Ok(Json(found))
}

api_kit::error_responses!(
    /// What reading one's rooms answers instead of success.
    MyRoomsErrors: [UNAVAILABLE, BEARER_ERRORS], []
);

/// The rooms the caller is a member of, direct rooms included, each named after its other
/// member.
#[utoipa::path(get, path = "/users/me/rooms", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's rooms, oldest first", body = [RoomView]),
        MyRoomsErrors,
    ))]
pub(crate) async fn my_rooms(
    State(state): State<QueryState>,
    user: CurrentUser,
) -> Result<Json<Vec<RoomView>>, QueryError> {
    let rooms = sqlx::query_as(MY_ROOMS)
        .bind(user.id)
        .fetch_all(&state.pool)
        .await?;
    Ok(Json(rooms))
}
