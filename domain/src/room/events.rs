use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Member,
}

/// Event names and fields are a public, versioned contract: never rename, add a version instead.
/// Password hashes travel in `RoomCreated` but never leave the server (audits redact them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RoomEvent {
    RoomCreated {
        room_id: Uuid,
        name: String,
        is_private: bool,
        password_hash: Option<String>,
        created_by: Uuid,
        created_at: DateTime<Utc>,
    },
    MemberJoined {
        user_id: Uuid,
        username: String,
        role: Role,
        joined_at: DateTime<Utc>,
    },
    MemberLeft {
        user_id: Uuid,
        username: String,
        left_at: DateTime<Utc>,
    },
    MemberRoleChanged {
        user_id: Uuid,
        username: String,
        role: Role,
        changed_at: DateTime<Utc>,
    },
    MessagePosted(MessagePosted),
}

/// A message as its room recorded it. A struct of its own, stored exactly like the other
/// variants' fields (`{"MessagePosted": {...}}`), because every reader of the log (the socket
/// frames, the projection, the post's answer) takes the whole of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagePosted {
    pub message_id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub content: String,
    pub client_msg_id: Option<String>,
    pub posted_at: DateTime<Utc>,
    /// Posted by a bot account. Messages recorded before bots existed lack the field: a person's.
    #[serde(default)]
    pub is_bot: bool,
}

/// Every type of room event, by the name it is stored and routed under.
pub const EVENT_TYPES: [&str; 5] = [
    "RoomCreated",
    "MemberJoined",
    "MemberLeft",
    "MemberRoleChanged",
    "MessagePosted",
];

impl DomainEvent for RoomEvent {
    fn event_type(&self) -> String {
        match self {
            RoomEvent::RoomCreated { .. } => "RoomCreated",
            RoomEvent::MemberJoined { .. } => "MemberJoined",
            RoomEvent::MemberLeft { .. } => "MemberLeft",
            RoomEvent::MemberRoleChanged { .. } => "MemberRoleChanged",
            RoomEvent::MessagePosted(_) => "MessagePosted",
        }
        .into()
    }

    fn event_version(&self) -> String {
        "1".into()
    }
}
