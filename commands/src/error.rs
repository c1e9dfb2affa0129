use api_kit::RateLimited;
use cqrs_es::persist::PersistenceError;
use domain::values::InvalidValue;
use domain::{ReadError, RoomError, UserError, WebhookError};
use eventstore::ExecuteError;
use uuid::Uuid;

/// Everything a use case can answer instead of its outcome. Each transport turns it into its
/// own answer (an HTTP status, a WebSocket error frame) and logs it there, once; the
/// [`code`](Self::code) is the same on every transport.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Invalid(#[from] InvalidValue),
    /// Every way a login can fail, alike, so the answer never tells which names exist.
    #[error("Incorrect username or password")]
    WrongCredentials,
    #[error(transparent)]
    User(UserError),
    #[error(transparent)]
    Room(RoomError),
    #[error(transparent)]
    Webhook(WebhookError),
    /// Only a room's owners may manage its webhooks.
    #[error("Only the room's owner can manage its webhooks")]
    NotRoomOwner,
    #[error(transparent)]
    RateLimited(#[from] RateLimited),
    /// The user has as many bot accounts as they may.
    #[error("You have {0} bots already: revoke one first")]
    TooManyBots(u32),
    /// The database could not be reached; the command may be retried.
    #[error("the event store is unreachable")]
    StoreUnreachable(#[source] PersistenceError),
    /// Other writers kept winning the race for the aggregate; the command may be retried.
    #[error("the aggregate kept changing under the command")]
    Contended,
    /// A fault of ours: a stored event that does not decode, an executor that stopped.
    #[error("the event store failed")]
    StoreFault(#[source] PersistenceError),
    /// The room said a message was posted at `seq`, and the store has no such event.
    #[error("event {seq} of room {room_id} vanished from the event store")]
    EventVanished { room_id: Uuid, seq: usize },
}

impl CommandError {
    /// Stable and snake_case, for programs to branch on; the `code` of the HTTP error body and
    /// of the WebSocket error frame.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid_input",
            Self::WrongCredentials => "invalid_credentials",
            Self::User(UserError::UsernameTaken) => "username_taken",
            Self::User(UserError::NotRegistered) => "user_not_found",
            Self::User(UserError::WrongPassword) => "invalid_current_password",
            Self::User(UserError::NotAnAuditor) => "not_an_auditor",
            Self::User(UserError::BotNotFound) => "bot_not_found",
            Self::TooManyBots(_) => "too_many_bots",
            Self::Room(RoomError::NameTaken) => "room_name_taken",
            Self::Room(RoomError::PrivateRoomRequiresPassword) => "private_room_requires_password",
            Self::Room(RoomError::NotFound) => "room_not_found",
            Self::Room(RoomError::WrongPassword) => "invalid_room_password",
            Self::Room(RoomError::NotAMember) => "not_a_member",
            Self::Room(RoomError::DirectRoom) => "direct_room",
            Self::Room(RoomError::DirectWithSelf) => "direct_room_with_self",
            Self::Webhook(WebhookError::TooMany(_)) => "webhook_limit_reached",
            Self::Webhook(WebhookError::NotFound) => "webhook_not_found",
            Self::NotRoomOwner => "not_room_owner",
            Self::Room(RoomError::MessageNotFound) => "message_not_found",
            Self::Room(RoomError::NotTheAuthor) => "not_the_author",
            Self::Room(RoomError::NotAuthorOrOwner) => "not_author_or_owner",
            Self::Room(RoomError::MessageDeleted) => "message_deleted",
            Self::Room(RoomError::TooManyReactions) => "too_many_reactions",
            // The use case reads the facts again; one that reaches a client is contention.
            Self::Room(RoomError::StaleMessage) => "unavailable",
            Self::RateLimited(_) => "rate_limited",
            Self::StoreUnreachable(_) | Self::Contended => "unavailable",
            Self::StoreFault(_) | Self::EventVanished { .. } => "internal",
        }
    }
}

/// A query of a use case's own tables that failed: the database is taken to be out of reach.
pub(crate) fn unreachable_store(error: sqlx::Error) -> CommandError {
    CommandError::StoreUnreachable(PersistenceError::ConnectionError(Box::new(error)))
}

impl From<PersistenceError> for CommandError {
    fn from(error: PersistenceError) -> Self {
        match error {
            PersistenceError::ConnectionError(_) => Self::StoreUnreachable(error),
            // The executor retries conflicts itself; one that reaches us is contention.
            PersistenceError::OptimisticLockError => Self::Contended,
            PersistenceError::DeserializationError(_) | PersistenceError::UnknownError(_) => {
                Self::StoreFault(error)
            }
        }
    }
}

