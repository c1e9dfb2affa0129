use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::UserRole;

/// Event names and fields are a public, versioned contract: never rename, add a version instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum UserEvent {
    UserRegistered {
        user_id: Uuid,
        username: String,
        password_hash: String,
        registered_at: DateTime<Utc>,
    },
    /// Also logs out every token issued before: only tokens whose `iat_ms` is at least
    /// `tokens_valid_from_ms` (milliseconds since the epoch) are accepted from now on.
    PasswordChanged {
        password_hash: String,
        tokens_valid_from_ms: i64,
        changed_at: DateTime<Utc>,
    },
    /// One token (its `jti`) logged out; remembered until it would have expired.
    TokenRevoked {
        token_id: Uuid,
        expires_at: DateTime<Utc>,
        revoked_at: DateTime<Utc>,
    },
    /// Every token issued before logged out, as after a password change.
    AllTokensRevoked {
        tokens_valid_from_ms: i64,
        revoked_at: DateTime<Utc>,
    },
    RoleGranted {
        role: UserRole,
        granted_at: DateTime<Utc>,
    },
    RoleRevoked {
        role: UserRole,
        revoked_at: DateTime<Utc>,
    },
    /// A bot account, created by `owner_id`. Its token is never part of the event: only a hash
    /// of it is kept, outside the log, and only until the bot is revoked.
    BotRegistered {
        user_id: Uuid,
        username: String,
        owner_id: Uuid,
        registered_at: DateTime<Utc>,
    },
    /// The bot's owner revoked it: its token stops working for good, like every token issued
    /// before `tokens_valid_from_ms` (which is `i64::MAX`).
    BotRevoked {
        tokens_valid_from_ms: i64,
        revoked_at: DateTime<Utc>,
    },
    /// An auditor read part of the audit log: `resource` is the path and query they asked for.
    AuditLogRead {
        resource: String,
        read_at: DateTime<Utc>,
    },
}

impl DomainEvent for UserEvent {
    fn event_type(&self) -> String {
        match self {
            UserEvent::UserRegistered { .. } => "UserRegistered",
            UserEvent::PasswordChanged { .. } => "PasswordChanged",
            UserEvent::TokenRevoked { .. } => "TokenRevoked",
            UserEvent::AllTokensRevoked { .. } => "AllTokensRevoked",
            UserEvent::RoleGranted { .. } => "RoleGranted",
            UserEvent::RoleRevoked { .. } => "RoleRevoked",
            UserEvent::AuditLogRead { .. } => "AuditLogRead",
            UserEvent::BotRegistered { .. } => "BotRegistered",
            UserEvent::BotRevoked { .. } => "BotRevoked",
        }
        .into()
    }

    fn event_version(&self) -> String {
        "1".into()
    }
}
