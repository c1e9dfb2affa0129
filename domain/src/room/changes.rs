//! Deciding the changes to a posted message: edits, deletions and reactions. The facts come
//! from the command, checked against the room's recent changes (see `messages`); membership and
//! ownership from the room itself.

use cqrs_es::event_sink::EventSink;

use super::messages::{mentions_in, MessageFacts, Unknown, MAX_DISTINCT_REACTIONS};
use super::{Actor, KnownMessage, Role, Room, RoomCommand, RoomError, RoomEvent};

impl Room {
    /// Decides one of the commands on a posted message.
    pub(super) async fn change_message(
        &mut self,
        command: RoomCommand,
        sink: &EventSink<Self>,
    ) -> Result<(), RoomError> {
        match command {
            RoomCommand::EditMessage {
                editor,
                message,
                body,
                at,
            } => {
                let facts = self.facts(&editor, &message)?;
                if facts.author != editor.user_id {
                    return Err(RoomError::NotTheAuthor);
                }
                if facts.deleted {
                    return Err(RoomError::MessageDeleted);
                }
                let edited = RoomEvent::MessageEdited {
                    message_id: facts.message_id,
                    user_id: editor.user_id,
                    username: editor.username,
                    mentions: mentions_in(body.as_str(), self.members()),
                    content: body.to_string(),
                    edited_at: at,
                };
                self.record(facts, edited, sink).await;
            }
            RoomCommand::DeleteMessage {
                deleter,
                message,
                at,
            } => {
                let facts = self.deletable(&deleter, &message)?;
                let is_owner = self.member(deleter.user_id).map(|m| m.role) == Some(Role::Owner);
                if facts.author != deleter.user_id && !is_owner {
                    return Err(RoomError::NotAuthorOrOwner);
                }
                if facts.deleted {
                    return Ok(());
                }
                let deleted = RoomEvent::MessageDeleted {
                    message_id: facts.message_id,
                    user_id: deleter.user_id,
                    username: deleter.username,
                    deleted_at: at,
                };
                self.record(facts, deleted, sink).await;
            }
            RoomCommand::React {
                reactor,
                message,
                emoji,
                at,
            } => {
                let facts = self.reactable(&reactor, &message)?;
                if facts.has_reacted(emoji.as_str(), reactor.user_id) {
                    return Ok(());
                }
                if !facts.has_emoji(emoji.as_str())
                    && facts.reactions.len() >= MAX_DISTINCT_REACTIONS
                {
                    return Err(RoomError::TooManyReactions);
                }
                let added = RoomEvent::ReactionAdded {
                    message_id: facts.message_id,
                    emoji: emoji.to_string(),
                    user_id: reactor.user_id,
                    username: reactor.username,
                    reacted_at: at,
                };
                self.record(facts, added, sink).await;
            }
            RoomCommand::Unreact {
                reactor,
                message,
                emoji,
                at,
            } => {
                let facts = self.reactable(&reactor, &message)?;
                if !facts.has_reacted(emoji.as_str(), reactor.user_id) {
                    return Ok(());
                }
                let removed = RoomEvent::ReactionRemoved {
                    message_id: facts.message_id,
                    emoji: emoji.to_string(),
                    user_id: reactor.user_id,
                    username: reactor.username,
                    removed_at: at,
                };
                self.record(facts, removed, sink).await;
            }
            RoomCommand::Create { .. }
            | RoomCommand::OpenDirect { .. }
            | RoomCommand::Join { .. }
            | RoomCommand::Leave { .. }
            | RoomCommand::PostMessage { .. } => unreachable!("decided by the aggregate"),
        }
        Ok(())
    }

    /// The current facts of the message `actor` acts on, once the room exists and `actor` is a
    /// member: a non-member learns nothing of a room's messages.
    fn facts(&self, actor: &Actor, message: &KnownMessage) -> Result<MessageFacts, RoomError> {
        self.existing()?;
        if !self.is_member(actor.user_id) {
            return Err(RoomError::NotAMember);
        }
        self.changed
            .current(message)
            .map_err(|unknown| match unknown {
                Unknown::NoSuchMessage => RoomError::MessageNotFound,
                Unknown::Stale => RoomError::StaleMessage,
            })
    }

    /// The facts of a message `actor` may try to delete: any of the room's, for a member; for
    /// someone who is not (any longer), only their own. What one wrote is theirs to take back
    /// after leaving; to anyone else outside the room, the room is closed.
    fn deletable(&self, actor: &Actor, message: &KnownMessage) -> Result<MessageFacts, RoomError> {
        if self.is_member(actor.user_id) {
            return self.facts(actor, message);
        }
        self.existing()?;
        match self.changed.current(message) {
            Ok(facts) if facts.author == actor.user_id => Ok(facts),
            Err(Unknown::Stale) => Err(RoomError::StaleMessage),
            _ => Err(RoomError::NotAMember),
        }
    }

    fn reactable(&self, actor: &Actor, message: &KnownMessage) -> Result<MessageFacts, RoomError> {
        let facts = self.facts(actor, message)?;
        if facts.deleted {
            return Err(RoomError::MessageDeleted);
        }
        Ok(facts)
    }

    /// Records `event`, a change of the message `facts` describes, remembering the message first
    /// so that the room decides its next change from its own copy.
    async fn record(&mut self, facts: MessageFacts, event: RoomEvent, sink: &EventSink<Self>) {
        self.changed.learn(self.last_seq, facts);
        sink.write(event, self).await;
    }
}
