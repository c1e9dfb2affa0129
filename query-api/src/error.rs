use api_kit::ApiError;
use auth::AuthError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use eventstore::EventLogError;

/// Everything a query endpoint can answer instead of success.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("Room not found")]
    RoomNotFound,
    #[error("User not found")]
    UserNotFound,
    #[error("Message not found")]
    MessageNotFound,
    /// A private room's details, members and history are for its members only.
    #[error("This room is private: only its members can read it")]
    PrivateRoom,
    #[error("Only auditors can read the event log")]
    NotAnAuditor,
    /// A query parameter the endpoint does not serve, with what to send instead.
    #[error("{0}")]
    InvalidParameter(&'static str),
    /// A search PostgreSQL cannot run as asked, with why.
    #[error("{0}")]
    InvalidSearch(&'static str),
    #[error(transparent)]
    EventLog(#[from] EventLogError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// An audit read could not be put on record, so it is not served.
    #[error("the audit read could not be recorded")]
    Unrecorded(#[source] commands::CommandError),
}

impl IntoResponse for QueryError {
    fn into_response(self) -> Response {
        let detail = self.to_string();
        let answer = match self {
            QueryError::Auth(error) => return error.into_response(),
            QueryError::RoomNotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "room_not_found", detail)
            }
            QueryError::MessageNotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "message_not_found", detail)
            }
            QueryError::UserNotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "user_not_found", detail)
            }
            QueryError::PrivateRoom => ApiError::new(StatusCode::FORBIDDEN, "not_a_member", detail),
            QueryError::NotAnAuditor => {
                ApiError::new(StatusCode::FORBIDDEN, "not_an_auditor", detail)
            }
            QueryError::InvalidParameter(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", detail)
            }
            QueryError::InvalidSearch(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_search", detail)
            }
            // A stored event that does not decode is a fault of ours, not of the request.
            QueryError::EventLog(error @ EventLogError::Undecodable { .. }) => {
                ApiError::internal(&error)
            }
            QueryError::EventLog(error @ EventLogError::Database(_)) => {
                ApiError::unavailable(&error)
            }
            QueryError::Database(error) => ApiError::unavailable(&error),
            QueryError::Unrecorded(error) if error.code() == "unavailable" => {
                ApiError::unavailable(&error)
            }
            QueryError::Unrecorded(error) => ApiError::internal(&error),
        };
        answer.into_response()
    }
}
