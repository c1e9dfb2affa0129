//! What a room knows of its posted messages, to decide edits, deletions and reactions without
//! keeping every message: the use case reads a message's facts from the read tables and the log
//! (a [`KnownMessage`], as of a room sequence), and the room keeps the facts of the messages
//! changed lately ([`ChangedMessages`]), which it trusts over anything a command carries.
//!
//! Why this holds under concurrency: the room decides one command at a time and every change of
//! a message passes through it. A message changed after the sequence its facts were read at is
//! either among the recent ones (the room's copy wins) or was forgotten, which raises the
//! horizon past that change; facts read before the horizon are refused as stale and read again.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::events::{Mention, RoomEvent};
use super::Member;
use crate::values::Username;

/// How many changed messages a room remembers. Facts read before the oldest change it forgot
/// are stale: the bigger the window, the rarer a re-read, and the bigger the room's snapshot.
pub const CHANGED_WINDOW: usize = 256;

/// The most distinct emoji on one message.
pub const MAX_DISTINCT_REACTIONS: usize = 20;

/// What decides changes to a posted message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageFacts {
    pub message_id: Uuid,
    pub author: Uuid,
    pub deleted: bool,
    /// Each emoji in first-use order, with who reacted with it.
    pub reactions: Vec<(String, Vec<Uuid>)>,
}

impl MessageFacts {
    pub(super) fn has_reacted(&self, emoji: &str, user: Uuid) -> bool {
        self.reactions
            .iter()
            .any(|(e, users)| e == emoji && users.contains(&user))
    }

    pub(super) fn has_emoji(&self, emoji: &str) -> bool {
        self.reactions.iter().any(|(e, _)| e == emoji)
    }

    /// The facts after `event`, one of the events that change a posted message.
    pub fn apply(&mut self, event: &RoomEvent) {
        match event {
            RoomEvent::MessageDeleted { .. } => {
                self.deleted = true;
                self.reactions.clear();
            }
            RoomEvent::ReactionAdded { emoji, user_id, .. } => {
                match self.reactions.iter_mut().find(|(e, _)| e == emoji) {
                    Some((_, users)) if !users.contains(user_id) => users.push(*user_id),
                    Some(_) => {}
                    None => self.reactions.push((emoji.clone(), vec![*user_id])),
                }
            }
            RoomEvent::ReactionRemoved { emoji, user_id, .. } => {
                if let Some((_, users)) = self.reactions.iter_mut().find(|(e, _)| e == emoji) {
                    users.retain(|u| u != user_id);
                }
                self.reactions.retain(|(_, users)| !users.is_empty());
            }
            _ => {}
        }
    }
}

/// A message as the use case found it: its facts (none when the room has no such message) as of
/// the room's sequence `as_of`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownMessage {
    pub message_id: Uuid,
    pub facts: Option<MessageFacts>,
    pub as_of: usize,
}

/// The facts of the messages changed lately, the least recently changed first, and the horizon:
/// the last sequence at which a forgotten message changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangedMessages {
    /// Each with the room's sequence when it was last changed or learnt.
    recent: VecDeque<(usize, MessageFacts)>,
    horizon: usize,
}

/// Why the facts of a command cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    NoSuchMessage,
    /// Read before a change the room no longer remembers: read them again.
    Stale,
}

impl ChangedMessages {
    /// The current facts of `known`'s message: the room's own, or the command's when no change
    /// since they were read can have escaped the room.
    pub fn current(&self, known: &KnownMessage) -> Result<MessageFacts, Unknown> {
        if let Some((_, facts)) = self.find(known.message_id) {
            return Ok(facts.clone());
        }
        if known.as_of < self.horizon {
            return Err(Unknown::Stale);
        }
        known.facts.clone().ok_or(Unknown::NoSuchMessage)
    }

    /// Remembers `facts` (current at sequence `seq`) before a change of the message is recorded.
    pub fn learn(&mut self, seq: usize, facts: MessageFacts) {
        if self.find(facts.message_id).is_none() {
            self.push(seq, facts);
        }
    }

    /// Follows a recorded change at `seq`. A change to a message it does not remember (read
    /// back from the store) moves the horizon: facts read before it are stale.
    pub fn apply(&mut self, seq: usize, event: &RoomEvent) {
        let Some(message_id) = event.changed_message() else {
            return;
        };
        match self
            .recent
            .iter()
            .position(|(_, f)| f.message_id == message_id)
        {
            Some(index) => {
                let (_, mut facts) = self.recent.remove(index).expect("found above");
                facts.apply(event);
                self.push(seq, facts);
            }
            None => self.horizon = self.horizon.max(seq),
        }
    }

    fn find(&self, message_id: Uuid) -> Option<&(usize, MessageFacts)> {
        self.recent.iter().find(|(_, f)| f.message_id == message_id)
    }

    fn push(&mut self, seq: usize, facts: MessageFacts) {
        if self.recent.len() == CHANGED_WINDOW {
            if let Some((forgotten, _)) = self.recent.pop_front() {
                self.horizon = self.horizon.max(forgotten);
            }
        }
        self.recent.push_back((seq, facts));
    }
}

/// The members `content` names as `@username` (any letter case), each once, in order of first
/// mention. Only text with an `@` is scanned, so a plain message costs one byte search.
pub fn mentions_in(content: &str, members: &[Member]) -> Vec<Mention> {
    let mut mentions: Vec<Mention> = Vec::new();
    if !content.contains('@') {
        return mentions;
    }
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    let mut previous = ' ';
    for (at, c) in content.char_indices() {
        let starts_mention = c == '@' && !is_name_char(previous) && previous != '@';
        previous = c;
        if !starts_mention {
            continue;
        }
        let rest = &content[at + 1..];
        let end = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
        // "@bob." ends a sentence: the name may not take its punctuation.
        let name = rest[..end].trim_end_matches(['.', '-']);
        let Ok(name) = Username::parse(name) else {
            continue;
        };
        let user_id = name.user_id();
        if mentions.iter().any(|m| m.user_id == user_id) {
            continue;
        }
        if let Some(member) = members.iter().find(|m| m.user_id == user_id) {
            mentions.push(Mention {
                user_id,
                username: member.username.clone(),
            });
        }
    }
    mentions
}
