use api_kit::ApiError;
use auth::AuthError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use commands::CommandError;
use domain::values::InvalidValue;
use domain::{RoomError, UserError, WebhookError};

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
            | TooManyBots(_)
            | Room(RoomError::NameTaken | RoomError::PrivateRoomRequiresPassword)
            | Webhook(WebhookError::TooMany(_))) => refusal(StatusCode::BAD_REQUEST, &refused),
            refused @ (Room(RoomError::NotFound | RoomError::MessageNotFound)
            | User(UserError::NotRegistered | UserError::BotNotFound)
            | Webhook(WebhookError::NotFound)) => refusal(StatusCode::NOT_FOUND, &refused),
            refused @ Room(RoomError::MessageDeleted | RoomError::TooManyReactions) => {
                refusal(StatusCode::CONFLICT, &refused)
            }
            fault @ Room(RoomError::StaleMessage) => ApiError::unavailable(&fault),
            refused @ Room(RoomError::DirectWithSelf) => {
                refusal(StatusCode::UNPROCESSABLE_ENTITY, &refused)
            }
            refused @ (Room(
                RoomError::WrongPassword
                | RoomError::NotAMember
                | RoomError::NotTheAuthor
                | RoomError::NotAuthorOrOwner
                | RoomError::DirectRoom,
            )
            | User(UserError::WrongPassword | UserError::NotAnAuditor)
            | NotRoomOwner) => refusal(StatusCode::FORBIDDEN, &refused),
        };
        answer.into_response()
    }
}

fn refusal(status: StatusCode, error: &CommandError) -> ApiError {
    ApiError::new(status, error.code(), error.to_string())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use api_kit::RateLimited;
    use axum::http::header;
    use uuid::Uuid;

    use super::*;

    fn status(error: CommandError) -> StatusCode {
        HttpError(error).into_response().status()
    }

    #[test]
    fn refusals_keep_the_seeds_statuses() {
        let cases = [
            (CommandError::User(UserError::UsernameTaken), 400),
            (CommandError::Room(RoomError::NameTaken), 400),
            (
                CommandError::Room(RoomError::PrivateRoomRequiresPassword),
                400,
            ),
            (CommandError::Room(RoomError::NotFound), 404),
            (CommandError::Room(RoomError::WrongPassword), 403),
            (CommandError::Room(RoomError::NotAMember), 403),
            (CommandError::Room(RoomError::DirectRoom), 403),
            (CommandError::Room(RoomError::DirectWithSelf), 422),
            (CommandError::User(UserError::WrongPassword), 403),
            (CommandError::User(UserError::NotAnAuditor), 403),
            (CommandError::Invalid(InvalidValue("too long".into())), 422),
            (
                CommandError::RateLimited(RateLimited {
                    retry_after: Duration::from_secs(2),
                }),
                429,
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(status(error).as_u16(), expected);
        }
    }

    #[test]
    fn wrong_credentials_ask_for_a_bearer_token() {
        let response = HttpError(CommandError::WrongCredentials).into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }

    #[test]
    fn a_fault_of_ours_is_500_and_contention_is_503() {
        let vanished = CommandError::EventVanished {
            room_id: Uuid::nil(),
            seq: 1,
        };
        assert_eq!(status(vanished), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            status(CommandError::Contended),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
