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

/// What a room is for: a named room anyone may find, or the one direct room of two people.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    #[default]
    Room,
    /// Private to its two members, who can neither leave it nor be joined by anyone.
    Direct,
}

impl RoomKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoomKind::Room => "room",
            RoomKind::Direct => "direct",
        }
    }
}

/// Event names and fields are a public, versioned contract: never rename, add a version instead.
/// Password hashes travel in `RoomCreated` but never leave the server (audits redact them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RoomEvent {
    /// Version 2 added `kind`; version 1 is read through [`upcast`] as a `room`.
    ///
    /// [`upcast`]: super::upcast
    RoomCreated {
        room_id: Uuid,
        name: String,
        is_private: bool,
        password_hash: Option<String>,
        created_by: Uuid,
        created_at: DateTime<Utc>,
        #[serde(default = "super::upcast::room_created_v1_kind")]
        kind: RoomKind,
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
    /// Its author changed a message's text; mentions are those of the new text.
    MessageEdited {
        message_id: Uuid,
        user_id: Uuid,
        username: String,
        content: String,
        mentions: Vec<Mention>,
        edited_at: DateTime<Utc>,
    },
    /// Its author or the room's owner (`user_id`) deleted a message. The log keeps what it said;
    /// every reader but an auditor shows it as deleted, without its text or reactions.
    MessageDeleted {
        message_id: Uuid,
        user_id: Uuid,
        username: String,
        deleted_at: DateTime<Utc>,
    },
    ReactionAdded {
        message_id: Uuid,
        emoji: String,
        user_id: Uuid,
        username: String,
        reacted_at: DateTime<Utc>,
    },
    ReactionRemoved {
        message_id: Uuid,
        emoji: String,
        user_id: Uuid,
        username: String,
        removed_at: DateTime<Utc>,
    },
}

/// A message as its room recorded it. A struct of its own, stored exactly like the other
/// variants' fields (`{"MessagePosted": {...}}`), because every reader of the log (the socket
/// frames, the projection, the post's answer) takes the whole of it.
///
/// Version 2 added `reply_to` and `mentions`; version 1 is read through [`upcast`], so every
/// reader of the log sees the current shape.
///
/// [`upcast`]: super::upcast
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "super::upcast::StoredMessagePosted")]
pub struct MessagePosted {
    pub message_id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub content: String,
    pub client_msg_id: Option<String>,
    pub posted_at: DateTime<Utc>,
    /// Posted by a bot account (messages recorded before bots existed lack it: a person's).
    pub is_bot: bool,
    /// The message of the same room this one answers.
    pub reply_to: Option<Uuid>,
    /// Members named as `@username` in `content`, in order of first mention.
    pub mentions: Vec<Mention>,
}

/// A member a message names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    pub user_id: Uuid,
    pub username: String,
}

impl RoomEvent {
    /// The message an event changes, for the events that change one after it was posted.
    pub fn changed_message(&self) -> Option<Uuid> {
        match self {
            RoomEvent::MessageEdited { message_id, .. }
            | RoomEvent::MessageDeleted { message_id, .. }
            | RoomEvent::ReactionAdded { message_id, .. }
            | RoomEvent::ReactionRemoved { message_id, .. } => Some(*message_id),
            _ => None,
        }
    }
}

/// Every type of room event, by the name it is stored and routed under.
pub const EVENT_TYPES: [&str; 9] = [
    "RoomCreated",
    "MemberJoined",
    "MemberLeft",
    "MemberRoleChanged",
    "MessagePosted",
    "MessageEdited",
    "MessageDeleted",
    "ReactionAdded",
    "ReactionRemoved",
];

impl DomainEvent for RoomEvent {
    fn event_type(&self) -> String {
        match self {
            RoomEvent::RoomCreated { .. } => "RoomCreated",
            RoomEvent::MemberJoined { .. } => "MemberJoined",
            RoomEvent::MemberLeft { .. } => "MemberLeft",
            RoomEvent::MemberRoleChanged { .. } => "MemberRoleChanged",
            RoomEvent::MessagePosted(_) => "MessagePosted",
            RoomEvent::MessageEdited { .. } => "MessageEdited",
            RoomEvent::MessageDeleted { .. } => "MessageDeleted",
            RoomEvent::ReactionAdded { .. } => "ReactionAdded",
            RoomEvent::ReactionRemoved { .. } => "ReactionRemoved",
        }
        .into()
    }

    fn event_version(&self) -> String {
        match self {
            RoomEvent::MessagePosted(_) => super::upcast::MESSAGE_POSTED_VERSION,
            RoomEvent::RoomCreated { .. } => super::upcast::ROOM_CREATED_VERSION,
            _ => "1",
        }
        .into()
    }
}
