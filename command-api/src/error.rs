use api_kit::{ApiError, RateLimited};
use auth::AuthError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::values::InvalidValue;
use domain::{RoomError, UserError};
use eventstore::ExecuteError;

/// Everything a command endpoint can answer instead of success.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Invalid(#[from] InvalidValue),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    User(UserError),
    #[error(transparent)]
    Room(RoomError),
    #[error(transparent)]
    RateLimited(#[from] RateLimited),
    #[error("{0}")]
    Unavailable(String),
}

impl From<ExecuteError<UserError>> for CommandError {
    fn from(error: ExecuteError<UserError>) -> Self {
        match error {
            ExecuteError::Domain(error) => Self::User(error),
            other => Self::Unavailable(other.to_string()),
        }
    }
}

impl From<ExecuteError<RoomError>> for CommandError {
    fn from(error: ExecuteError<RoomError>) -> Self {
        match error {
            ExecuteError::Domain(error) => Self::Room(error),
            other => Self::Unavailable(other.to_string()),
        }
    }
}

impl IntoResponse for CommandError {
    fn into_response(self) -> Response {
        let detail = self.to_string();
        let answer = match self {
            CommandError::Invalid(error) => ApiError::invalid(error.0),
            CommandError::Auth(error) => return error.into_response(),
            CommandError::RateLimited(limited) => limited.into(),
            CommandError::Unavailable(cause) => {
                ApiError::unavailable(&std::io::Error::other(cause))
            }
            CommandError::User(UserError::UsernameTaken) => {
                ApiError::new(StatusCode::BAD_REQUEST, "username_taken", detail)
            }
            CommandError::Room(error) => {
                let (status, code) = room_error_status(&error);
                ApiError::new(status, code, detail)
            }
        };
        answer.into_response()
    }
}

/// The status and code of a room rule's refusal; the seed's statuses where it had the case.
pub fn room_error_status(error: &RoomError) -> (StatusCode, &'static str) {
    match error {
        RoomError::NameTaken => (StatusCode::BAD_REQUEST, "room_name_taken"),
        RoomError::PrivateRoomRequiresPassword => {
            (StatusCode::BAD_REQUEST, "private_room_requires_password")
        }
        RoomError::NotFound => (StatusCode::NOT_FOUND, "room_not_found"),
        RoomError::WrongPassword => (StatusCode::FORBIDDEN, "invalid_room_password"),
        RoomError::NotAMember => (StatusCode::FORBIDDEN, "not_a_member"),
    }
}
