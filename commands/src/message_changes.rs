//! Changing a posted message: edits, deletions and reactions, and the check of a reply's
//! target. Each reads the message's facts (`message_facts`), lets the room decide with them,
//! and reads them again when the room says they are stale.

use domain::room::{Actor, KnownMessage};
use domain::values::{Emoji, InvalidValue, MessageBody};
use domain::{Room, RoomCommand, RoomError};
use uuid::Uuid;

use crate::message_facts::known_message;
use crate::state::metadata;
use crate::{CommandError, Commands, Projected};

/// How often facts are read again when the room found them stale: only a room whose window of
/// changed messages turned over meanwhile needs it, so a second read almost always does.
const STALE_RETRIES: usize = 3;

/// A change to a posted message.
#[derive(Debug, Clone)]
pub enum MessageChange {
    Edit(MessageBody),
    Delete,
    React(Emoji),
    Unreact(Emoji),
}

impl MessageChange {
    /// Edits and reactions are sends, as far as the send rate goes; a deletion is not.
    fn counts_as_send(&self) -> bool {
        !matches!(self, MessageChange::Delete)
    }

    fn command(self, actor: &Actor, message: KnownMessage) -> RoomCommand {
        let at = eventstore::now();
        let actor = actor.clone();
        match self {
            MessageChange::Edit(body) => RoomCommand::EditMessage {
                editor: actor,
                message,
                body,
                at,
            },
            MessageChange::Delete => RoomCommand::DeleteMessage {
                deleter: actor,
                message,
                at,
            },
            MessageChange::React(emoji) => RoomCommand::React {
                reactor: actor,
                message,
                emoji,
                at,
            },
            MessageChange::Unreact(emoji) => RoomCommand::Unreact {
                reactor: actor,
                message,
                emoji,
                at,
            },
        }
    }
}

impl Commands {
    /// Changes the message `message_id` of the room for `actor`. Answers once the projection
    /// shows the change (or the wait ran out), with the room sequence of the change, or none
    /// when it changed nothing (a second deletion, a reaction given already).
    pub async fn change_message(
        &self,
        actor: &Actor,
        room_id: Uuid,
        message_id: Uuid,
        change: MessageChange,
        request_id: Option<String>,
    ) -> Result<Projected<Option<usize>>, CommandError> {
        if change.counts_as_send() {
            self.send_limit.check(&actor.user_id.to_string())?;
        }
        let metadata = metadata(actor, request_id);
        let aggregate_id = room_id.to_string();
        let mut attempts = 0;
        let events = loop {
            let message = known_message(&self.pool, room_id, message_id).await?;
            let command = change.clone().command(actor, message);
            match self.rooms.execute(&aggregate_id, command, &metadata).await {
                Err(eventstore::ExecuteError::Domain(RoomError::StaleMessage))
                    if attempts < STALE_RETRIES =>
                {
                    attempts += 1;
                }
                Err(eventstore::ExecuteError::Domain(RoomError::StaleMessage)) => {
                    return Err(CommandError::Contended)
                }
                outcome => break outcome?,
            }
        };
        let Some(last) = events.last() else {
            return Ok(Projected {
                outcome: None,
                pending: false,
            });
        };
        let seq = last.sequence;
        Ok(self
            .after_projection(
                <Room as cqrs_es::Aggregate>::TYPE,
                &aggregate_id,
                seq,
                Some(seq),
            )
            .await)
    }

    /// Refuses a reply to anything but a message of the same room. A message, once posted,
    /// stays (deleted, it is a tombstone), so what is read here stays true.
    pub(crate) async fn check_reply_target(
        &self,
        room_id: Uuid,
        reply_to: Uuid,
    ) -> Result<(), CommandError> {
        let target = known_message(&self.pool, room_id, reply_to).await?;
        if target.facts.is_none() {
            return Err(
                InvalidValue("reply_to must be the id of a message of this room".into()).into(),
            );
        }
        Ok(())
    }
}
