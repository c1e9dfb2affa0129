use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::messages::{mentions_in, ChangedMessages};
use super::{Actor, MessagePosted, Role, RoomCommand, RoomEvent, RoomKind};

/// How many `client_msg_id`s a room remembers for idempotent sends: enough for the sends that
/// race their own retries. Older ones are found where the use case keeps a day of them.
pub const IDEMPOTENCY_WINDOW: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomError {
    #[error("Room name already exists")]
    NameTaken,
    #[error("Private rooms require a password")]
    PrivateRoomRequiresPassword,
    #[error("Room not found")]
    NotFound,
    #[error("Invalid room password")]
    WrongPassword,
    #[error("You are not a member of this room")]
    NotAMember,
    #[error("Message not found")]
    MessageNotFound,
    #[error("Only its author may edit a message")]
    NotTheAuthor,
    #[error("Only its author or the room's owner may delete a message")]
    NotAuthorOrOwner,
    #[error("The message was deleted")]
    MessageDeleted,
    #[error("A message takes at most 20 different reactions")]
    TooManyReactions,
    /// What the command knew of the message was read before a change the room no longer
    /// remembers: the use case reads it again and retries.
    #[error("The message changed meanwhile; try again")]
    StaleMessage,
    /// A direct room has its two members for good.
    #[error("A direct room cannot be joined or left")]
    DirectRoom,
    #[error("A direct room needs two different people")]
    DirectWithSelf,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomInfo {
    pub room_id: Uuid,
    pub name: String,
    pub is_private: bool,
    pub password_hash: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    /// Absent from snapshots taken before direct rooms existed: every room was a named one.
    #[serde(default)]
    pub kind: RoomKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: Uuid,
    pub username: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// A recent send remembered for idempotency: enough to find the original message again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecentSend {
    pub sender: Uuid,
    pub client_msg_id: String,
    pub message_id: Uuid,
    pub seq: usize,
}

/// The write model of a room. It keeps no messages, only what decisions need, so it stays small
/// however long the room's history grows.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Room {
    info: Option<RoomInfo>,
    /// In joining order, so the longest-standing member comes first.
    members: Vec<Member>,
    /// Every event bumps it, so it equals the sequence of the room's latest event.
    pub(super) last_seq: usize,
    recent_sends: VecDeque<RecentSend>,
    /// Absent from snapshots taken before messages could change: nothing had changed then.
    #[serde(default)]
    pub(super) changed: ChangedMessages,
}

impl Room {
    pub fn info(&self) -> Option<&RoomInfo> {
        self.info.as_ref()
    }

    pub fn members(&self) -> &[Member] {
        &self.members
    }

    pub fn member(&self, user_id: Uuid) -> Option<&Member> {
        self.members.iter().find(|m| m.user_id == user_id)
    }

    pub fn is_member(&self, user_id: Uuid) -> bool {
        self.member(user_id).is_some()
    }

    pub fn last_seq(&self) -> usize {
        self.last_seq
    }

    /// The message this sender already posted with this `client_msg_id`, if still remembered.
    pub fn recent_send(&self, sender: Uuid, client_msg_id: &str) -> Option<&RecentSend> {
        self.recent_sends
            .iter()
            .rev()
            .find(|s| s.sender == sender && s.client_msg_id == client_msg_id)
    }

    /// The password hash `user` must match to join, checked before the join is queued (bcrypt
    /// is slow, and a room decides one command at a time): `None` for a public room or a member.
    pub fn password_hash_to_join(&self, user: Uuid) -> Result<Option<&str>, RoomError> {
        let info = self.existing()?;
        if self.is_member(user) {
            return Ok(None);
        }
        Ok(info.password_hash.as_deref())
    }

    pub(super) fn existing(&self) -> Result<&RoomInfo, RoomError> {
        self.info.as_ref().ok_or(RoomError::NotFound)
    }

    /// The room, if its membership may change: a direct room's may not.
    fn open_to_membership_changes(&self) -> Result<&RoomInfo, RoomError> {
        let info = self.existing()?;
        if info.kind == RoomKind::Direct {
            return Err(RoomError::DirectRoom);
        }
        Ok(info)
    }

    async fn leave(&mut self, member: Actor, at: DateTime<Utc>, sink: &EventSink<Self>) {
        let was_owner = self.member(member.user_id).map(|m| m.role) == Some(Role::Owner);
        let left = RoomEvent::MemberLeft {
            user_id: member.user_id,
            username: member.username,
            left_at: at,
        };
        sink.write(left, self).await;
        let owner_remains = self.members.iter().any(|m| m.role == Role::Owner);
        if was_owner && !owner_remains {
            if let Some(heir) = self.members.first() {
                let promoted = RoomEvent::MemberRoleChanged {
                    user_id: heir.user_id,
                    username: heir.username.clone(),
                    role: Role::Owner,
                    changed_at: at,
                };
                sink.write(promoted, self).await;
            }
        }
    }
}

