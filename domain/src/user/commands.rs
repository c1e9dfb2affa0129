use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::UserRole;
use crate::values::Username;

#[derive(Debug, Clone)]
pub enum UserCommand {
    /// The password arrives already hashed: hashing is slow and belongs outside the aggregate.
    Register {
        username: Username,
        password_hash: String,
        at: DateTime<Utc>,
    },
    /// A bot account named `username` (already `<name>.bot`) for the user `owner_id`.
    RegisterBot {
        username: Username,
        owner_id: Uuid,
        at: DateTime<Utc>,
    },
    /// The bot's owner revokes it; anyone else is told there is no such bot.
    RevokeBot { owner_id: Uuid, at: DateTime<Utc> },
    /// The current password was checked outside (bcrypt is slow) against `matched_hash`: the
    /// change is accepted only while that is still the password, so of two concurrent changes
    /// made with the same old password only the first wins.
    ChangePassword {
        matched_hash: String,
        new_password_hash: String,
        at: DateTime<Utc>,
    },
    /// Logs one token out: it is refused from now until it would have expired anyway.
    RevokeToken {
        token_id: Uuid,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// Logs every token issued so far out.
    RevokeAllTokens { at: DateTime<Utc> },
    /// An operator makes the user `role` (nothing happens if they already are).
    GrantRole { role: UserRole, at: DateTime<Utc> },
    /// An operator takes `role` away (nothing happens if they do not have it).
    RevokeRole { role: UserRole, at: DateTime<Utc> },
    /// An auditor reads `resource` of the audit log; refused to anyone else, so that no audit
    /// read is served that is not on record.
    RecordAuditRead { resource: String, at: DateTime<Utc> },
}
