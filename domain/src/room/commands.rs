use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::values::{ClientMsgId, MessageBody, RoomName};

/// The user a command acts for, as the (already verified) token names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Uuid,
    pub username: String,
}

#[derive(Debug, Clone)]
pub enum RoomCommand {
    /// A private room needs a password; it arrives hashed, since hashing is slow.
    Create {
        name: RoomName,
        is_private: bool,
        password_hash: Option<String>,
        creator: Actor,
        at: DateTime<Utc>,
    },
    /// Joining again is not an error and records nothing; the password is checked only for
    /// someone who is not a member yet.
    Join {
        member: Actor,
        password: Option<String>,
        at: DateTime<Utc>,
    },
    Leave {
        member: Actor,
        at: DateTime<Utc>,
    },
    /// A `client_msg_id` the sender already used in this room posts nothing: the original stands.
    PostMessage {
        sender: Actor,
        message_id: Uuid,
        body: MessageBody,
        client_msg_id: Option<ClientMsgId>,
        at: DateTime<Utc>,
    },
}
