//! The caller's own account and rooms.

use api_kit::{ErrorBody, Json};
use auth::CurrentUser;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::rooms::{RoomView, MY_ROOMS};
use crate::{QueryError, QueryState};

#[derive(Debug, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub created_at: DateTime<Utc>,
}

const USER_BY_ID: &str = "SELECT id, username, created_at FROM users WHERE id = $1";

/// The caller's account.
#[utoipa::path(get, path = "/users/me", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserView),
        (status = 401, description = "No valid token", body = ErrorBody),
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

/// The rooms the caller is a member of.
#[utoipa::path(get, path = "/users/me/rooms", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's rooms, oldest first", body = [RoomView]),
        (status = 401, description = "No valid token", body = ErrorBody),
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
