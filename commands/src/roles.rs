//! Roles an operator grants (`chat role grant auditor <username>`), and the record of every read
//! of the audit log, both events on the user's aggregate.

use domain::values::Username;
use domain::{User, UserCommand, UserError, UserRole};
use eventstore::{CommandExecutor, CommandMetadata};
use sqlx::PgPool;

use crate::{CommandError, Commands};

/// What a grant or revocation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleChange {
    Granted,
    Revoked,
    /// The user already had, or already lacked, the role: nothing was recorded.
    Unchanged,
}

/// Grants (`grant`) or takes away `role` of the user named `username`, as an operator: the
/// command line's use case, which needs no server running. The event reaches the bus when a
/// writing role's relay next runs.
pub async fn change_role(
    pool: PgPool,
    username: &str,
    role: UserRole,
    grant: bool,
) -> Result<RoleChange, CommandError> {
    let username = Username::parse(username)?;
    let at = eventstore::now();
    let command = if grant {
        UserCommand::GrantRole { role, at }
    } else {
        UserCommand::RevokeRole { role, at }
    };
    let users = CommandExecutor::<User>::new(pool, ());
    let events = users
        .execute(
            &username.user_id().to_string(),
            command,
            &CommandMetadata::default(),
        )
        .await?;
    Ok(match (events.is_empty(), grant) {
        (true, _) => RoleChange::Unchanged,
        (false, true) => RoleChange::Granted,
        (false, false) => RoleChange::Revoked,
    })
}

impl Commands {
    /// Records that `user_id` reads `resource` of the audit log, if they are an auditor: the
    /// read may be served only once this answers `Ok` (anyone else gets
    /// [`UserError::NotAnAuditor`]). Decided by the user's aggregate, so a role revoked on
    /// another node counts at once.
    pub async fn record_audit_read(
        &self,
        user_id: uuid::Uuid,
        resource: &str,
        request_id: Option<String>,
    ) -> Result<(), CommandError> {
        let command = UserCommand::RecordAuditRead {
            resource: resource.to_owned(),
            at: eventstore::now(),
        };
        let metadata = CommandMetadata::by(user_id, request_id);
        let recorded = self
            .users
            .execute(&user_id.to_string(), command, &metadata)
            .await
            .map_err(CommandError::from);
        match recorded {
            Err(CommandError::User(UserError::NotRegistered)) => {
                Err(CommandError::User(UserError::NotAnAuditor))
            }
            outcome => outcome.map(|_| ()),
        }
    }
}