impl Aggregate for Room {
    const TYPE: &'static str = "Room";
    type Command = RoomCommand;
    type Event = RoomEvent;
    type Error = RoomError;
    /// None: deciding needs nothing slow, so no command holds up the ones queued behind it.
    type Services = ();

    async fn handle(
        &mut self,
        command: RoomCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), RoomError> {
        match command {
            RoomCommand::Create {
                name,
                is_private,
                password_hash,
                creator,
                at,
            } => {
                if self.info.is_some() {
                    return Err(RoomError::NameTaken);
                }
                if is_private && password_hash.is_none() {
                    return Err(RoomError::PrivateRoomRequiresPassword);
                }
                let created = RoomEvent::RoomCreated {
                    room_id: name.room_id(),
                    name: name.to_string(),
                    is_private,
                    // A public room has no use for a password; keeping one would only leak.
                    password_hash: password_hash.filter(|_| is_private),
                    created_by: creator.user_id,
                    created_at: at,
                    kind: RoomKind::Room,
                };
                sink.write(created, self).await;
                let owner_joined = RoomEvent::MemberJoined {
                    user_id: creator.user_id,
                    username: creator.username,
                    role: Role::Owner,
                    joined_at: at,
                };
                sink.write(owner_joined, self).await;
                Ok(())
            }
            RoomCommand::Join {
                member,
                password_verified_for,
                at,
            } => {
                let info = self.open_to_membership_changes()?;
                if self.is_member(member.user_id) {
                    return Ok(());
                }
                if let Some(hash) = &info.password_hash {
                    if password_verified_for.as_deref() != Some(hash.as_str()) {
                        return Err(RoomError::WrongPassword);
                    }
                }
                let joined = RoomEvent::MemberJoined {
                    user_id: member.user_id,
                    username: member.username,
                    role: Role::Member,
                    joined_at: at,
                };
                sink.write(joined, self).await;
                Ok(())
            }
            RoomCommand::Leave { member, at } => {
                self.open_to_membership_changes()?;
                if !self.is_member(member.user_id) {
                    return Err(RoomError::NotAMember);
                }
                self.leave(member, at, sink).await;
                Ok(())
            }
            RoomCommand::PostMessage {
                sender,
                message_id,
                body,
                client_msg_id,
                reply_to,
                at,
            } => {
                self.existing()?;
                if !self.is_member(sender.user_id) {
                    return Err(RoomError::NotAMember);
                }
                if let Some(id) = &client_msg_id {
                    if self.recent_send(sender.user_id, id.as_str()).is_some() {
                        return Ok(());
                    }
                }
                let posted = RoomEvent::MessagePosted(MessagePosted {
                    message_id,
                    user_id: sender.user_id,
                    username: sender.username,
                    mentions: mentions_in(body.as_str(), &self.members),
                    content: body.to_string(),
                    client_msg_id: client_msg_id.map(String::from),
                    posted_at: at,
                    reply_to,
                    is_bot: sender.is_bot,
                });
                sink.write(posted, self).await;
                Ok(())
            }
            RoomCommand::OpenDirect { opener, other, at } => {
                self.open_direct(opener, other, at, sink).await
            }
            change => self.change_message(change, sink).await,
        }
    }

    fn apply(&mut self, event: RoomEvent) {
        self.last_seq += 1;
        match event {
            RoomEvent::RoomCreated {
                room_id,
                name,
                is_private,
                password_hash,
                created_by,
                created_at,
                kind,
            } => {
                self.info = Some(RoomInfo {
                    room_id,
                    name,
                    is_private,
                    password_hash,
                    created_by,
                    created_at,
                    kind,
                });
            }
            RoomEvent::MemberJoined {
                user_id,
                username,
                role,
                joined_at,
            } => self.members.push(Member {
                user_id,
                username,
                role,
                joined_at,
            }),
            RoomEvent::MemberLeft { user_id, .. } => {
                self.members.retain(|m| m.user_id != user_id);
            }
            RoomEvent::MemberRoleChanged { user_id, role, .. } => {
                if let Some(member) = self.members.iter_mut().find(|m| m.user_id == user_id) {
                    member.role = role;
                }
            }
            RoomEvent::MessagePosted(MessagePosted {
                message_id,
                user_id,
                client_msg_id: Some(client_msg_id),
                ..
            }) => {
                if self.recent_sends.len() == IDEMPOTENCY_WINDOW {
                    self.recent_sends.pop_front();
                }
                self.recent_sends.push_back(RecentSend {
                    sender: user_id,
                    client_msg_id,
                    message_id,
                    seq: self.last_seq,
                });
            }
            RoomEvent::MessagePosted(_) => {}
            changed @ (RoomEvent::MessageEdited { .. }
            | RoomEvent::MessageDeleted { .. }
            | RoomEvent::ReactionAdded { .. }
            | RoomEvent::ReactionRemoved { .. }) => self.changed.apply(self.last_seq, &changed),
        }
    }
}
