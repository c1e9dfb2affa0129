//! Logging out, changing passwords, and tickets for sockets.

use api_kit::{ErrorCase, Json, RequestId, JSON_BODY_ERRORS, RATE_LIMITED, STORE_ERRORS};
use auth::{CurrentUser, BEARER_ERRORS, BOT_REFUSED};
use axum::extract::State;
use axum::http::StatusCode;
use commands::{Commands, PasswordChange};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::{AccessToken, TokenType};
use crate::error::HttpError;

api_kit::error_responses!(
    /// What logging out answers instead of success.
    LogOutErrors: [STORE_ERRORS, BEARER_ERRORS, BOT_REFUSED], []
);

/// Log out: the token this request carries stops working, on every server, within a second
/// (sockets opened with it close with 4001); the user's other tokens keep working.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        LogOutErrors,
    ))]
pub(crate) async fn log_out(
    State(commands): State<Commands>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
) -> Result<StatusCode, HttpError> {
    commands.log_out(&user.claims, request_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Log out everywhere: every token of the user issued until now stops working, this one
/// included, on every server within a second (their sockets close with 4001).
#[utoipa::path(post, path = "/auth/logout-all", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Every token logged out"),
        LogOutErrors,
    ))]
pub(crate) async fn log_out_everywhere(
    State(commands): State<Commands>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
) -> Result<StatusCode, HttpError> {
    commands
        .log_out_everywhere(&user.claims, request_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"current_password": "correct horse battery", "new_password": "staple battery horse"}))]
pub struct ChangePasswordRequest {
    /// The password the user logs in with now.
    pub current_password: String,
    /// 8–72 characters, never trimmed.
    #[schema(min_length = 8, max_length = 72)]
    pub new_password: String,
}

api_kit::error_responses!(
    /// What changing a password answers instead of success.
    ChangePasswordErrors: [STORE_ERRORS, JSON_BODY_ERRORS, BEARER_ERRORS, BOT_REFUSED], [
        ErrorCase::new(403, "invalid_current_password", "Incorrect current password"),
        ErrorCase::new(422, "invalid_input", "password must be at least 8 characters long"),
        RATE_LIMITED,
    ]
);

/// Change the caller's password. Every token issued before (this one included) stops working on
/// every server within a second; the answer carries a fresh token to go on with.
#[utoipa::path(post, path = "/users/me/password", tag = "auth",
    request_body = ChangePasswordRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Changed; a fresh token, the only one that works now", body = AccessToken),
        ChangePasswordErrors,
    ))]
pub(crate) async fn change_password(
    State(commands): State<Commands>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Json(request): Json<ChangePasswordRequest>,
) -> Result<Json<AccessToken>, HttpError> {
    let change = PasswordChange {
        current_password: &request.current_password,
        new_password: &request.new_password,
    };
    let access_token = commands
        .change_password(&user.claims, change, request_id)
        .await?;
    Ok(Json(AccessToken {
        access_token,
        token_type: TokenType::Bearer,
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"ticket": "q0ZsYjN0b3Bfc2VjcmV0X3RpY2tldF9leGFtcGxlXzQzYw", "expires_in": 30}))]
pub struct SocketTicketAnswer {
    /// Single use, unguessable (256 random bits): open `/ws/{room_id}?ticket=…` with it on any
    /// server, within `expires_in` seconds.
    pub ticket: String,
    pub expires_in: u64,
}

api_kit::error_responses!(
    /// What asking for a socket ticket answers instead of success.
    SocketTicketErrors: [STORE_ERRORS, BEARER_ERRORS, BOT_REFUSED], []
);

/// A ticket to open one WebSocket without the token in its URL. The socket it opens belongs to
/// the token that asked for it: it closes with 4001 when that token is revoked or expires.
#[utoipa::path(post, path = "/auth/ws-ticket", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A ticket for one socket", body = SocketTicketAnswer),
        SocketTicketErrors,
    ))]
pub(crate) async fn socket_ticket(
    State(commands): State<Commands>,
    user: CurrentUser,
) -> Result<Json<SocketTicketAnswer>, HttpError> {
    let issued = commands.issue_socket_ticket(&user.claims).await?;
    Ok(Json(SocketTicketAnswer {
        ticket: issued.ticket,
        expires_in: issued.expires_in.as_secs(),
    }))
}
