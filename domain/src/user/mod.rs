//! A registered user: their credentials, which of their tokens still count, the roles an
//! operator gave them, and what they read of the audit log. Its id is derived from the username,
//! so registration needs no lookup table.

mod aggregate;
mod commands;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::{Registration, User, UserError, CUT_OFF_MARGIN_MS};
pub use commands::UserCommand;
pub use events::UserEvent;

use serde::{Deserialize, Serialize};

/// What an operator can make a user, beyond a member of rooms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserRole {
    /// Reads the raw event log at `/audit/…`; every such read is recorded.
    Auditor,
}

impl UserRole {
    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Auditor => "auditor",
        }
    }
}

impl std::str::FromStr for UserRole {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        match name {
            "auditor" => Ok(UserRole::Auditor),
            other => Err(format!("unknown role {other:?}: the one role is auditor")),
        }
    }
}
