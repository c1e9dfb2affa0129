use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{UserCommand, UserEvent, UserRole};

/// How long after a revocation's decision its commit may become visible, at most, for the
/// revocation to still catch the logins that read the user before it (see `User::cut_off_at`).
/// Tokens issued after the revocation are stamped no earlier than its cut-off, so the margin
/// refuses nobody.
pub const CUT_OFF_MARGIN_MS: i64 = 5_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("Username already registered")]
    UsernameTaken,
    #[error("No such user")]
    NotRegistered,
    /// The password changed between the check of the current one and the change.
    #[error("Incorrect current password")]
    WrongPassword,
    #[error("Only auditors may read the audit log")]
    NotAnAuditor,
    #[error("Bot not found")]
    BotNotFound,
}

/// What the system knows about one user: enough to log in, to tell which tokens still count and
/// what the user may do.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct User {
    registered: Option<Registration>,
    /// Tokens issued (`iat_ms`) before this instant, in milliseconds, are no longer accepted.
    #[serde(default)]
    tokens_valid_from_ms: i64,
    #[serde(default)]
    roles: BTreeSet<UserRole>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Registration {
    pub user_id: Uuid,
    pub username: String,
    /// Empty for a bot, which has no password and never logs in.
    pub password_hash: String,
    pub registered_at: DateTime<Utc>,
    /// The user who created this bot account; none for a person.
    #[serde(default)]
    pub bot_owner: Option<Uuid>,
}

impl Registration {
    pub fn is_bot(&self) -> bool {
        self.bot_owner.is_some()
    }
}

impl User {
    /// The registration, or `None` for a name nobody has registered.
    pub fn registration(&self) -> Option<&Registration> {
        self.registered.as_ref()
    }

    /// The earliest issue stamp (`iat_ms`) of a token that still counts: a token issued for
    /// this user must carry at least this, so that a login just after a password change is never
    /// taken for one from before it.
    pub fn tokens_valid_from_ms(&self) -> i64 {
        self.tokens_valid_from_ms
    }

    /// A bot account that was revoked: it can do nothing any more.
    pub fn is_revoked_bot(&self) -> bool {
        self.registered.as_ref().is_some_and(Registration::is_bot)
            && self.tokens_valid_from_ms == i64::MAX
    }

    pub fn has_role(&self, role: UserRole) -> bool {
        self.roles.contains(&role)
    }

    /// The cut-off that revokes every token issued up to `at`, including those issued in its
    /// very millisecond, and never moves back. It lies [`CUT_OFF_MARGIN_MS`] past `at`: a login
    /// that read the user before this change was committed stamps its token with the time of
    /// that read, which may come after `at` by as long as the commit took.
    fn cut_off_at(&self, at: DateTime<Utc>) -> i64 {
        self.tokens_valid_from_ms
            .max(at.timestamp_millis() + 1 + CUT_OFF_MARGIN_MS)
    }
}

impl Aggregate for User {
    const TYPE: &'static str = "User";
    type Command = UserCommand;
    type Event = UserEvent;
    type Error = UserError;
    type Services = ();

