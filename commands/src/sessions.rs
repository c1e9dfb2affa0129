//! Logging tokens out and changing passwords: events on the user's aggregate that a trigger turns
//! into revocations every process learns of at once (see `auth::revocations`).

use auth::Claims;
use chrono::{DateTime, Utc};
use domain::values::Password;
use domain::{User, UserCommand, UserError, UserEvent};
use eventstore::{CommandMetadata, EventEnvelope};
use uuid::Uuid;

use crate::{CommandError, Commands};

/// A password change as it arrived, for the holder of the token `claims` came from.
#[derive(Debug, Clone, Copy)]
pub struct PasswordChange<'a> {
    pub current_password: &'a str,
    pub new_password: &'a str,
}

impl Commands {
    /// Logs out the token `claims` came from; the user's other tokens keep working.
    pub async fn log_out(
        &self,
        claims: &Claims,
        request_id: Option<String>,
    ) -> Result<(), CommandError> {
        let expires_at =
            DateTime::<Utc>::from_timestamp(claims.exp, 0).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let command = UserCommand::RevokeToken {
            token_id: claims.jti,
            expires_at,
            at: eventstore::now(),
        };
        self.revoke(claims, command, request_id).await
    }

    /// Logs out every token of the user issued so far, this one included.
    pub async fn log_out_everywhere(
        &self,
        claims: &Claims,
        request_id: Option<String>,
    ) -> Result<(), CommandError> {
        let command = UserCommand::RevokeAllTokens {
            at: eventstore::now(),
        };
        self.revoke(claims, command, request_id).await
    }

    /// Records `command`, a revocation by the holder of `claims`, and refuses what it revoked.
    async fn revoke(
        &self,
        claims: &Claims,
        command: UserCommand,
        request_id: Option<String>,
    ) -> Result<(), CommandError> {
        let events = self
            .users
            .execute(
                &claims.uid.to_string(),
                command,
                &session_metadata(claims, request_id),
            )
            .await?;
        self.refuse_at_once(claims.uid, &events);
        Ok(())
    }

    /// Changes the password of the token's holder, who must know the current one, logs out every
    /// token issued before, and answers a fresh token. A wrong current password counts against
    /// the user's login limit, so a stolen token cannot be used to guess it at speed.
    pub async fn change_password(
        &self,
        claims: &Claims,
        change: PasswordChange<'_>,
        request_id: Option<String>,
    ) -> Result<String, CommandError> {
        let new_password = Password::parse(change.new_password)?;
        let user_id = claims.uid.to_string();
        let user = self.users.load(&user_id).await?;
        let registration = user
            .registration()
            .ok_or(CommandError::User(UserError::NotRegistered))?;
        let matched_hash = registration.password_hash.clone();
        self.check_login_failures(&registration.username)?;
        if !self
            .passwords
            .verify(change.current_password, &matched_hash)
            .await
        {
            self.record_login_failure(&registration.username);
            return Err(CommandError::User(UserError::WrongPassword));
        }
        let command = UserCommand::ChangePassword {
            matched_hash,
            new_password_hash: self.passwords.hash(new_password.expose()).await,
            at: eventstore::now(),
        };
        let events = self
            .users
            .execute(&user_id, command, &session_metadata(claims, request_id))
            .await?;
        self.refuse_at_once(claims.uid, &events);
        let Some(UserEvent::PasswordChanged {
            tokens_valid_from_ms,
            ..
        }) = events.first().map(|event| &event.payload)
        else {
            unreachable!("a password change that succeeded recorded PasswordChanged");
        };
        let username = &registration.username;
        Ok(self
            .tokens
            .issue(claims.uid, username, *tokens_valid_from_ms))
    }

    /// Makes this process refuse at once the tokens `events`, just recorded on user `user_id`,
    /// revoke: the other processes refuse them when the notification reaches them, and until it
    /// reaches this one the holder's next request would still be let in.
    pub(crate) fn refuse_at_once(&self, user_id: Uuid, events: &[EventEnvelope<User>]) {
        let revocations = self.tokens.revocations();
        for event in events {
            match &event.payload {
                UserEvent::TokenRevoked {
                    token_id,
                    expires_at,
                    ..
                } => revocations.revoke_token(*token_id, expires_at.timestamp()),
                UserEvent::AllTokensRevoked {
                    tokens_valid_from_ms,
                    ..
                }
                | UserEvent::PasswordChanged {
                    tokens_valid_from_ms,
                    ..
                }
                | UserEvent::BotRevoked {
                    tokens_valid_from_ms,
                    ..
                } => revocations.revoke_issued_before(user_id, *tokens_valid_from_ms),
                _ => {}
            }
        }
    }
}

fn session_metadata(claims: &Claims, request_id: Option<String>) -> CommandMetadata {
    CommandMetadata::by(claims.uid, request_id)
}
