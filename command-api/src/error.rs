use api_kit::ApiError;
use auth::AuthError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use commands::CommandError;
use domain::values::InvalidValue;
use domain::{RoomError, UserError};

/// A use case's error as this API answers it: the seed's statuses where it had the case, and
/// the code every transport gives. Faults are logged here, with their causes, once.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub(crate) struct HttpError(#[from] CommandError);

impl From<InvalidValue> for HttpError {
    fn from(invalid: InvalidValue) -> Self {
        Self(invalid.into())
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        use CommandError::*;
        let answer = match self.0 {
            WrongCredentials => return AuthError::WrongCredentials.into_response(),
            RateLimited(limited) => ApiError::from(limited),
            Invalid(invalid) => ApiError::invalid(invalid.0),
            fault @ (StoreUnreachable(_) | Contended) => ApiError::unavailable(&fault),
            fault @ (StoreFault(_) | EventVanished { .. }) => ApiError::internal(&fault),
            refused @ (User(UserError::UsernameTaken)
            | Room(RoomError::NameTaken | RoomError::PrivateRoomRequiresPassword)) => {
                refusal(StatusCode::BAD_REQUEST, &refused)
            }
            refused @ Room(RoomError::NotFound) => refusal(StatusCode::NOT_FOUND, &refused),
            refused @ Room(RoomError::WrongPassword | RoomError::NotAMember) => {
                refusal(StatusCode::FORBIDDEN, &refused)
            }
        };
        answer.into_response()
    }
}

fn refusal(status: StatusCode, error: &CommandError) -> ApiError {
    ApiError::new(status, error.code(), error.to_string())
}
