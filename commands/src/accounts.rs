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
/// strings: every attempt counts against its address's limit before anything is validated, and
/// every failed login against the username's, so neither one address nor one name can be used
/// to guess at speed, valid input or not.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub username: &'a str,
    pub password: &'a str,
    /// Where the attempt came from, as limits count it (`ClientAddress::limit_key`).
    pub address: IpAddr,
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
        self.limit_address(&attempt)?;
        let username = Username::parse(attempt.username)?;
        let password = Password::parse(attempt.password)?;
        let user_id = username.user_id();
        let command = UserCommand::Register {
            username,
            password_hash: self.passwords.hash(password.expose()).await,
            at: eventstore::now(),
        };
        let metadata = CommandMetadata::by(user_id, request_id);
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

    /// Checks the credentials against the user's registration and issues a token. The address's
    /// limit is checked first and counts every attempt; the username's counts failures only, so
    /// an attacker elsewhere cannot use up a user's own logins, and is stopped by the address
    /// limit before charging any name. An unknown name costs one password verification like a
    /// known one, so how long the answer takes tells nobody which names exist.
    pub async fn login(&self, attempt: Attempt<'_>) -> Result<LoggedIn, CommandError> {
        self.limit_address(&attempt)?;
        let failures_key = username_key(attempt.username);
        self.login_failures.check(&failures_key)?;
        // Before the user is read: a revocation committed after this reading has a later
        // cut-off, so the token stamped with it is revoked, however long the check takes.
        let read_at_ms = chrono::Utc::now().timestamp_millis();
        let user = match Username::parse(attempt.username) {
            Ok(username) => Some(self.users.load(&username.user_id().to_string()).await?),
            Err(_) => None,
        };
        // A bot has no password: it never logs in, it uses its token.
        let registration = user
            .as_ref()
            .and_then(User::registration)
            .filter(|registration| !registration.is_bot());
        let verified = match registration {
            Some(registration) => {
                self.passwords
                    .verify(attempt.password, &registration.password_hash)
                    .await
            }
            None => self.passwords.verify_for_nobody(attempt.password).await,
        };
        let (Some(user), Some(registration), true) = (&user, registration, verified) else {
            self.login_failures.record_failure(&failures_key);
            return Err(CommandError::WrongCredentials);
        };
        Ok(LoggedIn {
            user_id: registration.user_id,
            username: registration.username.clone(),
            access_token: self.tokens.issue(
                registration.user_id,
                &registration.username,
                read_at_ms.max(user.tokens_valid_from_ms()),
            ),
        })
    }

    /// Refuses while `username` has used up its failed logins.
    pub(crate) fn check_login_failures(&self, username: &str) -> Result<(), CommandError> {
        Ok(self.login_failures.check(&username_key(username))?)
    }

    /// Counts a wrong password given for `username` against its limit.
    pub(crate) fn record_login_failure(&self, username: &str) {
        self.login_failures.record_failure(&username_key(username));
    }

    fn limit_address(&self, attempt: &Attempt<'_>) -> Result<(), CommandError> {
        Ok(self.address_limit.check(&attempt.address.to_string())?)
    }
}

/// One key per name whatever its case or form, valid or not.
fn username_key(username: &str) -> String {
    normalise(username)
}
