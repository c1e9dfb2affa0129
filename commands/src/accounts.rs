//! Registration and login.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use domain::values::{normalise, Password, Username};
use domain::{User, UserCommand, UserEvent};
use eventstore::CommandMetadata;
use uuid::Uuid;

use crate::{CommandError, Commands, Projected};

/// A registration or login as it arrived. Unlike the other use cases these take the raw
/// strings: every attempt counts against the limits before anything is validated, so neither
/// one name nor one address can be used to guess at speed, valid input or not.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub username: &'a str,
    pub password: &'a str,
    /// Where the attempt came from: attempts are limited per address too.
    pub peer: IpAddr,
}

/// A registered user, as the committed `UserRegistered` event records them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub user_id: Uuid,
    pub username: String,
    pub registered_at: DateTime<Utc>,
}

/// A successful login: the user and a bearer token for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedIn {
    pub user_id: Uuid,
    pub username: String,
    pub access_token: String,
}

impl Commands {
    /// Registers a user; answers once the projection shows them.
    pub async fn register(
        &self,
        attempt: Attempt<'_>,
        request_id: Option<String>,
    ) -> Result<Projected<Registered>, CommandError> {
        self.limit_attempts(&attempt)?;
        let username = Username::parse(attempt.username)?;
        let password = Password::parse(attempt.password)?;
        let user_id = username.user_id();
        let command = UserCommand::Register {
            username,
            password_hash: self.passwords.hash(password.expose()).await,
            at: eventstore::now(),
        };
        let metadata = CommandMetadata {
            user_id: Some(user_id),
            request_id,
            client_msg_id: None,
        };
        let aggregate_id = user_id.to_string();
        let events = self
            .users
            .execute(&aggregate_id, command, &metadata)
            .await?;
        let UserEvent::UserRegistered {
            user_id,
            username,
            registered_at,
            ..
        } = &events[0].payload
        else {
            unreachable!("a registration that succeeded recorded UserRegistered");
        };
        let registered = Registered {
            user_id: *user_id,
            username: username.clone(),
            registered_at: *registered_at,
        };
        let sequence = events.last().map_or(0, |event| event.sequence);
        Ok(self
            .after_projection(User::TYPE, &aggregate_id, sequence, registered)
            .await)
    }

    /// Checks the credentials against the user's registration and issues a token.
    pub async fn login(&self, attempt: Attempt<'_>) -> Result<LoggedIn, CommandError> {
        self.limit_attempts(&attempt)?;
        let username =
            Username::parse(attempt.username).map_err(|_| CommandError::WrongCredentials)?;
        let user = self.users.load(&username.user_id().to_string()).await?;
        let registration = user.registration().ok_or(CommandError::WrongCredentials)?;
        if !self
            .passwords
            .verify(attempt.password, &registration.password_hash)
            .await
        {
            return Err(CommandError::WrongCredentials);
        }
        Ok(LoggedIn {
            user_id: registration.user_id,
            username: registration.username.clone(),
            access_token: self.tokens.issue(
                registration.user_id,
                &registration.username,
                user.tokens_valid_from_ms(),
            ),
        })
    }

    /// Counts a wrong password given for `username` against its limit.
    pub(crate) fn charge_failed_login(&self, username: &str) -> Result<(), CommandError> {
        self.login_limit
            .check(&format!("user:{}", normalise(username)))?;
        Ok(())
    }

    fn limit_attempts(&self, attempt: &Attempt<'_>) -> Result<(), CommandError> {
        self.login_limit
            .check(&format!("user:{}", normalise(attempt.username)))?;
        self.login_limit.check(&format!("addr:{}", attempt.peer))?;
        Ok(())
    }
}