    async fn handle(
        &mut self,
        command: UserCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), UserError> {
        if let UserCommand::Register {
            username,
            password_hash,
            at,
        } = command
        {
            if self.registered.is_some() {
                return Err(UserError::UsernameTaken);
            }
            let event = UserEvent::UserRegistered {
                user_id: username.user_id(),
                username: username.to_string(),
                password_hash,
                registered_at: at,
            };
            sink.write(event, self).await;
            return Ok(());
        }
        if let UserCommand::RegisterBot {
            username,
            owner_id,
            at,
        } = command
        {
            if self.registered.is_some() {
                return Err(UserError::UsernameTaken);
            }
            let event = UserEvent::BotRegistered {
                user_id: username.user_id(),
                username: username.to_string(),
                owner_id,
                registered_at: at,
            };
            sink.write(event, self).await;
            return Ok(());
        }
        let registration = self.registered.as_ref().ok_or(UserError::NotRegistered)?;
        let event = match command {
            UserCommand::Register { .. } | UserCommand::RegisterBot { .. } => {
                unreachable!("handled above")
            }
            UserCommand::RevokeBot { owner_id, at } => {
                // Someone else's bot, a person, or a bot already revoked: none of theirs to revoke.
                if registration.bot_owner != Some(owner_id) || self.tokens_valid_from_ms == i64::MAX
                {
                    return Err(UserError::BotNotFound);
                }
                UserEvent::BotRevoked {
                    tokens_valid_from_ms: i64::MAX,
                    revoked_at: at,
                }
            }
            UserCommand::ChangePassword {
                matched_hash,
                new_password_hash,
                at,
            } => {
                if registration.password_hash != matched_hash {
                    return Err(UserError::WrongPassword);
                }
                UserEvent::PasswordChanged {
                    password_hash: new_password_hash,
                    tokens_valid_from_ms: self.cut_off_at(at),
                    changed_at: at,
                }
            }
            UserCommand::RevokeToken {
                token_id,
                expires_at,
                at,
            } => UserEvent::TokenRevoked {
                token_id,
                expires_at,
                revoked_at: at,
            },
            UserCommand::RevokeAllTokens { at } => UserEvent::AllTokensRevoked {
                tokens_valid_from_ms: self.cut_off_at(at),
                revoked_at: at,
            },
            UserCommand::GrantRole { role, at } => {
                if self.has_role(role) {
                    return Ok(());
                }
                UserEvent::RoleGranted {
                    role,
                    granted_at: at,
                }
            }
            UserCommand::RevokeRole { role, at } => {
                if !self.has_role(role) {
                    return Ok(());
                }
                UserEvent::RoleRevoked {
                    role,
                    revoked_at: at,
                }
            }
            UserCommand::RecordAuditRead { resource, at } => {
                if !self.has_role(UserRole::Auditor) {
                    return Err(UserError::NotAnAuditor);
                }
                UserEvent::AuditLogRead {
                    resource,
                    read_at: at,
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: UserEvent) {
        match event {
            UserEvent::UserRegistered {
                user_id,
                username,
                password_hash,
                registered_at,
            } => {
                self.registered = Some(Registration {
                    user_id,
                    username,
                    password_hash,
                    registered_at,
                    bot_owner: None,
                });
            }
            UserEvent::BotRegistered {
                user_id,
                username,
                owner_id,
                registered_at,
            } => {
                self.registered = Some(Registration {
                    user_id,
                    username,
                    password_hash: String::new(),
                    registered_at,
                    bot_owner: Some(owner_id),
                });
            }
            UserEvent::BotRevoked {
                tokens_valid_from_ms,
                ..
            } => {
                self.tokens_valid_from_ms = self.tokens_valid_from_ms.max(tokens_valid_from_ms);
            }
            UserEvent::PasswordChanged {
                password_hash,
                tokens_valid_from_ms,
                ..
            } => {
                if let Some(registration) = &mut self.registered {
                    registration.password_hash = password_hash;
                }
                self.tokens_valid_from_ms = self.tokens_valid_from_ms.max(tokens_valid_from_ms);
            }
            UserEvent::AllTokensRevoked {
                tokens_valid_from_ms,
                ..
            } => {
                self.tokens_valid_from_ms = self.tokens_valid_from_ms.max(tokens_valid_from_ms);
            }
            UserEvent::RoleGranted { role, .. } => {
                self.roles.insert(role);
            }
            UserEvent::RoleRevoked { role, .. } => {
                self.roles.remove(&role);
            }
            // Kept by the revocation list and the audit trail, not needed to decide anything.
            UserEvent::TokenRevoked { .. } | UserEvent::AuditLogRead { .. } => {}
        }
    }
}