impl From<ExecuteError<UserError>> for CommandError {
    fn from(error: ExecuteError<UserError>) -> Self {
        Self::from_execution(error, Self::User)
    }
}

impl From<ExecuteError<WebhookError>> for CommandError {
    fn from(error: ExecuteError<WebhookError>) -> Self {
        Self::from_execution(error, Self::Webhook)
    }
}

impl From<ExecuteError<ReadError>> for CommandError {
    fn from(error: ExecuteError<ReadError>) -> Self {
        Self::from_execution(error, |never| match never {})
    }
}

impl CommandError {
    fn from_execution<E: std::error::Error>(
        error: ExecuteError<E>,
        refused_by_domain: impl FnOnce(E) -> Self,
    ) -> Self {
        match error {
            ExecuteError::Domain(error) => refused_by_domain(error),
            ExecuteError::Contended => Self::Contended,
            ExecuteError::Store(error) => error.into(),
            // Only a repeated send is refused by the store, and posting answers it with the
            // original; one that reaches here is a rule nothing expected.
            ExecuteError::Refused(reason) => {
                Self::StoreFault(PersistenceError::UnknownError(reason.into()))
            }
        }
    }
}

impl From<ExecuteError<RoomError>> for CommandError {
    fn from(error: ExecuteError<RoomError>) -> Self {
        Self::from_execution(error, Self::Room)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// What the executor answers when the aggregate refuses the command.
    fn refused<E: std::error::Error>(error: E) -> CommandError
    where
        CommandError: From<ExecuteError<E>>,
    {
        ExecuteError::Domain(error).into()
    }

    fn store(error: PersistenceError) -> CommandError {
        ExecuteError::<RoomError>::Store(error).into()
    }

    #[test]
    fn every_refusal_keeps_the_code_clients_branch_on() {
        let codes = [
            (
                CommandError::Invalid(InvalidValue("x".into())),
                "invalid_input",
            ),
            (CommandError::WrongCredentials, "invalid_credentials"),
            (refused(UserError::UsernameTaken), "username_taken"),
            (refused(RoomError::NameTaken), "room_name_taken"),
            (
                refused(RoomError::PrivateRoomRequiresPassword),
                "private_room_requires_password",
            ),
            (refused(RoomError::NotFound), "room_not_found"),
            (refused(RoomError::WrongPassword), "invalid_room_password"),
            (refused(RoomError::NotAMember), "not_a_member"),
            (refused(RoomError::DirectRoom), "direct_room"),
            (refused(RoomError::DirectWithSelf), "direct_room_with_self"),
            (refused(WebhookError::TooMany(3)), "webhook_limit_reached"),
            (refused(WebhookError::NotFound), "webhook_not_found"),
            (CommandError::NotRoomOwner, "not_room_owner"),
            (
                RateLimited {
                    retry_after: Duration::from_secs(1),
                }
                .into(),
                "rate_limited",
            ),
        ];
        for (error, code) in codes {
            assert_eq!(error.code(), code, "{error:?}");
        }
    }

    #[test]
    fn a_database_that_is_down_is_unavailable_and_a_fault_of_ours_is_internal() {
        let down = store(PersistenceError::ConnectionError(Box::new(
            sqlx::Error::PoolTimedOut,
        )));
        assert_eq!(down.code(), "unavailable");
        let contended: CommandError = ExecuteError::<RoomError>::Contended.into();
        assert_eq!(contended.code(), "unavailable");
        let corrupt = store(PersistenceError::DeserializationError("bad json".into()));
        assert_eq!(corrupt.code(), "internal");
        let stopped = store(PersistenceError::UnknownError("worker stopped".into()));
        assert_eq!(stopped.code(), "internal");
        let vanished = CommandError::EventVanished {
            room_id: Uuid::nil(),
            seq: 3,
        };
        assert_eq!(vanished.code(), "internal");
    }

    #[test]
    fn a_store_failure_keeps_its_cause() {
        let error = store(PersistenceError::ConnectionError(Box::new(
            sqlx::Error::PoolTimedOut,
        )));
        let cause = std::error::Error::source(&error).expect("a source");
        assert_eq!(cause.to_string(), sqlx::Error::PoolTimedOut.to_string());
    }
}
