use chrono::{DateTime, Utc};

use crate::values::Username;

#[derive(Debug, Clone)]
pub enum UserCommand {
    /// The password arrives already hashed: hashing is slow and belongs outside the aggregate.
    Register {
        username: Username,
        password_hash: String,
        at: DateTime<Utc>,
    },
}
