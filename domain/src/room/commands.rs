use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::values::{ClientMsgId, Emoji, MessageBody, RoomName};

use super::KnownMessage;

/// The user a command acts for, as the (already verified) token names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Uuid,
    pub username: String,
    /// A bot account acts: its messages say so.
    pub is_bot: bool,
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
    /// Opens the one direct room of two people, whose id [`direct_room_id`] derives from theirs;
    /// opening it again, from either side, records nothing.
    ///
    /// [`direct_room_id`]: super::direct_room_id
    OpenDirect {
        opener: Actor,
        other: Actor,
        at: DateTime<Utc>,
    },
    /// Joining again is not an error and records nothing; a private room admits someone who is
    /// not a member yet only when their password was verified, before the command was queued,
    /// against the room's current password hash (see [`Room::password_hash_to_join`]).
    ///
    /// [`Room::password_hash_to_join`]: super::Room::password_hash_to_join
    Join {
        member: Actor,
        /// The hash the given password matched; none when none was needed or given.
        password_verified_for: Option<String>,
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
        /// A message of this room, checked by the use case (a message, once posted, stays).
        reply_to: Option<Uuid>,
        at: DateTime<Utc>,
    },
    /// The commands on a posted message carry what the use case read of it (see
    /// [`KnownMessage`]): the room keeps only the messages changed lately.
    EditMessage {
        editor: Actor,
        message: KnownMessage,
        body: MessageBody,
        at: DateTime<Utc>,
    },
    /// Deleting a deleted message records nothing.
    DeleteMessage {
        deleter: Actor,
        message: KnownMessage,
        at: DateTime<Utc>,
    },
    /// Reacting twice with one emoji records nothing, nor does taking back a reaction not given.
    React {
        reactor: Actor,
        message: KnownMessage,
        emoji: Emoji,
        at: DateTime<Utc>,
    },
    Unreact {
        reactor: Actor,
        message: KnownMessage,
        emoji: Emoji,
        at: DateTime<Utc>,
    },
}
